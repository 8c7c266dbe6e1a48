//! The manager against a model: random sequences of operations (add and add_sup, plain or
//! restarted in place, delete, swap and swap_sup from the API, swaps and removals from inside
//! callbacks, notify, sync_notify, call, info messages, crashes in every callback, dropped
//! links, stop) run on a real manager and on a small pure model of the semantics (DESIGN
//! §3-6), and every observable result is compared after every operation: the handlers
//! installed and their order, every callback each handler ran and what it was told (in one
//! global order), each exit reason and restart notice, each result.
//!
//! A second test lets handlers run dedicated. A dedicated handler runs beside the manager, so
//! each operation is followed by a `sync_notify` of an event the handlers ignore, after which
//! what the dedicated handlers did has reached the manager; their callbacks are compared in
//! each handler's own order, and at most one handler acts on any one event. A third runs that
//! one on a multi-thread runtime.
//!
//! proptest shrinks a failing case to a short sequence. The case count is 2000 by default;
//! `EVENT_CORE_MODEL_CASES` (or proptest's own `PROPTEST_CASES`) asks for more.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, Once};

use event_core::{
    AddError, BoxError, Call, CallError, Cause, Context, Crash, DeleteError, During, EventManager,
    ExitReason, Handler, HandlerId, HandlerRef, Info, InfoSender, Install, Intensity, Key, Link,
    ManagerError, NotifyError, Step, SwapError, Terminate,
};
use proptest::prelude::*;
use proptest::strategy::Union;
use proptest::test_runner::Config;
use proptest_state_machine::{prop_state_machine, ReferenceStateMachine, StateMachineTest};

/// Handlers are named by a key among `0..KEYS`.
const KEYS: u8 = 4;

/// How many restarts in place a handler gets (within an hour: all of them, in a test case).
const RESTARTS: u32 = 1;

/// How long an operation may take before the manager is deemed to hang.
const HANG: std::time::Duration = std::time::Duration::from_secs(5);

// =============================================================================================
// What the operations are made of
// =============================================================================================

/// How a callback fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum How {
    Panic,
    Error,
}

/// How a handler behaves, fixed when it is installed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Flags {
    /// Its `init` fails.
    fail_init: Option<How>,
    /// Its `terminate` fails (after recording what it was told).
    fail_terminate: Option<How>,
    /// Every callback is `async` (and yields once), instead of plain.
    asynchronous: bool,
    /// It runs dedicated, on a task of its own.
    dedicated: bool,
}

/// What a handler is told to do in one callback.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Act {
    Crash(How),
    RemoveSelf,
    /// Swap itself for the handler `to`, made with `flags`, numbered `gen`.
    SwapSelf {
        to: u8,
        gen: u32,
        flags: Flags,
    },
}

/// The event: its id, and what each handler (by key) is to do with it. Id 0 is the event
/// that settles the dedicated handlers after each operation: the handlers ignore it.
#[derive(Clone, Debug)]
struct Ev {
    id: u32,
    acts: Vec<Option<Act>>,
}

/// A call: what the handler is to do, and its id. The reply is the handler's `(gen, seen)`.
struct Do {
    id: u32,
    act: Option<Act>,
}

/// An info message: its id and what the handler is to do.
struct Note {
    id: u32,
    act: Option<Act>,
}

/// What `terminate` returns: the handler's number and how many events and calls it handled.
type Handover = (u32, u32);

/// One operation of a test case.
#[derive(Clone, Debug)]
enum Op {
    Add {
        key: u8,
        gen: u32,
        sup: bool,
        flags: Flags,
        /// Restarted in place after a crash, [`RESTARTS`] times at most.
        in_place: bool,
    },
    Delete {
        key: u8,
        args: u32,
    },
    Swap {
        old: u8,
        new: u8,
        gen: u32,
        sup: bool,
        flags: Flags,
        args: u32,
    },
    Notify(Ev),
    SyncNotify(Ev),
    Call {
        key: u8,
        id: u32,
        act: Option<Act>,
    },
    Info {
        key: u8,
        id: u32,
        act: Option<Act>,
    },
    /// Drops the link supervising handler number `gen`.
    DropLink {
        gen: u32,
    },
    Stop,
}

// =============================================================================================
// What is observed
// =============================================================================================

/// What a callback was doing, as a crash report says.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Doing {
    Init,
    Event { seq: u64, id: u32 },
    Call,
    Info,
    Terminate,
}

/// A crash, as far as the model can tell: which handler, doing what, failing how (the message
/// names the handler's number and the callback).
#[derive(Clone, Debug, PartialEq, Eq)]
struct CrashDesc {
    key: u8,
    doing: Doing,
    how: How,
    message: String,
}

/// What `terminate` was told.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Told {
    Deleted(u32),
    Removed,
    Crashed(CrashDesc),
    Swapped { to: u8, args: u32 },
    SupervisorGone,
    Stop,
}

/// One line of the global log: what a callback of handler number `gen` did.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Rec {
    Init { key: u8, from: Option<Handover> },
    InitFails,
    Event(u32),
    Call(u32),
    Info(u32),
    Terminate(Told),
}

