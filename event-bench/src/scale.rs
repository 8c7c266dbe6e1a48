//! The scaling figures: event-core as the work grows, in the scenarios, sizes and figure names
//! of the OTP side (`anchors/erlang/scale/scale.erl`), so that compare.sh sets them side by
//! side. Units as there: events/s and handler_calls/s are rates, ns and B are per item, ms is
//! the total for all items.
//!
//! - `fanin_pN`: N publisher tasks notify one manager with one counting handler;
//! - `dispatch_hN`: one manager with N counting handlers;
//! - `managers_kN_*`: N managers with one handler each: start (per manager), bytes (per
//!   manager), and events sent round-robin to all of them;
//! - `watch_sN_*`: one handler watching N subscribers (tasks, ended by abort as OTP's are
//!   killed): register (all), bytes (per watch), down (all, from the first abort to the last
//!   notice handled);
//! - `timers_tN_*`: one handler arming N timers due at one instant: arm (all), bytes (per
//!   timer), fire (from the instant to the last message handled);
//! - `dynamic_children_cN_*`: a simple_one_for_one supervisor of N guards: start (per child),
//!   bytes (per child), shutdown (all, until the manager has removed their handlers);
//! - `call_among_hN`: a call to one handler among N, mean ns (not an OTP figure).

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use event_core::{EventManager, Install};
use tokio::sync::oneshot;

use crate::alloc::live;
use crate::{on, print, Only};
use event_bench::handlers::{
    ArmAt, Bench, Count, Counter, DoneAt, Ping, Quota, Timers, WatchAll, Watcher,
};

/// The sizes of a run. The OTP side runs its full sizes; `--quick` sends fewer events for the
/// rates, and keeps every item count, so that each figure has its OTP twin.
pub(crate) struct Scale {
    fanin_events: u64,
    dispatch_calls: u64,
    managers_events: u64,
    call_iters: u64,
}

pub(crate) const QUICK: Scale = Scale {
    fanin_events: 400_000,
    dispatch_calls: 4_000_000,
    managers_events: 1_000_000,
    call_iters: 200_000,
};

pub(crate) const FULL: Scale = Scale {
    fanin_events: 2_000_000,
    dispatch_calls: 20_000_000,
    managers_events: 1_000_000,
    call_iters: 1_000_000,
};

const FANIN_PUBLISHERS: [u64; 4] = [1, 4, 16, 64];
const DISPATCH_HANDLERS: [u64; 2] = [1_000, 10_000];
const MANAGERS: [u64; 3] = [1_000, 10_000, 100_000];
const WATCHES: [u64; 3] = [1_000, 10_000, 100_000];
const TIMERS: [u64; 3] = [1_000, 10_000, 100_000];
const CHILDREN: [u64; 3] = [100, 1_000, 10_000];
const CALL_AMONG: [u64; 2] = [10, 10_000];

fn done() -> (DoneAt, oneshot::Receiver<Instant>) {
    let (tx, rx) = oneshot::channel();
    (Arc::new(Mutex::new(Some(tx))), rx)
}

