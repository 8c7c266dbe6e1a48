//! Dedicated handlers: a handler running on a task of its own, fed through a bounded queue.
//!
//! The task only runs callbacks. Everything about leaving (terminate, exit reasons, links,
//! swaps) stays with the manager, exactly as for an inline handler: when the handler crashes or
//! asks to leave, the task reports it and from then on skips what is queued for it, until the
//! manager sends the `terminate`. A handler that asks to be swapped goes on handling what is
//! queued for it until the manager has applied the swap (and sends the `terminate`) or refused
//! it: nothing sent meanwhile is lost, and a refused swap leaves a working handler.
//!
//! Here is the manager's end ([`Dedicated`]: the queue's sending side, with the overload
//! policy); `task` is the handler's end, `queue` the bounded queue between them, `overload` the
//! policies for a queue that is full.

use tracing::Instrument;

use crate::observe::{self, report, span};
use std::any::Any;
use std::sync::Arc;

use tokio::sync::oneshot;

mod overload;
mod queue;
mod task;

pub(super) use overload::OverloadSpec;
pub use overload::{Overload, OverloadStats};

use self::queue::{Queue, Refused};
use self::task::{Task, ToManager};
use super::context::SelfAction;
use super::crash::InPlace;
use super::erased::{ErasedCall, ErasedHandler};
use super::mailbox::Mailbox;
use crate::callback::{self, Owned};
use crate::error::CallError;
use crate::exit::{Cause, Crash, During, Terminate};
use crate::handler::HandlerId;

/// Completes a `sync_notify` once every holder has handled the event and dropped it.
pub(super) struct Ack(Option<oneshot::Sender<()>>);

impl Ack {
    pub(super) fn new(tx: oneshot::Sender<()>) -> Self {
        Ack(Some(tx))
    }
}

impl Drop for Ack {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

/// Work for a dedicated handler.
pub(super) enum Job<E: 'static> {
    Event {
        event: Arc<Owned<E>>,
        seq: u64,
        _ack: Option<Arc<Ack>>,
    },
    Call(Box<dyn ErasedCall<E>>),
    Info {
        timer: Option<u64>,
        payload: Owned<Box<dyn Any + Send>>,
    },
    Down(u64),
    /// Boxed: the other jobs are a few words each, and every future that holds a job (the
    /// manager's own among them) would be as large as the largest.
    Terminate(Box<TerminateJob>),
}

impl<E: 'static> Job<E> {
    /// The event's sequence number, for the overload reports; 0 for any other job.
    fn seq(&self) -> u64 {
        match self {
            Job::Event { seq, .. } => *seq,
            _ => 0,
        }
    }
}

pub(super) struct TerminateJob {
    reason: Terminate,
    reply: oneshot::Sender<Result<Box<dyn Any + Send>, Cause>>,
}

/// What a dedicated handler tells its manager.
pub(super) enum Report<E: 'static> {
    Crashed(Crash),
    /// Crashed and was restarted in place by its task.
    Restarted(Crash),
    Action(SelfAction<E>),
}

/// The manager's end of a dedicated handler. Boxed, so a handler slot stays small.
pub(super) struct Dedicated<E: 'static>(Box<Sender<E>>);

struct Sender<E: 'static> {
    queue: Arc<Queue<Job<E>>>,
    capacity: usize,
    policy: Overload,
    stats: OverloadStats,
    id: HandlerId,
    mailbox: Arc<Mailbox<E>>,
}

/// A dedicated handler with [`Overload::Remove`] fell behind: its queue was full when an
/// event arrived. Its queue has been emptied; the manager removes it.
pub(super) struct Overloaded {
    pub(super) capacity: usize,
}

