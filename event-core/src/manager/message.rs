//! What a manager's mailbox carries: events, calls, administrative operations and the notices
//! the runtime sends itself.

use std::any::Any;

use tokio::sync::oneshot;

use super::dedicated::Report;
use super::erased::ErasedCall;
use super::install::NewHandler;
use super::link::Link;
use super::stats::StatsReply;
use super::trace::Tracer;
use crate::callback::Owned;
use crate::error::{AddError, DeleteError, SwapError};
use crate::exit::Args;
use crate::handler::HandlerId;

/// One message in a manager's mailbox.
pub(super) enum Msg<E: 'static> {
    /// An event; the user's value is dropped under a guard, wherever it is dropped.
    Event(Owned<E>),
    SyncEvent(Owned<E>, oneshot::Sender<()>),
    Call(Box<dyn ErasedCall<E>>),
    Op(Box<Op<E>>),
    /// Operations a dedicated handler asked for from a callback.
    Deferred(Vec<Op<E>>),
    Info {
        uid: u64,
        timer: Option<u64>,
        payload: Owned<Box<dyn Any + Send>>,
    },
    Down {
        uid: u64,
        watch: u64,
    },
    /// A supervising link was dropped: its id, and the hash of its handler's identity (where
    /// a long handler list's index files it).
    LinkDropped {
        link: u64,
        handler: u64,
    },
    Dedicated {
        uid: u64,
        report: Box<Report<E>>,
    },
}

/// An administrative request.
pub(super) enum Op<E: 'static> {
    Add {
        new: NewHandler<E>,
        reply: Reply<AddError>,
    },
    Delete {
        id: HandlerId,
        args: Args,
        reply: oneshot::Sender<Result<Box<dyn Any + Send>, DeleteError>>,
    },
    Swap {
        old: HandlerId,
        args: Args,
        new: NewHandler<E>,
        reply: Reply<SwapError>,
    },
    Which(oneshot::Sender<Vec<HandlerId>>),
    /// The manager's statistics.
    Statistics(StatsReply),
    /// Collecting each handler's statistics on or off.
    CollectStatistics(bool, oneshot::Sender<()>),
    /// Tracing on, to this tracer.
    Trace(Tracer, oneshot::Sender<()>),
    Stop(oneshot::Sender<()>),
    /// A supervisor ends this incarnation (see `supervised`): what was queued before is
    /// handled, the rest stays in the mailbox for the next one.
    Halt {
        restarting: bool,
        reply: oneshot::Sender<()>,
    },
}

/// Where an install or a swap answers, which says what it returns: nothing for a plain one, the
/// supervising link for a supervised one. If the caller is gone, a link is dropped with the
/// reply, which removes the handler again: its supervisor is gone.
pub(super) enum Reply<Er> {
    Plain(oneshot::Sender<Result<(), Er>>),
    Linked(oneshot::Sender<Result<Link, Er>>),
}
