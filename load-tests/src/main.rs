//! `allot-load-tests`: seed a synthetic chain through Allot's API, drive workloads against a
//! running service on 127.0.0.1 and report throughput and p50/p95/p99 latency, then audit the
//! ledger. See docs/BENCHMARKS.md for the figures and the commands that produced them.

mod assortment;
mod broker;
mod check;
mod holds;
mod ingest;
mod lookups;
mod mixed;
mod report;
mod runner;
mod seed;
mod target;

use allot::api::movements::MOVEMENTS_PER_REQUEST_MAX;
use assortment::Assortment;
use clap::{Parser, Subcommand};
use runner::{Plan, Scenario, CONCURRENCY_MAX, OPS_MAX, THREADS_MAX};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use target::{parse_duration, Target};

#[derive(Parser)]
#[command(name = "allot-load-tests", about = "Workloads and audit for Allot")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct Service {
    /// The service under test; only 127.0.0.1 is accepted.
    #[arg(long, env = "ALLOT_LOAD_ADDR", default_value = "127.0.0.1:8090")]
    addr: SocketAddr,
    /// The API key every request carries (an admin key: the seed writes the catalogue).
    #[arg(long, env = "ALLOT_KEY")]
    key: Option<String>,
}

#[derive(clap::Args, Clone, Copy)]
struct Load {
    /// Requests in flight at once (closed loop: each waits for its answer).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=CONCURRENCY_MAX))]
    concurrency: u64,
    /// Client threads, each with its own runtime and connections (the service shares the cores).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=THREADS_MAX))]
    threads: u64,
    /// Measured time, after the warm-up (at most 10 minutes).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    duration: Duration,
    /// Time run but not measured: connections open, caches fill.
    #[arg(long, default_value = "3s", value_parser = parse_duration)]
    warmup: Duration,
    /// Print the report as one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Create stores, SKUs and opening stock through the API (idempotent per store).
    Seed {
        #[command(flatten)]
        service: Service,
        #[command(flatten)]
        chain: Assortment,
        /// Requests in flight at once.
        #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=CONCURRENCY_MAX))]
        concurrency: u64,
        /// Receipt lines per POST /v1/movements.
        #[arg(long, default_value_t = MOVEMENTS_PER_REQUEST_MAX, value_parser = batch_size)]
        batch_size: usize,
    },
    /// Clerk lookups at random over the seeded chain.
    Lookups {
        #[command(flatten)]
        service: Service,
        #[command(flatten)]
        chain: Assortment,
        #[command(flatten)]
        load: Load,
        #[arg(long, value_enum, default_value = "stock-near-store")]
        kind: lookups::LookupKind,
        /// Stop after this many requests (or at the end of the duration).
        #[arg(long, default_value_t = OPS_MAX, value_parser = clap::value_parser!(u64).range(1..=OPS_MAX))]
        requests: u64,
    },
    /// POS ingest: batches of sales and returns, each from one store.
    Ingest {
        #[command(flatten)]
        service: Service,
        #[command(flatten)]
        chain: Assortment,
        #[command(flatten)]
        load: Load,
        /// Batches to send (or fewer, if the duration runs out).
        #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=OPS_MAX))]
        batches: u64,
        #[arg(long, default_value_t = MOVEMENTS_PER_REQUEST_MAX, value_parser = batch_size)]
        batch_size: usize,
    },
    /// Carts: single-line holds of one unit, at random over what each store carries.
    Holds {
        #[command(flatten)]
        service: Service,
        #[command(flatten)]
        chain: Assortment,
        #[command(flatten)]
        load: Load,
        /// Stop after this many holds (or at the end of the duration).
        #[arg(long, default_value_t = OPS_MAX, value_parser = clap::value_parser!(u64).range(1..=OPS_MAX))]
        requests: u64,
    },
    /// The e-shop and the stores at once: ~70% lookups, 20% holds and promises, 10% orders.
    Mixed {
        #[command(flatten)]
        service: Service,
        #[command(flatten)]
        chain: Assortment,
        #[command(flatten)]
        load: Load,
        /// Stop after this many requests (or at the end of the duration).
        #[arg(long, default_value_t = OPS_MAX, value_parser = clap::value_parser!(u64).range(1..=OPS_MAX))]
        requests: u64,
        /// A tag for this run's order ids, so that a second run places new orders.
        #[arg(long, default_value_t = 1)]
        run: u64,
        /// Percent of lookups, holds, promises and orders (e.g. 0,0,0,100 for orders alone).
        #[arg(long, default_value = "70,10,10,10")]
        mix: mixed::Mix,
    },
    /// JetStream storing events shaped like the relay's at a set rate, through the service's
    /// publish path, with no Allot running: the broker's own share of the cores. Runs until
    /// killed, printing the count stored each second.
    Broker {
        #[arg(long, env = "NATS_URL", default_value = "nats://127.0.0.1:4222")]
        nats_url: String,
        #[arg(long, env = "ALLOT_NATS_PREFIX", default_value = "allot")]
        prefix: String,
        #[arg(long, env = "ALLOT_NATS_STREAM", default_value = "ALLOT_STOCK")]
        stream: String,
        /// Events per second.
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..=broker::RATE_MAX))]
        rate: u64,
        #[command(flatten)]
        chain: Assortment,
    },
    /// Print the Lua source of the service's hold script (for `redis-benchmark` baselines).
    HoldScript,
    /// Audit the ledger: balances equal the fold of movements, nothing negative.
    Check {
        #[arg(
            long,
            env = "DATABASE_URL",
            default_value = "postgres://postgres@127.0.0.1:5432/allot_bench"
        )]
        database_url: String,
    },
}

