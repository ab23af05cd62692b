//! Holds: short-lived reservations of stock for carts and orders being placed. A hold is atomic
//! across its lines and resolves exactly once: confirmed, released or expired.

use super::codes::{LocationCode, SkuCode};
use super::quantity::{Qty, QTY_MAX};
use super::schema::{array_of, integer, schema_rule, visible_ascii};
use super::Invalid;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const HOLD_LINES_MAX: usize = 100;
pub const HOLD_TTL_S_MIN: i64 = 1;
pub const HOLD_TTL_S_MAX: i64 = 3600;
pub const CLIENT_ID_LENGTH_MAX: usize = 128;
/// The longest a hold lives from its placement, however often it is extended (default).
pub const HOLD_LIFETIME_S_DEFAULT: i64 = 4 * 3600;
/// Live holds one credential may have at once (default): far above a web shop's open carts
/// per key at peak, low enough that a leaked key cannot hold the whole chain's stock.
pub const LIVE_HOLDS_PER_CREDENTIAL_DEFAULT: i64 = 100_000;

schema_rule!(
    /// Seconds a hold lives from now.
    HoldTtl = integer(HOLD_TTL_S_MIN, HOLD_TTL_S_MAX)
);
schema_rule!(
    /// The cart's own id: a retry with it returns the same hold.
    ClientId = visible_ascii(CLIENT_ID_LENGTH_MAX)
);
schema_rule!(
    /// The lines of a hold.
    HoldLines = array_of::<HoldLineBody>(1, HOLD_LINES_MAX); uses [HoldLineBody]
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HoldLine {
    pub sku: SkuCode,
    pub location: LocationCode,
    pub qty: Qty,
}

/// A hold request parsed at the edge: lines summed per (location, SKU), in a stable order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldRequest {
    pub lines: Vec<HoldLine>,
    pub ttl_ms: i64,
    pub client_id: Option<String>,
}

/// Wire form of one line of `POST /v1/holds`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldLineBody {
    #[schema(value_type = SkuCode)]
    pub sku: String,
    #[schema(value_type = LocationCode)]
    pub location: String,
    /// Lines of one SKU and location are summed; the sum too is a `Qty`.
    #[schema(value_type = Qty)]
    pub qty: i64,
}

/// Wire form of `POST /v1/holds`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"lines": [{"sku": "TSHIRT-BLK-M", "location": "TPE-001", "qty": 1}],
    "ttl_s": 600, "client_id": "cart-8812"}))]
pub struct HoldBody {
    #[schema(value_type = HoldLines)]
    pub lines: Vec<HoldLineBody>,
    #[schema(value_type = HoldTtl)]
    pub ttl_s: i64,
    #[schema(value_type = Option<ClientId>)]
    pub client_id: Option<String>,
}

pub fn parse_ttl(field: &str, ttl_s: i64) -> Result<i64, Invalid> {
    if (HOLD_TTL_S_MIN..=HOLD_TTL_S_MAX).contains(&ttl_s) {
        Ok(ttl_s * 1000)
    } else {
        Err(Invalid::new(
            field,
            format!("must be from {HOLD_TTL_S_MIN} to {HOLD_TTL_S_MAX} seconds"),
        ))
    }
}

impl HoldBody {
    pub fn parse(self) -> Result<HoldRequest, Invalid> {
        if self.lines.is_empty() || self.lines.len() > HOLD_LINES_MAX {
            return Err(Invalid::new(
                "lines",
                format!("must have 1 to {HOLD_LINES_MAX} lines"),
            ));
        }
        let mut summed: BTreeMap<(SkuCode, LocationCode), i64> = BTreeMap::new();
        for (index, line) in self.lines.into_iter().enumerate() {
            let field = |name: &str| format!("lines[{index}].{name}");
            let sku = SkuCode::parse(&field("sku"), &line.sku)?;
            let location = LocationCode::parse(&field("location"), &line.location)?;
            let qty = Qty::parse(&field("qty"), line.qty)?;
            let total = summed.entry((sku, location)).or_default();
            *total += qty.get();
            if *total > QTY_MAX {
                return Err(Invalid::new(
                    field("qty"),
                    format!("lines for one SKU and location may add up to at most {QTY_MAX}"),
                ));
            }
        }
        let lines = summed
            .into_iter()
            .map(|((sku, location), qty)| {
                Ok(HoldLine {
                    sku,
                    location,
                    qty: Qty::parse("qty", qty)?,
                })
            })
            .collect::<Result<Vec<_>, Invalid>>()?;
        let client_id = self
            .client_id
            .map(|raw| {
                if raw.is_empty()
                    || raw.len() > CLIENT_ID_LENGTH_MAX
                    || !raw.bytes().all(|b| b.is_ascii_graphic())
                {
                    Err(Invalid::new(
                        "client_id",
                        format!("must be 1 to {CLIENT_ID_LENGTH_MAX} visible ASCII characters"),
                    ))
                } else {
                    Ok(raw)
                }
            })
            .transpose()?;
        Ok(HoldRequest {
            lines,
            ttl_ms: parse_ttl("ttl_s", self.ttl_s)?,
            client_id,
        })
    }
}

