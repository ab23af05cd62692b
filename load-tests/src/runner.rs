//! A closed-loop driver: `threads` OS threads, each with its own actix runtime and HTTP client,
//! run `concurrency` tasks in all; each task does one operation after another until the shared
//! operation count or the deadline runs out. Scenarios say what one operation is.

use crate::report::Stats;
use crate::target::Target;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Bounds of every run, whatever the command line says.
pub const CONCURRENCY_MAX: u64 = 1024;
pub const THREADS_MAX: u64 = 16;
pub const DURATION_MAX: Duration = Duration::from_secs(600);
pub const OPS_MAX: u64 = 100_000_000;
/// One request may take this long (a 1,000-line batch under load can take a while).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest response body read (a 1,000-line movements reply is a few hundred KB).
pub const BODY_BYTES_MAX: usize = 16 * 1024 * 1024;

/// What one operation did: its label in the report and the units of work (lines, requests).
pub struct Done {
    pub op: &'static str,
    pub units: u64,
}

pub struct Failed {
    pub op: &'static str,
    pub message: String,
}

/// One kind of workload. `index` is unique across the run (0, 1, 2, …), so list-driven
/// scenarios (seeding) can take job `index`; `rng` is the task's own.
pub trait Scenario: Sync {
    fn step(
        &self,
        client: &awc::Client,
        target: &Target,
        index: u64,
        rng: &mut crate::assortment::Rng,
    ) -> impl Future<Output = Result<Done, Failed>>;
}

#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub threads: u64,
    pub concurrency: u64,
    /// Operations at most (across all tasks).
    pub ops: u64,
    pub warmup: Duration,
    pub duration: Duration,
    pub seed: u64,
}

/// The merged statistics and the measured window (warm-up end to the last operation's end).
pub fn run<S: Scenario>(scenario: &S, target: &Target, plan: &Plan) -> (Stats, Duration) {
    let threads = plan.threads.clamp(1, THREADS_MAX).min(plan.concurrency);
    let concurrency = plan.concurrency.clamp(1, CONCURRENCY_MAX);
    let issued = AtomicU64::new(0);
    let started = Instant::now();
    let measure_from = started + plan.warmup.min(DURATION_MAX);
    let deadline = measure_from + plan.duration.min(DURATION_MAX);
    let ops = plan.ops.min(OPS_MAX);
    let results: Vec<(Stats, Instant)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|thread| {
                // Tasks spread evenly; the first threads take the remainder.
                let tasks = concurrency / threads + u64::from(thread < concurrency % threads);
                let issued = &issued;
                scope.spawn(move || {
                    let lane = Lane {
                        scenario,
                        target,
                        issued,
                        ops,
                        measure_from,
                        deadline,
                    };
                    actix_rt::System::new().block_on(lane.run(thread, tasks, plan.seed))
                })
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|handle| handle.join().ok())
            .collect()
    });
    let mut stats = Stats::default();
    let mut last = measure_from;
    for (thread_stats, thread_last) in results {
        stats.merge(thread_stats);
        last = last.max(thread_last);
    }
    (stats, last.saturating_duration_since(measure_from))
}

/// What the tasks of one thread share.
struct Lane<'a, S> {
    scenario: &'a S,
    target: &'a Target,
    issued: &'a AtomicU64,
    ops: u64,
    measure_from: Instant,
    deadline: Instant,
}

impl<S: Scenario> Lane<'_, S> {
    async fn run(&self, thread: u64, tasks: u64, seed: u64) -> (Stats, Instant) {
        let connector = awc::Connector::new().limit(usize::try_from(tasks).unwrap_or(1).max(1));
        let mut builder = awc::Client::builder()
            .connector(connector)
            .timeout(REQUEST_TIMEOUT);
        if let Some(key) = &self.target.key {
            builder = builder.bearer_auth(key);
        }
        let client = builder.finish();
        let client = &client;
        // Tasks of one thread interleave on its single-threaded runtime; join_all polls only
        // the woken ones (FuturesOrdered), so many tasks cost no more than a few.
        let task_futures: Vec<_> = (0..tasks)
            .map(|task| {
                let rng = crate::assortment::Rng::new(
                    seed ^ (thread << 32 | task).wrapping_mul(0x2545_F491_4F6C_DD1D),
                );
                self.task(client, rng)
            })
            .collect();
        let mut stats = Stats::default();
        let mut last = self.measure_from;
        for (task_stats, task_last) in futures_util::future::join_all(task_futures).await {
            stats.merge(task_stats);
            last = last.max(task_last);
        }
        (stats, last)
    }

    async fn task(
        &self,
        client: &awc::Client,
        mut rng: crate::assortment::Rng,
    ) -> (Stats, Instant) {
        let mut stats = Stats::default();
        let mut last = self.measure_from;
        while Instant::now() < self.deadline {
            let index = self.issued.fetch_add(1, Ordering::Relaxed);
            if index >= self.ops {
                break;
            }
            let began = Instant::now();
            let result = self
                .scenario
                .step(client, self.target, index, &mut rng)
                .await;
            let ended = Instant::now();
            if began < self.measure_from {
                stats.warmup_ops += 1;
                continue;
            }
            last = last.max(ended);
            match result {
                Ok(done) => stats.record(done.op, ended - began, done.units),
                Err(failed) => stats.record_error(failed.op, failed.message),
            }
        }
        (stats, last)
    }
}

/// Reads a response to the end and checks its status; the body is returned for scenarios that
/// look inside it.
pub async fn expect_status<S>(
    op: &'static str,
    response: Result<awc::ClientResponse<S>, awc::error::SendRequestError>,
    accepted: &[u16],
) -> Result<bytes::Bytes, Failed>
where
    S: futures_util::Stream<Item = Result<bytes::Bytes, awc::error::PayloadError>> + Unpin,
{
    let mut response = response.map_err(|error| Failed {
        op,
        message: error.to_string(),
    })?;
    let body = response
        .body()
        .limit(BODY_BYTES_MAX)
        .await
        .map_err(|error| Failed {
            op,
            message: format!("reading the body: {error}"),
        })?;
    let status = response.status().as_u16();
    if accepted.contains(&status) {
        Ok(body)
    } else {
        let head = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
        Err(Failed {
            op,
            message: format!("status {status}: {head}"),
        })
    }
}
