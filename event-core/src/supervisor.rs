//! Supervisors: OTP's strategies, restart types, intensity, shutdowns, significant children
//! and child administration, for trees of event managers, guards, tasks and supervisors.

use std::any::Any;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, oneshot, Notify};
use tokio::task::AbortHandle;

use crate::callback;
use crate::child::{
    CatchUnwind, ChildExit, ChildKind, ChildSpec, Launch, Restart, Shutdown, Start, Starter,
};
use crate::exit::Cause;
use crate::handler::{BoxError, BoxFuture};
use crate::mailbox::next_uid;
use crate::restart::{Intensity, RestartWindow};

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
    /// from the template with its own args. Children are stopped in parallel.
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

type Reply<T> = oneshot::Sender<Result<T, SupervisorError>>;

enum Cmd {
    StartChild(ChildSpec, Reply<ChildRef>),
    StartDynamic(Box<dyn Any + Send>, Reply<Option<ChildRef>>),
    Terminate(ChildRef, Reply<()>),
    Restart(ChildRef, Reply<()>),
    Delete(ChildRef, Reply<()>),
    Which(Reply<Vec<ChildInfo>>),
    Count(Reply<ChildCount>),
    Stop(Reply<()>),
}

/// What every handle to one supervisor shares, across its restarts.
struct Shared {
    uid: u64,
    name: Box<str>,
    tx: mpsc::UnboundedSender<Cmd>,
    /// The commands, held here between incarnations; `None` once retired.
    rx: Mutex<Option<mpsc::UnboundedReceiver<Cmd>>>,
    /// Not running and not being restarted: requests fail at once.
    parked: AtomicBool,
    done: AtomicBool,
    ended: Notify,
}

impl Shared {
    fn new(name: Option<String>) -> Arc<Self> {
        let uid = next_uid();
        let (tx, rx) = mpsc::unbounded_channel();
        Arc::new(Shared {
            uid,
            name: name
                .unwrap_or_else(|| format!("supervisor#{uid}"))
                .into_boxed_str(),
            tx,
            rx: Mutex::new(Some(rx)),
            parked: AtomicBool::new(false),
            done: AtomicBool::new(false),
            ended: Notify::new(),
        })
    }

    fn take_rx(&self) -> Option<mpsc::UnboundedReceiver<Cmd>> {
        self.rx.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    fn put_rx(&self, rx: mpsc::UnboundedReceiver<Cmd>) {
        *self.rx.lock().unwrap_or_else(|e| e.into_inner()) = Some(rx);
    }

    fn is_parked(&self) -> bool {
        self.parked.load(Ordering::Acquire)
    }

    /// Fails what is queued, and what comes, until the next start.
    fn park(&self) {
        self.parked.store(true, Ordering::Release);
        self.drain();
    }

    /// Drops the queued commands if no incarnation holds them: their callers learn that the
    /// supervisor is gone.
    fn drain(&self) {
        if let Some(rx) = self.rx.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            while rx.try_recv().is_ok() {}
        }
    }

    fn retire(&self) {
        drop(self.take_rx());
        self.done.store(true, Ordering::Release);
        self.ended.notify_waiters();
    }
}

