//! Handler guards: a supervisor child that installs a supervised handler and re-installs it
//! when it leaves abnormally (lager's watcher, as a reusable part).

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::child::{ChildSpec, Restart, Start, StopToken};
use super::supervisor::ChildRef;
use crate::error::{AddError, SwapError};
use crate::exit::{Cause, ExitReason};
use crate::handler::{BoxError, BoxFuture, Handler, HandlerId, HandlerRef};
use crate::intensity::Intensity;
use crate::manager::{EventManager, Install, Link, Notice, SupLink};

/// Marks a handler's `init` error as fatal: a [`Guard`] does not retry an install that
/// failed with it, and stops with it instead.
///
/// ```
/// use event_core::{handler, Fatal};
///
/// struct Config;
///
/// #[handler(event = ())]
/// impl Config {
///     fn init(path: Option<String>) -> Result<Self, Fatal> {
///         match path {
///             // Retrying cannot help: no path was given.
///             None => Err(Fatal::new("no configuration path given")),
///             Some(_) => Ok(Config),
///         }
///     }
///
///     fn handle_event(&mut self, _: &()) {}
/// }
/// ```
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Fatal(pub BoxError);

impl Fatal {
    /// A fatal error from any error or message.
    pub fn new(error: impl Into<BoxError>) -> Self {
        Fatal(error.into())
    }
}

/// An install error a guard can judge: fatal (stop) or worth retrying.
pub trait InstallError: std::error::Error + Send + Sync + 'static {
    /// Whether retrying cannot help: the identity is taken, the request is invalid, or the
    /// handler's `init` failed with [`Fatal`].
    fn is_fatal(&self) -> bool;
}

fn fatal_init(cause: &Cause) -> bool {
    matches!(cause, Cause::Error(e) if e.downcast_ref::<Fatal>().is_some())
}

impl InstallError for AddError {
    fn is_fatal(&self) -> bool {
        match self {
            AddError::ManagerGone => false,
            AddError::InitFailed(crash) => fatal_init(crash.cause()),
            _ => true,
        }
    }
}

impl InstallError for SwapError {
    fn is_fatal(&self) -> bool {
        match self {
            SwapError::ManagerGone => false,
            SwapError::InitFailed(crash) => fatal_init(crash.cause()),
            _ => true,
        }
    }
}

/// How a guard retries a failed re-install: the first try at once, then after `first`,
/// doubling up to `max`, `attempts` tries in all; each wait shortened by a random part of up
/// to `jitter` of it, so that guards that failed together do not all retry together. Any
/// durations are taken (zero retries at once; the doubling stops at `max`, and at
/// `Duration::MAX`); `attempts` 0 counts as 1.
///
/// Made with [`Backoff::new`] or [`Backoff::default`] and the builder methods (the struct is
/// `#[non_exhaustive]`: a literal would break when a setting is added):
///
/// ```
/// use event_core::Backoff;
/// use std::time::Duration;
///
/// let backoff = Backoff::new(Duration::from_millis(50), Duration::from_secs(2), 8).jitter(0.5);
/// assert_eq!(backoff.first, Duration::from_millis(50));
/// assert_eq!(Backoff::default().attempts(3).attempts, 3);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct Backoff {
    /// The wait before the second try.
    pub first: Duration,
    /// The longest wait between tries.
    pub max: Duration,
    /// Tries in all before the guard gives up and fails (at least 1).
    pub attempts: u32,
    /// The largest part of each wait taken off at random, from 0.0 (none, the default) to
    /// 1.0 (a wait anywhere from nothing to the whole of it).
    pub jitter: f64,
}

impl Backoff {
    /// Waits of `first`, doubling up to `max`, for `attempts` tries in all; no jitter.
    pub fn new(first: Duration, max: Duration, attempts: u32) -> Self {
        Backoff {
            first,
            max,
            attempts,
            jitter: 0.0,
        }
    }

