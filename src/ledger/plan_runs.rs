//! The queue of planning runs in PostgreSQL: runs asked for by the API or the scheduler, the
//! per-kind turn (a session advisory lock), claiming the oldest queued run, and its result.

use super::{Cached, Error, Result};
use crate::domain::plan::{Failure, Kind, Outcome, RunStatus};
use chrono::{DateTime, NaiveDate, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;
use serde_json::Value;

/// Who the scheduler's runs are requested by (`Actor::System("scheduler")` as text).
pub const SCHEDULER: &str = "system:scheduler";

/// A queued run as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RunView {
    pub id: i64,
    pub kind: Kind,
    /// The night it plans.
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    pub status: RunStatus,
    /// `key:<id>`, `user:<name>` or `system:scheduler`.
    pub requested_by: String,
    /// Whether the run commits its plan (else a dry run that proposes).
    pub commit: bool,
    /// The plan it made or resumed, once finished.
    pub plan: Option<i64>,
    pub outcome: Option<Outcome>,
    pub failure: Option<Failure>,
    /// Why it failed.
    pub message: Option<String>,
    pub queued_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// A run a planner took to run.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: i64,
    pub params: Value,
    pub requested_by: String,
}

const VIEW: &str = "SELECT id, kind, run_date, status, requested_by, params, plan_id, outcome,
                           failure, message, queued_at, started_at, finished_at
                    FROM plan_runs";

/// Queues a run unless `queued_max` of its kind wait already (then `None`). Two callers racing
/// may both pass the count: the bound is on the order of the callers, not exact.
pub async fn enqueue(
    client: &impl GenericClient,
    kind: Kind,
    date: NaiveDate,
    params: &Value,
    requested_by: &str,
    queued_max: i64,
) -> Result<Option<i64>> {
    let row = client
        .cached_query_opt(
            "INSERT INTO plan_runs (kind, run_date, params, requested_by)
             SELECT $1, $2, $3, $4
             WHERE (SELECT count(*) FROM plan_runs WHERE kind = $1 AND status = 'queued') < $5
             RETURNING id",
            &[&kind.as_str(), &date, params, &requested_by, &queued_max],
        )
        .await?;
    Ok(row.map(|row| row.get(0)))
}

/// Queues the scheduler's run of `kind` for `date`, once however many instances ask.
pub async fn schedule(
    client: &impl GenericClient,
    kind: Kind,
    date: NaiveDate,
    params: &Value,
) -> Result<Option<i64>> {
    let row = client
        .cached_query_opt(
            "INSERT INTO plan_runs (kind, run_date, params, requested_by) VALUES ($1, $2, $3, $4)
             ON CONFLICT (kind, run_date) WHERE requested_by = 'system:scheduler' DO NOTHING
             RETURNING id",
            &[&kind.as_str(), &date, params, &SCHEDULER],
        )
        .await?;
    Ok(row.map(|row| row.get(0)))
}

/// Takes `kind`'s turn for this connection's session (re-entrant within it); a planner that dies
/// closes its connection and gives the turn up.
pub async fn try_turn(client: &impl GenericClient, kind: Kind) -> Result<bool> {
    Ok(client
        .cached_query_one(
            "SELECT pg_try_advisory_lock(hashtextextended($1, 0))",
            &[&turn_key(kind)],
        )
        .await?
        .get(0))
}

pub async fn end_turn(client: &impl GenericClient, kind: Kind) -> Result<()> {
    client
        .cached_query_one(
            "SELECT pg_advisory_unlock(hashtextextended($1, 0))",
            &[&turn_key(kind)],
        )
        .await?;
    Ok(())
}

fn turn_key(kind: Kind) -> String {
    format!("allot:plan-turn:{}", kind.as_str())
}

/// Under `kind`'s turn no run of it can be running: one marked so lost its planner (killed
/// instance) and waits again, first in line (its plan resumes where it stopped).
pub async fn requeue_orphans(client: &impl GenericClient, kind: Kind) -> Result<u64> {
    client
        .cached_execute(
            "UPDATE plan_runs SET status = 'queued', started_at = NULL
             WHERE kind = $1 AND status = 'running'",
            &[&kind.as_str()],
        )
        .await
}

/// Marks the oldest queued run of `kind` running and hands it over.
pub async fn claim(client: &impl GenericClient, kind: Kind) -> Result<Option<Claimed>> {
    let row = client
        .cached_query_opt(
            "UPDATE plan_runs SET status = 'running', started_at = now()
             WHERE id = (SELECT id FROM plan_runs WHERE kind = $1 AND status = 'queued'
                         ORDER BY id LIMIT 1)
             RETURNING id, params, requested_by",
            &[&kind.as_str()],
        )
        .await?;
    Ok(row.map(|row| Claimed {
        id: row.get(0),
        params: row.get(1),
        requested_by: row.get(2),
    }))
}

pub async fn finish(
    client: &impl GenericClient,
    id: i64,
    plan: i64,
    outcome: Outcome,
) -> Result<()> {
    client
        .cached_execute(
            "UPDATE plan_runs SET status = 'finished', plan_id = $2, outcome = $3,
                                  finished_at = now()
             WHERE id = $1 AND status = 'running'",
            &[&id, &plan, &outcome.as_str()],
        )
        .await?;
    Ok(())
}

pub async fn fail(
    client: &impl GenericClient,
    id: i64,
    failure: Failure,
    message: &str,
) -> Result<()> {
    let message: String = message.chars().take(2_000).collect();
    client
        .cached_execute(
            "UPDATE plan_runs SET status = 'failed', failure = $2, message = $3,
                                  finished_at = now()
             WHERE id = $1 AND status = 'running'",
            &[&id, &failure.as_str(), &message],
        )
        .await?;
    Ok(())
}

pub async fn get(client: &impl GenericClient, id: i64) -> Result<RunView> {
    let row = client
        .cached_query_opt(&format!("{VIEW} WHERE id = $1"), &[&id])
        .await?
        .ok_or_else(|| Error::NotFound(format!("no planning run {id}")))?;
    Ok(view(&row))
}

/// The newest runs first, of one kind or both.
pub async fn list(
    client: &impl GenericClient,
    kind: Option<Kind>,
    limit: i64,
) -> Result<Vec<RunView>> {
    let rows = client
        .cached_query(
            &format!("{VIEW} WHERE $1::text IS NULL OR kind = $1 ORDER BY id DESC LIMIT $2"),
            &[&kind.map(Kind::as_str), &limit],
        )
        .await?;
    Ok(rows.iter().map(view).collect())
}

/// A run row; the table's CHECK constraints keep its texts to the enums' values.
fn view(row: &tokio_postgres::Row) -> RunView {
    let kind: &str = row.get("kind");
    let status: &str = row.get("status");
    let params: Value = row.get("params");
    RunView {
        id: row.get("id"),
        kind: Kind::parse("kind", kind).expect("database CHECK keeps run kinds known"),
        date: row.get("run_date"),
        status: RunStatus::parse(status).expect("database CHECK keeps run statuses known"),
        requested_by: row.get("requested_by"),
        commit: params["commit"].as_bool().unwrap_or(false),
        plan: row.get("plan_id"),
        outcome: row
            .get::<_, Option<&str>>("outcome")
            .and_then(Outcome::parse),
        failure: row
            .get::<_, Option<&str>>("failure")
            .and_then(Failure::parse),
        message: row.get("message"),
        queued_at: row.get("queued_at"),
        started_at: row.get("started_at"),
        finished_at: row.get("finished_at"),
    }
}
