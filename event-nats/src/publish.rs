//! Out: a handler that publishes every event of its manager to the bus.
//!
//! The handler serializes each event and hands it to a task of its own, through a bounded
//! channel; the task publishes batches of consecutive events, one batch at a time, each awaited
//! for JetStream's acknowledgement and published again until it is acknowledged. One batch in
//! flight keeps a publisher's events in order on the bus whatever fails; batches give the
//! throughput. While the broker is unreachable the task waits and retries, the channel fills,
//! and the handler waits in turn: installed dedicated, that holds only its own queue, whose
//! overload policy then applies (nothing is dropped unless a drop policy was asked for).

use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, message::PublishMessage};
use bytes::Bytes;
use event_core::{AddError, Context, EventManager, Handler, HandlerRef, Install, Step, Terminate};
use serde::Serialize;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::Instrument;

use crate::bus::Bus;
use crate::wire::{self, Origin};

/// How a manager's events are published: the bus, and the publisher's limits.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use event_nats::{Bus, Outbound};
///
/// let client = async_nats::connect("127.0.0.1:4222").await?;
/// let outbound = Outbound::new(Bus::new(client, "alarms")?).batch(128);
/// # let _ = outbound; Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Outbound {
    bus: Bus,
    batch: usize,
    queue: usize,
    drain: Duration,
}

impl Outbound {
    /// Publishes to `bus`, in batches of at most 256 events, with a dedicated queue of 1,024
    /// events, and up to 5 seconds to publish what is left when the handler leaves.
    pub fn new(bus: Bus) -> Self {
        Outbound {
            bus,
            batch: 256,
            queue: 1024,
            drain: Duration::from_secs(5),
        }
    }

    /// At most `events` events per message (at least 1).
    pub fn batch(mut self, events: usize) -> Self {
        self.batch = events.max(1);
        self
    }

    /// The capacity of the publishing handler's dedicated queue (at least 1).
    pub fn queue(mut self, events: usize) -> Self {
        self.queue = events.max(1);
        self
    }

    /// How long the handler's `terminate` waits for the events it took to be published; what
    /// is still unpublished then is reported as lost.
    pub fn drain_timeout(mut self, timeout: Duration) -> Self {
        self.drain = timeout;
        self
    }
}

/// Installs a [`Publisher`] in `manager`, dedicated (its own task and a queue of
/// [`Outbound::queue`] events), so the broker's latency never holds the manager's other
/// handlers. Fails as an install does, and with [`AddError::InitFailed`] if the bus's stream
/// cannot be made.
pub async fn publish<E>(
    manager: &EventManager<E>,
    outbound: Outbound,
) -> Result<HandlerRef<Publisher<E>>, AddError>
where
    E: Serialize + Send + Sync + 'static,
{
    let install = Install::<Publisher<E>>::new()
        .key(outbound.bus.name().to_string())
        .dedicated(outbound.queue);
    manager.add_handler_with(install, outbound).await
}

/// What a publisher counted: events it took, and events JetStream acknowledged.
#[derive(Debug, Default)]
struct Counts {
    taken: AtomicU64,
    published: AtomicU64,
}

/// The handler that publishes its manager's events to a bus (see [`publish`]). Keyed by the
/// bus's name, so a manager can publish to several buses.
pub struct Publisher<E> {
    tx: mpsc::Sender<Vec<u8>>,
    task: JoinHandle<()>,
    counts: Arc<Counts>,
    origin: Origin,
    drain: Duration,
    _events: PhantomData<fn(&E)>,
}

