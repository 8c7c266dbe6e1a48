//! The supervising side of a handler: an owned link that learns why the handler left, and
//! removes it when dropped (OTP's `add_sup_handler` link to the calling process).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::sync::{mpsc, oneshot};

use crate::exit::{Crash, ExitReason};
use crate::handler::{HandlerId, HandlerRef};

/// Where a dropped link is reported: the handler's manager.
pub(super) trait LinkOwner: Send + Sync {
    fn link_dropped(&self, link: u64, handler: &HandlerId);
}

static NEXT_LINK: AtomicU64 = AtomicU64::new(1);

/// The manager's end of a link. The reason travels boxed: it is sent once, when the handler
/// leaves, and a channel sized for it would cost every supervised handler its size.
pub(super) struct LinkTx {
    pub(super) id: u64,
    tx: oneshot::Sender<Box<ExitReason>>,
    restarts: Option<mpsc::UnboundedSender<Crash>>,
}

impl LinkTx {
    /// Tells the supervising side that the handler crashed and was restarted in place.
    pub(super) fn restarted(&self, crash: Crash) {
        if let Some(r) = &self.restarts {
            let _ = r.send(crash);
        }
    }

    pub(super) fn send(self, reason: ExitReason) {
        // The supervising side may be gone at this very moment; then nobody is left to tell.
        let _ = self.tx.send(Box::new(reason));
    }
}

/// Makes both ends of a link supervising the handler `handler`.
/// A new link; `restarts` opens the channel for in-place restart notices too.
pub(super) fn link(
    owner: Arc<dyn LinkOwner>,
    handler: HandlerId,
    restarts: bool,
) -> (Link, LinkTx) {
    let id = NEXT_LINK.fetch_add(1, Ordering::Relaxed);
    let (tx, rx) = oneshot::channel();
    let (rtx, rrx) = match restarts {
        true => {
            let (t, r) = mpsc::unbounded_channel();
            (Some(t), Some(r))
        }
        false => (None, None),
    };
    (
        Link {
            id,
            handler,
            rx: Some(rx),
            exit: None,
            restarts: rrx,
            owner: Some(owner),
        },
        LinkTx {
            id,
            tx,
            restarts: rtx,
        },
    )
}

/// What a supervising side hears of its handler: each restart in place, then why it left.
#[derive(Debug)]
#[non_exhaustive]
pub enum Notice {
    /// The handler crashed and the manager re-initialised it in place, before taking its next
    /// message. The crash says which event or call it was running.
    Restarted(Crash),
    /// The handler left the manager for good, for this reason; the link has finished.
    Exited(ExitReason),
}

/// The supervising end of a handler, untyped: awaiting it yields the handler's
/// [`ExitReason`]; dropping it before then removes the handler, whose `terminate` is told
/// [`Terminate::SupervisorGone`](crate::Terminate::SupervisorGone).
///
/// [`SupLink`] is the typed form returned by
/// [`add_sup_handler`](crate::EventManager::add_sup_handler); a `Link` arrives inside
/// [`ExitReason::Swapped`] when supervision passes to a swapped-in handler.
///
/// # Cancel safety
/// Awaited through a reference (`&mut link`, in a `tokio::select!` loop), it is cancel safe:
/// the reason stays in the link until an await returns it. Awaited by value, dropping the
/// future drops the link, which removes the handler.
#[must_use = "dropping a link removes the handler it supervises"]
pub struct Link {
    id: u64,
    handler: HandlerId,
    rx: Option<oneshot::Receiver<Box<ExitReason>>>,
    /// The reason [`try_exit`](Link::try_exit) received, kept until the link is awaited.
    exit: Option<Box<ExitReason>>,
    restarts: Option<mpsc::UnboundedReceiver<Crash>>,
    owner: Option<Arc<dyn LinkOwner>>,
}

impl Link {
    /// The next thing to hear of the handler: a restart in place, or why it left. Restarts
    /// come in the order they happened, and all of them before the exit.
    ///
    /// Awaiting the link itself skips the restarts and yields only the exit.
    ///
    /// # Cancel safety
    /// Cancel safe: a notice is taken from the link only when it is returned, so a `notice`
    /// dropped before it completes loses nothing.
    pub async fn notice(&mut self) -> Notice {
        std::future::poll_fn(|cx| {
            if let Some(restarts) = &mut self.restarts {
                if let Poll::Ready(Some(crash)) = restarts.poll_recv(cx) {
                    return Poll::Ready(Notice::Restarted(crash));
                }
            }
            Pin::new(&mut *self).poll(cx).map(Notice::Exited)
        })
        .await
    }

    /// The handler this link supervises.
    pub fn handler(&self) -> &HandlerId {
        &self.handler
    }

