//! A plan's report for people: JSON (totals, every line, every SKU skipped and why), CSV (one
//! row per proposed transfer) and an SVG chart of the stock spread of its top SKUs.

use crate::ledger::plans::{self, LineView, PlanSummary, Skipped};
use crate::ledger::Error as LedgerError;
use crate::planning::chart::spread_svg;
use deadpool_postgres::GenericClient;
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Serialize)]
struct Report<'a> {
    #[serde(flatten)]
    plan: &'a PlanSummary,
    transfers: &'a [LineView],
    skipped_skus: &'a [Skipped],
}

/// One row per line, after a header when `header` (a file's first part).
pub fn csv(lines: &[LineView], header: bool) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let mut writer = csv::WriterBuilder::new()
        .has_headers(header)
        .from_writer(Vec::new());
    for line in lines {
        writer.serialize(line)?;
    }
    Ok(writer.into_inner().map_err(|error| error.into_error())?)
}

/// The chart of one SKU of a plan: `None` when the plan does not move it.
pub async fn chart(
    client: &impl GenericClient,
    plan: &PlanSummary,
    sku: (i64, &str),
) -> Result<Option<String>, LedgerError> {
    let spread = plans::spread(client, plan.id, sku.0).await?;
    if spread.is_empty() {
        return Ok(None);
    }
    let title = format!("{} — plan {} ({} {})", sku.1, plan.id, plan.kind, plan.date);
    spread_svg(&title, &spread)
        .map(Some)
        .map_err(|message| LedgerError::Refused {
            field: "chart".into(),
            message,
        })
}

/// Writes the report files into `dir` and returns their paths.
pub async fn write(
    client: &impl GenericClient,
    plan: &PlanSummary,
    dir: &Path,
    charts: i64,
) -> Result<Vec<PathBuf>, Box<dyn std::error::Error>> {
    std::fs::create_dir_all(dir)?;
    let stem = format!("{}-{}-plan-{}", plan.kind, plan.date, plan.id);
    let lines = plans::lines(client, plan.id, None, None).await?;
    let skipped = plans::skipped(client, plan.id).await?;
    let json = dir.join(format!("{stem}.json"));
    let report = Report {
        plan,
        transfers: &lines,
        skipped_skus: &skipped,
    };
    std::fs::write(&json, serde_json::to_vec_pretty(&report)?)?;
    let csv_path = dir.join(format!("{stem}.csv"));
    std::fs::write(&csv_path, csv(&lines, true)?)?;
    let mut written = vec![json, csv_path];
    for (sku_id, code) in plans::top_skus(client, plan.id, charts).await? {
        if let Some(svg) = chart(client, plan, (sku_id, &code)).await? {
            let path = dir.join(format!("{stem}-{code}.svg"));
            std::fs::write(&path, svg)?;
            written.push(path);
        }
    }
    Ok(written)
}
