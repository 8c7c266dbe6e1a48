//! Why a handler leaves: what its `terminate` is told, what its supervising side is told, and
//! the crash report that says which event or call was running.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use crate::callback::Owned;
use crate::handler::{BoxError, HandlerId};
use crate::manager::Link;

/// Arguments passed along with a delete or a swap to the leaving handler's `terminate`
/// (OTP's `Args` of `delete_handler/3` and `Args1` of `swap_handler/3`).
///
/// OTP passes any term; here any `Send` value is wrapped and the handler takes it back out with
/// [`downcast`](Args::downcast). Most code passes `()`.
///
/// ```
/// use event_core::Args;
/// let args = Args::new("rotate");
/// assert_eq!(args.downcast_ref::<&str>(), Some(&"rotate"));
/// assert!(args.downcast_ref::<u32>().is_none());
/// ```
pub struct Args(Owned<Box<dyn Any + Send>>);

impl Args {
    /// Wraps a value.
    pub fn new<T: Any + Send>(value: T) -> Self {
        Args(Owned::new(Box::new(value)))
    }

    /// Whether the value is `()`, i.e. no arguments were given.
    pub fn is_empty(&self) -> bool {
        self.0.is::<()>()
    }

    /// The value, if it is a `T`.
    pub fn downcast_ref<T: Any>(&self) -> Option<&T> {
        self.0.downcast_ref()
    }

    /// Takes the value out, if it is a `T`; gives the arguments back otherwise.
    pub fn downcast<T: Any>(self) -> Result<T, Args> {
        match self.0.is::<T>() {
            true => self
                .0
                .into_inner()
                .downcast()
                .map(|b| *b)
                .map_err(|b| Args(Owned::new(b))),
            false => Err(self),
        }
    }
}

/// Two `Args` are equal when both are `()` (no arguments given), and never otherwise: the
/// value inside is any type, which may not be comparable. So `Terminate::Deleted(Args::new(()))`
/// compares equal to itself, and one holding a value compares equal to nothing, as a NaN does.
/// To compare the value, [`downcast_ref`](Args::downcast_ref) it.
impl PartialEq for Args {
    fn eq(&self, other: &Self) -> bool {
        self.is_empty() && other.is_empty()
    }
}

impl fmt::Debug for Args {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            f.write_str("Args(())")
        } else {
            f.write_str("Args(..)")
        }
    }
}

/// What a leaving handler's [`terminate`](crate::Handler::terminate) is told.
///
/// | cause | `Terminate` | the supervising side gets ([`ExitReason`]) |
/// |---|---|---|
/// | deleted through the API | [`Deleted`](Terminate::Deleted) with the delete's args | [`Normal`](ExitReason::Normal) |
/// | removed itself | [`Removed`](Terminate::Removed) | [`Normal`](ExitReason::Normal) |
/// | panicked or returned an error | [`Crashed`](Terminate::Crashed) | [`Crashed`](ExitReason::Crashed), with the event or call that was running |
/// | swapped out | [`Swapped`](Terminate::Swapped) with the swap's args | [`Swapped`](ExitReason::Swapped), to which handler |
/// | its supervising link was dropped | [`SupervisorGone`](Terminate::SupervisorGone) | nobody: nobody is left to tell |
/// | the manager stops | [`Stop`](Terminate::Stop) | [`Shutdown`](ExitReason::Shutdown) |
/// | a dedicated handler fell behind ([`Overload::Remove`](crate::Overload::Remove)) | [`Overloaded`](Terminate::Overloaded) | [`Overloaded`](ExitReason::Overloaded) |
///
/// `Terminate` is `PartialEq` for tests: the [`Args`] of `Deleted` and `Swapped` compare equal
/// only when both are `()` (see [`Args`]), a crash as [`Crash`] does.
#[derive(Debug, PartialEq)]
#[non_exhaustive]
pub enum Terminate {
    /// Deleted with [`delete_handler`](crate::EventManager::delete_handler); the args given.
    Deleted(Args),
    /// The handler removed itself ([`Context::remove_self`](crate::Context::remove_self)).
    Removed,
    /// A callback panicked or returned an error.
    Crashed(Crash),
    /// Swapped out for another handler; the args given to the swap.
    Swapped {
        /// The handler that takes its place.
        to: HandlerId,
        /// The args given for the leaving handler.
        args: Args,
    },
    /// The [`SupLink`](crate::SupLink) that supervised it was dropped.
    SupervisorGone,
    /// The manager is stopping.
    Stop,
    /// A dedicated handler with the [`Overload::Remove`](crate::Overload::Remove) policy fell
    /// behind: its queue was full when an event arrived.
    Overloaded {
        /// The capacity of its queue.
        capacity: usize,
    },
}

