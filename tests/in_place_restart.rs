//! Handlers restarted in place (seed 001): `add_handler_in_place` and
//! `add_sup_handler_in_place`.
//!
//! A handler installed in place is, after a crash, terminated (`Terminate::Crashed`) and
//! re-initialised with a fresh clone of its args before the manager takes its next message, so
//! nothing queued behind the crash misses it. Restarts are counted against an `Intensity` (OTP's
//! rules); past it the handler is removed and its supervisor told `Exited(Crashed(..))`. The
//! supervising link hears `Notice::Restarted` for every restart.
//!
//! Every wait that could hang is bounded by `within` (10 s), so a bug fails instead of hanging.
//! Nothing waits on wall-clock time: periods and timers run on paused time, moved by
//! `tokio::time::advance` (or, inside a callback, by the paused clock's auto-advance).

use std::any::type_name;
use std::future::IntoFuture;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use event_core::{
    handler, AddError, BoxError, CallError, Cause, Context, Crash, During, EventManager,
    ExitReason, HandlerId, HandlerRef, Info, Install, Intensity, Notice, SupLink, Terminate,
};
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};
use tokio::sync::Semaphore;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Awaits `f`, failing the test if it takes more than 10 s: a hang is a bug.
async fn within<F: IntoFuture>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(10), f)
        .await
        .expect("timed out after 10 s: the manager hangs")
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn phoenix_id() -> HandlerId {
    HandlerRef::<Phoenix>::new().id().clone()
}

/// What a crash while handling the `seq`-th event, whose `Debug` form is `event`, looks like.
fn on_event(seq: u64, event: &str) -> During {
    During::Event {
        seq,
        event: Some(event.to_string()),
    }
}

/// What a crash while answering a request of type `R` looks like.
fn on_call<R>() -> During {
    During::Call {
        request: type_name::<R>(),
    }
}

/// The next notice must be a restart; its crash.
async fn restarted<H>(link: &mut SupLink<H>) -> Crash {
    match within(link.notice()).await {
        Notice::Restarted(crash) => crash,
        Notice::Exited(reason) => panic!("expected a restart, but the handler exited: {reason}"),
        other => panic!("expected a restart, got {other:?}"),
    }
}

/// The next notice must be the exit; its reason.
async fn exited<H>(link: &mut SupLink<H>) -> ExitReason {
    match within(link.notice()).await {
        Notice::Exited(reason) => reason,
        Notice::Restarted(crash) => panic!("expected the exit, but the handler restarted: {crash}"),
        other => panic!("expected the exit, got {other:?}"),
    }
}

/// The exit must be a crash; the crash.
fn crashed(reason: ExitReason) -> Crash {
    match reason {
        ExitReason::Crashed(crash) => crash,
        other => panic!("expected a crash, got {other}"),
    }
}

// ---------------------------------------------------------------------------------------------
// The handler under test
// ---------------------------------------------------------------------------------------------

