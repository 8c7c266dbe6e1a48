//! What changes the handler list: installs, deletes and swaps (asked for by a handle or from a
//! callback), a handler's request to leave or be swapped, its crash (removed, or restarted in
//! place), its removal for falling behind, and the shutdown of them all. Every way out runs the
//! handler's `terminate` and tells its supervising side why it left.

use std::any::Any;

use super::slots::{Slot, Target};
use super::EventLoop;
use crate::callback;
use crate::error::{AddError, DeleteError, SwapError};
use crate::exit::{Args, Crash, During, ExitReason, Terminate};
use crate::handler::HandlerId;
use crate::manager::context::SelfAction;
use crate::manager::crash::{init, log_crash, restart_in_place, Outcome};
use crate::manager::dedicated::{Dedicated, Overloaded};
use crate::manager::install::NewHandler;
use crate::manager::link::{self, Link, LinkTx};
use crate::manager::message::{Op, Reply};
use crate::manager::trace::{self, TraceEntry};
use crate::observe::report;

/// The lifecycle event of a swap that succeeded.
fn swapped(manager: &str, from: &HandlerId, to: &HandlerId) {
    tracing::debug!(
        target: "event_core::manager",
        manager,
        handler = %from,
        to = %to,
        "event handler swapped"
    );
}