impl fmt::Display for Terminate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Terminate::Deleted(_) => f.write_str("deleted"),
            Terminate::Removed => f.write_str("removed itself"),
            Terminate::Crashed(c) => write!(f, "crashed: {c}"),
            Terminate::Swapped { to, .. } => write!(f, "swapped for {to}"),
            Terminate::SupervisorGone => f.write_str("its supervisor is gone"),
            Terminate::Stop => f.write_str("the manager is stopping"),
            Terminate::Overloaded { capacity } => {
                write!(f, "it fell behind: its queue of {capacity} was full")
            }
        }
    }
}

/// Why a supervised handler left, as its [`SupLink`](crate::SupLink) reports it (OTP's
/// `{gen_event_EXIT, Handler, Reason}`).
///
/// `ExitReason` is `PartialEq` for tests, `assert_eq!(link.await, ExitReason::Normal)`: a crash
/// compares as [`Crash`] does, and the `link` of `Swapped` is equal only to itself (a link is
/// unique), so `Swapped { to, link: None }` compares by `to`.
#[derive(Debug, PartialEq)]
#[non_exhaustive]
pub enum ExitReason {
    /// Deleted through the API, or removed itself.
    Normal,
    /// A callback panicked or returned an error; the report says which event or call was
    /// running.
    Crashed(Crash),
    /// Swapped out for another handler.
    Swapped {
        /// The handler that took its place.
        to: HandlerId,
        /// When the new handler inherited this supervision (a swap made from inside a callback,
        /// or [`swap_handler`](crate::EventManager::swap_handler)), the link that now
        /// supervises it; keep it to keep supervising, drop it to remove the new handler.
        /// `None` after [`swap_sup_handler`](crate::EventManager::swap_sup_handler), whose
        /// caller supervises the new handler.
        link: Option<Link>,
    },
    /// The manager stopped.
    Shutdown,
    /// The manager ended without saying why: its task was aborted or its runtime shut down.
    ManagerGone,
    /// The manager's supervisor restarted it: the handler was terminated with
    /// [`Terminate::Stop`] and is not in the new incarnation. A
    /// [`Guard`](crate::Guard) re-installs it there.
    ManagerRestarted,
    /// A dedicated handler with the [`Overload::Remove`](crate::Overload::Remove) policy fell
    /// behind and was removed: its queue was full when an event arrived. A
    /// [`Guard`](crate::Guard) re-installs it, as lager's overload killer does.
    Overloaded {
        /// The capacity of its queue.
        capacity: usize,
    },
}

impl ExitReason {
    /// Whether this is [`Normal`](ExitReason::Normal) or [`Shutdown`](ExitReason::Shutdown):
    /// the reasons on which a guard stops instead of re-installing.
    pub fn is_normal_or_shutdown(&self) -> bool {
        matches!(self, ExitReason::Normal | ExitReason::Shutdown)
    }

    /// The crash report, if the handler crashed.
    pub fn crash(&self) -> Option<&Crash> {
        match self {
            ExitReason::Crashed(c) => Some(c),
            _ => None,
        }
    }
}

impl fmt::Display for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitReason::Normal => f.write_str("normal"),
            ExitReason::Crashed(c) => write!(f, "crashed: {c}"),
            ExitReason::Swapped { to, .. } => write!(f, "swapped for {to}"),
            ExitReason::Shutdown => f.write_str("shutdown"),
            ExitReason::ManagerGone => f.write_str("the manager is gone"),
            ExitReason::ManagerRestarted => f.write_str("the manager was restarted"),
            ExitReason::Overloaded { capacity } => {
                write!(f, "overloaded: its queue of {capacity} was full")
            }
        }
    }
}

