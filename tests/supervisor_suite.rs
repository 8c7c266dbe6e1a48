//! A port of the behaviours of OTP's `supervisor_SUITE` that apply to event-core's supervisor:
//! starting (ignore, errors, order), the restart matrix, the four strategies, restart
//! intensity, escalation through nested supervisors, shutdowns, significant children, child
//! administration, validation, and the deadlock check of a child's start.
//!
//! Children are tasks that report on a channel: `Started` when they begin to run (every start),
//! `Stopped` when they saw their stop token and returned, `Exited` when they ended on their own
//! as the test told them, `Killed` when they were dropped (aborted) before returning. The tests
//! await those reports; nothing sleeps for synchronisation. Every wait is bounded by `within`
//! (10 s) so that a bug fails instead of hanging; tests run on paused time, so such a timeout
//! (and any shutdown timeout) elapses at once when nothing else can run.

use std::collections::HashMap;
use std::fmt::Debug;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::task::Poll;
use std::time::Duration;

use event_core::ChildState::{NotRunning, Restarting, Running};
use event_core::{
    handler, AutoShutdown, BoxError, ChildKind, ChildRef, ChildSpec, ChildState, EventManager,
    Guard, Install, Intensity, Restart, Shutdown, Start, StopToken, Strategy, Supervisor,
    SupervisorBuilder, SupervisorError,
};
use tokio::sync::mpsc::{self, error::TryRecvError, UnboundedReceiver, UnboundedSender};
use tokio::sync::{oneshot, Barrier, Semaphore};
use tokio::time::Instant;

use Ev::{Exited, Gated, Ignored, Killed, StartFailed, Started, Stopped};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const LIMIT: Duration = Duration::from_secs(10);

/// Awaits `f`, failing the test if it takes more than 10 s: a hang is a bug.
async fn within<F: IntoFuture>(f: F) -> F::Output {
    tokio::time::timeout(LIMIT, f)
        .await
        .expect("timed out after 10 s: the supervisor hangs")
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Polls `f` once. A supervisor request sends its command on its first poll, so this queues
/// the command without waiting for the answer.
async fn poll_once<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
    std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut *f).poll(cx))).await
}

async fn start(builder: SupervisorBuilder) -> Supervisor {
    within(builder.start())
        .await
        .expect("the supervisor starts")
}

/// The children as `which_children` lists them (newest first): id and state.
async fn children(sup: &Supervisor) -> Vec<(String, ChildState)> {
    listed(within(sup.which_children()).await.expect("which_children"))
}

fn listed(infos: Vec<event_core::ChildInfo>) -> Vec<(String, ChildState)> {
    infos
        .into_iter()
        .map(|c| (c.id.to_string(), c.state))
        .collect()
}

fn kids(list: &[(&str, ChildState)]) -> Vec<(String, ChildState)> {
    list.iter().map(|(id, s)| (id.to_string(), *s)).collect()
}

fn id(id: &str) -> ChildRef {
    ChildRef::from(id)
}

/// Fails with the error's name unless `r` is the error `pred` accepts.
fn assert_err<T: Debug>(
    r: Result<T, SupervisorError>,
    pred: impl FnOnce(&SupervisorError) -> bool,
    what: &str,
) {
    match r {
        Err(e) if pred(&e) => {}
        other => panic!("expected {what}, got {other:?}"),
    }
}

/// A child's start step that returns `ignore`.
fn ignoring(id: &str) -> ChildSpec {
    ChildSpec::new(id, || async { Ok::<_, BoxError>(Start::ignore()) })
}

/// A child's start step that fails.
fn failing(id: &str) -> ChildSpec {
    let msg = format!("{id} cannot start");
    ChildSpec::new(id, move || {
        let msg = msg.clone();
        async move { Err::<Start, BoxError>(msg.into()) }
    })
}

async fn panicking_start() -> Result<Start, BoxError> {
    panic!("the start step panics")
}

// ---------------------------------------------------------------------------------------------
// Probe children
// ---------------------------------------------------------------------------------------------

/// What a child reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    /// It began to run (once per start).
    Started,
    /// It saw its stop token and returned.
    Stopped,
    /// It ended on its own, as the test told it.
    Exited,
    /// It was dropped before returning (aborted); `asked`: whether its stop token was set.
    Killed { asked: bool },
    /// Its start step failed.
    StartFailed,
    /// Its start step waits for the test's gate.
    Gated,
    /// Its start step returned `ignore`.
    Ignored,
}

/// How the test tells a child to end.
#[derive(Clone, Copy, Debug)]
enum How {
    /// Return `Ok`.
    Normal,
    /// Return an error.
    Error,
    /// Panic.
    Panic,
}

/// How a child answers its stop token.
#[derive(Clone, Copy, Debug)]
enum OnStop {
    /// Returns at once.
    Return,
    /// Returns after cleaning up for this long.
    After(Duration),
    /// Never looks at it.
    Ignore,
}

type Controls = Arc<Mutex<HashMap<String, oneshot::Sender<How>>>>;

/// The children's side of a probe: where they report, and how the test reaches the running
/// incarnation of each.
#[derive(Clone)]
struct Tx {
    events: UnboundedSender<(Ev, String)>,
    controls: Controls,
}

/// Reports `Killed` if the child is dropped before it returns.
struct Alive {
    tx: Tx,
    id: String,
    stop: StopToken,
    returned: bool,
}

impl Alive {
    fn new(tx: &Tx, id: &str, stop: &StopToken) -> Self {
        Alive {
            tx: tx.clone(),
            id: id.to_string(),
            stop: stop.clone(),
            returned: false,
        }
    }
}

impl Drop for Alive {
    fn drop(&mut self) {
        if !self.returned {
            let asked = self.stop.is_stopped();
            self.tx.send(Killed { asked }, &self.id);
        }
    }
}

impl Tx {
    fn send(&self, ev: Ev, id: &str) {
        let _ = self.events.send((ev, id.to_string()));
    }

    /// A task child that runs until it is stopped or told to end.
    fn worker(&self, id: &str) -> ChildSpec {
        self.worker_with(id, OnStop::Return)
    }

    fn worker_with(&self, id: &str, on_stop: OnStop) -> ChildSpec {
        let tx = self.clone();
        let name = id.to_string();
        ChildSpec::task(id, move |stop| tx.clone().run(name.clone(), stop, on_stop))
    }

    /// A child whose start step fails on the listed attempts (counting from 1).
    fn flaky(&self, id: &str, failing: &'static [usize]) -> ChildSpec {
        let tx = self.clone();
        let name = id.to_string();
        let attempts = Arc::new(AtomicUsize::new(0));
        ChildSpec::new(id, move || {
            let n = attempts.fetch_add(1, SeqCst) + 1;
            let tx = tx.clone();
            let name = name.clone();
            async move {
                if failing.contains(&n) {
                    tx.send(StartFailed, &name);
                    return Err(format!("start #{n} of {name} fails").into());
                }
                Ok(Start::task(move |stop| tx.run(name, stop, OnStop::Return)))
            }
        })
    }

    async fn run(self, id: String, stop: StopToken, on_stop: OnStop) -> Result<(), BoxError> {
        let mut alive = Alive::new(&self, &id, &stop);
        let (control, told) = oneshot::channel();
        self.controls.lock().unwrap().insert(id.clone(), control);
        self.send(Started, &id);
        let told = async move {
            match told.await {
                Ok(how) => how,
                Err(_) => std::future::pending().await,
            }
        };
        let asked = async {
            match on_stop {
                OnStop::Ignore => std::future::pending().await,
                _ => stop.stopped().await,
            }
        };
        let how = tokio::select! {
            () = asked => None,
            how = told => Some(how),
        };
        match how {
            None => {
                if let OnStop::After(d) = on_stop {
                    tokio::time::sleep(d).await;
                }
                alive.returned = true;
                self.send(Stopped, &id);
                Ok(())
            }
            Some(how) => {
                alive.returned = true;
                self.send(Exited, &id);
                match how {
                    How::Normal => Ok(()),
                    How::Error => Err(format!("{id} fails").into()),
                    How::Panic => panic!("{id} panics"),
                }
            }
        }
    }
}

/// The test's side: the reports, and the children's controls.
struct Probe {
    tx: Tx,
    rx: UnboundedReceiver<(Ev, String)>,
}

impl Probe {
    fn new() -> Self {
        let (events, rx) = mpsc::unbounded_channel();
        Probe {
            tx: Tx {
                events,
                controls: Controls::default(),
            },
            rx,
        }
    }

    fn worker(&self, id: &str) -> ChildSpec {
        self.tx.worker(id)
    }

    fn worker_with(&self, id: &str, on_stop: OnStop) -> ChildSpec {
        self.tx.worker_with(id, on_stop)
    }

    /// Awaits the next reports, which must be `expected`, in order.
    async fn expect(&mut self, expected: &[(Ev, &str)]) {
        let expected: Vec<(Ev, String)> = expected
            .iter()
            .map(|(e, id)| (*e, id.to_string()))
            .collect();
        let seen = self.take(expected.len()).await;
        assert_eq!(seen, expected, "the children reported otherwise");
    }

    /// Awaits the next `n` reports.
    async fn take(&mut self, n: usize) -> Vec<(Ev, String)> {
        let mut seen = Vec::new();
        while seen.len() < n {
            match tokio::time::timeout(LIMIT, self.rx.recv()).await {
                Ok(Some(ev)) => seen.push(ev),
                Ok(None) => unreachable!("the probe holds a sender"),
                Err(_) => panic!(
                    "timed out waiting for {} more report(s); got {seen:?}",
                    n - seen.len()
                ),
            }
        }
        seen
    }

    /// Tells the running incarnation of `id` to end.
    fn exit(&self, id: &str, how: How) {
        let control = self
            .tx
            .controls
            .lock()
            .unwrap()
            .remove(id)
            .unwrap_or_else(|| panic!("{id} is not running"));
        control.send(how).expect("the child listens");
    }

