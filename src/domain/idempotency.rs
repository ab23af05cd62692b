//! An `Idempotency-Key` with the fingerprint of the request it came with: parsed at the edge,
//! claimed and stored by the ledger (`ledger::idempotency`).

use super::Invalid;
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const KEY_LENGTH_MAX: usize = 255;

super::schema::schema_rule!(
    /// A client's key for one request: a retry with it replays the first answer.
    IdempotencyKey = super::schema::visible_ascii(KEY_LENGTH_MAX)
);

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
    ) -> std::result::Result<Self, Invalid> {
        if raw.is_empty()
            || raw.len() > KEY_LENGTH_MAX
            || !raw.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(Invalid::new(
                "Idempotency-Key",
                format!("must be 1 to {KEY_LENGTH_MAX} visible ASCII characters"),
            ));
        }
        let request_hash = fingerprint(body);
        Ok(Self {
            scope,
            key: raw.to_owned(),
            request_hash,
        })
    }

    /// A client's `raw` key within `prefix` (an order and its step): checked as the client sent
    /// it, and kept whole when the two fit in [`KEY_LENGTH_MAX`], else by the key's SHA-256, so
    /// every key a client may send fits.
    pub fn scoped(
        scope: &'static str,
        prefix: &str,
        raw: &str,
        body: &Value,
    ) -> std::result::Result<Self, Invalid> {
        let key = Self::parse(scope, raw, body)?;
        let scoped = if prefix.len() + raw.len() <= KEY_LENGTH_MAX {
            format!("{prefix}{raw}")
        } else {
            let digest: String = Sha256::digest(raw.as_bytes())
                .iter()
                .map(|byte| format!("{byte:02x}"))
                .collect();
            format!("{prefix}sha256:{digest}")
        };
        Ok(Self { key: scoped, ..key })
    }

    /// The advisory lock that marks a request with this key in flight.
    pub fn scope(&self) -> &'static str {
        self.scope
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    /// The fingerprint of the request body the key came with.
    pub fn request_hash(&self) -> &[u8] {
        &self.request_hash
    }

    pub fn lock_id(&self) -> i64 {
        let digest = Sha256::digest(format!("{}\0{}", self.scope, self.key).as_bytes());
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&digest[..8]);
        i64::from_be_bytes(bytes)
    }
}

/// What tells a retry from a different request: the SHA-256 of the body's canonical JSON
/// (sorted keys, no spacing), so a retry that reorders fields is still the same request.
pub fn fingerprint(body: &Value) -> Vec<u8> {
    Sha256::digest(body.to_string().as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scoped_key_is_kept_whole_when_it_fits_and_hashed_when_not() {
        let body = Value::Null;
        let short = Key::scoped("order-step", "WEB-1/cancel/", "retry-1", &body).unwrap();
        assert_eq!(short.key, "WEB-1/cancel/retry-1");
        let prefix = format!("{}/returns/", "X".repeat(64));
        let longest = "k".repeat(KEY_LENGTH_MAX);
        let long = Key::scoped("order-step", &prefix, &longest, &body).unwrap();
        assert!(long.key.len() <= KEY_LENGTH_MAX && long.key.starts_with(&prefix));
        let other = Key::scoped("order-step", &prefix, &"j".repeat(KEY_LENGTH_MAX), &body);
        assert_ne!(other.unwrap().key, long.key);
        assert!(Key::scoped("order-step", &prefix, &"k".repeat(256), &body).is_err());
    }
}
