//! The chain's cost model: `GET` and `PUT /v1/settings/costs`.

use super::error::ApiError;
use super::extract::Json;
use super::State;
use crate::app::costs;
use crate::app::costs::Versioned;
use crate::domain::access::Principal;
use crate::domain::costs::CostModel;
use crate::domain::schema::integer;
use actix_web::{get, put, web};
use chrono::{DateTime, Utc};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(get_costs).service(put_costs);
}

/// The model in force, its fields at the top level as the wire contract names them.
#[derive(Debug, Serialize)]
pub struct CostsView {
    /// Grows by one with every change; decisions record it as `cost_model_version`.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    #[serde(flatten)]
    pub model: CostModel,
}

impl From<Versioned> for CostsView {
    fn from(stored: Versioned) -> Self {
        Self {
            version: stored.version.0,
            created_at: stored.created_at,
            created_by: stored.created_by,
            model: stored.model,
        }
    }
}

/// A whole new model. `version`, when given, must be the version in force (so two admins
/// editing at once do not overwrite each other unseen); what `GET` adds is accepted back.
#[derive(Debug)]
pub struct CostsBody {
    pub version: Option<i64>,
    pub model: CostModel,
}

impl<'de> Deserialize<'de> for CostsBody {
    /// By hand, so that an error inside the model still names its field (`serde(flatten)`
    /// loses the path).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut fields = serde_json::Map::deserialize(deserializer)?;
        let version = fields
            .remove("version")
            .filter(|v| !v.is_null())
            .map(serde_json::from_value::<i64>)
            .transpose()
            .map_err(|error| D::Error::custom(format!("version: {error}")))?;
        fields.remove("created_at");
        fields.remove("created_by");
        let model = serde_path_to_error::deserialize(serde_json::Value::Object(fields)).map_err(
            |error| {
                let path = error.path().to_string();
                match path.as_str() {
                    "." => D::Error::custom(error.into_inner()),
                    _ => D::Error::custom(format!("{path}: {}", error.into_inner())),
                }
            },
        )?;
        Ok(Self { version, model })
    }
}

/// The model's own object with `extra` properties beside its fields: derived, `serde(flatten)`
/// would read as an `allOf` whose closed model refuses the extra ones.
fn model_with(extra: &[(&str, Schema, bool)]) -> RefOr<Schema> {
    let RefOr::T(Schema::Object(mut model)) = CostModel::schema() else {
        unreachable!("CostModel derives an object schema")
    };
    for (name, schema, required) in extra {
        model
            .properties
            .insert((*name).to_owned(), schema.clone().into());
        if *required {
            model.required.push((*name).to_owned());
        }
    }
    RefOr::T(Schema::Object(model))
}

fn version() -> ObjectBuilder {
    integer(1, i64::MAX)
}

impl PartialSchema for CostsView {
    fn schema() -> RefOr<Schema> {
        let text = || ObjectBuilder::new().schema_type(Type::String);
        let at = text().format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)));
        model_with(&[
            ("version", version().into(), true),
            ("created_at", at.into(), true),
            ("created_by", text().into(), true),
        ])
    }
}

impl ToSchema for CostsView {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        <CostModel as ToSchema>::schemas(schemas);
    }
}

impl PartialSchema for CostsBody {
    fn schema() -> RefOr<Schema> {
        let version = version().schema_type(SchemaType::from_iter([Type::Integer, Type::Null]));
        // Read back from `GET` and ignored, whatever they hold.
        let ignored = || {
            ObjectBuilder::new()
                .schema_type(SchemaType::AnyValue)
                .into()
        };
        model_with(&[
            ("version", version.into(), false),
            ("created_at", ignored(), false),
            ("created_by", ignored(), false),
        ])
    }
}

impl ToSchema for CostsBody {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        <CostModel as ToSchema>::schemas(schemas);
    }
}

/// The cost model every decision is priced with.
#[utoipa::path(tag = "settings", responses((status = 200, body = CostsView)))]
#[get("/v1/settings/costs")]
pub async fn get_costs(state: web::Data<State>) -> Result<web::Json<CostsView>, ApiError> {
    Ok(web::Json(costs::current(&state).await?.into()))
}

/// Replaces the cost model (admins); the next decision on every instance uses it.
#[utoipa::path(
    tag = "settings",
    request_body = CostsBody,
    responses(
        (status = 200, description = "Stored as the next version", body = CostsView),
        (status = 409, description = "`version` is not the one in force", body = ApiError),
        (status = 422, description = "A figure is out of range; `field` names it", body = ApiError),
    )
)]
#[put("/v1/settings/costs")]
pub async fn put_costs(
    state: web::Data<State>,
    by: Principal,
    body: Json<CostsBody>,
) -> Result<web::Json<CostsView>, ApiError> {
    let body = body.value;
    Ok(web::Json(
        costs::set(&state, &by, body.model, body.version)
            .await?
            .into(),
    ))
}
