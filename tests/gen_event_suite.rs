//! OTP's `gen_event_SUITE`, ported: every behaviour of that suite that applies to event-core,
//! one test each, named for what it pins.
//!
//! Where event-core deliberately differs from OTP (DESIGN.md 3-5: duplicates are refused, a
//! crash report names the event, a crashing call answers its caller), the test pins
//! event-core's behaviour and says so. What does not apply to Rust is left out: a missing
//! `init`, `terminate` or `handle_call` is a compile error, not a runtime one.
//!
//! The handlers below are shared by the tests: a [`Probe`] notes everything it sees in a shared
//! [`Log`] and does what it is told from any callback; an [`Heir`] is what a probe is swapped
//! for; [`BadInit`], [`BadTerminate`] and [`Vault`] fail where their names say.

use std::any::type_name;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

#[path = "support/capture.rs"]
mod capture;
use capture::capture;

use event_core::{
    handler, AddError, Args, BoxError, Call, CallError, Cause, Context, DeleteError, During,
    EventManager, ExitReason, Handler, HandlerId, HandlerRef, Info, InfoGone, InfoSender, Install,
    ManagerError, NotifyError, StartError, Step, SupLink, SwapError, Terminate,
};
use tokio::sync::{oneshot, watch};
use tokio::time::timeout;

/// How long a test waits for something asynchronous before it fails instead of hanging.
const PATIENCE: Duration = Duration::from_secs(10);

// ------------------------------------------------------------------------------------------
// Events, commands and the shared log
// ------------------------------------------------------------------------------------------

/// The suite's events.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Ev {
    /// Every handler notes it.
    Note(&'static str),
    /// Every handler notes it; the handler of that name also does what it says.
    Tell(&'static str, Act),
}

impl fmt::Display for Ev {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ev::Note(what) => f.write_str(what),
            Ev::Tell(who, act) => write!(f, "{who}:{act}"),
        }
    }
}

/// What a probe is told to do, by an event, a call or an info message.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Act {
    /// Nothing but being noted.
    Note(&'static str),
    Panic,
    Fail,
    /// `Context::remove_self`.
    Remove,
    /// `Context::swap_self` for the [`Heir`] keyed by the probe's name.
    Swap,
    /// `Context::swap_self` for a [`BadInit`], whose init fails.
    SwapToBroken,
}

impl fmt::Display for Act {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Act::Note(what) => f.write_str(what),
            other => fmt::Debug::fmt(other, f),
        }
    }
}

/// What the handlers did, in order, as lines like `a got x` or `a terminate stop`; tests can
/// wait for a line to appear.
#[derive(Clone)]
struct Log(Arc<watch::Sender<Vec<String>>>);

impl Log {
    fn new() -> Self {
        Log(Arc::new(watch::Sender::new(Vec::new())))
    }

    fn push(&self, line: String) {
        self.0.send_modify(|lines| lines.push(line));
    }

    fn lines(&self) -> Vec<String> {
        self.0.borrow().clone()
    }

    /// The lines after the first `skip` (usually the handlers' `init` lines).
    fn after(&self, skip: usize) -> Vec<String> {
        self.lines().split_off(skip)
    }

    /// The lines of the handler named `who`.
    fn of(&self, who: &str) -> Vec<String> {
        let prefix = format!("{who} ");
        self.lines()
            .into_iter()
            .filter(|l| l.starts_with(&prefix))
            .collect()
    }

    fn last_of(&self, who: &str) -> String {
        self.of(who).pop().unwrap_or_default()
    }

    async fn wait_for(&self, line: &str) {
        let mut rx = self.0.subscribe();
        let seen = matches!(
            timeout(PATIENCE, rx.wait_for(|ls| ls.iter().any(|l| l == line))).await,
            Ok(Ok(_))
        );
        assert!(seen, "{line:?} never came; the log: {:?}", self.lines());
    }
}

/// What a leaving handler notes about its `Terminate`.
fn describe(reason: &Terminate) -> String {
    match reason {
        Terminate::Deleted(args) => format!("deleted {}", show(args)),
        Terminate::Removed => "removed".to_string(),
        Terminate::Crashed(crash) => format!("crashed: {}", crash.cause()),
        Terminate::Swapped { to, args } => format!("swapped to {to} with {}", show(args)),
        Terminate::SupervisorGone => "supervisor gone".to_string(),
        Terminate::Stop => "stop".to_string(),
        other => format!("{other}"),
    }
}

fn show(args: &Args) -> String {
    if args.is_empty() {
        "()".to_string()
    } else if let Some(s) = args.downcast_ref::<&str>() {
        format!("{s:?}")
    } else {
        "..".to_string()
    }
}

// ------------------------------------------------------------------------------------------
// Handlers
// ------------------------------------------------------------------------------------------

/// The suite's workhorse: notes its init, every event, call, info and its terminate, and does
/// what it is told. Its hand-over is the number of events it saw.
struct Probe {
    name: &'static str,
    log: Log,
    seen: u32,
}

impl Probe {
    /// Does `act`, from whichever callback was told to.
    fn obey(&self, act: Act, cx: &mut Context<Ev, Self>) -> Result<(), BoxError> {
        match act {
            Act::Note(_) => {}
            Act::Panic => panic!("{} was told to panic", self.name),
            Act::Fail => return Err(format!("{} was told to fail", self.name).into()),
            Act::Remove => cx.remove_self(),
            Act::Swap => cx.swap_self(
                heir_ref(self.name),
                "handing over",
                heir(self.name, &self.log),
            ),
            Act::SwapToBroken => {
                cx.swap_self(HandlerRef::<BadInit>::new(), "handing over", |_| How::Fail)
            }
        }
        Ok(())
    }
}

#[handler(event = Ev)]
impl Probe {
    fn init((name, log): (&'static str, Log)) -> Self {
        log.push(format!("{name} init"));
        Probe { name, log, seen: 0 }
    }

    fn handle_event(&mut self, event: &Ev, cx: &mut Context<Ev, Self>) -> Result<(), BoxError> {
        self.seen += 1;
        self.log.push(format!("{} got {event}", self.name));
        match *event {
            Ev::Tell(who, act) if who == self.name => self.obey(act, cx),
            _ => Ok(()),
        }
    }

    fn handle_info(&mut self, info: Info<Act>, cx: &mut Context<Ev, Self>) -> Result<(), BoxError> {
        let Info::Message(act) = info else {
            return Ok(());
        };
        self.log.push(format!("{} info {act}", self.name));
        self.obey(act, cx)
    }

    /// The number of events it saw.
    #[call]
    fn seen(&self, _: Seen) -> u32 {
        self.seen
    }

    #[call]
    fn sender(&self, _: GetSender, cx: &mut Context<Ev, Self>) -> InfoSender<Act> {
        cx.info_sender()
    }

    #[call]
    fn later(&self, Later(delay, act): Later, cx: &mut Context<Ev, Self>) -> () {
        cx.send_after(delay, act);
    }

    fn terminate(self, reason: Terminate) -> u32 {
        self.log
            .push(format!("{} terminate {}", self.name, describe(&reason)));
        self.seen
    }

    fn format_status(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Probe {{ name: {:?}, seen: {} }}", self.name, self.seen)
    }
}

/// The number of events a probe saw.
struct Seen;

/// A sender to the handler's own `handle_info`.
struct GetSender;

/// Sets a timer that delivers the act to the probe's `handle_info`.
struct Later(Duration, Act);

/// Tells a probe to do something from `handle_call`; it replies `<name> did <act>`.
struct Do(Act);

// `Do` and `Await` are answered by hand-written `Call` impls: told `Act::Fail`, they fail with
// an error, which a `#[call]` method cannot (its return value is the reply).
impl Call<Ev, Do> for Probe {
    type Reply = String;

    fn handle_call(&mut self, Do(act): Do, cx: &mut Context<Ev, Self>) -> Step<'_, String> {
        self.log.push(format!("{} call {act}", self.name));
        let name = self.name;
        self.obey(act, cx)
            .map(|()| format!("{name} did {act}"))
            .into()
    }
}

