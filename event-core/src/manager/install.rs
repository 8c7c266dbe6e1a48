//! How a handler is to be installed: its identity (type and key) and whether it runs inline
//! or on a task of its own.

use std::any::Any;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::context::Context;
use super::crash::InPlace;
use super::dedicated::{Overload, OverloadSpec, OverloadStats};
use super::erased::{ErasedHandler, HandlerCell};
use super::mailbox::Mailbox;
use crate::callback::{self, Owned};
use crate::handler::{Handler, HandlerId, HandlerRef, Key};

/// How to install a handler of type `H`: its key, and whether it runs inline in the manager's
/// task (the default, OTP's way) or [`dedicated`](Install::dedicated) on a task of its own.
///
/// A [`HandlerRef`] converts into an `Install`, so anything that takes `impl Into<Install<H>>`
/// also takes a handler reference.
///
/// ```
/// use event_core::Install;
/// # struct FileLogger;
/// let spec = Install::<FileLogger>::new().key("error.log").dedicated(256);
/// assert_eq!(spec.handler_ref().id().to_string(), "FileLogger(\"error.log\")");
/// ```
pub struct Install<H> {
    href: HandlerRef<H>,
    dedicated: Option<usize>,
    overload: OverloadSpec,
}

impl<H: Any> Install<H> {
    /// An inline handler of type `H` without a key.
    pub fn new() -> Self {
        Install {
            href: HandlerRef::new(),
            dedicated: None,
            overload: OverloadSpec::default(),
        }
    }
}

impl<H: Any> Default for Install<H> {
    fn default() -> Self {
        Self::new()
    }
}

impl<H> Install<H> {
    /// Gives the handler a key, so several handlers of type `H` can be installed side by side.
    pub fn key(mut self, key: impl Into<Key>) -> Self
    where
        H: Any,
    {
        self.href = HandlerRef::with_key(key);
        self
    }

    /// Runs the handler on a task of its own, fed through a queue of `capacity` messages, so
    /// a slow handler does not delay the others. Its code does not change: calls, removal,
    /// swaps, exit reasons and supervision behave as for an inline handler. When its queue is
    /// full the manager waits for room, so the handler still cannot fall behind without bound
    /// (unless an [`overload`](Install::overload) policy drops events instead).
    ///
    /// A dedicated handler sees every event in order, but no longer in step with the others:
    /// it may still be handling event N when the inline handlers take N+1. `sync_notify` still
    /// returns only after it has handled the event. For the same reason, a swap it asks for
    /// from a callback ([`Context::swap_self`](crate::Context::swap_self)) takes effect when
    /// the manager gets to it: what was queued for the handler by then, it still handles
    /// before its `terminate`, so its successor gets it through the hand-over.
    ///
    /// To drop events, or the handler, rather than wait when its queue is full, give it an
    /// [`overload`](Install::overload) policy.
    pub fn dedicated(mut self, capacity: usize) -> Self {
        self.dedicated = Some(capacity);
        self.overload.stats();
        self
    }

    /// What a dedicated handler does with an event that finds its queue full (see
    /// [`Overload`]); the default is to wait for room. Each drop and removal is logged as a
    /// `tracing` warning and counted in [`overload_stats`](Install::overload_stats). It has no
    /// effect on an inline handler, which has no queue of its own.
    ///
    /// ```
    /// use event_core::{Install, Overload};
    /// # struct Shipper;
    /// let spec = Install::<Shipper>::new().dedicated(256).overload(Overload::DropNewest);
    /// assert_eq!(spec.overload_stats().dropped(), 0);
    /// ```
    pub fn overload(mut self, policy: Overload) -> Self {
        self.overload.policy = policy;
        self.overload.stats();
        self
    }

    /// The counts of what the overload policy of the handlers installed from this install
    /// (and its clones) has dropped and removed. An inline install's counts stay at zero.
    pub fn overload_stats(&self) -> OverloadStats {
        self.overload.stats.clone().unwrap_or_default()
    }

    /// The reference to the handler this installs.
    pub fn handler_ref(&self) -> &HandlerRef<H> {
        &self.href
    }
}

impl<H> Clone for Install<H> {
    fn clone(&self) -> Self {
        Install {
            href: self.href.clone(),
            dedicated: self.dedicated,
            overload: self.overload.clone(),
        }
    }
}

