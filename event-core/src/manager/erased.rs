//! Type erasure, one scheme in two halves: a handler behind [`ErasedHandler`], so one manager
//! holds handlers of many types, and a typed request behind [`ErasedCall`], so the mailbox
//! carries calls of many types. A call finds its handler by downcasting the erased cell back
//! to the [`HandlerCell`] of the handler type it names; the identity it targets names that
//! type, so the downcast fails only for a handler that is not running.

use std::any::Any;
use std::fmt;
use std::marker::PhantomData;

use tokio::sync::oneshot;

use super::context::{Context, Requests, WatchRef};
use crate::callback::{self, Owned};
use crate::error::CallError;
use crate::exit::Terminate;
use crate::handler::{Call, Handler, HandlerId, HandlerRef, Info, Key, Step};

/// The operations a manager (or a dedicated task) needs from a handler of any type.
pub(super) trait ErasedHandler<E: 'static>: Send {
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
pub(super) struct HandlerCell<E: 'static, H> {
    handler: Option<H>,
    cx: Context<E, H>,
}

impl<E: 'static, H> HandlerCell<E, H> {
    /// The cell of a handler not initialised yet.
    pub(super) fn new(cx: Context<E, H>) -> Self {
        HandlerCell { handler: None, cx }
    }

    /// The handler, while it runs.
    pub(super) fn handler_mut(&mut self) -> Option<&mut H> {
        self.handler.as_mut()
    }
}

impl<E: 'static, H> Drop for HandlerCell<E, H> {
    /// A handler dropped without its `terminate` (its task ended) drops its state under a
    /// guard.
    fn drop(&mut self) {
        if let Some(handler) = self.handler.take() {
            callback::drop_caught(handler);
        }
    }
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
            Some(h) => h.handle_info(Info::Down(WatchRef::new(watch)), &mut self.cx),
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
pub(super) struct Status<'a, E: 'static>(pub(super) &'a dyn ErasedHandler<E>);

impl<E> fmt::Display for Status<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.format_status(f)
    }
}

/// A typed request on its way to one handler, erased so the mailbox can carry it.
pub(super) trait ErasedCall<E: 'static>: Send {
    fn target(&self) -> &HandlerId;
    fn request_type(&self) -> &'static str;
    /// Runs the call on `cell`, keeping the handler's reply. Then the manager calls
    /// [`answer`](ErasedCall::answer) once it has applied what the callback asked for (as OTP
    /// replies after a `remove_handler`'s terminate), or [`fail`](ErasedCall::fail) on a crash.
    fn invoke<'a>(&'a mut self, cell: &'a mut dyn ErasedHandler<E>) -> Step<'a>;
    /// Sends the reply kept by [`invoke`](ErasedCall::invoke), if any.
    fn answer(&mut self);
    fn fail(&mut self, error: CallError);
}

/// A request that handler `H` answers: every `R` for which `H` implements [`Call<E, R>`].
///
/// [`EventManager::call`](crate::EventManager::call) and
/// [`send_request`](crate::EventManager::send_request) take their request through this trait
/// rather than through `H: Call<E, R>` directly, so a request the handler does not answer is
/// reported once, on the request's type once it is known. Nothing implements it but the
/// blanket implementation; its reply is the handler's [`Call::Reply`].
pub trait Request<E: 'static, H>: Send + 'static {
    /// The reply: `<H as Call<E, Self>>::Reply`.
    type Reply: Send + 'static;

    /// The request on its way to `handler`, its types erased.
    #[doc(hidden)]
    fn __message(
        self,
        handler: &HandlerRef<H>,
        reply: oneshot::Sender<Result<Self::Reply, CallError>>,
    ) -> CallMessage<E>;
}

impl<E, H, R> Request<E, H> for R
where
    E: Send + Sync + 'static,
    H: Call<E, R>,
    R: Send + 'static,
{
    type Reply = H::Reply;

    fn __message(
        self,
        handler: &HandlerRef<H>,
        reply: oneshot::Sender<Result<H::Reply, CallError>>,
    ) -> CallMessage<E> {
        let cell = CallCell::<E, H, R>::new(handler.id().clone(), self, reply);
        CallMessage(Box::new(cell))
    }
}

/// A request on its way to the mailbox (what [`Request`] makes).
#[doc(hidden)]
pub struct CallMessage<E: 'static>(pub(super) Box<dyn ErasedCall<E>>);

pub(super) struct CallCell<E, H: Call<E, R>, R: Send + 'static>
where
    E: 'static,
{
    target: HandlerId,
    /// The user's values, dropped under a guard wherever they are dropped.
    request: Option<Owned<R>>,
    answer: Option<Owned<H::Reply>>,
    reply: Option<oneshot::Sender<Result<H::Reply, CallError>>>,
    _event: PhantomData<fn(&E)>,
}

impl<E: 'static, H: Call<E, R>, R: Send + 'static> CallCell<E, H, R> {
    pub(super) fn new(
        target: HandlerId,
        request: R,
        reply: oneshot::Sender<Result<H::Reply, CallError>>,
    ) -> Self {
        CallCell {
            target,
            request: Some(Owned::new(request)),
            answer: None,
            reply: Some(reply),
            _event: PhantomData,
        }
    }
}

impl<E, H, R> ErasedCall<E> for CallCell<E, H, R>
where
    E: Send + Sync + 'static,
    H: Call<E, R>,
    R: Send + 'static,
{
    fn target(&self) -> &HandlerId {
        &self.target
    }

    fn request_type(&self) -> &'static str {
        std::any::type_name::<R>()
    }

    fn invoke<'a>(&'a mut self, cell: &'a mut dyn ErasedHandler<E>) -> Step<'a> {
        let Some(HandlerCell {
            handler: Some(h),
            cx,
        }) = cell.as_any_mut().downcast_mut::<HandlerCell<E, H>>()
        else {
            let target = self.target.clone();
            self.fail(CallError::NotInstalled(target));
            return Step::ok(());
        };
        let Some(request) = self.request.take() else {
            return Step::ok(());
        };
        match h.handle_call(request.into_inner(), cx) {
            Step::Ready(Ok(reply)) => {
                self.answer = Some(Owned::new(reply));
                Step::ok(())
            }
            Step::Ready(Err(e)) => Step::Ready(Err(e)),
            Step::Async(fut) => {
                let answer = &mut self.answer;
                Step::from_async(async move {
                    *answer = Some(Owned::new(fut.await?));
                    Ok(())
                })
            }
        }
    }

    fn answer(&mut self) {
        if let Some(answer) = self.answer.take() {
            if let Some(tx) = self.reply.take() {
                // A reply its caller no longer waits for comes back, and is dropped here.
                if let Err(unsent) = tx.send(Ok(answer.into_inner())) {
                    callback::drop_caught(unsent);
                }
            }
        }
    }

    fn fail(&mut self, error: CallError) {
        if let Some(tx) = self.reply.take() {
            let _ = tx.send(Err(error));
        }
    }
}
