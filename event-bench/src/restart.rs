//! The restart figures: from the event that crashes a supervised handler to its successor
//! answering a call, through a guard (OTP's way: a process holding `add_sup_handler`
//! re-installs on `gen_event_EXIT`) and through an in-place restart.

use std::time::{Duration, Instant};

use event_core::{AddError, EventManager, Guard, HandlerRef, Install, Intensity, Supervisor};
use tokio::sync::mpsc;

use event_bench::handlers::{Bench, Fragile, Ping};

const WARMUP: usize = 200;

/// A guard under a supervisor re-installs the crashed handler; it tells the bench each time it
/// has (as the OTP anchor's guard process sends `reinstalled`), and the bench then calls it.
pub(crate) async fn guard(iters: usize) -> Vec<u64> {
    let manager = EventManager::<Bench>::builder().start().unwrap();
    let (installed, mut rx) = mpsc::unbounded_channel();
    let for_guard = manager.clone();
    let guard = Guard::custom(move || {
        let manager = for_guard.clone();
        let installed = installed.clone();
        async move {
            let link = manager.add_sup_handler::<Fragile>(()).await?;
            let _ = installed.send(());
            Ok::<_, AddError>(link)
        }
    });
    let sup = Supervisor::builder()
        .child(guard.child("fragile"))
        .start()
        .await
        .unwrap();
    rx.recv().await.unwrap();
    let fragile = HandlerRef::<Fragile>::new();
    let mut lat = Vec::with_capacity(iters);
    for i in 0..WARMUP + iters {
        let t = Instant::now();
        manager.notify(Bench::Boom).await.unwrap();
        rx.recv().await.unwrap();
        manager.call(&fragile, Ping).await.unwrap();
        if i >= WARMUP {
            lat.push(t.elapsed().as_nanos() as u64);
        }
    }
    sup.stop().await.unwrap();
    manager.stop().await.unwrap();
    lat.sort_unstable();
    lat
}

/// The manager re-initialises the crashed handler before its next message: the call queued
/// right behind the crashing event is answered by the new incarnation.
pub(crate) async fn in_place(iters: usize) -> Vec<u64> {
    let manager = EventManager::<Bench>::builder().start().unwrap();
    // Never spent within a run: the figure is the restart, not the give-up.
    let intensity = Intensity::new(u32::MAX, Duration::from_millis(10));
    let mut link = manager
        .add_sup_handler_in_place(Install::<Fragile>::new(), (), intensity)
        .await
        .unwrap();
    let fragile = link.handler().clone();
    let mut lat = Vec::with_capacity(iters);
    for i in 0..WARMUP + iters {
        let t = Instant::now();
        manager.notify(Bench::Boom).await.unwrap();
        manager.call(&fragile, Ping).await.unwrap();
        if i >= WARMUP {
            lat.push(t.elapsed().as_nanos() as u64);
        }
        assert!(
            link.try_restarted().is_some(),
            "the crash was restarted in place"
        );
    }
    manager.stop().await.unwrap();
    lat.sort_unstable();
    lat
}
