//! The ledger by month (sql/V18): each month's partition made ahead of time, and old months
//! detached behind a checkpoint of their sums.

use super::{Error, Result};
use crate::domain::month::Month;
use deadpool_postgres::GenericClient;
use tokio_postgres::error::SqlState;

/// How long partition upkeep and retention wait for a lock on `movements` before giving up:
/// waiting longer would hold up every write queued behind them.
const LOCK_WAIT: &str = "SET LOCAL lock_timeout = '5s'";

/// Makes the partitions of `months` that do not exist yet, each in its own transaction; says
/// how many it made.
pub async fn create_partitions(
    client: &mut deadpool_postgres::Client,
    months: &[Month],
) -> Result<usize> {
    let mut made = 0;
    for month in months {
        let transaction = client.transaction().await?;
        transaction.batch_execute(LOCK_WAIT).await?;
        let created: bool = transaction
            .query_one(
                "SELECT create_movement_partition($1)",
                &[&month.first_day()],
            )
            .await?
            .get(0);
        transaction.commit().await?;
        made += usize::from(created);
    }
    Ok(made)
}

/// One month taken out of the ledger: its table and the movements it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Archive {
    pub table: String,
    pub movements: i64,
}

/// Detaches every month before `before` inside the caller's transaction (see
/// `detach_movements_before` in sql/V18). The database's refusals are the caller's errors.
pub async fn detach_before(
    transaction: &impl GenericClient,
    before: Month,
) -> Result<Vec<Archive>> {
    transaction.batch_execute(LOCK_WAIT).await?;
    let rows = transaction
        .query(
            "SELECT archive, rows FROM detach_movements_before($1)",
            &[&before.start()],
        )
        .await
        .map_err(refused)?;
    Ok(rows
        .iter()
        .map(|row| Archive {
            table: row.get(0),
            movements: row.get(1),
        })
        .collect())
}

fn refused(error: tokio_postgres::Error) -> Error {
    let Some(db) = error.as_db_error() else {
        return error.into();
    };
    match *db.code() {
        SqlState::INVALID_PARAMETER_VALUE => Error::Refused {
            field: "before".into(),
            message: db.message().trim_start_matches("through: ").to_owned(),
        },
        SqlState::DATA_EXCEPTION => Error::Conflict(db.message().to_owned()),
        SqlState::LOCK_NOT_AVAILABLE => Error::Conflict(
            "the ledger is busy: a lock on it was not granted in 5 s; nothing detached, try again"
                .into(),
        ),
        _ => error.into(),
    }
}
