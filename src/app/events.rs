//! Stock events for the channels: numbering them as they commit (the relay), and the pull
//! feed consumers follow with their own cursor.

use super::{App, Result};
use crate::broker::Message;
use crate::domain::access::{Principal, Scope};
use crate::ledger::events;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use crate::ledger::events::{EventView, Figures};

/// Most events one page of the feed returns.
pub const EVENTS_PAGE_MAX: i64 = 1000;
/// Longest a feed request waits for the next event (long poll).
pub const WAIT_S_MAX: u64 = 30;
/// How often a waiting feed request looks again.
const FEED_POLL_INTERVAL: Duration = Duration::from_millis(100);
/// How often the relay numbers newly committed events, and how many at most per round.
const NUMBERING_INTERVAL: Duration = Duration::from_millis(100);
const NUMBERING_BATCH: i64 = 10_000;

/// Events after `position`, at most `limit`; with `wait`, waits up to that long for the first
/// one instead of answering an empty page.
pub async fn after(
    app: &App,
    by: &Principal,
    position: i64,
    limit: i64,
    wait: Duration,
) -> Result<Vec<EventView>> {
    by.require(Scope::ReadEvents)?;
    let deadline = Instant::now() + wait.min(Duration::from_secs(WAIT_S_MAX));
    loop {
        let page = events::after(&app.client().await?, position, limit).await?;
        if !page.is_empty() || Instant::now() >= deadline {
            return Ok(page);
        }
        tokio::time::sleep(FEED_POLL_INTERVAL).await;
    }
}

/// A snapshot of every (location, SKU) as NDJSON lines: first `{"position": P}`, then one
/// row per balance. A consumer loads it, then follows the feed from `after=P`, dropping events
/// whose sequence is not above their row's.
pub async fn export(
    app: &App,
    by: &Principal,
) -> Result<impl futures_util::Stream<Item = Result<bytes::Bytes>>> {
    use futures_util::StreamExt;
    by.require(Scope::ReadEvents)?;
    let (position, rows) = events::export(&app.pool).await?;
    let head = serde_json::json!({"position": position, "at": chrono::Utc::now()});
    let first = futures_util::stream::once(async move { Ok(line(&head)) });
    let rest = rows.map(|row| Ok(line(&row?)));
    Ok(first.chain(rest))
}

fn line(value: &impl serde::Serialize) -> bytes::Bytes {
    let mut text = serde_json::to_vec(value).unwrap_or_default();
    text.push(b'\n');
    text.into()
}

/// Events one NATS delivery round publishes at most.
const PUBLISH_BATCH: i64 = 1000;
/// The sink cursor NATS deliveries move.
const NATS_SINK: &str = "nats";

/// Numbers events as they commit and publishes them to NATS, for the life of the process. Safe
/// on every instance at once: one numbers at a time (an advisory lock), one publishes at a time
/// (the sink's row lock), the others skip the round.
pub async fn relay(app: Arc<App>) {
    let span = tracing::info_span!("relay");
    let _entered = span.enter();
    loop {
        let numbered =
            match events::number(&app.pool, NUMBERING_BATCH, app.chain_low_stock_below).await {
                Ok(numbered) => numbered,
                Err(error) => {
                    tracing::warn!(%error, "numbering stock events failed; retrying");
                    0
                }
            };
        let published = publish_some(&app).await;
        purge(&app).await;
        // A full batch: more are waiting, go on at once.
        if numbered < NUMBERING_BATCH as u64 && published < PUBLISH_BATCH as usize {
            tokio::time::sleep(NUMBERING_INTERVAL).await;
        }
    }
}

/// Events one purge round deletes at most.
const PURGE_BATCH: i64 = 10_000;

/// Deletes events past their retention that every sink has delivered. Consumers of the pull
/// feed further behind than the retention start again from an export.
async fn purge(app: &App) {
    let before = chrono::Utc::now() - app.events_retention;
    let sinks: &[&str] = match app.broker {
        Some(_) => &[NATS_SINK],
        None => &[],
    };
    let purged = match app.client().await {
        Ok(client) => events::purge(&client, before, sinks, PURGE_BATCH).await,
        Err(_) => return,
    };
    if let Err(error) = purged {
        tracing::warn!(%error, "purging old stock events failed; retrying");
    }
}

/// Publish batches one relay round sends at most: numbering gives up to 10,000 events a round,
/// and publishing one batch of 1,000 a round left NATS ever further behind under ingest
/// (docs/BENCHMARKS.md, 2026-12-03).
const PUBLISH_BATCHES_PER_ROUND: usize = 10;

/// Batches of NATS deliveries until caught up or [`PUBLISH_BATCHES_PER_ROUND`] were sent; how
/// many events they published.
async fn publish_some(app: &App) -> usize {
    let mut published = 0;
    for _ in 0..PUBLISH_BATCHES_PER_ROUND {
        let batch = publish(app).await;
        published += batch;
        if batch < PUBLISH_BATCH as usize {
            break;
        }
    }
    published
}

/// One batch of NATS deliveries; how many events it published.
async fn publish(app: &App) -> usize {
    let Some(broker) = &app.broker else {
        return 0;
    };
    let delivered = events::deliver(&app.pool, NATS_SINK, PUBLISH_BATCH, async |page| {
        let messages: Vec<Message<'_, EventView>> = page
            .iter()
            .map(|event| Message {
                sku: &event.sku,
                location: &event.location,
                kind: &event.kind,
                id: event.id.to_string(),
                body: event,
            })
            .collect();
        broker.publish(&messages).await
    })
    .await;
    match delivered {
        Ok(Ok(published)) => published,
        Ok(Err(error)) => {
            tracing::warn!(%error, "publishing stock events failed; they go again");
            0
        }
        Err(error) => {
            tracing::warn!(%error, "reading stock events to publish failed; retrying");
            0
        }
    }
}
