//! Children you can watch: a supervisor's end says why it ended, its child events tell of
//! every start, end, restart and give-up (bounded, telling a slow reader what it missed),
//! `which_children` says each child's incarnation, dynamic children carry the name their
//! template gave them, a child's specification can be read, and a guard whose handler is
//! installed already says how to run several.
//!
//! Nothing sleeps for synchronisation: the tests await the events themselves. Every wait is
//! bounded by `within` (10 s), so a bug fails instead of hanging.

use std::future::IntoFuture;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use event_core::{
    handler, supervisor, AutoShutdown, BoxError, ChildEvent, ChildEvents, ChildExit, ChildKind,
    ChildRef, ChildSpec, ChildState, EventManager, Guard, GuardError, Install, Intensity, Restart,
    Shutdown, Start, StopToken, Strategy, Supervisor, SupervisorError, SupervisorExit,
};
use tokio::sync::mpsc;

async fn within<F: IntoFuture>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(10), f)
        .await
        .expect("timed out after 10 s")
}

/// The next event, which must come.
async fn next(events: &mut ChildEvents) -> ChildEvent {
    within(events.recv())
        .await
        .expect("an event, not the end of the stream")
}

/// A task child that runs until stopped.
fn idle(id: &'static str) -> ChildSpec {
    ChildSpec::task(id, |stop: StopToken| async move {
        stop.stopped().await;
        Ok(())
    })
}

/// A task child that fails with "boom" each time it is told to (a message on its channel).
fn crasher(id: &'static str) -> (ChildSpec, mpsc::UnboundedSender<()>) {
    let (tx, rx) = mpsc::unbounded_channel::<()>();
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    let spec = ChildSpec::task(id, move |stop: StopToken| {
        let rx = rx.clone();
        async move {
            let mut rx = rx.lock().await;
            tokio::select! {
                _ = stop.stopped() => Ok(()),
                _ = rx.recv() => Err::<(), BoxError>("boom".into()),
            }
        }
    });
    (spec, tx)
}

fn failed_with(exit: &ChildExit, msg: &str) -> bool {
    matches!(exit, ChildExit::Failed(c) if c.to_string().contains(msg))
}

// ---------------------------------------------------------------------------------------------
// A supervisor's end carries its reason
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_stopped_supervisor_ends_with_stopped() {
    let sup = Supervisor::builder()
        .child(idle("a"))
        .start()
        .await
        .unwrap();
    assert!(sup.exit_reason().is_none(), "no reason while it runs");
    within(sup.stop()).await.unwrap();
    assert!(matches!(
        within(sup.stopped()).await,
        SupervisorExit::Stopped
    ));
    assert!(matches!(sup.exit_reason(), Some(SupervisorExit::Stopped)));
}

#[tokio::test]
async fn a_nested_supervisor_shut_down_by_its_parent_ends_with_shutdown() {
    let (inner, spec) = Supervisor::builder()
        .child(idle("a"))
        .supervised("inner")
        .unwrap();
    let outer = Supervisor::builder().child(spec).start().await.unwrap();
    within(outer.stop()).await.unwrap();
    let why = within(inner.stopped()).await;
    assert!(matches!(why, SupervisorExit::Shutdown), "{why:?}");
    assert_eq!(why.to_string(), "shut down by its parent");
}

#[tokio::test]
async fn a_nested_supervisor_killed_by_its_parent_ends_with_killed() {
    let (inner, spec) = Supervisor::builder()
        .child(idle("a"))
        .supervised("inner")
        .unwrap();
    let outer = Supervisor::builder()
        .child(spec.shutdown(Shutdown::BrutalKill))
        .start()
        .await
        .unwrap();
    within(outer.stop()).await.unwrap();
    let why = within(inner.stopped()).await;
    assert!(matches!(why, SupervisorExit::Killed), "{why:?}");
}

