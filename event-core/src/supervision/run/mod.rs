//! A supervisor's task: it starts its children, learns when one ends, and applies its strategy
//! (which children to restart), its restart types and its intensity; it answers the child
//! administration its handles ask for. [`Shared`] is what every handle of one supervisor holds
//! across its incarnations; `supervisor` is its public face.
//!
//! - `children`: the record of the children, found by reference in O(log N);
//! - `strategy`: what a child's end stops and restarts;
//! - `admin`: the commands of its handles.

use std::any::Any;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{broadcast, mpsc, oneshot, Notify};
use tracing::Instrument;

use self::children::{Child, Children, Origin, Running, State};
use super::child::{
    CatchUnwind, ChildExit, ChildSpec, Launch, Restart, Run, Shutdown, Start, Starter, Stop,
};
use super::events::{ChildEvent, SupervisorExit};
use super::snapshot::{Probe, Probed};
use super::supervisor::{
    AutoShutdown, ChildCount, ChildInfo, ChildRef, ChildSpecView, Strategy, Supervisor,
    SupervisorBuilder, SupervisorError, Template,
};
use crate::callback::{self, next_uid};
use crate::exit::Cause;
use crate::handler::{BoxError, BoxFuture};
use crate::intensity::RestartWindow;
use crate::observe::{self, span};

mod admin;
mod children;
mod strategy;

pub(super) type Reply<T> = oneshot::Sender<Result<T, SupervisorError>>;

pub(super) enum Cmd {
    StartChild(ChildSpec, Reply<ChildRef>),
    StartDynamic(Box<dyn Any + Send>, Reply<Option<ChildRef>>),
    Terminate(ChildRef, Reply<()>),
    Restart(ChildRef, Reply<()>),
    Delete(ChildRef, Reply<()>),
    Which(Reply<Vec<ChildInfo>>),
    /// The children, newest first, each with how it last ended and a probe if it runs and
    /// can be looked inside.
    /// With the restarts its intensity allows now.
    Probe(Reply<(u32, Vec<Probed>)>),
    Spec(ChildRef, Reply<ChildSpecView>),
    Count(Reply<ChildCount>),
    Stop(Reply<()>),
}

/// What every handle to one supervisor shares, across its restarts.
pub(super) struct Shared {
    pub(super) uid: u64,
    pub(super) name: Box<str>,
    pub(super) tx: mpsc::UnboundedSender<Cmd>,
    /// The commands, held here between incarnations; `None` once retired.
    rx: Mutex<Option<mpsc::UnboundedReceiver<Cmd>>>,
    /// Not running and not being restarted: requests fail at once.
    parked: AtomicBool,
    pub(super) done: AtomicBool,
    pub(super) ended: Notify,
    /// Why the latest incarnation ended.
    exit: Mutex<Option<SupervisorExit>>,
    /// Whether anyone ever subscribed to the child events: until then none is built.
    subscribed: AtomicBool,
    /// The child events, made at the first subscription; dropped once retired, which ends
    /// every reader's stream.
    events: Mutex<Option<broadcast::Sender<ChildEvent>>>,
    events_capacity: usize,
}

