//! API keys and users (the admin's), and signing in and out (everyone's).

use super::access::{Session, SESSION_COOKIE};
use super::error::ApiError;
use super::extract::Json;
use super::State;
use crate::app::access::{self, CreatedKey, KeyRecord, KeyRequest, UserRecord, UserRequest};
use crate::domain::access::{Password, Principal, Role, Scope, UserName};
use crate::domain::codes::LocationCode;
use crate::domain::schema::{integer, schema_rule, text};
use crate::domain::Invalid;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::{delete, get, post, web, HttpMessage, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Most keys or users one listing returns, and how many it returns unless told.
pub const LISTING_LIMIT_MAX: i64 = 1000;
pub const LISTING_LIMIT_DEFAULT: i64 = 100;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(sign_in)
        .service(whoami)
        .service(sign_out)
        .service(create_key)
        .service(list_keys)
        .service(revoke_key)
        .service(create_user)
        .service(list_users)
        .service(disable_user);
}

fn role(field: &str, raw: &str) -> Result<Role, ApiError> {
    Ok(Role::parse(field, raw)?)
}

fn locations(raw: &[String]) -> Result<Vec<LocationCode>, ApiError> {
    raw.iter()
        .enumerate()
        .map(|(index, code)| {
            LocationCode::parse(&format!("locations[{index}]"), code).map_err(ApiError::from)
        })
        .collect()
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"role": "pos", "locations": ["TPE-001"], "label": "Till 3, Xinyi"}))]
pub struct KeyBody {
    #[schema(value_type = Role)]
    pub role: String,
    /// The stores or warehouses a pos, clerk or warehouse key is limited to.
    #[serde(default)]
    #[schema(value_type = Vec<LocationCode>)]
    pub locations: Vec<String>,
    /// What the key is for, as the admin will recognise it in a list.
    #[schema(value_type = Option<KeyLabel>)]
    pub label: Option<String>,
    /// When it stops working; in the future.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Longest label a key may have, in characters.
pub const LABEL_LENGTH_MAX: usize = 200;

schema_rule!(
    /// What a key is for.
    KeyLabel = text(LABEL_LENGTH_MAX)
);
schema_rule!(
    /// Keys or users per listing.
    ListingLimit = integer(1, LISTING_LIMIT_MAX).default(Some(LISTING_LIMIT_DEFAULT.into()))
);

/// Create an API key. The key is in this answer only: it is stored hashed.
#[utoipa::path(tag = "access", request_body = KeyBody, responses(
    (status = 201, body = CreatedKey), (status = 401, body = ApiError),
    (status = 403, body = ApiError), (status = 422, body = ApiError)))]
#[post("/v1/keys")]
pub async fn create_key(
    state: web::Data<State>,
    by: Principal,
    body: Json<KeyBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.value;
    let label = body
        .label
        .map(|label| crate::domain::parse_text("label", &label, LABEL_LENGTH_MAX))
        .transpose()?;
    let request = KeyRequest {
        role: role("role", &body.role)?,
        locations: locations(&body.locations)?,
        label,
        expires_at: body.expires_at,
    };
    let created = access::create_key(&state, &by, request).await?;
    Ok(HttpResponse::Created().json(created))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListingQuery {
    #[param(value_type = Option<ListingLimit>)]
    pub limit: Option<i64>,
}

fn listing_limit(raw: Option<i64>) -> Result<i64, ApiError> {
    match raw.unwrap_or(LISTING_LIMIT_DEFAULT) {
        limit @ 1..=LISTING_LIMIT_MAX => Ok(limit),
        _ => Err(Invalid::new("limit", format!("must be 1 to {LISTING_LIMIT_MAX}")).into()),
    }
}

/// List API keys, newest first (never their secrets).
#[utoipa::path(tag = "access", params(ListingQuery), responses(
    (status = 200, body = Vec<KeyRecord>), (status = 401, body = ApiError),
    (status = 403, body = ApiError)))]
#[get("/v1/keys")]
pub async fn list_keys(
    state: web::Data<State>,
    by: Principal,
    query: web::Query<ListingQuery>,
) -> Result<HttpResponse, ApiError> {
    let keys = access::keys(&state, &by, listing_limit(query.limit)?).await?;
    Ok(HttpResponse::Ok().json(keys))
}

/// Revoke an API key: it stops working at once on this instance, within 10 s on the others.
#[utoipa::path(tag = "access", params(("id" = String, Path)), responses(
    (status = 200, body = KeyRecord), (status = 401, body = ApiError),
    (status = 403, body = ApiError), (status = 404, body = ApiError)))]
#[delete("/v1/keys/{id}")]
pub async fn revoke_key(
    state: web::Data<State>,
    by: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let revoked = access::revoke_key(&state, &by, &id).await?;
    Ok(HttpResponse::Ok().json(revoked))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "mei.lin", "password": "correct-horse-battery",
    "role": "clerk", "locations": ["TPE-001"]}))]
pub struct UserBody {
    /// What the person signs in with; a clerk's name is also the clerk credited on orders.
    #[schema(value_type = UserName)]
    pub name: String,
    /// Stored as an argon2id hash.
    #[schema(value_type = Password)]
    pub password: String,
    #[schema(value_type = Role)]
    pub role: String,
    #[serde(default)]
    #[schema(value_type = Vec<LocationCode>)]
    pub locations: Vec<String>,
}

