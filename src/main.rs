use allot::commands::{demo, import};
use allot::config::Settings;
use allot::startup::Application;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

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
    /// Bulk-import locations or SKUs from CSV or NDJSON.
    Import {
        #[arg(value_enum)]
        what: import::Kind,
        /// The file; `.csv` or `.ndjson`/`.jsonl`.
        file: PathBuf,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    allot::telemetry::init();
    let cli = Cli::parse();
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
            Command::Import { what, file } => import::run(&cli.settings, what, &file).await?,
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "failed");
            eprintln!("allot: {error}");
            ExitCode::FAILURE
        }
    }
}
