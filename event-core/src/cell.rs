//! A handler behind a type-erased interface, so one manager can hold handlers of many types.

use std::any::Any;
use std::fmt;

use crate::context::{Context, Requests};
use crate::exit::Terminate;
use crate::handler::{Handler, HandlerId, Info, Key, Step};

/// The operations a manager (or a dedicated task) needs from a handler of any type.
pub(crate) trait ErasedHandler<E: 'static>: Send {
    fn init(&mut self, args: Box<dyn Any + Send>) -> Step<'_>;
    fn handle_event<'a>(&'a mut self, event: &'a E) -> Step<'a>;
    /// Delivers an info message; a message of a cancelled timer is dropped.
    fn handle_info(&mut self, timer: Option<u64>, payload: Box<dyn Any + Send>) -> Step<'_>;
    /// Delivers the end of a watched subscriber; an unwatched one is dropped.
    fn handle_down(&mut self, watch: u64) -> Step<'_>;
    /// Ends the handler; the hand-over comes back boxed. Timers and watches are cancelled.
    fn terminate(&mut self, reason: Terminate) -> Step<'static, Box<dyn Any + Send>>;
    fn take_requests(&mut self) -> Option<Requests<E>>;
    fn format_status(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
    fn as_any_mut(&mut self) -> &mut dyn Any;
    /// Whether `id` names a handler of this cell's type.
    fn is(&self, id: &HandlerId) -> bool;
    /// The identity of this cell's handler with `key`.
    fn id(&self, key: Option<Key>) -> HandlerId;
    /// The handler's uid, which its timers, watches and info messages are addressed to.
    fn uid(&self) -> u64;
}

/// A handler of type `H` with its context. `handler` is `None` before `init` succeeds and
/// after `terminate`.
pub(crate) struct HandlerCell<E: 'static, H> {
    pub(crate) handler: Option<H>,
    pub(crate) cx: Context<E, H>,
}

impl<E: Send + Sync + 'static, H: Handler<E>> ErasedHandler<E> for HandlerCell<E, H> {
    fn init(&mut self, args: Box<dyn Any + Send>) -> Step<'_> {
        let Ok(args) = args.downcast::<H::Args>() else {
            return Step::err("internal: init args of the wrong type");
        };
        match H::init(*args, &mut self.cx) {
            Step::Ready(Ok(h)) => {
                self.handler = Some(h);
                Step::ok(())
            }
            Step::Ready(Err(e)) => Step::Ready(Err(e)),
            Step::Async(fut) => Step::from_async(async move {
                self.handler = Some(fut.await?);
                Ok(())
            }),
        }
    }

    fn handle_event<'a>(&'a mut self, event: &'a E) -> Step<'a> {
        match &mut self.handler {
            Some(h) => h.handle_event(event, &mut self.cx),
            None => Step::ok(()),
        }
    }

    fn handle_info(&mut self, timer: Option<u64>, payload: Box<dyn Any + Send>) -> Step<'_> {
        if let Some(t) = timer {
            if !self.cx.timer_fired(t) {
                return Step::ok(());
            }
        }
        match (&mut self.handler, payload.downcast::<Info<H::Info>>()) {
            (Some(h), Ok(info)) => h.handle_info(*info, &mut self.cx),
            _ => Step::ok(()),
        }
    }

    fn handle_down(&mut self, watch: u64) -> Step<'_> {
        if !self.cx.watch_fired(watch) {
            return Step::ok(());
        }
        match &mut self.handler {
            Some(h) => h.handle_info(
                Info::Down(crate::context::WatchRef::new(watch)),
                &mut self.cx,
            ),
            None => Step::ok(()),
        }
    }

    fn terminate(&mut self, reason: Terminate) -> Step<'static, Box<dyn Any + Send>> {
        self.cx.cancel_all();
        match self.handler.take() {
            Some(h) => h
                .terminate(reason)
                .map(|v| Box::new(v) as Box<dyn Any + Send>),
            None => Step::ok(Box::new(())),
        }
    }

    fn take_requests(&mut self) -> Option<Requests<E>> {
        self.cx.take_requests()
    }

    fn format_status(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.handler {
            Some(h) => h.format_status(f),
            None => f.write_str("(not running)"),
        }
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }

    fn is(&self, id: &HandlerId) -> bool {
        id.is::<H>()
    }

    fn id(&self, key: Option<Key>) -> HandlerId {
        HandlerId::of::<H>(key)
    }

    fn uid(&self) -> u64 {
        self.cx.uid()
    }
}

/// `format_status` as a `Display`, for crash reports.
pub(crate) struct Status<'a, E: 'static>(pub(crate) &'a dyn ErasedHandler<E>);

impl<E> fmt::Display for Status<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.format_status(f)
    }
}

/// The `tracing` error event of a crash: the manager, the handler, the reason and the
/// handler's redacted status view.
pub(crate) fn log_crash<E: Send + 'static>(
    mailbox: &crate::mailbox::Mailbox<E>,
    crash: &crate::exit::Crash,
    cell: &dyn ErasedHandler<E>,
    restarting: bool,
) {
    let status = crate::callback::catching(mailbox.uid(), || Status(cell).to_string())
        .unwrap_or_else(|cause| format!("(format_status {cause})"));
    if restarting {
        tracing::error!(
            manager = mailbox.name(),
            handler = %crash.handler,
            reason = %crash,
            status = %status,
            "event handler crashed and is restarted in place"
        );
    } else {
        tracing::error!(
            manager = mailbox.name(),
            handler = %crash.handler,
            reason = %crash,
            status = %status,
            "event handler crashed and was removed"
        );
    }
}