fn batch_size(raw: &str) -> Result<usize, String> {
    match raw.parse::<usize>() {
        Ok(size) if (1..=MOVEMENTS_PER_REQUEST_MAX).contains(&size) => Ok(size),
        _ => Err(format!(
            "must be a number from 1 to {MOVEMENTS_PER_REQUEST_MAX} (the service's limit)"
        )),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Seed {
            service,
            chain,
            concurrency,
            batch_size,
        } => seed(service, &chain, concurrency, batch_size),
        Command::Lookups {
            service,
            chain,
            load,
            kind,
            requests,
        } => {
            let scenario = lookups::Lookups {
                chain: &chain,
                kind,
            };
            let setup = serde_json::json!({
                "kind": format!("{kind:?}"), "stores": chain.stores, "skus": chain.skus,
                "carry_percent": chain.carry_percent, "concurrency": load.concurrency,
                "threads": load.threads,
            });
            measure(
                "lookups", &scenario, service, &load, requests, chain.seed, setup,
            )
        }
        Command::Ingest {
            service,
            chain,
            load,
            batches,
            batch_size,
        } => {
            let scenario = ingest::Ingest::new(&chain, batch_size);
            let setup = serde_json::json!({
                "batches": batches, "batch_size": batch_size, "stores": chain.stores,
                "concurrency": load.concurrency, "threads": load.threads,
            });
            measure(
                "ingest", &scenario, service, &load, batches, chain.seed, setup,
            )
        }
        Command::Holds {
            service,
            chain,
            load,
            requests,
        } => {
            let scenario = holds::Holds::new(&chain);
            let setup = serde_json::json!({
                "ttl_s": holds::HOLD_TTL_S, "stores": chain.stores, "skus": chain.skus,
                "concurrency": load.concurrency, "threads": load.threads,
            });
            measure(
                "holds", &scenario, service, &load, requests, chain.seed, setup,
            )
        }
        Command::Mixed {
            service,
            chain,
            load,
            requests,
            run,
            mix,
        } => {
            let scenario = mixed::Mixed::new(&chain, run, mix);
            let setup = serde_json::json!({
                "stores": chain.stores, "skus": chain.skus, "run": run, "mix": mix,
                "concurrency": load.concurrency, "threads": load.threads,
            });
            measure(
                "mixed", &scenario, service, &load, requests, chain.seed, setup,
            )
        }
        Command::Broker {
            nats_url,
            prefix,
            stream,
            rate,
            chain,
        } => broker::run(&broker::Pace {
            url: &nats_url,
            prefix: &prefix,
            stream: &stream,
            rate_per_second: rate,
            stores: chain.stores,
            skus: chain.skus,
        }),
        Command::HoldScript => {
            println!("{}", allot::holds::scripts::hold_source());
            Ok(())
        }
        Command::Check { database_url } => check(&database_url),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("allot-load-tests: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a measured workload and prints its report; any failed request fails the command.
fn measure<S: Scenario>(
    name: &str,
    scenario: &S,
    service: Service,
    load: &Load,
    ops: u64,
    seed: u64,
    setup: serde_json::Value,
) -> Result<(), String> {
    let target = Target::new(service.addr, service.key)?;
    let plan = Plan {
        threads: load.threads,
        concurrency: load.concurrency,
        ops,
        warmup: load.warmup,
        duration: load.duration,
        seed,
    };
    let (stats, window) = runner::run(scenario, &target, &plan);
    let report = stats.report(name, window, setup);
    if load.json {
        println!(
            "{}",
            serde_json::to_string(&report).map_err(|error| error.to_string())?
        );
    } else {
        print!("{report}");
    }
    match stats.errors() {
        0 => Ok(()),
        errors => Err(format!("{errors} operation(s) failed")),
    }
}

/// Seeding runs list-driven phases one after another, each unmeasured by warm-up.
fn seed(
    service: Service,
    chain: &Assortment,
    concurrency: u64,
    batch_size: usize,
) -> Result<(), String> {
    let target = Target::new(service.addr, service.key)?;
    let phase = |name: &str, scenario: &dyn PhaseRun, jobs: u64| -> Result<(), String> {
        let plan = Plan {
            threads: 1,
            concurrency,
            ops: jobs,
            warmup: Duration::ZERO,
            duration: runner::DURATION_MAX,
            seed: chain.seed,
        };
        let (stats, window) = scenario.run(&target, &plan);
        print!(
            "{}",
            stats.report(name, window, serde_json::json!({"jobs": jobs}))
        );
        match stats.errors() {
            0 if stats.ops.values().map(|s| s.ops).sum::<u64>() == jobs => Ok(()),
            0 => Err(format!("{name}: stopped before the end (time limit)")),
            errors => Err(format!("{name}: {errors} request(s) failed")),
        }
    };
    phase(
        "seed: stores",
        &seed::PutLocations(chain),
        u64::from(chain.stores),
    )?;
    phase("seed: SKUs", &seed::PutSkus, u64::from(chain.skus))?;
    let probe = seed::ProbeStock {
        stocked: (0..chain.stores).map(|_| AtomicBool::new(false)).collect(),
    };
    phase("seed: probe stock", &probe, u64::from(chain.stores))?;
    let empty: Vec<u32> = (0..chain.stores)
        .filter(|&store| !probe.stocked[store as usize].load(Ordering::Relaxed))
        .collect();
    let receipts = seed::Receipts::plan(chain, &empty, batch_size);
    println!(
        "seed: {} of {} stores need opening stock: {} receipt lines in {} batches",
        empty.len(),
        chain.stores,
        receipts.lines(),
        receipts.jobs.len()
    );
    phase("seed: receipts", &receipts, receipts.jobs.len() as u64)
}

/// Lets the seeding phases, of different scenario types, share one closure.
trait PhaseRun {
    fn run(&self, target: &Target, plan: &Plan) -> (report::Stats, Duration);
}

impl<S: Scenario> PhaseRun for S {
    fn run(&self, target: &Target, plan: &Plan) -> (report::Stats, Duration) {
        runner::run(self, target, plan)
    }
}

fn check(database_url: &str) -> Result<(), String> {
    let audit = actix_rt::System::new().block_on(check::audit(database_url))?;
    println!(
        "ledger: {} movements, {} balances, {} discrepancies recorded",
        audit.movements, audit.balances, audit.discrepancies
    );
    if audit.violations.is_empty() {
        println!("check: OK — every balance equals the fold of its movements, none negative");
        return Ok(());
    }
    for violation in audit.violations.iter().take(check::VIOLATIONS_SHOWN_MAX) {
        println!("violation: {violation}");
    }
    Err(format!("{} invariant violation(s)", audit.violations.len()))
}
