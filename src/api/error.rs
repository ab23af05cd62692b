//! Every error the HTTP edge returns, mapped to a status in one place. The body is always
//! `{code, message, field?}`; a fault's cause chain goes to the log, the client gets an opaque 500.

use crate::app::{self, Dependency};
use crate::domain::access::Denied;
use crate::domain::hold::ShortLine;
use crate::domain::Invalid;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use std::fmt;

/// Every error code the API answers with, machine-readable and stable. [`Code::meaning`] is the
/// one table of what each means and which status it carries; every error goes through it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    InvalidField,
    InvalidQuery,
    InvalidPath,
    MalformedJson,
    BadRequest,
    Unauthenticated,
    Forbidden,
    MethodNotAllowed,
    UnsupportedMediaType,
    PayloadTooLarge,
    RequestTimeout,
    UnknownSku,
    UnknownLocation,
    Refused,
    NotFound,
    InsufficientStock,
    Conflict,
    HoldResolved,
    ClientIdReused,
    AlreadyCommitted,
    Gone,
    RateLimited,
    TooManyHolds,
    Unavailable,
    Internal,
}

impl Code {
    /// (status, meaning) of each code: the table.
    pub fn meaning(self) -> (StatusCode, &'static str) {
        use StatusCode as S;
        match self {
            Self::InvalidField => (
                S::UNPROCESSABLE_ENTITY,
                "a field is missing or wrong; `field` names it",
            ),
            Self::InvalidQuery => (S::BAD_REQUEST, "the query string does not parse"),
            Self::InvalidPath => (S::BAD_REQUEST, "a path segment does not parse"),
            Self::MalformedJson => (S::BAD_REQUEST, "the body is not valid JSON"),
            Self::BadRequest => (S::BAD_REQUEST, "the body could not be read"),
            Self::Unauthenticated => (S::UNAUTHORIZED, "no credential, or a bad one"),
            Self::Forbidden => (S::FORBIDDEN, "a scope is lacking; `scope` names it"),
            Self::MethodNotAllowed => (S::METHOD_NOT_ALLOWED, "the path takes other methods"),
            Self::UnsupportedMediaType => (
                S::UNSUPPORTED_MEDIA_TYPE,
                "the body is not application/json",
            ),
            Self::PayloadTooLarge => (S::PAYLOAD_TOO_LARGE, "the body is larger than the limit"),
            Self::RequestTimeout => (S::REQUEST_TIMEOUT, "the body did not arrive in time"),
            Self::UnknownSku => (
                S::UNPROCESSABLE_ENTITY,
                "the body names a SKU that does not exist",
            ),
            Self::UnknownLocation => (
                S::UNPROCESSABLE_ENTITY,
                "the body names a location that does not exist",
            ),
            Self::Refused => (
                S::UNPROCESSABLE_ENTITY,
                "the request contradicts itself or an earlier one",
            ),
            Self::NotFound => (
                S::NOT_FOUND,
                "the resource (or a filter's code) does not exist",
            ),
            Self::InsufficientStock => (
                S::CONFLICT,
                "not enough stock; `short` lists the lines when known",
            ),
            Self::Conflict => (
                S::CONFLICT,
                "not now: the order, transfer or key is past that step or in flight",
            ),
            Self::HoldResolved => (
                S::CONFLICT,
                "the hold is already released, confirmed or being used",
            ),
            Self::ClientIdReused => (
                S::CONFLICT,
                "a hold's client_id was used for different lines",
            ),
            Self::AlreadyCommitted => (
                S::CONFLICT,
                "the night's plan of that kind is committed already",
            ),
            Self::Gone => (S::GONE, "the route was replaced; the message says by what"),
            Self::RateLimited => (
                S::TOO_MANY_REQUESTS,
                "the credential's rate of holds and orders is spent; see Retry-After",
            ),
            Self::TooManyHolds => (
                S::TOO_MANY_REQUESTS,
                "the credential has as many live holds as it may; release some",
            ),
            Self::Unavailable => (
                S::SERVICE_UNAVAILABLE,
                "PostgreSQL or Redis is not reachable or too slow, or every solver is busy; retry",
            ),
            Self::Internal => (S::INTERNAL_SERVER_ERROR, "a fault; it was logged"),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApiError {
    #[serde(skip)]
    status: StatusCode,
    /// Stable, machine-readable; see [`Code::meaning`].
    pub code: Code,
    pub message: String,
    /// The offending field, as a path into the request: `movements[2].qty`, `near`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For a hold that cannot be placed: each short line with what is available.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub short: Option<Vec<ShortLine>>,
    /// For a 403: the scope the credential lacks, `scope` or `scope:LOCATION`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// For a 429 or 503: sent as the `Retry-After` header (seconds).
    #[serde(skip)]
    pub retry_after_s: Option<u64>,
    /// For a 405: the methods the path takes, sent as the `Allow` header (RFC 9110).
    #[serde(skip)]
    pub allow: Methods,
}

/// A set of HTTP methods, small enough to travel in every error.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Methods(u8);

impl Methods {
    const NAMES: [&'static str; 4] = ["GET", "POST", "PUT", "DELETE"];

    /// The set of the known methods among `names`.
    pub fn of(names: &[&str]) -> Self {
        let bits = Self::NAMES
            .iter()
            .enumerate()
            .filter(|(_, name)| names.contains(name))
            .fold(0, |bits, (index, _)| bits | 1 << index);
        Self(bits)
    }
}

impl fmt::Display for Methods {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = (0..Self::NAMES.len())
            .filter(|index| self.0 & (1 << index) != 0)
            .map(|index| Self::NAMES[index])
            .collect();
        f.write_str(&names.join(", "))
    }
}

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            status: code.meaning().0,
            code,
            message: message.into(),
            field: None,
            short: None,
            scope: None,
            retry_after_s: None,
            allow: Methods::default(),
        }
    }

