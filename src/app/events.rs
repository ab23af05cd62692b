//! Stock events for the channels: numbering them as they commit (the relay), and the pull
//! feed consumers follow with their own cursor.

use super::{App, Result};
use crate::broker::Message;
use crate::domain::access::{Principal, Scope};
use crate::ledger::events;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::Instrument;

pub use crate::ledger::events::{EventView, Figures};

/// Most events one page of the feed returns.
pub const EVENTS_PAGE_MAX: i64 = 1000;
/// Longest a feed request waits for the next event (long poll).
pub const WAIT_S_MAX: u64 = 30;
/// How often a waiting feed request looks again.
const FEED_POLL_INTERVAL: Duration = Duration::from_millis(100);
/// How often an idle relay looks for newly committed events (to number, to publish), and how
/// many it numbers at most at once.
const NUMBERING_INTERVAL: Duration = Duration::from_millis(100);
const NUMBERING_BATCH: i64 = 10_000;
/// The pause after a round that numbered some events but not a full batch.
const NUMBERING_BUSY_INTERVAL: Duration = Duration::from_millis(20);

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
const PUBLISH_BATCH: i64 = 5000;
/// The sink cursor NATS deliveries move.
const NATS_SINK: &str = "nats";

/// Numbers events as they commit and publishes them to NATS, for the life of the process. Safe
/// on every instance at once: one numbers at a time (an advisory lock), one publishes at a time
/// (the sink's row lock), the others skip the round. Numbering, publishing and purging run side
/// by side: in turns, a round of each added up, and NATS fell ever further behind under ingest
/// (docs/BENCHMARKS.md, "Stock events: the relay's loops side by side").
pub async fn relay(app: Arc<App>) {
    let span = tracing::info_span!("relay");
    let numbered = tokio::sync::Notify::new();
    futures_util::future::join3(
        number_forever(&app, &numbered),
        publish_forever(&app, &numbered),
        purge_forever(&app),
    )
    .instrument(span)
    .await;
}

/// Wakes `publish_forever` (through `numbered`) as soon as a round numbered anything.
async fn number_forever(app: &App, numbered_now: &tokio::sync::Notify) {
    loop {
        let started = Instant::now();
        let numbered = events::number(&app.pool, NUMBERING_BATCH, app.chain_low_stock_below).await;
        let numbered = numbered.unwrap_or_else(|error| {
            tracing::warn!(%error, "numbering stock events failed; retrying");
            0
        });
        let elapsed_ms = started.elapsed().as_millis() as u64;
        tracing::debug!(numbered, elapsed_ms, "numbering round");
        if numbered > 0 {
            numbered_now.notify_one();
        }
        // A full batch: more are waiting, go on at once; some: more are coming, look again soon.
        if numbered == 0 {
            tokio::time::sleep(NUMBERING_INTERVAL).await;
        } else if numbered < NUMBERING_BATCH as u64 {
            tokio::time::sleep(NUMBERING_BUSY_INTERVAL).await;
        }
    }
}

/// Caught up, it waits for this instance's next numbering round, or another instance's (seen
/// after at most `NUMBERING_INTERVAL`): a sleep alone added up to that interval to every
/// event's way to NATS.
async fn publish_forever(app: &App, numbered: &tokio::sync::Notify) {
    if app.broker.is_none() {
        return;
    }
    loop {
        if publish(app).await < PUBLISH_BATCH as usize {
            let _ = tokio::time::timeout(NUMBERING_INTERVAL, numbered.notified()).await;
        }
    }
}

/// How often old events are purged.
const PURGE_INTERVAL: Duration = Duration::from_secs(10);

async fn purge_forever(app: &App) {
    loop {
        purge(app).await;
        tokio::time::sleep(PURGE_INTERVAL).await;
    }
}

/// Events one purge statement deletes at most.
const PURGE_BATCH: i64 = 10_000;

/// Deletes events past their retention that every sink has delivered. Consumers of the pull
/// feed further behind than the retention start again from an export.
async fn purge(app: &App) {
    let before = chrono::Utc::now() - app.events_retention;
    let sinks: &[&str] = match app.broker {
        Some(_) => &[NATS_SINK],
        None => &[],
    };
    let Ok(client) = app.client().await else {
        return;
    };
    // Full batches: more are past their retention, go on.
    loop {
        match events::purge(&client, before, sinks, PURGE_BATCH).await {
            Ok(purged) if purged == PURGE_BATCH as u64 => continue,
            Ok(_) => return,
            Err(error) => {
                tracing::warn!(%error, "purging old stock events failed; retrying");
                return;
            }
        }
    }
}

/// One batch of NATS deliveries; how many events it published.
async fn publish(app: &App) -> usize {
    let Some(broker) = &app.broker else {
        return 0;
    };
    let started = Instant::now();
    let mut publish_ms = 0;
    let delivered = events::deliver(&app.pool, NATS_SINK, PUBLISH_BATCH, async |page| {
        let publishing = Instant::now();
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
        let published = broker.publish(&messages).await;
        publish_ms = publishing.elapsed().as_millis() as u64;
        published
    })
    .await;
    let published = match delivered {
        Ok(Ok(published)) => published,
        Ok(Err(error)) => {
            tracing::warn!(%error, "publishing stock events failed; they go again");
            0
        }
        Err(error) => {
            tracing::warn!(%error, "reading stock events to publish failed; retrying");
            0
        }
    };
    let elapsed_ms = started.elapsed().as_millis() as u64;
    tracing::debug!(published, publish_ms, elapsed_ms, "publishing round");
    published
}
