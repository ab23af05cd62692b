//! `/openapi.json`, generated from the handlers' annotations.

use super::access;
use super::{
    costs, credentials, discrepancies, error, events, extract, holds, locations, movements, ops,
    orders, plans, skus, stock, transfers,
};
use actix_web::{get, web, HttpResponse};
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Allot",
        description = "One stock ledger for every store and warehouse."
    ),
    paths(
        ops::health,
        ops::ready,
        credentials::sign_in,
        credentials::whoami,
        credentials::sign_out,
        costs::get_costs,
        costs::put_costs,
        credentials::create_key,
        credentials::list_keys,
        credentials::revoke_key,
        credentials::create_user,
        credentials::list_users,
        credentials::disable_user,
        locations::list_locations,
        locations::put_location,
        locations::get_location,
        locations::location_stock,
        skus::search_skus,
        skus::put_sku,
        skus::get_sku,
        movements::post_movements,
        movements::list_movements,
        events::feed,
        events::export,
        stock::stock_of_sku,
        discrepancies::list_discrepancies,
        holds::place,
        holds::read,
        holds::extend,
        holds::confirm,
        holds::release,
        orders::promise,
        orders::place,
        orders::read,
        orders::cancel,
        orders::fulfil,
        orders::pickups,
        orders::returns,
        orders::attribution,
        transfers::create,
        transfers::list,
        transfers::read,
        transfers::ship,
        transfers::receive,
        transfers::cancel,
        plans::rebalance,
        plans::replenishment,
        plans::list,
        plans::read,
        plans::commit,
        plans::chart,
        plans::report_csv,
    ),
    // The rules query, path and header parameters refer to (bodies bring their own).
    components(schemas(
        error::ApiError,
        extract::Cursor,
        extract::PageLimit,
        extract::PositiveId,
        events::FeedLimit,
        events::FeedPosition,
        events::FeedWait,
        credentials::ListingLimit,
        skus::SearchLimit,
        skus::SearchPrefix,
        crate::domain::idempotency::IdempotencyKey,
        crate::domain::geo::LatLon,
        crate::app::plans::Kind,
        crate::app::transfers::Reason,
        plans::LineCursorText,
    )),
    modifiers(&Access)
)]
pub struct ApiDoc;

/// States in the document what `access::RULES` enforces: the two ways to authenticate, which
/// operations need neither, and the 401 and 403 every other one can answer.
struct Access;

impl Modify for Access {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(access::SESSION_COOKIE))),
        );
        openapi.security = Some(vec![
            SecurityRequirement::new("api_key", Vec::<String>::new()),
            SecurityRequirement::new("session", Vec::<String>::new()),
        ]);
        for (path, item) in openapi.paths.paths.iter_mut() {
            for (method, operation) in operations(item) {
                let rule = access::RULES
                    .iter()
                    .find(|(m, p, _)| *m == method && p == path)
                    .map(|(_, _, rule)| *rule);
                document_rule(operation, rule);
                document_edge(operation, method, path);
            }
        }
    }
}

fn operations(item: &mut PathItem) -> Vec<(&'static str, &mut Operation)> {
    [
        ("GET", item.get.as_mut()),
        ("POST", item.post.as_mut()),
        ("PUT", item.put.as_mut()),
        ("DELETE", item.delete.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.map(|operation| (method, operation)))
    .collect()
}

fn document_rule(operation: &mut Operation, rule: Option<access::Rule>) {
    let responses = &mut operation.responses.responses;
    match rule {
        Some(access::Rule::Public | access::Rule::Exposed) => {
            operation.security = Some(vec![SecurityRequirement::default()]);
        }
        Some(access::Rule::Authenticated) => {
            responses.insert("401".into(), refusal("No credential, or a bad one").into());
        }
        Some(access::Rule::Needs(scope)) => {
            responses.insert("401".into(), refusal("No credential, or a bad one").into());
            let lacking = format!("The credential lacks `{}` (there)", scope.as_str());
            responses.insert("403".into(), refusal(&lacking).into());
        }
        // A documented route without a rule is refused; the access tests name it.
        None => {}
    }
}

/// What the edge answers before a handler runs: 415 for a change that is not declared JSON
/// (every POST and PUT), 429 where a credential's rate or live-hold cap applies; and the 503
/// of a dependency that is down or too slow.
fn document_edge(operation: &mut Operation, method: &str, path: &str) {
    let responses = &mut operation.responses.responses;
    if matches!(method, "POST" | "PUT") {
        let undeclared = refusal("The body is not declared `Content-Type: application/json`");
        responses.insert("415".into(), undeclared.into());
        let late = refusal("The body did not arrive within the read timeout");
        responses.insert("408".into(), late.into());
    }
    if method == "POST" && matches!(path, "/v1/holds" | "/v1/orders") {
        let refusal = refusal("The credential's rate (see `Retry-After`) or live holds are spent");
        responses.insert("429".into(), refusal.into());
    }
    // Every route but the probes reads PostgreSQL, whose statements are bounded in time.
    if !matches!(path, "/health" | "/ready") {
        let busy = "PostgreSQL or Redis is unreachable or too slow, or every solver is busy; \
                    retry after `Retry-After` seconds";
        responses
            .entry("503".into())
            .or_insert_with(|| refusal(busy).into());
    }
}

fn refusal(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ApiError")))
                .build(),
        )
        .build()
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(openapi_json);
}

#[get("/openapi.json")]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