/// Why a supervised handler left, as its link says.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Exit {
    Normal,
    Crashed(CrashDesc),
    /// `inherited`: the link to the new handler came with it.
    Swapped {
        to: u8,
        inherited: bool,
    },
    Shutdown,
}

/// The result of an operation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
enum Outcome {
    #[default]
    None,
    Ok,
    Handover(Handover),
    Reply(Handover),
    NotInstalled,
    AlreadyInstalled,
    InitFailed(CrashDesc),
    TerminateFailed(CrashDesc),
    Crashed(CrashDesc),
    ManagerGone,
    /// An info message the manager refused: it has stopped.
    Refused,
    /// No handler with that key was ever installed, so there is nobody to send info to.
    NoSender,
}

fn message(gen: u32, doing: &Doing, how: How) -> String {
    let what = match doing {
        Doing::Init => "init",
        Doing::Event { .. } => "handle_event",
        Doing::Call => "handle_call",
        Doing::Info => "handle_info",
        Doing::Terminate => "terminate",
    };
    let verb = match how {
        How::Panic => "panics",
        How::Error => "fails",
    };
    format!("probe {gen} {verb} in {what}")
}

fn crash_desc(key: u8, gen: u32, doing: Doing, how: How) -> CrashDesc {
    let message = message(gen, &doing, how);
    CrashDesc {
        key,
        doing,
        how,
        message,
    }
}

// =============================================================================================
// The model
// =============================================================================================

#[derive(Clone, Debug)]
struct Installed {
    key: u8,
    gen: u32,
    flags: Flags,
    handled: u32,
    supervised: bool,
    in_place: bool,
    restarts: u32,
}

#[derive(Clone, Debug, Default)]
struct Model {
    /// Handlers may run dedicated; every operation is followed by a `sync_notify` that
    /// settles them.
    dedicated: bool,
    stopped: bool,
    /// The manager's event counter.
    seq: u64,
    /// The numbers the next operation may use: `next..next + KEYS`.
    next: u32,
    /// Installed handlers, oldest first (events run from the back).
    handlers: Vec<Installed>,
    /// Keys an `init` ever succeeded for: an info sender exists for them.
    registered: BTreeSet<u8>,
    log: Vec<(u32, Rec)>,
    exits: BTreeMap<u32, Exit>,
    /// The restarts in place each supervised handler's link has told of.
    restarted: BTreeMap<u32, Vec<CrashDesc>>,
    outcome: Outcome,
}

impl Model {
    fn find(&self, key: u8) -> Option<usize> {
        self.handlers.iter().rposition(|h| h.key == key)
    }

    fn rec(&mut self, gen: u32, rec: Rec) {
        self.log.push((gen, rec));
    }

    fn exit(&mut self, h: &Installed, exit: Exit) {
        if h.supervised {
            self.exits.insert(h.gen, exit);
        }
    }

    /// Runs `terminate` of a handler taken out of the list; its hand-over, unless it fails.
    fn terminate(&mut self, h: &Installed, told: Told) -> Result<Handover, CrashDesc> {
        self.rec(h.gen, Rec::Terminate(told));
        match h.flags.fail_terminate {
            None => Ok((h.gen, h.handled)),
            Some(how) => Err(crash_desc(h.key, h.gen, Doing::Terminate, how)),
        }
    }

    /// Runs `init` of a new handler; its crash if it fails.
    fn init(
        &mut self,
        key: u8,
        gen: u32,
        flags: Flags,
        from: Option<Handover>,
    ) -> Result<(), CrashDesc> {
        match flags.fail_init {
            Some(how) => {
                self.rec(gen, Rec::InitFails);
                Err(crash_desc(key, gen, Doing::Init, how))
            }
            None => {
                self.rec(gen, Rec::Init { key, from });
                self.registered.insert(key);
                Ok(())
            }
        }
    }

    fn installed(key: u8, gen: u32, flags: Flags, supervised: bool) -> Installed {
        Installed {
            key,
            gen,
            flags,
            handled: 0,
            supervised,
            in_place: false,
            restarts: 0,
        }
    }

