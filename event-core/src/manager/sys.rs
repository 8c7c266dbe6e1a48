//! OTP's `sys` for a manager's handlers, typed: a handler's status view on demand
//! ([`EventManager::format_status`]) and a look at, or a change of, its state
//! ([`EventManager::with_state`]). Both travel as calls to the one handler, so they run on
//! the task that runs it (the manager's, or a dedicated handler's own), between its messages.

use std::marker::PhantomData;

use tokio::sync::oneshot;

use super::erased::{ErasedCall, ErasedHandler, HandlerCell, Status};
use super::handle::{EventManager, PendingReply};
use super::message::Msg;
use crate::callback;
use crate::error::CallError;
use crate::handler::{Handler, HandlerId, HandlerRef, Step};

impl<E: Send + Sync + 'static> EventManager<E> {
    /// Runs `f` on the state of the handler `handler` names, inside the task that runs it,
    /// between two of its messages, and returns what `f` returns (OTP's `sys:get_state` and
    /// `sys:replace_state`): to look at the state, or to change it, for debugging.
    ///
    /// `f` runs as a callback of the handler: a panic in it is the handler's crash, which
    /// removes it (or restarts it in place), as a panicking call does, and gives
    /// [`CallError::Crashed`].
    ///
    /// ```
    /// # use event_core::{handler, EventManager};
    /// # #[derive(Debug)] struct Tick;
    /// struct Counter { seen: u64 }
    ///
    /// #[handler(event = Tick)]
    /// impl Counter {
    ///     fn init() -> Self { Counter { seen: 0 } }
    ///     fn handle_event(&mut self, _: &Tick) { self.seen += 1; }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let manager = EventManager::<Tick>::start()?;
    /// let counter = manager.add_handler::<Counter>(()).await?;
    /// manager.sync_notify(Tick).await?;
    /// assert_eq!(manager.with_state(&counter, |c| c.seen).await?, 1);
    /// manager.with_state(&counter, |c| c.seen = 100).await?;        // replace_state
    /// manager.sync_notify(Tick).await?;
    /// assert_eq!(manager.with_state(&counter, |c| c.seen).await?, 101);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`CallError::NotInstalled`] if no such handler is installed; otherwise as
    /// [`call`](EventManager::call).
    pub async fn with_state<H, R, F>(&self, handler: &HandlerRef<H>, f: F) -> Result<R, CallError>
    where
        H: Handler<E>,
        F: FnOnce(&mut H) -> R + Send + 'static,
        R: Send + 'static,
    {
        let cell = StateCall::<E, H, F, R> {
            target: handler.id().clone(),
            f: Some(f),
            answer: None,
            reply: None,
            _types: PhantomData,
        };
        self.sys_request(cell, |c, tx| c.reply = Some(tx))?.await
    }

    /// The status view of the handler `id` names, its
    /// [`format_status`](crate::Handler::format_status) (OTP's `sys:get_status`): the same
    /// redacted view a crash report shows, asked for while it runs.
    ///
    /// # Errors
    /// [`CallError::NotInstalled`] if no such handler is installed; otherwise as
    /// [`call`](EventManager::call).
    pub async fn format_status(&self, id: &HandlerId) -> Result<String, CallError> {
        let cell = StatusCall {
            target: id.clone(),
            answer: None,
            reply: None,
        };
        self.sys_request(cell, |c, tx| c.reply = Some(tx))?.await
    }

    /// Sends `cell` as a call, with its reply channel set by `set_reply`.
    fn sys_request<C: ErasedCall<E> + 'static, R>(
        &self,
        mut cell: C,
        set_reply: impl FnOnce(&mut C, oneshot::Sender<Result<R, CallError>>),
    ) -> Result<PendingReply<R>, CallError> {
        if callback::inside(self.mailbox().uid()) {
            return Err(CallError::WouldDeadlock);
        }
        let (tx, rx) = oneshot::channel();
        set_reply(&mut cell, tx);
        self.mailbox()
            .push(Msg::Call(Box::new(cell)))
            .map_err(|_| CallError::ManagerGone)?;
        Ok(PendingReply::new(rx))
    }
}

/// A closure to run on a handler's state.
struct StateCall<E: 'static, H, F, R> {
    target: HandlerId,
    f: Option<F>,
    answer: Option<R>,
    reply: Option<oneshot::Sender<Result<R, CallError>>>,
    _types: PhantomData<fn(&E, &H)>,
}

impl<E, H, F, R> ErasedCall<E> for StateCall<E, H, F, R>
where
    E: Send + Sync + 'static,
    H: Handler<E>,
    F: FnOnce(&mut H) -> R + Send + 'static,
    R: Send + 'static,
{
    fn target(&self) -> &HandlerId {
        &self.target
    }

    fn request_type(&self) -> &'static str {
        "sys::with_state"
    }

    fn invoke<'a>(&'a mut self, cell: &'a mut dyn ErasedHandler<E>) -> Step<'a> {
        let handler = cell
            .as_any_mut()
            .downcast_mut::<HandlerCell<E, H>>()
            .and_then(|c| c.handler_mut());
        match (handler, self.f.take()) {
            (Some(h), Some(f)) => self.answer = Some(f(h)),
            _ => {
                let target = self.target.clone();
                self.fail(CallError::NotInstalled(target));
            }
        }
        Step::ok(())
    }

    fn answer(&mut self) {
        if let (Some(answer), Some(tx)) = (self.answer.take(), self.reply.take()) {
            let _ = tx.send(Ok(answer));
        }
    }

    fn fail(&mut self, error: CallError) {
        if let Some(tx) = self.reply.take() {
            let _ = tx.send(Err(error));
        }
    }
}

/// A request for a handler's status view.
struct StatusCall {
    target: HandlerId,
    answer: Option<String>,
    reply: Option<oneshot::Sender<Result<String, CallError>>>,
}

impl<E: Send + Sync + 'static> ErasedCall<E> for StatusCall {
    fn target(&self) -> &HandlerId {
        &self.target
    }

    fn request_type(&self) -> &'static str {
        "sys::format_status"
    }

    fn invoke<'a>(&'a mut self, cell: &'a mut dyn ErasedHandler<E>) -> Step<'a> {
        self.answer = Some(Status(&*cell).to_string());
        Step::ok(())
    }

    fn answer(&mut self) {
        if let (Some(answer), Some(tx)) = (self.answer.take(), self.reply.take()) {
            let _ = tx.send(Ok(answer));
        }
    }

    fn fail(&mut self, error: CallError) {
        if let Some(tx) = self.reply.take() {
            let _ = tx.send(Err(error));
        }
    }
}
