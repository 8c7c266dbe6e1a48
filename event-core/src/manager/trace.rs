//! A manager's trace (OTP's `sys:trace`): while a [`Trace`] is held, the manager writes what
//! it does into a bounded buffer (events in, each handler's callback with its duration and
//! outcome, calls, installs, removals). A slow reader never slows the manager: what does not
//! fit is dropped, counted, and said in a [`TraceEntry::Dropped`] once there is room again.
//! Dropping the `Trace` switches tracing off.

use std::time::Duration;

use tokio::sync::mpsc;

use super::handle::EventManager;
use super::message::{Msg, Op};
use crate::error::ManagerError;
use crate::handler::HandlerId;

/// One thing a traced manager did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TraceEntry {
    /// An event was taken from the mailbox, with its sequence number.
    Event {
        /// The event's sequence number (the first is 1).
        seq: u64,
    },
    /// A handler ran a callback.
    Callback {
        /// The handler.
        handler: HandlerId,
        /// What it ran.
        callback: TracedCallback,
        /// How long it took (for an `async` callback, until its first pause).
        took: Duration,
        /// How it ended.
        outcome: TraceOutcome,
    },
    /// A handler was installed.
    Installed {
        /// The handler.
        handler: HandlerId,
    },
    /// A handler was taken out, about to be terminated.
    Removed {
        /// The handler.
        handler: HandlerId,
        /// Why, as [`Terminate`](crate::Terminate) says it.
        reason: String,
    },
    /// The buffer was full: this many entries were dropped before the next one.
    Dropped {
        /// How many.
        count: u64,
    },
}

/// The callback a [`TraceEntry::Callback`] ran.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TracedCallback {
    /// `handle_event`, on the event of this sequence number.
    Event {
        /// The event's sequence number.
        seq: u64,
    },
    /// `handle_call`, on a request of this type (or one of the `sys` requests:
    /// `sys::with_state`, `sys::format_status`).
    Call {
        /// The request's type name.
        request: &'static str,
    },
}

/// How a traced callback ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TraceOutcome {
    /// It returned `Ok`.
    Ok,
    /// It returned an error or panicked: the handler crashed.
    Crashed,
    /// It is `async` and paused: it goes on, and its end is not traced.
    Continues,
}

/// The reading end of a manager's trace, from [`EventManager::trace`]. Dropping it switches
/// tracing off.
#[derive(Debug)]
pub struct Trace {
    rx: mpsc::Receiver<TraceEntry>,
}

impl Trace {
    /// The next entry; `None` once the manager has stopped (or another trace replaced this
    /// one) and every entry was read.
    pub async fn next(&mut self) -> Option<TraceEntry> {
        self.rx.recv().await
    }

    /// The next entry if one is there now.
    pub fn try_next(&mut self) -> Option<TraceEntry> {
        self.rx.try_recv().ok()
    }
}

/// The writing end, kept by the manager's task while tracing is on.
pub(super) struct Tracer {
    tx: mpsc::Sender<TraceEntry>,
    dropped: u64,
}

impl Tracer {
    /// Writes `entry`, or counts it dropped. False once the reader is gone.
    pub(super) fn push(&mut self, entry: TraceEntry) -> bool {
        if self.dropped > 0 {
            let count = self.dropped;
            match self.tx.try_send(TraceEntry::Dropped { count }) {
                Ok(()) => self.dropped = 0,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    self.dropped += 1;
                    return true;
                }
                Err(mpsc::error::TrySendError::Closed(_)) => return false,
            }
        }
        match self.tx.try_send(entry) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.dropped += 1;
                true
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }
}

/// Writes `entry` to `tracer`, if tracing is on; switches it off once its reader is gone.
pub(super) fn record(tracer: &mut Option<Tracer>, entry: impl FnOnce() -> TraceEntry) {
    if let Some(t) = tracer {
        if !t.push(entry()) {
            *tracer = None;
        }
    }
}

/// A new trace of `capacity` entries: the reading end and the manager's.
pub(super) fn trace(capacity: usize) -> (Trace, Tracer) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    (Trace { rx }, Tracer { tx, dropped: 0 })
}

impl<E: Send + Sync + 'static> EventManager<E> {
    /// Switches tracing on (OTP's `sys:trace`): from the next message on, the manager writes
    /// what it does to the returned [`Trace`], keeping at most `capacity` entries unread
    /// (at least 1). What does not fit is dropped and counted ([`TraceEntry::Dropped`]), so a
    /// slow reader never slows the manager. Dropping the `Trace` switches tracing off; a new
    /// trace replaces the one before.
    ///
    /// ```
    /// # use event_core::{handler, EventManager, TraceEntry};
    /// # #[derive(Debug)] struct Tick;
    /// # struct Counter;
    /// # #[handler(event = Tick)]
    /// # impl Counter { fn init() -> Self { Counter } fn handle_event(&mut self, _: &Tick) {} }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let manager = EventManager::<Tick>::start()?;
    /// manager.add_handler::<Counter>(()).await?;
    /// let mut trace = manager.trace(64).await?;
    /// manager.sync_notify(Tick).await?;
    /// assert_eq!(trace.next().await, Some(TraceEntry::Event { seq: 1 }));
    /// assert!(matches!(trace.next().await, Some(TraceEntry::Callback { .. })));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ManagerError::ManagerGone`] if the manager has stopped;
    /// [`ManagerError::WouldDeadlock`] from inside one of its own callbacks.
    pub async fn trace(&self, capacity: usize) -> Result<Trace, ManagerError> {
        let (trace, tracer) = trace(capacity);
        self.request::<_, ManagerError>(|reply| Msg::Op(Box::new(Op::Trace(tracer, reply))))
            .await?;
        Ok(trace)
    }
}