/// Like [`Do`], but `handle_call` is async: it notes `<name> call awaiting`, waits for the act
/// to arrive, then does it.
struct Await(oneshot::Receiver<Act>);

impl Call<Ev, Await> for Probe {
    type Reply = String;

    fn handle_call<'a>(
        &'a mut self,
        Await(act): Await,
        cx: &'a mut Context<Ev, Self>,
    ) -> Step<'a, String> {
        self.log.push(format!("{} call awaiting", self.name));
        Step::from_async(async move {
            let act = act.await?;
            self.log.push(format!("{} call {act}", self.name));
            self.obey(act, cx)?;
            Ok(format!("{} did {act}", self.name))
        })
    }
}

/// What a probe named `a` is swapped for: the handler `Heir("a")`, which notes as `a'`. It
/// notes what it was handed over, panics when told to and has neither `handle_info` nor
/// `format_status` of its own.
struct Heir {
    name: String,
    log: Log,
}

struct HeirArgs {
    name: String,
    log: Log,
    handover: Option<u32>,
}

fn heir_ref(of: &str) -> HandlerRef<Heir> {
    HandlerRef::with_key(of)
}

/// The heir's init args, from the hand-over of the handler it replaces.
fn heir(of: &str, log: &Log) -> impl FnOnce(Option<u32>) -> HeirArgs + Send + 'static {
    let (name, log) = (format!("{of}'"), log.clone());
    move |handover| HeirArgs {
        name,
        log,
        handover,
    }
}

#[handler(event = Ev)]
impl Heir {
    fn init(args: HeirArgs) -> Self {
        let HeirArgs {
            name,
            log,
            handover,
        } = args;
        log.push(format!("{name} init from {handover:?}"));
        Heir { name, log }
    }

    fn handle_event(&mut self, event: &Ev) {
        self.log.push(format!("{} got {event}", self.name));
        match *event {
            Ev::Tell(who, Act::Panic) if who == self.name => {
                panic!("{} was told to panic", self.name)
            }
            _ => {}
        }
    }

    /// A sender to its `handle_info`, which it leaves to the default: messages are ignored.
    #[call]
    fn sender(&self, _: GetSender, cx: &mut Context<Ev, Self>) -> InfoSender<()> {
        cx.info_sender()
    }

    fn terminate(self, reason: Terminate) {
        self.log
            .push(format!("{} terminate {}", self.name, describe(&reason)));
    }
}

/// How a callback is to fail.
#[derive(Debug, Clone, Copy)]
enum How {
    Panic,
    Fail,
}

/// A handler whose `init` fails.
struct BadInit;

#[handler(event = Ev)]
impl BadInit {
    fn init(how: How) -> Result<Self, &'static str> {
        match how {
            How::Panic => panic!("init was told to panic"),
            How::Fail => Err("init was told to fail"),
        }
    }

    fn handle_event(&mut self, _: &Ev) {}
}

/// A handler whose `terminate` fails, after noting it ran (as `bad`). Written by hand: its
/// `terminate` fails with an error, which under `#[handler]` would be its hand-over.
struct BadTerminate {
    how: How,
    log: Log,
}

impl Handler<Ev> for BadTerminate {
    type Args = (How, Log);
    type Info = ();
    type Handover = u32;

    fn init((how, log): (How, Log), _: &mut Context<Ev, Self>) -> Step<'static, Self> {
        log.push("bad init".to_string());
        Step::ok(BadTerminate { how, log })
    }

    fn handle_event(&mut self, event: &Ev, _: &mut Context<Ev, Self>) -> Step<'_> {
        self.log.push(format!("bad got {event}"));
        Step::ok(())
    }

    fn terminate(self, reason: Terminate) -> Step<'static, u32> {
        self.log
            .push(format!("bad terminate {}", describe(&reason)));
        match self.how {
            How::Panic => panic!("terminate was told to panic"),
            How::Fail => Step::err("terminate was told to fail"),
        }
    }
}

const SECRET: &str = "hunter2";

/// A handler holding a secret that its `format_status` leaves out; it panics on every event
/// but the password.
struct Vault {
    user: &'static str,
    password: &'static str,
}

#[handler(event = Ev)]
impl Vault {
    fn init() -> Self {
        Vault {
            user: "alice",
            password: SECRET,
        }
    }

    fn handle_event(&mut self, event: &Ev) {
        match *event {
            Ev::Note(attempt) if attempt == self.password => {}
            _ => panic!("the vault refuses a wrong password"),
        }
    }

    fn format_status(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Vault {{ user: {:?} }}", self.user)
    }
}

// ------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------

fn start() -> EventManager<Ev> {
    EventManager::start().expect("the test runs on a runtime")
}

fn start_named(name: &str) -> EventManager<Ev> {
    EventManager::builder()
        .name(name)
        .debug_events()
        .start()
        .expect("the test runs on a runtime")
}

fn probe_ref(name: &'static str) -> HandlerRef<Probe> {
    HandlerRef::with_key(name)
}

/// Installs `Probe(name)`.
async fn add_probe(m: &EventManager<Ev>, name: &'static str, log: &Log) -> HandlerRef<Probe> {
    m.add_handler_with(probe_ref(name), (name, log.clone()))
        .await
        .expect("a probe installs")
}

/// Installs `Probe(name)`, supervised.
async fn add_sup_probe(m: &EventManager<Ev>, name: &'static str, log: &Log) -> SupLink<Probe> {
    m.add_sup_handler_with(probe_ref(name), (name, log.clone()))
        .await
        .expect("a probe installs")
}

/// The installed handlers, newest first, as text such as `Probe("a")`.
async fn names(m: &EventManager<Ev>) -> Vec<String> {
    let ids = m.which_handlers().await.expect("the manager runs");
    ids.iter().map(HandlerId::to_string).collect()
}

/// Why a supervised handler left.
async fn exit_of(link: impl Future<Output = ExitReason>) -> ExitReason {
    timeout(PATIENCE, link)
        .await
        .expect("the supervised handler did not leave")
}

/// The crash an exit reason carries.
fn crashed(reason: ExitReason) -> event_core::Crash {
    match reason {
        ExitReason::Crashed(crash) => crash,
        other => panic!("expected a crash, got {other:?}"),
    }
}

/// The link a swap passed on to the new handler.
fn swapped_to(reason: ExitReason) -> (HandlerId, Option<event_core::Link>) {
    match reason {
        ExitReason::Swapped { to, link } => (to, link),
        other => panic!("expected a swap, got {other:?}"),
    }
}

fn error_text(cause: &Cause) -> Option<String> {
    match cause {
        Cause::Error(e) => Some(e.to_string()),
        _ => None,
    }
}

/// What a `tracing` fmt subscriber writes, kept in memory.
fn assert_contains(text: &str, needles: &[&str]) {
    for needle in needles {
        assert!(text.contains(needle), "{needle:?} is not in:\n{text}");
    }
}

// ------------------------------------------------------------------------------------------
// start / stop / names
// ------------------------------------------------------------------------------------------

#[test]
fn starting_a_manager_outside_a_runtime_is_an_error() {
    assert_eq!(
        EventManager::<Ev>::start().unwrap_err(),
        StartError::NoRuntime
    );
}

