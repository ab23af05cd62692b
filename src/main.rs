#![warn(clippy::too_many_lines)]

use allot::commands::plan::Which;
use allot::commands::{access, costs, demo, events, import, plan, retention};
use allot::config::Settings;
use allot::planning::{RebalanceParams, ReplenishParams};
use allot::startup::Application;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

// The service allocates many small, short-lived buffers per request (JSON, Redis replies):
// mimalloc spends less time on them than the system allocator (docs/BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "allot",
    about = "One stock ledger for every store and warehouse"
)]
struct Cli {
    #[command(flatten)]
    settings: Settings,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending migrations, then serve HTTP.
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Load the demo chain (idempotent: a second run changes nothing).
    SeedDemo,
    /// API keys for programs: create (printed once), list, revoke.
    Keys {
        #[command(subcommand)]
        command: access::Keys,
    },
    /// Users (people who sign in): create (password on stdin), list, disable.
    Users {
        #[command(subcommand)]
        command: access::Users,
    },
    /// The chain's cost model: `costs show`, `costs set FILE.json`.
    Costs {
        #[command(subcommand)]
        command: costs::Costs,
    },
    /// Stock events on NATS: `events tail` prints them as they are published.
    Events {
        #[command(subcommand)]
        command: events::Events,
    },
    /// The ledger's old months: `retention detach --before YYYY-MM` archives them.
    Retention {
        #[command(subcommand)]
        command: retention::Retention,
    },
    /// Bulk-import locations or SKUs from CSV or NDJSON.
    Import {
        #[arg(value_enum)]
        what: import::Kind,
        /// The file; `.csv` or `.ndjson`/`.jsonl`.
        file: PathBuf,
    },
    /// Plan the nightly store-to-store rebalance (a dry run unless --commit).
    Rebalance {
        #[command(flatten)]
        params: RebalanceParams,
        /// Folder for the report (JSON, CSV, SVG charts of the top SKUs).
        #[arg(long, default_value = "reports")]
        report: PathBuf,
    },
    /// Plan the warehouse-to-stores replenishment (a dry run unless --commit).
    Replenish {
        #[command(flatten)]
        params: ReplenishParams,
        /// Folder for the report (JSON, CSV, SVG charts of the top SKUs).
        #[arg(long, default_value = "reports")]
        report: PathBuf,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    allot::telemetry::init();
    let mut cli = Cli::parse();
    if !matches!(cli.command, Command::Serve) {
        // Batch work from the shell (imports, the demo seed, planning) runs long statements
        // by design: it gets the planning runs' timeout, requests keep theirs.
        cli.settings.statement_timeout_ms = cli.settings.planning_statement_timeout_ms;
    }
    let result: Result<(), Box<dyn std::error::Error>> = async {
        match cli.command {
            Command::Serve => {
                let application = Application::build(&cli.settings).await?;
                tracing::info!(port = application.port(), "serving");
                application.run_until_stopped().await?;
            }
            Command::Migrate => {
                let applied = allot::ledger::migrate(&cli.settings.database_url).await?;
                tracing::info!(applied, "migrations applied");
            }
            Command::SeedDemo => demo::seed(&cli.settings).await?,
            Command::Keys { command } => access::keys(&cli.settings, command).await?,
            Command::Users { command } => access::users(&cli.settings, command).await?,
            Command::Costs { command } => costs::run(&cli.settings, command).await?,
            Command::Events {
                command: events::Events::Tail { subject, count },
            } => events::tail(&cli.settings, &subject, count, &mut std::io::stdout()).await?,
            Command::Retention { command } => {
                retention::run(&cli.settings, command, &mut std::io::stdout()).await?
            }
            Command::Import { what, file } => import::run(&cli.settings, what, &file).await?,
            Command::Rebalance { params, report } => {
                plan::run(&cli.settings, Which::Rebalance(params), &report).await?
            }
            Command::Replenish { params, report } => {
                plan::run(&cli.settings, Which::Replenish(params), &report).await?
            }
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let chain = allot::telemetry::error_chain(error.as_ref());
            tracing::error!(error = %chain, "failed");
            eprintln!("allot: {chain}");
            ExitCode::FAILURE
        }
    }
}
