//! Micro-benchmarks of the manager's hot paths, on a current-thread runtime so that nothing but
//! the path itself is measured: `notify` (with one `sync_notify` per batch to flush),
//! `sync_notify` through 1, 10 and 100 handlers (the dispatch cost per handler is the
//! difference), and a typed `call` to one handler among 10 and among 100 (the lookup).
//!
//! `cargo bench -p event-bench --bench hot_paths`. Each sample runs a batch of operations
//! inside one `block_on`, so the runtime's entry cost is spread over the batch.

use divan::counter::ItemsCount;
use divan::Bencher;
use event_bench::handlers::{Bench, Counter, Ping};
use event_core::{EventManager, HandlerRef, Install};
use tokio::runtime::Runtime;

const BATCH: usize = 100;

fn main() {
    divan::main();
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A manager with `n` counting handlers, keyed 0..n; the reference to the one keyed `call`.
fn manager(rt: &Runtime, n: u64, call: u64) -> (EventManager<Bench>, HandlerRef<Counter>) {
    rt.block_on(async {
        let manager = EventManager::<Bench>::builder().start().unwrap();
        for key in 0..n {
            manager
                .add_handler_with(Install::<Counter>::new().key(key), ())
                .await
                .unwrap();
        }
        (manager, HandlerRef::with_key(call))
    })
}

/// `notify` of a batch of events to `n` handlers, flushed by one `sync_notify`.
#[divan::bench(args = [1, 10, 100])]
fn notify(bencher: Bencher, n: u64) {
    let rt = runtime();
    let (manager, _) = manager(&rt, n, 0);
    bencher.counter(ItemsCount::new(BATCH)).bench_local(|| {
        rt.block_on(async {
            for i in 0..BATCH as u64 {
                manager.notify(Bench::Event(i)).await.unwrap();
            }
            manager.sync_notify(Bench::Flush).await.unwrap();
        })
    });
}

/// `sync_notify` through `n` handlers, one after the other.
#[divan::bench(args = [1, 10, 100])]
fn sync_notify(bencher: Bencher, n: u64) {
    let rt = runtime();
    let (manager, _) = manager(&rt, n, 0);
    bencher.counter(ItemsCount::new(BATCH)).bench_local(|| {
        rt.block_on(async {
            for i in 0..BATCH as u64 {
                manager.sync_notify(Bench::Event(i)).await.unwrap();
            }
        })
    });
}

/// A typed call to the middle one of `n` handlers, one after the other.
#[divan::bench(args = [10, 100])]
fn call(bencher: Bencher, n: u64) {
    let rt = runtime();
    let (manager, target) = manager(&rt, n, n / 2);
    bencher.counter(ItemsCount::new(BATCH)).bench_local(|| {
        rt.block_on(async {
            for _ in 0..BATCH {
                manager.call(&target, Ping).await.unwrap();
            }
        })
    });
}
