//! Dedicated handlers: a handler running on a task of its own, fed through a bounded queue.
//!
//! The task only runs callbacks. Everything about leaving (terminate, exit reasons, links,
//! swaps) stays with the manager, exactly as for an inline handler: when the handler crashes or
//! asks to leave, the task reports it and from then on skips what is queued for it, until the
//! manager sends the `terminate`. A handler that asks to be swapped goes on handling what is
//! queued for it until the manager has applied the swap (and sends the `terminate`) or refused
//! it: nothing sent meanwhile is lost, and a refused swap leaves a working handler.

use std::any::Any;
use std::sync::Arc;

use tokio::sync::oneshot;

use crate::call::ErasedCall;
use crate::callback;
use crate::cell::{log_crash, ErasedHandler};
use crate::context::SelfAction;
use crate::error::CallError;
use crate::exit::{Cause, Crash, During, Terminate};
use crate::handler::HandlerId;
use crate::mailbox::{Mailbox, Msg};
use crate::overload::{Overload, OverloadSpec, OverloadStats};
use crate::queue::{Queue, Refused};
use crate::restart::InPlace;

/// Completes a `sync_notify` once every holder has handled the event and dropped it.
pub(crate) struct Ack(Option<oneshot::Sender<()>>);

impl Ack {
    pub(crate) fn new(tx: oneshot::Sender<()>) -> Self {
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
pub(crate) enum Job<E: 'static> {
    Event {
        event: Arc<E>,
        seq: u64,
        _ack: Option<Arc<Ack>>,
    },
    Call(Box<dyn ErasedCall<E>>),
    Info {
        timer: Option<u64>,
        payload: Box<dyn Any + Send>,
    },
    Down(u64),
    /// Boxed: the other jobs are a few words each, and every future that holds a job (the
    /// manager's own among them) would be as large as the largest.
    Terminate(Box<TerminateJob>),
}

pub(crate) struct TerminateJob {
    reason: Terminate,
    reply: oneshot::Sender<Result<Box<dyn Any + Send>, Cause>>,
}

/// What a dedicated handler tells its manager.
pub(crate) enum Report<E: 'static> {
    Crashed(Crash),
    /// Crashed and was restarted in place by its task.
    Restarted(Crash),
    Action(SelfAction<E>),
}

/// The manager's end of a dedicated handler. Boxed, so a handler slot stays small.
pub(crate) struct Dedicated<E: 'static>(Box<Sender<E>>);

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
pub(crate) struct Overloaded {
    pub(crate) capacity: usize,
}

impl<E: Send + Sync + 'static> Dedicated<E> {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn spawn(
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
            uid,
            mailbox: mailbox.clone(),
            debug_event,
            restart,
        };
        tokio::spawn(run(cell, task, Receiver(queue.clone())));
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
    pub(crate) fn capacity(&self) -> usize {
        self.0.capacity
    }

    /// Its overload policy, for a handler that takes its place.
    pub(crate) fn overload(&self) -> OverloadSpec {
        OverloadSpec {
            policy: self.0.policy,
            stats: Some(self.0.stats.clone()),
        }
    }

    /// Queues a job that is not an event, waiting for room. A job for a task that has ended
    /// is dropped: its handler is gone and its report is on the way.
    pub(crate) async fn send(&self, job: Job<E>) {
        // Only events are subject to the overload policy.
        let _ = self.send_event(job).await;
    }

    /// Queues an event, waiting for room unless the overload policy says otherwise. `Err`
    /// asks the manager to remove the handler.
    pub(crate) async fn send_event(&self, job: Job<E>) -> Result<(), Overloaded> {
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
    pub(crate) async fn terminate(&self, reason: Terminate) -> Result<Box<dyn Any + Send>, Cause> {
        let (reply, rx) = oneshot::channel();
        self.send(Job::Terminate(Box::new(TerminateJob { reason, reply })))
            .await;
        // A task that ended without answering had nothing left to terminate.
        rx.await.unwrap_or_else(|_| Ok(Box::new(())))
    }
}

