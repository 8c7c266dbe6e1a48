//! The manager's task: it takes messages from the mailbox in batches and runs each through
//! the handlers, newest first, applying removals, swaps and deferred operations in between.
//!
//! Split by what it does: here the task's run and one message's handling; `dispatch` runs
//! events, calls and infos through the handlers; `ops` installs, removes, swaps and terminates
//! them, and handles their crashes; `slots` is the list they are kept in, and `index` finds one
//! in a long list by its identity.
//!
//! Rare paths (installs, swaps, crashes, stop) are awaited as boxed futures, so the task's own
//! state machine holds only what handling an event or a call needs: that keeps an idle manager
//! small, at the cost of one allocation when a rare path runs.

mod dispatch;
mod index;
mod ops;
mod slots;

use std::sync::Arc;

use tokio::sync::oneshot;

pub(super) use self::index::id_hash;

use self::dispatch::{sweep, Detour, Sweep};
use self::slots::Slots;
use super::dedicated::{Job, Report};
use super::install::NewHandler;
use super::mailbox::Mailbox;
use super::message::{Msg, Op};
use super::stats::Stats;
use super::supervised::Taken;
use super::trace::{self, TraceEntry, Tracer};
use crate::callback;
use crate::error::AddError;
use crate::exit::{ExitReason, Terminate};
use crate::handler::BoxFuture;
use crate::observe::span;

pub(super) struct EventLoop<E: 'static> {
    mailbox: Arc<Mailbox<E>>,
    slots: Slots<E>,
    /// The number of the last event taken; the first is 1.
    seq: u64,
    debug_event: Option<fn(&E) -> String>,
    /// Operations asked for from callbacks, applied after the current message.
    deferred: Vec<Op<E>>,
    stats: Stats,
    /// Where the manager writes what it does, while traced.
    tracer: Option<Tracer>,
    /// Whether the manager is traced or a subscriber wants callback spans: checked once per
    /// batch of messages (and set when tracing is switched on).
    observed: bool,
}

/// How a manager's task ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ended {
    /// `stop` was called, or every handle was dropped.
    Stopped,
    /// Its supervisor halted it.
    Halted,
    /// A standing handler of a supervised manager failed to start; the manager never ran.
    NotStarted,
}

/// A message that ends the task, once handled: a stop or a supervisor's halt.
enum Closing {
    Stop(oneshot::Sender<()>),
    Halt {
        restarting: bool,
        reply: oneshot::Sender<()>,
    },
}

