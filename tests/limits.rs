//! Every number and duration a user passes, at its extremes (0, 1, the maximum of its type):
//! taken and working, or refused with an error value naming the limit, never a panic.
//!
//! Every wait that could hang is bounded by `within` (10 s), so a bug fails instead of hanging.
//! Tests on paused time let the clock jump to the next timer.

use std::future::IntoFuture;
use std::time::Duration;

use event_core::{
    handler, AddError, Builder, ChildSpec, Context, EventManager, ExitReason, Install, Intensity,
    Key, Notice, NotifyError, Restart, Shutdown, StartError, Supervisor, SupervisorError,
};
use tokio::sync::mpsc;

async fn within<F: IntoFuture>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(10), f)
        .await
        .expect("timed out after 10 s: something hangs")
}

#[derive(Debug)]
enum Ev {
    Plain,
    Crash,
}

struct Counter {
    seen: u32,
}

struct Seen;
struct Later(Duration);

#[handler(event = Ev)]
impl Counter {
    fn init() -> Self {
        Counter { seen: 0 }
    }

    fn handle_event(&mut self, event: &Ev) {
        match event {
            Ev::Plain => self.seen += 1,
            Ev::Crash => panic!("crashed on purpose"),
        }
    }

    fn handle_info(&mut self, _: event_core::Info<()>) {
        self.seen += 100;
    }

    #[call]
    fn seen(&mut self, _: Seen) -> u32 {
        self.seen
    }

    #[call]
    fn later(&mut self, Later(delay): Later, cx: &mut Context<Ev, Self>) -> () {
        cx.send_after(delay, ());
    }
}

// ---------------------------------------------------------------------------------------------
// Builder::bounded
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "current_thread")]
async fn a_bound_of_zero_is_refused() {
    let err = EventManager::<Ev>::builder()
        .bounded(0)
        .start()
        .unwrap_err();
    assert_eq!(err, StartError::ZeroCapacity);
}

#[tokio::test(flavor = "current_thread")]
async fn a_bound_of_one_holds_one_queued_event() {
    let manager = EventManager::<Ev>::builder().bounded(1).start().unwrap();
    manager.try_notify(Ev::Plain).unwrap();
    assert!(matches!(
        manager.try_notify(Ev::Plain),
        Err(NotifyError::Full(Ev::Plain))
    ));
    within(manager.sync_notify(Ev::Plain)).await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn the_largest_bound_works() {
    let manager = EventManager::<Ev>::builder()
        .bounded(Builder::<Ev>::MAX_BOUND)
        .start()
        .unwrap();
    let counter = manager.add_handler::<Counter>(()).await.unwrap();
    for _ in 0..3 {
        manager.try_notify(Ev::Plain).unwrap();
    }
    within(manager.sync_notify(Ev::Plain)).await.unwrap();
    assert_eq!(within(manager.call(&counter, Seen)).await.unwrap(), 4);
}

#[tokio::test(flavor = "current_thread")]
async fn a_bound_past_the_largest_is_refused_naming_the_limit() {
    for requested in [Builder::<Ev>::MAX_BOUND + 1, usize::MAX] {
        let expected = StartError::CapacityTooLarge {
            requested,
            max: Builder::<Ev>::MAX_BOUND,
        };
        let err = EventManager::<Ev>::builder()
            .bounded(requested)
            .start()
            .unwrap_err();
        assert_eq!(err, expected);
        assert!(err
            .to_string()
            .contains(&Builder::<Ev>::MAX_BOUND.to_string()));
        let err = EventManager::<Ev>::builder()
            .bounded(requested)
            .supervised("events")
            .build()
            .unwrap_err();
        assert_eq!(err, expected);
    }
}

// ---------------------------------------------------------------------------------------------
// Install::dedicated
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "current_thread")]
async fn a_dedicated_queue_of_zero_is_refused_and_of_one_or_usize_max_works() {
    let manager = EventManager::<Ev>::start().unwrap();
    let err = manager
        .add_handler_with(Install::<Counter>::new().dedicated(0), ())
        .await
        .unwrap_err();
    assert!(matches!(err, AddError::ZeroCapacity(_)), "{err:?}");
    for (key, capacity) in [(1u64, 1), (2, usize::MAX)] {
        let install = Install::<Counter>::new().key(key).dedicated(capacity);
        manager.add_handler_with(install, ()).await.unwrap();
    }
    for _ in 0..5 {
        manager.notify(Ev::Plain).await.unwrap();
    }
    within(manager.sync_notify(Ev::Plain)).await.unwrap();
    for key in [1u64, 2] {
        let counter = Install::<Counter>::new().key(key).handler_ref().clone();
        assert_eq!(within(manager.call(&counter, Seen)).await.unwrap(), 6);
    }
}

