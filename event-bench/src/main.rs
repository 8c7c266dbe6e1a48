//! The benchmark program: one line per figure, `name value unit`, with the same figure names as
//! the Erlang/OTP anchor harness, so the two can be compared in one run.
//!
//! `event-bench --quick` runs in well under a minute on 2 cores; without it, more iterations.
//! Every figure is measured on a multi-thread runtime with one worker per core, and again on a
//! current-thread runtime with the suffix `_ct`.

mod alloc;
mod handlers;

use std::sync::Arc;
use std::time::{Duration, Instant};

use event_core::{EventManager, Install};
use tokio::runtime::Runtime;

use handlers::{Bench, Count, Counter, Ping, Slow, Stamp, StampSink};

struct Sizes {
    events_h1: u64,
    events_h10: u64,
    events_h100: u64,
    latency_iters: usize,
    hol_events: u64,
    memory_handlers: u64,
    memory_managers: u64,
}

const QUICK: Sizes = Sizes {
    events_h1: 300_000,
    events_h10: 100_000,
    events_h100: 10_000,
    latency_iters: 20_000,
    hol_events: 200,
    memory_handlers: 100_000,
    memory_managers: 10_000,
};

const FULL: Sizes = Sizes {
    events_h1: 1_000_000,
    events_h10: 300_000,
    events_h100: 30_000,
    latency_iters: 100_000,
    hol_events: 1_000,
    memory_handlers: 100_000,
    memory_managers: 10_000,
};

fn print(name: &str, suffix: &str, value: f64, unit: &str) {
    if value >= 100.0 {
        println!("{name}{suffix} {value:.0} {unit}");
    } else {
        println!("{name}{suffix} {value:.1} {unit}");
    }
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    let i = ((p * sorted.len() as f64).round() as usize).clamp(1, sorted.len());
    sorted[i - 1]
}

async fn manager_with(
    handlers: u64,
) -> (EventManager<Bench>, Vec<event_core::HandlerRef<Counter>>) {
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
    (manager, refs)
}

/// `notify` N events to `handlers` counting handlers, then one `sync_notify` to flush.
async fn notify_throughput(handlers: u64, events: u64) -> f64 {
    let (manager, refs) = manager_with(handlers).await;
    let start = Instant::now();
    for i in 0..events {
        manager.notify(Bench::Event(i)).await.unwrap();
    }
    manager.sync_notify(Bench::Flush).await.unwrap();
    let secs = start.elapsed().as_secs_f64();
    let seen = manager.call(&refs[0], Count).await.unwrap();
    assert_eq!(seen, events + 1, "every event reached the handler");
    manager.stop().await.unwrap();
    events as f64 / secs
}

