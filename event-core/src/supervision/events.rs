//! What a supervisor tells of its children as they come and go ([`ChildEvent`], read through
//! [`ChildEvents`]), and why a supervisor ended ([`SupervisorExit`]).
//!
//! The events go through one bounded broadcast channel per supervisor, made at the first
//! subscription: a supervisor nobody watches builds no event and keeps nothing per child for
//! them, and a slow reader never slows the supervisor down: it misses the oldest events, and is
//! told how many ([`ChildEvent::Missed`]).

use std::fmt;
use std::sync::Arc;

use tokio::sync::broadcast;

use super::child::ChildExit;
use super::supervisor::ChildRef;
use crate::exit::Cause;

/// Why a supervisor ended: [`Supervisor::stopped`](crate::Supervisor::stopped) returns it, and
/// [`ChildEvent::Ended`] carries it for each incarnation of a nested supervisor.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum SupervisorExit {
    /// It was stopped through [`Supervisor::stop`](crate::Supervisor::stop). Its parent, if
    /// it has one, sees a normal end.
    Stopped,
    /// Its parent shut it down: the parent's own shutdown, a strategy's restart of its
    /// siblings, or a `terminate_child`.
    Shutdown,
    /// It gave up: restarting `child`, which ended with `exit`, would have passed its restart
    /// intensity (OTP's `reached_max_restart_intensity`). Its parent sees a shutdown, as in OTP.
    Intensity {
        /// The child whose end tipped it.
        child: ChildRef,
        /// How that child ended (or how its last restart failed).
        exit: ChildExit,
    },
    /// A significant child ended and was not restarted, and its
    /// [`AutoShutdown`](crate::AutoShutdown) says to shut down.
    Significant {
        /// The significant child.
        child: ChildRef,
        /// How it ended.
        exit: ChildExit,
    },
    /// A child failed to start as the supervisor started (a nested supervisor's start; a top
    /// one's [`start`](crate::SupervisorBuilder::start) returns the error instead).
    FailedToStart {
        /// The child.
        child: ChildRef,
        /// Why.
        reason: Cause,
    },
    /// Its task was aborted without a shutdown: its parent killed it (a brutal kill or a
    /// shutdown timeout that ran out) or its runtime shut down.
    Killed,
}

impl fmt::Display for SupervisorExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SupervisorExit::Stopped => f.write_str("stopped"),
            SupervisorExit::Shutdown => f.write_str("shut down by its parent"),
            SupervisorExit::Intensity { child, exit } => write!(
                f,
                "gave up past its restart intensity when child {child} ended: {exit}"
            ),
            SupervisorExit::Significant { child, exit } => {
                write!(f, "shut down as significant child {child} ended: {exit}")
            }
            SupervisorExit::FailedToStart { child, reason } => {
                write!(f, "child {child} did not start: it {reason}")
            }
            SupervisorExit::Killed => f.write_str("killed"),
        }
    }
}

