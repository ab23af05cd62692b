//! Stores and warehouses.

use super::codes::LocationCode;
use super::geo::Point;
use super::quantity::QTY_MAX;
use super::{parse_text, Invalid};
use serde::{Deserialize, Serialize};

pub const NAME_LENGTH_MAX: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LocationKind {
    Store,
    Warehouse,
}

impl LocationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Store => "store",
            Self::Warehouse => "warehouse",
        }
    }

    pub fn from_db(raw: &str) -> Option<Self> {
        match raw {
            "store" => Some(Self::Store),
            "warehouse" => Some(Self::Warehouse),
            _ => None,
        }
    }
}

/// A location as the ledger keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Location {
    pub code: LocationCode,
    pub name: String,
    pub kind: LocationKind,
    pub point: Point,
    /// Customers may collect online orders here.
    pub pickup: bool,
    /// Online orders may ship from here.
    pub ship: bool,
    /// Units of each SKU kept back from online selling.
    pub safety_stock: i64,
}

/// Wire form of `PUT /v1/locations/{code}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationBody {
    pub name: String,
    pub kind: LocationKind,
    pub latitude: f64,
    pub longitude: f64,
    pub pickup: bool,
    pub ship: bool,
    #[serde(default)]
    pub safety_stock: Option<i64>,
}

impl LocationBody {
    pub fn parse(self, code: LocationCode) -> Result<Location, Invalid> {
        let safety_stock = self.safety_stock.unwrap_or(0);
        if !(0..=QTY_MAX).contains(&safety_stock) {
            return Err(Invalid::new(
                "safety_stock",
                format!("must be a whole number from 0 to {QTY_MAX}"),
            ));
        }
        Ok(Location {
            code,
            name: parse_text("name", &self.name, NAME_LENGTH_MAX)?,
            kind: self.kind,
            point: Point::parse("", self.latitude, self.longitude)?,
            pickup: self.pickup,
            ship: self.ship,
            safety_stock,
        })
    }
}
