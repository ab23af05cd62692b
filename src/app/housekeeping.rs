//! Bounded upkeep for the life of the process: records past their retention are deleted in
//! batches, so no table the service writes grows without end; and the ledger's monthly
//! partitions are made ahead of time, at start and then daily.

use super::App;
use crate::ledger::idempotency;
use std::sync::Arc;
use std::time::Duration;

/// Records one purge statement deletes at most (a short lock, a short transaction).
pub const PURGE_BATCH: i64 = 5_000;
/// Longest pause between purges.
const INTERVAL_MAX: Duration = Duration::from_secs(60);
/// How often the coming months' partitions are checked; the next three months always have
/// theirs, so a day missed (a failed try, a lock not granted) costs nothing.
const PARTITIONS_EVERY: Duration = Duration::from_secs(24 * 60 * 60);

/// Purges expired `Idempotency-Key` records, every instance on its own (deletes of the same
/// old rows by two instances only find fewer to delete), and makes the coming months'
/// partitions of the ledger.
pub async fn run(app: Arc<App>) {
    use tracing::Instrument;
    upkeep(app)
        .instrument(tracing::info_span!("housekeeping"))
        .await;
}

async fn upkeep(app: Arc<App>) {
    let retention = app.idempotency_retention;
    // At least twice per retention, so a record outlives it by half of it at most.
    let interval = retention
        .to_std()
        .map_or(INTERVAL_MAX, |r| (r / 2).min(INTERVAL_MAX));
    let mut partitions_due = tokio::time::Instant::now();
    loop {
        if tokio::time::Instant::now() >= partitions_due {
            partitions_due += PARTITIONS_EVERY;
            match super::retention::ensure_partitions(&app, chrono::Utc::now()).await {
                Ok(0) => {}
                Ok(made) => tracing::info!(made, "ledger partitions made for the coming months"),
                Err(error) => tracing::warn!(%error, "making the coming months' partitions failed"),
            }
        }
        let before = chrono::Utc::now() - retention;
        loop {
            let deleted = match app.client().await {
                Ok(client) => idempotency::purge(&client, before, PURGE_BATCH).await,
                Err(_) => break,
            };
            match deleted {
                Ok(count) if count == PURGE_BATCH as u64 => continue,
                Ok(_) => break,
                Err(error) => {
                    tracing::warn!(%error, "purging old idempotency records failed");
                    break;
                }
            }
        }
        tokio::time::sleep(interval).await;
    }
}
