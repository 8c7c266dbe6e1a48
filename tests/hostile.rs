//! A user's types can panic wherever the runtime runs their code, and none of it takes a manager
//! or a supervisor down: each test injects a panic at one place (a `Debug`, a `Drop`, a
//! `Clone`, a closure, a `Watchable`, a `format_status`, a child's start) and checks the outcome
//! the runtime notes promise (the handler removed and reported, the call answered with an
//! error, the child counted as failed), then that the manager still answers.
//!
//! Every wait that could hang is bounded by `within` (10 s), so a bug fails instead of hanging.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[path = "support/capture.rs"]
mod capture;
use capture::capture;

use event_core::{
    handler, AddError, CallError, Cause, ChildSpec, Context, DeleteError, During, EventManager,
    ExitReason, Guard, Info, InfoSender, Install, Intensity, Notice, Restart, Start, Strategy,
    SupLink, Supervisor, SupervisorError, SwapError, Terminate, Watchable,
};
use tokio::sync::mpsc;

async fn within<F: IntoFuture>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(10), f)
        .await
        .expect("timed out after 10 s: the manager hangs")
}

/// A user's value whose `Debug`, `Drop` or `Clone` panics, as chosen.
#[derive(Default)]
struct Hostile {
    debug_panics: bool,
    drop_panics: bool,
    /// `Clone` panics once this is set.
    clone_panics: Option<Arc<AtomicBool>>,
}

impl Hostile {
    fn bad_debug() -> Self {
        Hostile {
            debug_panics: true,
            drop_panics: false,
            clone_panics: None,
        }
    }

    fn bad_drop() -> Self {
        Hostile {
            debug_panics: false,
            drop_panics: true,
            clone_panics: None,
        }
    }
}

impl fmt::Debug for Hostile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.debug_panics {
            panic!("Debug of a hostile value");
        }
        f.write_str("Hostile")
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        if self.drop_panics && !std::thread::panicking() {
            panic!("Drop of a hostile value");
        }
    }
}

impl Clone for Hostile {
    fn clone(&self) -> Self {
        if self
            .clone_panics
            .as_ref()
            .is_some_and(|a| a.load(Ordering::SeqCst))
        {
            panic!("Clone of a hostile value");
        }
        Hostile {
            debug_panics: self.debug_panics,
            drop_panics: self.drop_panics,
            clone_panics: self.clone_panics.clone(),
        }
    }
}

#[derive(Debug)]
#[allow(dead_code)] // the values are there to be formatted and dropped
enum Ev {
    Plain,
    /// The handler panics on it.
    Crash(Hostile),
    /// The handler removes itself.
    Leave,
    /// Carried and dropped by the runtime.
    Carried(Hostile),
}

/// What a `Victim` is made with: the state it keeps, what its `terminate` hands over, whether
/// its `format_status` panics.
#[derive(Clone, Default)]
struct Cfg {
    state: Hostile,
    handover_drop_panics: bool,
    status_panics: bool,
}

struct Victim {
    _state: Hostile,
    handover_drop_panics: bool,
    status_panics: bool,
    downs: Option<mpsc::UnboundedSender<()>>,
}

struct Ping;
struct Sender;
struct WatchIt<W>(W, mpsc::UnboundedSender<()>);

#[handler(event = Ev)]
impl Victim {
    fn init(cfg: Cfg) -> Self {
        Victim {
            _state: cfg.state,
            handover_drop_panics: cfg.handover_drop_panics,
            status_panics: cfg.status_panics,
            downs: None,
        }
    }

    fn handle_event(&mut self, event: &Ev, cx: &mut Context<Ev, Self>) {
        match event {
            Ev::Crash(_) => panic!("crashed on purpose"),
            Ev::Leave => cx.remove_self(),
            Ev::Plain | Ev::Carried(_) => {}
        }
    }

    fn handle_info(&mut self, info: Info<Hostile>) {
        if let (Info::Down(_), Some(downs)) = (info, &self.downs) {
            let _ = downs.send(());
        }
    }

    #[call]
    fn ping(&mut self, _: Ping) -> u32 {
        7
    }

    #[call]
    fn sender(&self, _: Sender, cx: &mut Context<Ev, Self>) -> InfoSender<Hostile> {
        cx.info_sender()
    }

    #[call]
    fn watch_bad(&mut self, WatchIt(w, downs): WatchIt<BadGone>, cx: &mut Context<Ev, Self>) -> () {
        self.downs = Some(downs);
        cx.watch(w);
    }

