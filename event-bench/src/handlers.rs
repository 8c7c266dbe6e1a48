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