pub(crate) fn run_all(rt: &tokio::runtime::Runtime, suffix: &str, s: &Scale, only: &Only) {
    for p in FANIN_PUBLISHERS {
        let name = format!("fanin_p{p}");
        if only.wants(&name) {
            print(&name, suffix, on(rt, fanin(p, s.fanin_events)), "events/s");
        }
    }
    for h in DISPATCH_HANDLERS {
        let name = format!("dispatch_h{h}");
        if only.wants(&name) {
            let rate = on(rt, dispatch(h, s.dispatch_calls));
            print(&name, suffix, rate, "handler_calls/s");
        }
    }
    for n in MANAGERS {
        let name = format!("managers_k{n}");
        if only.wants(&name) {
            let (start, bytes, events) = on(rt, managers(n, s.managers_events));
            print(&format!("{name}_start"), suffix, start, "ns");
            print(&format!("{name}_bytes"), suffix, bytes, "B");
            print(&format!("{name}_events"), suffix, events, "events/s");
        }
    }
    for n in WATCHES {
        let name = format!("watch_s{n}");
        if only.wants(&name) {
            let (register, bytes, down) = on(rt, watch(n));
            print(&format!("{name}_register"), suffix, register, "ms");
            print(&format!("{name}_bytes"), suffix, bytes, "B");
            print(&format!("{name}_down"), suffix, down, "ms");
        }
    }
    for n in TIMERS {
        let name = format!("timers_t{n}");
        if only.wants(&name) {
            let (arm, bytes, fire) = on(rt, timers(n));
            print(&format!("{name}_arm"), suffix, arm, "ms");
            print(&format!("{name}_bytes"), suffix, bytes, "B");
            print(&format!("{name}_fire"), suffix, fire, "ms");
        }
    }
    for n in CHILDREN {
        let name = format!("dynamic_children_c{n}");
        if only.wants(&name) {
            let (start, bytes, shutdown) = on(rt, dynamic_children(n));
            print(&format!("{name}_start"), suffix, start, "ns");
            print(&format!("{name}_bytes"), suffix, bytes, "B");
            print(&format!("{name}_shutdown"), suffix, shutdown, "ms");
        }
    }
    for h in CALL_AMONG {
        let name = format!("call_among_h{h}");
        if only.wants(&name) {
            print(&name, suffix, on(rt, call_among(h, s.call_iters)), "ns");
        }
    }
}