/// Something that happened to a supervisor's children, as [`ChildEvents`] tells it.
///
/// A child's incarnation counts its starts within one incarnation of its supervisor: 1 for
/// its first start, then one more for each start after (a restart, or a `restart_child`), as
/// [`ChildInfo::incarnation`](crate::ChildInfo::incarnation) reports it.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum ChildEvent {
    /// A child started: as its supervisor started, or through `start_child`, `start_dynamic`
    /// or `restart_child`.
    Started {
        /// The child.
        child: ChildRef,
        /// Its name: its id, or for a dynamic child the id its template gave it.
        name: Arc<str>,
        /// Which start of the child this is.
        incarnation: u32,
    },
    /// A child ended on its own (it was not stopped by its supervisor).
    Exited {
        /// The child.
        child: ChildRef,
        /// The incarnation that ended.
        incarnation: u32,
        /// How it ended.
        exit: ChildExit,
    },
    /// The supervisor stopped a child: `terminate_child`, a strategy's restart of the
    /// child's siblings, or the supervisor's own shutdown.
    Stopped {
        /// The child.
        child: ChildRef,
        /// The incarnation stopped.
        incarnation: u32,
        /// How it ended: as it says (a task that sees its stop and returns `Ok` ends
        /// normally, a manager or a supervisor is shut down), or killed when its shutdown ran
        /// out.
        exit: ChildExit,
    },
    /// The supervisor started a child again, by its strategy, after a child ended.
    Restarted {
        /// The child.
        child: ChildRef,
        /// Which start of the child this is (2 for its first restart).
        incarnation: u32,
    },
    /// A child's restart failed; it is tried again, after the requests already queued (its
    /// state is [`Restarting`](crate::ChildState::Restarting)), and each try counts toward the
    /// intensity.
    RestartFailed {
        /// The child.
        child: ChildRef,
        /// Why its start failed.
        reason: Cause,
    },
    /// The supervisor gave up on a child: restarting it would pass the restart intensity, so
    /// the supervisor shuts down, and ends with [`SupervisorExit::Intensity`].
    GaveUp {
        /// The child.
        child: ChildRef,
        /// How it ended (or how its last restart failed).
        exit: ChildExit,
    },
    /// This incarnation of the supervisor ended, its children stopped. A nested supervisor
    /// restarted by its parent goes on telling of its next incarnation's children.
    Ended(SupervisorExit),
    /// The reader fell behind: this many events were dropped here, the oldest first.
    Missed(u64),
}

/// The child events of one supervisor, from [`Supervisor::child_events`](crate::Supervisor::child_events):
/// every event after the subscription, across a nested supervisor's restarts, until the
/// supervisor has ended for good.
///
/// Bounded: a reader that falls behind by more than the supervisor's
/// [`child_events_capacity`](crate::SupervisorBuilder::child_events_capacity) loses the oldest
/// events and is told how many with [`ChildEvent::Missed`]; the supervisor never waits for it.
///
/// ```
/// # use event_core::*;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let sup = Supervisor::builder()
///     .child(ChildSpec::task("worker", |stop| async move {
///         stop.stopped().await;
///         Ok(())
///     }))
///     .start()
///     .await?;
/// let mut events = sup.child_events();
/// sup.terminate_child("worker").await?;
/// assert!(matches!(
///     events.recv().await,
///     Some(ChildEvent::Stopped { incarnation: 1, exit: ChildExit::Normal, .. })
/// ));
/// sup.restart_child("worker").await?;
/// assert!(matches!(events.recv().await, Some(ChildEvent::Started { incarnation: 2, .. })));
/// sup.stop().await?;
/// assert!(matches!(events.recv().await, Some(ChildEvent::Stopped { incarnation: 2, .. })));
/// assert!(matches!(events.recv().await, Some(ChildEvent::Ended(SupervisorExit::Stopped))));
/// assert!(events.recv().await.is_none()); // it has ended for good
/// # Ok(()) }
/// ```
pub struct ChildEvents {
    pub(super) rx: broadcast::Receiver<ChildEvent>,
    pub(super) missed: u64,
}

impl ChildEvents {
    /// The next event; `None` once the supervisor has ended for good and every event before
    /// its end was read.
    pub async fn recv(&mut self) -> Option<ChildEvent> {
        match self.rx.recv().await {
            Ok(ev) => Some(ev),
            Err(broadcast::error::RecvError::Lagged(n)) => {
                self.missed += n;
                Some(ChildEvent::Missed(n))
            }
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }

    /// The next event if one is there, without waiting.
    pub fn try_recv(&mut self) -> Option<ChildEvent> {
        match self.rx.try_recv() {
            Ok(ev) => Some(ev),
            Err(broadcast::error::TryRecvError::Lagged(n)) => {
                self.missed += n;
                Some(ChildEvent::Missed(n))
            }
            Err(_) => None,
        }
    }

    /// How many events this reader has missed in all.
    pub fn missed(&self) -> u64 {
        self.missed
    }
}

impl fmt::Debug for ChildEvents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildEvents")
            .field("queued", &self.rx.len())
            .field("missed", &self.missed)
            .finish()
    }
}
