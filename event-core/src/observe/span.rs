//! The spans a manager's work runs in: its task in a `manager` span, each callback in a span
//! naming the handler and what it runs (the event's sequence number, the call's request type).
//! Callback spans are made only when a subscriber wants them: a manager asks once per batch
//! of messages, so that with nobody listening a callback costs nothing more.

use tracing::Span;

/// The target of the callback spans.
pub(crate) const CALLBACK: &str = "event_core::callback";

/// Whether a subscriber wants callback spans, now: first the global maximum level (one
/// load), then the callsite's interest.
#[inline]
pub(crate) fn callbacks() -> bool {
    tracing::level_enabled!(tracing::Level::INFO) && wanted()
}

#[cold]
#[inline(never)]
fn wanted() -> bool {
    tracing::enabled!(target: CALLBACK, tracing::Level::INFO)
}

/// The span of a manager's task.
pub(crate) fn manager(name: &str) -> Span {
    tracing::info_span!(target: "event_core::manager", "manager", name)
}

/// The span of a dedicated handler's task.
pub(crate) fn dedicated(manager: &str, handler: &dyn std::fmt::Display) -> Span {
    tracing::info_span!(target: "event_core::manager", "dedicated", manager, handler = %handler)
}

/// The span of a handler's `handle_event` on event number `seq`.
#[cold]
pub(crate) fn event(handler: &dyn std::fmt::Display, seq: u64) -> Span {
    tracing::info_span!(target: CALLBACK, "handle_event", handler = %handler, seq)
}

/// The span of a handler's `handle_call` on a request of type `request`.
#[cold]
pub(crate) fn call(handler: &dyn std::fmt::Display, request: &'static str) -> Span {
    tracing::info_span!(target: CALLBACK, "handle_call", handler = %handler, request)
}

/// The span of a handler's `handle_info` (a message, a timer, or a watched manager's end).
#[cold]
pub(crate) fn info(handler: &dyn std::fmt::Display) -> Span {
    tracing::info_span!(target: CALLBACK, "handle_info", handler = %handler)
}

/// The span of a supervisor's task.
pub(crate) fn supervisor(name: &str) -> Span {
    tracing::info_span!(target: "event_core::supervisor", "supervisor", name)
}