#[tokio::test]
async fn a_supervisor_past_its_intensity_ends_naming_the_child_and_reason_that_tipped_it() {
    let (spec, crash) = crasher("crasher");
    let sup = Supervisor::builder()
        .intensity(Intensity::new(1, Duration::from_secs(3600)))
        .child(idle("bystander"))
        .child(spec)
        .start()
        .await
        .unwrap();
    let mut events = sup.child_events();
    crash.send(()).unwrap();
    // The first crash is within the intensity: restarted.
    let ev = next(&mut events).await;
    assert!(
        matches!(&ev, ChildEvent::Exited { child, incarnation: 1, exit } if *child == ChildRef::from("crasher") && failed_with(exit, "boom")),
        "{ev:?}"
    );
    let ev = next(&mut events).await;
    assert!(
        matches!(&ev, ChildEvent::Restarted { incarnation: 2, .. }),
        "{ev:?}"
    );
    crash.send(()).unwrap();
    let ev = next(&mut events).await;
    assert!(
        matches!(&ev, ChildEvent::Exited { incarnation: 2, .. }),
        "{ev:?}"
    );
    // The second is one too many: the supervisor gives up, on this child.
    let ev = next(&mut events).await;
    assert!(
        matches!(&ev, ChildEvent::GaveUp { child, exit } if *child == ChildRef::from("crasher") && failed_with(exit, "boom")),
        "{ev:?}"
    );
    let ev = next(&mut events).await;
    assert!(
        matches!(&ev, ChildEvent::Stopped { child, exit: ChildExit::Normal, .. } if *child == ChildRef::from("bystander")),
        "the other children are stopped: {ev:?}"
    );
    let ev = next(&mut events).await;
    assert!(
        matches!(&ev, ChildEvent::Ended(SupervisorExit::Intensity { child, .. }) if *child == ChildRef::from("crasher")),
        "{ev:?}"
    );
    assert!(within(events.recv()).await.is_none(), "ended for good");

    let why = within(sup.stopped()).await;
    match &why {
        SupervisorExit::Intensity { child, exit } => {
            assert_eq!(*child, ChildRef::from("crasher"));
            assert!(failed_with(exit, "boom"), "{exit}");
        }
        other => panic!("expected Intensity, got {other:?}"),
    }
    assert!(
        why.to_string().contains("crasher"),
        "the reason names the child: {why}"
    );
}

#[tokio::test]
async fn a_supervisor_shut_down_by_a_significant_child_ends_naming_it() {
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
    let done_rx = Arc::new(tokio::sync::Mutex::new(Some(done_rx)));
    let finisher = ChildSpec::task("finisher", move |_| {
        let done_rx = done_rx.clone();
        async move {
            if let Some(rx) = done_rx.lock().await.take() {
                let _ = rx.await;
            }
            Ok(())
        }
    })
    .restart(Restart::Transient)
    .significant(true);
    let sup = Supervisor::builder()
        .auto_shutdown(AutoShutdown::AnySignificant)
        .child(idle("other"))
        .child(finisher)
        .start()
        .await
        .unwrap();
    done_tx.send(()).unwrap();
    let why = within(sup.stopped()).await;
    assert!(
        matches!(&why, SupervisorExit::Significant { child, exit: ChildExit::Normal } if *child == ChildRef::from("finisher")),
        "{why:?}"
    );
}

#[tokio::test]
async fn a_nested_supervisor_that_gives_up_tells_its_own_reason_and_its_parent_sees_a_shutdown() {
    let (spec, crash) = crasher("crasher");
    let (inner, inner_spec) = Supervisor::builder()
        .intensity(Intensity::new(0, Duration::from_secs(3600)))
        .child(spec)
        .supervised("inner")
        .unwrap();
    let outer = Supervisor::builder()
        .child(inner_spec.restart(Restart::Transient))
        .start()
        .await
        .unwrap();
    let mut inner_events = inner.child_events();
    let mut outer_events = outer.child_events();
    crash.send(()).unwrap();
    let ev = next(&mut inner_events).await;
    assert!(matches!(ev, ChildEvent::Exited { .. }), "{ev:?}");
    let ev = next(&mut inner_events).await;
    assert!(matches!(ev, ChildEvent::GaveUp { .. }), "{ev:?}");
    let ev = next(&mut inner_events).await;
    assert!(
        matches!(ev, ChildEvent::Ended(SupervisorExit::Intensity { .. })),
        "{ev:?}"
    );
    // As in OTP, the parent sees a shutdown, and does not restart a transient supervisor.
    let ev = next(&mut outer_events).await;
    assert!(
        matches!(&ev, ChildEvent::Exited { child, exit: ChildExit::Shutdown, .. } if *child == ChildRef::from("inner")),
        "{ev:?}"
    );
    assert_eq!(
        within(outer.which_children()).await.unwrap()[0].state,
        ChildState::NotRunning
    );
    within(outer.stop()).await.unwrap();
    assert!(matches!(
        within(inner.stopped()).await,
        SupervisorExit::Intensity { .. }
    ));
}

