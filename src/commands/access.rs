//! `allot keys …` and `allot users …`: the admin's credentials work from the server's shell,
//! as the trusted `system:cli` actor.

use crate::app::access::{self, KeyRecord, KeyRequest, UserRecord, UserRequest};
use crate::app::{self, App};
use crate::config::Settings;
use crate::domain::access::{Principal, Role};
use crate::domain::codes::LocationCode;
use crate::domain::Invalid;
use chrono::{DateTime, Utc};
use std::io::BufRead;

#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error(transparent)]
    Open(#[from] app::OpenError),
    #[error(transparent)]
    App(#[from] app::Error),
    #[error("reading the password from stdin: {0}")]
    Stdin(#[from] std::io::Error),
}

impl From<Invalid> for AccessError {
    fn from(invalid: Invalid) -> Self {
        Self::App(invalid.into())
    }
}

#[derive(Debug, clap::Subcommand)]
pub enum Keys {
    /// Create a key; it is printed once, alone on the last line.
    Create {
        #[arg(long)]
        role: String,
        /// A location the key is limited to (pos, clerk, warehouse); repeat for several.
        #[arg(long = "location")]
        locations: Vec<String>,
        /// When the key stops working (RFC 3339).
        #[arg(long)]
        expires: Option<DateTime<Utc>>,
        #[arg(long)]
        label: Option<String>,
    },
    /// List keys (never their secrets).
    List,
    /// Revoke a key by its id.
    Revoke { id: String },
}

#[derive(Debug, clap::Subcommand)]
pub enum Users {
    /// Create a user; the password is read from the first line of stdin.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        role: String,
        #[arg(long = "location")]
        locations: Vec<String>,
    },
    List,
    /// Disable a user and end their sessions.
    Disable {
        name: String,
    },
}

const CLI: &str = "cli";
const LISTING_MAX: i64 = 10_000;

fn codes(raw: &[String]) -> Result<Vec<LocationCode>, Invalid> {
    raw.iter()
        .map(|code| LocationCode::parse("--location", code))
        .collect()
}

pub async fn keys(settings: &Settings, command: Keys) -> Result<(), AccessError> {
    let app = App::open(settings, 1).await?;
    let by = Principal::system(CLI);
    match command {
        Keys::Create {
            role,
            locations,
            expires,
            label,
        } => {
            let request = KeyRequest {
                role: Role::parse("--role", &role)?,
                locations: codes(&locations)?,
                label,
                expires_at: expires,
            };
            let created = access::create_key(&app, &by, request).await?;
            print_key(&created.record);
            println!("{}", created.key);
        }
        Keys::List => access::keys(&app, &by, LISTING_MAX)
            .await?
            .iter()
            .for_each(print_key),
        Keys::Revoke { id } => print_key(&access::revoke_key(&app, &by, &id).await?),
    }
    Ok(())
}

fn print_key(key: &KeyRecord) {
    let when = |at: Option<DateTime<Utc>>| at.map_or("-".to_owned(), |at| at.to_rfc3339());
    println!(
        "{}\t{}\t{}\t{}\texpires {}\trevoked {}\tlast used {}\t{}",
        key.id,
        key.prefix,
        key.role.as_str(),
        key.locations.join(","),
        when(key.expires_at),
        when(key.revoked_at),
        when(key.last_used_at),
        key.label.as_deref().unwrap_or(""),
    );
}

pub async fn users(settings: &Settings, command: Users) -> Result<(), AccessError> {
    let app = App::open(settings, 1).await?;
    let by = Principal::system(CLI);
    match command {
        Users::Create {
            name,
            role,
            locations,
        } => {
            let mut password = String::new();
            std::io::stdin().lock().read_line(&mut password)?;
            let request = UserRequest {
                name,
                password: password.trim_end_matches(['\r', '\n']).to_owned(),
                role: Role::parse("--role", &role)?,
                locations: codes(&locations)?,
            };
            print_user(&access::create_user(&app, &by, request).await?);
        }
        Users::List => access::users(&app, &by, LISTING_MAX)
            .await?
            .iter()
            .for_each(print_user),
        Users::Disable { name } => print_user(&access::disable_user(&app, &by, &name).await?),
    }
    Ok(())
}

fn print_user(user: &UserRecord) {
    println!(
        "{}\t{}\t{}\t{}",
        user.name,
        user.role.as_str(),
        user.locations.join(","),
        user.disabled_at.map_or("enabled".to_owned(), |at| format!(
            "disabled {}",
            at.to_rfc3339()
        )),
    );
}
