//! A supervisor's public face: its handle ([`Supervisor`]) and builder, its strategies, child
//! references and states, and its errors. Its task, which does the supervising, is in `run`.

use std::any::Any;
use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::sync::oneshot;

use super::child::{CatchUnwind, ChildKind, ChildSpec, Restart, Shutdown};
use super::events::{ChildEvents, SupervisorExit};
use super::run::{launch, Cmd, Reply, Shared, SupStarter};
use crate::callback;
use crate::exit::Cause;
use crate::intensity::Intensity;

/// How a supervisor restarts its children (OTP's strategies).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Strategy {
    /// Only the child that ended is restarted.
    #[default]
    OneForOne,
    /// Every other child is stopped (in reverse start order), then all are started again in
    /// order.
    OneForAll,
    /// The children started after the one that ended are stopped (in reverse order), then it
    /// and they are started again in order.
    RestForOne,
    /// One template, no children at start: each [`Supervisor::start_dynamic`] starts a child
    /// from the template with its own args. Children are stopped in parallel. A child that is
    /// not restarted, or whose restart returns [`Start::ignore`](crate::Start::ignore), is
    /// removed. It cannot shut down on significant children (its
    /// [`AutoShutdown`] is [`Never`](AutoShutdown::Never)).
    SimpleOneForOne,
}

/// When a supervisor shuts itself down because its significant children ended (OTP's
/// `auto_shutdown`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum AutoShutdown {
    /// Never; a significant child is refused ([`SupervisorError::BadSpec`]), as in OTP.
    #[default]
    Never,
    /// When any significant child ends on its own and is not restarted.
    AnySignificant,
    /// When every significant child has ended on its own and was not restarted.
    AllSignificant,
}

/// A child of a supervisor, as its administration functions name it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ChildRef {
    /// A child with an id, from its specification.
    Id(Arc<str>),
    /// A child of a [`Strategy::SimpleOneForOne`] supervisor, numbered in start order. Its
    /// name, the id its template gave it, is in [`ChildInfo::name`].
    Dynamic(u64),
}

impl From<&str> for ChildRef {
    fn from(id: &str) -> Self {
        ChildRef::Id(id.into())
    }
}

impl From<String> for ChildRef {
    fn from(id: String) -> Self {
        ChildRef::Id(id.into())
    }
}

impl From<&ChildRef> for ChildRef {
    fn from(c: &ChildRef) -> Self {
        c.clone()
    }
}

impl fmt::Display for ChildRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChildRef::Id(id) => f.write_str(id),
            ChildRef::Dynamic(n) => write!(f, "#{n}"),
        }
    }
}

/// Whether a child runs, as [`Supervisor::which_children`] reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChildState {
    /// It runs.
    Running,
    /// Its restart failed and is being tried again.
    Restarting,
    /// It does not run: terminated, ignored at start, or ended and not restarted.
    NotRunning,
}

/// One child, as [`Supervisor::which_children`] reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChildInfo {
    /// Its id.
    pub id: ChildRef,
    /// Its name: its id, or for a dynamic child the id its template gave it (a `supervisor!`
    /// guard's: its handler and key, as in `JobLog("eu")`).
    pub name: Arc<str>,
    /// How many times it has started in this incarnation of the supervisor: 1 after its
    /// first start, one more for each restart (0 if it never ran).
    pub incarnation: u32,
    /// Whether it runs.
    pub state: ChildState,
    /// Worker or supervisor.
    pub kind: ChildKind,
    /// Its restart type.
    pub restart: Restart,
}

/// A child's specification, as [`Supervisor::child_spec`] reads it (OTP's `get_childspec`):
/// what it is and how it is handled, not how it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChildSpecView {
    /// Its id.
    pub id: ChildRef,
    /// Its name: its id, or for a dynamic child the id its template gave it.
    pub name: Arc<str>,
    /// Its restart type.
    pub restart: Restart,
    /// How it is stopped.
    pub shutdown: Shutdown,
    /// Worker or supervisor.
    pub kind: ChildKind,
    /// Whether it is significant for the supervisor's [`AutoShutdown`].
    pub significant: bool,
}

/// The counts of [`Supervisor::count_children`] (OTP's `count_children`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ChildCount {
    /// Child specifications held.
    pub specs: usize,
    /// Children running.
    pub active: usize,
    /// Children that are supervisors.
    pub supervisors: usize,
    /// Children that are workers.
    pub workers: usize,
}

