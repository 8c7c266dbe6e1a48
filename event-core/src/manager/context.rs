//! What a handler can do from inside its callbacks: leave, swap itself, set timers that only it
//! receives, watch subscribers, and ask for operations on its own manager without deadlocking.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::Instant;

use super::erased::CallCell;
use super::handle::{typed_handover, EventManager};
use super::install::{Install, NewHandler};
use super::mailbox::{Mailbox, Owned};
use super::message::{Msg, Op, Reply};
use super::watch::Watchable;
use crate::callback;
use crate::error::{AddError, CallError, DeleteError, RequestError, SwapError};
use crate::exit::{Args, Cause};
use crate::handler::{Call, Handler, HandlerRef, Info};

/// The handle a handler's callbacks get to their surroundings.
///
/// Everything here is non-blocking: operations on the handler's own manager are *deferred*,
/// applied right after the current message, so a handler can never deadlock on its manager
/// (say, a router that installs the dialer handler it needs), and a request to another handler
/// is answered later, to [`handle_info`](Handler::handle_info)
/// ([`call_later`](Context::call_later)). The blocking operations of
/// [`EventManager`] called from inside a callback of the same manager return a `WouldDeadlock`
/// error instead of hanging.
pub struct Context<E: 'static, H> {
    mailbox: Arc<Mailbox<E>>,
    uid: u64,
    extra: Option<Box<Extra<E>>>,
    _handler: PhantomData<fn() -> H>,
}

/// What a context holds only once it is used, so a handler that never uses it pays one word.
struct Extra<E: 'static> {
    deferred: Vec<Op<E>>,
    action: Option<SelfAction<E>>,
    /// Its timers and watches, kept by its manager.
    owned: Owned,
    /// Alive while the handler is installed: its [`InfoSender`]s hold it weakly.
    alive: Option<Arc<()>>,
}

impl<E: 'static> Default for Extra<E> {
    fn default() -> Self {
        Extra {
            deferred: Vec::new(),
            action: None,
            owned: Owned::default(),
            alive: None,
        }
    }
}

/// What a callback asked for: operations on the manager, and an action on itself.
pub(super) type Requests<E> = (Vec<Op<E>>, Option<SelfAction<E>>);

/// How a callback ended, once the operations it asked for were handed on.
pub(super) enum Settled<E: 'static> {
    /// It returned and asked for nothing about itself.
    Done,
    /// It returned and asked to leave or to be swapped.
    Acted(SelfAction<E>),
    /// It failed; what it asked about itself is void.
    Crashed(Cause),
}

/// Settles a callback that ended with `result`, having made `requests`: the operations go to
/// `defer` whatever the result (as in OTP, where a crashed handler's messages were sent), for
/// inline and dedicated handlers alike.
pub(super) fn settle<E: 'static>(
    result: Result<(), Cause>,
    requests: Option<Requests<E>>,
    defer: &mut dyn FnMut(Vec<Op<E>>),
) -> Settled<E> {
    let (ops, action) = requests.unwrap_or_default();
    if !ops.is_empty() {
        defer(ops);
    }
    match (result, action) {
        (Err(cause), _) => Settled::Crashed(cause),
        (Ok(()), Some(action)) => Settled::Acted(action),
        (Ok(()), None) => Settled::Done,
    }
}

/// What a handler asked for itself from a callback: to leave, or to be replaced.
pub(super) enum SelfAction<E: 'static> {
    Remove,
    Swap { to: NewHandler<E>, args: Args },
}

/// A timer set with [`Context::send_after`]; cancel it with [`Context::cancel_timer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TimerRef(u64);

/// A subscriber watched with [`Context::watch`]; its end arrives as [`Info::Down`] with this
/// reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WatchRef(u64);

impl WatchRef {
    pub(super) fn new(id: u64) -> Self {
        WatchRef(id)
    }
}

