//! Behind the `metrics` feature, a manager and a supervisor report through the `metrics`
//! facade: read back here with a recorder that keeps every counter and gauge in memory.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use event_core::{handler, ChildSpec, EventManager, Install, Intensity, Supervisor};
use metrics::{
    Counter, CounterFn, Gauge, GaugeFn, Histogram, Key, KeyName, Metadata, Recorder, SharedString,
    Unit,
};

/// Every counter and gauge, by `name{label=value,...}`.
#[derive(Default)]
struct Recording {
    counters: Mutex<HashMap<String, Arc<Cell>>>,
    gauges: Mutex<HashMap<String, Arc<Cell>>>,
}

/// A counter's value, or a gauge's as `f64` bits.
#[derive(Default)]
struct Cell(AtomicU64);

impl CounterFn for Cell {
    fn increment(&self, value: u64) {
        self.0.fetch_add(value, Ordering::Relaxed);
    }
    fn absolute(&self, value: u64) {
        self.0.fetch_max(value, Ordering::Relaxed);
    }
}

impl GaugeFn for Cell {
    fn increment(&self, value: f64) {
        self.set(f64::from_bits(self.0.load(Ordering::Relaxed)) + value);
    }
    fn decrement(&self, value: f64) {
        self.set(f64::from_bits(self.0.load(Ordering::Relaxed)) - value);
    }
    fn set(&self, value: f64) {
        self.0.store(value.to_bits(), Ordering::Relaxed);
    }
}

fn key_text(key: &Key) -> String {
    let labels: Vec<String> = key
        .labels()
        .map(|l| format!("{}={}", l.key(), l.value()))
        .collect();
    format!("{}{{{}}}", key.name(), labels.join(","))
}

impl Recorder for &'static Recording {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        let mut counters = self.counters.lock().unwrap();
        Counter::from_arc(counters.entry(key_text(key)).or_default().clone())
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        let mut gauges = self.gauges.lock().unwrap();
        Gauge::from_arc(gauges.entry(key_text(key)).or_default().clone())
    }

    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}

fn recording() -> &'static Recording {
    static RECORDING: OnceLock<&'static Recording> = OnceLock::new();
    RECORDING.get_or_init(|| {
        let recording: &'static Recording = Box::leak(Box::default());
        metrics::set_global_recorder(recording).expect("the only recorder");
        recording
    })
}

impl Recording {
    fn counter(&self, key: &str) -> u64 {
        let counters = self.counters.lock().unwrap();
        let keys: Vec<&String> = counters.keys().collect();
        let cell = counters
            .get(key)
            .unwrap_or_else(|| panic!("a counter {key} among {keys:?}"));
        cell.0.load(Ordering::Relaxed)
    }

    fn gauge(&self, key: &str) -> f64 {
        let gauges = self.gauges.lock().unwrap();
        let cell = gauges.get(key).unwrap_or_else(|| panic!("a gauge {key}"));
        f64::from_bits(cell.0.load(Ordering::Relaxed))
    }
}

#[derive(Debug)]
enum Ev {
    Tick,
    Boom,
}

struct Ping;

struct Fragile;

#[handler(event = Ev)]
impl Fragile {
    fn init() -> Self {
        Fragile
    }

    fn handle_event(&mut self, ev: &Ev) {
        if let Ev::Boom = ev {
            panic!("the fragile handler breaks");
        }
    }

    #[call]
    fn ping(&mut self, _: Ping) -> bool {
        true
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_manager_and_a_supervisor_report_through_the_metrics_facade() {
    let rec = recording();
    let manager = EventManager::<Ev>::builder()
        .name("metered")
        .start()
        .unwrap();
    let intensity = Intensity::new(5, Duration::from_secs(3600));
    let fragile = manager
        .add_handler_in_place(Install::<Fragile>::new(), (), intensity)
        .await
        .unwrap();
    for _ in 0..3 {
        manager.notify(Ev::Tick).await.unwrap();
    }
    manager.sync_notify(Ev::Boom).await.unwrap();
    manager.call(&fragile, Ping).await.unwrap();
    manager.stop().await.unwrap();

    assert_eq!(rec.counter("event_core_events_total{manager=metered}"), 4);
    assert_eq!(rec.counter("event_core_calls_total{manager=metered}"), 1);
    let handler = "Fragile";
    let crashes = format!("event_core_handler_crashes_total{{manager=metered,handler={handler}}}");
    let restarts =
        format!("event_core_handler_restarts_total{{manager=metered,handler={handler}}}");
    assert_eq!(rec.counter(&crashes), 1);
    assert_eq!(rec.counter(&restarts), 1);
    assert!(rec.gauge("event_core_mailbox_messages{manager=metered}") >= 1.0);

    // A child that fails once is restarted once.
    let failed = Arc::new(AtomicBool::new(false));
    let supervisor = Supervisor::builder()
        .name("metered-sup")
        .intensity(intensity)
        .child(ChildSpec::task("once", move |stop| {
            let failed = failed.clone();
            async move {
                if !failed.swap(true, Ordering::SeqCst) {
                    return Err("fails once".into());
                }
                stop.stopped().await;
                Ok(())
            }
        }))
        .start()
        .await
        .unwrap();
    // The child fails as soon as it runs; the supervisor restarts it on its own task.
    while !failed_once(rec) {
        tokio::task::yield_now().await;
    }
    supervisor.stop().await.unwrap();
    assert_eq!(
        rec.counter("event_core_supervisor_restarts_total{supervisor=metered-sup}"),
        1
    );
}

fn failed_once(rec: &Recording) -> bool {
    rec.counters
        .lock()
        .unwrap()
        .contains_key("event_core_supervisor_restarts_total{supervisor=metered-sup}")
}
