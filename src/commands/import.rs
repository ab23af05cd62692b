//! `allot import locations|skus FILE`: bulk create-or-update from CSV or NDJSON.
//!
//! The whole file is parsed and validated first; a bad row names its line and field and nothing
//! is written. Then rows are upserted in chunks inside one transaction, with a progress bar.

use super::progress;
use crate::app::{self, catalog, App};
use crate::config::Settings;
use crate::domain::codes::{LocationCode, SkuCode};
use crate::domain::location::{Location, LocationBody};
use crate::domain::sku::{Sku, SkuBody};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::io::BufRead;
use std::path::Path;

/// Rows one file may hold (a chain of 100,000 SKUs with room to grow).
pub const FILE_ROWS_MAX: usize = 2_000_000;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Kind {
    Locations,
    Skus,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("line {line}: {message}")]
    Row { line: usize, message: String },
    #[error("{0}")]
    Format(String),
    #[error(transparent)]
    Open(#[from] app::OpenError),
    #[error(transparent)]
    App(#[from] app::Error),
}

/// A location row: its code and the fields of the API body (flat, so CSV can carry it).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LocationRow {
    code: String,
    name: String,
    kind: crate::domain::location::LocationKind,
    latitude: f64,
    longitude: f64,
    pickup: bool,
    ship: bool,
    safety_stock: Option<i64>,
    #[serde(default)]
    handling_per_unit: Option<f64>,
    #[serde(default)]
    pick_capacity_per_day: Option<i64>,
    #[serde(default)]
    transfers_out: Option<bool>,
    #[serde(default)]
    low_stock_below: Option<i64>,
}

impl LocationRow {
    fn parse(self) -> Result<Location, crate::domain::Invalid> {
        let code = LocationCode::parse("code", &self.code)?;
        LocationBody {
            name: self.name,
            kind: self.kind,
            latitude: self.latitude,
            longitude: self.longitude,
            pickup: self.pickup,
            ship: self.ship,
            safety_stock: self.safety_stock,
            handling_per_unit: self.handling_per_unit,
            pick_capacity_per_day: self.pick_capacity_per_day,
            transfers_out: self.transfers_out,
            low_stock_below: self.low_stock_below,
        }
        .parse(code)
    }
}

pub async fn run(settings: &Settings, kind: Kind, path: &Path) -> Result<(), ImportError> {
    let app = App::open(settings, 2).await?;
    match kind {
        Kind::Locations => {
            let rows: Vec<Location> = read_rows(path, |line, row: LocationRow| {
                row.parse().map_err(|e| at(line, e))
            })?;
            let bar = progress(rows.len(), "locations");
            catalog::import_locations(&app, &rows, |written| bar.inc(written as u64)).await?;
            bar.finish();
        }
        Kind::Skus => {
            let rows: Vec<Sku> =
                read_rows(path, |line, row: Map<String, Value>| sku_row(line, row))?;
            let bar = progress(rows.len(), "SKUs");
            catalog::import_skus(&app, &rows, |written| bar.inc(written as u64)).await?;
            bar.finish();
        }
    }
    Ok(())
}

fn at(line: usize, invalid: crate::domain::Invalid) -> ImportError {
    ImportError::Row {
        line,
        message: invalid.to_string(),
    }
}

/// A SKU row: `code`, `name`, optional `attributes` object (NDJSON); any other CSV column
/// becomes an attribute.
fn sku_row(line: usize, mut row: Map<String, Value>) -> Result<Sku, ImportError> {
    // CSV guesses types, so a numeric code arrives as a number.
    let text = |row: &mut Map<String, Value>, field: &str| match row.remove(field) {
        Some(Value::String(text)) => Ok(text),
        Some(Value::Number(number)) => Ok(number.to_string()),
        _ => Err(ImportError::Row {
            line,
            message: format!("{field}: is required and must be text"),
        }),
    };
    let code = SkuCode::parse("code", &text(&mut row, "code")?).map_err(|e| at(line, e))?;
    let name = text(&mut row, "name")?;
    let attributes = match row.remove("attributes") {
        Some(Value::Object(attributes)) => attributes,
        Some(_) => {
            return Err(ImportError::Row {
                line,
                message: "attributes: must be an object".into(),
            })
        }
        None => row,
    };
    SkuBody {
        name,
        attributes: Some(attributes),
    }
    .parse(code)
    .map_err(|e| at(line, e))
}

fn read_rows<R: DeserializeOwned, T>(
    path: &Path,
    parse: impl Fn(usize, R) -> Result<T, ImportError>,
) -> Result<Vec<T>, ImportError> {
    let read_error = |source| ImportError::Read {
        path: path.display().to_string(),
        source,
    };
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default();
    let mut rows = Vec::new();
    let mut push = |row: T| {
        if rows.len() >= FILE_ROWS_MAX {
            return Err(ImportError::Format(format!(
                "a file may hold at most {FILE_ROWS_MAX} rows"
            )));
        }
        rows.push(row);
        Ok(())
    };
    match extension {
        "csv" => {
            let mut reader =
                csv::Reader::from_path(path).map_err(|e| ImportError::Format(e.to_string()))?;
            for (index, record) in reader.deserialize::<R>().enumerate() {
                let line = index + 2;
                let record = record.map_err(|e| ImportError::Row {
                    line,
                    message: e.to_string(),
                })?;
                push(parse(line, record)?)?;
            }
        }
        "ndjson" | "jsonl" => {
            let file = std::fs::File::open(path).map_err(read_error)?;
            for (index, text) in std::io::BufReader::new(file).lines().enumerate() {
                let line = index + 1;
                let text = text.map_err(read_error)?;
                if text.trim().is_empty() {
                    continue;
                }
                let record: R = serde_json::from_str(&text).map_err(|e| ImportError::Row {
                    line,
                    message: e.to_string(),
                })?;
                push(parse(line, record)?)?;
            }
        }
        _ => {
            return Err(ImportError::Format(
                "the file must end in .csv, .ndjson or .jsonl".into(),
            ))
        }
    }
    Ok(rows)
}
