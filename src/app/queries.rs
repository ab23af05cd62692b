//! Reads: what the pages, the e-shop and the reports ask for. Each takes a connection for the
//! one read and gives it back; codes in filters are checked here (an unknown one is a 404 that
//! names its field).

use super::{App, Error, Result};
use crate::domain::codes::{LocationCode, SkuCode};
use crate::domain::location::{Location, LocationKind};
use crate::domain::order::TransferStatus;
use crate::domain::plan::Kind;
use crate::domain::sku::Sku;
use crate::jobs::report;
use crate::ledger::plan_runs::{self, RunView};
use crate::ledger::stock::{self as ledger_stock, IdTable, MovementFilter};
use crate::ledger::{self, locations, orders, plans, skus, transfers};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;

pub use crate::ledger::orders::{AttributionRow, OrderView};
pub use crate::ledger::plans::{LineCursor, LineView, PlanSummary};
pub use crate::ledger::stock::{DiscrepancyRow, MovementRow, SkuBalance};
pub use crate::ledger::transfers::{Reason, TransferView};
pub use crate::lookup::Answer;

/// Filters of a paged listing: by location and SKU code, after an id, at most `limit`.
#[derive(Debug, Default, Clone, Copy)]
pub struct Listing<'a> {
    pub location: Option<&'a str>,
    pub sku: Option<&'a str>,
    pub after: Option<i64>,
    pub limit: i64,
}

/// Location and SKU filters as ids: `None` when not given; an unknown code is a 404.
async fn filter_ids(
    client: &impl deadpool_postgres::GenericClient,
    location: Option<&str>,
    sku: Option<&str>,
) -> Result<(Option<i64>, Option<i64>)> {
    if let Some(location) = location {
        LocationCode::parse("location", location)?;
    }
    if let Some(sku) = sku {
        SkuCode::parse("sku", sku)?;
    }
    let location_id = ledger_stock::id_of(client, IdTable::Locations, location).await?;
    if location_id == Some(None) {
        return Err(Error::not_found("location", "no such location"));
    }
    let sku_id = ledger_stock::id_of(client, IdTable::Skus, sku).await?;
    if sku_id == Some(None) {
        return Err(Error::not_found("sku", "no such SKU"));
    }
    Ok((location_id.flatten(), sku_id.flatten()))
}

/// Whether PostgreSQL and Redis answer, each within `timeout`.
pub async fn readiness(
    app: &App,
    timeout: Duration,
) -> (
    std::result::Result<(), String>,
    std::result::Result<(), String>,
) {
    let postgres = async {
        let client = app.client().await.map_err(|e| e.to_string())?;
        ledger::ping(&client).await.map_err(|e| e.to_string())
    };
    let (postgres, redis) = tokio::join!(
        tokio::time::timeout(timeout, postgres),
        tokio::time::timeout(timeout, app.redis.ping()),
    );
    let timed_out = |_| "timed out".to_owned();
    (
        postgres.map_err(timed_out).and_then(|result| result),
        redis
            .map_err(timed_out)
            .and_then(|result| result.map_err(|e| e.to_string())),
    )
}

pub async fn location(app: &App, code: &LocationCode) -> Result<Option<Arc<Location>>> {
    Ok(app.stock.location(&app.pool, code).await?)
}

/// The SKU's figures at every location now (live holds included), or as of a past instant.
pub async fn stock(
    app: &App,
    sku: &SkuCode,
    as_of: Option<DateTime<Utc>>,
) -> Result<Option<Answer>> {
    Ok(match as_of {
        Some(instant) => app.stock.as_of(&app.pool, sku, instant).await?,
        None => app.stock.now(&app.pool, &app.redis, sku).await?,
    })
}

/// `limit` locations (of one kind, or both) after `after`, by code.
pub async fn locations(
    app: &App,
    kind: Option<LocationKind>,
    after: Option<&LocationCode>,
    limit: i64,
) -> Result<Vec<Location>> {
    Ok(locations::list(&app.client().await?, kind, after, limit).await?)
}

pub async fn location_record(app: &App, code: &LocationCode) -> Result<Location> {
    locations::get(&app.client().await?, code)
        .await?
        .map(|(_, location)| location)
        .ok_or_else(|| Error::not_found("code", format!("no location '{code}'")))
}

/// A page of one location's balances, in SKU code order after `after`.
pub async fn location_stock(
    app: &App,
    code: &LocationCode,
    after: Option<&SkuCode>,
    limit: i64,
) -> Result<Vec<SkuBalance>> {
    let client = app.client().await?;
    let (location_id, _) = locations::get(&client, code)
        .await?
        .ok_or_else(|| Error::not_found("code", format!("no location '{code}'")))?;
    let after = after.map(SkuCode::as_str);
    Ok(ledger_stock::by_location(&client, location_id, after, limit).await?)
}

pub async fn search_skus(app: &App, prefix: &str, limit: i64) -> Result<Vec<(String, String)>> {
    Ok(skus::search(&app.client().await?, prefix, limit).await?)
}

pub async fn sku(app: &App, code: &SkuCode) -> Result<Sku> {
    skus::get(&app.client().await?, code)
        .await?
        .map(|(_, sku)| sku)
        .ok_or_else(|| Error::not_found("code", format!("no SKU '{code}'")))
}