impl<E: Send + Sync + 'static, H> Context<E, H> {
    pub(super) fn new(mailbox: Arc<Mailbox<E>>, uid: u64) -> Self {
        Context {
            mailbox,
            uid,
            extra: None,
            _handler: PhantomData,
        }
    }

    fn extra(&mut self) -> &mut Extra<E> {
        self.extra.get_or_insert_with(Box::default)
    }

    /// The place for a request to the manager, which is told to look for it after this
    /// callback.
    fn ask(&mut self) -> &mut Extra<E> {
        self.mailbox.mark_asked();
        self.extra()
    }

    /// The name of the manager this handler is installed in.
    pub fn manager_name(&self) -> &str {
        self.mailbox.name()
    }

    /// A handle to the manager this handler is installed in, to give to tasks it spawns.
    ///
    /// Awaiting the handle's blocking operations from inside this handler's callbacks returns
    /// `WouldDeadlock`; a spawned task may await them freely.
    ///
    /// Like every handle, it keeps the manager running: a handler that stores it in its own
    /// state keeps its manager alive until [`stop`](EventManager::stop), even after every
    /// other handle is dropped.
    pub fn manager(&self) -> EventManager<E> {
        EventManager::from_mailbox(self.mailbox.clone())
    }

    /// Removes this handler once the current callback returns; its `terminate` is told
    /// [`Terminate::Removed`](crate::Terminate::Removed) and its supervisor `Normal`
    /// (OTP's `remove_handler` return).
    pub fn remove_self(&mut self) {
        self.ask().action = Some(SelfAction::Remove);
    }

    /// Stops a [`remove_self`](Context::remove_self) or [`swap_self`](Context::swap_self)
    /// asked for earlier in the same callback.
    pub fn keep(&mut self) {
        if let Some(x) = self.extra.as_mut() {
            x.action = None;
        }
    }

    /// Records a message to be delivered to this handler's
    /// [`handle_info`](Handler::handle_info) after `delay`, counted from this call. Only this
    /// handler receives it, and it is cancelled when the handler leaves.
    ///
    /// Timers are kept by the manager, which fires them from its own task, without a task
    /// each: setting, cancelling and firing one costs O(1) a timer when others are due in the
    /// same millisecond, O(log M) in the M distinct milliseconds otherwise. Deadlines count
    /// in milliseconds, as tokio's timers do.
    pub fn send_after(&mut self, delay: Duration, message: H::Info) -> TimerRef
    where
        H: Handler<E>,
    {
        let at = Instant::now().checked_add(delay).unwrap_or_else(far_future);
        self.send_at(at, message)
    }

    /// Records a message to be delivered to this handler's
    /// [`handle_info`](Handler::handle_info) at the instant `at` (OTP's `send_after` with
    /// `{abs, true}`); an instant past is due at once. As with
    /// [`send_after`](Context::send_after), only this handler receives it, and it is cancelled
    /// when the handler leaves.
    pub fn send_at(&mut self, at: Instant, message: H::Info) -> TimerRef
    where
        H: Handler<E>,
    {
        let payload: Box<dyn Any + Send> = Box::new(Info::Message(message));
        let payload = callback::Owned::new(payload);
        let extra = self.extra.get_or_insert_with(Box::default);
        TimerRef(
            self.mailbox
                .arm_timer(self.uid, &mut extra.owned, at, payload),
        )
    }

    /// Cancels a timer. Returns whether it was still pending; a timer that fired but whose
    /// message was not handled yet is cancelled too.
    pub fn cancel_timer(&mut self, timer: TimerRef) -> bool {
        match self.extra.as_mut() {
            Some(x) => self.mailbox.cancel_timer(self.uid, &mut x.owned, timer.0),
            None => false,
        }
    }

    /// Watches a subscriber: when it goes away (a channel's receiver is dropped, a task ends),
    /// this handler receives [`Info::Down`] with the returned reference. The watch ends when
    /// the handler leaves. A watched channel stays open until then: see [`Watchable`] for why
    /// a handler that drops a subscriber should [`unwatch`](Context::unwatch) it.
    ///
    /// Watches are kept and polled by the manager, without a task each: a subscriber's end
    /// reaches its handler in O(1) among the manager's watches.
    pub fn watch(&mut self, subscriber: impl Watchable) -> WatchRef {
        // The subscriber's own code: if its future panics, the subscriber counts as gone; it
        // is dropped under a guard too, when the watch ends.
        let mut gone = callback::Owned::new(Box::pin(subscriber.gone()));
        let gone = Box::pin(async move {
            if let Err(cause) = callback::catch_panic(gone.as_mut()).await {
                tracing::warn!(reason = %cause, "a watched subscriber's `gone` panicked; it counts as gone");
            }
        });
        let extra = self.extra.get_or_insert_with(Box::default);
        WatchRef(self.mailbox.watch(self.uid, &mut extra.owned, gone))
    }

    /// Stops watching a subscriber. Returns whether the watch was active (or its subscriber
    /// gone and the notice not handled yet, which is then dropped).
    pub fn unwatch(&mut self, watch: WatchRef) -> bool {
        match self.extra.as_mut() {
            Some(x) => self.mailbox.unwatch(self.uid, &mut x.owned, watch.0),
            None => false,
        }
    }

    /// A sender that delivers messages to this handler's `handle_info`, for tasks it spawns.
    /// Its [`send`](InfoSender::send) fails once the handler has left.
    pub fn info_sender(&mut self) -> InfoSender<H::Info>
    where
        H: Handler<E>,
    {
        let alive = self.extra().alive.get_or_insert_with(Arc::default);
        InfoSender {
            alive: Arc::downgrade(alive),
            sink: self.mailbox.clone(),
            uid: self.uid,
            _message: PhantomData,
        }
    }

    /// Asks a handler of this manager a request without waiting for it (a sibling, or this
    /// handler itself): the reply comes back later to this handler's
    /// [`handle_info`](Handler::handle_info), as the message `reply` makes of it.
    ///
    /// The request is queued in the manager's mailbox now, behind what was sent before it, and
    /// is answered in its turn like any [`call`](EventManager::call); the reply (or the
    /// [`CallError`] the call met: not installed, crashed) is then queued as an info message
    /// for this handler. Neither step waits inside a callback, so this cannot deadlock, even
    /// when two handlers ask each other: each callback returns at once, and each answer is a
    /// message of its own. The reply is dropped if this handler has left by then.
    ///
    /// ```
    /// use event_core::{handler, Context, EventManager, Info};
    ///
    /// struct Rates { eur: u32 }
    /// struct Rate;
    ///
    /// #[handler(event = u32)]
    /// impl Rates {
    ///     fn init() -> Self { Rates { eur: 90 } }
    ///     fn handle_event(&mut self, _: &u32) {}
    ///     #[call]
    ///     fn rate(&mut self, _: Rate) -> u32 { self.eur }
    /// }
    ///
    /// struct Pricer { rates: event_core::HandlerRef<Rates>, done: tokio::sync::mpsc::UnboundedSender<u32> }
    ///
    /// #[handler(event = u32)]
    /// impl Pricer {
    ///     fn init(args: (event_core::HandlerRef<Rates>, tokio::sync::mpsc::UnboundedSender<u32>)) -> Self {
    ///         Pricer { rates: args.0, done: args.1 }
    ///     }
    ///     fn handle_event(&mut self, dollars: &u32, cx: &mut Context<u32, Self>) {
    ///         let dollars = *dollars;
    ///         // Ask the sibling; the answer comes back to handle_info.
    ///         cx.call_later(&self.rates, Rate, move |rate| (dollars, rate.ok()));
    ///     }
    ///     fn handle_info(&mut self, info: Info<(u32, Option<u32>)>) {
    ///         if let Info::Message((dollars, Some(rate))) = info {
    ///             let _ = self.done.send(dollars * rate / 100);
    ///         }
    ///     }
    /// }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let manager = EventManager::<u32>::start()?;
    /// let rates = manager.add_handler::<Rates>(()).await?;
    /// let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    /// manager.add_handler::<Pricer>((rates, tx)).await?;
    /// manager.notify(200).await?;
    /// assert_eq!(rx.recv().await, Some(180));
    /// # Ok(()) }
    /// ```
    #[doc(alias = "ask")]
    pub fn call_later<S, R>(
        &mut self,
        handler: &HandlerRef<S>,
        request: R,
        reply: impl FnOnce(Result<S::Reply, CallError>) -> H::Info + Send + 'static,
    ) where
        H: Handler<E>,
        S: Call<E, R>,
        R: Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let cell = CallCell::<E, S, R>::new(handler.id().clone(), request, tx);
        if self.mailbox.push(Msg::Call(Box::new(cell))).is_err() {
            // The manager is stopping: this handler gets no more messages either.
            return;
        }
        let info = self.info_sender();
        tokio::spawn(async move {
            let result = rx.await.unwrap_or(Err(CallError::ManagerGone));
            // Dropped if the handler has left meanwhile.
            let _ = info.send(reply(result));
        });
    }

    /// Replaces this handler, once the current callback returns, by the one `to` names: this
    /// handler's `terminate` runs with [`Terminate::Swapped`](crate::Terminate::Swapped) and
    /// `args`, `make_args` turns its hand-over into the new handler's init args, and the new
    /// handler takes this one's place in the list and its supervisor (OTP's `swap_handler`
    /// return). The new handler does not see the current event. If its `init` fails, the
    /// supervisor is told of the crash. If a handler with the new identity is installed
    /// already, the swap is refused with an error log and this handler stays.
    pub fn swap_self<New>(
        &mut self,
        to: impl Into<Install<New>>,
        args: impl Any + Send,
        make_args: impl FnOnce(Option<H::Handover>) -> New::Args + Send + 'static,
    ) where
        H: Handler<E>,
        New: Handler<E>,
    {
        let to = to.into().successor::<H, E>(self.mailbox.clone(), make_args);
        self.ask().action = Some(SelfAction::Swap {
            to,
            args: Args::new(args),
        });
    }

    /// Installs another handler in this manager right after the current message. The result
    /// arrives in the returned [`Deferred`], which must not be awaited inside this callback
    /// (it would report `WouldDeadlock`): hand it to a task, or drop it.
    pub fn add_handler<N: Handler<E>>(
        &mut self,
        install: impl Into<Install<N>>,
        args: N::Args,
    ) -> Deferred<HandlerRef<N>, AddError> {
        let install = install.into();
        let href = install.handler_ref().clone();
        let new = install.new_handler(self.mailbox.clone(), args, None);
        self.defer_install(href, |tx| Op::Add {
            new,
            reply: Reply::Plain(tx),
        })
    }

    /// Deletes a handler of this manager right after the current message (see
    /// [`add_handler`](Context::add_handler) for the result).
    pub fn delete_handler<N: Handler<E>>(
        &mut self,
        handler: &HandlerRef<N>,
        args: impl Any + Send,
    ) -> Deferred<N::Handover, DeleteError> {
        let (tx, rx) = oneshot::channel();
        self.ask().deferred.push(Op::Delete {
            id: handler.id().clone(),
            args: Args::new(args),
            reply: tx,
        });
        let id = handler.id().clone();
        Deferred::new(self.mailbox.uid(), async move {
            typed_handover::<N, E>(rx.await.map_err(|_| None), id)
        })
    }

    /// Swaps a handler of this manager for another right after the current message, as
    /// [`EventManager::swap_handler`] does (see [`add_handler`](Context::add_handler) for the
    /// result).
    pub fn swap_handler<Old, New>(
        &mut self,
        old: &HandlerRef<Old>,
        args: impl Any + Send,
        new: impl Into<Install<New>>,
        make_args: impl FnOnce(Option<Old::Handover>) -> New::Args + Send + 'static,
    ) -> Deferred<HandlerRef<New>, SwapError>
    where
        Old: Handler<E>,
        New: Handler<E>,
    {
        let new = new.into();
        let href = new.handler_ref().clone();
        let new = new.successor::<Old, E>(self.mailbox.clone(), make_args);
        self.defer_install(href, |tx| Op::Swap {
            old: old.id().clone(),
            args: Args::new(args),
            new,
            reply: Reply::Plain(tx),
        })
    }

    /// Queues an install or a swap, made with the sender of its reply; the deferred result is
    /// the new handler's reference once it is in.
    fn defer_install<N, Er>(
        &mut self,
        href: HandlerRef<N>,
        op: impl FnOnce(oneshot::Sender<Result<(), Er>>) -> Op<E>,
    ) -> Deferred<HandlerRef<N>, Er>
    where
        N: Send + 'static,
        Er: RequestError + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.ask().deferred.push(op(tx));
        Deferred::new(self.mailbox.uid(), async move {
            match rx.await {
                Ok(Ok(())) => Ok(href),
                Ok(Err(e)) => Err(e),
                Err(_) => Err(Er::manager_gone()),
            }
        })
    }
}

