//! Redis: fast, short-lived holds. PostgreSQL stays the truth: Redis checks holds against a
//! versioned copy of what the ledger has not promised ([`Base`], handed over by the application
//! layer), and an order placed with a hold is re-checked in the ledger under a row lock. Redis
//! empty, wrong or down can cost a hold, never an oversell. Nothing here knows PostgreSQL.

pub mod lifecycle;
pub mod scripts;
mod slots;

use crate::domain::hold::HOLD_TTL_S_MAX;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{FromRedisValue, RedisFuture, ScriptInvocation};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::OnceCell;

/// How long a single Redis call may take before the request gives up with a 503.
pub const REDIS_TIMEOUT: Duration = Duration::from_millis(500);
/// How long a base copied from the ledger is trusted before it is read again.
pub const BASE_TTL_S: i64 = 600;
/// How long a hold's record outlives its expiry, so that its outcome can still be read and a
/// retried request still finds it. An hour, sized for the rate: at a peak of a few hundred holds
/// a second that is about a million records; a day's records (tens of millions of keys) made
/// every hold script a third slower (docs/BENCHMARKS.md, "Holds").
pub const RECORD_RETENTION_MS: i64 = 3600 * 1000;
/// The layout of a SKU's keys, in their hash tag. It moves on whenever what those keys hold
/// changes (s2: a hold's units ride in its sorted-set member), so that during a rollout old
/// and new processes never read each other's formats: each counts only its own holds, the
/// ledger's guard still has the last word, and the new keys' bases are read from the ledger.
const SKU_LAYOUT: &str = "s2";
/// How long units stay counted while a confirmation is written to the ledger; also how long a
/// SKU's holds keys outlive their latest member.
pub const CONFIRM_GRACE_MS: i64 = 60_000;
/// How long a SKU's holds keys (`:h`, `:n`) live after their last refresh: twice a hold's longest
/// life plus the grace, so refreshing only when half is left still outlives every member.
pub const HOLD_KEYS_TTL_MS: i64 = 2 * (HOLD_TTL_S_MAX * 1000 + CONFIRM_GRACE_MS);
/// How long a SKU's stamp lives after its creation or last change. Far longer than
/// `lookup::COPY_TTL`, so copies are seldom dropped for it; one that expires is recreated from
/// the clock, a value no copy carries, so an expiry only costs a reading of the ledger.
pub const STAMP_TTL_S: i64 = 3600;

/// How often a Cluster call is retried after a MOVED, ASK or a lost node, and the wait between
/// tries: within one call's bound ([`REDIS_TIMEOUT`] twice), so a failover shows as a prompt
/// 503 until the replica is promoted, then calls succeed again.
const CLUSTER_RETRIES: u32 = 3;
const CLUSTER_RETRY_WAIT_MS: u64 = 50;

#[derive(Debug, thiserror::Error)]
#[error("Redis: {0}")]
pub struct Unavailable(String);

/// What Redis checks holds against for one (SKU, location): the ledger's on hand − allocated −
/// safety stock (may be negative) and the balance's version, so a late copy never overwrites a
/// newer one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Base<'a> {
    pub sku: &'a str,
    pub location: &'a str,
    pub units: i64,
    pub version: i64,
}

/// Bounds on what one credential's holds may take.
#[derive(Debug, Clone, Copy)]
pub struct HoldLimits {
    /// The longest a hold lives from its placement, however often it is extended.
    pub lifetime_ms: i64,
    /// Live holds one credential may have at once.
    pub live_per_actor: i64,
}

/// One Redis server, or a Redis Cluster (its seed nodes).
enum Target {
    Single(redis::Client),
    Cluster(ClusterClient),
}

/// A connection to either; both reconnect by themselves, the Cluster's follows MOVED and ASK.
#[derive(Clone)]
enum Connection {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl redis::aio::ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a redis::Cmd) -> RedisFuture<'a, redis::Value> {
        match self {
            Self::Single(connection) => connection.req_packed_command(cmd),
            Self::Cluster(connection) => connection.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<redis::Value>> {
        match self {
            Self::Single(connection) => connection.req_packed_commands(cmd, offset, count),
            Self::Cluster(connection) => connection.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(connection) => connection.get_db(),
            Self::Cluster(connection) => connection.get_db(),
        }
    }
}