impl<H> From<HandlerRef<H>> for Install<H> {
    fn from(href: HandlerRef<H>) -> Self {
        Install {
            href,
            dedicated: None,
            overload: OverloadSpec::default(),
        }
    }
}

impl<H> fmt::Debug for Install<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Install")
            .field("handler", self.href.id())
            .field("dedicated", &self.dedicated)
            .field("overload", &self.overload.policy)
            .finish()
    }
}

static NEXT_HANDLER: AtomicU64 = AtomicU64::new(1);

/// Builds a new handler's init args from the hand-over of the one it replaces.
type FromHandover = Box<dyn FnOnce(Option<Box<dyn Any + Send>>) -> Box<dyn Any + Send> + Send>;

/// Where a new handler's init args come from.
enum ArgSource {
    Given(Owned<Box<dyn Any + Send>>),
    /// Built from the hand-over of the handler it replaces (`None` when there was none).
    FromHandover(Owned<FromHandover>),
    /// Taken already.
    Taken,
}

/// A handler on its way in, its types erased: an empty cell ready for `init`, with what the
/// manager needs to install it.
pub(super) struct NewHandler<E: 'static> {
    pub(super) id: HandlerId,
    pub(super) uid: u64,
    pub(super) cell: Box<dyn ErasedHandler<E>>,
    args: ArgSource,
    /// The capacity of its queue, if it is dedicated.
    pub(super) dedicated: Option<usize>,
    /// A dedicated handler's overload policy.
    pub(super) overload: OverloadSpec,
    /// Set for a handler the manager restarts in place after a crash.
    pub(super) restart: Option<Box<InPlace>>,
}

impl<E: 'static> NewHandler<E> {
    /// The init args, given the hand-over of the handler being replaced, if any. Building them
    /// from a hand-over is user code: the caller catches its panic.
    pub(super) fn take_args(
        &mut self,
        handover: Option<Box<dyn Any + Send>>,
    ) -> Box<dyn Any + Send> {
        match std::mem::replace(&mut self.args, ArgSource::Taken) {
            ArgSource::FromHandover(make) => (make.into_inner())(handover),
            source => {
                // A hand-over nobody takes is the old handler's value: dropped under a guard.
                callback::drop_caught(handover);
                match source {
                    ArgSource::Given(a) => a.into_inner(),
                    _ => Box::new(()),
                }
            }
        }
    }
}

impl<H> Install<H> {
    fn erase<E>(self, mailbox: Arc<Mailbox<E>>, args: ArgSource) -> NewHandler<E>
    where
        E: Send + Sync + 'static,
        H: Handler<E>,
    {
        let uid = NEXT_HANDLER.fetch_add(1, Ordering::Relaxed);
        NewHandler {
            id: self.href.id().clone(),
            uid,
            cell: Box::new(HandlerCell::<E, H>::new(Context::new(mailbox, uid))),
            args,
            dedicated: self.dedicated,
            overload: self.overload,
            restart: None,
        }
    }

    /// The handler this installs, with its args, restarted in place after a crash if
    /// `restart` says so.
    pub(super) fn new_handler<E>(
        self,
        mailbox: Arc<Mailbox<E>>,
        args: H::Args,
        restart: Option<Box<InPlace>>,
    ) -> NewHandler<E>
    where
        E: Send + Sync + 'static,
        H: Handler<E>,
    {
        let mut new = self.erase(mailbox, ArgSource::Given(Owned::new(Box::new(args))));
        new.restart = restart;
        new
    }

    /// The handler this installs in the place of one of type `Old`, with args made from the
    /// old one's hand-over.
    pub(super) fn successor<Old, E>(
        self,
        mailbox: Arc<Mailbox<E>>,
        make_args: impl FnOnce(Option<Old::Handover>) -> H::Args + Send + 'static,
    ) -> NewHandler<E>
    where
        E: Send + Sync + 'static,
        H: Handler<E>,
        Old: Handler<E>,
    {
        let make = move |handover: Option<Box<dyn Any + Send>>| -> Box<dyn Any + Send> {
            let handover = handover
                .and_then(|h| h.downcast::<Old::Handover>().ok())
                .map(|h| *h);
            Box::new(make_args(handover))
        };
        self.erase(mailbox, ArgSource::FromHandover(Owned::new(Box::new(make))))
    }
}
