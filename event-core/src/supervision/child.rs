//! What a supervisor runs: child specifications, and the kinds of child (plain tasks, event
//! managers, guards, nested supervisors) behind one interface.

use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::{oneshot, Notify};

use crate::exit::Cause;
use crate::handler::{BoxError, BoxFuture};

/// When a child that ended is started again (OTP's restart types).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Restart {
    /// Always restarted, however it ended, even normally.
    #[default]
    Permanent,
    /// Restarted only if it failed: not after a normal end or a shutdown.
    Transient,
    /// Never restarted; its specification is dropped when it ends, and its start function,
    /// and what that captured, as soon as it has started (OTP keeps no start arguments for a
    /// temporary child).
    Temporary,
}

/// How a child is stopped (OTP's shutdown).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Shutdown {
    /// Aborted at once.
    BrutalKill,
    /// Asked to stop, and aborted if it has not stopped after this long. Zero is valid, as in
    /// OTP: the child is asked to stop and aborted at once, given no time to finish. A
    /// timeout past the clock's range (say `Duration::MAX`) is waited for as `Infinity`.
    Timeout(Duration),
    /// Asked to stop, and waited for however long it takes (the default for supervisors).
    Infinity,
}

/// Whether a child is a worker or a supervisor, for `count_children`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChildKind {
    /// A task, an event manager or a guard.
    Worker,
    /// A nested supervisor.
    Supervisor,
}

/// How a child ended.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ChildExit {
    /// It ended on its own, normally (a task returned `Ok`, a manager was stopped, a guard's
    /// handler was removed normally).
    Normal,
    /// It was shut down: by its supervisor, or, for a supervisor, because it reached its
    /// restart intensity or a significant child ended.
    Shutdown,
    /// It failed: a task returned an error or panicked, a guard could not re-install its
    /// handler.
    Failed(Cause),
    /// It was aborted (brutal kill, or a shutdown timeout that ran out).
    Killed,
}

impl ChildExit {
    /// Whether a transient child ending this way is left alone: a normal end or a shutdown.
    pub fn is_normal_or_shutdown(&self) -> bool {
        matches!(self, ChildExit::Normal | ChildExit::Shutdown)
    }
}

impl fmt::Display for ChildExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChildExit::Normal => f.write_str("normal"),
            ChildExit::Shutdown => f.write_str("shutdown"),
            ChildExit::Failed(c) => write!(f, "failed: {c}"),
            ChildExit::Killed => f.write_str("killed"),
        }
    }
}

/// Tells a task child that its supervisor wants it to stop.
///
/// A task that never looks at it is aborted when its shutdown timeout runs out (or at once
/// with [`Shutdown::BrutalKill`]).
#[derive(Clone, Default)]
pub struct StopToken {
    inner: Arc<StopInner>,
}

#[derive(Default)]
struct StopInner {
    stopped: AtomicBool,
    notify: Notify,
}

impl StopToken {
    pub(super) fn new() -> Self {
        Self::default()
    }

    pub(super) fn stop(&self) {
        self.inner.stopped.store(true, Ordering::Release);
        self.inner.notify.notify_waiters();
    }

    /// Whether the stop has been asked for.
    pub fn is_stopped(&self) -> bool {
        self.inner.stopped.load(Ordering::Acquire)
    }

    /// Waits until the stop is asked for.
    ///
    /// # Cancel safety
    /// Cancel safe: it only waits.
    pub async fn stopped(&self) {
        let notified = self.inner.notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if self.is_stopped() {
            return;
        }
        notified.await;
    }
}

impl fmt::Debug for StopToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StopToken")
            .field("stopped", &self.is_stopped())
            .finish()
    }
}

/// What a child's start gives its supervisor: a child to run, or nothing (OTP's `ignore`).
pub struct Start(pub(super) Option<Launch>);

