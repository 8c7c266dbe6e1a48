//! The handlers the benchmark installs.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use event_core::{Call, Context, Handler, Step, Terminate};

/// The benchmark's event.
#[derive(Debug)]
pub enum Bench {
    Event(u64),
    /// An event carrying the nanoseconds since the run's origin at which it was sent.
    Stamped(u64),
    Flush,
    /// Crashes a [`Fragile`] handler.
    Boom,
}

/// Counts the events it sees.
pub struct Counter(u64);

/// Asks a [`Counter`] for its count.
pub struct Count;
/// A request answered at once.
pub struct Ping;

impl Handler<Bench> for Counter {
    type Args = ();
    type Info = ();
    type Handover = u64;

    fn init(_: (), _: &mut Context<Bench, Self>) -> Step<'static, Self> {
        Step::ok(Counter(0))
    }

    fn handle_event(&mut self, ev: &Bench, _: &mut Context<Bench, Self>) -> Step<'_> {
        if let Bench::Event(n) = ev {
            std::hint::black_box(n);
        }
        self.0 += 1;
        Step::ok(())
    }

    fn terminate(self, _: Terminate) -> Step<'static, u64> {
        Step::ok(self.0)
    }
}

impl Call<Bench, Count> for Counter {
    type Reply = u64;
    fn handle_call(&mut self, _: Count, _: &mut Context<Bench, Self>) -> Step<'_, u64> {
        Step::ok(self.0)
    }
}

impl Call<Bench, Ping> for Counter {
    type Reply = ();
    fn handle_call(&mut self, _: Ping, _: &mut Context<Bench, Self>) -> Step<'_> {
        Step::ok(())
    }
}

/// The floor's handler: the same work behind a plain trait object.
pub trait Direct {
    fn handle(&mut self, event: &Bench);
    fn seen(&self) -> u64;
}

#[derive(Default)]
pub struct DirectCounter(u64);

impl Direct for DirectCounter {
    fn handle(&mut self, ev: &Bench) {
        if let Bench::Event(n) = ev {
            std::hint::black_box(n);
        }
        self.0 += 1;
    }
    fn seen(&self) -> u64 {
        self.0
    }
}

/// Sleeps for its args' duration on every event: the slow handler of the head-of-line figure.
pub struct Slow(Duration);

impl Handler<Bench> for Slow {
    type Args = Duration;
    type Info = ();
    type Handover = ();

    fn init(d: Duration, _: &mut Context<Bench, Self>) -> Step<'static, Self> {
        Step::ok(Slow(d))
    }

    fn handle_event<'a>(&'a mut self, ev: &'a Bench, _: &'a mut Context<Bench, Self>) -> Step<'a> {
        if matches!(ev, Bench::Flush) {
            return Step::ok(());
        }
        let d = self.0;
        Step::from_async(async move {
            tokio::time::sleep(d).await;
            Ok(())
        })
    }

    fn terminate(self, _: Terminate) -> Step<'static, ()> {
        Step::ok(())
    }
}

/// Where [`Stamp`] handlers record the latency they saw.
#[derive(Default)]
pub struct StampSink {
    pub origin: OnceLock<Instant>,
    pub latencies: Mutex<Vec<u64>>,
}

/// Records, for each stamped event, the time from its sending to its handling here.
pub struct Stamp(Arc<StampSink>);

impl Handler<Bench> for Stamp {
    type Args = Arc<StampSink>;
    type Info = ();
    type Handover = ();

    fn init(sink: Arc<StampSink>, _: &mut Context<Bench, Self>) -> Step<'static, Self> {
        Step::ok(Stamp(sink))
    }

    fn handle_event(&mut self, ev: &Bench, _: &mut Context<Bench, Self>) -> Step<'_> {
        if let (Bench::Stamped(sent), Some(origin)) = (ev, self.0.origin.get()) {
            let now = origin.elapsed().as_nanos() as u64;
            self.0.latencies.lock().unwrap().push(now - sent);
        }
        Step::ok(())
    }

    fn terminate(self, _: Terminate) -> Step<'static, ()> {
        Step::ok(())
    }
}

/// Crashes (returns an error, as `erlang:error(boom)` raises one) on [`Bench::Boom`] and
/// answers [`Ping`]: the handler of the restart figures.
pub struct Fragile;

impl Handler<Bench> for Fragile {
    type Args = ();
    type Info = ();
    type Handover = ();

    fn init(_: (), _: &mut Context<Bench, Self>) -> Step<'static, Self> {
        Step::ok(Fragile)
    }

    fn handle_event(&mut self, ev: &Bench, _: &mut Context<Bench, Self>) -> Step<'_> {
        match ev {
            Bench::Boom => Step::err("boom"),
            _ => Step::ok(()),
        }
    }

    fn terminate(self, _: Terminate) -> Step<'static, ()> {
        Step::ok(())
    }
}