impl<E: 'static> Sender<E> {
    /// Counts and reports an event the overload policy dropped.
    fn dropped(&self, job: &Job<E>) {
        let seq = match job {
            Job::Event { seq, .. } => *seq,
            _ => 0,
        };
        let dropped = self.stats.add_dropped(1);
        tracing::warn!(
            target: "event_core::overload",
            manager = self.mailbox.name(),
            handler = %self.id,
            policy = %self.policy,
            event = seq,
            capacity = self.capacity,
            dropped,
            "a dedicated event handler's queue is full; an event was dropped"
        );
    }

    /// Empties the queue of a handler being removed for falling behind: its events are
    /// dropped (counted), its calls answered `NotInstalled`, its messages dropped.
    fn shed(&self, job: Job<E>) -> Overloaded {
        let seq = match &job {
            Job::Event { seq, .. } => *seq,
            _ => 0,
        };
        let mut events = 1;
        drop(job);
        for queued in self.queue.drain() {
            match queued {
                Job::Event { .. } => events += 1,
                Job::Call(mut call) => call.fail(CallError::NotInstalled(self.id.clone())),
                _ => {}
            }
        }
        let dropped = self.stats.add_dropped(events);
        let removed = self.stats.add_removed();
        tracing::warn!(
            target: "event_core::overload",
            manager = self.mailbox.name(),
            handler = %self.id,
            policy = %self.policy,
            event = seq,
            capacity = self.capacity,
            unhandled = events,
            dropped,
            removed,
            "a dedicated event handler fell behind and is removed"
        );
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

/// The task's end of the queue: when the task ends, however it ends, later jobs are refused
/// and the queued ones dropped (a call's caller learns the handler is gone).
struct Receiver<E: 'static>(Arc<Queue<Job<E>>>);

impl<E: 'static> Drop for Receiver<E> {
    fn drop(&mut self) {
        for job in self.0.close_receiver() {
            if let Job::Call(mut call) = job {
                let target = call.target().clone();
                call.fail(CallError::NotInstalled(target));
            }
        }
    }
}

/// What a dedicated task knows of its handler besides the handler itself.
struct Task<E: 'static> {
    id: HandlerId,
    uid: u64,
    mailbox: Arc<Mailbox<E>>,
    debug_event: Option<fn(&E) -> String>,
    restart: Option<Box<InPlace>>,
}

impl<E: Send + Sync + 'static> Task<E> {
    fn report(&self, report: Report<E>) {
        let _ = self.mailbox.push(Msg::Dedicated {
            uid: self.uid,
            report: Box::new(report),
        });
    }

    /// Restarts a crashed handler in place, on this task, before its next job; each try counts
    /// against the intensity. Gives back the last crash once the intensity is spent.
    async fn restart_in_place(
        &mut self,
        cell: &mut dyn ErasedHandler<E>,
        mut crash: Crash,
    ) -> Result<(), Crash> {
        let mgr = self.mailbox.uid();
        {
            let c = &mut *cell;
            let reason = Terminate::Crashed(crash.clone());
            let _ = callback::run(mgr, move || c.terminate(reason)).await;
        }
        loop {
            let Some(restart) = self.restart.as_mut() else {
                return Err(crash);
            };
            if !restart.window.allow() {
                tracing::error!(
                    manager = self.mailbox.name(),
                    handler = %self.id,
                    reason = %crash,
                    "event handler crashed more often than its in-place restart intensity allows and was removed"
                );
                self.restart = None;
                return Err(crash);
            }
            let args = callback::catching(mgr, || (restart.make_args)());
            self.report(Report::Restarted(crash.clone()));
            let result = match args {
                Ok(args) => {
                    let c = &mut *cell;
                    callback::run(mgr, move || c.init(args)).await
                }
                Err(cause) => Err(cause),
            };
            let (ops, _ignored) = cell.take_requests().unwrap_or_default();
            if !ops.is_empty() {
                let _ = self.mailbox.push(Msg::Deferred(ops));
            }
            match result {
                Ok(()) => return Ok(()),
                Err(cause) => {
                    crash = Crash {
                        handler: self.id.clone(),
                        cause,
                        during: During::Init,
                    };
                    log_crash(&self.mailbox, &crash, &*cell, true);
                }
            }
        }
    }
}

