//! `/openapi.json`, generated from the handlers' annotations.

use super::access;
use super::{
    costs, credentials, discrepancies, error, events, extract, holds, locations, movements, ops,
    orders, plans, skus, stock, transfers, webhooks,
};
use actix_web::{get, web, HttpResponse, ResponseError};
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ObjectBuilder, SchemaType};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::RefOr;
use utoipa::openapi::{ContentBuilder, Ref, Required, ResponseBuilder};
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
        plans::read_run,
        plans::read,
        plans::commit,
        plans::chart,
        plans::report_csv,
        webhooks::create,
        webhooks::list,
        webhooks::read,
        webhooks::remove,
        webhooks::rotate,
        webhooks::redeliver,
        webhooks::deliveries,
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
        document_links(openapi);
        for (path, item) in openapi.paths.paths.iter_mut() {
            for (method, operation) in operations(item) {
                let rule = access::RULES
                    .iter()
                    .find(|(m, p, _)| *m == method && p == path)
                    .map(|(_, _, rule)| *rule);
                document_rule(operation, rule);
                document_edge(operation, method, path);
                document_input(operation);
                document_declared_json(operation, method);
                document_retired(operation);
            }
        }
    }
}

/// What a created resource (a 201, or the 200 of the same one) leads to, so a client (and the
/// contract fuzzer) can follow it: (operation, where the value is, [(link name, target
/// operation, its parameter)]).
type Links = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str, &'static str)],
);

const LINKS: &[Links] = &[
    (
        "POST /v1/orders",
        "$response.body#/id",
        &[
            ("read", "GET /v1/orders/{id}", "id"),
            ("cancel", "POST /v1/orders/{id}/cancel", "id"),
            ("fulfil", "POST /v1/orders/{id}/fulfil", "id"),
            ("pick_up", "POST /v1/orders/{id}/pickups", "id"),
            ("return", "POST /v1/orders/{id}/returns", "id"),
        ],
    ),
    (
        "POST /v1/holds",
        "$response.body#/id",
        &[
            ("read", "GET /v1/holds/{id}", "id"),
            ("extend", "POST /v1/holds/{id}/extend", "id"),
            ("release", "DELETE /v1/holds/{id}", "id"),
        ],
    ),
    (
        "POST /v1/transfers",
        "$response.body#/transfers/0/id",
        &[
            ("read", "GET /v1/transfers/{id}", "id"),
            ("ship", "POST /v1/transfers/{id}/ship", "id"),
            ("receive", "POST /v1/transfers/{id}/receive", "id"),
            ("cancel", "POST /v1/transfers/{id}/cancel", "id"),
        ],
    ),
    (
        "POST /v1/keys",
        "$response.body#/id",
        &[("revoke", "DELETE /v1/keys/{id}", "id")],
    ),
    (
        "POST /v1/users",
        "$response.body#/name",
        &[("disable", "DELETE /v1/users/{name}", "name")],
    ),
    (
        "PUT /v1/locations/{code}",
        "$request.path.code",
        &[
            ("read", "GET /v1/locations/{code}", "code"),
            ("stock", "GET /v1/locations/{code}/stock", "code"),
        ],
    ),
    (
        "PUT /v1/skus/{code}",
        "$request.path.code",
        &[
            ("read", "GET /v1/skus/{code}", "code"),
            ("stock", "GET /v1/stock/{sku}", "sku"),
        ],
    ),
    (
        "POST /v1/plans/rebalance",
        "$response.body#/id",
        &[
            ("read", "GET /v1/plans/{id}", "id"),
            ("commit", "POST /v1/plans/{id}/commit", "id"),
        ],
    ),
    (
        "POST /v1/plans/replenishment",
        "$response.body#/id",
        &[
            ("read", "GET /v1/plans/{id}", "id"),
            ("commit", "POST /v1/plans/{id}/commit", "id"),
        ],
    ),
];

/// A JSON pointer to an operation in the document (`/` in its path is written `~1`).
fn operation_ref(name: &str) -> String {
    let (method, path) = name.split_once(' ').unwrap_or_default();
    let path = path.replace('~', "~0").replace('/', "~1");
    format!("#/paths/{path}/{}", method.to_lowercase())
}

