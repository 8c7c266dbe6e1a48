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

/// Drops `value` catching a panic of its `Drop`: a user's value that the runtime drops (an
/// event, a request, a reply, an info message, a hand-over, args) cannot take the manager or
/// the supervisor down. The panic is logged and the value counts as dropped.
pub(crate) fn drop_caught<T>(value: T) {
    if !std::mem::needs_drop::<T>() {
        return;
    }
    if let Err(panic) = catch_unwind(AssertUnwindSafe(move || drop(value))) {
        log_drop_panic(std::any::type_name::<T>(), panic);
    }
}

#[cold]
fn log_drop_panic(type_name: &'static str, panic: Box<dyn std::any::Any + Send>) {
    let cause = Cause::from_panic(panic);
    tracing::error!(
        target: "event_core::crash",
        value = type_name,
        reason = %cause,
        "dropping a value panicked; the value is dropped"
    );
    crate::observe::report::console(
        "CRASH REPORT: dropping a value panicked; the value is dropped",
        &[("value", &type_name), ("reason", &cause)],
    );
}

/// A user's value owned by the runtime, dropped with [`drop_caught`] wherever it is dropped.
/// (`None` only once taken out by [`into_inner`](Owned::into_inner).)
pub(crate) struct Owned<T>(Option<T>);

impl<T> Owned<T> {
    pub(crate) fn new(value: T) -> Self {
        Owned(Some(value))
    }

    /// The value, to be dropped by its new owner.
    #[allow(dead_code)]
    pub(crate) fn into_inner(mut self) -> T {
        match self.0.take() {
            Some(value) => value,
            None => unreachable!("an owned value is taken out once"),
        }
    }
}

impl<T> std::ops::Deref for Owned<T> {
    type Target = T;

    fn deref(&self) -> &T {
        match &self.0 {
            Some(value) => value,
            None => unreachable!("an owned value is taken out once"),
        }
    }
}

impl<T> std::ops::DerefMut for Owned<T> {
    fn deref_mut(&mut self) -> &mut T {
        match &mut self.0 {
            Some(value) => value,
            None => unreachable!("an owned value is taken out once"),
        }
    }
}

impl<T> Drop for Owned<T> {
    fn drop(&mut self) {
        if std::mem::needs_drop::<T>() {
            if let Some(value) = self.0.take() {
                drop_caught(value);
            }
        }
    }
}

/// The `Debug` form of a user's value, for a report: a `Debug` that panics gives
/// [`DEBUG_PANICKED`] instead of taking the reporter down.
pub(crate) fn debug_caught<T: ?Sized>(value: &T, debug: impl FnOnce(&T) -> String) -> String {
    catch_unwind(AssertUnwindSafe(|| debug(value))).unwrap_or_else(|_| DEBUG_PANICKED.to_owned())
}

/// What a report shows of a value whose `Debug` panicked.
pub(crate) const DEBUG_PANICKED: &str = "<Debug panicked>";

/// Runs `fut` to its end, catching a panic in any of its polls.
pub(crate) async fn catch_panic<F: Future>(fut: F) -> Result<F::Output, Cause> {
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(
        |cx| match catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
            Ok(Poll::Ready(out)) => Poll::Ready(Ok(out)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(panic) => Poll::Ready(Err(Cause::from_panic(panic))),
        },
    )
    .await
}
