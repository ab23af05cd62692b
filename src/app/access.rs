//! Credentials: API keys for programs, passwords and sessions for people. A presented key or
//! session token is hashed and looked up once, then kept verified for
//! [`CREDENTIAL_CACHE_TTL`], so checking a credential costs a hash and a map lookup on the
//! hot paths; a revocation or sign-out here applies at once, on other instances within the TTL.

use super::{App, Error, Result};
use crate::domain::access::{
    self, check_password, parse_user_name, Principal, Role, Scope, KEY_ID_LENGTH, KEY_PREFIX,
    KEY_SECRET_LENGTH,
};
use crate::domain::codes::LocationCode;
use crate::ledger::access as store;
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Argon2, PasswordVerifier};
use chrono::{DateTime, Duration, Utc};
use rand::distr::{Alphanumeric, SampleString};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;
use std::time::Instant;

pub use store::{KeyRecord, UserRecord};

/// How long a verified credential is trusted before it is checked in PostgreSQL again.
pub const CREDENTIAL_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(10);
/// Verified credentials kept per instance (a few hundred bytes each).
pub const CREDENTIAL_CACHE_ENTRIES: usize = 100_000;
/// How long a person stays signed in: a shift.
pub const SESSION_TTL_HOURS: i64 = 12;
/// Ended or expired sessions are deleted this long after, a batch at each sign-in.
const SESSION_RETENTION_DAYS: i64 = 7;
const SESSION_PURGE_BATCH: i64 = 100;
/// Characters of a session token and of its CSRF token.
const TOKEN_LENGTH: usize = 32;

/// A credential checked recently, with what it was found to be.
#[derive(Clone)]
struct Checked {
    at: Instant,
    outcome: std::result::Result<Verified, String>,
}

#[derive(Clone)]
struct Verified {
    principal: Principal,
    /// Sessions only: the token a mutation must echo in `X-CSRF-Token`.
    csrf_token: Option<String>,
    expires_at: Option<DateTime<Utc>>,
}

/// This instance's verified credentials, by the SHA-256 of the secret.
pub struct Credentials(quick_cache::sync::Cache<[u8; 32], Checked>);

impl Default for Credentials {
    fn default() -> Self {
        Self(quick_cache::sync::Cache::new(CREDENTIAL_CACHE_ENTRIES))
    }
}

