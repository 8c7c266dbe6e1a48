//! Procedural macros for [`event-core`](https://docs.rs/event-core).
//!
//! Depend on `event-core` (feature `macros`, on by default) rather than on this crate: the
//! expansions name the runtime through a hidden module named after this crate's version,
//! `::event_core::__private_0_1_0`, which only the event-core of the same version declares (it
//! depends on this crate at exactly its own version, `=0.1.0`); and `event_core::handler` is
//! where the macro is documented with examples.
#![forbid(unsafe_code)]

mod ctxt;
mod handler;
mod private_path;
mod supervisor;

use proc_macro::TokenStream;

/// Turns a struct and its `impl` block into an event handler: generates `Handler<E>`, one
/// `Call<E, R>` per request type, and the struct's status view for crash reports.
///
/// ```
/// use event_core::{handler, Context, EventManager, Terminate};
///
/// #[derive(Debug)]
/// enum Alarm { Raised(&'static str), Cleared(&'static str) }
///
/// #[handler]                     // optional: crash reports show the fields
/// struct AlarmLog {
///     raised: Vec<&'static str>,
///     #[redact]                  // shown as <redacted>
///     token: String,
/// }
///
/// struct Count;                  // a request type
///
/// #[handler(event = Alarm)]
/// impl AlarmLog {
///     fn init(token: String) -> Self {                    // `type Args = String`
///         AlarmLog { raised: Vec::new(), token }
///     }
///
///     fn handle_event(&mut self, alarm: &Alarm, _cx: &mut Context<Alarm, Self>) {
///         match alarm {
///             Alarm::Raised(a) => self.raised.push(a),
///             Alarm::Cleared(a) => self.raised.retain(|r| r != a),
///         }
///     }
///
///     #[call]
///     async fn count(&mut self, _: Count) -> usize {     // replies with a usize
///         self.raised.len()
///     }
///
///     fn terminate(self, _reason: Terminate) -> Vec<&'static str> {  // the hand-over
///         self.raised
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let manager = EventManager::<Alarm>::start()?;
/// let log = manager.add_handler::<AlarmLog>("secret".into()).await?;
/// manager.notify(Alarm::Raised("disk")).await?;
/// assert_eq!(manager.call(&log, Count).await?, 1);
/// assert_eq!(manager.delete_handler(&log, ()).await?, ["disk"]);
/// # Ok(()) }
/// ```
///
/// # The impl block
///
/// `#[handler(event = E)]` goes on the handler's own `impl` block (`crate = path` names
/// `event_core` when it is re-exported elsewhere). The callbacks are recognised by name;
/// calls are marked `#[call]`. Every callback may be `async` (except `format_status`, and an
/// `init` that takes the context) and may take the context `&mut Context<E, Self>` as its last
/// parameter (except `terminate` and `format_status`). The methods stay ordinary methods.
///
/// | method | shape | generates |
/// |---|---|---|
/// | `init` | `fn init(args: A) -> Self` or `-> Result<Self, Er>`; several values are one tuple parameter, `fn init((a, b): (A, B))` given `(a, b)` (not `fn init(a: A, b: B)`); no parameter: `A = ()` | `type Args = A`. No `init`: `Args = ()`, built with `Default`. |
/// | `handle_event` | `fn handle_event(&mut self, event: &E)` returning `()` or `Result<(), Er>` | required |
/// | `handle_info` | `fn handle_info(&mut self, info: Info<M>)`, returning as `handle_event` | `type Info = M`. None: `Info = ()`, messages ignored. |
/// | `#[call]` | `fn name(&mut self, request: R) -> Reply` | `impl Call<E, R>` with `type Reply = Reply`, one per request type |
/// | `terminate` | `fn terminate(self, reason: Terminate) -> H` (the reason is optional) | `type Handover = H` (`()` when it returns nothing). None: hands over `()`. |
/// | `format_status` | `fn format_status(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result` | wins over the struct's view |
///
/// `Er` is any error convertible into `BoxError`: returning `Err` (or panicking) crashes the
/// handler. A call's return type is its reply *as is*: a `#[call]` returning `Result<T, Er>`
/// replies with the `Result` and the handler carries on; a call crashes only by panicking.
/// Likewise `terminate`'s return value is handed over as is. A call or a `terminate` that must
/// fail with an error value is written by hand: `impl Call<E, R>` beside the annotated impl
/// block works, the macro leaves other impls alone. Callbacks may take `&self` instead of
/// `&mut self`; their lifetimes may be named; other items of the impl block stay as they are.
///
/// A generic impl block needs the bounds of a handler: its type `Send + 'static`, and a generic
/// event type `Send + Sync + 'static`. The generated impls assume them, so a missing bound is
/// one error, on the handler's or the event's type, whose help names the bound to add.
///
/// # The struct
///
/// `#[handler]` on the struct makes crash reports show its fields with `Debug`, `#[redact]`
/// ones as `<redacted>`. Without it crash reports show `(state not shown)`. For a generic
/// struct, the fields are shown when the impl block's bounds make its type parameters `Debug`.
///
/// `#[redact]` is read by `#[handler]` on the struct, and only there: rustc reports a
/// `#[redact]` on a struct without it as ``cannot find attribute `redact` in this scope``
/// (an attribute on a field cannot be a macro of its own, so no other message can be given).
/// That error means: add `#[handler]` to the struct.
///
/// # Errors
///
/// Every mistake is a compile error on the offending token, and all of them are reported at
/// once: an unknown, duplicate or malformed key, a missing event type, a callback with the
/// wrong receiver (`self` where `&mut self` is needed, or the reverse for `terminate`), too
/// many or too few parameters or a parameter of the wrong kind, the context anywhere but last,
/// args, requests, messages or replies that borrow, `impl Trait` where a type must be named,
/// two calls for one request type, a call without a reply type, `async` where it cannot be, a
/// missing `handle_event`, a generic handler without its bounds, and the attribute on anything
/// but a struct or an inherent impl. A parameter or return of the wrong type is left to rustc,
/// which reports it on that parameter or return type.
///
/// On error the items are still emitted as written, and stand-in impls with them: the
/// handler's uses elsewhere (`add_handler::<H>(args)`, `call(&h, Request)`, a hand-over)
/// compile against them, so that one mistake is one error.
#[proc_macro_attribute]
pub fn handler(args: TokenStream, input: TokenStream) -> TokenStream {
    handler::expand(args.into(), input.into()).into()
}

