//! Supervised event handlers the lager way, declared with `supervisor!` ("Supervised event
//! handlers in Erlang").
//!
//! A top supervisor owns the event manager and a `simple_one_for_one` supervisor of guards. The
//! tree starts in order, so once `start` returns the manager runs, and the application starts
//! one guard per logging backend, as `lager_app` does. Each guard installs its backend and
//! watches it:
//!
//! - a backend removed normally (`delete_handler`) ends its guard, which is not restarted;
//! - a backend that crashes is installed again by its guard;
//! - a backend that cannot be installed again (its guard tries 5 times, backing off) makes its
//!   guard fail. Guards are transient: the guard supervisor restarts a failed one, and each
//!   restart, failed or not, counts toward its intensity. Past it, the guard supervisor gives
//!   up, and the top supervisor acts as OTP's would: `one_for_one` restarts the guard
//!   supervisor alone, and it comes back empty, as a `simple_one_for_one` supervisor does; the
//!   manager keeps running. A second storm within the top supervisor's period is past its
//!   intensity too, and the whole tree stops.
//!
//! The backends write to the terminal or to files on a disk that fills up.
//!
//! Run it with `cargo run --example supervised_tree`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use event_core::{
    handler, supervisor, ChildCount, ChildInfo, HandlerId, HandlerRef, Supervisor, SupervisorError,
    Terminate,
};
use tokio::sync::mpsc;

/// The events of the logging manager.
#[derive(Debug)]
pub enum Log {
    /// A message to log.
    Message(&'static str),
    /// A message whose formatting is broken: the console cannot print it.
    Garbled,
}

/// A disk shared by the file backends. It fills up, and is freed again.
#[derive(Clone, Debug, Default)]
pub struct Disk {
    full: Arc<AtomicBool>,
}

impl Disk {
    fn set_full(&self, full: bool) {
        self.full.store(full, Ordering::SeqCst);
    }

    fn check(&self) -> Result<(), &'static str> {
        match self.full.load(Ordering::SeqCst) {
            true => Err("no space left on device"),
            false => Ok(()),
        }
    }
}

/// Where a backend writes.
#[derive(Clone, Debug)]
pub enum Sink {
    /// The terminal.
    Console,
    /// A file on the disk.
    File(Disk),
}

/// What a backend tells the application, so that it can wait for a guard's work.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Note {
    /// The backend was installed (by its guard).
    Installed(&'static str),
    /// The backend was removed because its guard was stopped.
    GuardGone(&'static str),
}

/// A backend's configuration: lager's `{Module, Config}`.
#[derive(Clone)]
pub struct Config {
    /// The backend's name, also its key in the manager: several backends of one type run side
    /// by side.
    pub name: &'static str,
    /// Where it writes.
    pub sink: Sink,
    /// Where it tells its installs and removals.
    pub notes: mpsc::UnboundedSender<Note>,
}

// ---------------------------------------------------------------------------------------------
// The backend
// ---------------------------------------------------------------------------------------------

/// A logging backend: prints or writes each message, and counts them.
#[handler]
pub struct Backend {
    name: &'static str,
    sink: Sink,
    written: u32,
    #[redact]
    notes: mpsc::UnboundedSender<Note>,
}

/// A request: how many messages the backend has written.
pub struct Written;

#[handler(event = Log)]
impl Backend {
    /// Opens the backend's file; fails while the disk is full.
    fn init(Config { name, sink, notes }: Config) -> Result<Self, String> {
        if let Sink::File(disk) = &sink {
            if let Err(e) = disk.check() {
                println!("  [{name}] cannot open: {e}");
                return Err(format!("cannot open {name}: {e}"));
            }
        }
        println!("  [{name}] installed");
        let _ = notes.send(Note::Installed(name));
        Ok(Backend {
            name,
            sink,
            written: 0,
            notes,
        })
    }

    fn handle_event(&mut self, log: &Log) -> Result<(), &'static str> {
        match (&self.sink, log) {
            (Sink::Console, Log::Message(text)) => println!("  [console] {text}"),
            (Sink::Console, Log::Garbled) => return Err("cannot print a garbled message"),
            (Sink::File(disk), _) => disk.check()?,
        }
        self.written += 1;
        Ok(())
    }

    #[call]
    fn written(&self, _: Written) -> u32 {
        self.written
    }

    fn terminate(self, reason: Terminate) {
        println!("  [{}] removed: {reason}", self.name);
        if let Terminate::SupervisorGone = reason {
            let _ = self.notes.send(Note::GuardGone(self.name));
        }
    }
}