    /// What a callback of the handler at `i` asked for once it returned, `doing` what.
    fn after(&mut self, i: usize, act: &Option<Act>, doing: Doing) -> Option<CrashDesc> {
        match act {
            None => None,
            Some(Act::Crash(how)) => {
                let h = self.handlers.remove(i);
                let crash = crash_desc(h.key, h.gen, doing, *how);
                let _ = self.terminate(&h, Told::Crashed(crash.clone()));
                if h.in_place && h.restarts < RESTARTS {
                    // Re-initialised with its args, in its place, before the next message.
                    if h.supervised {
                        self.restarted.entry(h.gen).or_default().push(crash.clone());
                    }
                    self.init(h.key, h.gen, h.flags, None)
                        .expect("an init that failed would not have been installed");
                    let again = Installed {
                        handled: 0,
                        restarts: h.restarts + 1,
                        ..h
                    };
                    self.handlers.insert(i, again);
                    return Some(crash);
                }
                self.exit(&h, Exit::Crashed(crash.clone()));
                Some(crash)
            }
            Some(Act::RemoveSelf) => {
                let h = self.handlers.remove(i);
                let _ = self.terminate(&h, Told::Removed);
                self.exit(&h, Exit::Normal);
                None
            }
            Some(Act::SwapSelf { to, gen, flags }) => {
                if self.find(*to).is_some_and(|j| j != i) {
                    // Refused: the new identity is installed already; the handler stays.
                    return None;
                }
                let old = self.handlers.remove(i);
                let handover = self
                    .terminate(
                        &old,
                        Told::Swapped {
                            to: *to,
                            args: *gen,
                        },
                    )
                    .ok();
                match self.init(*to, *gen, *flags, handover) {
                    Err(crash) => self.exit(&old, Exit::Crashed(crash)),
                    Ok(()) => {
                        self.exit(
                            &old,
                            Exit::Swapped {
                                to: *to,
                                inherited: true,
                            },
                        );
                        let new = Self::installed(*to, *gen, *flags, old.supervised);
                        self.handlers.insert(i, new);
                    }
                }
                None
            }
        }
    }

    fn event(&mut self, ev: &Ev) {
        self.seq += 1;
        let seq = self.seq;
        let newest_first: Vec<u32> = self.handlers.iter().rev().map(|h| h.gen).collect();
        for gen in newest_first {
            // Only the handler itself changes its own place, so the others keep theirs.
            let Some(i) = self.handlers.iter().position(|h| h.gen == gen) else {
                continue;
            };
            let key = self.handlers[i].key;
            self.handlers[i].handled += 1;
            self.rec(gen, Rec::Event(ev.id));
            let act = ev.acts[key as usize].clone();
            self.after(i, &act, Doing::Event { seq, id: ev.id });
        }
    }

    fn apply(&mut self, op: &Op) -> Outcome {
        if self.stopped {
            return match op {
                Op::Info { key, .. } if self.registered.contains(key) => Outcome::Refused,
                Op::Info { .. } => Outcome::NoSender,
                _ => Outcome::ManagerGone,
            };
        }
        match op {
            Op::Add {
                key,
                gen,
                sup,
                flags,
                in_place,
            } => {
                if self.find(*key).is_some() {
                    return Outcome::AlreadyInstalled;
                }
                match self.init(*key, *gen, *flags, None) {
                    Err(crash) => Outcome::InitFailed(crash),
                    Ok(()) => {
                        let h = Installed {
                            in_place: *in_place,
                            ..Self::installed(*key, *gen, *flags, *sup)
                        };
                        self.handlers.push(h);
                        Outcome::Ok
                    }
                }
            }
            Op::Delete { key, args } => match self.find(*key) {
                None => Outcome::NotInstalled,
                Some(i) => {
                    let h = self.handlers.remove(i);
                    let result = self.terminate(&h, Told::Deleted(*args));
                    self.exit(&h, Exit::Normal);
                    match result {
                        Ok(handover) => Outcome::Handover(handover),
                        Err(crash) => Outcome::TerminateFailed(crash),
                    }
                }
            },
            Op::Swap {
                old,
                new,
                gen,
                sup,
                flags,
                args,
            } => {
                if new != old && self.find(*new).is_some() {
                    return Outcome::AlreadyInstalled;
                }
                let (handover, old_h) = match self.find(*old) {
                    None => (None, None),
                    Some(i) => {
                        let h = self.handlers.remove(i);
                        let told = Told::Swapped {
                            to: *new,
                            args: *args,
                        };
                        (self.terminate(&h, told).ok(), Some(h))
                    }
                };
                if let Err(crash) = self.init(*new, *gen, *flags, handover) {
                    if let Some(h) = &old_h {
                        self.exit(h, Exit::Crashed(crash.clone()));
                    }
                    return Outcome::InitFailed(crash);
                }
                let old_supervised = old_h.as_ref().is_some_and(|h| h.supervised);
                if let Some(h) = &old_h {
                    self.exit(
                        h,
                        Exit::Swapped {
                            to: *new,
                            inherited: !*sup,
                        },
                    );
                }
                let h = Self::installed(*new, *gen, *flags, *sup || old_supervised);
                self.handlers.push(h);
                Outcome::Ok
            }
            Op::Notify(ev) => {
                self.event(ev);
                Outcome::Ok
            }
            Op::SyncNotify(ev) => {
                self.event(ev);
                Outcome::Ok
            }
            Op::Call { key, id, act } => match self.find(*key) {
                None => Outcome::NotInstalled,
                Some(i) => {
                    self.handlers[i].handled += 1;
                    let h = &self.handlers[i];
                    let reply = (h.gen, h.handled);
                    self.rec(h.gen, Rec::Call(*id));
                    match self.after(i, act, Doing::Call) {
                        Some(crash) => Outcome::Crashed(crash),
                        None => Outcome::Reply(reply),
                    }
                }
            },
            Op::Info { key, id, act } => {
                if !self.registered.contains(key) {
                    return Outcome::NoSender;
                }
                if let Some(i) = self.find(*key) {
                    let gen = self.handlers[i].gen;
                    self.rec(gen, Rec::Info(*id));
                    self.after(i, act, Doing::Info);
                }
                Outcome::Ok
            }
            Op::DropLink { gen } => {
                if let Some(i) = self.handlers.iter().position(|h| h.gen == *gen) {
                    let h = self.handlers.remove(i);
                    let _ = self.terminate(&h, Told::SupervisorGone);
                }
                Outcome::None
            }
            Op::Stop => {
                while let Some(h) = self.handlers.pop() {
                    let _ = self.terminate(&h, Told::Stop);
                    self.exit(&h, Exit::Shutdown);
                }
                self.stopped = true;
                Outcome::Ok
            }
        }
    }

