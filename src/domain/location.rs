//! Stores and warehouses.

use super::codes::LocationCode;
use super::costs::MONEY_MAX;
use super::geo::Point;
use super::limits::STOCK_UNITS_MAX;
use super::quantity::QTY_MAX;
use super::schema::{integer, schema_rule, text};
use super::{parse_text, Invalid};
use serde::{Deserialize, Serialize};

pub const NAME_LENGTH_MAX: usize = 200;

schema_rule!(
    /// A location's name as people read it.
    LocationName = text(NAME_LENGTH_MAX)
);
schema_rule!(
    /// Units a location can pick per day.
    PickCapacity = integer(0, STOCK_UNITS_MAX)
);

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
    /// Overrides the cost model's handling cost per unit for this location.
    pub handling_per_unit: Option<f64>,
    /// Units this location can pick per day for online orders; `None` means no limit.
    pub pick_capacity_per_day: Option<i64>,
    /// May send transfers to other stores (for pickup orders and clerks' requests).
    pub transfers_out: bool,
    /// `low_stock` fires when available falls below this (0: never).
    pub low_stock_below: i64,
}

/// Wire form of `PUT /v1/locations/{code}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Xinyi store", "kind": "store", "latitude": 25.033,
    "longitude": 121.565, "pickup": true, "ship": true, "safety_stock": 1}))]
pub struct LocationBody {
    #[schema(value_type = LocationName)]
    pub name: String,
    pub kind: LocationKind,
    #[schema(value_type = super::geo::Latitude)]
    pub latitude: f64,
    #[schema(value_type = super::geo::Longitude)]
    pub longitude: f64,
    pub pickup: bool,
    pub ship: bool,
    /// Units of each SKU kept back from online selling (default 0).
    #[serde(default)]
    #[schema(value_type = Option<super::quantity::Counted>)]
    pub safety_stock: Option<i64>,
    /// Handling cost per unit here, instead of the cost model's for the location's kind.
    #[serde(default)]
    #[schema(value_type = Option<super::costs::Money>)]
    pub handling_per_unit: Option<f64>,
    /// Units this location can pick per day for online orders (absent: no limit).
    #[serde(default)]
    #[schema(value_type = Option<PickCapacity>)]
    pub pick_capacity_per_day: Option<i64>,
    /// Whether it may send transfers to other stores (default true).
    #[serde(default)]
    pub transfers_out: Option<bool>,
    /// A `low_stock` event fires when available falls from this or more to below it (default
    /// 0: never).
    #[serde(default)]
    #[schema(value_type = Option<super::quantity::Counted>)]
    pub low_stock_below: Option<i64>,
}

impl LocationBody {
    pub fn parse(self, code: LocationCode) -> Result<Location, Invalid> {
        let safety_stock = units("safety_stock", self.safety_stock.unwrap_or(0))?;
        Ok(Location {
            code,
            name: parse_text("name", &self.name, NAME_LENGTH_MAX)?,
            kind: self.kind,
            point: Point::parse("", self.latitude, self.longitude)?,
            pickup: self.pickup,
            ship: self.ship,
            safety_stock,
            handling_per_unit: self.handling_per_unit.map(handling).transpose()?,
            pick_capacity_per_day: self.pick_capacity_per_day.map(capacity).transpose()?,
            transfers_out: self.transfers_out.unwrap_or(true),
            low_stock_below: units("low_stock_below", self.low_stock_below.unwrap_or(0))?,
        })
    }
}

/// A count of units a location keeps or watches for: 0 to [`QTY_MAX`].
fn units(field: &str, units: i64) -> Result<i64, Invalid> {
    if (0..=QTY_MAX).contains(&units) {
        Ok(units)
    } else {
        Err(Invalid::new(
            field,
            format!("must be a whole number from 0 to {QTY_MAX}"),
        ))
    }
}

fn handling(per_unit: f64) -> Result<f64, Invalid> {
    if per_unit.is_finite() && (0.0..=MONEY_MAX).contains(&per_unit) {
        Ok(per_unit)
    } else {
        Err(Invalid::new(
            "handling_per_unit",
            format!("must be a number from 0 to {MONEY_MAX}"),
        ))
    }
}

fn capacity(units: i64) -> Result<i64, Invalid> {
    if (0..=STOCK_UNITS_MAX).contains(&units) {
        Ok(units)
    } else {
        Err(Invalid::new(
            "pick_capacity_per_day",
            format!("must be a whole number from 0 to {STOCK_UNITS_MAX}"),
        ))
    }
}