/// A handle to a supervisor: start, stop and inspect its children (OTP's `supervisor`
/// module). Cheap to clone; a handle to a nested supervisor reaches whichever incarnation
/// runs.
///
/// A supervisor runs until [`stop`](Supervisor::stop)ped, until it reaches its restart
/// intensity, or until its significant children end; dropping the handles does not stop it.
#[derive(Clone)]
pub struct Supervisor {
    shared: Arc<Shared>,
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

type Template = Arc<dyn Fn(Box<dyn Any + Send>) -> Option<ChildSpec> + Send + Sync>;

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
    name: Option<String>,
    strategy: Strategy,
    intensity: Intensity,
    auto_shutdown: AutoShutdown,
    children: Vec<ChildSpec>,
    template: Option<(Template, &'static str)>,
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

    /// When significant children shut the supervisor down (default never).
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
        tokio::spawn(CatchUnwind(launch.run));
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

fn check_spec(c: &ChildSpec, auto_shutdown: AutoShutdown) -> Result<(), SupervisorError> {
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
    if c.shutdown == Shutdown::Timeout(std::time::Duration::ZERO) {
        return Err(SupervisorError::BadSpec(format!(
            "child {:?} has a shutdown timeout of zero; use Shutdown::BrutalKill to kill it at once",
            &*c.id
        )));
    }
    Ok(())
}

struct SupStarter {
    shared: Arc<Shared>,
    config: Arc<SupervisorBuilder>,
}

impl Starter for SupStarter {
    fn start(&self) -> BoxFuture<'static, Result<Start, BoxError>> {
        let launch = launch(&self.shared, &self.config, false);
        Box::pin(async move {
            match launch {
                Some(l) => Ok(Start(Some(l))),
                None => Err("the supervisor has been retired".into()),
            }
        })
    }

    fn retire(&self) {
        self.shared.retire();
        for c in &self.config.children {
            c.starter.retire();
        }
    }

    fn park(&self) {
        self.shared.park();
    }
}

/// An incarnation of a supervisor, ready to be spawned.
fn launch(shared: &Arc<Shared>, config: &Arc<SupervisorBuilder>, top: bool) -> Option<Launch> {
    let rx = shared.take_rx()?;
    shared.parked.store(false, Ordering::Release);
    let (ready_tx, ready_rx) = oneshot::channel();
    let (events_tx, events_rx) = mpsc::unbounded_channel();
    let sup = Sup {
        shared: shared.clone(),
        rx: Some(rx),
        top,
        strategy: config.strategy,
        window: RestartWindow::new(config.intensity),
        auto_shutdown: config.auto_shutdown,
        template: config.template.clone(),
        children: Vec::new(),
        next_dynamic: 0,
        events_tx,
        events_rx,
        ending: None,
        retries: Default::default(),
        stop_reply: None,
    };
    let specs = config.children.clone();
    // The stop of this incarnation only: one that ended on its own before the stop came
    // must not pass it on to the next.
    let (halt_tx, halt_rx) = oneshot::channel();
    Some(Launch {
        run: Box::pin(sup.run(specs, ready_tx, halt_rx)),
        ready: Some(ready_rx),
        stop: Box::new(move |_| {
            let _ = halt_tx.send(());
        }),
    })
}

/// A running child, as its supervisor holds it. Dropping it aborts the child, so a
/// supervisor that is itself killed takes its children with it.
struct Running {
    uid: u64,
    abort: AbortHandle,
    done: oneshot::Receiver<ChildExit>,
    stop: Option<Box<dyn FnOnce(bool) + Send + Sync>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.abort.abort();
    }
}

enum State {
    Running(Running),
    Restarting,
    NotRunning,
}

struct Child {
    key: ChildRef,
    spec: ChildSpec,
    state: State,
    /// From the supervisor's own specification, not added later.
    fixed: bool,
}

impl Child {
    fn running_uid(&self) -> Option<u64> {
        match &self.state {
            State::Running(r) => Some(r.uid),
            _ => None,
        }
    }

    fn info(&self) -> ChildInfo {
        ChildInfo {
            id: self.key.clone(),
            state: match self.state {
                State::Running(_) => ChildState::Running,
                State::Restarting => ChildState::Restarting,
                State::NotRunning => ChildState::NotRunning,
            },
            kind: self.spec.kind,
            restart: self.spec.restart,
        }
    }
}

enum Next {
    Exited(Exited),
    /// Its parent asked it to stop (`true`), or dropped the means to (`false`).
    Halt(bool),
    Cmd(Cmd),
    Retry(ChildRef),
}

/// A child ended on its own.
struct Exited {
    uid: u64,
    exit: ChildExit,
}

struct Sup {
    shared: Arc<Shared>,
    rx: Option<mpsc::UnboundedReceiver<Cmd>>,
    top: bool,
    strategy: Strategy,
    window: RestartWindow,
    auto_shutdown: AutoShutdown,
    template: Option<(Template, &'static str)>,
    /// In start order.
    children: Vec<Child>,
    next_dynamic: u64,
    events_tx: mpsc::UnboundedSender<Exited>,
    events_rx: mpsc::UnboundedReceiver<Exited>,
    /// Set when the supervisor is to end, with how.
    ending: Option<ChildExit>,
    /// Children whose restart failed, to be tried again.
    retries: std::collections::VecDeque<ChildRef>,
    /// The reply to a `stop`, sent once the supervisor has ended.
    stop_reply: Option<Reply<()>>,
}

impl Drop for Sup {
    fn drop(&mut self) {
        // Children first: dropping their `Running` aborts whatever still runs.
        self.children.clear();
        if let Some(rx) = self.rx.take() {
            if self.top {
                drop(rx);
                self.shared.retire();
            } else {
                self.shared.put_rx(rx);
            }
        }
        if let Some(reply) = self.stop_reply.take() {
            let _ = reply.send(Ok(()));
        }
    }
}

static NEXT_CHILD: AtomicU64 = AtomicU64::new(1);

impl Sup {
    fn name(&self) -> &str {
        &self.shared.name
    }

