//! Running a user's callback, shared by managers and supervisors: panics are caught, and while
//! it runs its manager (or supervisor) is marked as busy on this thread, so that a blocking call
//! into the same one fails instead of hanging. Both sides draw their ids from [`next_uid`], so
//! the busy mark of one never matches the other.

use std::cell::Cell;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use crate::exit::Cause;
use crate::handler::{BoxError, BoxFuture, Step};

static NEXT_UID: AtomicU64 = AtomicU64::new(1);

/// A process-wide unique id for a manager or a supervisor.
pub(crate) fn next_uid() -> u64 {
    NEXT_UID.fetch_add(1, Ordering::Relaxed)
}

thread_local! {
    /// The manager whose callback runs on this thread right now; 0 for none.
    static INSIDE: Cell<u64> = const { Cell::new(0) };
}

/// Whether a callback of manager `manager` is running on this thread.
pub(crate) fn inside(manager: u64) -> bool {
    INSIDE.with(|c| c.get()) == manager
}

pub(crate) struct Enter(u64);

/// Marks `manager` busy on this thread until the returned guard drops.
pub(crate) fn enter(manager: u64) -> Enter {
    Enter(INSIDE.with(|c| c.replace(manager)))
}

impl Drop for Enter {
    fn drop(&mut self) {
        INSIDE.with(|c| c.set(self.0));
    }
}

/// The start of a callback: finished already (the plain case, no allocation), or a future.
enum Started<'a, T> {
    Done(Result<T, Cause>),
    Running(Guarded<'a, T>),
}

/// Calls `f` as a callback of `manager`.
fn start<'a, T>(manager: u64, f: impl FnOnce() -> Step<'a, T>) -> Started<'a, T> {
    let step = {
        let _in = enter(manager);
        catch_unwind(AssertUnwindSafe(f))
    };
    match step {
        Err(panic) => Started::Done(Err(Cause::from_panic(panic))),
        Ok(Step::Ready(r)) => Started::Done(r.map_err(Cause::from_error)),
        Ok(Step::Async(fut)) => Started::Running(Guarded { fut, manager }),
    }
}

/// Runs `f` as a callback of `manager` to its end.
pub(crate) async fn run<'a, T>(manager: u64, f: impl FnOnce() -> Step<'a, T>) -> Result<T, Cause> {
    match start(manager, f) {
        Started::Done(r) => r,
        Started::Running(g) => g.await,
    }
}

/// An `async` callback being polled as its manager's callback.
/// Polls `fut` as code running inside `uid` (a manager or a supervisor), catching its panics.
pub(crate) fn guard<T>(uid: u64, fut: BoxFuture<'_, Result<T, BoxError>>) -> Guarded<'_, T> {
    Guarded { fut, manager: uid }
}

pub(crate) struct Guarded<'a, T> {
    fut: BoxFuture<'a, Result<T, BoxError>>,
    manager: u64,
}

impl<T> Future for Guarded<'_, T> {
    type Output = Result<T, Cause>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let _in = enter(this.manager);
        match catch_unwind(AssertUnwindSafe(|| this.fut.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(r)) => Poll::Ready(r.map_err(Cause::from_error)),
            Err(panic) => Poll::Ready(Err(Cause::from_panic(panic))),
        }
    }
}

/// Runs `f` with `manager` marked busy, catching a panic (for `format_status`).
pub(crate) fn catching<T>(manager: u64, f: impl FnOnce() -> T) -> Result<T, Cause> {
    let _in = enter(manager);
    catch_unwind(AssertUnwindSafe(f)).map_err(Cause::from_panic)
}