/// The audit trail in ledger order; `from`/`to` bound when the movements occurred.
pub async fn movements(
    app: &App,
    listing: Listing<'_>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Result<Vec<MovementRow>> {
    let client = app.client().await?;
    let (location_id, sku_id) = filter_ids(&client, listing.location, listing.sku).await?;
    let filter = MovementFilter {
        location_id,
        sku_id,
        from,
        to,
        after: listing.after,
        limit: listing.limit,
    };
    Ok(ledger_stock::movements(&client, &filter).await?)
}

pub async fn discrepancies(app: &App, listing: Listing<'_>) -> Result<Vec<DiscrepancyRow>> {
    let client = app.client().await?;
    let (location_id, sku_id) = filter_ids(&client, listing.location, listing.sku).await?;
    let (after, limit) = (listing.after, listing.limit);
    Ok(ledger_stock::discrepancies(&client, location_id, sku_id, after, limit).await?)
}

/// Transfers from or to a location, by status and reason.
pub async fn transfers(
    app: &App,
    listing: Listing<'_>,
    status: Option<TransferStatus>,
    reason: Option<Reason>,
) -> Result<Vec<TransferView>> {
    let client = app.client().await?;
    let (location_id, _) = filter_ids(&client, listing.location, None).await?;
    let filter = transfers::Filter {
        location_id,
        status,
        reason,
        order_id: None,
        after: listing.after,
        limit: listing.limit,
    };
    Ok(transfers::list(&client, &filter).await?)
}

pub async fn transfer(app: &App, id: i64) -> Result<TransferView> {
    Ok(transfers::get(&app.client().await?, id).await?)
}

pub async fn order(app: &App, client_order_id: &LocationCode) -> Result<OrderView> {
    let client = app.client().await?;
    let id = orders::id_of(&client, client_order_id.as_str()).await?;
    Ok(orders::view(&client, id).await?)
}

pub async fn attribution(
    app: &App,
    window: (DateTime<Utc>, DateTime<Utc>),
    after: Option<(&str, &str)>,
    limit: i64,
) -> Result<Vec<AttributionRow>> {
    Ok(orders::attribution(&app.client().await?, window, after, limit).await?)
}

pub async fn plans(app: &App, kind: Option<Kind>, limit: i64) -> Result<Vec<PlanSummary>> {
    Ok(plans::list(&app.client().await?, kind, limit).await?)
}

/// The newest planning runs, of one kind or both.
pub async fn plan_runs(app: &App, kind: Option<Kind>, limit: i64) -> Result<Vec<RunView>> {
    Ok(plan_runs::list(&app.client().await?, kind, limit).await?)
}

pub async fn plan_run(app: &App, id: i64) -> Result<RunView> {
    Ok(plan_runs::get(&app.client().await?, id).await?)
}

/// A plan and its lines, optionally only those of one store and/or SKU.
pub async fn plan(
    app: &App,
    id: i64,
    filter: (Option<&str>, Option<&str>),
    page: (Option<LineCursor>, i64),
) -> Result<(PlanSummary, Vec<LineView>, Option<LineCursor>)> {
    let client = app.client().await?;
    let (store, sku) = filter_ids(&client, filter.0, filter.1).await?;
    let plan = plans::get(&client, id).await?;
    let (lines, next) = plans::lines_page(&client, plan.id, (store, sku), page.0, page.1).await?;
    Ok((plan, lines, next))
}

/// The first page of a plan's lines (`limit` of them), and where the next starts.
pub async fn plan_lines(
    app: &App,
    id: i64,
    limit: i64,
) -> Result<(Vec<LineView>, Option<LineCursor>)> {
    let client = app.client().await?;
    Ok(plans::lines_page(&client, id, (None, None), None, limit).await?)
}

/// The SVG spread chart of a SKU the plan moves (its most moved SKU when none is named).
pub async fn plan_chart(app: &App, id: i64, sku: Option<&str>) -> Result<String> {
    let client = app.client().await?;
    let plan = plans::get(&client, id).await?;
    let sku = match sku {
        Some(code) => {
            let (_, sku_id) = filter_ids(&client, None, Some(code)).await?;
            sku_id.map(|id| (id, code.to_owned()))
        }
        None => plans::top_skus(&client, plan.id, 1)
            .await?
            .into_iter()
            .next(),
    };
    let svg = match sku {
        Some((sku_id, code)) => report::chart(&client, &plan, (sku_id, &code)).await?,
        None => None,
    };
    svg.ok_or_else(|| {
        Error::not_found(
            "sku",
            format!("plan {} moves no units of that SKU", plan.id),
        )
    })
}

/// A plan's lines as CSV, with the plan they belong to.
/// Lines one part of a plan's CSV carries (one statement, one chunk of the response).
pub const CSV_PAGE_LINES: i64 = 1_000;

/// The part of plan `id`'s CSV after `after` (with the header for the first), and where the
/// next part starts.
pub async fn plan_csv_part(
    app: &App,
    id: i64,
    after: Option<LineCursor>,
) -> Result<(Vec<u8>, Option<LineCursor>)> {
    let client = app.client().await?;
    let (lines, next) = plans::lines_page(&client, id, (None, None), after, CSV_PAGE_LINES).await?;
    let csv =
        report::csv(&lines, after.is_none()).map_err(|error| Error::fault(error.to_string()))?;
    Ok((csv, next))
}

pub async fn plan_summary(app: &App, id: i64) -> Result<PlanSummary> {
    Ok(plans::get(&app.client().await?, id).await?)
}