/// Holds in Redis: a connection made on first use (so the service starts while Redis is down)
/// that reconnects by itself afterwards.
pub struct Redis {
    target: Target,
    prefix: String,
    pub(crate) limits: HoldLimits,
    connection: OnceCell<Connection>,
    /// Calls that failed so far: a copy of Redis-checked figures taken before a failure may
    /// have missed a change (see `lookup`).
    failures: AtomicU64,
}

impl Redis {
    /// A single Redis at `url`, or, when `cluster_nodes` names any, the Redis Cluster they
    /// belong to.
    pub fn new(
        url: &str,
        cluster_nodes: &[String],
        prefix: &str,
        limits: HoldLimits,
    ) -> redis::RedisResult<Self> {
        // An empty entry (`ALLOT_REDIS_CLUSTER=`) names no node.
        let nodes: Vec<String> = cluster_nodes
            .iter()
            .map(|node| node.trim())
            .filter(|node| !node.is_empty())
            .map(|node| format!("redis://{node}/"))
            .collect();
        let target = match nodes.is_empty() {
            true => Target::Single(redis::Client::open(url)?),
            false => Target::Cluster(
                ClusterClient::builder(nodes)
                    .connection_timeout(REDIS_TIMEOUT)
                    .response_timeout(REDIS_TIMEOUT)
                    .retries(CLUSTER_RETRIES)
                    .min_retry_wait(CLUSTER_RETRY_WAIT_MS)
                    .max_retry_wait(CLUSTER_RETRY_WAIT_MS * 4)
                    .build()?,
            ),
        };
        Ok(Self {
            target,
            prefix: prefix.to_owned(),
            limits,
            connection: OnceCell::new(),
            failures: AtomicU64::new(0),
        })
    }

    /// Whether keys of different slots must be touched by different calls.
    pub fn is_cluster(&self) -> bool {
        matches!(self.target, Target::Cluster(_))
    }

    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Acquire)
    }

    fn counted<T>(&self, result: Result<T, Unavailable>) -> Result<T, Unavailable> {
        if result.is_err() {
            self.failures.fetch_add(1, Ordering::AcqRel);
        }
        result
    }

    async fn connect(&self) -> redis::RedisResult<Connection> {
        match &self.target {
            Target::Single(client) => {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(REDIS_TIMEOUT)
                    .set_response_timeout(REDIS_TIMEOUT)
                    .set_number_of_retries(1);
                ConnectionManager::new_with_config(client.clone(), config)
                    .await
                    .map(Connection::Single)
            }
            Target::Cluster(client) => client.get_async_connection().await.map(Connection::Cluster),
        }
    }

    async fn connection(&self) -> Result<Connection, Unavailable> {
        let connect = self.connection.get_or_try_init(|| self.connect());
        match tokio::time::timeout(REDIS_TIMEOUT * 2, connect).await {
            Ok(Ok(connection)) => Ok(connection.clone()),
            Ok(Err(error)) => Err(Unavailable(error.to_string())),
            Err(_) => Err(Unavailable("connecting timed out".into())),
        }
    }

    pub async fn ping(&self) -> Result<(), Unavailable> {
        self.counted(self.query(&redis::cmd("PING")).await)
    }

    async fn query<T: FromRedisValue>(&self, command: &redis::Cmd) -> Result<T, Unavailable> {
        let mut connection = self.connection().await?;
        bounded(command.query_async(&mut connection)).await
    }

    pub(crate) async fn invoke<T: FromRedisValue>(
        &self,
        invocation: &ScriptInvocation<'_>,
    ) -> Result<T, Unavailable> {
        let result = async {
            let mut connection = self.connection().await?;
            bounded(invocation.invoke_async(&mut connection)).await
        };
        self.counted(result.await)
    }

    /// The Cluster slot of `sku`'s keys (0 on a single Redis, where every key may meet in one
    /// script): the calls of a hold or a sync are grouped by it.
    fn slot_of(&self, sku: &str) -> u16 {
        match self.target {
            Target::Single(_) => 0,
            Target::Cluster(_) => slot(&self.held_key(sku)),
        }
    }

    /// `items` grouped by the Cluster slot of their SKU, in slot order (one group on a single
    /// Redis): what one script call may touch together, in the fixed order every caller
    /// follows.
    pub(crate) fn by_slot<T>(
        &self,
        items: impl IntoIterator<Item = T>,
        sku: impl Fn(&T) -> &str,
    ) -> Vec<Vec<T>> {
        let mut groups: std::collections::BTreeMap<u16, Vec<T>> = Default::default();
        for item in items {
            groups
                .entry(self.slot_of(sku(&item)))
                .or_default()
                .push(item);
        }
        groups.into_values().collect()
    }

    fn sku_tag(&self, sku: &str) -> String {
        format!("{{{}:{SKU_LAYOUT}:{sku}}}", self.prefix)
    }

    pub(crate) fn base_key(&self, sku: &str, location: &str) -> String {
        format!("{}:b:{location}", self.sku_tag(sku))
    }

    /// The SKU's live holds by expiry (members `hold id|location|units`).
    pub(crate) fn held_key(&self, sku: &str) -> String {
        format!("{}:h", self.sku_tag(sku))
    }

    /// Units in live holds of the SKU per location.
    pub(crate) fn total_key(&self, sku: &str) -> String {
        format!("{}:n", self.sku_tag(sku))
    }

    /// Changes whenever the SKU's balances change in the ledger (see `scripts`).
    pub(crate) fn stamp_key(&self, sku: &str) -> String {
        format!("{}:v", self.sku_tag(sku))
    }

    pub(crate) fn record_key(&self, id: &str) -> String {
        format!("{{{}:h:{id}}}", self.prefix)
    }

    pub(crate) fn actor_key(&self, actor: &str) -> String {
        format!("{{{}:a:{actor}}}", self.prefix)
    }

    pub(crate) fn client_key(&self, client_id: &str) -> String {
        format!("{{{}:c:{client_id}}}", self.prefix)
    }

    pub(crate) async fn hgetall(&self, key: &str) -> Result<Vec<(String, String)>, Unavailable> {
        self.counted(self.query(redis::cmd("HGETALL").arg(key)).await)
    }
}

