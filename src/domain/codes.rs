//! Business codes chosen by the retailer: location codes (`TPE-001`) and SKU codes
//! (`TSHIRT-BLK-M`). They are the public identity of a location or SKU in every API.

use super::Invalid;
use serde::{Deserialize, Serialize};
use std::fmt;

pub const CODE_LENGTH_MAX: usize = 64;
/// The characters a code may have besides ASCII letters and digits.
const CODE_PUNCTUATION: &[u8] = b"_.-";

fn parse_code(field: &str, raw: &str) -> Result<String, Invalid> {
    if raw.is_empty() {
        return Err(Invalid::new(field, "must not be empty"));
    }
    if raw.len() > CODE_LENGTH_MAX {
        return Err(Invalid::new(
            field,
            format!("must be at most {CODE_LENGTH_MAX} characters"),
        ));
    }
    if !raw
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || CODE_PUNCTUATION.contains(&b))
    {
        return Err(Invalid::new(
            field,
            "may contain only letters, digits, '-', '_' and '.'",
        ));
    }
    Ok(raw.to_owned())
}

/// The document's form of [`parse_code`]'s rule.
pub fn code_rule() -> utoipa::openapi::schema::ObjectBuilder {
    let punctuation = String::from_utf8_lossy(CODE_PUNCTUATION);
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .min_length(Some(1))
        .max_length(Some(CODE_LENGTH_MAX))
        .pattern(Some(format!("^[A-Za-z0-9{punctuation}]+$")))
}

super::schema::schema_rule!(
    /// The e-shop's order id, spelled as a code.
    OrderId = code_rule().examples(["WEB-100234"])
);

macro_rules! code_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl TryFrom<String> for $name {
            type Error = Invalid;

            fn try_from(raw: String) -> Result<Self, Invalid> {
                Self::parse("code", &raw)
            }
        }

        impl From<$name> for String {
            fn from(code: $name) -> String {
                code.0
            }
        }

        impl $name {
            pub fn parse(field: &str, raw: &str) -> Result<Self, Invalid> {
                parse_code(field, raw).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                super::schema::build(code_rule())
            }
        }

        impl utoipa::ToSchema for $name {}

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

code_type!(
    /// A store's or warehouse's code.
    LocationCode
);
code_type!(
    /// A stock-keeping unit's code.
    SkuCode
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_accept_the_usual_retail_shapes() {
        for raw in ["TPE-001", "tshirt_blk.m", "A", &"X".repeat(CODE_LENGTH_MAX)] {
            assert!(SkuCode::parse("sku", raw).is_ok(), "{raw}");
        }
    }

    #[test]
    fn codes_reject_empty_long_and_odd_characters() {
        for raw in ["", "a b", "é", "a/b", &"X".repeat(CODE_LENGTH_MAX + 1)] {
            let error = LocationCode::parse("location", raw).unwrap_err();
            assert_eq!(error.field, "location");
        }
    }
}