    /// The wait before the second try.
    #[must_use]
    pub fn first(mut self, first: Duration) -> Self {
        self.first = first;
        self
    }

    /// The longest wait between tries.
    #[must_use]
    pub fn max(mut self, max: Duration) -> Self {
        self.max = max;
        self
    }

    /// Tries in all before the guard gives up (at least 1).
    #[must_use]
    pub fn attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts;
        self
    }

    /// The largest part of each wait taken off at random: 0.0 for none, up to 1.0; a value
    /// outside is taken as the nearest of these (`NaN` as 0.0).
    #[must_use]
    pub fn jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter;
        self
    }

    /// `delay` with its jitter taken off: uniformly from `delay * (1 - jitter)` to `delay`.
    fn jittered(&self, delay: Duration) -> Duration {
        let jitter = if self.jitter.is_nan() {
            0.0
        } else {
            self.jitter.clamp(0.0, 1.0)
        };
        if jitter == 0.0 {
            return delay;
        }
        delay.mul_f64(1.0 - jitter * random_unit())
    }
}

/// A number in `[0, 1)`, different at each call: std's randomly keyed hasher, over a counter.
fn random_unit() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    // The top 53 bits, as a fraction.
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

impl Backoff {
    /// The wait after `delay`: twice as long, up to `max` (and to `Duration::MAX`).
    fn next(&self, delay: Duration) -> Duration {
        delay.saturating_mul(2).min(self.max)
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new(Duration::from_millis(10), Duration::from_secs(1), 5)
    }
}

/// Why a guard failed.
///
/// `PartialEq` for tests: the errors inside are boxed `dyn Error`s, which compare by their
/// messages (`Display`), as [`Cause`](crate::Cause) does.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GuardError {
    /// The guard's handler, with its key, is installed already: by another guard, or by hand.
    /// A manager holds one handler of each type and key, so several guards of one handler
    /// type need a key each.
    #[error("handler {0} is already installed in the manager (by another guard, or by hand); a manager holds one handler of each type and key: give each guard's handler its own key (Install::key, or a supervisor! template's start_child_keyed) to run several side by side")]
    AlreadyInstalled(HandlerId),
    /// The install failed in a way retrying cannot help.
    #[error("the guarded handler cannot be installed: {0}")]
    Fatal(BoxError),
    /// Every re-install try failed.
    #[error("the guarded handler could not be re-installed in {attempts} tries; the last failed with: {last}")]
    ReinstallFailed {
        /// How many tries.
        attempts: u32,
        /// The last try's error.
        last: BoxError,
    },
}

impl PartialEq for GuardError {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (GuardError::Fatal(a), GuardError::Fatal(b)) => a.to_string() == b.to_string(),
            (GuardError::AlreadyInstalled(a), GuardError::AlreadyInstalled(b)) => a == b,
            (
                GuardError::ReinstallFailed { attempts, last },
                GuardError::ReinstallFailed {
                    attempts: a2,
                    last: l2,
                },
            ) => attempts == a2 && last.to_string() == l2.to_string(),
            _ => false,
        }
    }
}

impl GuardError {
    /// A fatal install error, the handler's identity taken said as such.
    fn fatal(e: BoxError) -> Self {
        let taken = match (e.downcast_ref::<AddError>(), e.downcast_ref::<SwapError>()) {
            (Some(AddError::AlreadyInstalled(id)), _)
            | (_, Some(SwapError::AlreadyInstalled(id))) => Some(id.clone()),
            _ => None,
        };
        match taken {
            Some(id) => GuardError::AlreadyInstalled(id),
            None => GuardError::Fatal(e),
        }
    }
}

