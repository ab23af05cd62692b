//! Whole units of stock. A quantity on the wire is parsed into one of these, so a zero, negative
//! or absurd quantity never reaches the ledger.

use super::Invalid;
use serde::{Deserialize, Serialize};

/// The most units one line may carry, the solver's per-line limit (see [`super::limits`]). A
/// real pallet is far below this; anything above it is a typo or an attack, and keeping sums
/// far from `i64` limits keeps arithmetic exact.
pub use super::limits::QTY_MAX;

/// A positive number of units: `1..=QTY_MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Qty(i64);

impl TryFrom<i64> for Qty {
    type Error = Invalid;

    fn try_from(raw: i64) -> Result<Self, Invalid> {
        Self::parse("qty", raw)
    }
}

impl From<Qty> for i64 {
    fn from(qty: Qty) -> i64 {
        qty.0
    }
}

impl Qty {
    pub fn parse(field: &str, raw: i64) -> Result<Self, Invalid> {
        if (1..=QTY_MAX).contains(&raw) {
            Ok(Self(raw))
        } else {
            Err(Invalid::new(
                field,
                format!("must be a whole number from 1 to {QTY_MAX}"),
            ))
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// A signed, non-zero change of on-hand units: `-QTY_MAX..=QTY_MAX`, never 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Delta(i64);

impl Delta {
    pub fn parse(field: &str, raw: i64) -> Result<Self, Invalid> {
        if raw != 0 && raw.abs() <= QTY_MAX {
            Ok(Self(raw))
        } else {
            Err(Invalid::new(
                field,
                format!("must be a non-zero whole number from -{QTY_MAX} to {QTY_MAX}"),
            ))
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// Units found by a count: `0..=QTY_MAX` (an empty shelf is a valid count).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Counted(i64);

impl Counted {
    pub fn parse(field: &str, raw: i64) -> Result<Self, Invalid> {
        if (0..=QTY_MAX).contains(&raw) {
            Ok(Self(raw))
        } else {
            Err(Invalid::new(
                field,
                format!("must be a whole number from 0 to {QTY_MAX}"),
            ))
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

impl utoipa::PartialSchema for Qty {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        super::schema::build(super::schema::integer(1, QTY_MAX))
    }
}

impl utoipa::ToSchema for Qty {}

impl utoipa::PartialSchema for Counted {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        super::schema::build(super::schema::integer(0, QTY_MAX))
    }
}

impl utoipa::ToSchema for Counted {}

impl utoipa::PartialSchema for Delta {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        let signed = utoipa::openapi::schema::OneOfBuilder::new()
            .item(super::schema::integer(-QTY_MAX, -1))
            .item(super::schema::integer(1, QTY_MAX));
        utoipa::openapi::RefOr::T(signed.into())
    }
}

impl utoipa::ToSchema for Delta {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_keep_to_their_ranges() {
        assert!(Qty::parse("qty", 0).is_err());
        assert!(Qty::parse("qty", -1).is_err());
        assert!(Qty::parse("qty", QTY_MAX + 1).is_err());
        assert_eq!(Qty::parse("qty", QTY_MAX).map(Qty::get), Ok(QTY_MAX));
        assert!(Delta::parse("qty", 0).is_err());
        assert_eq!(Delta::parse("qty", -5).map(Delta::get), Ok(-5));
        assert!(Delta::parse("qty", -QTY_MAX - 1).is_err());
        assert_eq!(Counted::parse("qty", 0).map(Counted::get), Ok(0));
        assert!(Counted::parse("qty", -1).is_err());
    }
}
