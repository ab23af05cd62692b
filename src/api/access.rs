//! Access control at the edge: the one table of what every route needs ([`RULES`]), and the
//! middleware that authenticates each request against it before any handler runs. A route that
//! is not in the table is refused, so a new route is closed until it gets a rule.
//!
//! Programs send `Authorization: Bearer <key>`; people send the session cookie, and with it,
//! on every mutation, the session's `X-CSRF-Token`. Location limits (a POS key writes only at
//! its stores) are checked by the use cases, which get the [`Principal`] from here.

use super::error::{ApiError, Code};
use super::State;
use crate::app::access as credentials;
use crate::domain::access::{Principal, Scope};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use std::future::{ready, Ready};

/// The cookie a signed-in person's browser carries.
pub const SESSION_COOKIE: &str = "allot_session";
/// The header a cookie session's mutations must carry, equal to the session's CSRF token.
pub const CSRF_HEADER: &str = "X-CSRF-Token";

/// What a route needs from its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Anyone: liveness, the pages and their files, signing in.
    Public,
    /// Any verified credential (who am I, sign out).
    Authenticated,
    /// A credential holding this scope (at some location; the use case checks which).
    Needs(Scope),
    /// `/metrics` and `/openapi.json`: as [`Exposure`] says.
    Exposed,
}

/// Who may read `/metrics` and `/openapi.json` without a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Exposure {
    /// Anyone.
    Open,
    /// Callers on the loopback interface (a local Prometheus, a developer); others need
    /// `read_metrics`.
    Loopback,
    /// Only credentials with `read_metrics`.
    Credential,
}

/// Every route: (method, pattern, rule). The matrix test in `tests/api/access.rs` calls each one
/// with each role and checks the answer against this table.
pub const RULES: &[(&str, &str, Rule)] = {
    use Rule::*;
    use Scope::*;
    &[
        ("GET", "/health", Public),
        ("GET", "/ready", Public),
        ("GET", "/metrics", Exposed),
        ("GET", "/openapi.json", Exposed),
        ("GET", "/", Public),
        ("GET", "/plans", Public),
        ("GET", "/static/{file}", Public),
        ("POST", "/v1/session", Public),
        ("GET", "/v1/session", Authenticated),
        ("DELETE", "/v1/session", Authenticated),
        ("POST", "/v1/keys", Needs(ManageAccess)),
        ("GET", "/v1/keys", Needs(ManageAccess)),
        ("DELETE", "/v1/keys/{id}", Needs(ManageAccess)),
        ("POST", "/v1/users", Needs(ManageAccess)),
        ("GET", "/v1/users", Needs(ManageAccess)),
        ("DELETE", "/v1/users/{name}", Needs(ManageAccess)),
        ("GET", "/v1/stock/{sku}", Needs(ReadInventory)),
        ("GET", "/v1/locations", Needs(ReadInventory)),
        ("GET", "/v1/locations/{code}", Needs(ReadInventory)),
        ("PUT", "/v1/locations/{code}", Needs(WriteCatalog)),
        ("GET", "/v1/locations/{code}/stock", Needs(ReadInventory)),
        ("GET", "/v1/settings/costs", Needs(ReadPlans)),
        ("PUT", "/v1/settings/costs", Needs(ManageCosts)),
        ("POST", "/v1/webhooks", Needs(ManageWebhooks)),
        ("GET", "/v1/webhooks", Needs(ManageWebhooks)),
        ("GET", "/v1/webhooks/{id}", Needs(ManageWebhooks)),
        ("DELETE", "/v1/webhooks/{id}", Needs(ManageWebhooks)),
        ("POST", "/v1/webhooks/{id}/secret", Needs(ManageWebhooks)),
        ("POST", "/v1/webhooks/{id}/redeliver", Needs(ManageWebhooks)),
        ("GET", "/v1/webhooks/{id}/deliveries", Needs(ManageWebhooks)),
        ("GET", "/v1/skus", Needs(ReadInventory)),
        ("GET", "/v1/skus/{code}", Needs(ReadInventory)),
        ("PUT", "/v1/skus/{code}", Needs(WriteCatalog)),
        ("POST", "/v1/movements", Needs(WriteInventory)),
        ("GET", "/v1/movements", Needs(ReadMovements)),
        ("GET", "/v1/discrepancies", Needs(ReadMovements)),
        ("GET", "/v1/events", Needs(ReadEvents)),
        ("GET", "/v1/availability/export", Needs(ReadEvents)),
        ("POST", "/v1/holds", Needs(WriteHolds)),
        ("GET", "/v1/holds/{id}", Needs(ReadHolds)),
        ("POST", "/v1/holds/{id}/extend", Needs(WriteHolds)),
        ("POST", "/v1/holds/{id}/confirm", Needs(WriteHolds)),
        ("DELETE", "/v1/holds/{id}", Needs(WriteHolds)),
        ("POST", "/v1/promise", Needs(ReadInventory)),
        ("POST", "/v1/orders", Needs(PlaceOrders)),
        ("GET", "/v1/orders/{id}", Needs(ReadOrders)),
        ("POST", "/v1/orders/{id}/cancel", Needs(WriteOrders)),
        ("POST", "/v1/orders/{id}/fulfil", Needs(WriteOrders)),
        ("POST", "/v1/orders/{id}/pickups", Needs(WriteOrders)),
        ("POST", "/v1/orders/{id}/returns", Needs(WriteOrders)),
        ("GET", "/v1/reports/attribution", Needs(ReadReports)),
        ("POST", "/v1/transfers", Needs(RequestTransfers)),
        ("GET", "/v1/transfers", Needs(ReadTransfers)),
        ("GET", "/v1/transfers/{id}", Needs(ReadTransfers)),
        ("POST", "/v1/transfers/{id}/ship", Needs(MoveTransfers)),
        ("POST", "/v1/transfers/{id}/receive", Needs(MoveTransfers)),
        ("POST", "/v1/transfers/{id}/cancel", Needs(RequestTransfers)),
        ("POST", "/v1/plans/rebalance", Needs(WritePlans)),
        ("POST", "/v1/plans/replenishment", Needs(WritePlans)),
        ("GET", "/v1/plans", Needs(ReadPlans)),
        ("GET", "/v1/plans/runs/{id}", Needs(ReadPlans)),
        ("GET", "/v1/plans/{id}", Needs(ReadPlans)),
        ("POST", "/v1/plans/{id}/commit", Needs(WritePlans)),
        ("GET", "/v1/plans/{id}/chart.svg", Needs(ReadPlans)),
        ("GET", "/v1/plans/{id}/report.csv", Needs(ReadPlans)),
    ]
};

