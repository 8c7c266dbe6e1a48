//! The guarantees a user of the event manager relies on (DESIGN.md §3-5, seeds 000 and 001):
//! ordering, runtimes, bounded mailboxes, no deadlocks, per-handler timers and watches,
//! dedicated handlers, identities, supervision, crash reports and the manager's lifetime.
//!
//! Every wait that could hang is bounded by `within` (10 s), so a bug fails instead of hanging;
//! nothing waits on wall-clock time for synchronisation, and timers run on paused time.

use std::future::{Future, IntoFuture};
use std::pin::{pin, Pin};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use event_core::{
    handler, AddError, BoxError, Call, CallError, Context, DeleteError, During, EventManager,
    ExitReason, HandlerId, HandlerRef, Info, Install, ManagerError, NotifyError, StartError, Step,
    SwapError, Terminate, TimerRef, WatchRef,
};
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};
use tokio::sync::{oneshot, Semaphore};
use tokio::task::JoinHandle;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Awaits `f`, failing the test if it takes more than 10 s: a hang is a bug.
async fn within<F: IntoFuture>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(10), f)
        .await
        .expect("timed out after 10 s: the manager hangs")
}

/// Polls `f` once without waiting; whether it is still pending.
async fn still_pending<F: Future + Unpin>(f: &mut F) -> bool {
    std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut *f).poll(cx).is_pending())).await
}

type Log<T> = Arc<Mutex<Vec<T>>>;

fn snapshot<T: Clone>(log: &Log<T>) -> Vec<T> {
    log.lock().unwrap().clone()
}

fn id_of<H: 'static>() -> HandlerId {
    HandlerRef::<H>::new().id().clone()
}

// ---------------------------------------------------------------------------------------------
// Events and handlers
// ---------------------------------------------------------------------------------------------

/// A numbered event. Deliberately not `Clone`: the manager hands events by reference.
#[derive(Debug)]
struct Num(u64);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Begin,
    End,
}

/// One step of one handler on one event, with the address the handler saw the event at.
#[derive(Clone, Copy, Debug)]
struct Seen {
    handler: &'static str,
    event: u64,
    phase: Phase,
    addr: usize,
}

/// Records when it begins and ends each event, yielding to the runtime in between so that a
/// manager running handlers concurrently would interleave them.
struct Recorder {
    name: &'static str,
    log: Log<Seen>,
}

impl Recorder {
    fn note(&self, event: &Num, phase: Phase) {
        self.log.lock().unwrap().push(Seen {
            handler: self.name,
            event: event.0,
            phase,
            addr: event as *const Num as usize,
        });
    }
}