fn sha256(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

fn random_text(length: usize) -> String {
    Alphanumeric.sample_string(&mut rand::rng(), length)
}

/// A caller authenticated by a session, with the CSRF token its mutations must carry.
pub struct SignedIn {
    pub principal: Principal,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

/// The principal an API key stands for; `Unauthenticated` says why not (unknown, expired,
/// revoked) without telling which keys exist.
pub async fn by_key(app: &App, key: &str) -> Result<Principal> {
    if !key.starts_with(KEY_PREFIX) || key.len() > KEY_PREFIX.len() + 64 {
        return Err(Error::Unauthenticated("not an Allot API key".into()));
    }
    let digest = sha256(key);
    let checked = match fresh(app, &digest) {
        Some(checked) => checked,
        None => {
            let found = store::key_principal(&app.client().await?, &digest).await?;
            let outcome = found
                .map(|(principal, expires_at)| Verified {
                    principal,
                    csrf_token: None,
                    expires_at,
                })
                .map_err(|refusal| match refusal {
                    store::Refusal::Unknown => "unknown API key".to_owned(),
                    store::Refusal::Expired => "the API key has expired".to_owned(),
                    store::Refusal::Revoked => "the API key was revoked".to_owned(),
                });
            remember(app, digest, outcome)
        }
    };
    checked.map(|verified| verified.principal)
}

/// The principal a session token stands for, and its CSRF token.
pub async fn by_session(app: &App, token: &str) -> Result<SignedIn> {
    if token.len() != TOKEN_LENGTH {
        return Err(Error::Unauthenticated("not a session".into()));
    }
    let digest = sha256(token);
    let checked = match fresh(app, &digest) {
        Some(checked) => checked,
        None => {
            let found = store::session(&app.client().await?, &digest).await?;
            let outcome = found
                .map(|session| Verified {
                    principal: session.principal,
                    csrf_token: Some(session.csrf_token),
                    expires_at: Some(session.expires_at),
                })
                .ok_or_else(|| "the session ended or expired; sign in again".to_owned());
            remember(app, digest, outcome)
        }
    };
    let verified = checked?;
    Ok(SignedIn {
        csrf_token: verified.csrf_token.unwrap_or_default(),
        expires_at: verified.expires_at.unwrap_or_else(Utc::now),
        principal: verified.principal,
    })
}

/// A cached check still within its TTL (and, for a verified one, its credential's expiry).
fn fresh(app: &App, digest: &[u8; 32]) -> Option<std::result::Result<Verified, Error>> {
    let checked = app.credentials.0.get(digest)?;
    if checked.at.elapsed() > CREDENTIAL_CACHE_TTL {
        return None;
    }
    Some(match checked.outcome {
        Ok(verified) if verified.expires_at.is_some_and(|at| at <= Utc::now()) => {
            app.credentials.0.remove(digest);
            Err(Error::Unauthenticated("the credential has expired".into()))
        }
        Ok(verified) => Ok(verified),
        Err(message) => Err(Error::Unauthenticated(message)),
    })
}

fn remember(
    app: &App,
    digest: [u8; 32],
    outcome: std::result::Result<Verified, String>,
) -> std::result::Result<Verified, Error> {
    let checked = Checked {
        at: Instant::now(),
        outcome,
    };
    app.credentials.0.insert(digest, checked.clone());
    checked.outcome.map_err(Error::Unauthenticated)
}

/// What a new key may do.
pub struct KeyRequest {
    pub role: Role,
    pub locations: Vec<LocationCode>,
    pub label: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A created key: the whole key is in `key`, and only here, once.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct CreatedKey {
    #[serde(flatten)]
    pub record: KeyRecord,
    pub key: String,
}

pub async fn create_key(app: &App, by: &Principal, request: KeyRequest) -> Result<CreatedKey> {
    by.require(Scope::ManageAccess)?;
    let locations = access::parse_locations("locations", request.role, request.locations)?;
    if request.expires_at.is_some_and(|at| at <= Utc::now()) {
        return Err(crate::domain::Invalid::new("expires_at", "must be in the future").into());
    }
    let id = random_text(KEY_ID_LENGTH);
    let key = format!("{KEY_PREFIX}{id}_{}", random_text(KEY_SECRET_LENGTH));
    let new = store::NewKey {
        id: &id,
        secret_sha256: &sha256(&key),
        role: request.role,
        locations: &locations,
        label: request.label.as_deref(),
        expires_at: request.expires_at,
    };
    let record = store::insert_key(&mut app.client().await?, new, &by.actor).await?;
    Ok(CreatedKey { record, key })
}

pub async fn keys(app: &App, by: &Principal, limit: i64) -> Result<Vec<KeyRecord>> {
    by.require(Scope::ManageAccess)?;
    Ok(store::keys(&app.client().await?, limit).await?)
}

/// Revokes a key; it stops working here at once (every cached check is dropped).
pub async fn revoke_key(app: &App, by: &Principal, id: &str) -> Result<KeyRecord> {
    by.require(Scope::ManageAccess)?;
    let revoked = store::revoke_key(&app.client().await?, id).await?;
    app.credentials.0.clear();
    revoked.ok_or_else(|| Error::not_found("id", format!("no API key '{id}'")))
}

/// Who a new user is and may be.
pub struct UserRequest {
    pub name: String,
    pub password: String,
    pub role: Role,
    pub locations: Vec<LocationCode>,
}

pub async fn create_user(app: &App, by: &Principal, request: UserRequest) -> Result<UserRecord> {
    by.require(Scope::ManageAccess)?;
    let name = parse_user_name("name", &request.name)?;
    check_password("password", &request.password)?;
    let locations = access::parse_locations("locations", request.role, request.locations)?;
    let password_hash = hash_password(request.password).await?;
    let new = store::NewUser {
        name: &name,
        password_hash: &password_hash,
        role: request.role,
        locations: &locations,
    };
    Ok(store::insert_user(&mut app.client().await?, new, &by.actor).await?)
}

pub async fn users(app: &App, by: &Principal, limit: i64) -> Result<Vec<UserRecord>> {
    by.require(Scope::ManageAccess)?;
    Ok(store::users(&app.client().await?, limit).await?)
}

/// Disables a user and ends their sessions, at once here.
pub async fn disable_user(app: &App, by: &Principal, name: &str) -> Result<UserRecord> {
    by.require(Scope::ManageAccess)?;
    let disabled = store::disable_user(&app.client().await?, name).await?;
    app.credentials.0.clear();
    disabled.ok_or_else(|| Error::not_found("name", format!("no user '{name}'")))
}

/// A new session: the token goes in the cookie, the CSRF token to the page.
pub struct Session {
    pub token: String,
    pub signed_in: SignedIn,
}

/// Signs a person in. A wrong name and a wrong password are the same refusal, and cost the
/// same time (an unknown name is checked against a dummy hash).
pub async fn sign_in(app: &App, name: &str, password: &str) -> Result<Session> {
    // No name or password that could never have been set is hashed: an oversized one costs
    // argon2 time for nothing.
    if parse_user_name("name", name).is_err() || check_password("password", password).is_err() {
        return Err(Error::Unauthenticated("wrong name or password".into()));
    }
    let client = app.client().await?;
    let record = store::sign_in_record(&client, name).await?;
    let (user_id, hash) = match record {
        Some((id, hash)) => (Some(id), hash),
        None => (None, DUMMY_HASH.clone()),
    };
    let matches = verify_password(password.to_owned(), hash).await?;
    let (Some(user_id), true) = (user_id, matches) else {
        return Err(Error::Unauthenticated("wrong name or password".into()));
    };
    let token = random_text(TOKEN_LENGTH);
    let csrf_token = random_text(TOKEN_LENGTH);
    let expires_at = Utc::now() + Duration::hours(SESSION_TTL_HOURS);
    store::insert_session(&client, &sha256(&token), user_id, &csrf_token, expires_at).await?;
    let retention = Utc::now() - Duration::days(SESSION_RETENTION_DAYS);
    store::purge_sessions(&client, retention, SESSION_PURGE_BATCH).await?;
    let signed_in = by_session(app, &token).await?;
    Ok(Session { token, signed_in })
}

/// Ends a session; it stops working here at once.
pub async fn sign_out(app: &App, token: &str) -> Result<()> {
    let digest = sha256(token);
    store::end_session(&app.client().await?, &digest).await?;
    app.credentials.0.remove(&digest);
    Ok(())
}

static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(b"no such user", &salt)
        .map(|hash| hash.to_string())
        .unwrap_or_default()
});

/// Runs argon2 work off the async workers: it takes tens of milliseconds.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(Error::fault)?
}

/// Argon2id with the crate's default cost.
async fn hash_password(password: String) -> Result<String> {
    blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|error| Error::fault(error.to_string()))
    })
    .await
}

async fn verify_password(password: String, hash: String) -> Result<bool> {
    blocking(move || {
        let parsed = PasswordHash::new(&hash).map_err(|error| Error::fault(error.to_string()))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
}

impl From<access::Denied> for Error {
    fn from(denied: access::Denied) -> Self {
        Self::Forbidden(denied)
    }
}