    async fn run(
        mut self,
        specs: Vec<ChildSpec>,
        ready: oneshot::Sender<Result<(), BoxError>>,
        halt: oneshot::Receiver<()>,
    ) -> ChildExit {
        for spec in specs {
            let key = ChildRef::Id(spec.id.clone());
            match self.start_spec(&spec).await {
                Ok(running) => {
                    if running.is_none() && spec.restart == Restart::Temporary {
                        continue;
                    }
                    self.children.push(Child {
                        key,
                        state: running.map_or(State::NotRunning, State::Running),
                        spec,
                        fixed: true,
                    });
                }
                Err(reason) => {
                    tracing::error!(supervisor = self.name(), child = %key, reason = %reason, "child failed to start; the supervisor does not start");
                    self.stop_all(false).await;
                    // A nested supervisor's start may be tried again by its parent: its own
                    // children's handles must still reach the next try.
                    self.retire_children(!self.top);
                    let _ = ready.send(Err(Box::new(SupervisorError::FailedToStartChild {
                        id: key,
                        reason,
                    })));
                    return ChildExit::Shutdown;
                }
            }
        }
        let _ = ready.send(Ok(()));
        let mut halt = Some(halt);
        while self.ending.is_none() {
            let Some(rx) = self.rx.as_mut() else { break };
            let retries = &mut self.retries;
            let halted = async {
                match halt.as_mut() {
                    Some(h) => h.await.is_ok(),
                    None => std::future::pending().await,
                }
            };
            let next = tokio::select! {
                biased;
                Some(ev) = self.events_rx.recv() => Next::Exited(ev),
                asked = halted => Next::Halt(asked),
                Some(cmd) = rx.recv() => Next::Cmd(cmd),
                // A failed restart is tried again behind the requests already queued, as
                // OTP's `try_again_restart`: meanwhile the child is seen restarting.
                Some(key) = async { retries.pop_front() }, if !retries.is_empty() => Next::Retry(key),
                else => break,
            };
            match next {
                Next::Exited(Exited { uid, exit }) => self.exited(uid, exit).await,
                Next::Halt(true) => self.ending = Some(ChildExit::Shutdown),
                // The stop was dropped unused: nothing can stop this incarnation that way.
                Next::Halt(false) => halt = None,
                Next::Cmd(cmd) => self.command(cmd).await,
                Next::Retry(key) => {
                    if let Some(i) = self.find(&key) {
                        if matches!(self.children[i].state, State::Restarting) {
                            self.restart(i).await;
                        }
                    }
                }
            }
        }
        let exit = self.ending.take().unwrap_or(ChildExit::Shutdown);
        self.stop_all(false).await;
        self.retire_children(!self.top);
        exit
    }

    /// Retires children that will not come back: every one if the supervisor ends for good,
    /// else only those added after its start (a restart starts from its specification).
    fn retire_children(&mut self, only_added: bool) {
        for c in &self.children {
            if !only_added || !c.fixed {
                c.spec.starter.retire();
            }
        }
    }

