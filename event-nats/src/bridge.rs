//! In: a supervisor child that reads a bus through a durable consumer and feeds a local
//! manager.
//!
//! Each message is a batch of one publisher's events. The bridge hands them to its manager one
//! by one with `sync_notify`, which returns once every handler has handled the event, and
//! acknowledges the message only then: an event is acknowledged only once it was handled (at
//! least once). It remembers, per publisher, the last event it handed over (a high-water mark)
//! and drops what it sees again, so handlers see each event once, in each publisher's order.
//! The marks outlive the bridge's incarnations: restarted by its supervisor, it resumes from
//! the consumer's acknowledgement floor and applies nothing twice. The consumer lets one
//! message be unacknowledged at a time, so a redelivery never overtakes a later message.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy};
use async_nats::jetstream::{AckKind, Message};
use event_core::{BoxError, ChildSpec, EventManager, IntoChild, StopToken, SupervisorError};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use tracing::Instrument;

use crate::bus::Bus;
use crate::wire::{self, Envelope, Origin};

/// How a bridge reads a bus: the bus, and the durable consumer that keeps its place.
#[derive(Clone, Debug)]
pub struct Inbound {
    bus: Bus,
    durable: String,
    ack_wait: Duration,
}

impl Inbound {
    /// Reads `bus` through the durable consumer `durable` (one per receiving manager: two
    /// bridges with one durable share its events between them).
    pub fn new(bus: Bus, durable: impl Into<String>) -> Self {
        Inbound {
            bus,
            durable: durable.into(),
            ack_wait: Duration::from_secs(10),
        }
    }

    /// How long JetStream waits for a message's acknowledgement before it redelivers it: the
    /// longest a crashed bridge's last message, or one it had fetched but not yet read when it
    /// stopped, waits to be delivered again (the consumer holds back later messages meanwhile,
    /// to keep their order). 10 seconds by default; it must be longer than the handlers take
    /// on one message's events, or the message is redelivered while it is handled (and then
    /// dropped as seen).
    pub fn ack_wait(mut self, wait: Duration) -> Self {
        self.ack_wait = wait;
        self
    }
}

/// What a bridge counted, over all its incarnations.
#[derive(Clone, Debug, Default)]
pub struct BridgeStats(Arc<Counts>);

#[derive(Debug, Default)]
struct Counts {
    applied: AtomicU64,
    redelivered: AtomicU64,
    undecodable: AtomicU64,
    missing: AtomicU64,
}

impl BridgeStats {
    /// Events handed to the manager.
    pub fn applied(&self) -> u64 {
        self.0.applied.load(Ordering::Relaxed)
    }

    /// Events seen again and dropped: applied already.
    pub fn redelivered(&self) -> u64 {
        self.0.redelivered.load(Ordering::Relaxed)
    }

    /// Messages that did not decode as a batch of this manager's events: reported, and
    /// terminated in JetStream so that they are not redelivered.
    pub fn undecodable(&self) -> u64 {
        self.0.undecodable.load(Ordering::Relaxed)
    }

    /// Events a publisher numbered that never arrived (a gap in its sequence), reported.
    pub fn missing(&self) -> u64 {
        self.0.missing.load(Ordering::Relaxed)
    }
}

/// Feeds a local manager from a bus (see the [module](crate#in-a-bridge) docs): make one with
/// [`Bridge::new`] and give [`Bridge::child`] to a supervisor.
pub struct Bridge<E: 'static> {
    inbound: Inbound,
    manager: EventManager<E>,
    /// The last event handed over, per publisher.
    marks: Arc<Mutex<HashMap<Origin, u64>>>,
    stats: BridgeStats,
}

impl<E: 'static> Clone for Bridge<E> {
    fn clone(&self) -> Self {
        Bridge {
            inbound: self.inbound.clone(),
            manager: self.manager.clone(),
            marks: self.marks.clone(),
            stats: self.stats.clone(),
        }
    }
}

