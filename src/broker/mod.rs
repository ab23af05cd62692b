//! NATS JetStream: where stock events go for the channels. Only talks to NATS. Subjects are
//! `PREFIX.stock.<sku>.<location>` for every change and `PREFIX.alerts.<kind>` for the
//! out-of-stock / back-in-stock crossings; the event id is the `Nats-Msg-Id`, so the stream
//! drops a republished event within its duplicate window.

use async_nats::jetstream::{self, message::PublishMessage};
use serde::Serialize;
use std::time::Duration;
use tokio::sync::OnceCell;

/// How long connecting, and each publish's acknowledgement, may take.
pub const NATS_TIMEOUT: Duration = Duration::from_secs(2);
/// How long the stream remembers event ids to drop a republish.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(600);
/// How long the stream keeps events: consumers further behind read the pull feed.
pub const STREAM_MAX_AGE: Duration = Duration::from_secs(7 * 24 * 3600);

#[derive(Debug, thiserror::Error)]
#[error("NATS: {0}")]
pub struct Unavailable(String);

/// One event as published: its subject, id and JSON body.
pub struct Message<'a, T: Serialize> {
    pub sku: &'a str,
    pub location: &'a str,
    pub kind: &'a str,
    pub id: String,
    pub body: &'a T,
}

pub struct Broker {
    url: String,
    prefix: String,
    stream: String,
    context: OnceCell<jetstream::Context>,
}

impl Broker {
    pub fn new(url: &str, prefix: &str, stream: &str) -> Self {
        Self {
            url: url.to_owned(),
            prefix: prefix.to_owned(),
            stream: stream.to_owned(),
            context: OnceCell::new(),
        }
    }

    /// The JetStream context, connected and with its stream, on first use.
    async fn context(&self) -> Result<&jetstream::Context, Unavailable> {
        self.context
            .get_or_try_init(|| async {
                let client = async_nats::ConnectOptions::new()
                    .connection_timeout(NATS_TIMEOUT)
                    .connect(self.url.as_str())
                    .await
                    .map_err(|error| Unavailable(error.to_string()))?;
                let mut context = jetstream::new(client);
                context.set_timeout(NATS_TIMEOUT);
                context
                    .get_or_create_stream(self.stream_config())
                    .await
                    .map_err(|error| Unavailable(error.to_string()))?;
                Ok(context)
            })
            .await
    }

    fn stream_config(&self) -> jetstream::stream::Config {
        jetstream::stream::Config {
            name: self.stream.clone(),
            subjects: vec![
                format!("{}.stock.>", self.prefix),
                format!("{}.alerts.>", self.prefix),
            ],
            duplicate_window: DUPLICATE_WINDOW,
            max_age: STREAM_MAX_AGE,
            ..Default::default()
        }
    }

    /// A code as one subject token: NATS splits subjects at '.', which codes may contain.
    fn token(code: &str) -> String {
        code.replace('.', "%2E")
    }

    pub fn subject(&self, kind: &str, sku: &str, location: &str) -> String {
        match kind {
            "availability_changed" => format!(
                "{}.stock.{}.{}",
                self.prefix,
                Self::token(sku),
                Self::token(location)
            ),
            alert => format!("{}.alerts.{alert}", self.prefix),
        }
    }

    /// Every message from now on whose subject is `PREFIX.<filter>` (`stock.>`, `alerts.>`,
    /// `stock.TSHIRT-BLK-M.>`, `>` for all).
    pub async fn subscribe(&self, filter: &str) -> Result<async_nats::Subscriber, Unavailable> {
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(NATS_TIMEOUT)
            .connect(self.url.as_str())
            .await
            .map_err(|error| Unavailable(error.to_string()))?;
        client
            .subscribe(format!("{}.{filter}", self.prefix))
            .await
            .map_err(|error| Unavailable(error.to_string()))
    }

    /// Publishes `messages` in order and waits until the stream has stored each (a duplicate
    /// counts as stored). All or an error: the caller publishes them again.
    pub async fn publish<T: Serialize>(
        &self,
        messages: &[Message<'_, T>],
    ) -> Result<(), Unavailable> {
        let context = self.context().await?;
        let mut acks = Vec::with_capacity(messages.len());
        for message in messages {
            let body = serde_json::to_vec(message.body).unwrap_or_default();
            let publish = PublishMessage::build()
                .payload(body.into())
                .message_id(&message.id);
            let subject = self.subject(message.kind, message.sku, message.location);
            let ack = context
                .send_publish(subject, publish)
                .await
                .map_err(|error| Unavailable(error.to_string()))?;
            acks.push(ack);
        }
        for ack in acks {
            ack.await.map_err(|error| Unavailable(error.to_string()))?;
        }
        Ok(())
    }
}
