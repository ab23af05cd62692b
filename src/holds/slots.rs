//! Holds on a Redis Cluster, where one script may only touch keys of one slot: a placement
//! runs as steps, each atomic in its slot — the client id claimed, the placer's cap taken, the
//! lines reserved slot by slot in slot order, the record written last — and undoes the steps it
//! took when a later one fails, so a cart is still all or nothing. A transition moves the
//! record first (it decides, exactly once), then the lines, the placer and the client id.
//!
//! What an interrupted placement leaves (the process killed between steps) only errs on the
//! safe side: its reserved units count until the hold's expiry, its cap entry until then, and
//! its client id answers "being placed" for [`CLAIM_MS`], after which a retry places anew.

use super::lifecycle::{line_index, Outcome, Placement, Step};
use super::scripts::{
    ACTOR_PART_SCRIPT, CLIENT_PART_SCRIPT, LINES_PART_SCRIPT, RECORD_PART_SCRIPT,
};
use super::{number_at, text_at, Redis, Unavailable, CONFIRM_GRACE_MS, RECORD_RETENTION_MS};
use crate::domain::hold::{HoldLine, HoldView};
use redis::Value;

/// How long a client id stays claimed by a placement that has not finished: far longer than
/// a placement's steps take, short enough that a retry after a crash is not refused for long.
const CLAIM_MS: i64 = 10_000;

/// The request's lines (with their indexes) by slot, in slot order.
fn slot_groups<'a>(redis: &Redis, lines: &'a [HoldLine]) -> Vec<Vec<(usize, &'a HoldLine)>> {
    redis.by_slot(lines.iter().enumerate(), |(_, line)| line.sku.as_str())
}

/// What a placement took so far, undone in reverse when a later step fails.
#[derive(Default)]
struct Taken<'a> {
    client: Option<(String, String)>,
    actor: bool,
    groups: Vec<Vec<(usize, &'a HoldLine)>>,
    record: bool,
}

pub(super) async fn place(
    redis: &Redis,
    placement: &Placement<'_>,
) -> Result<Outcome, Unavailable> {
    let mut taken = Taken::default();
    let outcome = steps(redis, placement, &mut taken).await;
    if !matches!(outcome, Ok(Outcome::Held { .. })) {
        undo(redis, placement, taken).await;
    }
    outcome
}

async fn steps<'a>(
    redis: &Redis,
    placement: &Placement<'a>,
    taken: &mut Taken<'a>,
) -> Result<Outcome, Unavailable> {
    let value = format!("{}:{}", placement.id, placement.fingerprint);
    if let Some(client_id) = placement.request.client_id.as_deref() {
        let key = redis.client_key(client_id);
        let reply = client(redis, &key, "claim", &value, CLAIM_MS).await?;
        if text_at(&reply, 0) == "found" {
            return Ok(Outcome::Replay(text_at(&reply, 1)));
        }
        taken.client = Some((key, value.clone()));
    }
    let expires_ms = match take_actor(redis, placement).await? {
        Ok(expires_ms) => expires_ms,
        Err(live) => return Ok(Outcome::Capped(live)),
    };
    taken.actor = true;
    if let Some(refusal) = reserve(redis, placement, expires_ms, taken).await? {
        return Ok(refusal);
    }
    write_record(redis, placement, expires_ms).await?;
    taken.record = true;
    if let Some((key, value)) = &taken.client {
        let keep_ms = placement.request.ttl_ms + RECORD_RETENTION_MS;
        let reply = client(redis, key, "keep", value, keep_ms).await?;
        if text_at(&reply, 0) == "lost" {
            // The claim lapsed and another request with this client id took it over.
            taken.client = None;
            return Ok(Outcome::Replay(text_at(&reply, 1)));
        }
    }
    Ok(Outcome::Held { expires_ms })
}

async fn client(
    redis: &Redis,
    key: &str,
    op: &str,
    value: &str,
    ms: i64,
) -> Result<Vec<Value>, Unavailable> {
    let mut invocation = CLIENT_PART_SCRIPT.prepare_invoke();
    invocation.key(key).arg(op).arg(value).arg(ms);
    redis.invoke(&invocation).await
}

