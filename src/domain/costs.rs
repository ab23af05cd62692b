//! The chain's cost model: what a parcel, a pick, a van run, a customer's wait and a store's last
//! units cost, in one currency (e.g. TWD), and how long picks and transfers take. An admin sets
//! it (`PUT /v1/settings/costs`); every version is kept, and each decision records the version
//! it was made with. [`CostModel::default`] is the seeded first version.

use super::location::LocationKind;
use super::schema::{integer, number, schema_rule};
use super::Invalid;
use serde::{Deserialize, Serialize};

/// Largest money figure accepted (per parcel, per unit, per hour…): far above any real cost,
/// small enough that sums over an order stay exact in `f64`.
pub const MONEY_MAX: f64 = 1.0e7;
/// Longest handling or lane time accepted, in hours: the solver's limit.
pub const HOURS_MAX: f64 = allot_solver::LEAD_TIME_HOURS_MAX;
/// Most days of a store's own sales it may keep back from online orders.
pub const COVER_DAYS_MAX: f64 = 60.0;
/// Most units a store keeps back regardless of its sales.
pub const PROTECTED_UNITS_MAX: i64 = 1_000;
/// Most hours a lane's lead time grows per km, so a lane across the country stays below the
/// solver's limit.
pub const HOURS_PER_KM_MAX: f64 = 1.0;

schema_rule!(
    /// An amount of money, from 0 to `MONEY_MAX`.
    Money = number(0.0, MONEY_MAX)
);
schema_rule!(
    /// Hours, from 0 to the solver's lead-time limit.
    Hours = number(0.0, HOURS_MAX)
);
schema_rule!(
    /// Hours per km of a lane.
    HoursPerKm = number(0.0, HOURS_PER_KM_MAX)
);
schema_rule!(
    /// Days of a store's own sales.
    CoverDays = number(0.0, COVER_DAYS_MAX)
);
schema_rule!(
    /// Units a store keeps back.
    ProtectedUnits = integer(0, PROTECTED_UNITS_MAX)
);
schema_rule!(
    /// An amount of money above 0.
    PositiveMoney = number(0.0, MONEY_MAX)
        .minimum(None::<f64>)
        .exclusive_minimum(Some(0.0))
);

/// The version number of a stored cost model; versions only grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CostVersion(pub i64);

/// The cost model, as the wire contract spells it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CostModel {
    pub parcel: Parcel,
    /// Each source beyond the first (an extra parcel or pickup batch).
    #[schema(value_type = Money)]
    pub split_penalty: f64,
    /// The customer's wait, per hour until each parcel leaves or each pickup batch is ready.
    #[schema(value_type = Money)]
    pub wait_per_hour: f64,
    pub handling: Handling,
    pub transfer: Transfers,
    pub protection: Protection,
    /// Per unit left unfulfilled when the customer accepts a partial order; must be positive.
    #[schema(value_type = PositiveMoney)]
    pub unfulfilled_per_unit: f64,
}

/// One parcel to a customer: a fixed fee, plus per unit, plus per unit per kilometre.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Parcel {
    #[schema(value_type = Money)]
    pub fixed: f64,
    #[schema(value_type = Money)]
    pub per_unit: f64,
    #[schema(value_type = Money)]
    pub per_unit_km: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Handling {
    pub store: Pick,
    pub warehouse: Pick,
}

/// Picking and packing at one kind of location: per unit, and hours until the units can leave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Pick {
    #[schema(value_type = Money)]
    pub per_unit: f64,
    #[schema(value_type = Hours)]
    pub hours: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Transfers {
    pub from_warehouse: Lane,
    pub from_store: Lane,
}

/// A transfer into a store: fixed per run plus per km of the run, per unit plus per unit·km;
/// it takes `hours` plus `hours_per_km` per km.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Lane {
    #[schema(value_type = Money)]
    pub fixed: f64,
    #[serde(default)]
    #[schema(value_type = Money)]
    pub per_km: f64,
    #[schema(value_type = Money)]
    pub per_unit: f64,
    #[schema(value_type = Money)]
    pub per_unit_km: f64,
    #[schema(value_type = Hours)]
    pub hours: f64,
    #[serde(default)]
    #[schema(value_type = HoursPerKm)]
    pub hours_per_km: f64,
}

