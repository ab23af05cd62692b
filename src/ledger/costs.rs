//! The stored cost models: every version kept, the newest in force.

use super::{Cached, Error, Result};
use crate::domain::costs::{CostModel, CostVersion};
use deadpool_postgres::GenericClient;
use std::collections::HashMap;

/// A cost model with the version it is stored as.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned {
    pub version: CostVersion,
    pub model: CostModel,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub created_by: String,
}

/// Writes the seeded model as version 1 unless a version exists; run after the migrations.
pub async fn seed(
    client: &tokio_postgres::Client,
) -> std::result::Result<(), tokio_postgres::Error> {
    let model = serde_json::to_value(CostModel::default()).expect("the model serialises");
    client
        .execute(
            "INSERT INTO cost_models (version, model, created_by)
             SELECT 1, $1, 'allot' WHERE NOT EXISTS (SELECT 1 FROM cost_models)",
            &[&model],
        )
        .await?;
    Ok(())
}

/// The model in force: the newest version.
pub async fn current(client: &impl GenericClient) -> Result<Versioned> {
    let row = client
        .cached_query_one(
            "SELECT version, model, created_at, created_by FROM cost_models
             ORDER BY version DESC LIMIT 1",
            &[],
        )
        .await?;
    from_row(&row)
}

/// Stores `model` as the next version (validated by the caller), inside the caller's
/// transaction; concurrent writers take turns, so each gets the next version.
pub async fn store(
    client: &impl GenericClient,
    model: &CostModel,
    expected: Option<i64>,
) -> Result<Versioned> {
    let model = serde_json::to_value(model).expect("the model serialises");
    client
        .cached_execute("SELECT pg_advisory_xact_lock($1)", &[&STORE_LOCK])
        .await?;
    if let Some(expected) = expected {
        let now = current(client).await?.version.0;
        if now != expected {
            return Err(Error::Conflict(format!(
                "version: the cost model is at version {now}, not {expected}; read it again"
            )));
        }
    }
    let row = client
        .cached_query_one(
            "INSERT INTO cost_models (version, model)
             SELECT coalesce(max(version), 0) + 1, $1 FROM cost_models
             RETURNING version, model, created_at, created_by",
            &[&model],
        )
        .await?;
    from_row(&row)
}

const STORE_LOCK: i64 = 7_261_010;

/// The model a plan was started with (the seeded one for plans from before costs were data).
pub async fn of_plan(client: &impl GenericClient, plan: i64) -> Result<CostModel> {
    let row = client
        .cached_query_opt(
            "SELECT c.model FROM plans p JOIN cost_models c ON c.version = p.cost_version
             WHERE p.id = $1",
            &[&plan],
        )
        .await?;
    row.map_or_else(|| Ok(CostModel::default()), |row| parse(row.get(0)))
}

/// Only validated models are stored, by this module: one that does not parse is a fault.
fn parse(model: serde_json::Value) -> Result<CostModel> {
    serde_json::from_value(model)
        .map_err(|error| Error::Corrupt(format!("a stored cost model: {error}")))
}

fn from_row(row: &tokio_postgres::Row) -> Result<Versioned> {
    Ok(Versioned {
        version: CostVersion(row.get(0)),
        model: parse(row.get(1))?,
        created_at: row.get(2),
        created_by: row.get(3),
    })
}

/// Walk-in sales per day of `skus` at every location that sells them, by (SKU, location) code.
pub async fn sold_per_day(
    client: &impl GenericClient,
    skus: &[String],
) -> Result<HashMap<(String, String), f64>> {
    let rows = client
        .cached_query(
            "SELECT s.code, l.code, v.per_day FROM sales_velocity v
             JOIN skus s ON s.id = v.sku_id JOIN locations l ON l.id = v.location_id
             WHERE s.code = ANY($1)",
            &[&skus],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| ((row.get(0), row.get(1)), row.get(2)))
        .collect())
}

/// Units each of `locations` picked for online orders today (UTC), cancelled units not counted.
pub async fn picked_today(
    client: &impl GenericClient,
    locations: &[String],
) -> Result<HashMap<String, i64>> {
    // Order ids grow with time, so today's lines are those from today's first order on.
    let rows = client
        .cached_query(
            "WITH first AS (
                 SELECT coalesce((SELECT id FROM orders
                                  WHERE created_at >= date_trunc('day', now() AT TIME ZONE 'UTC')
                                      AT TIME ZONE 'UTC'
                                  ORDER BY created_at LIMIT 1), 9223372036854775807) AS id)
             SELECT l.code, sum(ol.qty - ol.cancelled)::int8
             FROM locations l JOIN order_lines ol ON ol.source_location_id = l.id, first
             WHERE l.code = ANY($1) AND ol.order_id >= first.id
             GROUP BY l.code",
            &[&locations],
        )
        .await?;
    Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
}

/// Replaces the measured walk-in sales of the `measured` SKUs by the given (SKU id, location
/// id, per day) figures.
pub async fn record_sold_per_day(
    client: &impl GenericClient,
    measured: &[i64],
    sku_ids: &[i64],
    location_ids: &[i64],
    per_day: &[f64],
) -> Result<()> {
    client
        .cached_execute(
            "DELETE FROM sales_velocity WHERE sku_id = ANY($1)",
            &[&measured],
        )
        .await?;
    client
        .cached_execute(
            "INSERT INTO sales_velocity (sku_id, location_id, per_day)
             SELECT * FROM unnest($1::int8[], $2::int8[], $3::float8[])
             ON CONFLICT (sku_id, location_id) DO UPDATE
             SET per_day = excluded.per_day, measured_at = now()",
            &[&sku_ids, &location_ids, &per_day],
        )
        .await?;
    Ok(())
}
