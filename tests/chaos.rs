//! A soak on a multi-thread runtime: two supervision trees, each with a supervised manager
//! whose handlers run inline, dedicated (one of them dropping events when it falls behind) and
//! restarted in place, publishers on several tasks, a caller, and panics injected in every
//! callback (init, handle_event, handle_call, handle_info, terminate) and in plain task
//! children, whose supervisor escalates when they fail too often. It stops by itself (3 s or
//! 20 000 events per publisher, whichever comes first; `EVENT_CORE_CHAOS_SECS` runs longer,
//! with proportionally more events) and then checks:
//!
//! - `terminate` ran exactly once for every handler that was ever installed;
//! - each handler saw a contiguous run of each publisher's events, in order; the standing
//!   handlers (one plain, one restarted in place), across all their incarnations, saw every
//!   accepted event exactly once: nothing accepted was dropped;
//! - a slow dedicated handler whose overload policy drops its oldest queued event handled
//!   each accepted event once or counted it as dropped: nothing was dropped unasked;
//! - every event a handler crashed on is in a crash report naming that handler;
//! - a call only fails with a crash when it was poisoned;
//! - the task supervisors restart and escalate exactly as a model of their intensity says;
//! - no task is left once the trees are stopped, and every operation finished within 10 s.
//!
//! Which callbacks fail comes from a seed (`EVENT_CORE_CHAOS_SEED`, else the clock), printed
//! with every failure; the interleaving of the tasks is the runtime's.

use std::collections::BTreeMap;
use std::fmt;
use std::future::IntoFuture;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use event_core::{
    Backoff, Call, CallError, ChildSpec, Context, EventManager, Guard, Handler, HandlerRef, Info,
    Install, Intensity, Overload, OverloadStats, Restart, Step, Strategy, Supervisor, Terminate,
};
use tokio::sync::{oneshot, watch};

const TREES: usize = 2;
const PUBLISHERS: usize = 3;
/// Events per publisher, per 3 s of soak.
const MAX_EVENTS: u64 = 20_000;
const FRAIL: usize = 2;
/// The fragile supervisor's intensity: this many restarts (in an hour) are allowed.
const FRAGILE_RESTARTS: u32 = 2;
/// How long any one operation may take before it counts as a deadlock.
const BOUND: Duration = Duration::from_secs(10);

// =============================================================================================
// The seed and the injected faults
// =============================================================================================

fn seed() -> u64 {
    static SEED: OnceLock<u64> = OnceLock::new();
    *SEED.get_or_init(|| {
        std::env::var("EVENT_CORE_CHAOS_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(1)
            })
    })
}

fn mix(mut x: u64) -> u64 {
    // splitmix64
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Whether the fault numbered by `parts` happens, with probability `per_mille`/1000.
fn fault(parts: &[u64], per_mille: u64) -> bool {
    let h = parts.iter().fold(seed(), |h, p| mix(h ^ mix(*p)));
    h % 1000 < per_mille
}

fn name_hash(name: &str) -> u64 {
    name.bytes().fold(7, |h, b| mix(h ^ b as u64))
}

/// Fails the test, naming the seed that reproduces its faults.
#[track_caller]
fn fail(what: String) -> ! {
    if let Some(out) = TRACE.get() {
        let _ = std::fs::write("/tmp/chaos-trace.log", &*out.0.lock().unwrap());
    }
    panic!(
        "{what}\n(chaos seed {}: EVENT_CORE_CHAOS_SEED={} reproduces the faults)",
        seed(),
        seed()
    )
}

/// Awaits a task that works until `until`: it must end within the bound after that.
async fn ends<T>(what: &str, until: tokio::time::Instant, task: tokio::task::JoinHandle<T>) -> T {
    match tokio::time::timeout_at(until + BOUND, task).await {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => std::panic::resume_unwind(e.into_panic()),
        Err(_) => fail(format!(
            "deadlock: {what} did not end within {BOUND:?} of the soak's end"
        )),
    }
}

async fn bounded<F: IntoFuture>(what: &str, f: F) -> F::Output {
    match tokio::time::timeout(BOUND, f).await {
        Ok(out) => out,
        Err(_) => fail(format!("deadlock: {what} took more than {BOUND:?}")),
    }
}

// =============================================================================================
// Events and what the handlers record
// =============================================================================================

struct Tagged {
    manager: usize,
    from: usize,
    n: u64,
}

impl fmt::Debug for Tagged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tagged(m{} p{} #{})", self.manager, self.from, self.n)
    }
}