/// What went wrong with a supervisor's start or one of its administration functions.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SupervisorError {
    /// A child failed to start while the supervisor started; the children already started
    /// were stopped (OTP's `{shutdown, {failed_to_start_child, Id, R}}`).
    #[error("child {id} did not start: it {reason}")]
    FailedToStartChild {
        /// The child.
        id: ChildRef,
        /// Why.
        reason: Cause,
    },
    /// A child started with `start_child`, `restart_child` or `start_dynamic` failed to
    /// start.
    #[error("child {id} did not start: it {reason}")]
    StartFailed {
        /// The child.
        id: ChildRef,
        /// Why.
        reason: Cause,
    },
    /// A child with this id runs already.
    #[error("child {0} is already started")]
    AlreadyStarted(ChildRef),
    /// A child with this id is held already, not running; restart or delete it.
    #[error("child {0} is already present (not running); restart_child or delete_child it")]
    AlreadyPresent(ChildRef),
    /// No child with this id.
    #[error("no child {0}")]
    NotFound(ChildRef),
    /// The child runs; terminate it first.
    #[error("child {0} is running; terminate_child it first")]
    Running(ChildRef),
    /// The child's restart is being retried.
    #[error("child {0} is restarting")]
    Restarting(ChildRef),
    /// Children of a simple_one_for_one supervisor have no ids to restart or delete, and are
    /// started with `start_dynamic`; or `start_dynamic` was called on another strategy.
    #[error("{0}")]
    SimpleOneForOne(&'static str),
    /// `start_dynamic` was given args of another type than the template takes.
    #[error("the template takes args of type {expected}")]
    WrongArgs {
        /// The type the template takes.
        expected: &'static str,
    },
    /// The specification is not valid; the message says why and what to do.
    #[error("{0}")]
    BadSpec(String),
    /// The supervisor has ended.
    #[error("the supervisor has ended")]
    SupervisorGone,
    /// A child's start called its own supervisor, which waits for that start: it would wait
    /// forever.
    #[error("a child's start called a blocking operation of its own supervisor, which would wait for itself forever")]
    WouldDeadlock,
    /// There is no tokio runtime to run the supervisor on.
    #[error("a supervisor runs on tokio: start it from within a tokio runtime")]
    NoRuntime,
}

/// A handle to a supervisor: start, stop and inspect its children (OTP's `supervisor`
/// module). Cheap to clone; a handle to a nested supervisor reaches whichever incarnation
/// runs.
///
/// A supervisor runs until [`stop`](Supervisor::stop)ped, until it reaches its restart
/// intensity, or until its significant children end; dropping the handles does not stop it.
/// [`stopped`](Supervisor::stopped) says which, and [`child_events`](Supervisor::child_events)
/// tells what happens to its children meanwhile.
#[derive(Clone)]
pub struct Supervisor {
    pub(super) shared: Arc<Shared>,
}

impl Supervisor {
    /// A builder: strategy, intensity, auto-shutdown, children.
    pub fn builder() -> SupervisorBuilder {
        SupervisorBuilder::default()
    }

