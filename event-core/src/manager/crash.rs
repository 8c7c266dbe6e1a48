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
        // The args are the user's: dropped (with the policy) under a guard.
        let args = callback::Owned::new(args);
        Box::new(InPlace {
            window: RestartWindow::new(intensity),
            fresh_args: Box::new(move || Box::new(A::clone(&args))),
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
    /// The crash report's `During`; the event's `Debug` form only if the manager keeps one. A
    /// `Debug` that panics shows as a placeholder: the report is made all the same.
    pub(super) fn during(self, debug_event: Option<fn(&E) -> String>) -> During {
        match self {
            Doing::Event { seq, event } => During::Event {
                seq,
                event: debug_event.map(|f| callback::debug_caught(event, f)),
            },
            Doing::Call { request } => During::Call { request },
            Doing::Info => During::Info,
        }
    }
}

/// Whether a crashed handler with the in-place restart `policy` is restarted: its intensity
/// allows one more restart (counted here). A policy spent is dropped: the handler is removed.
pub(super) fn allow(policy: &mut Option<Box<InPlace>>) -> bool {
    let allowed = policy.as_mut().is_some_and(|p| p.window.allow());
    if !allowed {
        *policy = None;
    }
    allowed
}

/// What became of a crashed handler, as its crash report says.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Outcome {
    /// Removed: it has no in-place restart policy.
    Removed,
    /// Restarted in place.
    Restarted,
    /// Removed: it crashed more often than its in-place restart intensity allows.
    IntensityReached,
}

impl Outcome {
    pub(super) fn of(restarting: bool, had_policy: bool) -> Self {
        match (restarting, had_policy) {
            (true, _) => Outcome::Restarted,
            (false, true) => Outcome::IntensityReached,
            (false, false) => Outcome::Removed,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Outcome::Removed => "removed",
            Outcome::Restarted => "restarted in place",
            Outcome::IntensityReached => "removed: its in-place restart intensity is reached",
        }
    }
}

/// The `tracing` error event of a crash, one message for every crash: the manager, the
/// handler, the reason, the handler's redacted status view, and what became of it.
pub(super) fn log_crash<E: Send + 'static>(
    mailbox: &Mailbox<E>,
    crash: &Crash,
    cell: &dyn ErasedHandler<E>,
    outcome: Outcome,
) {
    let status = callback::catching(mailbox.uid(), || Status(cell).to_string())
        .unwrap_or_else(|cause| format!("(format_status {cause})"));
    tracing::error!(
        target: "event_core::crash",
        manager = mailbox.name(),
        handler = %crash.handler,
        reason = %crash,
        status = %status,
        outcome = outcome.as_str(),
        "event handler crashed"
    );
    report::console(
        "CRASH REPORT: event handler crashed",
        &[
            ("manager", &mailbox.name()),
            ("handler", &crash.handler),
            ("reason", crash),
            ("status", &status),
            ("outcome", &outcome.as_str()),
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

/// Re-initialises a crashed handler that has been terminated and whose restart `allow` has
/// granted; a failed `init` is a crash of its own, reported and counted against the intensity
/// in turn. `restarted` tells its supervising side of each try. Gives back the last crash once
/// the intensity is spent (and drops the policy: the handler is to be removed).
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
                let again = allow(policy);
                log_crash(mailbox, &c, cell, Outcome::of(again, true));
                if !again {
                    return Err(c);
                }
                crash = c;
            }
        }
    }
}