/// Counts every message; installed by hand, supervised by nobody: it shows that the manager
/// itself was not restarted.
#[derive(Default)]
pub struct Tally {
    messages: u32,
}

/// A request: how many messages the tally has seen.
pub struct Messages;

#[handler(event = Log)]
impl Tally {
    fn handle_event(&mut self, _: &Log) {
        self.messages += 1;
    }

    #[call]
    fn messages(&self, _: Messages) -> u32 {
        self.messages
    }
}

// ---------------------------------------------------------------------------------------------
// The tree
// ---------------------------------------------------------------------------------------------

supervisor! {
    /// lager's `my_event_guard_sup`: one guard per backend, started on demand. A guard is
    /// transient: restarted if it fails, at most 3 times in 10 s.
    pub struct Guards(log: Log) {
        strategy: simple_one_for_one,
        intensity: 3,
        period: 10s,
        template: guard Backend { manager: log, restart: transient },
    }
}

supervisor! {
    /// lager's `my_event_sup`: the event manager, then the guard supervisor. It restarts a
    /// child that ends, once a minute at most (lager allows 10; one shows the limit sooner).
    pub struct Logging {
        strategy: one_for_one,
        intensity: 1,
        period: 60s,
        children: [
            manager log: Log { debug_events: true },
            supervisor guards: Guards(log),
        ],
    }
}

// ---------------------------------------------------------------------------------------------
// The story
// ---------------------------------------------------------------------------------------------

/// The tree after the first storm.
#[derive(Debug)]
pub struct AfterStorm {
    /// The top supervisor's children.
    pub top: Vec<ChildInfo>,
    /// The guard supervisor's counts, once the top supervisor restarted it.
    pub guards: ChildCount,
    /// The handlers left in the manager.
    pub handlers: Vec<HandlerId>,
    /// The messages the tally counted: every one published so far.
    pub tally: u32,
}

/// What happened.
#[derive(Debug)]
pub struct Outcome {
    /// The handlers once the guards were started, newest first.
    pub installed: Vec<HandlerId>,
    /// The messages the console wrote before its crash, and after its re-install.
    pub console_written: (u32, u32),
    /// The guard supervisor's counts once `debug.log` was deleted.
    pub guards_after_delete: ChildCount,
    /// The tree after the first storm.
    pub after_first_storm: AfterStorm,
    /// After the second storm: whether the top supervisor, and the manager, had stopped.
    pub stopped: (bool, bool),
}

/// The backends, as lager lists them in its application environment.
fn backends(disk: &Disk, notes: &mpsc::UnboundedSender<Note>) -> Vec<Config> {
    let config = |name, sink| Config {
        name,
        sink,
        notes: notes.clone(),
    };
    vec![
        config("console", Sink::Console),
        config("app.log", Sink::File(disk.clone())),
        config("debug.log", Sink::File(disk.clone())),
    ]
}

/// Starts one guard per backend (lager's `supervisor:start_child(my_event_guard_sup, ..)`).
/// Each start returns once its guard has installed the backend.
async fn start_guards(tree: &Logging, configs: &[Config]) -> Result<(), SupervisorError> {
    for config in configs {
        tree.guards()
            .start_child_keyed(config.name, config.clone())
            .await?;
    }
    Ok(())
}

