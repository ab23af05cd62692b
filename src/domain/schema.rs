//! How the rules the edge enforces read in the API document. Each schema is built from the
//! constant its parser checks, so the document and the code cannot disagree; `/openapi.json`
//! names them as components (`Qty`, `SkuCode`, `PageLimit`…) that request fields refer to.

use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::{Ref, RefOr};

/// Characters `char::is_control` refuses (Unicode Cc), as a regex class body.
const CONTROL: &str = r"\x00-\x1f\x7f-\x9f";

/// A whole number from `min` to `max`.
pub fn integer(min: i64, max: i64) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
            utoipa::openapi::KnownFormat::Int64,
        )))
        .minimum(Some(min))
        .maximum(Some(max))
}

/// A finite number from `min` to `max`.
pub fn number(min: f64, max: f64) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Number)
        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
            utoipa::openapi::KnownFormat::Double,
        )))
        .minimum(Some(min))
        .maximum(Some(max))
}

/// What [`super::parse_text`] takes: at most `length_max` characters, not blank, none of them
/// control characters.
pub fn text(length_max: usize) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(length_max))
        .pattern(Some(format!(r"^[^{CONTROL}]*[^\s{CONTROL}][^{CONTROL}]*$")))
}

/// 1 to `length_max` visible ASCII characters (keys and ids chosen by clients).
pub fn visible_ascii(length_max: usize) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(format!("^[!-~]{{1,{length_max}}}$")))
        .min_length(Some(1))
        .max_length(Some(length_max))
}

/// One of `values`.
pub fn one_of(values: &[&str]) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.iter().copied()))
}

/// Declares a unit type whose only use is to name `$schema` in the document: a request field
/// says `#[schema(value_type = PageLimit)]` and the document shows the limit the code checks.
/// `uses [T, …]` lists the components the schema refers to.
macro_rules! schema_rule {
    ($(#[$doc:meta])* $name:ident = $schema:expr $(; uses [$($uses:ty),*])?) => {
        $(#[$doc])*
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                let schema: utoipa::openapi::schema::Schema = ($schema).into();
                utoipa::openapi::RefOr::T(schema)
            }
        }

        impl utoipa::ToSchema for $name {
            $(
            fn schemas(
                schemas: &mut Vec<(
                    String,
                    utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
                )>,
            ) {
                $(
                schemas.push((
                    <$uses as utoipa::ToSchema>::name().into(),
                    <$uses as utoipa::PartialSchema>::schema(),
                ));
                <$uses as utoipa::ToSchema>::schemas(schemas);
                )*
            }
            )?
        }
    };
}

/// From `min` to `max` items of the component `T`.
pub fn array_of<T: utoipa::ToSchema>(min: usize, max: usize) -> ArrayBuilder {
    ArrayBuilder::new()
        .items(Ref::from_schema_name(T::name()))
        .min_items(Some(min))
        .max_items(Some(max))
}

pub(crate) use schema_rule;

/// `builder` as a schema, for `PartialSchema` impls.
pub fn build(builder: ObjectBuilder) -> RefOr<Schema> {
    RefOr::T(builder.into())
}
