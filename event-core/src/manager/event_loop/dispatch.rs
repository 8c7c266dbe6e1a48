//! Dispatching: an event through every handler, newest first; a call or an info to its one
//! handler. The common case (inline handlers that finish at once and ask for nothing) runs in
//! one sweep; anything else (a dedicated handler, an `async` callback, a crash, a request)
//! takes the slow path from where the sweep stopped, and continues the sweep after it.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::oneshot;
use tracing::Instrument;

use super::slots::{Slot, Target};
use super::EventLoop;
use crate::callback::{self, Owned};
use crate::error::CallError;
use crate::exit::{Cause, Crash};
use crate::handler::{BoxError, BoxFuture, HandlerId, Step};
use crate::manager::context::{settle, Requests, Settled};
use crate::manager::crash::Doing;
use crate::manager::dedicated::{Ack, Job};
use crate::manager::erased::ErasedCall;
use crate::manager::mailbox::Mailbox;
use crate::manager::trace::{self, TraceEntry, TraceOutcome, TracedCallback, Tracer};
use crate::observe::span;

/// An event shared with dedicated handlers, and the ack of its `sync_notify`, if any.
type Shared<'a, E> = (&'a Arc<Owned<E>>, &'a Option<Arc<Ack>>);

/// Where a sweep of the handlers ended.
pub(super) enum Sweep<'a> {
    /// Every handler left ran the event to its end and asked for nothing.
    Done,
    /// At the handler at the index, which needs the slow path.
    Detour(Detour),
    /// The handler at the index continues asynchronously.
    Async(BoxFuture<'a, Result<(), BoxError>>),
}

/// Why a sweep stopped at a handler, once its callback has ended.
pub(super) enum Detour {
    /// The handler is dedicated: the event goes to its task.
    Dedicated,
    /// The handler's callback ended with this result and may have asked for something.
    Ran(Result<(), Cause>),
}

/// Runs `event` through the handlers below index `*i`, newest first, while each one finishes
/// at once and asks for nothing: the common case, with the manager marked busy and panics
/// caught once for the whole run instead of once per handler. Stops at the first handler that
/// needs more, leaving `*i` at its index. With `observe` (the manager is traced, or a
/// subscriber wants callback spans: checked once per batch of messages), the traced sweep
/// runs instead, each callback in its span and traced.
#[inline(always)]
pub(super) fn sweep<'a, E: 'static>(
    slots: &'a mut [Slot<E>],
    mailbox: &Mailbox<E>,
    event: &'a E,
    seq: u64,
    observe: Option<&mut Option<Tracer>>,
    i: &mut usize,
) -> Sweep<'a> {
    match observe {
        None => sweep_plain(slots, mailbox, event, i),
        Some(tracer) => sweep_traced(slots, mailbox, event, seq, tracer, i),
    }
}

/// The sweep when nobody observes: nothing but the handlers' callbacks.
#[inline(never)]
fn sweep_plain<'a, E: 'static>(
    slots: &'a mut [Slot<E>],
    mailbox: &Mailbox<E>,
    event: &'a E,
    i: &mut usize,
) -> Sweep<'a> {
    let _in = callback::enter(mailbox.uid());
    let left = &mut slots[..*i];
    let run = catch_unwind(AssertUnwindSafe(move || {
        // Consumes `left`, so each slot is borrowed for 'a: an async step may keep it.
        for slot in IntoIterator::into_iter(left).rev() {
            *i -= 1;
            let cell = match slot.target() {
                Target::Inline(cell) => cell,
                Target::Dedicated(_) => return Sweep::Detour(Detour::Dedicated),
            };
            match cell.handle_event(event) {
                Step::Ready(Ok(())) if mailbox.take_asked() => {
                    return Sweep::Detour(Detour::Ran(Ok(())))
                }
                Step::Ready(Ok(())) => {}
                Step::Ready(Err(e)) => {
                    return Sweep::Detour(Detour::Ran(Err(Cause::from_error(e))))
                }
                Step::Async(step) => return Sweep::Async(step),
            }
        }
        Sweep::Done
    }));
    // A panic leaves `*i` at the handler that panicked.
    run.unwrap_or_else(|panic| Sweep::Detour(Detour::Ran(Err(Cause::from_panic(panic)))))
}