async fn run<E: Send + Sync + 'static>(
    mut cell: Box<dyn ErasedHandler<E>>,
    mut task: Task<E>,
    rx: Receiver<E>,
) {
    let mgr = task.mailbox.uid();
    let debug_event = task.debug_event;
    let mut leaving = false;
    while let Some(job) = rx.0.pop().await {
        let c = &mut *cell;
        let (result, mut doing) = match job {
            Job::Terminate(job) => {
                let TerminateJob { reason, reply } = *job;
                let r = callback::run(mgr, move || c.terminate(reason)).await;
                let _ = reply.send(r);
                return;
            }
            Job::Call(mut call) if leaving => {
                call.fail(CallError::NotInstalled(task.id.clone()));
                continue;
            }
            _ if leaving => continue,
            Job::Event { event, seq, _ack } => {
                let ev = &*event;
                let r = callback::run(mgr, move || c.handle_event(ev)).await;
                (r, Doing::Event { event, seq, _ack })
            }
            Job::Call(mut call) => {
                let r = {
                    let call = &mut *call;
                    callback::run(mgr, move || call.invoke(c)).await
                };
                (r, Doing::Call(call))
            }
            Job::Info { timer, payload } => {
                let r = callback::run(mgr, move || c.handle_info(timer, payload)).await;
                (r, Doing::Info)
            }
            Job::Down(watch) => {
                let r = callback::run(mgr, move || c.handle_down(watch)).await;
                (r, Doing::Info)
            }
        };
        let (ops, action) = cell.take_requests().unwrap_or_default();
        if !ops.is_empty() {
            let _ = task.mailbox.push(Msg::Deferred(ops));
        }
        let mut crashed = None;
        let report = match result {
            Err(cause) => {
                let during = match &doing {
                    Doing::Event { event, seq, .. } => During::Event {
                        seq: *seq,
                        event: debug_event.map(|f| f(event)),
                    },
                    Doing::Call(call) => During::Call {
                        request: call.request_type(),
                    },
                    Doing::Info => During::Info,
                };
                let crash = Crash {
                    handler: task.id.clone(),
                    cause,
                    during,
                };
                let restarting = task.restart.is_some();
                log_crash(&task.mailbox, &crash, &*cell, restarting);
                crashed = Some(crash.clone());
                if restarting {
                    match task.restart_in_place(&mut *cell, crash).await {
                        Ok(()) => None,
                        Err(last) => Some(Report::Crashed(last)),
                    }
                } else {
                    Some(Report::Crashed(crash))
                }
            }
            Ok(()) => action.map(Report::Action),
        };
        if let Some(report) = report {
            // A swap takes effect when the manager gets to it, which may refuse it: until
            // then the handler is installed and handles what is queued for it, its state
            // going to its successor in the hand-over. A crashed or removed handler is gone.
            leaving = !matches!(report, Report::Action(SelfAction::Swap { .. }));
            task.report(report);
        }
        // Only now that the manager has the report may a call's caller, or a sync_notify's
        // (the ack in `doing`), go on: what it asks next sees the handler gone or swapped, as
        // with an inline handler.
        if let Doing::Call(call) = &mut doing {
            match crashed {
                Some(crash) => call.fail(CallError::Crashed(crash)),
                None => call.answer(),
            }
        }
    }
}

/// What the dedicated task was running, for the crash report.
enum Doing<E: 'static> {
    Event {
        event: Arc<E>,
        seq: u64,
        _ack: Option<Arc<Ack>>,
    },
    Call(Box<dyn ErasedCall<E>>),
    Info,
}
