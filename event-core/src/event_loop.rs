//! The manager's task: it takes messages from the mailbox in batches and runs each through
//! the handlers, newest first, applying removals, swaps and deferred operations in between.
//!
//! Rare paths (installs, swaps, crashes, stop) are awaited as boxed futures, so the task's own
//! state machine holds only what handling an event or a call needs: that keeps an idle manager
//! small, at the cost of one allocation when a rare path runs.

use std::any::Any;
use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use tokio::sync::oneshot;

use crate::call::ErasedCall;
use crate::callback;
use crate::cell::{log_crash, ErasedHandler};
use crate::context::{Requests, SelfAction};
use crate::dedicated::{Ack, Dedicated, Job, Overloaded, Report};
use crate::error::{AddError, CallError, DeleteError, SwapError};
use crate::exit::{Cause, Crash, During, ExitReason, Terminate};
use crate::handler::{BoxError, BoxFuture, HandlerId, Step};
use crate::install::Installer;
use crate::link::{self, Link, LinkTx};
use crate::mailbox::{Mailbox, Msg, Op};
use crate::slot::{Body, Full, Slot};

pub(crate) struct EventLoop<E: 'static> {
    mailbox: Arc<Mailbox<E>>,
    /// In install order; events run from the back (newest first, as in OTP).
    slots: Vec<Slot<E>>,
    dedicated: usize,
    seq: u64,
    debug_event: Option<fn(&E) -> String>,
    /// Operations asked for from callbacks, applied after the current message.
    deferred: Vec<Op<E>>,
}

/// Marks the manager ended however its task ends (stop, every handle dropped, or the task
/// being dropped with its runtime), so waiters and senders learn it. A supervised manager's
/// mailbox outlives its task instead: the supervisor retires it when it gives up on it.
struct Ended<E: Send + 'static>(Arc<Mailbox<E>>);

impl<E: Send + 'static> Drop for Ended<E> {
    fn drop(&mut self) {
        if !self.0.is_supervised() {
            drop(self.0.close());
            self.0.mark_done();
        }
    }
}

/// The messages taken out of the mailbox and not handled yet. If the task ends before it has
/// handled them (a halt, or a supervisor killing it), a supervised manager gives them back to
/// its mailbox for the next incarnation: nothing sent to it is lost to a restart.
struct Batch<E: Send + 'static> {
    queue: VecDeque<Msg<E>>,
    mailbox: Arc<Mailbox<E>>,
}

impl<E: Send + 'static> Drop for Batch<E> {
    fn drop(&mut self) {
        if self.mailbox.is_supervised() {
            self.mailbox.unshift(std::mem::take(&mut self.queue));
        }
    }
}

/// How a manager's task ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoopEnd {
    /// `stop` was called, or every handle was dropped.
    Stopped,
    /// Its supervisor halted it.
    Halted,
}

/// Why the loop returns from handling a message.
enum End {
    Stop(oneshot::Sender<()>),
    Halt {
        restarting: bool,
        reply: oneshot::Sender<()>,
    },
}

/// Where a sweep of the handlers stopped.
enum Swept<'a> {
    /// Every handler left ran the event to its end and asked for nothing.
    End,
    /// At the handler at the index, for the slow path.
    Stop(Stop),
    /// The handler at the index continues asynchronously.
    Async(BoxFuture<'a, Result<(), BoxError>>),
}

/// Why a sweep stopped at a handler, once its callback has ended.
enum Stop {
    /// The handler is dedicated: the event goes to its task.
    Dedicated,
    /// The handler's callback ended with this result and may have asked for something.
    Ran(Result<(), Cause>),
}