impl<E: Send + Sync + 'static> Dedicated<E> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn spawn(
        cell: Box<dyn ErasedHandler<E>>,
        id: HandlerId,
        uid: u64,
        capacity: usize,
        mailbox: Arc<Mailbox<E>>,
        debug_event: Option<fn(&E) -> String>,
        restart: Option<Box<InPlace>>,
        mut overload: OverloadSpec,
    ) -> Self {
        let stats = overload.stats().clone();
        let queue = Arc::new(Queue::new(capacity));
        let task = Task {
            id: id.clone(),
            manager: ToManager {
                mailbox: mailbox.clone(),
                uid,
            },
            debug_event,
            restart,
        };
        let span = span::dedicated(mailbox.name(), &id);
        let name = || format!("handler {id} of {}", mailbox.name());
        let run = task.run(cell, queue.clone());
        let reporter = ToManager {
            mailbox: mailbox.clone(),
            uid,
        };
        let handler = id.clone();
        let supervised = async move {
            // Every callback and every user value runs or drops under a guard of its own;
            // should anything else on the task panic, the manager still learns that the
            // handler is gone, and removes it as crashed.
            if let Err(cause) = callback::catch_panic(run).await {
                let crash = Crash {
                    handler,
                    cause,
                    during: During::Task,
                };
                tracing::error!(
                    target: "event_core::crash",
                    manager = reporter.mailbox.name(),
                    handler = %crash.handler,
                    reason = %crash,
                    status = "(not shown)",
                    outcome = "removed",
                    "event handler crashed"
                );
                report::console(
                    "CRASH REPORT: event handler crashed",
                    &[
                        ("manager", &reporter.mailbox.name()),
                        ("handler", &crash.handler),
                        ("reason", &crash),
                        ("status", &"(not shown)"),
                        ("outcome", &"removed"),
                    ],
                );
                reporter.report(Report::Crashed(crash));
            }
        };
        observe::task::spawn(name, supervised.instrument(span));
        Dedicated(Box::new(Sender {
            queue,
            capacity,
            policy: overload.policy,
            stats,
            id,
            mailbox,
        }))
    }

    /// The capacity of its queue.
    pub(super) fn capacity(&self) -> usize {
        self.0.capacity
    }

    /// Its overload policy, for a handler that takes its place.
    pub(super) fn overload(&self) -> OverloadSpec {
        OverloadSpec {
            policy: self.0.policy,
            stats: Some(self.0.stats.clone()),
        }
    }

    /// Queues a job that is not an event, waiting for room. A job for a task that has ended
    /// is dropped: its handler is gone and its report is on the way.
    pub(super) async fn send(&self, job: Job<E>) {
        // Only events are subject to the overload policy.
        let _ = self.send_event(job).await;
    }

    /// Queues an event, waiting for room unless the overload policy says otherwise. `Err`
    /// asks the manager to remove the handler.
    pub(super) async fn send_event(&self, job: Job<E>) -> Result<(), Overloaded> {
        let s = &*self.0;
        // Only the wait for room is boxed: the manager's own state machine stays small, and a
        // queue with room costs no allocation.
        let job = match s.queue.try_push(job) {
            Ok(()) => return Ok(()),
            Err(Refused::Closed(job)) => job,
            Err(Refused::Full(job)) => match (s.policy, &job) {
                (Overload::DropNewest, Job::Event { .. }) => {
                    s.dropped(&job);
                    return Ok(());
                }
                (Overload::DropOldest, Job::Event { .. }) => {
                    match s
                        .queue
                        .push_evicting(job, |j| matches!(j, Job::Event { .. }))
                    {
                        Ok(None) => return Ok(()),
                        Ok(Some(oldest)) | Err(Refused::Full(oldest)) => {
                            s.dropped(&oldest);
                            return Ok(());
                        }
                        Err(Refused::Closed(job)) => job,
                    }
                }
                (Overload::Remove, Job::Event { .. }) => return Err(s.shed(job)),
                _ => match Box::pin(s.queue.push(job)).await {
                    Ok(()) => return Ok(()),
                    Err(job) => job,
                },
            },
        };
        if let Job::Call(mut call) = job {
            let target = call.target().clone();
            call.fail(CallError::NotInstalled(target));
        }
        Ok(())
    }

    /// Ends the handler after everything queued before; returns its hand-over.
    pub(super) async fn terminate(&self, reason: Terminate) -> Result<Box<dyn Any + Send>, Cause> {
        let (reply, rx) = oneshot::channel();
        self.send(Job::Terminate(Box::new(TerminateJob { reason, reply })))
            .await;
        // A task that ended without answering had nothing left to terminate.
        rx.await.unwrap_or_else(|_| Ok(Box::new(())))
    }
}

impl<E: 'static> Sender<E> {
    /// Counts `unhandled` events dropped at event `seq`, and the handler's removal if
    /// `removing`, and reports them: every overload report carries the same fields.
    fn report(&self, seq: u64, unhandled: u64, removing: bool) {
        let dropped = self.stats.add_dropped(unhandled);
        #[cfg(feature = "metrics")]
        crate::observe::metrics::dedicated_dropped(self.mailbox.name(), &self.id, unhandled);
        let (removed, what) = match removing {
            true => (
                self.stats.add_removed(),
                "a dedicated event handler fell behind and is removed",
            ),
            false => (
                self.stats.removed(),
                "a dedicated event handler's queue is full; an event was dropped",
            ),
        };
        tracing::warn!(
            target: "event_core::overload",
            manager = self.mailbox.name(),
            handler = %self.id,
            policy = %self.policy,
            event = seq,
            capacity = self.capacity,
            unhandled,
            dropped,
            removed,
            "{what}"
        );
    }

    /// Counts and reports an event the overload policy dropped.
    fn dropped(&self, job: &Job<E>) {
        self.report(job.seq(), 1, false);
    }

    /// Empties the queue of a handler being removed for falling behind: its events are
    /// dropped (counted), its calls answered `NotInstalled`, its messages dropped.
    fn shed(&self, job: Job<E>) -> Overloaded {
        let seq = job.seq();
        let mut events = 1;
        drop(job);
        for queued in self.queue.drain() {
            match queued {
                Job::Event { .. } => events += 1,
                Job::Call(mut call) => call.fail(CallError::NotInstalled(self.id.clone())),
                _ => {}
            }
        }
        self.report(seq, events, true);
        Overloaded {
            capacity: self.capacity,
        }
    }
}

impl<E: 'static> Drop for Dedicated<E> {
    fn drop(&mut self) {
        self.0.queue.close_sender();
    }
}
