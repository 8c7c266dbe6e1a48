//! The dynamic-children figures: a `simple_one_for_one` supervisor whose template is a
//! [`Guard`], each child installing one supervised, keyed [`Counter`] into one manager (OTP's
//! twin: a simple_one_for_one supervisor of gen_servers that each `add_sup_handler` into one
//! gen_event, `otp/geb_children.erl`).
//!
//! - `start`: per child, from the first `start_dynamic` to the last one's return (each returns
//!   once its guard has installed its handler);
//! - `shutdown`: per child, the supervisor's `stop`, which returns once every child has ended
//!   (the manager removes their handlers after, as OTP's manager does on each guard's exit);
//! - `bytes`: per child, the heap the children take, their handlers in the manager and the
//!   supervisor's record of them included;
//! - `emptied`: in all, from the supervisor's `stop` until the manager holds no handler (the
//!   scale harness's `dynamic_children_cN_shutdown`, which counts the removals too).

use std::time::Instant;

use event_core::{EventManager, Guard, Install, Strategy, Supervisor};

use crate::alloc::live;
use event_bench::handlers::{Bench, Counter};

pub(crate) struct Figures {
    pub(crate) start_ns: f64,
    pub(crate) shutdown_ns: f64,
    pub(crate) bytes: f64,
    pub(crate) emptied_ms: f64,
}

pub(crate) async fn dynamic_guards(n: u64) -> Figures {
    let manager = EventManager::<Bench>::builder().start().unwrap();
    let for_template = manager.clone();
    let sup = Supervisor::builder()
        .strategy(Strategy::SimpleOneForOne)
        .template(move |key: u64| {
            Guard::new(&for_template, Install::<Counter>::new().key(key), ()).child("guard")
        })
        .start()
        .await
        .unwrap();
    manager.which_handlers().await.unwrap();
    let before = live();
    let t0 = Instant::now();
    for key in 0..n {
        let child = sup.start_dynamic(key).await.unwrap();
        assert!(child.is_some(), "the guard started");
    }
    let start_ns = t0.elapsed().as_nanos() as f64 / n as f64;
    let bytes = (live() - before) as f64 / n as f64;
    assert_eq!(sup.count_children().await.unwrap().active, n as usize);
    assert_eq!(manager.which_handlers().await.unwrap().len(), n as usize);
    let t1 = Instant::now();
    sup.stop().await.unwrap();
    let shutdown_ns = t1.elapsed().as_nanos() as f64 / n as f64;
    // Each guard's handler is removed when the manager handles its link's end.
    while !manager.which_handlers().await.unwrap().is_empty() {
        tokio::task::yield_now().await;
    }
    let emptied_ms = t1.elapsed().as_secs_f64() * 1e3;
    manager.stop().await.unwrap();
    Figures {
        start_ns,
        shutdown_ns,
        bytes,
        emptied_ms,
    }
}