/// Runs `event` through the handlers below index `*i`, newest first, while each one finishes
/// at once and asks for nothing: the common case, with the manager marked busy and panics
/// caught once for the whole run instead of once per handler. Stops at the first handler that
/// needs more, leaving `*i` at its index.
fn sweep<'a, E: 'static>(
    slots: &'a mut [Slot<E>],
    mailbox: &Mailbox<E>,
    event: &'a E,
    i: &mut usize,
) -> Swept<'a> {
    let _in = callback::enter(mailbox.uid());
    let left = &mut slots[..*i];
    let run = catch_unwind(AssertUnwindSafe(move || {
        // Consumes `left`, so each slot is borrowed for 'a: an async step may keep it.
        for slot in IntoIterator::into_iter(left).rev() {
            *i -= 1;
            let cell = match slot {
                Slot::Lean { cell, .. } => cell,
                Slot::Full(full) => match &mut full.body {
                    Body::Inline(cell) => cell,
                    Body::Dedicated(_) => return Swept::Stop(Stop::Dedicated),
                },
            };
            match cell.handle_event(event) {
                Step::Ready(Ok(())) if mailbox.take_asked() => {
                    return Swept::Stop(Stop::Ran(Ok(())))
                }
                Step::Ready(Ok(())) => {}
                Step::Ready(Err(e)) => return Swept::Stop(Stop::Ran(Err(Cause::from_error(e)))),
                Step::Async(step) => return Swept::Async(step),
            }
        }
        Swept::End
    }));
    // A panic leaves `*i` at the handler that panicked.
    run.unwrap_or_else(|panic| Swept::Stop(Stop::Ran(Err(Cause::from_panic(panic)))))
}