impl<E: Send + Sync + 'static> EventLoop<E> {
    pub(super) fn new(mailbox: Arc<Mailbox<E>>, debug_event: Option<fn(&E) -> String>) -> Self {
        let stats = Stats::new(mailbox.name());
        EventLoop {
            mailbox,
            slots: Slots::new(),
            seq: 0,
            debug_event,
            deferred: Vec::new(),
            stats,
            tracer: None,
            observed: false,
        }
    }

    fn mgr(&self) -> u64 {
        self.mailbox.uid()
    }

    /// Installs a supervised manager's standing handlers, before its first message. If one
    /// fails, those installed are terminated.
    pub(super) async fn install_standing(
        &mut self,
        standing: Vec<NewHandler<E>>,
    ) -> Result<(), AddError> {
        for new in standing {
            if let Err(e) = Box::pin(self.add_plain(new)).await {
                Box::pin(self.shutdown(ExitReason::Shutdown)).await;
                return Err(e);
            }
        }
        Ok(())
    }

    pub(super) async fn run(mut self) -> Ended {
        let mut taken = Taken::new(self.mailbox.clone());
        let mgr = self.mgr();
        // Made once a handler sets a timer or a watch.
        let mut waits = None;
        while self.mailbox.recv_batch(taken.queue(), &mut waits).await {
            self.stats.took(taken.queue().len());
            self.observed = self.tracer.is_some() || span::callbacks();
            while let Some(msg) = taken.queue().pop_front() {
                // Between messages, no handler's place is held.
                self.slots.tidy();
                // The common case first, in place: an event through inline handlers that finish
                // at once. Anything else takes the slow path from where the sweep stopped.
                let (event, done) = match msg {
                    Msg::Event(event) if !self.slots.any_dedicated() => (event, None),
                    Msg::SyncEvent(event, done) if !self.slots.any_dedicated() => {
                        (event, Some(done))
                    }
                    msg => {
                        let (reason, reply, ended) = match self.handle(msg).await {
                            None => continue,
                            Some(Closing::Stop(reply)) => {
                                (ExitReason::Shutdown, reply, Ended::Stopped)
                            }
                            Some(Closing::Halt { restarting, reply }) => {
                                let reason = match restarting {
                                    true => ExitReason::ManagerRestarted,
                                    false => ExitReason::Shutdown,
                                };
                                (reason, reply, Ended::Halted)
                            }
                        };
                        Box::pin(self.shutdown(reason)).await;
                        drop(taken);
                        let _ = reply.send(());
                        return ended;
                    }
                };
                self.mailbox.release(1);
                self.seq += 1;
                let mut i = self.slots.len();
                let seq = self.seq;
                if self.observed {
                    trace::record(&mut self.tracer, || TraceEntry::Event { seq });
                }
                let detour = match sweep(
                    self.slots.as_mut_slice(),
                    &self.mailbox,
                    &*event,
                    seq,
                    self.observed.then_some(&mut self.tracer),
                    &mut i,
                ) {
                    Sweep::Done => None,
                    Sweep::Detour(detour) => Some(detour),
                    Sweep::Async(step) => Some(Detour::Ran(callback::guard(mgr, step).await)),
                };
                if let Some(detour) = detour {
                    let seq = self.seq;
                    Box::pin(self.run_event(&*event, None, seq, i, Some(detour))).await;
                }
                if let Some(done) = done {
                    let _ = done.send(());
                }
                if !self.deferred.is_empty() {
                    Box::pin(self.apply_deferred()).await;
                }
            }
            self.stats.batch_done(self.seq);
        }
        // Every handle is gone and the mailbox is drained.
        Box::pin(self.shutdown(ExitReason::Shutdown)).await;
        Ended::Stopped
    }

    /// Handles one message; returns the closing it asked for, if it is a stop or a halt.
    async fn handle(&mut self, msg: Msg<E>) -> Option<Closing> {
        match msg {
            // The bound counts queued events: the one taken out for handling gives its room
            // back, so `capacity` more can queue behind a handler that is slow on it.
            Msg::Event(event) => {
                self.mailbox.release(1);
                self.dispatch(event, None).await;
            }
            Msg::SyncEvent(event, done) => {
                self.mailbox.release(1);
                self.dispatch(event, Some(done)).await;
            }
            Msg::Call(call) => self.call(call).await,
            Msg::Op(op) => {
                // The operation goes into the boxed future: none of it stays in this one.
                let run = match *op {
                    Op::Stop(reply) => return Some(Closing::Stop(reply)),
                    Op::Halt { restarting, reply } => {
                        return Some(Closing::Halt { restarting, reply })
                    }
                    op => Box::pin(self.op(op)),
                };
                run.await;
            }
            Msg::Deferred(ops) => self.deferred.extend(ops),
            // Timers and watches fire these by the thousand: not boxed (the rare parts inside
            // are).
            Msg::Info {
                uid,
                timer,
                payload,
            } => self.info(uid, Job::Info { timer, payload }).await,
            Msg::Down { uid, watch } => self.info(uid, Job::Down(watch)).await,
            Msg::LinkDropped { link, handler } => {
                if let Some(i) = self.slots.find_link(link, handler) {
                    let mut slot = self.slots.take(i);
                    // Nobody is left to tell.
                    drop(slot.take_link());
                    let handover =
                        Box::pin(self.terminate(&mut slot, Terminate::SupervisorGone)).await;
                    callback::drop_caught(handover);
                }
            }
            Msg::Dedicated { uid, report } => {
                if let Some(i) = self.slots.find_uid(uid) {
                    // As above: the report goes into the boxed future.
                    let run: Option<BoxFuture<'_, ()>> = match *report {
                        Report::Crashed(crash) => {
                            Some(Box::pin(self.remove_crashed(i, crash, false)))
                        }
                        Report::Action(action) => Some(Box::pin(self.apply_action(i, action))),
                        Report::Restarted(crash) => {
                            self.stats.crashed(uid, &crash.handler);
                            self.stats.restarted(uid, &crash.handler);
                            if let Some(link) = self.slots.get(i).link() {
                                link.restarted(crash);
                            }
                            None
                        }
                    };
                    if let Some(run) = run {
                        run.await;
                    }
                }
            }
        }
        self.apply_deferred().await;
        None
    }

    /// Applies the operations asked for during the message just handled, and those they ask
    /// for in turn.
    async fn apply_deferred(&mut self) {
        while !self.deferred.is_empty() {
            let mut ops = std::mem::take(&mut self.deferred).into_iter();
            // Each operation goes into its boxed future: none of it stays in this one.
            while let Some(run) = ops.next().map(|op| Box::pin(self.op(op))) {
                run.await;
            }
        }
    }
}