    /// The handlers as `which_handlers` lists them: newest first.
    fn which(&self) -> Vec<u8> {
        self.handlers.iter().rev().map(|h| h.key).collect()
    }

    /// The numbers of the handlers a live link supervises.
    fn supervised(&self) -> BTreeSet<u32> {
        self.handlers
            .iter()
            .filter(|h| h.supervised)
            .map(|h| h.gen)
            .collect()
    }
}

// =============================================================================================
// Generating operations
// =============================================================================================

fn how() -> impl Strategy<Value = How> {
    prop_oneof![Just(How::Panic), Just(How::Error)]
}

fn flags(dedicated: bool) -> impl Strategy<Value = Flags> {
    (
        proptest::option::weighted(0.15, how()),
        proptest::option::weighted(0.15, how()),
        any::<bool>(),
        proptest::bool::weighted(if dedicated { 0.5 } else { 0.0 }),
    )
        .prop_map(
            |(fail_init, fail_terminate, asynchronous, dedicated)| Flags {
                fail_init,
                fail_terminate,
                asynchronous,
                dedicated,
            },
        )
}

fn key() -> impl Strategy<Value = u8> {
    0..KEYS
}

/// What a handler is told to do; a swap-in takes number `gen`.
fn act(gen: u32, dedicated: bool) -> impl Strategy<Value = Option<Act>> {
    proptest::option::weighted(
        0.4,
        prop_oneof![
            how().prop_map(Act::Crash),
            Just(Act::RemoveSelf),
            (key(), flags(dedicated)).prop_map(move |(to, flags)| Act::SwapSelf { to, gen, flags }),
        ],
    )
}

/// An event numbered `base`; a handler with key `k` that swaps itself on it swaps in number
/// `base + k`.
///
/// With dedicated handlers, at most one handler acts on an event: a dedicated handler's
/// removal or swap is applied once its report reaches the manager, after the event went
/// through the others, so two actions on one event could land in either order.
fn event(base: u32, dedicated: bool) -> BoxedStrategy<Ev> {
    if dedicated {
        return (key(), act(base, true))
            .prop_map(move |(k, act)| {
                let mut acts = vec![None; KEYS as usize];
                acts[k as usize] = act;
                Ev { id: base, acts }
            })
            .boxed();
    }
    let acts: Vec<_> = (0..KEYS as u32).map(|k| act(base + k, false)).collect();
    acts.prop_map(move |acts| Ev { id: base, acts }).boxed()
}

/// The model; `D`: handlers may run dedicated.
struct ManagerModel<const D: bool>;

impl<const D: bool> ReferenceStateMachine for ManagerModel<D> {
    type State = Model;
    type Transition = Op;

    fn init_state() -> BoxedStrategy<Model> {
        Just(Model {
            dedicated: D,
            next: 1,
            ..Model::default()
        })
        .boxed()
    }

    fn transitions(state: &Model) -> BoxedStrategy<Op> {
        let base = state.next;
        let d = state.dedicated;
        let add = (
            key(),
            any::<bool>(),
            flags(d),
            proptest::bool::weighted(0.3),
        )
            .prop_map(move |(key, sup, flags, in_place)| Op::Add {
                key,
                gen: base,
                sup,
                flags,
                in_place,
            });
        let delete = (key(), 0..100u32).prop_map(|(key, args)| Op::Delete { key, args });
        let swap = (key(), key(), any::<bool>(), flags(d), 0..100u32).prop_map(
            move |(old, new, sup, flags, args)| Op::Swap {
                old,
                new,
                gen: base,
                sup,
                flags,
                args,
            },
        );
        let call =
            (key(), act(base, d)).prop_map(move |(key, act)| Op::Call { key, id: base, act });
        let info =
            (key(), act(base, d)).prop_map(move |(key, act)| Op::Info { key, id: base, act });
        let mut ops: Vec<(u32, BoxedStrategy<Op>)> = vec![
            (6, add.boxed()),
            (2, delete.boxed()),
            (3, swap.boxed()),
            (4, event(base, d).prop_map(Op::Notify).boxed()),
            (4, event(base, d).prop_map(Op::SyncNotify).boxed()),
            (4, call.boxed()),
            (2, info.boxed()),
            (1, Just(Op::Stop).boxed()),
        ];
        let supervised: Vec<u32> = state.supervised().into_iter().collect();
        if !supervised.is_empty() {
            let drop_link =
                proptest::sample::select(supervised).prop_map(|gen| Op::DropLink { gen });
            ops.push((2, drop_link.boxed()));
        }
        Union::new_weighted(ops).boxed()
    }