/// The sweep with each callback in its span (when a subscriber wants them) and traced (when
/// tracing is on): the same loop, out of line, as it is the rare case.
#[cold]
#[inline(never)]
fn sweep_traced<'a, E: 'static>(
    slots: &'a mut [Slot<E>],
    mailbox: &Mailbox<E>,
    event: &'a E,
    seq: u64,
    tracer: &mut Option<Tracer>,
    i: &mut usize,
) -> Sweep<'a> {
    let _in = callback::enter(mailbox.uid());
    let spans = span::callbacks();
    let left = &mut slots[..*i];
    // The handler running, and since when, for the trace of a panic.
    let mut running: Option<(HandlerId, Instant)> = None;
    let running_ref = &mut running;
    let tracer_ref = &mut *tracer;
    let run = catch_unwind(AssertUnwindSafe(move || {
        let left = left;
        for slot in IntoIterator::into_iter(left).rev() {
            *i -= 1;
            let span = spans.then(|| span::event(&slot.id(), seq));
            let _entered = span.as_ref().map(|s| s.enter());
            if tracer_ref.is_some() {
                *running_ref = Some((slot.id(), Instant::now()));
            }
            let cell = match slot.target() {
                Target::Inline(cell) => cell,
                Target::Dedicated(_) => return Sweep::Detour(Detour::Dedicated),
            };
            let step = cell.handle_event(event);
            if let Some((handler, since)) = running_ref.take() {
                let outcome = match &step {
                    Step::Ready(Ok(())) => TraceOutcome::Ok,
                    Step::Ready(Err(_)) => TraceOutcome::Crashed,
                    Step::Async(_) => TraceOutcome::Continues,
                };
                trace::record(tracer_ref, || callback_entry(handler, since, seq, outcome));
            }
            match step {
                Step::Ready(Ok(())) if mailbox.take_asked() => {
                    return Sweep::Detour(Detour::Ran(Ok(())))
                }
                Step::Ready(Ok(())) => {}
                Step::Ready(Err(e)) => {
                    return Sweep::Detour(Detour::Ran(Err(Cause::from_error(e))))
                }
                Step::Async(step) => {
                    return Sweep::Async(match &span {
                        None => step,
                        Some(span) => Box::pin(step.instrument(span.clone())),
                    })
                }
            }
        }
        Sweep::Done
    }));
    run.unwrap_or_else(|panic| {
        if let Some((handler, since)) = running.take() {
            let outcome = TraceOutcome::Crashed;
            trace::record(tracer, || callback_entry(handler, since, seq, outcome));
        }
        Sweep::Detour(Detour::Ran(Err(Cause::from_panic(panic))))
    })
}

/// The trace of a handler's `handle_event` on event `seq`, begun at `since`.
fn callback_entry(
    handler: HandlerId,
    since: Instant,
    seq: u64,
    outcome: TraceOutcome,
) -> TraceEntry {
    TraceEntry::Callback {
        handler,
        callback: TracedCallback::Event { seq },
        took: since.elapsed(),
        outcome,
    }
}

