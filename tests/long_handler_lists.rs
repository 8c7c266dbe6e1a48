//! A manager with many handlers: its list is long enough to be indexed, and handlers that leave
//! it leave vacant places until it is tidied. Random sequences of installs (plain, restarted in
//! place, supervised; duplicates among them), deletes, dropped links, crashes, swaps from a
//! callback, calls and events run against a plain list of what should be installed, in order:
//! every result, the order events run in (newest first) and `which_handlers` must agree with it
//! after every step.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use event_core::{
    AddError, Call, CallError, Context, DeleteError, EventManager, HandlerRef, Install, Intensity,
    Step, SupLink, Terminate,
};
use proptest::prelude::*;
use proptest::test_runner::Config;

/// Enough handlers at the start for the list to be indexed.
const START: u64 = 40;
/// Keys are drawn from `0..KEYS`, so installs often collide with a key installed already.
const KEYS: u64 = 100;

#[derive(Debug)]
enum Ev {
    /// Every handler logs the tick with its key.
    Tick(u64),
    /// The handler with this key fails.
    Crash(u64),
    /// The handler `from` swaps itself for the one keyed `to`, in its place.
    Swap { from: u64, to: u64 },
}

type Log = Arc<Mutex<Vec<(u64, u64)>>>;

#[derive(Clone)]
struct Args {
    key: u64,
    log: Log,
}

struct Member {
    key: u64,
    log: Log,
}

/// Asks a member for its key.
struct Who;

impl event_core::Handler<Ev> for Member {
    type Args = Args;
    type Info = ();
    type Handover = ();

    fn init(args: Args, _: &mut Context<Ev, Self>) -> Step<'static, Self> {
        Step::ok(Member {
            key: args.key,
            log: args.log,
        })
    }

    fn handle_event(&mut self, ev: &Ev, cx: &mut Context<Ev, Self>) -> Step<'_> {
        match *ev {
            Ev::Tick(n) => self.log.lock().unwrap().push((n, self.key)),
            Ev::Crash(k) if k == self.key => return Step::err("asked to fail"),
            Ev::Swap { from, to } if from == self.key => {
                let log = self.log.clone();
                cx.swap_self(member(to), (), move |_| Args { key: to, log });
            }
            _ => {}
        }
        Step::ok(())
    }

    fn terminate(self, _: Terminate) -> Step<'static, ()> {
        Step::ok(())
    }
}

impl Call<Ev, Who> for Member {
    type Reply = u64;
    fn handle_call(&mut self, _: Who, _: &mut Context<Ev, Self>) -> Step<'_, u64> {
        Step::ok(self.key)
    }
}

fn member(key: u64) -> Install<Member> {
    Install::<Member>::new().key(key)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Removed when it fails.
    Plain,
    /// Restarted in place, at its place, when it fails.
    InPlace,
    /// Supervised through a link the test holds: removed when it fails or the link is dropped.
    Sup,
}

#[derive(Clone, Debug)]
enum Op {
    Add(u64, Kind),
    Delete(u64),
    DropLink(u64),
    Crash(u64),
    Swap(u64, u64),
    Call(u64),
    Tick,
}

fn op() -> impl Strategy<Value = Op> {
    let key = 0..KEYS;
    let kind = prop_oneof![Just(Kind::Plain), Just(Kind::InPlace), Just(Kind::Sup)];
    prop_oneof![
        4 => (key.clone(), kind).prop_map(|(k, kind)| Op::Add(k, kind)),
        6 => key.clone().prop_map(Op::Delete),
        2 => key.clone().prop_map(Op::DropLink),
        2 => key.clone().prop_map(Op::Crash),
        2 => (key.clone(), key.clone()).prop_map(|(a, b)| Op::Swap(a, b)),
        2 => key.prop_map(Op::Call),
        1 => Just(Op::Tick),
    ]
}

/// What should be installed: keys oldest first, with how each was installed.
struct Model {
    list: Vec<(u64, Kind)>,
}

impl Model {
    fn at(&self, key: u64) -> Option<usize> {
        self.list.iter().position(|(k, _)| *k == key)
    }

    /// The keys newest first: the order of `which_handlers` and of an event.
    fn newest_first(&self) -> Vec<u64> {
        self.list.iter().rev().map(|(k, _)| *k).collect()
    }
}

struct Real {
    manager: EventManager<Ev>,
    log: Log,
    links: HashMap<u64, SupLink<Member>>,
    ticks: u64,
}

impl Real {
    async fn add(&mut self, key: u64, kind: Kind) -> Result<(), AddError> {
        let args = Args {
            key,
            log: self.log.clone(),
        };
        let forever = Intensity::new(u32::MAX, Duration::from_secs(3600));
        match kind {
            Kind::Plain => self
                .manager
                .add_handler_with(member(key), args)
                .await
                .map(drop),
            Kind::InPlace => self
                .manager
                .add_handler_in_place(member(key), args, forever)
                .await
                .map(drop),
            Kind::Sup => {
                let link = self.manager.add_sup_handler_with(member(key), args).await?;
                self.links.insert(key, link);
                Ok(())
            }
        }
    }