    fn apply(mut state: Model, op: &Op) -> Model {
        state.next += KEYS as u32;
        state.outcome = state.apply(op);
        if state.dedicated && !state.stopped {
            // The settling event.
            state.seq += 1;
        }
        state
    }

    fn preconditions(state: &Model, op: &Op) -> bool {
        match op {
            Op::DropLink { gen } => state.supervised().contains(gen),
            _ => true,
        }
    }
}

// =============================================================================================
// The handler under test
// =============================================================================================

type Log = Arc<Mutex<Vec<(u32, Rec)>>>;

/// The latest info sender of each key, set by each successful `init`.
type Senders = Arc<Mutex<BTreeMap<u8, InfoSender<Note>>>>;

struct Probe {
    key: u8,
    gen: u32,
    flags: Flags,
    handled: u32,
    log: Log,
    senders: Senders,
}

#[derive(Clone)]
struct ProbeArgs {
    key: u8,
    gen: u32,
    flags: Flags,
    from: Option<Handover>,
    log: Log,
    senders: Senders,
}

fn probe_ref(key: u8) -> HandlerRef<Probe> {
    HandlerRef::with_key(key as u64)
}

fn install(key: u8, flags: Flags) -> Install<Probe> {
    match flags.dedicated {
        false => Install::from(probe_ref(key)),
        true => Install::from(probe_ref(key)).dedicated(4),
    }
}

fn fail<T>(how: How, message: String) -> Result<T, BoxError> {
    match how {
        How::Panic => panic!("{message}"),
        How::Error => Err(message.into()),
    }
}

/// A callback's result, plain or `async` as the handler's flags say.
fn step<'a, T: Send + 'a>(
    asynchronous: bool,
    f: impl FnOnce() -> Result<T, BoxError> + Send + 'a,
) -> Step<'a, T> {
    match asynchronous {
        false => f().into(),
        true => Step::from_async(async move {
            tokio::task::yield_now().await;
            f()
        }),
    }
}

impl Probe {
    fn rec(&self, rec: Rec) {
        self.log.lock().unwrap().push((self.gen, rec));
    }

    /// Does what `act` says, from a callback `doing` this.
    fn act(
        &mut self,
        act: Option<Act>,
        doing: &Doing,
        cx: &mut Context<Ev, Self>,
    ) -> Result<(), BoxError> {
        match act {
            None => Ok(()),
            Some(Act::Crash(how)) => fail(how, message(self.gen, doing, how)),
            Some(Act::RemoveSelf) => {
                cx.remove_self();
                Ok(())
            }
            Some(Act::SwapSelf { to, gen, flags }) => {
                let (log, senders) = (self.log.clone(), self.senders.clone());
                cx.swap_self(install(to, flags), gen, move |from| ProbeArgs {
                    key: to,
                    gen,
                    flags,
                    from,
                    log,
                    senders,
                });
                Ok(())
            }
        }
    }
}

impl Handler<Ev> for Probe {
    type Args = ProbeArgs;
    type Info = Note;
    type Handover = Handover;

    fn init(a: ProbeArgs, cx: &mut Context<Ev, Self>) -> Step<'static, Self> {
        let sender = cx.info_sender();
        step(a.flags.asynchronous, move || {
            if let Some(how) = a.flags.fail_init {
                a.log.lock().unwrap().push((a.gen, Rec::InitFails));
                return fail(how, message(a.gen, &Doing::Init, how));
            }
            a.log.lock().unwrap().push((
                a.gen,
                Rec::Init {
                    key: a.key,
                    from: a.from,
                },
            ));
            a.senders.lock().unwrap().insert(a.key, sender);
            Ok(Probe {
                key: a.key,
                gen: a.gen,
                flags: a.flags,
                handled: 0,
                log: a.log,
                senders: a.senders,
            })
        })
    }

    fn handle_event<'a>(&'a mut self, ev: &'a Ev, cx: &'a mut Context<Ev, Self>) -> Step<'a> {
        if ev.id == 0 {
            return Step::ok(());
        }
        step(self.flags.asynchronous, move || {
            self.handled += 1;
            self.rec(Rec::Event(ev.id));
            let act = ev.acts[self.key as usize].clone();
            // The sequence number is the model's business; the probe names the callback.
            self.act(act, &Doing::Event { seq: 0, id: ev.id }, cx)
        })
    }

    fn handle_info<'a>(&'a mut self, info: Info<Note>, cx: &'a mut Context<Ev, Self>) -> Step<'a> {
        step(self.flags.asynchronous, move || match info {
            Info::Message(note) => {
                self.rec(Rec::Info(note.id));
                self.act(note.act, &Doing::Info, cx)
            }
            Info::Down(_) => Ok(()),
        })
    }

    fn terminate(self, reason: Terminate) -> Step<'static, Handover> {
        step(self.flags.asynchronous, move || {
            self.rec(Rec::Terminate(told(&reason)));
            match self.flags.fail_terminate {
                Some(how) => fail(how, message(self.gen, &Doing::Terminate, how)),
                None => Ok((self.gen, self.handled)),
            }
        })
    }
}