/// A crash report: which handler failed, how, and while doing what.
///
/// Two reports are equal when they name the same handler, cause and what it was doing (see
/// [`Cause`] for how causes compare).
#[derive(Clone, Debug, PartialEq)]
pub struct Crash {
    pub(crate) handler: HandlerId,
    pub(crate) cause: Cause,
    pub(crate) during: During,
}

impl Crash {
    /// The handler that crashed.
    pub fn handler(&self) -> &HandlerId {
        &self.handler
    }

    /// How it failed.
    pub fn cause(&self) -> &Cause {
        &self.cause
    }

    /// What it was doing.
    pub fn during(&self) -> &During {
        &self.during
    }
}

impl fmt::Display for Crash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "handler {} {} {}", self.handler, self.cause, self.during)
    }
}

impl std::error::Error for Crash {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.cause {
            Cause::Error(e) => Some(&**e),
            Cause::Panic(_) => None,
        }
    }
}

/// How a callback failed.
///
/// Causes compare for tests: two panics by their messages; two errors by their messages too
/// (their `Display`), as the error is a `dyn Error` whose type may not be comparable and which
/// cannot be downcast to compare without knowing it. Two errors of different types that read
/// the same are therefore equal; to tell them apart, downcast the error
/// (`downcast_ref` on `dyn Error`) and compare the values.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Cause {
    /// It panicked, with this message.
    Panic(Arc<str>),
    /// It returned this error.
    Error(Arc<dyn std::error::Error + Send + Sync + 'static>),
}

impl PartialEq for Cause {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Cause::Panic(a), Cause::Panic(b)) => a == b,
            (Cause::Error(a), Cause::Error(b)) => {
                Arc::ptr_eq(a, b) || a.to_string() == b.to_string()
            }
            _ => false,
        }
    }
}

impl Cause {
    /// The cause of a panic, from its payload (which is dropped: a payload whose own `Drop`
    /// panics is leaked instead).
    pub(crate) fn from_panic(payload: Box<dyn Any + Send>) -> Self {
        let msg: Arc<str> = if let Some(s) = payload.downcast_ref::<&'static str>() {
            (*s).into()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.as_str().into()
        } else {
            "(a panic with a non-string payload)".into()
        };
        drop_payload(payload);
        Cause::Panic(msg)
    }

    pub(crate) fn from_error(e: BoxError) -> Self {
        Cause::Error(e.into())
    }

    /// The panic message, if it panicked.
    pub fn panic_message(&self) -> Option<&str> {
        match self {
            Cause::Panic(m) => Some(m),
            Cause::Error(_) => None,
        }
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::Panic(m) => write!(f, "panicked ({m})"),
            Cause::Error(e) => write!(f, "failed ({e})"),
        }
    }
}

/// What a handler was doing when it crashed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum During {
    /// Its `init`.
    Init,
    /// Handling an event.
    Event {
        /// The event's sequence number in its manager: the first event is 1.
        seq: u64,
        /// The event's `Debug` form, when the manager was started with one
        /// ([`Builder::debug_events`](crate::Builder::debug_events)).
        event: Option<String>,
    },
    /// Answering a call.
    Call {
        /// The request's type.
        request: &'static str,
    },
    /// Handling one of its own messages.
    Info,
    /// Its `terminate`.
    Terminate,
    /// On a dedicated handler's task, outside its callbacks: the task failed around them.
    Task,
}

impl fmt::Display for During {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            During::Init => f.write_str("in init"),
            During::Event { seq, event: None } => write!(f, "handling event #{seq}"),
            During::Event {
                seq,
                event: Some(e),
            } => write!(f, "handling event #{seq}: {e}"),
            During::Call { request } => write!(
                f,
                "answering a call ({})",
                crate::handler::short_type_name(request)
            ),
            During::Info => f.write_str("handling an info message"),
            During::Terminate => f.write_str("in terminate"),
            During::Task => f.write_str("on its task, outside its callbacks"),
        }
    }
}

/// Drops a panic's payload; one whose `Drop` panics in turn is leaked (with the payload of
/// that second panic), never unwound into the runtime.
fn drop_payload(payload: Box<dyn Any + Send>) {
    let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(payload)));
    if let Err(again) = dropped {
        std::mem::forget(again);
    }
}