/// A guard started from a template: the child's reference, to terminate it, and its handler's,
/// to call it. A `supervisor!` tree's `start_child` returns one.
///
/// ```
/// # use event_core::*;
/// # struct Log;
/// # #[handler(event = String)]
/// # impl Log {
/// #     fn init() -> Self { Log }
/// #     fn handle_event(&mut self, _: &String) {}
/// # }
/// supervisor! {
///     struct Logs(lines: String) {
///         strategy: simple_one_for_one,
///         template: guard Log { manager: lines },
///     }
/// }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let lines = EventManager::<String>::start()?;
/// let logs = Logs::start(&lines).await?;
/// let log = logs.start_child_keyed("eu", ()).await?;
/// assert_eq!(log.handler().id().to_string(), "Log(\"eu\")");
/// logs.supervisor().terminate_child(&log).await?; // this guard, and its handler, only
/// assert!(lines.which_handlers().await?.is_empty());
/// # Ok(()) }
/// ```
pub struct GuardChild<H> {
    child: ChildRef,
    handler: HandlerRef<H>,
}

impl<H> GuardChild<H> {
    /// A guard child of reference `child` keeping `handler` installed.
    pub fn new(child: ChildRef, handler: HandlerRef<H>) -> Self {
        GuardChild { child, handler }
    }

    /// The child's reference in its supervisor, for `terminate_child`.
    pub fn child(&self) -> &ChildRef {
        &self.child
    }

    /// The handler's reference (the same across re-installs), for calls, deletes and swaps.
    pub fn handler(&self) -> &HandlerRef<H> {
        &self.handler
    }

    /// The child's reference and the handler's.
    pub fn into_parts(self) -> (ChildRef, HandlerRef<H>) {
        (self.child, self.handler)
    }
}

impl<H> Clone for GuardChild<H> {
    fn clone(&self) -> Self {
        GuardChild {
            child: self.child.clone(),
            handler: self.handler.clone(),
        }
    }
}

impl<H> fmt::Debug for GuardChild<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GuardChild")
            .field("child", &self.child)
            .field("handler", &self.handler)
            .finish()
    }
}

impl<H> From<&GuardChild<H>> for ChildRef {
    fn from(g: &GuardChild<H>) -> Self {
        g.child.clone()
    }
}

/// The guard's install step, run for the first install and every re-install: the link, or
/// the error and whether it is fatal.
type InstallStep =
    Arc<dyn Fn() -> BoxFuture<'static, Result<Link, (bool, BoxError)>> + Send + Sync>;

/// A handler guard: a supervisor child that installs a supervised handler into a manager and
/// watches it. When the handler leaves normally (removed, deleted) or the manager shuts down,
/// the guard ends normally; when it leaves any other way (a crash, the manager restarted or
/// gone), the guard installs it again, retrying with [`Backoff`]. A handler swapped for
/// another under the same supervision is followed: the guard watches the new one.
///
/// The guard is transient by default: it is restarted by its supervisor only if it fails (a
/// fatal install error, or every retry failed), and that counts toward the supervisor's
/// intensity. When the guard is stopped, its link drops and the handler is removed with
/// [`Terminate::SupervisorGone`](crate::Terminate::SupervisorGone).
///
/// ```
/// # use event_core::*;
/// struct Log;
///
/// #[handler(event = String)]
/// impl Log {
///     fn init() -> Self {
///         Log
///     }
///     fn handle_event(&mut self, line: &String) {
///         println!("{line}");
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let (events, manager) = EventManager::<String>::builder().supervised("events").build()?;
/// let guard = Guard::new(&events, Install::<Log>::new(), ()).child("log-guard");
/// let sup = Supervisor::builder().child(manager).child(guard).start().await?;
/// assert_eq!(events.which_handlers().await?.len(), 1);
/// sup.stop().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[must_use = "a guard does nothing until made a child of a supervisor"]
pub struct Guard {
    install: InstallStep,
    backoff: Backoff,
}

impl Guard {
    /// A guard that installs `H` with `args` (cloned for each install) through
    /// [`add_sup_handler_with`](EventManager::add_sup_handler_with).
    pub fn new<E, H>(
        manager: &EventManager<E>,
        install: impl Into<Install<H>>,
        args: H::Args,
    ) -> Self
    where
        E: Send + Sync + 'static,
        H: Handler<E>,
        H::Args: Clone + Sync,
    {
        Self::adding(manager, install.into(), args, None)
    }

