//! Replacing the default alarm handler with your own, and keeping it installed ("gen_event
//! behaviour demystified", the `alarm_handler` walk-through).
//!
//! An alarm manager starts with a default handler that keeps the alarms that are set. Later, a
//! [`Guard`] installs a custom alarm logger in its place with `swap_sup_handler`: the default
//! handler's `terminate` hands the alarms already set to the logger's `init`. The logger crashes
//! on a bad alarm; the manager removes it and the guard installs it again. Installing the logger
//! a second time, by hand or through a second guard, is refused with a clear error (OTP's
//! `add_handler` installs the duplicate, and the walk-through's `start/1` has to check for it by
//! hand).
//!
//! Run it with `cargo run --example alarm_guard`.

use std::time::Duration;

use event_core::{
    handler, AddError, EventManager, Guard, HandlerId, HandlerRef, Install, SupLink, Supervisor,
    SupervisorError, SwapError,
};
use tokio::sync::watch;

/// An alarm's name, e.g. `"disk_full"`.
pub type AlarmId = &'static str;

/// The events of the alarm manager: OTP's `{set_alarm, {Id, Description}}` and
/// `{clear_alarm, Id}`.
#[derive(Debug)]
pub enum Alarm {
    Set {
        id: AlarmId,
        description: &'static str,
    },
    Clear {
        id: AlarmId,
    },
}

