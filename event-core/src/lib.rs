//! Erlang/OTP's `gen_event` for tokio, with the sharp edges filed off.
//!
//! An **event manager** is one tokio task that owns a list of **handlers**. You send it
//! events; it runs each event through its handlers one after another, **newest first** (the
//! handler installed last sees an event first), and every handler finishes an event before any
//! handler sees the next one. Handlers are plain Rust values implementing [`Handler<E>`], most
//! simply written with [`#[handler]`](macro@handler): you install them, call them with typed
//! requests, swap them for others that inherit their state, supervise them, and remove them,
//! while the manager keeps running. A handler that panics or
//! fails is removed and reported; the manager and the other handlers carry on.
//!
//! You talk to a manager through [`EventManager<E>`], a cheap, cloneable handle.
//!
//! The guide below has eight parts:
//!
//! 1. [A first example](#a-first-example)
//! 2. [Handlers](#handlers): the callbacks, plain and `async`, and typed calls
//! 3. [Supervision](#supervision): learning why a handler left, and swapping handlers
//! 4. [Supervision trees](#supervision-trees): guards, restarts in place, supervisors
//! 5. [Crashes](#crashes): what happens, and what gets reported
//! 6. [Sharp edges, filed off](#sharp-edges-filed-off): deadlocks, timers, slow handlers,
//!    duplicates, backpressure
//! 7. [OTP → event-core](#otp--event-core): every `gen_event` and `supervisor` function and
//!    callback, and what it is here
//! 8. [Runtime notes](#runtime-notes)
//!
//! # A first example
//!
//! A manager for the alarms of a machine room, with one handler that keeps the alarms that are
//! set and answers how many there are. The handler is written out by hand here, to show all
//! the runtime sees of it: this is what [`#[handler]`](macro@handler) generates, and the rest
//! of this guide uses the macro instead.
//!
//! ```rust
//! use event_core::{Call, Context, EventManager, Handler, Step, Terminate};
//!
//! /// The events: what happens to the alarms.
//! #[derive(Debug)]
//! enum Alarm {
//!     Set(&'static str),
//!     Clear(&'static str),
//! }
//!
//! /// A handler: keeps the alarms that are set.
//! struct AlarmLog {
//!     active: Vec<&'static str>,
//! }
//!
//! impl Handler<Alarm> for AlarmLog {
//!     type Args = ();                    // what `init` takes
//!     type Info = ();                    // messages it sends itself: none
//!     type Handover = Vec<&'static str>; // what `terminate` returns
//!
//!     fn init(_args: (), _cx: &mut Context<Alarm, Self>) -> Step<'static, Self> {
//!         Step::ok(AlarmLog { active: Vec::new() })
//!     }
//!
//!     fn handle_event(&mut self, alarm: &Alarm, _cx: &mut Context<Alarm, Self>) -> Step<'_> {
//!         match *alarm {
//!             Alarm::Set(what) => self.active.push(what),
//!             Alarm::Clear(what) => self.active.retain(|a| *a != what),
//!         }
//!         Step::ok(())
//!     }
//!
//!     fn terminate(self, _reason: Terminate) -> Step<'static, Vec<&'static str>> {
//!         Step::ok(self.active)
//!     }
//! }
//!
//! /// A request the handler answers: how many alarms are set?
//! struct Count;
//!
//! impl Call<Alarm, Count> for AlarmLog {
//!     type Reply = usize;
//!
//!     fn handle_call(&mut self, _: Count, _cx: &mut Context<Alarm, Self>) -> Step<'_, usize> {
//!         Step::ok(self.active.len())
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let manager = EventManager::<Alarm>::start()?;             // a task on this runtime
//! let log = manager.add_handler::<AlarmLog>(()).await?;      // runs `init`
//!
//! manager.notify(Alarm::Set("disk full")).await?;            // fire and forget
//! manager.notify(Alarm::Set("fan failure")).await?;
//! manager.sync_notify(Alarm::Clear("disk full")).await?;     // returns once it was handled
//!
//! assert_eq!(manager.call(&log, Count).await?, 1);           // typed request, typed reply
//!
//! let left = manager.delete_handler(&log, ()).await?;        // runs `terminate`
//! assert_eq!(left, ["fan failure"]);
//! manager.stop().await?;
//! # Ok(()) }
//! ```
//!
//! What happened:
//!
//! - [`EventManager::start`] spawned the manager's task on the current tokio runtime and
//!   returned a handle. [`EventManager::builder`] gives the manager a name or a bounded
//!   mailbox.
//! - [`add_handler`](EventManager::add_handler) ran `AlarmLog::init` inside the manager and
//!   returned a [`HandlerRef<AlarmLog>`]: the name of the installed handler, used to call,
//!   delete or swap it.
//! - [`notify`](EventManager::notify) queued the events and returned at once;
//!   [`sync_notify`](EventManager::sync_notify) returned once every handler had handled its
//!   event, and so the two events sent before it too, since a manager handles the events of
//!   one sender in the order they were sent.
//! - [`call`](EventManager::call) sent `Count` to that one handler. The request's type picked
//!   the `Call<Alarm, Count>` implementation, so the reply is a `usize`.
//! - [`delete_handler`](EventManager::delete_handler) removed the handler; what its
//!   `terminate` returned is the result.
//! - [`stop`](EventManager::stop) ended the manager, running `terminate` of every handler
//!   still installed. Dropping the last handle does the same.
//!
//! Every operation that can fail returns a `Result`: a manager that stopped, a handler that is
//! not installed or that crashed are error values, never panics or hangs.
//!
//! With [`#[handler]`](macro@handler), the same handler is ordinary methods; the macro writes
//! the two impls above from them:
//!
//! ```rust
//! use event_core::{handler, Terminate};
//! # #[derive(Debug)]
//! # enum Alarm { Set(&'static str), Clear(&'static str) }
//!
//! struct AlarmLog {
//!     active: Vec<&'static str>,
//! }
//!
//! struct Count;
//!
//! #[handler(event = Alarm)]
//! impl AlarmLog {
//!     fn init() -> Self {                                   // `type Args = ()`
//!         AlarmLog { active: Vec::new() }
//!     }
//!
//!     fn handle_event(&mut self, alarm: &Alarm) {
//!         match *alarm {
//!             Alarm::Set(what) => self.active.push(what),
//!             Alarm::Clear(what) => self.active.retain(|a| *a != what),
//!         }
//!     }
//!
//!     #[call]
//!     fn count(&self, _: Count) -> usize {                  // `impl Call<Alarm, Count>`
//!         self.active.len()
//!     }
//!
//!     fn terminate(self, _reason: Terminate) -> Vec<&'static str> { // `type Handover`
//!         self.active
//!     }
//! }
//! ```
//!
//! # Handlers
//!
//! A handler is a type that implements [`Handler<E>`] for the manager's event type `E`, and
//! [`Call<E, R>`] for each type of request `R` it answers. [`#[handler]`](macro@handler) (the
//! `macros` feature, on by default) writes both from the ordinary methods of an annotated
//! `impl` block, found by name: OTP's callbacks, typed.
//!
//! - `fn init(args: A) -> Self` builds the handler ([`Handler::init`]); `A` is what
//!   `add_handler` takes ([`Args`](Handler::Args)). Returning `Result<Self, E>`, it may fail:
//!   then nothing is installed, no `terminate` runs, and the caller of `add_handler` gets
//!   [`AddError::InitFailed`]. Without `init` the handler is built with `Default`.
//! - `fn handle_event(&mut self, event: &E)` handles one event ([`Handler::handle_event`]).
//!   Every handler gets the same event by reference: nothing is cloned per handler.
//! - `fn handle_info(&mut self, info: Info<M>)` handles the messages meant for this handler
//!   alone ([`Handler::handle_info`]: its timers, its [`InfoSender`], the watches it set; see
//!   [timers](#timers-and-watches-belong-to-one-handler)); `M` is its
//!   [`Info`](Handler::Info) type. Optional: without it they are ignored.
//! - A `#[call]` method `fn name(&mut self, request: R) -> Reply` answers requests of type `R`
//!   ([`Call::handle_call`]), one method per request type; see [typed calls](#typed-calls-calle-r).
//! - `fn terminate(self, reason: Terminate) -> H` consumes the handler when it leaves, telling
//!   it why ([`Terminate`], [`Handler::terminate`]); what it returns
//!   ([`Handover`](Handler::Handover)) is the result of `delete_handler`, or the state handed
//!   to its successor in a swap. Optional: without it the handler hands over `()`.
//! - `#[handler]` on the struct shows its fields in crash reports, `#[redact]` ones hidden; a
//!   `fn format_status(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result` method writes any
//!   other view ([`Handler::format_status`]). Optional: by default reports show nothing of the
//!   state.
//!
//! Any callback may take the handler's [`Context`] as its last parameter, and may be `async`.
//! A callback returning `Result<_, E>`, `E` any error type, fails with `Err`. The
//! [macro's documentation](macro@handler) lists every form it accepts; the [first
//! example](#a-first-example) shows the trait it implements.
//!
//! The [`Context`] a callback gets is its handle on its surroundings: it can
//! [`remove_self`](Context::remove_self) or [`swap_self`](Context::swap_self) (OTP's
//! `remove_handler` and `swap_handler` returns), set timers, watch subscribers, and ask for
//! operations on its own manager (see [no deadlocks](#no-deadlocks)).
//!
//! ```rust
//! use event_core::{handler, Context, EventManager, Terminate};
//!
//! /// Greets the first visitor, then leaves.
//! struct Welcome;
//!
//! #[handler(event = String)]
//! impl Welcome {
//!     fn init() -> Self {
//!         Welcome
//!     }
//!
//!     fn handle_event(&mut self, visitor: &String, cx: &mut Context<String, Self>) {
//!         println!("welcome, {visitor}!");
//!         cx.remove_self(); // leave once this callback returns
//!     }
//!
//!     fn terminate(self, reason: Terminate) {
//!         println!("welcome handler leaving: {reason}"); // "removed itself"
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let manager = EventManager::<String>::start()?;
//! manager.add_handler::<Welcome>(()).await?;
//! manager.sync_notify("Ada".to_string()).await?;
//! assert!(manager.which_handlers().await?.is_empty());
//! # Ok(()) }
//! ```
//!
//! ## Plain and `async` callbacks
//!
//! A plain callback runs to its end and allocates nothing. An `async` one may await; its future
//! is boxed, once per call. Underneath, every callback of the trait returns a [`Step`]: ready
//! now ([`Step::ok`], [`Step::err`]), or a future ([`Step::from_async`]); that is what
//! `#[handler]` makes of a plain and of an `async` method. A callback fails by returning `Err`
//! of any error type: it converts into the boxed [`BoxError`], a `&str` included.
//!
//! ```rust
//! use event_core::{handler, BoxError, EventManager};
//! use tokio::sync::mpsc;
//!
//! /// Forwards every reading to a channel, waiting for room when the channel is full.
//! struct Forward {
//!     to: mpsc::Sender<u32>,
//! }
//!
//! #[handler(event = u32)]
//! impl Forward {
//!     fn init(to: mpsc::Sender<u32>) -> Self {
//!         Forward { to }
//!     }
//!
//!     async fn handle_event(&mut self, n: &u32) -> Result<(), BoxError> {
//!         self.to.send(*n).await?; // the whole manager waits here
//!         Ok(())
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let (tx, mut rx) = mpsc::channel(8);
//! let manager = EventManager::<u32>::start()?;
//! manager.add_handler::<Forward>(tx).await?;
//! manager.notify(7).await?;
//! assert_eq!(rx.recv().await, Some(7));
//! # Ok(()) }
//! ```
//!
//! **An `async` callback holds the manager while it runs**, exactly as a slow handler holds an
//! OTP manager: no other handler sees the next event, and no call is answered, until its future
//! is done. That keeps the order guarantees, and it is fine for short waits. For a handler that
//! waits long (a network write, a disk flush), install it
//! [dedicated](#dedicated-handlers-for-slow-work) to a task of its own.
//!
//! ## Typed calls: [`Call<E, R>`]
//!
//! OTP's `handle_call` takes any term and returns any term. Here a handler implements
//! [`Call<E, R>`] once per request type `R` it answers, each with its own
//! [`Reply`](Call::Reply) type: with `#[handler]`, one `#[call]` method per request type, which
//! takes the request by value and returns the reply. [`EventManager::call`] picks the
//! implementation by the request's type. Asking a handler a question it does not answer is a compile error; asking a
//! handler that is not installed is [`CallError::NotInstalled`].
//!
//! ```rust
//! use event_core::{handler, CallError, EventManager};
//!
//! /// Keeps statistics of temperature readings.
//! struct Stats {
//!     readings: Vec<i32>,
//! }
//!
//! struct Count;
//! struct Max;
//!
//! #[handler(event = i32)]
//! impl Stats {
//!     fn init() -> Self {
//!         Stats { readings: Vec::new() }
//!     }
//!
//!     fn handle_event(&mut self, t: &i32) {
//!         self.readings.push(*t);
//!     }
//!
//!     #[call]
//!     fn count(&self, _: Count) -> usize {
//!         self.readings.len()
//!     }
//!
//!     #[call]
//!     fn max(&self, _: Max) -> Option<i32> {
//!         self.readings.iter().copied().max()
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let manager = EventManager::<i32>::start()?;
//! let stats = manager.add_handler::<Stats>(()).await?;
//! manager.notify(21).await?;
//! manager.notify(23).await?;
//!
//! let n: usize = manager.call(&stats, Count).await?;
//! let max: Option<i32> = manager.call(&stats, Max).await?;
//! assert_eq!((n, max), (2, Some(23)));
//!
//! manager.delete_handler(&stats, ()).await?;
//! assert!(matches!(
//!     manager.call(&stats, Count).await,
//!     Err(CallError::NotInstalled(_))
//! ));
//! # Ok(()) }
//! ```
//!
//! A call may also [`remove_self`](Context::remove_self) or
//! [`swap_self`](Context::swap_self): the caller still gets the reply (OTP's
//! `{remove_handler, Reply}` and `{swap_handler, Reply, ...}`). A `#[call]` method's return
//! value is its reply as is, a `Result` too: it crashes the handler only by panicking. A call
//! that fails with an error value is an `impl Call<E, R>` written by hand, which may stand
//! beside the annotated impl block.
//!
//! # Supervision
//!
//! [`add_sup_handler`](EventManager::add_sup_handler) installs a handler and returns a
//! [`SupLink`]: the supervising end of that handler, owned by whoever installed it (OTP's link
//! between the handler and the calling process).
//!
//! - **Awaiting** the link yields the [`ExitReason`]: why the handler left (OTP's
//!   `{gen_event_EXIT, Handler, Reason}` message). [`SupLink::try_exit`] asks without waiting.
//! - **Dropping** the link is OTP's "the supervising process died": the handler is removed,
//!   and its `terminate` is told [`Terminate::SupervisorGone`]. It is `#[must_use]` so that
//!   this does not happen by accident.
//! - [`SupLink::handler`] is the handler's [`HandlerRef`], for calls, deletes and swaps.
//!
//! ```rust
//! use event_core::{handler, EventManager, ExitReason};
//!
//! /// Pages the on-call engineer.
//! #[derive(Default)]
//! struct Pager;
//!
//! #[handler(event = &'static str)]
//! impl Pager {
//!     fn handle_event(&mut self, page: &&'static str) {
//!         println!("paging: {page}");
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let manager = EventManager::<&'static str>::start()?;
//!
//! let link = manager.add_sup_handler::<Pager>(()).await?;
//! manager.delete_handler(link.handler(), ()).await?;
//! assert!(matches!(link.await, ExitReason::Normal));
//!
//! let link = manager.add_sup_handler::<Pager>(()).await?;
//! drop(link); // the supervisor is gone: so is the handler
//! assert!(manager.which_handlers().await?.is_empty());
//!
//! let link = manager.add_sup_handler::<Pager>(()).await?;
//! manager.stop().await?;
//! assert!(matches!(link.await, ExitReason::Shutdown));
//! # Ok(()) }
//! ```
//!
//! A supervisor is typically a task that awaits the link and acts on the reason: re-installs
//! the handler after a crash, stops on [`Normal`](ExitReason::Normal) or
//! [`Shutdown`](ExitReason::Shutdown) ([`ExitReason::is_normal_or_shutdown`]).
//!
//! ## Why a handler leaves, and who is told
//!
//! | cause | `terminate` is told ([`Terminate`]) | the link yields ([`ExitReason`]) |
//! |---|---|---|
//! | deleted through [`delete_handler`](EventManager::delete_handler) | [`Deleted(args)`](Terminate::Deleted); its return is the delete's result | [`Normal`](ExitReason::Normal) |
//! | removed itself ([`Context::remove_self`]) | [`Removed`](Terminate::Removed) | [`Normal`](ExitReason::Normal) |
//! | panicked or returned an error | [`Crashed(crash)`](Terminate::Crashed) | [`Crashed(crash)`](ExitReason::Crashed), saying which event or call was running |
//! | swapped out | [`Swapped { to, args }`](Terminate::Swapped) | [`Swapped { to, link }`](ExitReason::Swapped) |
//! | its [`SupLink`] was dropped | [`SupervisorGone`](Terminate::SupervisorGone) | nothing: nobody is left to tell |
//! | the manager stops | [`Stop`](Terminate::Stop), newest handler first | [`Shutdown`](ExitReason::Shutdown) |
//! | the manager's task vanished (its runtime shut down) | nothing: `terminate` cannot run | [`ManagerGone`](ExitReason::ManagerGone) |
//! | the manager's supervisor restarted it | [`Stop`](Terminate::Stop) | [`ManagerRestarted`](ExitReason::ManagerRestarted) |
//! | a dedicated handler fell behind ([`Overload::Remove`]) | [`Overloaded`](Terminate::Overloaded) | [`Overloaded`](ExitReason::Overloaded) |
//!
//! ## Swapping, with hand-over
//!
//! [`swap_handler`](EventManager::swap_handler) replaces one handler by another without losing
//! its state: the old handler's `terminate` runs first (told
//! [`Terminate::Swapped`] with the swap's args), and what it returns is given to `make_args`,
//! a closure that builds the new handler's init args from it. `make_args` gets `None` if the
//! old handler was not installed or its `terminate` crashed (OTP passes `error`). The new
//! handler is installed at the head of the list. If its `init` fails, the old handler is gone
//! all the same, as in OTP.
//!
//! The new handler inherits the old one's supervision: the old link yields
//! [`ExitReason::Swapped`] carrying the link that now supervises the new handler.
//! [`swap_sup_handler`](EventManager::swap_sup_handler) instead gives the new handler's link
//! to the caller, and the old link's `Swapped` carries none.
//!
//! ```rust
//! use std::collections::VecDeque;
//! use event_core::{handler, EventManager, ExitReason, HandlerRef};
//!
//! /// Keeps every line.
//! struct FullLog(Vec<String>);
//!
//! #[handler(event = String)]
//! impl FullLog {
//!     fn init(lines: Vec<String>) -> Self {
//!         FullLog(lines)
//!     }
//!
//!     fn handle_event(&mut self, line: &String) {
//!         self.0.push(line.clone());
//!     }
//!
//!     fn terminate(self) -> Vec<String> {
//!         self.0 // its lines, for whoever comes next
//!     }
//! }
//!
//! /// Keeps the last `cap` lines.
//! struct RingLog {
//!     cap: usize,
//!     lines: VecDeque<String>,
//! }
//!
//! /// A request: the lines kept.
//! struct Lines;
//!
//! #[handler(event = String)]
//! impl RingLog {
//!     /// Its capacity, and the lines it starts with.
//!     fn init((cap, lines): (usize, Vec<String>)) -> Self {
//!         let mut ring = RingLog { cap, lines: VecDeque::new() };
//!         lines.into_iter().for_each(|line| ring.push(line));
//!         ring
//!     }
//!
//!     fn handle_event(&mut self, line: &String) {
//!         self.push(line.clone());
//!     }
//!
//!     #[call]
//!     fn lines(&self, _: Lines) -> Vec<String> {
//!         self.lines.iter().cloned().collect()
//!     }
//!
//!     fn terminate(self) -> Vec<String> {
//!         self.lines.into()
//!     }
//!
//!     fn push(&mut self, line: String) {
//!         if self.lines.len() == self.cap {
//!             self.lines.pop_front();
//!         }
//!         self.lines.push_back(line);
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let manager = EventManager::<String>::start()?;
//! let full = manager.add_sup_handler::<FullLog>(Vec::new()).await?;
//! for line in ["a", "b", "c"] {
//!     manager.notify(line.to_string()).await?;
//! }
//!
//! // FullLog's terminate returns its lines; make_args turns them into RingLog's args.
//! let ring = manager
//!     .swap_handler(full.handler(), (), HandlerRef::<RingLog>::new(), |lines| {
//!         (2, lines.unwrap_or_default())
//!     })
//!     .await?;
//! assert_eq!(manager.call(&ring, Lines).await?, ["b", "c"]);
//!
//! // FullLog's supervisor learns of the swap, and now supervises the RingLog.
//! let ExitReason::Swapped { to, link: Some(link) } = full.await else {
//!     panic!("FullLog was swapped, and its supervision passed on");
//! };
//! assert_eq!(&to, ring.id());
//! let ring_link = link.typed::<RingLog>().expect("the link supervises a RingLog");
//!
//! // swap_sup_handler: the caller supervises the new handler; the old link carries no link.
//! let full = manager
//!     .swap_sup_handler(ring_link.handler(), (), HandlerRef::<FullLog>::new(), |lines| {
//!         lines.unwrap_or_default()
//!     })
//!     .await?;
//! assert!(matches!(ring_link.await, ExitReason::Swapped { link: None, .. }));
//! assert_eq!(manager.delete_handler(full.handler(), ()).await?, ["b", "c"]);
//! # Ok(()) }
//! ```
//!
//! A handler can also swap itself from any callback with [`Context::swap_self`]: the same
//! terminate → `make_args` → init, but the new handler keeps the old one's place in the list
//! and does not see the current event.
//!
//! # Supervision trees
//!
//! Three ways to bring a handler back, from the lightest to the broadest:
//!
//! - **In place.** [`add_sup_handler_in_place`](EventManager::add_sup_handler_in_place)
//!   installs a handler that the manager itself re-initialises after a crash, before it takes
//!   its next message: there is no window in which a request finds the handler missing. The
//!   caller of the request that crashed gets [`CallError::Crashed`]; the next request is
//!   answered by the new incarnation. The link's [`notice`](SupLink::notice) tells of each
//!   restart ([`Notice::Restarted`]); past its [`Intensity`] the handler is removed and the
//!   link yields [`ExitReason::Crashed`].
//! - **A guard.** A [`Guard`] is a supervisor child that installs a supervised handler and
//!   watches it: it ends when the handler is removed normally or the manager shuts down, and
//!   installs it again when it leaves any other way, retrying with [`Backoff`].
//! - **A supervisor.** A [`Supervisor`] runs children (event managers, guards, plain tasks,
//!   nested supervisors) with OTP's [`Strategy`]s, [`Restart`] types, [`Intensity`],
//!   [`Shutdown`]s and significant children. Children start in order and stop in reverse.
//!
//! [`supervisor!`](macro@supervisor) declares a tree, checked at compile time, and
//! generates a struct with a `start` and a typed accessor per child. The lager-style tree: a
//! top supervisor owns the event manager and a `simple_one_for_one` supervisor of guards, one
//! guard per handler. The tree starts in order, so once `start` returns, the manager runs;
//! each guard started afterwards installs its handler and re-installs it if it crashes.
//!
//! ```rust
//! use event_core::{handler, supervisor};
//!
//! #[derive(Debug)]
//! pub enum Job {
//!     Started(u32),
//!     Poison,
//! }
//!
//! /// Counts the jobs it sees; panics on poison.
//! pub struct JobCounter {
//!     seen: u32,
//! }
//!
//! pub struct Seen;
//!
//! #[handler(event = Job)]
//! impl JobCounter {
//!     fn init() -> Self {
//!         JobCounter { seen: 0 }
//!     }
//!
//!     fn handle_event(&mut self, job: &Job) {
//!         match job {
//!             Job::Started(_) => self.seen += 1,
//!             Job::Poison => panic!("poisoned job"),
//!         }
//!     }
//!
//!     #[call]
//!     fn seen(&mut self, _: Seen) -> u32 {
//!         self.seen
//!     }
//! }
//!
//! supervisor! {
//!     /// One guard per handler, started on demand, on the manager it is given.
//!     pub struct Guards(jobs: Job) {
//!         strategy: simple_one_for_one,
//!         template: guard JobCounter { manager: jobs },
//!     }
//! }
//!
//! supervisor! {
//!     /// The manager first, then the guards.
//!     pub struct Tree {
//!         strategy: one_for_one,
//!         intensity: 10,
//!         period: 60s,
//!         children: [
//!             manager jobs: Job { debug_events: true },
//!             supervisor guards: Guards(jobs),
//!         ],
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let tree = Tree::start().await?;
//! let counter = tree.guards().start_child(()).await?;   // a guard, and its handler's ref
//!
//! tree.jobs().notify(Job::Started(1)).await?;
//! assert_eq!(tree.jobs().call(&counter, Seen).await?, 1);
//!
//! // The handler crashes and is removed; its guard installs a new one.
//! tree.jobs().sync_notify(Job::Poison).await?;
//! let seen = loop {
//!     match tree.jobs().call(&counter, Seen).await {
//!         Ok(seen) => break seen,
//!         Err(_) => tokio::task::yield_now().await, // not re-installed yet
//!     }
//! };
//! assert_eq!(seen, 0, "a fresh handler");
//!
//! tree.stop().await?; // guards first, then the manager
//! assert!(tree.jobs().is_stopped());
//! # Ok(()) }
//! ```
//!
//! Every mistake in the declaration is a compile error on its token: a guard naming a manager
//! that is not declared, or declared after it, a handler of other events, args of the wrong
//! type, an unknown key, a bad strategy; the macro's documentation lists them all.
//!
//! The same tree can be built without the macro, from the parts it expands to: a manager run
//! by a supervisor is built with [`Builder::supervised`], whose handle is made once and
//! reaches every incarnation (its mailbox outlives them, so events sent while it restarts wait
//! and are handled by the next one, after its standing handlers, [`ManagerChild::handler`],
//! are installed); a guard is [`Guard::new`]`(..).child(id)`; a supervisor is
//! [`Supervisor::builder`], started with [`start`](SupervisorBuilder::start) or nested with
//! [`SupervisorBuilder::supervised`], whose handle reaches every incarnation the same way.
//!
//! A handler restarted in place needs no guard for its crashes, and no caller ever finds it
//! missing:
//!
//! ```rust
//! # use std::time::Duration;
//! # use event_core::*;
//! # #[derive(Debug)]
//! # enum Job { Started(u32), Poison }
//! # struct JobCounter { seen: u32 }
//! # struct Seen;
//! # #[handler(event = Job)]
//! # impl JobCounter {
//! #     fn init() -> Self { JobCounter { seen: 0 } }
//! #     fn handle_event(&mut self, job: &Job) {
//! #         match job { Job::Started(_) => self.seen += 1, Job::Poison => panic!("poisoned job") }
//! #     }
//! #     #[call]
//! #     fn seen(&mut self, _: Seen) -> u32 { self.seen }
//! # }
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let jobs = EventManager::<Job>::start()?;
//! let intensity = Intensity::new(3, Duration::from_secs(10));
//! let mut link = jobs
//!     .add_sup_handler_in_place(Install::<JobCounter>::new(), (), intensity)
//!     .await?;
//! let counter = link.handler().clone();
//!
//! jobs.notify(Job::Poison).await?;
//! // Queued right behind the crash, answered by the new incarnation.
//! assert_eq!(jobs.call(&counter, Seen).await?, 0);
//! assert!(matches!(link.notice().await, Notice::Restarted(_)));
//! # Ok(()) }
//! ```
//!
//! # Crashes
//!
//! A callback **crashes** when it panics or returns an error. The manager catches it, and:
//!
//! 1. removes the handler, and runs its `terminate` with [`Terminate::Crashed`] (unless it was
//!    `init` that failed: then nothing was installed and the error goes to the caller of
//!    `add_handler` as [`AddError::InitFailed`]);
//! 2. logs a crash report (below);
//! 3. tells the supervising link [`ExitReason::Crashed`], with a [`Crash`] that says which
//!    handler failed ([`Crash::handler`]), how ([`Crash::cause`]: a [`Cause::Panic`] with its
//!    message or a [`Cause::Error`]), and what it was doing ([`Crash::during`]: the event, with
//!    its sequence number and its `Debug` form, or the call's request type, ...);
//! 4. gives the event to the remaining handlers, as if nothing happened.
//!
//! A [`call`](EventManager::call) whose handler crashes while answering returns
//! [`CallError::Crashed`] to that caller, who learns that its request failed instead of waiting
//! for a reply that never comes.
//!
//! ```rust
//! use event_core::{handler, CallError, During, EventManager, ExitReason, Terminate};
//!
//! #[derive(Debug)]
//! enum Reading {
//!     Celsius(i32),
//!     Garbled,
//! }
//!
//! /// Parses readings; fails on a garbled one.
//! struct Parser;
//!
//! #[handler(event = Reading)]
//! impl Parser {
//!     fn init() -> Self {
//!         Parser
//!     }
//!
//!     fn handle_event(&mut self, reading: &Reading) -> Result<(), &'static str> {
//!         match reading {
//!             Reading::Celsius(_) => Ok(()),
//!             Reading::Garbled => Err("cannot parse a garbled reading"),
//!         }
//!     }
//!
//!     fn terminate(self, _reason: Terminate) {
//!         // told Terminate::Crashed, with the crash
//!     }
//! }
//!
//! /// Sums readings; its average has a bug.
//! struct Average {
//!     sum: i32,
//!     count: i32,
//! }
//! struct Get;
//!
//! #[handler(event = Reading)]
//! impl Average {
//!     #[call]
//!     fn get(&self, _: Get) -> i32 {
//!         self.sum / self.count // panics when there were no readings
//!     }
//! #
//! #     fn init() -> Self {
//! #         Average { sum: 0, count: 0 }
//! #     }
//! #
//! #     fn handle_event(&mut self, reading: &Reading) {
//! #         if let Reading::Celsius(t) = reading {
//! #             self.sum += t;
//! #             self.count += 1;
//! #         }
//! #     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let manager = EventManager::<Reading>::start()?;
//! let parser = manager.add_sup_handler::<Parser>(()).await?;
//! let average = manager.add_handler::<Average>(()).await?;
//!
//! // A call whose handler crashes: the caller gets the crash, and the handler is gone.
//! let Err(CallError::Crashed(crash)) = manager.call(&average, Get).await else {
//!     panic!("with no readings yet, the average divides by zero");
//! };
//! assert_eq!(crash.cause().panic_message(), Some("attempt to divide by zero"));
//! assert_eq!(manager.which_handlers().await?, [parser.handler().id().clone()]);
//!
//! let average = manager.add_handler::<Average>(()).await?; // re-installed
//! manager.notify(Reading::Celsius(21)).await?;
//! manager.sync_notify(Reading::Garbled).await?; // says nothing of failures, as in OTP
//!
//! // The parser is gone, and its supervisor learns why and during which event.
//! let ExitReason::Crashed(crash) = parser.await else {
//!     panic!("the parser failed");
//! };
//! assert_eq!(crash.during(), &During::Event { seq: 2, event: Some("Garbled".into()) });
//! assert_eq!(
//!     crash.to_string(),
//!     "handler Parser failed (cannot parse a garbled reading) handling event #2: Garbled"
//! );
//!
//! // The other handler carries on.
//! assert_eq!(manager.which_handlers().await?, [average.id().clone()]);
//! assert_eq!(manager.call(&average, Get).await?, 21);
//! # Ok(()) }
//! ```
//!
//! ## Crash reports
//!
//! Every crash of an installed handler is logged through [`tracing`](https://docs.rs/tracing)
//! as an `ERROR` event with the message `event handler crashed and was removed` and these
//! fields:
//!
//! | field | value |
//! |---|---|
//! | `manager` | the manager's name ([`Builder::name`], or `manager#N`) |
//! | `handler` | the handler's identity: its type name, and its key if it has one, e.g. `FileLog("error.log")` |
//! | `reason` | the [`Crash`]: how it failed and what it was doing, e.g. `handler Parser failed (cannot parse a garbled reading) handling event #2: Garbled` |
//! | `status` | what the handler's [`format_status`](Handler::format_status) writes |
//!
//! A crash inside `terminate` itself is logged as `event handler crashed in terminate`, with
//! `manager`, `handler` and `reason`; a `delete_handler` of that handler returns
//! [`DeleteError::TerminateFailed`]. An `init` that fails is not logged when a caller gets the
//! error ([`AddError::InitFailed`], [`SwapError::InitFailed`]); it is when nobody waits for it
//! (a [`swap_self`](Context::swap_self) whose new handler fails to start). Install a `tracing`
//! subscriber (e.g. `tracing-subscriber`) to see the reports; their targets start with
//! `event_core`.
//!
//! The event shows in `reason` when the manager was started with
//! [`EventManager::start`] or [`Builder::debug_events`], which take its `Debug` form.
//!
//! [`format_status`](Handler::format_status) decides what of the state a report shows. The
//! default shows nothing (`(state not shown)`), so that secrets do not leak into logs.
//! `#[handler]` on the struct shows its fields with `Debug`, and those marked `#[redact]` as
//! `<redacted>`; a `format_status` method in the impl block writes any other view.
//!
//! ```rust
//! use event_core::handler;
//! # use event_core::Handler;
//!
//! /// Uploads events to a metrics service.
//! #[handler]
//! struct Uploader {
//!     endpoint: String,
//!     #[redact] // stays out of the logs
//!     token: String,
//!     sent: u64,
//! }
//!
//! #[handler(event = u64)]
//! impl Uploader {
//!     fn init((endpoint, token): (String, String)) -> Self {
//!         Uploader { endpoint, token, sent: 0 }
//!     }
//!
//!     fn handle_event(&mut self, _: &u64) {
//!         self.sent += 1;
//!     }
//! }
//! # struct Status<'a>(&'a Uploader);
//! # impl std::fmt::Display for Status<'_> {
//! #     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
//! #         Handler::<u64>::format_status(self.0, f)
//! #     }
//! # }
//!
//! // A crash report's `status`:
//! let uploader = Uploader::init(("https://metrics.example".into(), "s3cret".into()));
//! assert_eq!(
//!     Status(&uploader).to_string(),
//!     r#"Uploader { endpoint: "https://metrics.example", token: <redacted>, sent: 0 }"#
//! );
//! ```
//!
//! # Sharp edges, filed off
//!
//! What OTP users trip over in `gen_event`, and what this crate does instead.
//!
//! ## No deadlocks
//!
//! In OTP a handler that calls its own manager (`gen_event:call`, `add_handler`,
//! `sync_notify`, ...) waits for a manager that is busy running that very handler: a deadlock.
//! Here, the operations of [`EventManager`] that wait for the manager return a
//! `WouldDeadlock` error (e.g. [`AddError::WouldDeadlock`]) when awaited inside a callback of
//! the same manager. The handler's [`Context`] offers the same operations **deferred**:
//! [`Context::add_handler`], [`Context::delete_handler`] and [`Context::swap_handler`] are
//! applied right after the current message, before the manager takes the next one. Each
//! returns a [`Deferred`] future with the result: drop it, or await it in a task the handler
//! spawns (awaited inside the same callback it, too, says `WouldDeadlock`).
//!
//! ```rust
//! use event_core::{handler, AddError, Context, EventManager, Install};
//!
//! #[derive(Debug)]
//! enum Net {
//!     Dial(u32),
//! }
//!
//! /// Routes calls through a `Dialer` handler, which it installs on the first dial.
//! struct Router {
//!     refused: Option<AddError>,
//! }
//!
//! struct Refused;
//!
//! #[handler(event = Net)]
//! impl Router {
//!     fn init() -> Self {
//!         Router { refused: None }
//!     }
//!
//!     async fn handle_event(&mut self, _: &Net, cx: &mut Context<Net, Self>) {
//!         // The blocking form, awaited here, errs instead of hanging.
//!         let manager = cx.manager();
//!         self.refused = manager.add_handler::<Dialer>(()).await.err();
//!         // The deferred form: applied once this event is handled.
//!         let dialer = cx.add_handler(Install::<Dialer>::new(), ());
//!         tokio::spawn(async move {
//!             if let Err(e) = dialer.await {
//!                 eprintln!("no dialer: {e}");
//!             }
//!         });
//!     }
//!
//!     #[call]
//!     fn refused(&mut self, _: Refused) -> Option<AddError> {
//!         self.refused.take()
//!     }
//! }
//!
//! /// Dials.
//! #[derive(Default)]
//! struct Dialer;
//! # #[handler(event = Net)]
//! # impl Dialer {
//! #     fn handle_event(&mut self, _: &Net) {}
//! # }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let manager = EventManager::<Net>::start()?;
//! let router = manager.add_handler::<Router>(()).await?;
//! manager.sync_notify(Net::Dial(112)).await?;
//!
//! assert!(matches!(manager.call(&router, Refused).await?, Some(AddError::WouldDeadlock)));
//! let installed = manager.which_handlers().await?;
//! assert!(installed.iter().any(|id| id.is::<Dialer>()));
//! # Ok(()) }
//! ```
//!
//! A handle from [`Context::manager`] is for tasks the handler spawns, which may await any
//! operation. Keep in mind that every handle keeps its manager running: a handler that stores
//! one in its state keeps its own manager alive until [`stop`](EventManager::stop).
//!
//! ## Timers and watches belong to one handler
//!
//! In OTP, `erlang:send_after` to the manager reaches the `handle_info` of *every* handler, so
//! each must recognise its own timeouts. Here a timer set with [`Context::send_after`] reaches
//! only the handler that set it, as [`Info::Message`] in its
//! [`handle_info`](Handler::handle_info), carrying a value of its own
//! [`Info`](Handler::Info) type. [`Context::cancel_timer`] cancels it, and a handler's timers
//! are cancelled when it leaves. An [`InfoSender`] from [`Context::info_sender`] lets a task
//! the handler spawned send it messages the same way.
//!
//! ```rust
//! use std::collections::HashMap;
//! use std::time::Duration;
//! use event_core::{handler, Context, EventManager, Info, TimerRef};
//!
//! #[derive(Debug)]
//! enum Alarm {
//!     Set(&'static str),
//!     Clear(&'static str),
//! }
//!
//! /// Escalates an alarm that stays set for too long.
//! struct Escalate {
//!     pending: HashMap<&'static str, TimerRef>,
//!     escalated: Vec<&'static str>,
//! }
//!
//! struct Escalated;
//!
//! #[handler(event = Alarm)]
//! impl Escalate {
//!     fn init() -> Self {
//!         Escalate { pending: HashMap::new(), escalated: Vec::new() }
//!     }
//!
//!     fn handle_event(&mut self, alarm: &Alarm, cx: &mut Context<Alarm, Self>) {
//!         match *alarm {
//!             Alarm::Set(what) => {
//!                 let timer = cx.send_after(Duration::from_millis(10), what);
//!                 self.pending.insert(what, timer);
//!             }
//!             Alarm::Clear(what) => {
//!                 if let Some(timer) = self.pending.remove(what) {
//!                     cx.cancel_timer(timer);
//!                 }
//!             }
//!         }
//!     }
//!
//!     /// `type Info = &'static str`: the alarm whose time is up.
//!     fn handle_info(&mut self, info: Info<&'static str>) {
//!         if let Info::Message(what) = info {
//!             self.pending.remove(what);
//!             self.escalated.push(what);
//!         }
//!     }
//!
//!     #[call]
//!     fn escalated(&self, _: Escalated) -> Vec<&'static str> {
//!         self.escalated.clone()
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let manager = EventManager::<Alarm>::start()?;
//! let escalate = manager.add_handler::<Escalate>(()).await?;
//! manager.notify(Alarm::Set("disk full")).await?;
//! manager.notify(Alarm::Set("fan failure")).await?;
//! manager.notify(Alarm::Clear("fan failure")).await?;
//!
//! tokio::time::sleep(Duration::from_millis(100)).await;
//! assert_eq!(manager.call(&escalate, Escalated).await?, ["disk full"]);
//! # Ok(()) }
//! ```
//!
//! A handler can also **watch** a subscriber with [`Context::watch`] (OTP's `monitor`): the
//! sending half of a tokio channel, which is gone when its receiver is dropped, or a task's
//! `JoinHandle` (see [`Watchable`]). When it goes away, that handler alone gets
//! [`Info::Down`] with the [`WatchRef`] that `watch` returned:
//!
//! ```rust
//! use std::time::Duration;
//! use event_core::{handler, Context, EventManager, Info, WatchRef};
//! use tokio::sync::mpsc;
//!
//! /// Sends every event to its subscribers; forgets those that hung up.
//! struct Fanout(Vec<(WatchRef, mpsc::UnboundedSender<String>)>);
//!
//! struct Subscribe(mpsc::UnboundedSender<String>);
//!
//! #[handler(event = String)]
//! impl Fanout {
//!     fn init() -> Self {
//!         Fanout(Vec::new())
//!     }
//!
//!     fn handle_event(&mut self, event: &String) {
//!         for (_, tx) in &self.0 {
//!             let _ = tx.send(event.clone());
//!         }
//!     }
//!
//!     #[call]
//!     fn subscribe(&mut self, Subscribe(tx): Subscribe, cx: &mut Context<String, Self>) -> () {
//!         let watch = cx.watch(tx.clone());
//!         self.0.push((watch, tx));
//!     }
//!
//!     fn handle_info(&mut self, info: Info<()>) {
//!         if let Info::Down(gone) = info {
//!             self.0.retain(|(watch, _)| *watch != gone);
//!         }
//!     }
//!
//!     fn terminate(self) -> usize {
//!         self.0.len() // how many subscribers it had
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let manager = EventManager::<String>::start()?;
//! let fanout = manager.add_handler::<Fanout>(()).await?;
//! let (tx1, mut rx1) = mpsc::unbounded_channel();
//! let (tx2, rx2) = mpsc::unbounded_channel();
//! manager.call(&fanout, Subscribe(tx1)).await?;
//! manager.call(&fanout, Subscribe(tx2)).await?;
//!
//! drop(rx2); // a subscriber disconnects
//! tokio::time::sleep(Duration::from_millis(10)).await;
//! manager.notify("hello".to_string()).await?;
//! assert_eq!(rx1.recv().await.as_deref(), Some("hello"));
//! assert_eq!(manager.delete_handler(&fanout, ()).await?, 1);
//! # Ok(()) }
//! ```
//!
//! ## Dedicated handlers for slow work
//!
//! A slow handler holds up every other handler of its manager, in OTP and inline here. Install
//! it with [`Install::dedicated`] and it runs on a task of its own, fed through a bounded queue
//! of the given capacity. Its code does not change, and neither does anything else: calls,
//! deletes, swaps, crashes, exit reasons and supervision work as for an inline handler. It sees
//! every event in order, but no longer in step with the others: it may still be on event N
//! while they handle N+1. [`sync_notify`](EventManager::sync_notify) still returns only after
//! it, too, has handled the event; when its queue is full, the manager waits for room, so a
//! dedicated handler cannot fall behind without bound.
//!
//! ```rust
//! use std::time::Duration;
//! use event_core::{handler, EventManager, Install};
//!
//! /// Archives events to slow storage.
//! struct Archive {
//!     stored: usize,
//! }
//!
//! struct Stored;
//!
//! #[handler(event = u32)]
//! impl Archive {
//!     fn init() -> Self {
//!         Archive { stored: 0 }
//!     }
//!
//!     async fn handle_event(&mut self, _: &u32) {
//!         tokio::time::sleep(Duration::from_millis(1)).await; // a slow write
//!         self.stored += 1;
//!     }
//!
//!     #[call]
//!     fn stored(&self, _: Stored) -> usize {
//!         self.stored
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let manager = EventManager::<u32>::start()?;
//! let archive = manager
//!     .add_handler_with(Install::<Archive>::new().dedicated(64), ())
//!     .await?;
//! for n in 0..10 {
//!     manager.notify(n).await?; // inline handlers are not held up by the archive
//! }
//! manager.sync_notify(10).await?; // returns once the archive, too, has stored event 10
//! assert_eq!(manager.call(&archive, Stored).await?, 11);
//! # Ok(()) }
//! ```
//!
//! When waiting is worse than losing events, give the dedicated handler an [`Overload`]
//! policy with [`Install::overload`]: [`DropNewest`](Overload::DropNewest) drops an event that
//! finds its queue full, [`DropOldest`](Overload::DropOldest) drops the oldest queued event to
//! make room, and [`Remove`](Overload::Remove) removes the handler, as lager's overload killer
//! does (its supervisor hears [`ExitReason::Overloaded`], and a [`Guard`] installs it again).
//! Only events are dropped, never calls. Each drop and removal is a `tracing` warning (target
//! `event_core::overload`, naming the manager and the handler) and is counted in the
//! [`OverloadStats`] of the install:
//!
//! ```rust
//! # use std::time::Duration;
//! # use event_core::{Context, Handler, Step, Terminate};
//! use event_core::{EventManager, ExitReason, Install, Overload};
//! # struct Archive;
//! # impl Handler<u32> for Archive {
//! #     type Args = ();
//! #     type Info = ();
//! #     type Handover = ();
//! #     fn init(_: (), _: &mut Context<u32, Self>) -> Step<'static, Self> {
//! #         Step::ok(Archive)
//! #     }
//! #     fn handle_event<'a>(&'a mut self, _: &'a u32, _: &'a mut Context<u32, Self>) -> Step<'a> {
//! #         Step::from_async(async {
//! #             tokio::time::sleep(Duration::from_millis(5)).await;
//! #             Ok(())
//! #         })
//! #     }
//! #     fn terminate(self, _: Terminate) -> Step<'static, ()> {
//! #         Step::ok(())
//! #     }
//! # }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let manager = EventManager::<u32>::start()?;
//! let install = Install::<Archive>::new().dedicated(8).overload(Overload::Remove);
//! let stats = install.overload_stats();
//! let archive = manager.add_sup_handler_with(install, ()).await?;
//! for n in 0..100 {
//!     manager.notify(n).await?; // the archive cannot keep up with this
//! }
//! assert!(matches!(archive.await, ExitReason::Overloaded { capacity: 8 }));
//! assert_eq!(stats.removed(), 1);
//! # Ok(()) }
//! ```
//!
//! ## Duplicates are refused
//!
//! A handler's identity is its type plus an optional [`Key`] (OTP's `Module` or
//! `{Module, Id}`), shown by [`HandlerId`]. OTP happily installs a second handler of an
//! identity that is installed; here that is [`AddError::AlreadyInstalled`]. Give handlers of
//! the same type different keys to have several, with [`Install::key`] when installing and
//! [`HandlerRef::with_key`] to name one later.
//!
//! ```rust
//! use event_core::{AddError, EventManager, HandlerRef, Install};
//! # use event_core::handler;
//! /// Writes events to a file.
//! #[derive(Default)]
//! struct FileLog;
//! # #[handler(event = String)]
//! # impl FileLog {
//! #     fn handle_event(&mut self, _: &String) {}
//! # }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let manager = EventManager::<String>::start()?;
//! manager.add_handler::<FileLog>(()).await?;
//! assert!(matches!(
//!     manager.add_handler::<FileLog>(()).await,
//!     Err(AddError::AlreadyInstalled(_))
//! ));
//!
//! let errors = manager
//!     .add_handler_with(Install::<FileLog>::new().key("error.log"), ())
//!     .await?;
//! assert_eq!(errors, HandlerRef::<FileLog>::with_key("error.log"));
//! assert_eq!(errors.id().to_string(), r#"FileLog("error.log")"#);
//! assert_eq!(manager.which_handlers().await?.len(), 2);
//! # Ok(()) }
//! ```
//!
//! ## Bounded mailboxes
//!
//! A manager's mailbox is unbounded by default, as in OTP: [`notify`](EventManager::notify)
//! never waits. A publisher faster than the handlers then grows the mailbox without limit.
//! [`Builder::bounded`] caps the number of queued events: `notify` then waits for room,
//! slowing the publisher to the handlers' pace, and
//! [`try_notify`](EventManager::try_notify) returns [`NotifyError::Full`] with the event
//! instead of waiting. Requests (calls, installs, ...) do not count against the bound: their
//! callers wait for the reply anyway.
//!
//! ```rust
//! use event_core::{EventManager, NotifyError};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let manager = EventManager::<u32>::builder().bounded(2).start()?;
//! manager.try_notify(1)?;
//! manager.try_notify(2)?;
//! // The manager has not run yet: this runtime has one thread, and we have not yielded.
//! assert!(matches!(manager.try_notify(3), Err(NotifyError::Full(3))));
//! manager.notify(3).await?; // waits until the manager has made room
//! # Ok(()) }
//! ```
//!
//! # OTP → event-core
//!
//! Every function of OTP's `gen_event` module, and what it is here:
//!
//! | OTP `gen_event` | event-core | notes |
//! |---|---|---|
//! | `start()`, `start(Name)` | [`EventManager::start`], [`EventManager::builder`]`().name("alarms").start()` | A name labels crash reports; there is no registry: share the manager by cloning its handle. |
//! | `start_link` | the same | There are no process links. The manager ends on [`stop`](EventManager::stop) or when its last handle is dropped; [`stopped`](EventManager::stopped) waits for its end. In a tree, [`Builder::supervised`] makes it a supervisor's child instead. |
//! | `add_handler(M, H, Args)` | [`add_handler::<H>(args)`](EventManager::add_handler), [`add_handler_with`](EventManager::add_handler_with) | Returns a [`HandlerRef<H>`]. `{error, R}` from `init` is [`AddError::InitFailed`]; a duplicate is [`AddError::AlreadyInstalled`]. |
//! | `add_sup_handler` | [`add_sup_handler`](EventManager::add_sup_handler), [`add_sup_handler_with`](EventManager::add_sup_handler_with) | Returns a [`SupLink<H>`] instead of linking the calling process. |
//! | `delete_handler(M, H, Args)` | [`delete_handler(&href, args)`](EventManager::delete_handler) | Returns what `terminate` returned, typed [`Handler::Handover`]; `{error, module_not_found}` is [`DeleteError::NotInstalled`]. |
//! | `swap_handler(M, {H1, A1}, {H2, A2})` | [`swap_handler(&h1, a1, h2, make_args)`](EventManager::swap_handler) | `H2:init({A2, Term})` becomes `make_args(Option<H1::Handover>)` building `H2::Args`; `None` where OTP passes `error`. |
//! | `swap_sup_handler` | [`swap_sup_handler`](EventManager::swap_sup_handler) | Returns the new handler's [`SupLink`]. |
//! | `notify` | [`notify(e).await`](EventManager::notify), [`try_notify(e)`](EventManager::try_notify) | Never waits on an unbounded mailbox; see [bounded mailboxes](#bounded-mailboxes). |
//! | `sync_notify` | [`sync_notify(e).await`](EventManager::sync_notify) | Like OTP, says nothing of handlers that failed on the event. |
//! | `call(M, H, Req)` | [`call(&href, req).await`](EventManager::call) | The reply is typed ([`Call<E, R>`]). `{error, bad_module}` is [`CallError::NotInstalled`], `{error, {'EXIT', R}}` is [`CallError::Crashed`]. |
//! | `call(M, H, Req, Timeout)` | `tokio::time::timeout(d, manager.call(..))` | There is no default timeout (OTP's is 5 s). A call abandoned after it was sent is still answered by the handler; the reply is dropped. |
//! | `send_request`, `wait_response`, `receive_response`, `check_response` | [`send_request`](EventManager::send_request), and the [`PendingReply`] it returns | The request is in the mailbox when `send_request` returns, so requests sent one after the other keep their order; await the `PendingReply` later, `tokio::select!` over it, or wrap it in a timeout. ([`call`](EventManager::call) sends when first polled: a spawned `call` may be sent after one spawned later.) |
//! | `which_handlers` | [`which_handlers()`](EventManager::which_handlers) | [`HandlerId`]s, newest first. |
//! | `stop(M)`, `stop(M, Reason, Timeout)` | [`stop()`](EventManager::stop), [`stopped()`](EventManager::stopped) | No reason: handlers are told [`Terminate::Stop`], supervisors [`ExitReason::Shutdown`]. For a timeout, `tokio::time::timeout`. |
//! | messages sent to the manager (`Pid ! Msg`), delivered to every `handle_info` | [`Context::send_after`], [`Context::info_sender`], [`Context::watch`] | A message reaches only the handler it is meant for ([timers and watches](#timers-and-watches-belong-to-one-handler)). To reach every handler, send an event. |
//! | `{gen_event_EXIT, H, Reason}` | awaiting the [`SupLink`] | Yields an [`ExitReason`]. |
//! | `{Module, Id}` | [`HandlerRef::with_key`], [`Install::key`] | The identity is [`HandlerId`]: type plus optional [`Key`]. |
//!
//! And OTP's `supervisor`:
//!
//! | OTP `supervisor` | event-core | notes |
//! |---|---|---|
//! | `start_link(Mod, Args)` with `init` returning flags and child specs | [`Supervisor::builder`]`()...start().await` | The flags are builder methods: [`strategy`](SupervisorBuilder::strategy), [`intensity`](SupervisorBuilder::intensity), [`auto_shutdown`](SupervisorBuilder::auto_shutdown). A child failing to start fails the start with [`SupervisorError::FailedToStartChild`]. |
//! | a child spec `#{id, start, restart, shutdown, type, significant}` | [`ChildSpec`] | [`ChildSpec::task`], [`ChildSpec::new`], [`Builder::supervised`], [`Guard::child`], [`SupervisorBuilder::supervised`]; then [`restart`](ChildSpec::restart), [`shutdown`](ChildSpec::shutdown), [`significant`](ChildSpec::significant). |
//! | `start_child(Sup, Spec)`, `start_child(Sup, ExtraArgs)` | [`start_child`](Supervisor::start_child), [`start_dynamic`](Supervisor::start_dynamic) | `simple_one_for_one` children come from the [`template`](SupervisorBuilder::template) and are named [`ChildRef::Dynamic`]. |
//! | `terminate_child`, `restart_child`, `delete_child` | the same names | OTP's errors are [`SupervisorError`] variants: `already_started`, `already_present`, `running`, `restarting`, `not_found`, `simple_one_for_one`. |
//! | `which_children`, `count_children` | the same names | [`ChildInfo`] (newest first), [`ChildCount`]. |
//! | a child's `ignore` | [`Start::ignore`] | |
//! | `stop` (via `exit(Sup, shutdown)`) | [`Supervisor::stop`], [`Supervisor::stopped`] | |
//!
//! And every callback:
//!
//! | OTP callback | event-core | notes |
//! |---|---|---|
//! | `init(Args)` → `{ok, S}` \| `{error, R}` | `fn init(args) -> Self` or `-> Result<Self, E>` ([`Handler::init`]) | The handler value *is* the state `S`. |
//! | `handle_event(E, S)` → `{ok, S}` \| `remove_handler` \| `{swap_handler, ...}` | `fn handle_event(&mut self, event: &E)` ([`Handler::handle_event`]) | The state is `&mut self`. Leave with [`Context::remove_self`], be replaced with [`Context::swap_self`]. A "bad return" cannot be written. |
//! | `handle_call(Req, S)` → `{ok, Reply, S}` \| `{remove_handler, Reply}` \| `{swap_handler, Reply, ...}` | a `#[call]` method per request type, returning the reply ([`Call::handle_call`]) | A handler that answers no `R` cannot be called with `R`: a compile error, not a crash. |
//! | `handle_info(Info, S)` | `fn handle_info(&mut self, info: Info<M>)` ([`Handler::handle_info`]) | Gets only this handler's messages. Optional, as in OTP. |
//! | `terminate(Arg, S)` | `fn terminate(self, reason: Terminate) -> Handover` ([`Handler::terminate`]) | `Arg` is a [`Terminate`]. |
//! | `format_status` | `#[handler]` on the struct, `#[redact]` on fields; or `fn format_status` ([`Handler::format_status`]) | Used by crash reports; there is no `sys:get_status`. |
//! | `code_change(OldVsn, S, Extra)` | none | Rust has no hot code loading: a new version of a handler is a new build. Upgrade by restarting, carrying state across with a swap's hand-over or your own persistence if you need to. |
//! | `hibernate` (in a callback's return) | none | Hibernation compacts an Erlang process's heap. A handler's state here is a plain Rust value inside its manager's task: there is no per-process heap to compact, and an idle manager costs only its task and its mailbox. |
//!
//! # Runtime notes
//!
//! - **Runtimes.** A manager is a task on the tokio runtime it was started from; starting one
//!   outside a runtime is [`StartError::NoRuntime`]. Current-thread and multi-thread runtimes
//!   both work. Events are shared with handlers by reference (and across tasks, for dedicated
//!   handlers), so `E` must be `Send + Sync + 'static`; handlers must be `Send`.
//! - **Do not block the thread in a callback.** Callbacks run inside the manager's task: a
//!   `std::thread::sleep` or blocking I/O stalls the manager, and on a current-thread runtime
//!   everything else too. Make the callback `async`, use `tokio::task::spawn_blocking`, or
//!   make the handler [dedicated](#dedicated-handlers-for-slow-work).
//! - **Panics are caught** with `std::panic::catch_unwind`, which requires `panic = "unwind"`,
//!   Rust's default. Under `panic = "abort"` a panicking handler aborts the process. A caught
//!   panic still runs the panic hook, so the default hook prints its message to stderr besides
//!   the crash report.
//! - **The manager stops** when [`stop`](EventManager::stop) is called, or when its last
//!   [`EventManager`] handle is dropped (the handles from [`Context::manager`] count too; a
//!   [`HandlerRef`], a [`SupLink`] or an [`InfoSender`] does not). Either way it first handles
//!   what it was sent, then terminates every handler newest first, telling each
//!   [`Terminate::Stop`] and each supervisor [`ExitReason::Shutdown`]. If its runtime shuts
//!   down first, its handlers are dropped without `terminate` and their links yield
//!   [`ExitReason::ManagerGone`].
//!
//! ```rust
//! use event_core::{EventManager, ExitReason, StartError};
//! # use event_core::handler;
//! # #[derive(Default)]
//! # struct Audit;
//! # #[handler(event = u32)]
//! # impl Audit {
//! #     fn handle_event(&mut self, _: &u32) {}
//! # }
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // No runtime, no manager.
//!     assert!(matches!(EventManager::<u32>::start(), Err(StartError::NoRuntime)));
//!
//!     let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
//!     runtime.block_on(async {
//!         let manager = EventManager::<u32>::start()?;
//!         let audit = manager.add_sup_handler::<Audit>(()).await?;
//!         manager.notify(1).await?;
//!         drop(manager); // the last handle: the manager handles event 1, then stops
//!         assert!(matches!(audit.await, ExitReason::Shutdown));
//!         Ok::<_, Box<dyn std::error::Error>>(())
//!     })
//! }
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod call;
mod callback;
mod cell;
mod child;
mod context;
mod dedicated;
mod error;
mod event_loop;
mod exit;
mod guard;
mod handler;
mod install;
mod link;
mod macro_support;
mod mailbox;
mod manager;
mod overload;
mod queue;
mod restart;
mod slot;
mod supervisor;
mod watch;

