//! Every error the HTTP edge returns, mapped to a status in one place. The body is always
//! `{code, message, field?}`; a fault's cause chain goes to the log, the client gets an opaque 500.

use crate::app::{self, Dependency};
use crate::domain::hold::ShortLine;
use crate::domain::Invalid;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use std::fmt;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApiError {
    #[serde(skip)]
    status: StatusCode,
    /// Stable, machine-readable: `invalid_field`, `unknown_sku`, `insufficient_stock`, ...
    pub code: &'static str,
    pub message: String,
    /// The offending field, as a path into the request: `movements[2].qty`, `near`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For a hold that cannot be placed: each short line with what is available.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub short: Option<Vec<ShortLine>>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
            short: None,
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn internal(cause: &dyn std::error::Error) -> Self {
        let chain = crate::telemetry::error_chain(cause);
        tracing::error!(error.chain = %chain, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; it was logged",
        )
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{field}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status).json(self)
    }
}

impl From<Invalid> for ApiError {
    fn from(invalid: Invalid) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            invalid.message,
        )
        .with_field(invalid.field)
    }
}

impl From<app::Error> for ApiError {
    fn from(error: app::Error) -> Self {
        use app::Error::*;
        match error {
            Invalid(invalid) => invalid.into(),
            UnknownSku { field, code } => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_sku",
                format!("unknown SKU '{code}'"),
            )
            .with_field(field),
            UnknownLocation { field, code } => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_location",
                format!("unknown location '{code}'"),
            )
            .with_field(field),
            Refused { field, message } => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "refused", message).with_field(field)
            }
            Short {
                field,
                message,
                lines,
            } => short(field, message, lines),
            Conflict(message) => Self::new(StatusCode::CONFLICT, "conflict", message),
            NotFound { field, message } => Self {
                field,
                ..Self::not_found(message)
            },
            HoldResolved { status, field } => Self {
                field,
                ..Self::new(
                    StatusCode::CONFLICT,
                    "hold_resolved",
                    format!("the hold is already {}", status.as_str()),
                )
            },
            ClientIdReused => {
                Self::new(StatusCode::CONFLICT, "client_id_reused", error.to_string())
                    .with_field("client_id")
            }
            Unavailable(Dependency::Database) => {
                Self::unavailable("the database is not reachable right now; retry shortly")
            }
            Unavailable(Dependency::Redis) => Self::unavailable(
                "reservations are unavailable: Redis is not reachable; retry shortly",
            ),
            Fault { constraint, source } => constraint
                .as_deref()
                .and_then(from_constraint)
                .unwrap_or_else(|| Self::internal(&*source)),
        }
    }
}

/// Not enough stock (409), with each short line and what is available when they are known.
fn short(field: Option<String>, message: String, lines: Vec<ShortLine>) -> ApiError {
    ApiError {
        field,
        short: (!lines.is_empty()).then_some(lines),
        ..ApiError::new(StatusCode::CONFLICT, "insufficient_stock", message)
    }
}

/// The database is the last guard; when one of its constraints fires, the client still learns
/// which field was wrong.
fn from_constraint(constraint: &str) -> Option<ApiError> {
    let (status, code, field, message) = CONSTRAINTS
        .iter()
        .find(|(name, ..)| *name == constraint)
        .map(|(_, status, code, field, message)| (*status, *code, *field, *message))?;
    tracing::warn!(constraint, "database constraint refused a write");
    Some(ApiError::new(status, code, message).with_field(field))
}

type ConstraintRule = (
    &'static str,
    StatusCode,
    &'static str,
    &'static str,
    &'static str,
);

const CONSTRAINTS: &[ConstraintRule] = &[
    (
        "balance_on_hand_not_negative",
        StatusCode::CONFLICT,
        "insufficient_stock",
        "qty",
        "on hand would become negative",
    ),
    (
        "balance_allocated_not_negative",
        StatusCode::CONFLICT,
        "conflict",
        "qty",
        "allocated would become negative",
    ),
    (
        "balance_in_transit_not_negative",
        StatusCode::CONFLICT,
        "conflict",
        "qty",
        "in transit would become negative",
    ),
    (
        "location_name_length",
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        "name",
        "must be 1 to 200 characters",
    ),
    (
        "sku_name_length",
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        "name",
        "must be 1 to 200 characters",
    ),
    (
        "movement_reason_length",
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        "reason",
        "must be 1 to 200 characters",
    ),
    (
        "order_referrer_whole",
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_location",
        "referrer.store",
        "no such store",
    ),
    (
        "order_referrer_clerk_length",
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        "referrer.clerk",
        "must be 1 to 64 characters",
    ),
    (
        "orders_hold_id_key",
        StatusCode::CONFLICT,
        "hold_resolved",
        "hold_id",
        "an order was already placed with this hold",
    ),
    (
        "idempotency_key_length",
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        "Idempotency-Key",
        "must be 1 to 255 characters",
    ),
];
