//! Plain callbacks cost no allocation per event: once the mailbox has grown to its working
//! size, a thousand more events through ten handlers allocate nothing more than ten do.
//!
//! This binary has its own global allocator, which counts the allocations made on the
//! current thread; the manager runs on a current-thread runtime, so everything it does is
//! counted.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use event_core::{handler, EventManager, Install};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator; the counter is a
// const-initialised thread local without a destructor, so touching it never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(|c| c.get())
}

#[derive(Debug)]
struct Tick(u64);

struct Sum(u64);

/// Written with `#[handler]`: the glue it generates for plain methods is what is measured.
#[handler(event = Tick)]
impl Sum {
    fn init() -> Self {
        Sum(0)
    }

    fn handle_event(&mut self, tick: &Tick) {
        self.0 += tick.0;
    }

    fn terminate(self) -> u64 {
        self.0
    }
}

/// The allocations of one `sync_notify` round trip, with room for a buffer swap.
const ROUND_TRIP: u64 = 4;

/// Allocations made while sending `n` events and waiting for them with one `sync_notify`.
async fn allocations_for(manager: &EventManager<Tick>, n: u64) -> u64 {
    let before = allocations();
    for i in 0..n {
        manager.notify(Tick(i)).await.unwrap();
    }
    manager.sync_notify(Tick(0)).await.unwrap();
    allocations() - before
}

#[test]
fn plain_callbacks_allocate_nothing_per_event() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let manager = EventManager::<Tick>::start().unwrap();
        let mut handlers = Vec::new();
        for key in 0..10u64 {
            let spec = Install::<Sum>::new().key(key);
            handlers.push(manager.add_handler_with(spec, ()).await.unwrap());
        }
        // Let the mailbox and its batch buffer grow to their working size.
        allocations_for(&manager, 20_000).await;

        // A round trip costs a handful of allocations (the sync_notify's reply channel),
        // whatever the number of events before it.
        let few = allocations_for(&manager, 10).await;
        let many = allocations_for(&manager, 10_000).await;
        assert!(
            few <= ROUND_TRIP && many <= ROUND_TRIP,
            "10 events allocated {few} times, 10000 events {many} times: \
             more than the {ROUND_TRIP} of one sync_notify round trip means a per-event allocation"
        );

        let total: u64 = {
            let mut total = 0;
            for h in &handlers {
                total += manager.delete_handler(h, ()).await.unwrap();
            }
            total
        };
        let per_handler: u64 =
            (0..20_000).sum::<u64>() + (0..10).sum::<u64>() + (0..10_000).sum::<u64>();
        assert_eq!(total, 10 * per_handler, "every handler saw every event");
    });
}