    /// Starts one child: runs its start step inside this supervisor (a call back into it
    /// fails with `WouldDeadlock`), spawns it, and waits for it to finish starting.
    async fn start_spec(&self, spec: &ChildSpec) -> Result<Option<Running>, Cause> {
        let uid = self.shared.uid;
        let starter = spec.starter.clone();
        let fut = callback::catching(uid, move || starter.start())?;
        let Start(launch) = callback::guard(uid, fut).await?;
        let Some(launch) = launch else {
            return Ok(None);
        };
        let child_uid = NEXT_CHILD.fetch_add(1, Ordering::Relaxed);
        let (done_tx, done_rx) = oneshot::channel();
        let events = self.events_tx.clone();
        let run = launch.run;
        let handle = tokio::spawn(async move {
            let exit = CatchUnwind(run).await;
            let _ = done_tx.send(exit.clone());
            let _ = events.send(Exited {
                uid: child_uid,
                exit,
            });
        });
        let mut running = Running {
            uid: child_uid,
            abort: handle.abort_handle(),
            done: done_rx,
            stop: Some(launch.stop),
        };
        if let Some(ready) = launch.ready {
            let failed = match ready.await {
                Ok(Ok(())) => return Ok(Some(running)),
                Ok(Err(e)) => Cause::from_error(e),
                Err(_) => match (&mut running.done).await {
                    Ok(ChildExit::Failed(c)) => c,
                    Ok(other) => Cause::Panic(format!("ended while starting ({other})").into()),
                    Err(_) => Cause::Panic("killed while starting".into()),
                },
            };
            // The child ends itself after a failed start.
            let _ = (&mut running.done).await;
            return Err(failed);
        }
        Ok(Some(running))
    }

    async fn stop_child(running: Running, shutdown: Shutdown, restarting: bool) -> ChildExit {
        let mut running = running;
        let mut done = std::mem::replace(&mut running.done, oneshot::channel().1);
        let stop = running.stop.take();
        let killed = |r: Result<ChildExit, _>| r.unwrap_or(ChildExit::Killed);
        match shutdown {
            Shutdown::BrutalKill => {
                running.abort.abort();
                killed((&mut done).await)
            }
            Shutdown::Timeout(t) => {
                if let Some(stop) = stop {
                    stop(restarting);
                }
                match tokio::time::timeout(t, &mut done).await {
                    Ok(r) => killed(r),
                    Err(_) => {
                        running.abort.abort();
                        let _ = (&mut done).await;
                        ChildExit::Killed
                    }
                }
            }
            Shutdown::Infinity => {
                if let Some(stop) = stop {
                    stop(restarting);
                }
                killed((&mut done).await)
            }
        }
    }

    /// Stops the running children at `range`, newest first (in parallel for dynamic ones).
    async fn stop_range(&mut self, from: usize, except: Option<usize>, restarting: bool) {
        if self.strategy == Strategy::SimpleOneForOne {
            let mut stops = Vec::new();
            for (i, c) in self.children.iter_mut().enumerate().skip(from) {
                if Some(i) == except {
                    continue;
                }
                if let State::Running(r) = std::mem::replace(&mut c.state, State::NotRunning) {
                    stops.push(tokio::spawn(Self::stop_child(r, c.spec.shutdown, false)));
                }
            }
            for s in stops {
                let _ = s.await;
            }
            return;
        }
        for i in (from..self.children.len()).rev() {
            if Some(i) == except {
                continue;
            }
            let c = &mut self.children[i];
            if let State::Running(r) = std::mem::replace(&mut c.state, State::NotRunning) {
                let restarting = restarting && c.spec.restart != Restart::Temporary;
                Self::stop_child(r, c.spec.shutdown, restarting).await;
            }
        }
    }

    async fn stop_all(&mut self, restarting: bool) {
        self.stop_range(0, None, restarting).await;
    }

    fn find(&self, key: &ChildRef) -> Option<usize> {
        self.children.iter().position(|c| c.key == *key)
    }

    fn remove(&mut self, i: usize) {
        let c = self.children.remove(i);
        c.spec.starter.retire();
    }

    async fn exited(&mut self, uid: u64, exit: ChildExit) {
        let Some(i) = self
            .children
            .iter()
            .position(|c| c.running_uid() == Some(uid))
        else {
            return; // stopped by this supervisor already
        };
        self.children[i].state = State::NotRunning;
        self.child_exited(i, exit).await;
    }

    async fn child_exited(&mut self, i: usize, exit: ChildExit) {
        let c = &self.children[i];
        let restart = match c.spec.restart {
            Restart::Permanent => true,
            Restart::Transient => !exit.is_normal_or_shutdown(),
            Restart::Temporary => false,
        };
        if matches!(exit, ChildExit::Failed(_) | ChildExit::Killed) {
            tracing::error!(supervisor = self.name(), child = %c.key, reason = %exit, "child terminated");
        }
        if restart {
            self.restart(i).await;
            return;
        }
        let significant = c.spec.significant;
        if c.spec.restart == Restart::Temporary || self.strategy == Strategy::SimpleOneForOne {
            self.remove(i);
        } else {
            c.spec.starter.park();
        }
        if significant {
            let shut = match self.auto_shutdown {
                AutoShutdown::Never => false,
                AutoShutdown::AnySignificant => true,
                AutoShutdown::AllSignificant => !self
                    .children
                    .iter()
                    .any(|c| c.spec.significant && !matches!(c.state, State::NotRunning)),
            };
            if shut {
                tracing::info!(
                    supervisor = self.name(),
                    "a significant child ended; the supervisor shuts down"
                );
                self.ending = Some(ChildExit::Shutdown);
            }
        }
    }