    /// A guard whose handler is also restarted in place by the manager (see
    /// [`EventManager::add_sup_handler_in_place`]); the guard re-installs it once the in-place
    /// intensity is spent.
    pub fn in_place<E, H>(
        manager: &EventManager<E>,
        install: impl Into<Install<H>>,
        args: H::Args,
        intensity: Intensity,
    ) -> Self
    where
        E: Send + Sync + 'static,
        H: Handler<E>,
        H::Args: Clone + Sync,
    {
        Self::adding(manager, install.into(), args, Some(intensity))
    }

    fn adding<E, H>(
        manager: &EventManager<E>,
        install: Install<H>,
        args: H::Args,
        in_place: Option<Intensity>,
    ) -> Self
    where
        E: Send + Sync + 'static,
        H: Handler<E>,
        H::Args: Clone + Sync,
    {
        let manager = manager.clone();
        Self::custom(move || {
            let manager = manager.clone();
            let install = install.clone();
            let args = args.clone();
            async move {
                match in_place {
                    None => manager.add_sup_handler_with(install, args).await,
                    Some(i) => manager.add_sup_handler_in_place(install, args, i).await,
                }
            }
        })
    }

    /// A guard with its own install step, for example a
    /// [`swap_sup_handler`](EventManager::swap_sup_handler) that takes over a default
    /// handler's state. It runs for the first install and for every re-install.
    pub fn custom<H, F, Fut, Er>(install: F) -> Self
    where
        H: 'static,
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<SupLink<H>, Er>> + Send + 'static,
        Er: InstallError,
    {
        // The install step and what it captured (a handler's args) are the user's: dropped
        // under a guard.
        let install = crate::callback::Owned::new(install);
        let install: InstallStep = Arc::new(move || {
            let fut = (*install)();
            Box::pin(async move {
                fut.await
                    .map(SupLink::into_link)
                    .map_err(|e| (e.is_fatal(), Box::new(e) as BoxError))
            })
        });
        Guard {
            install,
            backoff: Backoff::default(),
        }
    }

    /// How re-installs are retried.
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// The guard as a supervisor child with id `id`, transient. Its start installs the
    /// handler once: if that fails, the start fails (and with it a supervisor's start); a
    /// handler of the same type and key installed already fails it with
    /// [`GuardError::AlreadyInstalled`].
    pub fn child(self, id: impl Into<Arc<str>>) -> ChildSpec {
        let id: Arc<str> = id.into();
        let name = id.clone();
        ChildSpec::new(id, move || {
            let guard = self.clone();
            let name = name.clone();
            async move {
                let link = (guard.install)().await.map_err(|(fatal, e)| match fatal {
                    true => Box::new(GuardError::fatal(e)) as BoxError,
                    false => e,
                })?;
                Ok(Start::task(move |stop| guard.watch(name, link, stop)))
            }
        })
        .restart(Restart::Transient)
    }

    async fn watch(self, name: Arc<str>, mut link: Link, stop: StopToken) -> Result<(), BoxError> {
        loop {
            let notice = tokio::select! {
                _ = stop.stopped() => return Ok(()),
                n = link.notice() => n,
            };
            let reason = match notice {
                Notice::Restarted(crash) => {
                    tracing::warn!(guard = %name, reason = %crash, "guarded handler restarted in place");
                    continue;
                }
                Notice::Exited(reason) => reason,
            };
            match reason {
                ExitReason::Normal | ExitReason::Shutdown => return Ok(()),
                ExitReason::Swapped {
                    link: Some(next), ..
                } => {
                    link = next;
                    continue;
                }
                // Another supervises the new handler now.
                ExitReason::Swapped { link: None, .. } => return Ok(()),
                other => {
                    tracing::warn!(guard = %name, reason = %other, "guarded handler left; re-installing it")
                }
            }
            // Boxed, and after the reason is dropped: a guard mostly waits, and its waiting
            // should not be the size of its rare re-install.
            match Box::pin(self.reinstall(&stop)).await? {
                Some(next) => link = next,
                None => return Ok(()),
            }
        }
    }