/// One incarnation of a handler: from a successful `init` to its `terminate`.
#[derive(Default)]
struct Incarnation {
    handler: String,
    manager: usize,
    /// The events seen, per publisher, the one it crashed on included.
    seen: Vec<Vec<u64>>,
    crashed_on: Option<(usize, u64)>,
    terminated: u32,
}

#[derive(Default)]
struct Registry {
    incarnations: Mutex<Vec<Arc<Mutex<Incarnation>>>>,
    /// Inits tried per handler name and manager.
    inits: Mutex<BTreeMap<String, u64>>,
}

impl Registry {
    fn incarnate(&self, handler: &str, manager: usize) -> Arc<Mutex<Incarnation>> {
        let inc = Arc::new(Mutex::new(Incarnation {
            handler: handler.to_string(),
            manager,
            seen: vec![Vec::new(); PUBLISHERS],
            ..Incarnation::default()
        }));
        self.incarnations.lock().unwrap().push(inc.clone());
        inc
    }

    /// Counts an init; how many were tried before it.
    fn try_init(&self, handler: &str) -> u64 {
        let mut inits = self.inits.lock().unwrap();
        let n = inits.entry(handler.to_string()).or_default();
        *n += 1;
        *n - 1
    }
}

/// How a handler may fail.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Faults {
    /// Only in `terminate` (after recording it).
    TerminateOnly,
    /// In every callback; `init` only once an incarnation of it has run (so the tree starts).
    Everywhere,
    /// Only in `terminate`, and slow: it yields a few times on each event, so that it falls
    /// behind and its overload policy drops events.
    Slow,
}

#[derive(Clone)]
struct WorkerArgs {
    name: &'static str,
    manager: usize,
    faults: Faults,
    registry: Arc<Registry>,
}

/// The handler of the soak: records what it sees, fails where the seed says.
struct Worker {
    name: &'static str,
    salt: u64,
    manager: usize,
    faults: Faults,
    inc: Arc<Mutex<Incarnation>>,
    handled: u64,
}

/// A call; `poison` makes the handler fail answering it.
struct Ping {
    poison: bool,
}

fn boom(what: String, as_error: bool) -> Result<(), event_core::BoxError> {
    match as_error {
        true => Err(what.into()),
        false => panic!("{what}"),
    }
}

impl Worker {
    fn faulty(&self) -> bool {
        self.faults == Faults::Everywhere
    }
}

impl Handler<Tagged> for Worker {
    type Args = WorkerArgs;
    type Info = u64;
    type Handover = ();

    fn init(a: WorkerArgs, _: &mut Context<Tagged, Self>) -> Step<'static, Self> {
        let salt = name_hash(a.name) ^ (a.manager as u64) << 48;
        let tries = a.registry.try_init(&format!("{}@{}", a.name, a.manager));
        if a.faults == Faults::Everywhere && tries > 0 && fault(&[salt, 1, tries], 100) {
            return Step::err(format!("chaos: {} init fails", a.name));
        }
        let inc = a
            .registry
            .incarnate(&format!("{}@{}", a.name, a.manager), a.manager);
        Step::ok(Worker {
            name: a.name,
            salt,
            manager: a.manager,
            faults: a.faults,
            inc,
            handled: 0,
        })
    }

    fn handle_event<'a>(
        &'a mut self,
        e: &'a Tagged,
        cx: &'a mut Context<Tagged, Self>,
    ) -> Step<'a> {
        assert_eq!(e.manager, self.manager, "an event of another manager");
        self.inc.lock().unwrap().seen[e.from].push(e.n);
        self.handled += 1;
        if self.handled.is_multiple_of(97) {
            cx.send_after(Duration::from_millis(self.handled % 3), self.handled);
        }
        let crash = self.faulty() && fault(&[self.salt, 2, e.from as u64, e.n], 4);
        if crash {
            self.inc.lock().unwrap().crashed_on = Some((e.from, e.n));
        }
        let asynchronous = e.n.is_multiple_of(5) || self.faults == Faults::Slow;
        let what = format!("chaos: {} crashes on {e:?}", self.name);
        match (crash, asynchronous) {
            (false, false) => Step::ok(()),
            (true, false) => boom(what, e.n.is_multiple_of(2)).into(),
            (crash, true) => Step::from_async(async move {
                for _ in 0..3 {
                    tokio::task::yield_now().await;
                }
                match crash {
                    true => boom(what, e.n.is_multiple_of(2)),
                    false => Ok(()),
                }
            }),
        }
    }

    fn handle_info(&mut self, info: Info<u64>, _: &mut Context<Tagged, Self>) -> Step<'_> {
        match info {
            Info::Message(n) if self.faulty() && fault(&[self.salt, 3, n], 50) => boom(
                format!("chaos: {} crashes on info {n}", self.name),
                n.is_multiple_of(2),
            )
            .into(),
            _ => Step::ok(()),
        }
    }

    fn terminate(self, _: Terminate) -> Step<'static, ()> {
        let mut inc = self.inc.lock().unwrap();
        inc.terminated += 1;
        let n = inc.seen.iter().map(Vec::len).sum::<usize>() as u64;
        drop(inc);
        if fault(&[self.salt, 4, n], 100) {
            return boom(
                format!("chaos: {} crashes in terminate", self.name),
                n.is_multiple_of(2),
            )
            .into();
        }
        Step::ok(())
    }
}