/// Create a user (a person who signs in with a password).
#[utoipa::path(tag = "access", request_body = UserBody, responses(
    (status = 201, body = UserRecord), (status = 401, body = ApiError),
    (status = 403, body = ApiError), (status = 409, body = ApiError),
    (status = 422, body = ApiError)))]
#[post("/v1/users")]
pub async fn create_user(
    state: web::Data<State>,
    by: Principal,
    body: Json<UserBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.value;
    let request = UserRequest {
        role: role("role", &body.role)?,
        locations: locations(&body.locations)?,
        name: body.name,
        password: body.password,
    };
    let user = access::create_user(&state, &by, request).await?;
    Ok(HttpResponse::Created().json(user))
}

/// List users by name.
#[utoipa::path(tag = "access", params(ListingQuery), responses(
    (status = 200, body = Vec<UserRecord>), (status = 401, body = ApiError),
    (status = 403, body = ApiError)))]
#[get("/v1/users")]
pub async fn list_users(
    state: web::Data<State>,
    by: Principal,
    query: web::Query<ListingQuery>,
) -> Result<HttpResponse, ApiError> {
    let users = access::users(&state, &by, listing_limit(query.limit)?).await?;
    Ok(HttpResponse::Ok().json(users))
}

/// Disable a user and end their sessions.
#[utoipa::path(tag = "access", params(("name" = UserName, Path)), responses(
    (status = 200, body = UserRecord), (status = 401, body = ApiError),
    (status = 403, body = ApiError), (status = 404, body = ApiError)))]
#[delete("/v1/users/{name}")]
pub async fn disable_user(
    state: web::Data<State>,
    by: Principal,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let user = access::disable_user(&state, &by, &name).await?;
    Ok(HttpResponse::Ok().json(user))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInBody {
    pub name: String,
    pub password: String,
}

/// Who is calling: for a page, the signed-in person and the token its changes must carry.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Caller {
    /// `key:<id>` or `user:<name>`.
    pub actor: String,
    pub name: Option<String>,
    pub role: String,
    pub locations: Vec<String>,
    /// The scopes the role grants, `scope` or `scope:LOCATION`.
    pub scopes: Vec<String>,
    /// For a session: send it as `X-CSRF-Token` with every change.
    pub csrf_token: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

fn caller(principal: &Principal, session: Option<&Session>) -> Caller {
    let scopes = principal
        .role
        .grants()
        .iter()
        .flat_map(|(scope, _)| scopes_of(principal, *scope))
        .collect();
    Caller {
        actor: principal.actor.to_string(),
        name: match &principal.actor {
            crate::domain::access::Actor::User(name) => Some(name.clone()),
            _ => None,
        },
        role: principal.role.as_str().to_owned(),
        locations: principal
            .locations
            .iter()
            .map(ToString::to_string)
            .collect(),
        scopes,
        csrf_token: session.map(|session| session.csrf_token.clone()),
        expires_at: session.map(|session| session.expires_at),
    }
}

fn scopes_of(principal: &Principal, scope: Scope) -> Vec<String> {
    if principal.is_everywhere(scope) {
        return vec![scope.as_str().to_owned()];
    }
    principal
        .locations
        .iter()
        .map(|location| format!("{}:{location}", scope.as_str()))
        .collect()
}

fn session_cookie(request: &HttpRequest, value: String, max_age_s: i64) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(request.connection_info().scheme() == "https")
        .max_age(actix_web::cookie::time::Duration::seconds(max_age_s))
        .finish()
}

/// Sign in with a name and password: sets the session cookie and answers who signed in.
#[utoipa::path(tag = "access", request_body = SignInBody, responses(
    (status = 200, body = Caller), (status = 401, body = ApiError),
    (status = 415, body = ApiError), (status = 422, body = ApiError)))]
#[post("/v1/session")]
pub async fn sign_in(
    state: web::Data<State>,
    request: HttpRequest,
    body: Json<SignInBody>,
) -> Result<HttpResponse, ApiError> {
    let session = access::sign_in(&state, &body.value.name, &body.value.password).await?;
    let max_age_s = access::SESSION_TTL_HOURS * 3600;
    let signed_in = session.signed_in;
    let page = Session {
        csrf_token: signed_in.csrf_token,
        expires_at: signed_in.expires_at,
    };
    Ok(HttpResponse::Ok()
        .cookie(session_cookie(&request, session.token, max_age_s))
        .json(caller(&signed_in.principal, Some(&page))))
}

/// Who is calling, with the session's CSRF token for a signed-in page.
#[utoipa::path(tag = "access", responses(
    (status = 200, body = Caller), (status = 401, body = ApiError)))]
#[get("/v1/session")]
pub async fn whoami(request: HttpRequest, principal: Principal) -> HttpResponse {
    // The middleware left the session it verified (none for a bearer key).
    let session = request.extensions().get::<Session>().cloned();
    HttpResponse::Ok().json(caller(&principal, session.as_ref()))
}

/// Sign out: ends the session and clears its cookie.
#[utoipa::path(tag = "access", responses(
    (status = 204, description = "Signed out"), (status = 401, body = ApiError)))]
#[delete("/v1/session")]
pub async fn sign_out(
    state: web::Data<State>,
    request: HttpRequest,
    _principal: Principal,
) -> Result<HttpResponse, ApiError> {
    if let Some(cookie) = request.cookie(SESSION_COOKIE) {
        access::sign_out(&state, cookie.value()).await?;
    }
    Ok(HttpResponse::NoContent()
        .cookie(session_cookie(&request, String::new(), 0))
        .finish())
}
