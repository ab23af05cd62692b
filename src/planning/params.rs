//! What a planning run may be told, from the CLI (flags) or the API (a JSON body): one struct
//! for both, every field optional, validated into settings with the chain's defaults.

use crate::domain::costs::CostModel;
pub use crate::domain::plan::{Demand, Kind};
use crate::domain::schema::{integer, number as number_schema, schema_rule};
use crate::domain::Invalid;
use allot_solver::rebalancing::RebalancingCosts;
use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// How far from today a run's date may be: plans use today's stock.
const DATE_DAYS_MAX: u64 = 7;

/// The night a run is for (today by default) and the instant its demand window ends.
pub fn run_date(
    raw: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(NaiveDate, DateTime<Utc>), Invalid> {
    let today = now.date_naive();
    let date = match raw {
        None => today,
        Some(raw) => NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .map_err(|_| Invalid::new("date", "must be a date as YYYY-MM-DD"))?,
    };
    let earliest = today.checked_sub_days(Days::new(DATE_DAYS_MAX));
    let latest = today.checked_add_days(Days::new(DATE_DAYS_MAX));
    if earliest.is_some_and(|earliest| date < earliest)
        || latest.is_some_and(|latest| date > latest)
    {
        return Err(Invalid::new(
            "date",
            format!(
                "must be within {DATE_DAYS_MAX} days of today ({today}): plans use today's stock"
            ),
        ));
    }
    let end_of_day = date
        .checked_add_days(Days::new(1))
        .and_then(|next| next.and_hms_opt(0, 0, 0))
        .map(|midnight| midnight.and_utc())
        .unwrap_or(now);
    Ok((date, end_of_day.min(now)))
}

/// A figure a run may be told: its default and its range, for the check and the document.
#[derive(Debug, Clone, Copy)]
struct Figure<T> {
    default: T,
    min: T,
    max: T,
}

impl<T> Figure<T> {
    const fn new(default: T, min: T, max: T) -> Self {
        Self { default, min, max }
    }
}

impl Figure<f64> {
    fn schema(self) -> utoipa::openapi::schema::ObjectBuilder {
        number_schema(self.min, self.max).default(Some(self.default.into()))
    }
}

impl Figure<i64> {
    fn schema(self) -> utoipa::openapi::schema::ObjectBuilder {
        integer(self.min, self.max).default(Some(self.default.into()))
    }
}

const WINDOW_DAYS: Figure<i64> = Figure::new(28, 1, 365);
schema_rule!(PlanWindowDays = WINDOW_DAYS.schema());
const HALF_LIFE_DAYS: Figure<f64> = Figure::new(7.0, 0.5, 365.0);
schema_rule!(PlanHalfLifeDays = HALF_LIFE_DAYS.schema());
const COVER_DAYS: Figure<f64> = Figure::new(14.0, 0.5, 365.0);
schema_rule!(PlanCoverDays = COVER_DAYS.schema());
const KEEP_DAYS: Figure<f64> = Figure::new(42.0, 0.5, 730.0);
schema_rule!(PlanKeepDays = KEEP_DAYS.schema());
const MARGIN_PER_UNIT: Figure<f64> = Figure::new(150.0, 0.0, 1e7);
schema_rule!(PlanMarginPerUnit = MARGIN_PER_UNIT.schema());
const TRANSFER_FIXED: Figure<f64> = Figure::new(70.0, 0.0, 1e7);
schema_rule!(PlanTransferFixed = TRANSFER_FIXED.schema());
const TRANSFER_PER_UNIT: Figure<f64> = Figure::new(1.0, 0.0, 1e6);
schema_rule!(PlanTransferPerUnit = TRANSFER_PER_UNIT.schema());
const TRANSFER_PER_UNIT_KM: Figure<f64> = Figure::new(0.05, 0.0, 1e4);
schema_rule!(PlanTransferPerUnitKm = TRANSFER_PER_UNIT_KM.schema());
const TRANSFER_KM_MAX: Figure<f64> = Figure::new(60.0, 0.0, 20_000.0);
schema_rule!(PlanTransferKmMax = TRANSFER_KM_MAX.schema());
const MIN_TRANSFER_QTY: Figure<i64> = Figure::new(2, 1, 1_000_000);
schema_rule!(PlanMinTransferQty = MIN_TRANSFER_QTY.schema());
const CHUNK_SKUS: Figure<i64> = Figure::new(1_000, 1, 100_000);
schema_rule!(PlanChunkSkus = CHUNK_SKUS.schema());
const COMMIT_BATCH: Figure<i64> = Figure::new(500, 1, 10_000);
schema_rule!(PlanCommitBatch = COMMIT_BATCH.schema());
const MIN_DAYS: Figure<f64> = Figure::new(7.0, 0.0, 365.0);
schema_rule!(PlanMinDays = MIN_DAYS.schema());
const TARGET_DAYS: Figure<f64> = Figure::new(21.0, 0.5, 365.0);
schema_rule!(PlanTargetDays = TARGET_DAYS.schema());
const BELOW_MIN_PER_UNIT: Figure<f64> = Figure::new(200.0, 0.0, 1e7);
schema_rule!(PlanBelowMinPerUnit = BELOW_MIN_PER_UNIT.schema());
const TO_TARGET_PER_UNIT: Figure<f64> = Figure::new(60.0, 0.0, 1e7);
schema_rule!(PlanToTargetPerUnit = TO_TARGET_PER_UNIT.schema());
const PICK_CAPACITY_UNITS: Figure<i64> = Figure::new(50_000, 1, 10_000_000);
schema_rule!(PlanPickCapacityUnits = PICK_CAPACITY_UNITS.schema());
const STORE_RECEIVE_UNITS: Figure<i64> = Figure::new(2_000, 1, 1_000_000);
schema_rule!(PlanStoreReceiveUnits = STORE_RECEIVE_UNITS.schema());
const TRUCK_CAPACITY_UNITS: Figure<i64> = Figure::new(1_000, 1, 1_000_000);
schema_rule!(PlanTruckCapacityUnits = TRUCK_CAPACITY_UNITS.schema());
const TRUCKS_PER_STORE: Figure<i64> = Figure::new(2, 1, 100);
schema_rule!(PlanTrucksPerStore = TRUCKS_PER_STORE.schema());
const TRUCK_COST: Figure<f64> = Figure::new(300.0, 0.0, 1e7);
schema_rule!(PlanTruckCost = TRUCK_COST.schema());
const HANDLING_PER_UNIT: Figure<f64> = Figure::new(6.0, 0.0, 1e6);
schema_rule!(PlanHandlingPerUnit = HANDLING_PER_UNIT.schema());

fn number(field: &str, value: Option<f64>, figure: Figure<f64>) -> Result<f64, Invalid> {
    let Figure { default, min, max } = figure;
    let value = value.unwrap_or(default);
    if !value.is_finite() || value < min || value > max {
        return Err(Invalid::new(
            field,
            format!("must be between {min} and {max}"),
        ));
    }
    Ok(value)
}

fn whole(field: &str, value: Option<i64>, figure: Figure<i64>) -> Result<i64, Invalid> {
    let Figure { default, min, max } = figure;
    let value = value.unwrap_or(default);
    if value < min || value > max {
        return Err(Invalid::new(
            field,
            format!("must be a whole number between {min} and {max}"),
        ));
    }
    Ok(value)
}

fn demand(window_days: Option<i64>, half_life_days: Option<f64>) -> Result<Demand, Invalid> {
    Ok(Demand {
        window_days: whole("window_days", window_days, WINDOW_DAYS)? as u32,
        half_life_days: number("half_life_days", half_life_days, HALF_LIFE_DAYS)?,
    })
}

/// Options of the nightly store-to-store rebalance.
#[derive(Debug, Clone, Default, Serialize, Deserialize, clap::Args, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RebalanceParams {
    /// The night this run is for, YYYY-MM-DD (default today, UTC).
    #[arg(long)]
    #[schema(value_type = Option<String>, format = Date)]
    pub date: Option<String>,
    /// Create the transfers (default: a dry run that only proposes them).
    #[arg(long, conflicts_with = "dry_run")]
    #[serde(default)]
    pub commit: bool,
    /// Only propose (the default); says so explicitly in a cron line.
    #[arg(long)]
    #[serde(skip)]
    pub dry_run: bool,
    /// Days of POS sales the demand looks at (default 28).
    #[arg(long)]
    #[schema(value_type = Option<PlanWindowDays>)]
    pub window_days: Option<i64>,
    /// Days after which a sale weighs half (default 7).
    #[arg(long)]
    #[schema(value_type = Option<PlanHalfLifeDays>)]
    pub half_life_days: Option<f64>,
    /// A store short of this many days of demand asks for units (default 14).
    #[arg(long)]
    #[schema(value_type = Option<PlanCoverDays>)]
    pub cover_days: Option<f64>,
    /// A store spares what it holds beyond this many days of demand (default 42).
    #[arg(long)]
    #[schema(value_type = Option<PlanKeepDays>)]
    pub keep_days: Option<f64>,
    /// Margin per unit moved to where it sells, for SKUs without a `margin` attribute (default 150).
    #[arg(long)]
    #[schema(value_type = Option<PlanMarginPerUnit>)]
    pub margin_per_unit: Option<f64>,
    /// Cost of one transfer (default 70).
    #[arg(long)]
    #[schema(value_type = Option<PlanTransferFixed>)]
    pub transfer_fixed: Option<f64>,
    /// Cost per unit moved (default 1).
    #[arg(long)]
    #[schema(value_type = Option<PlanTransferPerUnit>)]
    pub transfer_per_unit: Option<f64>,
    /// Cost per unit per km (default 0.05).
    #[arg(long)]
    #[schema(value_type = Option<PlanTransferPerUnitKm>)]
    pub transfer_per_unit_km: Option<f64>,
    /// Stores farther apart than this never exchange stock (default 60 km).
    #[arg(long)]
    #[schema(value_type = Option<PlanTransferKmMax>)]
    pub transfer_km_max: Option<f64>,
    /// Fewer units are not worth a transfer (default 2).
    #[arg(long)]
    #[schema(value_type = Option<PlanMinTransferQty>)]
    pub min_transfer_qty: Option<i64>,
    /// SKUs planned and saved together (default 1000); a crash loses at most one chunk's work.
    #[arg(long)]
    #[schema(value_type = Option<PlanChunkSkus>)]
    pub chunk_skus: Option<i64>,
    /// Plan lines committed per transaction (default 500).
    #[arg(long)]
    #[schema(value_type = Option<PlanCommitBatch>)]
    pub commit_batch: Option<i64>,
}

