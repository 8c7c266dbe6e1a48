//! Supervised handlers in trees (DESIGN.md §6-7, seeds 002 and 003): guards that re-install
//! their handler, the alarm-handler swap with state hand-over, the lager-style tree, and
//! manager handles that survive restarts without losing events.
//!
//! Every wait that could hang is bounded by `within` (10 s), so a bug fails instead of hanging.

use std::future::IntoFuture;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use event_core::{
    handler, BoxError, ChildSpec, EventManager, ExitReason, Fatal, Guard, GuardError, Install,
    Intensity, NotifyError, Restart, Strategy, Supervisor, SupervisorError,
};
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};

async fn within<F: IntoFuture>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(10), f)
        .await
        .expect("timed out after 10 s")
}

#[derive(Debug)]
enum Ev {
    Num(u64),
    Crash,
}

/// Forwards every number it sees, with its incarnation, and crashes on `Crash`.
struct Counter {
    incarnation: u32,
    seen: UnboundedSender<(u32, u64)>,
}

#[derive(Clone)]
struct CounterArgs {
    incarnations: Arc<AtomicU32>,
    seen: UnboundedSender<(u32, u64)>,
}

impl CounterArgs {
    fn new() -> (Self, UnboundedReceiver<(u32, u64)>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (
            CounterArgs {
                incarnations: Arc::new(AtomicU32::new(0)),
                seen: tx,
            },
            rx,
        )
    }
}

struct Incarnation;

#[handler(event = Ev)]
impl Counter {
    fn init(args: CounterArgs) -> Self {
        let incarnation = args.incarnations.fetch_add(1, Ordering::SeqCst) + 1;
        Counter {
            incarnation,
            seen: args.seen,
        }
    }

    fn handle_event(&mut self, ev: &Ev) {
        match ev {
            Ev::Num(n) => {
                let _ = self.seen.send((self.incarnation, *n));
            }
            Ev::Crash => panic!("asked to crash"),
        }
    }

    #[call]
    fn incarnation(&self, _: Incarnation) -> u32 {
        self.incarnation
    }
}

/// A supervised manager with no standing handler, as the child `events`, and its handle.
fn events_child() -> (EventManager<Ev>, ChildSpec) {
    EventManager::<Ev>::builder()
        .supervised("events")
        .build()
        .unwrap()
}

fn counter_ref() -> event_core::HandlerRef<Counter> {
    Install::<Counter>::new().handler_ref().clone()
}

/// Waits until a `Counter` of incarnation `at_least` or later answers (a guard re-installs
/// it asynchronously), and returns its incarnation.
async fn counter_back(events: &EventManager<Ev>, at_least: u32) -> u32 {
    within(async {
        loop {
            if let Ok(n) = events.call(&counter_ref(), Incarnation).await {
                if n >= at_least {
                    break n;
                }
            }
            tokio::task::yield_now().await;
        }
    })
    .await
}

/// A task child that fails when told to and stops when asked, and tells each of its starts.
struct Trigger {
    fail: UnboundedSender<()>,
    started: UnboundedReceiver<()>,
}

fn trigger(id: &'static str) -> (ChildSpec, Trigger) {
    let (fail, fail_rx) = mpsc::unbounded_channel::<()>();
    let fail_rx = Arc::new(tokio::sync::Mutex::new(fail_rx));
    let (started_tx, started) = mpsc::unbounded_channel();
    let spec = ChildSpec::task(id, move |stop| {
        let fail_rx = fail_rx.clone();
        let started_tx = started_tx.clone();
        async move {
            let _ = started_tx.send(());
            let mut rx = fail_rx.lock().await;
            tokio::select! {
                _ = rx.recv() => Err("told to fail".into()),
                _ = stop.stopped() => Ok(()),
            }
        }
    });
    (spec, Trigger { fail, started })
}