// ---------------------------------------------------------------------------------------------
// Child events
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn child_events_tell_starts_stops_and_restarts_with_incarnations() {
    let sup = Supervisor::builder()
        .child(idle("a"))
        .start()
        .await
        .unwrap();
    let mut events = sup.child_events();
    within(sup.terminate_child("a")).await.unwrap();
    let ev = next(&mut events).await;
    assert!(
        matches!(&ev, ChildEvent::Stopped { child, incarnation: 1, exit: ChildExit::Normal } if *child == ChildRef::from("a")),
        "{ev:?}"
    );
    within(sup.restart_child("a")).await.unwrap();
    let ev = next(&mut events).await;
    assert!(
        matches!(&ev, ChildEvent::Started { child, name, incarnation: 2 } if *child == ChildRef::from("a") && &**name == "a"),
        "{ev:?}"
    );
    within(sup.start_child(idle("b"))).await.unwrap();
    let ev = next(&mut events).await;
    assert!(
        matches!(&ev, ChildEvent::Started { child, incarnation: 1, .. } if *child == ChildRef::from("b")),
        "{ev:?}"
    );
    within(sup.stop()).await.unwrap();
    // Stopped newest first, then the supervisor's end, then nothing more.
    let ev = next(&mut events).await;
    assert!(
        matches!(&ev, ChildEvent::Stopped { child, .. } if *child == ChildRef::from("b")),
        "{ev:?}"
    );
    let ev = next(&mut events).await;
    assert!(
        matches!(&ev, ChildEvent::Stopped { child, incarnation: 2, .. } if *child == ChildRef::from("a")),
        "{ev:?}"
    );
    assert!(matches!(
        next(&mut events).await,
        ChildEvent::Ended(SupervisorExit::Stopped)
    ));
    assert!(within(events.recv()).await.is_none());
    // A subscription after the end is a stream that has ended.
    assert!(within(sup.child_events().recv()).await.is_none());
}

#[tokio::test]
async fn which_children_says_each_childs_incarnation() {
    let (spec, crash) = crasher("crasher");
    let sup = Supervisor::builder()
        .intensity(Intensity::new(10, Duration::from_secs(3600)))
        .child(idle("steady"))
        .child(spec)
        .start()
        .await
        .unwrap();
    let mut events = sup.child_events();
    for _ in 0..3 {
        crash.send(()).unwrap();
        loop {
            if let ChildEvent::Restarted { .. } = next(&mut events).await {
                break;
            }
        }
    }
    let infos = within(sup.which_children()).await.unwrap();
    let incarnations: Vec<_> = infos
        .iter()
        .map(|c| (c.id.to_string(), c.incarnation))
        .collect();
    assert_eq!(
        incarnations,
        [("crasher".to_string(), 4), ("steady".to_string(), 1)]
    );
    within(sup.stop()).await.unwrap();
}

#[tokio::test]
async fn one_for_all_tells_the_siblings_stopped_and_every_child_restarted() {
    let (spec, crash) = crasher("crasher");
    let sup = Supervisor::builder()
        .strategy(Strategy::OneForAll)
        .intensity(Intensity::new(5, Duration::from_secs(3600)))
        .child(idle("first"))
        .child(spec)
        .child(idle("last"))
        .start()
        .await
        .unwrap();
    let mut events = sup.child_events();
    crash.send(()).unwrap();
    let mut seen = Vec::new();
    for _ in 0..6 {
        seen.push(match next(&mut events).await {
            ChildEvent::Exited { child, .. } => format!("exited {child}"),
            ChildEvent::Stopped { child, .. } => format!("stopped {child}"),
            ChildEvent::Restarted { child, incarnation } => {
                format!("restarted {child} {incarnation}")
            }
            other => panic!("unexpected {other:?}"),
        });
    }
    assert_eq!(
        seen,
        [
            "exited crasher",
            "stopped last",
            "stopped first",
            "restarted first 2",
            "restarted crasher 2",
            "restarted last 2",
        ]
    );
    within(sup.stop()).await.unwrap();
}

