//! The benchmark program: one line per figure, `name value unit`, with the same figure names as
//! the Erlang/OTP anchor harness, so the two can be compared in one run.
//!
//! `event-bench --quick` runs in well under a minute on 2 cores; without it, more iterations.
//! Words given select the figures whose names contain them (`event-bench --quick --ct call_p`),
//! for profiling one scenario.
//! Every figure is measured on a multi-thread runtime with one worker per core, and again on a
//! current-thread runtime with the suffix `_ct`; the scaling figures (`scale`) on the
//! multi-thread runtime only (on the current-thread one with `--ct`), as OTP's side runs one
//! scheduler per core.

mod alloc;
mod children;
mod peers;
mod restart;
mod scale;

use std::sync::Arc;
use std::time::{Duration, Instant};

use event_core::{EventManager, Install};
use tokio::runtime::Runtime;

use event_bench::handlers::{self, Bench, Count, Counter, Ping, Slow, Stamp, StampSink};

struct Sizes {
    events_h1: u64,
    events_h10: u64,
    events_h100: u64,
    latency_iters: usize,
    restart_iters: usize,
    hol_events: u64,
    memory_handlers: u64,
    memory_managers: u64,
}

/// How many dynamic guard children, for each run of the dynamic-children figures; the same
/// with `--quick`, as the runs take a few seconds.
const DYNAMIC_CHILDREN: [u64; 2] = [10_000, 100_000];

const QUICK: Sizes = Sizes {
    events_h1: 300_000,
    events_h10: 100_000,
    events_h100: 10_000,
    latency_iters: 20_000,
    restart_iters: 5_000,
    hol_events: 200,
    memory_handlers: 100_000,
    memory_managers: 10_000,
};

const FULL: Sizes = Sizes {
    events_h1: 1_000_000,
    events_h10: 300_000,
    events_h100: 30_000,
    latency_iters: 100_000,
    restart_iters: 20_000,
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

/// `NAME_p50` and `NAME_p99` of sorted latencies in ns.
fn print_percentiles(name: &str, suffix: &str, sorted: &[u64]) {
    for (p, tag) in [(0.50, "p50"), (0.99, "p99")] {
        let v = percentile(sorted, p) as f64;
        print(&format!("{name}_{tag}"), suffix, v, "ns");
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

/// Which figures to run: those whose names contain one of the words given (all without any).
struct Only(Vec<String>);

impl Only {
    fn wants(&self, figure: &str) -> bool {
        self.0.is_empty() || self.0.iter().any(|w| figure.contains(w.as_str()))
    }
}

fn run_all(rt: &Runtime, suffix: &str, s: &Sizes, only: &Only) {
    for (h, n) in [(1, s.events_h1), (10, s.events_h10), (100, s.events_h100)] {
        let name = format!("notify_throughput_h{h}");
        let dispatch = h == 100 && only.wants("notify_dispatch_h100");
        if !only.wants(&name) && !dispatch {
            continue;
        }
        let eps = on(rt, notify_throughput(h, n));
        print(&name, suffix, eps, "events/s");
        if h == 100 {
            print(
                "notify_dispatch_h100",
                suffix,
                eps * 100.0,
                "handler_calls/s",
            );
        }
    }
    if only.wants("sync_notify_h10") || only.wants("call_p") {
        let (sync, call) = on(rt, latencies(s.latency_iters));
        print_percentiles("sync_notify_h10", suffix, &sync);
        print_percentiles("call", suffix, &call);
    }
    if only.wants("floor_call_p") {
        let lat = on(rt, peers::tokio_call(s.latency_iters));
        print_percentiles("floor_call", suffix, &lat);
    }
    for (h, n) in [(10, s.events_h10), (100, s.events_h100)] {
        let name = format!("floor_direct_h{h}");
        if only.wants(&name) {
            print(&name, suffix, floor_direct(h, n), "events/s");
        }
    }
    for (h, n) in [(10, s.events_h10), (100, s.events_h100)] {
        let name = format!("peer_broadcast_h{h}");
        if only.wants(&name) {
            print(&name, suffix, on(rt, peers::broadcast(h, n)), "events/s");
        }
    }
    for (h, n) in [(10, s.events_h10), (100, s.events_h100)] {
        let name = format!("peer_ractor_h{h}");
        if only.wants(&name) {
            print(&name, suffix, on(rt, peers::ractor(h, n)), "events/s");
        }
    }
    if only.wants("restart_guard") {
        let lat = on(rt, restart::guard(s.restart_iters));
        print_percentiles("restart_guard", suffix, &lat);
    }
    if only.wants("restart_inplace") {
        let lat = on(rt, restart::in_place(s.restart_iters));
        print_percentiles("restart_inplace", suffix, &lat);
    }
    if only.wants("hol_fast_p99_inline") {
        let inline = on(rt, head_of_line(s.hol_events, false));
        print("hol_fast_p99_inline", suffix, inline as f64, "ns");
    }
    if only.wants("hol_fast_p99_dedicated") {
        let dedicated = on(rt, head_of_line(s.hol_events, true));
        print("hol_fast_p99_dedicated", suffix, dedicated as f64, "ns");
    }
    for n in DYNAMIC_CHILDREN {
        let name = format!("dynamic_guards_c{n}");
        if only.wants(&name) {
            let f = on(rt, children::dynamic_guards(n));
            print(&format!("{name}_start"), suffix, f.start_ns, "ns");
            print(&format!("{name}_shutdown"), suffix, f.shutdown_ns, "ns");
            // Heap bytes are the same on either runtime: printed once, as bytes_per_* are.
            if suffix.is_empty() {
                print(&format!("{name}_bytes"), "", f.bytes, "B");
            }
        }
    }
}

/// `event-bench [--quick] [--mt | --ct] [WORD ...]`: every figure, or only those whose names
/// contain a WORD; `--mt` or `--ct` runs one runtime flavour only.
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let (mt_only, ct_only) = (
        args.iter().any(|a| a == "--mt"),
        args.iter().any(|a| a == "--ct"),
    );
    let only = Only(args.into_iter().filter(|a| !a.starts_with("--")).collect());
    let sizes = if quick { &QUICK } else { &FULL };
    let scale_sizes = if quick { &scale::QUICK } else { &scale::FULL };
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());

    if !ct_only {
        let mt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(cores)
            .enable_all()
            .build()
            .unwrap();
        run_all(&mt, "", sizes, &only);
        scale::run_all(&mt, "", scale_sizes, &only);
    }
    if mt_only {
        return;
    }

    let ct = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    run_all(&ct, "_ct", sizes, &only);
    if ct_only {
        scale::run_all(&ct, "_ct", scale_sizes, &only);
    }

    if only.wants("bytes_per") {
        let (per_handler, per_manager) =
            ct.block_on(alloc::memory(sizes.memory_handlers, sizes.memory_managers));
        print("bytes_per_handler", "", per_handler, "B");
        print("bytes_per_manager_with_1_handler", "", per_manager, "B");
    }
}
