//! `Idempotency-Key` as payment APIs have it. Inside the request's own transaction:
//! a transaction-scoped advisory lock on the key says whether another request with it is in
//! flight (409); a stored row means the request already happened (replay, or 422 if the body
//! differs); otherwise the work runs and the response is stored in the same commit. A crash
//! leaves nothing half-done: the lock and the work vanish together.

use super::{Cached, Error, Result};
use deadpool_postgres::GenericClient;
use serde_json::Value;

pub use crate::domain::idempotency::Key;

/// Claims the key for this transaction. `Some(response)` means the request already succeeded
/// and its response is to be replayed.
pub async fn claim(transaction: &impl GenericClient, key: &Key) -> Result<Option<Value>> {
    let locked: bool = transaction
        .cached_query_one("SELECT pg_try_advisory_xact_lock($1)", &[&key.lock_id()])
        .await?
        .get(0);
    if !locked {
        return Err(Error::Conflict(
            "a request with this Idempotency-Key is still in flight; retry shortly".into(),
        ));
    }
    stored(transaction, key).await
}

/// The response stored for `key`, if its request already succeeded (a read: it claims nothing,
/// so work can be prepared before the key is claimed).
pub async fn stored(client: &impl GenericClient, key: &Key) -> Result<Option<Value>> {
    let stored = client
        .cached_query_opt(
            "SELECT request_hash, response FROM idempotency_keys WHERE scope = $1 AND key = $2",
            &[&key.scope(), &key.key()],
        )
        .await?;
    match stored {
        None => Ok(None),
        Some(row) if row.get::<_, &[u8]>(0) == key.request_hash() => Ok(Some(row.get(1))),
        Some(_) => Err(Error::Refused {
            field: "Idempotency-Key".into(),
            message: "was already used with a different request body".into(),
        }),
    }
}

/// Stores the response of the request that claimed `key`, in its transaction.
pub async fn store(
    transaction: &impl GenericClient,
    key: &Key,
    status: u16,
    response: &Value,
) -> Result<()> {
    transaction
        .cached_execute(
            "INSERT INTO idempotency_keys (scope, key, request_hash, status, response)
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &key.scope(),
                &key.key(),
                &key.request_hash(),
                &(status as i16),
                response,
            ],
        )
        .await?;
    Ok(())
}

/// Deletes up to `batch` records stored before `before`, oldest first; how many it deleted.
pub async fn purge(
    client: &impl GenericClient,
    before: chrono::DateTime<chrono::Utc>,
    batch: i64,
) -> Result<u64> {
    client
        .cached_execute(
            "DELETE FROM idempotency_keys WHERE ctid = ANY (ARRAY(
                 SELECT ctid FROM idempotency_keys WHERE created_at < $1
                 ORDER BY created_at LIMIT $2))",
            &[&before, &batch],
        )
        .await
}
