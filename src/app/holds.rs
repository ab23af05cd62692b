//! Holds for carts: placed all-or-nothing in Redis against copies of the ledger's figures,
//! which this layer reads from the ledger when Redis lacks them.

use super::{App, Error, Result};
use crate::domain::access::{Principal, Scope};
use crate::domain::hold::{HoldLine, HoldRequest, HoldStatus, HoldView};
use crate::holds::{lifecycle, Base};
use crate::ledger::stock;

/// Attempts at placing a hold while Redis learns missing bases from the ledger.
const PLACE_ATTEMPTS_MAX: usize = 3;

/// Holds a cart's lines; `(view, replayed)` where `replayed` says its client id found an
/// earlier hold.
/// Holds a cart's lines for `by`, within its rate and its cap on live holds.
pub async fn place(app: &App, by: &Principal, request: &HoldRequest) -> Result<(HoldView, bool)> {
    by.require(Scope::WriteHolds)?;
    app.within_rate(by)?;
    place_as(app, by, request, HoldStatus::Held).await
}

/// Holds the units an order is about to write to the ledger (see `lifecycle::consume`).
pub(crate) async fn place_confirming(
    app: &App,
    by: &Principal,
    request: &HoldRequest,
) -> Result<HoldView> {
    Ok(place_as(app, by, request, HoldStatus::Confirming).await?.0)
}

async fn place_as(
    app: &App,
    by: &Principal,
    request: &HoldRequest,
    status: HoldStatus,
) -> Result<(HoldView, bool)> {
    let actor = by.actor.to_string();
    for _ in 0..PLACE_ATTEMPTS_MAX {
        match lifecycle::place(&app.redis, request, status, &actor).await {
            Err(lifecycle::Error::Missing(indexes)) => {
                let missing: Vec<&HoldLine> = indexes
                    .iter()
                    .filter_map(|index| request.lines.get(*index))
                    .collect();
                learn_bases(app, &missing).await?;
            }
            placed => {
                let (hold, fresh) = placed?;
                if status == HoldStatus::Held {
                    app.hold_changes.touched(&hold);
                }
                return Ok((hold, fresh));
            }
        }
    }
    Err(lifecycle::Error::Missing(Vec::new()).into())
}

/// Reads the ledger's figures for lines Redis does not know and stores them (newest wins).
async fn learn_bases(app: &App, lines: &[&HoldLine]) -> Result<()> {
    let pairs: Vec<(&str, &str)> = lines
        .iter()
        .map(|line| (line.sku.as_str(), line.location.as_str()))
        .collect();
    let read = stock::bases(&app.client().await?, &pairs).await?;
    let mut known = Vec::with_capacity(read.len());
    for (line, base) in lines.iter().zip(read) {
        match base {
            stock::Base::Known { base, version } => known.push(Base {
                sku: line.sku.as_str(),
                location: line.location.as_str(),
                units: base,
                version,
            }),
            stock::Base::UnknownSku => {
                return Err(Error::UnknownSku {
                    field: "lines.sku".into(),
                    code: line.sku.to_string(),
                })
            }
            stock::Base::UnknownLocation => {
                return Err(Error::UnknownLocation {
                    field: "lines.location".into(),
                    code: line.location.to_string(),
                })
            }
        }
    }
    Ok(lifecycle::learn(&app.redis, &known).await?)
}

pub async fn get(app: &App, id: &str) -> Result<HoldView> {
    Ok(lifecycle::get(&app.redis, id).await?)
}

pub async fn extend(app: &App, by: &Principal, id: &str, ttl_ms: i64) -> Result<HoldView> {
    by.require(Scope::WriteHolds)?;
    let hold = lifecycle::extend(&app.redis, id, ttl_ms).await?;
    app.hold_changes.touched(&hold);
    Ok(hold)
}

pub async fn release(app: &App, by: &Principal, id: &str) -> Result<HoldView> {
    by.require(Scope::WriteHolds)?;
    let hold = lifecycle::release(&app.redis, id).await?;
    app.hold_changes.touched(&hold);
    Ok(hold)
}