impl Call<Tagged, Ping> for Worker {
    type Reply = u64;

    fn handle_call(&mut self, ping: Ping, _: &mut Context<Tagged, Self>) -> Step<'_, u64> {
        if ping.poison && self.faulty() {
            return boom(format!("chaos: {} crashes on a call", self.name), true)
                .map(|()| 0)
                .into();
        }
        Step::ok(self.handled)
    }
}

// =============================================================================================
// Plain task children that panic on command, under a supervisor that escalates
// =============================================================================================

/// What a tree's fragile supervisor has started: the marker (once per incarnation of the
/// supervisor) and each frail task.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Starts {
    marker: u32,
    frail: [u32; FRAIL],
}

#[derive(Clone)]
struct Fragile {
    starts: Arc<watch::Sender<Starts>>,
    /// How to make each running frail task panic.
    triggers: Arc<Mutex<[Option<oneshot::Sender<()>>; FRAIL]>>,
}

impl Fragile {
    fn new() -> Self {
        Fragile {
            starts: Arc::new(watch::channel(Starts::default()).0),
            triggers: Arc::new(Mutex::new([const { None }; FRAIL])),
        }
    }

    fn supervisor(&self, tree: usize) -> ChildSpec {
        let marker = {
            let starts = self.starts.clone();
            ChildSpec::task("marker", move |stop| {
                starts.send_modify(|s| s.marker += 1);
                async move {
                    stop.stopped().await;
                    Ok(())
                }
            })
        };
        let mut builder = Supervisor::builder()
            .name(format!("fragile-{tree}"))
            .strategy(Strategy::OneForOne)
            .intensity(Intensity::new(FRAGILE_RESTARTS, Duration::from_secs(3600)))
            .child(marker);
        for i in 0..FRAIL {
            let fragile = self.clone();
            builder = builder.child(ChildSpec::task(format!("frail-{i}"), move |stop| {
                let (tx, rx) = oneshot::channel();
                fragile.triggers.lock().unwrap()[i] = Some(tx);
                fragile.starts.send_modify(|s| s.frail[i] += 1);
                async move {
                    tokio::select! {
                        _ = stop.stopped() => Ok(()),
                        Ok(()) = rx => panic!("chaos: frail task {i} told to panic"),
                    }
                }
            }));
        }
        builder
            .supervised(format!("fragile-{tree}"))
            .expect("a valid fragile supervisor")
            .1
    }