/// The rule for a request, or the methods its path takes when that method has none.
fn rule_for(method: &Method, pattern: &str) -> Result<Rule, Vec<&'static str>> {
    let mut methods = Vec::new();
    for (rule_method, rule_pattern, rule) in RULES {
        if *rule_pattern == pattern {
            if *rule_method == method.as_str() {
                return Ok(*rule);
            }
            methods.push(*rule_method);
        }
    }
    Err(methods)
}

/// How the middleware decides; from the settings.
#[derive(Debug, Clone)]
pub struct Policy {
    pub exposure: Exposure,
}

/// Authenticates the request and checks its route's rule; the handler finds the [`Principal`]
/// in the request's extensions.
pub async fn guard(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody + 'static>>, actix_web::Error> {
    match admit(&request).await {
        Ok(Some(principal)) => {
            request.extensions_mut().insert(principal);
            Ok(next.call(request).await?.map_into_left_body())
        }
        Ok(None) => Ok(next.call(request).await?.map_into_left_body()),
        Err(refusal) => Ok(refused(request, refusal)),
    }
}

fn refused<B>(request: ServiceRequest, refusal: ApiError) -> ServiceResponse<EitherBody<B>> {
    let unauthenticated = refusal.code == Code::Unauthenticated;
    let mut response = request.error_response(refusal).map_into_right_body();
    if unauthenticated {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer realm=\"allot\""),
        );
    }
    response
}

/// `Some(principal)` for a verified caller, `None` for a public route called without one.
async fn admit(request: &ServiceRequest) -> Result<Option<Principal>, ApiError> {
    let Some(pattern) = request.match_pattern() else {
        // No route: the router answers 404; nothing runs.
        return Ok(None);
    };
    let rule = rule_for(request.method(), &pattern).map_err(|methods| not_allowed(&methods))?;
    let state = request
        .app_data::<web::Data<State>>()
        .ok_or_else(|| ApiError::unavailable("the service is starting"))?;
    let caller = authenticate(state, request.request()).await;
    check_media_type(request.request())?;
    match rule {
        // A bad credential does not close what is open to anyone.
        Rule::Public => Ok(caller.ok().flatten()),
        Rule::Exposed if exposed(request) => Ok(caller.ok().flatten()),
        _ => admit_caller(rule, caller?),
    }
}

