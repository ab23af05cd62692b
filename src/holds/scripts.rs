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

/// A hold's parts, shared by the one-script placement and transitions on a single Redis and by
/// the per-slot scripts on a Cluster (see `slots`): the same Lua decides in both.
const PARTS: &str = r#"
-- A hold's lines: (base, held, total) keys from KEYS[first_key], (qty, location) from
-- ARGV[first_arg], `count` of them.
local function hold_lines(first_key, first_arg, count)
  local lines = {}
  for i = 1, count do
    local k, a = first_key + 3 * (i - 1), first_arg + 2 * (i - 1)
    lines[i] = {base = KEYS[k], held = KEYS[k + 1], total = KEYS[k + 2],
      qty = tonumber(ARGV[a]), location = ARGV[a + 1]}
  end
  return lines
end
-- `{'missing', i...}` (1-based) for lines whose base Redis lacks; else nil, each line knowing
-- its base.
local function missing_bases(lines)
  local missing = {'missing'}
  for i, line in ipairs(lines) do
    local base = redis.call('GET', line.base)
    if base then line.units = tonumber(string.match(base, ':(-?%d+)$'))
    else table.insert(missing, i) end
  end
  if #missing > 1 then return missing end
end
-- `{'short', i, available...}` for lines that do not fit beside the live holds; else nil.
local function short_lines(lines, now)
  local short = {'short'}
  for i, line in ipairs(lines) do
    purge(line.held, line.total, now)
    local held = tonumber(redis.call('HGET', line.total, line.location) or '0')
    local available = math.max(math.max(line.units, 0) - held, 0)
    if available < line.qty then
      table.insert(short, i)
      table.insert(short, available)
    end
  end
  if #short > 1 then return short end
end
local function hold_units(lines, id, expires)
  for _, line in ipairs(lines) do
    redis.call('ZADD', line.held, expires, id .. '|' .. line.location .. '|' .. line.qty)
    redis.call('HINCRBY', line.total, line.location, line.qty)
    keep(line.held, line.total)
  end
end
-- The placer's live holds, once its expired ones are gone.
local function live_holds(actor_key, now)
  redis.call('ZREMRANGEBYSCORE', actor_key, '-inf', now)
  return redis.call('ZCARD', actor_key)
end
local function count_hold(actor_key, id, expires, now, flag)
  if flag then redis.call('ZADD', actor_key, flag, expires, id)
  else redis.call('ZADD', actor_key, expires, id) end
  if redis.call('PTTL', actor_key) < expires - now then
    redis.call('PEXPIRE', actor_key, expires - now)
  end
end
local function write_record(key, status, expires, lines, fingerprint, client_id, actor, now, keep_ms)
  redis.call('HSET', key, 'status', status, 'expires_ms', expires, 'lines', lines,
    'fingerprint', fingerprint, 'client_id', client_id, 'placed_by', actor, 'created_ms', now)
  redis.call('PEXPIRE', key, keep_ms)
end
-- The record's part of a transition, which decides it: the status moves on exactly once.
-- Returns {'ok', expires} or {'refused', status} (`missing` when there is no record).
local function transition_record(key, action, ttl, lifetime, retention, now)
  local status = redis.call('HGET', key, 'status')
  if not status then return {'refused', 'missing'} end
  local expires = tonumber(redis.call('HGET', key, 'expires_ms'))
  local live = status == 'held' and expires > now
  local next_status
  if action == 'release' and live then next_status = 'released'
  elseif action == 'begin' and live then next_status = 'confirming'
  elseif action == 'finish' and status == 'confirming' then next_status = 'confirmed'
  elseif action == 'revert' and status == 'confirming' then next_status = 'held'
  elseif action == 'extend' and live then
    -- Never past the hold's lifetime, never earlier than it already runs.
    local created = tonumber(redis.call('HGET', key, 'created_ms') or now)
    expires = math.max(expires, math.min(now + ttl, created + lifetime))
    redis.call('HSET', key, 'expires_ms', expires)
    redis.call('PEXPIRE', key, expires - now + retention)
    return {'ok', expires}
  end
  if not next_status then
    if status == 'held' and not live then status = 'expired' end
    return {'refused', status}
  end
  redis.call('HSET', key, 'status', next_status)
  return {'ok', expires}
