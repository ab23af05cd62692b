//! Stock-keeping units.

use super::codes::SkuCode;
use super::schema::{schema_rule, text};
use super::{parse_text, Invalid};
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Type};

pub const NAME_LENGTH_MAX: usize = 200;
pub const ATTRIBUTES_MAX: usize = 32;
pub const ATTRIBUTE_NAME_LENGTH_MAX: usize = 64;
pub const ATTRIBUTE_VALUE_LENGTH_MAX: usize = 200;

schema_rule!(
    /// A SKU's name as people read it.
    SkuName = text(NAME_LENGTH_MAX)
);
schema_rule!(
    /// Flat descriptive attributes: `{"colour": "black", "size": "M", "margin": 180}`.
    Attributes = ObjectBuilder::new()
        .schema_type(Type::Object)
        .max_properties(Some(ATTRIBUTES_MAX))
        .property_names(Some(text(ATTRIBUTE_NAME_LENGTH_MAX)))
        .additional_properties(Some(utoipa::openapi::RefOr::T(
            AnyOfBuilder::new()
                .item(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .max_length(Some(ATTRIBUTE_VALUE_LENGTH_MAX))
                        .pattern(Some("^[^\\x00]*$")),
                )
                .item(ObjectBuilder::new().schema_type(Type::Number))
                .item(ObjectBuilder::new().schema_type(Type::Boolean))
                .into(),
        )))
        .examples([serde_json::json!({"colour": "black", "size": "M"})])
);

#[derive(Debug, Clone, PartialEq)]
pub struct Sku {
    pub code: SkuCode,
    pub name: String,
    /// Free-form descriptive attributes (colour, size, season): flat strings, numbers or booleans.
    pub attributes: Map<String, Value>,
}

/// Wire form of `PUT /v1/skus/{code}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "T-shirt black M", "attributes": {"colour": "black", "size": "M"}}))]
pub struct SkuBody {
    #[schema(value_type = SkuName)]
    pub name: String,
    #[serde(default)]
    #[schema(value_type = Option<Attributes>)]
    pub attributes: Option<Map<String, Value>>,
}

impl SkuBody {
    pub fn parse(self, code: SkuCode) -> Result<Sku, Invalid> {
        let attributes = self.attributes.unwrap_or_default();
        if attributes.len() > ATTRIBUTES_MAX {
            return Err(Invalid::new(
                "attributes",
                format!("must have at most {ATTRIBUTES_MAX} entries"),
            ));
        }
        for (key, value) in &attributes {
            let field = format!("attributes.{key}");
            parse_text(&field, key, ATTRIBUTE_NAME_LENGTH_MAX)?;
            match value {
                Value::String(text) if text.chars().count() > ATTRIBUTE_VALUE_LENGTH_MAX => {
                    return Err(Invalid::new(
                        field,
                        format!("must be at most {ATTRIBUTE_VALUE_LENGTH_MAX} characters"),
                    ))
                }
                // PostgreSQL cannot store NUL, in text or jsonb; other characters are the
                // value's own.
                Value::String(text) if text.contains('\0') => {
                    return Err(Invalid::new(field, "must not contain NUL characters"))
                }
                Value::String(_) => {}
                Value::Number(_) | Value::Bool(_) => {}
                _ => {
                    return Err(Invalid::new(
                        field,
                        "must be a string, a number or a boolean",
                    ))
                }
            }
        }
        Ok(Sku {
            code,
            name: parse_text("name", &self.name, NAME_LENGTH_MAX)?,
            attributes,
        })
    }
}
