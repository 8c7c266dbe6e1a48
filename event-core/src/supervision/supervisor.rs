//! A supervisor's public face: its handle ([`Supervisor`]) and builder, its strategies, child
//! references and states, and its errors. Its task, which does the supervising, is in `run`.

use std::any::Any;
use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::sync::oneshot;

use super::child::{CatchUnwind, ChildKind, ChildSpec, Restart};
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
    /// A child of a [`Strategy::SimpleOneForOne`] supervisor, numbered in start order.
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
    /// Whether it runs.
    pub state: ChildState,
    /// Worker or supervisor.
    pub kind: ChildKind,
    /// Its restart type.
    pub restart: Restart,
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
#[derive(Clone, Debug, thiserror::Error)]
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
    pub async fn start_child(&self, spec: ChildSpec) -> Result<ChildRef, SupervisorError> {
        self.request(|r| Cmd::StartChild(spec, r)).await
    }

    /// Starts a child of a [`Strategy::SimpleOneForOne`] supervisor from its template, with
    /// `args` (OTP's `start_child(Sup, ExtraArgs)`). Returns the child's reference, or `None`
    /// when its start returned [`Start::ignore`](crate::Start::ignore): such a child is not
    /// kept (OTP's `{ok, undefined}`).
    pub async fn start_dynamic<A: Any + Send>(
        &self,
        args: A,
    ) -> Result<Option<ChildRef>, SupervisorError> {
        self.request(|r| Cmd::StartDynamic(Box::new(args), r)).await
    }

    /// Stops a child and keeps its specification (OTP's `terminate_child`); a temporary or
    /// dynamic child is also deleted. Terminating a child that is not running is not an
    /// error.
    pub async fn terminate_child(&self, child: impl Into<ChildRef>) -> Result<(), SupervisorError> {
        let child = child.into();
        self.request(|r| Cmd::Terminate(child, r)).await
    }

    /// Starts a terminated child again (OTP's `restart_child`).
    pub async fn restart_child(&self, child: impl Into<ChildRef>) -> Result<(), SupervisorError> {
        let child = child.into();
        self.request(|r| Cmd::Restart(child, r)).await
    }

    /// Deletes the specification of a terminated child (OTP's `delete_child`).
    pub async fn delete_child(&self, child: impl Into<ChildRef>) -> Result<(), SupervisorError> {
        let child = child.into();
        self.request(|r| Cmd::Delete(child, r)).await
    }

    /// The children, newest first (OTP's `which_children`).
    pub async fn which_children(&self) -> Result<Vec<ChildInfo>, SupervisorError> {
        self.request(Cmd::Which).await
    }

    /// How many children, by kind and state (OTP's `count_children`).
    pub async fn count_children(&self) -> Result<ChildCount, SupervisorError> {
        self.request(Cmd::Count).await
    }

    /// Stops every child, in reverse start order, then the supervisor. Returns when done.
    pub async fn stop(&self) -> Result<(), SupervisorError> {
        self.request(Cmd::Stop).await
    }

    /// Waits until the supervisor has ended for good.
    pub async fn stopped(&self) {
        let ended = self.shared.ended.notified();
        tokio::pin!(ended);
        ended.as_mut().enable();
        if self.is_stopped() {
            return;
        }
        ended.await;
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
        let t: Template = Arc::new(move |args: Box<dyn Any + Send>| {
            args.downcast::<A>().ok().map(|a| template(*a))
        });
        self.template = Some((t, std::any::type_name::<A>()));
        self
    }

    fn validate(&self) -> Result<(), SupervisorError> {
        let bad = |m: String| Err(SupervisorError::BadSpec(m));
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
    pub async fn start(self) -> Result<Supervisor, SupervisorError> {
        tokio::runtime::Handle::try_current().map_err(|_| SupervisorError::NoRuntime)?;
        self.validate()?;
        let shared = Shared::new(self.name.clone());
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
    /// incarnation runs; the builder is kept to start each one.
    pub fn supervised(
        self,
        id: impl Into<Arc<str>>,
    ) -> Result<(Supervisor, ChildSpec), SupervisorError> {
        self.validate()?;
        let shared = Shared::new(self.name.clone());
        let starter = SupStarter {
            shared: shared.clone(),
            config: Arc::new(self),
        };
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