    /// The supervisor's name.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    async fn request<T>(&self, cmd: impl FnOnce(Reply<T>) -> Cmd) -> Result<T, SupervisorError> {
        if callback::inside(self.shared.uid) {
            return Err(SupervisorError::WouldDeadlock);
        }
        if self.shared.is_parked() {
            return Err(SupervisorError::SupervisorGone);
        }
        let (tx, rx) = oneshot::channel();
        self.shared
            .tx
            .send(cmd(tx))
            .map_err(|_| SupervisorError::SupervisorGone)?;
        if self.shared.is_parked() {
            // Parked as it was sent: fail it rather than leave it for a start that may never
            // come.
            self.shared.drain();
        }
        // A command queued as the supervisor retires is dropped with its receiver, and so is
        // this reply's sender.
        rx.await.map_err(|_| SupervisorError::SupervisorGone)?
    }

    /// Adds and starts a child (OTP's `start_child`). An id in use gives
    /// [`AlreadyStarted`](SupervisorError::AlreadyStarted) or
    /// [`AlreadyPresent`](SupervisorError::AlreadyPresent).
    ///
    /// # Cancel safety
    /// Once first polled, the command is sent and the supervisor carries it out; dropping the
    /// future only gives up its result.
    #[doc(alias = "spawn")]
    pub async fn start_child(&self, spec: ChildSpec) -> Result<ChildRef, SupervisorError> {
        self.request(|r| Cmd::StartChild(spec, r)).await
    }

    /// Starts a child of a [`Strategy::SimpleOneForOne`] supervisor from its template, with
    /// `args` (OTP's `start_child(Sup, ExtraArgs)`). Returns the child's reference, or `None`
    /// when its start returned [`Start::ignore`](crate::Start::ignore): such a child is not
    /// kept (OTP's `{ok, undefined}`).
    ///
    /// # Cancel safety
    /// Once first polled, the command is sent and the supervisor carries it out; dropping the
    /// future only gives up its result.
    #[doc(alias = "spawn")]
    pub async fn start_dynamic<A: Any + Send>(
        &self,
        args: A,
    ) -> Result<Option<ChildRef>, SupervisorError> {
        self.request(|r| Cmd::StartDynamic(Box::new(args), r)).await
    }

    /// Stops a child and keeps its specification (OTP's `terminate_child`); a temporary or
    /// dynamic child is also deleted. Terminating a child that is not running is not an
    /// error.
    ///
    /// # Cancel safety
    /// Once first polled, the command is sent and the supervisor carries it out; dropping the
    /// future only gives up its result.
    pub async fn terminate_child(&self, child: impl Into<ChildRef>) -> Result<(), SupervisorError> {
        let child = child.into();
        self.request(|r| Cmd::Terminate(child, r)).await
    }

    /// Starts a terminated child again (OTP's `restart_child`).
    ///
    /// # Cancel safety
    /// Once first polled, the command is sent and the supervisor carries it out; dropping the
    /// future only gives up its result.
    pub async fn restart_child(&self, child: impl Into<ChildRef>) -> Result<(), SupervisorError> {
        let child = child.into();
        self.request(|r| Cmd::Restart(child, r)).await
    }

    /// Deletes the specification of a terminated child (OTP's `delete_child`).
    ///
    /// # Cancel safety
    /// Once first polled, the command is sent and the supervisor carries it out; dropping the
    /// future only gives up its result.
    pub async fn delete_child(&self, child: impl Into<ChildRef>) -> Result<(), SupervisorError> {
        let child = child.into();
        self.request(|r| Cmd::Delete(child, r)).await
    }

    /// A child's specification (OTP's `get_childspec`): its id, name, restart type, shutdown,
    /// kind and significance. A child not held gives
    /// [`NotFound`](SupervisorError::NotFound).
    pub async fn child_spec(
        &self,
        child: impl Into<ChildRef>,
    ) -> Result<ChildSpecView, SupervisorError> {
        let child = child.into();
        self.request(|r| Cmd::Spec(child, r)).await
    }

    /// The events of the supervisor's children from now on: started, exited, stopped,
    /// restarted, given up on, and the supervisor's own end; see [`ChildEvents`]. Each call
    /// subscribes anew; a supervisor that has ended for good gives a stream that has ended.
    ///
    /// Nothing is kept for the events until the first subscription, and a reader that falls
    /// behind never slows the supervisor: it misses the oldest events and is told how many.
    pub fn child_events(&self) -> ChildEvents {
        ChildEvents {
            rx: self.shared.subscribe(),
            missed: 0,
        }
    }

    /// The children, newest first (OTP's `which_children`).
    ///
    /// # Cancel safety
    /// Cancel safe: it changes nothing.
    pub async fn which_children(&self) -> Result<Vec<ChildInfo>, SupervisorError> {
        self.request(Cmd::Which).await
    }

    /// How many children, by kind and state (OTP's `count_children`).
    ///
    /// # Cancel safety
    /// Cancel safe: it changes nothing.
    pub async fn count_children(&self) -> Result<ChildCount, SupervisorError> {
        self.request(Cmd::Count).await
    }

    /// Stops every child, in reverse start order, then the supervisor. Returns when done.
    ///
    /// # Cancel safety
    /// Once first polled, the stop is sent and happens all the same; dropping the future only
    /// gives up waiting for it.
    pub async fn stop(&self) -> Result<(), SupervisorError> {
        self.request(Cmd::Stop).await
    }

    /// Waits until the supervisor has ended for good, and says why: stopped, shut down by
    /// its parent, gave up past its intensity (with the child that tipped it), or shut down
    /// by a significant child.
    ///
    /// # Cancel safety
    /// Cancel safe: it only waits.
    pub async fn stopped(&self) -> SupervisorExit {
        let ended = self.shared.ended.notified();
        tokio::pin!(ended);
        ended.as_mut().enable();
        if !self.is_stopped() {
            ended.await;
        }
        self.exit_reason().unwrap_or(SupervisorExit::Shutdown)
    }

    /// Why the supervisor ended, once it has ended for good; `None` before.
    pub fn exit_reason(&self) -> Option<SupervisorExit> {
        if !self.is_stopped() {
            return None;
        }
        Some(self.shared.exit().unwrap_or(SupervisorExit::Shutdown))
    }

    /// Whether the supervisor has ended for good.
    pub fn is_stopped(&self) -> bool {
        self.shared.done.load(Ordering::Acquire)
    }
}