    /// Restarts the child at `i` as the strategy says, counting the restart.
    async fn restart(&mut self, i: usize) {
        if !self.window.allow() {
            tracing::error!(supervisor = self.name(), child = %self.children[i].key, "reached its restart intensity; shutting down");
            self.ending = Some(ChildExit::Shutdown);
            return;
        }
        let from = match self.strategy {
            Strategy::OneForOne | Strategy::SimpleOneForOne => {
                self.start_group(i, i + 1).await;
                return;
            }
            Strategy::OneForAll => 0,
            Strategy::RestForOne => i,
        };
        self.stop_range(from, Some(i), true).await;
        // Temporary children stopped as bystanders are not restarted: they are dropped.
        let key = self.children[i].key.clone();
        let mut j = from;
        while j < self.children.len() {
            if self.children[j].spec.restart == Restart::Temporary && self.children[j].key != key {
                self.remove(j);
            } else {
                j += 1;
            }
        }
        let end = self.children.len();
        self.start_group(from, end).await;
    }

    /// Starts the children in `from..to` that are not running, in order. A failure marks the
    /// child restarting and tries again later (each try counts), the ones after it not
    /// running.
    async fn start_group(&mut self, from: usize, to: usize) {
        for j in from..to.min(self.children.len()) {
            if matches!(self.children[j].state, State::Running(_)) {
                continue;
            }
            let spec = self.children[j].spec.clone();
            match self.start_spec(&spec).await {
                Ok(Some(r)) => self.children[j].state = State::Running(r),
                Ok(None) => self.children[j].state = State::NotRunning,
                Err(reason) => {
                    let key = self.children[j].key.clone();
                    tracing::error!(supervisor = self.name(), child = %key, reason = %reason, "child failed to restart; trying again");
                    self.children[j].state = State::Restarting;
                    self.retries.push_back(key);
                    return;
                }
            }
        }
    }

    async fn command(&mut self, cmd: Cmd) {
        let sofo = self.strategy == Strategy::SimpleOneForOne;
        const NO_IDS: &str = "the children of a simple_one_for_one supervisor are started with start_dynamic and have no ids to restart or delete";
        match cmd {
            Cmd::StartChild(spec, reply) => {
                let r = if sofo {
                    Err(SupervisorError::SimpleOneForOne("a simple_one_for_one supervisor starts children from its template: use start_dynamic"))
                } else {
                    self.start_child(spec).await
                };
                let _ = reply.send(r);
            }
            Cmd::StartDynamic(args, reply) => {
                let _ = reply.send(self.start_dynamic(args).await);
            }
            Cmd::Terminate(key, reply) => {
                let r = match (sofo, &key, self.find(&key)) {
                    (true, ChildRef::Id(_), _) => Err(SupervisorError::SimpleOneForOne(NO_IDS)),
                    // A dynamic child that has ended is terminated already.
                    (true, ChildRef::Dynamic(n), None) if *n <= self.next_dynamic => Ok(()),
                    (_, _, None) => Err(SupervisorError::NotFound(key)),
                    (_, _, Some(i)) => {
                        if let State::Running(r) =
                            std::mem::replace(&mut self.children[i].state, State::NotRunning)
                        {
                            Self::stop_child(r, self.children[i].spec.shutdown, false).await;
                        }
                        if sofo || self.children[i].spec.restart == Restart::Temporary {
                            self.remove(i);
                        } else {
                            self.children[i].spec.starter.park();
                        }
                        Ok(())
                    }
                };
                let _ = reply.send(r);
            }
            Cmd::Restart(key, reply) => {
                let r = match self.admin_target(&key, sofo, NO_IDS) {
                    Err(e) => Err(e),
                    Ok(i) => {
                        let spec = self.children[i].spec.clone();
                        match self.start_spec(&spec).await {
                            Ok(Some(r)) => {
                                self.children[i].state = State::Running(r);
                                Ok(())
                            }
                            Ok(None) => Ok(()),
                            Err(reason) => Err(SupervisorError::StartFailed { id: key, reason }),
                        }
                    }
                };
                let _ = reply.send(r);
            }
            Cmd::Delete(key, reply) => {
                let r = self
                    .admin_target(&key, sofo, NO_IDS)
                    .map(|i| self.remove(i));
                let _ = reply.send(r);
            }
            Cmd::Which(reply) => {
                let _ = reply.send(Ok(self.children.iter().rev().map(Child::info).collect()));
            }
            Cmd::Count(reply) => {
                let mut n = ChildCount {
                    // A simple_one_for_one supervisor holds one specification: its template.
                    specs: if sofo { 1 } else { self.children.len() },
                    ..ChildCount::default()
                };
                for c in &self.children {
                    if matches!(c.state, State::Running(_)) {
                        n.active += 1;
                    }
                    match c.spec.kind {
                        ChildKind::Worker => n.workers += 1,
                        ChildKind::Supervisor => n.supervisors += 1,
                    }
                }
                let _ = reply.send(Ok(n));
            }
            Cmd::Stop(reply) => {
                self.ending = Some(ChildExit::Normal);
                // Answered once the supervisor has ended (see `Drop`).
                self.stop_reply = Some(reply);
            }
        }
    }

