//! Erlang/OTP's `gen_event` for tokio, with the sharp edges filed off.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod call;
mod callback;
mod cell;
mod context;
mod dedicated;
mod error;
mod event_loop;
mod exit;
mod handler;
mod install;
mod link;
mod mailbox;
mod manager;
mod watch;

pub use context::{Context, Deferred, InfoSender, TimerRef, WatchRef};
pub use error::{
    AddError, CallError, DeleteError, ManagerError, NotifyError, StartError, SwapError,
};
pub use exit::{Args, Cause, Crash, During, ExitReason, Terminate};
pub use handler::{BoxError, BoxFuture, Call, Handler, HandlerId, HandlerRef, Info, Key, Step};
pub use install::Install;
pub use link::{Link, SupLink};
pub use manager::{Builder, EventManager};
pub use watch::Watchable;

/// What the macros' expansions name. Not a public API: it may change in any release.
#[doc(hidden)]
pub mod __private {}