impl<E: 'static, H> Context<E, H> {
    pub(super) fn uid(&self) -> u64 {
        self.uid
    }

    /// Takes what the last callback asked for: operations on the manager and an action on
    /// itself. Costs one branch when nothing was asked.
    pub(super) fn take_requests(&mut self) -> Option<Requests<E>> {
        let x = self.extra.as_mut()?;
        if x.deferred.is_empty() && x.action.is_none() {
            return None;
        }
        Some((std::mem::take(&mut x.deferred), x.action.take()))
    }

    /// Forgets a timer that fired; returns whether it was still wanted.
    pub(super) fn timer_fired(&mut self, timer: u64) -> bool {
        match self.extra.as_mut() {
            Some(x) => self.mailbox.timer_handled(self.uid, &mut x.owned, timer),
            None => false,
        }
    }

    /// Forgets a watch that fired; returns whether it was still wanted.
    pub(super) fn watch_fired(&mut self, watch: u64) -> bool {
        match self.extra.as_mut() {
            Some(x) => self.mailbox.watch_handled(self.uid, &mut x.owned, watch),
            None => false,
        }
    }

    /// Cancels every timer and watch: the handler is leaving.
    pub(super) fn cancel_all(&mut self) {
        if let Some(x) = self.extra.as_mut() {
            self.mailbox.cancel_owned(&mut x.owned);
        }
    }
}

