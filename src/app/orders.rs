//! Promises, orders and their steps: what the e-shop calls every minute. An order is routed,
//! its units held in Redis while it is written to the ledger (whose guard has the last word),
//! and a cart's hold named by the order is consumed by it, once.

use super::{App, Error, Key, Reply, Result};
use crate::domain::access::{Denied, Principal, Scope};
use crate::domain::codes::{LocationCode, SkuCode};
use crate::domain::decision::Decision;
use crate::domain::hold::{HoldLine, HoldOutcome, HoldRequest, HoldStatus, HoldUse, HoldView};
use crate::domain::quantity::Qty;
use crate::holds::lifecycle;
use crate::ledger::{self, orders};
use crate::routing;
use chrono::{DateTime, Duration, Utc};

pub use crate::ledger::orders::{OrderView, Referrer};
pub use crate::routing::{Fulfilment, Request as Routing, RoutedLine, RoutedSource};

/// How long a referral by a store clerk counts towards an online order.
pub const REFERRAL_VALIDITY_DAYS: i64 = 30;
/// Attempts at placing an order when another request takes the chosen units first.
pub const ROUTING_ATTEMPTS_MAX: usize = 3;
/// How long the chosen units are held while the order is written to the ledger.
const ORDER_HOLD_TTL_MS: i64 = 30_000;

/// The store and clerk who served the customer, as the e-shop reports them.
#[derive(Debug, Clone)]
pub struct Referral {
    pub store: LocationCode,
    pub clerk: String,
    pub served_at: DateTime<Utc>,
}

impl Referral {
    /// Credited when the customer was served at most [`REFERRAL_VALIDITY_DAYS`] before.
    fn credit(&self, now: DateTime<Utc>) -> Referrer {
        Referrer {
            store: self.store.clone(),
            clerk: self.clerk.clone(),
            credited: now - self.served_at <= Duration::days(REFERRAL_VALIDITY_DAYS),
        }
    }
}

/// An order to place, parsed.
#[derive(Debug, Clone)]
pub struct PlaceOrder {
    /// The e-shop's order id: a retry with the same id (and request) gets the same order.
    pub id: LocationCode,
    /// Tells a retry from a different request reusing the id.
    pub request_hash: Vec<u8>,
    pub routing: Routing,
    pub referral: Option<Referral>,
    /// The cart's hold (a hold id, checked to be a UUID).
    pub hold_id: Option<String>,
}

/// What can be promised for a cart, from where and by when.
pub struct Promised {
    pub complete: bool,
    pub lines: Vec<RoutedLine>,
    pub cost: serde_json::Value,
    /// How it was decided; `None` when nothing could serve the cart.
    pub decision: Option<Decision>,
}

/// Routes a cart without holding anything.
pub async fn promise(app: &App, request: &Routing) -> Result<Promised> {
    let costs = super::costs::current(app).await?;
    let routed = app.route(request, &costs).await?;
    let lines = routed.lines(Utc::now())?;
    Ok(Promised {
        complete: routed.is_feasible() && lines.iter().all(|l| l.promisable == l.qty),
        lines,
        cost: routed.cost(),
        decision: routed.decision(),
    })
}

/// Places an order. Any refusal first checks whether this very order was already placed (a
/// retry whose own units are what is missing now): then its answer is replayed.
///
/// A clerk's order is credited to the clerk and their store, whatever the body says; an
/// e-shop's referral must name a clerk of the referring store.
pub async fn place(app: &App, by: &Principal, mut order: PlaceOrder) -> Result<Reply<OrderView>> {
    app.within_rate(by)?;
    order.referral = referral(app, by, order.referral.take()).await?;
    let (id, hash) = (order.id.clone(), order.request_hash.clone());
    match place_claimed(app, by, order).await {
        Ok(reply) => Ok(reply),
        Err(error) => match orders::replay(&app.client().await?, id.as_str(), &hash).await? {
            Some(replayed) => Ok(replayed),
            None => Err(error),
        },
    }
}

/// The referral an order from `by` carries: the signed-in clerk's own, or the e-shop's,
/// checked against the clerks the chain knows.
async fn referral(app: &App, by: &Principal, asked: Option<Referral>) -> Result<Option<Referral>> {
    if let Some((clerk, store)) = by.clerk() {
        if let Some(asked) = asked
            .as_ref()
            .filter(|r| r.clerk != clerk || r.store != *store)
        {
            return Err(Error::Forbidden(Denied {
                scope: format!("{}:{}", Scope::PlaceOrders.as_str(), asked.store),
            }));
        }
        return Ok(Some(Referral {
            store: store.clone(),
            clerk: clerk.to_owned(),
            served_at: asked.map_or_else(Utc::now, |r| r.served_at),
        }));
    }
    if !by.is_everywhere(Scope::PlaceOrders) {
        // A clerk's scope belongs to the person: a key cannot credit a clerk.
        return Err(Error::Forbidden(Denied {
            scope: Scope::PlaceOrders.as_str().to_owned(),
        }));
    }
    let Some(asked) = asked else {
        return Ok(None);
    };
    let client = app.client().await?;
    if !ledger::access::is_clerk_of(&client, &asked.clerk, &asked.store, "referrer.store").await? {
        return Err(Error::Refused {
            field: "referrer.clerk".into(),
            message: format!("no clerk '{}' works at {}", asked.clerk, asked.store),
        });
    }
    Ok(Some(asked))
}

