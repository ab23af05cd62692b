//! `Idempotency-Key` as payment APIs have it. Inside the request's own transaction:
//! a transaction-scoped advisory lock on the key says whether another request with it is in
//! flight (409); a stored row means the request already happened (replay, or 422 if the body
//! differs); otherwise the work runs and the response is stored in the same commit. A crash
//! leaves nothing half-done: the lock and the work vanish together.

use super::{Cached, Error, Result};
use deadpool_postgres::GenericClient;
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const KEY_LENGTH_MAX: usize = 255;

/// A parsed key plus the fingerprint of the request body it came with.
#[derive(Debug, Clone)]
pub struct Key {
    scope: &'static str,
    key: String,
    request_hash: Vec<u8>,
}

impl Key {
    /// `body` is the parsed JSON; its canonical form (sorted keys, no spacing) is what is compared,
    /// so a retry that reorders fields is still the same request.
    pub fn parse(
        scope: &'static str,
        raw: &str,
        body: &Value,
    ) -> std::result::Result<Self, crate::domain::Invalid> {
        if raw.is_empty()
            || raw.len() > KEY_LENGTH_MAX
            || !raw.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(crate::domain::Invalid::new(
                "Idempotency-Key",
                format!("must be 1 to {KEY_LENGTH_MAX} visible ASCII characters"),
            ));
        }
        let request_hash = Sha256::digest(body.to_string().as_bytes()).to_vec();
        Ok(Self {
            scope,
            key: raw.to_owned(),
            request_hash,
        })
    }

    /// The advisory lock that marks a request with this key in flight.
    pub fn lock_id(&self) -> i64 {
        let digest = Sha256::digest(format!("{}\0{}", self.scope, self.key).as_bytes());
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&digest[..8]);
        i64::from_be_bytes(bytes)
    }
}

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
    let stored = transaction
        .cached_query_opt(
            "SELECT request_hash, response FROM idempotency_keys WHERE scope = $1 AND key = $2",
            &[&key.scope, &key.key],
        )
        .await?;
    match stored {
        None => Ok(None),
        Some(row) if row.get::<_, &[u8]>(0) == key.request_hash.as_slice() => Ok(Some(row.get(1))),
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
                &key.scope,
                &key.key,
                &key.request_hash,
                &(status as i16),
                response,
            ],
        )
        .await?;
    Ok(())
}
