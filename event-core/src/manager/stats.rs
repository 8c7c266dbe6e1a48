//! A manager's statistics (OTP's `sys:statistics`): counters the manager's task keeps as it
//! runs, read through its mailbox. The manager's own are always kept (a few additions a
//! message); each handler's only while collecting is switched on
//! ([`EventManager::collect_statistics`]), as OTP's are, so that a long handler list costs
//! nothing more until somebody looks.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::handle::EventManager;
use super::message::{Msg, Op};
use crate::error::ManagerError;
use crate::handler::HandlerId;

/// What a manager has done since its task started (since its current incarnation, for a
/// supervised manager): from [`EventManager::statistics`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Statistics {
    /// Events taken from the mailbox and run through the handlers.
    pub events: u64,
    /// Calls taken from the mailbox (answered, or failed: a call for a handler that is not
    /// installed counts too).
    pub calls: u64,
    /// Info messages, timers and watched managers' ends delivered to handlers.
    pub infos: u64,
    /// Messages queued in the mailbox now, not yet taken by the task.
    pub queued: usize,
    /// The most messages the task found queued at once when it took from the mailbox: the
    /// mailbox's high-water mark as the manager saw it.
    pub queued_high_water: usize,
    /// How long the task has run.
    pub uptime: Duration,
    /// Each installed handler's, newest first, while collecting is on
    /// ([`EventManager::collect_statistics`]); empty otherwise.
    pub handlers: Vec<HandlerStatistics>,
}

/// What a handler has done since collecting was switched on, or since it was installed if
/// that was later.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HandlerStatistics {
    /// The handler.
    pub id: HandlerId,
    /// Events it was given.
    pub events: u64,
    /// Calls it answered, or crashed on.
    pub calls: u64,
    /// Its crashes.
    pub crashes: u64,
    /// Its restarts in place.
    pub restarts: u64,
    /// How long it has been counted.
    pub counted_for: Duration,
}

/// A handler's counters, kept by uid while collecting is on.
#[derive(Clone, Copy)]
struct Counters {
    /// The manager's event count when counting began.
    from_event: u64,
    since: Instant,
    calls: u64,
    crashes: u64,
    restarts: u64,
}

/// The counters of a manager's task.
pub(super) struct Stats {
    started: Instant,
    calls: u64,
    infos: u64,
    high_water: usize,
    /// Each handler's, by uid, while collecting is on.
    handlers: Option<HashMap<u64, Counters>>,
    #[cfg(feature = "metrics")]
    metrics: crate::observe::metrics::ManagerMetrics,
}

impl Stats {
    #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
    pub(super) fn new(manager: &str) -> Self {
        Stats {
            started: Instant::now(),
            calls: 0,
            infos: 0,
            high_water: 0,
            handlers: None,
            #[cfg(feature = "metrics")]
            metrics: crate::observe::metrics::ManagerMetrics::new(manager),
        }
    }

    /// The task took `n` messages from the mailbox at once.
    #[inline]
    pub(super) fn took(&mut self, n: usize) {
        self.high_water = self.high_water.max(n);
        #[cfg(feature = "metrics")]
        self.metrics.took(n);
    }

    /// The task has handled a batch of messages, and taken `events` events in all.
    #[inline]
    #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
    pub(super) fn batch_done(&mut self, events: u64) {
        #[cfg(feature = "metrics")]
        self.metrics.events(events);
    }

    /// A call for the handler `uid` (0: none installed).
    #[inline]
    pub(super) fn call(&mut self, uid: u64) {
        self.calls += 1;
        self.handler(uid, |c| c.calls += 1);
        #[cfg(feature = "metrics")]
        self.metrics.call();
    }

    pub(super) fn info(&mut self) {
        self.infos += 1;
    }

    #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
    pub(super) fn crashed(&mut self, uid: u64, id: &HandlerId) {
        self.handler(uid, |c| c.crashes += 1);
        #[cfg(feature = "metrics")]
        self.metrics.crashed(id);
    }

    #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
    pub(super) fn restarted(&mut self, uid: u64, id: &HandlerId) {
        self.handler(uid, |c| c.restarts += 1);
        #[cfg(feature = "metrics")]
        self.metrics.restarted(id);
    }

    /// The handler `uid` is installed, after `events` events.
    pub(super) fn installed(&mut self, uid: u64, events: u64) {
        if let Some(table) = &mut self.handlers {
            table.insert(uid, Counters::new(events));
        }
    }

