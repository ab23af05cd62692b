//! Identifiers shared by every model. Newtypes so a SKU is never passed where a location is
//! expected.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A store or warehouse, as the ledger names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LocationId(pub String);

/// A stock-keeping unit, as the ledger names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Sku(pub String);

impl fmt::Display for LocationId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl fmt::Display for Sku {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl From<&str> for LocationId {
    fn from(id: &str) -> Self {
        Self(id.to_string())
    }
}

impl From<&str> for Sku {
    fn from(id: &str) -> Self {
        Self(id.to_string())
    }
}
