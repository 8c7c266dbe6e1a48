//! Overload: what a dedicated handler does with an event that finds its queue full (wait, drop
//! the newest, drop the oldest, or be removed as lager's overload killer removes it), each drop
//! and removal reported through `tracing` and counted; and bounded mailboxes under several
//! publishers, where nothing is dropped unasked.

use std::sync::{Arc, Mutex};
use std::time::Duration;

#[path = "support/capture.rs"]
mod capture;
use capture::capture;

use event_core::{
    Call, CallError, Context, EventManager, ExitReason, Guard, Handler, HandlerRef, Install,
    NotifyError, Overload, OverloadStats, Step, Supervisor, Terminate,
};
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};
use tokio::sync::Semaphore;

/// Awaits `f`, failing the test if it takes more than 10 s: a hang is a bug.
async fn within<F: std::future::IntoFuture>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(10), f)
        .await
        .expect("timed out after 10 s: the manager hangs")
}

/// Polls `f` once without waiting; whether it is still pending.
async fn still_pending<F: std::future::Future + Unpin>(f: &mut F) -> bool {
    std::future::poll_fn(|cx| {
        std::task::Poll::Ready(std::pin::Pin::new(&mut *f).poll(cx).is_pending())
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// A handler that blocks on each event until the test lets it through
// ---------------------------------------------------------------------------------------------

type Log = Arc<Mutex<Vec<String>>>;

struct Gated {
    gate: Arc<Semaphore>,
    started: UnboundedSender<u64>,
    log: Log,
}

#[derive(Clone)]
struct GateArgs {
    gate: Arc<Semaphore>,
    started: UnboundedSender<u64>,
    inits: UnboundedSender<()>,
    log: Log,
}

/// The test's side of the gated handlers made from one `GateArgs`.
struct Gate {
    gate: Arc<Semaphore>,
    started: UnboundedReceiver<u64>,
    inits: UnboundedReceiver<()>,
    log: Log,
}

impl Gate {
    /// Waits until the handler has started on an event; returns it.
    async fn entered(&mut self) -> u64 {
        within(self.started.recv())
            .await
            .expect("the handler is alive")
    }

    /// Waits until a handler has been initialised.
    async fn initialised(&mut self) {
        within(self.inits.recv())
            .await
            .expect("the test holds the args");
    }

    fn open(&self, events: usize) {
        self.gate.add_permits(events);
    }

    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

fn gate() -> (GateArgs, Gate) {
    let gate = Arc::new(Semaphore::new(0));
    let (started_tx, started) = mpsc::unbounded_channel();
    let (inits_tx, inits) = mpsc::unbounded_channel();
    let log = Log::default();
    (
        GateArgs {
            gate: gate.clone(),
            started: started_tx,
            inits: inits_tx,
            log: log.clone(),
        },
        Gate {
            gate,
            started,
            inits,
            log,
        },
    )
}

impl Handler<u64> for Gated {
    type Args = GateArgs;
    type Info = ();
    type Handover = ();

    fn init(a: GateArgs, _: &mut Context<u64, Self>) -> Step<'static, Self> {
        a.log.lock().unwrap().push("init".into());
        let _ = a.inits.send(());
        Step::ok(Gated {
            gate: a.gate,
            started: a.started,
            log: a.log,
        })
    }

    fn handle_event<'a>(&'a mut self, n: &'a u64, _: &'a mut Context<u64, Self>) -> Step<'a> {
        Step::from_async(async move {
            let _ = self.started.send(*n);
            self.gate.acquire().await?.forget();
            self.log.lock().unwrap().push(format!("event {n}"));
            Ok(())
        })
    }

    fn terminate(self, reason: Terminate) -> Step<'static, ()> {
        self.log
            .lock()
            .unwrap()
            .push(format!("terminate: {reason}"));
        Step::ok(())
    }
}

struct Seen;

impl Call<u64, Seen> for Gated {
    type Reply = usize;