    /// The typed link, if the handler is of type `H`.
    pub fn typed<H: 'static>(self) -> Result<SupLink<H>, Link> {
        if self.handler.is::<H>() {
            let href = HandlerRef::<H>::from_id(self.handler.clone());
            Ok(SupLink { link: self, href })
        } else {
            Err(self)
        }
    }

    /// The exit reason if the handler has left already, without waiting. The link keeps the
    /// reason: awaiting it (or [`notice`](Link::notice)) afterwards yields it.
    pub fn try_exit(&mut self) -> Option<&ExitReason> {
        if self.exit.is_none() {
            let rx = self.rx.as_mut()?;
            let reason = match rx.try_recv() {
                Ok(r) => r,
                Err(oneshot::error::TryRecvError::Empty) => return None,
                Err(oneshot::error::TryRecvError::Closed) => Box::new(ExitReason::ManagerGone),
            };
            self.finish();
            self.exit = Some(reason);
        }
        self.exit.as_deref()
    }

    fn finish(&mut self) {
        self.rx = None;
        self.owner = None;
    }

    /// A restart in place that has happened and not been taken yet, without waiting.
    pub fn try_restarted(&mut self) -> Option<Crash> {
        self.restarts.as_mut()?.try_recv().ok()
    }
}

impl Future for Link {
    type Output = ExitReason;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<ExitReason> {
        if let Some(reason) = self.exit.take() {
            // Seen by `try_exit` already.
            return Poll::Ready(*reason);
        }
        let Some(rx) = self.rx.as_mut() else {
            // Polled again after it finished: the handler is long gone.
            return Poll::Ready(ExitReason::ManagerGone);
        };
        let reason = match Pin::new(rx).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Ok(r)) => *r,
            Poll::Ready(Err(_)) => ExitReason::ManagerGone,
        };
        self.finish();
        Poll::Ready(reason)
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        if let Some(owner) = self.owner.take() {
            owner.link_dropped(self.id, &self.handler);
        }
    }
}

/// A link is equal only to itself: each supervises one installation of a handler.
impl PartialEq for Link {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl fmt::Debug for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Link")
            .field("handler", &self.handler)
            .field("finished", &self.rx.is_none())
            .finish()
    }
}

/// The owned, typed supervising end of a handler installed with
/// [`add_sup_handler`](crate::EventManager::add_sup_handler).
///
/// Awaiting it yields why the handler left (OTP's `{gen_event_EXIT, Handler, Reason}`);
/// dropping it first is OTP's "the supervising process died": the handler is removed and its
/// `terminate` is told [`Terminate::SupervisorGone`](crate::Terminate::SupervisorGone).
///
/// ```
/// # use event_core::*;
/// # struct Audit;
/// # #[handler(event = u8)]
/// # impl Audit {
/// #     fn init() -> Self { Audit }
/// #     fn handle_event(&mut self, _: &u8) {}
/// # }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let manager = EventManager::<u8>::start()?;
/// let link = manager.add_sup_handler::<Audit>(()).await?;
/// manager.delete_handler(link.handler(), ()).await?;
/// assert_eq!(link.await, ExitReason::Normal);
/// # Ok(()) }
/// ```
///
/// # Cancel safety
/// As for [`Link`]: cancel safe awaited through a reference (`&mut link`); awaited by value,
/// dropping the future drops the link, which removes the handler.
#[must_use = "dropping a SupLink removes the handler it supervises"]
pub struct SupLink<H> {
    link: Link,
    href: HandlerRef<H>,
}

impl<H> SupLink<H> {
    pub(super) fn new(link: Link, href: HandlerRef<H>) -> Self {
        SupLink { link, href }
    }

    /// The supervised handler, for calls, deletes and swaps.
    pub fn handler(&self) -> &HandlerRef<H> {
        &self.href
    }

    /// The untyped link.
    pub fn into_link(self) -> Link {
        self.link
    }

    /// The exit reason if the handler has left already, without waiting. The link keeps the
    /// reason: awaiting it (or [`notice`](SupLink::notice)) afterwards yields it.
    pub fn try_exit(&mut self) -> Option<&ExitReason> {
        self.link.try_exit()
    }

    /// The next thing to hear of the handler: a restart in place, or why it left (see
    /// [`Link::notice`]).
    ///
    /// # Cancel safety
    /// Cancel safe, as [`Link::notice`].
    pub async fn notice(&mut self) -> Notice {
        self.link.notice().await
    }

    /// A restart in place that has happened and not been taken yet, without waiting.
    pub fn try_restarted(&mut self) -> Option<Crash> {
        self.link.try_restarted()
    }
}

impl<H> Future for SupLink<H> {
    type Output = ExitReason;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<ExitReason> {
        Pin::new(&mut self.link).poll(cx)
    }
}

impl<H> fmt::Debug for SupLink<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.link, f)
    }
}
