//! Redis: fast, short-lived holds. PostgreSQL stays the truth; Redis being empty or down must
//! never make the ledger promise more than it has.

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::time::Duration;
use tokio::sync::OnceCell;

/// How long any Redis call may take before the request gives up with a 503.
pub const REDIS_TIMEOUT: Duration = Duration::from_millis(500);

/// A Redis connection that is made on first use (so the service starts while Redis is down)
/// and reconnects by itself afterwards.
pub struct Redis {
    client: redis::Client,
    prefix: String,
    connection: OnceCell<ConnectionManager>,
}

impl Redis {
    pub fn new(url: &str, prefix: &str) -> redis::RedisResult<Self> {
        Ok(Self {
            client: redis::Client::open(url)?,
            prefix: prefix.to_owned(),
            connection: OnceCell::new(),
        })
    }

    /// Every key carries the deployment prefix; tests give each run its own.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub async fn connection(&self) -> redis::RedisResult<ConnectionManager> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(REDIS_TIMEOUT)
            .set_response_timeout(REDIS_TIMEOUT)
            .set_number_of_retries(1);
        self.connection
            .get_or_try_init(|| ConnectionManager::new_with_config(self.client.clone(), config))
            .await
            .cloned()
    }

    pub async fn ping(&self) -> redis::RedisResult<()> {
        let mut connection = self.connection().await?;
        redis::cmd("PING").query_async(&mut connection).await
    }
}