// ---------------------------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "current_thread")]
async fn numeric_keys_at_their_extremes_are_handlers_of_their_own() {
    let manager = EventManager::<Ev>::start().unwrap();
    manager.add_handler::<Counter>(()).await.unwrap();
    let keys = [0, 1, u64::MAX - 1, u64::MAX];
    for key in keys {
        manager
            .add_handler_with(Install::<Counter>::new().key(key), ())
            .await
            .unwrap();
    }
    assert_eq!(within(manager.which_handlers()).await.unwrap().len(), 5);
    manager.sync_notify(Ev::Plain).await.unwrap();
    for key in keys {
        let counter = Install::<Counter>::new().key(key).handler_ref().clone();
        assert_eq!(counter.id().key(), Some(&Key::Num(key)));
        assert_eq!(within(manager.call(&counter, Seen)).await.unwrap(), 1);
        manager.delete_handler(&counter, ()).await.unwrap();
    }
    assert_eq!(within(manager.which_handlers()).await.unwrap().len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Intensity, for a handler restarted in place
// ---------------------------------------------------------------------------------------------

/// Crashes the handler `crashes` times; how many restarts its link heard, and whether it is
/// installed at the end.
async fn restarts_in_place(intensity: Intensity, crashes: u32) -> (u32, bool) {
    let manager = EventManager::<Ev>::start().unwrap();
    let mut link = manager
        .add_sup_handler_in_place(Install::<Counter>::new(), (), intensity)
        .await
        .unwrap();
    for _ in 0..crashes {
        manager.sync_notify(Ev::Crash).await.unwrap();
    }
    let mut restarts = 0;
    while let Some(crash) = link.try_restarted() {
        let _ = crash;
        restarts += 1;
    }
    let installed = within(manager.which_handlers()).await.unwrap().len() == 1;
    (restarts, installed)
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn in_place_restarts_at_zero_one_and_u32_max() {
    let hour = Duration::from_secs(3600);
    assert_eq!(
        restarts_in_place(Intensity::new(0, hour), 1).await,
        (0, false)
    );
    assert_eq!(
        restarts_in_place(Intensity::new(1, hour), 1).await,
        (1, true)
    );
    assert_eq!(
        restarts_in_place(Intensity::new(1, hour), 2).await,
        (1, false)
    );
    assert_eq!(
        restarts_in_place(Intensity::new(u32::MAX, hour), 20).await,
        (20, true)
    );
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn an_in_place_period_of_zero_is_refused_and_of_one_nanosecond_or_the_max_works() {
    let manager = EventManager::<Ev>::start().unwrap();
    let err = manager
        .add_handler_in_place(
            Install::<Counter>::new(),
            (),
            Intensity::new(1, Duration::ZERO),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AddError::ZeroPeriod(_)), "{err:?}");
    // A nanosecond forgets a restart as soon as the clock moves.
    let tiny = Intensity::new(1, Duration::from_nanos(1));
    let mut link = manager
        .add_sup_handler_in_place(Install::<Counter>::new(), (), tiny)
        .await
        .unwrap();
    for _ in 0..3 {
        manager.sync_notify(Ev::Crash).await.unwrap();
        tokio::time::advance(Duration::from_millis(1)).await;
    }
    assert_eq!(within(manager.which_handlers()).await.unwrap().len(), 1);
    for _ in 0..3 {
        assert!(link.try_restarted().is_some());
    }
    manager.delete_handler(link.handler(), ()).await.unwrap();
    // The longest period never forgets one.
    let mut link = manager
        .add_sup_handler_in_place(
            Install::<Counter>::new(),
            (),
            Intensity::new(1, Duration::MAX),
        )
        .await
        .unwrap();
    manager.sync_notify(Ev::Crash).await.unwrap();
    tokio::time::advance(Duration::from_secs(365 * 24 * 3600)).await;
    manager.sync_notify(Ev::Crash).await.unwrap();
    assert!(link.try_restarted().is_some());
    assert!(matches!(
        within(link.notice()).await,
        Notice::Exited(ExitReason::Crashed(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// Intensity, for a supervisor
// ---------------------------------------------------------------------------------------------

/// A task child that fails as soon as it starts, telling `starts` each time.
fn failing_child(starts: mpsc::UnboundedSender<()>) -> ChildSpec {
    ChildSpec::task("failing", move |_stop| {
        let starts = starts.clone();
        async move {
            let _ = starts.send(());
            Err("failed on purpose".into())
        }
    })
    .restart(Restart::Permanent)
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_supervisor_intensity_at_its_extremes() {
    // A zero period is refused.
    let err = within(
        Supervisor::builder()
            .intensity(Intensity::new(1, Duration::ZERO))
            .start(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, SupervisorError::BadSpec(ref m) if m.contains("period")),
        "{err}"
    );

    // Zero restarts: the first failure ends the supervisor.
    let (tx, mut starts) = mpsc::unbounded_channel();
    let sup = within(
        Supervisor::builder()
            .intensity(Intensity::new(0, Duration::MAX))
            .child(failing_child(tx))
            .start(),
    )
    .await
    .unwrap();
    within(sup.stopped()).await;
    assert!(starts.recv().await.is_some());

    // The most restarts over the longest period: it keeps restarting.
    let (tx, mut starts) = mpsc::unbounded_channel();
    let sup = within(
        Supervisor::builder()
            .intensity(Intensity::new(u32::MAX, Duration::MAX))
            .child(failing_child(tx))
            .start(),
    )
    .await
    .unwrap();
    for _ in 0..50 {
        within(starts.recv()).await.unwrap();
    }
    assert!(!sup.is_stopped());
    within(sup.stop()).await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// Shutdown::Timeout
// ---------------------------------------------------------------------------------------------

/// A task child that ends when asked to stop, or never if `stubborn`.
fn stopping_child(shutdown: Shutdown, stubborn: bool) -> ChildSpec {
    ChildSpec::task("stopping", move |stop| async move {
        stop.stopped().await;
        if stubborn {
            std::future::pending::<()>().await;
        }
        Ok(())
    })
    .shutdown(shutdown)
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn shutdown_timeouts_at_zero_one_nanosecond_and_the_max() {
    for t in [Duration::ZERO, Duration::from_nanos(1), Duration::MAX] {
        // A child that stops when asked is waited for.
        let sup = within(
            Supervisor::builder()
                .child(stopping_child(Shutdown::Timeout(t), false))
                .start(),
        )
        .await
        .unwrap();
        within(sup.stop()).await.unwrap();
    }
    for t in [Duration::ZERO, Duration::from_nanos(1)] {
        // A child that does not stop is killed once its time is up.
        let sup = within(
            Supervisor::builder()
                .child(stopping_child(Shutdown::Timeout(t), true))
                .start(),
        )
        .await
        .unwrap();
        within(sup.stop()).await.unwrap();
    }
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_shutdown_timeout_past_the_clock_waits_like_infinity() {
    let sup = within(
        Supervisor::builder()
            .child(stopping_child(Shutdown::Timeout(Duration::MAX), true))
            .start(),
    )
    .await
    .unwrap();
    let stopping = sup.clone();
    let stop = tokio::spawn(async move { stopping.stop().await });
    // Thirty years later (on the paused clock), the stubborn child is still waited for.
    tokio::time::sleep(Duration::from_secs(30 * 365 * 24 * 3600)).await;
    assert!(!stop.is_finished());
    stop.abort();
}

// ---------------------------------------------------------------------------------------------
// send_after
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn timers_at_zero_one_nanosecond_and_the_max() {
    let manager = EventManager::<Ev>::start().unwrap();
    let counter = manager.add_handler::<Counter>(()).await.unwrap();
    for delay in [Duration::ZERO, Duration::from_nanos(1), Duration::MAX] {
        within(manager.call(&counter, Later(delay))).await.unwrap();
    }
    // Timers tick in milliseconds: both short ones are due by the second tick.
    tokio::time::sleep(Duration::from_millis(10)).await;
    // The two short timers fired; the longest is pending, and the manager answers.
    assert_eq!(within(manager.call(&counter, Seen)).await.unwrap(), 200);
    within(manager.stop()).await.unwrap();
}
