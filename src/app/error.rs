//! What a use case can fail with, by kind: callers map each kind (HTTP to a status in
//! `api::error`, the CLI to a message) without knowing which adapter failed.

use crate::domain::hold::{HoldStatus, ShortLine};
use crate::domain::Invalid;
use crate::holds::{lifecycle, Unavailable};
use crate::{jobs, ledger, routing};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The dependency that could not be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dependency {
    Database,
    Redis,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("{field}: unknown SKU '{code}'")]
    UnknownSku { field: String, code: String },
    #[error("{field}: unknown location '{code}'")]
    UnknownLocation { field: String, code: String },
    /// The request contradicts itself or earlier requests.
    #[error("{field}: {message}")]
    Refused { field: String, message: String },
    /// Not enough stock: `field` names the line to blame when there is one, `lines` lists the
    /// short lines with what is available when it is known.
    #[error("{message}")]
    Short {
        field: Option<String>,
        message: String,
        lines: Vec<ShortLine>,
    },
    /// The request cannot run now (e.g. the order or transfer is past that step).
    #[error("{0}")]
    Conflict(String),
    /// `field` names the path segment or filter that was not found, when there is one.
    #[error("{message}")]
    NotFound {
        field: Option<String>,
        message: String,
    },
    #[error("the hold is already {}", .status.as_str())]
    HoldResolved {
        status: HoldStatus,
        field: Option<String>,
    },
    #[error("client_id was already used for a different hold")]
    ClientIdReused,
    #[error("{0:?} is not reachable")]
    Unavailable(Dependency),
    /// No credential, or one that is unknown, expired or revoked; the message says which.
    #[error("{0}")]
    Unauthenticated(String),
    /// The credential lacks the scope (or the scope at the location) the request needs.
    #[error(transparent)]
    Forbidden(crate::domain::access::Denied),
    /// The credential made more holds or orders than its rate allows: retry after a while.
    #[error("too many requests from this credential; retry in {retry_after_s} s")]
    RateLimited { retry_after_s: u64 },
    /// Every solver of this instance is busy: retry after a while.
    #[error("every solver is busy; retry in {retry_after_s} s")]
    Busy { retry_after_s: u64 },
    /// As many runs of a kind wait as may: retry once some have run.
    #[error("{queued_max} {kind} runs are queued already, the most that may wait; retry later")]
    QueueFull { kind: &'static str, queued_max: i64 },
    /// The credential has as many live holds as it may.
    #[error("{live} live holds already: the most one credential may have; release some first")]
    TooManyHolds { live: i64 },
    /// A fault, not the caller's; `constraint` names the database constraint that refused a
    /// write, which may still tell the caller which field was wrong.
    #[error("{source}")]
    Fault {
        constraint: Option<String>,
        source: BoxError,
    },
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn fault(source: impl Into<BoxError>) -> Self {
        Self::Fault {
            constraint: None,
            source: source.into(),
        }
    }

    pub fn not_found(field: &str, message: impl Into<String>) -> Self {
        Self::NotFound {
            field: Some(field.to_owned()),
            message: message.into(),
        }
    }

    fn short(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Short {
            field: Some(field.into()),
            message: message.into(),
            lines: Vec::new(),
        }
    }
}

impl From<ledger::Error> for Error {
    fn from(error: ledger::Error) -> Self {
        use ledger::Error::*;
        match error {
            Invalid(invalid) => invalid.into(),
            UnknownSku { field, code } => Self::UnknownSku { field, code },
            UnknownLocation { field, code } => Self::UnknownLocation { field, code },
            Refused { field, message } => Self::Refused { field, message },
            Shortage { field, message } => Self::short(field, message),
            Conflict(message) => Self::Conflict(message),
            NotFound(message) => Self::NotFound {
                field: None,
                message,
            },
            Pool(error) => {
                tracing::warn!(%error, "no database connection");
                Self::Unavailable(Dependency::Database)
            }
            error @ Database(_) if error.is_timeout() => {
                tracing::warn!(%error, "a statement ran out of time");
                Self::Unavailable(Dependency::Database)
            }
            error @ Corrupt(_) => Self::Fault {
                constraint: None,
                source: Box::new(error),
            },
            Database(error) => Self::Fault {
                constraint: error
                    .as_db_error()
                    .and_then(|db| db.constraint())
                    .map(str::to_owned),
                source: Box::new(error),
            },
        }
    }
}

impl From<Unavailable> for Error {
    fn from(error: Unavailable) -> Self {
        tracing::warn!(%error, "Redis unavailable");
        Self::Unavailable(Dependency::Redis)
    }
}

impl From<lifecycle::Error> for Error {
    fn from(error: lifecycle::Error) -> Self {
        use lifecycle::Error::*;
        match error {
            Unavailable(error) => error.into(),
            Short(lines) => Self::Short {
                field: None,
                message: format!("not enough stock for {} line(s)", lines.len()),
                lines,
            },
            NotFound(_) => Self::NotFound {
                field: None,
                message: error.to_string(),
            },
            Resolved(status) => Self::HoldResolved {
                status,
                field: None,
            },
            ClientIdReused => Self::ClientIdReused,
            Pending => Self::Conflict(error.to_string()),
            Capped(live) => Self::TooManyHolds { live },
            // Only returned when the ledger's figures could not be loaded after retries.
            Missing(_) => Self::Unavailable(Dependency::Redis),
        }
    }
}

impl From<routing::Error> for Error {
    fn from(error: routing::Error) -> Self {
        match error {
            routing::Error::Ledger(error) => error.into(),
            routing::Error::Refused { field, message } => Self::Refused { field, message },
            routing::Error::Solver(error) => Self::fault(error),
            routing::Error::Join(error) => Self::fault(error),
            routing::Error::Busy { retry_after_s } => Self::Busy { retry_after_s },
        }
    }
}

impl From<jobs::Error> for Error {
    fn from(error: jobs::Error) -> Self {
        match error {
            jobs::Error::Ledger(error) => error.into(),
            jobs::Error::Solver(error) => Self::fault(error),
            jobs::Error::Task(error) => Self::fault(error),
        }
    }
}