impl fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Supervisor")
            .field("name", &self.shared.name)
            .finish_non_exhaustive()
    }
}

pub(super) type Template = Arc<dyn Fn(Box<dyn Any + Send>) -> Option<ChildSpec> + Send + Sync>;

/// Configures a supervisor: OTP's supervisor flags and child specifications.
///
/// ```
/// # use event_core::*;
/// # use std::time::Duration;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let sup = Supervisor::builder()
///     .name("top")
///     .strategy(Strategy::OneForOne)
///     .intensity(Intensity::new(3, Duration::from_secs(10)))
///     .child(ChildSpec::task("worker", |stop| async move {
///         stop.stopped().await;
///         Ok(())
///     }))
///     .start()
///     .await?;
/// assert_eq!(sup.count_children().await?.active, 1);
/// sup.stop().await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Default)]
#[must_use = "a builder does nothing until started"]
pub struct SupervisorBuilder {
    pub(super) name: Option<String>,
    pub(super) strategy: Strategy,
    pub(super) intensity: Intensity,
    pub(super) auto_shutdown: AutoShutdown,
    pub(super) children: Vec<ChildSpec>,
    pub(super) template: Option<(Template, &'static str)>,
    pub(super) child_events_capacity: Option<usize>,
}

impl SupervisorBuilder {
    /// Names the supervisor, for logs.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The restart strategy (default [`Strategy::OneForOne`]).
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// The restart intensity (default 1 restart in 5 seconds, as OTP).
    pub fn intensity(mut self, intensity: Intensity) -> Self {
        self.intensity = intensity;
        self
    }

    /// When significant children shut the supervisor down (default never). A
    /// [`Strategy::SimpleOneForOne`] supervisor refuses any other (OTP's `bad_combination`).
    pub fn auto_shutdown(mut self, auto_shutdown: AutoShutdown) -> Self {
        self.auto_shutdown = auto_shutdown;
        self
    }

    /// How many [child events](Supervisor::child_events) a reader may fall behind by before it
    /// misses the oldest (default 256). The buffer is made at the first subscription, shared
    /// by every reader.
    pub fn child_events_capacity(mut self, capacity: usize) -> Self {
        self.child_events_capacity = Some(capacity);
        self
    }

    /// A child, started after those added before it and stopped before them.
    pub fn child(mut self, spec: ChildSpec) -> Self {
        self.children.push(spec);
        self
    }

    /// The template of a [`Strategy::SimpleOneForOne`] supervisor: each
    /// [`start_dynamic`](Supervisor::start_dynamic) calls it with its args for the child's
    /// specification (whose id is not used: dynamic children are numbered).
    pub fn template<A, F>(mut self, template: F) -> Self
    where
        A: Any + Send,
        F: Fn(A) -> ChildSpec + Send + Sync + 'static,
    {
        // The template and what it captured are the user's: dropped under a guard.
        let template = callback::Owned::new(template);
        let t: Template = Arc::new(move |args: Box<dyn Any + Send>| {
            args.downcast::<A>().ok().map(|a| (*template)(*a))
        });
        self.template = Some((t, std::any::type_name::<A>()));
        self
    }

    fn validate(&self) -> Result<(), SupervisorError> {
        let bad = |m: String| Err(SupervisorError::BadSpec(m));
        if self.child_events_capacity == Some(0) {
            return bad(
                "the child events' capacity is zero: a reader needs room for at least one event"
                    .into(),
            );
        }
        if self.intensity.period().is_zero() {
            return bad(
                "the intensity's period is zero: restarts are counted over a period, give it one"
                    .into(),
            );
        }
        match (self.strategy, &self.template) {
            (Strategy::SimpleOneForOne, None) => {
                return bad("a simple_one_for_one supervisor needs exactly one template: add one with .template(...)".into())
            }
            (Strategy::SimpleOneForOne, Some(_)) if !self.children.is_empty() => {
                return bad("a simple_one_for_one supervisor has no static children, only its template; start children with start_dynamic".into())
            }
            (s, Some(_)) if s != Strategy::SimpleOneForOne => {
                return bad("a template is only for a simple_one_for_one supervisor".into())
            }
            _ => {}
        }
        if self.strategy == Strategy::SimpleOneForOne && self.auto_shutdown != AutoShutdown::Never {
            return bad(format!(
                "a simple_one_for_one supervisor cannot shut down on its significant children (auto_shutdown {:?}; OTP's bad_combination): its children come and go by start_dynamic; leave auto_shutdown Never",
                self.auto_shutdown
            ));
        }
        for (i, c) in self.children.iter().enumerate() {
            check_spec(c, self.auto_shutdown)?;
            if self.children[..i].iter().any(|o| o.id == c.id) {
                return bad(format!(
                    "two children have the id {:?}; child ids must be unique",
                    &*c.id
                ));
            }
        }
        Ok(())
    }