    #[call]
    fn watch_worse(
        &mut self,
        WatchIt(w, downs): WatchIt<WorseGone>,
        cx: &mut Context<Ev, Self>,
    ) -> () {
        self.downs = Some(downs);
        cx.watch(w);
    }

    fn format_status(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.status_panics {
            panic!("format_status of a hostile handler");
        }
        f.write_str("Victim")
    }

    fn terminate(self, _reason: Terminate) -> Hostile {
        Hostile {
            debug_panics: false,
            drop_panics: self.handover_drop_panics,
            clone_panics: None,
        }
    }
}

/// A second handler, to show the manager goes on with the others.
struct Bystander;

#[handler(event = Ev)]
impl Bystander {
    fn init() -> Self {
        Bystander
    }

    fn handle_event(&mut self, _: &Ev) {}

    #[call]
    fn ping(&mut self, _: Ping) -> u32 {
        1
    }
}

/// The manager still answers: the bystander replies, and its handlers are those listed.
async fn still_answers(manager: &EventManager<Ev>, handlers: usize) {
    let bystander = Install::<Bystander>::new().handler_ref().clone();
    assert_eq!(within(manager.call(&bystander, Ping)).await.unwrap(), 1);
    assert_eq!(
        within(manager.which_handlers()).await.unwrap().len(),
        handlers
    );
    within(manager.sync_notify(Ev::Plain)).await.unwrap();
}

async fn with_bystander() -> EventManager<Ev> {
    let manager = EventManager::<Ev>::start().unwrap();
    manager
        .add_handler_with(Install::<Bystander>::new(), ())
        .await
        .unwrap();
    manager
}

async fn crashed<H>(link: &mut SupLink<H>) -> event_core::Crash {
    match within(link.notice()).await {
        Notice::Exited(ExitReason::Crashed(crash)) => crash,
        other => panic!("expected a crash, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Debug
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "current_thread")]
async fn an_events_debug_panicking_in_a_crash_report_still_removes_and_reports_an_inline_handler() {
    let (out, _guard) = capture();
    let manager = with_bystander().await;
    let mut link = manager
        .add_sup_handler_with(Install::<Victim>::new(), Cfg::default())
        .await
        .unwrap();
    manager
        .notify(Ev::Crash(Hostile::bad_debug()))
        .await
        .unwrap();
    let crash = crashed(&mut link).await;
    assert_eq!(
        crash.during(),
        &During::Event {
            seq: 1,
            event: Some("<Debug panicked>".into())
        }
    );
    still_answers(&manager, 1).await;
    assert_eq!(out.lines_with("event handler crashed"), 1);
    assert_eq!(out.lines_with("outcome=\"removed\""), 1);
}

#[tokio::test(flavor = "current_thread")]
async fn an_events_debug_panicking_in_a_crash_report_still_removes_and_reports_a_dedicated_handler()
{
    let manager = with_bystander().await;
    let mut link = manager
        .add_sup_handler_with(Install::<Victim>::new().dedicated(4), Cfg::default())
        .await
        .unwrap();
    let victim = link.handler().clone();
    within(manager.sync_notify(Ev::Crash(Hostile::bad_debug())))
        .await
        .unwrap();
    let crash = crashed(&mut link).await;
    assert!(matches!(
        crash.during(),
        During::Event { event: Some(e), .. } if e == "<Debug panicked>"
    ));
    assert!(matches!(
        within(manager.call(&victim, Ping)).await,
        Err(CallError::NotInstalled(_))
    ));
    still_answers(&manager, 1).await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_panicking_format_status_still_reports_and_removes_the_handler() {
    let (out, _guard) = capture();
    let manager = with_bystander().await;
    let cfg = Cfg {
        status_panics: true,
        ..Cfg::default()
    };
    let mut link = manager
        .add_sup_handler_with(Install::<Victim>::new(), cfg)
        .await
        .unwrap();
    manager.notify(Ev::Crash(Hostile::default())).await.unwrap();
    crashed(&mut link).await;
    still_answers(&manager, 1).await;
    assert_eq!(out.lines_with("(format_status panicked"), 1);
}

// ---------------------------------------------------------------------------------------------
// Drop
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "current_thread")]
async fn an_events_drop_panicking_leaves_inline_and_dedicated_managers_running() {
    let (out, _guard) = capture();
    for dedicated in [false, true] {
        let manager = with_bystander().await;
        let install = match dedicated {
            true => Install::<Victim>::new().dedicated(2),
            false => Install::<Victim>::new(),
        };
        manager
            .add_handler_with(install, Cfg::default())
            .await
            .unwrap();
        for _ in 0..3 {
            manager
                .notify(Ev::Carried(Hostile::bad_drop()))
                .await
                .unwrap();
        }
        within(manager.sync_notify(Ev::Carried(Hostile::bad_drop())))
            .await
            .unwrap();
        still_answers(&manager, 2).await;
        within(manager.stop()).await.unwrap();
    }
    assert_eq!(out.lines_with("dropping a value panicked"), 8);
}