impl<E: Send + Sync + 'static> EventLoop<E> {
    /// Runs one event through every handler, newest first.
    pub(super) async fn dispatch(&mut self, event: Owned<E>, done: Option<oneshot::Sender<()>>) {
        self.seq += 1;
        let seq = self.seq;
        trace::record(&mut self.tracer, || TraceEntry::Event { seq });
        let top = self.slots.len();
        if !self.slots.any_dedicated() {
            self.run_event(&event, None, seq, top, None).await;
            if let Some(done) = done {
                let _ = done.send(());
            }
        } else {
            // Dedicated handlers share the event; the ack completes the sync_notify once the
            // last of them has handled it.
            let event = Arc::new(event);
            let ack = done.map(|tx| Arc::new(Ack::new(tx)));
            self.run_event(&**event, Some((&event, &ack)), seq, top, None)
                .await;
        }
    }

    /// Runs `event` through the handlers below index `i`, newest first. With `detour`, a sweep
    /// stopped at the handler at `i`, whose callback ended so: that is handled first.
    pub(super) async fn run_event(
        &mut self,
        event: &E,
        shared: Option<Shared<'_, E>>,
        seq: u64,
        mut i: usize,
        mut detour: Option<Detour>,
    ) {
        let mgr = self.mgr();
        loop {
            let detour = match detour.take() {
                Some(detour) => detour,
                None => match sweep(
                    self.slots.as_mut_slice(),
                    &self.mailbox,
                    event,
                    seq,
                    self.observed.then_some(&mut self.tracer),
                    &mut i,
                ) {
                    Sweep::Done => return,
                    Sweep::Detour(detour) => detour,
                    Sweep::Async(step) => Detour::Ran(callback::guard(mgr, step).await),
                },
            };
            let result = match detour {
                Detour::Ran(result) => result,
                Detour::Dedicated => {
                    if let (Some((event, ack)), Target::Dedicated(d)) =
                        (shared, self.slots.get_mut(i).target())
                    {
                        let job = Job::Event {
                            event: event.clone(),
                            seq,
                            _ack: ack.clone(),
                        };
                        if let Err(overloaded) = d.send_event(job).await {
                            Box::pin(self.remove_overloaded(i, overloaded)).await;
                        }
                    }
                    continue;
                }
            };
            // Built in a block of its own, so that what it takes is not kept in this future's
            // state while it runs.
            let after = {
                let requests = self.slots.get_mut(i).cell().and_then(|c| c.take_requests());
                (result.is_err() || requests.is_some())
                    .then(|| Box::pin(self.after(i, result, requests, Doing::Event { seq, event })))
            };
            if let Some(after) = after {
                after.await;
            }
        }
    }

    /// Applies what a callback of the inline handler at `i` ended with: its requests, and its
    /// removal if it crashed. Returns the crash.
    async fn after(
        &mut self,
        i: usize,
        result: Result<(), Cause>,
        requests: Option<Requests<E>>,
        doing: Doing<'_, E>,
    ) -> Option<Crash> {
        let deferred = &mut self.deferred;
        let settled = settle(result, requests, &mut |ops| deferred.extend(ops));
        match settled {
            Settled::Done => None,
            Settled::Acted(action) => {
                self.apply_action(i, action).await;
                None
            }
            Settled::Crashed(cause) => {
                let crash = Crash {
                    handler: self.slots.get(i).id(),
                    cause,
                    during: doing.during(self.debug_event),
                };
                self.remove_crashed(i, crash.clone(), true).await;
                Some(crash)
            }
        }
    }

    pub(super) async fn call(&mut self, mut call: Box<dyn ErasedCall<E>>) {
        let found = self.slots.find(call.target());
        self.stats
            .call(found.map_or(0, |i| self.slots.get(i).uid()));
        let Some(i) = found else {
            let target = call.target().clone();
            call.fail(CallError::NotInstalled(target));
            return;
        };
        let mgr = self.mgr();
        let span =
            span::callbacks().then(|| span::call(&self.slots.get(i).id(), call.request_type()));
        let traced = (self.tracer.is_some()).then(|| (self.slots.get(i).id(), Instant::now()));
        let cell = match self.slots.get_mut(i).target() {
            Target::Inline(cell) => cell,
            Target::Dedicated(d) => return d.send(Job::Call(call)).await,
        };
        let result = {
            let c = &mut **cell;
            let call = &mut *call;
            let run = callback::run(mgr, move || call.invoke(c));
            match span {
                None => run.await,
                Some(span) => run.instrument(span).await,
            }
        };
        if let Some((handler, since)) = traced {
            let outcome = match result.is_ok() {
                true => TraceOutcome::Ok,
                false => TraceOutcome::Crashed,
            };
            let request = call.request_type();
            trace::record(&mut self.tracer, || TraceEntry::Callback {
                handler,
                callback: TracedCallback::Call { request },
                took: since.elapsed(),
                outcome,
            });
        }
        // As in `run_event`, what `after` takes is not kept across its await.
        let after = {
            let requests = cell.take_requests();
            if result.is_ok() && requests.is_none() {
                return call.answer();
            }
            let request = call.request_type();
            Box::pin(self.after(i, result, requests, Doing::Call { request }))
        };
        match after.await {
            Some(crash) => call.fail(CallError::Crashed(crash)),
            None => call.answer(),
        }
    }

    pub(super) async fn info(&mut self, uid: u64, job: Job<E>) {
        // A message for a handler that has left is dropped: its timers and watches ended
        // with it.
        let Some(i) = self.slots.find_uid(uid) else {
            return;
        };
        if !matches!(job, Job::Info { .. } | Job::Down(_)) {
            return;
        }
        self.stats.info();
        let mgr = self.mgr();
        let span = span::callbacks().then(|| span::info(&self.slots.get(i).id()));
        let cell = match self.slots.get_mut(i).target() {
            Target::Inline(cell) => cell,
            Target::Dedicated(d) => return Box::pin(d.send(job)).await,
        };
        let c = &mut **cell;
        let run = async move {
            match job {
                Job::Info { timer, payload } => {
                    callback::run(mgr, move || c.handle_info(timer, payload.into_inner())).await
                }
                Job::Down(watch) => callback::run(mgr, move || c.handle_down(watch)).await,
                // Checked above.
                _ => Ok(()),
            }
        };
        let result = match span {
            None => run.await,
            Some(span) => run.instrument(span).await,
        };
        let requests = cell.take_requests();
        if result.is_err() || requests.is_some() {
            Box::pin(self.after(i, result, requests, Doing::Info)).await;
        }
    }
}