    /// The child a restart_child or delete_child acts on: present and not running.
    fn admin_target(
        &self,
        key: &ChildRef,
        sofo: bool,
        no_ids: &'static str,
    ) -> Result<usize, SupervisorError> {
        if sofo {
            return Err(SupervisorError::SimpleOneForOne(no_ids));
        }
        let i = self
            .find(key)
            .ok_or_else(|| SupervisorError::NotFound(key.clone()))?;
        match self.children[i].state {
            State::Running(_) => Err(SupervisorError::Running(key.clone())),
            State::Restarting => Err(SupervisorError::Restarting(key.clone())),
            State::NotRunning => Ok(i),
        }
    }

    async fn start_child(&mut self, spec: ChildSpec) -> Result<ChildRef, SupervisorError> {
        check_spec(&spec, self.auto_shutdown)?;
        let key = ChildRef::Id(spec.id.clone());
        if let Some(i) = self.find(&key) {
            return Err(match self.children[i].state {
                State::Running(_) => SupervisorError::AlreadyStarted(key),
                _ => SupervisorError::AlreadyPresent(key),
            });
        }
        match self.start_spec(&spec).await {
            Ok(running) => {
                if running.is_some() || spec.restart != Restart::Temporary {
                    self.children.push(Child {
                        key: key.clone(),
                        state: running.map_or(State::NotRunning, State::Running),
                        spec,
                        fixed: false,
                    });
                }
                Ok(key)
            }
            Err(reason) => Err(SupervisorError::StartFailed { id: key, reason }),
        }
    }

    async fn start_dynamic(
        &mut self,
        args: Box<dyn Any + Send>,
    ) -> Result<Option<ChildRef>, SupervisorError> {
        let Some((template, expected)) = self.template.clone() else {
            return Err(SupervisorError::SimpleOneForOne(
                "start_dynamic is for simple_one_for_one supervisors; use start_child",
            ));
        };
        let uid = self.shared.uid;
        let spec = match callback::catching(uid, || template(args)) {
            Ok(Some(spec)) => spec,
            Ok(None) => return Err(SupervisorError::WrongArgs { expected }),
            Err(reason) => {
                return Err(SupervisorError::StartFailed {
                    id: ChildRef::Dynamic(self.next_dynamic + 1),
                    reason,
                })
            }
        };
        check_spec(&spec, self.auto_shutdown)?;
        self.next_dynamic += 1;
        let key = ChildRef::Dynamic(self.next_dynamic);
        match self.start_spec(&spec).await {
            Ok(Some(r)) => {
                self.children.push(Child {
                    key: key.clone(),
                    spec,
                    state: State::Running(r),
                    fixed: false,
                });
                Ok(Some(key))
            }
            // An ignored dynamic child is not kept: there is nothing to name.
            Ok(None) => Ok(None),
            Err(reason) => Err(SupervisorError::StartFailed { id: key, reason }),
        }
    }
}