pub use child::{
    ChildExit, ChildKind, ChildSpec, ManagerChild, Restart, Shutdown, Start, StopToken,
};
pub use context::{Context, Deferred, InfoSender, TimerRef, WatchRef};
pub use error::{
    AddError, CallError, DeleteError, ManagerError, NotifyError, StartError, SwapError,
};
pub use exit::{Args, Cause, Crash, During, ExitReason, Terminate};
pub use guard::{Backoff, Fatal, Guard, GuardError, InstallError};
pub use handler::{BoxError, BoxFuture, Call, Handler, HandlerId, HandlerRef, Info, Key, Step};
pub use install::Install;
pub use link::{Link, Notice, SupLink};
pub use manager::{Builder, EventManager, PendingReply};
pub use overload::{Overload, OverloadStats};
pub use restart::Intensity;
pub use supervisor::{
    AutoShutdown, ChildCount, ChildInfo, ChildRef, ChildState, Strategy, Supervisor,
    SupervisorBuilder, SupervisorError,
};
pub use watch::Watchable;

#[cfg(feature = "macros")]
#[doc(inline)]
pub use event_macros::handler;
#[cfg(feature = "macros")]
#[doc(inline)]
pub use event_macros::supervisor;

/// What the macros' expansions name. Not a public API: it may change in any release.
#[doc(hidden)]
pub mod __private_0_1_0 {
    pub use crate::macro_support::{
        assert_handler, guard, guard_template, manager, start_guard, GuardArgs, NoArgs, Outcome,
        Redacted, Status, StatusProbe, ViaDefault, ViaStatus,
    };
    pub use crate::{
        AutoShutdown, Backoff, BoxError, Call, ChildRef, ChildSpec, Context, EventManager, Handler,
        HandlerRef, Info, Install, Intensity, Key, Restart, Shutdown, Step, StopToken, Strategy,
        Supervisor, SupervisorBuilder, SupervisorError, Terminate,
    };
    pub use ::core::default::Default;
    pub use ::core::fmt;
    pub use ::core::marker::{Send, Sync};
    pub use ::core::option::Option::{None, Some};
    pub use ::core::result::Result::{self, Ok};
    pub use ::core::time::Duration;
    pub use ::core::unreachable;
    pub use ::std::sync::Arc;
}
