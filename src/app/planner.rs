//! The planner: every instance runs queued planning runs off the request pool, one kind at a
//! time per chain (the kind's turn), oldest first, and queues the scheduled nightly runs.
//! A killed instance leaves its run `running`; the next planner to take the turn queues it
//! again first, and its plan resumes where it stopped.

use super::App;
use crate::domain::access::Actor;
use crate::domain::plan::{Failure, Kind};
use crate::jobs;
use crate::ledger::{plan_runs, Error as LedgerError};
use chrono::{NaiveTime, Utc};
use serde_json::{json, Value};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

/// How often an idle planner looks for runs another instance queued.
pub const POLL_INTERVAL: Duration = Duration::from_secs(2);
/// Runs of one kind that may wait at once; more are refused (503) until some have run.
pub const QUEUED_RUNS_MAX: i64 = 8;

/// The planners of both kinds, for the life of the process.
pub async fn run(app: Arc<App>) {
    let kinds = [Kind::Rebalance, Kind::Replenishment];
    let planners = kinds.map(|kind| {
        let app = app.clone();
        let span = tracing::info_span!("planner", kind = kind.as_str());
        tokio::spawn(async move { plan_forever(&app, kind).instrument(span).await })
    });
    for planner in planners {
        if let Err(error) = planner.await {
            tracing::error!(%error, "a planner stopped");
        }
    }
}

async fn plan_forever(app: &App, kind: Kind) {
    loop {
        if let Err(error) = schedule(app, kind).await {
            tracing::warn!(%error, "queueing the scheduled run failed");
        }
        if let Err(error) = drain(app, kind).await {
            tracing::warn!(%error, "running queued plans failed");
        }
        let _ = tokio::time::timeout(POLL_INTERVAL, app.planner_wake.notified()).await;
    }
}

/// Queues today's scheduled run of `kind` once its time has come (once per night, whichever
/// instance gets there first).
async fn schedule(app: &App, kind: Kind) -> Result<(), LedgerError> {
    let Some(at) = app
        .schedule
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, at)| *at)
    else {
        return Ok(());
    };
    let now = Utc::now();
    if now.time() < at {
        return Ok(());
    }
    let today = now.date_naive();
    let params = scheduled_params(today);
    let client = app.planning_pool.get().await?;
    if let Some(id) = plan_runs::schedule(&client, kind, today, &params).await? {
        tracing::info!(run = id, %today, "queued the scheduled run");
    }
    Ok(())
}

/// A scheduled run commits tonight's plan with the chain's default parameters.
fn scheduled_params(today: chrono::NaiveDate) -> Value {
    json!({"date": today.to_string(), "commit": true})
}

/// While this instance has `kind`'s turn: the runs queued for it, one after another.
async fn drain(app: &App, kind: Kind) -> Result<(), LedgerError> {
    let client = app.planning_pool.get().await?;
    if !plan_runs::try_turn(&client, kind).await? {
        return Ok(());
    }
    let drained = async {
        let orphans = plan_runs::requeue_orphans(&client, kind).await?;
        if orphans > 0 {
            tracing::warn!(orphans, "queued again the runs of a planner that stopped");
        }
        while let Some(claimed) = plan_runs::claim(&client, kind).await? {
            execute(app, &client, kind, claimed).await?;
        }
        Ok(())
    }
    .await;
    plan_runs::end_turn(&client, kind).await?;
    drained
}

async fn execute(
    app: &App,
    client: &deadpool_postgres::Object,
    kind: Kind,
    claimed: plan_runs::Claimed,
) -> Result<(), LedgerError> {
    let span = tracing::info_span!("plan_run", run = claimed.id);
    let Some(actor) = Actor::parse(&claimed.requested_by) else {
        let message = format!("unknown requester '{}'", claimed.requested_by);
        return plan_runs::fail(client, claimed.id, Failure::Fault, &message).await;
    };
    // Boxed as a `dyn Future`: inline, the run's future is deep enough to overflow the
    // compiler's `Send` check of the spawned planner.
    let running: std::pin::Pin<Box<dyn Future<Output = jobs::Result<jobs::Run>> + Send + '_>> =
        Box::pin(jobs::run_queued(app, client, kind, claimed.params, &actor));
    let ran = running.instrument(span).await;
    match ran {
        Ok(run) => plan_runs::finish(client, claimed.id, run.plan.id, run.outcome).await,
        Err(error) => {
            let failure = match &error {
                jobs::Error::Ledger(LedgerError::Conflict(_) | LedgerError::Invalid(_)) => {
                    Failure::Conflict
                }
                _ => Failure::Fault,
            };
            tracing::warn!(run = claimed.id, %error, "a queued run failed");
            plan_runs::fail(client, claimed.id, failure, &error.to_string()).await
        }
    }
}

/// `HH:MM` (UTC), as `ALLOT_REBALANCE_AT` and `ALLOT_REPLENISH_AT` give it.
pub fn parse_time(raw: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(raw, "%H:%M").map_err(|_| format!("'{raw}' is not HH:MM (UTC)"))
}
