//! Webhooks: subscriptions an admin manages, and the delivery loop that sends each one the
//! numbered stock events it asked for, signed (Standard Webhooks), in feed order, at least once.

use super::{App, Error, Result};
use crate::domain::access::{Principal, Scope};
use crate::domain::codes::{LocationCode, SkuCode};
use crate::domain::webhook::{self, Secret, BATCH_EVENTS_MAX, SCAN_POSITIONS_MAX};
use crate::ledger::events::EventView;
use crate::ledger::webhooks::{self as store, Attempt, Due, NewWebhook};
use crate::ledger::{locations, skus};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use crate::ledger::webhooks::{Attempt as DeliveryAttempt, WebhookView};

/// How deliveries are timed: the request's timeout, the first retry's delay (doubling after),
/// and how long a subscription may fail before it is disabled.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub timeout: Duration,
    pub retry_base: Duration,
    pub disable_after: chrono::TimeDelta,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            retry_base: Duration::from_secs(5),
            disable_after: chrono::TimeDelta::days(1),
        }
    }
}

/// A subscription as asked for, before it is parsed.
pub struct Subscription {
    pub url: String,
    pub events: Vec<String>,
    pub secret: Option<String>,
    pub sku: Option<String>,
    pub location: Option<String>,
}

/// Creates a subscription; answers it with its secret (given or generated), the only time the
/// secret leaves the service.
pub async fn create(app: &App, by: &Principal, ask: Subscription) -> Result<(WebhookView, Secret)> {
    by.require(Scope::ManageWebhooks)?;
    let url = webhook::url(&ask.url)?;
    let kinds = webhook::kinds(&ask.events)?;
    let secret = match &ask.secret {
        Some(raw) => Secret::parse("secret", raw)?,
        None => Secret::generate(),
    };
    let client = app.client().await?;
    let sku_id = match &ask.sku {
        None => None,
        Some(raw) => {
            let code = SkuCode::parse("sku", raw)?;
            let found = skus::get(&client, &code).await?;
            Some(found.ok_or_else(|| unknown_sku(&code))?.0)
        }
    };
    let location_id = match &ask.location {
        None => None,
        Some(raw) => {
            let code = LocationCode::parse("location", raw)?;
            let found = locations::get(&client, &code).await?;
            Some(found.ok_or_else(|| unknown_location(&code))?.0)
        }
    };
    let created_by = by.actor.to_string();
    let new = NewWebhook {
        url: &url,
        kinds: &kinds,
        sku_id,
        location_id,
        secret: &secret,
        created_by: &created_by,
    };
    let id = store::create(&client, &new)
        .await?
        .ok_or_else(|| Error::Refused {
            field: "url".into(),
            message: format!(
                "the chain has {} webhooks, the most it may",
                webhook::WEBHOOKS_MAX
            ),
        })?;
    Ok((store::get(&client, id).await?, secret))
}

fn unknown_sku(code: &SkuCode) -> Error {
    Error::UnknownSku {
        field: "sku".into(),
        code: code.to_string(),
    }
}

fn unknown_location(code: &LocationCode) -> Error {
    Error::UnknownLocation {
        field: "location".into(),
        code: code.to_string(),
    }
}

pub async fn list(app: &App, by: &Principal, after: i64, limit: i64) -> Result<Vec<WebhookView>> {
    by.require(Scope::ManageWebhooks)?;
    Ok(store::list(&app.client().await?, after, limit).await?)
}

pub async fn get(app: &App, by: &Principal, id: i64) -> Result<WebhookView> {
    by.require(Scope::ManageWebhooks)?;
    Ok(store::get(&app.client().await?, id).await?)
}

pub async fn delete(app: &App, by: &Principal, id: i64) -> Result<()> {
    by.require(Scope::ManageWebhooks)?;
    Ok(store::delete(&app.client().await?, id).await?)
}

/// Signs with a new secret (given or generated) from now on, the old one beside it for a day.
pub async fn rotate(app: &App, by: &Principal, id: i64, secret: Option<&str>) -> Result<Secret> {
    by.require(Scope::ManageWebhooks)?;
    let secret = match secret {
        Some(raw) => Secret::parse("secret", raw)?,
        None => Secret::generate(),
    };
    store::rotate(&app.client().await?, id, &secret).await?;
    Ok(secret)
}

/// Sends every matching event after `position` again, and enables the subscription.
pub async fn redeliver(app: &App, by: &Principal, id: i64, position: i64) -> Result<WebhookView> {
    by.require(Scope::ManageWebhooks)?;
    let client = app.client().await?;
    store::redeliver(&client, id, position).await?;
    Ok(store::get(&client, id).await?)
}

pub async fn attempts(app: &App, by: &Principal, id: i64, limit: i64) -> Result<Vec<Attempt>> {
    by.require(Scope::ManageWebhooks)?;
    Ok(store::attempts(&app.client().await?, id, limit).await?)
}