impl<E: Send + Sync + 'static> EventLoop<E> {
    pub(crate) fn new(mailbox: Arc<Mailbox<E>>, debug_event: Option<fn(&E) -> String>) -> Self {
        EventLoop {
            mailbox,
            slots: Vec::new(),
            dedicated: 0,
            seq: 0,
            debug_event,
            deferred: Vec::new(),
        }
    }

    /// Installs a supervised manager's standing handlers, before its first message.
    pub(crate) async fn install_standing(
        &mut self,
        standing: Vec<Installer<E>>,
    ) -> Result<(), AddError> {
        for install in standing {
            if let Err(e) = Box::pin(self.add(install, false)).await {
                Box::pin(self.shutdown(ExitReason::Shutdown)).await;
                return Err(e);
            }
        }
        Ok(())
    }

    fn mgr(&self) -> u64 {
        self.mailbox.uid()
    }

    pub(crate) async fn run(mut self) -> LoopEnd {
        let ended = Ended(self.mailbox.clone());
        let mut batch = Batch {
            queue: VecDeque::new(),
            mailbox: self.mailbox.clone(),
        };
        let mgr = self.mgr();
        while self.mailbox.recv_batch(&mut batch.queue).await {
            while let Some(msg) = batch.queue.pop_front() {
                // The common case first, in place: an event through inline handlers that finish
                // at once. Anything else takes the slow path from where the sweep stopped.
                let (event, done) = match msg {
                    Msg::Event(event) if self.dedicated == 0 => (event, None),
                    Msg::SyncEvent(event, done) if self.dedicated == 0 => (event, Some(done)),
                    msg => {
                        let (reason, reply, end) = match self.handle(msg).await {
                            None => continue,
                            Some(End::Stop(reply)) => {
                                (ExitReason::Shutdown, reply, LoopEnd::Stopped)
                            }
                            Some(End::Halt { restarting, reply }) => {
                                let reason = match restarting {
                                    true => ExitReason::ManagerRestarted,
                                    false => ExitReason::Shutdown,
                                };
                                (reason, reply, LoopEnd::Halted)
                            }
                        };
                        Box::pin(self.shutdown(reason)).await;
                        drop(batch);
                        drop(ended);
                        let _ = reply.send(());
                        return end;
                    }
                };
                self.mailbox.release(1);
                self.seq += 1;
                let mut i = self.slots.len();
                let stop = match sweep(&mut self.slots, &self.mailbox, &event, &mut i) {
                    Swept::End => None,
                    Swept::Stop(stop) => Some(stop),
                    Swept::Async(step) => Some(Stop::Ran(callback::guard(mgr, step).await)),
                };
                if let Some(stop) = stop {
                    let seq = self.seq;
                    Box::pin(self.run_event(&event, None, seq, i, Some(stop))).await;
                }
                if let Some(done) = done {
                    let _ = done.send(());
                }
                if !self.deferred.is_empty() {
                    Box::pin(self.apply_deferred()).await;
                }
            }
        }
        // Every handle is gone and the mailbox is drained.
        Box::pin(self.shutdown(ExitReason::Shutdown)).await;
        LoopEnd::Stopped
    }

    /// Handles one message; returns how the loop ends if it does.
    async fn handle(&mut self, msg: Msg<E>) -> Option<End> {
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
                    Op::Stop(reply) => return Some(End::Stop(reply)),
                    Op::Halt { restarting, reply } => return Some(End::Halt { restarting, reply }),
                    op => Box::pin(self.op(op)),
                };
                run.await;
            }
            Msg::Deferred(ops) => self.deferred.extend(ops),
            Msg::Info {
                uid,
                timer,
                payload,
            } => Box::pin(self.info(uid, Job::Info { timer, payload })).await,
            Msg::Down { uid, watch } => Box::pin(self.info(uid, Job::Down(watch))).await,
            Msg::LinkDropped(link) => {
                let found = self
                    .slots
                    .iter()
                    .rposition(|s| s.link().is_some_and(|l| l.id == link));
                if let Some(i) = found {
                    let mut slot = self.take_slot(i);
                    // Nobody is left to tell.
                    drop(slot.take_link());
                    let _ = Box::pin(self.terminate(&mut slot, Terminate::SupervisorGone)).await;
                }
            }
            Msg::Dedicated { uid, report } => {
                if let Some(i) = self.find_uid(uid) {
                    // As above: the report goes into the boxed future.
                    let run: Option<BoxFuture<'_, ()>> = match *report {
                        Report::Crashed(crash) => {
                            Some(Box::pin(self.remove_crashed(i, crash, false)))
                        }
                        Report::Action(action) => Some(Box::pin(self.apply_action(i, action))),
                        Report::Restarted(crash) => {
                            if let Some(link) = self.slots[i].link() {
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

    fn find(&self, id: &HandlerId) -> Option<usize> {
        self.slots.iter().rposition(|s| s.is(id))
    }

    fn find_uid(&self, uid: u64) -> Option<usize> {
        self.slots.iter().rposition(|s| s.uid() == uid)
    }

    /// Installs at the head. The list grows by doubling from one, not from four as a `Vec`
    /// does: most managers hold a handler or two.
    fn push_slot(&mut self, slot: Slot<E>) {
        if self.slots.len() == self.slots.capacity() {
            self.slots.reserve_exact(self.slots.len().max(1));
        }
        self.slots.push(slot);
    }

    fn take_slot(&mut self, i: usize) -> Slot<E> {
        let slot = self.slots.remove(i);
        if slot.is_dedicated() {
            self.dedicated -= 1;
        }
        slot
    }

    /// Runs one event through every handler, newest first.
    async fn dispatch(&mut self, event: E, done: Option<oneshot::Sender<()>>) {
        self.seq += 1;
        let seq = self.seq;
        let top = self.slots.len();
        if self.dedicated == 0 {
            self.run_event(&event, None, seq, top, None).await;
            if let Some(done) = done {
                let _ = done.send(());
            }
        } else {
            // Dedicated handlers share the event; the ack completes the sync_notify once the
            // last of them has handled it.
            let event = Arc::new(event);
            let ack = done.map(|tx| Arc::new(Ack::new(tx)));
            self.run_event(&event, Some((&event, &ack)), seq, top, None)
                .await;
        }
    }

    /// Runs `event` through the handlers below index `i`, newest first. With `stop`, a sweep
    /// stopped at the handler at `i`, whose callback ended so: that is handled first.
    async fn run_event(
        &mut self,
        event: &E,
        shared: Option<(&Arc<E>, &Option<Arc<Ack>>)>,
        seq: u64,
        mut i: usize,
        mut stop: Option<Stop>,
    ) {
        let mgr = self.mgr();
        loop {
            let stop = match stop.take() {
                Some(stop) => stop,
                None => match sweep(&mut self.slots, &self.mailbox, event, &mut i) {
                    Swept::End => return,
                    Swept::Stop(stop) => stop,
                    Swept::Async(step) => Stop::Ran(callback::guard(mgr, step).await),
                },
            };
            let result = match stop {
                Stop::Ran(result) => result,
                Stop::Dedicated => {
                    if let (Some((event, ack)), Slot::Full(full)) = (shared, &mut self.slots[i]) {
                        if let Body::Dedicated(d) = &mut full.body {
                            let job = Job::Event {
                                event: event.clone(),
                                seq,
                                _ack: ack.clone(),
                            };
                            if let Err(overloaded) = d.send_event(job).await {
                                Box::pin(self.remove_overloaded(i, overloaded)).await;
                            }
                        }
                    }
                    continue;
                }
            };
            // Built in a block of its own, so that what it takes is not kept in this future's
            // state while it runs.
            let after = {
                let requests = self.slots[i].cell().and_then(|cell| cell.take_requests());
                (result.is_err() || requests.is_some()).then(|| {
                    let debug = self.debug_event;
                    Box::pin(self.after(i, result, requests, move || During::Event {
                        seq,
                        event: debug.map(|f| f(event)),
                    }))
                })
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
        during: impl FnOnce() -> During,
    ) -> Option<Crash> {
        let (ops, action) = requests.unwrap_or_default();
        self.deferred.extend(ops);
        match result {
            Err(cause) => {
                let crash = Crash {
                    handler: self.slots[i].id(),
                    cause,
                    during: during(),
                };
                self.remove_crashed(i, crash.clone(), true).await;
                Some(crash)
            }
            Ok(()) => {
                if let Some(action) = action {
                    self.apply_action(i, action).await;
                }
                None
            }
        }
    }

    async fn call(&mut self, mut call: Box<dyn ErasedCall<E>>) {
        let Some(i) = self.find(call.target()) else {
            let target = call.target().clone();
            call.fail(CallError::NotInstalled(target));
            return;
        };
        let mgr = self.mgr();
        let cell = match &mut self.slots[i] {
            Slot::Lean { cell, .. } => cell,
            Slot::Full(full) => match &mut full.body {
                Body::Inline(cell) => cell,
                Body::Dedicated(d) => return d.send(Job::Call(call)).await,
            },
        };
        let result = {
            let c = &mut **cell;
            let call = &mut *call;
            callback::run(mgr, move || call.invoke(c)).await
        };
        // As in `run_event`, what `after` takes is not kept across its await.
        let after = {
            let requests = cell.take_requests();
            if result.is_ok() && requests.is_none() {
                return call.answer();
            }
            let request = call.request_type();
            Box::pin(self.after(i, result, requests, move || During::Call { request }))
        };
        match after.await {
            Some(crash) => call.fail(CallError::Crashed(crash)),
            None => call.answer(),
        }
    }

    async fn info(&mut self, uid: u64, job: Job<E>) {
        // A message for a handler that has left is dropped: its timers and watches ended
        // with it.
        let Some(i) = self.find_uid(uid) else { return };
        let mgr = self.mgr();
        let cell = match &mut self.slots[i] {
            Slot::Lean { cell, .. } => cell,
            Slot::Full(full) => match &mut full.body {
                Body::Inline(cell) => cell,
                Body::Dedicated(d) => return d.send(job).await,
            },
        };
        let c = &mut **cell;
        let result = match job {
            Job::Info { timer, payload } => {
                callback::run(mgr, move || c.handle_info(timer, payload)).await
            }
            Job::Down(watch) => callback::run(mgr, move || c.handle_down(watch)).await,
            _ => return,
        };
        let requests = cell.take_requests();
        Box::pin(self.after(i, result, requests, || During::Info)).await;
    }

    /// Removes a dedicated handler that fell behind (its overload policy is `Remove`).
    async fn remove_overloaded(&mut self, i: usize, overloaded: Overloaded) {
        let mut slot = self.take_slot(i);
        let capacity = overloaded.capacity;
        let _ = self
            .terminate(&mut slot, Terminate::Overloaded { capacity })
            .await;
        if let Some(link) = slot.take_link() {
            link.send(ExitReason::Overloaded { capacity });
        }
    }

    /// Runs `terminate` of a handler that has been taken out of the list. A crash in it is
    /// reported and returned.
    async fn terminate(
        &mut self,
        slot: &mut Slot<E>,
        reason: Terminate,
    ) -> Result<Box<dyn Any + Send>, Crash> {
        let mgr = self.mgr();
        let result = match slot {
            Slot::Lean { cell, .. } => {
                let c = &mut **cell;
                callback::run(mgr, move || c.terminate(reason)).await
            }
            Slot::Full(full) => match &mut full.body {
                Body::Inline(cell) => {
                    let c = &mut **cell;
                    callback::run(mgr, move || c.terminate(reason)).await
                }
                Body::Dedicated(d) => d.terminate(reason).await,
            },
        };
        result.map_err(|cause| {
            let crash = Crash {
                handler: slot.id(),
                cause,
                during: During::Terminate,
            };
            tracing::error!(
                manager = self.mailbox.name(),
                handler = %crash.handler,
                reason = %crash,
                "event handler crashed in terminate"
            );
            crash
        })
    }

    async fn remove_crashed(&mut self, i: usize, mut crash: Crash, log: bool) {
        let mut slot = self.take_slot(i);
        let restarting = slot.restarts();
        if log {
            if let Some(cell) = slot.cell() {
                log_crash(&self.mailbox, &crash, &**cell, restarting);
            }
        }
        let _ = self
            .terminate(&mut slot, Terminate::Crashed(crash.clone()))
            .await;
        if let (true, Slot::Full(full)) = (restarting, &mut slot) {
            match self.restart_in_place(full, crash).await {
                Ok(()) => {
                    // Back in its place, before the manager takes its next message.
                    self.slots.insert(i, slot);
                    return;
                }
                Err(last) => crash = last,
            }
        }
        if let Some(link) = slot.take_link() {
            link.send(ExitReason::Crashed(crash));
        }
    }

    /// Re-initialises a crashed inline handler that has been terminated, counting each try
    /// against its intensity. Gives back the last crash once the intensity is spent.
    async fn restart_in_place(
        &mut self,
        slot: &mut Full<E>,
        mut crash: Crash,
    ) -> Result<(), Crash> {
        let mgr = self.mgr();
        loop {
            let Some(restart) = slot.restart.as_mut() else {
                return Err(crash);
            };
            if !restart.window.allow() {
                tracing::error!(
                    manager = self.mailbox.name(),
                    handler = %slot.id,
                    reason = %crash,
                    "event handler crashed more often than its in-place restart intensity allows and was removed"
                );
                slot.restart = None;
                return Err(crash);
            }
            if let Some(link) = &slot.link {
                link.restarted(crash.clone());
            }
            let Body::Inline(cell) = &mut slot.body else {
                return Err(crash);
            };
            let args = callback::catching(mgr, || (restart.make_args)());
            match self.init_cell(&slot.id, &mut **cell, args).await {
                Ok(()) => return Ok(()),
                Err(c) => {
                    log_crash(&self.mailbox, &c, &**cell, true);
                    crash = c;
                }
            }
        }
    }

    /// A handler asked, from a callback, to leave or to be replaced in its place.
    async fn apply_action(&mut self, i: usize, action: SelfAction<E>) {
        match action {
            SelfAction::Remove => {
                let mut slot = self.take_slot(i);
                let _ = self.terminate(&mut slot, Terminate::Removed).await;
                if let Some(link) = slot.take_link() {
                    link.send(ExitReason::Normal);
                }
            }
            SelfAction::Swap { to: mut new, args } => {
                if self.find(&new.id).is_some_and(|j| j != i) {
                    tracing::error!(
                        manager = self.mailbox.name(),
                        handler = %self.slots[i].id(),
                        to = %new.id,
                        "swap refused: the new handler's identity is installed already; the handler stays"
                    );
                    return;
                }
                let mut old = self.take_slot(i);
                if new.dedicated.is_none() {
                    if let Slot::Full(full) = &old {
                        if let Body::Dedicated(d) = &full.body {
                            new.dedicated = Some(d.capacity());
                            new.overload = d.overload();
                        }
                    }
                }
                let reason = Terminate::Swapped {
                    to: new.id.clone(),
                    args,
                };
                let handover = self.terminate(&mut old, reason).await.ok();
                match self.init(&mut new, handover).await {
                    Err(crash) => {
                        log_crash(&self.mailbox, &crash, &*new.cell, false);
                        if let Some(link) = old.take_link() {
                            link.send(ExitReason::Crashed(crash));
                        }
                    }
                    Ok(()) => {
                        let link = old.take_link().map(|old_link| {
                            let (link, tx) = self.link(&new.id);
                            old_link.send(ExitReason::Swapped {
                                to: new.id.clone(),
                                link: Some(link),
                            });
                            tx
                        });
                        let slot = self.make_slot(new, link);
                        self.slots.insert(i, slot);
                    }
                }
            }
        }
    }

    fn link(&self, id: &HandlerId) -> (Link, LinkTx) {
        link::link(self.mailbox.clone(), id.clone(), false)
    }

    /// Runs a new handler's `init`, with the hand-over of the one it replaces.
    async fn init(
        &mut self,
        install: &mut Installer<E>,
        handover: Option<Box<dyn Any + Send>>,
    ) -> Result<(), Crash> {
        let mgr = self.mgr();
        // A swap's `make_args` is user code too: its panic fails this init, not the manager.
        let args = callback::catching(mgr, || install.take_args(handover));
        self.init_cell(&install.id, &mut *install.cell, args).await
    }

    async fn init_cell(
        &mut self,
        id: &HandlerId,
        cell: &mut dyn ErasedHandler<E>,
        args: Result<Box<dyn Any + Send>, Cause>,
    ) -> Result<(), Crash> {
        let mgr = self.mgr();
        let result = match args {
            Ok(args) => {
                let c = &mut *cell;
                callback::run(mgr, move || c.init(args)).await
            }
            Err(cause) => Err(cause),
        };
        if let Some((ops, action)) = cell.take_requests() {
            self.deferred.extend(ops);
            if action.is_some() {
                tracing::warn!(
                    manager = self.mailbox.name(),
                    handler = %id,
                    "a handler cannot remove or swap itself from init; the request is ignored"
                );
            }
        }
        result.map_err(|cause| Crash {
            handler: id.clone(),
            cause,
            during: During::Init,
        })
    }

    fn make_slot(&mut self, install: Installer<E>, link: Option<LinkTx>) -> Slot<E> {
        if let (None, None, None) = (&install.dedicated, &link, &install.restart) {
            return Slot::inline(install.id, install.uid, install.cell);
        }
        let (body, restart) = match install.dedicated {
            None => (Body::Inline(install.cell), install.restart),
            Some(capacity) => {
                self.dedicated += 1;
                let body = Body::Dedicated(Dedicated::spawn(
                    install.cell,
                    install.id.clone(),
                    install.uid,
                    capacity,
                    self.mailbox.clone(),
                    self.debug_event,
                    install.restart,
                    install.overload,
                ));
                (body, None)
            }
        };
        Slot::full(Full {
            id: install.id,
            uid: install.uid,
            body,
            link,
            restart,
        })
    }

    async fn op(&mut self, op: Op<E>) {
        match op {
            Op::Add {
                install,
                supervised,
                reply,
            } => {
                let result = self.add(install, supervised).await;
                // If the caller is gone, a link inside the reply is dropped with it, which
                // removes the handler again: its supervisor is gone.
                let _ = reply.send(result);
            }
            Op::Delete { id, args, reply } => {
                let result = match self.find(&id) {
                    None => Err(DeleteError::NotInstalled(id)),
                    Some(i) => {
                        let mut slot = self.take_slot(i);
                        let result = self.terminate(&mut slot, Terminate::Deleted(args)).await;
                        if let Some(link) = slot.take_link() {
                            link.send(ExitReason::Normal);
                        }
                        result.map_err(DeleteError::TerminateFailed)
                    }
                };
                let _ = reply.send(result);
            }
            Op::Swap {
                old,
                args,
                new,
                supervised,
                reply,
            } => {
                let result = self.swap(old, args, new, supervised).await;
                let _ = reply.send(result);
            }
            Op::Which(reply) => {
                let _ = reply.send(self.slots.iter().rev().map(Slot::id).collect());
            }
            Op::Stop(reply) => {
                // A stop is never deferred; taken here only for completeness of the match.
                drop(reply);
            }
            Op::Halt { reply, .. } => drop(reply),
        }
    }

    async fn add(
        &mut self,
        mut install: Installer<E>,
        supervised: bool,
    ) -> Result<Option<Link>, AddError> {
        if self.find(&install.id).is_some() {
            return Err(AddError::AlreadyInstalled(install.id));
        }
        if install.dedicated == Some(0) {
            return Err(AddError::ZeroCapacity(install.id));
        }
        self.init(&mut install, None)
            .await
            .map_err(AddError::InitFailed)?;
        let (link, tx) = match supervised {
            true => {
                let restarts = install.restart.is_some();
                let (link, tx) = link::link(self.mailbox.clone(), install.id.clone(), restarts);
                (Some(link), Some(tx))
            }
            false => (None, None),
        };
        let slot = self.make_slot(install, tx);
        self.push_slot(slot);
        Ok(link)
    }

    async fn swap(
        &mut self,
        old: HandlerId,
        args: crate::exit::Args,
        mut new: Installer<E>,
        supervised: bool,
    ) -> Result<Option<Link>, SwapError> {
        if new.dedicated == Some(0) {
            return Err(SwapError::ZeroCapacity(new.id));
        }
        if new.id != old && self.find(&new.id).is_some() {
            return Err(SwapError::AlreadyInstalled(new.id));
        }
        let (handover, old_link) = match self.find(&old) {
            Some(i) => {
                let mut slot = self.take_slot(i);
                let reason = Terminate::Swapped {
                    to: new.id.clone(),
                    args,
                };
                let handover = self.terminate(&mut slot, reason).await.ok();
                (handover, slot.take_link())
            }
            // OTP installs the new handler all the same; its init sees no hand-over.
            None => (None, None),
        };
        if let Err(crash) = self.init(&mut new, handover).await {
            if let Some(link) = old_link {
                link.send(ExitReason::Crashed(crash.clone()));
            }
            return Err(SwapError::InitFailed(crash));
        }
        let (mine, tx) = match (supervised, old_link) {
            (true, old_link) => {
                let (link, tx) = self.link(&new.id);
                if let Some(old_link) = old_link {
                    old_link.send(ExitReason::Swapped {
                        to: new.id.clone(),
                        link: None,
                    });
                }
                (Some(link), Some(tx))
            }
            (false, Some(old_link)) => {
                // The new handler inherits the old one's supervisor.
                let (link, tx) = self.link(&new.id);
                old_link.send(ExitReason::Swapped {
                    to: new.id.clone(),
                    link: Some(link),
                });
                (None, Some(tx))
            }
            (false, None) => (None, None),
        };
        let slot = self.make_slot(new, tx);
        self.push_slot(slot);
        Ok(mine)
    }

    /// Terminates every handler, newest first, and tells each supervisor `reason`.
    async fn shutdown(&mut self, reason: ExitReason) {
        while let Some(mut slot) = self.slots.pop() {
            if slot.is_dedicated() {
                self.dedicated -= 1;
            }
            let _ = self.terminate(&mut slot, Terminate::Stop).await;
            if let Some(link) = slot.take_link() {
                link.send(match reason {
                    ExitReason::ManagerRestarted => ExitReason::ManagerRestarted,
                    _ => ExitReason::Shutdown,
                });
            }
        }
        // Operations handlers asked for while stopping have nothing left to act on.
        self.deferred.clear();
    }
}
