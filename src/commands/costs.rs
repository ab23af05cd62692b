//! `allot costs show` and `allot costs set FILE.json`: the chain's cost model from the
//! server's shell, as the trusted `system:cli` actor.

use crate::app::{self, costs, App};
use crate::config::Settings;
use crate::domain::access::Principal;
use crate::domain::costs::CostModel;
use std::path::{Path, PathBuf};

/// Largest cost-model file read: the model is a few hundred bytes.
const FILE_BYTES_MAX: u64 = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum CostsError {
    #[error(transparent)]
    Open(#[from] app::OpenError),
    #[error(transparent)]
    App(#[from] app::Error),
    #[error("{path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: larger than {FILE_BYTES_MAX} bytes")]
    TooLarge { path: PathBuf },
    #[error("{path}: {source}")]
    Syntax {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{path}: {source}")]
    Parse {
        path: PathBuf,
        source: serde_path_to_error::Error<serde_json::Error>,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum Costs {
    /// Print the model in force, with its version, as JSON.
    Show,
    /// Replace the model by the one in FILE (JSON, every field; as `show` prints it).
    Set { file: PathBuf },
}

pub async fn run(settings: &Settings, command: Costs) -> Result<(), CostsError> {
    let app = App::open(settings, 1).await?;
    let stored = match command {
        Costs::Show => costs::current(&app).await?,
        Costs::Set { file } => {
            let model = read(&file)?;
            costs::set(&app, &Principal::system("cli"), model, None).await?
        }
    };
    let shown = serde_json::json!({"version": stored.version.0, "costs": stored.model});
    println!(
        "{}",
        serde_json::to_string_pretty(&shown).expect("JSON serialises")
    );
    Ok(())
}

/// Reads a model; `show`'s output (`{"version", "costs"}`) is accepted as well as a bare model.
fn read(path: &Path) -> Result<CostModel, CostsError> {
    let failed = |source| CostsError::Read {
        path: path.to_owned(),
        source,
    };
    if std::fs::metadata(path).map_err(failed)?.len() > FILE_BYTES_MAX {
        return Err(CostsError::TooLarge {
            path: path.to_owned(),
        });
    }
    let text = std::fs::read_to_string(path).map_err(failed)?;
    let mut value: serde_json::Value =
        serde_json::from_str(&text).map_err(|source| CostsError::Syntax {
            path: path.to_owned(),
            source,
        })?;
    if let Some(inner) = value.get_mut("costs").map(serde_json::Value::take) {
        value = inner;
    }
    serde_path_to_error::deserialize(value).map_err(|source| CostsError::Parse {
        path: path.to_owned(),
        source,
    })
}