/// Declares a supervision tree, checked at compile time: generates a struct that starts the
/// tree and hands out a typed handle for each child.
///
/// The lager-style tree: a top supervisor owns an event manager and a `simple_one_for_one`
/// supervisor of guards, one guard per handler.
///
/// ```
/// use event_core::{handler, supervisor};
///
/// #[derive(Debug)]
/// pub enum Log {
///     Line(String),
/// }
///
/// /// Writes lines to a sink; counts them.
/// pub struct Sink {
///     name: String,
///     lines: usize,
/// }
///
/// pub struct Lines;
///
/// #[handler(event = Log)]
/// impl Sink {
///     fn init(name: String) -> Self {
///         Sink { name, lines: 0 }
///     }
///     fn handle_event(&mut self, Log::Line(line): &Log) {
///         println!("[{}] {line}", self.name);
///         self.lines += 1;
///     }
///     #[call]
///     fn lines(&mut self, _: Lines) -> usize {
///         self.lines
///     }
/// }
///
/// supervisor! {
///     /// One guard per sink, started on demand; given the manager they install on.
///     pub struct Sinks(events: Log) {
///         strategy: simple_one_for_one,
///         template: guard Sink { manager: events },
///     }
/// }
///
/// supervisor! {
///     /// The logging tree: the manager starts first, then the guards.
///     pub struct Logging {
///         strategy: one_for_one,
///         intensity: 10,
///         period: 60s,
///         children: [
///             manager events: Log,
///             supervisor sinks: Sinks(events),
///         ],
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let tree = Logging::start().await?;                  // in order: once it returns, all run
/// let console = tree.sinks().start_child("console".into()).await?;
/// tree.events().sync_notify(Log::Line("hello".into())).await?;
/// assert_eq!(tree.events().call(console.handler(), Lines).await?, 1);
/// tree.stop().await?;                                  // in reverse order
/// # Ok(()) }
/// ```
///
/// # The declaration
///
/// `supervisor! { #[attrs] vis struct Name(params) { key: value, .. } }`. The optional
/// `params` are what the tree is given when it starts: an event manager, named with its event
/// type (`events: Log` is a `&EventManager<Log>` argument of `start`), for guards that install
/// on a manager of another tree; or any value, named with a reference type (`bus: &Bus`,
/// `name: &'static str`: arguments of `start` of that type), for `args`, `run`, `from` and
/// nested trees to use. (So a manager whose events are references is declared in the tree,
/// not given.)
///
/// | key | value | default |
/// |---|---|---|
/// | `strategy` | `one_for_one`, `one_for_all`, `rest_for_one`, `simple_one_for_one` | `one_for_one` |
/// | `intensity` | restarts allowed in a period, `0` or more | `1` |
/// | `period` | seconds (`5`), or `5s`, `500ms`; not zero | `5` |
/// | `auto_shutdown` | `never`, `any_significant`, `all_significant` (not for `simple_one_for_one`) | `never` |
/// | `name` | the supervisor's name in logs, a string | the struct's name |
/// | `children` | `[child, ..]` in start order (not for `simple_one_for_one`) | |
/// | `template` | `guard Handler { .. }`: the one template of a `simple_one_for_one` tree | |
/// | `crate` | the path to `event_core` where it is re-exported | `::event_core` |
///
/// Children, each with a name that is its id and its accessor:
///
/// | child | keys | accessor returns |
/// |---|---|---|
/// | `manager name: Event` | `name` (string), `bounded` (capacity), `debug_events` (bool), `handlers` (standing handlers, below) | `&EventManager<Event>` |
/// | `guard name: Handler` | `manager` (required: a manager declared before it, or a parameter), `args` (the handler's `init` args; default `()`), `key`, `dedicated` (queue capacity), `in_place` (`true`, or `{ intensity: 3, period: 10 }`), `backoff` (how re-installs are retried: `{ first: 10ms, max: 1s, attempts: 5 }`) | `&HandlerRef<Handler>` |
/// | `task name` | `run` (required): a `Fn(StopToken) -> impl Future<Output = Result<(), BoxError>>` (so an `async` block's `Ok(())` needs no annotation, and `?` converts any error); `clone` (`[events, bus]`, below) | `ChildRef` |
/// | `supervisor name: Tree(args..)` | (a tree another `supervisor!` declares, given managers declared before it and the tree's parameters) | `&Tree` |
/// | `child name: Type` | `from` (required): a value of `Type`, which implements `event_core::IntoChild` | `&<Type as IntoChild>::Handle` |
///
/// Every child also takes `restart` (`permanent`, `transient`, `temporary`; guards are
/// `transient` by default, the others `permanent`), `shutdown` (`brutal_kill`, `infinity`, or a
/// timeout: `5000` in milliseconds, `5s`, `500ms`; `0` asks the child to stop and kills it at
/// once, as OTP's shutdown 0) and `significant` (`true`; needs a
/// non-permanent child and an `auto_shutdown`). A template takes a guard's keys but `args` and
/// `key`, which `start_child` is given.
///
/// The `args`, `run` and `from` expressions are evaluated when the tree is built, and may name
/// the tree's parameters and the children declared before them (a manager's
/// `EventManager`, a guard's `HandlerRef`, a nested tree, a `child`'s handle):
/// `run: publisher(events.clone())`.
///
/// A task's `run` is called at each start. A closure whose `async move` block uses a handle
/// would move it out of the closure at the first start; `clone: [events, bus]` gives `run`
/// fresh clones of those values at each start instead, so it can move them:
/// `task pump { clone: [events], run: |stop: StopToken| async move { events.notify(..).await?; .. } }`.
/// With `clone`, `run` is evaluated at each start, and may be any `FnOnce(StopToken) -> impl Future`.
///
/// A manager's `handlers: [Handler, Handler { .. }, ..]` are its standing handlers: every
/// incarnation installs them, in that order, before it takes its first event, so that events
/// sent while it restarts reach them. Each takes `args` (its `init` args, cloned for each
/// incarnation; default `()`), `key`, `dedicated` (queue capacity) and `in_place` (as a
/// guard's). A standing handler is reached with `HandlerRef::<Handler>::new()` (or
/// `with_key(key)`); its `init` failing fails the manager's start.
///
/// The `child` form takes any type that knows how to start as a child: a hand-made
/// `ChildSpec` (renamed after the child; its accessor returns its `ChildRef`), a bridge or a
/// remote-call server of another crate, or a type of your own that implements `IntoChild`.
///
/// # What it generates
///
/// - `start(params) -> Result<Name, SupervisorError>`: starts the tree; `supervised(id,
///   params)`: the tree as a child of another (what `supervisor name: Name` uses).
/// - one accessor per child (above). Every handle reaches whichever incarnation runs: a
///   manager's mailbox outlives its restarts, a guard re-installs its handler under the same
///   reference.
/// - `supervisor()`, the tree's `Supervisor`, for
///   `which_children`, `count_children`, `terminate_child` and the rest; `stop()`.
/// - for `simple_one_for_one`: `start_child(args)` starts a guard and returns a `GuardChild`:
///   the guard's child reference (to `terminate_child` that guard alone) and its handler's
///   reference; `start_child_keyed(key, args)` one of several handlers of the same type. Each
///   guard is named after its handler and key in `which_children`.
///
/// # Checked at compile time
///
/// Each mistake is an error on its token, all of them reported together, and the struct is
/// still generated so that its uses do not fail too: a guard whose manager is not declared
/// (with a "did you mean"), declared after it, not a manager, or the guard itself; a handler
/// that is not a handler of that manager's events; args of the wrong type; duplicate child
/// names or names the struct's methods take; unknown keys (the valid ones are listed),
/// duplicate keys, missing required keys; a bad strategy, restart type, shutdown, intensity or
/// period (negative, zero where zero is invalid, not a number, an unknown unit); a
/// `simple_one_for_one` tree with no template, several, static children, or an
/// `auto_shutdown` other than `never` (OTP's `bad_combination`); a template in
/// another strategy; a significant child that is permanent or in a tree that never shuts down
/// automatically; an empty tree; a task's `run` that is not a function or whose future's
/// output is not a `Result<(), BoxError>` (on `run`); a `clone` naming no value of the tree, a task,
/// or a child declared after it; a standing handler that is not a handler of the manager's
/// events, args of the wrong type, two of one type with the same key; a value parameter used
/// as a manager; a `child` type that does not implement `IntoChild` (on the type), or a `from`
/// of another type (on `from`). A slip of syntax in a key or a child (a missing `:` or `,`)
/// is reported on its token and reading goes on at the next `,`, so the children around it keep
/// their accessors; one in the declaration's head (`struct Name(params)`) ends the reading
/// there, and no struct is generated.
#[proc_macro]
pub fn supervisor(input: TokenStream) -> TokenStream {
    supervisor::expand(input.into()).into()
}