impl<E> Handler<E> for Publisher<E>
where
    E: Serialize + Send + Sync + 'static,
{
    type Args = Outbound;
    type Info = ();
    type Handover = ();

    fn init(outbound: Outbound, cx: &mut Context<E, Self>) -> Step<'static, Self> {
        let origin = Origin::new(cx.manager_name());
        Step::from_async(async move {
            outbound.bus.ensure_stream().await?;
            let (tx, rx) = mpsc::channel(outbound.batch);
            let counts = Arc::new(Counts::default());
            let run = Run {
                js: outbound.bus.jetstream().clone(),
                subject: wire::subject(outbound.bus.name(), &origin.manager),
                origin: origin.clone(),
                batch: outbound.batch,
                counts: counts.clone(),
            };
            Ok(Publisher {
                tx,
                task: tokio::spawn(run.run(rx)),
                counts,
                origin,
                drain: outbound.drain,
                _events: PhantomData,
            })
        })
    }

    fn handle_event<'a>(&'a mut self, event: &'a E, _cx: &'a mut Context<E, Self>) -> Step<'a> {
        let bytes = match serde_json::to_vec(event) {
            Ok(bytes) => bytes,
            Err(e) => return Step::err(format!("the event cannot be serialized: {e}")),
        };
        self.counts.taken.fetch_add(1, Ordering::Relaxed);
        match self.tx.try_send(bytes) {
            Ok(()) => Step::ok(()),
            Err(mpsc::error::TrySendError::Full(bytes)) => Step::from_async(async move {
                self.tx
                    .send(bytes)
                    .await
                    .map_err(|_| "the publishing task has ended".into())
            }),
            Err(mpsc::error::TrySendError::Closed(_)) => Step::err("the publishing task has ended"),
        }
    }

    fn terminate(self, _reason: Terminate) -> Step<'static, ()> {
        let Publisher {
            tx,
            mut task,
            counts,
            origin,
            drain,
            ..
        } = self;
        drop(tx);
        Step::from_async(async move {
            if tokio::time::timeout(drain, &mut task).await.is_err() {
                task.abort();
                let lost =
                    counts.taken.load(Ordering::Relaxed) - counts.published.load(Ordering::Relaxed);
                tracing::error!(
                    origin = %origin,
                    lost,
                    "the publisher left before the broker took every event"
                );
            }
            Ok(())
        })
    }

    fn format_status(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Publisher {{ origin: {}, taken: {}, published: {} }}",
            self.origin,
            self.counts.taken.load(Ordering::Relaxed),
            self.counts.published.load(Ordering::Relaxed)
        )
    }
}

/// The publishing task.
struct Run {
    js: jetstream::Context,
    subject: String,
    origin: Origin,
    batch: usize,
    counts: Arc<Counts>,
}

impl Run {
    async fn run(self, mut rx: mpsc::Receiver<Vec<u8>>) {
        let mut next = 1;
        let mut events = Vec::with_capacity(self.batch);
        while rx.recv_many(&mut events, self.batch).await > 0 {
            let n = events.len() as u64;
            self.publish_batch(next, &events).await;
            self.counts.published.fetch_add(n, Ordering::Relaxed);
            next += n;
            events.clear();
        }
    }

    /// Publishes `events`, numbered from `first`, in as few messages as the broker's largest
    /// payload allows. An event larger than that on its own cannot be published: it is
    /// reported and skipped (receivers see the gap in the numbers and report it too).
    async fn publish_batch(&self, first: u64, events: &[Vec<u8>]) {
        let payload = wire::encode(&self.origin, first, events);
        let max = self.js.client().server_info().max_payload;
        // The headers (message id, trace context) take well under a kilobyte.
        if max > 0 && payload.len() + 1024 > max {
            if events.len() > 1 {
                let half = events.len() / 2;
                Box::pin(self.publish_batch(first, &events[..half])).await;
                Box::pin(self.publish_batch(first + half as u64, &events[half..])).await;
            } else {
                tracing::error!(
                    origin = %self.origin,
                    seq = first,
                    bytes = payload.len(),
                    max_payload = max,
                    "an event is larger than the broker takes in one message; it is not published"
                );
            }
            return;
        }
        let traceparent = wire::traceparent();
        let span = tracing::debug_span!(
            "publish",
            origin = %self.origin,
            seq = first,
            events = events.len(),
            traceparent = %traceparent
        );
        self.publish(first, Bytes::from(payload), &traceparent)
            .instrument(span)
            .await;
    }

    /// Publishes the batch starting at `seq` until JetStream acknowledges it. A retry carries
    /// the same message id, so a batch stored before its acknowledgement was lost is not
    /// stored twice.
    async fn publish(&self, seq: u64, payload: Bytes, traceparent: &str) {
        let id = wire::message_id(&self.origin, seq);
        let mut delay = Duration::from_millis(10);
        let mut failing = false;
        loop {
            let message = PublishMessage::build()
                .payload(payload.clone())
                .message_id(&id)
                .header(wire::TRACEPARENT, traceparent);
            let acked = async {
                self.js
                    .send_publish(self.subject.clone(), message)
                    .await?
                    .await
            };
            match acked.await {
                Ok(_) => {
                    if failing {
                        tracing::info!(origin = %self.origin, "publishing resumed");
                    }
                    return;
                }
                Err(error) => {
                    if !failing {
                        tracing::warn!(
                            origin = %self.origin,
                            %error,
                            "publishing failed; retrying until the broker takes the events"
                        );
                    }
                    failing = true;
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(1));
                }
            }
        }
    }
}
