// The guide, a file per part; its examples run as doc tests.
#![doc = include_str!("guide/0-overview.md")]
#![doc = include_str!("guide/1-first-example.md")]
#![doc = include_str!("guide/2-handlers.md")]
#![doc = include_str!("guide/3-supervision.md")]
#![doc = include_str!("guide/4-supervision-trees.md")]
#![doc = include_str!("guide/5-crashes.md")]
#![doc = include_str!("guide/6-sharp-edges.md")]
#![doc = include_str!("guide/7-otp-to-event-core.md")]
#![doc = include_str!("guide/8-runtime-notes.md")]
#![doc = include_str!("guide/9-observing.md")]
#![warn(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod callback;
mod error;
mod exit;
mod handler;
mod intensity;
mod macro_support;
mod manager;
mod observe;
mod supervision;

pub use error::{
    AddError, CallError, DeleteError, ManagerError, NotifyError, StartError, SwapError,
};
pub use exit::{Args, Cause, Crash, During, ExitReason, Terminate};
pub use handler::{BoxError, BoxFuture, Call, Handler, HandlerId, HandlerRef, Info, Key, Step};
pub use intensity::Intensity;
pub use manager::{
    Builder, Calling, Context, Deferred, EventManager, HandlerStatistics, InfoGone, InfoSender,
    Install, Installing, InstallingSup, Link, Notice, NotifyPermit, Overload, OverloadStats,
    PendingReply, Request, Statistics, SupLink, TimerRef, Trace, TraceEntry, TraceOutcome,
    TracedCallback, WatchRef, Watchable,
};
pub use supervision::{
    AutoShutdown, Backoff, ChildCount, ChildEvent, ChildEvents, ChildExit, ChildInfo, ChildKind,
    ChildRef, ChildSnapshot, ChildSpec, ChildSpecView, ChildState, Fatal, Guard, GuardChild,
    GuardError, Inside, InstallError, IntoChild, ManagerChild, ManagerSnapshot, Restart, Shutdown,
    Start, StopToken, Strategy, Supervisor, SupervisorBuilder, SupervisorError, SupervisorExit,
    SupervisorSnapshot,
};

pub use macro_support::Outcome;

#[cfg(feature = "macros")]
#[cfg_attr(docsrs, doc(cfg(feature = "macros")))]
#[doc(inline)]
pub use event_macros::handler;
#[cfg(feature = "macros")]
#[cfg_attr(docsrs, doc(cfg(feature = "macros")))]
#[doc(inline)]
pub use event_macros::supervisor;

// The crate's README (its crates.io page) is checked as the guide is: its examples run.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;

/// What the macros' expansions name. Not a public API: it may change in any release.
///
/// Named after this crate's version, as the macros name it after theirs: event-core depends on
/// event-macros at exactly its own version, and a macro crate of another version would name a
/// module that is not here rather than items that are shaped otherwise.
#[doc(hidden)]
pub mod __private_0_1_0 {
    pub use crate::macro_support::{
        assert_handler, child, guard, guard_template, manager, standing, start_guard, task,
        ChildHandle, GuardArgs, NoArgs, Outcome, Redacted, Status, StatusProbe, ViaDefault,
        ViaStatus,
    };
    pub use crate::{
        AutoShutdown, Backoff, BoxError, Call, ChildRef, ChildSpec, Context, EventManager,
        GuardChild, Handler, HandlerRef, Info, Install, Intensity, IntoChild, Key, Restart,
        Shutdown, Step, StopToken, Strategy, Supervisor, SupervisorBuilder, SupervisorError,
        Terminate,
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

/// Whether two byte strings are equal, at compile time.
const fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

// A version bump renames the hidden module; this says so at the build that forgets it.
const _: () = assert!(
    same(env!("CARGO_PKG_VERSION").as_bytes(), b"0.1.0"),
    "the crate's version changed: rename `__private_0_1_0` after it (the macros name it so)"
);