#[tokio::test]
async fn a_manager_has_its_given_name_or_a_default_one() {
    let named = start_named("alarms");
    assert_eq!(named.name(), "alarms");
    let unnamed = start();
    assert!(unnamed.name().starts_with("manager#"), "{}", unnamed.name());
    assert_ne!(unnamed.name(), start().name());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_every_handle_stops_the_manager_and_terminates_its_handlers() {
    let log = Log::new();
    let m = start();
    let link = add_sup_probe(&m, "a", &log).await;
    let clone = m.clone();
    drop(m);
    clone.notify(Ev::Note("last")).await.unwrap();
    drop(clone);
    assert!(matches!(exit_of(link).await, ExitReason::Shutdown));
    assert_eq!(log.lines(), ["a init", "a got last", "a terminate stop"]);
}

// ------------------------------------------------------------------------------------------
// add_handler
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn add_handler_installs_the_handler_and_it_gets_events() {
    let log = Log::new();
    let m = start();
    let plain = m.add_handler::<Probe>(("a", log.clone())).await.unwrap();
    assert_eq!(plain.id().to_string(), "Probe");
    assert_eq!(names(&m).await, ["Probe"]);
    m.sync_notify(Ev::Note("x")).await.unwrap();
    assert_eq!(log.lines(), ["a init", "a got x"]);
}

#[tokio::test]
async fn add_handler_whose_init_fails_installs_nothing_and_returns_the_error() {
    let m = start();
    let err = m.add_handler::<BadInit>(How::Fail).await.unwrap_err();
    let AddError::InitFailed(crash) = err else {
        panic!("expected InitFailed, got {err:?}")
    };
    assert_eq!(crash.handler(), &HandlerId::of::<BadInit>(None));
    assert_eq!(crash.during(), &During::Init);
    assert_eq!(
        error_text(crash.cause()).as_deref(),
        Some("init was told to fail")
    );
    // Supervised, the caller gets the error and no link: no exit message, as in OTP. (No
    // terminate can run either: there is no handler value to run it on.)
    let err = m.add_sup_handler::<BadInit>(How::Fail).await.unwrap_err();
    assert!(matches!(err, AddError::InitFailed(_)), "{err:?}");
    assert!(names(&m).await.is_empty());
}

#[tokio::test]
async fn add_handler_whose_init_panics_installs_nothing_and_returns_the_panic() {
    let log = Log::new();
    let m = start();
    add_probe(&m, "a", &log).await;
    let err = m.add_handler::<BadInit>(How::Panic).await.unwrap_err();
    let AddError::InitFailed(crash) = err else {
        panic!("expected InitFailed, got {err:?}")
    };
    assert_eq!(crash.during(), &During::Init);
    assert_eq!(
        crash.cause().panic_message(),
        Some("init was told to panic")
    );
    assert_eq!(names(&m).await, [r#"Probe("a")"#]);
    // The manager survived the panic and the other handler still works.
    m.sync_notify(Ev::Note("x")).await.unwrap();
    assert_eq!(log.lines(), ["a init", "a got x"]);
}

#[tokio::test]
async fn handlers_of_one_type_with_different_keys_live_side_by_side() {
    let log = Log::new();
    let m = start();
    let a = add_probe(&m, "a", &log).await;
    let b = add_probe(&m, "b", &log).await;
    assert_ne!(a, b);
    assert_eq!(names(&m).await, [r#"Probe("b")"#, r#"Probe("a")"#]);
    m.sync_notify(Ev::Note("x")).await.unwrap();
    assert_eq!(
        m.call(&a, Do(Act::Note("only a"))).await.unwrap(),
        "a did only a"
    );
    assert_eq!(log.after(2), ["b got x", "a got x", "a call only a"]);
}

#[tokio::test]
async fn adding_an_identity_that_is_installed_is_refused_and_the_first_stays() {
    // OTP installs duplicates silently; event-core refuses them (DESIGN.md 3).
    let log = Log::new();
    let m = start();
    let a = add_probe(&m, "a", &log).await;
    let err = m
        .add_handler_with(probe_ref("a"), ("dup", log.clone()))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AddError::AlreadyInstalled(id) if id == a.id()),
        "{err:?}"
    );
    let err = m
        .add_sup_handler_with(probe_ref("a"), ("dup", log.clone()))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AddError::AlreadyInstalled(id) if id == a.id()),
        "{err:?}"
    );
    // Without a key it is another identity, refused in turn when installed twice.
    m.add_handler::<Probe>(("plain", log.clone()))
        .await
        .unwrap();
    let err = m
        .add_handler::<Probe>(("dup", log.clone()))
        .await
        .unwrap_err();
    assert!(matches!(&err, AddError::AlreadyInstalled(id) if id.to_string() == "Probe"));
    assert_eq!(names(&m).await, ["Probe", r#"Probe("a")"#]);
    // The refused installs never ran their init.
    assert_eq!(log.lines(), ["a init", "plain init"]);
}

#[tokio::test]
async fn handlers_run_newest_first_and_are_listed_newest_first() {
    let log = Log::new();
    let m = start();
    for name in ["a", "b", "c"] {
        add_probe(&m, name, &log).await;
    }
    assert_eq!(
        names(&m).await,
        [r#"Probe("c")"#, r#"Probe("b")"#, r#"Probe("a")"#]
    );
    m.sync_notify(Ev::Note("x")).await.unwrap();
    assert_eq!(log.after(3), ["c got x", "b got x", "a got x"]);
}

// ------------------------------------------------------------------------------------------
// add_sup_handler
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn sup_link_yields_normal_when_its_handler_is_deleted() {
    let log = Log::new();
    let m = start();
    let link = add_sup_probe(&m, "a", &log).await;
    m.delete_handler(link.handler(), ()).await.unwrap();
    assert!(matches!(exit_of(link).await, ExitReason::Normal));
}

#[tokio::test]
async fn sup_link_try_exit_is_none_while_its_handler_is_installed() {
    let log = Log::new();
    let m = start();
    let mut link = add_sup_probe(&m, "a", &log).await;
    m.sync_notify(Ev::Note("x")).await.unwrap();
    assert!(link.try_exit().is_none());
    m.delete_handler(link.handler(), ()).await.unwrap();
    // The exit reason is sent before the delete returns.
    assert!(matches!(link.try_exit(), Some(ExitReason::Normal)));
}

#[tokio::test]
async fn sup_link_keeps_the_reason_try_exit_saw_for_its_await() {
    let log = Log::new();
    let m = start();
    let mut link = add_sup_probe(&m, "a", &log).await;
    m.delete_handler(link.handler(), ()).await.unwrap();
    assert_eq!(link.try_exit(), Some(&ExitReason::Normal));
    // Asked again, and then awaited: the same reason, while the manager is alive.
    assert_eq!(link.try_exit(), Some(&ExitReason::Normal));
    assert_eq!(link.await, ExitReason::Normal);
    assert!(!m.is_stopped());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_tells_every_supervisor_shutdown() {
    let log = Log::new();
    let m = start();
    let a = add_sup_probe(&m, "a", &log).await;
    let b = add_sup_probe(&m, "b", &log).await;
    m.stop().await.unwrap();
    assert!(matches!(exit_of(a).await, ExitReason::Shutdown));
    assert!(matches!(exit_of(b).await, ExitReason::Shutdown));
    assert_eq!(log.after(2), ["b terminate stop", "a terminate stop"]);
}

#[tokio::test]
async fn dropping_a_sup_link_removes_its_handler_and_terminate_is_told_supervisor_gone() {
    let log = Log::new();
    let m = start();
    let a = add_sup_probe(&m, "a", &log).await;
    let mut b = add_sup_probe(&m, "b", &log).await;
    drop(a);
    // The drop reached the mailbox before this request.
    assert_eq!(names(&m).await, [r#"Probe("b")"#]);
    assert_eq!(log.last_of("a"), "a terminate supervisor gone");
    // The other supervised handler is untouched.
    assert!(b.try_exit().is_none());
    m.sync_notify(Ev::Note("x")).await.unwrap();
    assert_eq!(log.last_of("b"), "b got x");
}

// ------------------------------------------------------------------------------------------
// delete_handler
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn deleting_a_handler_that_is_not_installed_returns_not_installed() {
    let log = Log::new();
    let m = start();
    let a = probe_ref("a");
    let err = m.delete_handler(&a, ()).await.unwrap_err();
    assert!(
        matches!(&err, DeleteError::NotInstalled(id) if id == a.id()),
        "{err:?}"
    );
    add_probe(&m, "a", &log).await;
    // Another key, another identity.
    let err = m.delete_handler(&probe_ref("b"), ()).await.unwrap_err();
    assert!(matches!(err, DeleteError::NotInstalled(_)), "{err:?}");
    m.delete_handler(&a, ()).await.unwrap();
    let err = m.delete_handler(&a, ()).await.unwrap_err();
    assert!(matches!(err, DeleteError::NotInstalled(_)), "{err:?}");
}

#[tokio::test]
async fn delete_handler_returns_what_terminate_returns() {
    let log = Log::new();
    let m = start();
    let a = add_probe(&m, "a", &log).await;
    m.notify(Ev::Note("x")).await.unwrap();
    m.notify(Ev::Note("y")).await.unwrap();
    // A probe's terminate returns how many events it saw.
    assert_eq!(m.delete_handler(&a, ()).await.unwrap(), 2);
}

#[tokio::test]
async fn delete_args_reach_terminate_as_deleted() {
    let log = Log::new();
    let m = start();
    let a = add_probe(&m, "a", &log).await;
    let b = add_probe(&m, "b", &log).await;
    m.delete_handler(&a, "rotate").await.unwrap();
    m.delete_handler(&b, ()).await.unwrap();
    assert_eq!(log.last_of("a"), r#"a terminate deleted "rotate""#);
    assert_eq!(log.last_of("b"), "b terminate deleted ()");
}

#[tokio::test]
async fn delete_handler_with_a_key_removes_only_that_key() {
    let log = Log::new();
    let m = start();
    m.add_handler::<Probe>(("plain", log.clone()))
        .await
        .unwrap();
    let a = add_probe(&m, "a", &log).await;
    add_probe(&m, "b", &log).await;
    m.delete_handler(&a, ()).await.unwrap();
    assert_eq!(names(&m).await, [r#"Probe("b")"#, "Probe"]);
    assert_eq!(log.after(3), ["a terminate deleted ()"]);
}

// ------------------------------------------------------------------------------------------
// swap_handler / swap_sup_handler
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn swap_handler_hands_what_the_old_terminate_returns_to_the_new_init() {
    let log = Log::new();
    let m = start();
    let a = add_probe(&m, "a", &log).await;
    m.notify(Ev::Note("x")).await.unwrap();
    m.notify(Ev::Note("y")).await.unwrap();
    let new = m
        .swap_handler(&a, "bye", heir_ref("a"), heir("a", &log))
        .await
        .unwrap();
    assert_eq!(new, heir_ref("a"));
    assert_eq!(names(&m).await, [r#"Heir("a")"#]);
    m.sync_notify(Ev::Note("z")).await.unwrap();
    assert_eq!(
        log.lines(),
        [
            "a init",
            "a got x",
            "a got y",
            r#"a terminate swapped to Heir("a") with "bye""#,
            "a' init from Some(2)",
            "a' got z",
        ]
    );
}

#[tokio::test]
async fn swap_handler_from_a_handler_that_is_not_installed_gives_the_new_init_none() {
    // OTP's new init sees `{Args2, error}` and is installed all the same.
    let log = Log::new();
    let m = start();
    m.swap_handler(&probe_ref("a"), (), heir_ref("a"), heir("a", &log))
        .await
        .unwrap();
    assert_eq!(log.lines(), ["a' init from None"]);
    assert_eq!(names(&m).await, [r#"Heir("a")"#]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swap_handler_puts_the_new_handler_at_the_head_and_replaces_only_that_key() {
    let log = Log::new();
    let m = start();
    let a = add_probe(&m, "a", &log).await;
    add_probe(&m, "b", &log).await;
    add_probe(&m, "c", &log).await;
    m.swap_handler(&a, (), heir_ref("a"), heir("a", &log))
        .await
        .unwrap();
    assert_eq!(
        names(&m).await,
        [r#"Heir("a")"#, r#"Probe("c")"#, r#"Probe("b")"#]
    );
    m.sync_notify(Ev::Note("x")).await.unwrap();
    assert_eq!(log.after(5), ["a' got x", "c got x", "b got x"]);
}

#[tokio::test]
async fn swap_handler_may_replace_a_handler_by_one_of_the_same_identity() {
    let log = Log::new();
    let m = start();
    let a = add_probe(&m, "a", &log).await;
    m.notify(Ev::Note("x")).await.unwrap();
    let log2 = log.clone();
    let again = m
        .swap_handler(&a, (), probe_ref("a"), move |_| ("a", log2))
        .await
        .unwrap();
    assert_eq!(again, a);
    assert_eq!(
        log.after(2),
        [r#"a terminate swapped to Probe("a") with ()"#, "a init"]
    );
    // A fresh handler: it has seen nothing yet.
    assert_eq!(m.call(&a, Seen).await.unwrap(), 0);
}

#[tokio::test]
async fn swap_handler_whose_new_init_fails_removes_the_old_handler_and_returns_init_failed() {
    let log = Log::new();
    let m = start();
    let link = add_sup_probe(&m, "a", &log).await;
    let err = m
        .swap_handler(link.handler(), (), HandlerRef::<BadInit>::new(), |_| {
            How::Fail
        })
        .await
        .unwrap_err();
    let SwapError::InitFailed(crash) = err else {
        panic!("expected InitFailed, got {err:?}")
    };
    assert_eq!(crash.handler(), &HandlerId::of::<BadInit>(None));
    assert_eq!(crash.during(), &During::Init);
    // The old handler is gone all the same, as in OTP.
    assert!(names(&m).await.is_empty());
    assert_eq!(log.last_of("a"), "a terminate swapped to BadInit with ()");
    // Its supervisor learns that the swap's init crashed (OTP would send `{swapped, ..}` for a
    // handler that never came to be).
    let crash = crashed(exit_of(link).await);
    assert_eq!(crash.during(), &During::Init);
}

#[tokio::test]
async fn swap_handler_passes_the_old_handlers_supervisor_to_the_new_handler() {
    let log = Log::new();
    let m = start();
    let link = add_sup_probe(&m, "a", &log).await;
    let new = m
        .swap_handler(link.handler(), (), heir_ref("a"), heir("a", &log))
        .await
        .unwrap();
    let (to, new_link) = swapped_to(exit_of(link).await);
    assert_eq!(&to, new.id());
    let new_link = new_link
        .expect("supervision passes to the new handler")
        .typed::<Heir>()
        .expect("the link supervises the heir");
    assert_eq!(new_link.handler(), &new);
    m.delete_handler(&new, ()).await.unwrap();
    assert!(matches!(exit_of(new_link).await, ExitReason::Normal));
}

#[tokio::test]
async fn swap_handler_to_an_identity_that_is_installed_is_refused_and_changes_nothing() {
    let log = Log::new();
    let m = start();
    let a = add_probe(&m, "a", &log).await;
    let b = add_probe(&m, "b", &log).await;
    let log2 = log.clone();
    let err = m
        .swap_handler(&a, (), b.clone(), move |_| ("b", log2))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SwapError::AlreadyInstalled(id) if id == b.id()),
        "{err:?}"
    );
    assert_eq!(names(&m).await, [r#"Probe("b")"#, r#"Probe("a")"#]);
    assert_eq!(log.lines(), ["a init", "b init"]);
}

#[tokio::test]
async fn swap_sup_handler_makes_the_caller_supervise_the_new_handler() {
    let log = Log::new();
    let m = start();
    let old = add_sup_probe(&m, "a", &log).await;
    let new = m
        .swap_sup_handler(old.handler(), (), heir_ref("a"), heir("a", &log))
        .await
        .unwrap();
    assert_eq!(new.handler(), &heir_ref("a"));
    // The old supervisor is told of the swap, without a link: the caller has it.
    let (to, link) = swapped_to(exit_of(old).await);
    assert_eq!(&to, new.handler().id());
    assert!(link.is_none());
    assert_eq!(log.last_of("a'"), "a' init from Some(0)");
    m.delete_handler(new.handler(), ()).await.unwrap();
    assert!(matches!(exit_of(new).await, ExitReason::Normal));
}

#[tokio::test]
async fn swap_sup_handler_of_an_unsupervised_handler_supervises_the_new_one() {
    let log = Log::new();
    let m = start();
    let a = add_probe(&m, "a", &log).await;
    let new = m
        .swap_sup_handler(&a, (), heir_ref("a"), heir("a", &log))
        .await
        .unwrap();
    m.delete_handler(new.handler(), ()).await.unwrap();
    assert!(matches!(exit_of(new).await, ExitReason::Normal));
}

// ------------------------------------------------------------------------------------------
// notify / sync_notify, and what handle_event may return
// ------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_and_sync_notify_reach_every_handler_in_the_order_sent() {
    let log = Log::new();
    let m = start();
    add_probe(&m, "a", &log).await;
    add_probe(&m, "b", &log).await;
    for what in ["one", "two", "three"] {
        m.notify(Ev::Note(what)).await.unwrap();
    }
    // Returns once the notified events before it were handled too.
    m.sync_notify(Ev::Note("four")).await.unwrap();
    assert_eq!(
        log.after(2),
        [
            "b got one",
            "a got one",
            "b got two",
            "a got two",
            "b got three",
            "a got three",
            "b got four",
            "a got four",
        ]
    );
}

#[tokio::test]
async fn swap_self_from_handle_event_keeps_the_position_and_the_new_handler_misses_that_event() {
    let log = Log::new();
    let m = start();
    for name in ["a", "b", "c"] {
        add_probe(&m, name, &log).await;
    }
    m.sync_notify(Ev::Tell("b", Act::Swap)).await.unwrap();
    // Unlike an API swap, a swap from a callback keeps the handler's place.
    assert_eq!(
        names(&m).await,
        [r#"Probe("c")"#, r#"Heir("b")"#, r#"Probe("a")"#]
    );
    m.sync_notify(Ev::Note("next")).await.unwrap();
    assert_eq!(
        log.after(3),
        [
            "c got b:Swap",
            "b got b:Swap",
            r#"b terminate swapped to Heir("b") with "handing over""#,
            "b' init from Some(1)",
            "a got b:Swap",
            "c got next",
            "b' got next",
            "a got next",
        ]
    );
}

#[tokio::test]
async fn swap_self_from_handle_event_passes_supervision_to_the_new_handler() {
    let log = Log::new();
    let m = start();
    let link = add_sup_probe(&m, "a", &log).await;
    m.sync_notify(Ev::Tell("a", Act::Swap)).await.unwrap();
    let (to, new_link) = swapped_to(exit_of(link).await);
    assert_eq!(to, *heir_ref("a").id());
    let new_link = new_link
        .expect("supervision passes to the new handler")
        .typed::<Heir>()
        .unwrap();
    m.delete_handler(&heir_ref("a"), ()).await.unwrap();
    assert!(matches!(exit_of(new_link).await, ExitReason::Normal));
}

#[tokio::test]
async fn swap_self_whose_new_init_fails_removes_the_handler_and_tells_the_supervisor() {
    let log = Log::new();
    let m = start();
    add_probe(&m, "b", &log).await;
    let link = add_sup_probe(&m, "a", &log).await;
    m.sync_notify(Ev::Tell("a", Act::SwapToBroken))
        .await
        .unwrap();
    assert_eq!(names(&m).await, [r#"Probe("b")"#]);
    // OTP: the supervisor gets an exit with reason crash.
    let crash = crashed(exit_of(link).await);
    assert_eq!(crash.handler(), &HandlerId::of::<BadInit>(None));
    assert_eq!(crash.during(), &During::Init);
    assert_eq!(
        error_text(crash.cause()).as_deref(),
        Some("init was told to fail")
    );
    assert_eq!(log.last_of("b"), "b got a:SwapToBroken");
}

#[tokio::test]
async fn remove_self_from_handle_event_removes_the_handler_with_removed_and_the_supervisor_gets_normal(
) {
    let log = Log::new();
    let m = start();
    let link = add_sup_probe(&m, "a", &log).await;
    add_probe(&m, "b", &log).await;
    m.sync_notify(Ev::Tell("a", Act::Remove)).await.unwrap();
    assert_eq!(names(&m).await, [r#"Probe("b")"#]);
    assert!(matches!(exit_of(link).await, ExitReason::Normal));
    assert_eq!(
        log.after(2),
        ["b got a:Remove", "a got a:Remove", "a terminate removed"]
    );
}

#[tokio::test]
async fn handle_event_returning_an_error_removes_the_handler_and_terminate_is_told_it_crashed() {
    let log = Log::new();
    let m = start();
    add_probe(&m, "a", &log).await;
    // As in OTP, sync_notify says nothing about handlers that failed on the event.
    m.sync_notify(Ev::Tell("a", Act::Fail)).await.unwrap();
    assert!(names(&m).await.is_empty());
    assert_eq!(
        log.last_of("a"),
        "a terminate crashed: failed (a was told to fail)"
    );
}

#[tokio::test]
async fn handle_event_panicking_removes_the_handler_and_terminate_is_told_it_crashed() {
    let log = Log::new();
    let m = start();
    add_probe(&m, "a", &log).await;
    m.sync_notify(Ev::Tell("a", Act::Panic)).await.unwrap();
    assert!(names(&m).await.is_empty());
    assert_eq!(
        log.last_of("a"),
        "a terminate crashed: panicked (a was told to panic)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supervised_handler_panicking_in_handle_event_yields_crashed_naming_the_event() {
    let log = Log::new();
    let m = start();
    let link = add_sup_probe(&m, "a", &log).await;
    m.notify(Ev::Note("one")).await.unwrap();
    m.notify(Ev::Note("two")).await.unwrap();
    m.notify(Ev::Tell("a", Act::Panic)).await.unwrap();
    let crash = crashed(exit_of(link).await);
    assert_eq!(crash.handler(), probe_ref("a").id());
    assert_eq!(
        crash.during(),
        &During::Event {
            seq: 3,
            event: Some(r#"Tell("a", Panic)"#.to_string()),
        }
    );
    assert_eq!(crash.cause().panic_message(), Some("a was told to panic"));
}

#[tokio::test]
async fn supervised_handler_failing_in_handle_event_yields_crashed_with_the_error() {
    let log = Log::new();
    let m = start();
    let link = add_sup_probe(&m, "a", &log).await;
    m.sync_notify(Ev::Tell("a", Act::Fail)).await.unwrap();
    let crash = crashed(exit_of(link).await);
    assert_eq!(
        crash.during(),
        &During::Event {
            seq: 1,
            event: Some(r#"Tell("a", Fail)"#.to_string()),
        }
    );
    assert_eq!(
        error_text(crash.cause()).as_deref(),
        Some("a was told to fail")
    );
}

#[tokio::test]
async fn a_manager_without_debug_events_names_a_crashing_event_by_its_number_only() {
    let log = Log::new();
    let m = EventManager::<Ev>::builder().start().unwrap();
    let link = add_sup_probe(&m, "a", &log).await;
    m.notify(Ev::Note("one")).await.unwrap();
    m.notify(Ev::Tell("a", Act::Panic)).await.unwrap();
    let crash = crashed(exit_of(link).await);
    assert_eq!(
        crash.during(),
        &During::Event {
            seq: 2,
            event: None
        }
    );
}

#[tokio::test]
async fn other_handlers_still_get_the_event_that_crashed_one() {
    let log = Log::new();
    let m = start();
    for name in ["a", "b", "c"] {
        add_probe(&m, name, &log).await;
    }
    m.sync_notify(Ev::Tell("b", Act::Panic)).await.unwrap();
    m.sync_notify(Ev::Note("next")).await.unwrap();
    assert_eq!(
        log.after(3),
        [
            "c got b:Panic",
            "b got b:Panic",
            "b terminate crashed: panicked (b was told to panic)",
            "a got b:Panic",
            "c got next",
            "a got next",
        ]
    );
}

// ------------------------------------------------------------------------------------------
// call
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn call_to_a_handler_that_is_not_installed_returns_not_installed() {
    let log = Log::new();
    let m = start();
    let a = probe_ref("a");
    let err = m.call(&a, Seen).await.unwrap_err();
    assert!(
        matches!(&err, CallError::NotInstalled(id) if id == a.id()),
        "{err:?}"
    );
    add_probe(&m, "a", &log).await;
    let err = m.call(&probe_ref("b"), Seen).await.unwrap_err();
    assert!(matches!(err, CallError::NotInstalled(_)), "{err:?}");
    // The type is part of the identity: an heir with the same key is not installed.
    let err = m.call(&heir_ref("a"), GetSender).await.unwrap_err();
    assert!(matches!(err, CallError::NotInstalled(_)), "{err:?}");
}

#[tokio::test]
async fn call_returns_the_typed_reply_of_each_request_type() {
    let log = Log::new();
    let m = start();
    let a = add_probe(&m, "a", &log).await;
    m.notify(Ev::Note("x")).await.unwrap();
    m.notify(Ev::Note("y")).await.unwrap();
    let seen: u32 = m.call(&a, Seen).await.unwrap();
    assert_eq!(seen, 2);
    let done: String = m.call(&a, Do(Act::Note("hi"))).await.unwrap();
    assert_eq!(done, "a did hi");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_reply_can_come_from_an_async_handle_call_which_holds_the_manager_meanwhile() {
    let log = Log::new();
    let m = start();
    let a = add_probe(&m, "a", &log).await;
    let (tx, rx) = oneshot::channel();
    let call = tokio::spawn({
        let (m, a) = (m.clone(), a.clone());
        async move { m.call(&a, Await(rx)).await }
    });
    log.wait_for("a call awaiting").await;
    // The event waits for the call, as in OTP: one callback at a time.
    m.notify(Ev::Note("queued")).await.unwrap();
    tx.send(Act::Note("late")).unwrap();
    let reply = timeout(PATIENCE, call).await.unwrap().unwrap();
    assert_eq!(reply.unwrap(), "a did late");
    m.sync_notify(Ev::Note("after")).await.unwrap();
    assert_eq!(
        log.after(1),
        [
            "a call awaiting",
            "a call late",
            "a got queued",
            "a got after"
        ]
    );
}

#[tokio::test]
async fn a_call_given_up_by_a_timeout_still_runs_and_its_handler_stays() {
    let log = Log::new();
    let m = start();
    let a = add_probe(&m, "a", &log).await;
    let (tx, rx) = oneshot::channel();
    // The reply cannot come before `tx` is sent: the timeout must elapse.
    let gave_up = timeout(Duration::from_millis(50), m.call(&a, Await(rx))).await;
    assert!(gave_up.is_err());
    tx.send(Act::Note("late")).unwrap();
    assert_eq!(m.call(&a, Seen).await.unwrap(), 0);
    assert_eq!(log.after(1), ["a call awaiting", "a call late"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remove_self_from_handle_call_replies_once_the_handler_is_removed() {
    let log = Log::new();
    let m = start();
    let link = add_sup_probe(&m, "a", &log).await;
    let a = link.handler().clone();
    assert_eq!(m.call(&a, Do(Act::Remove)).await.unwrap(), "a did Remove");
    // As in OTP, the reply comes after the terminate.
    assert_eq!(log.last_of("a"), "a terminate removed");
    assert!(matches!(exit_of(link).await, ExitReason::Normal));
    let err = m.call(&a, Seen).await.unwrap_err();
    assert!(matches!(err, CallError::NotInstalled(_)), "{err:?}");
}

#[tokio::test]
async fn swap_self_from_handle_call_replies_then_swaps_passing_supervision() {
    let log = Log::new();
    let m = start();
    let link = add_sup_probe(&m, "a", &log).await;
    let a = link.handler().clone();
    assert_eq!(m.call(&a, Do(Act::Swap)).await.unwrap(), "a did Swap");
    let (to, new_link) = swapped_to(exit_of(link).await);
    assert_eq!(to, *heir_ref("a").id());
    assert_eq!(log.last_of("a'"), "a' init from Some(0)");
    let new_link = new_link.unwrap().typed::<Heir>().unwrap();
    m.delete_handler(&heir_ref("a"), ()).await.unwrap();
    assert!(matches!(exit_of(new_link).await, ExitReason::Normal));
}

#[tokio::test]
async fn handle_call_returning_an_error_answers_crashed_and_removes_the_handler() {
    let log = Log::new();
    let m = start();
    let link = add_sup_probe(&m, "a", &log).await;
    let a = link.handler().clone();
    // OTP answers `{error, {'EXIT', R}}`; event-core answers with the crash report.
    let err = m.call(&a, Do(Act::Fail)).await.unwrap_err();
    let CallError::Crashed(crash) = err else {
        panic!("expected Crashed, got {err:?}")
    };
    assert_eq!(crash.handler(), a.id());
    assert_eq!(
        crash.during(),
        &During::Call {
            request: type_name::<Do>()
        }
    );
    assert_eq!(
        error_text(crash.cause()).as_deref(),
        Some("a was told to fail")
    );
    let reported = crashed(exit_of(link).await);
    assert_eq!(reported.during(), crash.during());
    assert!(names(&m).await.is_empty());
    assert_eq!(
        log.last_of("a"),
        "a terminate crashed: failed (a was told to fail)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handle_call_panicking_answers_crashed_and_removes_the_handler() {
    let log = Log::new();
    let m = start();
    let link = add_sup_probe(&m, "a", &log).await;
    add_probe(&m, "b", &log).await;
    let a = link.handler().clone();
    let err = m.call(&a, Do(Act::Panic)).await.unwrap_err();
    let CallError::Crashed(crash) = err else {
        panic!("expected Crashed, got {err:?}")
    };
    assert_eq!(crash.cause().panic_message(), Some("a was told to panic"));
    assert!(crashed(exit_of(link).await)
        .cause()
        .panic_message()
        .is_some());
    assert_eq!(names(&m).await, [r#"Probe("b")"#]);
    // The manager and the other handler carry on.
    m.sync_notify(Ev::Note("after")).await.unwrap();
    assert_eq!(log.last_of("b"), "b got after");
}

#[tokio::test]
async fn an_async_handle_call_that_panics_answers_crashed() {
    let log = Log::new();
    let m = start();
    let a = add_probe(&m, "a", &log).await;
    let (tx, rx) = oneshot::channel();
    tx.send(Act::Panic).unwrap();
    let err = m.call(&a, Await(rx)).await.unwrap_err();
    let CallError::Crashed(crash) = err else {
        panic!("expected Crashed, got {err:?}")
    };
    assert_eq!(
        crash.during(),
        &During::Call {
            request: type_name::<Await>()
        }
    );
    assert_eq!(crash.cause().panic_message(), Some("a was told to panic"));
    assert!(names(&m).await.is_empty());
}

// ------------------------------------------------------------------------------------------
// info
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn info_sender_messages_reach_handle_info_of_that_handler() {
    let log = Log::new();
    let m = start();
    let a = add_probe(&m, "a", &log).await;
    add_probe(&m, "b", &log).await;
    let to_a = m.call(&a, GetSender).await.unwrap();
    to_a.send(Act::Note("hi")).unwrap();
    m.sync_notify(Ev::Note("after")).await.unwrap();
    assert_eq!(log.after(2), ["a info hi", "b got after", "a got after"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_after_reaches_only_the_handler_that_set_it() {
    // In OTP every handler's handle_info sees every message; here only the one that set it.
    let log = Log::new();
    let m = start();
    let a = add_probe(&m, "a", &log).await;
    add_probe(&m, "b", &log).await;
    m.call(&a, Later(Duration::from_millis(1), Act::Note("tick")))
        .await
        .unwrap();
    log.wait_for("a info tick").await;
    // The timer's message has been handled in full once this request is answered.
    m.which_handlers().await.unwrap();
    assert_eq!(log.of("b"), ["b init"]);
}

#[tokio::test]
async fn remove_self_from_handle_info_removes_the_handler_and_the_supervisor_gets_normal() {
    let log = Log::new();
    let m = start();
    let link = add_sup_probe(&m, "a", &log).await;
    let to_a = m.call(link.handler(), GetSender).await.unwrap();
    to_a.send(Act::Remove).unwrap();
    assert!(matches!(exit_of(link).await, ExitReason::Normal));
    assert_eq!(log.last_of("a"), "a terminate removed");
    assert!(names(&m).await.is_empty());
}

#[tokio::test]
async fn swap_self_from_handle_info_passes_supervision_to_the_new_handler() {
    let log = Log::new();
    let m = start();
    let link = add_sup_probe(&m, "a", &log).await;
    m.call(link.handler(), Later(Duration::from_millis(1), Act::Swap))
        .await
        .unwrap();
    let (to, new_link) = swapped_to(exit_of(link).await);
    assert_eq!(to, *heir_ref("a").id());
    assert_eq!(names(&m).await, [r#"Heir("a")"#]);
    let new_link = new_link.unwrap().typed::<Heir>().unwrap();
    m.delete_handler(&heir_ref("a"), ()).await.unwrap();
    assert!(matches!(exit_of(new_link).await, ExitReason::Normal));
}

#[tokio::test]
async fn handle_info_returning_an_error_removes_the_handler_and_the_supervisor_learns_it() {
    let log = Log::new();
    let m = start();
    let link = add_sup_probe(&m, "a", &log).await;
    let to_a = m.call(link.handler(), GetSender).await.unwrap();
    to_a.send(Act::Fail).unwrap();
    let crash = crashed(exit_of(link).await);
    assert_eq!(crash.during(), &During::Info);
    assert_eq!(
        error_text(crash.cause()).as_deref(),
        Some("a was told to fail")
    );
    assert_eq!(
        log.last_of("a"),
        "a terminate crashed: failed (a was told to fail)"
    );
    // A message to a handler that has left comes back.
    assert!(to_a.is_gone());
    assert_eq!(
        to_a.send(Act::Note("late")),
        Err(InfoGone(Act::Note("late")))
    );
    assert!(names(&m).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handle_info_panicking_on_a_timer_removes_the_handler_and_the_supervisor_learns_it() {
    let log = Log::new();
    let m = start();
    let link = add_sup_probe(&m, "a", &log).await;
    add_probe(&m, "b", &log).await;
    m.call(link.handler(), Later(Duration::from_millis(1), Act::Panic))
        .await
        .unwrap();
    let crash = crashed(exit_of(link).await);
    assert_eq!(crash.during(), &During::Info);
    assert_eq!(crash.cause().panic_message(), Some("a was told to panic"));
    assert_eq!(names(&m).await, [r#"Probe("b")"#]);
}

#[tokio::test]
async fn a_handler_without_handle_info_ignores_info_messages_and_stays() {
    // OTP logs a warning and keeps the handler.
    let log = Log::new();
    let m = start();
    let h = m
        .add_handler_with(heir_ref("a"), heir("a", &log)(None))
        .await
        .unwrap();
    let to_h = m.call(&h, GetSender).await.unwrap();
    to_h.send(()).unwrap();
    m.sync_notify(Ev::Note("after")).await.unwrap();
    assert_eq!(names(&m).await, [r#"Heir("a")"#]);
    assert_eq!(log.lines(), ["a' init from None", "a' got after"]);
}

// ------------------------------------------------------------------------------------------
// error reports
// ------------------------------------------------------------------------------------------

#[tokio::test(flavor = "current_thread")]
async fn crash_report_names_the_manager_the_handler_the_reason_and_the_status() {
    let (out, _guard) = capture();
    let log = Log::new();
    let m = start_named("reports");
    add_probe(&m, "a", &log).await;
    m.sync_notify(Ev::Note("one")).await.unwrap();
    m.sync_notify(Ev::Tell("a", Act::Panic)).await.unwrap();
    assert_contains(
        &out.text(),
        &[
            "ERROR",
            "event handler crashed",
            r#"outcome="removed""#,
            r#"manager="reports""#,
            r#"handler=Probe("a")"#,
            "a was told to panic",
            r#"handling event #2: Tell("a", Panic)"#,
            r#"status=Probe { name: "a", seen: 2 }"#,
        ],
    );
}

#[tokio::test(flavor = "current_thread")]
async fn crash_report_never_shows_state_that_format_status_leaves_out() {
    let (out, _guard) = capture();
    let m = start_named("vaults");
    m.add_handler::<Vault>(()).await.unwrap();
    m.sync_notify(Ev::Note("guess")).await.unwrap();
    assert!(names(&m).await.is_empty());
    let text = out.text();
    assert_contains(
        &text,
        &[
            "event handler crashed",
            r#"outcome="removed""#,
            "handler=Vault",
            r#"status=Vault { user: "alice" }"#,
        ],
    );
    assert!(!text.contains(SECRET), "the secret leaked:\n{text}");
}

#[tokio::test(flavor = "current_thread")]
async fn crash_report_of_a_handler_without_format_status_shows_no_state() {
    let (out, _guard) = capture();
    let log = Log::new();
    let m = start_named("reports");
    m.add_handler_with(heir_ref("a"), heir("a", &log)(None))
        .await
        .unwrap();
    m.sync_notify(Ev::Tell("a'", Act::Panic)).await.unwrap();
    assert_contains(
        &out.text(),
        &[
            "event handler crashed",
            r#"outcome="removed""#,
            r#"handler=Heir("a")"#,
            "status=(state not shown)",
        ],
    );
}

#[tokio::test(flavor = "current_thread")]
async fn crash_in_terminate_is_reported_as_such() {
    let (out, _guard) = capture();
    let log = Log::new();
    let m = start_named("reports");
    let bad = m
        .add_handler::<BadTerminate>((How::Panic, log.clone()))
        .await
        .unwrap();
    m.delete_handler(&bad, ()).await.unwrap_err();
    assert_contains(
        &out.text(),
        &[
            "event handler crashed in terminate",
            r#"manager="reports""#,
            "handler=BadTerminate",
            "terminate was told to panic",
        ],
    );
}

// ------------------------------------------------------------------------------------------
// terminate failing
// ------------------------------------------------------------------------------------------

async fn terminate_failing_still_removes_the_handler(how: How) -> event_core::Crash {
    let log = Log::new();
    let m = start();
    let a = add_probe(&m, "a", &log).await;
    let bad = m
        .add_handler::<BadTerminate>((how, log.clone()))
        .await
        .unwrap();
    let err = m.delete_handler(&bad, ()).await.unwrap_err();
    let DeleteError::TerminateFailed(crash) = err else {
        panic!("expected TerminateFailed, got {err:?}")
    };
    assert_eq!(crash.handler(), bad.id());
    assert_eq!(crash.during(), &During::Terminate);
    assert_eq!(log.last_of("bad"), "bad terminate deleted ()");
    // Removed all the same; the manager and the other handler carry on.
    assert_eq!(names(&m).await, [r#"Probe("a")"#]);
    m.sync_notify(Ev::Note("after")).await.unwrap();
    assert_eq!(log.last_of("a"), "a got after");
    assert_eq!(m.call(&a, Seen).await.unwrap(), 1);
    let err = m.delete_handler(&bad, ()).await.unwrap_err();
    assert!(matches!(err, DeleteError::NotInstalled(_)), "{err:?}");
    crash
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminate_that_panics_still_removes_the_handler_and_delete_returns_terminate_failed() {
    let crash = terminate_failing_still_removes_the_handler(How::Panic).await;
    assert_eq!(
        crash.cause().panic_message(),
        Some("terminate was told to panic")
    );
}

#[tokio::test]
async fn terminate_that_fails_still_removes_the_handler_and_delete_returns_terminate_failed() {
    let crash = terminate_failing_still_removes_the_handler(How::Fail).await;
    assert_eq!(
        error_text(crash.cause()).as_deref(),
        Some("terminate was told to fail")
    );
}

#[tokio::test]
async fn a_panic_in_a_swaps_make_args_fails_the_new_init_and_the_manager_lives_on() {
    let log = Log::new();
    let m = start();
    let a = add_probe(&m, "a", &log).await;
    add_probe(&m, "b", &log).await;
    let err = m
        .swap_handler(&a, (), heir_ref("a"), |_| -> HeirArgs {
            panic!("no args for you")
        })
        .await
        .unwrap_err();
    let SwapError::InitFailed(crash) = err else {
        panic!("expected InitFailed, got {err:?}")
    };
    assert_eq!(crash.handler(), heir_ref("a").id());
    assert_eq!(crash.during(), &During::Init);
    assert_eq!(crash.cause().panic_message(), Some("no args for you"));
    assert_eq!(names(&m).await, [r#"Probe("b")"#]);
    m.sync_notify(Ev::Note("after")).await.unwrap();
    assert_eq!(log.last_of("b"), "b got after");
}

#[tokio::test]
async fn swap_from_a_handler_whose_terminate_crashes_gives_the_new_init_none() {
    let log = Log::new();
    let m = start();
    let bad = m
        .add_handler::<BadTerminate>((How::Panic, log.clone()))
        .await
        .unwrap();
    m.swap_handler(&bad, (), heir_ref("bad"), heir("bad", &log))
        .await
        .unwrap();
    assert_eq!(
        log.after(1),
        [
            r#"bad terminate swapped to Heir("bad") with ()"#,
            "bad' init from None"
        ]
    );
    assert_eq!(names(&m).await, [r#"Heir("bad")"#]);
}

// ------------------------------------------------------------------------------------------
// stop
// ------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_terminates_handlers_newest_first_each_told_stop() {
    let log = Log::new();
    let m = start();
    for name in ["a", "b", "c"] {
        add_probe(&m, name, &log).await;
    }
    m.stop().await.unwrap();
    assert_eq!(
        log.after(3),
        ["c terminate stop", "b terminate stop", "a terminate stop"]
    );
}

#[tokio::test]
async fn stop_handles_the_events_sent_before_it() {
    let log = Log::new();
    let m = start();
    add_probe(&m, "a", &log).await;
    for what in ["one", "two", "three"] {
        m.notify(Ev::Note(what)).await.unwrap();
    }
    m.stop().await.unwrap();
    assert_eq!(
        log.lines(),
        [
            "a init",
            "a got one",
            "a got two",
            "a got three",
            "a terminate stop"
        ]
    );
}

#[tokio::test]
async fn stop_terminates_every_handler_even_when_one_terminate_panics() {
    let log = Log::new();
    let m = start();
    add_probe(&m, "a", &log).await;
    m.add_handler::<BadTerminate>((How::Panic, log.clone()))
        .await
        .unwrap();
    let c = add_sup_probe(&m, "c", &log).await;
    m.stop().await.unwrap();
    assert_eq!(
        log.after(3),
        ["c terminate stop", "bad terminate stop", "a terminate stop"]
    );
    assert!(matches!(exit_of(c).await, ExitReason::Shutdown));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_after_stop_returns_manager_gone() {
    let log = Log::new();
    let m = start();
    let a = add_probe(&m, "a", &log).await;
    m.stop().await.unwrap();
    assert!(m.is_stopped());
    timeout(PATIENCE, m.stopped()).await.unwrap();

    let err = m.notify(Ev::Note("x")).await.unwrap_err();
    assert!(matches!(err, NotifyError::ManagerGone(_)), "{err:?}");
    assert_eq!(err.into_inner(), Ev::Note("x"));
    let err = m.try_notify(Ev::Note("y")).unwrap_err();
    assert!(matches!(err, NotifyError::ManagerGone(_)), "{err:?}");
    assert_eq!(
        m.sync_notify(Ev::Note("z")).await,
        Err(ManagerError::ManagerGone)
    );
    let err = m.call(&a, Seen).await.unwrap_err();
    assert!(matches!(err, CallError::ManagerGone), "{err:?}");
    let err = m
        .add_handler::<Probe>(("b", log.clone()))
        .await
        .unwrap_err();
    assert!(matches!(err, AddError::ManagerGone), "{err:?}");
    let err = m
        .add_sup_handler::<Probe>(("b", log.clone()))
        .await
        .unwrap_err();
    assert!(matches!(err, AddError::ManagerGone), "{err:?}");
    let err = m.delete_handler(&a, ()).await.unwrap_err();
    assert!(matches!(err, DeleteError::ManagerGone), "{err:?}");
    let err = m
        .swap_handler(&a, (), heir_ref("a"), heir("a", &log))
        .await
        .unwrap_err();
    assert!(matches!(err, SwapError::ManagerGone), "{err:?}");
    let err = m
        .swap_sup_handler(&a, (), heir_ref("a"), heir("a", &log))
        .await
        .unwrap_err();
    assert!(matches!(err, SwapError::ManagerGone), "{err:?}");
    assert_eq!(m.which_handlers().await, Err(ManagerError::ManagerGone));
    assert_eq!(m.stop().await, Err(ManagerError::ManagerGone));
    // Nothing ran after the stop.
    assert_eq!(log.lines(), ["a init", "a terminate stop"]);
}

// ------------------------------------------------------------------------------------------
// dedicated handlers: the same behaviours on a task of their own
// ------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dedicated_handler_crashing_in_handle_event_is_removed_and_its_supervisor_learns_it() {
    let log = Log::new();
    let m = start();
    let link = m
        .add_sup_handler_with(
            Install::<Probe>::new().key("a").dedicated(4),
            ("a", log.clone()),
        )
        .await
        .unwrap();
    add_probe(&m, "b", &log).await;
    m.notify(Ev::Note("one")).await.unwrap();
    m.notify(Ev::Tell("a", Act::Panic)).await.unwrap();
    let crash = crashed(exit_of(link).await);
    assert_eq!(
        crash.during(),
        &During::Event {
            seq: 2,
            event: Some(r#"Tell("a", Panic)"#.to_string()),
        }
    );
    assert_eq!(names(&m).await, [r#"Probe("b")"#]);
    assert_eq!(
        log.last_of("a"),
        "a terminate crashed: panicked (a was told to panic)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dedicated_handler_swapping_itself_from_a_call_keeps_its_place_and_supervisor() {
    let log = Log::new();
    let m = start();
    add_probe(&m, "a", &log).await;
    let link = m
        .add_sup_handler_with(
            Install::<Probe>::new().key("b").dedicated(4),
            ("b", log.clone()),
        )
        .await
        .unwrap();
    add_probe(&m, "c", &log).await;
    let b = link.handler().clone();
    assert_eq!(m.call(&b, Do(Act::Swap)).await.unwrap(), "b did Swap");
    let (to, new_link) = swapped_to(exit_of(link).await);
    assert_eq!(to, *heir_ref("b").id());
    assert_eq!(
        names(&m).await,
        [r#"Probe("c")"#, r#"Heir("b")"#, r#"Probe("a")"#]
    );
    let new_link = new_link.unwrap().typed::<Heir>().unwrap();
    m.delete_handler(&heir_ref("b"), ()).await.unwrap();
    assert!(matches!(exit_of(new_link).await, ExitReason::Normal));
}

/// The handlers a dedicated probe named `a` leaves behind after doing `act`.
fn after_dedicated(act: Act) -> Vec<&'static str> {
    match act {
        Act::Swap => vec![r#"Heir("a")"#],
        _ => vec![],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_sync_notify_returns_a_dedicated_handler_that_left_on_that_event_is_gone() {
    // As for an inline handler. The dedicated task once let the sync_notify go before the
    // manager knew; repeated, so that such a race is caught.
    for _ in 0..20 {
        for act in [Act::Remove, Act::Panic, Act::Fail, Act::Swap] {
            let log = Log::new();
            let m = start();
            m.add_handler_with(
                Install::<Probe>::new().key("a").dedicated(4),
                ("a", log.clone()),
            )
            .await
            .unwrap();
            m.sync_notify(Ev::Tell("a", act)).await.unwrap();
            assert_eq!(names(&m).await, after_dedicated(act), "{act:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_a_call_returns_a_dedicated_handler_that_left_answering_it_is_gone() {
    // As for an inline handler; repeated, so that a race is caught.
    for _ in 0..20 {
        for act in [Act::Remove, Act::Panic, Act::Fail, Act::Swap] {
            let log = Log::new();
            let m = start();
            let a = m
                .add_handler_with(
                    Install::<Probe>::new().key("a").dedicated(4),
                    ("a", log.clone()),
                )
                .await
                .unwrap();
            let reply = m.call(&a, Do(act)).await;
            assert_eq!(
                reply.is_ok(),
                matches!(act, Act::Remove | Act::Swap),
                "{act:?}"
            );
            assert_eq!(names(&m).await, after_dedicated(act), "{act:?}");
        }
    }
}
