//! The chain's catalogue: locations and SKUs, one at a time from the admin API or in bulk from
//! `allot import`. A SKU's name is part of what lookups copy, so a change moves its stamp.

use super::{App, Result};
use crate::domain::access::{Principal, Scope};
use crate::domain::location::Location;
use crate::domain::sku::Sku;
use crate::holds::lifecycle;
use crate::ledger::{self, locations, skus};

pub use crate::ledger::locations::Upserted;

/// Creates or updates one location.
pub async fn put_location(app: &App, by: &Principal, location: &Location) -> Result<Upserted> {
    by.require(Scope::WriteCatalog)?;
    let mut client = app.client().await?;
    let transaction = client.transaction().await.map_err(ledger::Error::from)?;
    let code = location.code.to_string();
    ledger::act_as(
        &transaction,
        &by.actor,
        &ledger::Cause::Location { code: &code },
    )
    .await?;
    let upserted = locations::upsert_many(&transaction, std::slice::from_ref(location)).await?;
    transaction.commit().await.map_err(ledger::Error::from)?;
    app.stock.forget_locations();
    Ok(upserted.first().copied().unwrap_or(Upserted::Updated))
}

/// Creates or updates one SKU; every process reads it again.
pub async fn put_sku(app: &App, by: &Principal, sku: &Sku) -> Result<Upserted> {
    by.require(Scope::WriteCatalog)?;
    let client = app.client().await?;
    let upserted = skus::upsert_many(&client, std::slice::from_ref(sku)).await?;
    lifecycle::skus_changed(&app.redis, &[sku.code.as_str()]).await;
    Ok(upserted.first().copied().unwrap_or(Upserted::Updated))
}

/// Rows written per statement by the bulk imports.
pub const IMPORT_CHUNK_ROWS: usize = 1000;

/// Imports locations in one transaction; `written` hears each chunk's size.
pub async fn import_locations(
    app: &App,
    rows: &[Location],
    written: impl FnMut(usize),
) -> Result<()> {
    import(app, rows, written, async |transaction, chunk| {
        locations::upsert_many(transaction, chunk).await
    })
    .await?;
    app.stock.forget_locations();
    Ok(())
}

/// Imports SKUs in one transaction; every process reads them again.
pub async fn import_skus(app: &App, rows: &[Sku], written: impl FnMut(usize)) -> Result<()> {
    import(app, rows, written, async |transaction, chunk| {
        skus::upsert_many(transaction, chunk).await
    })
    .await?;
    let codes: Vec<&str> = rows.iter().map(|sku| sku.code.as_str()).collect();
    lifecycle::skus_changed(&app.redis, &codes).await;
    Ok(())
}

/// Upserts `rows` in chunks of [`IMPORT_CHUNK_ROWS`], all in one transaction.
async fn import<R>(
    app: &App,
    rows: &[R],
    mut written: impl FnMut(usize),
    upsert: impl AsyncFn(&deadpool_postgres::Transaction<'_>, &[R]) -> ledger::Result<Vec<Upserted>>,
) -> Result<()> {
    let mut client = app.client().await?;
    let transaction = client.transaction().await.map_err(ledger::Error::from)?;
    // Who and why, for the stock events a location's safety-stock change writes.
    let importer = crate::domain::access::Actor::System("import");
    ledger::act_as(&transaction, &importer, &ledger::Cause::Other("import")).await?;
    for chunk in rows.chunks(IMPORT_CHUNK_ROWS) {
        upsert(&transaction, chunk).await?;
        written(chunk.len());
    }
    transaction.commit().await.map_err(ledger::Error::from)?;
    Ok(())
}