/// Runs the story, narrating it on stdout.
pub async fn run() -> Result<Outcome, Box<dyn std::error::Error>> {
    let disk = Disk::default();
    let (notes_tx, mut notes) = mpsc::unbounded_channel();
    let mut configs = backends(&disk, &notes_tx);
    let console = HandlerRef::<Backend>::with_key("console");
    let debug = HandlerRef::<Backend>::with_key("debug.log");

    println!("the tree starts in order: the manager, then the guard supervisor");
    let tree = Logging::start().await?;
    let log = tree.log().clone();
    show("Logging", tree.supervisor()).await?;
    let tally = log.add_handler::<Tally>(()).await?;

    println!("\nthe application starts one guard per backend");
    start_guards(&tree, &configs).await?;
    let installed = log.which_handlers().await?;
    println!("handlers, newest first: {installed:?}");

    println!("\ntwo messages");
    log.notify(Log::Message("service started")).await?;
    log.notify(Log::Message("listening on :8080")).await?;
    let before = log.call(&console, Written).await?;

    println!("\na garbled message crashes the console; its guard installs it again");
    while notes.try_recv().is_ok() {} // the installs at the start
    log.notify(Log::Garbled).await?;
    wait_for(&mut notes, Note::Installed("console")).await?;
    log.notify(Log::Message("request served")).await?;
    let after = log.call(&console, Written).await?;
    println!("the console wrote {before} messages, then {after} since its re-install");

    println!("\ndebug logging is switched off: debug.log is deleted normally, its guard ends");
    log.delete_handler(&debug, ()).await?;
    configs.retain(|c| c.name != "debug.log");
    let guards_after_delete = guards_running(&tree, 2).await?;
    show("Guards", tree.guards().supervisor()).await?;

    println!("\nthe disk fills up: app.log crashes and cannot be opened again");
    disk.set_full(true);
    log.notify(Log::Message("cache warmed")).await?;
    // Past its intensity, the guard supervisor stops its other guards: the console goes too.
    wait_for(&mut notes, Note::GuardGone("console")).await?;
    println!("\nthe top supervisor restarted the guard supervisor alone (one_for_one)");
    // Answered by the guard supervisor's next incarnation.
    let (guards, _) = show("Guards", tree.guards().supervisor()).await?;
    let (_, top) = show("Logging", tree.supervisor()).await?;
    let handlers = log.which_handlers().await?;
    let tally = log.call(&tally, Messages).await?;
    println!("handlers: {handlers:?}; the manager kept running: the tally counted {tally}");
    let after_first_storm = AfterStorm {
        top,
        guards,
        handlers,
        tally,
    };

    println!("\nspace is freed, and the application starts its guards again");
    disk.set_full(false);
    start_guards(&tree, &configs).await?;
    log.sync_notify(Log::Message("back to normal")).await?;

    println!("\nthe disk fills up again, within the minute");
    disk.set_full(true);
    log.notify(Log::Message("cache warmed again")).await?;
    tokio::time::timeout(Duration::from_secs(5), tree.supervisor().stopped()).await?;
    let stopped = (tree.supervisor().is_stopped(), log.is_stopped());
    println!(
        "\nthe top supervisor, past its own intensity, stopped the tree: the manager stopped = {}",
        stopped.1
    );

    Ok(Outcome {
        installed,
        console_written: (before, after),
        guards_after_delete,
        after_first_storm,
        stopped,
    })
}

/// Waits for a note from the backends, skipping the others.
async fn wait_for(notes: &mut mpsc::UnboundedReceiver<Note>, wanted: Note) -> Result<(), String> {
    let seen = async {
        while let Some(note) = notes.recv().await {
            if note == wanted {
                return true;
            }
        }
        false
    };
    match tokio::time::timeout(Duration::from_secs(5), seen).await {
        Ok(true) => Ok(()),
        _ => Err(format!("no {wanted:?} within 5 s")),
    }
}

/// The guard supervisor's counts once `active` guards run. A guard that ends gives no signal
/// to wait for, so this asks again until the count is reached.
async fn guards_running(
    tree: &Logging,
    active: usize,
) -> Result<ChildCount, Box<dyn std::error::Error>> {
    let ask = async {
        loop {
            let count = tree.guards().supervisor().count_children().await?;
            if count.active == active {
                return Ok::<_, SupervisorError>(count);
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    };
    Ok(tokio::time::timeout(Duration::from_secs(5), ask).await??)
}

/// Prints a supervisor's counts and children, newest first; returns them.
async fn show(
    name: &str,
    sup: &Supervisor,
) -> Result<(ChildCount, Vec<ChildInfo>), SupervisorError> {
    let count = sup.count_children().await?;
    let children = sup.which_children().await?;
    println!(
        "{name}: specs {}, active {}, supervisors {}, workers {}",
        count.specs, count.active, count.supervisors, count.workers
    );
    for c in &children {
        let kind = format!("{:?}", c.kind).to_lowercase();
        let state = format!("{:?}", c.state).to_lowercase();
        let restart = format!("{:?}", c.restart).to_lowercase();
        println!("  {:<8} {kind:<11} {state:<8} {restart}", c.id.to_string());
    }
    Ok((count, children))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Crash reports, the guards' notes and the supervisors' reports go through `tracing`.
    tracing_subscriber::fmt()
        .with_target(false)
        .without_time()
        .init();

    let o = run().await?;
    let storm = &o.after_first_storm;
    println!("\nin short:");
    println!("  installed by their guards: {:?}", o.installed);
    println!(
        "  the console crashed and was re-installed: {} messages written, then {}",
        o.console_written.0, o.console_written.1
    );
    println!(
        "  a backend deleted normally ended its guard: {} guards left",
        o.guards_after_delete.active
    );
    println!(
        "  first storm: the guard supervisor came back with {} guards; the tally counted {}",
        storm.guards.active, storm.tally
    );
    println!(
        "  second storm: the tree stopped ({}), the manager with it ({})",
        o.stopped.0, o.stopped.1
    );
    Ok(())
}
