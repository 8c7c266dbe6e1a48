//! A first minute with event-core.
//!
//! A supervision tree, declared in a few lines: an event manager for a thermometer's readings
//! and two handlers, each kept installed by a guard. Readings are published; a garbled one
//! crashes both handlers. `Average` is restarted in place: the manager re-creates it before
//! its next message, so the very next request is answered. `Alarm` is re-installed by its
//! guard. At the end, the tree and its counters.
//!
//! Run it with `cargo run --example demo`.

use event_core::{handler, supervisor, ChildCount, ChildInfo, HandlerId};
use tokio::sync::Semaphore;

/// The events: a thermometer's readings.
#[derive(Debug)]
pub enum Reading {
    Celsius(i32),
    Garbled,
}

/// A request every handler here answers: how many readings it handled.
pub struct Handled;

/// Keeps the average temperature.
#[handler] // crash reports show its fields
pub struct Average {
    sum: i32,
    count: u32,
}

/// A request: the average so far, if there were readings.
pub struct Get;

#[handler(event = Reading)]
impl Average {
    fn init() -> Self {
        Average { sum: 0, count: 0 }
    }

    fn handle_event(&mut self, reading: &Reading) -> Result<(), &'static str> {
        match reading {
            Reading::Celsius(t) => {
                self.sum += t;
                self.count += 1;
                Ok(())
            }
            Reading::Garbled => Err("cannot parse a garbled reading"), // a crash
        }
    }

    #[call]
    fn get(&self, _: Get) -> Option<f64> {
        (self.count > 0).then(|| f64::from(self.sum) / f64::from(self.count))
    }

    #[call]
    fn handled(&self, _: Handled) -> u32 {
        self.count
    }
}

/// Raises an alarm above 30 °C.
#[handler]
pub struct Alarm {
    handled: u32,
}

/// One permit per install of `Alarm`, so that the demo can wait for its guard.
static ALARM_INSTALLS: Semaphore = Semaphore::const_new(0);

#[handler(event = Reading)]
impl Alarm {
    fn init() -> Self {
        ALARM_INSTALLS.add_permits(1);
        Alarm { handled: 0 }
    }

    fn handle_event(&mut self, reading: &Reading) -> Result<(), String> {
        match reading {
            Reading::Celsius(t) if *t > 30 => println!("  alarm:   {t} °C is too hot!"),
            Reading::Celsius(_) => {}
            Reading::Garbled => return Err(format!("unreadable: {reading:?}")), // a crash
        }
        self.handled += 1;
        Ok(())
    }

    #[call]
    fn handled(&self, _: Handled) -> u32 {
        self.handled
    }
}

supervisor! {
    /// The tree: the manager starts first, then the guards that install the handlers.
    pub struct Sensors {
        strategy: one_for_one,
        children: [
            // Its crash reports show the event that was running.
            manager readings: Reading { debug_events: true },
            // Restarted by the manager itself, before its next message.
            guard average: Average { manager: readings, in_place: true },
            // Re-installed by its guard once it hears of the crash.
            guard alarm: Alarm { manager: readings },
        ],
    }
}

/// What happened.
#[derive(Debug)]
pub struct Outcome {
    /// The average before the crash.
    pub average: Option<f64>,
    /// The average asked right behind the crash: a new `Average` answered, with no readings.
    pub average_after_crash: Option<f64>,
    /// The tree's children at the end, newest first.
    pub children: Vec<ChildInfo>,
    /// The tree's counts at the end.
    pub count: ChildCount,
    /// The handlers at the end, newest first.
    pub handlers: Vec<HandlerId>,
    /// The readings `Alarm` and `Average` handled since they were last (re)started.
    pub handled: (u32, u32),
}

/// Runs the demo, narrating it on stdout. Run it once per process: `Alarm` counts its installs
/// in a static.
pub async fn run() -> Result<Outcome, Box<dyn std::error::Error>> {
    let tree = Sensors::start().await?;
    let readings = tree.readings();
    println!("the tree is up:");
    show_tree(&tree).await?;

    println!("\npublishing 21 °C, 24 °C and 33 °C");
    for t in [21, 24, 33] {
        readings.notify(Reading::Celsius(t)).await?;
    }
    let average = readings.call(tree.average(), Get).await?;
    println!("  average: {:.1} °C", average.unwrap_or_default());

    println!("\na garbled reading crashes both handlers (the crash reports are `tracing` errors)");
    readings.notify(Reading::Garbled).await?;
    // Sent right behind the crash: the manager restarted `Average` before taking it.
    let average_after_crash = readings.call(tree.average(), Get).await?;
    match average_after_crash {
        None => println!("  average: restarted in place, answers at once: no readings yet"),
        Some(a) => println!("  average: answers {a:.1} °C"),
    }
    // The guard re-installs `Alarm` on its own: wait for its second install.
    ALARM_INSTALLS.acquire_many(2).await?.forget();
    println!("  alarm:   re-installed by its guard");

    println!("\npublishing 35 °C");
    readings.sync_notify(Reading::Celsius(35)).await?;

    println!("\nthe tree and its counters:");
    let (children, count) = show_tree(&tree).await?;
    let handlers = readings.which_handlers().await?;
    let handled = (
        readings.call(tree.alarm(), Handled).await?,
        readings.call(tree.average(), Handled).await?,
    );
    println!("  handler   readings handled since its last start");
    println!("  Alarm     {}", handled.0);
    println!("  Average   {}", handled.1);

    tree.stop().await?;
    Ok(Outcome {
        average,
        average_after_crash,
        children,
        count,
        handlers,
        handled,
    })
}

/// Prints the tree's children and counts (OTP's `which_children` and `count_children`).
async fn show_tree(
    tree: &Sensors,
) -> Result<(Vec<ChildInfo>, ChildCount), Box<dyn std::error::Error>> {
    let children = tree.supervisor().which_children().await?;
    println!("  child     state    restart");
    for c in &children {
        let state = format!("{:?}", c.state).to_lowercase();
        let restart = format!("{:?}", c.restart).to_lowercase();
        println!("  {:<9} {state:<8} {restart}", c.id.to_string());
    }
    let count = tree.supervisor().count_children().await?;
    println!("  {} children, {} running", count.specs, count.active);
    Ok((children, count))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Crash reports are `tracing` errors: print them.
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::ERROR)
        .with_target(false)
        .without_time()
        .init();

    let o = run().await?;
    println!("\nin short:");
    println!("  Average was restarted in place, and Alarm re-installed by its guard;");
    println!("  the tree kept its {} children running.", o.count.active);
    Ok(())
}
