//! The handler traits: what an event handler is, and how it answers typed calls.

use std::any::{Any, TypeId};
use std::fmt;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;

use crate::exit::Terminate;
use crate::manager::Context;

/// The error a callback returns to say it failed: any error type, boxed.
///
/// A callback that returns an error is treated like one that panicked: the handler is removed,
/// `terminate` is told why, and so is whoever supervises it.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A boxed, `Send` future, as returned by `async` callbacks.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a callback returns: a result that is ready now, or a future that produces it.
///
/// Plain callbacks return [`Step::Ready`], which allocates nothing. `async` callbacks box their
/// future once per call with [`Step::from_async`]; the manager awaits it before it takes its next
/// message, exactly as OTP runs a slow handler. Move slow handlers to their own task with
/// [`Install::dedicated`](crate::Install::dedicated) so they do not hold the others back.
///
/// ```
/// use event_core::Step;
///
/// let ready: Step<'_, u32> = Step::ok(7);
/// let failed: Step<'_, u32> = Step::err("out of paper");
/// let later: Step<'_, u32> = Step::from_async(async { Ok(7) });
/// # let _ = (ready, failed, later);
/// ```
#[must_use = "a Step does nothing unless returned to the manager"]
pub enum Step<'a, T = ()> {
    /// The callback has finished.
    Ready(Result<T, BoxError>),
    /// The callback continues asynchronously.
    Async(BoxFuture<'a, Result<T, BoxError>>),
}

impl<'a, T> Step<'a, T> {
    /// A callback that succeeded with `value`.
    pub fn ok(value: T) -> Self {
        Step::Ready(Ok(value))
    }

    /// A callback that failed with `error`.
    pub fn err(error: impl Into<BoxError>) -> Self {
        Step::Ready(Err(error.into()))
    }

    /// A callback that continues in `future`.
    pub fn from_async<F>(future: F) -> Self
    where
        F: Future<Output = Result<T, BoxError>> + Send + 'a,
    {
        Step::Async(Box::pin(future))
    }

    /// Turns the result of the callback into another one, keeping it synchronous when it is.
    pub fn map<U: 'a>(self, f: impl FnOnce(T) -> U + Send + 'a) -> Step<'a, U>
    where
        T: 'a,
    {
        match self {
            Step::Ready(r) => Step::Ready(r.map(f)),
            Step::Async(fut) => Step::Async(Box::pin(async move { fut.await.map(f) })),
        }
    }
}

impl<T, Er: Into<BoxError>> From<Result<T, Er>> for Step<'_, T> {
    fn from(result: Result<T, Er>) -> Self {
        Step::Ready(result.map_err(Into::into))
    }
}

impl<T> fmt::Debug for Step<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Ready(Ok(_)) => f.write_str("Step::Ready(Ok(..))"),
            Step::Ready(Err(e)) => write!(f, "Step::Ready(Err({e}))"),
            Step::Async(_) => f.write_str("Step::Async(..)"),
        }
    }
}

/// A message a handler receives outside the event stream, in [`Handler::handle_info`].
///
/// Only the handler that arranged for it receives it: a timer set with
/// [`Context::send_after`], a message sent through [`Context::info_sender`], or the notice that
/// a subscriber it watches ([`Context::watch`]) is gone. Other handlers of the same manager
/// never see it (in OTP every handler's `handle_info` sees every message).
#[derive(Debug)]
pub enum Info<M> {
    /// A message the handler sent itself (a timer that fired, or an [`InfoSender`] message).
    ///
    /// [`InfoSender`]: crate::InfoSender
    Message(M),
    /// A subscriber the handler watches has gone away.
    Down(crate::WatchRef),
}

/// An event handler for events of type `E`: OTP's `gen_event` callback module, typed.
///
/// A handler is a value that lives inside an [`EventManager`](crate::EventManager). The
/// manager builds it with [`init`](Handler::init), runs every event through
/// [`handle_event`](Handler::handle_event) (by reference, after the handlers installed after
/// it), answers typed requests through [`Call`], delivers its own timers and watch notices to
/// [`handle_info`](Handler::handle_info), and ends it with [`terminate`](Handler::terminate),
/// which consumes it and may hand a value over to a successor.
///
/// A callback that panics or returns an error removes the handler; the manager and its other
/// handlers carry on, and the event that was running still reaches them.
///
/// # Example
///
/// [`#[handler]`](macro@crate::handler) implements this trait from ordinary methods; the
/// [crate guide's first example](crate#a-first-example) writes such an impl out by hand. A
/// handler counting the events it sees:
///
/// ```
/// use event_core::{handler, EventManager, Terminate};
///
/// struct Counter { seen: u64 }
///
/// #[handler(event = String)]
/// impl Counter {
///     fn init(start: u64) -> Self {                    // `type Args = u64`: what init takes
///         Counter { seen: start }
///     }
///
///     fn handle_event(&mut self, _event: &String) {
///         self.seen += 1;
///     }
///
///     fn terminate(self, _reason: Terminate) -> u64 {  // `type Handover = u64`: what
///         self.seen                                     // delete returns
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let manager = EventManager::<String>::start()?;
/// let counter = manager.add_handler::<Counter>(0).await?;
/// manager.notify("one".to_string()).await?;
/// manager.sync_notify("two".to_string()).await?;
/// assert_eq!(manager.delete_handler(&counter, ()).await?, 2);
/// # Ok(()) }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an event handler for events of type `{E}`",
    label = "not a handler of `{E}`",
    note = "implement `event_core::Handler<{E}>` for `{Self}`, or annotate it with `#[handler(event = {E})]`"
)]
pub trait Handler<E: 'static>: Sized + Send + 'static {
    /// What [`init`](Handler::init) takes: OTP's `Args` of `add_handler`.
    type Args: Send + 'static;
    /// The messages this handler sends itself (timers, [`InfoSender`](crate::InfoSender)); use
    /// `()` when it sends none.
    type Info: Send + 'static;
    /// What [`terminate`](Handler::terminate) returns: the result of
    /// [`delete_handler`](crate::EventManager::delete_handler), and the state handed to the
    /// successor in a swap. Use `()` when there is nothing to hand over.
    type Handover: Send + 'static;

