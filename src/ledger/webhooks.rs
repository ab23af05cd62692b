//! Webhook subscriptions in PostgreSQL: the records, each subscription's position in the event
//! feed, the batch a delivery carries, and the log of attempts.

use super::events::{self, EventView};
use super::{Cached, Error, Result};
use crate::domain::webhook::{Secret, DELIVERY_LOG_MAX, ROTATION_OVERLAP, WEBHOOKS_MAX};
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WebhookView {
    pub id: i64,
    pub url: String,
    /// The event kinds delivered.
    pub events: Vec<String>,
    pub sku: Option<String>,
    pub location: Option<String>,
    /// `enabled`, or `disabled` after failing for a day (a redelivery enables it again).
    pub status: String,
    /// Every matching event up to this feed position was delivered.
    pub position: i64,
    /// Failed attempts of the batch now being retried.
    pub attempts: i32,
    pub failing_since: Option<DateTime<Utc>>,
    pub next_attempt_at: DateTime<Utc>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// What a new subscription asks for, parsed.
pub struct NewWebhook<'a> {
    pub url: &'a str,
    pub kinds: &'a [String],
    pub sku_id: Option<i64>,
    pub location_id: Option<i64>,
    pub secret: &'a Secret,
    pub created_by: &'a str,
}

const VIEW: &str = "SELECT w.id, w.url, w.kinds, s.code, l.code, w.status, w.position, w.attempts,
                           w.failing_since, w.next_attempt_at, w.created_by, w.created_at
                    FROM webhooks w
                    LEFT JOIN skus s ON s.id = w.sku_id
                    LEFT JOIN locations l ON l.id = w.location_id";

fn view(row: &tokio_postgres::Row) -> WebhookView {
    WebhookView {
        id: row.get(0),
        url: row.get(1),
        events: row.get(2),
        sku: row.get(3),
        location: row.get(4),
        status: row.get(5),
        position: row.get(6),
        attempts: row.get(7),
        failing_since: row.get(8),
        next_attempt_at: row.get(9),
        created_by: row.get(10),
        created_at: row.get(11),
    }
}

/// Creates a subscription that starts after the newest numbered event (it gets what happens
/// from now on), unless the chain has [`WEBHOOKS_MAX`] already (`None`).
pub async fn create(client: &impl GenericClient, new: &NewWebhook<'_>) -> Result<Option<i64>> {
    let row = client
        .cached_query_opt(
            "INSERT INTO webhooks (url, kinds, sku_id, location_id, secret, created_by, position)
             SELECT $1, $2, $3, $4, $5, $6,
                    (SELECT coalesce(max(position), 0) FROM stock_events)
             WHERE (SELECT count(*) FROM webhooks) < $7
             RETURNING id",
            &[
                &new.url,
                &new.kinds,
                &new.sku_id,
                &new.location_id,
                &new.secret.expose(),
                &new.created_by,
                &WEBHOOKS_MAX,
            ],
        )
        .await?;
    Ok(row.map(|row| row.get(0)))
}

pub async fn get(client: &impl GenericClient, id: i64) -> Result<WebhookView> {
    let row = client
        .cached_query_opt(&format!("{VIEW} WHERE w.id = $1"), &[&id])
        .await?
        .ok_or_else(|| Error::NotFound(format!("no webhook {id}")))?;
    Ok(view(&row))
}

pub async fn list(client: &impl GenericClient, after: i64, limit: i64) -> Result<Vec<WebhookView>> {
    let rows = client
        .cached_query(
            &format!("{VIEW} WHERE w.id > $1 ORDER BY w.id LIMIT $2"),
            &[&after, &limit],
        )
        .await?;
    Ok(rows.iter().map(view).collect())
}

pub async fn delete(client: &impl GenericClient, id: i64) -> Result<()> {
    match client
        .cached_execute("DELETE FROM webhooks WHERE id = $1", &[&id])
        .await?
    {
        0 => Err(Error::NotFound(format!("no webhook {id}"))),
        _ => Ok(()),
    }
}

/// Signs with `secret` from now on; the one it replaces signs beside it for a day.
pub async fn rotate(client: &impl GenericClient, id: i64, secret: &Secret) -> Result<()> {
    let until = Utc::now() + ROTATION_OVERLAP;
    let changed = client
        .cached_execute(
            "UPDATE webhooks SET previous_secret = secret, previous_until = $3, secret = $2
             WHERE id = $1",
            &[&id, &secret.expose(), &until],
        )
        .await?;
    match changed {
        0 => Err(Error::NotFound(format!("no webhook {id}"))),
        _ => Ok(()),
    }
}

/// Delivers again every matching event after `position` (at once), enabled again if it was not.
pub async fn redeliver(client: &impl GenericClient, id: i64, position: i64) -> Result<()> {
    let changed = client
        .cached_execute(
            "UPDATE webhooks SET position = $2, batch_end = NULL, attempts = 0,
                                 failing_since = NULL, next_attempt_at = now(), status = 'enabled'
             WHERE id = $1",
            &[&id, &position],
        )
        .await?;
    match changed {
        0 => Err(Error::NotFound(format!("no webhook {id}"))),
        _ => Ok(()),
    }
}

/// A subscription whose delivery is due, locked for its delivery.
#[derive(Debug, Clone)]
pub struct Due {
    pub id: i64,
    pub url: String,
    pub kinds: Vec<String>,
    pub sku_id: Option<i64>,
    pub location_id: Option<i64>,
    /// The signing secrets: the current one first.
    pub secrets: Vec<Secret>,
    pub position: i64,
    pub batch_end: Option<i64>,
    pub attempts: i32,
    pub failing_since: Option<DateTime<Utc>>,
}

