//! The one error type of the crate: every invalid input names its field.

use thiserror::Error;

/// Why a problem could not be solved. Input errors name the offending field with its path,
/// as in `lines[2].qty` or `candidates[5].handling_per_unit`; an infeasible problem is not an
/// error but a plan status.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SolveError {
    /// A number is NaN or infinite.
    #[error("{field} is {value}, expected a finite number")]
    NotFinite { field: String, value: f64 },
    /// A quantity or cost is below zero.
    #[error("{field} is negative ({value})")]
    Negative { field: String, value: f64 },
    /// A number lies outside its allowed range.
    #[error("{field} is {value}, expected {min} to {max}")]
    OutOfRange {
        field: String,
        value: f64,
        min: f64,
        max: f64,
    },
    /// A list that must have entries has none.
    #[error("{field} is empty")]
    Empty { field: String },
    /// A list is longer than the crate's limit for it.
    #[error("{field} has {count} entries, at most {max} allowed")]
    TooMany {
        field: String,
        count: usize,
        max: usize,
    },
    /// An identifier that must name a known location does not.
    #[error("{field} names unknown location {location:?}")]
    UnknownLocation { field: String, location: String },
    /// An identifier appears twice where it must be unique.
    #[error("{field} repeats {value:?}")]
    Duplicate { field: String, value: String },
    /// Any other rule the input breaks.
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    /// The LP/MIP solver failed for a reason other than infeasibility or its time limit.
    #[error("solver failure: {0}")]
    Solver(String),
}

pub(crate) type Result<T> = std::result::Result<T, SolveError>;

/// Checks shared by every model's validation.
pub(crate) mod check {
    use super::{Result, SolveError};

    /// A cost, rate or duration: finite and not negative.
    pub(crate) fn non_negative(field: impl FnOnce() -> String, value: f64) -> Result<f64> {
        if !value.is_finite() {
            return Err(SolveError::NotFinite {
                field: field(),
                value,
            });
        }
        if value < 0.0 {
            return Err(SolveError::Negative {
                field: field(),
                value,
            });
        }
        Ok(value)
    }

    /// A whole number of units: at least zero and at most `max`.
    pub(crate) fn units(field: impl Fn() -> String, value: i64, max: u32) -> Result<u32> {
        if value < 0 {
            return Err(SolveError::Negative {
                field: field(),
                value: value as f64,
            });
        }
        if value > i64::from(max) {
            return Err(SolveError::OutOfRange {
                field: field(),
                value: value as f64,
                min: 0.0,
                max: f64::from(max),
            });
        }
        // In range 0..=max, so the conversion is exact.
        Ok(value as u32)
    }

    /// A list's length between 1 (when `required`) and `max`.
    pub(crate) fn count(field: &str, count: usize, required: bool, max: usize) -> Result<()> {
        if required && count == 0 {
            return Err(SolveError::Empty {
                field: field.to_string(),
            });
        }
        if count > max {
            return Err(SolveError::TooMany {
                field: field.to_string(),
                count,
                max,
            });
        }
        Ok(())
    }

    /// A time limit in milliseconds, 1 to `max`.
    pub(crate) fn time_limit_ms(field: &str, value: u64, max: u64) -> Result<u64> {
        if value == 0 || value > max {
            return Err(SolveError::OutOfRange {
                field: field.to_string(),
                value: value as f64,
                min: 1.0,
                max: max as f64,
            });
        }
        Ok(value)
    }
}