    async fn installed(&self) -> Vec<u64> {
        let ids = self.manager.which_handlers().await.unwrap();
        ids.iter().map(|id| key_of(id.key())).collect()
    }

    /// Sends a tick, and returns the keys of the handlers that logged it, in order.
    async fn tick(&mut self) -> Vec<u64> {
        self.ticks += 1;
        let n = self.ticks;
        self.manager.sync_notify(Ev::Tick(n)).await.unwrap();
        let log = std::mem::take(&mut *self.log.lock().unwrap());
        assert!(log.iter().all(|(t, _)| *t == n), "only the last tick");
        log.into_iter().map(|(_, k)| k).collect()
    }
}

fn key_of(key: Option<&event_core::Key>) -> u64 {
    match key {
        Some(event_core::Key::Num(k)) => *k,
        other => panic!("a member has a numeric key, not {other:?}"),
    }
}

async fn run(ops: Vec<Op>) {
    let mut real = Real {
        manager: EventManager::<Ev>::builder().start().unwrap(),
        log: Log::default(),
        links: HashMap::new(),
        ticks: 0,
    };
    let mut model = Model { list: Vec::new() };
    let kinds = [Kind::Plain, Kind::InPlace, Kind::Sup];
    for key in 0..START {
        let kind = kinds[key as usize % 3];
        real.add(key * 2 % KEYS, kind).await.unwrap();
        model.list.push((key * 2 % KEYS, kind));
    }
    for op in ops {
        match op {
            Op::Add(key, kind) => {
                let added = real.add(key, kind).await;
                match model.at(key) {
                    Some(_) => assert!(
                        matches!(added, Err(AddError::AlreadyInstalled(_))),
                        "{key} is installed already: {added:?}"
                    ),
                    None => {
                        added.unwrap();
                        model.list.push((key, kind));
                    }
                }
            }
            Op::Delete(key) => {
                let deleted = real
                    .manager
                    .delete_handler(&member(key).handler_ref().clone(), ())
                    .await;
                match model.at(key) {
                    Some(i) => {
                        deleted.unwrap();
                        model.list.remove(i);
                        real.links.remove(&key);
                    }
                    None => assert!(matches!(deleted, Err(DeleteError::NotInstalled(_)))),
                }
            }
            Op::DropLink(key) => {
                if let Some(link) = real.links.remove(&key) {
                    drop(link);
                    if let Some(i) = model.at(key).filter(|i| model.list[*i].1 == Kind::Sup) {
                        model.list.remove(i);
                    }
                }
            }
            Op::Crash(key) => {
                real.manager.sync_notify(Ev::Crash(key)).await.unwrap();
                if let Some(i) = model.at(key) {
                    match model.list[i].1 {
                        Kind::InPlace => {}
                        Kind::Plain | Kind::Sup => {
                            model.list.remove(i);
                            real.links.remove(&key);
                        }
                    }
                }
            }
            Op::Swap(from, to) => {
                // Only a plain handler swaps itself: its successor is plain too.
                let Some(i) = model.at(from).filter(|i| model.list[*i].1 == Kind::Plain) else {
                    continue;
                };
                real.manager
                    .sync_notify(Ev::Swap { from, to })
                    .await
                    .unwrap();
                if from == to || model.at(to).is_none() {
                    model.list[i].0 = to;
                }
            }
            Op::Call(key) => {
                let href: HandlerRef<Member> = member(key).handler_ref().clone();
                let answer = real.manager.call(&href, Who).await;
                match model.at(key) {
                    Some(_) => assert_eq!(answer.unwrap(), key),
                    None => assert!(matches!(answer, Err(CallError::NotInstalled(_)))),
                }
            }
            Op::Tick => {}
        }
        assert_eq!(
            real.tick().await,
            model.newest_first(),
            "the order of an event"
        );
        assert_eq!(
            real.installed().await,
            model.newest_first(),
            "which_handlers"
        );
    }
    real.manager.stop().await.unwrap();
}

/// Most handlers leave: the list is tidied (its vacant places dropped) with handlers restarted
/// in place, supervised and plain among those left, which are all found and run in order.
#[tokio::test]
async fn handlers_left_after_most_leave_are_found_and_run_in_order() {
    let ops = (0..START)
        .filter(|k| k % 5 != 0)
        .map(|k| Op::Delete(k * 2 % KEYS))
        .chain((0..KEYS).map(Op::Call))
        .chain([
            Op::Add(1, Kind::Sup),
            Op::Crash(0),
            Op::Crash(10),
            Op::Add(3, Kind::Plain),
        ])
        .collect();
    run(ops).await;
}

proptest! {
    #![proptest_config(Config { cases: 48, ..Config::default() })]

    #[test]
    fn a_long_handler_list_behaves_as_a_short_one(ops in prop::collection::vec(op(), 1..300)) {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(run(ops));
    }
}