/// The enabled subscription with events to deliver that is due the longest, locked (`FOR UPDATE SKIP LOCKED`: each is
/// delivered by one instance at a time, the others take the next).
pub async fn next_due(client: &impl GenericClient) -> Result<Option<Due>> {
    let row = client
        .cached_query_opt(
            "SELECT id, url, kinds, sku_id, location_id, secret,
                    CASE WHEN previous_until > now() THEN previous_secret END,
                    position, batch_end, attempts, failing_since
             FROM webhooks WHERE status = 'enabled' AND next_attempt_at <= now()
               AND (batch_end IS NOT NULL
                    OR position < (SELECT coalesce(max(position), 0) FROM stock_events))
             ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED",
            &[],
        )
        .await?;
    Ok(row.map(|row| {
        let stored = [row.get::<_, Option<String>>(5), row.get(6)];
        Due {
            id: row.get(0),
            url: row.get(1),
            kinds: row.get(2),
            sku_id: row.get(3),
            location_id: row.get(4),
            // The table's CHECK keeps stored secrets in the format `Secret` parses.
            secrets: stored
                .into_iter()
                .flatten()
                .filter_map(|raw| Secret::parse("secret", &raw).ok())
                .collect(),
            position: row.get(7),
            batch_end: row.get(8),
            attempts: row.get(9),
            failing_since: row.get(10),
        }
    }))
}

/// The events of `due`'s next batch and where it ends: at most `limit` matching events within
/// `scan` positions after its position (or the fixed batch being retried).
pub async fn batch(
    client: &impl GenericClient,
    due: &Due,
    limit: i64,
    scan: i64,
) -> Result<(Vec<EventView>, i64)> {
    let head: i64 = client
        .cached_query_one(
            "SELECT coalesce(max(position), 0) FROM stock_events WHERE position IS NOT NULL",
            &[],
        )
        .await?
        .get(0);
    let end = due
        .batch_end
        .unwrap_or_else(|| head.min(due.position.saturating_add(scan)));
    let filter = (due.kinds.as_slice(), due.sku_id, due.location_id);
    let events = events::matching(client, (due.position, end), filter, limit).await?;
    let end = match (due.batch_end, events.last()) {
        (None, Some(last)) if events.len() as i64 == limit => last.position,
        _ => end,
    };
    Ok((events, end))
}

/// Moves `id` past a delivered (or empty) batch ending at `end`.
pub async fn delivered(client: &impl GenericClient, id: i64, end: i64) -> Result<()> {
    client
        .cached_execute(
            "UPDATE webhooks SET position = greatest(position, $2), batch_end = NULL,
                                 attempts = 0, failing_since = NULL, next_attempt_at = now()
             WHERE id = $1",
            &[&id, &end],
        )
        .await?;
    Ok(())
}

/// Keeps the failed batch for its retry at `retry_at`, or disables the subscription.
pub async fn failed(
    client: &impl GenericClient,
    due: &Due,
    end: i64,
    retry_at: DateTime<Utc>,
    disable: bool,
) -> Result<()> {
    let status = if disable { "disabled" } else { "enabled" };
    client
        .cached_execute(
            "UPDATE webhooks SET batch_end = $2, attempts = attempts + 1,
                                 failing_since = coalesce(failing_since, now()),
                                 next_attempt_at = $3, status = $4
             WHERE id = $1",
            &[&due.id, &end, &retry_at, &status],
        )
        .await?;
    Ok(())
}

/// One attempt, as the log keeps it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Attempt {
    /// The `webhook-id` header: the same for every attempt of one batch.
    pub message_id: String,
    pub first_position: i64,
    pub last_position: i64,
    pub events: i32,
    pub attempt: i32,
    pub succeeded: bool,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i32,
    /// When it was made (absent before it is logged).
    pub at: Option<DateTime<Utc>>,
}

/// Logs an attempt and trims the log to its newest [`DELIVERY_LOG_MAX`].
pub async fn log(client: &impl GenericClient, id: i64, attempt: &Attempt) -> Result<()> {
    let error: Option<String> = attempt
        .error
        .as_ref()
        .map(|e| e.chars().take(500).collect());
    client
        .cached_execute(
            "INSERT INTO webhook_deliveries (webhook_id, message_id, first_position,
                 last_position, events, attempt, succeeded, status_code, error, duration_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &[
                &id,
                &attempt.message_id,
                &attempt.first_position,
                &attempt.last_position,
                &attempt.events,
                &attempt.attempt,
                &attempt.succeeded,
                &attempt.status_code,
                &error,
                &attempt.duration_ms,
            ],
        )
        .await?;
    client
        .cached_execute(
            "DELETE FROM webhook_deliveries WHERE webhook_id = $1 AND id <= (
                 SELECT id FROM webhook_deliveries WHERE webhook_id = $1
                 ORDER BY id DESC OFFSET $2 LIMIT 1)",
            &[&id, &DELIVERY_LOG_MAX],
        )
        .await?;
    Ok(())
}

/// The newest attempts first.
pub async fn attempts(client: &impl GenericClient, id: i64, limit: i64) -> Result<Vec<Attempt>> {
    get(client, id).await?;
    let rows = client
        .cached_query(
            "SELECT message_id, first_position, last_position, events, attempt, succeeded,
                    status_code, error, duration_ms, at
             FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2",
            &[&id, &limit],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| Attempt {
            message_id: row.get(0),
            first_position: row.get(1),
            last_position: row.get(2),
            events: row.get(3),
            attempt: row.get(4),
            succeeded: row.get(5),
            status_code: row.get(6),
            error: row.get(7),
            duration_ms: row.get(8),
            at: row.get(9),
        })
        .collect())
}
