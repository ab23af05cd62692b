//! Holds change availability too, but live in Redis: each instance notes the (SKU, location)s
//! its hold requests touched and when their holds expire, and once a second writes what Redis
//! holds there now to the feed, only where it changed (`ledger::hold_events`). At most one
//! event per (location, SKU) per second from each instance, expiry included with no request.
//! A sweep asks again about every place the feed says is held, for expiries no timer saw.

use super::App;
use crate::domain::hold::HoldView;
use crate::holds::lifecycle;
use crate::ledger::hold_events;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often touched (SKU, location)s reach the feed.
pub const COALESCE_INTERVAL: Duration = Duration::from_secs(1);
/// (SKU, location)s one instance keeps waiting at most; more are dropped (and logged) until
/// the next round, as the feed then says what Redis holds anyway when touched again.
pub const PENDING_MAX: usize = 100_000;

type Place = (String, String);

#[derive(Debug, Default)]
pub struct HoldChanges {
    pending: Mutex<Pending>,
}

#[derive(Debug, Default)]
struct Pending {
    touched: HashSet<Place>,
    /// Expiry instants (ms since the epoch) and the places whose holds expire then.
    expiring: BTreeMap<i64, Vec<Place>>,
    size: usize,
}

impl HoldChanges {
    /// Notes a hold's places as changed now, and again when it expires.
    pub fn touched(&self, hold: &HoldView) {
        let Ok(mut pending) = self.pending.lock() else {
            return;
        };
        if pending.size >= PENDING_MAX {
            tracing::warn!(
                hold = hold.id,
                "too many held places waiting; this one skipped"
            );
            return;
        }
        let places: Vec<Place> = hold
            .lines
            .iter()
            .map(|line| (line.sku.to_string(), line.location.to_string()))
            .collect();
        pending.size += places.len() * 2;
        let expiry_ms = hold.expires_at.timestamp_millis();
        pending.touched.extend(places.iter().cloned());
        pending
            .expiring
            .entry(expiry_ms)
            .or_default()
            .extend(places);
    }

    /// Notes places again whose round failed.
    fn again(&self, places: Vec<Place>) {
        if let Ok(mut pending) = self.pending.lock() {
            pending.size += places.len();
            pending.touched.extend(places);
        }
    }

    /// Notes places a sweep found, as far as the bound on waiting places allows.
    fn recheck(&self, places: impl IntoIterator<Item = Place>) {
        let Ok(mut pending) = self.pending.lock() else {
            return;
        };
        for place in places {
            if pending.size >= PENDING_MAX {
                return;
            }
            if pending.touched.insert(place) {
                pending.size += 1;
            }
        }
    }

    /// The places due by `now_ms`, each once.
    fn take_due(&self, now_ms: i64) -> Vec<Place> {
        let Ok(mut pending) = self.pending.lock() else {
            return Vec::new();
        };
        let mut due: HashSet<Place> = std::mem::take(&mut pending.touched);
        let later = pending.expiring.split_off(&(now_ms + 1));
        for places in std::mem::replace(&mut pending.expiring, later).into_values() {
            due.extend(places);
        }
        pending.size = pending.expiring.values().map(Vec::len).sum();
        due.into_iter().collect()
    }
}

/// Writes the touched places' holds to the feed once a second, and sweeps the places the feed
/// says are held, for the life of the process.
pub async fn publish_forever(app: Arc<App>) {
    use tracing::Instrument;
    let coalesce = async {
        loop {
            tokio::time::sleep(COALESCE_INTERVAL).await;
            if let Err(error) = publish(&app).await {
                tracing::warn!(%error, "writing hold events failed; they go next round");
            }
        }
    };
    futures_util::future::join(coalesce, sweep_forever(&app))
        .instrument(tracing::info_span!("hold_events"))
        .await;
}

/// How often the places the feed says are held are asked about again, across all instances.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(5);
/// Places one sweep asks about at most; the next sweep goes on after the last.
const SWEEP_MAX: i64 = 10_000;

/// The expiry schedule lives in the memory of the instance that placed the hold. When that
/// instance dies, when Redis loses its holds, or when too many places were waiting, no timer
/// fires: the feed would say units are held that no longer are. The sweep finds them from
/// `held_published`, so the next coalesced round writes what Redis holds. Every instance
/// tries each interval; the first to claim it sweeps (`ledger::hold_events::sweep`).
async fn sweep_forever(app: &App) {
    // A little under the interval, so an instance alone wins every time it looks.
    let claim_s = SWEEP_INTERVAL.as_secs_f64() * 0.9;
    loop {
        let swept = async {
            Ok::<_, super::Error>(
                hold_events::sweep(&mut app.client().await?, claim_s, SWEEP_MAX).await?,
            )
        };
        match swept.await {
            Ok(Some(places)) => app.hold_changes.recheck(places),
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "sweeping held places failed; next time"),
        }
        tokio::time::sleep(SWEEP_INTERVAL).await;
    }
}

async fn publish(app: &App) -> super::Result<()> {
    let due = app
        .hold_changes
        .take_due(chrono::Utc::now().timestamp_millis());
    if due.is_empty() {
        return Ok(());
    }
    let mut by_sku: HashMap<&str, Vec<&str>> = HashMap::new();
    for (sku, location) in &due {
        by_sku.entry(sku).or_default().push(location);
    }
    let mut held = Vec::with_capacity(due.len());
    let mut unanswered = Vec::new();
    for (sku, locations) in by_sku {
        let live = match lifecycle::live(&app.redis, sku).await {
            Ok(live) => live,
            Err(error) => {
                tracing::warn!(%error, sku, "Redis did not say what is held; next round");
                let places = locations.iter().map(|l| (sku.to_owned(), (*l).to_owned()));
                unanswered.extend(places);
                continue;
            }
        };
        for location in locations {
            held.push((sku.to_owned(), location.to_owned(), live.held_at(location)));
        }
    }
    app.hold_changes.again(unanswered);
    let recorded = async {
        Ok::<_, super::Error>(hold_events::record(&mut app.client().await?, &held).await?)
    };
    if let Err(error) = recorded.await {
        app.hold_changes.again(
            held.into_iter()
                .map(|(sku, location, _)| (sku, location))
                .collect(),
        );
        return Err(error);
    }
    Ok(())
}