/// The events. `Debug` forms show in crash reports (`EventManager::start` enables them).
#[derive(Debug)]
enum Ev {
    /// Recorded by the incarnation that handles it; uses up one unit of its budget.
    Note(u64),
    /// Panics.
    Crash,
    /// Panics in the handler of this name; the others ignore it.
    CrashOnly(&'static str),
    /// Returns an error.
    Fail,
    /// Removes itself.
    Leave,
    /// Signals `holding`, then holds the (inline) manager until `gate` has a permit.
    Hold {
        holding: UnboundedSender<()>,
        gate: Arc<Semaphore>,
    },
    /// Arms a timer for `after` with `tag`, then waits `wait` before returning, or crashing.
    ArmAndWait {
        after: Duration,
        wait: Duration,
        tag: u64,
        crash: bool,
    },
}

/// Why an incarnation's `terminate` ran.
#[derive(Clone, Debug, PartialEq)]
enum Left {
    Crashed(During),
    Deleted,
    Removed,
    Other(String),
}

/// One step in the life of the handler's incarnations, in the order they happened.
#[derive(Clone, Debug, PartialEq)]
enum Mark {
    /// The `n`-th run of `init` succeeded: incarnation `n` is up.
    Init(u32),
    /// The `n`-th run of `init` failed.
    InitFailed(u32),
    /// Incarnation `n` handled `Note(k)`.
    Note(u32, u64),
    /// Incarnation `n` was terminated.
    Left(u32, Left),
}

/// Shared between the test and every incarnation.
struct Record {
    /// Which runs of `init` fail (by their number, the first is 1).
    fail_init: fn(u32) -> bool,
    attempts: u32,
    marks: Vec<Mark>,
    /// The clone generation and the budget of the args each run of `init` got.
    init_args: Vec<(u32, u32)>,
}

type Rec = Arc<Mutex<Record>>;

fn marks(rec: &Rec) -> Vec<Mark> {
    rec.lock().unwrap().marks.clone()
}

fn notes(rec: &Rec) -> Vec<(u32, u64)> {
    marks(rec)
        .into_iter()
        .filter_map(|m| match m {
            Mark::Note(n, k) => Some((n, k)),
            _ => None,
        })
        .collect()
}

fn attempts(rec: &Rec) -> u32 {
    rec.lock().unwrap().attempts
}

fn never(_: u32) -> bool {
    false
}

/// Counts its clones: every clone gets a new generation, so an `init` can tell whether its args
/// are a copy of their own.
struct Tag {
    clones: Arc<AtomicU32>,
    generation: u32,
}

impl Clone for Tag {
    fn clone(&self) -> Self {
        Tag {
            clones: self.clones.clone(),
            generation: self.clones.fetch_add(1, Ordering::SeqCst) + 1,
        }
    }
}

#[derive(Clone)]
struct PhoenixArgs {
    name: &'static str,
    rec: Rec,
    tag: Tag,
    budget: u32,
    infos: UnboundedSender<(u32, u64)>,
}

/// A handler that knows which incarnation it is (the how-manyth successful `init`), records
/// everything it does in a shared `Record`, and reports its timer messages on a channel as
/// `(incarnation, tag)`.
struct Phoenix {
    name: &'static str,
    incarnation: u32,
    budget: u32,
    rec: Rec,
    infos: UnboundedSender<(u32, u64)>,
}

/// Args with a budget of 3, and `init` failing on the runs `fail_init` picks.
fn phoenix(fail_init: fn(u32) -> bool) -> (PhoenixArgs, Rec, UnboundedReceiver<(u32, u64)>) {
    let rec = Arc::new(Mutex::new(Record {
        fail_init,
        attempts: 0,
        marks: Vec::new(),
        init_args: Vec::new(),
    }));
    let (infos, infos_rx) = mpsc::unbounded_channel();
    let args = PhoenixArgs {
        name: "",
        rec: rec.clone(),
        tag: Tag {
            clones: Arc::new(AtomicU32::new(0)),
            generation: 0,
        },
        budget: 3,
        infos,
    };
    (args, rec, infos_rx)
}

impl Phoenix {
    fn mark(&self, mark: Mark) {
        self.rec.lock().unwrap().marks.push(mark);
    }
}

/// Request: which incarnation are you?
struct Who;

/// Request: panic.
struct Boom;

/// Request: what is left of your budget?
struct Budget;

/// Request: arm a timer that sends `tag` after `after`.
struct Arm {
    after: Duration,
    tag: u64,
}

#[handler(event = Ev)]
impl Phoenix {
    fn init(a: PhoenixArgs) -> Result<Self, String> {
        let mut r = a.rec.lock().unwrap();
        r.attempts += 1;
        let attempt = r.attempts;
        r.init_args.push((a.tag.generation, a.budget));
        if (r.fail_init)(attempt) {
            r.marks.push(Mark::InitFailed(attempt));
            return Err(format!("init refused (run {attempt})"));
        }
        r.marks.push(Mark::Init(attempt));
        drop(r);
        Ok(Phoenix {
            name: a.name,
            incarnation: attempt,
            budget: a.budget,
            rec: a.rec,
            infos: a.infos,
        })
    }

    async fn handle_event(&mut self, ev: &Ev, cx: &mut Context<Ev, Self>) -> Result<(), BoxError> {
        match ev {
            Ev::Note(k) => {
                self.mark(Mark::Note(self.incarnation, *k));
                self.budget = self.budget.saturating_sub(1);
            }
            Ev::Crash => panic!("crashed on purpose"),
            Ev::CrashOnly(name) if *name == self.name => panic!("crashed on purpose"),
            Ev::CrashOnly(_) => {}
            Ev::Fail => return Err("failed on purpose".into()),
            Ev::Leave => cx.remove_self(),
            Ev::Hold { holding, gate } => {
                let _ = holding.send(());
                let _permit = gate.acquire().await?;
            }
            Ev::ArmAndWait {
                after,
                wait,
                tag,
                crash,
            } => {
                cx.send_after(*after, *tag);
                tokio::time::sleep(*wait).await;
                if *crash {
                    panic!("crashed after arming a timer");
                }
            }
        }
        Ok(())
    }

    fn handle_info(&mut self, info: Info<u64>) {
        if let Info::Message(tag) = info {
            let _ = self.infos.send((self.incarnation, tag));
        }
    }

    #[call]
    fn who(&self, _: Who) -> u32 {
        self.incarnation
    }

    #[call]
    fn boom(&self, _: Boom) -> () {
        panic!("boom on purpose")
    }

    #[call]
    fn budget(&self, _: Budget) -> u32 {
        self.budget
    }

    #[call]
    fn arm(&self, arm: Arm, cx: &mut Context<Ev, Self>) -> () {
        cx.send_after(arm.after, arm.tag);
    }

