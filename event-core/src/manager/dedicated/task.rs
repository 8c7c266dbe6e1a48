//! A dedicated handler's own task: it takes jobs from the queue in order and runs each as a
//! callback of the handler, reporting to the manager what the manager decides on (a crash, a
//! request to leave or be swapped). A crash is reported and the handler restarted in place
//! here, on this task, before its next job, when it has a restart policy.

use std::sync::Arc;

use super::queue::Queue;
use super::{Ack, Job, Report, TerminateJob};
use crate::callback::{self, Owned};
use crate::error::CallError;
use crate::exit::{Crash, Terminate};
use crate::handler::HandlerId;
use crate::manager::context::{settle, SelfAction, Settled};
use crate::manager::crash::{allow, log_crash, restart_in_place, Doing, InPlace, Outcome};
use crate::manager::erased::{ErasedCall, ErasedHandler};
use crate::manager::mailbox::Mailbox;
use crate::manager::message::{Msg, Op};

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
pub(super) struct Task<E: 'static> {
    pub(super) id: HandlerId,
    pub(super) manager: ToManager<E>,
    pub(super) debug_event: Option<fn(&E) -> String>,
    pub(super) restart: Option<Box<InPlace>>,
}

/// Where the task's reports and the handler's requests go: its manager's mailbox, addressed
/// with the handler's uid.
pub(super) struct ToManager<E: 'static> {
    pub(super) mailbox: Arc<Mailbox<E>>,
    pub(super) uid: u64,
}

impl<E: 'static> ToManager<E> {
    pub(super) fn report(&self, report: Report<E>) {
        let _ = self.mailbox.push(Msg::Dedicated {
            uid: self.uid,
            report: Box::new(report),
        });
    }

    /// Hands operations the handler asked for to the manager, which applies them.
    fn defer(&self, ops: Vec<Op<E>>) {
        let _ = self.mailbox.push(Msg::Deferred(ops));
    }
}

/// What the task holds of the job it ran until the manager has its report: the event (whose
/// ack completes a `sync_notify` when dropped) or the call (answered only then).
enum Held<E: 'static> {
    Event {
        event: Arc<Owned<E>>,
        seq: u64,
        _ack: Option<Arc<Ack>>,
    },
    Call(Box<dyn ErasedCall<E>>),
    Info,
}

impl<E: 'static> Held<E> {
    fn doing(&self) -> Doing<'_, E> {
        match self {
            Held::Event { event, seq, .. } => Doing::Event {
                seq: *seq,
                event: &***event,
            },
            Held::Call(call) => Doing::Call {
                request: call.request_type(),
            },
            Held::Info => Doing::Info,
        }
    }
}

impl<E: Send + Sync + 'static> Task<E> {
    pub(super) async fn run(
        mut self,
        mut cell: Box<dyn ErasedHandler<E>>,
        queue: Arc<Queue<Job<E>>>,
    ) {
        let rx = Receiver(queue);
        let mgr = self.manager.mailbox.uid();
        let mut leaving = false;
        while let Some(job) = rx.0.pop().await {
            let c = &mut *cell;
            let (result, mut held) = match job {
                Job::Terminate(job) => {
                    let TerminateJob { reason, reply } = *job;
                    let r = callback::run(mgr, move || c.terminate(reason)).await;
                    // A hand-over the manager no longer waits for is dropped under a guard.
                    if let Err(unsent) = reply.send(r) {
                        callback::drop_caught(unsent);
                    }
                    return;
                }
                Job::Call(mut call) if leaving => {
                    call.fail(CallError::NotInstalled(self.id.clone()));
                    continue;
                }
                _ if leaving => continue,
                Job::Event { event, seq, _ack } => {
                    let ev: &E = &event;
                    let r = callback::run(mgr, move || c.handle_event(ev)).await;
                    (r, Held::Event { event, seq, _ack })
                }
                Job::Call(mut call) => {
                    let r = {
                        let call = &mut *call;
                        callback::run(mgr, move || call.invoke(c)).await
                    };
                    (r, Held::Call(call))
                }
                Job::Info { timer, payload } => {
                    let r = callback::run(mgr, move || c.handle_info(timer, payload.into_inner()))
                        .await;
                    (r, Held::Info)
                }
                Job::Down(watch) => {
                    let r = callback::run(mgr, move || c.handle_down(watch)).await;
                    (r, Held::Info)
                }
            };
            let mut crashed = None;
            let settled = settle(result, cell.take_requests(), &mut |ops| {
                self.manager.defer(ops)
            });
            let report = match settled {
                Settled::Done => None,
                Settled::Acted(action) => Some(Report::Action(action)),
                Settled::Crashed(cause) => {
                    let crash = Crash {
                        handler: self.id.clone(),
                        cause,
                        during: held.doing().during(self.debug_event),
                    };
                    let had_policy = self.restart.is_some();
                    let restarting = allow(&mut self.restart);
                    let outcome = Outcome::of(restarting, had_policy);
                    log_crash(&self.manager.mailbox, &crash, &*cell, outcome);
                    crashed = Some(crash.clone());
                    match restarting {
                        true => self
                            .restart(&mut *cell, crash)
                            .await
                            .err()
                            .map(Report::Crashed),
                        false => Some(Report::Crashed(crash)),
                    }
                }
            };
            if let Some(report) = report {
                // A swap takes effect when the manager gets to it, which may refuse it: until
                // then the handler is installed and handles what is queued for it, its state
                // going to its successor in the hand-over. A crashed or removed handler is gone.
                leaving = !matches!(report, Report::Action(SelfAction::Swap { .. }));
                self.manager.report(report);
            }
            // Only now that the manager has the report may a call's caller, or a sync_notify's
            // (the ack in `held`), go on: what it asks next sees the handler gone or swapped,
            // as with an inline handler.
            if let Held::Call(call) = &mut held {
                match crashed {
                    Some(crash) => call.fail(CallError::Crashed(crash)),
                    None => call.answer(),
                }
            }
        }
    }

    /// Terminates the crashed handler and restarts it in place, on this task, before its next
    /// job. Gives back the last crash once the intensity is spent.
    async fn restart(
        &mut self,
        cell: &mut dyn ErasedHandler<E>,
        crash: Crash,
    ) -> Result<(), Crash> {
        let Task {
            id,
            manager,
            restart,
            ..
        } = self;
        {
            let c = &mut *cell;
            let reason = Terminate::Crashed(crash.clone());
            let _ = callback::run(manager.mailbox.uid(), move || c.terminate(reason)).await;
        }
        restart_in_place(
            restart,
            &manager.mailbox,
            id,
            cell,
            crash,
            &mut |crash| manager.report(Report::Restarted(crash)),
            &mut |ops| manager.defer(ops),
        )
        .await
    }
}
