//! A router that dials through a dialer handler of the same manager, and the three OTP traps
//! its author fell into (the telehash switch write-up).
//!
//! 1. **No deadlock.** In OTP, the router handler's dial installs a dialer handler with
//!    `gen_event:add_handler` on its own manager, which is busy running the router: a deadlock.
//!    Here the same call returns a `WouldDeadlock` error at once. The router then uses the
//!    deferred form on its `Context` (applied right after the current event), and asks the
//!    dialer for a connection from a task of its own, which may wait for the manager; the answer
//!    comes back to the router's `handle_info`. The dialer is installed dedicated, so its slow
//!    handshake runs on a task of its own too.
//! 2. **Timers belong to a handler.** The router and the dialer each set a timer, with the same
//!    message type. In OTP both handlers would receive both timeouts; here each handler
//!    receives its own.
//! 3. **A slow handler moved to a task of its own.** A packet archive that takes 2 ms per packet
//!    delays the router on every packet while they share the manager's task; installed with
//!    `Install::dedicated`, it no longer does. The figures are printed.
//!
//! Run it with `cargo run --example router_dialer`.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use event_core::{handler, AddError, BoxError, Context, EventManager, HandlerId, Info, Install};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// A peer's address.
pub type Peer = &'static str;

/// The events of the switch.
#[derive(Debug)]
pub enum Switch {
    /// Connect to a peer: the router dials it.
    Connect(Peer),
    /// A packet to route.
    Packet(u32),
}

/// What handlers send themselves: their timers, and the results of work they handed to a task.
/// The router and the dialer both use this type, so either *could* receive the other's.
#[derive(Debug)]
pub enum Wakeup {
    /// The router's timer: time to refresh its routes.
    RefreshRoutes,
    /// The dialer's timer: time to ping the peer.
    Keepalive,
    /// The dial the router asked for is done.
    Dialed {
        peer: Peer,
        result: Result<Connection, BoxError>,
    },
}

impl Wakeup {
    fn name(&self) -> &'static str {
        match self {
            Wakeup::RefreshRoutes => "RefreshRoutes",
            Wakeup::Keepalive => "Keepalive",
            Wakeup::Dialed { .. } => "Dialed",
        }
    }
}

/// An open connection to a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub peer: Peer,
}

/// Where handlers note what happens to them, so this program can tell the story as it unfolds
/// and wait for its steps.
pub type Journal = mpsc::UnboundedSender<String>;

// ---------------------------------------------------------------------------------------------
// The router
// ---------------------------------------------------------------------------------------------

/// Routes packets, and dials peers through a dialer handler of the same manager.
pub struct Router {
    journal: Journal,
    refused: Option<AddError>,
    routes: Vec<Connection>,
    heard: Vec<&'static str>,
    packets: u32,
    last_packet: Option<Instant>,
}

/// A request: the router's report.
pub struct Report;

/// What the router did.
#[derive(Debug, Clone)]
pub struct RouterReport {
    /// What the blocking `add_handler` from inside its callback returned.
    pub refused: Option<AddError>,
    /// The connections it got through the dialer.
    pub routes: Vec<Connection>,
    /// The messages its `handle_info` received.
    pub heard: Vec<&'static str>,
    /// How many packets it routed, and when it routed the last.
    pub packets: u32,
    pub last_packet: Option<Instant>,
}

#[handler(event = Switch)]
impl Router {
    fn init(journal: Journal) -> Self {
        Router {
            journal,
            refused: None,
            routes: Vec::new(),
            heard: Vec::new(),
            packets: 0,
            last_packet: None,
        }
    }

    async fn handle_event(&mut self, event: &Switch, cx: &mut Context<Switch, Self>) {
        match *event {
            Switch::Connect(peer) => self.connect(peer, cx).await,
            Switch::Packet(_) => {
                self.packets += 1;
                self.last_packet = Some(Instant::now());
            }
        }
    }

    fn handle_info(&mut self, wakeup: Info<Wakeup>) {
        let Info::Message(wakeup) = wakeup else {
            return;
        };
        self.heard.push(wakeup.name());
        let note = match wakeup {
            Wakeup::Dialed {
                result: Ok(connection),
                ..
            } => {
                let note = format!("router: connected to {}", connection.peer);
                self.routes.push(connection);
                note
            }
            Wakeup::Dialed {
                peer,
                result: Err(e),
            } => format!("router: could not dial {peer}: {e}"),
            other => format!("router: my timer fired: {other:?}"),
        };
        let _ = self.journal.send(note);
    }