/// The physical floor: the same handlers called in a plain loop, no channel, no task.
fn floor_direct(handlers: u64, events: u64) -> f64 {
    let mut list: Vec<Box<dyn handlers::Direct>> = (0..handlers)
        .map(|_| Box::new(handlers::DirectCounter::default()) as Box<dyn handlers::Direct>)
        .collect();
    let start = Instant::now();
    for i in 0..events {
        let ev = Bench::Event(i);
        for h in list.iter_mut().rev() {
            h.handle(std::hint::black_box(&ev));
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let seen: u64 = list.iter().map(|h| h.seen()).sum();
    assert_eq!(seen, handlers * events);
    events as f64 / secs
}

/// tokio's broadcast channel with N receiver tasks, each counting, until all saw every event.
async fn peer_broadcast(receivers: u64, events: u64) -> f64 {
    let (tx, _) = tokio::sync::broadcast::channel::<Arc<Bench>>(4096);
    let mut tasks = Vec::new();
    for _ in 0..receivers {
        let mut rx = tx.subscribe();
        tasks.push(tokio::spawn(async move {
            let mut seen = 0u64;
            loop {
                match rx.recv().await {
                    Ok(ev) => {
                        if matches!(*ev, Bench::Flush) {
                            return seen;
                        }
                        seen += 1;
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        panic!("a receiver lagged: the publisher must wait for room")
                    }
                    Err(_) => return seen,
                }
            }
        }));
    }
    let start = Instant::now();
    for i in 0..events {
        // A bounded broadcast drops for laggards; wait for room as a manager's bound would.
        while tx.len() >= 4000 {
            tokio::task::yield_now().await;
        }
        tx.send(Arc::new(Bench::Event(i))).unwrap();
    }
    tx.send(Arc::new(Bench::Flush)).unwrap();
    for t in tasks {
        assert_eq!(t.await.unwrap(), events);
    }
    events as f64 / start.elapsed().as_secs_f64()
}

async fn latencies(iters: usize) -> (Vec<u64>, Vec<u64>) {
    let (manager, refs) = manager_with(10).await;
    for _ in 0..1000 {
        manager.sync_notify(Bench::Event(0)).await.unwrap();
        manager.call(&refs[5], Ping).await.unwrap();
    }
    let mut sync = Vec::with_capacity(iters);
    for _ in 0..iters {
        let t = Instant::now();
        manager.sync_notify(Bench::Event(0)).await.unwrap();
        sync.push(t.elapsed().as_nanos() as u64);
    }
    let mut call = Vec::with_capacity(iters);
    for _ in 0..iters {
        let t = Instant::now();
        manager.call(&refs[5], Ping).await.unwrap();
        call.push(t.elapsed().as_nanos() as u64);
    }
    manager.stop().await.unwrap();
    sync.sort_unstable();
    call.sort_unstable();
    (sync, call)
}

/// One handler sleeping 1 ms per event beside 9 fast ones: the latency the fast ones see,
/// from `notify` to their handling of the event.
async fn head_of_line(events: u64, dedicated: bool) -> u64 {
    let manager = EventManager::<Bench>::builder().start().unwrap();
    let sink = Arc::new(StampSink::default());
    let slow = Install::<Slow>::new();
    let slow = if dedicated {
        slow.dedicated(1024)
    } else {
        slow
    };
    manager
        .add_handler_with(slow, Duration::from_millis(1))
        .await
        .unwrap();
    for key in 0..9u64 {
        manager
            .add_handler_with(Install::<Stamp>::new().key(key), sink.clone())
            .await
            .unwrap();
    }
    let origin = Instant::now();
    sink.origin.set(origin).unwrap();
    for _ in 0..events {
        let sent = origin.elapsed().as_nanos() as u64;
        manager.notify(Bench::Stamped(sent)).await.unwrap();
        // Events arrive at the pace of a publisher, not in one burst.
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
    manager.sync_notify(Bench::Flush).await.unwrap();
    manager.stop().await.unwrap();
    let mut lat = sink.latencies.lock().unwrap().clone();
    assert_eq!(
        lat.len() as u64,
        events * 9,
        "every fast handler saw every event"
    );
    lat.sort_unstable();
    percentile(&lat, 0.99)
}

/// Runs a scenario as a task of the runtime, as an Erlang process runs on a scheduler: the
/// publisher or caller is then a peer of the manager's task, not a thread outside the runtime.
fn on<F>(rt: &Runtime, scenario: F) -> F::Output
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    rt.block_on(async move { tokio::spawn(scenario).await.unwrap() })
}

fn run_all(rt: &Runtime, suffix: &str, s: &Sizes) {
    for (h, n) in [(1, s.events_h1), (10, s.events_h10), (100, s.events_h100)] {
        let eps = on(rt, notify_throughput(h, n));
        print(&format!("notify_throughput_h{h}"), suffix, eps, "events/s");
        if h == 100 {
            print(
                "notify_dispatch_h100",
                suffix,
                eps * 100.0,
                "handler_calls/s",
            );
        }
    }
    let (sync, call) = on(rt, latencies(s.latency_iters));
    print(
        "sync_notify_h10_p50",
        suffix,
        percentile(&sync, 0.50) as f64,
        "ns",
    );
    print(
        "sync_notify_h10_p99",
        suffix,
        percentile(&sync, 0.99) as f64,
        "ns",
    );
    print("call_p50", suffix, percentile(&call, 0.50) as f64, "ns");
    print("call_p99", suffix, percentile(&call, 0.99) as f64, "ns");
    for (h, n) in [(10, s.events_h10), (100, s.events_h100)] {
        print(
            &format!("floor_direct_h{h}"),
            suffix,
            floor_direct(h, n),
            "events/s",
        );
    }
    for (h, n) in [(10, s.events_h10), (100, s.events_h100)] {
        let eps = on(rt, peer_broadcast(h, n));
        print(&format!("peer_broadcast_h{h}"), suffix, eps, "events/s");
    }
    let inline = on(rt, head_of_line(s.hol_events, false));
    print("hol_fast_p99_inline", suffix, inline as f64, "ns");
    let dedicated = on(rt, head_of_line(s.hol_events, true));
    print("hol_fast_p99_dedicated", suffix, dedicated as f64, "ns");
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let sizes = if quick { &QUICK } else { &FULL };
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());

    let mt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores)
        .enable_all()
        .build()
        .unwrap();
    run_all(&mt, "", sizes);
    drop(mt);

    let ct = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    run_all(&ct, "_ct", sizes);

    let (per_handler, per_manager) =
        ct.block_on(alloc::memory(sizes.memory_handlers, sizes.memory_managers));
    print("bytes_per_handler", "", per_handler, "B");
    print("bytes_per_manager_with_1_handler", "", per_manager, "B");
}
