//! Metrics through the `metrics` facade (the `metrics` feature), named as Prometheus
//! exporters expect: `event_core_` first, counters ending in `_total`, labels `manager`,
//! `handler`, `supervisor`. A manager registers its own when its task starts, so a recorder
//! installed after that does not see them: install it first.
//!
//! | name | kind | labels | what |
//! |---|---|---|---|
//! | `event_core_events_total` | counter | `manager` | events taken and run through the handlers |
//! | `event_core_calls_total` | counter | `manager` | calls taken |
//! | `event_core_mailbox_messages` | gauge | `manager` | messages the task last took from the mailbox at once |
//! | `event_core_handler_crashes_total` | counter | `manager`, `handler` | handler crashes |
//! | `event_core_handler_restarts_total` | counter | `manager`, `handler` | restarts in place |
//! | `event_core_dedicated_dropped_total` | counter | `manager`, `handler` | events a dedicated handler's overload policy dropped |
//! | `event_core_supervisor_restarts_total` | counter | `supervisor` | children restarted |

use metrics::{Counter, Gauge};

use crate::handler::HandlerId;

/// A manager's metrics, registered when its task starts.
pub(crate) struct ManagerMetrics {
    manager: String,
    events: Counter,
    calls: Counter,
    mailbox: Gauge,
    /// Events counted so far.
    counted: u64,
}

impl ManagerMetrics {
    pub(crate) fn new(manager: &str) -> Self {
        let label = manager.to_owned();
        ManagerMetrics {
            events: metrics::counter!("event_core_events_total", "manager" => label.clone()),
            calls: metrics::counter!("event_core_calls_total", "manager" => label.clone()),
            mailbox: metrics::gauge!("event_core_mailbox_messages", "manager" => label.clone()),
            manager: label,
            counted: 0,
        }
    }

    /// The task took `n` messages at once.
    pub(crate) fn took(&self, n: usize) {
        self.mailbox.set(n as f64);
    }

    /// The task has taken `events` events in all: counted once per batch of messages, not
    /// once per event.
    pub(crate) fn events(&mut self, events: u64) {
        if events > self.counted {
            self.events.increment(events - self.counted);
            self.counted = events;
        }
    }

    pub(crate) fn call(&self) {
        self.calls.increment(1);
    }

    pub(crate) fn crashed(&self, handler: &HandlerId) {
        metrics::counter!(
            "event_core_handler_crashes_total",
            "manager" => self.manager.clone(),
            "handler" => handler.to_string()
        )
        .increment(1);
    }

    pub(crate) fn restarted(&self, handler: &HandlerId) {
        metrics::counter!(
            "event_core_handler_restarts_total",
            "manager" => self.manager.clone(),
            "handler" => handler.to_string()
        )
        .increment(1);
    }
}

/// Events a dedicated handler's overload policy dropped.
pub(crate) fn dedicated_dropped(manager: &str, handler: &HandlerId, n: u64) {
    metrics::counter!(
        "event_core_dedicated_dropped_total",
        "manager" => manager.to_owned(),
        "handler" => handler.to_string()
    )
    .increment(n);
}

/// A supervisor restarts a child.
pub(crate) fn supervisor_restart(supervisor: &str) {
    metrics::counter!("event_core_supervisor_restarts_total", "supervisor" => supervisor.to_owned())
        .increment(1);
}
