//! Seeing inside a running tree: callbacks run inside spans naming their manager, handler and
//! event or request; lifecycle events have their documented targets and levels; a handler's
//! state and status can be looked at while it runs; a manager counts what it does.
//!
//! One global subscriber (at debug level) writes to the buffer of the thread that captures;
//! the tests run on current-thread runtimes, so the tasks log on the test's thread.

use std::cell::RefCell;
use std::io;
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use event_core::{
    handler, CallError, ChildSpec, EventManager, HandlerId, Install, Intensity, Supervisor,
};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// The captured line with all of `needles`, if any.
    fn line_with(&self, needles: &[&str]) -> Option<String> {
        self.text()
            .lines()
            .find(|l| needles.iter().all(|n| l.contains(n)))
            .map(str::to_owned)
    }

    fn assert_line(&self, needles: &[&str]) -> String {
        self.line_with(needles)
            .unwrap_or_else(|| panic!("a line with {needles:?} in:\n{}", self.text()))
    }
}

thread_local! {
    static SINK: RefCell<Option<Captured>> = const { RefCell::new(None) };
}

struct ThreadSink;

impl io::Write for ThreadSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        SINK.with(|sink| {
            if let Some(out) = &*sink.borrow() {
                out.0.lock().unwrap().extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

struct Capturing;

impl Drop for Capturing {
    fn drop(&mut self) {
        SINK.with(|sink| sink.borrow_mut().take());
    }
}

fn capture() -> (Captured, Capturing) {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(|| ThreadSink)
            .with_ansi(false)
            .without_time()
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
    });
    let out = Captured::default();
    SINK.with(|sink| *sink.borrow_mut() = Some(out.clone()));
    (out, Capturing)
}

#[derive(Debug)]
enum Ev {
    Tick,
    Boom,
}

struct Ping;

#[handler]
struct Counter {
    seen: u64,
}

#[handler(event = Ev)]
impl Counter {
    fn init(start: u64) -> Self {
        Counter { seen: start }
    }

    fn handle_event(&mut self, ev: &Ev) {
        match ev {
            Ev::Tick => {
                self.seen += 1;
                tracing::info!(seen = self.seen, "counter saw a tick");
            }
            Ev::Boom => panic!("the counter breaks"),
        }
    }

    #[call]
    fn ping(&mut self, _: Ping) -> u64 {
        tracing::info!("counter pinged");
        self.seen
    }
}

#[derive(Debug)]
struct Other;

#[handler(event = Ev)]
impl Other {
    fn init() -> Self {
        Other
    }

    fn handle_event(&mut self, _: &Ev) {}
}

#[tokio::test(flavor = "current_thread")]
async fn callbacks_run_in_spans_naming_manager_handler_and_event_or_request() {
    let (out, _capturing) = capture();
    let manager = EventManager::<Ev>::builder().name("spans").start().unwrap();
    let counter = manager.add_handler::<Counter>(0).await.unwrap();
    manager.sync_notify(Ev::Tick).await.unwrap();
    manager.sync_notify(Ev::Tick).await.unwrap();
    assert_eq!(manager.call(&counter, Ping).await.unwrap(), 2);

    let line = out.assert_line(&["counter saw a tick", "seen=2"]);
    assert!(line.contains("manager{name=\"spans\"}"), "{line}");
    assert!(line.contains("handle_event{handler="), "{line}");
    assert!(line.contains("Counter"), "{line}");
    assert!(
        line.contains("seq=2"),
        "the event's sequence number: {line}"
    );
    let line = out.assert_line(&["counter pinged"]);
    assert!(line.contains("manager{name=\"spans\"}"), "{line}");
    assert!(line.contains("handle_call{handler="), "{line}");
    assert!(line.contains("request=\"observe::Ping\""), "{line}");
    manager.stop().await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn a_dedicated_handler_logs_in_its_span() {
    let (out, _capturing) = capture();
    let manager = EventManager::<Ev>::builder()
        .name("dedicated-spans")
        .start()
        .unwrap();
    manager
        .add_handler_with(Install::<Counter>::new().dedicated(8), 0)
        .await
        .unwrap();
    manager.sync_notify(Ev::Tick).await.unwrap();
    let line = out.assert_line(&["counter saw a tick"]);
    assert!(
        line.contains("dedicated{manager=\"dedicated-spans\""),
        "{line}"
    );
    manager.stop().await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn handler_lifecycle_events_have_their_targets_and_levels() {
    let (out, _capturing) = capture();
    let manager = EventManager::<Ev>::builder()
        .name("lifecycle")
        .start()
        .unwrap();
    let counter = manager.add_handler::<Counter>(0).await.unwrap();
    out.assert_line(&[
        "DEBUG",
        "event_core::manager",
        "event handler installed",
        "Counter",
    ]);
    let other = manager
        .swap_handler(&counter, (), Install::<Other>::new(), |_| ())
        .await
        .unwrap();
    out.assert_line(&[
        "DEBUG",
        "event_core::manager",
        "event handler swapped",
        "to=",
    ]);
    manager.delete_handler(&other, ()).await.unwrap();
    out.assert_line(&[
        "DEBUG",
        "event_core::manager",
        "event handler removed",
        "reason=deleted",
    ]);

    let intensity = Intensity::new(3, Duration::from_secs(3600));
    manager
        .add_handler_in_place(Install::<Counter>::new(), 0, intensity)
        .await
        .unwrap();
    manager.sync_notify(Ev::Boom).await.unwrap();
    out.assert_line(&[
        "ERROR",
        "event_core::crash",
        "event handler crashed",
        "outcome=\"restarted in place\"",
    ]);
    out.assert_line(&[
        "INFO",
        "event_core::manager",
        "event handler restarted in place",
    ]);
    manager.stop().await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn supervisor_lifecycle_events_have_their_targets_and_levels() {
    let (out, _capturing) = capture();
    let supervisor = Supervisor::builder()
        .name("lifecycle-sup")
        .intensity(Intensity::new(1, Duration::from_secs(3600)))
        .child(ChildSpec::task("flaky", |_stop| async {
            tokio::task::yield_now().await;
            Err("the flaky child fails".into())
        }))
        .start()
        .await
        .unwrap();
    supervisor.stopped().await;
    out.assert_line(&["INFO", "event_core::supervisor", "child started", "flaky"]);
    out.assert_line(&["DEBUG", "event_core::supervisor", "child exited", "flaky"]);
    out.assert_line(&["ERROR", "event_core::crash", "child terminated", "flaky"]);
    out.assert_line(&[
        "INFO",
        "event_core::supervisor",
        "restarting child",
        "flaky",
    ]);
    let line = out.assert_line(&[
        "ERROR",
        "event_core::supervisor",
        "reached its restart intensity",
    ]);
    assert!(
        line.contains("supervisor{name=\"lifecycle-sup\"}"),
        "in the supervisor's span: {line}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_handlers_state_can_be_looked_at_and_replaced_inline_or_dedicated() {
    let manager = EventManager::<Ev>::start().unwrap();
    let inline = manager.add_handler::<Counter>(10).await.unwrap();
    let dedicated = manager
        .add_handler_with(Install::<Counter>::new().key(2u64).dedicated(4), 20)
        .await
        .unwrap();
    manager.sync_notify(Ev::Tick).await.unwrap();
    assert_eq!(manager.with_state(&inline, |c| c.seen).await.unwrap(), 11);
    assert_eq!(
        manager.with_state(&dedicated, |c| c.seen).await.unwrap(),
        21
    );

    manager.with_state(&inline, |c| c.seen = 100).await.unwrap();
    manager
        .with_state(&dedicated, |c| c.seen = 200)
        .await
        .unwrap();
    manager.sync_notify(Ev::Tick).await.unwrap();
    assert_eq!(manager.call(&inline, Ping).await.unwrap(), 101);
    assert_eq!(manager.call(&dedicated, Ping).await.unwrap(), 201);

    manager.delete_handler(&inline, ()).await.unwrap();
    match manager.with_state(&inline, |c| c.seen).await {
        Err(CallError::NotInstalled(id)) => assert_eq!(&id, inline.id()),
        other => panic!("refused for a handler not installed: {other:?}"),
    }
    manager.stop().await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn a_handlers_status_view_on_demand() {
    let manager = EventManager::<Ev>::start().unwrap();
    let counter = manager.add_handler::<Counter>(7).await.unwrap();
    let status = manager.format_status(counter.id()).await.unwrap();
    assert_eq!(status, "Counter { seen: 7 }");
    let missing = HandlerId::of::<Other>(None);
    assert!(matches!(
        manager.format_status(&missing).await,
        Err(CallError::NotInstalled(_))
    ));
    manager.stop().await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn a_manager_counts_what_it_does_and_each_handler_while_collecting() {
    let manager = EventManager::<Ev>::start().unwrap();
    let counter = manager.add_handler::<Counter>(0).await.unwrap();
    // Queued before the task runs: it takes them at once.
    for _ in 0..5 {
        manager.try_notify(Ev::Tick).unwrap();
    }
    manager.call(&counter, Ping).await.unwrap();
    let stats = manager.statistics().await.unwrap();
    assert_eq!(stats.events, 5);
    assert_eq!(stats.calls, 1);
    assert_eq!(stats.queued, 0);
    assert!(stats.queued_high_water >= 6, "{stats:?}");
    assert!(stats.handlers.is_empty(), "not collecting yet: {stats:?}");

    manager.collect_statistics(true).await.unwrap();
    let intensity = Intensity::new(3, Duration::from_secs(3600));
    let in_place = manager
        .add_handler_in_place(Install::<Counter>::new().key(1u64), 0, intensity)
        .await
        .unwrap();
    manager.sync_notify(Ev::Tick).await.unwrap();
    let stats = manager.statistics().await.unwrap();
    let [newest, oldest] = &stats.handlers[..] else {
        panic!("a row per handler, newest first: {stats:?}");
    };
    assert_eq!(newest.id, *in_place.id());
    assert_eq!(oldest.id, *counter.id());
    // Counted from when collecting began, or from its install.
    assert_eq!((newest.events, oldest.events), (1, 1));

    // The oldest crashes for good and leaves; the other is restarted in place.
    manager.sync_notify(Ev::Boom).await.unwrap();
    manager.call(&in_place, Ping).await.unwrap();
    let stats = manager.statistics().await.unwrap();
    assert_eq!(stats.events, 7);
    assert_eq!(stats.calls, 2);
    let [only] = &stats.handlers[..] else {
        panic!("the crashed handler has left: {stats:?}");
    };
    assert_eq!(only.id, *in_place.id());
    let counts = (only.events, only.calls, only.crashes, only.restarts);
    assert_eq!(counts, (2, 1, 1, 1));
    manager.collect_statistics(false).await.unwrap();
    assert!(manager.statistics().await.unwrap().handlers.is_empty());
    manager.stop().await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn a_trace_says_what_the_manager_does_and_what_it_dropped() {
    use event_core::{TraceEntry, TraceOutcome, TracedCallback};

    let manager = EventManager::<Ev>::start().unwrap();
    let mut trace = manager.trace(64).await.unwrap();
    let counter = manager.add_handler::<Counter>(0).await.unwrap();
    let id = counter.id().clone();
    assert_eq!(
        trace.next().await,
        Some(TraceEntry::Installed {
            handler: id.clone()
        })
    );
    manager.sync_notify(Ev::Tick).await.unwrap();
    assert_eq!(trace.next().await, Some(TraceEntry::Event { seq: 1 }));
    match trace.next().await {
        Some(TraceEntry::Callback {
            handler,
            callback: TracedCallback::Event { seq: 1 },
            outcome: TraceOutcome::Ok,
            ..
        }) => assert_eq!(handler, id),
        other => panic!("the handler's callback: {other:?}"),
    }
    manager.call(&counter, Ping).await.unwrap();
    match trace.next().await {
        Some(TraceEntry::Callback {
            callback: TracedCallback::Call { request },
            outcome: TraceOutcome::Ok,
            ..
        }) => assert_eq!(request, "observe::Ping"),
        other => panic!("the call: {other:?}"),
    }
    manager.sync_notify(Ev::Boom).await.unwrap();
    assert_eq!(trace.next().await, Some(TraceEntry::Event { seq: 2 }));
    match trace.next().await {
        Some(TraceEntry::Callback {
            outcome: TraceOutcome::Crashed,
            ..
        }) => {}
        other => panic!("the crash: {other:?}"),
    }
    match trace.next().await {
        Some(TraceEntry::Removed { handler, reason }) => {
            assert_eq!(handler, id);
            assert!(reason.starts_with("crashed"), "{reason}");
        }
        other => panic!("the removal: {other:?}"),
    }

    // A new trace replaces this one, which ends.
    let mut small = manager.trace(2).await.unwrap();
    assert_eq!(trace.next().await, None);
    manager.add_handler::<Counter>(0).await.unwrap();
    for _ in 0..5 {
        manager.sync_notify(Ev::Tick).await.unwrap();
    }
    // Room for two: the install and the first event; the other nine are dropped, counted,
    // and said once there is room.
    assert!(matches!(
        small.try_next(),
        Some(TraceEntry::Installed { .. })
    ));
    assert_eq!(small.try_next(), Some(TraceEntry::Event { seq: 3 }));
    assert_eq!(small.try_next(), None);
    manager.sync_notify(Ev::Tick).await.unwrap();
    assert_eq!(small.try_next(), Some(TraceEntry::Dropped { count: 9 }));
    assert_eq!(small.try_next(), Some(TraceEntry::Event { seq: 8 }));
    assert_eq!(small.try_next(), None);
    manager.stop().await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn a_snapshot_shows_the_tree_whole_and_prints_as_text() {
    use event_core::{ChildExit, ChildKind, ChildRef, ChildState, Inside, Restart};

    let (alarms, manager_child) = EventManager::<Ev>::builder()
        .name("alarms")
        .supervised("alarms")
        .handler(Install::<Counter>::new(), 0)
        .build()
        .unwrap();
    let (_nested, nested_child) = Supervisor::builder()
        .name("inner")
        .child(manager_child)
        .supervised("inner")
        .unwrap();
    let top = Supervisor::builder()
        .name("top")
        .child(nested_child)
        .child(
            ChildSpec::task("worker", |stop| async move {
                stop.stopped().await;
                Ok(())
            })
            .restart(Restart::Transient),
        )
        .start()
        .await
        .unwrap();
    alarms.sync_notify(Ev::Tick).await.unwrap();

    let tree = top.snapshot().await.unwrap();
    assert_eq!(tree.name, "top");
    assert_eq!(tree.restarts_left, 1, "the default intensity, none spent");
    let [worker, inner] = &tree.children[..] else {
        panic!("two children, newest first: {tree:?}");
    };
    assert_eq!(worker.id, ChildRef::Id("worker".into()));
    assert_eq!(worker.name, "worker");
    assert_eq!((worker.incarnation, worker.restarts), (1, 0));
    assert_eq!(worker.last_exit, None);
    assert_eq!(
        (worker.kind, worker.restart, worker.state),
        (ChildKind::Worker, Restart::Transient, ChildState::Running)
    );
    assert_eq!(worker.inside, None, "a task has no inside");
    assert_eq!(inner.kind, ChildKind::Supervisor);
    let Some(Inside::Supervisor(inner_tree)) = &inner.inside else {
        panic!("the nested supervisor's tree: {inner:?}");
    };
    assert_eq!(inner_tree.name, "inner");
    let [manager] = &inner_tree.children[..] else {
        panic!("the manager: {inner_tree:?}");
    };
    let Some(Inside::Manager(m)) = &manager.inside else {
        panic!("the manager's inside: {manager:?}");
    };
    assert_eq!(m.name, "alarms");
    assert_eq!(m.events, 1);
    assert_eq!(m.handlers.len(), 1);
    assert!(m.handlers[0].contains("Counter"), "{m:?}");

    let text = tree.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "supervisor top (restarts left: 1)", "{text}");
    assert!(
        lines[1].starts_with("├─ worker (Worker, Transient, Running, #1)"),
        "{text}"
    );
    assert!(
        lines[2].starts_with(
            "└─ inner (Supervisor, Permanent, Running, #1): supervisor inner (restarts left: 1)"
        ),
        "{text}"
    );
    assert!(
        lines[3]
            .starts_with("   └─ alarms (Worker, Permanent, Running, #1): manager alarms, 1 events"),
        "{text}"
    );
    assert!(
        lines[4].starts_with("      └─ handler ") && lines[4].contains("Counter"),
        "{text}"
    );
    assert_eq!(lines.len(), 5, "{text}");

    // A child not running is shown without its inside, and with how it ended.
    top.terminate_child("inner").await.unwrap();
    let tree = top.snapshot().await.unwrap();
    assert_eq!(tree.children[1].state, ChildState::NotRunning);
    assert_eq!(tree.children[1].inside, None);
    assert_eq!(tree.children[1].last_exit, Some(ChildExit::Shutdown));
    assert!(
        tree.to_string()
            .contains("inner (Supervisor, Permanent, NotRunning, #1, last exit: shutdown)"),
        "{tree}"
    );
    top.stop().await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn a_snapshot_counts_a_childs_restarts_and_the_intensity_left() {
    use event_core::{ChildEvent, ChildExit, ChildRef};

    // A worker that fails each time it is told to.
    let fail = Arc::new(tokio::sync::Notify::new());
    let told = fail.clone();
    let top = Supervisor::builder()
        .name("top")
        .intensity(Intensity::new(3, Duration::from_secs(3600)))
        .child(ChildSpec::task("flaky", move |stop| {
            let told = told.clone();
            async move {
                tokio::select! {
                    _ = told.notified() => Err("told to fail".into()),
                    _ = stop.stopped() => Ok(()),
                }
            }
        }))
        .start()
        .await
        .unwrap();
    let mut events = top.child_events();
    for restarts in 1..=2u32 {
        fail.notify_one();
        loop {
            match events.recv().await {
                Some(ChildEvent::Restarted { incarnation, .. }) => {
                    assert_eq!(incarnation, restarts + 1);
                    break;
                }
                Some(_) => {}
                None => panic!("the supervisor ended"),
            }
        }
    }

    let tree = top.snapshot().await.unwrap();
    assert_eq!(tree.restarts_left, 1, "3 allowed in the period, 2 spent");
    let [flaky] = &tree.children[..] else {
        panic!("one child: {tree:?}");
    };
    assert_eq!(flaky.id, ChildRef::Id("flaky".into()));
    assert_eq!((flaky.incarnation, flaky.restarts), (3, 2));
    let Some(ChildExit::Failed(cause)) = &flaky.last_exit else {
        panic!("it last failed: {flaky:?}");
    };
    assert!(cause.to_string().contains("told to fail"), "{cause}");
    let text = tree.to_string();
    assert_eq!(
        text.lines().next(),
        Some("supervisor top (restarts left: 1)"),
        "{text}"
    );
    assert!(
        text.contains("flaky (Worker, Permanent, Running, #3, last exit: "),
        "{text}"
    );
    top.stop().await.unwrap();
}
