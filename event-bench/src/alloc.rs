//! Heap bytes, counted by a global allocator that tracks the bytes live.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use event_core::{EventManager, Install};

use event_bench::handlers::{Bench, Counter};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the counter is a plain
// atomic.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

pub(crate) fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

/// Heap bytes per handler in one manager with `handlers` handlers, and per manager with one
/// handler among `managers` managers. Run on a current-thread runtime, so every manager has
/// handled its installs when they return.
pub(crate) async fn memory(handlers: u64, managers: u64) -> (f64, f64) {
    let manager = EventManager::<Bench>::builder().start().unwrap();
    manager.which_handlers().await.unwrap();
    let before = live();
    for key in 0..handlers {
        manager
            .add_handler_with(Install::<Counter>::new().key(key), ())
            .await
            .unwrap();
    }
    let per_handler = (live() - before) as f64 / handlers as f64;
    manager.stop().await.unwrap();
    drop(manager);

    let before = live();
    let mut all = Vec::with_capacity(managers as usize);
    for _ in 0..managers {
        let m = EventManager::<Bench>::builder().start().unwrap();
        m.add_handler::<Counter>(()).await.unwrap();
        all.push(m);
    }
    let per_manager = (live() - before) as f64 / managers as f64;
    for m in &all {
        m.stop().await.unwrap();
    }
    (per_handler, per_manager)
}
