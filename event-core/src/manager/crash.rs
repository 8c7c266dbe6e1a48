//! What a crash does, one implementation for inline and dedicated handlers: the crash report
//! (what the handler was doing, its redacted status), its `init` run again with fresh args,
//! and the restart in place that brings it back before its next message.
//!
//! Where the two kinds differ is passed in: an inline handler's requests go to its manager's
//! deferred operations and its restart notices straight to its link; a dedicated handler's go
//! through the mailbox, as messages, from its own task.

use std::any::Any;

use super::erased::{ErasedHandler, Status};
use super::mailbox::Mailbox;
use super::message::Op;
use crate::callback;
use crate::exit::{Cause, Crash, During};
use crate::handler::HandlerId;
use crate::intensity::{Intensity, RestartWindow};
use crate::observe::report;

/// Makes a fresh copy of a handler's init args for each in-place restart.
type FreshArgs = Box<dyn Fn() -> Box<dyn Any + Send> + Send>;

/// What a handler installed with an in-place restart policy keeps: its args and its restarts.
pub(super) struct InPlace {
    window: RestartWindow,
    fresh_args: FreshArgs,
}

impl InPlace {
    pub(super) fn new<A: Clone + Send + 'static>(intensity: Intensity, args: A) -> Box<Self> {
        Box::new(InPlace {
            window: RestartWindow::new(intensity),
            fresh_args: Box::new(move || Box::new(args.clone())),
        })
    }

    /// Whether the intensity counts nothing (a zero period), which an install refuses.
    pub(super) fn counts_nothing(&self) -> bool {
        self.window.period().is_zero()
    }
}

/// What a handler's callback was running, for its crash report.
pub(super) enum Doing<'a, E: 'static> {
    Event { seq: u64, event: &'a E },
    Call { request: &'static str },
    Info,
}

impl<E: 'static> Doing<'_, E> {
    /// The crash report's `During`; the event's `Debug` form only if the manager keeps one.
    pub(super) fn during(self, debug_event: Option<fn(&E) -> String>) -> During {
        match self {
            Doing::Event { seq, event } => During::Event {
                seq,
                event: debug_event.map(|f| f(event)),
            },
            Doing::Call { request } => During::Call { request },
            Doing::Info => During::Info,
        }
    }
}

/// The `tracing` error event of a crash: the manager, the handler, the reason and the
/// handler's redacted status view.
pub(super) fn log_crash<E: Send + 'static>(
    mailbox: &Mailbox<E>,
    crash: &Crash,
    cell: &dyn ErasedHandler<E>,
    restarting: bool,
) {
    let status = callback::catching(mailbox.uid(), || Status(cell).to_string())
        .unwrap_or_else(|cause| format!("(format_status {cause})"));
    let outcome = match restarting {
        true => "is restarted in place",
        false => "was removed",
    };
    tracing::error!(
        target: "event_core::crash",
        manager = mailbox.name(),
        handler = %crash.handler,
        reason = %crash,
        status = %status,
        "event handler crashed and {outcome}"
    );
    report::console(
        &format!("CRASH REPORT: event handler crashed and {outcome}"),
        &[
            ("manager", &mailbox.name()),
            ("handler", &crash.handler),
            ("reason", crash),
            ("status", &status),
        ],
    );
}

/// Runs `init` of handler `id` in `cell` with `args` (which failed to be made if `Err`). The
/// operations it asks for go to `defer`; a removal or swap of itself is refused, as the
/// handler is not installed yet.
pub(super) async fn init<E: Send + 'static>(
    mailbox: &Mailbox<E>,
    id: &HandlerId,
    cell: &mut dyn ErasedHandler<E>,
    args: Result<Box<dyn Any + Send>, Cause>,
    defer: &mut (dyn FnMut(Vec<Op<E>>) + Send),
) -> Result<(), Crash> {
    let result = match args {
        Ok(args) => {
            let c = &mut *cell;
            callback::run(mailbox.uid(), move || c.init(args)).await
        }
        Err(cause) => Err(cause),
    };
    if let Some((ops, action)) = cell.take_requests() {
        if !ops.is_empty() {
            defer(ops);
        }
        if action.is_some() {
            tracing::warn!(
                manager = mailbox.name(),
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

/// Re-initialises a crashed handler that has been terminated, counting each try against its
/// intensity; `restarted` tells its supervising side of each try. Gives back the last crash
/// once the intensity is spent (and drops the policy: the handler is to be removed).
pub(super) async fn restart_in_place<E: Send + 'static>(
    policy: &mut Option<Box<InPlace>>,
    mailbox: &Mailbox<E>,
    id: &HandlerId,
    cell: &mut dyn ErasedHandler<E>,
    mut crash: Crash,
    restarted: &mut (dyn FnMut(Crash) + Send),
    defer: &mut (dyn FnMut(Vec<Op<E>>) + Send),
) -> Result<(), Crash> {
    loop {
        let Some(restart) = policy.as_mut() else {
            return Err(crash);
        };
        if !restart.window.allow() {
            tracing::error!(
                target: "event_core::crash",
                manager = mailbox.name(),
                handler = %id,
                reason = %crash,
                "event handler crashed more often than its in-place restart intensity allows and was removed"
            );
            report::console(
                "CRASH REPORT: event handler crashed more often than its in-place restart intensity allows and was removed",
                &[("manager", &mailbox.name()), ("handler", id), ("reason", &crash)],
            );
            *policy = None;
            return Err(crash);
        }
        restarted(crash);
        // Making the args is user code too (a `Clone`): its panic fails this try.
        let args = callback::catching(mailbox.uid(), || (restart.fresh_args)());
        match init(mailbox, id, cell, args, defer).await {
            Ok(()) => {
                tracing::info!(
                    target: "event_core::manager",
                    manager = mailbox.name(),
                    handler = %id,
                    "event handler restarted in place"
                );
                return Ok(());
            }
            Err(c) => {
                log_crash(mailbox, &c, cell, true);
                crash = c;
            }
        }
    }
}