/// How a hold stands. `Held` past its expiry is reported as `Expired`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HoldStatus {
    Held,
    /// Being turned into an allocation in the ledger right now.
    Confirming,
    Confirmed,
    Released,
    Expired,
}

impl HoldStatus {
    pub fn from_stored(raw: &str, expires_ms: i64, now_ms: i64) -> Option<Self> {
        Some(match raw {
            "held" if expires_ms <= now_ms => Self::Expired,
            "held" => Self::Held,
            "confirming" => Self::Confirming,
            "confirmed" => Self::Confirmed,
            "released" => Self::Released,
            "expired" => Self::Expired,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Held => "held",
            Self::Confirming => "confirming",
            Self::Confirmed => "confirmed",
            Self::Released => "released",
            Self::Expired => "expired",
        }
    }
}

/// A hold as it stands.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HoldView {
    pub id: String,
    pub status: HoldStatus,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    pub lines: Vec<HoldLine>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Who placed it (`key:<id>`, `user:<name>`); absent on holds placed before it was kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub placed_by: Option<String>,
    /// When it was placed: extensions never take it past this plus the hold lifetime.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A line that could not be held, with what is available.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ShortLine {
    pub sku: String,
    pub location: String,
    pub requested: i64,
    pub available: i64,
}

/// What became of the cart hold an order was placed with (`hold_id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HoldOutcome {
    /// Its units counted for the order; units routing did not choose were released.
    Consumed,
    /// It had expired: the order was routed as if it had none.
    Expired,
    /// Redis does not know it (lost, or expired long ago): routed as if it had none.
    NotFound,
    /// Redis could not be asked: routed as if it had none, the ledger's guard decided.
    Unavailable,
}

impl HoldOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Consumed => "consumed",
            Self::Expired => "expired",
            Self::NotFound => "not_found",
            Self::Unavailable => "unavailable",
        }
    }

    pub fn from_stored(raw: &str) -> Option<Self> {
        [
            Self::Consumed,
            Self::Expired,
            Self::NotFound,
            Self::Unavailable,
        ]
        .into_iter()
        .find(|outcome| outcome.as_str() == raw)
    }
}

/// The hold an order was placed with, and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct HoldUse {
    pub id: String,
    pub outcome: HoldOutcome,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(lines: Vec<(&str, &str, i64)>, ttl_s: i64) -> HoldBody {
        HoldBody {
            lines: lines
                .into_iter()
                .map(|(sku, location, qty)| HoldLineBody {
                    sku: sku.into(),
                    location: location.into(),
                    qty,
                })
                .collect(),
            ttl_s,
            client_id: None,
        }
    }

    #[test]
    fn repeated_lines_are_summed() {
        let request = body(vec![("A", "S1", 2), ("B", "S1", 1), ("A", "S1", 3)], 60)
            .parse()
            .unwrap();
        assert_eq!(request.lines.len(), 2);
        assert_eq!(request.lines[0].qty.get(), 5);
        assert_eq!(request.ttl_ms, 60_000);
    }

    #[test]
    fn bad_requests_name_the_field() {
        let cases = [
            (body(vec![], 60), "lines"),
            (body(vec![("A", "S1", 0)], 60), "lines[0].qty"),
            (body(vec![("A b", "S1", 1)], 60), "lines[0].sku"),
            (body(vec![("A", "S1", 1)], 0), "ttl_s"),
            (body(vec![("A", "S1", 1)], 3601), "ttl_s"),
            (
                body(vec![("A", "S1", QTY_MAX), ("A", "S1", 1)], 60),
                "lines[1].qty",
            ),
        ];
        for (body, field) in cases {
            assert_eq!(body.parse().unwrap_err().field, field);
        }
    }

    #[test]
    fn a_held_hold_past_its_expiry_reads_as_expired() {
        assert_eq!(
            HoldStatus::from_stored("held", 100, 100),
            Some(HoldStatus::Expired)
        );
        assert_eq!(
            HoldStatus::from_stored("held", 101, 100),
            Some(HoldStatus::Held)
        );
    }
}