/// How many child events a reader may fall behind by, unless the builder says otherwise.
const CHILD_EVENTS_CAPACITY: usize = 256;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    pub(super) fn new(name: Option<String>, events_capacity: Option<usize>) -> Arc<Self> {
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
            exit: Mutex::new(None),
            subscribed: AtomicBool::new(false),
            events: Mutex::new(None),
            events_capacity: events_capacity.unwrap_or(CHILD_EVENTS_CAPACITY).max(1),
        })
    }

    /// A new reader of the child events; one that has ended if the supervisor has.
    pub(super) fn subscribe(&self) -> broadcast::Receiver<ChildEvent> {
        let mut events = lock(&self.events);
        if self.done.load(Ordering::Acquire) {
            return broadcast::channel(1).1;
        }
        let tx = events.get_or_insert_with(|| broadcast::channel(self.events_capacity).0);
        self.subscribed.store(true, Ordering::Release);
        tx.subscribe()
    }

    /// Sends the event `event` builds, if anyone reads them; it never waits.
    pub(super) fn emit(&self, event: impl FnOnce() -> ChildEvent) {
        if !self.subscribed.load(Ordering::Acquire) {
            return;
        }
        if let Some(tx) = lock(&self.events).as_ref() {
            if tx.receiver_count() > 0 {
                let _ = tx.send(event());
            }
        }
    }

    pub(super) fn exit(&self) -> Option<SupervisorExit> {
        lock(&self.exit).clone()
    }

    fn take_rx(&self) -> Option<mpsc::UnboundedReceiver<Cmd>> {
        self.rx.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    /// Keeps the commands for the next incarnation, unless the supervisor was retired
    /// meanwhile: then they are dropped, and their callers learn that it is gone.
    fn put_rx(&self, rx: mpsc::UnboundedReceiver<Cmd>) {
        *self.rx.lock().unwrap_or_else(|e| e.into_inner()) = Some(rx);
        // A retire that this check misses takes them after it has set `done`.
        if self.done.load(Ordering::Acquire) {
            drop(self.take_rx());
        }
    }

    pub(super) fn is_parked(&self) -> bool {
        self.parked.load(Ordering::Acquire)
    }

    /// Fails what is queued, and what comes, until the next start.
    fn park(&self) {
        self.parked.store(true, Ordering::Release);
        self.drain();
    }

    /// Drops the queued commands if no incarnation holds them: their callers learn that the
    /// supervisor is gone.
    pub(super) fn drain(&self) {
        if let Some(rx) = self.rx.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            while rx.try_recv().is_ok() {}
        }
    }

    fn retire(&self) {
        drop(self.take_rx());
        {
            // Under the lock a subscription checks `done` with: none comes after the drop.
            let mut events = lock(&self.events);
            events.take();
            self.done.store(true, Ordering::Release);
        }
        // Commands an incarnation put back as it was retired.
        drop(self.take_rx());
        self.ended.notify_waiters();
    }
}

pub(super) struct SupStarter {
    pub(super) shared: Arc<Shared>,
    pub(super) config: Arc<SupervisorBuilder>,
    /// Whether its last incarnation (a temporary child's) was launched: that one retires the
    /// supervisor as it ends, and this need not.
    pub(super) last_launched: AtomicBool,
}

impl SupStarter {
    pub(super) fn new(shared: Arc<Shared>, config: Arc<SupervisorBuilder>) -> Self {
        SupStarter {
            shared,
            config,
            last_launched: AtomicBool::new(false),
        }
    }
}

/// Nothing can start the supervisor any more once its parent's side drops what it holds of it
/// (its child specification dropped unused, a tree that failed to start before reaching it, a
/// record deleted): it is retired, so its handles' requests fail and their waits end rather
/// than hang. Its children's specifications go with it, and retire theirs.
impl Drop for SupStarter {
    fn drop(&mut self) {
        if !self.last_launched.load(Ordering::Relaxed) {
            self.shared.retire();
        }
    }
}

impl Starter for SupStarter {
    fn start(&self, restart: Restart) -> BoxFuture<'static, Result<Start, BoxError>> {
        // A temporary supervisor's one incarnation ends it for good, as a top supervisor's.
        let last = restart == Restart::Temporary;
        if last {
            self.last_launched.store(true, Ordering::Relaxed);
        }
        let launch = launch(&self.shared, &self.config, last);
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

    fn probe(&self) -> Option<Probe> {
        Some(Probe::Supervisor(Supervisor {
            shared: self.shared.clone(),
        }))
    }
}

/// An incarnation of a supervisor, ready to be spawned.
pub(super) fn launch(
    shared: &Arc<Shared>,
    config: &Arc<SupervisorBuilder>,
    top: bool,
) -> Option<Launch> {
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
        children: Children::new(),
        events_tx,
        events_rx,
        ending: None,
        ended: None,
        retries: VecDeque::new(),
        stop_reply: None,
    };
    let specs = config.children.clone();
    // The stop of this incarnation only: one that ended on its own before the stop came
    // must not pass it on to the next.
    let (halt_tx, halt_rx) = oneshot::channel();
    Some(Launch {
        run: Run::Child(Box::pin(
            sup.run(specs, ready_tx, halt_rx)
                .instrument(span::supervisor(&shared.name)),
        )),
        ready: Some(ready_rx),
        stop: Stop::Call(Box::new(move |_| {
            let _ = halt_tx.send(());
        })),
    })
}

enum Next {
    Exited(Exited),
    /// Its parent asked it to stop (`true`), or dropped the means to (`false`).
    Halt(bool),
    Cmd(Cmd),
    /// The position of a child whose restart failed, to try again, and how it failed.
    Retry(u64, ChildExit),
}