/// Validated rebalance settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rebalance {
    pub demand: Demand,
    pub cover_days: f64,
    pub keep_days: f64,
    pub margin_per_unit: f64,
    pub costs: RebalancingCosts,
    pub min_transfer_qty: i64,
    pub chunk_skus: i64,
    pub commit_batch: i64,
    /// Store-to-store transfers as the run's cost model prices them (their lead times).
    pub lane: crate::domain::costs::Lane,
}

impl RebalanceParams {
    pub fn validated(&self) -> Result<Rebalance, Invalid> {
        let cover_days = number("cover_days", self.cover_days, COVER_DAYS)?;
        let keep_days = number("keep_days", self.keep_days, KEEP_DAYS)?;
        if keep_days < cover_days {
            return Err(Invalid::new("keep_days", "must be at least cover_days"));
        }
        Ok(Rebalance {
            demand: demand(self.window_days, self.half_life_days)?,
            cover_days,
            keep_days,
            margin_per_unit: number("margin_per_unit", self.margin_per_unit, MARGIN_PER_UNIT)?,
            costs: RebalancingCosts {
                transfer_fixed: number("transfer_fixed", self.transfer_fixed, TRANSFER_FIXED)?,
                transfer_per_unit: number(
                    "transfer_per_unit",
                    self.transfer_per_unit,
                    TRANSFER_PER_UNIT,
                )?,
                transfer_per_unit_km: number(
                    "transfer_per_unit_km",
                    self.transfer_per_unit_km,
                    TRANSFER_PER_UNIT_KM,
                )?,
                transfer_km_max: number("transfer_km_max", self.transfer_km_max, TRANSFER_KM_MAX)?,
            },
            min_transfer_qty: whole("min_transfer_qty", self.min_transfer_qty, MIN_TRANSFER_QTY)?,
            chunk_skus: whole("chunk_skus", self.chunk_skus, CHUNK_SKUS)?,
            commit_batch: whole("commit_batch", self.commit_batch, COMMIT_BATCH)?,
            lane: CostModel::default().transfer.from_store,
        })
    }
}