impl Call<Bench, Ping> for Fragile {
    type Reply = ();
    fn handle_call(&mut self, _: Ping, _: &mut Context<Bench, Self>) -> Step<'_> {
        Step::ok(())
    }
}

/// Where a scale handler tells the harness that its work is done, and when.
pub type DoneAt = Arc<Mutex<Option<tokio::sync::oneshot::Sender<Instant>>>>;

fn tell(done: &DoneAt) {
    if let Some(tx) = done.lock().unwrap().take() {
        let _ = tx.send(Instant::now());
    }
}

/// Counts events up to its quota, then counts the managers left down; the last one to finish
/// tells the harness (OTP's twin: `scale_handler` with `{quota, Q, Left, Parent}`).
pub struct Quota {
    seen: u64,
    quota: u64,
    left: Arc<std::sync::atomic::AtomicU64>,
    done: DoneAt,
}

impl Handler<Bench> for Quota {
    type Args = (u64, Arc<std::sync::atomic::AtomicU64>, DoneAt);
    type Info = ();
    type Handover = ();

    fn init((quota, left, done): Self::Args, _: &mut Context<Bench, Self>) -> Step<'static, Self> {
        Step::ok(Quota {
            seen: 0,
            quota,
            left,
            done,
        })
    }

    fn handle_event(&mut self, _: &Bench, _: &mut Context<Bench, Self>) -> Step<'_> {
        self.seen += 1;
        if self.seen == self.quota
            && self.left.fetch_sub(1, std::sync::atomic::Ordering::AcqRel) == 1
        {
            tell(&self.done);
        }
        Step::ok(())
    }

    fn terminate(self, _: Terminate) -> Step<'static, ()> {
        Step::ok(())
    }
}

/// Watches the subscribers it is called with; tells the harness when the last is gone (OTP's
/// twin: `scale_handler` with `{watch, N, Parent}`).
pub struct Watcher {
    left: u64,
    done: DoneAt,
}

/// Asks a [`Watcher`] to watch these tasks; the emptied list comes back, so that the harness
/// frees it after counting the watches' bytes.
pub struct WatchAll(pub Vec<tokio::task::JoinHandle<()>>);

impl Handler<Bench> for Watcher {
    type Args = (u64, DoneAt);
    type Info = ();
    type Handover = ();

    fn init((left, done): Self::Args, _: &mut Context<Bench, Self>) -> Step<'static, Self> {
        Step::ok(Watcher { left, done })
    }

    fn handle_event(&mut self, _: &Bench, _: &mut Context<Bench, Self>) -> Step<'_> {
        Step::ok(())
    }

    fn handle_info<'a>(
        &'a mut self,
        info: event_core::Info<()>,
        _: &'a mut Context<Bench, Self>,
    ) -> Step<'a> {
        if let event_core::Info::Down(_) = info {
            self.left -= 1;
            if self.left == 0 {
                tell(&self.done);
            }
        }
        Step::ok(())
    }

    fn terminate(self, _: Terminate) -> Step<'static, ()> {
        Step::ok(())
    }
}

impl Call<Bench, WatchAll> for Watcher {
    type Reply = Vec<tokio::task::JoinHandle<()>>;
    fn handle_call(
        &mut self,
        WatchAll(mut tasks): WatchAll,
        cx: &mut Context<Bench, Self>,
    ) -> Step<'_, Self::Reply> {
        for task in tasks.drain(..) {
            cx.watch(task);
        }
        Step::ok(tasks)
    }
}

/// Arms timers due at one instant; tells the harness when the last has fired (OTP's twin:
/// `scale_handler` with `{timers, N, Parent}`).
pub struct Timers {
    left: u64,
    done: DoneAt,
}

/// Asks [`Timers`] to arm this many timers due at this instant.
pub struct ArmAt(pub u64, pub tokio::time::Instant);

impl Handler<Bench> for Timers {
    type Args = (u64, DoneAt);
    type Info = ();
    type Handover = ();

    fn init((left, done): Self::Args, _: &mut Context<Bench, Self>) -> Step<'static, Self> {
        Step::ok(Timers { left, done })
    }

    fn handle_event(&mut self, _: &Bench, _: &mut Context<Bench, Self>) -> Step<'_> {
        Step::ok(())
    }

    fn handle_info<'a>(
        &'a mut self,
        info: event_core::Info<()>,
        _: &'a mut Context<Bench, Self>,
    ) -> Step<'a> {
        if let event_core::Info::Message(()) = info {
            self.left -= 1;
            if self.left == 0 {
                tell(&self.done);
            }
        }
        Step::ok(())
    }

    fn terminate(self, _: Terminate) -> Step<'static, ()> {
        Step::ok(())
    }
}

impl Call<Bench, ArmAt> for Timers {
    type Reply = u64;
    fn handle_call(&mut self, ArmAt(n, at): ArmAt, cx: &mut Context<Bench, Self>) -> Step<'_, u64> {
        for _ in 0..n {
            cx.send_at(at, ());
        }
        Step::ok(n)
    }
}