/// The hold's expiry (from the placer's node's clock), or how many live holds cap the placer.
async fn take_actor(
    redis: &Redis,
    placement: &Placement<'_>,
) -> Result<Result<i64, i64>, Unavailable> {
    let mut invocation = ACTOR_PART_SCRIPT.prepare_invoke();
    invocation
        .key(redis.actor_key(placement.actor))
        .arg("take")
        .arg(placement.id)
        .arg(placement.request.ttl_ms)
        .arg(redis.limits.live_per_actor);
    let reply: Vec<Value> = redis.invoke(&invocation).await?;
    Ok(match text_at(&reply, 0).as_str() {
        "ok" => Ok(number_at(&reply, 1)),
        _ => Err(number_at(&reply, 1)),
    })
}

/// Reserves the lines slot by slot; after the first slot that cannot, the rest are only
/// checked, so the refusal lists every missing (or else every short) line, as on one Redis.
async fn reserve<'a>(
    redis: &Redis,
    placement: &Placement<'a>,
    expires_ms: i64,
    taken: &mut Taken<'a>,
) -> Result<Option<Outcome>, Unavailable> {
    let (mut missing, mut short) = (Vec::new(), Vec::new());
    for group in slot_groups(redis, &placement.request.lines) {
        let op = match missing.is_empty() && short.is_empty() {
            true => "reserve",
            false => "check",
        };
        let mut invocation = LINES_PART_SCRIPT.prepare_invoke();
        invocation.arg(op).arg(placement.id).arg(expires_ms);
        for (_, line) in &group {
            let (sku, location) = (line.sku.as_str(), line.location.as_str());
            invocation
                .key(redis.base_key(sku, location))
                .key(redis.held_key(sku))
                .key(redis.total_key(sku))
                .arg(line.qty.get())
                .arg(location);
        }
        let reply: Vec<Value> = redis.invoke(&invocation).await?;
        let global = |value: &Value| Some(group.get(line_index(value)?)?.0);
        match text_at(&reply, 0).as_str() {
            "missing" => missing.extend(reply[1..].iter().filter_map(global)),
            "short" => short.extend(
                reply[1..]
                    .chunks_exact(2)
                    .filter_map(|pair| Some((global(&pair[0])?, number_at(pair, 1)))),
            ),
            _ if op == "reserve" => taken.groups.push(group),
            _ => {}
        }
    }
    Ok(match (missing.is_empty(), short.is_empty()) {
        (true, true) => None,
        (false, _) => Some(Outcome::Missing(missing)),
        (true, false) => Some(Outcome::Short(short)),
    })
}

async fn write_record(
    redis: &Redis,
    placement: &Placement<'_>,
    expires_ms: i64,
) -> Result<(), Unavailable> {
    let request = placement.request;
    let mut invocation = RECORD_PART_SCRIPT.prepare_invoke();
    invocation
        .key(redis.record_key(placement.id))
        .arg("write")
        .arg(placement.status.as_str())
        .arg(expires_ms)
        .arg(placement.lines_json)
        .arg(placement.fingerprint)
        .arg(request.client_id.as_deref().unwrap_or(""))
        .arg(placement.actor)
        .arg(expires_ms - request.ttl_ms)
        .arg(request.ttl_ms + RECORD_RETENTION_MS);
    redis.invoke::<Vec<Value>>(&invocation).await.map(|_| ())
}