/// A child ended on its own.
struct Exited {
    pos: u64,
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
    children: Children,
    events_tx: mpsc::UnboundedSender<Exited>,
    events_rx: mpsc::UnboundedReceiver<Exited>,
    /// Set when the supervisor is to end, with why.
    ending: Option<SupervisorExit>,
    /// Why this incarnation ended, once it has; told as it is dropped (`None`: aborted).
    ended: Option<SupervisorExit>,
    /// The positions of children whose restart failed, to be tried again, and how it failed.
    retries: VecDeque<(u64, ChildExit)>,
    /// The reply to a `stop`, sent once the supervisor has ended.
    stop_reply: Option<Reply<()>>,
}

impl Drop for Sup {
    fn drop(&mut self) {
        if self.top {
            // Ended for good, even aborted: no child of it comes back.
            self.retire_children(false);
        }
        // Children first: dropping their `Running` aborts whatever still runs.
        self.children.clear();
        let exit = self.ended.take().unwrap_or(SupervisorExit::Killed);
        *lock(&self.shared.exit) = Some(exit.clone());
        self.shared.emit(|| ChildEvent::Ended(exit));
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

    fn sofo(&self) -> bool {
        self.strategy == Strategy::SimpleOneForOne
    }

    async fn run(
        mut self,
        specs: Vec<ChildSpec>,
        ready: oneshot::Sender<Result<(), BoxError>>,
        halt: oneshot::Receiver<()>,
    ) -> ChildExit {
        for spec in specs {
            let pos = self.children.reserve();
            let child = Child::new(spec, Origin::Fixed);
            match self.start(&child, pos).await {
                Ok(running) => {
                    if running.is_none() && child.restart == Restart::Temporary {
                        if self.top {
                            // Not kept, nor started again by a restart of this supervisor.
                            child.retire();
                        }
                        continue;
                    }
                    let ran = running.is_some();
                    let state = running.map_or(State::NotRunning, State::Running);
                    self.children.insert(pos, child, state);
                    if ran {
                        self.emit_started(pos);
                    }
                }
                Err(reason) => {
                    let key = child.key(pos);
                    tracing::error!(supervisor = self.name(), child = %child.label(pos), reason = %reason, "child failed to start; the supervisor does not start");
                    self.stop_all(false).await;
                    // A nested supervisor's start may be tried again by its parent: its own
                    // children's handles must still reach the next try.
                    self.retire_children(!self.top);
                    self.ended = Some(SupervisorExit::FailedToStart {
                        child: key.clone(),
                        reason: reason.clone(),
                    });
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
                Some((pos, exit)) = async { retries.pop_front() }, if !retries.is_empty() => Next::Retry(pos, exit),
                else => break,
            };
            match next {
                Next::Exited(Exited { pos, uid, exit }) => self.exited(pos, uid, exit).await,
                Next::Halt(true) => self.ending = Some(SupervisorExit::Shutdown),
                // The stop was dropped unused: nothing can stop this incarnation that way.
                Next::Halt(false) => halt = None,
                Next::Cmd(cmd) => self.command(cmd).await,
                Next::Retry(pos, exit) => {
                    let restarting = self
                        .children
                        .get(pos)
                        .is_some_and(|c| matches!(c.state(), State::Restarting));
                    if restarting {
                        self.restart(pos, exit).await;
                    }
                }
            }
        }
        let reason = self.ending.take().unwrap_or(SupervisorExit::Shutdown);
        self.stop_all(false).await;
        self.retire_children(!self.top);
        // Its parent sees a normal end after a stop, and a shutdown otherwise (as OTP's
        // supervisor exits `shutdown` when it gives up).
        let exit = match reason {
            SupervisorExit::Stopped => ChildExit::Normal,
            _ => ChildExit::Shutdown,
        };
        self.ended = Some(reason);
        exit
    }

    /// Tells that the child at `pos`, set running, started.
    pub(super) fn emit_started(&self, pos: u64) {
        self.shared.emit(|| {
            let c = self.children.at(pos);
            ChildEvent::Started {
                child: c.key(pos),
                name: c.name().clone(),
                incarnation: c.incarnation,
            }
        });
    }

    /// Tells that the supervisor stopped the child at `pos`, which ended with `exit`, and keeps
    /// that as how it last ended.
    pub(super) fn emit_stopped(&mut self, pos: u64, exit: ChildExit) {
        self.children.ended(pos, &exit);
        self.shared.emit(|| {
            let c = self.children.at(pos);
            ChildEvent::Stopped {
                child: c.key(pos),
                incarnation: c.incarnation,
                exit,
            }
        });
    }

    /// Retires children that will not come back: every one if the supervisor ends for good,
    /// else only those added after its start (a restart starts from its specification).
    fn retire_children(&mut self, only_added: bool) {
        for (_, c) in self.children.iter() {
            if !only_added || !c.fixed() {
                c.retire();
            }
        }
    }

    /// Starts `child`, at `pos`: runs its start step inside this supervisor (a call back into
    /// it fails with `WouldDeadlock`), spawns it, and waits for it to finish starting.
    async fn start(&self, child: &Child, pos: u64) -> Result<Option<Running>, Cause> {
        let uid = self.shared.uid;
        let Some(starter) = child.starter.clone() else {
            return Err(Cause::Panic(
                "internal: a temporary child is never started again".into(),
            ));
        };
        let restart = child.restart;
        let fut = callback::catching(uid, move || starter.start(restart))?;
        let Start(launch) = callback::guard(uid, fut).await?;
        let Some(launch) = launch else {
            return Ok(None);
        };
        let child_uid = NEXT_CHILD.fetch_add(1, Ordering::Relaxed);
        let events = self.events_tx.clone();
        let run = launch.run;
        let name = || format!("child {} of {}", child.key(pos), self.name());
        let task = observe::task::spawn(name, async move {
            let exit = CatchUnwind(run).await;
            let _ = events.send(Exited {
                pos,
                uid: child_uid,
                exit: exit.clone(),
            });
            exit
        });
        let mut running = Running {
            uid: child_uid,
            task,
            stop: Some(launch.stop),
        };
        match self.sofo() {
            // Dynamic children come and go often.
            true => {
                tracing::debug!(target: "event_core::supervisor", supervisor = self.name(), child = %child.label(pos), "child started")
            }
            false => {
                tracing::info!(target: "event_core::supervisor", supervisor = self.name(), child = %child.label(pos), "child started")
            }
        }
        if let Some(ready) = launch.ready {
            let failed = match ready.await {
                Ok(Ok(())) => return Ok(Some(running)),
                Ok(Err(e)) => Cause::from_error(e),
                Err(_) => match (&mut running.task).await {
                    Ok(ChildExit::Failed(c)) => c,
                    Ok(other) => Cause::Panic(format!("ended while starting ({other})").into()),
                    Err(_) => Cause::Panic("killed while starting".into()),
                },
            };
            // The child ends itself after a failed start.
            let _ = (&mut running.task).await;
            return Err(failed);
        }
        Ok(Some(running))
    }

    /// Stops a child and waits for its end.
    async fn stop_child(running: Running, shutdown: Shutdown, restarting: bool) -> ChildExit {
        let mut stopping = Stopping::new(running, shutdown, restarting);
        stopping.wait().await
    }
}

/// A child asked to stop (or aborted), and the deadline of its shutdown: the stops of several
/// children are all sent first, then waited for, so they run in parallel.
struct Stopping {
    running: Running,
    /// `None`: wait however long it takes.
    deadline: Option<tokio::time::Instant>,
}

impl Stopping {
    fn new(mut running: Running, shutdown: Shutdown, restarting: bool) -> Self {
        let stop = running.stop.take();
        let deadline = match shutdown {
            Shutdown::BrutalKill => {
                running.task.abort();
                None
            }
            Shutdown::Timeout(t) => {
                if let Some(stop) = stop {
                    stop.ask(restarting);
                }
                if t.is_zero() && !running.task.is_finished() {
                    // OTP's shutdown 0: the stop is sent, and the child is killed unless it
                    // had ended already.
                    running.task.abort();
                }
                // A timeout past the clock's range is no deadline: it is waited for.
                tokio::time::Instant::now().checked_add(t)
            }
            Shutdown::Infinity => {
                if let Some(stop) = stop {
                    stop.ask(restarting);
                }
                None
            }
        };
        Stopping { running, deadline }
    }

    /// Waits for the child's end; kills it if its deadline passes first.
    async fn wait(&mut self) -> ChildExit {
        let task = &mut self.running.task;
        let ended = match self.deadline {
            None => task.await,
            Some(deadline) => match tokio::time::timeout_at(deadline, &mut *task).await {
                Ok(ended) => ended,
                Err(_) => {
                    task.abort();
                    let _ = task.await;
                    return ChildExit::Killed;
                }
            },
        };
        ended.unwrap_or(ChildExit::Killed)
    }
}
