//! Spawning the library's tasks, named for tokio-console when built with `tokio_unstable`:
//! `manager <name>`, `handler <id> of <manager>`, `supervisor <name>`, `child <id> of
//! <supervisor>`.

use std::future::Future;

use tokio::task::JoinHandle;

/// Spawns `fut` on the current runtime, named `name()` under `tokio_unstable` (the name is
/// made only then).
#[cfg_attr(not(tokio_unstable), allow(unused_variables))]
pub(crate) fn spawn<F>(name: impl FnOnce() -> String, fut: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    #[cfg(tokio_unstable)]
    {
        let name = name();
        tokio::task::Builder::new()
            .name(&name)
            .spawn(fut)
            .expect("spawning a task on a running runtime does not fail")
    }
    #[cfg(not(tokio_unstable))]
    tokio::spawn(fut)
}

/// As [`spawn`], on `runtime`.
#[cfg_attr(not(tokio_unstable), allow(unused_variables))]
pub(crate) fn spawn_on<F>(
    runtime: &tokio::runtime::Handle,
    name: impl FnOnce() -> String,
    fut: F,
) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    #[cfg(tokio_unstable)]
    {
        let name = name();
        tokio::task::Builder::new()
            .name(&name)
            .spawn_on(fut, runtime)
            .expect("spawning a task on a running runtime does not fail")
    }
    #[cfg(not(tokio_unstable))]
    runtime.spawn(fut)
}