impl Call<Ev, Do> for Probe {
    type Reply = Handover;

    fn handle_call<'a>(&'a mut self, req: Do, cx: &'a mut Context<Ev, Self>) -> Step<'a, Handover> {
        step(self.flags.asynchronous, move || {
            self.handled += 1;
            self.rec(Rec::Call(req.id));
            let reply = (self.gen, self.handled);
            self.act(req.act, &Doing::Call, cx).map(|()| reply)
        })
    }
}

// =============================================================================================
// Reading what the manager says
// =============================================================================================

fn key_of(id: &HandlerId) -> u8 {
    assert!(id.is::<Probe>(), "{id}");
    match id.key() {
        Some(Key::Num(k)) => u8::try_from(*k).expect("a small key"),
        _ => panic!("{id} has no numeric key"),
    }
}

fn desc(crash: &Crash) -> CrashDesc {
    let (how, message) = match crash.cause() {
        Cause::Panic(m) => (How::Panic, m.to_string()),
        Cause::Error(e) => (How::Error, e.to_string()),
        other => panic!("unknown cause {other:?}"),
    };
    let doing = match crash.during() {
        During::Init => Doing::Init,
        During::Event { seq, event } => {
            let shown = event.as_deref().expect("the manager shows events");
            let id = shown
                .split("id: ")
                .nth(1)
                .and_then(|rest| rest.split(',').next())
                .and_then(|id| id.trim().parse().ok())
                .unwrap_or_else(|| panic!("no id in {shown}"));
            Doing::Event { seq: *seq, id }
        }
        During::Call { request } => {
            assert!(request.ends_with("Do"), "{request}");
            Doing::Call
        }
        During::Info => Doing::Info,
        During::Terminate => Doing::Terminate,
        other => panic!("unknown During {other:?}"),
    };
    CrashDesc {
        key: key_of(crash.handler()),
        doing,
        how,
        message,
    }
}

fn told(reason: &Terminate) -> Told {
    match reason {
        Terminate::Deleted(args) => Told::Deleted(*args.downcast_ref::<u32>().expect("u32 args")),
        Terminate::Removed => Told::Removed,
        Terminate::Crashed(c) => Told::Crashed(desc(c)),
        Terminate::Swapped { to, args } => Told::Swapped {
            to: key_of(to),
            args: *args.downcast_ref::<u32>().expect("u32 args"),
        },
        Terminate::SupervisorGone => Told::SupervisorGone,
        Terminate::Stop => Told::Stop,
        other => panic!("unexpected terminate reason {other}"),
    }
}

// =============================================================================================
// The manager under test
// =============================================================================================

struct Real {
    /// Taken out while an operation runs on it.
    runtime: Option<tokio::runtime::Runtime>,
    manager: EventManager<Ev>,
    log: Log,
    senders: Senders,
    /// The links the test holds, by the number of the handler each supervises.
    links: BTreeMap<u32, Link>,
    /// The restarts in place each link has told of.
    restarted: BTreeMap<u32, Vec<CrashDesc>>,
    /// The manager was stopped.
    stopped: bool,
}

impl Real {
    fn args(&self, key: u8, gen: u32, flags: Flags) -> ProbeArgs {
        ProbeArgs {
            key,
            gen,
            flags,
            from: None,
            log: self.log.clone(),
            senders: self.senders.clone(),
        }
    }

    fn add_error(e: AddError) -> Outcome {
        match e {
            AddError::AlreadyInstalled(_) => Outcome::AlreadyInstalled,
            AddError::InitFailed(c) => Outcome::InitFailed(desc(&c)),
            AddError::ManagerGone => Outcome::ManagerGone,
            other => panic!("unexpected add error {other}"),
        }
    }

