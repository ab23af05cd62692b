//! The life of a hold: placed in Redis (atomically, all lines or none), extended, released,
//! expired, or claimed by the order placed with it (then confirmed once the order is in the
//! ledger). Only Redis here: what Redis lacks of the ledger's figures it reports
//! ([`Error::Missing`]), and the application layer reads them and hands them over ([`learn`]).

use super::scripts::{HELD_SCRIPT, HOLD_SCRIPT, STAMP_SCRIPT, SYNC_SCRIPT, TRANSITION_SCRIPT};
use super::{
    number_at, slots, text_at, Base, Redis, Unavailable, BASE_TTL_S, CONFIRM_GRACE_MS,
    RECORD_RETENTION_MS, STAMP_TTL_S,
};
use crate::domain::hold::{HoldLine, HoldRequest, HoldStatus, HoldView, ShortLine};
use chrono::{DateTime, TimeZone, Utc};
use redis::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
    #[error("not enough stock for {} line(s)", .0.len())]
    Short(Vec<ShortLine>),
    #[error("no hold '{0}' (it may have expired long ago, or been lost with Redis)")]
    NotFound(String),
    #[error("the hold is already {}", .0.as_str())]
    Resolved(HoldStatus),
    #[error("client_id was already used for a different hold")]
    ClientIdReused,
    /// Redis has no copy of the ledger's figures for these lines (their indexes in the
    /// request); nothing was held. [`learn`] them, then place again.
    #[error("Redis lacks the ledger's figures for {} line(s)", .0.len())]
    Missing(Vec<usize>),
    /// On a Cluster: the client id's earlier request has not finished placing its hold.
    #[error("a hold with this client_id is still being placed; retry in a few seconds")]
    Pending,
    /// The placer has this many live holds already: its cap.
    #[error("{0} live holds already: the most one credential may have")]
    Capped(i64),
}