/// Best effort, in reverse: what it cannot undo expires with the hold.
async fn undo(redis: &Redis, placement: &Placement<'_>, taken: Taken<'_>) {
    let id = placement.id;
    let mut result = Ok(());
    if taken.record {
        let mut invocation = RECORD_PART_SCRIPT.prepare_invoke();
        invocation
            .key(redis.record_key(id))
            .arg("release")
            .arg(0)
            .arg(0)
            .arg(RECORD_RETENTION_MS);
        result = result.and(redis.invoke::<Vec<Value>>(&invocation).await.map(|_| ()));
    }
    for group in taken.groups.iter().rev() {
        let lines = group.iter().map(|(_, line)| *line);
        result = result.and(lines_step(redis, id, Step::Release, 0, lines).await);
    }
    if taken.actor {
        result = result.and(actor_step(redis, placement.actor, id, Step::Release, 0).await);
    }
    if let Some((key, value)) = &taken.client {
        result = result.and(client(redis, key, "drop", value, 0).await.map(|_| ()));
    }
    if let Err(error) = result {
        tracing::warn!(%error, hold = id, "could not undo all of a refused hold; it will expire");
    }
}

async fn lines_step<'a>(
    redis: &Redis,
    id: &str,
    step: Step,
    expires_ms: i64,
    lines: impl Iterator<Item = &'a HoldLine>,
) -> Result<(), Unavailable> {
    let mut invocation = LINES_PART_SCRIPT.prepare_invoke();
    invocation
        .arg(step.name())
        .arg(id)
        .arg(expires_ms)
        .arg(CONFIRM_GRACE_MS);
    for line in lines {
        let sku = line.sku.as_str();
        invocation
            .key(redis.held_key(sku))
            .key(redis.total_key(sku))
            .arg(format!("{}|{}", line.location.as_str(), line.qty.get()));
    }
    redis.invoke::<Vec<Value>>(&invocation).await.map(|_| ())
}

async fn actor_step(
    redis: &Redis,
    actor: &str,
    id: &str,
    step: Step,
    expires_ms: i64,
) -> Result<(), Unavailable> {
    let mut invocation = ACTOR_PART_SCRIPT.prepare_invoke();
    invocation
        .key(redis.actor_key(actor))
        .arg(step.name())
        .arg(id)
        .arg(expires_ms);
    redis.invoke::<Vec<Value>>(&invocation).await.map(|_| ())
}

/// A hold's transition: the record decides (its reply is returned, as the one-script
/// transition's), then the lines, the placer and the client id follow. Once the record moved,
/// the transition happened; a later step Redis fails leaves units counted until they expire,
/// which the ledger's guard makes safe.
pub(super) async fn transition(
    redis: &Redis,
    hold: &HoldView,
    step: Step,
    ttl_ms: i64,
) -> Result<Vec<Value>, Unavailable> {
    let mut invocation = RECORD_PART_SCRIPT.prepare_invoke();
    invocation
        .key(redis.record_key(&hold.id))
        .arg(step.name())
        .arg(ttl_ms)
        .arg(redis.limits.lifetime_ms)
        .arg(RECORD_RETENTION_MS);
    let reply: Vec<Value> = redis.invoke(&invocation).await?;
    if text_at(&reply, 0) != "ok" {
        return Ok(reply);
    }
    let expires_ms = number_at(&reply, 1);
    let mut result = Ok(());
    for group in slot_groups(redis, &hold.lines) {
        let lines = group.into_iter().map(|(_, line)| line);
        result = result.and(lines_step(redis, &hold.id, step, expires_ms, lines).await);
    }
    // Beginning and reverting a confirmation leave the placer's live holds as they are.
    if matches!(step, Step::Release | Step::Finish | Step::Extend) {
        let placer = hold.placed_by.as_deref().unwrap_or("");
        result = result.and(actor_step(redis, placer, &hold.id, step, expires_ms).await);
    }
    if let (Step::Extend, Some(client_id)) = (step, hold.client_id.as_deref()) {
        let key = redis.client_key(client_id);
        let mut invocation = CLIENT_PART_SCRIPT.prepare_invoke();
        invocation
            .key(key)
            .arg(step.name())
            .arg(expires_ms)
            .arg(RECORD_RETENTION_MS);
        result = result.and(redis.invoke::<Vec<Value>>(&invocation).await.map(|_| ()));
    }
    if let Err(error) = result {
        tracing::warn!(%error, hold = hold.id, step = step.name(), "hold moved on; Redis missed a part");
    }
    Ok(reply)
}