    /// Starts the supervisor and its children, in order. If a child fails to start, the ones
    /// started are stopped, in reverse order, and the start fails with
    /// [`SupervisorError::FailedToStartChild`].
    ///
    /// # Cancel safety
    /// Not cancel safe: the supervisor's task is spawned on the first poll, so dropped while its
    /// children start, the supervisor keeps running with no handle left to stop it. Give it a
    /// deadline with its children's own start timeouts rather than by dropping the start.
    #[doc(alias = "spawn")]
    pub async fn start(self) -> Result<Supervisor, SupervisorError> {
        tokio::runtime::Handle::try_current().map_err(|_| SupervisorError::NoRuntime)?;
        self.validate()?;
        let shared = Shared::new(self.name.clone(), self.child_events_capacity);
        let config = Arc::new(self);
        let Some(launch) = launch(&shared, &config, true) else {
            return Err(SupervisorError::SupervisorGone);
        };
        let ready = launch.ready;
        let name = shared.name.clone();
        crate::observe::task::spawn(
            move || format!("supervisor {name}"),
            CatchUnwind(launch.run),
        );
        let supervisor = Supervisor { shared };
        match ready {
            Some(ready) => match ready.await {
                Ok(Ok(())) => Ok(supervisor),
                // `Sup::run` reports a failed start as a `SupervisorError`; anything else is
                // still told, as the supervisor's own failure.
                Ok(Err(e)) => Err(match e.downcast::<SupervisorError>() {
                    Ok(e) => *e,
                    Err(e) => SupervisorError::FailedToStartChild {
                        id: ChildRef::Id(supervisor.name().into()),
                        reason: Cause::from_error(e),
                    },
                }),
                Err(_) => Err(SupervisorError::SupervisorGone),
            },
            None => Ok(supervisor),
        }
    }

    /// Makes this supervisor a child of another, with id `id`. The handle reaches whichever
    /// incarnation runs; the builder is kept to start each one. Once nothing can start it
    /// again (its parent ended for good or failed to start, its child was deleted, a temporary
    /// one ended, or the [`ChildSpec`] was dropped without being started), the handle's
    /// requests fail with [`SupervisorGone`](SupervisorError::SupervisorGone) and
    /// [`stopped`](Supervisor::stopped) returns.
    pub fn supervised(
        self,
        id: impl Into<Arc<str>>,
    ) -> Result<(Supervisor, ChildSpec), SupervisorError> {
        self.validate()?;
        let shared = Shared::new(self.name.clone(), self.child_events_capacity);
        let starter = SupStarter::new(shared.clone(), Arc::new(self));
        Ok((
            Supervisor { shared },
            ChildSpec::from_starter(id, Arc::new(starter), ChildKind::Supervisor),
        ))
    }
}

impl fmt::Debug for SupervisorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SupervisorBuilder")
            .field("name", &self.name)
            .field("strategy", &self.strategy)
            .field("intensity", &self.intensity)
            .field("auto_shutdown", &self.auto_shutdown)
            .field("children", &self.children)
            .field("template", &self.template.as_ref().map(|t| t.1))
            .field("child_events_capacity", &self.child_events_capacity)
            .finish()
    }
}

pub(super) fn check_spec(
    c: &ChildSpec,
    auto_shutdown: AutoShutdown,
) -> Result<(), SupervisorError> {
    if c.significant && auto_shutdown == AutoShutdown::Never {
        return Err(SupervisorError::BadSpec(format!(
            "child {:?} is significant, but the supervisor's auto_shutdown is Never: set .auto_shutdown(AutoShutdown::AnySignificant or AllSignificant), or make the child not significant",
            &*c.id
        )));
    }
    if c.significant && c.restart == Restart::Permanent {
        return Err(SupervisorError::BadSpec(format!(
            "child {:?} is significant and permanent: a permanent child is always restarted, so it could never shut its supervisor down; make it transient or temporary",
            &*c.id
        )));
    }
    Ok(())
}
