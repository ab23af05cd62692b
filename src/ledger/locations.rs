use super::{Cached, Result};
use crate::domain::codes::LocationCode;
use crate::domain::geo::Point;
use crate::domain::location::{Location, LocationKind};
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

/// Whether an upsert created the row or changed an existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    Created,
    Updated,
}

const UPSERT: &str = "
    INSERT INTO locations (code, name, kind, latitude, longitude, pickup, ship, safety_stock,
                           handling_per_unit, pick_capacity_per_day, transfers_out,
                           low_stock_below)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::float8[],
                         $6::bool[], $7::bool[], $8::int8[], $9::float8[], $10::int8[],
                         $11::bool[], $12::int8[])
    ON CONFLICT (code) DO UPDATE SET
        name = excluded.name, kind = excluded.kind, latitude = excluded.latitude,
        longitude = excluded.longitude, pickup = excluded.pickup, ship = excluded.ship,
        safety_stock = excluded.safety_stock, handling_per_unit = excluded.handling_per_unit,
        pick_capacity_per_day = excluded.pick_capacity_per_day,
        transfers_out = excluded.transfers_out, low_stock_below = excluded.low_stock_below,
        updated_at = now()
    RETURNING (xmax = 0) AS created";

/// Creates or updates locations by code, in one statement.
pub async fn upsert_many(
    client: &impl GenericClient,
    locations: &[Location],
) -> Result<Vec<Upserted>> {
    let column = |f: fn(&Location) -> String| locations.iter().map(f).collect::<Vec<_>>();
    let codes = column(|l| l.code.to_string());
    let names = column(|l| l.name.clone());
    let kinds = column(|l| l.kind.as_str().to_owned());
    let latitudes: Vec<f64> = locations.iter().map(|l| l.point.latitude).collect();
    let longitudes: Vec<f64> = locations.iter().map(|l| l.point.longitude).collect();
    let pickups: Vec<bool> = locations.iter().map(|l| l.pickup).collect();
    let ships: Vec<bool> = locations.iter().map(|l| l.ship).collect();
    let safety: Vec<i64> = locations.iter().map(|l| l.safety_stock).collect();
    let handling: Vec<Option<f64>> = locations.iter().map(|l| l.handling_per_unit).collect();
    let capacity: Vec<Option<i64>> = locations.iter().map(|l| l.pick_capacity_per_day).collect();
    let transfers_out: Vec<bool> = locations.iter().map(|l| l.transfers_out).collect();
    let low_stock: Vec<i64> = locations.iter().map(|l| l.low_stock_below).collect();
    let rows = client
        .cached_query(
            UPSERT,
            &[
                &codes,
                &names,
                &kinds,
                &latitudes,
                &longitudes,
                &pickups,
                &ships,
                &safety,
                &handling,
                &capacity,
                &transfers_out,
                &low_stock,
            ],
        )
        .await?;
    Ok(upserted(&rows))
}

/// Reads the `RETURNING (xmax = 0)` column of an upsert: true where the row was inserted.
pub(crate) fn upserted(rows: &[Row]) -> Vec<Upserted> {
    rows.iter()
        .map(|row| {
            if row.get(0) {
                Upserted::Created
            } else {
                Upserted::Updated
            }
        })
        .collect()
}

pub const COLUMNS: &str = "l.code, l.name, l.kind, l.latitude, l.longitude, l.pickup, l.ship,
    l.safety_stock, l.handling_per_unit, l.pick_capacity_per_day, l.transfers_out,
    l.low_stock_below";

/// Reads a location from a row that starts with [`COLUMNS`] at `offset`.
pub fn from_row(row: &Row, offset: usize) -> Location {
    let kind: &str = row.get(offset + 2);
    Location {
        code: LocationCode::parse("code", row.get(offset))
            .expect("database CHECK keeps codes valid"),
        name: row.get(offset + 1),
        kind: LocationKind::from_db(kind).expect("database CHECK keeps kinds known"),
        point: Point {
            latitude: row.get(offset + 3),
            longitude: row.get(offset + 4),
        },
        pickup: row.get(offset + 5),
        ship: row.get(offset + 6),
        safety_stock: row.get(offset + 7),
        handling_per_unit: row.get(offset + 8),
        pick_capacity_per_day: row.get(offset + 9),
        transfers_out: row.get(offset + 10),
        low_stock_below: row.get(offset + 11),
    }
}

pub async fn get(
    client: &impl GenericClient,
    code: &LocationCode,
) -> Result<Option<(i64, Location)>> {
    let row = client
        .cached_query_opt(
            &format!("SELECT l.id, {COLUMNS} FROM locations l WHERE l.code = $1"),
            &[&code.as_str()],
        )
        .await?;
    Ok(row.map(|row| (row.get(0), from_row(&row, 1))))
}

/// Every location, optionally of one kind, by code.
pub async fn list(
    client: &impl GenericClient,
    kind: Option<LocationKind>,
    after: Option<&LocationCode>,
    limit: i64,
) -> Result<Vec<Location>> {
    let rows = client
        .cached_query(
            &format!(
                "SELECT {COLUMNS} FROM locations l
                 WHERE ($1::text IS NULL OR l.kind = $1) AND ($2::text IS NULL OR l.code > $2)
                 ORDER BY l.code LIMIT $3"
            ),
            &[
                &kind.map(LocationKind::as_str),
                &after.map(LocationCode::as_str),
                &limit,
            ],
        )
        .await?;
    Ok(rows.iter().map(|row| from_row(row, 0)).collect())
}

/// Every location with its id.
pub async fn all_with_ids(client: &impl GenericClient) -> Result<Vec<(i64, Location)>> {
    let rows = client
        .cached_query(&format!("SELECT l.id, {COLUMNS} FROM locations l"), &[])
        .await?;
    Ok(rows
        .iter()
        .map(|row| (row.get(0), from_row(row, 1)))
        .collect())
}