    /// Makes frail task `i` panic, and checks that the supervisor restarts it, or escalates,
    /// as the model says.
    async fn strike(&self, i: usize, model: &mut Starts, restarts: &mut u32) {
        let trigger = self.triggers.lock().unwrap()[i].take();
        let Some(trigger) = trigger else {
            fail(format!("frail task {i} is not running"));
        };
        let _ = trigger.send(());
        *restarts += 1;
        if *restarts > FRAGILE_RESTARTS {
            // One restart too many: the supervisor stops its children and fails, and its own
            // supervisor starts it again, with every child.
            *restarts = 0;
            model.marker += 1;
            model.frail.iter_mut().for_each(|n| *n += 1);
        } else {
            model.frail[i] += 1;
        }
        let mut rx = self.starts.subscribe();
        let expected = model.clone();
        let reached = |s: &Starts| {
            s.marker >= expected.marker && s.frail.iter().zip(expected.frail).all(|(a, b)| *a >= b)
        };
        let seen = bounded("a fragile supervisor's restart", rx.wait_for(reached))
            .await
            .map(|s| s.clone())
            .unwrap_or_else(|_| fail("the fragile supervisor's counts are gone".into()));
        if seen != expected {
            fail(format!("after striking frail task {i} the supervisor started {seen:?}, the model says {expected:?}"));
        }
    }
}

// =============================================================================================
// The trees
// =============================================================================================

const HANDLERS: [&str; 4] = ["survivor", "inplace", "guarded", "dedicated"];

struct Tree {
    top: Supervisor,
    events: EventManager<Tagged>,
    fragile: Fragile,
    /// What the lossy handler's policy dropped.
    lossy: OverloadStats,
}

async fn tree(t: usize, registry: &Arc<Registry>) -> Tree {
    // Dedicated, dropping its oldest queued event when it falls behind.
    let lossy = Install::<Worker>::new()
        .key("lossy")
        .dedicated(8)
        .overload(Overload::DropOldest);
    let args = |name, faults| WorkerArgs {
        name,
        manager: t,
        faults,
        registry: registry.clone(),
    };
    let (events, manager) = EventManager::<Tagged>::builder()
        .name(format!("events-{t}"))
        .bounded(256)
        .debug_events()
        .supervised(format!("events-{t}"))
        .handler(
            Install::<Worker>::new().key("survivor"),
            args("survivor", Faults::TerminateOnly),
        )
        .handler(lossy.clone(), args("lossy", Faults::Slow))
        .handler_in_place(
            Install::<Worker>::new().key("inplace"),
            args("inplace", Faults::Everywhere),
            Intensity::new(100_000, Duration::from_secs(60)),
        )
        .build()
        .unwrap();
    let backoff = Backoff::new(Duration::from_millis(1), Duration::from_millis(5), 20);
    let guarded = Guard::new(
        &events,
        Install::<Worker>::new().key("guarded"),
        args("guarded", Faults::Everywhere),
    )
    .backoff(backoff)
    .child("guarded");
    let dedicated = Guard::new(
        &events,
        Install::<Worker>::new().key("dedicated").dedicated(16),
        args("dedicated", Faults::Everywhere),
    )
    .backoff(backoff)
    .child("dedicated");
    let fragile = Fragile::new();
    // Tree 0 restarts only what failed; in tree 1 an escalation of the fragile supervisor
    // restarts everything after it: the manager (whose mailbox keeps what is sent meanwhile)
    // and the guards.
    let strategy = match t {
        0 => Strategy::OneForOne,
        _ => Strategy::RestForOne,
    };
    let top = Supervisor::builder()
        .name(format!("top-{t}"))
        .strategy(strategy)
        .intensity(Intensity::new(100_000, Duration::from_secs(60)))
        .child(fragile.supervisor(t).restart(Restart::Permanent))
        .child(manager)
        .child(guarded)
        .child(dedicated)
        .start()
        .await
        .unwrap_or_else(|e| fail(format!("tree {t} does not start: {e}")));
    Tree {
        top,
        events,
        fragile,
        lossy: lossy.overload_stats(),
    }
}

// =============================================================================================
// What tracing reports, kept
// =============================================================================================

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

static TRACE: OnceLock<Captured> = OnceLock::new();

impl io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn quiet_chaos_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let text = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if !text.starts_with("chaos: ") {
            default(info);
        }
    }));
}

// =============================================================================================
// The soak
// =============================================================================================