async fn fanin(publishers: u64, events: u64) -> f64 {
    let manager = EventManager::<Bench>::builder().start().unwrap();
    let counter = manager.add_handler::<Counter>(()).await.unwrap();
    let each = events / publishers;
    let t0 = Instant::now();
    let tasks: Vec<_> = (0..publishers)
        .map(|_| {
            let m = manager.clone();
            tokio::spawn(async move {
                for i in 0..each {
                    m.notify(Bench::Event(i)).await.unwrap();
                }
                m.sync_notify(Bench::Flush).await.unwrap();
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let secs = t0.elapsed().as_secs_f64();
    let seen = manager.call(&counter, Count).await.unwrap();
    assert_eq!(seen, (each + 1) * publishers);
    manager.stop().await.unwrap();
    (each * publishers) as f64 / secs
}

async fn dispatch(handlers: u64, calls: u64) -> f64 {
    let manager = EventManager::<Bench>::builder().start().unwrap();
    let mut first = None;
    for key in 0..handlers {
        let r = manager
            .add_handler_with(Install::<Counter>::new().key(key), ())
            .await
            .unwrap();
        first.get_or_insert(r);
    }
    let events = calls / handlers;
    let t0 = Instant::now();
    for i in 0..events {
        manager.notify(Bench::Event(i)).await.unwrap();
    }
    manager.sync_notify(Bench::Flush).await.unwrap();
    let secs = t0.elapsed().as_secs_f64();
    let seen = manager.call(&first.unwrap(), Count).await.unwrap();
    assert_eq!(seen, events + 1);
    manager.stop().await.unwrap();
    (events * handlers) as f64 / secs
}

async fn managers(n: u64, events: u64) -> (f64, f64, f64) {
    let quota = events / n;
    let left = Arc::new(AtomicU64::new(n));
    let (done, rx) = done();
    let mut all = Vec::with_capacity(n as usize);
    let before = live();
    let t0 = Instant::now();
    for _ in 0..n {
        let m = EventManager::<Bench>::builder().start().unwrap();
        m.add_handler::<Quota>((quota, left.clone(), done.clone()))
            .await
            .unwrap();
        all.push(m);
    }
    let start = t0.elapsed().as_nanos() as f64 / n as f64;
    let bytes = (live() - before) as f64 / n as f64;
    let t1 = Instant::now();
    for i in 0..quota {
        for m in &all {
            m.notify(Bench::Event(i)).await.unwrap();
        }
    }
    let t2 = rx.await.unwrap();
    let secs = (t2 - t1).as_secs_f64();
    for m in &all {
        m.stop().await.unwrap();
    }
    (start, bytes, (quota * n) as f64 / secs)
}

async fn watch(n: u64) -> (f64, f64, f64) {
    let manager = EventManager::<Bench>::builder().start().unwrap();
    let (done, rx) = done();
    let watcher = manager.add_handler::<Watcher>((n, done)).await.unwrap();
    let subscribers: Vec<_> = (0..n)
        .map(|_| tokio::spawn(std::future::pending::<()>()))
        .collect();
    let aborts: Vec<_> = subscribers.iter().map(|t| t.abort_handle()).collect();
    // Every subscriber has started (and waits), as OTP's have.
    tokio::task::yield_now().await;
    manager.which_handlers().await.unwrap();
    let before = live();
    let t0 = Instant::now();
    let emptied = manager.call(&watcher, WatchAll(subscribers)).await.unwrap();
    let register = t0.elapsed().as_secs_f64() * 1e3;
    // The manager polls each watch once before it takes the next message.
    manager.which_handlers().await.unwrap();
    let bytes = (live() - before) as f64 / n as f64;
    drop(emptied);
    let t1 = Instant::now();
    for a in &aborts {
        a.abort();
    }
    let t2 = rx.await.unwrap();
    manager.stop().await.unwrap();
    (register, bytes, (t2 - t1).as_secs_f64() * 1e3)
}

/// As on the OTP side: room to arm them all, and to count their bytes, first.
fn timer_delay(n: u64) -> Duration {
    Duration::from_millis(100 + 3 * n / 1000)
}

async fn timers(n: u64) -> (f64, f64, f64) {
    let manager = EventManager::<Bench>::builder().start().unwrap();
    let (done, rx) = done();
    let timers = manager.add_handler::<Timers>((n, done)).await.unwrap();
    manager.which_handlers().await.unwrap();
    let before = live();
    let t0 = Instant::now();
    let deadline = t0 + timer_delay(n);
    let armed = manager
        .call(&timers, ArmAt(n, deadline.into()))
        .await
        .unwrap();
    assert_eq!(armed, n);
    let arm = t0.elapsed().as_secs_f64() * 1e3;
    let bytes = (live() - before) as f64 / n as f64;
    if Instant::now() >= deadline {
        eprintln!("timers_t{n}: armed after the deadline");
    }
    let t2 = rx.await.unwrap();
    manager.stop().await.unwrap();
    (
        arm,
        bytes,
        t2.saturating_duration_since(deadline).as_secs_f64() * 1e3,
    )
}

/// The figures of `children::dynamic_guards`, in the scale harness's units: start per child
/// (ns), bytes per child, and the shutdown until the manager holds no handler (ms in all).
async fn dynamic_children(n: u64) -> (f64, f64, f64) {
    let f = crate::children::dynamic_guards(n).await;
    (f.start_ns, f.bytes, f.emptied_ms)
}

async fn call_among(handlers: u64, iters: u64) -> f64 {
    let manager = EventManager::<Bench>::builder().start().unwrap();
    let mut refs = Vec::new();
    for key in 0..handlers {
        refs.push(
            manager
                .add_handler_with(Install::<Counter>::new().key(key), ())
                .await
                .unwrap(),
        );
    }
    // One in the middle of the list.
    let target = &refs[refs.len() / 2];
    for _ in 0..1000 {
        manager.call(target, Ping).await.unwrap();
    }
    let t0 = Instant::now();
    for _ in 0..iters {
        manager.call(target, Ping).await.unwrap();
    }
    let ns = t0.elapsed().as_nanos() as f64 / iters as f64;
    manager.stop().await.unwrap();
    ns
}