#[tokio::test(flavor = "current_thread")]
async fn events_whose_drop_panics_queued_when_the_manager_stops_are_dropped_without_harm() {
    let manager = with_bystander().await;
    let stopping = manager.clone();
    for _ in 0..3 {
        manager
            .try_notify(Ev::Carried(Hostile::bad_drop()))
            .unwrap();
    }
    within(stopping.stop()).await.unwrap();
    assert!(manager.is_stopped());
}

#[tokio::test(flavor = "current_thread")]
async fn a_requests_drop_panicking_for_a_handler_not_installed_answers_not_installed() {
    struct Bad(#[allow(dead_code)] Hostile);
    struct Gone;
    #[handler(event = Ev)]
    impl Gone {
        fn init() -> Self {
            Gone
        }
        fn handle_event(&mut self, _: &Ev) {}
        #[call]
        fn bad(&mut self, _: Bad) -> () {}
    }
    let manager = with_bystander().await;
    let gone = Install::<Gone>::new().handler_ref().clone();
    assert!(matches!(
        within(manager.call(&gone, Bad(Hostile::bad_drop()))).await,
        Err(CallError::NotInstalled(_))
    ));
    still_answers(&manager, 1).await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_replys_drop_panicking_after_its_caller_left_leaves_the_manager_running() {
    struct Get;
    struct Replier;
    #[handler(event = Ev)]
    impl Replier {
        fn init() -> Self {
            Replier
        }
        fn handle_event(&mut self, _: &Ev) {}
        #[call]
        fn get(&mut self, _: Get) -> Hostile {
            Hostile::bad_drop()
        }
    }
    let manager = with_bystander().await;
    let replier = manager
        .add_handler_with(Install::<Replier>::new(), ())
        .await
        .unwrap();
    // Sent at once, and its caller is gone before the manager answers it.
    drop(manager.send_request(&replier, Get).unwrap());
    still_answers(&manager, 2).await;
}

#[tokio::test(flavor = "current_thread")]
async fn an_info_payloads_drop_panicking_for_a_handler_that_left_leaves_the_manager_running() {
    for dedicated in [false, true] {
        let manager = with_bystander().await;
        let install = match dedicated {
            true => Install::<Victim>::new().dedicated(2),
            false => Install::<Victim>::new(),
        };
        let victim = manager
            .add_handler_with(install, Cfg::default())
            .await
            .unwrap();
        let sender = within(manager.call(&victim, Sender)).await.unwrap();
        // Queued behind the handler's removal, while it is still installed: the runtime drops
        // them.
        manager.try_notify(Ev::Leave).unwrap();
        for _ in 0..2 {
            assert!(sender.send(Hostile::bad_drop()).is_ok());
        }
        still_answers(&manager, 1).await;
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_handovers_drop_panicking_leaves_the_manager_running() {
    let manager = with_bystander().await;
    let cfg = Cfg {
        handover_drop_panics: true,
        ..Cfg::default()
    };
    // Removed by itself: its hand-over is dropped by the runtime.
    manager
        .add_handler_with(Install::<Victim>::new(), cfg.clone())
        .await
        .unwrap();
    within(manager.sync_notify(Ev::Leave)).await.unwrap();
    still_answers(&manager, 1).await;
    // Crashed, inline and dedicated: the same.
    for install in [
        Install::<Victim>::new(),
        Install::<Victim>::new().dedicated(1),
    ] {
        let mut link = manager
            .add_sup_handler_with(install, cfg.clone())
            .await
            .unwrap();
        manager.notify(Ev::Crash(Hostile::default())).await.unwrap();
        crashed(&mut link).await;
        still_answers(&manager, 1).await;
    }
    // Stopped: its terminate's hand-over goes nowhere.
    manager
        .add_handler_with(Install::<Victim>::new(), cfg)
        .await
        .unwrap();
    within(manager.stop()).await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn a_delete_args_drop_panicking_for_a_handler_not_installed_answers_not_installed() {
    let manager = with_bystander().await;
    let victim = Install::<Victim>::new().handler_ref().clone();
    assert!(matches!(
        within(manager.delete_handler(&victim, Hostile::bad_drop())).await,
        Err(DeleteError::NotInstalled(_))
    ));
    still_answers(&manager, 1).await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_handler_states_drop_panicking_in_terminate_is_a_crash_in_terminate() {
    let manager = with_bystander().await;
    for install in [
        Install::<Victim>::new(),
        Install::<Victim>::new().dedicated(1),
    ] {
        let cfg = Cfg {
            state: Hostile::bad_drop(),
            ..Cfg::default()
        };
        let victim = manager.add_handler_with(install, cfg).await.unwrap();
        match within(manager.delete_handler(&victim, ())).await {
            Err(DeleteError::TerminateFailed(crash)) => {
                assert_eq!(crash.during(), &During::Terminate);
                assert!(
                    matches!(crash.cause(), Cause::Panic(m) if m.contains("Drop of a hostile"))
                );
            }
            other => panic!("expected TerminateFailed, got {other:?}"),
        }
        still_answers(&manager, 1).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Clone, closures
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "current_thread")]
async fn a_panicking_clone_of_in_place_restart_args_fails_the_restart_and_removes_the_handler() {
    let (out, _guard) = capture();
    let manager = with_bystander().await;
    let armed = Arc::new(AtomicBool::new(false));
    let cfg = Cfg {
        state: Hostile {
            debug_panics: false,
            drop_panics: false,
            clone_panics: Some(armed.clone()),
        },
        ..Cfg::default()
    };
    let mut link = manager
        .add_sup_handler_in_place(
            Install::<Victim>::new(),
            cfg,
            Intensity::new(3, Duration::from_secs(60)),
        )
        .await
        .unwrap();
    armed.store(true, Ordering::SeqCst);
    // Every restart's args fail to clone.
    manager.notify(Ev::Crash(Hostile::default())).await.unwrap();
    for _ in 0..3 {
        match within(link.notice()).await {
            Notice::Restarted(_) => {}
            other => panic!("expected a restart, got {other:?}"),
        }
    }
    let crash = crashed(&mut link).await;
    assert_eq!(crash.during(), &During::Init);
    assert!(matches!(crash.cause(), Cause::Panic(m) if m.contains("Clone of a hostile")));
    still_answers(&manager, 1).await;
    // One report per crash: the first and the three failed restarts.
    assert_eq!(out.lines_with("event handler crashed"), 4);
    assert_eq!(out.lines_with("outcome=\"restarted in place\""), 3);
    assert_eq!(out.lines_with("restart intensity is reached"), 1);
}

#[tokio::test(flavor = "current_thread")]
async fn a_panicking_swap_make_args_fails_the_swap_with_an_init_error() {
    let manager = with_bystander().await;
    let victim = manager
        .add_handler_with(Install::<Victim>::new(), Cfg::default())
        .await
        .unwrap();
    let swapped = within(manager.swap_handler(
        &victim,
        Hostile::bad_drop(),
        Install::<Victim>::new(),
        |_handover: Option<Hostile>| -> Cfg { panic!("make_args of a hostile swap") },
    ))
    .await;
    match swapped {
        Err(SwapError::InitFailed(crash)) => {
            assert!(matches!(crash.cause(), Cause::Panic(m) if m.contains("make_args")))
        }
        other => panic!("expected InitFailed, got {other:?}"),
    }
    still_answers(&manager, 1).await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_panicking_child_start_fails_the_start_and_counts_against_the_intensity() {
    let bad = ChildSpec::new("bad", || -> std::future::Ready<Result<Start, _>> {
        panic!("a hostile child start")
    });
    let err = within(Supervisor::builder().child(bad).start())
        .await
        .expect_err("the supervisor does not start");
    assert!(err.to_string().contains("a hostile child start"), "{err}");

    let sup = within(Supervisor::builder().start()).await.unwrap();
    let async_bad = ChildSpec::new("async-bad", || async {
        if true {
            panic!("a hostile async child start");
        }
        Ok(Start::ignore())
    });
    let err = within(sup.start_child(async_bad))
        .await
        .expect_err("the start fails");
    assert!(
        err.to_string().contains("a hostile async child start"),
        "{err}"
    );
    assert_eq!(within(sup.which_children()).await.unwrap().len(), 0);
    within(sup.stop()).await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn a_start_closure_whose_captures_panic_in_drop_leaves_the_supervisor_running() {
    let (out, _guard) = capture();
    let hostile = Hostile::bad_drop();
    // A temporary child's start closure is dropped once the child runs.
    let child = ChildSpec::task("temporary", move |stop| {
        let _captured = &hostile;
        async move {
            stop.stopped().await;
            Ok(())
        }
    })
    .restart(Restart::Temporary);
    let sup = within(Supervisor::builder().child(child).start())
        .await
        .unwrap();
    assert_eq!(within(sup.which_children()).await.unwrap().len(), 1);
    // A template's captures are dropped with the supervisor.
    let hostile = Hostile::bad_drop();
    let dynamic = within(
        Supervisor::builder()
            .strategy(Strategy::SimpleOneForOne)
            .template(move |_: u32| {
                let _captured = &hostile;
                ChildSpec::task("dynamic", |stop| async move {
                    stop.stopped().await;
                    Ok(())
                })
            })
            .start(),
    )
    .await
    .unwrap();
    assert!(within(dynamic.start_dynamic(1u32)).await.unwrap().is_some());
    within(dynamic.stop()).await.unwrap();
    within(sup.stop()).await.unwrap();
    assert_eq!(out.lines_with("dropping a value panicked"), 2);
}

#[tokio::test(flavor = "current_thread")]
async fn a_panicking_template_or_guard_install_fails_the_start() {
    let sup = within(
        Supervisor::builder()
            .strategy(Strategy::SimpleOneForOne)
            .template(|_: u32| -> ChildSpec { panic!("a hostile template") })
            .start(),
    )
    .await
    .unwrap();
    let err = within(sup.start_dynamic(1u32))
        .await
        .expect_err("the start fails");
    assert!(err.to_string().contains("a hostile template"), "{err}");
    // The supervisor still answers: a wrong type of args is told as such.
    assert!(matches!(
        within(sup.start_dynamic("wrong")).await,
        Err(SupervisorError::WrongArgs { .. })
    ));
    within(sup.stop()).await.unwrap();

    let guard = Guard::custom(|| async {
        if true {
            panic!("a hostile guard install");
        }
        Err::<SupLink<Victim>, AddError>(AddError::ManagerGone)
    });
    let err = within(Supervisor::builder().child(guard.child("guard")).start())
        .await
        .expect_err("the supervisor does not start");
    assert!(err.to_string().contains("a hostile guard install"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Watchable
// ---------------------------------------------------------------------------------------------

/// A subscriber whose `gone` future panics when polled.
struct BadGone;

impl Watchable for BadGone {
    #[allow(clippy::manual_async_fn)]
    fn gone(self) -> impl Future<Output = ()> + Send + 'static {
        async { panic!("a hostile watchable's gone future") }
    }
}

/// A subscriber whose `gone` itself panics.
struct WorseGone;

impl Watchable for WorseGone {
    #[allow(unreachable_code)]
    fn gone(self) -> impl Future<Output = ()> + Send + 'static {
        panic!("a hostile watchable's gone");
        std::future::ready(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_watchables_panicking_future_counts_as_the_subscriber_gone() {
    let manager = with_bystander().await;
    let victim = manager
        .add_handler_with(Install::<Victim>::new(), Cfg::default())
        .await
        .unwrap();
    let (tx, mut downs) = mpsc::unbounded_channel();
    within(manager.call(&victim, WatchIt(BadGone, tx)))
        .await
        .unwrap();
    within(downs.recv()).await.expect("the handler hears Down");
    still_answers(&manager, 2).await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_watchables_panicking_gone_crashes_the_watching_handler_only() {
    let manager = with_bystander().await;
    let victim = manager
        .add_handler_with(Install::<Victim>::new(), Cfg::default())
        .await
        .unwrap();
    let (tx, _downs) = mpsc::unbounded_channel();
    match within(manager.call(&victim, WatchIt(WorseGone, tx))).await {
        Err(CallError::Crashed(crash)) => {
            assert!(matches!(crash.cause(), Cause::Panic(m) if m.contains("hostile watchable")))
        }
        other => panic!("expected a crash, got {other:?}"),
    }
    still_answers(&manager, 1).await;
}