async fn place_claimed(
    app: &App,
    by: &Principal,
    mut order: PlaceOrder,
) -> Result<Reply<OrderView>> {
    let claimed = match &order.hold_id {
        Some(id) => Some(claim(app, id).await?),
        None => None,
    };
    let (hold_use, cart_hold) = claimed.unzip();
    let cart_hold = cart_hold.flatten();
    if let Some(hold) = &cart_hold {
        order.routing.own_held = hold.lines.clone();
    }
    let placed = place_routed(app, by, &order, hold_use).await;
    if let Some(hold) = &cart_hold {
        let consumed = matches!(placed, Ok(Reply::Fresh(_)));
        lifecycle::settle_claim(&app.redis, hold, consumed).await;
    }
    placed
}

/// The cart hold named by `hold_id`, claimed for this order; an expired or lost hold is no
/// error (the order is routed without it), one already used or released is.
async fn claim(app: &App, id: &str) -> Result<(HoldUse, Option<HoldView>)> {
    let outcome = match lifecycle::claim(&app.redis, id).await {
        Ok(hold) => {
            app.hold_changes.touched(&hold);
            return Ok((hold_use(id, HoldOutcome::Consumed), Some(hold)));
        }
        Err(lifecycle::Error::NotFound(_)) => HoldOutcome::NotFound,
        Err(lifecycle::Error::Resolved(HoldStatus::Expired)) => HoldOutcome::Expired,
        Err(lifecycle::Error::Unavailable(error)) => {
            tracing::warn!(%error, "placing an order without its cart hold");
            HoldOutcome::Unavailable
        }
        Err(lifecycle::Error::Resolved(status)) => {
            let field = Some("hold_id".to_owned());
            return Err(Error::HoldResolved { status, field });
        }
        Err(error) => return Err(error.into()),
    };
    Ok((hold_use(id, outcome), None))
}

fn hold_use(id: &str, outcome: HoldOutcome) -> HoldUse {
    HoldUse {
        id: id.to_owned(),
        outcome,
    }
}

/// Routes and writes the order, routing again (bounded) when other requests take the chosen
/// units first.
async fn place_routed(
    app: &App,
    by: &Principal,
    order: &PlaceOrder,
    hold: Option<HoldUse>,
) -> Result<Reply<OrderView>> {
    let request = &order.routing;
    let costs = super::costs::current(app).await?;
    for attempt in 1..=ROUTING_ATTEMPTS_MAX {
        let routed = app.route(request, &costs).await?;
        if !routed.is_feasible() {
            return Err(short(None, routed.shortage()));
        }
        if !request.allow_split && routed.sources_used() > 1 {
            let message =
                "no single location can fulfil the whole order, and splitting is not allowed";
            return Err(short(None, message));
        }
        let new_order = new_order(order, &routed, hold.clone(), by)?;
        match commit(app, by, &new_order).await {
            Ok(reply) => return Ok(reply),
            Err(Lost::Race) if attempt < ROUTING_ATTEMPTS_MAX => {
                tracing::info!(attempt, "lost a race for the chosen units; routing again");
            }
            Err(Lost::Race) => break,
            Err(Lost::Error(error)) => return Err(error),
        }
    }
    Err(short(
        None,
        "the chosen units were taken by other orders; try again",
    ))
}

fn short(field: Option<String>, message: impl Into<String>) -> Error {
    Error::Short {
        field,
        message: message.into(),
        lines: Vec::new(),
    }
}