#[tokio::test]
async fn a_failed_restart_is_told_and_tried_again() {
    let refuse = Arc::new(AtomicBool::new(false));
    let (crash_tx, crash_rx) = mpsc::unbounded_channel::<()>();
    let crash_rx = Arc::new(tokio::sync::Mutex::new(crash_rx));
    let flaky = {
        let refuse = refuse.clone();
        ChildSpec::new("flaky", move || {
            let refuse = refuse.clone();
            let crash_rx = crash_rx.clone();
            async move {
                if refuse.swap(false, Ordering::SeqCst) {
                    return Err::<Start, BoxError>("not yet".into());
                }
                Ok(Start::task(move |stop: StopToken| async move {
                    let mut rx = crash_rx.lock().await;
                    tokio::select! {
                        _ = stop.stopped() => Ok(()),
                        _ = rx.recv() => Err::<(), BoxError>("boom".into()),
                    }
                }))
            }
        })
    };
    let sup = Supervisor::builder()
        .intensity(Intensity::new(5, Duration::from_secs(3600)))
        .child(flaky)
        .start()
        .await
        .unwrap();
    let mut events = sup.child_events();
    refuse.store(true, Ordering::SeqCst);
    crash_tx.send(()).unwrap();
    assert!(matches!(
        next(&mut events).await,
        ChildEvent::Exited { incarnation: 1, .. }
    ));
    let ev = next(&mut events).await;
    assert!(
        matches!(&ev, ChildEvent::RestartFailed { reason, .. } if reason.to_string().contains("not yet")),
        "{ev:?}"
    );
    let ev = next(&mut events).await;
    assert!(
        matches!(ev, ChildEvent::Restarted { incarnation: 2, .. }),
        "the next try starts it: {ev:?}"
    );
    within(sup.stop()).await.unwrap();
}

#[tokio::test]
async fn a_slow_reader_misses_the_oldest_events_and_is_told_how_many() {
    let sup = Supervisor::builder()
        .child_events_capacity(4)
        .child(idle("a"))
        .start()
        .await
        .unwrap();
    let mut slow = sup.child_events();
    // Twenty events nobody reads: the supervisor goes on answering all the same.
    for _ in 0..10 {
        within(sup.terminate_child("a")).await.unwrap();
        within(sup.restart_child("a")).await.unwrap();
    }
    assert_eq!(
        within(sup.count_children()).await.unwrap().active,
        1,
        "the supervisor was not held up by its reader"
    );
    let ev = next(&mut slow).await;
    assert!(matches!(ev, ChildEvent::Missed(16)), "{ev:?}");
    assert_eq!(slow.missed(), 16);
    // Then the newest four, in order.
    let mut rest = Vec::new();
    while let Some(ev) = slow.try_recv() {
        rest.push(ev);
    }
    assert_eq!(rest.len(), 4, "{rest:?}");
    assert!(matches!(
        rest[0],
        ChildEvent::Stopped { incarnation: 9, .. }
    ));
    assert!(matches!(
        rest[3],
        ChildEvent::Started {
            incarnation: 11,
            ..
        }
    ));
    within(sup.stop()).await.unwrap();
}

#[test]
fn a_child_events_capacity_of_zero_is_refused() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let err = rt
        .block_on(Supervisor::builder().child_events_capacity(0).start())
        .unwrap_err();
    assert!(
        matches!(&err, SupervisorError::BadSpec(m) if m.contains("capacity")),
        "{err:?}"
    );
}