    /// Builds the handler from its arguments. An error means it is not installed, no
    /// `terminate` runs and the caller of `add_handler` gets the error.
    fn init(args: Self::Args, cx: &mut Context<E, Self>) -> Step<'static, Self>;

    /// Handles one event. Returning an error (or panicking) removes the handler; call
    /// [`Context::remove_self`] or [`Context::swap_self`] to leave or be replaced.
    fn handle_event<'a>(&'a mut self, event: &'a E, cx: &'a mut Context<E, Self>) -> Step<'a>;

    /// Handles a message meant for this handler alone: a timer it set, a message sent through
    /// its [`InfoSender`](crate::InfoSender), or the end of a subscriber it watches.
    ///
    /// The default ignores the message (OTP logs a warning and keeps the handler).
    fn handle_info<'a>(
        &'a mut self,
        info: Info<Self::Info>,
        cx: &'a mut Context<E, Self>,
    ) -> Step<'a> {
        let _ = (info, cx);
        Step::ok(())
    }

    /// Ends the handler, telling it why. Its return value is the result of
    /// [`delete_handler`](crate::EventManager::delete_handler), or the hand-over given to the
    /// successor's `init` in a swap.
    fn terminate(self, reason: Terminate) -> Step<'static, Self::Handover>;

    /// Writes the view of the state that crash reports show (OTP's `format_status`).
    ///
    /// The default shows nothing of the state, so secrets cannot leak into logs; override it to
    /// show what helps a reader of a crash report.
    fn format_status(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(state not shown)")
    }
}

/// A handler that answers requests of type `R` with a [`Reply`](Call::Reply): one typed
/// `handle_call` per request type. Under [`#[handler]`](macro@crate::handler), each `#[call]`
/// method implements it for the type of its request, its return type the reply.
///
/// [`EventManager::call`](crate::EventManager::call) sends a request to one handler and
/// returns its reply, or an error when the handler is not installed or crashes answering.
///
/// ```
/// use event_core::{handler, EventManager};
///
/// struct Tally(u32);
/// struct Total;
///
/// #[handler(event = u32)]
/// impl Tally {
///     fn init() -> Self {
///         Tally(0)
///     }
///
///     fn handle_event(&mut self, n: &u32) {
///         self.0 += n;
///     }
///
///     #[call]
///     fn total(&self, _: Total) -> u32 {              // `impl Call<u32, Total>`
///         self.0
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let manager = EventManager::<u32>::start()?;
/// let tally = manager.add_handler::<Tally>(()).await?;
/// manager.notify(40).await?;
/// manager.notify(2).await?;
/// assert_eq!(manager.call(&tally, Total).await?, 42);
/// # Ok(()) }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not answer requests of type `{R}`",
    label = "no `handle_call` for `{R}`",
    note = "did you forget `#[call]`? In a `#[handler]` impl block, the method that answers `{R}` is marked `#[call]`: `#[call] fn name(&mut self, request: {R}) -> Reply`; without `#[handler]`, implement `event_core::Call<{E}, {R}>` for `{Self}`"
)]
pub trait Call<E: 'static, R: Send + 'static>: Handler<E> {
    /// The reply to a request of type `R`.
    type Reply: Send + 'static;

    /// Answers one request. An error (or a panic) removes the handler and is returned to the
    /// caller as [`CallError::Crashed`](crate::CallError::Crashed).
    fn handle_call<'a>(
        &'a mut self,
        request: R,
        cx: &'a mut Context<E, Self>,
    ) -> Step<'a, Self::Reply>;
}

/// The optional part of a handler's identity, OTP's `Id` in `{Module, Id}`.
///
/// Two handlers of the same type can be installed side by side when their keys differ.
/// Keys are made from integers and strings:
///
/// ```
/// use event_core::Key;
/// assert_eq!(Key::from(7u64).to_string(), "7");
/// assert_eq!(Key::from("error.log").to_string(), "\"error.log\"");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    /// A numeric key.
    Num(u64),
    /// A textual key.
    Name(Arc<str>),
}

