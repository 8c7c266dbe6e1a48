//! What a dedicated handler does when an event finds its queue full, and the counts of what
//! that policy dropped or removed.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// What a [dedicated](crate::Install::dedicated) handler does with an event that finds its
/// queue full (lager's overload protection, as an opt-in).
///
/// The default, [`Wait`](Overload::Wait), drops nothing: the manager waits for room, so the
/// slow handler slows its manager down to its own pace. The other policies keep the manager
/// going at the price of this one handler's events. Each event they drop, and each removal, is
/// logged as a `tracing` warning (target `event_core::overload`, with the manager and handler
/// names) and counted in the install's [`OverloadStats`].
///
/// Only events are subject to the policy: calls, the handler's own messages (timers, watches)
/// and its `terminate` always wait for room, since their senders expect them to arrive. A
/// [`sync_notify`](crate::EventManager::sync_notify) whose event was dropped returns all the
/// same: like OTP's, it says nothing of the handlers that did not handle its event. An inline
/// handler has no queue of its own, and the policy does not apply to it.
///
/// ```
/// use std::time::Duration;
/// use event_core::{Context, EventManager, Handler, Install, Overload, Step, Terminate};
///
/// /// Ships events to a slow remote store; losing some under load is acceptable.
/// struct Shipper;
///
/// impl Handler<u32> for Shipper {
///     type Args = ();
///     type Info = ();
///     type Handover = ();
///     fn init(_: (), _: &mut Context<u32, Self>) -> Step<'static, Self> {
///         Step::ok(Shipper)
///     }
///     fn handle_event<'a>(&'a mut self, _: &'a u32, _: &'a mut Context<u32, Self>) -> Step<'a> {
///         Step::from_async(async {
///             tokio::time::sleep(Duration::from_millis(10)).await; // a slow upload
///             Ok(())
///         })
///     }
///     fn terminate(self, _: Terminate) -> Step<'static, ()> {
///         Step::ok(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let manager = EventManager::<u32>::start()?;
/// let install = Install::<Shipper>::new().dedicated(4).overload(Overload::DropOldest);
/// let stats = install.overload_stats(); // shared with the installed handler
/// manager.add_handler_with(install, ()).await?;
///
/// for n in 0..100 {
///     manager.notify(n).await?; // never waits for the shipper
/// }
/// manager.which_handlers().await?; // every event has been offered to the shipper
/// assert!(stats.dropped() > 0, "the oldest queued events made room for newer ones");
/// assert_eq!(stats.removed(), 0);
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Overload {
    /// The manager waits for room: nothing is dropped (the default).
    #[default]
    Wait,
    /// The event that finds the queue full is dropped; the queued ones stay.
    DropNewest,
    /// The oldest event in the queue is dropped to make room for the new one. (If only calls
    /// and messages are queued, the new event is dropped instead.)
    DropOldest,
    /// The handler is removed, as lager's overload killer removes a handler that falls behind:
    /// the events in its queue are dropped, calls queued for it are answered
    /// [`NotInstalled`](crate::CallError::NotInstalled), its `terminate` runs once the
    /// callback it is in returns (the manager waits for that), told
    /// [`Terminate::Overloaded`](crate::Terminate::Overloaded),
    /// and its supervising side is told [`ExitReason::Overloaded`](crate::ExitReason::Overloaded)
    /// (a [`Guard`](crate::Guard) installs it again).
    Remove,
}

impl fmt::Display for Overload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Overload::Wait => "wait",
            Overload::DropNewest => "drop newest",
            Overload::DropOldest => "drop oldest",
            Overload::Remove => "remove",
        })
    }
}

/// What a dedicated handler's [`Overload`] policy has done: how many events it dropped and
/// how often it removed the handler.
///
/// Taken from the [`Install`](crate::Install) before installing
/// ([`Install::overload_stats`](crate::Install::overload_stats)); it is shared by the install's
/// clones and by every handler installed from them, so a handler a [`Guard`](crate::Guard)
/// re-installs keeps adding to the same counts. The counts only grow.
#[derive(Clone, Default)]
pub struct OverloadStats(Arc<Counts>);

#[derive(Default)]
struct Counts {
    dropped: AtomicU64,
    removed: AtomicU64,
}

impl OverloadStats {
    /// Events the handler did not get because of its policy: dropped when they found its
    /// queue full, or still queued when the handler was removed.
    pub fn dropped(&self) -> u64 {
        self.0.dropped.load(Ordering::Relaxed)
    }

    /// Times the handler was removed for falling behind ([`Overload::Remove`]).
    pub fn removed(&self) -> u64 {
        self.0.removed.load(Ordering::Relaxed)
    }

    pub(in crate::manager) fn add_dropped(&self, n: u64) -> u64 {
        self.0.dropped.fetch_add(n, Ordering::Relaxed) + n
    }

    pub(in crate::manager) fn add_removed(&self) -> u64 {
        self.0.removed.fetch_add(1, Ordering::Relaxed) + 1
    }
}

impl fmt::Debug for OverloadStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OverloadStats")
            .field("dropped", &self.dropped())
            .field("removed", &self.removed())
            .finish()
    }
}

/// A handler's policy and where it counts; the counts are made only for a dedicated handler.
#[derive(Clone, Debug, Default)]
pub(in crate::manager) struct OverloadSpec {
    pub(in crate::manager) policy: Overload,
    pub(in crate::manager) stats: Option<OverloadStats>,
}

impl OverloadSpec {
    pub(in crate::manager) fn stats(&mut self) -> &OverloadStats {
        self.stats.get_or_insert_with(OverloadStats::default)
    }
}
