//! Bounds on the optimiser per instance: at most `solves_max` solves at once (a request that
//! waits longer than `wait` for one answers 503 with Retry-After), and at most `cells_max`
//! candidate locations × lines in one request (422 beyond).

use super::{App, Error, Result};
use crate::ledger::costs::Versioned;
use crate::routing::{self, Request, Routed};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// Seconds a client is told to wait when every solver is busy.
const BUSY_RETRY_AFTER_S: u64 = 1;

#[derive(Debug, Clone)]
pub struct Solvers {
    permits: Arc<Semaphore>,
    wait: Duration,
    cells_max: usize,
}

impl Solvers {
    pub fn new(solves_max: usize, wait: Duration, cells_max: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(solves_max)),
            wait,
            cells_max,
        }
    }

    /// A solver's permit, waiting at most `wait` for one.
    async fn permit(&self) -> Result<tokio::sync::OwnedSemaphorePermit> {
        let acquired = tokio::time::timeout(self.wait, self.permits.clone().acquire_owned());
        match acquired.await {
            Ok(Ok(permit)) => Ok(permit),
            // Timed out, or (never: it is not closed) the semaphore was closed.
            _ => Err(Error::Busy {
                retry_after_s: BUSY_RETRY_AFTER_S,
            }),
        }
    }
}

/// Routes `request` under the model `costs`, within the instance's solver bounds.
pub async fn route(app: &App, request: &Request, costs: &Versioned) -> Result<Routed> {
    let _permit = app.solvers.permit().await?;
    let bounds = routing::Bounds {
        cells_max: app.solvers.cells_max,
    };
    Ok(routing::route(&app.stock, &app.pool, &app.redis, request, costs, bounds).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_solve_beyond_the_limit_waits_then_is_told_to_retry() {
        let solvers = Solvers::new(1, Duration::from_millis(20), 10);
        let held = solvers.permit().await.expect("the first solve runs");
        let busy = solvers.permit().await;
        assert!(
            matches!(busy, Err(Error::Busy { retry_after_s: 1 })),
            "{busy:?}"
        );
        drop(held);
        assert!(
            solvers.permit().await.is_ok(),
            "a freed permit is taken again"
        );
    }
}