end
-- A line's part: released and confirmed holds stop counting; a confirmation in progress keeps
-- its units counted for the grace, even past the hold's expiry; otherwise they count until
-- the hold's (new) expiry.
local function transition_line(action, held, total, member, expires, now, grace)
  if action == 'release' or action == 'finish' then
    drop(held, total, member)
    return
  end
  local score = expires
  if action == 'begin' then score = now + grace end
  redis.call('ZADD', held, 'XX', score, member)
  keep(held, total)
end
local function transition_actor(action, actor_key, id, expires, now)
  if action == 'release' or action == 'finish' then redis.call('ZREM', actor_key, id)
  elseif action == 'extend' then count_hold(actor_key, id, expires, now, 'XX') end
end
local function transition_client(action, client_key, expires, now, retention)
  if action == 'extend' and redis.call('EXISTS', client_key) == 1 then
    redis.call('PEXPIRE', client_key, expires - now + retention)
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
local id, ttl, client_id, lines_json = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local fingerprint, retention, status = ARGV[5], tonumber(ARGV[6]), ARGV[7]
local actor_key, actor, live_max = KEYS[#KEYS], ARGV[#ARGV - 1], tonumber(ARGV[#ARGV])
if client_id ~= '' then
  local existing = redis.call('GET', KEYS[2])
  if existing then return {'replay', existing} end
end
local lines = hold_lines(3, 8, (#KEYS - 3) / 3)
local missing = missing_bases(lines)
if missing then return missing end
local now = now_ms()
local live = live_holds(actor_key, now)
if live >= live_max then return {'capped', live} end
local short = short_lines(lines, now)
if short then return short end
local expires = now + ttl
hold_units(lines, id, expires)
write_record(KEYS[1], status, expires, lines_json, fingerprint, client_id, actor, now,
  ttl + retention)
count_hold(actor_key, id, expires, now)
if client_id ~= '' then
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
local now = now_ms()
local result = transition_record(KEYS[1], action, ttl, tonumber(ARGV[#ARGV]), retention, now)
if result[1] ~= 'ok' then return result end
local expires = result[2]
for i = 1, (#KEYS - 3) / 2 do
  local member = id .. '|' .. ARGV[5 + i]
  transition_line(action, KEYS[2 * i + 1], KEYS[2 * i + 2], member, expires, now, grace)
end
transition_actor(action, KEYS[#KEYS], id, expires, now)
transition_client(action, KEYS[2], expires, now, retention)
return result
"#;

/// On a Cluster: the record's part of a hold (one slot).
/// KEYS: record. ARGV: `write`, status, expires, lines JSON, fingerprint, client id, placer,
/// created ms, how long the record lives (ms); or a transition's action, ttl ms (extend), the
/// hold's lifetime ms, retention ms. Returns `{'ok'}`, or what `transition_record` returns.
const RECORD_PART: &str = r#"
local op = ARGV[1]
if op == 'write' then
  write_record(KEYS[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9])
  return {'ok'}
end
return transition_record(KEYS[1], op, tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]),
  now_ms())
"#;

/// On a Cluster: a hold's lines of one slot.
/// `reserve` / `check`: KEYS (base, held, total) per line; ARGV op, id, expires, then
/// (qty, location) per line; returns `{'ok'}`, `{'missing', i...}` or `{'short', i, n...}` and,
/// for `reserve` when every line fits, holds them. A transition's action (`release` also
/// undoes a reservation): KEYS (held, total) per line; ARGV action, id, expires, grace ms,
/// then `LOC|units` per line.
const LINES_PART: &str = r#"
local op, id, expires = ARGV[1], ARGV[2], tonumber(ARGV[3])
if op == 'reserve' or op == 'check' then
  local lines = hold_lines(1, 4, #KEYS / 3)
  local missing = missing_bases(lines)
  if missing then return missing end
  local short = short_lines(lines, now_ms())
  if short then return short end
  if op == 'reserve' then hold_units(lines, id, expires) end
  return {'ok'}
end
local now, grace = now_ms(), tonumber(ARGV[4])
for i = 1, #KEYS / 2 do
  transition_line(op, KEYS[2 * i - 1], KEYS[2 * i], id .. '|' .. ARGV[4 + i], expires, now, grace)
end
return {'ok'}
"#;

/// On a Cluster: the placer's live holds (one slot).
/// `take`: ARGV op, id, ttl ms, live holds allowed; counts the hold unless the placer is at its
/// cap: `{'ok', expires}` (the hold's expiry, from this node's clock) or `{'capped', live}`.
/// A transition's action (`release` also undoes a `take`): ARGV action, id, expires.
const ACTOR_PART: &str = r#"
local op, id, now = ARGV[1], ARGV[2], now_ms()
if op == 'take' then
  local live = live_holds(KEYS[1], now)
  if live >= tonumber(ARGV[4]) then return {'capped', live} end
  local expires = now + tonumber(ARGV[3])
  count_hold(KEYS[1], id, expires, now)
  return {'ok', expires}
end
transition_actor(op, KEYS[1], id, tonumber(ARGV[3]), now)
return {'ok'}
"#;

/// On a Cluster: a hold's client id (one slot), value `hold id:fingerprint`.
/// `claim`: ARGV op, value, ms; `{'found', value}` if taken, else takes it for ms: `{'ok'}`.
/// `keep` / `drop`: ARGV op, value, ms; keeps it for ms (taking it again if it lapsed) or
/// deletes it, unless another hold has it: `{'lost', value}`. A transition's action: ARGV action,
/// expires, retention ms.
const CLIENT_PART: &str = r#"
local op = ARGV[1]
if op == 'claim' or op == 'keep' or op == 'drop' then
  local current = redis.call('GET', KEYS[1])
  if op == 'claim' and current then return {'found', current} end
  if op ~= 'claim' and current and current ~= ARGV[2] then return {'lost', current} end
  if op == 'drop' then redis.call('DEL', KEYS[1])
  else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
  return {'ok'}
end
transition_client(op, KEYS[1], tonumber(ARGV[2]), now_ms(), tonumber(ARGV[3]))
return {'ok'}
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
    format!("local HOLD_KEYS_TTL_MS = {HOLD_KEYS_TTL_MS}\n{PRELUDE}\n{PARTS}\n{body}")
}

fn with_prelude(body: &str) -> Script {
    Script::new(&source(body))
}

pub static HOLD_SCRIPT: LazyLock<Script> = LazyLock::new(|| with_prelude(HOLD));
pub static TRANSITION_SCRIPT: LazyLock<Script> = LazyLock::new(|| with_prelude(TRANSITION));
pub static SYNC_SCRIPT: LazyLock<Script> = LazyLock::new(|| with_prelude(SYNC));
pub static HELD_SCRIPT: LazyLock<Script> = LazyLock::new(|| with_prelude(HELD));
pub static STAMP_SCRIPT: LazyLock<Script> = LazyLock::new(|| with_prelude(STAMP));
pub static RECORD_PART_SCRIPT: LazyLock<Script> = LazyLock::new(|| with_prelude(RECORD_PART));
pub static LINES_PART_SCRIPT: LazyLock<Script> = LazyLock::new(|| with_prelude(LINES_PART));
pub static ACTOR_PART_SCRIPT: LazyLock<Script> = LazyLock::new(|| with_prelude(ACTOR_PART));
pub static CLIENT_PART_SCRIPT: LazyLock<Script> = LazyLock::new(|| with_prelude(CLIENT_PART));

/// The Lua source of the hold script, for `redis-benchmark` (see docs/BENCHMARKS.md).
pub fn hold_source() -> String {
    source(HOLD)
}
