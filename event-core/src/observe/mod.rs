//! Seeing inside a running tree, shared by managers and supervisors: reports on the console
//! when no `tracing` subscriber listens (`report`), and named tasks for tokio-console
//! (`task`).

pub(crate) mod report;
pub(crate) mod span;
pub(crate) mod task;