    #[call]
    fn report(&self, _: Report) -> RouterReport {
        RouterReport {
            refused: self.refused.clone(),
            routes: self.routes.clone(),
            heard: self.heard.clone(),
            packets: self.packets,
            last_packet: self.last_packet,
        }
    }
}

impl Router {
    async fn connect(&mut self, peer: Peer, cx: &mut Context<Switch, Self>) {
        let dialer = Install::<Dialer>::new().key(peer);

        // What the telehash router did: install the dialer and wait for it, from inside a
        // callback of the same manager. OTP hangs here forever; this returns an error at once.
        let manager = cx.manager();
        let refused = manager
            .add_handler_with(dialer.clone(), (peer, self.journal.clone()))
            .await;
        if let Err(e) = &refused {
            let _ = self
                .journal
                .send(format!("router: add_handler from my callback: {e}"));
        }
        self.refused = refused.err();

        // The deferred form: the manager installs the dialer right after this event. The
        // dialer runs dedicated, on a task of its own: its handshake is slow.
        let installed = cx.add_handler(dialer.dedicated(8), (peer, self.journal.clone()));

        // The dial itself waits for the dialer, so it runs on a task of its own (the write-up's
        // `spawn(fun() -> dialer:dial(...) end)`), which may wait for the manager. The answer
        // comes back to this handler's `handle_info`.
        let reply_to = cx.info_sender();
        tokio::spawn(async move {
            let result = async {
                let dialer = installed.await?;
                Ok(manager.call(&dialer, Dial).await?)
            }
            .await;
            let _ = reply_to.send(Wakeup::Dialed { peer, result });
        });

        // A timer of the router's own.
        cx.send_after(Duration::from_millis(10), Wakeup::RefreshRoutes);
    }
}

// ---------------------------------------------------------------------------------------------
// The dialer
// ---------------------------------------------------------------------------------------------

/// Dials one peer (installed with the peer as its key).
pub struct Dialer {
    peer: Peer,
    journal: Journal,
    heard: Vec<&'static str>,
}

/// A request: dial the peer.
pub struct Dial;

/// A request: the messages the dialer's `handle_info` received.
pub struct Heard;

#[handler(event = Switch)]
impl Dialer {
    fn init((peer, journal): (Peer, Journal), cx: &mut Context<Switch, Self>) -> Self {
        let _ = journal.send(format!("dialer({peer}): installed"));
        // A timer of the dialer's own, due when the router's is.
        cx.send_after(Duration::from_millis(10), Wakeup::Keepalive);
        Dialer {
            peer,
            journal,
            heard: Vec::new(),
        }
    }

    fn handle_event(&mut self, _: &Switch) {}

    fn handle_info(&mut self, wakeup: Info<Wakeup>) {
        if let Info::Message(wakeup) = wakeup {
            self.heard.push(wakeup.name());
            let note = format!("dialer({}): my timer fired: {wakeup:?}", self.peer);
            let _ = self.journal.send(note);
        }
    }

    #[call]
    async fn dial(&mut self, _: Dial) -> Connection {
        tokio::time::sleep(Duration::from_millis(5)).await; // the handshake
        Connection { peer: self.peer }
    }

    #[call]
    fn heard(&self, _: Heard) -> Vec<&'static str> {
        self.heard.clone()
    }
}

// ---------------------------------------------------------------------------------------------
// The slow handler
// ---------------------------------------------------------------------------------------------

/// How long the archive takes to store one packet.
pub const ARCHIVE_WRITE: Duration = Duration::from_millis(2);

/// How many packets the measurement sends.
pub const PACKETS: u32 = 50;

/// Archives every packet to slow storage; counts what it stored in a shared counter.
pub struct PacketArchive {
    stored: Arc<AtomicU32>,
}

#[handler(event = Switch)]
impl PacketArchive {
    fn init(stored: Arc<AtomicU32>) -> Self {
        PacketArchive { stored }
    }

