//! Bounds on the optimiser per instance: at most `solves_max` solves at once (a request that
//! waits longer than `wait` for one answers 503 with Retry-After), and at most `cells_max`
//! candidate locations × lines in one request (422 beyond).

use super::{CandidateRow, Error, Request};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

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

    /// A solver's permit, waiting at most `wait` for one. Taken only around the solve itself,
    /// so requests reading their candidates hold none.
    pub(super) async fn permit(&self) -> Result<OwnedSemaphorePermit, Error> {
        let acquired = tokio::time::timeout(self.wait, self.permits.clone().acquire_owned());
        match acquired.await {
            Ok(Ok(permit)) => Ok(permit),
            // Timed out, or (never: it is not closed) the semaphore was closed.
            _ => Err(Error::Busy {
                retry_after_s: BUSY_RETRY_AFTER_S,
            }),
        }
    }

    /// Refuses a request whose candidate locations × lines exceed `cells_max`.
    pub(super) fn check(&self, request: &Request, rows: &[CandidateRow]) -> Result<(), Error> {
        let mut locations: Vec<&str> = rows.iter().map(|row| row.location.code.as_str()).collect();
        locations.sort_unstable();
        locations.dedup();
        let cells = locations.len().saturating_mul(request.lines.len());
        if cells > self.cells_max {
            return Err(Error::Refused {
                field: "lines".into(),
                message: format!(
                    "{} lines over {} candidate locations is more than one request may ask \
                     ({} location × line pairs); split the order",
                    request.lines.len(),
                    locations.len(),
                    self.cells_max
                ),
            });
        }
        Ok(())
    }
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
