//! The Lua scripts: each runs atomically inside Redis in one round trip.
//!
//! Keys, for deployment prefix P (hash tags keep one SKU's keys in one Cluster slot), each with
//! its bound, so that Redis holds only what live holds and existing SKUs need:
//! - `{P:s2:SKU}:b:LOC` string `version:base`, base = on hand − allocated − safety stock from
//!   PostgreSQL, expiring after `BASE_TTL_S` so it is re-read from the ledger now and then;
//!   written only for a (SKU, location) the ledger knows;
//! - `{P:s2:SKU}:h`     sorted set: `hold id|LOC|units` → expiry (ms); expired members are purged
//!   by whichever script touches the SKU next, so a hold stops counting at its expiry (the
//!   units ride in the member: no second structure to read and delete per line); the key
//!   expires `HOLD_KEYS_TTL_MS` after its last refresh, always after its latest member (`keep`);
//! - `{P:s2:SKU}:n`     hash: LOC → units in live holds (what lookups read: one call per SKU;
//!   a location whose holds are all gone is removed, so the reply stays short); expires
//!   with `:h`, at the same instant, so it never counts units whose members are gone;
//! - `{P:s2:SKU}:v`     integer stamp, changed after every committed change of the SKU's balances,
//!   so copies of the ledger's figures kept by each service process know when they are stale;
//!   created from the clock (µs) when missing (by a change, or by a lookup that found the SKU
//!   in the ledger, never by one for an unknown code), so a stamp never repeats across a flush
//!   or an expiry; expires `STAMP_TTL_S` after its creation or last change;
//! - `{P:h:ID}`        hash: the hold record (status, expiry, lines, fingerprint, client id),
//!   expiring `RECORD_RETENTION_MS` after the hold;
//! - `{P:c:CLIENT}`    string `hold id:fingerprint`, so a retried request finds its hold;
//!   expires with the record;
//! - `{P:a:ACTOR}`     sorted set: hold id → expiry (ms) of each live hold a credential placed,
//!   so its live holds can be capped; released and confirmed holds leave it, expired ones are
//!   purged by its next hold, and the key expires with its latest hold.

use super::HOLD_KEYS_TTL_MS;
use redis::Script;
use std::sync::LazyLock;

/// Shared Lua: the clock, the purge of a SKU's expired holds, and dropping one hold line.
const PRELUDE: &str = r#"
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function new_stamp()
  local t = redis.call('TIME')
  return t[1] .. string.format('%06d', tonumber(t[2]))
end
local function location_of(member)
  return string.match(member, '^[^|]*|([^|]*)|')
end
local function units_of(member)
  return tonumber(string.match(member, '|(%d+)$'))
end
local function unhold(total_key, member)
  local location = location_of(member)
  if redis.call('HINCRBY', total_key, location, -units_of(member)) <= 0 then
    redis.call('HDEL', total_key, location)
  end
end
local function purge(held_key, total_key, now)
  local expired = redis.call('ZRANGEBYSCORE', held_key, '-inf', now)
  for _, member in ipairs(expired) do unhold(total_key, member) end
  if #expired > 0 then redis.call('ZREMRANGEBYSCORE', held_key, '-inf', now) end
end
local function drop(held_key, total_key, member)
  if redis.call('ZREM', held_key, member) == 1 then unhold(total_key, member) end
end
-- A SKU's holds keys live HOLD_KEYS_TTL_MS after they were last refreshed, and are refreshed
-- when less than half of it is left: a member is never more than a hold's longest life plus the
-- confirm grace ahead, so none outlives them, and a hold pays one PTTL instead of rewriting two
-- expiries. Both expire together: the total never outlives the members it counts.
local function keep(held_key, total_key)
  if redis.call('PTTL', held_key) < HOLD_KEYS_TTL_MS / 2 then
    redis.call('PEXPIRE', held_key, HOLD_KEYS_TTL_MS)
    redis.call('PEXPIRE', total_key, HOLD_KEYS_TTL_MS)
  end
end
"#;