fn admit_caller(rule: Rule, caller: Option<Principal>) -> Result<Option<Principal>, ApiError> {
    match rule {
        Rule::Authenticated => caller.map(Some).ok_or_else(missing),
        Rule::Needs(scope) => needs(caller, scope),
        // Open routes were let through already; what is left is `/metrics` when not open.
        Rule::Public | Rule::Exposed => needs(caller, Scope::ReadMetrics),
    }
}

fn needs(caller: Option<Principal>, scope: Scope) -> Result<Option<Principal>, ApiError> {
    let principal = caller.ok_or_else(missing)?;
    principal.require(scope).map_err(ApiError::forbidden)?;
    Ok(Some(principal))
}

fn missing() -> ApiError {
    ApiError::new(
        Code::Unauthenticated,
        "sign in, or send an API key as 'Authorization: Bearer <key>'",
    )
}

fn not_allowed(methods: &[&str]) -> ApiError {
    if methods.is_empty() {
        // A route with no rule at all stays closed until it gets one.
        return ApiError::new(Code::Forbidden, "this route has no access rule yet");
    }
    let mut error = ApiError::new(
        Code::MethodNotAllowed,
        format!("this path takes {}", methods.join(", ")),
    );
    error.allow = super::error::Methods::of(methods);
    error
}

fn exposed(request: &ServiceRequest) -> bool {
    let policy = request.app_data::<web::Data<Policy>>();
    match policy.map_or(Exposure::Loopback, |policy| policy.exposure) {
        Exposure::Open => true,
        Exposure::Credential => false,
        Exposure::Loopback => request
            .peer_addr()
            .is_some_and(|address| address.ip().is_loopback()),
    }
}

/// The caller a bearer key or a session cookie stands for; `None` when there is neither. A
/// cookie session's mutation must also carry its CSRF token and come from this origin.
async fn authenticate(state: &State, request: &HttpRequest) -> Result<Option<Principal>, ApiError> {
    if let Some(value) = request.headers().get(header::AUTHORIZATION) {
        let key = value
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or_else(|| {
                ApiError::new(
                    Code::Unauthenticated,
                    "Authorization must be 'Bearer <key>'",
                )
            })?;
        return Ok(Some(credentials::by_key(state, key.trim()).await?));
    }
    let Some(cookie) = request.cookie(SESSION_COOKIE) else {
        return Ok(None);
    };
    let signed_in = credentials::by_session(state, cookie.value()).await?;
    if !is_safe(request.method()) {
        check_same_origin(request, &signed_in.csrf_token)?;
    }
    // Who-am-I answers the page with its CSRF token and expiry without verifying it again.
    request.extensions_mut().insert(Session {
        csrf_token: signed_in.csrf_token,
        expires_at: signed_in.expires_at,
    });
    Ok(Some(signed_in.principal))
}

/// The verified cookie session's CSRF token and expiry, for the handler that tells a page who
/// is signed in.
#[derive(Debug, Clone)]
pub struct Session {
    pub csrf_token: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// A cookie is sent by the browser whoever made the page: a mutation must prove it came from
/// ours, by the CSRF token only our page can read, and by an `Origin` (when sent) of this host.
fn check_same_origin(request: &HttpRequest, csrf_token: &str) -> Result<(), ApiError> {
    let forbidden = |message: &str| ApiError::new(Code::Forbidden, message).with_field(CSRF_HEADER);
    let sent = request
        .headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok());
    if sent != Some(csrf_token) {
        return Err(forbidden(
            "a signed-in page's change needs its X-CSRF-Token",
        ));
    }
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok());
    let host = request.connection_info().host().to_owned();
    if origin.is_some_and(|origin| origin.split("://").nth(1) != Some(host.as_str())) {
        return Err(forbidden("the request comes from another site"));
    }
    Ok(())
}

/// Every change declares a JSON body, even an empty one: a browser's cross-site form post
/// cannot, so no page elsewhere can make one.
fn check_media_type(request: &HttpRequest) -> Result<(), ApiError> {
    if is_safe(request.method()) || *request.method() == Method::DELETE {
        return Ok(());
    }
    if super::extract::declares_json(request) == Some(true) {
        Ok(())
    } else {
        Err(ApiError::new(
            Code::UnsupportedMediaType,
            "the body must be JSON (Content-Type: application/json), even an empty one",
        ))
    }
}

/// The verified caller of a route that needs one (the middleware put it there).
impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            request
                .extensions()
                .get::<Principal>()
                .cloned()
                .ok_or_else(missing),
        )
    }
}