/// Options of the warehouse-to-stores replenishment.
#[derive(Debug, Clone, Default, Serialize, Deserialize, clap::Args, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplenishParams {
    /// The day this run is for, YYYY-MM-DD (default today, UTC).
    #[arg(long)]
    #[schema(value_type = Option<String>, format = Date)]
    pub date: Option<String>,
    /// Create the transfers (default: a dry run that only proposes them).
    #[arg(long, conflicts_with = "dry_run")]
    #[serde(default)]
    pub commit: bool,
    /// Only propose (the default).
    #[arg(long)]
    #[serde(skip)]
    pub dry_run: bool,
    /// The warehouse that ships (default: the chain's only warehouse).
    #[arg(long)]
    #[schema(value_type = Option<crate::domain::codes::LocationCode>)]
    pub warehouse: Option<String>,
    /// Days of POS sales the demand looks at (default 28).
    #[arg(long)]
    #[schema(value_type = Option<PlanWindowDays>)]
    pub window_days: Option<i64>,
    /// Days after which a sale weighs half (default 7).
    #[arg(long)]
    #[schema(value_type = Option<PlanHalfLifeDays>)]
    pub half_life_days: Option<f64>,
    /// Below this many days of demand a store is short (default 7).
    #[arg(long)]
    #[schema(value_type = Option<PlanMinDays>)]
    pub min_days: Option<f64>,
    /// Stores are topped up to this many days of demand (default 21).
    #[arg(long)]
    #[schema(value_type = Option<PlanTargetDays>)]
    pub target_days: Option<f64>,
    /// Units the warehouse can pick today (default 50,000).
    #[arg(long)]
    #[schema(value_type = Option<PlanPickCapacityUnits>)]
    pub pick_capacity_units: Option<i64>,
    /// Units one store can receive today (default 2,000).
    #[arg(long)]
    #[schema(value_type = Option<PlanStoreReceiveUnits>)]
    pub store_receive_units: Option<i64>,
    /// Units one truck carries (default 1,000).
    #[arg(long)]
    #[schema(value_type = Option<PlanTruckCapacityUnits>)]
    pub truck_capacity_units: Option<i64>,
    /// Trucks one store can receive today (default 2).
    #[arg(long)]
    #[schema(value_type = Option<PlanTrucksPerStore>)]
    pub trucks_per_store: Option<i64>,
    /// Cost of one truck to a store (default 300).
    #[arg(long)]
    #[schema(value_type = Option<PlanTruckCost>)]
    pub truck_cost: Option<f64>,
    /// Warehouse handling per unit sent (default 6).
    #[arg(long)]
    #[schema(value_type = Option<PlanHandlingPerUnit>)]
    pub handling_per_unit: Option<f64>,
    /// What a unit lifting a store from below its minimum is worth (default 200).
    #[arg(long)]
    #[schema(value_type = Option<PlanBelowMinPerUnit>)]
    pub below_min_per_unit: Option<f64>,
    /// What a unit from the minimum towards the target is worth (default 60).
    #[arg(long)]
    #[schema(value_type = Option<PlanToTargetPerUnit>)]
    pub to_target_per_unit: Option<f64>,
}