impl Start {
    /// The child is a task running `run`; it ends normally when `run` returns `Ok`, and fails
    /// when it returns an error or panics.
    pub fn task<F, Fut>(run: F) -> Self
    where
        F: FnOnce(StopToken) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), BoxError>> + Send + 'static,
    {
        let token = StopToken::new();
        let fut = run(token.clone());
        Start(Some(Launch {
            run: Run::Task(Box::pin(fut)),
            ready: None,
            stop: Stop::Token(token),
        }))
    }

    /// The child is not started; the supervisor keeps its specification (unless it is
    /// temporary) and reports it as not running. A `simple_one_for_one` supervisor keeps
    /// none: [`start_dynamic`](crate::Supervisor::start_dynamic) returns `None`, and a dynamic
    /// child whose restart returns `ignore` is removed, as in OTP.
    pub fn ignore() -> Self {
        Start(None)
    }
}

impl fmt::Debug for Start {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            Some(_) => "Start::Task",
            None => "Start::Ignore",
        })
    }
}

/// A started child before its supervisor spawns it.
pub(super) struct Launch {
    /// The child itself, ending with how it ended.
    pub(super) run: Run,
    /// For a child that finishes starting once running (a manager installing its standing
    /// handlers, a supervisor starting its children): the result of that start.
    pub(super) ready: Option<oneshot::Receiver<Result<(), BoxError>>>,
    /// How the child is asked to stop.
    pub(super) stop: Stop,
}

/// How a started child is asked to stop.
pub(super) enum Stop {
    /// A task: through its token.
    Token(StopToken),
    /// A manager or a supervisor: told whether it will be restarted.
    Call(Box<dyn FnOnce(bool) + Send + Sync>),
}

impl Stop {
    /// Asks the child to stop; `restarting` if it will be restarted.
    pub(super) fn ask(self, restarting: bool) {
        match self {
            Stop::Token(token) => token.stop(),
            Stop::Call(stop) => stop(restarting),
        }
    }
}