    fn handle_call(&mut self, _: Seen, _: &mut Context<u64, Self>) -> Step<'_, usize> {
        Step::ok(self.log.lock().unwrap().len())
    }
}

fn events(log: &[String]) -> Vec<String> {
    log.iter()
        .filter(|l| l.starts_with("event"))
        .cloned()
        .collect()
}

fn named(list: &[u64]) -> Vec<String> {
    list.iter().map(|n| format!("event {n}")).collect()
}

// ---------------------------------------------------------------------------------------------
// The policies
// ---------------------------------------------------------------------------------------------

/// Installs a gated dedicated handler with a queue of 2 and `policy`; sends event 1, waits
/// until the handler is held inside it, then sends events 2 to `last`. The queue takes two of
/// them; what happens to the rest is the policy's business.
async fn overflow(
    manager: &EventManager<u64>,
    policy: Overload,
    last: u64,
) -> (Gate, OverloadStats) {
    let (args, mut gate) = gate();
    let install = Install::<Gated>::new().dedicated(2).overload(policy);
    let stats = install.overload_stats();
    manager.add_handler_with(install, args).await.unwrap();
    manager.notify(1).await.unwrap();
    assert_eq!(gate.entered().await, 1);
    for n in 2..=last {
        manager.notify(n).await.unwrap();
    }
    (gate, stats)
}