    async fn run(&mut self, op: Op) -> Outcome {
        let m = &self.manager;
        match op {
            Op::Add {
                key,
                gen,
                sup,
                flags,
                in_place,
            } => {
                let install = install(key, flags);
                let args = self.args(key, gen, flags);
                let intensity = Intensity::new(RESTARTS, std::time::Duration::from_secs(3600));
                let added = match (sup, in_place) {
                    (false, false) => m.add_handler_with(install, args).await.map(|_| None),
                    (false, true) => m
                        .add_handler_in_place(install, args, intensity)
                        .await
                        .map(|_| None),
                    (true, false) => m
                        .add_sup_handler_with(install, args)
                        .await
                        .map(|link| Some(link.into_link())),
                    (true, true) => m
                        .add_sup_handler_in_place(install, args, intensity)
                        .await
                        .map(|link| Some(link.into_link())),
                };
                match added {
                    Ok(link) => {
                        if let Some(link) = link {
                            self.links.insert(gen, link);
                        }
                        Outcome::Ok
                    }
                    Err(e) => Self::add_error(e),
                }
            }
            Op::Delete { key, args } => match m.delete_handler(&probe_ref(key), args).await {
                Ok(handover) => Outcome::Handover(handover),
                Err(DeleteError::NotInstalled(_)) => Outcome::NotInstalled,
                Err(DeleteError::TerminateFailed(c)) => Outcome::TerminateFailed(desc(&c)),
                Err(DeleteError::ManagerGone) => Outcome::ManagerGone,
                Err(other) => panic!("unexpected delete error {other}"),
            },
            Op::Swap {
                old,
                new,
                gen,
                sup,
                flags,
                args,
            } => {
                let new_args = self.args(new, gen, flags);
                let make = move |from| ProbeArgs { from, ..new_args };
                let (old, new) = (probe_ref(old), install(new, flags));
                let result = match sup {
                    false => m.swap_handler(&old, args, new, make).await.map(|_| None),
                    true => m
                        .swap_sup_handler(&old, args, new, make)
                        .await
                        .map(|link| Some(link.into_link())),
                };
                match result {
                    Ok(link) => {
                        if let Some(link) = link {
                            self.links.insert(gen, link);
                        }
                        Outcome::Ok
                    }
                    Err(SwapError::AlreadyInstalled(_)) => Outcome::AlreadyInstalled,
                    Err(SwapError::InitFailed(c)) => Outcome::InitFailed(desc(&c)),
                    Err(SwapError::ManagerGone) => Outcome::ManagerGone,
                    Err(other) => panic!("unexpected swap error {other}"),
                }
            }
            Op::Notify(ev) => match m.notify(ev).await {
                Ok(()) => Outcome::Ok,
                Err(NotifyError::ManagerGone(_)) => Outcome::ManagerGone,
                Err(other) => panic!("unexpected notify error {other}"),
            },
            Op::SyncNotify(ev) => match m.sync_notify(ev).await {
                Ok(()) => Outcome::Ok,
                Err(ManagerError::ManagerGone) => Outcome::ManagerGone,
                Err(other) => panic!("unexpected sync_notify error {other}"),
            },
            Op::Call { key, id, act } => match m.call(&probe_ref(key), Do { id, act }).await {
                Ok(reply) => Outcome::Reply(reply),
                Err(CallError::NotInstalled(_)) => Outcome::NotInstalled,
                Err(CallError::Crashed(c)) => Outcome::Crashed(desc(&c)),
                Err(CallError::ManagerGone) => Outcome::ManagerGone,
                Err(other) => panic!("unexpected call error {other}"),
            },
            Op::Info { key, id, act } => {
                let sender = self.senders.lock().unwrap().get(&key).cloned();
                match sender {
                    None => Outcome::NoSender,
                    Some(sender) => match sender.send(Note { id, act }) {
                        Ok(()) => Outcome::Ok,
                        Err(_) if self.stopped => Outcome::Refused,
                        // The handler has left: the message would have been dropped, as the
                        // model has it (it only tells a stopped manager's refusal apart).
                        Err(_) => Outcome::Ok,
                    },
                }
            }
            Op::DropLink { gen } => {
                let link = self.links.remove(&gen);
                assert!(link.is_some(), "the test holds no link to handler {gen}");
                Outcome::None
            }
            Op::Stop => match m.stop().await {
                Ok(()) => {
                    self.stopped = true;
                    Outcome::Ok
                }
                Err(ManagerError::ManagerGone) => Outcome::ManagerGone,
                Err(other) => panic!("unexpected stop error {other}"),
            },
        }
    }

    /// Takes every exit the links have to tell, keeping the links passed on by swaps (the
    /// model says to which handler).
    fn exits(&mut self, model: &Model) -> BTreeMap<u32, Exit> {
        let mut exits = BTreeMap::new();
        let gens: Vec<u32> = self.links.keys().copied().collect();
        for gen in gens {
            let link = self.links.get_mut(&gen).expect("listed");
            while let Some(crash) = link.try_restarted() {
                self.restarted.entry(gen).or_default().push(desc(&crash));
            }
            if link.try_exit().is_none() {
                continue;
            }
            let link = self.links.remove(&gen).expect("listed");
            // The link kept the reason `try_exit` saw: it is ready.
            let reason = futures_util::FutureExt::now_or_never(link).expect("kept by try_exit");
            let exit = match reason {
                ExitReason::Normal => Exit::Normal,
                ExitReason::Shutdown => Exit::Shutdown,
                ExitReason::Crashed(c) => Exit::Crashed(desc(&c)),
                ExitReason::Swapped { to, link } => {
                    let key = key_of(&to);
                    let inherited = link.is_some();
                    if let Some(link) = link {
                        // Handed to the handler that took its place, which the model knows.
                        let heir = model
                            .handlers
                            .iter()
                            .find(|h| h.key == key && h.supervised)
                            .map(|h| h.gen);
                        let heir = heir.unwrap_or_else(|| {
                            panic!("a link passed on to {key}, which the model has not")
                        });
                        self.links.insert(heir, link);
                    }
                    Exit::Swapped { to: key, inherited }
                }
                other => panic!("unexpected exit reason {other}"),
            };
            exits.insert(gen, exit);
        }
        exits
    }
}

/// The test; `D`: handlers may run dedicated; `MT`: on a multi-thread runtime.
struct ManagerTest<const D: bool, const MT: bool>;

