//! Seeing inside a running tree, shared by managers and supervisors: reports on the console
//! when no `tracing` subscriber listens (`report`), and named tasks for tokio-console
//! (`task`), and metrics through the `metrics` facade (`metrics`, with the feature).

#[cfg(feature = "metrics")]
pub(crate) mod metrics;
pub(crate) mod report;
pub(crate) mod span;
pub(crate) mod task;