/// The ledger's order for a routed plan.
fn new_order(
    order: &PlaceOrder,
    routed: &routing::Routed,
    hold: Option<HoldUse>,
    by: &Principal,
) -> Result<orders::NewOrder> {
    let lines = routed
        .lines(Utc::now())?
        .into_iter()
        .flat_map(|line| {
            let sku = line.sku;
            line.sources
                .into_iter()
                .map(move |source| orders::PlannedLine {
                    sku: sku.clone(),
                    source: source.location,
                    route: source.route,
                    qty: source.qty,
                    ready_at: source.ready_at,
                    lead_time_hours: source.lead_time_hours,
                })
        })
        .collect();
    let destination = match &order.routing.fulfilment {
        Fulfilment::Ship(point) => orders::Destination::Ship(*point),
        Fulfilment::Pickup(store) => orders::Destination::Pickup(store.clone()),
    };
    let now = Utc::now();
    let decision = routed
        .decision()
        .ok_or_else(|| short(None, routed.shortage()))?;
    Ok(orders::NewOrder {
        client_order_id: order.id.to_string(),
        request_hash: order.request_hash.clone(),
        destination,
        allow_split: order.routing.allow_split,
        referrer: order.referral.as_ref().map(|referral| referral.credit(now)),
        lines,
        cost: routed.cost(),
        decision,
        hold,
        placed_by: by.actor.to_string(),
    })
}

enum Lost {
    Race,
    Error(Error),
}

impl From<ledger::Error> for Lost {
    fn from(error: ledger::Error) -> Self {
        match error {
            ledger::Error::Shortage { .. } => Self::Race,
            error => Self::Error(error.into()),
        }
    }
}

/// Holds the chosen units in Redis (so carts see them go at once), then writes the order to the
/// ledger, whose guard has the last word; without Redis the ledger alone decides. An order that
/// consumes a cart hold has its units counted by that claimed hold already: the ledger is
/// written directly.
async fn commit(
    app: &App,
    by: &Principal,
    order: &orders::NewOrder,
) -> std::result::Result<Reply<OrderView>, Lost> {
    let consumes_cart_hold = order
        .hold
        .as_ref()
        .is_some_and(|hold| hold.outcome == HoldOutcome::Consumed);
    let hold = match consumes_cart_hold {
        true => None,
        false => order_hold(app, by, order).await?,
    };
    lifecycle::consume(&app.redis, hold.as_ref(), async || {
        let (reply, balances) = orders::place(&app.pool, &by.actor, order).await?;
        // Redis learns the allocation before the hold's units stop counting: for a moment the
        // units count twice, never not at all.
        app.synced(&balances).await;
        Ok(reply)
    })
    .await
}

/// The order's own hold on its chosen units, placed as confirming; `None` without Redis.
async fn order_hold(
    app: &App,
    by: &Principal,
    order: &orders::NewOrder,
) -> std::result::Result<Option<HoldView>, Lost> {
    let request = HoldRequest {
        lines: order
            .lines
            .iter()
            .map(|line| HoldLine {
                sku: line.sku.clone(),
                location: line.source.clone(),
                qty: line.qty,
            })
            .collect(),
        ttl_ms: ORDER_HOLD_TTL_MS,
        client_id: None,
    };
    match super::holds::place_confirming(app, by, &request).await {
        Ok(hold) => Ok(Some(hold)),
        Err(Error::Short { .. }) => Err(Lost::Race),
        Err(Error::Unavailable(_)) => {
            tracing::warn!("placing an order without a Redis hold");
            Ok(None)
        }
        Err(error) => Err(Lost::Error(error)),
    }
}

/// One lifecycle step of a placed order.
#[derive(Debug, Clone, Copy)]
pub enum Step<'a> {
    /// Cancel what has not happened yet.
    Cancel,
    /// Units of a ship order leave their sources.
    Fulfil(&'a [(SkuCode, LocationCode, Qty)]),
    /// The customer collects units at the pickup store.
    PickUp(&'a [(SkuCode, Qty)]),
    /// Fulfilled units come back at a location and become its stock.
    Return(&'a [(SkuCode, LocationCode, Qty)]),
}

impl Step<'_> {
    fn name(self) -> &'static str {
        match self {
            Self::Cancel => "cancel",
            Self::Fulfil(_) => "fulfil",
            Self::PickUp(_) => "pickup",
            Self::Return(_) => "return",
        }
    }
}

/// Runs one step of order `id`, once per idempotency key.
pub async fn step(
    app: &App,
    by: &Principal,
    id: &LocationCode,
    key: Option<&Key>,
    step: Step<'_>,
) -> Result<Reply<OrderView>> {
    by.require(Scope::WriteOrders)?;
    let order_id = orders::id_of(&app.client().await?, id.as_str()).await?;
    let pool = &app.pool;
    let run = orders::Step {
        actor: &by.actor,
        key,
        order: id.as_str(),
        step: step.name(),
    };
    let (reply, balances) = match step {
        Step::Cancel => orders::cancel(pool, run, order_id).await?,
        Step::Fulfil(lines) => orders::fulfil(pool, run, order_id, lines).await?,
        Step::PickUp(lines) => orders::pick_up(pool, run, order_id, lines).await?,
        Step::Return(lines) => orders::take_back(pool, run, order_id, lines).await?,
    };
    app.synced(&balances).await;
    Ok(reply)
}