/// A started child's own future, ending with how the child ended.
pub(super) enum Run {
    /// A task: it ends normally when it returns `Ok`, and fails when it returns an error. Its
    /// result is read here rather than by a future around it, which would hold the task's
    /// future twice over (once to start it, once while it runs).
    Task(BoxFuture<'static, Result<(), BoxError>>),
    /// A manager or a supervisor, which says how it ended.
    Child(BoxFuture<'static, ChildExit>),
}

impl Future for Run {
    type Output = ChildExit;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<ChildExit> {
        match self.get_mut() {
            Run::Task(run) => run.as_mut().poll(cx).map(|ended| match ended {
                Ok(()) => ChildExit::Normal,
                Err(e) => ChildExit::Failed(Cause::from_error(e)),
            }),
            Run::Child(run) => run.as_mut().poll(cx),
        }
    }
}

/// How a kind of child starts, and what is done when its supervisor gives up on it for good.
use super::snapshot::Probe;

pub(super) trait Starter: Send + Sync {
    /// Starts the child, whose restart type is `restart`. A temporary child's supervisor keeps
    /// no starter while it runs: what it starts must end for good by itself (a manager's
    /// mailbox retired, a supervisor's handles told it is gone).
    fn start(&self, restart: Restart) -> BoxFuture<'static, Result<Start, BoxError>>;

    /// The child will never run again: a manager's mailbox refuses senders, a supervisor's
    /// handle answers that it is gone.
    fn retire(&self) {}

    /// The child is not running and is not being restarted (terminated, or ended and not
    /// restarted): requests fail at once instead of waiting for a start that may never come.
    /// The next start undoes it.
    fn park(&self) {}

    /// How to look inside the child, for a snapshot of the tree: a nested supervisor or a
    /// manager.
    fn probe(&self) -> Option<Probe> {
        None
    }
}

/// A child of a supervisor: how to start it, and the OTP child specification around it.
///
/// Build one with [`ChildSpec::task`], [`ChildSpec::new`], [`Builder::supervised`](crate::Builder::supervised) for an event
/// manager, [`Guard::child`](crate::Guard::child), or
/// [`SupervisorBuilder::supervised`](crate::SupervisorBuilder::supervised) for a nested supervisor; then
/// set its restart type, shutdown and significance.
///
/// ```
/// use std::time::Duration;
/// use event_core::{ChildSpec, Restart, Shutdown};
///
/// let ticker = ChildSpec::task("ticker", |stop| async move {
///     stop.stopped().await; // work until asked to stop
///     Ok(())
/// })
/// .restart(Restart::Transient)
/// .shutdown(Shutdown::Timeout(Duration::from_millis(500)));
/// assert_eq!(ticker.id(), "ticker");
/// ```
#[derive(Clone)]
pub struct ChildSpec {
    pub(super) id: Arc<str>,
    pub(super) starter: Arc<dyn Starter>,
    pub(super) restart: Restart,
    pub(super) shutdown: Shutdown,
    pub(super) kind: ChildKind,
    pub(super) significant: bool,
}

/// The default shutdown of a worker, as in OTP.
pub(super) const WORKER_SHUTDOWN: Shutdown = Shutdown::Timeout(Duration::from_secs(5));

impl ChildSpec {
    pub(super) fn from_starter(
        id: impl Into<Arc<str>>,
        starter: Arc<dyn Starter>,
        kind: ChildKind,
    ) -> Self {
        ChildSpec {
            id: id.into(),
            starter,
            restart: Restart::Permanent,
            shutdown: match kind {
                ChildKind::Worker => WORKER_SHUTDOWN,
                ChildKind::Supervisor => Shutdown::Infinity,
            },
            kind,
            significant: false,
        }
    }

    /// A plain async task: each start runs `run` with a fresh [`StopToken`]. It ends normally
    /// when `run` returns `Ok`, and fails when it returns an error or panics.
    pub fn task<F, Fut>(id: impl Into<Arc<str>>, run: F) -> Self
    where
        F: Fn(StopToken) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), BoxError>> + Send + 'static,
    {
        let run = Arc::new(run);
        Self::new(id, move || {
            let run = run.clone();
            async move { Ok(Start::task(move |stop| run(stop))) }
        })
    }

    /// A child with a start step that may decide not to run ([`Start::ignore`]) or fail (an
    /// error), as an OTP child's `start_link` returns `ignore` or `{error, R}`.
    pub fn new<F, Fut>(id: impl Into<Arc<str>>, start: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Start, BoxError>> + Send + 'static,
    {
        // The closure and what it captured are the user's: dropped under a guard.
        struct FnStarter<F>(crate::callback::Owned<F>);
        impl<F, Fut> Starter for FnStarter<F>
        where
            F: Fn() -> Fut + Send + Sync + 'static,
            Fut: Future<Output = Result<Start, BoxError>> + Send + 'static,
        {
            fn start(&self, _: Restart) -> BoxFuture<'static, Result<Start, BoxError>> {
                Box::pin((self.0)())
            }
        }
        Self::from_starter(
            id,
            Arc::new(FnStarter(crate::callback::Owned::new(start))),
            ChildKind::Worker,
        )
    }

    /// When the child is restarted (default [`Restart::Permanent`]).
    pub fn restart(mut self, restart: Restart) -> Self {
        self.restart = restart;
        self
    }

    /// How the child is stopped (default 5 seconds for workers, infinity for supervisors).
    pub fn shutdown(mut self, shutdown: Shutdown) -> Self {
        self.shutdown = shutdown;
        self
    }

    /// Marks the child significant for its supervisor's
    /// [`AutoShutdown`](crate::AutoShutdown): when it ends on its own and is not restarted,
    /// the supervisor may shut down. A significant child cannot be permanent.
    pub fn significant(mut self, significant: bool) -> Self {
        self.significant = significant;
        self
    }

    /// The child's id within its supervisor.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The child's restart type.
    pub fn restart_type(&self) -> Restart {
        self.restart
    }

    /// Whether the child is a worker or a supervisor.
    pub fn kind(&self) -> ChildKind {
        self.kind
    }
}

impl fmt::Debug for ChildSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildSpec")
            .field("id", &self.id)
            .field("restart", &self.restart)
            .field("shutdown", &self.shutdown)
            .field("kind", &self.kind)
            .field("significant", &self.significant)
            .finish()
    }
}

/// Runs a child's future, turning a panic into a failure.
pub(super) struct CatchUnwind<F>(pub(super) F);

impl<F: Future<Output = ChildExit> + Unpin> Future for CatchUnwind<F> {
    type Output = ChildExit;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<ChildExit> {
        let fut = &mut self.0;
        match catch_unwind(AssertUnwindSafe(|| Pin::new(fut).poll(cx))) {
            Ok(p) => p,
            Err(panic) => Poll::Ready(ChildExit::Failed(Cause::from_panic(panic))),
        }
    }
}
