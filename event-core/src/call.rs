//! A typed request on its way to one handler, erased so the mailbox can carry it.

use std::marker::PhantomData;

use tokio::sync::oneshot;

use crate::cell::{ErasedHandler, HandlerCell};
use crate::error::CallError;
use crate::handler::{Call, HandlerId, Step};

pub(crate) trait ErasedCall<E: 'static>: Send {
    fn target(&self) -> &HandlerId;
    fn request_type(&self) -> &'static str;
    /// Runs the call on `cell`; the reply goes to the caller. On a crash the manager calls
    /// [`fail`](ErasedCall::fail).
    fn invoke<'a>(&'a mut self, cell: &'a mut dyn ErasedHandler<E>) -> Step<'a>;
    fn fail(&mut self, error: CallError);
}

pub(crate) struct CallCell<E, H: Call<E, R>, R: Send + 'static>
where
    E: 'static,
{
    target: HandlerId,
    request: Option<R>,
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
                if let Some(tx) = self.reply.take() {
                    let _ = tx.send(Ok(reply));
                }
                Step::ok(())
            }
            Step::Ready(Err(e)) => Step::Ready(Err(e)),
            Step::Async(fut) => {
                let tx = &mut self.reply;
                Step::from_async(async move {
                    let reply = fut.await?;
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(Ok(reply));
                    }
                    Ok(())
                })
            }
        }
    }

    fn fail(&mut self, error: CallError) {
        if let Some(tx) = self.reply.take() {
            let _ = tx.send(Err(error));
        }
    }
}
