//! `allot rebalance` and `allot replenish`: run a plan from a terminal or cron, print what
//! happened, and write its report files.

use crate::app::plans::{self, Outcome, RebalanceParams, ReplenishParams, Run};
use crate::app::App;
use crate::config::Settings;
use crate::domain::access::Principal;
use crate::jobs::report;
use std::path::Path;

/// Which run, with its options.
pub enum Which {
    Rebalance(RebalanceParams),
    Replenish(ReplenishParams),
}

pub async fn run(
    settings: &Settings,
    which: Which,
    report_dir: &Path,
) -> Result<(), Box<dyn std::error::Error>> {
    // A committed plan's allocations reach Redis as the service's own writes do.
    let app = App::open(settings, 4).await?;
    let bar = super::progress(0, "SKUs");
    let by = Principal::system("cli");
    let Run { outcome, plan } = match &which {
        Which::Rebalance(params) => plans::rebalance(&app, &by, params, &bar).await?,
        Which::Replenish(params) => plans::replenish(&app, &by, params, &bar).await?,
    };
    bar.finish_and_clear();
    let t = &plan.totals;
    match outcome {
        Outcome::AlreadyCommitted => println!(
            "plan {} for {} was committed at {}; this run did nothing",
            plan.id,
            plan.date,
            plan.committed_at
                .map(|at| at.to_rfc3339())
                .unwrap_or_default()
        ),
        Outcome::Planned | Outcome::Resumed => {
            let resumed = if outcome == Outcome::Resumed {
                " (resumed)"
            } else {
                ""
            };
            println!(
                "plan {} {} for {}{resumed}: {}; {} transfers, {} units, gain {:.0}, cost {:.0}, \
                 net {:.0} (greedy baseline {:.0}); {} of {} SKUs planned",
                plan.id,
                plan.kind,
                plan.date,
                plan.status.as_str(),
                t.transfers,
                t.units,
                t.gain,
                t.cost,
                t.net,
                t.greedy_net,
                t.skus_planned,
                t.skus_considered
            );
            for skipped in &plan.skipped {
                println!("  skipped {}: {} SKUs", skipped.reason, skipped.skus);
            }
        }
    }
    let client = app.pool.get().await.map_err(crate::ledger::Error::from)?;
    for path in report::write(&client, &plan, report_dir, 3).await? {
        println!("  wrote {}", path.display());
    }
    Ok(())
}