/// An instant far enough ahead to stand for never: a delay too long to add to now.
fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86400 * 365 * 30)
}

impl<E: 'static, H> Drop for Context<E, H> {
    fn drop(&mut self) {
        self.cancel_all();
    }
}

impl<E: 'static, H> fmt::Debug for Context<E, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("manager", &self.mailbox.name())
            .finish_non_exhaustive()
    }
}

/// Sends messages to one handler's [`handle_info`](Handler::handle_info) from anywhere, e.g.
/// from a task the handler spawned. Made by [`Context::info_sender`].
pub struct InfoSender<M> {
    /// Gone once the handler has left (its context is dropped with it).
    alive: Weak<()>,
    sink: Arc<dyn InfoSink>,
    uid: u64,
    _message: PhantomData<fn(M)>,
}

impl<M: Send + 'static> InfoSender<M> {
    /// Sends a message to the handler.
    ///
    /// `Ok` means the message is in the manager's mailbox, behind what was sent before it,
    /// while the handler is installed; a handler that leaves before the message's turn does
    /// not get it. A handler restarted in place gets it, as the same installation.
    ///
    /// # Errors
    /// [`InfoGone`] with the message if the handler has left, or its manager has stopped.
    #[doc(alias = "tell")]
    pub fn send(&self, message: M) -> Result<(), InfoGone<M>> {
        if self.alive.strong_count() == 0 {
            return Err(InfoGone(message));
        }
        let payload: Box<dyn Any + Send> = Box::new(Info::Message(message));
        self.sink.send_info(self.uid, payload).map_err(|back| {
            match back.downcast::<Info<M>>().map(|b| *b) {
                Ok(Info::Message(m)) => InfoGone(m),
                // The payload is the one built above.
                _ => unreachable!("an info payload comes back as it was sent"),
            }
        })
    }

    /// Whether the handler has left (a handler leaves when its manager stops): a
    /// [`send`](InfoSender::send) now would fail.
    pub fn is_gone(&self) -> bool {
        self.alive.strong_count() == 0
    }
}