#[tokio::test]
async fn child_events_of_a_nested_supervisor_go_on_across_its_restarts() {
    let (spec, crash) = crasher("crasher");
    let (inner, inner_spec) = Supervisor::builder()
        .intensity(Intensity::new(0, Duration::from_secs(3600)))
        .child(spec)
        .supervised("inner")
        .unwrap();
    // Subscribed before the tree starts: the handle reaches every incarnation.
    let mut events = inner.child_events();
    let outer = Supervisor::builder()
        .intensity(Intensity::new(5, Duration::from_secs(3600)))
        .child(inner_spec)
        .start()
        .await
        .unwrap();
    assert!(matches!(
        next(&mut events).await,
        ChildEvent::Started { incarnation: 1, .. }
    ));
    crash.send(()).unwrap();
    let mut kinds = Vec::new();
    loop {
        match next(&mut events).await {
            ChildEvent::Started { incarnation, .. } => {
                kinds.push(format!("started {incarnation}"));
                break;
            }
            ChildEvent::Exited { .. } => kinds.push("exited".into()),
            ChildEvent::GaveUp { .. } => kinds.push("gave up".into()),
            ChildEvent::Ended(why) => kinds.push(format!("ended: {why}")),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        kinds,
        [
            "exited",
            "gave up",
            "ended: gave up past its restart intensity when child crasher ended: failed: failed (boom)",
            "started 1",
        ],
        "the next incarnation starts its child anew"
    );
    within(outer.stop()).await.unwrap();
    loop {
        if let ChildEvent::Ended(why) = next(&mut events).await {
            assert!(matches!(why, SupervisorExit::Shutdown), "{why:?}");
            break;
        }
    }
    assert!(within(events.recv()).await.is_none());
}

// ---------------------------------------------------------------------------------------------
// Dynamic children, named; specifications, read
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn dynamic_children_carry_the_name_their_template_gave_them() {
    let sup = Supervisor::builder()
        .strategy(Strategy::SimpleOneForOne)
        .template(|name: String| {
            ChildSpec::task(name, |stop: StopToken| async move {
                stop.stopped().await;
                Ok(())
            })
        })
        .start()
        .await
        .unwrap();
    let mut events = sup.child_events();
    let eu = within(sup.start_dynamic("eu".to_string()))
        .await
        .unwrap()
        .unwrap();
    let us = within(sup.start_dynamic("us".to_string()))
        .await
        .unwrap()
        .unwrap();
    let ev = next(&mut events).await;
    assert!(
        matches!(&ev, ChildEvent::Started { child, name, incarnation: 1 } if *child == eu && &**name == "eu"),
        "{ev:?}"
    );
    let names: Vec<_> = within(sup.which_children())
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.id, c.name.to_string()))
        .collect();
    assert_eq!(
        names,
        [
            (us.clone(), "us".to_string()),
            (eu.clone(), "eu".to_string())
        ]
    );
    // A name is not a reference: dynamic children are terminated by theirs.
    within(sup.terminate_child(&eu)).await.unwrap();
    let left = within(sup.which_children()).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(&*left[0].name, "us");
    within(sup.stop()).await.unwrap();
}

#[tokio::test]
async fn child_spec_reads_a_childs_specification() {
    let sup = Supervisor::builder()
        .auto_shutdown(AutoShutdown::AnySignificant)
        .child(idle("plain"))
        .child(
            idle("special")
                .restart(Restart::Transient)
                .shutdown(Shutdown::Timeout(Duration::from_millis(250)))
                .significant(true),
        )
        .start()
        .await
        .unwrap();
    let spec = within(sup.child_spec("special")).await.unwrap();
    assert_eq!(spec.id, ChildRef::from("special"));
    assert_eq!(&*spec.name, "special");
    assert_eq!(spec.restart, Restart::Transient);
    assert_eq!(spec.shutdown, Shutdown::Timeout(Duration::from_millis(250)));
    assert_eq!(spec.kind, ChildKind::Worker);
    assert!(spec.significant);
    let plain = within(sup.child_spec("plain")).await.unwrap();
    assert_eq!(plain.restart, Restart::Permanent);
    assert_eq!(plain.shutdown, Shutdown::Timeout(Duration::from_secs(5)));
    assert!(!plain.significant);
    assert!(matches!(
        within(sup.child_spec("nobody")).await,
        Err(SupervisorError::NotFound(_))
    ));
    within(sup.stop()).await.unwrap();
}