/// The alarms a handler holds: those set and not cleared yet.
pub type Alarms = Vec<(AlarmId, &'static str)>;

fn apply(alarms: &mut Alarms, alarm: &Alarm) {
    match *alarm {
        Alarm::Set { id, description } => alarms.push((id, description)),
        Alarm::Clear { id } => alarms.retain(|(set, _)| *set != id),
    }
}

// ---------------------------------------------------------------------------------------------
// The two handlers
// ---------------------------------------------------------------------------------------------

/// OTP's `alarm_handler`: keeps the alarms that are set, and nothing more.
#[handler]
pub struct DefaultAlarmHandler {
    alarms: Alarms,
}

#[handler(event = Alarm)]
impl DefaultAlarmHandler {
    fn init() -> Self {
        DefaultAlarmHandler { alarms: Vec::new() }
    }

    fn handle_event(&mut self, alarm: &Alarm) {
        apply(&mut self.alarms, alarm);
    }

    /// Whoever takes over gets the alarms that are set (OTP's `terminate(swap, Alarms)`).
    fn terminate(self) -> Alarms {
        self.alarms
    }
}

/// The walk-through's `my_alarm_handler`: logs every alarm, and keeps those that are set.
#[handler]
pub struct AlarmLogger {
    alarms: Alarms,
}

/// A request: the alarms the logger holds.
pub struct ActiveAlarms;

#[handler(event = Alarm)]
impl AlarmLogger {
    /// Starts from the alarms the default handler held.
    fn init(handed_over: Alarms) -> Self {
        println!(
            "  logger: installed, holding {} alarm(s) handed over: {:?}",
            handed_over.len(),
            handed_over.iter().map(|(id, _)| id).collect::<Vec<_>>()
        );
        AlarmLogger {
            alarms: handed_over,
        }
    }

    /// Crashes on a bad alarm: one without an id.
    fn handle_event(&mut self, alarm: &Alarm) -> Result<(), String> {
        match alarm {
            Alarm::Set { id: "", .. } => Err("cannot log an alarm without an id".into()),
            Alarm::Set { id, description } => {
                println!("  logger: set_alarm {id}: {description}");
                apply(&mut self.alarms, alarm);
                Ok(())
            }
            Alarm::Clear { id } => {
                println!("  logger: clear_alarm {id}");
                apply(&mut self.alarms, alarm);
                Ok(())
            }
        }
    }

    #[call]
    fn active(&self, _: ActiveAlarms) -> Vec<AlarmId> {
        self.alarms.iter().map(|(id, _)| *id).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// The guard
// ---------------------------------------------------------------------------------------------

/// A guard that keeps the logger installed in `alarms`. Its install step is the walk-through's
/// `my_alarm_handler:start/1`: swap the default handler for the logger, supervised, so that the
/// logger starts from the alarms already set. The guard runs it once when it starts and again
/// whenever the logger crashes; then the default handler is gone, and the logger starts empty.
///
/// Each successful install is counted in `installs`, so that this program can wait for one.
pub fn logger_guard(alarms: &EventManager<Alarm>, installs: watch::Sender<u32>) -> Guard {
    let alarms = alarms.clone();
    Guard::custom(move || {
        let alarms = alarms.clone();
        let installs = installs.clone();
        async move {
            let default = HandlerRef::<DefaultAlarmHandler>::new();
            let link: SupLink<AlarmLogger> = alarms
                .swap_sup_handler(&default, (), Install::<AlarmLogger>::new(), |handed_over| {
                    handed_over.unwrap_or_default()
                })
                .await?;
            installs.send_modify(|n| *n += 1);
            Ok::<_, SwapError>(link)
        }
    })
}

// ---------------------------------------------------------------------------------------------
// The story
// ---------------------------------------------------------------------------------------------

/// What happened.
#[derive(Debug)]
pub struct Outcome {
    /// The alarms the logger started with: those the default handler held.
    pub handed_over: Vec<AlarmId>,
    /// The handlers installed once the guard has re-installed the crashed logger.
    pub handlers_after_crash: Vec<HandlerId>,
    /// The alarms the re-installed logger holds at the end.
    pub held_after_crash: Vec<AlarmId>,
    /// How often the guard installed the logger.
    pub installs: u32,
    /// Installing the logger by hand while it is installed.
    pub duplicate_add: AddError,
    /// Starting a second guard for the logger.
    pub duplicate_guard: SupervisorError,
}

/// Runs the story, narrating it on stdout.
pub async fn run() -> Result<Outcome, Box<dyn std::error::Error>> {
    // The alarm manager, with the default handler every incarnation starts with, in a tree.
    let (alarms, manager) = EventManager::<Alarm>::builder()
        .name("alarm_handler")
        .debug_events()
        .supervised("alarm_handler")
        .handler(Install::<DefaultAlarmHandler>::new(), ())
        .build()?;
    let sup = Supervisor::builder()
        .name("alarms")
        .child(manager)
        .start()
        .await?;
    println!(
        "alarm manager started: {:?}",
        alarms.which_handlers().await?
    );

    println!("\nthree alarms set, one cleared, before the logger exists");
    alarms
        .notify(Alarm::Set {
            id: "disk_full",
            description: "/var is 97% full",
        })
        .await?;
    alarms
        .notify(Alarm::Set {
            id: "fan_failure",
            description: "fan 2 stopped",
        })
        .await?;
    alarms
        .notify(Alarm::Set {
            id: "link_down",
            description: "eth1 lost carrier",
        })
        .await?;
    alarms.sync_notify(Alarm::Clear { id: "link_down" }).await?;

    println!("\nstarting the logger's guard: it swaps the default handler for the logger");
    let (installs, mut installed) = watch::channel(0);
    sup.start_child(logger_guard(&alarms, installs.clone()).child("alarm_logger_guard"))
        .await?;
    let logger = HandlerRef::<AlarmLogger>::new();
    let handed_over = alarms.call(&logger, ActiveAlarms).await?;
    println!("handlers now: {:?}", alarms.which_handlers().await?);

    println!("\ninstalling the logger again, by hand");
    let duplicate_add = match alarms.add_handler::<AlarmLogger>(Vec::new()).await {
        Err(e) => e,
        Ok(_) => return Err("a second logger was installed".into()),
    };
    println!("  refused: {duplicate_add}");
    println!("starting a second guard for the logger");
    let second = logger_guard(&alarms, installs.clone()).child("second_logger_guard");
    let duplicate_guard = match sup.start_child(second).await {
        Err(e) => e,
        Ok(_) => return Err("a second guard installed a second logger".into()),
    };
    println!("  refused: {duplicate_guard}");

    println!("\na bad alarm: the logger crashes, the manager removes it, the guard re-installs it");
    alarms
        .notify(Alarm::Set {
            id: "",
            description: "sensor sent garbage",
        })
        .await?;
    tokio::time::timeout(Duration::from_secs(5), installed.wait_for(|n| *n == 2)).await??;
    let handlers_after_crash = alarms.which_handlers().await?;
    println!("handlers now: {handlers_after_crash:?}");
    println!("  (the alarms the crashed logger held went with it, as in OTP)");

    println!("\nthe new logger logs the next alarm");
    alarms
        .notify(Alarm::Set {
            id: "power_supply",
            description: "PSU 1 on battery",
        })
        .await?;
    let held_after_crash = alarms.call(&logger, ActiveAlarms).await?;

    let installs = *installed.borrow();
    sup.stop().await?;
    Ok(Outcome {
        handed_over,
        handlers_after_crash,
        held_after_crash,
        installs,
        duplicate_add,
        duplicate_guard,
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Crash reports, and the guard's notes, go through `tracing`.
    tracing_subscriber::fmt()
        .with_target(false)
        .without_time()
        .init();

    let outcome = run().await?;
    println!("\nin short:");
    println!("  the logger took over {:?}", outcome.handed_over);
    println!("  a second logger was refused: {}", outcome.duplicate_add);
    println!("  a second guard was refused: {}", outcome.duplicate_guard);
    println!(
        "  the guard installed the logger {} times; after the crash: {:?}, holding {:?}",
        outcome.installs, outcome.handlers_after_crash, outcome.held_after_crash
    );
    Ok(())
}