    /// Nothing more was reported.
    fn quiet(&mut self) {
        match self.rx.try_recv() {
            Err(TryRecvError::Empty) => {}
            other => panic!("unexpected report: {other:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Start
// ---------------------------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn children_start_in_order_and_stop_in_reverse_order() {
    let mut probe = Probe::new();
    let sup = start(
        Supervisor::builder()
            .child(probe.worker("a"))
            .child(probe.worker("b"))
            .child(probe.worker("c")),
    )
    .await;
    probe
        .expect(&[(Started, "a"), (Started, "b"), (Started, "c")])
        .await;
    within(sup.stop()).await.expect("stop");
    probe
        .expect(&[(Stopped, "c"), (Stopped, "b"), (Stopped, "a")])
        .await;
    assert!(sup.is_stopped());
    within(sup.stopped()).await;
    assert_err(
        sup.which_children().await,
        |e| matches!(e, SupervisorError::SupervisorGone),
        "SupervisorGone",
    );
    assert_err(
        sup.start_child(probe.worker("d")).await,
        |e| matches!(e, SupervisorError::SupervisorGone),
        "SupervisorGone",
    );
    probe.quiet();
}

#[tokio::test(start_paused = true)]
async fn a_start_returning_ignore_keeps_the_spec_not_running_but_drops_a_temporary_one() {
    let mut probe = Probe::new();
    let sup = start(
        Supervisor::builder()
            .child(probe.worker("a"))
            .child(ignoring("ign"))
            .child(ignoring("tmp").restart(Restart::Temporary))
            .child(probe.worker("b")),
    )
    .await;
    probe.expect(&[(Started, "a"), (Started, "b")]).await;
    assert_eq!(
        children(&sup).await,
        kids(&[("b", Running), ("ign", NotRunning), ("a", Running)])
    );
    let n = within(sup.count_children()).await.unwrap();
    assert_eq!((n.specs, n.active, n.workers, n.supervisors), (3, 2, 3, 0));

    // The same through start_child.
    let r = within(sup.start_child(ignoring("late"))).await;
    assert_eq!(r.expect("an ignored start is not an error"), id("late"));
    let r = within(sup.start_child(ignoring("late-tmp").restart(Restart::Temporary))).await;
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(
        children(&sup).await,
        kids(&[
            ("late", NotRunning),
            ("b", Running),
            ("ign", NotRunning),
            ("a", Running)
        ])
    );
    // An ignored child can be restarted (and ignores again).
    within(sup.restart_child("ign")).await.expect("restart");
    assert_eq!(children(&sup).await[2], ("ign".to_string(), NotRunning));
    probe.quiet();
}

#[tokio::test(start_paused = true)]
async fn a_child_failing_to_start_fails_the_start_and_the_started_ones_stop_in_reverse_order() {
    let mut probe = Probe::new();
    let r = within(
        Supervisor::builder()
            .child(probe.worker("a"))
            .child(probe.worker("b"))
            .child(failing("c"))
            .child(probe.worker("d"))
            .start(),
    )
    .await;
    match r {
        Err(SupervisorError::FailedToStartChild { id: failed, reason }) => {
            assert_eq!(failed, id("c"));
            assert!(reason.to_string().contains("c cannot start"), "{reason}");
        }
        other => panic!("expected FailedToStartChild(c), got {other:?}"),
    }
    probe
        .expect(&[
            (Started, "a"),
            (Started, "b"),
            (Stopped, "b"),
            (Stopped, "a"),
        ])
        .await;
    // "d" was never started.
    probe.quiet();
}

#[tokio::test(start_paused = true)]
async fn a_child_whose_start_panics_fails_the_start() {
    let mut probe = Probe::new();
    let r = within(
        Supervisor::builder()
            .child(probe.worker("a"))
            .child(ChildSpec::new("p", panicking_start))
            .start(),
    )
    .await;
    assert_err(
        r,
        |e| matches!(e, SupervisorError::FailedToStartChild { id: failed, .. } if *failed == id("p")),
        "FailedToStartChild(p)",
    );
    probe.expect(&[(Started, "a"), (Stopped, "a")]).await;
    probe.quiet();
}

/// OTP's `supervisor:stop/1` (gen_server:stop) returns once the supervisor process has
/// terminated. Run on several threads and many times: the supervisor must be ended (for good)
/// whenever `stop` has returned.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stop_returns_once_the_supervisor_has_ended() {
    let mut early = 0;
    for _ in 0..1000 {
        let probe = Probe::new();
        let sup = start(
            Supervisor::builder()
                .child(probe.worker("a"))
                .child(probe.worker("b")),
        )
        .await;
        within(sup.stop()).await.expect("stop");
        if !sup.is_stopped() {
            early += 1;
        }
    }
    assert_eq!(
        early, 0,
        "times is_stopped() was false right after stop() returned, of 1000"
    );
}

#[test]
fn starting_outside_a_tokio_runtime_gives_no_runtime() {
    struct Noop;
    impl std::task::Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }
    let waker = std::task::Waker::from(Arc::new(Noop));
    let mut cx = std::task::Context::from_waker(&waker);
    let mut start = Box::pin(Supervisor::builder().start());
    match start.as_mut().poll(&mut cx) {
        Poll::Ready(Err(SupervisorError::NoRuntime)) => {}
        other => panic!("expected NoRuntime, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// The restart matrix: restart type x how the child ended
// ---------------------------------------------------------------------------------------------

/// Where a child stands after it ended, in a one_for_one supervisor.
#[derive(Debug, PartialEq, Eq)]
enum After {
    /// Started again.
    Restarted,
    /// Not restarted, its specification kept (not running).
    Kept,
    /// Not restarted, its specification dropped.
    Dropped,
}

/// What `which_children` says of `child` after it ended (its exit was reported), awaiting its
/// new start if it was restarted. The sibling "s" is left alone in every case.
async fn standing(
    probe: &mut Probe,
    sup: &Supervisor,
    child: &str,
    restarted_first: &str,
) -> After {
    let list = children(sup).await;
    let after = match list.iter().find(|(c, _)| c == child) {
        Some((_, Running)) => {
            probe.expect(&[(Started, restarted_first)]).await;
            After::Restarted
        }
        Some((_, NotRunning)) => After::Kept,
        None => After::Dropped,
        Some(other) => panic!("unexpected state {other:?}"),
    };
    probe.quiet();
    within(sup.stop()).await.expect("stop");
    after
}

/// A worker child of type `restart` ends `how`.
async fn worker_ends(restart: Restart, how: How) -> After {
    let mut probe = Probe::new();
    let sup = start(
        Supervisor::builder()
            .intensity(Intensity::new(5, secs(60)))
            .child(probe.worker("c").restart(restart))
            .child(probe.worker("s")),
    )
    .await;
    probe.expect(&[(Started, "c"), (Started, "s")]).await;
    probe.exit("c", how);
    probe.expect(&[(Exited, "c")]).await;
    standing(&mut probe, &sup, "c", "c").await
}

/// A nested supervisor child of type `restart` ends with `shutdown`: its significant child
/// ended and it shut itself down.
async fn supervisor_shuts_down(restart: Restart) -> After {
    let mut probe = Probe::new();
    let (_inner, spec) = Supervisor::builder()
        .name("inner")
        .auto_shutdown(AutoShutdown::AnySignificant)
        .child(
            probe
                .worker("sig")
                .restart(Restart::Transient)
                .significant(true),
        )
        .supervised("inner")
        .expect("a valid nested supervisor");
    let sup = start(
        Supervisor::builder()
            .intensity(Intensity::new(5, secs(60)))
            .child(spec.restart(restart))
            .child(probe.worker("s")),
    )
    .await;
    probe.expect(&[(Started, "sig"), (Started, "s")]).await;
    probe.exit("sig", How::Normal);
    probe.expect(&[(Exited, "sig")]).await;
    standing(&mut probe, &sup, "inner", "sig").await
}

#[tokio::test(start_paused = true)]
async fn permanent_child_is_restarted_after_a_normal_exit() {
    assert_eq!(
        worker_ends(Restart::Permanent, How::Normal).await,
        After::Restarted
    );
}

#[tokio::test(start_paused = true)]
async fn permanent_child_is_restarted_after_an_error() {
    assert_eq!(
        worker_ends(Restart::Permanent, How::Error).await,
        After::Restarted
    );
}

#[tokio::test(start_paused = true)]
async fn permanent_child_is_restarted_after_a_panic() {
    assert_eq!(
        worker_ends(Restart::Permanent, How::Panic).await,
        After::Restarted
    );
}

#[tokio::test(start_paused = true)]
async fn permanent_child_is_restarted_after_a_shutdown_exit() {
    assert_eq!(
        supervisor_shuts_down(Restart::Permanent).await,
        After::Restarted
    );
}

#[tokio::test(start_paused = true)]
async fn transient_child_is_not_restarted_after_a_normal_exit() {
    assert_eq!(
        worker_ends(Restart::Transient, How::Normal).await,
        After::Kept
    );
}

#[tokio::test(start_paused = true)]
async fn transient_child_is_restarted_after_an_error() {
    assert_eq!(
        worker_ends(Restart::Transient, How::Error).await,
        After::Restarted
    );
}

#[tokio::test(start_paused = true)]
async fn transient_child_is_restarted_after_a_panic() {
    assert_eq!(
        worker_ends(Restart::Transient, How::Panic).await,
        After::Restarted
    );
}

#[tokio::test(start_paused = true)]
async fn transient_child_is_not_restarted_after_a_shutdown_exit() {
    assert_eq!(supervisor_shuts_down(Restart::Transient).await, After::Kept);
}

/// A task child whose start function captures a value, and a weak reference to that value.
fn capturing(tx: &Tx, id: &str, restart: Restart) -> (ChildSpec, Weak<()>) {
    let captured = Arc::new(());
    let weak = Arc::downgrade(&captured);
    let (tx, name) = (tx.clone(), id.to_string());
    let spec = ChildSpec::task(id, move |stop| {
        let _ = &captured;
        tx.clone().run(name.clone(), stop, OnStop::Return)
    });
    (spec.restart(restart), weak)
}

/// OTP keeps no start arguments for a temporary child: its start function, and what that
/// captured, are dropped once it runs; a transient child's are kept, to restart it.
#[tokio::test(start_paused = true)]
async fn a_temporary_childs_start_function_and_what_it_captured_are_not_kept_while_it_runs() {
    let mut probe = Probe::new();
    let (temporary, temporarys) = capturing(&probe.tx, "t", Restart::Temporary);
    let (transient, transients) = capturing(&probe.tx, "p", Restart::Transient);
    let sup = start(Supervisor::builder()).await;
    within(sup.start_child(temporary)).await.unwrap();
    within(sup.start_child(transient)).await.unwrap();
    probe.expect(&[(Started, "t"), (Started, "p")]).await;
    assert_eq!(
        children(&sup).await,
        kids(&[("p", Running), ("t", Running)])
    );
    assert!(
        temporarys.upgrade().is_none(),
        "the temporary child's are kept"
    );
    assert!(
        transients.upgrade().is_some(),
        "the transient child's are dropped"
    );
    // The same for dynamic children, each made by the template with its own start function.
    let made = Arc::new(Mutex::new(Vec::new()));
    let (tx, weaks) = (probe.tx.clone(), made.clone());
    let sofo = start(sofo_of(move |(n, restart): (u32, Restart)| {
        let (spec, weak) = capturing(&tx, &format!("d{n}"), restart);
        weaks.lock().unwrap().push(weak);
        spec
    }))
    .await;
    within(sofo.start_dynamic((1u32, Restart::Temporary)))
        .await
        .unwrap();
    within(sofo.start_dynamic((2u32, Restart::Transient)))
        .await
        .unwrap();
    probe.expect(&[(Started, "d1"), (Started, "d2")]).await;
    let alive: Vec<bool> = made
        .lock()
        .unwrap()
        .iter()
        .map(|w| w.upgrade().is_some())
        .collect();
    assert_eq!(alive, [false, true], "kept: temporary, transient");
    probe.quiet();
}

#[tokio::test(start_paused = true)]
async fn temporary_child_is_not_restarted_after_a_normal_exit_and_is_dropped() {
    assert_eq!(
        worker_ends(Restart::Temporary, How::Normal).await,
        After::Dropped
    );
}

#[tokio::test(start_paused = true)]
async fn temporary_child_is_not_restarted_after_an_error_and_is_dropped() {
    assert_eq!(
        worker_ends(Restart::Temporary, How::Error).await,
        After::Dropped
    );
}

#[tokio::test(start_paused = true)]
async fn temporary_child_is_not_restarted_after_a_panic_and_is_dropped() {
    assert_eq!(
        worker_ends(Restart::Temporary, How::Panic).await,
        After::Dropped
    );
}

#[tokio::test(start_paused = true)]
async fn temporary_child_is_not_restarted_after_a_shutdown_exit_and_is_dropped() {
    assert_eq!(
        supervisor_shuts_down(Restart::Temporary).await,
        After::Dropped
    );
}

// ---------------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------------

fn three(probe: &Probe, strategy: Strategy) -> SupervisorBuilder {
    Supervisor::builder()
        .strategy(strategy)
        .intensity(Intensity::new(5, secs(60)))
        .child(probe.worker("a"))
        .child(probe.worker("b"))
        .child(probe.worker("c"))
}

#[tokio::test(start_paused = true)]
async fn one_for_one_restarts_only_the_child_that_failed() {
    let mut probe = Probe::new();
    let sup = start(three(&probe, Strategy::OneForOne)).await;
    probe
        .expect(&[(Started, "a"), (Started, "b"), (Started, "c")])
        .await;
    probe.exit("b", How::Error);
    probe.expect(&[(Exited, "b"), (Started, "b")]).await;
    assert_eq!(
        children(&sup).await,
        kids(&[("c", Running), ("b", Running), ("a", Running)])
    );
    probe.quiet();
}

#[tokio::test(start_paused = true)]
async fn one_for_all_stops_the_others_in_reverse_order_and_restarts_all_in_order() {
    let mut probe = Probe::new();
    let sup = start(three(&probe, Strategy::OneForAll)).await;
    probe
        .expect(&[(Started, "a"), (Started, "b"), (Started, "c")])
        .await;
    probe.exit("b", How::Error);
    probe
        .expect(&[
            (Exited, "b"),
            (Stopped, "c"),
            (Stopped, "a"),
            (Started, "a"),
            (Started, "b"),
            (Started, "c"),
        ])
        .await;
    assert_eq!(
        children(&sup).await,
        kids(&[("c", Running), ("b", Running), ("a", Running)])
    );
    probe.quiet();
}

#[tokio::test(start_paused = true)]
async fn rest_for_one_stops_and_restarts_only_the_children_after_the_failed_one() {
    let mut probe = Probe::new();
    let sup = start(three(&probe, Strategy::RestForOne).child(probe.worker("d"))).await;
    probe
        .expect(&[
            (Started, "a"),
            (Started, "b"),
            (Started, "c"),
            (Started, "d"),
        ])
        .await;
    probe.exit("b", How::Error);
    probe
        .expect(&[
            (Exited, "b"),
            (Stopped, "d"),
            (Stopped, "c"),
            (Started, "b"),
            (Started, "c"),
            (Started, "d"),
        ])
        .await;
    assert_eq!(
        children(&sup).await,
        kids(&[
            ("d", Running),
            ("c", Running),
            ("b", Running),
            ("a", Running)
        ])
    );
    // "a", before the failed one, was left alone.
    probe.quiet();
}

#[tokio::test(start_paused = true)]
async fn one_for_all_drops_a_temporary_bystander() {
    let mut probe = Probe::new();
    let sup = start(
        Supervisor::builder()
            .strategy(Strategy::OneForAll)
            .intensity(Intensity::new(5, secs(60)))
            .child(probe.worker("a"))
            .child(probe.worker("t").restart(Restart::Temporary))
            .child(probe.worker("b")),
    )
    .await;
    probe
        .expect(&[(Started, "a"), (Started, "t"), (Started, "b")])
        .await;
    probe.exit("b", How::Error);
    probe
        .expect(&[
            (Exited, "b"),
            (Stopped, "t"),
            (Stopped, "a"),
            (Started, "a"),
            (Started, "b"),
        ])
        .await;
    assert_eq!(
        children(&sup).await,
        kids(&[("b", Running), ("a", Running)])
    );
    probe.quiet();
}

#[tokio::test(start_paused = true)]
async fn rest_for_one_drops_a_temporary_bystander() {
    let mut probe = Probe::new();
    let sup = start(
        Supervisor::builder()
            .strategy(Strategy::RestForOne)
            .intensity(Intensity::new(5, secs(60)))
            .child(probe.worker("a"))
            .child(probe.worker("b"))
            .child(probe.worker("t").restart(Restart::Temporary))
            .child(probe.worker("c")),
    )
    .await;
    probe
        .expect(&[
            (Started, "a"),
            (Started, "b"),
            (Started, "t"),
            (Started, "c"),
        ])
        .await;
    probe.exit("b", How::Error);
    probe
        .expect(&[
            (Exited, "b"),
            (Stopped, "c"),
            (Stopped, "t"),
            (Started, "b"),
            (Started, "c"),
        ])
        .await;
    assert_eq!(
        children(&sup).await,
        kids(&[("c", Running), ("b", Running), ("a", Running)])
    );
    probe.quiet();
}

fn sofo(probe: &Probe) -> SupervisorBuilder {
    let tx = probe.tx.clone();
    sofo_of(move |n: u32| tx.worker(&format!("w{n}")))
}

/// A simple_one_for_one supervisor of `template`, allowed 5 restarts a minute.
fn sofo_of<A: std::any::Any + Send>(
    template: impl Fn(A) -> ChildSpec + Send + Sync + 'static,
) -> SupervisorBuilder {
    Supervisor::builder()
        .strategy(Strategy::SimpleOneForOne)
        .intensity(Intensity::new(5, secs(60)))
        .template(template)
}

#[tokio::test(start_paused = true)]
async fn simple_one_for_one_starts_no_children_and_starts_dynamic_ones_with_their_args() {
    let mut probe = Probe::new();
    let sup = start(sofo(&probe)).await;
    assert_eq!(children(&sup).await, kids(&[]));
    let r1 = within(sup.start_dynamic(1u32))
        .await
        .expect("start_dynamic");
    let r2 = within(sup.start_dynamic(2u32))
        .await
        .expect("start_dynamic");
    assert_eq!(
        (r1, r2),
        (Some(ChildRef::Dynamic(1)), Some(ChildRef::Dynamic(2)))
    );
    // The args reached the template: the children are named after them.
    probe.expect(&[(Started, "w1"), (Started, "w2")]).await;
    assert_eq!(
        children(&sup).await,
        kids(&[("#2", Running), ("#1", Running)])
    );
    probe.quiet();
}

#[tokio::test(start_paused = true)]
async fn simple_one_for_one_names_no_child_whose_start_returned_ignore() {
    let mut probe = Probe::new();
    let tx = probe.tx.clone();
    let sup = start(
        Supervisor::builder()
            .strategy(Strategy::SimpleOneForOne)
            .template(move |n: u32| {
                if n == 0 {
                    ignoring("w0")
                } else {
                    tx.worker(&format!("w{n}"))
                }
            }),
    )
    .await;
    let ignored = within(sup.start_dynamic(0u32)).await;
    assert_eq!(
        ignored.expect("an ignored start is not an error"),
        None,
        "an ignored dynamic child is not kept, so there is no reference to give"
    );
    assert_eq!(children(&sup).await, kids(&[]));
    let kept = within(sup.start_dynamic(1u32))
        .await
        .expect("start_dynamic");
    let kept = kept.expect("a started child is named");
    probe.expect(&[(Started, "w1")]).await;
    assert_eq!(children(&sup).await, kids(&[(&kept.to_string(), Running)]));
    within(sup.terminate_child(kept))
        .await
        .expect("the reference names the running child");
    probe.expect(&[(Stopped, "w1")]).await;
    assert_eq!(children(&sup).await, kids(&[]));
    probe.quiet();
}

#[tokio::test(start_paused = true)]
async fn simple_one_for_one_refuses_args_of_the_wrong_type() {
    let mut probe = Probe::new();
    let sup = start(sofo(&probe)).await;
    match within(sup.start_dynamic("one")).await {
        Err(SupervisorError::WrongArgs { expected }) => {
            assert!(expected.contains("u32"), "{expected}")
        }
        other => panic!("expected WrongArgs, got {other:?}"),
    }
    assert_eq!(children(&sup).await, kids(&[]));
    probe.quiet();
}

#[tokio::test(start_paused = true)]
async fn simple_one_for_one_id_operations_give_simple_one_for_one_errors() {
    let mut probe = Probe::new();
    let sup = start(sofo(&probe)).await;
    within(sup.start_dynamic(1u32))
        .await
        .expect("start_dynamic");
    probe.expect(&[(Started, "w1")]).await;
    let sofo_err = |e: &SupervisorError| matches!(e, SupervisorError::SimpleOneForOne(_));
    assert_err(
        within(sup.start_child(probe.worker("x"))).await,
        sofo_err,
        "SimpleOneForOne",
    );
    assert_err(
        within(sup.restart_child("x")).await,
        sofo_err,
        "SimpleOneForOne",
    );
    assert_err(
        within(sup.delete_child("x")).await,
        sofo_err,
        "SimpleOneForOne",
    );
    assert_err(
        within(sup.terminate_child("x")).await,
        sofo_err,
        "SimpleOneForOne",
    );
    assert_err(
        within(sup.restart_child(ChildRef::Dynamic(1))).await,
        sofo_err,
        "SimpleOneForOne",
    );
    assert_err(
        within(sup.delete_child(ChildRef::Dynamic(1))).await,
        sofo_err,
        "SimpleOneForOne",
    );
    // And start_dynamic is only for simple_one_for_one.
    let other = start(Supervisor::builder()).await;
    assert_err(
        within(other.start_dynamic(1u32)).await,
        sofo_err,
        "SimpleOneForOne",
    );
    assert_eq!(children(&sup).await, kids(&[("#1", Running)]));
    probe.quiet();
}

#[tokio::test(start_paused = true)]
async fn simple_one_for_one_terminates_a_dynamic_child_by_its_ref() {
    let mut probe = Probe::new();
    let sup = start(sofo(&probe)).await;
    within(sup.start_dynamic(1u32))
        .await
        .expect("start_dynamic");
    within(sup.start_dynamic(2u32))
        .await
        .expect("start_dynamic");
    probe.expect(&[(Started, "w1"), (Started, "w2")]).await;
    within(sup.terminate_child(ChildRef::Dynamic(1)))
        .await
        .expect("terminate_child");
    probe.expect(&[(Stopped, "w1")]).await;
    // A dynamic child's spec goes with it.
    assert_eq!(children(&sup).await, kids(&[("#2", Running)]));
    assert_err(
        within(sup.terminate_child(ChildRef::Dynamic(7))).await,
        |e| matches!(e, SupervisorError::NotFound(c) if *c == ChildRef::Dynamic(7)),
        "NotFound(#7)",
    );
    probe.quiet();
}

/// Among many dynamic children, any one is terminated by its reference, and those left are
/// listed newest first and counted.
#[tokio::test(start_paused = true)]
async fn simple_one_for_one_terminates_any_of_many_children_and_lists_and_counts_the_rest() {
    const N: u64 = 1000;
    let mut probe = Probe::new();
    let sup = start(sofo(&probe)).await;
    for n in 1..=N {
        let child = within(sup.start_dynamic(n as u32)).await.unwrap();
        assert_eq!(child, Some(ChildRef::Dynamic(n)));
    }
    probe.take(N as usize).await;
    for n in (1..=N).filter(|n| n % 3 == 0) {
        within(sup.terminate_child(ChildRef::Dynamic(n)))
            .await
            .unwrap();
    }
    let left: Vec<ChildRef> = (1..=N)
        .rev()
        .filter(|n| n % 3 != 0)
        .map(ChildRef::Dynamic)
        .collect();
    let listed = within(sup.which_children()).await.unwrap();
    assert_eq!(
        listed.iter().map(|c| c.id.clone()).collect::<Vec<_>>(),
        left
    );
    let count = within(sup.count_children()).await.unwrap();
    assert_eq!((count.active, count.workers), (left.len(), left.len()));
    assert_eq!(probe.take((N / 3) as usize).await.len(), (N / 3) as usize);
    probe.quiet();
}

/// OTP's terminate_child with the pid of a dynamic child that is gone answers `ok` (the
/// child is not alive, so find_child gives the template and do_terminate does nothing).
#[tokio::test(start_paused = true)]
async fn simple_one_for_one_terminate_child_is_idempotent() {
    let mut probe = Probe::new();
    let sup = start(sofo(&probe)).await;
    within(sup.start_dynamic(1u32))
        .await
        .expect("start_dynamic");
    probe.expect(&[(Started, "w1")]).await;
    within(sup.terminate_child(ChildRef::Dynamic(1)))
        .await
        .expect("terminate_child");
    probe.expect(&[(Stopped, "w1")]).await;
    let again = within(sup.terminate_child(ChildRef::Dynamic(1))).await;
    assert!(
        again.is_ok(),
        "terminating a gone dynamic child again: {again:?}"
    );
    probe.quiet();
}

#[tokio::test(start_paused = true)]
async fn simple_one_for_one_restarts_a_failed_dynamic_child_and_drops_one_that_is_not_restarted() {
    let mut probe = Probe::new();
    let tx = probe.tx.clone();
    let sup = start(sofo_of(move |(n, restart): (u32, Restart)| {
        tx.worker(&format!("w{n}")).restart(restart)
    }))
    .await;
    within(sup.start_dynamic((1u32, Restart::Permanent)))
        .await
        .unwrap();
    within(sup.start_dynamic((2u32, Restart::Transient)))
        .await
        .unwrap();
    probe.expect(&[(Started, "w1"), (Started, "w2")]).await;
    probe.exit("w1", How::Error);
    probe.expect(&[(Exited, "w1"), (Started, "w1")]).await;
    probe.exit("w2", How::Normal);
    probe.expect(&[(Exited, "w2")]).await;
    assert_eq!(children(&sup).await, kids(&[("#1", Running)]));
    probe.quiet();
}

/// OTP removes a dynamic child whose restart returns `ignore`: it is no longer listed nor
/// counted (a static child would be kept, not running).
#[tokio::test(start_paused = true)]
async fn simple_one_for_one_child_whose_restart_returns_ignore_is_removed_and_no_longer_counted() {
    let mut probe = Probe::new();
    let tx = probe.tx.clone();
    let sup = start(sofo_of(move |n: u32| {
        // Runs on its first start; each later start returns ignore.
        let tx = tx.clone();
        let name = format!("w{n}");
        let starts = Arc::new(AtomicUsize::new(0));
        ChildSpec::new(name.clone(), move || {
            let (tx, name) = (tx.clone(), name.clone());
            let first = starts.fetch_add(1, SeqCst) == 0;
            async move {
                if !first {
                    tx.send(Ignored, &name);
                    return Ok(Start::ignore());
                }
                Ok(Start::task(move |stop| tx.run(name, stop, OnStop::Return)))
            }
        })
    }))
    .await;
    within(sup.start_dynamic(1u32)).await.unwrap();
    within(sup.start_dynamic(2u32)).await.unwrap();
    probe.expect(&[(Started, "w1"), (Started, "w2")]).await;
    probe.exit("w1", How::Error);
    probe.expect(&[(Exited, "w1"), (Ignored, "w1")]).await;
    assert_eq!(children(&sup).await, kids(&[("#2", Running)]));
    let n = within(sup.count_children()).await.unwrap();
    assert_eq!(
        (n.specs, n.active, n.workers, n.supervisors),
        (1, 1, 1, 0),
        "(specs, active, workers, supervisors)"
    );
    probe.quiet();
}

/// OTP's count_children on a simple_one_for_one supervisor: `specs` is 1 (the template),
/// `workers` (or `supervisors`) is the number of dynamic children.
#[tokio::test(start_paused = true)]
async fn simple_one_for_one_count_children_counts_the_template_as_its_one_spec() {
    let mut probe = Probe::new();
    let sup = start(sofo(&probe)).await;
    within(sup.start_dynamic(1u32)).await.unwrap();
    within(sup.start_dynamic(2u32)).await.unwrap();
    probe.expect(&[(Started, "w1"), (Started, "w2")]).await;
    let n = within(sup.count_children()).await.unwrap();
    assert_eq!(
        (n.specs, n.active, n.workers, n.supervisors),
        (1, 2, 2, 0),
        "(specs, active, workers, supervisors)"
    );
}

#[tokio::test(start_paused = true)]
async fn simple_one_for_one_stops_its_children_in_parallel() {
    let mut probe = Probe::new();
    let barrier = Arc::new(Barrier::new(2));
    let tx = probe.tx.clone();
    let sup = start(
        Supervisor::builder()
            .strategy(Strategy::SimpleOneForOne)
            .template(move |n: u32| {
                let tx = tx.clone();
                let barrier = barrier.clone();
                let name = format!("p{n}");
                ChildSpec::task(name.clone(), move |stop| {
                    let tx = tx.clone();
                    let barrier = barrier.clone();
                    let name = name.clone();
                    async move {
                        let mut alive = Alive::new(&tx, &name, &stop);
                        tx.send(Started, &name);
                        stop.stopped().await;
                        // Each waits for the other to be asked to stop too: only a parallel
                        // shutdown lets both through before the timeout kills them.
                        barrier.wait().await;
                        alive.returned = true;
                        tx.send(Stopped, &name);
                        Ok(())
                    }
                })
                .shutdown(Shutdown::Timeout(secs(5)))
            }),
    )
    .await;
    within(sup.start_dynamic(1u32)).await.unwrap();
    within(sup.start_dynamic(2u32)).await.unwrap();
    probe.expect(&[(Started, "p1"), (Started, "p2")]).await;
    let t0 = Instant::now();
    within(sup.stop()).await.expect("stop");
    let mut seen = probe.take(2).await;
    seen.sort();
    assert_eq!(
        seen,
        vec![(Stopped, "p1".to_string()), (Stopped, "p2".to_string())]
    );
    assert!(t0.elapsed() < secs(5), "stopping took {:?}", t0.elapsed());
    probe.quiet();
}

// ---------------------------------------------------------------------------------------------
// Intensity
// ---------------------------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn intensity_restarts_are_allowed_and_the_next_one_stops_the_supervisor() {
    let mut probe = Probe::new();
    let sup = start(
        Supervisor::builder()
            .intensity(Intensity::new(3, secs(60)))
            .child(probe.worker("a"))
            .child(probe.worker("b")),
    )
    .await;
    probe.expect(&[(Started, "a"), (Started, "b")]).await;
    for _ in 0..3 {
        probe.exit("a", How::Error);
        probe.expect(&[(Exited, "a"), (Started, "a")]).await;
        assert!(!sup.is_stopped());
    }
    probe.exit("a", How::Error);
    probe.expect(&[(Exited, "a"), (Stopped, "b")]).await;
    within(sup.stopped()).await;
    assert!(sup.is_stopped());
    assert_err(
        sup.which_children().await,
        |e| matches!(e, SupervisorError::SupervisorGone),
        "SupervisorGone",
    );
    probe.quiet();
}

#[tokio::test(start_paused = true)]
async fn intensity_zero_stops_the_supervisor_at_the_first_restart() {
    let mut probe = Probe::new();
    let sup = start(
        Supervisor::builder()
            .intensity(Intensity::new(0, secs(60)))
            .child(probe.worker("a"))
            .child(probe.worker("b")),
    )
    .await;
    probe.expect(&[(Started, "a"), (Started, "b")]).await;
    probe.exit("a", How::Normal);
    probe.expect(&[(Exited, "a"), (Stopped, "b")]).await;
    within(sup.stopped()).await;
    probe.quiet();
}

#[tokio::test(start_paused = true)]
async fn an_exit_that_is_not_restarted_does_not_count_toward_intensity() {
    let mut probe = Probe::new();
    let sup = start(
        Supervisor::builder()
            .intensity(Intensity::new(0, secs(60)))
            .child(probe.worker("t").restart(Restart::Transient))
            .child(probe.worker("b")),
    )
    .await;
    probe.expect(&[(Started, "t"), (Started, "b")]).await;
    probe.exit("t", How::Normal);
    probe.expect(&[(Exited, "t")]).await;
    assert_eq!(
        children(&sup).await,
        kids(&[("b", Running), ("t", NotRunning)])
    );
    assert!(!sup.is_stopped());
    probe.quiet();
}

#[tokio::test(start_paused = true)]
async fn restarts_older_than_the_period_are_forgotten() {
    let mut probe = Probe::new();
    let sup = start(
        Supervisor::builder()
            .intensity(Intensity::new(1, secs(10)))
            .child(probe.worker("a"))
            .child(probe.worker("b")),
    )
    .await;
    probe.expect(&[(Started, "a"), (Started, "b")]).await;
    probe.exit("a", How::Error);
    probe.expect(&[(Exited, "a"), (Started, "a")]).await;
    tokio::time::advance(secs(11)).await;
    // The first restart is forgotten: this one is the only one in the period.
    probe.exit("a", How::Error);
    probe.expect(&[(Exited, "a"), (Started, "a")]).await;
    assert!(!sup.is_stopped());
    tokio::time::advance(secs(3)).await;
    // Two within 10 s: one too many.
    probe.exit("a", How::Error);
    probe.expect(&[(Exited, "a"), (Stopped, "b")]).await;
    within(sup.stopped()).await;
    probe.quiet();
}

/// OTP keeps a restart while `Now - Then =< Period` (add_restart's `R >= Now - Period`): a
/// restart exactly one period old still counts.
#[tokio::test(start_paused = true)]
async fn a_restart_exactly_one_period_old_still_counts() {
    let mut probe = Probe::new();
    let sup = start(
        Supervisor::builder()
            .intensity(Intensity::new(1, secs(5)))
            .child(probe.worker("a"))
            .child(probe.worker("b")),
    )
    .await;
    probe.expect(&[(Started, "a"), (Started, "b")]).await;
    probe.exit("a", How::Error);
    probe.expect(&[(Exited, "a"), (Started, "a")]).await;
    tokio::time::advance(secs(5)).await;
    probe.exit("a", How::Error);
    let seen = probe.take(2).await;
    assert_eq!(
        seen,
        vec![(Exited, "a".to_string()), (Stopped, "b".to_string())],
        "the second restart, 5 s after the first with a period of 5 s, must exceed intensity 1"
    );
    within(sup.stopped()).await;
}

// ---------------------------------------------------------------------------------------------
// Escalation through nested supervisors
// ---------------------------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn a_nested_supervisor_at_its_intensity_is_restarted_by_its_parent_until_the_parent_gives_up()
{
    let mut probe = Probe::new();
    let (inner, spec) = Supervisor::builder()
        .name("inner")
        .intensity(Intensity::new(1, secs(60)))
        .child(probe.worker("w"))
        .supervised("inner")
        .expect("a valid nested supervisor");
    let outer = start(
        Supervisor::builder()
            .name("outer")
            .intensity(Intensity::new(1, secs(60)))
            .child(spec)
            .child(probe.worker("x")),
    )
    .await;
    probe.expect(&[(Started, "w"), (Started, "x")]).await;
    let info = within(outer.which_children()).await.unwrap();
    assert_eq!(info[1].id, id("inner"));
    assert_eq!(info[1].kind, ChildKind::Supervisor);

    // A child added to the first incarnation at runtime.
    within(inner.start_child(probe.worker("extra")))
        .await
        .expect("start_child");
    probe.expect(&[(Started, "extra")]).await;
    assert_eq!(
        children(&inner).await,
        kids(&[("extra", Running), ("w", Running)])
    );

    // One restart is within the inner supervisor's intensity ...
    probe.exit("w", How::Error);
    probe.expect(&[(Exited, "w"), (Started, "w")]).await;
    // ... the next one is not: it stops its children and exits; the outer restarts it.
    probe.exit("w", How::Error);
    probe
        .expect(&[(Exited, "w"), (Stopped, "extra"), (Started, "w")])
        .await;
    assert!(!outer.is_stopped());
    // The handle taken before reaches the new incarnation, which starts from its spec.
    assert_eq!(children(&inner).await, kids(&[("w", Running)]));
    assert!(!inner.is_stopped());

    // Again: the outer's second restart within its period is one too many.
    probe.exit("w", How::Error);
    probe.expect(&[(Exited, "w"), (Started, "w")]).await;
    probe.exit("w", How::Error);
    probe.expect(&[(Exited, "w"), (Stopped, "x")]).await;
    within(outer.stopped()).await;
    within(inner.stopped()).await;
    assert!(inner.is_stopped());
    assert_err(
        within(inner.which_children()).await,
        |e| matches!(e, SupervisorError::SupervisorGone),
        "SupervisorGone",
    );
    probe.quiet();
}

/// A nested supervisor whose restart fails once (one of its own children fails to start) is
/// tried again and comes back whole, with its own nested supervisor.
#[tokio::test(start_paused = true)]
async fn a_nested_supervisor_whose_restart_fails_once_comes_back_on_the_next_try() {
    let mut probe = Probe::new();
    let (_deep, deep_spec) = Supervisor::builder()
        .name("deep")
        .child(probe.worker("d"))
        .supervised("deep")
        .unwrap();
    let (mid, mid_spec) = Supervisor::builder()
        .name("mid")
        .child(deep_spec)
        .child(probe.tx.flaky("flaky", &[2]))
        .supervised("mid")
        .unwrap();
    let outer = start(
        Supervisor::builder()
            .name("outer")
            .intensity(Intensity::new(10, secs(60)))
            .child(mid_spec),
    )
    .await;
    probe.expect(&[(Started, "d"), (Started, "flaky")]).await;
    // "mid" ends normally; the outer restarts it (permanent). Its first try fails at "flaky".
    within(mid.stop()).await.expect("stop");
    probe
        .expect(&[
            (Stopped, "flaky"),
            (Stopped, "d"),
            (Started, "d"),
            (StartFailed, "flaky"),
            (Stopped, "d"),
        ])
        .await;
    // The next try starts "deep" and "flaky" again.
    probe.expect(&[(Started, "d"), (Started, "flaky")]).await;
    assert_eq!(
        children(&mid).await,
        kids(&[("flaky", Running), ("deep", Running)])
    );
    assert!(!outer.is_stopped());
    probe.quiet();
}

/// A nested supervisor that ended on its own and is then stopped as a bystander (a sibling
/// failed under one_for_all) must not carry that stop over to its next incarnation.
#[tokio::test(start_paused = true)]
async fn a_stop_addressed_to_an_ended_nested_supervisor_does_not_reach_its_next_incarnation() {
    let mut probe = Probe::new();
    let (inner, spec) = Supervisor::builder()
        .name("inner")
        .child(probe.worker("w"))
        .supervised("inner")
        .unwrap();
    let outer = start(
        Supervisor::builder()
            .name("outer")
            .strategy(Strategy::OneForAll)
            .intensity(Intensity::new(1, secs(60)))
            .child(spec)
            .child(probe.worker("x")),
    )
    .await;
    probe.expect(&[(Started, "w"), (Started, "x")]).await;
    // "x" fails while "inner" is being stopped (by its handle): the outer stops "inner" as a
    // bystander, and "inner" ends (normally) in the meantime.
    probe.exit("x", How::Error);
    within(inner.stop()).await.expect("stop");
    probe
        .expect(&[
            (Exited, "x"),
            (Stopped, "w"),
            (Started, "w"),
            (Started, "x"),
        ])
        .await;
    // One restart (for "x"): within the outer's intensity. The new "inner" runs.
    let r = within(inner.which_children()).await;
    assert!(
        matches!(&r, Ok(list) if listed(list.clone()) == kids(&[("w", Running)])),
        "the new incarnation of inner: {r:?}"
    );
    assert!(!outer.is_stopped());
    assert_eq!(
        children(&outer).await,
        kids(&[("x", Running), ("inner", Running)])
    );
    probe.quiet();
}

/// OTP: calling a supervisor that is not running fails at once (noproc); it does not wait.
#[tokio::test(start_paused = true)]
async fn the_handle_of_a_terminated_nested_supervisor_answers_that_it_is_gone() {
    let mut probe = Probe::new();
    let (inner, spec) = Supervisor::builder()
        .name("inner")
        .child(probe.worker("w"))
        .supervised("inner")
        .unwrap();
    let outer = start(Supervisor::builder().child(spec)).await;
    probe.expect(&[(Started, "w")]).await;
    within(outer.terminate_child("inner"))
        .await
        .expect("terminate_child");
    probe.expect(&[(Stopped, "w")]).await;
    assert_eq!(children(&outer).await, kids(&[("inner", NotRunning)]));
    let r = tokio::time::timeout(secs(1), inner.which_children()).await;
    assert!(
        matches!(r, Ok(Err(SupervisorError::SupervisorGone))),
        "which_children on a terminated nested supervisor: {r:?} (Err(Elapsed) = it waited)"
    );
    // restart_child brings it back, and the handle reaches it.
    within(outer.restart_child("inner"))
        .await
        .expect("restart_child");
    probe.expect(&[(Started, "w")]).await;
    assert_eq!(children(&inner).await, kids(&[("w", Running)]));
}

// ---------------------------------------------------------------------------------------------
// Shutdown
// ---------------------------------------------------------------------------------------------

/// Terminates a child with `shutdown` that would stop at once if asked: it takes no time, and
/// the child is killed, asked to stop or not as `asked` says.
async fn killed_at_once(shutdown: Shutdown, asked: bool) {
    let mut probe = Probe::new();
    let sup = start(Supervisor::builder().child(probe.worker("k").shutdown(shutdown))).await;
    probe.expect(&[(Started, "k")]).await;
    let t0 = Instant::now();
    within(sup.terminate_child("k"))
        .await
        .expect("terminate_child");
    assert_eq!(t0.elapsed(), Duration::ZERO);
    probe.expect(&[(Killed { asked }, "k")]).await;
    assert_eq!(children(&sup).await, kids(&[("k", NotRunning)]));
    probe.quiet();
}

#[tokio::test(start_paused = true)]
async fn brutal_kill_aborts_the_child_at_once_without_asking_it() {
    killed_at_once(Shutdown::BrutalKill, false).await;
}

#[tokio::test(start_paused = true)]
async fn a_shutdown_timeout_kills_a_child_that_ignores_its_stop_token_when_it_runs_out() {
    let mut probe = Probe::new();
    let sup = start(
        Supervisor::builder().child(
            probe
                .worker_with("deaf", OnStop::Ignore)
                .shutdown(Shutdown::Timeout(secs(3))),
        ),
    )
    .await;
    probe.expect(&[(Started, "deaf")]).await;
    let t0 = Instant::now();
    within(sup.terminate_child("deaf"))
        .await
        .expect("terminate_child");
    let took = t0.elapsed();
    assert!(took >= secs(3) && took < secs(4), "killed after {took:?}");
    probe.expect(&[(Killed { asked: true }, "deaf")]).await;
    probe.quiet();
}

#[tokio::test(start_paused = true)]
async fn a_shutdown_timeout_lets_a_child_that_stops_in_time_finish() {
    let mut probe = Probe::new();
    let sup = start(
        Supervisor::builder().child(
            probe
                .worker_with("slow", OnStop::After(secs(1)))
                .shutdown(Shutdown::Timeout(secs(3))),
        ),
    )
    .await;
    probe.expect(&[(Started, "slow")]).await;
    let t0 = Instant::now();
    within(sup.terminate_child("slow"))
        .await
        .expect("terminate_child");
    let took = t0.elapsed();
    assert!(took >= secs(1) && took < secs(3), "stopped after {took:?}");
    probe.expect(&[(Stopped, "slow")]).await;
    probe.quiet();
}

/// OTP's shutdown 0: the child is sent its stop, then killed without being given any time,
/// even one that would stop at once.
#[tokio::test(start_paused = true)]
async fn a_zero_shutdown_timeout_asks_the_child_to_stop_and_kills_it_at_once() {
    killed_at_once(Shutdown::Timeout(Duration::ZERO), true).await;
}

#[tokio::test(start_paused = true)]
async fn shutdown_infinity_waits_for_the_child_however_long_it_takes() {
    let mut probe = Probe::new();
    let sup = start(
        Supervisor::builder().child(
            probe
                .worker_with("slow", OnStop::After(secs(3600)))
                .shutdown(Shutdown::Infinity),
        ),
    )
    .await;
    probe.expect(&[(Started, "slow")]).await;
    let t0 = Instant::now();
    // Paused time: the hour passes at once; `within` is not used, its 10 s would run out first.
    sup.terminate_child("slow").await.expect("terminate_child");
    assert!(
        t0.elapsed() >= secs(3600),
        "stopped after {:?}",
        t0.elapsed()
    );
    probe.expect(&[(Stopped, "slow")]).await;
    probe.quiet();
}

#[tokio::test(start_paused = true)]
async fn a_supervisor_stop_uses_each_childs_shutdown() {
    let mut probe = Probe::new();
    let sup = start(
        Supervisor::builder()
            .child(probe.worker("a"))
            .child(probe.worker("k").shutdown(Shutdown::BrutalKill))
            .child(
                probe
                    .worker_with("deaf", OnStop::Ignore)
                    .shutdown(Shutdown::Timeout(secs(2))),
            ),
    )
    .await;
    probe
        .expect(&[(Started, "a"), (Started, "k"), (Started, "deaf")])
        .await;
    within(sup.stop()).await.expect("stop");
    probe
        .expect(&[
            (Killed { asked: true }, "deaf"),
            (Killed { asked: false }, "k"),
            (Stopped, "a"),
        ])
        .await;
    probe.quiet();
}

// ---------------------------------------------------------------------------------------------
// Significant children
// ---------------------------------------------------------------------------------------------

fn significant(probe: &Probe, id: &str, restart: Restart) -> ChildSpec {
    probe.worker(id).restart(restart).significant(true)
}

#[tokio::test(start_paused = true)]
async fn any_significant_shuts_down_when_a_transient_significant_child_exits_normally() {
    let mut probe = Probe::new();
    let sup = start(
        Supervisor::builder()
            .auto_shutdown(AutoShutdown::AnySignificant)
            .child(probe.worker("a"))
            .child(significant(&probe, "s", Restart::Transient))
            .child(probe.worker("b")),
    )
    .await;
    probe
        .expect(&[(Started, "a"), (Started, "s"), (Started, "b")])
        .await;
    probe.exit("s", How::Normal);
    probe
        .expect(&[(Exited, "s"), (Stopped, "b"), (Stopped, "a")])
        .await;
    within(sup.stopped()).await;
    probe.quiet();
}

#[tokio::test(start_paused = true)]
async fn any_significant_restarts_a_transient_significant_child_that_fails() {
    let mut probe = Probe::new();
    let sup = start(
        Supervisor::builder()
            .auto_shutdown(AutoShutdown::AnySignificant)
            .child(probe.worker("a"))
            .child(significant(&probe, "s", Restart::Transient)),
    )
    .await;
    probe.expect(&[(Started, "a"), (Started, "s")]).await;
    probe.exit("s", How::Error);
    probe.expect(&[(Exited, "s"), (Started, "s")]).await;
    assert_eq!(
        children(&sup).await,
        kids(&[("s", Running), ("a", Running)])
    );
    assert!(!sup.is_stopped());
    probe.quiet();
}

#[tokio::test(start_paused = true)]
async fn any_significant_shuts_down_when_a_temporary_significant_child_fails() {
    let mut probe = Probe::new();
    let sup = start(
        Supervisor::builder()
            .auto_shutdown(AutoShutdown::AnySignificant)
            .child(probe.worker("a"))
            .child(significant(&probe, "s", Restart::Temporary)),
    )
    .await;
    probe.expect(&[(Started, "a"), (Started, "s")]).await;
    probe.exit("s", How::Error);
    probe.expect(&[(Exited, "s"), (Stopped, "a")]).await;
    within(sup.stopped()).await;
    probe.quiet();
}

#[tokio::test(start_paused = true)]
async fn all_significant_shuts_down_only_when_every_significant_child_has_ended() {
    let mut probe = Probe::new();
    let sup = start(
        Supervisor::builder()
            .auto_shutdown(AutoShutdown::AllSignificant)
            .child(probe.worker("a"))
            .child(significant(&probe, "s1", Restart::Transient))
            .child(significant(&probe, "s2", Restart::Temporary)),
    )
    .await;
    probe
        .expect(&[(Started, "a"), (Started, "s1"), (Started, "s2")])
        .await;
    probe.exit("s1", How::Normal);
    probe.expect(&[(Exited, "s1")]).await;
    assert_eq!(
        children(&sup).await,
        kids(&[("s2", Running), ("s1", NotRunning), ("a", Running)])
    );
    assert!(!sup.is_stopped());
    probe.exit("s2", How::Normal);
    probe.expect(&[(Exited, "s2"), (Stopped, "a")]).await;
    within(sup.stopped()).await;
    probe.quiet();
}

#[tokio::test(start_paused = true)]
async fn terminate_child_of_a_significant_child_does_not_shut_the_supervisor_down() {
    let mut probe = Probe::new();
    let sup = start(
        Supervisor::builder()
            .auto_shutdown(AutoShutdown::AnySignificant)
            .child(probe.worker("a"))
            .child(significant(&probe, "s", Restart::Transient)),
    )
    .await;
    probe.expect(&[(Started, "a"), (Started, "s")]).await;
    within(sup.terminate_child("s"))
        .await
        .expect("terminate_child");
    probe.expect(&[(Stopped, "s")]).await;
    assert_eq!(
        children(&sup).await,
        kids(&[("s", NotRunning), ("a", Running)])
    );
    assert!(!sup.is_stopped());
    probe.quiet();
}

#[tokio::test(start_paused = true)]
async fn a_significant_child_stopped_as_a_bystander_does_not_shut_the_supervisor_down() {
    let mut probe = Probe::new();
    let sup = start(
        Supervisor::builder()
            .strategy(Strategy::OneForAll)
            .auto_shutdown(AutoShutdown::AnySignificant)
            .child(significant(&probe, "s", Restart::Transient))
            .child(probe.worker("a")),
    )
    .await;
    probe.expect(&[(Started, "s"), (Started, "a")]).await;
    probe.exit("a", How::Error);
    probe
        .expect(&[
            (Exited, "a"),
            (Stopped, "s"),
            (Started, "s"),
            (Started, "a"),
        ])
        .await;
    assert!(!sup.is_stopped());
    assert_eq!(
        children(&sup).await,
        kids(&[("a", Running), ("s", Running)])
    );
    probe.quiet();
}

#[tokio::test(start_paused = true)]
async fn a_significant_permanent_child_is_rejected() {
    let probe = Probe::new();
    let bad = || significant(&probe, "s", Restart::Permanent);
    let is_bad = |e: &SupervisorError| matches!(e, SupervisorError::BadSpec(_));
    let r = within(
        Supervisor::builder()
            .auto_shutdown(AutoShutdown::AnySignificant)
            .child(bad())
            .start(),
    )
    .await;
    assert_err(r, is_bad, "BadSpec");
    let r = Supervisor::builder()
        .auto_shutdown(AutoShutdown::AnySignificant)
        .child(bad())
        .supervised("nested");
    assert_err(r, is_bad, "BadSpec");
    let sup = start(Supervisor::builder().auto_shutdown(AutoShutdown::AnySignificant)).await;
    assert_err(within(sup.start_child(bad())).await, is_bad, "BadSpec");
    assert_eq!(children(&sup).await, kids(&[]));
}

/// OTP (validSignificant/3): with `auto_shutdown => never`, a significant child is a
/// `bad_combination` and is rejected.
#[tokio::test(start_paused = true)]
async fn a_significant_child_is_rejected_when_auto_shutdown_is_never() {
    let probe = Probe::new();
    let is_bad = |e: &SupervisorError| matches!(e, SupervisorError::BadSpec(_));
    let r = within(
        Supervisor::builder()
            .child(significant(&probe, "s", Restart::Transient))
            .start(),
    )
    .await;
    assert_err(
        r,
        is_bad,
        "BadSpec for a significant child with auto_shutdown never",
    );
    let sup = start(Supervisor::builder()).await;
    assert_err(
        within(sup.start_child(significant(&probe, "s", Restart::Transient))).await,
        is_bad,
        "BadSpec for a significant child with auto_shutdown never",
    );
}

// ---------------------------------------------------------------------------------------------
// Administration
// ---------------------------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn start_child_gives_already_started_and_already_present() {
    let mut probe = Probe::new();
    let sup = start(Supervisor::builder().child(probe.worker("a"))).await;
    probe.expect(&[(Started, "a")]).await;
    assert_err(
        within(sup.start_child(probe.worker("a"))).await,
        |e| matches!(e, SupervisorError::AlreadyStarted(c) if *c == id("a")),
        "AlreadyStarted(a)",
    );
    within(sup.terminate_child("a")).await.unwrap();
    probe.expect(&[(Stopped, "a")]).await;
    assert_err(
        within(sup.start_child(probe.worker("a"))).await,
        |e| matches!(e, SupervisorError::AlreadyPresent(c) if *c == id("a")),
        "AlreadyPresent(a)",
    );
    // A new id is started and added.
    assert_eq!(
        within(sup.start_child(probe.worker("b"))).await.unwrap(),
        id("b")
    );
    probe.expect(&[(Started, "b")]).await;
    assert_eq!(
        children(&sup).await,
        kids(&[("b", Running), ("a", NotRunning)])
    );
    probe.quiet();
}

#[tokio::test(start_paused = true)]
async fn start_child_whose_start_fails_is_not_added() {
    let mut probe = Probe::new();
    let sup = start(Supervisor::builder().child(probe.worker("a"))).await;
    probe.expect(&[(Started, "a")]).await;
    assert_err(
        within(sup.start_child(failing("f"))).await,
        |e| matches!(e, SupervisorError::StartFailed { id: c, .. } if *c == id("f")),
        "StartFailed(f)",
    );
    assert_eq!(children(&sup).await, kids(&[("a", Running)]));
    probe.quiet();
}

#[tokio::test(start_paused = true)]
async fn terminate_child_is_idempotent_and_keeps_the_spec_unless_temporary() {
    let mut probe = Probe::new();
    let sup = start(
        Supervisor::builder()
            .child(probe.worker("a"))
            .child(probe.worker("t").restart(Restart::Temporary)),
    )
    .await;
    probe.expect(&[(Started, "a"), (Started, "t")]).await;
    within(sup.terminate_child("a"))
        .await
        .expect("terminate_child");
    probe.expect(&[(Stopped, "a")]).await;
    within(sup.terminate_child("a"))
        .await
        .expect("terminate_child again");
    assert_eq!(
        children(&sup).await,
        kids(&[("t", Running), ("a", NotRunning)])
    );
    // A temporary child's spec goes with it.
    within(sup.terminate_child("t"))
        .await
        .expect("terminate_child");
    probe.expect(&[(Stopped, "t")]).await;
    assert_eq!(children(&sup).await, kids(&[("a", NotRunning)]));
    assert_err(
        within(sup.terminate_child("nobody")).await,
        |e| matches!(e, SupervisorError::NotFound(c) if *c == id("nobody")),
        "NotFound(nobody)",
    );
    probe.quiet();
}

#[tokio::test(start_paused = true)]
async fn restart_child_gives_running_and_not_found_and_restarts_a_terminated_child() {
    let mut probe = Probe::new();
    let sup = start(Supervisor::builder().child(probe.worker("a"))).await;
    probe.expect(&[(Started, "a")]).await;
    assert_err(
        within(sup.restart_child("a")).await,
        |e| matches!(e, SupervisorError::Running(c) if *c == id("a")),
        "Running(a)",
    );
    assert_err(
        within(sup.restart_child("nobody")).await,
        |e| matches!(e, SupervisorError::NotFound(c) if *c == id("nobody")),
        "NotFound(nobody)",
    );
    within(sup.terminate_child("a")).await.unwrap();
    probe.expect(&[(Stopped, "a")]).await;
    within(sup.restart_child("a")).await.expect("restart_child");
    probe.expect(&[(Started, "a")]).await;
    assert_eq!(children(&sup).await, kids(&[("a", Running)]));
    probe.quiet();
}

#[tokio::test(start_paused = true)]
async fn delete_child_gives_running_and_not_found_and_deletes_a_terminated_child() {
    let mut probe = Probe::new();
    let sup = start(
        Supervisor::builder()
            .child(probe.worker("a"))
            .child(probe.worker("b")),
    )
    .await;
    probe.expect(&[(Started, "a"), (Started, "b")]).await;
    assert_err(
        within(sup.delete_child("a")).await,
        |e| matches!(e, SupervisorError::Running(c) if *c == id("a")),
        "Running(a)",
    );
    assert_err(
        within(sup.delete_child("nobody")).await,
        |e| matches!(e, SupervisorError::NotFound(c) if *c == id("nobody")),
        "NotFound(nobody)",
    );
    within(sup.terminate_child("a")).await.unwrap();
    probe.expect(&[(Stopped, "a")]).await;
    within(sup.delete_child("a")).await.expect("delete_child");
    assert_eq!(children(&sup).await, kids(&[("b", Running)]));
    assert_err(
        within(sup.restart_child("a")).await,
        |e| matches!(e, SupervisorError::NotFound(c) if *c == id("a")),
        "NotFound(a)",
    );
    // The id is free again.
    within(sup.start_child(probe.worker("a")))
        .await
        .expect("start_child");
    probe.expect(&[(Started, "a")]).await;
    assert_eq!(
        children(&sup).await,
        kids(&[("a", Running), ("b", Running)])
    );
    probe.quiet();
}

#[tokio::test(start_paused = true)]
async fn which_children_lists_the_newest_first() {
    let mut probe = Probe::new();
    let sup = start(
        Supervisor::builder()
            .child(probe.worker("a"))
            .child(probe.worker("b")),
    )
    .await;
    within(sup.start_child(probe.worker("c"))).await.unwrap();
    probe
        .expect(&[(Started, "a"), (Started, "b"), (Started, "c")])
        .await;
    let info = within(sup.which_children()).await.unwrap();
    assert_eq!(
        listed(info.clone()),
        kids(&[("c", Running), ("b", Running), ("a", Running)])
    );
    assert!(info
        .iter()
        .all(|c| c.kind == ChildKind::Worker && c.restart == Restart::Permanent));
    probe.quiet();
}

#[tokio::test(start_paused = true)]
async fn count_children_counts_specs_active_supervisors_and_workers() {
    let mut probe = Probe::new();
    let (_inner, spec) = Supervisor::builder()
        .child(probe.worker("w"))
        .supervised("inner")
        .unwrap();
    let sup = start(
        Supervisor::builder()
            .child(probe.worker("a"))
            .child(probe.worker("b"))
            .child(spec)
            .child(ignoring("i")),
    )
    .await;
    probe
        .expect(&[(Started, "a"), (Started, "b"), (Started, "w")])
        .await;
    within(sup.terminate_child("b")).await.unwrap();
    probe.expect(&[(Stopped, "b")]).await;
    let n = within(sup.count_children()).await.unwrap();
    assert_eq!(
        (n.specs, n.active, n.supervisors, n.workers),
        (4, 2, 1, 3),
        "(specs, active, supervisors, workers)"
    );
    probe.quiet();
}

/// OTP: a restart whose start fails marks the child `restarting` and casts a try-again to the
/// supervisor itself, so requests already queued are handled first and see it restarting;
/// restart_child and delete_child then answer `{error, restarting}`.
#[tokio::test(start_paused = true)]
async fn a_failed_restart_leaves_the_child_restarting_until_it_is_tried_again() {
    let mut probe = Probe::new();
    let gate = Arc::new(Semaphore::new(0));
    let attempts = Arc::new(AtomicUsize::new(0));
    let spec = {
        let tx = probe.tx.clone();
        let gate = gate.clone();
        let attempts = attempts.clone();
        ChildSpec::new("c", move || {
            let tx = tx.clone();
            let gate = gate.clone();
            let n = attempts.fetch_add(1, SeqCst) + 1;
            async move {
                if n == 2 {
                    tx.send(Gated, "c");
                    let _pass = gate.acquire().await.expect("the gate opens");
                    tx.send(StartFailed, "c");
                    return Err("the second start of c fails".into());
                }
                Ok(Start::task(move |stop| {
                    tx.run("c".into(), stop, OnStop::Return)
                }))
            }
        })
    };
    let sup = start(
        Supervisor::builder()
            .intensity(Intensity::new(5, secs(60)))
            .child(spec),
    )
    .await;
    probe.expect(&[(Started, "c")]).await;
    probe.exit("c", How::Error);
    probe.expect(&[(Exited, "c"), (Gated, "c")]).await;
    // The restart's start runs: queue three requests, then let it fail.
    let mut which = Box::pin(sup.which_children());
    let mut restart = Box::pin(sup.restart_child("c"));
    let mut delete = Box::pin(sup.delete_child("c"));
    assert!(poll_once(&mut which).await.is_pending());
    assert!(poll_once(&mut restart).await.is_pending());
    assert!(poll_once(&mut delete).await.is_pending());
    gate.add_permits(1);
    probe.expect(&[(StartFailed, "c")]).await;
    let which = within(which).await.map(listed);
    let restart = within(restart).await;
    let delete = within(delete).await;
    // The try again succeeds.
    probe.expect(&[(Started, "c")]).await;
    assert_eq!(attempts.load(SeqCst), 3);
    assert_eq!(children(&sup).await, kids(&[("c", Running)]));
    assert!(
        matches!(&which, Ok(l) if *l == kids(&[("c", Restarting)]))
            && matches!(&restart, Err(SupervisorError::Restarting(c)) if *c == id("c"))
            && matches!(&delete, Err(SupervisorError::Restarting(c)) if *c == id("c")),
        "requests queued before the try again: which_children {which:?}, restart_child \
         {restart:?}, delete_child {delete:?}"
    );
    probe.quiet();
}

#[tokio::test(start_paused = true)]
async fn a_restart_that_keeps_failing_counts_toward_intensity() {
    let mut probe = Probe::new();
    let sup = start(
        Supervisor::builder()
            .intensity(Intensity::new(3, secs(60)))
            .child(probe.worker("a"))
            .child(probe.tx.flaky("f", &[2, 3, 4, 5, 6, 7])),
    )
    .await;
    probe.expect(&[(Started, "a"), (Started, "f")]).await;
    probe.exit("f", How::Error);
    // Restart 1 fails, tries 2 and 3 fail, the 4th restart is one too many.
    probe
        .expect(&[
            (Exited, "f"),
            (StartFailed, "f"),
            (StartFailed, "f"),
            (StartFailed, "f"),
            (Stopped, "a"),
        ])
        .await;
    within(sup.stopped()).await;
    probe.quiet();
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

async fn refused(builder: SupervisorBuilder) -> String {
    let nested = builder.clone().supervised("nested");
    assert!(
        matches!(nested, Err(SupervisorError::BadSpec(_))),
        "supervised: {nested:?}"
    );
    match within(builder.start()).await {
        Err(SupervisorError::BadSpec(why)) => why,
        other => panic!("expected BadSpec, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn a_zero_period_is_refused() {
    let probe = Probe::new();
    refused(
        Supervisor::builder()
            .intensity(Intensity::new(1, Duration::ZERO))
            .child(probe.worker("a")),
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn duplicate_child_ids_are_refused() {
    let mut probe = Probe::new();
    let why = refused(
        Supervisor::builder()
            .child(probe.worker("a"))
            .child(probe.worker("b"))
            .child(probe.worker("a")),
    )
    .await;
    assert!(why.contains("\"a\""), "{why}");
    // No child was started.
    probe.quiet();
}

#[tokio::test(start_paused = true)]
async fn simple_one_for_one_without_a_template_is_refused() {
    refused(Supervisor::builder().strategy(Strategy::SimpleOneForOne)).await;
}

#[tokio::test(start_paused = true)]
async fn simple_one_for_one_with_static_children_or_a_template_elsewhere_is_refused() {
    let probe = Probe::new();
    refused(sofo(&probe).child(probe.worker("a"))).await;
    let tx = probe.tx.clone();
    refused(
        Supervisor::builder()
            .strategy(Strategy::OneForOne)
            .template(move |n: u32| tx.worker(&format!("w{n}"))),
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn simple_one_for_one_with_an_auto_shutdown_is_refused_as_a_bad_combination() {
    let probe = Probe::new();
    for auto in [AutoShutdown::AnySignificant, AutoShutdown::AllSignificant] {
        let why = refused(sofo(&probe).auto_shutdown(auto)).await;
        assert!(why.contains("bad_combination"), "{auto:?}: {why}");
    }
}

#[tokio::test(start_paused = true)]
async fn defaults_are_otps() {
    assert_eq!(Intensity::default(), Intensity::new(1, secs(5)));
    assert_eq!(Strategy::default(), Strategy::OneForOne);
    assert_eq!(AutoShutdown::default(), AutoShutdown::Never);
    let probe = Probe::new();
    let worker = probe.worker("a");
    assert_eq!(worker.restart_type(), Restart::Permanent);
    assert_eq!(worker.kind(), ChildKind::Worker);
    let shown = format!("{worker:?}");
    assert!(shown.contains("shutdown: Timeout(5s)"), "{shown}");
    assert!(shown.contains("significant: false"), "{shown}");
    let (_sup, spec) = Supervisor::builder().supervised("sup").unwrap();
    assert_eq!(spec.kind(), ChildKind::Supervisor);
    assert_eq!(spec.restart_type(), Restart::Permanent);
    let shown = format!("{spec:?}");
    assert!(shown.contains("shutdown: Infinity"), "{shown}");
}

// ---------------------------------------------------------------------------------------------
// A child's start calling its own supervisor
// ---------------------------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn a_child_start_calling_its_own_supervisor_gets_would_deadlock() {
    let mut probe = Probe::new();
    let cell: Arc<OnceLock<Supervisor>> = Arc::default();
    let (said_tx, mut said) = mpsc::unbounded_channel();
    let spec = {
        let cell = cell.clone();
        let tx = probe.tx.clone();
        ChildSpec::new("caller", move || {
            let sup = cell.get().cloned();
            let said = said_tx.clone();
            let tx = tx.clone();
            async move {
                let sup = sup.expect("the handle is set before the child is added");
                let _ = said.send(sup.count_children().await.map(|n| n.specs));
                let _ = said.send(sup.stop().await.map(|()| 0));
                Ok(Start::task(move |stop| {
                    tx.run("caller".into(), stop, OnStop::Return)
                }))
            }
        })
    };
    let sup = start(Supervisor::builder().child(probe.worker("a"))).await;
    assert!(cell.set(sup.clone()).is_ok());
    let added = within(sup.start_child(spec)).await;
    assert_eq!(added.expect("start_child"), id("caller"));
    for _ in 0..2 {
        let answer = within(said.recv()).await.expect("the start reported");
        assert!(
            matches!(answer, Err(SupervisorError::WouldDeadlock)),
            "{answer:?}"
        );
    }
    probe.expect(&[(Started, "a"), (Started, "caller")]).await;
    // The supervisor still answers, and was not stopped.
    assert_eq!(within(sup.count_children()).await.unwrap().active, 2);
    probe.quiet();
}

#[tokio::test(start_paused = true)]
async fn a_nested_childs_start_calling_its_supervisor_gets_would_deadlock() {
    let mut probe = Probe::new();
    let cell: Arc<OnceLock<Supervisor>> = Arc::default();
    let (said_tx, mut said) = mpsc::unbounded_channel();
    let spec = {
        let cell = cell.clone();
        let tx = probe.tx.clone();
        ChildSpec::new("caller", move || {
            let sup = cell.get().cloned();
            let said = said_tx.clone();
            let tx = tx.clone();
            async move {
                let sup = sup.expect("the handle is set before the start");
                let _ = said.send(sup.which_children().await.map(|l| l.len()));
                Ok(Start::task(move |stop| {
                    tx.run("caller".into(), stop, OnStop::Return)
                }))
            }
        })
    };
    let (inner, inner_spec) = Supervisor::builder()
        .child(spec)
        .supervised("inner")
        .unwrap();
    assert!(cell.set(inner.clone()).is_ok());
    let _outer = start(Supervisor::builder().child(inner_spec)).await;
    let answer = within(said.recv()).await.expect("the start reported");
    assert!(
        matches!(answer, Err(SupervisorError::WouldDeadlock)),
        "{answer:?}"
    );
    probe.expect(&[(Started, "caller")]).await;
    assert_eq!(children(&inner).await, kids(&[("caller", Running)]));
}

#[tokio::test(start_paused = true)]
async fn a_running_child_may_call_its_own_supervisor() {
    let mut probe = Probe::new();
    let cell: Arc<OnceLock<Supervisor>> = Arc::default();
    let (said_tx, mut said) = mpsc::unbounded_channel();
    let spec = {
        let cell = cell.clone();
        ChildSpec::task("caller", move |stop| {
            let sup = cell.get().cloned();
            let said = said_tx.clone();
            async move {
                let sup = sup.expect("the handle is set before the child is added");
                let _ = said.send(sup.which_children().await.map(listed));
                stop.stopped().await;
                Ok(())
            }
        })
    };
    let sup = start(Supervisor::builder().child(probe.worker("a"))).await;
    assert!(cell.set(sup.clone()).is_ok());
    within(sup.start_child(spec)).await.expect("start_child");
    let answer = within(said.recv()).await.expect("the child reported");
    assert_eq!(
        answer.expect("which_children from a running child"),
        kids(&[("caller", Running), ("a", Running)])
    );
    probe.expect(&[(Started, "a")]).await;
    probe.quiet();
}

// ---------------------------------------------------------------------------------------------
// Event managers and guards as children
// ---------------------------------------------------------------------------------------------

#[derive(Debug)]
struct Num(u64);

/// Reports each event it handles on a channel.
struct Tally {
    handled: UnboundedSender<u64>,
}

#[handler(event = Num)]
impl Tally {
    fn init(handled: UnboundedSender<u64>) -> Self {
        Tally { handled }
    }

    fn handle_event(&mut self, event: &Num) {
        let _ = self.handled.send(event.0);
    }
}

#[tokio::test(start_paused = true)]
async fn an_event_manager_and_a_guard_run_as_worker_children() {
    let (handled_tx, mut handled) = mpsc::unbounded_channel();
    let (events, manager) = EventManager::<Num>::builder()
        .name("events")
        .supervised("events")
        .build()
        .expect("a manager child");
    let guard = Guard::new(&events, Install::<Tally>::new(), handled_tx).child("tally");
    let sup = start(Supervisor::builder().child(manager).child(guard)).await;
    assert_eq!(within(events.which_handlers()).await.unwrap().len(), 1);
    within(events.notify(Num(7))).await.expect("notify");
    assert_eq!(within(handled.recv()).await, Some(7));
    let n = within(sup.count_children()).await.unwrap();
    assert_eq!(
        (n.specs, n.active, n.supervisors, n.workers),
        (2, 2, 0, 2),
        "(specs, active, supervisors, workers)"
    );
    let info = within(sup.which_children()).await.unwrap();
    assert_eq!(info[0].restart, Restart::Transient, "a guard is transient");
    within(sup.stop()).await.expect("stop");
    assert!(
        within(events.notify(Num(8))).await.is_err(),
        "the manager of a supervisor that ended for good is gone"
    );
}