/// KEYS: record, client, then (base, held, total) per line, then the placer's live holds.
/// ARGV: id, ttl ms, client id ('' for none), lines JSON, fingerprint, retention ms, status
/// (`held`, or `confirming` for a hold its placer is about to write to the ledger), then
/// (qty, location) per line, then the placer (actor) and how many live holds it may have.
/// Returns `{'held', expires}`, `{'replay', value}`, `{'missing', i...}`,
/// `{'short', i, available, ...}` (1-based line numbers) or `{'capped', live}`.
const HOLD: &str = r#"
local id, ttl, fingerprint, retention = ARGV[1], tonumber(ARGV[2]), ARGV[5], tonumber(ARGV[6])
local status = ARGV[7]
local actor_key, actor, live_max = KEYS[#KEYS], ARGV[#ARGV - 1], tonumber(ARGV[#ARGV])
if ARGV[3] ~= '' then
  local existing = redis.call('GET', KEYS[2])
  if existing then return {'replay', existing} end
end
local lines = (#KEYS - 3) / 3
local missing = {'missing'}
local bases = {}
for i = 1, lines do
  local base = redis.call('GET', KEYS[3 * i])
  if base then bases[i] = tonumber(string.match(base, ':(-?%d+)$')) else table.insert(missing, i) end
end
if #missing > 1 then return missing end
local now = now_ms()
redis.call('ZREMRANGEBYSCORE', actor_key, '-inf', now)
local live = redis.call('ZCARD', actor_key)
if live >= live_max then return {'capped', live} end
local short = {'short'}
for i = 1, lines do
  local held_key, total_key = KEYS[3 * i + 1], KEYS[3 * i + 2]
  local qty, location = tonumber(ARGV[6 + 2 * i]), ARGV[7 + 2 * i]
  local base = bases[i]
  purge(held_key, total_key, now)
  local held = tonumber(redis.call('HGET', total_key, location) or '0')
  local available = math.max(math.max(base, 0) - held, 0)
  if available < qty then
    table.insert(short, i)
    table.insert(short, available)
  end
end
if #short > 1 then return short end
local expires = now + ttl
for i = 1, lines do
  local held_key, total_key = KEYS[3 * i + 1], KEYS[3 * i + 2]
  local qty, location = ARGV[6 + 2 * i], ARGV[7 + 2 * i]
  redis.call('ZADD', held_key, expires, id .. '|' .. location .. '|' .. qty)
  redis.call('HINCRBY', total_key, location, qty)
  keep(held_key, total_key)
end
redis.call('HSET', KEYS[1], 'status', status, 'expires_ms', expires, 'lines', ARGV[4],
  'fingerprint', fingerprint, 'client_id', ARGV[3], 'placed_by', actor, 'created_ms', now)
redis.call('PEXPIRE', KEYS[1], ttl + retention)
redis.call('ZADD', actor_key, expires, id)
if redis.call('PTTL', actor_key) < ttl then redis.call('PEXPIRE', actor_key, ttl) end
if ARGV[3] ~= '' then
  redis.call('SET', KEYS[2], id .. ':' .. fingerprint, 'PX', ttl + retention)
end
return {'held', expires}
"#;

/// Moves a hold from one status to the next, exactly once.
/// KEYS: record, client, then (held, total) per line, then the placer's live holds.
/// ARGV: action (release | begin | finish | revert | extend), id, ttl ms (extend),
/// confirm grace ms, retention ms, then `LOC|units` of each line, then the longest a hold may
/// live from its placement, however often extended (ms).
/// Returns `{'ok', expires}` or `{'refused', status}` where status is what the hold is now
/// (`missing` when there is no record).
const TRANSITION: &str = r#"
local action, id = ARGV[1], ARGV[2]
local ttl, grace, retention = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local actor_key, lifetime = KEYS[#KEYS], tonumber(ARGV[#ARGV])
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'refused', 'missing'} end
local expires = tonumber(redis.call('HGET', KEYS[1], 'expires_ms'))
local now = now_ms()
local live = status == 'held' and expires > now
local lines = (#KEYS - 3) / 2
local function each_line(f)
  for i = 1, lines do
    f(KEYS[2 * i + 1], KEYS[2 * i + 2], id .. '|' .. ARGV[5 + i])
  end
end
if action == 'release' and live then
  each_line(drop)
  redis.call('HSET', KEYS[1], 'status', 'released')
  redis.call('ZREM', actor_key, id)
elseif action == 'begin' and live then
  -- Keep the units counted while the ledger confirms, even past the hold's expiry.
  each_line(function(held, total, member)
    redis.call('ZADD', held, 'XX', now + grace, member)
    keep(held, total)
  end)
  redis.call('HSET', KEYS[1], 'status', 'confirming')
elseif action == 'finish' and status == 'confirming' then
  each_line(drop)
  redis.call('HSET', KEYS[1], 'status', 'confirmed')
  redis.call('ZREM', actor_key, id)
elseif action == 'revert' and status == 'confirming' then
  each_line(function(held, total, member)
    redis.call('ZADD', held, 'XX', expires, member)
    keep(held, total)
  end)
  redis.call('HSET', KEYS[1], 'status', 'held')
elseif action == 'extend' and live then
  -- Never past the hold's lifetime, never earlier than it already runs.
  local created = tonumber(redis.call('HGET', KEYS[1], 'created_ms') or now)
  expires = math.max(expires, math.min(now + ttl, created + lifetime))
  ttl = expires - now
  redis.call('ZADD', actor_key, 'XX', expires, id)
  if redis.call('PTTL', actor_key) < ttl then redis.call('PEXPIRE', actor_key, ttl) end
  each_line(function(held, total, member)
    redis.call('ZADD', held, 'XX', expires, member)
    keep(held, total)
  end)
  redis.call('HSET', KEYS[1], 'expires_ms', expires)
  redis.call('PEXPIRE', KEYS[1], ttl + retention)
  if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], ttl + retention) end
else
  if status == 'held' and not live then status = 'expired' end
  return {'refused', status}
end
return {'ok', expires}
"#;

/// Stores bases read from the ledger unless Redis already has a newer version, and moves on the
/// stamps of SKUs whose balances changed.
/// KEYS: base keys, then stamp keys. ARGV: base ttl s, stamp ttl s, number of base keys, then
/// (version, base) per base key.
const SYNC: &str = r#"
local stamp_ttl, bases = ARGV[2], tonumber(ARGV[3])
for i = 1, bases do
  local version = tonumber(ARGV[2 + 2 * i])
  local current = redis.call('GET', KEYS[i])
  local current_version = current and tonumber(string.match(current, '^(%d+):')) or -1
  if version > current_version then
    redis.call('SET', KEYS[i], version .. ':' .. ARGV[3 + 2 * i], 'EX', ARGV[1])
  elseif version == current_version then
    redis.call('EXPIRE', KEYS[i], ARGV[1])
  end
end
for i = bases + 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('INCR', KEYS[i])
    redis.call('EXPIRE', KEYS[i], stamp_ttl)
  else
    redis.call('SET', KEYS[i], new_stamp(), 'EX', stamp_ttl)
  end
end
return bases
"#;

/// The SKU's stamp and its units in live holds per location. Creates nothing: the code may
/// be unknown to the ledger (see `STAMP`).
/// KEYS: held, total, stamp of the SKU. Returns `{stamp or nil, location, units, ...}`.
const HELD: &str = r#"
purge(KEYS[1], KEYS[2], now_ms())
local reply = redis.call('HGETALL', KEYS[2])
table.insert(reply, 1, redis.call('GET', KEYS[3]))
return reply
"#;

/// Creates the stamp of a SKU the ledger knows, unless one exists.
/// KEYS: stamp of the SKU. ARGV: ttl s.
const STAMP: &str = r#"
redis.call('SET', KEYS[1], new_stamp(), 'NX', 'EX', ARGV[1])
return 0
"#;

fn source(body: &str) -> String {
    format!("local HOLD_KEYS_TTL_MS = {HOLD_KEYS_TTL_MS}\n{PRELUDE}\n{body}")
}

fn with_prelude(body: &str) -> Script {
    Script::new(&source(body))
}

pub static HOLD_SCRIPT: LazyLock<Script> = LazyLock::new(|| with_prelude(HOLD));
pub static TRANSITION_SCRIPT: LazyLock<Script> = LazyLock::new(|| with_prelude(TRANSITION));
pub static SYNC_SCRIPT: LazyLock<Script> = LazyLock::new(|| with_prelude(SYNC));
pub static HELD_SCRIPT: LazyLock<Script> = LazyLock::new(|| with_prelude(HELD));
pub static STAMP_SCRIPT: LazyLock<Script> = LazyLock::new(|| with_prelude(STAMP));

/// The Lua source of the hold script, for `redis-benchmark` (see docs/BENCHMARKS.md).
pub fn hold_source() -> String {
    source(HOLD)
}
