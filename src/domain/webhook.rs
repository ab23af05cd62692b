//! Webhook subscriptions as the rules see them: what a subscription may ask for, the secret
//! that signs its deliveries (Standard Webhooks), and when a failed delivery is tried again.

use super::Invalid;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Subscriptions one chain may have: each is a sink the delivery loop visits.
pub const WEBHOOKS_MAX: i64 = 100;
/// Events one delivery carries at most.
pub const BATCH_EVENTS_MAX: i64 = 100;
/// Positions one delivery round scans for a subscription's filter at most.
pub const SCAN_POSITIONS_MAX: i64 = 10_000;
/// Attempts kept in a subscription's delivery log (the newest).
pub const DELIVERY_LOG_MAX: i64 = 1_000;
/// The longest URL a subscription may have.
pub const URL_LENGTH_MAX: usize = 2_000;
/// How long the secret before a rotation keeps signing beside the new one.
pub const ROTATION_OVERLAP: chrono::TimeDelta = chrono::TimeDelta::hours(24);
/// Longest pause between retries.
pub const RETRY_DELAY_MAX: Duration = Duration::from_secs(3_600);
/// Secret sizes accepted, in bytes before base64 (Standard Webhooks asks 24–64).
const SECRET_BYTES: std::ops::RangeInclusive<usize> = 24..=64;
const SECRET_PREFIX: &str = "whsec_";

/// The event kinds a subscription can ask for, as the feed names them.
pub const KINDS: [&str; 4] = [
    "availability_changed",
    "out_of_stock",
    "back_in_stock",
    "low_stock",
];

/// The kinds of a subscription: known, none twice, at least one.
pub fn kinds(raw: &[String]) -> Result<Vec<String>, Invalid> {
    if raw.is_empty() {
        return Err(Invalid::new("events", "must name at least one event kind"));
    }
    let mut kinds: Vec<String> = Vec::with_capacity(raw.len());
    for (index, kind) in raw.iter().enumerate() {
        if !KINDS.contains(&kind.as_str()) {
            let message = format!("must be one of {}", KINDS.join(", "));
            return Err(Invalid::new(format!("events[{index}]"), message));
        }
        if !kinds.contains(kind) {
            kinds.push(kind.clone());
        }
    }
    Ok(kinds)
}

/// An absolute http(s) URL with a host, of bounded length.
pub fn url(raw: &str) -> Result<String, Invalid> {
    let invalid = |message: &str| Invalid::new("url", message);
    if raw.len() > URL_LENGTH_MAX {
        return Err(invalid("must be at most 2,000 characters"));
    }
    let parsed = url::Url::parse(raw).map_err(|_| invalid("must be an absolute URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(invalid("must be an http or https URL with a host"));
    }
    Ok(parsed.to_string())
}

/// A signing secret as Standard Webhooks writes it: `whsec_` and the key in base64.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("whsec_…")
    }
}

impl Secret {
    pub fn parse(field: &str, raw: &str) -> Result<Self, Invalid> {
        use base64::Engine;
        let key = raw.strip_prefix(SECRET_PREFIX).ok_or_else(|| {
            Invalid::new(
                field,
                "must start with whsec_ followed by the key in base64",
            )
        })?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(key)
            .map_err(|_| Invalid::new(field, "the key after whsec_ must be base64"))?;
        if !SECRET_BYTES.contains(&bytes.len()) {
            return Err(Invalid::new(field, "the key must be 24 to 64 bytes"));
        }
        Ok(Self(raw.to_owned()))
    }

    /// A new random secret of 32 bytes.
    pub fn generate() -> Self {
        use base64::Engine;
        let bytes: [u8; 32] = rand::random();
        let key = base64::engine::general_purpose::STANDARD.encode(bytes);
        Self(format!("{SECRET_PREFIX}{key}"))
    }

    /// As stored; only the database and the creator's answer see it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The Standard Webhooks signature (`v1,<base64>`) of a message.
    pub fn sign(&self, message_id: &str, timestamp_s: i64, body: &[u8]) -> Option<String> {
        let signer = standardwebhooks::Webhook::new(&self.0).ok()?;
        signer.sign(message_id, timestamp_s, body).ok()
    }
}

/// When a delivery that failed `attempts` times in a row goes again: `base` doubled per
/// attempt (5 s, 10 s, 20 s, … by default), at most an hour apart.
pub fn retry_delay(attempts: u32, base: Duration) -> Duration {
    let doublings = attempts.saturating_sub(1).min(20);
    base.saturating_mul(1 << doublings).min(RETRY_DELAY_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn kinds_are_known_deduplicated_and_named_by_index_when_not() {
        let raw = ["out_of_stock".to_owned(), "out_of_stock".to_owned()];
        assert_eq!(kinds(&raw).unwrap(), ["out_of_stock"]);
        let bad = ["low_stock".to_owned(), "sold".to_owned()];
        assert_eq!(kinds(&bad).unwrap_err().field, "events[1]");
        assert_eq!(kinds(&[]).unwrap_err().field, "events");
    }

    #[test]
    fn urls_must_be_absolute_http_with_a_host() {
        assert!(url("http://127.0.0.1:9000/hooks").is_ok());
        for bad in ["ftp://x/", "/relative", "https://", "mailto:a@b"] {
            assert_eq!(url(bad).unwrap_err().field, "url", "{bad}");
        }
        assert!(url(&format!("https://a.example/{}", "x".repeat(2_000))).is_err());
    }

    #[test]
    fn secrets_parse_generate_and_sign_as_standard_webhooks_verifies() {
        let secret = Secret::generate();
        assert_eq!(Secret::parse("secret", secret.expose()).unwrap(), secret);
        let signature = secret.sign("msg_1", 1_700_000_000, b"{}").unwrap();
        assert!(signature.starts_with("v1,"), "{signature}");
        let same = Secret::parse("secret", secret.expose()).unwrap();
        assert_eq!(same.sign("msg_1", 1_700_000_000, b"{}").unwrap(), signature);
        assert_ne!(
            secret.sign("msg_2", 1_700_000_000, b"{}").unwrap(),
            signature
        );
        for bad in ["secret", "whsec_!!", "whsec_AAAA"] {
            assert!(Secret::parse("secret", bad).is_err(), "{bad}");
        }
        assert_eq!(format!("{secret:?}"), "whsec_…", "never logged");
    }

    proptest! {
        #[test]
        fn retries_back_off_doubling_and_never_past_an_hour(attempts in 1u32..200, base_ms in 1u64..60_000) {
            let base = Duration::from_millis(base_ms);
            let delay = retry_delay(attempts, base);
            prop_assert!(delay <= RETRY_DELAY_MAX);
            prop_assert!(delay >= base.min(RETRY_DELAY_MAX));
            prop_assert!(retry_delay(attempts + 1, base) >= delay);
        }
    }
}
