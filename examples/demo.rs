//! A first minute with event-core: a manager, a few handlers, a crash that the others survive,
//! a supervised handler that learns why it left, and a handler that tries to call its own
//! manager and gets an error instead of a deadlock.
//!
//! Run it with `cargo run --example demo`.

use std::time::Duration;

use event_core::{CallError, Context, EventManager, ExitReason, Handler, Install, Step, Terminate};

/// The events of this demo: readings from a sensor.
#[derive(Debug)]
enum Reading {
    Temperature(i32),
    Garbled,
}

/// Counts readings; answers `Count` calls.
struct Counter {
    seen: usize,
}

struct Count;

impl Handler<Reading> for Counter {
    type Args = ();
    type Info = ();
    type Handover = usize;

    fn init(_: (), _: &mut Context<Reading, Self>) -> Step<'static, Self> {
        Step::ok(Counter { seen: 0 })
    }

    fn handle_event(&mut self, _: &Reading, _: &mut Context<Reading, Self>) -> Step<'_> {
        self.seen += 1;
        Step::ok(())
    }

    fn terminate(self, _: Terminate) -> Step<'static, usize> {
        Step::ok(self.seen)
    }
}

impl event_core::Call<Reading, Count> for Counter {
    type Reply = usize;

    fn handle_call(&mut self, _: Count, _: &mut Context<Reading, Self>) -> Step<'_, usize> {
        Step::ok(self.seen)
    }
}

/// Parses readings, and fails on a garbled one.
struct Parser;

impl Handler<Reading> for Parser {
    type Args = ();
    type Info = ();
    type Handover = ();

    fn init(_: (), _: &mut Context<Reading, Self>) -> Step<'static, Self> {
        Step::ok(Parser)
    }

    fn handle_event(&mut self, reading: &Reading, _: &mut Context<Reading, Self>) -> Step<'_> {
        match reading {
            Reading::Temperature(t) => {
                println!("  parser: {t} °C");
                Step::ok(())
            }
            Reading::Garbled => Step::err("cannot parse a garbled reading"),
        }
    }

    fn terminate(self, reason: Terminate) -> Step<'static, ()> {
        println!("  parser: terminate, told \"{reason}\"");
        Step::ok(())
    }
}

/// A handler that calls its own manager from inside a callback: in OTP this deadlocks.
struct Curious;

impl Handler<Reading> for Curious {
    type Args = ();
    type Info = ();
    type Handover = ();

    fn init(_: (), _: &mut Context<Reading, Self>) -> Step<'static, Self> {
        Step::ok(Curious)
    }

    fn handle_event<'a>(
        &'a mut self,
        _: &'a Reading,
        cx: &'a mut Context<Reading, Self>,
    ) -> Step<'a> {
        let manager = cx.manager();
        Step::from_async(async move {
            let counter = event_core::HandlerRef::<Counter>::new();
            match manager.call(&counter, Count).await {
                Err(CallError::WouldDeadlock) => {
                    println!("  curious: calling my own manager from a callback -> WouldDeadlock (no hang)");
                }
                other => println!("  curious: unexpected {other:?}"),
            }
            cx.remove_self();
            Ok(())
        })
    }

    fn terminate(self, _: Terminate) -> Step<'static, ()> {
        Step::ok(())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_target(false)
        .without_time()
        .init();

    let sensors = EventManager::<Reading>::builder()
        .name("sensors")
        .debug_events()
        .start()?;
    println!("started manager `{}`", sensors.name());

    let counter = sensors.add_handler::<Counter>(()).await?;
    let parser = sensors.add_sup_handler::<Parser>(()).await?;
    sensors
        .add_handler_with(Install::<Curious>::new().dedicated(8), ())
        .await?;
    println!(
        "handlers, newest first: {:?}",
        sensors.which_handlers().await?
    );

    match sensors.add_handler::<Counter>(()).await {
        Err(e) => println!("installing Counter twice: {e}"),
        Ok(_) => println!("installing Counter twice succeeded?"),
    }

    println!("\npublishing three readings, the second garbled:");
    sensors.notify(Reading::Temperature(21)).await?;
    sensors.notify(Reading::Garbled).await?;
    sensors.sync_notify(Reading::Temperature(22)).await?;

    let reason = tokio::time::timeout(Duration::from_secs(5), parser).await?;
    println!("\nthe parser's supervisor learns: {reason}");
    if let ExitReason::Crashed(crash) = &reason {
        println!("  crashed while: {}", crash.during());
    }
    println!(
        "the counter was not disturbed: it saw {} readings",
        sensors.call(&counter, Count).await?
    );
    println!("handlers now: {:?}", sensors.which_handlers().await?);

    let seen = sensors.delete_handler(&counter, ()).await?;
    println!("\ndeleted the counter; its terminate handed back {seen}");
    sensors.stop().await?;
    println!("manager stopped");
    Ok(())
}
