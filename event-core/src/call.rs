//! A typed request on its way to one handler, erased so the mailbox can carry it.

use std::marker::PhantomData;

use tokio::sync::oneshot;

use crate::cell::{ErasedHandler, HandlerCell};
use crate::error::CallError;
use crate::handler::{Call, HandlerId, Step};

pub(crate) trait ErasedCall<E: 'static>: Send {
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

pub(crate) struct CallCell<E, H: Call<E, R>, R: Send + 'static>
where
    E: 'static,
{
    target: HandlerId,
    request: Option<R>,
    answer: Option<H::Reply>,
    reply: Option<oneshot::Sender<Result<H::Reply, CallError>>>,
    _event: PhantomData<fn(&E)>,
}

impl<E: 'static, H: Call<E, R>, R: Send + 'static> CallCell<E, H, R> {
    pub(crate) fn new(
        target: HandlerId,
        request: R,
        reply: oneshot::Sender<Result<H::Reply, CallError>>,
    ) -> Self {
        CallCell {
            target,
            request: Some(request),
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
        match h.handle_call(request, cx) {
            Step::Ready(Ok(reply)) => {
                self.answer = Some(reply);
                Step::ok(())
            }
            Step::Ready(Err(e)) => Step::Ready(Err(e)),
            Step::Async(fut) => {
                let answer = &mut self.answer;
                Step::from_async(async move {
                    *answer = Some(fut.await?);
                    Ok(())
                })
            }
        }
    }

    fn answer(&mut self) {
        if let Some(answer) = self.answer.take() {
            if let Some(tx) = self.reply.take() {
                let _ = tx.send(Ok(answer));
            }
        }
    }

    fn fail(&mut self, error: CallError) {
        if let Some(tx) = self.reply.take() {
            let _ = tx.send(Err(error));
        }
    }
}