/// A message [`InfoSender::send`] could not deliver, given back: the handler has left, or its
/// manager has stopped.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct InfoGone<M>(pub M);

impl<M> InfoGone<M> {
    /// The message that was not sent.
    pub fn into_inner(self) -> M {
        self.0
    }
}

impl<M> fmt::Debug for InfoGone<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InfoGone(..)")
    }
}

impl<M> fmt::Display for InfoGone<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the handler has left, or its event manager has stopped")
    }
}

impl<M> std::error::Error for InfoGone<M> {}

impl<M> Clone for InfoSender<M> {
    fn clone(&self) -> Self {
        InfoSender {
            alive: self.alive.clone(),
            sink: self.sink.clone(),
            uid: self.uid,
            _message: PhantomData,
        }
    }
}

impl<M> fmt::Debug for InfoSender<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InfoSender").finish_non_exhaustive()
    }
}

/// Where info messages go: a manager's mailbox, whatever its event type.
pub(super) trait InfoSink: Send + Sync {
    fn send_info(&self, uid: u64, payload: Box<dyn Any + Send>) -> Result<(), Box<dyn Any + Send>>;
}

/// The result of an operation a handler asked its own manager for, available once the
/// manager has applied it (right after the callback that asked).
///
/// Awaiting it inside a callback of the same manager before it is ready would wait forever, so
/// it resolves to a `WouldDeadlock` error there instead. That error says only that the result
/// cannot be waited for there: the operation itself is still applied. Await it in a task the
/// handler spawns, or drop it. (From a dedicated handler the operation travels to the manager
/// as a message of its own, so even in a later callback it may not be applied yet.)
///
/// # Cancel safety
/// Cancel safe: the operation is applied whether or not the `Deferred` is awaited; dropping
/// it drops only the result.
#[must_use = "dropping a Deferred is fine, but then the operation's result is not seen"]
pub struct Deferred<T, Er> {
    manager: u64,
    inner: Pin<Box<dyn Future<Output = Result<T, Er>> + Send>>,
}

impl<T, Er> Deferred<T, Er> {
    fn new(manager: u64, f: impl Future<Output = Result<T, Er>> + Send + 'static) -> Self {
        Deferred {
            manager,
            inner: Box::pin(f),
        }
    }
}

impl<T, Er: RequestError> Future for Deferred<T, Er> {
    type Output = Result<T, Er>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        match self.inner.as_mut().poll(cx) {
            Poll::Ready(r) => Poll::Ready(r),
            Poll::Pending if callback::inside(self.manager) => {
                Poll::Ready(Err(Er::would_deadlock()))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T, Er> fmt::Debug for Deferred<T, Er> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Deferred").finish_non_exhaustive()
    }
}