#[handler(event = Num)]
impl Recorder {
    fn init((name, log): (&'static str, Log<Seen>)) -> Self {
        Recorder { name, log }
    }

    async fn handle_event(&mut self, event: &Num) {
        self.note(event, Phase::Begin);
        for _ in 0..3 {
            tokio::task::yield_now().await;
        }
        self.note(event, Phase::End);
    }
}

/// Installs a `Recorder` under each name, in order (so the last is the newest).
async fn install_recorders(manager: &EventManager<Num>, names: &[&'static str]) -> Log<Seen> {
    let log = Log::default();
    for &name in names {
        manager
            .add_handler_with(Install::<Recorder>::new().key(name), (name, log.clone()))
            .await
            .unwrap();
    }
    log
}

/// What a lockstep run of `events` through `newest_first` looks like: each handler begins and
/// ends an event before the next handler begins it, and all are done before the next event.
fn lockstep(events: &[u64], newest_first: &[&'static str]) -> Vec<(&'static str, u64, Phase)> {
    let mut steps = Vec::new();
    for &event in events {
        for &handler in newest_first {
            steps.push((handler, event, Phase::Begin));
            steps.push((handler, event, Phase::End));
        }
    }
    steps
}

fn steps(log: &Log<Seen>) -> Vec<(&'static str, u64, Phase)> {
    snapshot(log)
        .into_iter()
        .map(|s| (s.handler, s.event, s.phase))
        .collect()
}

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

/// A handler that blocks on each event until the test lets it through.
struct Gated {
    gate: Arc<Semaphore>,
    started: UnboundedSender<u64>,
    handled: Log<u64>,
}

struct GateArgs {
    gate: Arc<Semaphore>,
    started: UnboundedSender<u64>,
    handled: Log<u64>,
}

/// The test's side of a `Gated` handler.
struct GateControl {
    gate: Arc<Semaphore>,
    started: UnboundedReceiver<u64>,
    handled: Log<u64>,
}

fn gate() -> (GateArgs, GateControl) {
    let gate = Arc::new(Semaphore::new(0));
    let (started_tx, started) = mpsc::unbounded_channel();
    let handled = Log::default();
    (
        GateArgs {
            gate: gate.clone(),
            started: started_tx,
            handled: handled.clone(),
        },
        GateControl {
            gate,
            started,
            handled,
        },
    )
}

#[handler(event = Num)]
impl Gated {
    fn init(a: GateArgs) -> Self {
        Gated {
            gate: a.gate,
            started: a.started,
            handled: a.handled,
        }
    }

    async fn handle_event(&mut self, event: &Num) -> Result<(), BoxError> {
        let _ = self.started.send(event.0);
        self.gate.acquire().await?.forget();
        self.handled.lock().unwrap().push(event.0);
        Ok(())
    }
}

/// Events for the supervision and lifecycle tests.
#[derive(Debug)]
enum Act {
    Note(u64),
    Crash,
    Leave,
}

/// What a `Probe` was told when it left, with the number of notes it had handled.
type Exits = UnboundedSender<(Terminate, u64)>;

/// Counts notes, panics on `Crash`, removes itself on `Leave`, reports its terminate.
struct Probe {
    notes: u64,
    exits: Exits,
}

/// Request: how many notes have you handled?
struct Count;

#[handler(event = Act)]
impl Probe {
    fn init(exits: Exits) -> Self {
        Probe { notes: 0, exits }
    }

    fn handle_event(&mut self, act: &Act, cx: &mut Context<Act, Self>) {
        match act {
            Act::Note(_) => self.notes += 1,
            Act::Crash => panic!("probe crashed on purpose"),
            Act::Leave => cx.remove_self(),
        }
    }

    #[call]
    fn count(&self, _: Count) -> u64 {
        self.notes
    }

    fn terminate(self, reason: Terminate) -> u64 {
        let _ = self.exits.send((reason, self.notes));
        self.notes
    }
}

/// Takes over from a `Probe`; remembers what it was handed.
struct Successor {
    inherited: Option<u64>,
}

/// Request: what were you handed at init?
struct Inherited;

#[handler(event = Act)]
impl Successor {
    fn init(inherited: Option<u64>) -> Self {
        Successor { inherited }
    }

    fn handle_event(&mut self, _: &Act) {}

    #[call]
    fn inherited(&self, _: Inherited) -> Option<u64> {
        self.inherited
    }
}

/// Inline (OTP's way) or on a task of its own: dedicated handlers must behave the same.
#[derive(Clone, Copy, Debug)]
enum Mode {
    Inline,
    Dedicated,
}

const MODES: [Mode; 2] = [Mode::Inline, Mode::Dedicated];

impl Mode {
    fn install<H: 'static>(self) -> Install<H> {
        match self {
            Mode::Inline => Install::new(),
            Mode::Dedicated => Install::new().dedicated(4),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Ordering (DESIGN §3)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn events_from_one_sender_are_handled_in_the_order_sent() {
    let manager = EventManager::<Num>::start().unwrap();
    let log = install_recorders(&manager, &["only"]).await;
    for n in 1..=50 {
        manager.notify(Num(n)).await.unwrap();
    }
    within(manager.sync_notify(Num(51))).await.unwrap();
    let events: Vec<u64> = (1..=51).collect();
    assert_eq!(steps(&log), lockstep(&events, &["only"]));
}

#[tokio::test]
async fn every_handler_finishes_event_n_before_any_handler_sees_n_plus_1() {
    let manager = EventManager::<Num>::start().unwrap();
    let log = install_recorders(&manager, &["a", "b", "c"]).await;
    for n in 1..=20 {
        manager.notify(Num(n)).await.unwrap();
    }
    within(manager.sync_notify(Num(21))).await.unwrap();
    // Newest first, each handler done with an event before the next one starts it.
    let events: Vec<u64> = (1..=21).collect();
    assert_eq!(steps(&log), lockstep(&events, &["c", "b", "a"]));
}

#[tokio::test]
async fn sync_notify_returns_after_earlier_notifies_from_the_same_sender_were_handled() {
    let manager = EventManager::<Num>::start().unwrap();
    let log = install_recorders(&manager, &["a", "b"]).await;
    for n in 1..=10 {
        manager.notify(Num(n)).await.unwrap();
    }
    within(manager.sync_notify(Num(11))).await.unwrap();
    // Checked right away: nothing else was awaited since sync_notify returned.
    let events: Vec<u64> = (1..=11).collect();
    assert_eq!(steps(&log), lockstep(&events, &["b", "a"]));
}

#[tokio::test]
async fn events_are_handed_by_reference_so_they_need_not_be_clone() {
    // `Num` has no `Clone` impl; every handler must see the very same value.
    let manager = EventManager::<Num>::start().unwrap();
    let log = install_recorders(&manager, &["a", "b", "c"]).await;
    for n in 1..=5 {
        manager.notify(Num(n)).await.unwrap();
    }
    within(manager.sync_notify(Num(6))).await.unwrap();
    let seen = snapshot(&log);
    assert_eq!(seen.len(), 6 * 3 * 2);
    for n in 1..=6 {
        let addrs: Vec<usize> = seen
            .iter()
            .filter(|s| s.event == n)
            .map(|s| s.addr)
            .collect();
        assert!(
            addrs.iter().all(|&a| a == addrs[0]),
            "event {n} was seen at different addresses {addrs:?}: it was copied per handler"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Runtimes
// ---------------------------------------------------------------------------------------------

/// Two concurrent senders, two async inline handlers, a dedicated one and a supervised one.
async fn mixed_scenario() {
    let manager = EventManager::<Num>::start().unwrap();
    let log = install_recorders(&manager, &["a", "b"]).await;
    let (tally_tx, mut tally) = mpsc::unbounded_channel();
    manager
        .add_handler_with(Install::<Tally>::new().dedicated(8), tally_tx)
        .await
        .unwrap();

    let senders: Vec<JoinHandle<()>> = [1000u64, 2000]
        .into_iter()
        .map(|base| {
            let manager = manager.clone();
            tokio::spawn(async move {
                for i in 1..=100 {
                    manager.notify(Num(base + i)).await.unwrap();
                    if i % 10 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            })
        })
        .collect();
    for sender in senders {
        within(sender).await.unwrap();
    }
    within(manager.sync_notify(Num(1))).await.unwrap();

    // The order the manager took the events in, as the newest inline handler began them.
    let order: Vec<u64> = snapshot(&log)
        .iter()
        .filter(|s| s.handler == "b" && s.phase == Phase::Begin)
        .map(|s| s.event)
        .collect();
    assert_eq!(order.len(), 201);
    assert_eq!(steps(&log), lockstep(&order, &["b", "a"]));
    for base in [1000, 2000] {
        let from_one: Vec<u64> = order
            .iter()
            .copied()
            .filter(|&e| e > base && e <= base + 100)
            .collect();
        assert_eq!(from_one, (base + 1..=base + 100).collect::<Vec<_>>());
    }
    // sync_notify waited for the dedicated handler, which saw the same order.
    let mut dedicated = Vec::new();
    while let Ok(n) = tally.try_recv() {
        dedicated.push(n);
    }
    assert_eq!(dedicated, order);

    within(manager.stop()).await.unwrap();
    assert!(manager.is_stopped());
}

#[tokio::test(flavor = "current_thread")]
async fn the_mixed_scenario_passes_on_a_current_thread_runtime() {
    mixed_scenario().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mixed_scenario_passes_on_a_multi_thread_runtime() {
    mixed_scenario().await;
}

#[test]
fn starting_a_manager_outside_a_runtime_is_refused_with_no_runtime() {
    assert_eq!(
        EventManager::<Num>::start().unwrap_err(),
        StartError::NoRuntime
    );
    let err = EventManager::<Num>::builder()
        .name("outside")
        .start()
        .unwrap_err();
    assert_eq!(err, StartError::NoRuntime);
    assert!(err.to_string().contains("tokio runtime"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// 3. Bounded mailbox
// ---------------------------------------------------------------------------------------------

/// A manager bounded to `capacity` whose `Gated` handler is blocked on event 1, with events
/// 2..=capacity+1 queued behind it.
async fn full_bounded_manager(capacity: u64) -> (EventManager<Num>, GateControl) {
    let manager = EventManager::<Num>::builder()
        .bounded(capacity as usize)
        .start()
        .unwrap();
    let (args, mut control) = gate();
    manager.add_handler::<Gated>(args).await.unwrap();
    manager.notify(Num(1)).await.unwrap();
    assert_eq!(within(control.started.recv()).await, Some(1));
    for n in 2..=capacity + 1 {
        manager
            .try_notify(Num(n))
            .unwrap_or_else(|e| panic!("event {n} refused ({e}) with room left"));
    }
    (manager, control)
}

#[tokio::test]
async fn try_notify_on_a_full_bounded_mailbox_says_full_and_gives_the_event_back() {
    let (manager, control) = full_bounded_manager(3).await;
    let err = manager.try_notify(Num(5)).unwrap_err();
    assert!(matches!(err, NotifyError::Full(_)), "{err:?}");
    assert_eq!(err.to_string(), "the event manager's mailbox is full");
    assert_eq!(err.into_inner().0, 5);

    control.gate.add_permits(100);
    within(manager.sync_notify(Num(6))).await.unwrap();
    assert_eq!(snapshot(&control.handled), vec![1, 2, 3, 4, 6]);
}

#[tokio::test]
async fn notify_on_a_full_bounded_mailbox_waits_for_room_and_nothing_is_dropped() {
    let (manager, mut control) = full_bounded_manager(3).await;
    let mut waiting = pin!(manager.notify(Num(5)));
    assert!(
        still_pending(&mut waiting).await,
        "notify did not wait for room"
    );

    // Let event 1 through: the handler takes event 2, which makes room for one more.
    control.gate.add_permits(1);
    assert_eq!(within(control.started.recv()).await, Some(2));
    within(waiting).await.unwrap();

    control.gate.add_permits(100);
    within(manager.sync_notify(Num(6))).await.unwrap();
    assert_eq!(snapshot(&control.handled), vec![1, 2, 3, 4, 5, 6]);
}

#[tokio::test]
async fn a_bounded_mailbox_of_capacity_zero_is_refused() {
    let err = EventManager::<Num>::builder()
        .bounded(0)
        .start()
        .unwrap_err();
    assert_eq!(err, StartError::ZeroCapacity);
}

// ---------------------------------------------------------------------------------------------
// 4. No deadlocks (seed 000): a router dialing through a dialer of the same manager
// ---------------------------------------------------------------------------------------------

#[derive(Debug)]
enum Net {
    Dial(u64),
    DialAndWait,
    /// Its number is only read through `Debug`, in the dialer's log.
    Packet(#[allow(dead_code)] u64),
    Hangup,
    Redial,
}

#[derive(Default)]
struct DialerArgs {
    seen: Log<String>,
    inherited: Option<u64>,
}

/// Records the events it sees; answers dials; hands over how many events it saw.
struct Dialer {
    seen: Log<String>,
    events: u64,
    inherited: Option<u64>,
}

/// Request: connect to an address; the reply is the address connected to.
struct Dial(u64);

#[handler(event = Net)]
impl Dialer {
    fn init(a: DialerArgs) -> Self {
        Dialer {
            seen: a.seen,
            events: 0,
            inherited: a.inherited,
        }
    }

    fn handle_event(&mut self, net: &Net) {
        self.events += 1;
        self.seen.lock().unwrap().push(format!("{net:?}"));
    }

    #[call]
    fn dial(&self, Dial(addr): Dial) -> u64 {
        addr
    }

    #[call]
    fn inherited(&self, _: Inherited) -> Option<u64> {
        self.inherited
    }

    fn terminate(self, reason: Terminate) -> u64 {
        let why = match &reason {
            Terminate::Deleted(args) => format!("deleted {:?}", args.downcast_ref::<&str>()),
            other => other.to_string(),
        };
        self.seen.lock().unwrap().push(format!("terminate: {why}"));
        self.events
    }
}

/// What a router got when it used its manager's blocking operations from its callback.
#[derive(Debug)]
struct Attempts {
    add: Result<HandlerRef<Dialer>, AddError>,
    call: Result<u64, CallError>,
    sync_notify: Result<(), ManagerError>,
    which: Result<Vec<HandlerId>, ManagerError>,
    delete: Result<u64, DeleteError>,
    swap: Result<HandlerRef<Dialer>, SwapError>,
    stop: Result<(), ManagerError>,
    /// A plain notify on an unbounded mailbox does not wait, so it is allowed.
    notify: bool,
}

/// Seed 000's router: on `Dial`, it dials through the `Dialer` with the manager's blocking API.
struct BlockingRouter {
    report: UnboundedSender<Attempts>,
}

#[handler(event = Net)]
impl BlockingRouter {
    fn init(report: UnboundedSender<Attempts>) -> Self {
        BlockingRouter { report }
    }

    async fn handle_event(&mut self, net: &Net, cx: &mut Context<Net, Self>) {
        let Net::Dial(addr) = *net else {
            return;
        };
        let manager = cx.manager();
        let dialer = HandlerRef::<Dialer>::new();
        let backup = Install::<Dialer>::new().key("backup");
        let attempts = Attempts {
            add: manager
                .add_handler_with(Install::<Dialer>::new().key(addr), DialerArgs::default())
                .await,
            call: manager.call(&dialer, Dial(addr)).await,
            sync_notify: manager.sync_notify(Net::Packet(addr)).await,
            which: manager.which_handlers().await,
            delete: manager.delete_handler(&dialer, ()).await,
            swap: manager
                .swap_handler(&dialer, (), backup, |_| DialerArgs::default())
                .await,
            stop: manager.stop().await,
            notify: manager.notify(Net::Packet(addr + 100)).await.is_ok(),
        };
        let _ = self.report.send(attempts);
    }
}

fn assert_all_would_deadlock(a: &Attempts) {
    assert!(matches!(a.add, Err(AddError::WouldDeadlock)), "{a:?}");
    assert!(matches!(a.call, Err(CallError::WouldDeadlock)), "{a:?}");
    assert_eq!(a.sync_notify, Err(ManagerError::WouldDeadlock));
    assert_eq!(a.which, Err(ManagerError::WouldDeadlock));
    assert!(matches!(a.delete, Err(DeleteError::WouldDeadlock)), "{a:?}");
    assert!(matches!(a.swap, Err(SwapError::WouldDeadlock)), "{a:?}");
    assert_eq!(a.stop, Err(ManagerError::WouldDeadlock));
    assert!(
        a.notify,
        "notify on an unbounded mailbox should not be refused"
    );
}

/// Seed 000's router and dialer, the router installed as `install` says.
async fn router_dials_through_the_blocking_api(install: Install<BlockingRouter>) {
    let manager = EventManager::<Net>::start().unwrap();
    let seen = Log::default();
    let dialer = manager
        .add_handler::<Dialer>(DialerArgs {
            seen: seen.clone(),
            inherited: None,
        })
        .await
        .unwrap();
    let (tx, mut reports) = mpsc::unbounded_channel();
    manager.add_handler_with(install, tx).await.unwrap();

    manager.notify(Net::Dial(7)).await.unwrap();
    let attempts = within(reports.recv()).await.unwrap();
    assert_all_would_deadlock(&attempts);

    // Nothing was done behind the errors, and the manager still works.
    assert_eq!(within(manager.call(&dialer, Dial(8))).await.unwrap(), 8);
    within(manager.sync_notify(Net::Packet(1))).await.unwrap();
    assert_eq!(
        within(manager.which_handlers()).await.unwrap(),
        vec![id_of::<BlockingRouter>(), id_of::<Dialer>()]
    );
    // The notify from inside the callback was queued and handled like any other event.
    assert!(snapshot(&seen).contains(&"Packet(107)".to_string()));
}

#[tokio::test]
async fn a_handler_using_its_own_managers_blocking_api_gets_would_deadlock_instead_of_hanging() {
    within(router_dials_through_the_blocking_api(Install::new())).await;
}

#[tokio::test]
async fn a_dedicated_handler_using_its_own_managers_blocking_api_gets_would_deadlock() {
    within(router_dials_through_the_blocking_api(
        Install::new().dedicated(4),
    ))
    .await;
}

/// What a router got from the deferred operations of its context.
#[derive(Debug)]
enum Outcome {
    Added(Result<HandlerRef<Dialer>, AddError>),
    Deleted(Result<u64, DeleteError>),
    Swapped(Result<HandlerRef<Dialer>, SwapError>),
    AwaitedInside(Result<HandlerRef<Dialer>, AddError>),
}

struct DeferArgs {
    outcomes: UnboundedSender<Outcome>,
    dialer_seen: Log<String>,
}

/// The router done right: it asks its context for deferred operations and awaits their results
/// in a spawned task.
struct DeferringRouter {
    outcomes: UnboundedSender<Outcome>,
    dialer_seen: Log<String>,
}

impl DeferringRouter {
    fn dialer_args(&self, inherited: Option<u64>) -> DialerArgs {
        DialerArgs {
            seen: self.dialer_seen.clone(),
            inherited,
        }
    }

    /// Sends the result of `deferred` from a task of its own, as a handler should.
    fn report<T: Send + 'static>(
        &self,
        deferred: impl Future<Output = T> + Send + 'static,
        outcome: fn(T) -> Outcome,
    ) {
        let tx = self.outcomes.clone();
        tokio::spawn(async move {
            let _ = tx.send(outcome(deferred.await));
        });
    }
}

#[handler(event = Net)]
impl DeferringRouter {
    fn init(a: DeferArgs) -> Self {
        DeferringRouter {
            outcomes: a.outcomes,
            dialer_seen: a.dialer_seen,
        }
    }

    async fn handle_event(&mut self, net: &Net, cx: &mut Context<Net, Self>) {
        let dialer = HandlerRef::<Dialer>::new();
        match net {
            Net::Dial(_) => {
                let added = cx.add_handler(Install::<Dialer>::new(), self.dialer_args(None));
                self.report(added, Outcome::Added);
            }
            Net::Hangup => {
                let deleted = cx.delete_handler(&dialer, "hangup");
                self.report(deleted, Outcome::Deleted);
            }
            Net::Redial => {
                let seen = self.dialer_seen.clone();
                let swapped = cx.swap_handler(
                    &dialer,
                    (),
                    Install::<Dialer>::new().key("backup"),
                    move |handover| DialerArgs {
                        seen,
                        inherited: handover,
                    },
                );
                self.report(swapped, Outcome::Swapped);
            }
            Net::DialAndWait => {
                let install = Install::<Dialer>::new().key("inside");
                let added = cx.add_handler(install, self.dialer_args(None)).await;
                let _ = self.outcomes.send(Outcome::AwaitedInside(added));
            }
            Net::Packet(_) => {}
        }
    }
}

struct Deferring {
    manager: EventManager<Net>,
    outcomes: UnboundedReceiver<Outcome>,
    dialer_seen: Log<String>,
}

impl Deferring {
    /// Installs the dialer the router defers its operations on.
    async fn add_dialer(&self) {
        self.manager
            .add_handler::<Dialer>(DialerArgs {
                seen: self.dialer_seen.clone(),
                inherited: None,
            })
            .await
            .unwrap();
    }
}

async fn deferring_router() -> Deferring {
    let manager = EventManager::<Net>::start().unwrap();
    let (tx, outcomes) = mpsc::unbounded_channel();
    let dialer_seen = Log::default();
    manager
        .add_handler::<DeferringRouter>(DeferArgs {
            outcomes: tx,
            dialer_seen: dialer_seen.clone(),
        })
        .await
        .unwrap();
    Deferring {
        manager,
        outcomes,
        dialer_seen,
    }
}

#[tokio::test]
async fn a_deferred_add_applies_right_after_the_current_event() {
    within(async {
        let mut d = deferring_router().await;
        d.manager.notify(Net::Dial(1)).await.unwrap();
        d.manager.sync_notify(Net::Packet(2)).await.unwrap();

        match d.outcomes.recv().await {
            Some(Outcome::Added(Ok(href))) => assert_eq!(href, HandlerRef::<Dialer>::new()),
            other => panic!("expected the dialer to be added, got {other:?}"),
        }
        // Installed after `Dial(1)` was handled, before `Packet(2)`.
        assert_eq!(snapshot(&d.dialer_seen), vec!["Packet(2)"]);
        assert_eq!(
            d.manager.which_handlers().await.unwrap(),
            vec![id_of::<Dialer>(), id_of::<DeferringRouter>()]
        );
    })
    .await;
}

#[tokio::test]
async fn a_deferred_delete_returns_the_terminate_handover_to_a_spawned_task() {
    within(async {
        let mut d = deferring_router().await;
        d.add_dialer().await;
        d.manager.notify(Net::Packet(1)).await.unwrap();
        // The dialer, newer, sees the hang-up before the router deletes it.
        d.manager.sync_notify(Net::Hangup).await.unwrap();

        match d.outcomes.recv().await {
            Some(Outcome::Deleted(Ok(events))) => assert_eq!(events, 2),
            other => panic!("expected the dialer's hand-over, got {other:?}"),
        }
        assert_eq!(
            snapshot(&d.dialer_seen),
            vec!["Packet(1)", "Hangup", "terminate: deleted Some(\"hangup\")"]
        );
        assert_eq!(
            d.manager.which_handlers().await.unwrap(),
            vec![id_of::<DeferringRouter>()]
        );
    })
    .await;
}

#[tokio::test]
async fn a_deferred_swap_hands_the_old_state_to_the_new_init() {
    within(async {
        let mut d = deferring_router().await;
        d.add_dialer().await;
        d.manager.notify(Net::Packet(1)).await.unwrap();
        d.manager.notify(Net::Packet(2)).await.unwrap();
        d.manager.sync_notify(Net::Redial).await.unwrap();

        let backup = HandlerRef::<Dialer>::with_key("backup");
        match d.outcomes.recv().await {
            Some(Outcome::Swapped(Ok(href))) => assert_eq!(href, backup),
            other => panic!("expected the swap to succeed, got {other:?}"),
        }
        assert_eq!(d.manager.call(&backup, Inherited).await.unwrap(), Some(3));
        assert_eq!(
            d.manager.which_handlers().await.unwrap(),
            vec![backup.id().clone(), id_of::<DeferringRouter>()]
        );
    })
    .await;
}

#[tokio::test]
async fn awaiting_a_deferred_inside_its_own_callback_gives_would_deadlock() {
    within(async {
        let mut d = deferring_router().await;
        d.manager.sync_notify(Net::DialAndWait).await.unwrap();
        match d.outcomes.recv().await {
            Some(Outcome::AwaitedInside(Err(AddError::WouldDeadlock))) => {}
            other => panic!("expected WouldDeadlock, got {other:?}"),
        }
        // And the manager is still responsive.
        d.manager.which_handlers().await.unwrap();
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 5. Timers belong to their handler (seed 000)
// ---------------------------------------------------------------------------------------------

type Fired = UnboundedSender<(&'static str, &'static str)>;

/// Sets timers on request; reports each timer message it receives, with its own name.
struct Ticker {
    name: &'static str,
    fired: Fired,
}

/// Request: send yourself `msg` after `after`.
struct Arm {
    after: Duration,
    msg: &'static str,
}

/// Request: cancel this timer; the reply says whether it was pending.
struct CancelTimer(TimerRef);

#[handler(event = Num)]
impl Ticker {
    fn init((name, fired): (&'static str, Fired)) -> Self {
        Ticker { name, fired }
    }

    fn handle_event(&mut self, _: &Num) {}

    fn handle_info(&mut self, info: Info<&'static str>) {
        if let Info::Message(msg) = info {
            let _ = self.fired.send((self.name, msg));
        }
    }

    #[call]
    fn arm(&self, arm: Arm, cx: &mut Context<Num, Self>) -> TimerRef {
        cx.send_after(arm.after, arm.msg)
    }

    #[call]
    fn cancel(&self, c: CancelTimer, cx: &mut Context<Num, Self>) -> bool {
        cx.cancel_timer(c.0)
    }
}

async fn ticker(
    manager: &EventManager<Num>,
    name: &'static str,
    fired: &Fired,
) -> HandlerRef<Ticker> {
    manager
        .add_handler_with(Install::<Ticker>::new().key(name), (name, fired.clone()))
        .await
        .unwrap()
}

fn arm(after_ms: u64, msg: &'static str) -> Arm {
    Arm {
        after: Duration::from_millis(after_ms),
        msg,
    }
}

#[tokio::test(start_paused = true)]
async fn each_handler_receives_only_its_own_timers() {
    let manager = EventManager::<Num>::start().unwrap();
    let (fired_tx, mut fired) = mpsc::unbounded_channel();
    let a = ticker(&manager, "a", &fired_tx).await;
    let b = ticker(&manager, "b", &fired_tx).await;
    // The same deadline: in OTP both handlers would see both messages.
    manager.call(&a, arm(100, "for a")).await.unwrap();
    manager.call(&b, arm(100, "for b")).await.unwrap();

    let mut got = vec![
        within(fired.recv()).await.unwrap(),
        within(fired.recv()).await.unwrap(),
    ];
    got.sort();
    assert_eq!(got, vec![("a", "for a"), ("b", "for b")]);

    // Long after the deadline, with the mailbox flushed, nothing else arrived.
    tokio::time::sleep(Duration::from_secs(1)).await;
    within(manager.sync_notify(Num(0))).await.unwrap();
    assert!(fired.try_recv().is_err());
}

#[tokio::test(start_paused = true)]
async fn a_timer_is_cancelled_when_its_handler_leaves() {
    let manager = EventManager::<Num>::start().unwrap();
    let (fired_tx, mut fired) = mpsc::unbounded_channel();
    let a = ticker(&manager, "a", &fired_tx).await;
    manager.call(&a, arm(100, "old")).await.unwrap();
    manager.delete_handler(&a, ()).await.unwrap();

    // The same identity again, with a later timer of its own.
    let a = ticker(&manager, "a", &fired_tx).await;
    manager.call(&a, arm(300, "new")).await.unwrap();
    assert_eq!(within(fired.recv()).await, Some(("a", "new")));
    within(manager.sync_notify(Num(0))).await.unwrap();
    assert!(fired.try_recv().is_err());
}

#[tokio::test(start_paused = true)]
async fn cancel_timer_stops_a_pending_timer() {
    let manager = EventManager::<Num>::start().unwrap();
    let (fired_tx, mut fired) = mpsc::unbounded_channel();
    let a = ticker(&manager, "a", &fired_tx).await;
    let early = manager.call(&a, arm(100, "cancelled")).await.unwrap();
    let late = manager.call(&a, arm(200, "kept")).await.unwrap();

    assert!(manager.call(&a, CancelTimer(early)).await.unwrap());
    assert!(!manager.call(&a, CancelTimer(early)).await.unwrap());
    assert_eq!(within(fired.recv()).await, Some(("a", "kept")));
    // A timer that fired and was delivered is no longer pending.
    assert!(!manager.call(&a, CancelTimer(late)).await.unwrap());
    tokio::time::sleep(Duration::from_secs(1)).await;
    within(manager.sync_notify(Num(0))).await.unwrap();
    assert!(fired.try_recv().is_err());
}

// ---------------------------------------------------------------------------------------------
// 6. Watching subscribers (seed 003)
// ---------------------------------------------------------------------------------------------

/// Fans events out to subscribers it watches, and forgets each one that goes away.
struct Fanout {
    subscribers: Vec<(WatchRef, mpsc::Sender<u64>)>,
    downs: UnboundedSender<WatchRef>,
}

struct Subscribe(mpsc::Sender<u64>);
struct SubscriberCount;
struct WatchTask(JoinHandle<()>);

#[handler(event = Num)]
impl Fanout {
    fn init(downs: UnboundedSender<WatchRef>) -> Self {
        Fanout {
            subscribers: Vec::new(),
            downs,
        }
    }

    fn handle_event(&mut self, event: &Num) {
        for (_, tx) in &self.subscribers {
            let _ = tx.try_send(event.0);
        }
    }

    fn handle_info(&mut self, info: Info<()>) {
        if let Info::Down(gone) = info {
            self.subscribers.retain(|(w, _)| *w != gone);
            let _ = self.downs.send(gone);
        }
    }

    #[call]
    fn subscribe(&mut self, s: Subscribe, cx: &mut Context<Num, Self>) -> WatchRef {
        let watch = cx.watch(s.0.clone());
        self.subscribers.push((watch, s.0));
        watch
    }

    #[call]
    fn subscriber_count(&self, _: SubscriberCount) -> usize {
        self.subscribers.len()
    }

    #[call]
    fn watch_task(&self, t: WatchTask, cx: &mut Context<Num, Self>) -> WatchRef {
        cx.watch(t.0)
    }
}

#[tokio::test]
async fn a_subscriber_that_goes_away_is_reported_down_and_dropped_from_the_fan_out() {
    let manager = EventManager::<Num>::start().unwrap();
    let (downs_tx, mut downs) = mpsc::unbounded_channel();
    let fanout = manager.add_handler::<Fanout>(downs_tx).await.unwrap();
    let (tx1, mut rx1) = mpsc::channel(8);
    let (tx2, mut rx2) = mpsc::channel(8);
    let w1 = manager.call(&fanout, Subscribe(tx1)).await.unwrap();
    let w2 = manager.call(&fanout, Subscribe(tx2)).await.unwrap();
    assert_ne!(w1, w2);

    within(manager.sync_notify(Num(1))).await.unwrap();
    assert_eq!((rx1.try_recv(), rx2.try_recv()), (Ok(1), Ok(1)));
    assert_eq!(manager.call(&fanout, SubscriberCount).await.unwrap(), 2);

    drop(rx1);
    assert_eq!(within(downs.recv()).await, Some(w1));
    assert_eq!(manager.call(&fanout, SubscriberCount).await.unwrap(), 1);
    within(manager.sync_notify(Num(2))).await.unwrap();
    assert_eq!(rx2.try_recv(), Ok(2));
    assert!(
        downs.try_recv().is_err(),
        "only the dropped subscriber is down"
    );
}

#[tokio::test]
async fn a_watched_task_that_ends_is_reported_down() {
    let manager = EventManager::<Num>::start().unwrap();
    let (downs_tx, mut downs) = mpsc::unbounded_channel();
    let fanout = manager.add_handler::<Fanout>(downs_tx).await.unwrap();
    let (finish, finished) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = finished.await;
    });
    let watch = manager.call(&fanout, WatchTask(task)).await.unwrap();

    within(manager.sync_notify(Num(1))).await.unwrap();
    assert!(downs.try_recv().is_err(), "the task is still running");
    finish.send(()).unwrap();
    assert_eq!(within(downs.recv()).await, Some(watch));
}

// ---------------------------------------------------------------------------------------------
// 7. Dedicated handlers (seed 000's fix, built in)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_slow_dedicated_handler_does_not_hold_back_the_inline_ones() {
    let manager = EventManager::<Num>::start().unwrap();
    let (tally_tx, mut tally) = mpsc::unbounded_channel();
    manager.add_handler::<Tally>(tally_tx).await.unwrap();
    // Newest, so it is handed each event first; its queue has room for all of them.
    let (args, mut slow) = gate();
    manager
        .add_handler_with(Install::<Gated>::new().dedicated(16), args)
        .await
        .unwrap();

    for n in 1..=10 {
        manager.notify(Num(n)).await.unwrap();
    }
    for n in 1..=10 {
        assert_eq!(within(tally.recv()).await, Some(n));
    }
    // The inline handler has handled all ten while the dedicated one is stuck on the first.
    assert_eq!(within(slow.started.recv()).await, Some(1));
    assert!(slow.started.try_recv().is_err());
    assert!(snapshot(&slow.handled).is_empty());

    slow.gate.add_permits(100);
    within(manager.sync_notify(Num(11))).await.unwrap();
    assert_eq!(snapshot(&slow.handled), (1..=11).collect::<Vec<_>>());
}

#[tokio::test]
async fn sync_notify_waits_for_dedicated_handlers_too() {
    let manager = EventManager::<Num>::start().unwrap();
    let (tally_tx, mut tally) = mpsc::unbounded_channel();
    manager.add_handler::<Tally>(tally_tx).await.unwrap();
    let (args, mut slow) = gate();
    manager
        .add_handler_with(Install::<Gated>::new().dedicated(4), args)
        .await
        .unwrap();

    let mut sync = pin!(manager.sync_notify(Num(1)));
    assert!(still_pending(&mut sync).await);
    assert_eq!(within(tally.recv()).await, Some(1));
    assert_eq!(within(slow.started.recv()).await, Some(1));
    // Once the manager has answered a later request it is done dispatching the event; only
    // the dedicated handler is still on it, so the sync_notify must still wait.
    within(manager.which_handlers()).await.unwrap();
    assert!(still_pending(&mut sync).await, "sync_notify did not wait");

    slow.gate.add_permits(1);
    within(sync).await.unwrap();
    assert_eq!(snapshot(&slow.handled), vec![1]);
}

#[tokio::test]
async fn dedicated_handlers_answer_calls_like_inline_ones() {
    for mode in MODES {
        let manager = EventManager::<Act>::start().unwrap();
        let (exits, _exits) = mpsc::unbounded_channel();
        let probe = manager
            .add_handler_with(mode.install::<Probe>(), exits)
            .await
            .unwrap();
        for n in 1..=3 {
            manager.notify(Act::Note(n)).await.unwrap();
        }
        // A call comes after the events sent before it.
        assert_eq!(
            within(manager.call(&probe, Count)).await.unwrap(),
            3,
            "{mode:?}"
        );
    }
}

#[tokio::test]
async fn deleting_a_dedicated_handler_returns_its_terminate_handover() {
    for mode in MODES {
        let manager = EventManager::<Act>::start().unwrap();
        let (exits_tx, mut exits) = mpsc::unbounded_channel();
        let probe = manager
            .add_handler_with(mode.install::<Probe>(), exits_tx)
            .await
            .unwrap();
        manager.notify(Act::Note(1)).await.unwrap();
        manager.notify(Act::Note(2)).await.unwrap();

        let handover = within(manager.delete_handler(&probe, "bye")).await.unwrap();
        assert_eq!(handover, 2, "{mode:?}");
        match exits.try_recv() {
            Ok((Terminate::Deleted(args), 2)) => {
                assert_eq!(args.downcast_ref::<&str>(), Some(&"bye"), "{mode:?}")
            }
            other => panic!("{mode:?}: expected Deleted, got {other:?}"),
        }
        assert!(manager.which_handlers().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn swapping_a_dedicated_handler_hands_its_state_to_the_new_init() {
    for mode in MODES {
        let manager = EventManager::<Act>::start().unwrap();
        let (exits_tx, mut exits) = mpsc::unbounded_channel();
        let probe = manager
            .add_handler_with(mode.install::<Probe>(), exits_tx)
            .await
            .unwrap();
        for n in 1..=4 {
            manager.notify(Act::Note(n)).await.unwrap();
        }

        let successor = within(manager.swap_handler(
            &probe,
            "moving",
            mode.install::<Successor>(),
            |handover| handover,
        ))
        .await
        .unwrap();
        assert_eq!(
            manager.call(&successor, Inherited).await.unwrap(),
            Some(4),
            "{mode:?}"
        );
        match exits.try_recv() {
            Ok((Terminate::Swapped { to, args }, 4)) => {
                assert_eq!(to, id_of::<Successor>());
                assert_eq!(args.downcast_ref::<&str>(), Some(&"moving"));
            }
            other => panic!("{mode:?}: expected Swapped, got {other:?}"),
        }
        assert_eq!(
            manager.which_handlers().await.unwrap(),
            vec![id_of::<Successor>()]
        );
    }
}

#[tokio::test]
async fn a_crashing_dedicated_handler_is_reported_to_its_supervisor_with_the_event() {
    for mode in MODES {
        let manager = EventManager::<Act>::start().unwrap();
        let (exits_tx, mut exits) = mpsc::unbounded_channel();
        let link = manager
            .add_sup_handler_with(mode.install::<Probe>(), exits_tx)
            .await
            .unwrap();
        let probe = link.handler().clone();
        manager.notify(Act::Note(1)).await.unwrap();
        manager.notify(Act::Crash).await.unwrap();

        let crash = match within(link).await {
            ExitReason::Crashed(crash) => crash,
            other => panic!("{mode:?}: expected a crash, got {other:?}"),
        };
        assert_eq!(crash.handler(), probe.id());
        assert_eq!(
            crash.during(),
            &During::Event {
                seq: 2,
                event: Some("Crash".into())
            },
            "{mode:?}"
        );
        assert_eq!(
            crash.cause().panic_message(),
            Some("probe crashed on purpose")
        );
        assert!(matches!(exits.try_recv(), Ok((Terminate::Crashed(_), 1))));
        // Gone: the manager and the other handlers carry on without it.
        assert!(manager.which_handlers().await.unwrap().is_empty());
        assert!(matches!(
            manager.call(&probe, Count).await,
            Err(CallError::NotInstalled(_))
        ));
        within(manager.sync_notify(Act::Note(3))).await.unwrap();
    }
}

#[tokio::test]
async fn a_dedicated_handler_that_removes_itself_exits_normally() {
    for mode in MODES {
        let manager = EventManager::<Act>::start().unwrap();
        let (exits_tx, mut exits) = mpsc::unbounded_channel();
        let link = manager
            .add_sup_handler_with(mode.install::<Probe>(), exits_tx)
            .await
            .unwrap();
        manager.notify(Act::Leave).await.unwrap();
        let reason = within(link).await;
        assert!(matches!(reason, ExitReason::Normal), "{mode:?}: {reason:?}");
        assert!(matches!(exits.try_recv(), Ok((Terminate::Removed, 0))));
        assert!(manager.which_handlers().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn stopping_the_manager_terminates_dedicated_handlers_and_tells_supervisors_shutdown() {
    for mode in MODES {
        let manager = EventManager::<Act>::start().unwrap();
        let (exits_tx, mut exits) = mpsc::unbounded_channel();
        let link = manager
            .add_sup_handler_with(mode.install::<Probe>(), exits_tx)
            .await
            .unwrap();
        manager.notify(Act::Note(1)).await.unwrap();
        within(manager.stop()).await.unwrap();
        let reason = within(link).await;
        assert!(
            matches!(reason, ExitReason::Shutdown),
            "{mode:?}: {reason:?}"
        );
        // Terminated after handling what was sent before the stop.
        assert!(
            matches!(exits.try_recv(), Ok((Terminate::Stop, 1))),
            "{mode:?}"
        );
    }
}

#[tokio::test]
async fn a_dedicated_handler_needs_a_queue_of_at_least_one() {
    let manager = EventManager::<Act>::start().unwrap();
    let (exits, _exits) = mpsc::unbounded_channel();
    let err = manager
        .add_handler_with(Install::<Probe>::new().dedicated(0), exits)
        .await
        .unwrap_err();
    match &err {
        AddError::ZeroCapacity(id) => assert_eq!(*id, id_of::<Probe>()),
        other => panic!("expected ZeroCapacity, got {other:?}"),
    }
    assert!(err.to_string().contains("capacity 0"), "{err}");
    assert!(manager.which_handlers().await.unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------------
// 8. Handler identity (seed 002)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn installing_the_same_handler_twice_is_refused_naming_the_handler() {
    let manager = EventManager::<Act>::start().unwrap();
    let (exits_tx, mut exits) = mpsc::unbounded_channel();
    let probe = manager
        .add_handler::<Probe>(exits_tx.clone())
        .await
        .unwrap();
    manager.notify(Act::Note(1)).await.unwrap();

    let err = manager
        .add_handler::<Probe>(exits_tx.clone())
        .await
        .unwrap_err();
    match &err {
        AddError::AlreadyInstalled(id) => assert_eq!(id, probe.id()),
        other => panic!("expected AlreadyInstalled, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(
        msg.starts_with("handler Probe is already installed"),
        "{msg}"
    );
    assert!(msg.contains("another key"), "{msg}");

    // The same with a key: the key is named too.
    let keyed = Install::<Probe>::new().key("x");
    manager
        .add_handler_with(keyed, exits_tx.clone())
        .await
        .unwrap();
    let err = manager
        .add_handler_with(Install::<Probe>::new().key("x"), exits_tx)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("handler Probe(\"x\") is already installed"),
        "{err}"
    );

    // The first one is untouched: never terminated, still counting.
    assert_eq!(manager.call(&probe, Count).await.unwrap(), 1);
    assert!(exits.try_recv().is_err());
}

#[tokio::test]
async fn handlers_of_one_type_with_different_keys_are_both_installed() {
    let manager = EventManager::<Act>::start().unwrap();
    let (exits, _exits) = mpsc::unbounded_channel();
    let a = manager
        .add_handler_with(Install::<Probe>::new().key("a"), exits.clone())
        .await
        .unwrap();
    let b = manager
        .add_handler_with(Install::<Probe>::new().key(2u64), exits.clone())
        .await
        .unwrap();
    let plain = manager.add_handler::<Probe>(exits).await.unwrap();
    assert_eq!(
        manager.which_handlers().await.unwrap(),
        vec![plain.id().clone(), b.id().clone(), a.id().clone()]
    );
    manager.notify(Act::Note(1)).await.unwrap();
    for probe in [&a, &b, &plain] {
        assert_eq!(manager.call(probe, Count).await.unwrap(), 1, "{probe}");
    }
}

// ---------------------------------------------------------------------------------------------
// 9. The supervising side going away
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn dropping_the_sup_link_removes_the_handler_and_terminate_is_told_supervisor_gone() {
    let manager = EventManager::<Act>::start().unwrap();
    let (exits_tx, mut exits) = mpsc::unbounded_channel();
    let link = manager.add_sup_handler::<Probe>(exits_tx).await.unwrap();
    manager.notify(Act::Note(1)).await.unwrap();
    assert_eq!(
        manager.which_handlers().await.unwrap(),
        vec![id_of::<Probe>()]
    );

    drop(link);
    let (reason, notes) = within(exits.recv()).await.unwrap();
    assert!(matches!(reason, Terminate::SupervisorGone), "{reason:?}");
    assert_eq!(notes, 1);
    assert!(manager.which_handlers().await.unwrap().is_empty());
}

#[tokio::test(flavor = "current_thread")]
async fn dropping_an_add_sup_handler_future_after_the_install_removes_the_handler() {
    let manager = EventManager::<Act>::start().unwrap();
    let (exits_tx, mut exits) = mpsc::unbounded_channel();
    let mut adding = Box::pin(manager.add_sup_handler::<Probe>(exits_tx));
    assert!(still_pending(&mut adding).await, "the install was sent");
    // Answered after the install: the manager has installed the handler and sent the link.
    assert_eq!(
        within(manager.which_handlers()).await.unwrap(),
        vec![id_of::<Probe>()]
    );

    drop(adding);
    let (reason, _) = within(exits.recv()).await.unwrap();
    assert!(matches!(reason, Terminate::SupervisorGone), "{reason:?}");
    assert!(manager.which_handlers().await.unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------------
// 10. A crashing call is answered with the crash (seed 001)
// ---------------------------------------------------------------------------------------------

/// Answers `Ask`; panics on `Poison`; fails on `Refuse`.
#[derive(Default)]
struct Oracle;
struct Ask;
struct Poison;
struct Refuse;

#[handler(event = Act)]
impl Oracle {
    fn handle_event(&mut self, _: &Act) {}

    #[call]
    fn ask(&self, _: Ask) -> u32 {
        42
    }

    #[call]
    fn poison(&self, _: Poison) -> u32 {
        panic!("poisoned request")
    }
}

/// Written by hand: it fails with an error, where a `#[call]` method's return value would be
/// its reply.
impl Call<Act, Refuse> for Oracle {
    type Reply = u32;

    fn handle_call(&mut self, _: Refuse, _: &mut Context<Act, Self>) -> Step<'_, u32> {
        Step::err("refused")
    }
}

#[tokio::test]
async fn a_call_that_crashes_the_handler_answers_its_caller_with_the_crash() {
    let manager = EventManager::<Act>::start().unwrap();
    let link = manager.add_sup_handler::<Oracle>(()).await.unwrap();
    let oracle = link.handler().clone();
    assert_eq!(manager.call(&oracle, Ask).await.unwrap(), 42);

    // The second request is queued right behind the poisoned one.
    let (poisoned, behind) =
        within(async { tokio::join!(manager.call(&oracle, Poison), manager.call(&oracle, Ask)) })
            .await;
    let crash = match poisoned {
        Err(CallError::Crashed(crash)) => crash,
        other => panic!("expected the crash, got {other:?}"),
    };
    assert_eq!(crash.handler(), oracle.id());
    assert_eq!(
        crash.during(),
        &During::Call {
            request: std::any::type_name::<Poison>()
        }
    );
    assert_eq!(crash.cause().panic_message(), Some("poisoned request"));
    match behind {
        Err(CallError::NotInstalled(id)) => assert_eq!(&id, oracle.id()),
        other => panic!("expected NotInstalled, got {other:?}"),
    }
    // The supervisor learns the same crash.
    match within(link).await {
        ExitReason::Crashed(c) => assert_eq!(c.during(), crash.during()),
        other => panic!("expected a crash, got {other:?}"),
    }
}

#[tokio::test]
async fn a_call_that_returns_an_error_answers_its_caller_with_the_error() {
    let manager = EventManager::<Act>::start().unwrap();
    let oracle = manager.add_handler::<Oracle>(()).await.unwrap();
    let crash = match within(manager.call(&oracle, Refuse)).await {
        Err(CallError::Crashed(crash)) => crash,
        other => panic!("expected the crash, got {other:?}"),
    };
    assert_eq!(crash.cause().panic_message(), None);
    assert_eq!(crash.cause().to_string(), "failed (refused)");
    assert!(matches!(
        manager.call(&oracle, Ask).await,
        Err(CallError::NotInstalled(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// 11. A crash report names the event
// ---------------------------------------------------------------------------------------------

/// Sends `notes` notes then a crash to a supervised `Probe`; the crash report's `During`.
async fn crash_after(manager: &EventManager<Act>, notes: u64) -> During {
    let (exits, _exits) = mpsc::unbounded_channel();
    let link = manager.add_sup_handler::<Probe>(exits).await.unwrap();
    for n in 1..=notes {
        manager.notify(Act::Note(n)).await.unwrap();
    }
    manager.notify(Act::Crash).await.unwrap();
    match within(link).await {
        ExitReason::Crashed(crash) => crash.during().clone(),
        other => panic!("expected a crash, got {other:?}"),
    }
}

#[tokio::test]
async fn a_crash_report_names_the_event_when_the_manager_shows_events() {
    let manager = EventManager::<Act>::start().unwrap();
    let during = crash_after(&manager, 2).await;
    assert_eq!(
        during,
        During::Event {
            seq: 3,
            event: Some("Crash".into())
        }
    );
    assert_eq!(during.to_string(), "handling event #3: Crash");
}

#[tokio::test]
async fn without_debug_events_a_crash_report_gives_only_the_event_number() {
    let manager = EventManager::<Act>::builder().start().unwrap();
    let during = crash_after(&manager, 2).await;
    assert_eq!(
        during,
        During::Event {
            seq: 3,
            event: None
        }
    );
}

#[tokio::test]
async fn event_numbers_count_from_one_in_each_manager() {
    let busy = EventManager::<Act>::start().unwrap();
    for n in 1..=5 {
        busy.notify(Act::Note(n)).await.unwrap();
    }
    within(busy.sync_notify(Act::Note(6))).await.unwrap();

    let fresh = EventManager::<Act>::start().unwrap();
    assert_eq!(
        crash_after(&fresh, 0).await,
        During::Event {
            seq: 1,
            event: Some("Crash".into())
        }
    );
    // sync_notify counts like notify.
    let (exits, _exits) = mpsc::unbounded_channel();
    let link = busy.add_sup_handler::<Probe>(exits).await.unwrap();
    let _ = within(busy.sync_notify(Act::Crash)).await;
    match within(link).await {
        ExitReason::Crashed(c) => assert_eq!(
            c.during(),
            &During::Event {
                seq: 7,
                event: Some("Crash".into())
            }
        ),
        other => panic!("expected a crash, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// 12. The manager's lifetime
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn dropping_every_handle_stops_the_manager_after_it_handles_what_was_sent() {
    let manager = EventManager::<Act>::start().unwrap();
    let other = manager.clone();
    let (exits_tx, mut exits) = mpsc::unbounded_channel();
    let link = manager.add_sup_handler::<Probe>(exits_tx).await.unwrap();
    for n in 1..=5 {
        manager.notify(Act::Note(n)).await.unwrap();
    }
    drop(manager);
    other.notify(Act::Note(6)).await.unwrap();
    drop(other);

    let reason = within(link).await;
    assert!(matches!(reason, ExitReason::Shutdown), "{reason:?}");
    let (reason, notes) = within(exits.recv()).await.unwrap();
    assert!(matches!(reason, Terminate::Stop), "{reason:?}");
    assert_eq!(notes, 6, "every event sent was handled before the stop");
}

#[tokio::test]
async fn stopped_returns_once_the_manager_has_stopped() {
    let manager = EventManager::<Act>::start().unwrap();
    let (exits_tx, mut exits) = mpsc::unbounded_channel();
    manager.add_handler::<Probe>(exits_tx).await.unwrap();
    let watcher = manager.clone();
    let mut stopped = pin!(watcher.stopped());
    assert!(still_pending(&mut stopped).await);
    assert!(!manager.is_stopped());

    manager.notify(Act::Note(1)).await.unwrap();
    within(manager.stop()).await.unwrap();
    within(stopped).await;
    assert!(watcher.is_stopped());
    assert!(matches!(exits.try_recv(), Ok((Terminate::Stop, 1))));
    // Stopping again, or waiting again, says it is over.
    assert_eq!(manager.stop().await, Err(ManagerError::ManagerGone));
    within(manager.stopped()).await;
}

#[tokio::test]
async fn notify_after_stop_gives_the_event_back_with_manager_gone() {
    let manager = EventManager::<Act>::start().unwrap();
    let (exits, _exits) = mpsc::unbounded_channel();
    let probe = manager.add_handler::<Probe>(exits.clone()).await.unwrap();
    within(manager.stop()).await.unwrap();

    let err = manager.notify(Act::Note(9)).await.unwrap_err();
    assert!(matches!(err, NotifyError::ManagerGone(_)), "{err:?}");
    assert!(matches!(err.into_inner(), Act::Note(9)));
    let err = manager.try_notify(Act::Note(10)).unwrap_err();
    assert!(matches!(err.into_inner(), Act::Note(10)));
    assert_eq!(
        manager.sync_notify(Act::Note(11)).await,
        Err(ManagerError::ManagerGone)
    );
    assert!(matches!(
        manager.call(&probe, Count).await,
        Err(CallError::ManagerGone)
    ));
    assert!(matches!(
        manager.add_handler::<Probe>(exits).await,
        Err(AddError::ManagerGone)
    ));
}

#[tokio::test]
async fn a_bounded_manager_refuses_events_after_stop_too() {
    let manager = EventManager::<Num>::builder().bounded(2).start().unwrap();
    within(manager.stop()).await.unwrap();
    assert!(matches!(
        manager.try_notify(Num(1)),
        Err(NotifyError::ManagerGone(Num(1)))
    ));
    assert!(matches!(
        within(manager.notify(Num(2))).await,
        Err(NotifyError::ManagerGone(Num(2)))
    ));
}

mod send_request {
    use event_core::{handler, CallError, EventManager};

    #[derive(Debug)]
    enum Ev {}

    /// Keeps the requests it answers, in the order it saw them.
    struct Ledger {
        seen: Vec<u32>,
    }

    struct Append(u32);

    #[handler(event = Ev)]
    impl Ledger {
        fn init() -> Self {
            Ledger { seen: Vec::new() }
        }
        fn handle_event(&mut self, _: &Ev) {}
        #[call]
        fn append(&mut self, Append(n): Append) -> Vec<u32> {
            self.seen.push(n);
            self.seen.clone()
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_sent_one_after_the_other_are_handled_in_that_order() {
        let manager = EventManager::<Ev>::start().unwrap();
        let ledger = manager.add_handler::<Ledger>(()).await.unwrap();
        let pending: Vec<_> = (0..100)
            .map(|n| manager.send_request(&ledger, Append(n)).unwrap())
            .collect();
        // Awaited from other tasks, last first: the order is the sending order all the same.
        let mut joins: Vec<_> = pending.into_iter().map(tokio::spawn).collect();
        joins.reverse();
        let mut last = None;
        for join in joins {
            let seen = join.await.unwrap().unwrap();
            last.get_or_insert(seen);
        }
        assert_eq!(last.unwrap(), (0..100).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn a_request_to_a_stopped_manager_or_a_missing_handler_fails_clearly() {
        let manager = EventManager::<Ev>::start().unwrap();
        let ledger = manager.add_handler::<Ledger>(()).await.unwrap();
        let pending = manager.send_request(&ledger, Append(1)).unwrap();
        manager.delete_handler(&ledger, ()).await.unwrap();
        assert_eq!(
            pending.await.unwrap(),
            [1],
            "sent before the delete: answered"
        );
        let gone = manager.send_request(&ledger, Append(2)).unwrap();
        assert!(matches!(gone.await, Err(CallError::NotInstalled(_))));
        manager.stop().await.unwrap();
        assert!(matches!(
            manager.send_request(&ledger, Append(3)),
            Err(CallError::ManagerGone)
        ));
    }
}
