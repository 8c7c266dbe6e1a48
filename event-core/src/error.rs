//! The errors of the manager's operations, one enum per family of operation.

use std::fmt;

use crate::exit::Crash;
use crate::handler::HandlerId;

const DEADLOCK: &str = "a handler called a blocking operation of its own manager, which would \
     wait for itself forever; use the deferred form on its Context instead";

/// Why an event could not be sent. The event comes back with the error.
#[derive(PartialEq, Eq)]
pub enum NotifyError<E> {
    /// The manager has stopped.
    ManagerGone(E),
    /// The manager's mailbox is bounded and full ([`try_notify`](crate::EventManager::try_notify)).
    Full(E),
    /// A handler sent an event into its own manager's full bounded mailbox with
    /// [`notify`](crate::EventManager::notify): waiting for room would never end, as the
    /// manager is busy running that handler.
    WouldDeadlock(E),
}

impl<E> NotifyError<E> {
    /// The event that was not sent.
    pub fn into_inner(self) -> E {
        match self {
            NotifyError::ManagerGone(e) | NotifyError::Full(e) | NotifyError::WouldDeadlock(e) => e,
        }
    }
}

impl<E> fmt::Display for NotifyError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotifyError::ManagerGone(_) => f.write_str("the event manager has stopped"),
            NotifyError::Full(_) => f.write_str("the event manager's mailbox is full"),
            NotifyError::WouldDeadlock(_) => f.write_str(DEADLOCK),
        }
    }
}

impl<E> fmt::Debug for NotifyError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            NotifyError::ManagerGone(_) => "ManagerGone",
            NotifyError::Full(_) => "Full",
            NotifyError::WouldDeadlock(_) => "WouldDeadlock",
        };
        write!(f, "NotifyError::{name}(..)")
    }
}

impl<E> std::error::Error for NotifyError<E> {}

/// Why a [`call`](crate::EventManager::call) got no reply.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// The manager has stopped.
    #[error("the event manager has stopped")]
    ManagerGone,
    /// No handler of this identity is installed (OTP's `bad_module`).
    #[error("handler {0} is not installed")]
    NotInstalled(HandlerId),
    /// The handler crashed while answering; it has been removed (OTP's `{error, {'EXIT', R}}`).
    #[error("{0}")]
    Crashed(Crash),
    /// A handler called its own manager, which would wait for itself forever.
    #[error("{DEADLOCK}")]
    WouldDeadlock,
}

/// Why a handler could not be installed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AddError {
    /// The manager has stopped.
    #[error("the event manager has stopped")]
    ManagerGone,
    /// A handler of this identity is installed already; give the new one another key.
    #[error("handler {0} is already installed; install it with another key to have both")]
    AlreadyInstalled(HandlerId),
    /// The handler's `init` failed; nothing was installed.
    #[error("{0}")]
    InitFailed(Crash),
    /// A dedicated handler was asked for with a queue of capacity zero.
    #[error("handler {0} was asked to run dedicated with a queue of capacity 0; give it room for at least one message")]
    ZeroCapacity(HandlerId),
    /// An in-place restart policy was given a period of zero, over which no restart could be
    /// counted.
    #[error("handler {0} was given an in-place restart intensity with a period of zero; restarts are counted over a period, give it one")]
    ZeroPeriod(HandlerId),
    /// A handler called its own manager, which would wait for itself forever.
    #[error("{DEADLOCK}")]
    WouldDeadlock,
}

/// Why a [`delete_handler`](crate::EventManager::delete_handler) failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DeleteError {
    /// The manager has stopped.
    #[error("the event manager has stopped")]
    ManagerGone,
    /// No handler of this identity is installed (OTP's `{error, module_not_found}`).
    #[error("handler {0} is not installed")]
    NotInstalled(HandlerId),
    /// The handler was removed, but its `terminate` crashed, so there is nothing to return.
    #[error("{0}")]
    TerminateFailed(Crash),
    /// A handler called its own manager, which would wait for itself forever.
    #[error("{DEADLOCK}")]
    WouldDeadlock,
}

/// Why a swap failed. After [`InitFailed`](SwapError::InitFailed) the old handler is gone, as
/// in OTP; the other errors are found before anything is done, so the old handler stays.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SwapError {
    /// The manager has stopped.
    #[error("the event manager has stopped")]
    ManagerGone,
    /// The new handler's identity is installed already (and is not the one being swapped out).
    #[error("handler {0} is already installed")]
    AlreadyInstalled(HandlerId),
    /// The new handler's `init` failed; the old handler is gone.
    #[error("{0}")]
    InitFailed(Crash),
    /// A dedicated handler was asked for with a queue of capacity zero.
    #[error("handler {0} was asked to run dedicated with a queue of capacity 0")]
    ZeroCapacity(HandlerId),
    /// A handler called its own manager, which would wait for itself forever.
    #[error("{DEADLOCK}")]
    WouldDeadlock,
}

/// Why an operation that only needs the manager alive (`sync_notify`, `which_handlers`,
/// `stop`) failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ManagerError {
    /// The manager has stopped.
    #[error("the event manager has stopped")]
    ManagerGone,
    /// A handler called its own manager, which would wait for itself forever.
    #[error("{DEADLOCK}")]
    WouldDeadlock,
}

/// Why a manager could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// There is no tokio runtime on this thread to run the manager.
    #[error("an event manager runs on tokio: start it from within a tokio runtime")]
    NoRuntime,
    /// A bounded mailbox of capacity zero could never accept an event.
    #[error("a bounded mailbox needs room for at least one event")]
    ZeroCapacity,
    /// A bounded mailbox larger than [`Builder::MAX_BOUND`](crate::Builder::MAX_BOUND).
    #[error("a bounded mailbox holds at most {max} events ({requested} asked for); leave it unbounded for more")]
    CapacityTooLarge {
        /// The capacity asked for.
        requested: usize,
        /// The largest capacity taken.
        max: usize,
    },
}

/// The failures every request to a manager can meet; implemented by each error family so the
/// request path is written once.
pub(crate) trait RequestError {
    fn manager_gone() -> Self;
    fn would_deadlock() -> Self;
}

macro_rules! request_error {
    ($($t:ty),*) => {$(
        impl RequestError for $t {
            fn manager_gone() -> Self { Self::ManagerGone }
            fn would_deadlock() -> Self { Self::WouldDeadlock }
        }
    )*};
}
request_error!(CallError, AddError, DeleteError, SwapError, ManagerError);