/// After `overflow` under a dropping policy: lets event 1 and the two events the queue kept
/// through (a call queued behind them is answered once they are handled), then event 7.
async fn let_through(manager: &EventManager<u64>, gate: &Gate) {
    gate.open(3);
    within(manager.call(&HandlerRef::<Gated>::new(), Seen))
        .await
        .unwrap();
    gate.open(1);
    within(manager.sync_notify(7)).await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn by_default_a_full_dedicated_queue_makes_the_manager_wait_and_drops_nothing() {
    let manager = EventManager::<u64>::start().unwrap();
    let (gate, stats) = overflow(&manager, Overload::Wait, 6).await;
    // The manager waits for room for event 4: the request behind it is not answered yet.
    let mut which = Box::pin(manager.which_handlers());
    assert!(still_pending(&mut which).await);
    gate.open(7);
    within(which).await.unwrap();
    within(manager.sync_notify(7)).await.unwrap();
    assert_eq!(events(&gate.log()), named(&[1, 2, 3, 4, 5, 6, 7]));
    assert_eq!((stats.dropped(), stats.removed()), (0, 0));
}

#[tokio::test(flavor = "current_thread")]
async fn drop_newest_drops_the_events_that_find_the_queue_full_and_reports_each() {
    let (out, _guard) = capture();
    let manager = EventManager::<u64>::builder()
        .name("shipping")
        .start()
        .unwrap();
    let (gate, stats) = overflow(&manager, Overload::DropNewest, 6).await;
    // The manager did not wait: it answers while the handler is still held in event 1.
    within(manager.which_handlers()).await.unwrap();
    assert_eq!(stats.dropped(), 3, "events 4, 5 and 6 found the queue full");

    let_through(&manager, &gate).await;
    assert_eq!(events(&gate.log()), named(&[1, 2, 3, 7]));
    assert_eq!((stats.dropped(), stats.removed()), (3, 0));

    let text = out.text();
    assert_eq!(out.lines_with("an event was dropped"), 3, "{text}");
    for n in [4, 5, 6] {
        let line = text
            .lines()
            .find(|l| l.contains(&format!("event={n} ")))
            .unwrap_or_else(|| panic!("no report of event {n}:\n{text}"));
        for needle in [
            "WARN",
            "event_core::overload",
            "manager=\"shipping\"",
            "handler=Gated",
            "policy=drop newest",
            "capacity=2",
        ] {
            assert!(line.contains(needle), "{needle:?} is not in {line}");
        }
    }
}

#[tokio::test(flavor = "current_thread")]
async fn drop_oldest_makes_room_by_dropping_the_oldest_queued_event() {
    let (out, _guard) = capture();
    let manager = EventManager::<u64>::start().unwrap();
    let (gate, stats) = overflow(&manager, Overload::DropOldest, 6).await;
    within(manager.which_handlers()).await.unwrap();
    let_through(&manager, &gate).await;
    // 2, 3 and 4 made room for 4, 5 and 6.
    assert_eq!(events(&gate.log()), named(&[1, 5, 6, 7]));
    assert_eq!((stats.dropped(), stats.removed()), (3, 0));
    let text = out.text();
    assert_eq!(out.lines_with("an event was dropped"), 3, "{text}");
    for n in [2, 3, 4] {
        assert!(
            text.lines()
                .any(|l| l.contains(&format!("event={n} ")) && l.contains("policy=drop oldest")),
            "no report of event {n}:\n{text}"
        );
    }
}

#[tokio::test(flavor = "current_thread")]
async fn drop_oldest_keeps_queued_calls_and_drops_the_new_event_when_only_calls_are_queued() {
    let manager = EventManager::<u64>::start().unwrap();
    let (args, mut gate) = gate();
    let install = Install::<Gated>::new()
        .dedicated(2)
        .overload(Overload::DropOldest);
    let stats = install.overload_stats();
    let gated = manager.add_handler_with(install, args).await.unwrap();
    manager.notify(1).await.unwrap();
    assert_eq!(gate.entered().await, 1);
    let mut first = Box::pin(manager.call(&gated, Seen));
    let mut second = Box::pin(manager.call(&gated, Seen));
    assert!(still_pending(&mut first).await);
    assert!(still_pending(&mut second).await);
    manager.notify(2).await.unwrap();
    within(manager.which_handlers()).await.unwrap();
    assert_eq!(stats.dropped(), 1, "event 2 found only calls in the queue");
    gate.open(1);
    assert_eq!(within(first).await.unwrap(), 2, "init and event 1");
    assert_eq!(within(second).await.unwrap(), 2);
}

#[tokio::test(flavor = "current_thread")]
async fn a_sync_notify_whose_event_a_policy_dropped_returns_instead_of_hanging() {
    let manager = EventManager::<u64>::start().unwrap();
    let (gate, stats) = overflow(&manager, Overload::DropNewest, 3).await;
    within(manager.sync_notify(4)).await.unwrap();
    assert_eq!(stats.dropped(), 1);
    gate.open(3);
    within(manager.stop()).await.unwrap();
    assert_eq!(events(&gate.log()), named(&[1, 2, 3]));
}

#[tokio::test(flavor = "current_thread")]
async fn remove_takes_out_a_handler_that_falls_behind_and_tells_its_supervisor_overloaded() {
    let (out, _guard) = capture();
    let manager = EventManager::<u64>::builder()
        .name("shipping")
        .start()
        .unwrap();
    let (args, mut gate) = gate();
    let install = Install::<Gated>::new()
        .dedicated(2)
        .overload(Overload::Remove);
    let stats = install.overload_stats();
    let link = manager.add_sup_handler_with(install, args).await.unwrap();
    let gated = link.handler().clone();
    manager.notify(1).await.unwrap();
    assert_eq!(gate.entered().await, 1);
    // Queued behind event 1: a call and event 2. Event 3 finds the queue full.
    let mut call = Box::pin(manager.call(&gated, Seen));
    assert!(still_pending(&mut call).await);
    manager.notify(2).await.unwrap();
    manager.notify(3).await.unwrap();

    assert!(matches!(
        within(call).await,
        Err(CallError::NotInstalled(id)) if id == *gated.id()
    ));
    // Its terminate runs once the callback it is in returns.
    gate.open(1);
    assert!(within(manager.which_handlers()).await.unwrap().is_empty());
    assert!(matches!(
        within(link).await,
        ExitReason::Overloaded { capacity: 2 }
    ));
    assert_eq!(
        gate.log(),
        [
            "init",
            "event 1",
            "terminate: it fell behind: its queue of 2 was full"
        ]
    );
    assert_eq!((stats.dropped(), stats.removed()), (2, 1), "events 2 and 3");
    let text = out.text();
    assert_eq!(out.lines_with("fell behind and is removed"), 1, "{text}");
    assert!(text.contains("unhandled=2"), "{text}");
    assert!(text.contains("policy=remove"), "{text}");

    // The manager carries on, and the call path is clean.
    assert!(matches!(
        manager.call(&gated, Seen).await,
        Err(CallError::NotInstalled(_))
    ));
    manager.sync_notify(4).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guard_reinstalls_a_handler_removed_for_falling_behind() {
    let (events, manager) = EventManager::<u64>::builder()
        .supervised("events")
        .build()
        .unwrap();
    let (args, mut gate) = gate();
    let install = Install::<Gated>::new()
        .dedicated(1)
        .overload(Overload::Remove);
    let stats = install.overload_stats();
    let gated = install.handler_ref().clone();
    let guard = Guard::new(&events, install, args).child("shipper");
    let sup = Supervisor::builder()
        .child(manager)
        .child(guard)
        .start()
        .await
        .unwrap();

    gate.initialised().await;
    events.notify(1).await.unwrap();
    assert_eq!(gate.entered().await, 1);
    // Queued behind event 1, a call fills the queue; event 2 finds it full, and the handler
    // is removed. The call's answer says the removal happened: only then is event 1 let
    // through (earlier, the handler would take the call and make room).
    let mut call = Box::pin(events.call(&gated, Seen));
    assert!(still_pending(&mut call).await);
    events.notify(2).await.unwrap();
    assert!(matches!(
        within(call).await,
        Err(CallError::NotInstalled(_))
    ));
    gate.open(1);
    // The guard installs a new one, which takes the next event.
    gate.initialised().await;
    assert_eq!(stats.removed(), 1);
    events.notify(4).await.unwrap();
    assert_eq!(gate.entered().await, 4);
    gate.open(1);
    assert_eq!(stats.dropped(), 1, "event 2");
    within(sup.stop()).await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// Bounded mailboxes under several publishers
// ---------------------------------------------------------------------------------------------

/// Counts what it handles per publisher, checking each publisher's order; its `terminate`
/// leaves the counts in `report`.
struct Tally {
    last: Vec<Option<u64>>,
    handled: u64,
    report: Report,
}

type Report = Arc<Mutex<Vec<(u64, Vec<Option<u64>>)>>>;

#[derive(Clone)]
struct TallyArgs {
    publishers: usize,
    report: Report,
}

fn tally(publishers: usize) -> TallyArgs {
    TallyArgs {
        publishers,
        report: Report::default(),
    }
}

#[derive(Debug)]
struct Tagged {
    from: usize,
    n: u64,
}

impl Handler<Tagged> for Tally {
    type Args = TallyArgs;
    type Info = ();
    type Handover = (u64, Vec<Option<u64>>);

    fn init(a: TallyArgs, _: &mut Context<Tagged, Self>) -> Step<'static, Self> {
        Step::ok(Tally {
            last: vec![None; a.publishers],
            handled: 0,
            report: a.report,
        })
    }

    fn handle_event(&mut self, e: &Tagged, _: &mut Context<Tagged, Self>) -> Step<'_> {
        let last = &mut self.last[e.from];
        assert!(
            last.is_none_or(|l| l < e.n),
            "publisher {}: {} after {last:?}",
            e.from,
            e.n
        );
        *last = Some(e.n);
        self.handled += 1;
        Step::ok(())
    }

    fn terminate(self, _: Terminate) -> Step<'static, (u64, Vec<Option<u64>>)> {
        let counts = (self.handled, self.last);
        self.report.lock().unwrap().push(counts.clone());
        Step::ok(counts)
    }
}