    fn terminate(self, reason: Terminate) -> u32 {
        let why = match reason {
            Terminate::Crashed(crash) => Left::Crashed(crash.during().clone()),
            Terminate::Deleted(_) => Left::Deleted,
            Terminate::Removed => Left::Removed,
            other => Left::Other(other.to_string()),
        };
        self.mark(Mark::Left(self.incarnation, why));
        self.incarnation
    }
}

/// Inline in the manager's task, or dedicated to a task of its own.
#[derive(Clone, Copy, Debug)]
enum Mode {
    Inline,
    Dedicated,
}

const MODES: [Mode; 2] = [Mode::Inline, Mode::Dedicated];

impl Mode {
    fn install(self) -> Install<Phoenix> {
        match self {
            Mode::Inline => Install::new(),
            Mode::Dedicated => Install::new().dedicated(8),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Seed 001's race: a request queued right behind the one that crashed
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "current_thread")]
async fn a_call_queued_right_behind_a_crashing_call_is_answered_by_the_new_incarnation() {
    let manager = EventManager::<Ev>::start().unwrap();
    let (args, rec, _infos) = phoenix(never);
    let h = manager
        .add_handler_in_place(Install::<Phoenix>::new(), args, Intensity::new(3, secs(10)))
        .await
        .unwrap();
    assert_eq!(manager.call(&h, Who).await.unwrap(), 1);

    // One thread: the manager cannot run while `join!` polls, and `join!` polls in order, so
    // both requests are in the mailbox, `Boom` first, before the manager takes either.
    let (first, second) =
        within(async { tokio::join!(manager.call(&h, Boom), manager.call(&h, Who)) }).await;

    let crash = match first {
        Err(CallError::Crashed(crash)) => crash,
        other => panic!("the crashing call should fail with the crash, got {other:?}"),
    };
    assert_eq!(crash.handler(), h.id());
    assert_eq!(crash.during(), &on_call::<Boom>());
    assert_eq!(crash.cause().panic_message(), Some("boom on purpose"));
    match second {
        Ok(incarnation) => assert_eq!(
            incarnation, 2,
            "the request behind the crash must be answered by the new incarnation"
        ),
        Err(e) => panic!("the request queued behind the crash was not answered: {e:?}"),
    }
    assert_eq!(
        marks(&rec),
        vec![
            Mark::Init(1),
            Mark::Left(1, Left::Crashed(on_call::<Boom>())),
            Mark::Init(2),
        ]
    );
    assert_eq!(manager.which_handlers().await.unwrap(), vec![phoenix_id()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_queued_behind_a_crashing_call_is_answered_on_a_multi_thread_runtime_too() {
    let manager = EventManager::<Ev>::start().unwrap();
    let (args, rec, _infos) = phoenix(never);
    let h = manager
        .add_handler_in_place(Install::<Phoenix>::new(), args, Intensity::new(3, secs(10)))
        .await
        .unwrap();

    // Hold the manager inside a callback, so both requests surely queue before it takes either.
    let gate = Arc::new(Semaphore::new(0));
    let (holding_tx, mut holding) = mpsc::unbounded_channel();
    manager
        .notify(Ev::Hold {
            holding: holding_tx,
            gate: gate.clone(),
        })
        .await
        .unwrap();
    within(holding.recv()).await.unwrap();
    // `join!` polls in order: both requests are sent, then the manager is let go.
    let (first, second, ()) = within(async {
        tokio::join!(manager.call(&h, Boom), manager.call(&h, Who), async {
            gate.add_permits(1)
        })
    })
    .await;

    assert!(
        matches!(&first, Err(CallError::Crashed(c)) if c.during() == &on_call::<Boom>()),
        "got {first:?}"
    );
    assert_eq!(second.unwrap(), 2);
    assert_eq!(
        marks(&rec),
        vec![
            Mark::Init(1),
            Mark::Left(1, Left::Crashed(on_call::<Boom>())),
            Mark::Init(2),
        ]
    );
}

#[tokio::test]
async fn a_restarted_handler_keeps_its_place_in_the_list() {
    for mode in MODES {
        let manager = EventManager::<Ev>::start().unwrap();
        let mut recs = Vec::new();
        for name in ["a", "b", "c"] {
            let (mut args, rec, _infos) = phoenix(never);
            args.name = name;
            recs.push(rec);
            manager
                .add_handler_in_place(mode.install().key(name), args, Intensity::new(5, secs(60)))
                .await
                .unwrap();
        }
        let newest_first = manager.which_handlers().await.unwrap();
        let keys: Vec<String> = newest_first.iter().map(|id| id.to_string()).collect();
        assert_eq!(
            keys,
            [r#"Phoenix("c")"#, r#"Phoenix("b")"#, r#"Phoenix("a")"#]
        );

        // The oldest, then the middle one, then all of them.
        within(manager.sync_notify(Ev::CrashOnly("a")))
            .await
            .unwrap();
        assert_eq!(
            manager.which_handlers().await.unwrap(),
            newest_first,
            "{mode:?}"
        );
        within(manager.sync_notify(Ev::CrashOnly("b")))
            .await
            .unwrap();
        assert_eq!(
            manager.which_handlers().await.unwrap(),
            newest_first,
            "{mode:?}"
        );
        within(manager.sync_notify(Ev::Crash)).await.unwrap();
        assert_eq!(
            manager.which_handlers().await.unwrap(),
            newest_first,
            "{mode:?}"
        );
        let runs: Vec<u32> = recs.iter().map(attempts).collect();
        assert_eq!(
            runs,
            [3, 3, 2],
            "{mode:?}: a, b and c restarted as often as they crashed"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 2. The supervisor hears of every restart
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_supervisor_hears_of_every_restart_in_order_with_what_was_running() {
    for mode in MODES {
        let manager = EventManager::<Ev>::start().unwrap();
        let (args, rec, _infos) = phoenix(never);
        let mut link = manager
            .add_sup_handler_in_place(mode.install(), args, Intensity::new(5, secs(10)))
            .await
            .unwrap();
        let h = link.handler().clone();

        manager.notify(Ev::Note(1)).await.unwrap(); // event 1
        manager.notify(Ev::Crash).await.unwrap(); // event 2: panics
        manager.notify(Ev::Note(3)).await.unwrap(); // event 3
        manager.notify(Ev::Fail).await.unwrap(); // event 4: returns an error
        assert!(matches!(
            within(manager.call(&h, Boom)).await,
            Err(CallError::Crashed(_))
        ));
        within(manager.sync_notify(Ev::Note(5))).await.unwrap(); // event 5

        let first = restarted(&mut link).await;
        assert_eq!(first.handler(), h.id(), "{mode:?}");
        assert_eq!(first.during(), &on_event(2, "Crash"), "{mode:?}");
        assert_eq!(first.cause().panic_message(), Some("crashed on purpose"));

        let second = restarted(&mut link).await;
        assert_eq!(second.during(), &on_event(4, "Fail"), "{mode:?}");
        assert!(matches!(second.cause(), Cause::Error(_)), "{mode:?}");
        assert_eq!(second.cause().to_string(), "failed (failed on purpose)");

        let third = restarted(&mut link).await;
        assert_eq!(third.during(), &on_call::<Boom>(), "{mode:?}");

        // Nothing more to hear: the handler is still installed, on its fourth incarnation.
        assert!(link.try_restarted().is_none(), "{mode:?}");
        assert!(link.try_exit().is_none(), "{mode:?}");
        assert_eq!(manager.which_handlers().await.unwrap(), vec![phoenix_id()]);
        assert_eq!(manager.call(&h, Who).await.unwrap(), 4, "{mode:?}");
        assert_eq!(notes(&rec), vec![(1, 1), (2, 3), (4, 5)], "{mode:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Intensity
// ---------------------------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn more_restarts_than_the_intensity_allows_within_its_period_remove_the_handler() {
    for mode in MODES {
        let manager = EventManager::<Ev>::start().unwrap();
        let (args, rec, _infos) = phoenix(never);
        let mut link = manager
            .add_sup_handler_in_place(mode.install(), args, Intensity::new(2, secs(10)))
            .await
            .unwrap();
        let h = link.handler().clone();

        for _ in 0..3 {
            manager.notify(Ev::Crash).await.unwrap(); // events 1, 2, 3
        }
        within(manager.sync_notify(Ev::Note(4))).await.unwrap();

        assert_eq!(restarted(&mut link).await.during(), &on_event(1, "Crash"));
        assert_eq!(restarted(&mut link).await.during(), &on_event(2, "Crash"));
        let last = crashed(exited(&mut link).await);
        assert_eq!(last.during(), &on_event(3, "Crash"), "{mode:?}");
        assert_eq!(last.handler(), h.id());

        assert!(
            manager.which_handlers().await.unwrap().is_empty(),
            "{mode:?}"
        );
        assert!(matches!(
            manager.call(&h, Who).await,
            Err(CallError::NotInstalled(_))
        ));
        // Each crashed incarnation was terminated; the third was not followed by another init,
        // and nobody saw event 4.
        assert_eq!(
            marks(&rec),
            vec![
                Mark::Init(1),
                Mark::Left(1, Left::Crashed(on_event(1, "Crash"))),
                Mark::Init(2),
                Mark::Left(2, Left::Crashed(on_event(2, "Crash"))),
                Mark::Init(3),
                Mark::Left(3, Left::Crashed(on_event(3, "Crash"))),
            ],
            "{mode:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn crashes_further_apart_than_the_period_are_all_restarted_but_two_within_it_are_not() {
    for mode in MODES {
        let manager = EventManager::<Ev>::start().unwrap();
        let (args, _rec, _infos) = phoenix(never);
        let mut link = manager
            .add_sup_handler_in_place(mode.install(), args, Intensity::new(1, secs(10)))
            .await
            .unwrap();
        let h = link.handler().clone();

        // Five crashes, each 11 s after the one before: each older restart is forgotten.
        for seq in 1..=5 {
            within(manager.sync_notify(Ev::Crash)).await.unwrap();
            assert_eq!(
                restarted(&mut link).await.during(),
                &on_event(seq, "Crash"),
                "{mode:?}"
            );
            tokio::time::advance(secs(11)).await;
        }
        assert_eq!(manager.which_handlers().await.unwrap(), vec![phoenix_id()]);
        assert_eq!(manager.call(&h, Who).await.unwrap(), 6, "{mode:?}");

        // One more, then another 9 s later: two restarts within 10 s are one too many.
        within(manager.sync_notify(Ev::Crash)).await.unwrap(); // event 6
        assert_eq!(restarted(&mut link).await.during(), &on_event(6, "Crash"));
        tokio::time::advance(secs(9)).await;
        within(manager.sync_notify(Ev::Crash)).await.unwrap(); // event 7
        let last = crashed(exited(&mut link).await);
        assert_eq!(last.during(), &on_event(7, "Crash"), "{mode:?}");
        assert!(
            manager.which_handlers().await.unwrap().is_empty(),
            "{mode:?}"
        );
    }
}

/// OTP keeps the restarts at or after `Now - Period` (`supervisor:add_restart/3` keeps
/// `R >= Now - Period`): only restarts *older* than the period are forgotten, and one exactly
/// a period ago still counts.
#[tokio::test(start_paused = true)]
async fn a_restart_exactly_one_period_ago_still_counts() {
    for mode in MODES {
        let manager = EventManager::<Ev>::start().unwrap();
        let (args, _rec, _infos) = phoenix(never);
        let mut link = manager
            .add_sup_handler_in_place(mode.install(), args, Intensity::new(1, secs(10)))
            .await
            .unwrap();

        within(manager.sync_notify(Ev::Crash)).await.unwrap(); // event 1
        assert_eq!(restarted(&mut link).await.during(), &on_event(1, "Crash"));
        tokio::time::advance(secs(10)).await;
        within(manager.sync_notify(Ev::Crash)).await.unwrap(); // event 2
        match within(link.notice()).await {
            Notice::Exited(ExitReason::Crashed(last)) => {
                assert_eq!(last.during(), &on_event(2, "Crash"), "{mode:?}");
            }
            other => panic!(
                "{mode:?}: a restart exactly one period (10 s) old is not older than the \
                 period, so this is the second restart within it and one too many; got {other:?}"
            ),
        }
    }
}

#[tokio::test]
async fn with_zero_restarts_allowed_the_first_crash_is_final() {
    for mode in MODES {
        let manager = EventManager::<Ev>::start().unwrap();
        let (args, rec, _infos) = phoenix(never);
        let mut link = manager
            .add_sup_handler_in_place(mode.install(), args, Intensity::new(0, secs(10)))
            .await
            .unwrap();

        within(manager.sync_notify(Ev::Crash)).await.unwrap();
        let last = crashed(exited(&mut link).await);
        assert_eq!(last.during(), &on_event(1, "Crash"), "{mode:?}");
        assert_eq!(attempts(&rec), 1, "{mode:?}: no re-init was tried");
        assert!(
            manager.which_handlers().await.unwrap().is_empty(),
            "{mode:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 4. Terminate, then a fresh init
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn each_restart_terminates_the_crashed_incarnation_then_inits_a_fresh_clone_of_the_args() {
    for mode in MODES {
        let manager = EventManager::<Ev>::start().unwrap();
        let (args, rec, _infos) = phoenix(never);
        let h = manager
            .add_handler_in_place(mode.install(), args, Intensity::new(5, secs(60)))
            .await
            .unwrap();

        manager.notify(Ev::Note(1)).await.unwrap();
        manager.notify(Ev::Note(2)).await.unwrap();
        assert_eq!(manager.call(&h, Budget).await.unwrap(), 1, "{mode:?}");
        manager.notify(Ev::Crash).await.unwrap(); // event 3
        assert_eq!(
            manager.call(&h, Budget).await.unwrap(),
            3,
            "{mode:?}: the new incarnation starts from the args, not from the crashed state"
        );
        manager.notify(Ev::Note(4)).await.unwrap();
        assert_eq!(manager.call(&h, Budget).await.unwrap(), 2, "{mode:?}");
        manager.notify(Ev::Fail).await.unwrap(); // event 5
        assert_eq!(manager.call(&h, Budget).await.unwrap(), 3, "{mode:?}");

        // terminate(Crashed) ran on each crashed incarnation, before the next init.
        assert_eq!(
            marks(&rec),
            vec![
                Mark::Init(1),
                Mark::Note(1, 1),
                Mark::Note(1, 2),
                Mark::Left(1, Left::Crashed(on_event(3, "Crash"))),
                Mark::Init(2),
                Mark::Note(2, 4),
                Mark::Left(2, Left::Crashed(on_event(5, "Fail"))),
                Mark::Init(3),
            ],
            "{mode:?}"
        );
        // Every init got args of the full budget, each a clone of its own.
        let init_args = rec.lock().unwrap().init_args.clone();
        assert_eq!(init_args.len(), 3, "{mode:?}");
        assert!(
            init_args.iter().all(|&(_, budget)| budget == 3),
            "{init_args:?}"
        );
        let mut generations: Vec<u32> = init_args.iter().map(|&(g, _)| g).collect();
        assert_eq!(generations[0], 0, "the first init gets the args given");
        generations.sort_unstable();
        generations.dedup();
        assert_eq!(
            generations.len(),
            3,
            "{mode:?}: each restart must get a fresh clone: {init_args:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 5. A failing re-init
// ---------------------------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn a_failing_re_init_counts_as_a_restart_and_is_tried_again() {
    for mode in MODES {
        let manager = EventManager::<Ev>::start().unwrap();
        // The second run of init (the first restart) fails; the others succeed.
        let (args, rec, _infos) = phoenix(|run| run == 2);
        let mut link = manager
            .add_sup_handler_in_place(mode.install(), args, Intensity::new(3, secs(10)))
            .await
            .unwrap();
        let h = link.handler().clone();

        within(manager.sync_notify(Ev::Crash)).await.unwrap(); // event 1
        assert_eq!(restarted(&mut link).await.during(), &on_event(1, "Crash"));
        let init_crash = restarted(&mut link).await;
        assert_eq!(init_crash.during(), &During::Init, "{mode:?}");
        assert_eq!(init_crash.handler(), h.id());
        assert_eq!(
            init_crash.cause().to_string(),
            "failed (init refused (run 2))"
        );
        // Tried again: the third run is up.
        assert_eq!(manager.call(&h, Who).await.unwrap(), 3, "{mode:?}");
        assert_eq!(
            marks(&rec),
            vec![
                Mark::Init(1),
                Mark::Left(1, Left::Crashed(on_event(1, "Crash"))),
                Mark::InitFailed(2),
                Mark::Init(3),
            ],
            "{mode:?}"
        );

        // Two restarts are used up (the crash and the failed init): one more is allowed, the
        // next is one too many. Were the failed init not counted, both would be allowed.
        within(manager.sync_notify(Ev::Crash)).await.unwrap(); // event 2
        assert_eq!(restarted(&mut link).await.during(), &on_event(2, "Crash"));
        within(manager.sync_notify(Ev::Crash)).await.unwrap(); // event 3
        let last = crashed(exited(&mut link).await);
        assert_eq!(last.during(), &on_event(3, "Crash"), "{mode:?}");
        assert!(
            manager.which_handlers().await.unwrap().is_empty(),
            "{mode:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_re_init_that_keeps_failing_removes_the_handler_with_the_init_crash() {
    for mode in MODES {
        let manager = EventManager::<Ev>::start().unwrap();
        // Only the first run of init succeeds.
        let (args, rec, _infos) = phoenix(|run| run >= 2);
        let mut link = manager
            .add_sup_handler_in_place(mode.install(), args, Intensity::new(2, secs(10)))
            .await
            .unwrap();
        let h = link.handler().clone();

        within(manager.sync_notify(Ev::Crash)).await.unwrap(); // event 1
        assert_eq!(restarted(&mut link).await.during(), &on_event(1, "Crash"));
        let retry = restarted(&mut link).await;
        assert_eq!(retry.during(), &During::Init, "{mode:?}");
        assert_eq!(retry.cause().to_string(), "failed (init refused (run 2))");
        let last = crashed(exited(&mut link).await);
        assert_eq!(last.during(), &During::Init, "{mode:?}");
        assert_eq!(last.cause().to_string(), "failed (init refused (run 3))");

        assert_eq!(
            attempts(&rec),
            3,
            "{mode:?}: the first init and two retries"
        );
        assert_eq!(
            marks(&rec),
            vec![
                Mark::Init(1),
                Mark::Left(1, Left::Crashed(on_event(1, "Crash"))),
                Mark::InitFailed(2),
                Mark::InitFailed(3),
            ],
            "{mode:?}: a failed init leaves nothing to terminate"
        );
        assert!(
            manager.which_handlers().await.unwrap().is_empty(),
            "{mode:?}"
        );
        assert!(matches!(
            manager.call(&h, Who).await,
            Err(CallError::NotInstalled(_))
        ));
        // The manager carries on.
        within(manager.sync_notify(Ev::Note(2))).await.unwrap();
    }
}

#[tokio::test]
async fn a_first_init_that_fails_is_refused_and_not_retried() {
    for mode in MODES {
        let manager = EventManager::<Ev>::start().unwrap();
        let (args, rec, _infos) = phoenix(|_| true);
        match manager
            .add_sup_handler_in_place(mode.install(), args, Intensity::new(5, secs(10)))
            .await
        {
            Err(AddError::InitFailed(crash)) => {
                assert_eq!(crash.during(), &During::Init, "{mode:?}");
                assert_eq!(crash.cause().to_string(), "failed (init refused (run 1))");
            }
            other => panic!("{mode:?}: expected InitFailed, got {other:?}"),
        }
        assert_eq!(attempts(&rec), 1, "{mode:?}");
        assert!(
            manager.which_handlers().await.unwrap().is_empty(),
            "{mode:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 6. No event is lost
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "current_thread")]
async fn every_event_after_a_crashing_one_is_handled_by_the_new_incarnation() {
    for mode in MODES {
        let manager = EventManager::<Ev>::start().unwrap();
        let (args, rec, _infos) = phoenix(never);
        let h = manager
            .add_handler_in_place(mode.install(), args, Intensity::new(10, secs(60)))
            .await
            .unwrap();

        // All queued before the manager runs (an unbounded notify does not yield).
        for seq in 1..=20 {
            let event = match seq {
                4 | 13 | 14 => Ev::Crash,
                8 => Ev::Fail,
                n => Ev::Note(n),
            };
            manager.notify(event).await.unwrap();
        }
        within(manager.sync_notify(Ev::Note(21))).await.unwrap();

        let expected: Vec<(u32, u64)> = [(1, 1..=3), (2, 5..=7), (3, 9..=12), (5, 15..=21)]
            .into_iter()
            .flat_map(|(incarnation, range)| range.map(move |k| (incarnation, k)))
            .collect();
        assert_eq!(notes(&rec), expected, "{mode:?}");
        assert_eq!(manager.call(&h, Who).await.unwrap(), 5, "{mode:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// 7. A zero period
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_zero_period_is_refused_with_zero_period() {
    for mode in MODES {
        let manager = EventManager::<Ev>::start().unwrap();
        let (args, rec, _infos) = phoenix(never);
        let zero = Intensity::new(3, Duration::ZERO);

        match manager
            .add_handler_in_place(mode.install(), args.clone(), zero)
            .await
        {
            Err(AddError::ZeroPeriod(id)) => assert_eq!(id, phoenix_id(), "{mode:?}"),
            other => panic!("{mode:?}: expected ZeroPeriod, got {other:?}"),
        }
        let keyed = mode.install().key("keyed");
        let keyed_id = keyed.handler_ref().id().clone();
        match manager.add_sup_handler_in_place(keyed, args, zero).await {
            Err(AddError::ZeroPeriod(id)) => assert_eq!(id, keyed_id, "{mode:?}"),
            other => panic!("{mode:?}: expected ZeroPeriod, got {other:?}"),
        }
        assert_eq!(attempts(&rec), 0, "{mode:?}: init never ran");
        assert!(
            manager.which_handlers().await.unwrap().is_empty(),
            "{mode:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 8. Dedicated handlers restart on their own task
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "current_thread")]
async fn a_dedicated_in_place_handler_answers_a_call_behind_a_crashing_one_with_its_new_incarnation(
) {
    let manager = EventManager::<Ev>::start().unwrap();
    let (args, rec, _infos) = phoenix(never);
    let mut link = manager
        .add_sup_handler_in_place(
            Install::<Phoenix>::new().dedicated(8),
            args,
            Intensity::new(5, secs(10)),
        )
        .await
        .unwrap();
    let h = link.handler().clone();
    assert_eq!(manager.call(&h, Who).await.unwrap(), 1);

    let (first, second) =
        within(async { tokio::join!(manager.call(&h, Boom), manager.call(&h, Who)) }).await;
    let crash = match first {
        Err(CallError::Crashed(crash)) => crash,
        other => panic!("the crashing call should fail with the crash, got {other:?}"),
    };
    assert_eq!(crash.during(), &on_call::<Boom>());
    assert_eq!(
        second.unwrap(),
        2,
        "the request behind the crash must be answered by the new incarnation"
    );
    assert_eq!(restarted(&mut link).await.during(), &on_call::<Boom>());

    // Events too: the one behind the crash reaches the next incarnation.
    manager.notify(Ev::Crash).await.unwrap(); // event 1
    within(manager.sync_notify(Ev::Note(2))).await.unwrap();
    assert_eq!(restarted(&mut link).await.during(), &on_event(1, "Crash"));
    assert_eq!(
        marks(&rec),
        vec![
            Mark::Init(1),
            Mark::Left(1, Left::Crashed(on_call::<Boom>())),
            Mark::Init(2),
            Mark::Left(2, Left::Crashed(on_event(1, "Crash"))),
            Mark::Init(3),
            Mark::Note(3, 2),
        ]
    );
    assert!(link.try_exit().is_none());
    assert_eq!(manager.which_handlers().await.unwrap(), vec![phoenix_id()]);
}

#[tokio::test(start_paused = true)]
async fn a_dedicated_in_place_handler_past_its_intensity_is_removed_and_its_calls_refused() {
    let manager = EventManager::<Ev>::start().unwrap();
    let (args, rec, _infos) = phoenix(never);
    let mut link = manager
        .add_sup_handler_in_place(
            Install::<Phoenix>::new().dedicated(8),
            args,
            Intensity::new(1, secs(10)),
        )
        .await
        .unwrap();
    let h = link.handler().clone();

    assert!(matches!(
        within(manager.call(&h, Boom)).await,
        Err(CallError::Crashed(_))
    ));
    assert_eq!(restarted(&mut link).await.during(), &on_call::<Boom>());
    // The second crash is one too many; the request behind it finds no handler.
    let (second, after) =
        within(async { tokio::join!(manager.call(&h, Boom), manager.call(&h, Who)) }).await;
    assert!(
        matches!(&second, Err(CallError::Crashed(c)) if c.during() == &on_call::<Boom>()),
        "got {second:?}"
    );
    assert!(
        matches!(after, Err(CallError::NotInstalled(_))),
        "got {after:?}"
    );
    let last = crashed(exited(&mut link).await);
    assert_eq!(last.during(), &on_call::<Boom>());
    assert_eq!(attempts(&rec), 2);
    assert!(manager.which_handlers().await.unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------------
// 9. Leaving ends the policy
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn deleting_an_in_place_handler_ends_its_policy() {
    for mode in MODES {
        let manager = EventManager::<Ev>::start().unwrap();
        let (args, rec, _infos) = phoenix(never);
        let mut link = manager
            .add_sup_handler_in_place(mode.install(), args, Intensity::new(5, secs(60)))
            .await
            .unwrap();
        let h = link.handler().clone();

        within(manager.sync_notify(Ev::Crash)).await.unwrap(); // event 1
        assert_eq!(restarted(&mut link).await.during(), &on_event(1, "Crash"));
        let handover = within(manager.delete_handler(&h, ())).await.unwrap();
        assert_eq!(handover, 2, "{mode:?}: the live incarnation was deleted");
        assert!(
            matches!(exited(&mut link).await, ExitReason::Normal),
            "{mode:?}"
        );

        assert!(
            manager.which_handlers().await.unwrap().is_empty(),
            "{mode:?}"
        );
        within(manager.sync_notify(Ev::Crash)).await.unwrap(); // nothing left to restart
        assert!(matches!(
            manager.call(&h, Who).await,
            Err(CallError::NotInstalled(_))
        ));
        assert_eq!(
            marks(&rec),
            vec![
                Mark::Init(1),
                Mark::Left(1, Left::Crashed(on_event(1, "Crash"))),
                Mark::Init(2),
                Mark::Left(2, Left::Deleted),
            ],
            "{mode:?}"
        );
    }
}

#[tokio::test]
async fn an_in_place_handler_that_removes_itself_is_not_restarted() {
    for mode in MODES {
        let manager = EventManager::<Ev>::start().unwrap();
        let (args, rec, _infos) = phoenix(never);
        let mut link = manager
            .add_sup_handler_in_place(mode.install(), args, Intensity::new(5, secs(60)))
            .await
            .unwrap();

        within(manager.sync_notify(Ev::Leave)).await.unwrap();
        assert!(
            matches!(exited(&mut link).await, ExitReason::Normal),
            "{mode:?}"
        );
        assert!(
            manager.which_handlers().await.unwrap().is_empty(),
            "{mode:?}"
        );
        assert_eq!(
            marks(&rec),
            vec![Mark::Init(1), Mark::Left(1, Left::Removed)],
            "{mode:?}"
        );
    }
}

#[tokio::test]
async fn the_handler_swapped_in_for_an_in_place_handler_is_not_restarted() {
    for mode in MODES {
        let manager = EventManager::<Ev>::start().unwrap();
        let (args, rec, _infos) = phoenix(never);
        let link = manager
            .add_sup_handler_in_place(mode.install(), args, Intensity::new(5, secs(60)))
            .await
            .unwrap();
        let old = link.handler().clone();

        let (successor_args, successor_rec, _successor_infos) = phoenix(never);
        let successor = mode.install().key("successor");
        let successor_id = successor.handler_ref().id().clone();
        let new = within(manager.swap_handler(&old, (), successor, move |_| successor_args))
            .await
            .unwrap();
        let mut new_link = match within(link).await {
            ExitReason::Swapped {
                to,
                link: Some(new_link),
            } => {
                assert_eq!(to, successor_id);
                new_link.typed::<Phoenix>().unwrap()
            }
            other => panic!("{mode:?}: expected Swapped with a link, got {other}"),
        };

        within(manager.sync_notify(Ev::Crash)).await.unwrap(); // event 1
        let last = crashed(exited(&mut new_link).await);
        assert_eq!(last.during(), &on_event(1, "Crash"), "{mode:?}");
        assert_eq!(last.handler(), new.id());
        assert_eq!(attempts(&successor_rec), 1, "{mode:?}: no re-init");
        assert!(
            manager.which_handlers().await.unwrap().is_empty(),
            "{mode:?}"
        );
        assert_eq!(
            attempts(&rec),
            1,
            "{mode:?}: the swapped-out one is not back"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 10. Timers of the crashed incarnation
// ---------------------------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn a_pending_timer_of_the_crashed_incarnation_never_reaches_the_new_one() {
    for mode in MODES {
        let manager = EventManager::<Ev>::start().unwrap();
        let (args, _rec, mut infos) = phoenix(never);
        let h = manager
            .add_handler_in_place(mode.install(), args, Intensity::new(3, secs(60)))
            .await
            .unwrap();

        // Control: a timer is delivered to the incarnation that set it.
        manager
            .call(
                &h,
                Arm {
                    after: secs(1),
                    tag: 1,
                },
            )
            .await
            .unwrap();
        tokio::time::advance(secs(1)).await;
        assert_eq!(within(infos.recv()).await, Some((1, 1)), "{mode:?}");

        // Due in 5 s; then the incarnation that set it crashes.
        manager
            .call(
                &h,
                Arm {
                    after: secs(5),
                    tag: 2,
                },
            )
            .await
            .unwrap();
        assert!(matches!(
            manager.call(&h, Boom).await,
            Err(CallError::Crashed(_))
        ));
        // The new incarnation sets one due later than the old one.
        manager
            .call(
                &h,
                Arm {
                    after: secs(7),
                    tag: 3,
                },
            )
            .await
            .unwrap();
        tokio::time::advance(secs(6)).await; // past the crashed incarnation's timer
        tokio::time::advance(secs(2)).await; // past the new one's
        assert_eq!(
            within(infos.recv()).await,
            Some((2, 3)),
            "{mode:?}: the first timer message after the crash must be the new incarnation's own"
        );
        within(manager.sync_notify(Ev::Note(0))).await.unwrap();
        assert!(infos.try_recv().is_err(), "{mode:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_timer_message_queued_behind_the_crash_does_not_reach_the_new_incarnation() {
    for mode in MODES {
        let manager = EventManager::<Ev>::start().unwrap();
        let (args, _rec, mut infos) = phoenix(never);
        let h = manager
            .add_handler_in_place(mode.install(), args, Intensity::new(3, secs(60)))
            .await
            .unwrap();

        // Control: the timer fires (after 1 s of paused time) while the callback still waits
        // (2 s): its message queues behind the callback and reaches the handler afterwards.
        let arm_and_wait = |tag, crash| Ev::ArmAndWait {
            after: secs(1),
            wait: secs(2),
            tag,
            crash,
        };
        within(manager.sync_notify(arm_and_wait(10, false)))
            .await
            .unwrap();
        assert_eq!(within(infos.recv()).await, Some((1, 10)), "{mode:?}");

        // The same, but the callback crashes once the timer has fired: the timer's message is
        // queued behind the crash, and belongs to the crashed incarnation.
        within(manager.sync_notify(arm_and_wait(11, true)))
            .await
            .unwrap();
        manager
            .call(
                &h,
                Arm {
                    after: secs(1),
                    tag: 12,
                },
            )
            .await
            .unwrap();
        tokio::time::advance(secs(1)).await;
        assert_eq!(
            within(infos.recv()).await,
            Some((2, 12)),
            "{mode:?}: the crashed incarnation's timer message reached the new incarnation"
        );
        within(manager.sync_notify(Ev::Note(0))).await.unwrap();
        assert!(infos.try_recv().is_err(), "{mode:?}");
        assert_eq!(manager.call(&h, Who).await.unwrap(), 2, "{mode:?}");
    }
}