impl<E> Bridge<E>
where
    E: DeserializeOwned + Send + Sync + 'static,
{
    /// A bridge from `inbound` to `manager`.
    pub fn new(manager: &EventManager<E>, inbound: Inbound) -> Self {
        Bridge {
            inbound,
            manager: manager.clone(),
            marks: Arc::default(),
            stats: BridgeStats::default(),
        }
    }

    /// Its counts, shared by every clone and incarnation.
    pub fn stats(&self) -> BridgeStats {
        self.stats.clone()
    }

    /// The bridge as a supervisor child with id `id`, permanent. While the broker is
    /// unreachable it waits and tries again; it fails, to be restarted by its supervisor, only
    /// when its manager is gone (put it after its manager in a `rest_for_one` tree, so that a
    /// restarted manager restarts its bridge).
    pub fn child(self, id: impl Into<Arc<str>>) -> ChildSpec {
        ChildSpec::task(id, move |stop| self.clone().run(stop))
    }

    /// Reads the bus until stopped. While the broker is unreachable, or its consumer cannot be
    /// had, it waits and tries again; it fails only when its manager is gone.
    async fn run(self, stop: StopToken) -> Result<(), BoxError> {
        let mut delay = Duration::from_millis(10);
        let mut failing = false;
        loop {
            let messages = tokio::select! {
                _ = stop.stopped() => return Ok(()),
                messages = self.subscribe() => messages,
            };
            match messages {
                Ok(messages) => {
                    if failing {
                        tracing::info!(bus = self.inbound.bus.name(), "reading the bus again");
                    }
                    failing = false;
                    delay = Duration::from_millis(10);
                    if self.read(messages, &stop).await? {
                        return Ok(());
                    }
                }
                Err(error) => {
                    if !failing {
                        tracing::warn!(
                            bus = self.inbound.bus.name(),
                            %error,
                            "the bus cannot be read; trying again until it can"
                        );
                    }
                    failing = true;
                    tokio::select! {
                        _ = stop.stopped() => return Ok(()),
                        _ = tokio::time::sleep(delay) => {}
                    }
                    delay = (delay * 2).min(Duration::from_secs(1));
                }
            }
        }
    }

    /// The bus's stream and the bridge's durable consumer, made if need be, and its messages.
    async fn subscribe(&self) -> Result<pull::Stream, BoxError> {
        let stream = self.inbound.bus.ensure_stream().await?;
        let config = pull::Config {
            durable_name: Some(self.inbound.durable.clone()),
            ack_policy: AckPolicy::Explicit,
            deliver_policy: DeliverPolicy::All,
            ack_wait: self.inbound.ack_wait,
            max_ack_pending: 1,
            filter_subject: wire::bus_subjects(self.inbound.bus.name()),
            ..Default::default()
        };
        let consumer = stream
            .get_or_create_consumer(&self.inbound.durable, config)
            .await?;
        Ok(consumer.messages().await?)
    }

    /// Applies messages until stopped (`true`) or the message stream ends (`false`).
    async fn read(&self, mut messages: pull::Stream, stop: &StopToken) -> Result<bool, BoxError> {
        loop {
            let next = tokio::select! {
                _ = stop.stopped() => return Ok(true),
                next = messages.next() => next,
            };
            match next {
                None => return Ok(false),
                // Missed heartbeats and the like: the stream goes on after a reconnection.
                Some(Err(error)) => tracing::debug!(
                    bus = self.inbound.bus.name(),
                    %error,
                    "reading the bus was interrupted; going on"
                ),
                // Not cancelled midway: an event handed over stays handed over (the manager
                // handles it whatever becomes of this future), so its mark must be kept.
                Some(Ok(message)) => {
                    if self.apply(&message, stop).await? {
                        return Ok(true);
                    }
                }
            }
        }
    }

    /// Hands a message's events to the manager, each once, then acknowledges it. Asked to
    /// stop, it gives the message back after the event being handled (`true`): the rest is
    /// redelivered, and what was handed over dropped then.
    async fn apply(&self, message: &Message, stop: &StopToken) -> Result<bool, BoxError> {
        let counts = &self.stats.0;
        let envelope: Envelope<E> = match serde_json::from_slice(&message.payload) {
            Ok(envelope) => envelope,
            Err(error) => {
                counts.undecodable.fetch_add(1, Ordering::Relaxed);
                tracing::error!(
                    bus = self.inbound.bus.name(),
                    subject = %message.subject,
                    %error,
                    "a message on the bus is not a batch of this manager's events; it is dropped"
                );
                let _ = message.ack_with(AckKind::Term).await;
                return Ok(false);
            }
        };
        let Envelope {
            origin,
            seq: first,
            events,
        } = envelope;
        let traceparent = message
            .headers
            .as_ref()
            .and_then(|h| h.get(wire::TRACEPARENT))
            .map(|v| v.as_str().to_string());
        let span = tracing::debug_span!(
            "apply",
            origin = %origin,
            seq = first,
            traceparent = traceparent.as_deref().unwrap_or("")
        );
        self.hand_over(message, origin, first, events, stop)
            .instrument(span)
            .await
    }

    /// Hands over the events of the batch starting at `first`, those not seen yet.
    async fn hand_over(
        &self,
        message: &Message,
        origin: Origin,
        first: u64,
        events: Vec<E>,
        stop: &StopToken,
    ) -> Result<bool, BoxError> {
        let counts = &self.stats.0;
        let mark = self.mark(&origin);
        if first > mark + 1 {
            let missing = first - mark - 1;
            counts.missing.fetch_add(missing, Ordering::Relaxed);
            tracing::error!(
                bus = self.inbound.bus.name(),
                origin = %origin,
                after = mark,
                missing,
                "events of a publisher never reached the bus; going on with the next ones"
            );
        }
        for (seq, event) in (first..).zip(events) {
            if seq <= mark {
                counts.redelivered.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            if let Err(error) = self.manager.sync_notify(event).await {
                let _ = message.ack_with(AckKind::Nak(None)).await;
                return Err(Box::new(error));
            }
            counts.applied.fetch_add(1, Ordering::Relaxed);
            self.marks
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(origin.clone(), seq);
            if stop.is_stopped() {
                // Given back at once rather than after the ack wait.
                let _ = message.ack_with(AckKind::Nak(None)).await;
                return Ok(true);
            }
        }
        // A lost acknowledgement means a redelivery, which the marks drop.
        if let Err(error) = message.ack().await {
            tracing::debug!(%error, "an acknowledgement was not sent");
        }
        Ok(false)
    }

    fn mark(&self, origin: &Origin) -> u64 {
        let marks = self.marks.lock().unwrap_or_else(|e| e.into_inner());
        marks.get(origin).copied().unwrap_or(0)
    }
}

/// A bridge declared in a `supervisor!` tree, `child name: Bridge<Event> { from: Bridge::new(..) }`:
/// a permanent child, as [`Bridge::child`] makes, and the tree keeps its [`BridgeStats`].
impl<E> IntoChild for Bridge<E>
where
    E: DeserializeOwned + Send + Sync + 'static,
{
    type Handle = BridgeStats;

    fn into_child(self, id: Arc<str>) -> Result<(BridgeStats, ChildSpec), SupervisorError> {
        let stats = self.stats();
        Ok((stats, self.child(id)))
    }
}