/// Publishers send until the manager refuses them; a stop comes in the middle. Every event
/// accepted before the stop must have been handled, inline and dedicated, before the
/// handlers' terminate.
async fn stop_under_load(manager: EventManager<Tagged>) {
    const PUBLISHERS: usize = 4;
    let (inline, dedicated) = (tally(PUBLISHERS), tally(PUBLISHERS));
    manager.add_handler::<Tally>(inline.clone()).await.unwrap();
    manager
        .add_handler_with(
            Install::<Tally>::new().key("dedicated").dedicated(8),
            dedicated.clone(),
        )
        .await
        .unwrap();
    let (started_tx, mut started) = mpsc::unbounded_channel();
    let mut tasks = Vec::new();
    for from in 0..PUBLISHERS {
        let manager = manager.clone();
        let started = started_tx.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0.. {
                match manager.notify(Tagged { from, n }).await {
                    Ok(()) if n == 100 => {
                        let _ = started.send(());
                    }
                    Ok(()) => {}
                    Err(NotifyError::ManagerGone(e)) => {
                        assert_eq!(e.n, n, "a refused event comes back");
                        return n;
                    }
                    Err(e) => panic!("publisher {from}: {e}"),
                }
                if n % 16 == 0 {
                    tokio::task::yield_now().await;
                }
            }
            unreachable!()
        }));
    }
    for _ in 0..PUBLISHERS {
        within(started.recv()).await.unwrap();
    }
    within(manager.stop()).await.unwrap();
    let mut accepted = Vec::new();
    for task in tasks {
        accepted.push(within(task).await.unwrap());
    }
    let total: u64 = accepted.iter().sum();
    let lasts: Vec<Option<u64>> = accepted.iter().map(|n| n.checked_sub(1)).collect();
    for (name, t) in [("inline", inline), ("dedicated", dedicated)] {
        let report = t.report.lock().unwrap().clone();
        assert_eq!(
            report,
            [(total, lasts.clone())],
            "the {name} handler handled every accepted event before its terminate"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_under_load_handles_every_event_accepted_before_it() {
    stop_under_load(EventManager::<Tagged>::builder().start().unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_under_load_on_a_bounded_mailbox_refuses_the_waiting_publishers_and_loses_nothing() {
    stop_under_load(
        EventManager::<Tagged>::builder()
            .bounded(4)
            .start()
            .unwrap(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishers_on_a_bounded_mailbox_wait_or_get_full_and_nothing_accepted_is_dropped() {
    const PUBLISHERS: usize = 4;
    const EACH: u64 = 2_000;
    let manager = EventManager::<Tagged>::builder()
        .bounded(8)
        .start()
        .unwrap();
    let tally = manager
        .add_handler::<Tally>(tally(PUBLISHERS))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for from in 0..PUBLISHERS {
        let manager = manager.clone();
        tasks.push(tokio::spawn(async move {
            // Even publishers wait for room; odd ones try, and count the refusals.
            let (mut accepted, mut full, mut last) = (0u64, 0u64, None);
            for n in 0..EACH {
                let event = Tagged { from, n };
                let sent = match from % 2 {
                    0 => manager.notify(event).await,
                    _ => manager.try_notify(event),
                };
                match sent {
                    Ok(()) => {
                        accepted += 1;
                        last = Some(n);
                    }
                    Err(NotifyError::Full(back)) => {
                        assert_eq!(back.n, n, "a refused event comes back");
                        full += 1;
                        tokio::task::yield_now().await;
                    }
                    Err(e) => panic!("publisher {from}: {e}"),
                }
            }
            (accepted, full, last)
        }));
    }
    let mut accepted = 0;
    let mut lasts = Vec::new();
    for (from, task) in tasks.into_iter().enumerate() {
        let (ok, full, last) = within(task).await.unwrap();
        if from % 2 == 0 {
            assert_eq!(
                (ok, full),
                (EACH, 0),
                "a waiting publisher is never refused"
            );
        }
        accepted += ok;
        lasts.push(last);
    }
    let (handled, seen_last) = within(manager.delete_handler(&tally, ())).await.unwrap();
    assert_eq!(handled, accepted, "every accepted event was handled");
    assert_eq!(
        seen_last, lasts,
        "each publisher's last accepted event was handled last"
    );
}
