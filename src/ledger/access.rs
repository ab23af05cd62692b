//! API keys, users and sessions. Only hashes of secrets reach these functions.

use super::{Cached, Error, Result};
use crate::domain::access::{Actor, Principal, Role};
use crate::domain::codes::LocationCode;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;
use tokio_postgres::Row;

/// A key as listed: never its secret.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct KeyRecord {
    pub id: String,
    /// The start of the key, as it reads in a config file: `allot_live_<id>_…`.
    pub prefix: String,
    #[schema(value_type = String)]
    pub role: Role,
    pub locations: Vec<String>,
    pub label: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A key to store: its id, the hash of the whole key and what it may do.
pub struct NewKey<'a> {
    pub id: &'a str,
    pub secret_sha256: &'a [u8],
    pub role: Role,
    pub locations: &'a [LocationCode],
    pub label: Option<&'a str>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Why a presented secret does not authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Unknown,
    Expired,
    Revoked,
}

const KEY_COLUMNS: &str = "k.id, k.role, k.label, k.created_by, k.created_at, k.expires_at,
    k.revoked_at, k.last_used_at,
    ARRAY(SELECT l.code FROM api_key_locations kl JOIN locations l ON l.id = kl.location_id
          WHERE kl.key_id = k.id ORDER BY l.code)";

fn key_record(row: &Row) -> KeyRecord {
    let id: String = row.get(0);
    KeyRecord {
        prefix: format!("{}{id}_", crate::domain::access::KEY_PREFIX),
        id,
        role: role(row.get(1)),
        label: row.get(2),
        created_by: row.get(3),
        created_at: row.get(4),
        expires_at: row.get(5),
        revoked_at: row.get(6),
        last_used_at: row.get(7),
        locations: row.get(8),
    }
}

fn role(raw: &str) -> Role {
    Role::parse("role", raw).expect("database CHECK keeps roles known")
}

fn codes(raw: Vec<String>) -> Vec<LocationCode> {
    raw.iter()
        .filter_map(|code| LocationCode::parse("location", code).ok())
        .collect()
}

/// The ids of `locations`, refusing an unknown one by name.
async fn location_ids(client: &impl GenericClient, locations: &[LocationCode]) -> Result<Vec<i64>> {
    let codes: Vec<&str> = locations.iter().map(LocationCode::as_str).collect();
    let rows = client
        .cached_query(
            "SELECT c.code, l.id FROM unnest($1::text[]) AS c(code)
             LEFT JOIN locations l ON l.code = c.code",
            &[&codes],
        )
        .await?;
    rows.iter()
        .map(|row| match row.get::<_, Option<i64>>(1) {
            Some(id) => Ok(id),
            None => Err(Error::UnknownLocation {
                field: "locations".into(),
                code: row.get(0),
            }),
        })
        .collect()
}

pub async fn insert_key(
    client: &mut deadpool_postgres::Object,
    key: NewKey<'_>,
    by: &Actor,
) -> Result<KeyRecord> {
    let transaction = client.transaction().await?;
    let ids = location_ids(&transaction, key.locations).await?;
    transaction
        .cached_execute(
            "INSERT INTO api_keys (id, secret_sha256, role, label, expires_at, created_by)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &key.id,
                &key.secret_sha256,
                &key.role.as_str(),
                &key.label,
                &key.expires_at,
                &by.to_string(),
            ],
        )
        .await?;
    transaction
        .cached_execute(
            "INSERT INTO api_key_locations (key_id, location_id) SELECT $1, unnest($2::bigint[])",
            &[&key.id, &ids],
        )
        .await?;
    let record = one_key(&transaction, key.id).await?;
    transaction.commit().await?;
    record.ok_or_else(|| Error::NotFound(format!("no key '{}'", key.id)))
}

async fn one_key(client: &impl GenericClient, id: &str) -> Result<Option<KeyRecord>> {
    let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys k WHERE k.id = $1");
    Ok(client
        .cached_query_opt(&sql, &[&id])
        .await?
        .as_ref()
        .map(key_record))
}

/// Keys, newest first, at most `limit`.
pub async fn keys(client: &impl GenericClient, limit: i64) -> Result<Vec<KeyRecord>> {
    let sql =
        format!("SELECT {KEY_COLUMNS} FROM api_keys k ORDER BY k.created_at DESC, k.id LIMIT $1");
    Ok(client
        .cached_query(&sql, &[&limit])
        .await?
        .iter()
        .map(key_record)
        .collect())
}