/// Waits until the child `id` is no longer running, and returns its state.
async fn state_once_not_running(sup: &Supervisor, id: &str) -> event_core::ChildState {
    within(async {
        loop {
            let children = sup.which_children().await.unwrap();
            let c = children.iter().find(|c| c.id == id.into()).unwrap();
            if c.state != event_core::ChildState::Running {
                break c.state;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Guards
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_guard_reinstalls_its_handler_after_a_crash() {
    let (args, mut seen) = CounterArgs::new();
    let incarnations = args.incarnations.clone();
    let (events, manager) = EventManager::<Ev>::builder()
        .debug_events()
        .supervised("events")
        .build()
        .unwrap();
    let guard = Guard::new(&events, Install::<Counter>::new(), args).child("guard");
    let sup = within(Supervisor::builder().child(manager).child(guard).start())
        .await
        .unwrap();
    // The tree starts in order: once started, the handler is installed.
    assert_eq!(incarnations.load(Ordering::SeqCst), 1);

    events.notify(Ev::Crash).await.unwrap();
    // The guard re-installs; a call waits until the new one answers.
    let reply = counter_back(&events, 2).await;
    assert_eq!(reply, 2);
    events.sync_notify(Ev::Num(7)).await.unwrap();
    assert_eq!(within(seen.recv()).await, Some((2, 7)));
    within(sup.stop()).await.unwrap();
    assert!(events.is_stopped(), "the manager ends with its tree");
}

#[tokio::test]
async fn a_guard_ends_normally_when_its_handler_is_deleted() {
    let (args, _seen) = CounterArgs::new();
    let (events, manager) = events_child();
    let guard = Guard::new(&events, Install::<Counter>::new(), args).child("guard");
    let sup = within(Supervisor::builder().child(manager).child(guard).start())
        .await
        .unwrap();
    events.delete_handler(&counter_ref(), ()).await.unwrap();
    // Transient and ended normally: not restarted, so it stays not running and re-installs
    // nothing.
    let guard_state = state_once_not_running(&sup, "guard").await;
    assert_eq!(guard_state, event_core::ChildState::NotRunning);
    assert!(events.which_handlers().await.unwrap().is_empty());
    within(sup.stop()).await.unwrap();
}

/// Fails `init` with [`Fatal`] when told to.
struct Picky;

#[handler(event = Ev)]
impl Picky {
    fn init(fatal: bool) -> Result<Self, BoxError> {
        match fatal {
            true => Err(Fatal::new("no configuration").into()),
            false => Err("not yet".into()),
        }
    }

    fn handle_event(&mut self, _: &Ev) {}
}

#[tokio::test]
async fn a_guard_whose_first_install_fails_fails_the_tree_start() {
    let (events, manager) = events_child();
    let guard = Guard::new(&events, Install::<Picky>::new(), true).child("picky");
    let err = within(Supervisor::builder().child(manager).child(guard).start())
        .await
        .unwrap_err();
    match &err {
        SupervisorError::FailedToStartChild { id, reason } => {
            assert_eq!(*id, "picky".into());
            assert!(reason.to_string().contains("no configuration"), "{reason}");
        }
        other => panic!("expected FailedToStartChild, got {other:?}"),
    }
    assert!(
        events.is_stopped(),
        "the started manager was stopped and retired"
    );
}

#[test]
fn guard_errors_say_what_failed() {
    let e = GuardError::ReinstallFailed {
        attempts: 3,
        last: "boom".into(),
    };
    assert_eq!(
        e.to_string(),
        "the guarded handler could not be re-installed in 3 tries; the last failed with: boom"
    );
}

// ---------------------------------------------------------------------------------------------
// Seed 002: a guard swaps the default alarm handler for its own, taking over its state
// ---------------------------------------------------------------------------------------------

#[derive(Debug)]
enum Alarm {
    Set(&'static str),
    Clear(&'static str),
}

/// The default handler: keeps the alarms set.
struct DefaultAlarms(Vec<&'static str>);

#[handler(event = Alarm)]
impl DefaultAlarms {
    fn init() -> Self {
        DefaultAlarms(Vec::new())
    }

    fn handle_event(&mut self, a: &Alarm) {
        match a {
            Alarm::Set(n) => self.0.push(n),
            Alarm::Clear(n) => self.0.retain(|x| x != n),
        }
    }

    fn terminate(self) -> Vec<&'static str> {
        self.0
    }
}

/// The custom handler: starts from the default one's alarms; crashes on the alarm "bug".
struct MyAlarms(Vec<&'static str>);

struct Active;

#[handler(event = Alarm)]
impl MyAlarms {
    fn init(old: Vec<&'static str>) -> Self {
        MyAlarms(old)
    }

    fn handle_event(&mut self, a: &Alarm) {
        match a {
            Alarm::Set("bug") => panic!("bad alarm"),
            Alarm::Set(n) => self.0.push(n),
            Alarm::Clear(n) => self.0.retain(|x| x != n),
        }
    }

    #[call]
    fn active(&self, _: Active) -> Vec<&'static str> {
        self.0.clone()
    }
}

#[tokio::test]
async fn seed_002_a_guard_swaps_the_default_handler_and_the_state_is_handed_over() {
    let (alarms, manager) = EventManager::<Alarm>::builder()
        .debug_events()
        .supervised("alarm_handler")
        .handler(Install::<DefaultAlarms>::new(), ())
        .build()
        .unwrap();
    let default = Install::<DefaultAlarms>::new().handler_ref().clone();
    let mine = Install::<MyAlarms>::new().handler_ref().clone();
    // The guard's install is my_alarm_handler:start/1: swap the default for ours, supervised.
    let guard = {
        let alarms = alarms.clone();
        let default = default.clone();
        Guard::custom(move || {
            let alarms = alarms.clone();
            let default = default.clone();
            async move {
                alarms
                    .swap_sup_handler(&default, (), Install::<MyAlarms>::new(), |old| {
                        old.unwrap_or_default()
                    })
                    .await
            }
        })
        .child("my_alarm_guard")
    };
    // Alarms set before the guard starts are in the default handler's state.
    let sup = Supervisor::builder()
        .strategy(Strategy::OneForOne)
        .child(manager)
        .child(
            ChildSpec::task("raise", {
                let alarms = alarms.clone();
                move |_stop| {
                    let alarms = alarms.clone();
                    async move {
                        alarms.sync_notify(Alarm::Set("disk")).await?;
                        alarms.sync_notify(Alarm::Set("fan")).await?;
                        alarms.sync_notify(Alarm::Clear("fan")).await?;
                        Ok(())
                    }
                }
            })
            .restart(event_core::Restart::Temporary),
        )
        .child(guard);
    let sup = within(sup.start()).await.unwrap();
    assert_eq!(
        within(alarms.call(&mine, Active)).await.unwrap(),
        vec!["disk"],
        "the default handler's alarms reached the custom handler's init"
    );
    assert_eq!(
        alarms.which_handlers().await.unwrap(),
        vec![mine.id().clone()]
    );

    // A crash: the guard runs its install again; the default handler is gone, so the swap
    // starts from no hand-over, and the custom handler is back.
    alarms.sync_notify(Alarm::Set("bug")).await.unwrap();
    let back = within(async {
        loop {
            if let Ok(a) = alarms.call(&mine, Active).await {
                break a;
            }
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(back.is_empty());
    within(sup.stop()).await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// Seed 003: the lager-style tree, built by hand
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn seed_003_lager_tree_guards_under_a_simple_one_for_one_supervisor() {
    let (events, manager) = EventManager::<Ev>::builder()
        .name("my_event")
        .debug_events()
        .supervised("my_event")
        .build()
        .unwrap();
    let (args, mut seen) = CounterArgs::new();
    let template_events = events.clone();
    let (guards, guard_sup) = Supervisor::builder()
        .name("guards")
        .strategy(Strategy::SimpleOneForOne)
        .template(move |args: CounterArgs| {
            Guard::new(&template_events, Install::<Counter>::new(), args).child("guard")
        })
        .supervised("guards")
        .unwrap();
    let top = within(
        Supervisor::builder()
            .name("top")
            .intensity(Intensity::new(10, Duration::from_secs(60)))
            .child(manager)
            .child(guard_sup)
            .start(),
    )
    .await
    .unwrap();
    within(guards.start_dynamic(args.clone())).await.unwrap();
    events.sync_notify(Ev::Num(1)).await.unwrap();
    assert_eq!(within(seen.recv()).await, Some((1, 1)));

    events.notify(Ev::Crash).await.unwrap();
    let n = counter_back(&events, 2).await;
    assert_eq!(n, 2, "the guard re-installed the handler");
    let count = guards.count_children().await.unwrap();
    assert_eq!((count.specs, count.active), (1, 1));

    within(top.stop()).await.unwrap();
    assert!(guards.is_stopped());
    assert!(events.is_stopped());
}

// ---------------------------------------------------------------------------------------------
// Handles survive restarts
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_sent_while_a_manager_restarts_are_handled_by_the_new_incarnation() {
    const N: u64 = 4000;
    let (args, mut seen) = CounterArgs::new();
    let (events, manager) = EventManager::<Ev>::builder()
        .supervised("events")
        .handler(Install::<Counter>::new(), args)
        .build()
        .unwrap();
    let (trigger, mut t) = trigger("trigger");
    // one_for_all: the trigger's failure restarts the manager too.
    let sup = within(
        Supervisor::builder()
            .strategy(Strategy::OneForAll)
            .intensity(Intensity::new(100, Duration::from_secs(60)))
            .child(manager)
            .child(trigger)
            .start(),
    )
    .await
    .unwrap();
    within(t.started.recv()).await.unwrap();
    // Half the events, then the restart, with the other half sent while it happens.
    for n in 0..N / 2 {
        events.notify(Ev::Num(n)).await.unwrap();
    }
    t.fail.send(()).unwrap();
    for n in N / 2..N {
        events.notify(Ev::Num(n)).await.unwrap();
    }
    within(t.started.recv()).await.unwrap();
    events.sync_notify(Ev::Num(N)).await.unwrap();
    let mut got = Vec::new();
    let mut incarnations = std::collections::BTreeSet::new();
    while got.len() as u64 <= N {
        let (inc, n) = within(seen.recv()).await.unwrap();
        incarnations.insert(inc);
        got.push(n);
    }
    assert_eq!(
        got,
        (0..=N).collect::<Vec<_>>(),
        "each event once, in order"
    );
    assert_eq!(
        incarnations.into_iter().collect::<Vec<_>>(),
        vec![1, 2],
        "the manager was restarted once, between the events"
    );
    within(sup.stop()).await.unwrap();
}

/// A permanent manager's own `stop` is a restart like any other: the handle reaches the next
/// incarnation, and what is sent between the stop and the restart waits for it. Senders race
/// the stops on a multi-thread runtime; none is refused, and every event is handled once, in
/// each sender's order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_permanent_manager_refuses_no_sender_and_its_next_incarnation_handles_what_was_sent_meanwhile(
) {
    const SENDERS: usize = 3;
    const STOPS: u32 = 20;
    const LAST: u64 = u64::MAX;
    let (args, mut seen) = CounterArgs::new();
    let (events, manager) = EventManager::<Ev>::builder()
        .supervised("events")
        .handler(Install::<Counter>::new(), args)
        .build()
        .unwrap();
    let sup = within(
        Supervisor::builder()
            .intensity(Intensity::new(STOPS, Duration::from_secs(600)))
            .child(manager)
            .start(),
    )
    .await
    .unwrap();
    let done = Arc::new(AtomicBool::new(false));
    // How many events the senders have sent so far, and a signal each time it grows: every
    // stop waits for the senders to have sent more since the last one, so that their events
    // straddle the stops however the runtime schedules them.
    let progress = Arc::new(AtomicU64::new(0));
    let progressed = Arc::new(tokio::sync::Notify::new());
    let senders: Vec<_> = (0..SENDERS as u64)
        .map(|s| {
            let (events, done) = (events.clone(), done.clone());
            let (progress, progressed) = (progress.clone(), progressed.clone());
            tokio::spawn(async move {
                let (mut sent, mut refused) = (0u64, Vec::new());
                while !done.load(Ordering::SeqCst) {
                    for _ in 0..16 {
                        match events.notify(Ev::Num(s << 32 | sent)).await {
                            Ok(()) => sent += 1,
                            Err(e) => refused.push(e.to_string()),
                        }
                    }
                    progress.fetch_add(16, Ordering::SeqCst);
                    progressed.notify_one();
                    // A call in between: answered by whichever incarnation runs.
                    if let Err(e) = events.call(&counter_ref(), Incarnation).await {
                        refused.push(e.to_string());
                    }
                    tokio::task::yield_now().await;
                }
                (sent, refused)
            })
        })
        .collect();
    for stop in 1..=STOPS {
        let before = progress.load(Ordering::SeqCst);
        while progress.load(Ordering::SeqCst) == before {
            within(progressed.notified()).await;
        }
        within(events.stop()).await.expect("stop");
        // Queued behind the stop: answered once the supervisor has restarted the manager.
        let incarnation = within(events.call(&counter_ref(), Incarnation))
            .await
            .expect("the handle reaches the next incarnation");
        assert_eq!(incarnation, stop + 1, "one restart per stop");
    }
    done.store(true, Ordering::SeqCst);
    let mut sent = Vec::new();
    for (s, sender) in senders.into_iter().enumerate() {
        let (n, refused) = within(sender).await.unwrap();
        assert!(
            refused.is_empty(),
            "sender {s} was refused {} time(s) around a stop: {:?}",
            refused.len(),
            &refused[..refused.len().min(3)]
        );
        sent.push(n);
    }
    events.sync_notify(Ev::Num(LAST)).await.unwrap();
    let mut handled = vec![0u64; SENDERS];
    // The incarnations that handled senders' events.
    let mut by = std::collections::BTreeSet::new();
    loop {
        let (incarnation, n) = within(seen.recv()).await.unwrap();
        if n == LAST {
            break;
        }
        by.insert(incarnation);
        let s = (n >> 32) as usize;
        assert_eq!(
            n & 0xffff_ffff,
            handled[s],
            "sender {s}'s events once, in order"
        );
        handled[s] += 1;
    }
    assert_eq!(handled, sent, "every event sent was handled");
    assert!(
        by.len() > 1,
        "the senders' events straddle the stops: handled by incarnations {by:?}"
    );
    within(sup.stop()).await.unwrap();
}

/// A transient manager is not restarted after its own `stop`, which refuses what comes after,
/// as a standalone manager's does.
#[tokio::test]
async fn a_stopped_transient_manager_is_not_restarted_and_refuses_what_is_sent_after_its_stop() {
    let (events, manager) = events_child();
    let sup = within(
        Supervisor::builder()
            .child(manager.restart(Restart::Transient))
            .start(),
    )
    .await
    .unwrap();
    within(events.stop()).await.unwrap();
    assert!(
        matches!(
            events.notify(Ev::Num(1)).await,
            Err(NotifyError::ManagerGone(_))
        ),
        "sent after the stop"
    );
    let state = state_once_not_running(&sup, "events").await;
    assert_eq!(state, event_core::ChildState::NotRunning);
    within(sup.stop()).await.unwrap();
}

/// A temporary manager is started once: its supervisor keeps neither its start function nor
/// the standing handlers' args while it runs, and its end, a stop here, is for good.
#[tokio::test]
async fn a_temporary_manager_keeps_no_start_args_while_it_runs_and_ends_for_good_by_itself() {
    let (args, _seen) = CounterArgs::new();
    let captured = Arc::downgrade(&args.incarnations);
    let (events, manager) = EventManager::<Ev>::builder()
        .supervised("events")
        .handler(Install::<Counter>::new(), args)
        .build()
        .unwrap();
    let sup = within(Supervisor::builder().start()).await.unwrap();
    within(sup.start_child(manager.restart(Restart::Temporary)))
        .await
        .unwrap();
    assert_eq!(
        within(events.call(&counter_ref(), Incarnation))
            .await
            .unwrap(),
        1
    );
    assert!(
        captured.upgrade().is_none(),
        "the standing handler's args are kept"
    );
    within(events.stop()).await.unwrap();
    within(events.stopped()).await;
    assert!(
        matches!(
            events.notify(Ev::Num(1)).await,
            Err(NotifyError::ManagerGone(_))
        ),
        "sent after its end"
    );
    assert!(within(sup.which_children()).await.unwrap().is_empty());
    within(sup.stop()).await.unwrap();
}

#[tokio::test]
async fn a_guarded_handler_is_back_after_a_one_for_all_restart() {
    let (args, _seen) = CounterArgs::new();
    let (events, manager) = events_child();
    let guard = Guard::new(&events, Install::<Counter>::new(), args).child("guard");
    let (trigger, t) = trigger("trigger");
    let sup = within(
        Supervisor::builder()
            .strategy(Strategy::OneForAll)
            .intensity(Intensity::new(5, Duration::from_secs(60)))
            .child(manager)
            .child(guard)
            .child(trigger)
            .start(),
    )
    .await
    .unwrap();
    t.fail.send(()).unwrap();
    let n = counter_back(&events, 2).await;
    assert_eq!(n, 2);
    assert_eq!(events.which_handlers().await.unwrap().len(), 1);
    within(sup.stop()).await.unwrap();
}

#[tokio::test]
async fn a_guard_ends_with_its_manager_stopped_on_purpose() {
    let (args, _seen) = CounterArgs::new();
    let (events, manager) = events_child();
    let guard = Guard::new(&events, Install::<Counter>::new(), args).child("guard");
    let sup = within(Supervisor::builder().child(manager).child(guard).start())
        .await
        .unwrap();
    // A terminated manager tells its handlers' supervisors Shutdown: the guard ends normally
    // and, transient, is not restarted; restarting the manager does not bring the handler.
    sup.terminate_child("events").await.unwrap();
    let state = state_once_not_running(&sup, "guard").await;
    assert_eq!(state, event_core::ChildState::NotRunning);
    sup.restart_child("events").await.unwrap();
    assert!(events.which_handlers().await.unwrap().is_empty());
    within(sup.stop()).await.unwrap();
}

#[tokio::test]
async fn a_supervised_link_hears_manager_restarted_when_its_supervisor_restarts_the_manager() {
    let (args, _seen) = CounterArgs::new();
    let (events, manager) = events_child();
    let (trigger, t) = trigger("fails");
    let sup = within(
        Supervisor::builder()
            .strategy(Strategy::OneForAll)
            .intensity(Intensity::new(5, Duration::from_secs(60)))
            .child(manager)
            .child(trigger)
            .start(),
    )
    .await
    .unwrap();
    let link = within(events.add_sup_handler::<Counter>(args))
        .await
        .unwrap();
    t.fail.send(()).unwrap();
    let reason = within(link).await;
    assert!(matches!(reason, ExitReason::ManagerRestarted), "{reason:?}");
    within(sup.stop()).await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// Guard retries
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum Init {
    Ok,
    Fails,
    Fatal,
}

/// Each `init` takes the next outcome of its script (then succeeds), and counts the tries.
struct Scripted;

#[derive(Clone)]
struct Script {
    outcomes: Arc<std::sync::Mutex<std::collections::VecDeque<Init>>>,
    tries: Arc<AtomicU32>,
    /// The try number of each successful init.
    installed: UnboundedSender<u32>,
}

impl Script {
    fn new(outcomes: &[Init]) -> (Self, UnboundedReceiver<u32>) {
        let (installed, rx) = mpsc::unbounded_channel();
        let script = Script {
            outcomes: Arc::new(std::sync::Mutex::new(outcomes.iter().copied().collect())),
            tries: Arc::new(AtomicU32::new(0)),
            installed,
        };
        (script, rx)
    }
}

#[handler(event = Ev)]
impl Scripted {
    fn init(script: Script) -> Result<Self, BoxError> {
        let try_no = script.tries.fetch_add(1, Ordering::SeqCst) + 1;
        let next = script.outcomes.lock().unwrap().pop_front();
        match next.unwrap_or(Init::Ok) {
            Init::Ok => {
                let _ = script.installed.send(try_no);
                Ok(Scripted)
            }
            Init::Fails => Err("not yet".into()),
            Init::Fatal => Err(Fatal::new("configuration is gone").into()),
        }
    }

    fn handle_event(&mut self, ev: &Ev) {
        if let Ev::Crash = ev {
            panic!("asked to crash");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_guard_retries_a_failing_reinstall_with_backoff_until_it_succeeds() {
    let (script, mut installed) = Script::new(&[Init::Ok, Init::Fails, Init::Fails, Init::Ok]);
    let tries = script.tries.clone();
    let (events, manager) = events_child();
    let guard = Guard::new(&events, Install::<Scripted>::new(), script)
        .backoff(event_core::Backoff::new(
            Duration::from_millis(100),
            Duration::from_secs(1),
            5,
        ))
        .child("guard");
    let sup = within(Supervisor::builder().child(manager).child(guard).start())
        .await
        .unwrap();
    let started = tokio::time::Instant::now();
    assert_eq!(within(installed.recv()).await, Some(1));
    events.sync_notify(Ev::Crash).await.unwrap();
    assert_eq!(
        within(installed.recv()).await,
        Some(4),
        "1 install, 2 failed tries, then a success"
    );
    assert_eq!(tries.load(Ordering::SeqCst), 4);
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "waited 100 ms, then 200 ms, between tries ({:?})",
        started.elapsed()
    );
    let guard = sup.which_children().await.unwrap();
    assert_eq!(
        guard[0].state,
        event_core::ChildState::Running,
        "the guard itself never failed"
    );
    within(sup.stop()).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_guard_stops_with_a_fatal_reinstall_error_without_retrying() {
    let (script, _installed) = Script::new(&[Init::Ok, Init::Fatal, Init::Fatal]);
    let tries = script.tries.clone();
    let (events, manager) = events_child();
    let guard = Guard::new(&events, Install::<Scripted>::new(), script).child("guard");
    // Intensity 0: the guard's failure is one restart too many, so the tree goes down.
    let sup = within(
        Supervisor::builder()
            .intensity(Intensity::new(0, Duration::from_secs(5)))
            .child(manager)
            .child(guard)
            .start(),
    )
    .await
    .unwrap();
    events.sync_notify(Ev::Crash).await.unwrap();
    within(sup.stopped()).await;
    assert_eq!(
        tries.load(Ordering::SeqCst),
        2,
        "the fatal error was not retried"
    );
}

// ---------------------------------------------------------------------------------------------
// A supervised manager nobody will run again answers `ManagerGone`, at once
// ---------------------------------------------------------------------------------------------

/// A child whose start fails.
fn failing(id: &'static str) -> ChildSpec {
    ChildSpec::new(id, || async {
        Err::<event_core::Start, _>("cannot start".into())
    })
}

/// Asserts that `events` refuses every request as gone, without waiting for anything, and
/// that a wait for its end returns. `within` only detects a hang here: each answer is due at
/// once.
async fn assert_gone(events: &EventManager<Ev>) {
    assert!(
        matches!(
            within(events.notify(Ev::Num(1))).await,
            Err(NotifyError::ManagerGone(_))
        ),
        "notify"
    );
    assert!(
        matches!(
            events.try_notify(Ev::Num(1)),
            Err(NotifyError::ManagerGone(_))
        ),
        "try_notify"
    );
    assert_eq!(
        within(events.sync_notify(Ev::Num(2))).await,
        Err(event_core::ManagerError::ManagerGone),
        "sync_notify"
    );
    assert_eq!(
        within(events.call(&counter_ref(), Incarnation)).await,
        Err(event_core::CallError::ManagerGone),
        "call"
    );
    let (args, _seen) = CounterArgs::new();
    assert!(
        matches!(
            within(events.add_handler::<Counter>(args)).await,
            Err(event_core::AddError::ManagerGone)
        ),
        "add_handler"
    );
    assert_eq!(
        within(events.stop()).await,
        Err(event_core::ManagerError::ManagerGone),
        "stop"
    );
    within(events.stopped()).await;
    assert!(events.is_stopped());
}

#[tokio::test]
async fn a_manager_started_before_a_child_that_fails_to_start_is_gone_with_its_tree() {
    let (events, manager) = events_child();
    let err = within(
        Supervisor::builder()
            .child(manager)
            .child(failing("failing"))
            .start(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, SupervisorError::FailedToStartChild { .. }),
        "{err:?}"
    );
    assert_gone(&events).await;
}

#[tokio::test]
async fn a_manager_after_a_child_that_fails_to_start_is_gone_with_its_tree() {
    let (events, manager) = events_child();
    let err = within(
        Supervisor::builder()
            .child(failing("failing"))
            .child(manager)
            .start(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, SupervisorError::FailedToStartChild { .. }),
        "{err:?}"
    );
    assert_gone(&events).await;
}

#[tokio::test]
async fn a_manager_in_a_nested_supervisor_of_a_tree_that_fails_to_start_is_gone() {
    let (events, manager) = events_child();
    let (_inner, inner) = Supervisor::builder()
        .child(manager)
        .supervised("inner")
        .unwrap();
    let err = within(
        Supervisor::builder()
            .child(failing("failing"))
            .child(inner)
            .start(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, SupervisorError::FailedToStartChild { .. }),
        "{err:?}"
    );
    assert_gone(&events).await;
}

#[tokio::test]
async fn a_permanent_manager_is_gone_once_its_supervisor_is_stopped() {
    let (events, manager) = events_child();
    let sup = within(Supervisor::builder().child(manager).start())
        .await
        .unwrap();
    events.sync_notify(Ev::Num(0)).await.unwrap();
    within(sup.stop()).await.unwrap();
    assert_gone(&events).await;
}

#[tokio::test]
async fn a_permanent_manager_is_gone_once_its_supervisor_gives_up() {
    let (events, manager) = events_child();
    let (trigger, mut t) = trigger("trigger");
    let sup = within(
        Supervisor::builder()
            .intensity(Intensity::new(0, Duration::from_secs(60)))
            .child(manager)
            .child(trigger)
            .start(),
    )
    .await
    .unwrap();
    within(t.started.recv()).await.unwrap();
    t.fail.send(()).unwrap();
    within(sup.stopped()).await;
    assert_gone(&events).await;
}

#[tokio::test]
async fn a_temporary_manager_that_ended_is_gone() {
    let (events, manager) = events_child();
    let sup = within(Supervisor::builder().start()).await.unwrap();
    within(sup.start_child(manager.restart(Restart::Temporary)))
        .await
        .unwrap();
    within(events.stop()).await.unwrap();
    assert_gone(&events).await;
    within(sup.stop()).await.unwrap();
}

#[tokio::test]
async fn a_temporary_manager_terminated_by_its_supervisor_is_gone() {
    let (events, manager) = events_child();
    let sup = within(Supervisor::builder().start()).await.unwrap();
    let r = within(sup.start_child(manager.restart(Restart::Temporary)))
        .await
        .unwrap();
    within(sup.terminate_child(r)).await.unwrap();
    assert_gone(&events).await;
    within(sup.stop()).await.unwrap();
}

#[tokio::test]
async fn a_deleted_manager_child_is_gone() {
    let (events, manager) = events_child();
    let sup = within(Supervisor::builder().child(manager).start())
        .await
        .unwrap();
    events.sync_notify(Ev::Num(0)).await.unwrap();
    within(sup.terminate_child("events")).await.unwrap();
    within(sup.delete_child("events")).await.unwrap();
    assert_gone(&events).await;
    within(sup.stop()).await.unwrap();
}

#[tokio::test]
async fn a_manager_child_given_to_no_supervisor_is_gone() {
    let (events, manager) = events_child();
    drop(manager);
    assert_gone(&events).await;
}

#[tokio::test]
async fn a_manager_child_in_a_supervisor_builder_never_started_is_gone() {
    let (events, manager) = events_child();
    drop(Supervisor::builder().child(manager));
    assert_gone(&events).await;
}

#[tokio::test]
async fn a_manager_whose_start_child_fails_is_gone() {
    let (events, manager) = EventManager::<Ev>::builder()
        .supervised("events")
        .handler(Install::<Picky>::new(), true)
        .build()
        .unwrap();
    let sup = within(Supervisor::builder().start()).await.unwrap();
    let err = within(sup.start_child(manager)).await.unwrap_err();
    assert!(
        matches!(err, SupervisorError::StartFailed { .. }),
        "{err:?}"
    );
    assert_gone(&events).await;
    within(sup.stop()).await.unwrap();
}

/// Asserts that `sup` refuses every request as gone, at once, and that a wait for its end
/// returns.
async fn assert_supervisor_gone(sup: &Supervisor) {
    assert!(
        matches!(
            within(sup.which_children()).await,
            Err(SupervisorError::SupervisorGone)
        ),
        "which_children"
    );
    assert!(
        matches!(
            within(sup.start_child(failing("late"))).await,
            Err(SupervisorError::SupervisorGone)
        ),
        "start_child"
    );
    within(sup.stopped()).await;
    assert!(sup.is_stopped());
}

#[tokio::test]
async fn a_nested_supervisor_given_to_no_supervisor_is_gone_and_so_is_its_manager() {
    let (events, manager) = events_child();
    let (inner, spec) = Supervisor::builder()
        .child(manager)
        .supervised("inner")
        .unwrap();
    drop(spec);
    assert_supervisor_gone(&inner).await;
    assert_gone(&events).await;
}

#[tokio::test]
async fn a_nested_supervisor_after_a_child_that_fails_to_start_is_gone_with_its_tree() {
    let (inner, spec) = Supervisor::builder().supervised("inner").unwrap();
    let err = within(
        Supervisor::builder()
            .child(failing("failing"))
            .child(spec)
            .start(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, SupervisorError::FailedToStartChild { .. }),
        "{err:?}"
    );
    assert_supervisor_gone(&inner).await;
}

#[tokio::test]
async fn a_temporary_nested_supervisor_runs_until_it_is_stopped_then_is_gone() {
    let (events, manager) = events_child();
    let (inner, spec) = Supervisor::builder()
        .child(manager)
        .supervised("inner")
        .unwrap();
    let sup = within(Supervisor::builder().start()).await.unwrap();
    within(sup.start_child(spec.restart(Restart::Temporary)))
        .await
        .unwrap();
    // Its parent keeps nothing to start it again; it runs all the same.
    assert_eq!(within(inner.which_children()).await.unwrap().len(), 1);
    events.sync_notify(Ev::Num(1)).await.unwrap();
    within(inner.stop()).await.unwrap();
    assert_supervisor_gone(&inner).await;
    assert_gone(&events).await;
    within(sup.stop()).await.unwrap();
}