/// Validated replenishment settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Replenish {
    pub warehouse: Option<String>,
    pub demand: Demand,
    pub min_days: f64,
    pub target_days: f64,
    pub pick_capacity_units: i64,
    pub store_receive_units: i64,
    pub truck_capacity_units: i64,
    pub trucks_per_store: i64,
    pub truck_cost: f64,
    pub handling_per_unit: f64,
    pub below_min_per_unit: f64,
    pub to_target_per_unit: f64,
    /// Warehouse-to-store transfers as the run's cost model prices them (their lead times).
    pub lane: crate::domain::costs::Lane,
}

impl ReplenishParams {
    pub fn validated(&self) -> Result<Replenish, Invalid> {
        let warehouse = match &self.warehouse {
            Some(code) => {
                Some(crate::domain::codes::LocationCode::parse("warehouse", code)?.to_string())
            }
            None => None,
        };
        let min_days = number("min_days", self.min_days, MIN_DAYS)?;
        let target_days = number("target_days", self.target_days, TARGET_DAYS)?;
        if target_days < min_days {
            return Err(Invalid::new("target_days", "must be at least min_days"));
        }
        let below_min_per_unit = number(
            "below_min_per_unit",
            self.below_min_per_unit,
            BELOW_MIN_PER_UNIT,
        )?;
        let to_target_per_unit = number(
            "to_target_per_unit",
            self.to_target_per_unit,
            TO_TARGET_PER_UNIT,
        )?;
        if to_target_per_unit > below_min_per_unit {
            return Err(Invalid::new(
                "to_target_per_unit",
                "must not exceed below_min_per_unit (minimums are filled first)",
            ));
        }
        Ok(Replenish {
            warehouse,
            demand: demand(self.window_days, self.half_life_days)?,
            min_days,
            target_days,
            pick_capacity_units: whole(
                "pick_capacity_units",
                self.pick_capacity_units,
                PICK_CAPACITY_UNITS,
            )?,
            store_receive_units: whole(
                "store_receive_units",
                self.store_receive_units,
                STORE_RECEIVE_UNITS,
            )?,
            truck_capacity_units: whole(
                "truck_capacity_units",
                self.truck_capacity_units,
                TRUCK_CAPACITY_UNITS,
            )?,
            trucks_per_store: whole("trucks_per_store", self.trucks_per_store, TRUCKS_PER_STORE)?,
            truck_cost: number("truck_cost", self.truck_cost, TRUCK_COST)?,
            handling_per_unit: number(
                "handling_per_unit",
                self.handling_per_unit,
                HANDLING_PER_UNIT,
            )?,
            below_min_per_unit,
            to_target_per_unit,
            lane: CostModel::default().transfer.from_warehouse,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_run_date_defaults_to_today_and_ends_its_window_now() {
        let now = Utc::now();
        let (date, as_of) = run_date(None, now).expect("today is a valid date");
        assert_eq!((date, as_of), (now.date_naive(), now));
    }

    #[test]
    fn a_past_night_ends_its_window_at_midnight() {
        let now = "2026-11-24T10:00:00Z"
            .parse::<DateTime<Utc>>()
            .expect("a time");
        let (_, as_of) = run_date(Some("2026-11-22"), now).expect("two days ago is valid");
        assert_eq!(as_of.to_rfc3339(), "2026-11-23T00:00:00+00:00");
    }

    #[test]
    fn bad_options_name_their_field() {
        let now = Utc::now();
        assert_eq!(run_date(Some("24/11/2026"), now).unwrap_err().field, "date");
        assert_eq!(run_date(Some("1999-01-01"), now).unwrap_err().field, "date");
        let params = RebalanceParams {
            cover_days: Some(30.0),
            keep_days: Some(10.0),
            ..Default::default()
        };
        assert_eq!(params.validated().unwrap_err().field, "keep_days");
        let params = RebalanceParams {
            transfer_fixed: Some(f64::NAN),
            ..Default::default()
        };
        assert_eq!(params.validated().unwrap_err().field, "transfer_fixed");
        let params = ReplenishParams {
            trucks_per_store: Some(0),
            ..Default::default()
        };
        assert_eq!(params.validated().unwrap_err().field, "trucks_per_store");
    }
}