fn at(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// What identifies a request's content: its lines (as JSON) and TTL.
fn fingerprint(lines_json: &str, ttl_ms: i64) -> String {
    use std::fmt::Write;
    let digest = Sha256::digest(format!("{lines_json}|{ttl_ms}").as_bytes());
    digest[..12]
        .iter()
        .fold(String::with_capacity(24), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

/// What placing a hold came to, on a single Redis or a Cluster alike (line indexes 0-based).
pub(super) enum Outcome {
    Held {
        expires_ms: i64,
    },
    /// The client id names an earlier hold: `hold id:fingerprint`.
    Replay(String),
    Missing(Vec<usize>),
    /// (line, units available) of each line that does not fit.
    Short(Vec<(usize, i64)>),
    Capped(i64),
}

/// One placement's inputs, shared by the single-script and the per-slot paths.
pub(super) struct Placement<'a> {
    pub id: &'a str,
    pub request: &'a HoldRequest,
    pub status: HoldStatus,
    pub actor: &'a str,
    pub lines_json: &'a str,
    pub fingerprint: &'a str,
}

/// Places a hold for `actor` (who is recorded on it, and whose live holds are capped), with
/// `status` `held`, or `confirming` for one its placer is about to write to the ledger (see
/// [`consume`]); `(view, replayed)` where `replayed` says the client id found an earlier hold.
/// One attempt: bases Redis lacks come back as [`Error::Missing`].
pub async fn place(
    redis: &Redis,
    request: &HoldRequest,
    status: HoldStatus,
    actor: &str,
) -> Result<(HoldView, bool), Error> {
    let id = Uuid::new_v4().to_string();
    let lines_json = serde_json::to_string(&request.lines).unwrap_or_default();
    let fingerprint = fingerprint(&lines_json, request.ttl_ms);
    let placement = Placement {
        id: &id,
        request,
        status,
        actor,
        lines_json: &lines_json,
        fingerprint: &fingerprint,
    };
    let outcome = match redis.is_cluster() {
        true => slots::place(redis, &placement).await?,
        false => place_at_once(redis, &placement).await?,
    };
    match outcome {
        Outcome::Held { expires_ms } => {
            let expires_at = at(expires_ms);
            let view = HoldView {
                id,
                status,
                expires_at,
                created_at: Some(expires_at - chrono::Duration::milliseconds(request.ttl_ms)),
                lines: request.lines.clone(),
                client_id: request.client_id.clone(),
                placed_by: Some(actor.to_owned()),
            };
            Ok((view, false))
        }
        Outcome::Capped(live) => Err(Error::Capped(live)),
        Outcome::Replay(stored) => replay(redis, &stored, &fingerprint).await,
        Outcome::Missing(indexes) => Err(Error::Missing(indexes)),
        Outcome::Short(pairs) => Err(Error::Short(short_lines(request, &pairs))),
    }
}

/// The earlier hold a client id names, if it was for the same lines.
async fn replay(redis: &Redis, stored: &str, fingerprint: &str) -> Result<(HoldView, bool), Error> {
    let (earlier, earlier_fingerprint) = stored.split_once(':').unwrap_or_default();
    if earlier_fingerprint != fingerprint {
        return Err(Error::ClientIdReused);
    }
    match get(redis, earlier).await {
        Ok(view) => Ok((view, true)),
        // On a Cluster the record is written last: the earlier request is still placing it,
        // or was interrupted (its claim lapses, see `slots`).
        Err(Error::NotFound(_)) if redis.is_cluster() => Err(Error::Pending),
        Err(error) => Err(error),
    }
}

/// On a single Redis: the whole placement in one script.
async fn place_at_once(redis: &Redis, placement: &Placement<'_>) -> Result<Outcome, Unavailable> {
    let request = placement.request;
    let client_key = redis.client_key(request.client_id.as_deref().unwrap_or(""));
    let mut invocation = HOLD_SCRIPT.prepare_invoke();
    invocation
        .key(redis.record_key(placement.id))
        .key(&client_key);
    for line in &request.lines {
        let (sku, location) = (line.sku.as_str(), line.location.as_str());
        invocation
            .key(redis.base_key(sku, location))
            .key(redis.held_key(sku))
            .key(redis.total_key(sku));
    }
    invocation.key(redis.actor_key(placement.actor));
    invocation
        .arg(placement.id)
        .arg(request.ttl_ms)
        .arg(request.client_id.as_deref().unwrap_or(""))
        .arg(placement.lines_json)
        .arg(placement.fingerprint)
        .arg(RECORD_RETENTION_MS)
        .arg(placement.status.as_str());
    for line in &request.lines {
        invocation.arg(line.qty.get()).arg(line.location.as_str());
    }
    invocation
        .arg(placement.actor)
        .arg(redis.limits.live_per_actor);
    let reply: Vec<Value> = redis.invoke(&invocation).await?;
    Ok(match text_at(&reply, 0).as_str() {
        "held" => Outcome::Held {
            expires_ms: number_at(&reply, 1),
        },
        "capped" => Outcome::Capped(number_at(&reply, 1)),
        "replay" => Outcome::Replay(text_at(&reply, 1)),
        "missing" => Outcome::Missing(reply[1..].iter().filter_map(line_index).collect()),
        "short" => Outcome::Short(
            reply[1..]
                .chunks_exact(2)
                .filter_map(|pair| Some((line_index(&pair[0])?, number_at(pair, 1))))
                .collect(),
        ),
        _ => return Err(Unavailable(format!("unexpected reply {reply:?}"))),
    })
}

/// A script's 1-based line number as an index into the request's lines.
pub(super) fn line_index(number: &Value) -> Option<usize> {
    let number = redis::from_redis_value::<i64>(number).ok()?;
    usize::try_from(number).ok()?.checked_sub(1)
}

/// (line, available) pairs as short lines of `request`.
fn short_lines(request: &HoldRequest, pairs: &[(usize, i64)]) -> Vec<ShortLine> {
    pairs
        .iter()
        .filter_map(|&(index, available)| {
            let line = request.lines.get(index)?;
            Some(ShortLine {
                sku: line.sku.to_string(),
                location: line.location.to_string(),
                requested: line.qty.get(),
                available,
            })
        })
        .collect()
}

/// Stores bases the application layer read from the ledger for a hold's missing lines (newest
/// version wins; no stamp moves, nothing changed).
pub async fn learn(redis: &Redis, bases: &[Base<'_>]) -> Result<(), Unavailable> {
    sync(redis, bases, false).await
}

/// Bases per sync script call: a POS batch's 1,000 bases in one call held Redis for ~9 ms, and
/// every hold and lookup behind it waited; chunks let them in between.
const SYNC_CHUNK: usize = 100;

/// `items` by slot, in chunks a call may take: one script per chunk, never across slots.
fn chunks_by_slot<T: Copy>(redis: &Redis, items: &[T], sku: impl Fn(&T) -> &str) -> Vec<Vec<T>> {
    let groups = redis.by_slot(items.iter().copied(), sku);
    groups
        .iter()
        .flat_map(|group| group.chunks(SYNC_CHUNK).map(<[T]>::to_vec))
        .collect()
}

/// Stores `bases` (newest version wins); with `changed`, their SKUs' stamps move on so that
/// copies of the ledger's figures elsewhere are read again.
async fn sync(redis: &Redis, bases: &[Base<'_>], changed: bool) -> Result<(), Unavailable> {
    // The chunks go out together on the one multiplexed connection.
    let chunks = chunks_by_slot(redis, bases, |base| base.sku);
    futures_util::future::try_join_all(chunks.iter().map(|chunk| {
        let stamps: BTreeSet<&str> = match changed {
            true => chunk.iter().map(|base| base.sku).collect(),
            false => BTreeSet::new(),
        };
        sync_chunk(redis, chunk, stamps)
    }))
    .await
    .map(|_| ())
}

/// One sync script call: `bases` stored, then the stamps of `stamps` moved on.
async fn sync_chunk(
    redis: &Redis,
    bases: &[Base<'_>],
    stamps: BTreeSet<&str>,
) -> Result<(), Unavailable> {
    let mut invocation = SYNC_SCRIPT.prepare_invoke();
    invocation.arg(BASE_TTL_S).arg(STAMP_TTL_S).arg(bases.len());
    for base in bases {
        invocation
            .key(redis.base_key(base.sku, base.location))
            .arg(base.version)
            .arg(base.units);
    }
    for sku in stamps {
        invocation.key(redis.stamp_key(sku));
    }
    redis.invoke::<i64>(&invocation).await.map(|_| ())
}

/// After SKUs' own fields changed (their names): their stamps move, so every process reads
/// them again. Best effort, like [`changed`]; a failure still drops this process's copies (see
/// [`Redis::failures`]).
pub async fn skus_changed(redis: &Redis, skus: &[&str]) {
    let chunks = chunks_by_slot(redis, skus, |sku| sku);
    let calls = chunks
        .iter()
        .map(|chunk| sync_chunk(redis, &[], chunk.iter().copied().collect()));
    if let Err(error) = futures_util::future::try_join_all(calls).await {
        tracing::warn!(%error, "Redis did not learn of the SKUs' change; copies will expire");
    }
}

/// After the ledger changed balances, Redis learns their new bases and the SKUs' stamps move.
/// Best effort: if Redis is down the copies expire or are replaced by the next change, and the
/// ledger's guard still holds.
pub async fn changed(redis: &Redis, bases: &[Base<'_>]) {
    if let Err(error) = sync(redis, bases, true).await {
        tracing::warn!(%error, "Redis did not learn the new balances; its copies will expire");
    }
}

pub async fn get(redis: &Redis, id: &str) -> Result<HoldView, Error> {
    let fields = redis.hgetall(&redis.record_key(id)).await?;
    let field = |name: &str| {
        fields
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    let (Some(status), Some(expires_ms), Some(lines)) =
        (field("status"), field("expires_ms"), field("lines"))
    else {
        return Err(Error::NotFound(id.to_owned()));
    };
    let expires_ms: i64 = expires_ms.parse().unwrap_or_default();
    let status = HoldStatus::from_stored(status, expires_ms, Utc::now().timestamp_millis())
        .ok_or_else(|| Error::NotFound(id.to_owned()))?;
    let lines: Vec<HoldLine> =
        serde_json::from_str(lines).map_err(|_| Error::NotFound(id.to_owned()))?;
    Ok(HoldView {
        id: id.to_owned(),
        status,
        expires_at: at(expires_ms),
        lines,
        client_id: field("client_id")
            .filter(|client_id| !client_id.is_empty())
            .map(str::to_owned),
        placed_by: field("placed_by").map(str::to_owned),
        created_at: field("created_ms").and_then(|ms| ms.parse().ok()).map(at),
    })
}

/// A hold's move from one status to the next.
#[derive(Debug, Clone, Copy)]
pub(super) enum Step {
    Release,
    /// Claimed by the order being placed with it: `confirming`.
    Begin,
    Finish,
    Revert,
    Extend,
}

impl Step {
    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Release => "release",
            Self::Begin => "begin",
            Self::Finish => "finish",
            Self::Revert => "revert",
            Self::Extend => "extend",
        }
    }
}

/// `ttl_ms` only counts for [`Step::Extend`].
async fn transition(
    redis: &Redis,
    hold: &HoldView,
    step: Step,
    ttl_ms: i64,
) -> Result<DateTime<Utc>, Error> {
    let reply = match redis.is_cluster() {
        true => slots::transition(redis, hold, step, ttl_ms).await?,
        false => transition_at_once(redis, hold, step, ttl_ms).await?,
    };
    match (text_at(&reply, 0).as_str(), reply.len()) {
        ("ok", 2..) => Ok(at(number_at(&reply, 1))),
        ("refused", 2..) => match HoldStatus::from_stored(&text_at(&reply, 1), 0, 0) {
            Some(status) => Err(Error::Resolved(status)),
            None => Err(Error::NotFound(hold.id.clone())),
        },
        _ => Err(Unavailable(format!("unexpected reply {reply:?}")).into()),
    }
}

async fn transition_at_once(
    redis: &Redis,
    hold: &HoldView,
    step: Step,
    ttl_ms: i64,
) -> Result<Vec<Value>, Unavailable> {
    let mut invocation = TRANSITION_SCRIPT.prepare_invoke();
    invocation
        .key(redis.record_key(&hold.id))
        .key(redis.client_key(hold.client_id.as_deref().unwrap_or("")));
    for line in &hold.lines {
        let sku = line.sku.as_str();
        invocation
            .key(redis.held_key(sku))
            .key(redis.total_key(sku));
    }
    invocation.key(redis.actor_key(hold.placed_by.as_deref().unwrap_or("")));
    invocation
        .arg(step.name())
        .arg(&hold.id)
        .arg(ttl_ms)
        .arg(CONFIRM_GRACE_MS)
        .arg(RECORD_RETENTION_MS);
    for line in &hold.lines {
        invocation.arg(format!("{}|{}", line.location.as_str(), line.qty.get()));
    }
    invocation.arg(redis.limits.lifetime_ms);
    redis.invoke(&invocation).await
}

pub async fn release(redis: &Redis, id: &str) -> Result<HoldView, Error> {
    let mut hold = get(redis, id).await?;
    transition(redis, &hold, Step::Release, 0).await?;
    hold.status = HoldStatus::Released;
    Ok(hold)
}

pub async fn extend(redis: &Redis, id: &str, ttl_ms: i64) -> Result<HoldView, Error> {
    let mut hold = get(redis, id).await?;
    hold.expires_at = transition(redis, &hold, Step::Extend, ttl_ms).await?;
    Ok(hold)
}

/// Takes a live hold for an order being placed: it becomes `confirming` (its units stay
/// counted for the confirmation grace), exactly once — a second claim is refused with the
/// status it found. [`settle_claim`] finishes it.
pub async fn claim(redis: &Redis, id: &str) -> Result<HoldView, Error> {
    let mut hold = get(redis, id).await?;
    if hold.status != HoldStatus::Held {
        return Err(Error::Resolved(hold.status));
    }
    transition(redis, &hold, Step::Begin, 0).await?;
    hold.status = HoldStatus::Confirming;
    Ok(hold)
}

/// After the order of a claimed hold: placed, the hold's units stop counting (the ledger now
/// carries what the order took; the rest is free again); refused, the hold is held again.
/// Best effort: if Redis fails, the units stop counting when the confirmation grace ends.
pub async fn settle_claim(redis: &Redis, hold: &HoldView, placed: bool) {
    let step = if placed { Step::Finish } else { Step::Revert };
    if let Err(error) = transition(redis, hold, step, 0).await {
        tracing::warn!(%error, hold = hold.id, placed, "Redis did not settle the claimed hold");
    }
}

/// What Redis knows of one SKU right now, in one call.
#[derive(Debug, Default)]
pub struct Live {
    /// Changes after every committed change of the SKU's balances; `None` until a change or
    /// [`stamp`] creates it.
    pub stamp: Option<i64>,
    /// Units in live holds per location code (locations without holds are absent or 0).
    pub held: HashMap<String, i64>,
}

impl Live {
    pub fn held_at(&self, location: &str) -> i64 {
        self.held.get(location).copied().unwrap_or(0)
    }
}

pub async fn live(redis: &Redis, sku: &str) -> Result<Live, Unavailable> {
    let mut invocation = HELD_SCRIPT.prepare_invoke();
    invocation
        .key(redis.held_key(sku))
        .key(redis.total_key(sku))
        .key(redis.stamp_key(sku));
    let reply: Vec<Value> = redis.invoke(&invocation).await?;
    let stamp = match reply.first() {
        Some(Value::Nil) => None,
        first => Some(
            first
                .and_then(|stamp| redis::from_redis_value::<i64>(stamp).ok())
                .ok_or_else(|| Unavailable(format!("unexpected stamp {first:?}")))?,
        ),
    };
    let held = reply[1..]
        .chunks_exact(2)
        .map(|pair| (text_at(pair, 0), number_at(pair, 1)))
        .collect();
    Ok(Live { stamp, held })
}

/// Gives a SKU the ledger knows a stamp, unless it has one. Lookups call it only after finding
/// the SKU, so made-up codes leave nothing in Redis.
pub async fn stamp(redis: &Redis, sku: &str) -> Result<(), Unavailable> {
    let mut invocation = STAMP_SCRIPT.prepare_invoke();
    invocation.key(redis.stamp_key(sku)).arg(STAMP_TTL_S);
    redis.invoke::<i64>(&invocation).await.map(|_| ())
}

/// Runs `work` (a ledger write) while `hold`, placed as `confirming`, keeps its units counted in
/// Redis, then drops the hold: the ledger now carries the units. If `work` fails the hold is
/// released. Without a hold (Redis down) `work` runs alone, guarded by the ledger.
pub async fn consume<T, E>(
    redis: &Redis,
    hold: Option<&HoldView>,
    work: impl AsyncFnOnce() -> Result<T, E>,
) -> Result<T, E> {
    let Some(hold) = hold else {
        return work().await;
    };
    debug_assert_eq!(hold.status, HoldStatus::Confirming);
    let result = work().await;
    let settle = match result {
        Ok(_) => transition(redis, hold, Step::Finish, 0).await,
        Err(_) => match transition(redis, hold, Step::Revert, 0).await {
            Ok(_) => transition(redis, hold, Step::Release, 0).await,
            Err(error) => Err(error),
        },
    };
    if let Err(error) = settle {
        tracing::warn!(%error, hold = hold.id, "Redis did not settle the hold; it will expire");
    }
    result
}