fn document_links(openapi: &mut utoipa::openapi::OpenApi) {
    for (from, value, targets) in LINKS {
        let (method, path) = from.split_once(' ').unwrap_or_default();
        let Some(operation) = openapi.paths.paths.get_mut(path).and_then(|item| {
            operations(item)
                .into_iter()
                .find(|(m, _)| m == &method)
                .map(|(_, operation)| operation)
        }) else {
            continue;
        };
        // A 200 of these is the same resource again (a replayed order or hold, an update).
        for status in ["201", "200"] {
            let Some(RefOr::T(answer)) = operation.responses.responses.get_mut(status) else {
                continue;
            };
            for (name, to, parameter) in *targets {
                let link = LinkBuilder::new()
                    .operation_ref(operation_ref(to))
                    .parameter(*parameter, *value)
                    .build();
                answer.links.insert((*name).to_owned(), link.into());
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

/// What the extractors answer for the inputs an operation takes (`extract::query_error`,
/// `path_error`, `Json`, `Invalid`): 400 for a query, path or body that does not parse, 422 for
/// a value that breaks its rule, 413 for a body over `BODY_BYTES_MAX`, and 404 where the path or
/// a filter names something that does not exist. Handlers document the rest (409, 410…).
fn document_input(operation: &mut Operation) {
    let takes = |place: ParameterIn| {
        operation
            .parameters
            .iter()
            .flatten()
            .any(|parameter| parameter.parameter_in == place)
    };
    let (path, query, header) = (
        takes(ParameterIn::Path),
        takes(ParameterIn::Query),
        takes(ParameterIn::Header),
    );
    let body = operation.request_body.is_some();
    let responses = &mut operation.responses.responses;
    let mut add = |status: &str, description: &str| {
        responses
            .entry(status.into())
            .or_insert_with(|| refusal(description).into());
    };
    if path || query || body {
        add(
            "400",
            "The query string, a path segment or the body does not parse",
        );
    }
    if path || query || header || body {
        add("422", "A value breaks its rule; `field` names it");
    }
    if body {
        let limit = format!("The body is over {} bytes", super::extract::BODY_BYTES_MAX);
        add("413", &limit);
    }
    if path || query {
        add(
            "404",
            "The path or a filter names something that does not exist",
        );
    }
}

/// A change that reads no body still declares one (`access::check_media_type`): any JSON.
fn document_declared_json(operation: &mut Operation, method: &str) {
    if !matches!(method, "POST" | "PUT") || operation.request_body.is_some() {
        return;
    }
    let anything = ObjectBuilder::new()
        .schema_type(SchemaType::AnyValue)
        .examples([serde_json::json!({})]);
    let body = RequestBodyBuilder::new()
        .description(Some(
            "Not read: only its `Content-Type: application/json` counts",
        ))
        .content(
            "application/json",
            ContentBuilder::new().schema(Some(anything)).build(),
        )
        .required(Some(Required::True))
        .build();
    operation.request_body = Some(body);
}

/// A route that only answers 410 is kept for the message naming its successor: deprecated.
fn document_retired(operation: &mut Operation) {
    let responses = &operation.responses.responses;
    let succeeds = responses.keys().any(|status| status.starts_with('2'));
    if responses.contains_key("410") && !succeeds {
        operation.deprecated = Some(utoipa::openapi::Deprecated::True);
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
    match serde_json::to_value(ApiDoc::openapi()) {
        Ok(mut document) => {
            respell_links(&mut document);
            HttpResponse::Ok().json(document)
        }
        Err(error) => ResponseError::error_response(&error::ApiError::internal(&error)),
    }
}

/// utoipa 5 writes a link's `operationRef` as `operation_ref` (its `Link` lacks the camelCase
/// renaming its other types have); clients would not find the target.
fn respell_links(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Object(fields) => {
            if let Some(Value::Object(links)) = fields.get_mut("links") {
                for link in links.values_mut().filter_map(Value::as_object_mut) {
                    if let Some(target) = link.remove("operation_ref") {
                        link.insert("operationRef".to_owned(), target);
                    }
                }
            }
            fields.values_mut().for_each(respell_links);
        }
        Value::Array(items) => items.iter_mut().for_each(respell_links),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn operation<'a>(document: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
        let (method, path) = name.split_once(' ').unwrap_or_default();
        &document["paths"][path][method.to_lowercase()]
    }

    #[test]
    fn every_link_joins_two_documented_operations() {
        let document = serde_json::to_value(ApiDoc::openapi()).expect("a JSON document");
        for (from, _, targets) in LINKS {
            for (name, to, _) in *targets {
                let link = &operation(&document, from)["responses"]["201"]["links"][name];
                assert!(link.is_object(), "{from} has no link {name}");
                assert!(
                    operation(&document, to).is_object(),
                    "{to} is not documented"
                );
            }
        }
    }
}
