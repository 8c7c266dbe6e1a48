//! The manager side: one event manager is one tokio task that owns a list of handlers, and a
//! mailbox that every handle pushes to.
//!
//! - `handle`, `builder`: the public face ([`EventManager`], [`Builder`], [`PendingReply`]).
//! - `mailbox`, `message`: the queue every sender shares, and what it carries.
//! - `event_loop`: the task (running, dispatching, changing the handler list, the list itself,
//!   and the index that finds a handler in a long list).
//! - `erased`: the type erasure of handlers and of calls, one scheme.
//! - `install`: how a handler is to be installed ([`Install`]) and a handler on its way in.
//! - `context`: what a handler can do from its callbacks ([`Context`]): leave, swap itself, set
//!   timers, watch subscribers, ask for operations on its own manager.
//! - `link`, `watch`: the supervising end of a handler; what a handler can watch.
//! - `dedicated`: handlers on a task of their own, their queue and overload policies.
//! - `crash`: a crash's report and the restart in place, one implementation for inline and
//!   dedicated handlers.
//! - `supervised`: the supervised mode of a manager, the seam the supervision side uses.
//! - `sys`, `stats`, `trace`: looking inside a running manager (OTP's `sys`): a handler's
//!   status and state, the manager's statistics, its trace.
//!
//! Invariants:
//! - Only the manager's task touches the handler list; handles, contexts, links and timers only
//!   push messages to the mailbox.
//! - Messages are handled in the order they were queued. An event runs through every handler,
//!   newest first, and each handler finishes it before any handler sees the next message
//!   (a dedicated handler keeps the order, not the step).
//! - What a callback asks for (operations, its own removal or swap) is applied after the
//!   current message and before the next.
//! - A crashed handler is removed, or restarted in place, before the manager takes its next
//!   message; its supervising side learns why it left.
//! - In a long handler list a handler is found by its identity (to install, call, delete or
//!   unlink it) without looking through the others; one that leaves leaves a vacant place,
//!   which events pass through, until the list is tidied between messages.
//! - The mailbox outlives the task, so a handle is never left dangling; a supervised manager's
//!   mailbox outlives every incarnation and loses nothing to a restart, one after its own
//!   `stop` included: what is sent meanwhile waits for the next incarnation.
//! - Nothing here names `crate::supervision`: supervision is built on this side, never the
//!   reverse.

mod builder;
mod context;
mod crash;
mod dedicated;
mod erased;
mod event_loop;
mod handle;
mod install;
mod link;
mod mailbox;
mod message;
mod registry;
mod stats;
mod supervised;
mod sys;
mod timers;
mod trace;
mod watch;

pub use builder::Builder;
pub use context::{Context, Deferred, InfoGone, InfoSender, TimerRef, WatchRef};
pub use dedicated::{Overload, OverloadStats};
pub use erased::Request;
pub use handle::{Calling, EventManager, Installing, InstallingSup, NotifyPermit, PendingReply};
pub use install::Install;
pub use link::{Link, Notice, SupLink};
pub use stats::{HandlerStatistics, Statistics};
pub use trace::{Trace, TraceEntry, TraceOutcome, TracedCallback};
pub use watch::Watchable;

pub(crate) use event_loop::Ended;
pub(crate) use supervised::{Lifespan, Standing, SupervisedManager};