    pub fn forbidden(denied: Denied) -> Self {
        Self {
            scope: Some(denied.scope.clone()),
            ..Self::new(Code::Forbidden, denied.to_string())
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Code::NotFound, message)
    }

    pub fn internal(cause: &dyn std::error::Error) -> Self {
        let chain = crate::telemetry::error_chain(cause);
        tracing::error!(error.chain = %chain, "request failed");
        Self::new(Code::Internal, "internal error; it was logged")
    }

    /// A 503: the dependency is down or too slow; clients are told to retry in a second.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self {
            retry_after_s: Some(1),
            ..Self::new(Code::Unavailable, message)
        }
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
        let mut response = HttpResponse::build(self.status);
        if let Some(seconds) = self.retry_after_s {
            response.insert_header((actix_web::http::header::RETRY_AFTER, seconds.to_string()));
        }
        if self.allow != Methods::default() {
            response.insert_header((actix_web::http::header::ALLOW, self.allow.to_string()));
        }
        response.json(self)
    }
}

impl From<Invalid> for ApiError {
    fn from(invalid: Invalid) -> Self {
        Self::new(Code::InvalidField, invalid.message).with_field(invalid.field)
    }
}

impl From<app::Error> for ApiError {
    fn from(error: app::Error) -> Self {
        use app::Error::*;
        match error {
            Invalid(invalid) => invalid.into(),
            UnknownSku { field, code } => {
                Self::new(Code::UnknownSku, format!("unknown SKU '{code}'")).with_field(field)
            }
            UnknownLocation { field, code } => {
                Self::new(Code::UnknownLocation, format!("unknown location '{code}'"))
                    .with_field(field)
            }
            Refused { field, message } => Self::new(Code::Refused, message).with_field(field),
            Short {
                field,
                message,
                lines,
            } => short(field, message, lines),
            Conflict(message) => Self::new(Code::Conflict, message),
            NotFound { field, message } => Self {
                field,
                ..Self::not_found(message)
            },
            HoldResolved { status, field } => Self {
                field,
                ..Self::new(
                    Code::HoldResolved,
                    format!("the hold is already {}", status.as_str()),
                )
            },
            ClientIdReused => {
                Self::new(Code::ClientIdReused, error.to_string()).with_field("client_id")
            }
            Unavailable(Dependency::Database) => {
                Self::unavailable("the database is not reachable right now; retry shortly")
            }
            Unavailable(Dependency::Redis) => Self::unavailable(
                "reservations are unavailable: Redis is not reachable; retry shortly",
            ),
            Unauthenticated(message) => Self::new(Code::Unauthenticated, message),
            Forbidden(denied) => Self::forbidden(denied),
            Busy { retry_after_s } => Self {
                retry_after_s: Some(retry_after_s),
                ..Self::new(Code::Unavailable, error.to_string())
            },
            QueueFull { .. } => Self {
                retry_after_s: Some(QUEUE_RETRY_AFTER_S),
                ..Self::new(Code::Unavailable, error.to_string())
            },
            RateLimited { retry_after_s } => Self {
                retry_after_s: Some(retry_after_s),
                ..Self::new(Code::RateLimited, error.to_string())
            },
            TooManyHolds { .. } => Self::new(Code::TooManyHolds, error.to_string()),
            Fault { constraint, source } => constraint
                .as_deref()
                .and_then(from_constraint)
                .unwrap_or_else(|| Self::internal(&*source)),
        }
    }
}