/// A store's last units of a SKU are worth keeping for walk-in customers: the store keeps back
/// `units`, or `cover_days` of its own sales of the SKU if more, and each unit an online order
/// takes from below that level costs `per_unit`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Protection {
    #[schema(value_type = ProtectedUnits)]
    pub units: i64,
    #[schema(value_type = Money)]
    pub per_unit: f64,
    #[serde(default)]
    #[schema(value_type = CoverDays)]
    pub cover_days: f64,
}

/// What one transfer over a lane costs and takes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LaneCost {
    pub fixed: f64,
    pub per_unit: f64,
    pub lead_time_hours: f64,
}

impl Default for CostModel {
    /// The seeded model: a store manager's choices (units on the pickup shelf are handed over,
    /// a store across town sends a courier rather than the customer waiting a day for the truck).
    fn default() -> Self {
        let pick = |per_unit, hours| Pick { per_unit, hours };
        Self {
            parcel: Parcel {
                fixed: 80.0,
                per_unit: 0.0,
                per_unit_km: 0.6,
            },
            split_penalty: 60.0,
            wait_per_hour: 10.0,
            handling: Handling {
                store: pick(15.0, 0.5),
                warehouse: pick(6.0, 4.0),
            },
            transfer: Transfers {
                from_warehouse: Lane {
                    fixed: 50.0,
                    per_km: 0.0,
                    per_unit: 2.0,
                    per_unit_km: 0.0,
                    hours: 24.0,
                    hours_per_km: 0.0,
                },
                from_store: Lane {
                    fixed: 70.0,
                    per_km: 2.0,
                    per_unit: 1.0,
                    per_unit_km: 0.0,
                    hours: 2.0,
                    hours_per_km: 0.04,
                },
            },
            protection: Protection {
                units: 1,
                per_unit: 25.0,
                cover_days: 2.0,
            },
            unfulfilled_per_unit: 1_000.0,
        }
    }
}

impl CostModel {
    /// Checks every figure; the error names the first bad field (`transfer.from_store.hours`).
    pub fn validate(&self) -> Result<(), Invalid> {
        money("parcel.fixed", self.parcel.fixed)?;
        money("parcel.per_unit", self.parcel.per_unit)?;
        money("parcel.per_unit_km", self.parcel.per_unit_km)?;
        money("split_penalty", self.split_penalty)?;
        money("wait_per_hour", self.wait_per_hour)?;
        for (name, pick) in [
            ("store", &self.handling.store),
            ("warehouse", &self.handling.warehouse),
        ] {
            money(&format!("handling.{name}.per_unit"), pick.per_unit)?;
            hours(&format!("handling.{name}.hours"), pick.hours)?;
        }
        for (name, lane) in [
            ("from_warehouse", &self.transfer.from_warehouse),
            ("from_store", &self.transfer.from_store),
        ] {
            lane.validate()
                .map_err(|e| e.within(&format!("transfer.{name}")))?;
        }
        self.protection
            .validate()
            .map_err(|e| e.within("protection"))?;
        money("unfulfilled_per_unit", self.unfulfilled_per_unit)?;
        if self.unfulfilled_per_unit == 0.0 {
            // Otherwise leaving a partial order unfulfilled would be free, hence optimal.
            return Err(Invalid::new("unfulfilled_per_unit", "must be above 0"));
        }
        Ok(())
    }

    pub fn pick(&self, kind: LocationKind) -> &Pick {
        match kind {
            LocationKind::Store => &self.handling.store,
            LocationKind::Warehouse => &self.handling.warehouse,
        }
    }