impl From<u64> for Key {
    fn from(n: u64) -> Self {
        Key::Num(n)
    }
}
impl From<u32> for Key {
    fn from(n: u32) -> Self {
        Key::Num(n.into())
    }
}
impl From<usize> for Key {
    fn from(n: usize) -> Self {
        Key::Num(n as u64)
    }
}
impl From<&str> for Key {
    fn from(s: &str) -> Self {
        Key::Name(s.into())
    }
}
impl From<String> for Key {
    fn from(s: String) -> Self {
        Key::Name(s.into())
    }
}
impl From<Arc<str>> for Key {
    fn from(s: Arc<str>) -> Self {
        Key::Name(s)
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Num(n) => write!(f, "{n}"),
            Key::Name(s) => write!(f, "{s:?}"),
        }
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The identity of an installed handler: its type plus an optional [`Key`] (OTP's `Module` or
/// `{Module, Id}`). A manager holds at most one handler of each identity.
#[derive(Clone)]
pub struct HandlerId {
    type_id: TypeId,
    type_name: &'static str,
    key: Option<Key>,
}

impl HandlerId {
    /// The identity of a handler of type `H` with an optional key.
    pub fn of<H: Any>(key: Option<Key>) -> Self {
        HandlerId {
            type_id: TypeId::of::<H>(),
            type_name: std::any::type_name::<H>(),
            key,
        }
    }

    /// The handler's type name, as `std::any::type_name` gives it.
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }

    /// The handler's type name without its module path.
    pub fn short_name(&self) -> &'static str {
        short_type_name(self.type_name)
    }

    /// The key, if the handler was installed with one.
    pub fn key(&self) -> Option<&Key> {
        self.key.as_ref()
    }

    /// Whether this is the identity of a handler of type `H`.
    pub fn is<H: Any>(&self) -> bool {
        self.type_id == TypeId::of::<H>()
    }
}

/// `std::any::type_name` without module paths, generics kept: `a::b::C<d::E>` becomes `C<E>`.
pub(crate) fn short_type_name(full: &'static str) -> &'static str {
    // Only the outermost path is trimmed; generic arguments keep their paths, which is enough
    // for reports and keeps this allocation-free.
    let end = full.find('<').unwrap_or(full.len());
    match full[..end].rfind("::") {
        Some(i) => &full[i + 2..],
        None => full,
    }
}

impl PartialEq for HandlerId {
    fn eq(&self, other: &Self) -> bool {
        self.type_id == other.type_id && self.key == other.key
    }
}
impl Eq for HandlerId {}
impl Hash for HandlerId {
    fn hash<S: Hasher>(&self, state: &mut S) {
        self.type_id.hash(state);
        self.key.hash(state);
    }
}

impl fmt::Display for HandlerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.key {
            None => f.write_str(self.short_name()),
            Some(k) => write!(f, "{}({k})", self.short_name()),
        }
    }
}

impl fmt::Debug for HandlerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A typed reference to a handler of type `H`: the target of calls, deletes and swaps.
///
/// It names a handler, it does not keep one alive: using it after the handler left gives a
/// [`NotInstalled`](crate::CallError::NotInstalled) error. It is cheap to clone and can be made
/// by anyone who knows the handler's type and key.
///
/// ```
/// use event_core::HandlerRef;
/// # struct FileLogger;
/// let log = HandlerRef::<FileLogger>::with_key("error.log");
/// assert_eq!(log.id().to_string(), "FileLogger(\"error.log\")");
/// ```
pub struct HandlerRef<H> {
    id: HandlerId,
    _handler: PhantomData<fn() -> H>,
}

impl<H: Any> HandlerRef<H> {
    /// The reference to the handler of type `H` installed without a key.
    pub fn new() -> Self {
        HandlerRef {
            id: HandlerId::of::<H>(None),
            _handler: PhantomData,
        }
    }

    /// The reference to the handler of type `H` installed with `key`.
    pub fn with_key(key: impl Into<Key>) -> Self {
        HandlerRef {
            id: HandlerId::of::<H>(Some(key.into())),
            _handler: PhantomData,
        }
    }
}

impl<H> HandlerRef<H> {
    pub(crate) fn from_id(id: HandlerId) -> Self {
        HandlerRef {
            id,
            _handler: PhantomData,
        }
    }

    /// The identity this reference names.
    pub fn id(&self) -> &HandlerId {
        &self.id
    }
}

impl<H: Any> Default for HandlerRef<H> {
    fn default() -> Self {
        Self::new()
    }
}

impl<H> Clone for HandlerRef<H> {
    fn clone(&self) -> Self {
        HandlerRef {
            id: self.id.clone(),
            _handler: PhantomData,
        }
    }
}

impl<H> PartialEq for HandlerRef<H> {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}
impl<H> Eq for HandlerRef<H> {}

impl<H> fmt::Debug for HandlerRef<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HandlerRef({})", self.id)
    }
}

impl<H> fmt::Display for HandlerRef<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.id, f)
    }
}