/// How long an idle delivery loop waits before it looks for due subscriptions again.
const IDLE: Duration = Duration::from_millis(200);

/// Delivers due batches for the life of the process; safe on every instance at once (each
/// subscription is locked while one instance delivers it).
pub async fn deliver_forever(app: Arc<App>) {
    use tracing::Instrument;
    async move {
        loop {
            match deliver_one(&app).await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(error) => tracing::warn!(%error, "webhook delivery round failed"),
            }
            tokio::time::sleep(IDLE).await;
        }
    }
    .instrument(tracing::info_span!("webhooks"))
    .await;
}

/// Delivers the next due batch of one subscription; false when none was due.
async fn deliver_one(app: &App) -> Result<bool> {
    let mut client = app.client().await?;
    let transaction = client
        .transaction()
        .await
        .map_err(crate::ledger::Error::from)?;
    let Some(due) = store::next_due(&transaction).await? else {
        return Ok(false);
    };
    let (events, end) =
        store::batch(&transaction, &due, BATCH_EVENTS_MAX, SCAN_POSITIONS_MAX).await?;
    if events.is_empty() {
        store::delivered(&transaction, due.id, end).await?;
    } else {
        let attempt = send(app, &due, &events, end).await;
        if attempt.succeeded {
            store::delivered(&transaction, due.id, end).await?;
        } else {
            let (retry_at, disable) = retry(app.webhook_timing, &due);
            store::failed(&transaction, &due, end, retry_at, disable).await?;
            if disable {
                tracing::warn!(webhook = due.id, "disabled after failing for too long");
            }
        }
        store::log(&transaction, due.id, &attempt).await?;
    }
    transaction
        .commit()
        .await
        .map_err(crate::ledger::Error::from)?;
    Ok(true)
}

/// When a failed batch goes again, and whether the subscription failed too long to go on.
fn retry(timing: Timing, due: &Due) -> (chrono::DateTime<chrono::Utc>, bool) {
    let now = chrono::Utc::now();
    let attempts = u32::try_from(due.attempts).unwrap_or(0).saturating_add(1);
    let delay = webhook::retry_delay(attempts, timing.retry_base);
    let retry_at = now + chrono::TimeDelta::from_std(delay).unwrap_or(chrono::TimeDelta::hours(1));
    let disable = due
        .failing_since
        .is_some_and(|since| now - since >= timing.disable_after);
    (retry_at, disable)
}

#[derive(serde::Serialize)]
struct Payload<'a> {
    r#type: &'static str,
    timestamp: chrono::DateTime<chrono::Utc>,
    data: Data<'a>,
}

#[derive(serde::Serialize)]
struct Data<'a> {
    webhook: i64,
    events: &'a [EventView],
}

/// One signed POST of a batch; what happened, for the log.
async fn send(app: &App, due: &Due, events: &[EventView], end: i64) -> Attempt {
    let message_id = format!("msg_{}_{}_{}", due.id, due.position, end);
    let now = chrono::Utc::now();
    let payload = Payload {
        r#type: "stock.events",
        timestamp: now,
        data: Data {
            webhook: due.id,
            events,
        },
    };
    let body = serde_json::to_vec(&payload).unwrap_or_default();
    let signatures: Vec<String> = due
        .secrets
        .iter()
        .filter_map(|secret| secret.sign(&message_id, now.timestamp(), &body))
        .collect();
    let started = Instant::now();
    let sent = app
        .http
        .post(&due.url)
        .header("content-type", "application/json")
        .header(standardwebhooks::HEADER_WEBHOOK_ID, &message_id)
        .header(
            standardwebhooks::HEADER_WEBHOOK_TIMESTAMP,
            now.timestamp().to_string(),
        )
        .header(
            standardwebhooks::HEADER_WEBHOOK_SIGNATURE,
            signatures.join(" "),
        )
        .timeout(app.webhook_timing.timeout)
        .body(body)
        .send()
        .await;
    let (succeeded, status_code, error) = match sent {
        Ok(response) if response.status().is_success() => (true, Some(response.status()), None),
        Ok(response) => (
            false,
            Some(response.status()),
            Some("the endpoint refused".to_owned()),
        ),
        Err(error) => (false, None, Some(describe(&error))),
    };
    Attempt {
        message_id,
        first_position: events.first().map_or(end, |event| event.position),
        last_position: events.last().map_or(end, |event| event.position),
        events: i32::try_from(events.len()).unwrap_or(i32::MAX),
        attempt: due.attempts.saturating_add(1),
        succeeded,
        status_code: status_code.map(|status| i32::from(status.as_u16())),
        error,
        duration_ms: i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX),
        at: None,
    }
}

fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else {
        error.to_string()
    }
}