    fn handler(&mut self, uid: u64, f: impl FnOnce(&mut Counters)) {
        if let Some(c) = self.handlers.as_mut().and_then(|t| t.get_mut(&uid)) {
            f(c);
        }
    }

    /// Switches collecting each handler's on, for the handlers `live` (by uid), after
    /// `events` events; or off.
    pub(super) fn collect(&mut self, on: bool, live: impl Iterator<Item = u64>, events: u64) {
        self.handlers = match (on, self.handlers.take()) {
            (false, _) => None,
            (true, Some(table)) => Some(table),
            (true, None) => Some(live.map(|uid| (uid, Counters::new(events))).collect()),
        };
    }

    /// The statistics now, given the handlers installed (id and uid, newest first), the
    /// events taken and the messages queued. Forgets the handlers that have left.
    pub(super) fn read(
        &mut self,
        live: Vec<(HandlerId, u64)>,
        events: u64,
        queued: usize,
    ) -> Statistics {
        let now = Instant::now();
        let handlers = match &mut self.handlers {
            None => Vec::new(),
            Some(table) => {
                let rows: Vec<_> = live
                    .into_iter()
                    .filter_map(|(id, uid)| {
                        let c = table.get(&uid)?;
                        Some((uid, c.row(id, events, now)))
                    })
                    .collect();
                table.retain(|uid, _| rows.iter().any(|(u, _)| u == uid));
                rows.into_iter().map(|(_, row)| row).collect()
            }
        };
        Statistics {
            events,
            calls: self.calls,
            infos: self.infos,
            queued,
            queued_high_water: self.high_water.max(queued),
            uptime: now.duration_since(self.started),
            handlers,
        }
    }
}

impl Counters {
    fn new(events: u64) -> Self {
        Counters {
            from_event: events,
            since: Instant::now(),
            calls: 0,
            crashes: 0,
            restarts: 0,
        }
    }

    fn row(&self, id: HandlerId, events: u64, now: Instant) -> HandlerStatistics {
        HandlerStatistics {
            id,
            events: events - self.from_event,
            calls: self.calls,
            crashes: self.crashes,
            restarts: self.restarts,
            counted_for: now.duration_since(self.since),
        }
    }
}

impl<E: Send + Sync + 'static> EventManager<E> {
    /// What the manager has done since its task started (OTP's `sys:statistics(M, get)`):
    /// events, calls and infos taken, messages queued now and the most queued at once, its
    /// uptime; and each handler's, while collecting them is on
    /// ([`collect_statistics`](EventManager::collect_statistics)).
    ///
    /// ```
    /// # use event_core::{handler, EventManager};
    /// # #[derive(Debug)] struct Tick;
    /// # struct Counter;
    /// # #[handler(event = Tick)]
    /// # impl Counter { fn init() -> Self { Counter } fn handle_event(&mut self, _: &Tick) {} }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let manager = EventManager::<Tick>::start()?;
    /// manager.add_handler::<Counter>(()).await?;
    /// manager.collect_statistics(true).await?;
    /// manager.sync_notify(Tick).await?;
    /// let stats = manager.statistics().await?;
    /// assert_eq!(stats.events, 1);
    /// assert_eq!(stats.handlers[0].events, 1);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ManagerError::ManagerGone`] if the manager has stopped;
    /// [`ManagerError::WouldDeadlock`] from inside one of its own callbacks.
    pub async fn statistics(&self) -> Result<Statistics, ManagerError> {
        self.request::<_, ManagerError>(|reply| Msg::Op(Box::new(Op::Statistics(reply))))
            .await
    }

    /// Switches collecting each handler's statistics on or off (OTP's
    /// `sys:statistics(M, true | false)`); off at the start. While on, the manager keeps a
    /// few counters per handler, and [`statistics`](EventManager::statistics) gives them.
    ///
    /// # Errors
    /// As [`statistics`](EventManager::statistics).
    pub async fn collect_statistics(&self, on: bool) -> Result<(), ManagerError> {
        self.request::<_, ManagerError>(|reply| Msg::Op(Box::new(Op::CollectStatistics(on, reply))))
            .await
    }
}

/// The reply of a statistics request.
pub(super) type StatsReply = oneshot::Sender<Statistics>;