/// A script reply's `index`th value as text ("" when absent or not text).
fn text_at(reply: &[redis::Value], index: usize) -> String {
    reply
        .get(index)
        .and_then(|value| redis::from_redis_value::<String>(value).ok())
        .unwrap_or_default()
}

/// A script reply's `index`th value as a number (0 when absent or not a number).
fn number_at(reply: &[redis::Value], index: usize) -> i64 {
    reply
        .get(index)
        .and_then(|value| redis::from_redis_value::<i64>(value).ok())
        .unwrap_or_default()
}

/// The Cluster slot of `key`, as Redis computes it: CRC16 of the hash tag (the text between
/// the first `{` and the next `}`, when not empty) or of the whole key, modulo 16,384.
fn slot(key: &str) -> u16 {
    let bytes = key.as_bytes();
    let tagged = bytes.iter().position(|&b| b == b'{').and_then(|open| {
        let rest = &bytes[open + 1..];
        let close = rest.iter().position(|&b| b == b'}')?;
        (close > 0).then(|| &rest[..close])
    });
    crc16::State::<crc16::XMODEM>::calculate(tagged.unwrap_or(bytes)) % 16_384
}

/// A Redis call that is slow counts as a Redis that is down: the caller gets a prompt 503.
async fn bounded<T>(
    call: impl std::future::Future<Output = redis::RedisResult<T>>,
) -> Result<T, Unavailable> {
    match tokio::time::timeout(REDIS_TIMEOUT * 2, call).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(Unavailable(error.to_string())),
        Err(_) => Err(Unavailable("timed out".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::slot;

    #[test]
    fn slots_are_those_redis_computes() {
        // Values from the documentation of `CLUSTER KEYSLOT`.
        assert_eq!(slot("somekey"), 11058);
        assert_eq!(slot("foo{hash_tag}"), 2515);
        assert_eq!(slot("bar{hash_tag}"), 2515);
        assert_eq!(slot("{user1000}.following"), slot("{user1000}.followers"));
        assert_eq!(slot("{user1000}.following"), slot("user1000"));
        assert_eq!(slot("foo{}{bar}"), slot("foo{}{bar}"));
        assert_ne!(slot("foo{}{bar}"), slot("bar"));
        assert_eq!(slot("foo{{bar}}zap"), slot("{bar"));
        assert_eq!(slot("{P:s2:A}:h"), slot("{P:s2:A}:b:S1"));
    }
}
