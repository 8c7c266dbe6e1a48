#![doc = include_str!("guide.md")]
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod callback;
mod error;
mod exit;
mod handler;
mod intensity;
mod macro_support;
mod manager;
mod supervision;

pub use error::{
    AddError, CallError, DeleteError, ManagerError, NotifyError, StartError, SwapError,
};
pub use exit::{Args, Cause, Crash, During, ExitReason, Terminate};
pub use handler::{BoxError, BoxFuture, Call, Handler, HandlerId, HandlerRef, Info, Key, Step};
pub use intensity::Intensity;
pub use manager::{
    Builder, Context, Deferred, EventManager, InfoSender, Install, Link, Notice, Overload,
    OverloadStats, PendingReply, SupLink, TimerRef, WatchRef, Watchable,
};
pub use supervision::{
    AutoShutdown, Backoff, ChildCount, ChildExit, ChildInfo, ChildKind, ChildRef, ChildSpec,
    ChildState, Fatal, Guard, GuardError, InstallError, ManagerChild, Restart, Shutdown, Start,
    StopToken, Strategy, Supervisor, SupervisorBuilder, SupervisorError,
};

#[cfg(feature = "macros")]
#[doc(inline)]
pub use event_macros::handler;
#[cfg(feature = "macros")]
#[doc(inline)]
pub use event_macros::supervisor;

/// What the macros' expansions name. Not a public API: it may change in any release.
#[doc(hidden)]
pub mod __private_0_1_0 {
    pub use crate::macro_support::{
        assert_handler, guard, guard_template, manager, start_guard, GuardArgs, NoArgs, Outcome,
        Redacted, Status, StatusProbe, ViaDefault, ViaStatus,
    };
    pub use crate::{
        AutoShutdown, Backoff, BoxError, Call, ChildRef, ChildSpec, Context, EventManager, Handler,
        HandlerRef, Info, Install, Intensity, Key, Restart, Shutdown, Step, StopToken, Strategy,
        Supervisor, SupervisorBuilder, SupervisorError, Terminate,
    };
    pub use ::core::default::Default;
    pub use ::core::fmt;
    pub use ::core::marker::{Send, Sync};
    pub use ::core::option::Option::{None, Some};
    pub use ::core::result::Result::{self, Ok};
    pub use ::core::time::Duration;
    pub use ::core::unreachable;
    pub use ::std::sync::Arc;
}