    /// Re-installs with backoff; `None` if asked to stop meanwhile.
    async fn reinstall(&self, stop: &StopToken) -> Result<Option<Link>, GuardError> {
        let attempts = self.backoff.attempts.max(1);
        let mut delay = self.backoff.first;
        let mut attempt = 1;
        loop {
            let result = tokio::select! {
                _ = stop.stopped() => return Ok(None),
                r = (self.install)() => r,
            };
            match result {
                Ok(link) => return Ok(Some(link)),
                Err((true, e)) => return Err(GuardError::fatal(e)),
                Err((false, last)) if attempt >= attempts => {
                    return Err(GuardError::ReinstallFailed { attempts, last })
                }
                Err((false, _)) => {}
            }
            attempt += 1;
            tokio::select! {
                _ = stop.stopped() => return Ok(None),
                _ = tokio::time::sleep(self.backoff.jittered(delay)) => {}
            }
            delay = self.backoff.next(delay);
        }
    }
}

impl fmt::Debug for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guard")
            .field("backoff", &self.backoff)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::Backoff;
    use std::time::Duration;

    #[test]
    fn jitter_takes_a_random_part_of_up_to_its_share_off_each_wait() {
        let delay = Duration::from_millis(1000);
        assert_eq!(Backoff::default().jittered(delay), delay);
        assert_eq!(Backoff::default().jitter(f64::NAN).jittered(delay), delay);
        let half = Backoff::default().jitter(0.5);
        let waits: Vec<Duration> = (0..200).map(|_| half.jittered(delay)).collect();
        assert!(waits
            .iter()
            .all(|w| *w >= Duration::from_millis(500) && *w <= delay));
        // Spread over the range, not one value: both halves of it are drawn.
        assert!(waits.iter().any(|w| *w < Duration::from_millis(750)));
        assert!(waits.iter().any(|w| *w > Duration::from_millis(750)));
        // Beyond 1.0 it is taken as 1.0: anywhere from nothing to the whole wait.
        let all = Backoff::default().jitter(7.0);
        assert!((0..50).all(|_| all.jittered(delay) <= delay));
    }

    #[test]
    fn the_builder_methods_set_what_they_name() {
        let b = Backoff::new(Duration::from_millis(1), Duration::from_millis(2), 3)
            .first(Duration::from_millis(4))
            .max(Duration::from_millis(5))
            .attempts(6)
            .jitter(0.25);
        assert_eq!(b.first, Duration::from_millis(4));
        assert_eq!(b.max, Duration::from_millis(5));
        assert_eq!(b.attempts, 6);
        assert_eq!(b.jitter, 0.25);
    }

    fn backoff(first: Duration, max: Duration) -> Backoff {
        Backoff::new(first, max, 3)
    }

    #[test]
    fn the_backoff_doubles_up_to_its_max_at_every_extreme() {
        let b = backoff(Duration::from_millis(10), Duration::from_millis(25));
        assert_eq!(b.next(Duration::from_millis(10)), Duration::from_millis(20));
        assert_eq!(b.next(Duration::from_millis(20)), Duration::from_millis(25));
        let zero = backoff(Duration::ZERO, Duration::ZERO);
        assert_eq!(zero.next(Duration::ZERO), Duration::ZERO);
        let one = backoff(Duration::from_nanos(1), Duration::MAX);
        assert_eq!(one.next(Duration::from_nanos(1)), Duration::from_nanos(2));
        let max = backoff(Duration::MAX, Duration::MAX);
        assert_eq!(max.next(Duration::MAX), Duration::MAX);
        assert_eq!(
            max.next(Duration::MAX / 2 + Duration::from_secs(1)),
            Duration::MAX
        );
    }
}