#[test]
fn chaos_soak_keeps_every_guarantee() {
    quiet_chaos_panics();
    let out = TRACE.get_or_init(Captured::default).clone();
    let writer = out.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();
    let secs = std::env::var("EVENT_CORE_CHAOS_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    eprintln!("chaos seed {} for {secs} s", seed());

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let registry = Arc::new(Registry::default());
    let (accepted, dropped) = runtime.block_on(soak(Duration::from_secs(secs), registry.clone()));
    let metrics = runtime.metrics();
    // No signal says "every task has ended": look, within a bound.
    let deadline = Instant::now() + BOUND;
    while metrics.num_alive_tasks() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    if metrics.num_alive_tasks() > 0 {
        fail(format!(
            "{} tasks are left after every tree stopped",
            metrics.num_alive_tasks()
        ));
    }
    drop(runtime);
    let log = String::from_utf8_lossy(&out.0.lock().unwrap()).into_owned();
    check(&registry, &accepted, &dropped, &log);
}

/// Accepted events per manager and publisher.
type Accepted = Vec<Vec<Vec<u64>>>;

/// The accepted events, and what each manager's lossy handler's policy dropped.
async fn soak(length: Duration, registry: Arc<Registry>) -> (Accepted, Vec<u64>) {
    let max_events = MAX_EVENTS * length.as_secs().max(3) / 3;
    let mut trees = Vec::new();
    for t in 0..TREES {
        trees.push(tree(t, &registry).await);
    }
    let until = tokio::time::Instant::now() + length;
    let calls = Arc::new(AtomicU64::new(0));

    let mut publishers = Vec::new();
    for (t, tree) in trees.iter().enumerate() {
        for from in 0..PUBLISHERS {
            let events = tree.events.clone();
            publishers.push(tokio::spawn(async move {
                let mut accepted = Vec::new();
                for n in 0..max_events {
                    if tokio::time::Instant::now() >= until {
                        break;
                    }
                    let event = Tagged {
                        manager: t,
                        from,
                        n,
                    };
                    match bounded("a notify", events.notify(event)).await {
                        Ok(()) => accepted.push(n),
                        Err(e) => fail(format!("publisher {from} of manager {t}: {e}")),
                    }
                    if n.is_multiple_of(64) {
                        tokio::task::yield_now().await;
                    }
                }
                (t, from, accepted)
            }));
        }
    }

    let mut callers = Vec::new();
    for (t, tree) in trees.iter().enumerate() {
        let events = tree.events.clone();
        let calls = calls.clone();
        callers.push(tokio::spawn(async move {
            let mut k = 0u64;
            while tokio::time::Instant::now() < until {
                k += 1;
                let name = HANDLERS[(k % 4) as usize];
                let poison = name != "survivor" && fault(&[t as u64, 5, k], 50);
                let target = HandlerRef::<Worker>::with_key(name);
                let result = bounded("a call", events.call(&target, Ping { poison })).await;
                calls.fetch_add(1, Ordering::Relaxed);
                match (poison, result) {
                    (_, Err(CallError::NotInstalled(_))) => {}
                    (true, Err(CallError::Crashed(c))) => {
                        let text = c.to_string();
                        assert!(text.contains(name), "{text}");
                    }
                    (false, Ok(_)) => {}
                    (poison, other) => fail(format!(
                        "a call to {name} of manager {t} (poisoned: {poison}) gave {other:?}"
                    )),
                }
                tokio::time::sleep(Duration::from_micros(200)).await;
            }
        }));
    }

    let mut strikers = Vec::new();
    for (t, tree) in trees.iter().enumerate() {
        let fragile = tree.fragile.clone();
        strikers.push(tokio::spawn(async move {
            let mut model = Starts {
                marker: 1,
                frail: [1; FRAIL],
            };
            let mut restarts = 0;
            let mut k = 0u64;
            while tokio::time::Instant::now() < until {
                k += 1;
                let i = (mix(seed() ^ mix(t as u64) ^ k) % FRAIL as u64) as usize;
                fragile.strike(i, &mut model, &mut restarts).await;
                tokio::time::sleep(Duration::from_millis(20 + mix(k) % 40)).await;
            }
            model
        }));
    }

    let mut accepted: Accepted = vec![vec![Vec::new(); PUBLISHERS]; TREES];
    for p in publishers {
        let (t, from, list) = ends("a publisher", until, p).await;
        accepted[t][from] = list;
    }
    for c in callers {
        ends("a caller", until, c).await;
    }
    for s in strikers {
        let model = ends("a striker", until, s).await;
        assert!(
            model.marker > 1,
            "the fragile supervisor never escalated: {model:?}"
        );
    }
    assert!(calls.load(Ordering::Relaxed) > 0);
    let mut dropped = Vec::new();
    for tree in trees {
        bounded("a tree's stop", tree.top.stop()).await.unwrap();
        assert!(tree.events.is_stopped());
        dropped.push(tree.lossy.dropped());
    }
    (accepted, dropped)
}

fn check(registry: &Registry, accepted: &Accepted, dropped: &[u64], log: &str) {
    let incarnations = registry.incarnations.lock().unwrap();
    let crash_reports: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("event handler crashed"))
        .collect();
    let mut standing: BTreeMap<(String, usize), Vec<Vec<u64>>> = BTreeMap::new();
    let mut lossy_seen = vec![Vec::new(); TREES];
    for inc in incarnations.iter() {
        let inc = inc.lock().unwrap();
        let who = format!("{} of manager {}", inc.handler, inc.manager);
        if inc.terminated != 1 {
            fail(format!("{who} was terminated {} times", inc.terminated));
        }
        if inc.handler.starts_with("lossy") {
            // Its policy drops events: what it saw is in order, each event once.
            for (from, seen) in inc.seen.iter().enumerate() {
                if !seen.windows(2).all(|w| w[0] < w[1]) {
                    fail(format!("{who} saw publisher {from}'s events out of order"));
                }
                lossy_seen[inc.manager].extend(seen.iter().map(|n| (from, *n)));
            }
            continue;
        }
        for (from, seen) in inc.seen.iter().enumerate() {
            let all = &accepted[inc.manager][from];
            if let Some(first) = seen.first() {
                let start = all.binary_search(first).unwrap_or_else(|_| {
                    fail(format!(
                        "{who} saw event {first} of publisher {from}, never accepted"
                    ))
                });
                if all[start..].get(..seen.len()) != Some(&seen[..]) {
                    fail(format!(
                        "{who} did not see a contiguous run of publisher {from}'s events: {:?}",
                        &seen[..seen.len().min(50)]
                    ));
                }
            }
        }
        if let Some((from, n)) = inc.crashed_on {
            let event = format!("Tagged(m{} p{from} #{n})", inc.manager);
            let name = inc.handler.split('@').next().unwrap_or_default();
            let reported = crash_reports.iter().any(|l| {
                l.contains(&format!("handler=Worker(\"{name}\")"))
                    && l.contains(&format!("manager=\"events-{}\"", inc.manager))
                    && l.contains(&event)
            });
            if !reported {
                fail(format!(
                    "{who} crashed on {event}, and no crash report says so"
                ));
            }
        }
        if inc.handler.starts_with("survivor") || inc.handler.starts_with("inplace") {
            let all = standing
                .entry((inc.handler.clone(), inc.manager))
                .or_insert_with(|| vec![Vec::new(); PUBLISHERS]);
            for (from, seen) in inc.seen.iter().enumerate() {
                all[from].extend_from_slice(seen);
            }
        }
    }
    for ((handler, manager), seen) in standing {
        for (from, mut seen) in seen.into_iter().enumerate() {
            seen.sort_unstable();
            if seen != accepted[manager][from] {
                fail(format!(
                    "{handler} of manager {manager}, over its incarnations, saw {} events of \
                     publisher {from}, which had {} accepted",
                    seen.len(),
                    accepted[manager][from].len()
                ));
            }
        }
    }
    for (manager, mut seen) in lossy_seen.into_iter().enumerate() {
        let handled = seen.len() as u64;
        seen.sort_unstable();
        seen.dedup();
        let all: u64 = accepted[manager].iter().map(|a| a.len() as u64).sum();
        if seen.len() as u64 != handled || handled + dropped[manager] != all {
            fail(format!(
                "the lossy handler of manager {manager} handled {handled} events ({} distinct) \
                 and its policy dropped {}, of {all} accepted: every event is handled once or \
                 counted as dropped",
                seen.len(),
                dropped[manager]
            ));
        }
        eprintln!(
            "chaos: the lossy handler of manager {manager} dropped {} of {all}",
            dropped[manager]
        );
    }
    let total: usize = accepted.iter().flatten().map(Vec::len).sum();
    eprintln!(
        "chaos: {total} events, {} handler incarnations, {} crash reports",
        incarnations.len(),
        log.lines()
            .filter(|l| l.contains("event handler crashed"))
            .count()
    );
}