/// Revokes a key (once: revoking again keeps the first time). `None`: no such key.
pub async fn revoke_key(client: &impl GenericClient, id: &str) -> Result<Option<KeyRecord>> {
    client
        .cached_execute(
            "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1",
            &[&id],
        )
        .await?;
    one_key(client, id).await
}

/// The key whose whole secret hashes to `secret_sha256`, if it is live; marks it used.
pub async fn key_principal(
    client: &impl GenericClient,
    secret_sha256: &[u8],
) -> Result<std::result::Result<(Principal, Option<DateTime<Utc>>), Refusal>> {
    let row = client
        .cached_query_opt(
            "WITH found AS (
                 SELECT id, role, expires_at, revoked_at,
                        (revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())) AS live
                 FROM api_keys WHERE secret_sha256 = $1),
             touched AS (
                 UPDATE api_keys k SET last_used_at = now() FROM found
                 WHERE k.id = found.id AND found.live)
             SELECT f.id, f.role, f.expires_at, f.revoked_at IS NOT NULL, f.live,
                    ARRAY(SELECT l.code FROM api_key_locations kl
                          JOIN locations l ON l.id = kl.location_id
                          WHERE kl.key_id = f.id ORDER BY l.code)
             FROM found f",
            &[&secret_sha256],
        )
        .await?;
    let Some(row) = row else {
        return Ok(Err(Refusal::Unknown));
    };
    if !row.get::<_, bool>(4) {
        let revoked: bool = row.get(3);
        return Ok(Err(if revoked {
            Refusal::Revoked
        } else {
            Refusal::Expired
        }));
    }
    let principal = Principal {
        actor: Actor::Key(row.get(0)),
        role: role(row.get(1)),
        locations: codes(row.get(5)),
    };
    Ok(Ok((principal, row.get(2))))
}

/// A user as listed: never the password hash.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserRecord {
    pub name: String,
    #[schema(value_type = String)]
    pub role: Role,
    pub locations: Vec<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
}

const USER_COLUMNS: &str = "u.name, u.role, u.created_by, u.created_at, u.disabled_at,
    ARRAY(SELECT l.code FROM user_locations ul JOIN locations l ON l.id = ul.location_id
          WHERE ul.user_id = u.id ORDER BY l.code)";

fn user_record(row: &Row) -> UserRecord {
    UserRecord {
        name: row.get(0),
        role: role(row.get(1)),
        created_by: row.get(2),
        created_at: row.get(3),
        disabled_at: row.get(4),
        locations: row.get(5),
    }
}

/// A user to store, the password already hashed.
pub struct NewUser<'a> {
    pub name: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    pub locations: &'a [LocationCode],
}

/// Creates a user; `Conflict` when the name is taken.
pub async fn insert_user(
    client: &mut deadpool_postgres::Object,
    user: NewUser<'_>,
    by: &Actor,
) -> Result<UserRecord> {
    let transaction = client.transaction().await?;
    let ids = location_ids(&transaction, user.locations).await?;
    let row = transaction
        .cached_query_opt(
            "INSERT INTO users (name, password_hash, role, created_by) VALUES ($1, $2, $3, $4)
             ON CONFLICT (name) DO NOTHING RETURNING id",
            &[
                &user.name,
                &user.password_hash,
                &user.role.as_str(),
                &by.to_string(),
            ],
        )
        .await?;
    let Some(row) = row else {
        return Err(Error::Conflict(format!(
            "a user named '{}' exists",
            user.name
        )));
    };
    let id: i64 = row.get(0);
    transaction
        .cached_execute(
            "INSERT INTO user_locations (user_id, location_id) SELECT $1, unnest($2::bigint[])",
            &[&id, &ids],
        )
        .await?;
    let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1");
    let record = user_record(&transaction.cached_query_one(&sql, &[&id]).await?);
    transaction.commit().await?;
    Ok(record)
}

pub async fn users(client: &impl GenericClient, limit: i64) -> Result<Vec<UserRecord>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.name LIMIT $1");
    Ok(client
        .cached_query(&sql, &[&limit])
        .await?
        .iter()
        .map(user_record)
        .collect())
}