    async fn handle_event(&mut self, event: &Switch) {
        if let Switch::Packet(_) = event {
            tokio::time::sleep(ARCHIVE_WRITE).await;
            self.stored.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// How long the router took to route a burst of packets, with the archive beside it.
#[derive(Debug, Clone, Copy)]
pub struct Delay {
    /// From the first packet sent to the router routing the last.
    pub router_done_after: Duration,
    /// How many packets the archive had stored by then.
    pub archived_by_then: u32,
}

/// Sends [`PACKETS`] packets through a switch with the router and the archive, the archive
/// inline or dedicated.
async fn measure(dedicated: bool) -> Result<Delay, BoxError> {
    let switch = EventManager::<Switch>::builder().name("switch").start()?;
    let (journal, _notes) = mpsc::unbounded_channel();
    let router = switch.add_handler::<Router>(journal).await?;
    let stored = Arc::new(AtomicU32::new(0));
    let archive = match dedicated {
        // The queue holds the whole burst, so the manager never waits for room.
        true => Install::<PacketArchive>::new().dedicated(PACKETS as usize),
        false => Install::<PacketArchive>::new(),
    };
    switch.add_handler_with(archive, stored.clone()).await?;

    let started = Instant::now();
    for n in 0..PACKETS {
        switch.notify(Switch::Packet(n)).await?;
    }
    // Answered once the router has handled every packet sent before.
    let report = switch.call(&router, Report).await?;
    let archived_by_then = stored.load(Ordering::SeqCst);
    let last = report.last_packet.ok_or("the router routed no packet")?;
    switch.stop().await?; // waits for the archive to store the rest
    Ok(Delay {
        router_done_after: last - started,
        archived_by_then,
    })
}

// ---------------------------------------------------------------------------------------------
// The story
// ---------------------------------------------------------------------------------------------

/// What happened.
#[derive(Debug)]
pub struct Outcome {
    /// The router's report after the dial.
    pub router: RouterReport,
    /// The handlers installed after the dial.
    pub handlers: Vec<HandlerId>,
    /// The messages the dialer's `handle_info` received.
    pub dialer_heard: Vec<&'static str>,
    /// The router's delay with the archive sharing the manager's task.
    pub inline: Delay,
    /// The router's delay with the archive on a task of its own.
    pub dedicated: Delay,
}

/// Runs the story, narrating it on stdout.
pub async fn run() -> Result<Outcome, BoxError> {
    println!("1. the router dials through a dialer handler of its own manager;");
    println!("2. the router and the dialer each set a timer, due at the same time");
    let switch = EventManager::<Switch>::builder()
        .name("switch_event")
        .debug_events()
        .start()?;
    let (journal, mut notes) = mpsc::unbounded_channel();
    let router = switch.add_handler::<Router>(journal).await?;
    switch.notify(Switch::Connect("peer-7")).await?;

    // Five notes: the refusal, the dialer installed, the connection, and the two timers.
    for _ in 0..5 {
        let note = tokio::time::timeout(Duration::from_secs(5), notes.recv())
            .await?
            .ok_or("the handlers are gone")?;
        println!("  {note}");
    }
    let report = switch.call(&router, Report).await?;
    let dialer = Install::<Dialer>::new().key("peer-7").handler_ref().clone();
    let dialer_heard = switch.call(&dialer, Heard).await?;
    let handlers = switch.which_handlers().await?;
    println!("  handlers now: {handlers:?}");
    println!("  the router heard {:?}", report.heard);
    println!("  the dialer heard {dialer_heard:?}");
    switch.stop().await?;

    println!(
        "\n3. {PACKETS} packets, with an archive beside the router that takes {ARCHIVE_WRITE:?} per packet"
    );
    let inline = measure(false).await?;
    let dedicated = measure(true).await?;
    for (how, delay) in [("inline", inline), ("dedicated", dedicated)] {
        println!(
            "  archive {how:<9}: the router routed the last packet after {:>9.3?}; the archive had stored {:>2} of {PACKETS} by then",
            delay.router_done_after, delay.archived_by_then
        );
    }

    Ok(Outcome {
        router: report,
        handlers,
        dialer_heard,
        inline,
        dedicated,
    })
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    tracing_subscriber::fmt()
        .with_target(false)
        .without_time()
        .init();
    let outcome = run().await?;
    println!("\nin short:");
    if let Some(e) = &outcome.router.refused {
        println!("  waiting for its own manager from a callback: an error, not a hang ({e:?})");
    }
    println!(
        "  the deferred install and a task of its own connected it: {:?}, handlers {:?}",
        outcome.router.routes, outcome.handlers
    );
    println!(
        "  each handler heard its own timer: router {:?}, dialer {:?}",
        outcome.router.heard, outcome.dialer_heard
    );
    println!(
        "  moving the archive to a task of its own cut the router's delay from {:.1?} to {:.1?}",
        outcome.inline.router_done_after, outcome.dedicated.router_done_after
    );
    Ok(())
}
