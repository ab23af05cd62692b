//! Pure types and rules: no I/O. Everything from outside is parsed into these types at the edge,
//! and past that point nothing re-validates.

pub mod access;
pub mod codes;
pub mod costs;
pub mod decision;
pub mod geo;
pub mod hold;
pub mod idempotency;
pub mod ledger;
pub mod limits;
pub mod location;
pub mod month;
pub mod order;
pub mod plan;
pub mod quantity;
pub mod schema;
pub mod sku;
pub mod webhook;

/// A rule broken by input from outside, with the field it concerns (`movements[2].qty`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    pub field: String,
    pub message: String,
}

impl Invalid {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The same problem seen from an enclosing object: `qty` becomes `movements[3].qty`.
    pub fn within(mut self, prefix: &str) -> Self {
        self.field = if self.field.is_empty() {
            prefix.to_owned()
        } else {
            format!("{prefix}.{}", self.field)
        };
        self
    }
}

/// Text limited in length and free of control characters (names, reasons, clerk ids).
pub fn parse_text(field: &str, raw: &str, length_max: usize) -> Result<String, Invalid> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(Invalid::new(field, "must not be empty"));
    }
    if trimmed.chars().count() > length_max {
        return Err(Invalid::new(
            field,
            format!("must be at most {length_max} characters"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(Invalid::new(field, "must not contain control characters"));
    }
    Ok(trimmed.to_owned())
}