/// Disables a user and ends their sessions. `None`: no such user.
pub async fn disable_user(client: &impl GenericClient, name: &str) -> Result<Option<UserRecord>> {
    client
        .cached_execute(
            "WITH disabled AS (
                 UPDATE users SET disabled_at = coalesce(disabled_at, now()) WHERE name = $1
                 RETURNING id)
             UPDATE sessions SET ended_at = now()
             WHERE user_id IN (SELECT id FROM disabled) AND ended_at IS NULL",
            &[&name],
        )
        .await?;
    let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.name = $1");
    Ok(client
        .cached_query_opt(&sql, &[&name])
        .await?
        .as_ref()
        .map(user_record))
}

/// What signing in checks: the user's id and password hash, if the user exists and is enabled.
pub async fn sign_in_record(
    client: &impl GenericClient,
    name: &str,
) -> Result<Option<(i64, String)>> {
    Ok(client
        .cached_query_opt(
            "SELECT id, password_hash FROM users WHERE name = $1 AND disabled_at IS NULL",
            &[&name],
        )
        .await?
        .map(|row| (row.get(0), row.get(1))))
}

pub async fn insert_session(
    client: &impl GenericClient,
    token_sha256: &[u8],
    user_id: i64,
    csrf_token: &str,
    expires_at: DateTime<Utc>,
) -> Result<()> {
    client
        .cached_execute(
            "INSERT INTO sessions (token_sha256, user_id, csrf_token, expires_at)
             VALUES ($1, $2, $3, $4)",
            &[&token_sha256, &user_id, &csrf_token, &expires_at],
        )
        .await?;
    Ok(())
}

/// A live session's user, its CSRF token and when it expires.
pub struct SessionRecord {
    pub principal: Principal,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

pub async fn session(
    client: &impl GenericClient,
    token_sha256: &[u8],
) -> Result<Option<SessionRecord>> {
    let row = client
        .cached_query_opt(
            "SELECT u.name, u.role, s.csrf_token, s.expires_at,
                    ARRAY(SELECT l.code FROM user_locations ul
                          JOIN locations l ON l.id = ul.location_id
                          WHERE ul.user_id = u.id ORDER BY l.code)
             FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_sha256 = $1 AND s.ended_at IS NULL AND s.expires_at > now()
               AND u.disabled_at IS NULL",
            &[&token_sha256],
        )
        .await?;
    Ok(row.map(|row| SessionRecord {
        principal: Principal {
            actor: Actor::User(row.get(0)),
            role: role(row.get(1)),
            locations: codes(row.get(4)),
        },
        csrf_token: row.get(2),
        expires_at: row.get(3),
    }))
}

pub async fn end_session(client: &impl GenericClient, token_sha256: &[u8]) -> Result<()> {
    client
        .cached_execute(
            "UPDATE sessions SET ended_at = now() WHERE token_sha256 = $1 AND ended_at IS NULL",
            &[&token_sha256],
        )
        .await?;
    Ok(())
}

/// Deletes sessions that ended or expired before `before`, at most `limit` at once.
pub async fn purge_sessions(
    client: &impl GenericClient,
    before: DateTime<Utc>,
    limit: i64,
) -> Result<u64> {
    client
        .cached_execute(
            "DELETE FROM sessions WHERE token_sha256 IN (
                 SELECT token_sha256 FROM sessions
                 WHERE expires_at < $1 OR ended_at < $1 LIMIT $2)",
            &[&before, &limit],
        )
        .await
}

/// Whether `name` is an enabled clerk of `store` (a referral must name one); an unknown store
/// is refused by name.
pub async fn is_clerk_of(
    client: &impl GenericClient,
    name: &str,
    store: &LocationCode,
    store_field: &str,
) -> Result<bool> {
    let row = client
        .cached_query_opt(
            "SELECT EXISTS (SELECT 1 FROM users u JOIN user_locations ul ON ul.user_id = u.id
                            WHERE u.name = $1 AND u.role = 'clerk' AND u.disabled_at IS NULL
                              AND ul.location_id = l.id)
             FROM locations l WHERE l.code = $2",
            &[&name, &store.as_str()],
        )
        .await?;
    match row {
        Some(row) => Ok(row.get(0)),
        None => Err(Error::UnknownLocation {
            field: store_field.into(),
            code: store.to_string(),
        }),
    }
}