    /// A transfer from a location of kind `from` over `distance_km`.
    pub fn lane(&self, from: LocationKind, distance_km: f64) -> LaneCost {
        let lane = match from {
            LocationKind::Warehouse => &self.transfer.from_warehouse,
            LocationKind::Store => &self.transfer.from_store,
        };
        LaneCost {
            fixed: lane.fixed + lane.per_km * distance_km,
            per_unit: lane.per_unit + lane.per_unit_km * distance_km,
            lead_time_hours: lane.lead_time_hours(distance_km),
        }
    }
}

impl Lane {
    /// Hours a transfer over `distance_km` takes.
    pub fn lead_time_hours(&self, distance_km: f64) -> f64 {
        (self.hours + self.hours_per_km * distance_km).min(HOURS_MAX)
    }

    fn validate(&self) -> Result<(), Invalid> {
        money("fixed", self.fixed)?;
        money("per_km", self.per_km)?;
        money("per_unit", self.per_unit)?;
        money("per_unit_km", self.per_unit_km)?;
        hours("hours", self.hours)?;
        bounded("hours_per_km", self.hours_per_km, HOURS_PER_KM_MAX)
    }
}

impl Protection {
    fn validate(&self) -> Result<(), Invalid> {
        if !(0..=PROTECTED_UNITS_MAX).contains(&self.units) {
            return Err(Invalid::new(
                "units",
                format!("must be a whole number from 0 to {PROTECTED_UNITS_MAX}"),
            ));
        }
        money("per_unit", self.per_unit)?;
        bounded("cover_days", self.cover_days, COVER_DAYS_MAX)
    }

    /// Units a store keeps back of a SKU it sells `sold_per_day` of (walk-in sales).
    pub fn units_for(&self, sold_per_day: f64) -> i64 {
        let cover = (sold_per_day.max(0.0) * self.cover_days).ceil();
        // Both factors are bounded, so the product fits; the cap keeps it a sane level.
        self.units.max((cover as i64).min(PROTECTED_UNITS_MAX))
    }
}

fn money(field: &str, value: f64) -> Result<(), Invalid> {
    bounded(field, value, MONEY_MAX)
}

fn hours(field: &str, value: f64) -> Result<(), Invalid> {
    bounded(field, value, HOURS_MAX)
}

fn bounded(field: &str, value: f64, max: f64) -> Result<(), Invalid> {
    if value.is_finite() && (0.0..=max).contains(&value) {
        Ok(())
    } else {
        Err(Invalid::new(
            field,
            format!("must be a number from 0 to {max}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seeded_model_is_valid_and_a_bad_figure_is_named() {
        let model = CostModel::default();
        assert_eq!(model.validate(), Ok(()));
        let mut bad = model.clone();
        bad.transfer.from_store.hours = -1.0;
        assert_eq!(
            bad.validate().unwrap_err().field,
            "transfer.from_store.hours"
        );
        let mut bad = model.clone();
        bad.protection.units = -1;
        assert_eq!(bad.validate().unwrap_err().field, "protection.units");
        let mut bad = model;
        bad.wait_per_hour = f64::NAN;
        assert_eq!(bad.validate().unwrap_err().field, "wait_per_hour");
    }

    #[test]
    fn a_lane_from_a_store_grows_with_the_distance() {
        let model = CostModel::default();
        let near = model.lane(LocationKind::Store, 1.0);
        let far = model.lane(LocationKind::Store, 20.0);
        assert!(far.fixed > near.fixed && far.lead_time_hours > near.lead_time_hours);
        let truck = model.lane(LocationKind::Warehouse, 90.0);
        assert_eq!((truck.fixed, truck.lead_time_hours), (50.0, 24.0));
    }

    #[test]
    fn a_store_that_sells_a_sku_keeps_more_of_it_back() {
        let protection = CostModel::default().protection;
        assert_eq!(protection.units_for(0.0), 1);
        assert_eq!(protection.units_for(3.0), 6);
        assert!(protection.units_for(1.0e300) <= PROTECTED_UNITS_MAX);
    }
}