impl<const D: bool, const MT: bool> StateMachineTest for ManagerTest<D, MT> {
    type SystemUnderTest = Real;
    type Reference = ManagerModel<D>;

    fn init_test(_: &Model) -> Real {
        quiet_probe_panics();
        let runtime = match MT {
            false => tokio::runtime::Builder::new_current_thread(),
            true => {
                let mut b = tokio::runtime::Builder::new_multi_thread();
                b.worker_threads(2);
                b
            }
        }
        .enable_all()
        .build()
        .unwrap();
        let manager = runtime.block_on(async { EventManager::<Ev>::start().unwrap() });
        Real {
            runtime: Some(runtime),
            manager,
            log: Log::default(),
            senders: Senders::default(),
            links: BTreeMap::new(),
            restarted: BTreeMap::new(),
            stopped: false,
        }
    }

    fn apply(mut real: Real, model: &Model, op: Op) -> Real {
        let runtime = real
            .runtime
            .take()
            .expect("the runtime is back after each operation");
        let outcome = runtime.block_on(async {
            let shown = format!("{op:?}");
            let outcome = tokio::time::timeout(HANG, real.run(op))
                .await
                .unwrap_or_else(|_| panic!("the manager hangs on {shown}"));
            if model.dedicated && !model.stopped {
                // Once every handler has handled this event, the dedicated ones have sent
                // the manager what they did before it, and the manager handles that before
                // the requests that follow.
                let settle = Ev {
                    id: 0,
                    acts: vec![None; KEYS as usize],
                };
                tokio::time::timeout(HANG, real.manager.sync_notify(settle))
                    .await
                    .unwrap_or_else(|_| panic!("the manager hangs settling after {shown}"))
                    .expect("the manager runs");
            }
            // Requests, info messages and dropped links go through the one mailbox in order,
            // so once this is answered everything sent before it has been handled.
            let which = tokio::time::timeout(HANG, real.manager.which_handlers())
                .await
                .unwrap_or_else(|_| panic!("the manager hangs after {shown}"));
            let which = which.map(|ids| ids.iter().map(key_of).collect::<Vec<_>>());
            match model.stopped {
                true => assert_eq!(which, Err(ManagerError::ManagerGone)),
                false => assert_eq!(which, Ok(model.which()), "the handlers, newest first"),
            }
            outcome
        });
        real.runtime = Some(runtime);
        assert_eq!(outcome, model.outcome, "the operation's result");
        let log = real.log.lock().unwrap().clone();
        match model.dedicated {
            // Every callback, in one order: the manager runs them one after another.
            false => assert_eq!(log, model.log, "every callback, in order"),
            // A dedicated handler runs beside the others: the order is each handler's own.
            true => assert_eq!(
                by_handler(&log),
                by_handler(&model.log),
                "each handler's callbacks, in order"
            ),
        }
        let exits = real.exits(model);
        for (gen, exit) in &exits {
            assert_eq!(
                Some(exit),
                model.exits.get(gen),
                "the exit of handler {gen}"
            );
        }
        assert_eq!(
            real.restarted, model.restarted,
            "the restarts in place links told of"
        );
        let held: BTreeSet<u32> = real.links.keys().copied().collect();
        assert_eq!(
            held,
            model.supervised(),
            "the handlers a live link supervises"
        );
        real
    }

    fn teardown(mut real: Real, mut model: Model) {
        // Stopping ends every case: what the remaining handlers are told is checked too.
        if !model.stopped {
            model = ManagerModel::<D>::apply(model, &Op::Stop);
            real = Self::apply(real, &model, Op::Stop);
        }
        assert!(real.links.is_empty(), "every link has its exit");
    }
}

fn by_handler(log: &[(u32, Rec)]) -> BTreeMap<u32, Vec<Rec>> {
    let mut by = BTreeMap::<u32, Vec<Rec>>::new();
    for (gen, rec) in log {
        by.entry(*gen).or_default().push(rec.clone());
    }
    by
}

/// The probes panic on purpose, thousands of times: keep their panics out of the output, and
/// let every other panic (a failed assertion) through.
fn quiet_probe_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let text = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("");
            if !text.starts_with("probe ") {
                default(info);
            }
        }));
    });
}

fn cases() -> u32 {
    ["EVENT_CORE_MODEL_CASES", "PROPTEST_CASES"]
        .iter()
        .find_map(|var| std::env::var(var).ok()?.parse().ok())
        .unwrap_or(2000)
}

prop_state_machine! {
    #![proptest_config(Config {
        cases: cases(),
        max_shrink_iters: 10_000,
        ..Config::default()
    })]

    #[test]
    fn the_manager_behaves_as_the_model_says(sequential 1..40 => ManagerTest<false, false>);

    #[test]
    fn with_dedicated_handlers_the_manager_behaves_as_the_model_says(
        sequential 1..40 => ManagerTest<true, false>
    );

    #[test]
    fn on_a_multi_thread_runtime_the_manager_behaves_as_the_model_says(
        sequential 1..40 => ManagerTest<true, true>
    );
}