#[tokio::test]
async fn child_spec_reads_a_dynamic_and_a_nested_supervisors_specification() {
    let (inner, inner_spec) = Supervisor::builder()
        .strategy(Strategy::SimpleOneForOne)
        .template(|(): ()| idle("worker").restart(Restart::Temporary))
        .supervised("inner")
        .unwrap();
    let outer = Supervisor::builder()
        .child(inner_spec)
        .start()
        .await
        .unwrap();
    let nested = within(outer.child_spec("inner")).await.unwrap();
    assert_eq!(nested.kind, ChildKind::Supervisor);
    assert_eq!(nested.shutdown, Shutdown::Infinity);
    let child = within(inner.start_dynamic(())).await.unwrap().unwrap();
    let spec = within(inner.child_spec(&child)).await.unwrap();
    assert_eq!(spec.id, child);
    assert_eq!(&*spec.name, "worker");
    assert_eq!(spec.restart, Restart::Temporary);
    within(outer.stop()).await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// Guards: terminated by their child reference; a taken identity says how to run several
// ---------------------------------------------------------------------------------------------

#[derive(Debug)]
enum Job {
    Done,
}

/// Counts jobs.
struct Tally(u32);

struct Count;

#[handler(event = Job)]
impl Tally {
    fn init() -> Self {
        Tally(0)
    }

    fn handle_event(&mut self, _: &Job) {
        self.0 += 1;
    }

    #[call]
    fn count(&self, _: Count) -> u32 {
        self.0
    }
}

supervisor! {
    struct Tallies(jobs: Job) {
        strategy: simple_one_for_one,
        template: guard Tally { manager: jobs },
    }
}

#[tokio::test]
async fn start_child_gives_the_guards_child_reference_so_one_guard_is_terminated_by_it() {
    let jobs = EventManager::<Job>::start().unwrap();
    let tallies = Tallies::start(&jobs).await.unwrap();
    let eu = within(tallies.start_child_keyed("eu", ())).await.unwrap();
    let us = within(tallies.start_child_keyed("us", ())).await.unwrap();
    jobs.sync_notify(Job::Done).await.unwrap();
    assert_eq!(within(jobs.call(eu.handler(), Count)).await.unwrap(), 1);

    // Named by what they hold: the handler and its key.
    let named: Vec<_> = within(tallies.supervisor().which_children())
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.id, c.name.to_string()))
        .collect();
    assert_eq!(
        named,
        [
            (us.child().clone(), "Tally(\"us\")".to_string()),
            (eu.child().clone(), "Tally(\"eu\")".to_string()),
        ]
    );

    within(tallies.supervisor().terminate_child(&eu))
        .await
        .unwrap();
    let left = within(jobs.which_handlers()).await.unwrap();
    assert_eq!(
        left,
        [us.handler().id().clone()],
        "only that guard's handler left"
    );
    assert_eq!(
        within(tallies.supervisor().count_children())
            .await
            .unwrap()
            .active,
        1
    );
    within(tallies.stop()).await.unwrap();
    jobs.stop().await.unwrap();
}

#[tokio::test]
async fn a_second_guard_for_an_installed_handler_type_tells_of_keyed_children() {
    let jobs = EventManager::<Job>::start().unwrap();
    let tallies = Tallies::start(&jobs).await.unwrap();
    within(tallies.start_child(())).await.unwrap();
    let err = within(tallies.start_child(())).await.unwrap_err();
    let SupervisorError::StartFailed { reason, .. } = &err else {
        panic!("expected StartFailed, got {err:?}");
    };
    let event_core::Cause::Error(e) = reason else {
        panic!("expected an error, got {reason:?}");
    };
    assert!(
        matches!(e.downcast_ref::<GuardError>(), Some(GuardError::AlreadyInstalled(id)) if id.is::<Tally>()),
        "{e:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("already installed")
            && msg.contains("key")
            && msg.contains("start_child_keyed"),
        "the error says how to run several: {msg}"
    );
    // The same through a guard built by hand.
    let sup = Supervisor::builder().start().await.unwrap();
    let again = Guard::new(&jobs, Install::<Tally>::new(), ()).child("again");
    let err = within(sup.start_child(again)).await.unwrap_err();
    assert!(
        err.to_string().contains("Install::key"),
        "the error says how to run several: {err}"
    );
    within(sup.stop()).await.unwrap();
    within(tallies.stop()).await.unwrap();
    jobs.stop().await.unwrap();
}