impl<E: Send + Sync + 'static> EventLoop<E> {
    pub(super) async fn op(&mut self, op: Op<E>) {
        match op {
            Op::Add { new, reply } => self.add(new, reply).await,
            Op::Delete { id, args, reply } => {
                let result = self.delete(id, args).await;
                // A hand-over its caller no longer waits for is dropped here, under a guard.
                if let Err(unsent) = reply.send(result) {
                    callback::drop_caught(unsent);
                }
            }
            Op::Swap {
                old,
                args,
                new,
                reply,
            } => self.swap(old, args, new, reply).await,
            Op::Which(reply) => {
                let _ = reply.send(self.slots.ids());
            }
            Op::Statistics(reply) => {
                let live = self.slots.live().map(|s| (s.id(), s.uid())).collect();
                let queued = self.mailbox.lock().queue.len();
                let _ = reply.send(self.stats.read(live, self.seq, queued));
            }
            Op::Trace(tracer, reply) => {
                self.tracer = Some(tracer);
                self.observed = true;
                let _ = reply.send(());
            }
            Op::CollectStatistics(on, reply) => {
                let live = self.slots.live().map(|s| s.uid());
                self.stats.collect(on, live, self.seq);
                let _ = reply.send(());
            }
            // A stop or a halt is never deferred; taken here only for completeness of the
            // match.
            Op::Stop(reply) | Op::Halt { reply, .. } => drop(reply),
        }
    }

    /// Checks a new handler and runs its `init`.
    async fn admit(&mut self, new: &mut NewHandler<E>) -> Result<(), AddError> {
        if self.slots.find(&new.id).is_some() {
            return Err(AddError::AlreadyInstalled(new.id.clone()));
        }
        if new.dedicated == Some(0) {
            return Err(AddError::ZeroCapacity(new.id.clone()));
        }
        self.init(new, None).await.map_err(AddError::InitFailed)
    }

    /// Installs a handler at the head, as its caller asked: plain, or supervised by the link
    /// that the reply carries.
    async fn add(&mut self, mut new: NewHandler<E>, reply: Reply<AddError>) {
        let admitted = self.admit(&mut new).await;
        match reply {
            Reply::Plain(tx) => {
                let _ = tx.send(admitted.map(|()| self.place(new, None)));
            }
            Reply::Linked(tx) => {
                let linked = admitted.map(|()| {
                    let (link, tx) = self.link(&new.id, new.restart.is_some());
                    self.place(new, Some(tx));
                    link
                });
                let _ = tx.send(linked);
            }
        }
    }

    /// Installs a handler at the head, unsupervised.
    pub(super) async fn add_plain(&mut self, mut new: NewHandler<E>) -> Result<(), AddError> {
        self.admit(&mut new).await?;
        self.place(new, None);
        Ok(())
    }

    async fn delete(
        &mut self,
        id: HandlerId,
        args: Args,
    ) -> Result<Box<dyn Any + Send>, DeleteError> {
        let Some(i) = self.slots.find(&id) else {
            return Err(DeleteError::NotInstalled(id));
        };
        let mut slot = self.slots.take(i);
        let result = self.terminate(&mut slot, Terminate::Deleted(args)).await;
        if let Some(link) = slot.take_link() {
            link.send(ExitReason::Normal);
        }
        result.map_err(DeleteError::TerminateFailed)
    }

    /// Replaces `old` with `new` (OTP's `swap_handler`): `old` is terminated, and its hand-over
    /// goes to `new`'s `init`. Gives back the old handler's link, if it was supervised.
    async fn replace(
        &mut self,
        old: HandlerId,
        args: Args,
        new: &mut NewHandler<E>,
    ) -> Result<Option<LinkTx>, SwapError> {
        if new.dedicated == Some(0) {
            return Err(SwapError::ZeroCapacity(new.id.clone()));
        }
        if new.id != old && self.slots.find(&new.id).is_some() {
            return Err(SwapError::AlreadyInstalled(new.id.clone()));
        }
        let (handover, old_link) = match self.slots.find(&old) {
            Some(i) => {
                let mut slot = self.slots.take(i);
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
        if let Err(crash) = self.init(new, handover).await {
            if let Some(link) = old_link {
                link.send(ExitReason::Crashed(crash.clone()));
            }
            return Err(SwapError::InitFailed(crash));
        }
        swapped(self.mailbox.name(), &old, &new.id);
        Ok(old_link)
    }

    /// Swaps a handler for another, as its caller asked: plain (the new handler inherits the
    /// old one's supervisor, if any), or supervised by the caller's new link.
    async fn swap(
        &mut self,
        old: HandlerId,
        args: Args,
        mut new: NewHandler<E>,
        reply: Reply<SwapError>,
    ) {
        let replaced = self.replace(old, args, &mut new).await;
        match reply {
            Reply::Plain(tx) => {
                let placed = replaced.map(|old_link| {
                    let tx = old_link.map(|old_link| self.pass_link(old_link, &new.id));
                    self.place(new, tx);
                });
                let _ = tx.send(placed);
            }
            Reply::Linked(tx) => {
                let linked = replaced.map(|old_link| {
                    if let Some(old_link) = old_link {
                        old_link.send(ExitReason::Swapped {
                            to: new.id.clone(),
                            link: None,
                        });
                    }
                    let (link, tx) = self.link(&new.id, false);
                    self.place(new, Some(tx));
                    link
                });
                let _ = tx.send(linked);
            }
        }
    }

    /// A handler asked, from a callback, to leave or to be replaced in its place.
    pub(super) async fn apply_action(&mut self, i: usize, action: SelfAction<E>) {
        match action {
            SelfAction::Remove => {
                let mut slot = self.slots.take(i);
                let handover = self.terminate(&mut slot, Terminate::Removed).await;
                callback::drop_caught(handover);
                if let Some(link) = slot.take_link() {
                    link.send(ExitReason::Normal);
                }
            }
            SelfAction::Swap { to: mut new, args } => {
                if self.slots.find(&new.id).is_some_and(|j| j != i) {
                    tracing::error!(
                        manager = self.mailbox.name(),
                        handler = %self.slots.get(i).id(),
                        to = %new.id,
                        "swap refused: the new handler's identity is installed already; the handler stays"
                    );
                    return;
                }
                let mut old = self.slots.take(i);
                // A dedicated handler's successor keeps its queue and overload policy.
                if let (None, Some(d)) = (new.dedicated, old.as_dedicated()) {
                    new.dedicated = Some(d.capacity());
                    new.overload = d.overload();
                }
                let reason = Terminate::Swapped {
                    to: new.id.clone(),
                    args,
                };
                let handover = self.terminate(&mut old, reason).await.ok();
                match self.init(&mut new, handover).await {
                    Err(crash) => {
                        log_crash(&self.mailbox, &crash, &*new.cell, Outcome::Removed);
                        if let Some(link) = old.take_link() {
                            link.send(ExitReason::Crashed(crash));
                        }
                    }
                    Ok(()) => {
                        swapped(self.mailbox.name(), &old.id(), &new.id);
                        let tx = old
                            .take_link()
                            .map(|old_link| self.pass_link(old_link, &new.id));
                        let slot = self.make_slot(new, tx);
                        self.slots.insert(i, slot);
                    }
                }
            }
        }
    }

    /// Both ends of a new link supervising handler `id`; `restarts` opens the channel of its
    /// restart notices too.
    fn link(&self, id: &HandlerId, restarts: bool) -> (Link, LinkTx) {
        link::link(self.mailbox.clone(), id.clone(), restarts)
    }

    /// Passes supervision from a handler swapped out to its successor `to`: the old handler's
    /// supervising side gets the new link inside its exit reason.
    fn pass_link(&self, old_link: LinkTx, to: &HandlerId) -> LinkTx {
        let (link, tx) = self.link(to, false);
        old_link.send(ExitReason::Swapped {
            to: to.clone(),
            link: Some(link),
        });
        tx
    }

    /// Runs a new handler's `init`, with the hand-over of the one it replaces.
    async fn init(
        &mut self,
        new: &mut NewHandler<E>,
        handover: Option<Box<dyn Any + Send>>,
    ) -> Result<(), Crash> {
        let mgr = self.mgr();
        // A swap's `make_args` is user code too: its panic fails this init, not the manager.
        let args = callback::catching(mgr, || new.take_args(handover));
        let deferred = &mut self.deferred;
        init(&self.mailbox, &new.id, &mut *new.cell, args, &mut |ops| {
            deferred.extend(ops)
        })
        .await
    }

    /// The slot of a new handler that has been initialised; a dedicated handler's task is
    /// started here, and restarts it in place if it should.
    fn make_slot(&mut self, new: NewHandler<E>, link: Option<LinkTx>) -> Slot<E> {
        self.stats.installed(new.uid, self.seq);
        trace::record(&mut self.tracer, || TraceEntry::Installed {
            handler: new.id.clone(),
        });
        tracing::debug!(
            target: "event_core::manager",
            manager = self.mailbox.name(),
            handler = %new.id,
            dedicated = new.dedicated.is_some(),
            supervised = link.is_some(),
            "event handler installed"
        );
        match new.dedicated {
            None => Slot::inline(new.id, new.uid, new.cell, link, new.restart),
            Some(capacity) => {
                let task = Dedicated::spawn(
                    new.cell,
                    new.id.clone(),
                    new.uid,
                    capacity,
                    self.mailbox.clone(),
                    self.debug_event,
                    new.restart,
                    new.overload,
                );
                Slot::dedicated(new.id, new.uid, task, link)
            }
        }
    }

    /// Installs an initialised handler at the head.
    fn place(&mut self, new: NewHandler<E>, link: Option<LinkTx>) {
        let slot = self.make_slot(new, link);
        self.slots.push(slot);
    }

    /// Removes a dedicated handler that fell behind (its overload policy is `Remove`).
    pub(super) async fn remove_overloaded(&mut self, i: usize, overloaded: Overloaded) {
        let mut slot = self.slots.take(i);
        let capacity = overloaded.capacity;
        let handover = self
            .terminate(&mut slot, Terminate::Overloaded { capacity })
            .await;
        callback::drop_caught(handover);
        if let Some(link) = slot.take_link() {
            link.send(ExitReason::Overloaded { capacity });
        }
    }

    /// Runs `terminate` of a handler that has been taken out of the list. A crash in it is
    /// reported and returned.
    pub(super) async fn terminate(
        &mut self,
        slot: &mut Slot<E>,
        reason: Terminate,
    ) -> Result<Box<dyn Any + Send>, Crash> {
        let mgr = self.mgr();
        tracing::debug!(
            target: "event_core::manager",
            manager = self.mailbox.name(),
            handler = %slot.id(),
            reason = %reason,
            "event handler removed"
        );
        trace::record(&mut self.tracer, || TraceEntry::Removed {
            handler: slot.id(),
            reason: reason.to_string(),
        });
        let result = match slot.target() {
            Target::Inline(cell) => {
                let c = &mut **cell;
                callback::run(mgr, move || c.terminate(reason)).await
            }
            Target::Dedicated(d) => d.terminate(reason).await,
        };
        result.map_err(|cause| {
            let crash = Crash {
                handler: slot.id(),
                cause,
                during: During::Terminate,
            };
            tracing::error!(
                target: "event_core::crash",
                manager = self.mailbox.name(),
                handler = %crash.handler,
                reason = %crash,
                "event handler crashed in terminate"
            );
            report::console(
                "CRASH REPORT: event handler crashed in terminate",
                &[
                    ("manager", &self.mailbox.name()),
                    ("handler", &crash.handler),
                    ("reason", &crash),
                ],
            );
            crash
        })
    }

    /// Takes out the crashed handler at `i`, terminates it, and restarts it in place if it has
    /// a restart policy left; otherwise tells its supervising side. `log` reports the crash
    /// (a dedicated handler's task has reported it already).
    pub(super) async fn remove_crashed(&mut self, i: usize, mut crash: Crash, log: bool) {
        let mut slot = self.slots.take(i);
        self.stats.crashed(slot.uid(), &crash.handler);
        let had_policy = slot.in_place().is_some();
        let restarting = slot.allow_restart();
        if log {
            if let Some(cell) = slot.cell() {
                let outcome = Outcome::of(restarting, had_policy);
                log_crash(&self.mailbox, &crash, &**cell, outcome);
            }
        }
        let handover = self
            .terminate(&mut slot, Terminate::Crashed(crash.clone()))
            .await;
        callback::drop_caught(handover);
        if let Some(parts) = slot.in_place().filter(|_| restarting) {
            let deferred = &mut self.deferred;
            let link = parts.link;
            let restarted = restart_in_place(
                parts.restart,
                &self.mailbox,
                parts.id,
                parts.cell,
                crash,
                &mut |crash| {
                    if let Some(link) = link {
                        link.restarted(crash);
                    }
                },
                &mut |ops| deferred.extend(ops),
            )
            .await;
            match restarted {
                Ok(()) => {
                    // Back in its place, before the manager takes its next message.
                    self.stats.restarted(slot.uid(), &slot.id());
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

    /// Terminates every handler, newest first, and tells each supervising side `reason`.
    pub(super) async fn shutdown(&mut self, reason: ExitReason) {
        self.stats.batch_done(self.seq);
        while let Some(mut slot) = self.slots.pop() {
            let handover = self.terminate(&mut slot, Terminate::Stop).await;
            callback::drop_caught(handover);
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