/// When a caller whose planning run found the queue full may try again (a run takes minutes).
const QUEUE_RETRY_AFTER_S: u64 = 60;

/// Not enough stock (409), with each short line and what is available when they are known.
fn short(field: Option<String>, message: String, lines: Vec<ShortLine>) -> ApiError {
    ApiError {
        field,
        short: (!lines.is_empty()).then_some(lines),
        ..ApiError::new(Code::InsufficientStock, message)
    }
}

/// The database is the last guard; when one of its constraints fires, the client still learns
/// which field was wrong.
fn from_constraint(constraint: &str) -> Option<ApiError> {
    let (code, field, message) = CONSTRAINTS
        .iter()
        .find(|(name, ..)| *name == constraint)
        .map(|(_, code, field, message)| (*code, *field, *message))?;
    tracing::warn!(constraint, "database constraint refused a write");
    Some(ApiError::new(code, message).with_field(field))
}

/// (constraint, code, field, message).
type ConstraintRule = (&'static str, Code, &'static str, &'static str);

const CONSTRAINTS: &[ConstraintRule] = &[
    (
        "balance_on_hand_not_negative",
        Code::InsufficientStock,
        "qty",
        "on hand would become negative",
    ),
    (
        "balance_allocated_not_negative",
        Code::Conflict,
        "qty",
        "allocated would become negative",
    ),
    (
        "balance_in_transit_not_negative",
        Code::Conflict,
        "qty",
        "in transit would become negative",
    ),
    (
        "location_name_length",
        Code::InvalidField,
        "name",
        "must be 1 to 200 characters",
    ),
    (
        "sku_name_length",
        Code::InvalidField,
        "name",
        "must be 1 to 200 characters",
    ),
    (
        "movement_reason_length",
        Code::InvalidField,
        "reason",
        "must be 1 to 200 characters",
    ),
    (
        "movements_retained",
        Code::Refused,
        "occurred_at",
        "falls in a month detached from the ledger (archived); the ledger starts later",
    ),
    (
        "order_referrer_whole",
        Code::UnknownLocation,
        "referrer.store",
        "no such store",
    ),
    (
        "order_referrer_clerk_length",
        Code::InvalidField,
        "referrer.clerk",
        "must be 1 to 64 characters",
    ),
    (
        "orders_hold_id_key",
        Code::HoldResolved,
        "hold_id",
        "an order was already placed with this hold",
    ),
    (
        "idempotency_key_length",
        Code::InvalidField,
        "Idempotency-Key",
        "must be 1 to 255 characters",
    ),
];
