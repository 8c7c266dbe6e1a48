//! [event-core](https://docs.rs/event-core) managers on several machines, through NATS
//! JetStream: events that cross machines at least once on the wire and once in the handlers,
//! in order per publisher, surviving a broker restart.
//!
//! OTP's `gen_event` reaches another node's manager with `gen_event:notify({Name, Node}, Ev)`,
//! at most once: an event sent while the node is unreachable is gone. Here managers share a
//! **bus**, a JetStream stream: a [`Publisher`] handler publishes every event of its manager to
//! it, and a [`Bridge`], a supervisor child, reads it through a durable consumer and hands each
//! event to a local manager.
//!
//! ```no_run
//! use event_core::{EventManager, Supervisor};
//! use event_nats::{publish, Bridge, Bus, Inbound, Outbound};
//! # #[derive(Debug, serde::Serialize, serde::Deserialize)]
//! # enum Alarm { Set(String) }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = async_nats::connect("127.0.0.1:4222").await?;
//! let bus = Bus::new(client, "alarms")?;
//!
//! // On one machine: every event of this manager goes to the bus.
//! let here = EventManager::<Alarm>::builder().name("room-1").start()?;
//! publish(&here, Outbound::new(bus.clone())).await?;
//! here.notify(Alarm::Set("disk full".into())).await?;
//!
//! // On another: the bus's events reach this manager's handlers, each once.
//! let (there, manager) = EventManager::<Alarm>::builder().supervised("alarms").build()?;
//! let bridge = Bridge::new(&there, Inbound::new(bus, "console"));
//! let tree = Supervisor::builder()
//!     .child(manager)
//!     .child(bridge.child("bridge"))
//!     .start()
//!     .await?;
//! # let _ = tree; Ok(()) }
//! ```
//!
//! # In a `supervisor!` tree
//!
//! [`Bridge`] and [`Serve`] implement [`IntoChild`](event_core::IntoChild), so a tree declares
//! them with `supervisor!`'s `child` form, after the manager they feed or serve; the tree
//! keeps a bridge's [`BridgeStats`] and a server's child reference:
//!
//! ```no_run
//! use event_core::{handler, supervisor};
//! use event_nats::{Bridge, Bus, Inbound, Serve};
//! # #[derive(Debug, serde::Serialize, serde::Deserialize)]
//! # enum Alarm { Set(String) }
//! # #[derive(serde::Serialize, serde::Deserialize)]
//! # struct Count;
//! # struct Console(usize);
//! # #[handler(event = Alarm)]
//! # impl Console {
//! #     fn init() -> Self { Console(0) }
//! #     fn handle_event(&mut self, _: &Alarm) { self.0 += 1; }
//! #     #[call] fn count(&mut self, _: Count) -> usize { self.0 }
//! # }
//!
//! supervisor! {
//!     /// A node: its manager, fed from the bus and served to remote handles.
//!     struct Node(bus: &Bus) {
//!         strategy: rest_for_one, // a restarted manager restarts its bridge and its server
//!         children: [
//!             manager alarms: Alarm { handlers: [Console] },
//!             child bridge: Bridge<Alarm> {
//!                 from: Bridge::new(&alarms, Inbound::new(bus.clone(), "console")),
//!             },
//!             child serve: Serve<Alarm> {
//!                 from: Serve::new(&alarms, bus.clone()).call::<Console, Count>(),
//!             },
//!         ],
//!     }
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let bus = Bus::new(async_nats::connect("127.0.0.1:4222").await?, "alarms")?;
//! let node = Node::start(&bus).await?;
//! println!("{} events applied", node.bridge().applied());
//! # Ok(()) }
//! ```
//!
//! # When to use it
//!
//! When the managers that must see an event live in different processes or on different
//! machines: stations connected to different nodes of a charging-station system, instances of
//! a notification server behind a balancer, peers of a router. Within one process, handlers
//! and managers need none of it: a handle reaches a manager directly, at a small fraction of
//! the cost. A bus adds a broker to run (one `nats-server`, or a cluster of them) and a hop
//! through it for each batch.
//!
//! # The guarantees
//!
//! - **At least once on the wire.** The publisher sends batches of consecutive events, one at a
//!   time, each retried until JetStream acknowledges it; while the broker is unreachable it
//!   waits, and its dedicated queue's overload policy decides what happens to new events
//!   (the default waits: nothing is dropped). The stream is on disk: a broker restart on the
//!   same store keeps it.
//! - **Once in the handlers.** A retried batch carries the same message id, which JetStream
//!   drops within its duplicate window; past it, the bridge drops what it has applied already
//!   (a high-water mark per publisher). The bridge acknowledges a message only after
//!   `sync_notify` of each of its events returned, that is after every handler handled it; a
//!   bridge restarted by its supervisor resumes from the consumer's acknowledgement floor and
//!   keeps its marks. A whole process restarted re-applies the message it had not acknowledged
//!   (its marks were in memory): at least once there.
//! - **In order per publisher.** One batch in flight per publisher, and one unacknowledged
//!   message per bridge, so neither a retry nor a redelivery overtakes.
//! - **Bad input is reported, never stuck.** A message that does not decode as a batch of the
//!   manager's events is logged (a `tracing` error), counted ([`BridgeStats::undecodable`]) and
//!   terminated in JetStream, so it is not redelivered; a gap in a publisher's sequence is
//!   logged and counted ([`BridgeStats::missing`]) and the bridge goes on.
//!
//! # Remote handles
//!
//! A [`Serve`] child answers for its manager on the bus's subjects `<bus>.rpc.<manager>.notify`,
//! `.sync_notify` and `.call` (core NATS request/reply, not the stream: at most once, as
//! OTP's, with the outcome in the reply); a [`RemoteManager`] sends to it. Calls are typed: the
//! serving side registers each handler and request type it answers ([`Serve::call`]), and a
//! call names them by their Rust type names in its body
//! (`{"handler":"…","key":…,"request":"…","body":<request>}`), so both sides are built from the
//! same types. A reply is
//! `{"ok":<value>}` or `{"err":{"kind":"…","message":"…"}}`, `kind` one of `manager_gone`,
//! `not_installed`, `crashed`, `no_such_call` and `codec`.
//!
//! # The wire format
//!
//! JSON, so a service in another language can publish and read the same events with its own
//! NATS client:
//!
//! - A bus named `<bus>` is the JetStream stream `<bus>`, on disk, holding `<bus>.events.>`.
//! - A manager publishes to `<bus>.events.<manager>`, its name with every character other than
//!   ASCII letters, digits, `-` and `_` written `_`.
//! - A message is a batch of one publisher's consecutive events:
//!   `{"origin":{"manager":"room-1","incarnation":"4f1c09d2a7e3b605"},"seq":17,"events":[…]}`,
//!   each event in its serde JSON form. `seq` numbers the first event of the batch and the
//!   others follow; a publisher's first event is 1, and its `incarnation` (16 hexadecimal
//!   digits) is new each time a publisher is installed.
//! - The `Nats-Msg-Id` header is `<incarnation>.<seq>`.
//! - The `traceparent` header (W3C Trace Context) names the batch's trace: the publisher logs
//!   the publish, and the bridge hands the events over, in `tracing` spans (`publish`,
//!   `apply`, at debug level) that carry it.
//!
//! # OTP → event-nats
//!
//! | OTP | here |
//! |---|---|
//! | `gen_event:notify({Name, Node}, Ev)` to every node | the manager on `Node` publishes to a bus ([`publish`]); this one reads it ([`Bridge`]) |
//! | at most once, lost while the node is down | at least once on the wire, once in the handlers, kept across broker restarts |
//! | `gen_event:notify({Name, Node}, Ev)` to one manager | [`RemoteManager::notify`] (returns once the manager queued it) |
//! | `gen_event:sync_notify({Name, Node}, Ev)` | [`RemoteManager::sync_notify`] |
//! | `gen_event:call({Name, Node}, H, Req)` | [`RemoteManager::call`], served by a [`Serve`] child with [`Serve::call`] |
//! | `{error, bad_module}`, `{'EXIT', _}`, a `call` timeout | [`RemoteError`]: `NotInstalled`, `Crashed` (with the report), `Timeout`, `NoSuchManager`, … |
//!
//! # Running nats-server for development
//!
//! Debian packages it: `apt-get install nats-server`, then `nats-server -js -a 127.0.0.1
//! -sd /tmp/nats` runs a broker with JetStream on `127.0.0.1:4222`, its store in `/tmp/nats`.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

// The crate's README is checked as the docs are: its examples build.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;

mod bridge;
mod bus;
mod publish;
mod remote;
mod wire;

pub use bridge::{Bridge, BridgeStats, Inbound};
pub use bus::{BadBusName, Bus};
pub use publish::{publish, Outbound, Publisher};
pub use remote::{RemoteError, RemoteManager, Serve};
pub use wire::Origin;
