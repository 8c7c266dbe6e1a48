//! The event manager: a handle to one tokio task that runs every event through its handlers.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use tokio::sync::{oneshot, SemaphorePermit, TryAcquireError};

use super::builder::Builder;
use super::crash::InPlace;
use super::erased::{CallMessage, Request};
use super::install::Install;
use super::link::{Link, SupLink};
use super::mailbox::Mailbox;
use super::message::{Msg, Op, Reply};
use crate::callback::{self, Owned};
use crate::error::{
    AddError, CallError, DeleteError, ManagerError, NotifyError, RequestError, StartError,
    SwapError,
};
use crate::exit::Args;
use crate::handler::{Handler, HandlerId, HandlerRef};
use crate::intensity::Intensity;

/// A handle to a running event manager: OTP's `gen_event` process.
///
/// The manager is one tokio task that owns a list of handlers and runs each event through
/// them, newest first, one after another: every handler finishes event N before any handler
/// sees N+1, and events from one sender are handled in the order sent. Handles are cheap to
/// clone; the manager stops when [`stop`](EventManager::stop) is called or when the last handle
/// is dropped, after handling what it was sent.
///
/// Every operation returns a `Result` whose error says what went wrong. The operations that
/// wait for the manager fail with `WouldDeadlock` when called from inside one of its own
/// handlers' callbacks; handlers use the deferred forms on their [`Context`](crate::Context).
///
/// ```
/// # use event_core::*;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let alarms = EventManager::<String>::builder().name("alarms").start()?;
/// assert_eq!(alarms.name(), "alarms");
/// alarms.notify("disk full".to_string()).await?;
/// alarms.stop().await?;
/// alarms.stopped().await;
/// # Ok(()) }
/// ```
pub struct EventManager<E: 'static> {
    mailbox: Arc<Mailbox<E>>,
}

impl<E: Send + Sync + fmt::Debug + 'static> EventManager<E> {
    /// Starts a manager with an unbounded mailbox on the current tokio runtime. Crash reports
    /// show the `Debug` form of the event that was running.
    ///
    /// Use [`builder`](EventManager::builder) for a name, a bounded mailbox, or an event type
    /// without `Debug`.
    pub fn start() -> Result<Self, StartError> {
        Self::builder().debug_events().start()
    }
}

impl<E: Send + Sync + 'static> EventManager<E> {
    /// A builder for a manager with a name, a bounded mailbox, or crash reports that show
    /// events.
    pub fn builder() -> Builder<E> {
        Builder::new()
    }

    /// The mailbox this handle pushes to.
    pub(super) fn mailbox(&self) -> &Arc<Mailbox<E>> {
        &self.mailbox
    }

    pub(super) fn from_mailbox(mailbox: Arc<Mailbox<E>>) -> Self {
        mailbox.handle_acquired();
        EventManager { mailbox }
    }

    /// The manager's name, as crash reports give it.
    pub fn name(&self) -> &str {
        self.mailbox.name()
    }

    /// Sends an event to every handler without waiting for them (OTP's `notify`).
    ///
    /// On an unbounded mailbox this never waits. On a bounded one it waits for room, so a fast
    /// publisher is slowed to the handlers' pace instead of growing the mailbox without bound.
    /// The event comes back inside the error if the manager has stopped.
    ///
    /// # Cancel safety
    /// Not cancel safe on a full bounded mailbox: dropped while it waits for room (say, the
    /// losing branch of a `tokio::select!`), it has not sent the event, and the event is dropped
    /// with it. As with tokio's `mpsc::Sender::send`, the event is either sent whole or not at
    /// all, never half. To wait for room without risking the event, wait with
    /// [`reserve`](EventManager::reserve), which is cancel safe, then send through the permit.
    /// On an unbounded mailbox, or with room, it completes on its first poll.
    #[doc(alias = "tell")]
    #[doc(alias = "cast")]
    #[doc(alias = "send")]
    pub async fn notify(&self, event: E) -> Result<(), NotifyError<E>> {
        if let Some(bound) = self.mailbox.bound() {
            match bound.try_acquire() {
                Ok(permit) => permit.forget(),
                Err(TryAcquireError::Closed) => return Err(NotifyError::ManagerGone(event)),
                Err(TryAcquireError::NoPermits) => {
                    if callback::inside(self.mailbox.uid()) {
                        return Err(NotifyError::WouldDeadlock(event));
                    }
                    match bound.acquire().await {
                        Ok(permit) => permit.forget(),
                        Err(_) => return Err(NotifyError::ManagerGone(event)),
                    }
                }
            }
        }
        self.push_event(Msg::Event(Owned::new(event)))
    }

    /// Waits for room for one event, and returns the permit to send it with (tokio's
    /// `Sender::reserve`): the event is only handed over once there is room, so nothing is
    /// lost if the wait is given up.
    ///
    /// ```
    /// # use event_core::EventManager;
    /// # use std::time::Duration;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let manager = EventManager::<String>::builder().bounded(8).start()?;
    /// let event = "reading".to_owned();
    /// tokio::select! {
    ///     permit = manager.reserve() => permit?.notify(event)?,
    ///     _ = tokio::time::sleep(Duration::from_secs(1)) => {
    ///         // No room in time: `event` is still here, to retry or log.
    ///         drop(event);
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Cancel safety
    /// Cancel safe: dropped while it waits, it has taken no room and no event.
    ///
    /// # Errors
    /// [`ManagerError::ManagerGone`] if the manager has stopped;
    /// [`ManagerError::WouldDeadlock`] from inside one of its own callbacks when the mailbox is
    /// full (the room could only be made by the callback that waits).
    pub async fn reserve(&self) -> Result<NotifyPermit<'_, E>, ManagerError> {
        let permit = match self.mailbox.bound() {
            None => None,
            Some(bound) => Some(match bound.try_acquire() {
                Ok(permit) => permit,
                Err(TryAcquireError::Closed) => return Err(ManagerError::ManagerGone),
                Err(TryAcquireError::NoPermits) => {
                    if callback::inside(self.mailbox.uid()) {
                        return Err(ManagerError::WouldDeadlock);
                    }
                    bound
                        .acquire()
                        .await
                        .map_err(|_| ManagerError::ManagerGone)?
                }
            }),
        };
        Ok(NotifyPermit {
            manager: self,
            permit,
        })
    }

    /// Sends an event if there is room now: on a full bounded mailbox it returns
    /// [`NotifyError::Full`] with the event instead of waiting.
    pub fn try_notify(&self, event: E) -> Result<(), NotifyError<E>> {
        if let Some(bound) = self.mailbox.bound() {
            match bound.try_acquire() {
                Ok(permit) => permit.forget(),
                Err(TryAcquireError::Closed) => return Err(NotifyError::ManagerGone(event)),
                Err(TryAcquireError::NoPermits) => return Err(NotifyError::Full(event)),
            }
        }
        self.push_event(Msg::Event(Owned::new(event)))
    }

    fn push_event(&self, msg: Msg<E>) -> Result<(), NotifyError<E>> {
        self.mailbox.push(msg).map_err(|msg| match msg {
            Msg::Event(e) => NotifyError::ManagerGone(e.into_inner()),
            _ => unreachable!("push gives back the message it was given"),
        })
    }

    /// Sends an event and returns once every handler has handled it (OTP's `sync_notify`),
    /// dedicated handlers included. Like OTP, it says nothing about handlers that failed on it.
    ///
    /// # Cancel safety
    /// Dropped while it waits for room in a full bounded mailbox, it has not sent the event,
    /// which is lost with it (as for [`notify`](EventManager::notify)). Dropped after that, the
    /// event is delivered to every handler all the same; only the wait for them is given up.
    pub async fn sync_notify(&self, event: E) -> Result<(), ManagerError> {
        if callback::inside(self.mailbox.uid()) {
            return Err(ManagerError::WouldDeadlock);
        }
        if let Some(bound) = self.mailbox.bound() {
            match bound.acquire().await {
                Ok(permit) => permit.forget(),
                Err(_) => return Err(ManagerError::ManagerGone),
            }
        }
        let (tx, rx) = oneshot::channel();
        self.mailbox
            .push(Msg::SyncEvent(Owned::new(event), tx))
            .map_err(|_| ManagerError::ManagerGone)?;
        rx.await.map_err(|_| ManagerError::ManagerGone)
    }

    pub(super) async fn request<R, Er: RequestError>(
        &self,
        msg: impl FnOnce(oneshot::Sender<R>) -> Msg<E>,
    ) -> Result<R, Er> {
        if callback::inside(self.mailbox.uid()) {
            return Err(Er::would_deadlock());
        }
        let (tx, rx) = oneshot::channel();
        self.mailbox.push(msg(tx)).map_err(|_| Er::manager_gone())?;
        rx.await.map_err(|_| Er::manager_gone())
    }

    /// Sends a request to one handler and returns its reply (OTP's `call`).
    ///
    /// The request type picks the handler's [`Call`](crate::Call) implementation, so the reply is typed.
    /// A handler that is not installed gives [`CallError::NotInstalled`]; one that crashes
    /// answering gives [`CallError::Crashed`] with the crash, and is removed.
    ///
    /// The request is sent when the returned future is first polled (to send it at once and
    /// collect the reply later, use [`send_request`](EventManager::send_request)). For a
    /// deadline, wrap the call in `tokio::time::timeout`; dropping the call after it was sent
    /// leaves the manager as it is (the handler still runs the request; the reply is dropped).
    ///
    /// # Cancel safety
    /// Dropped before its first poll, it has sent nothing. Dropped after, the request is in the
    /// mailbox and the handler runs it; only the reply is lost.
    #[doc(alias = "ask")]
    pub fn call<H, R>(&self, handler: &HandlerRef<H>, request: R) -> Calling<'_, E, R::Reply>
    where
        R: Request<E, H>,
    {
        let (tx, rx) = oneshot::channel();
        Calling {
            mailbox: &self.mailbox,
            msg: Some(request.__message(handler, tx)),
            reply: PendingReply { rx },
        }
    }

    /// Sends a request to one handler now, and returns its reply to come (OTP's
    /// `send_request`; awaiting the [`PendingReply`] is `receive_response`).
    ///
    /// The request is in the manager's mailbox when this returns, so requests sent one after
    /// the other are handled in that order, whenever their replies are awaited. Dropping the
    /// `PendingReply` drops the reply; the handler still runs the request.
    ///
    /// ```
    /// # use event_core::{handler, EventManager};
    /// # #[derive(Debug)] enum Ev {}
    /// # struct Log { lines: Vec<u32> }
    /// # struct Append(u32);
    /// # #[handler(event = Ev)]
    /// # impl Log {
    /// #     fn init() -> Self { Log { lines: Vec::new() } }
    /// #     fn handle_event(&mut self, _: &Ev) {}
    /// #     #[call]
    /// #     fn append(&mut self, Append(n): Append) -> usize { self.lines.push(n); self.lines.len() }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let manager = EventManager::<Ev>::start()?;
    /// let log = manager.add_handler::<Log>(()).await?;
    /// let first = manager.send_request(&log, Append(1))?;   // in the mailbox now
    /// let second = manager.send_request(&log, Append(2))?;  // and this right behind it
    /// assert_eq!(second.await?, 2);                          // awaited in any order
    /// assert_eq!(first.await?, 1);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`CallError::ManagerGone`] if the manager has stopped; [`CallError::WouldDeadlock`]
    /// from inside one of its own callbacks (awaiting the reply there would wait forever; use
    /// the context's deferred operations).
    pub fn send_request<H, R>(
        &self,
        handler: &HandlerRef<H>,
        request: R,
    ) -> Result<PendingReply<R::Reply>, CallError>
    where
        R: Request<E, H>,
    {
        if callback::inside(self.mailbox.uid()) {
            return Err(CallError::WouldDeadlock);
        }
        let (tx, rx) = oneshot::channel();
        self.mailbox
            .push(Msg::Call(request.__message(handler, tx).0))
            .map_err(|_| CallError::ManagerGone)?;
        Ok(PendingReply { rx })
    }

    /// Installs a handler of type `H` (no key, inline), built by its `init` from `args`
    /// (OTP's `add_handler`). Fails if one is installed already, or if `init` fails.
    ///
    /// # Cancel safety
    /// Once first polled, the install is in the mailbox: dropped after that, the handler is
    /// installed all the same (or its `init` fails) and only the result is lost.
    #[doc(alias = "spawn")]
    #[doc(alias = "subscribe")]
    pub fn add_handler<H: Handler<E>>(&self, args: H::Args) -> Installing<'_, E, H> {
        self.add_handler_with(Install::new(), args)
    }

    /// Installs a handler as `install` says: with a key, or dedicated to a task of its own.
    ///
    /// # Cancel safety
    /// As for [`add_handler`](EventManager::add_handler): once first polled, the install
    /// happens whether or not the future is awaited to the end.
    pub fn add_handler_with<H: Handler<E>>(
        &self,
        install: impl Into<Install<H>>,
        args: H::Args,
    ) -> Installing<'_, E, H> {
        Installing(self.add(install.into(), args, None, Reply::Plain))
    }

    /// Installs a supervised handler of type `H` (OTP's `add_sup_handler`): the returned
    /// [`SupLink`] yields why the handler left, and dropping it removes the handler.
    ///
    /// # Cancel safety
    /// Dropped after its first poll, the install still happens, but the supervising link is
    /// dropped with the reply, which removes the handler again (its supervisor is gone): nothing
    /// is left installed for long, and its `terminate` is told
    /// [`SupervisorGone`](crate::Terminate::SupervisorGone).
    #[doc(alias = "spawn_link")]
    #[doc(alias = "subscribe")]
    pub fn add_sup_handler<H: Handler<E>>(&self, args: H::Args) -> InstallingSup<'_, E, H> {
        self.add_sup_handler_with(Install::new(), args)
    }

    /// Installs a supervised handler as `install` says.
    ///
    /// # Cancel safety
    /// As for [`add_sup_handler`](EventManager::add_sup_handler).
    pub fn add_sup_handler_with<H: Handler<E>>(
        &self,
        install: impl Into<Install<H>>,
        args: H::Args,
    ) -> InstallingSup<'_, E, H> {
        InstallingSup(self.add(install.into(), args, None, Reply::Linked))
    }

    /// Installs a handler that the manager restarts **in place** after a crash: before it
    /// takes its next message, the manager runs the crashed handler's `terminate`, then its
    /// `init` again with a fresh clone of `args`. Nothing sent to the manager meanwhile can
    /// miss the handler: a request queued right behind the one that crashed is answered by the
    /// new incarnation, and the crashed request's caller gets
    /// [`CallError::Crashed`](crate::CallError::Crashed).
    ///
    /// More than `intensity` restarts within its period remove the handler for good, like any
    /// crashed handler. A failing re-`init` counts as a restart and is tried again.
    /// Removing, deleting or swapping the handler ends the policy.
    ///
    /// The handler keeps its place in the list and its identity. Timers and watches end with
    /// the incarnation that set them; messages sent through an [`InfoSender`](crate::InfoSender)
    /// taken by an earlier incarnation reach the new one, as a request does.
    ///
    /// ```
    /// # use event_core::*;
    /// # use std::time::Duration;
    /// struct Flaky;
    ///
    /// #[handler(event = u32)]
    /// impl Flaky {
    ///     fn init() -> Self {
    ///         Flaky
    ///     }
    ///     fn handle_event(&mut self, n: &u32) {
    ///         assert!(*n != 13, "unlucky");
    ///     }
    /// }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let manager = EventManager::<u32>::start()?;
    /// let intensity = Intensity::new(3, Duration::from_secs(10));
    /// manager.add_handler_in_place(Install::<Flaky>::new(), (), intensity).await?;
    /// manager.sync_notify(13).await?; // crashes, and is restarted before the next message
    /// assert_eq!(manager.which_handlers().await?.len(), 1);
    /// # Ok(()) }
    /// ```
    ///
    /// # Cancel safety
    /// As for [`add_handler`](EventManager::add_handler).
    pub fn add_handler_in_place<H>(
        &self,
        install: impl Into<Install<H>>,
        args: H::Args,
        intensity: Intensity,
    ) -> Installing<'_, E, H>
    where
        H: Handler<E>,
        H::Args: Clone,
    {
        let restart = Some(InPlace::new(intensity, args.clone()));
        Installing(self.add(install.into(), args, restart, Reply::Plain))
    }

    /// Like [`add_handler_in_place`](EventManager::add_handler_in_place), supervised: the
    /// link's [`notice`](SupLink::notice) tells of every restart in place, then of the exit
    /// (a crash past the intensity is [`ExitReason::Crashed`](crate::ExitReason::Crashed)).
    ///
    /// # Cancel safety
    /// As for [`add_sup_handler`](EventManager::add_sup_handler).
    pub fn add_sup_handler_in_place<H>(
        &self,
        install: impl Into<Install<H>>,
        args: H::Args,
        intensity: Intensity,
    ) -> InstallingSup<'_, E, H>
    where
        H: Handler<E>,
        H::Args: Clone,
    {
        let restart = Some(InPlace::new(intensity, args.clone()));
        InstallingSup(self.add(install.into(), args, restart, Reply::Linked))
    }

    /// Every install funnels here; `reply` makes the reply's form, which says what the
    /// install returns besides the handler's reference: nothing, or the supervising link.
    fn add<H: Handler<E>, R>(
        &self,
        install: Install<H>,
        args: H::Args,
        restart: Option<Box<InPlace>>,
        reply: fn(oneshot::Sender<Result<R, AddError>>) -> Reply<AddError>,
    ) -> Adding<'_, E, H, R> {
        let href = install.handler_ref().clone();
        let (tx, rx) = oneshot::channel();
        let start = if restart.as_ref().is_some_and(|r| r.counts_nothing()) {
            Start::Fail(AddError::ZeroPeriod(href.id().clone()))
        } else {
            let new = install.new_handler(self.mailbox.clone(), args, restart);
            Start::Send(Msg::Op(Box::new(Op::Add {
                new,
                reply: reply(tx),
            })))
        };
        Adding {
            mailbox: &self.mailbox,
            start,
            href: Some(href),
            rx,
        }
    }

    /// Removes a handler (OTP's `delete_handler`): its `terminate` is told
    /// [`Terminate::Deleted`](crate::Terminate::Deleted) with `args` (pass `()` for none), and
    /// what it returns is returned here. Its supervisor, if any, is told `Normal`.
    ///
    /// # Cancel safety
    /// Once first polled, the delete is in the mailbox: dropped after that, the handler is
    /// deleted all the same, and what its `terminate` returned is lost.
    #[doc(alias = "unsubscribe")]
    #[doc(alias = "remove")]
    pub async fn delete_handler<H: Handler<E>>(
        &self,
        handler: &HandlerRef<H>,
        args: impl Any + Send,
    ) -> Result<H::Handover, DeleteError> {
        let id = handler.id().clone();
        let args = Args::new(args);
        let reply = self
            .request::<_, DeleteError>(|reply| {
                Msg::Op(Box::new(Op::Delete {
                    id: id.clone(),
                    args,
                    reply,
                }))
            })
            .await;
        typed_handover::<H, E>(reply.map_err(Some), id)
    }

    /// Removes a handler, passing its `terminate` no args: the short form of
    /// [`delete_handler(handler, ())`](EventManager::delete_handler).
    ///
    /// # Cancel safety
    /// As for [`delete_handler`](EventManager::delete_handler).
    #[doc(alias = "unsubscribe")]
    pub async fn delete<H: Handler<E>>(
        &self,
        handler: &HandlerRef<H>,
    ) -> Result<H::Handover, DeleteError> {
        self.delete_handler(handler, ()).await
    }

    /// Replaces a handler by another (OTP's `swap_handler`): the old handler's `terminate`
    /// runs with [`Terminate::Swapped`](crate::Terminate::Swapped) and `args`, `make_args`
    /// turns what it returns into the new handler's init args (`None` if the old handler was
    /// not installed or its terminate crashed), and the new handler is installed at the head of
    /// the list. The new handler inherits the old one's supervisor, whose link yields
    /// [`ExitReason::Swapped`](crate::ExitReason::Swapped) carrying the link to the new one.
    ///
    /// The old handler is gone even if the new `init` fails, as in OTP.
    ///
    /// # Cancel safety
    /// Once first polled, the swap is in the mailbox and happens all the same; only its result
    /// is lost.
    pub async fn swap_handler<Old, New>(
        &self,
        old: &HandlerRef<Old>,
        args: impl Any + Send,
        new: impl Into<Install<New>>,
        make_args: impl FnOnce(Option<Old::Handover>) -> New::Args + Send + 'static,
    ) -> Result<HandlerRef<New>, SwapError>
    where
        Old: Handler<E>,
        New: Handler<E>,
    {
        let (href, ()) = self
            .swap(old, Args::new(args), new.into(), make_args, Reply::Plain)
            .await?;
        Ok(href)
    }

    /// Like [`swap_handler`](EventManager::swap_handler), but the caller supervises the new
    /// handler through the returned link (OTP's `swap_sup_handler`); the old handler's
    /// supervisor is told [`ExitReason::Swapped`](crate::ExitReason::Swapped) without a link.
    ///
    /// # Cancel safety
    /// Once first polled, the swap happens all the same, but the new handler's supervising link
    /// is dropped with the reply, which removes the new handler again.
    pub async fn swap_sup_handler<Old, New>(
        &self,
        old: &HandlerRef<Old>,
        args: impl Any + Send,
        new: impl Into<Install<New>>,
        make_args: impl FnOnce(Option<Old::Handover>) -> New::Args + Send + 'static,
    ) -> Result<SupLink<New>, SwapError>
    where
        Old: Handler<E>,
        New: Handler<E>,
    {
        let (href, link) = self
            .swap(old, Args::new(args), new.into(), make_args, Reply::Linked)
            .await?;
        Ok(SupLink::new(link, href))
    }

    /// Both swaps funnel here; `reply` makes the reply's form, as for an install.
    async fn swap<Old, New, R>(
        &self,
        old: &HandlerRef<Old>,
        args: Args,
        new: Install<New>,
        make_args: impl FnOnce(Option<Old::Handover>) -> New::Args + Send + 'static,
        reply: fn(oneshot::Sender<Result<R, SwapError>>) -> Reply<SwapError>,
    ) -> Result<(HandlerRef<New>, R), SwapError>
    where
        Old: Handler<E>,
        New: Handler<E>,
    {
        if callback::inside(self.mailbox.uid()) {
            return Err(SwapError::WouldDeadlock);
        }
        let href = new.handler_ref().clone();
        let (tx, rx) = oneshot::channel();
        let op = Op::Swap {
            old: old.id().clone(),
            args,
            new: new.successor::<Old, E>(self.mailbox.clone(), make_args),
            reply: reply(tx),
        };
        self.mailbox
            .push(Msg::Op(Box::new(op)))
            .map_err(|_| SwapError::ManagerGone)?;
        let r = rx.await.map_err(|_| SwapError::ManagerGone)??;
        Ok((href, r))
    }

    /// The installed handlers, newest first (the order events run through them).
    ///
    /// # Cancel safety
    /// Cancel safe: it changes nothing.
    pub async fn which_handlers(&self) -> Result<Vec<HandlerId>, ManagerError> {
        self.request::<_, ManagerError>(|reply| Msg::Op(Box::new(Op::Which(reply))))
            .await
    }

    /// Stops the manager: what was sent before is handled first, then every handler's
    /// `terminate` runs with [`Terminate::Stop`](crate::Terminate::Stop), newest first, and
    /// each supervisor is told [`ExitReason::Shutdown`](crate::ExitReason::Shutdown). Returns
    /// when that is done. Anything sent after the stop is refused, unless a supervisor
    /// restarts the manager after it (a permanent child made with [`Builder::supervised`]):
    /// then the handle reaches the next incarnation, and what is sent after the stop waits
    /// for it.
    ///
    /// # Cancel safety
    /// Once first polled, the stop is queued and happens all the same; dropping the future only
    /// gives up waiting for it.
    pub async fn stop(&self) -> Result<(), ManagerError> {
        if callback::inside(self.mailbox.uid()) {
            return Err(ManagerError::WouldDeadlock);
        }
        let (tx, rx) = oneshot::channel();
        self.mailbox
            .push_stop(Msg::Op(Box::new(Op::Stop(tx))))
            .map_err(|_| ManagerError::ManagerGone)?;
        rx.await.map_err(|_| ManagerError::ManagerGone)
    }

    /// Waits until the manager has ended, however it ends. A manager run by a supervisor
    /// ([`Builder::supervised`]) has ended once its supervisor gives it up for good: its
    /// handle outlives restarts.
    ///
    /// Called from inside one of the manager's own callbacks it would wait forever; it
    /// returns at once there instead, as the manager cannot end while its callback runs.
    ///
    /// # Cancel safety
    /// Cancel safe: it only waits.
    pub async fn stopped(&self) {
        if callback::inside(self.mailbox.uid()) {
            return;
        }
        self.mailbox.wait_done().await;
    }

    /// Whether the manager has ended.
    pub fn is_stopped(&self) -> bool {
        self.mailbox.is_done()
    }
}

/// Room for one event in a manager's mailbox, from [`EventManager::reserve`]. Dropping it
/// gives the room back.
#[must_use = "a permit holds room in the mailbox until it sends an event or is dropped"]
pub struct NotifyPermit<'a, E: 'static> {
    manager: &'a EventManager<E>,
    /// `None` for an unbounded mailbox.
    permit: Option<SemaphorePermit<'a>>,
}

impl<E: Send + Sync + 'static> NotifyPermit<'_, E> {
    /// Sends the event into the room held, without waiting.
    ///
    /// # Errors
    /// [`NotifyError::ManagerGone`] with the event if the manager stopped meanwhile.
    pub fn notify(self, event: E) -> Result<(), NotifyError<E>> {
        if let Some(permit) = self.permit {
            // The manager gives the room back when it takes the event.
            permit.forget();
        }
        self.manager.push_event(Msg::Event(Owned::new(event)))
    }

    /// Sends the event into the room held, without waiting, as
    /// [`sync_notify`](EventManager::sync_notify) does: the event is in the mailbox when this
    /// returns, and the future returned ends once every handler has handled it. For a sender
    /// that must know whether an event was handed over when it gives up waiting (a bridge
    /// asked to stop midway): handed over, it is handled whatever becomes of the future.
    ///
    /// ```
    /// # use event_core::EventManager;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let manager = EventManager::<String>::start()?;
    /// let handled = manager.reserve().await?.sync_notify("reading".to_owned())?;
    /// // In the mailbox now; `handled` ends once every handler has handled it.
    /// handled.await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`NotifyError::ManagerGone`] with the event if the manager stopped meanwhile; the
    /// future ends with [`ManagerError::ManagerGone`] if the manager ends before handling it.
    pub fn sync_notify(
        self,
        event: E,
    ) -> Result<
        impl std::future::Future<Output = Result<(), ManagerError>> + Send + 'static,
        NotifyError<E>,
    > {
        if let Some(permit) = self.permit {
            permit.forget();
        }
        let (tx, rx) = oneshot::channel();
        self.manager
            .mailbox
            .push(Msg::SyncEvent(Owned::new(event), tx))
            .map_err(|msg| match msg {
                Msg::SyncEvent(e, _) => NotifyError::ManagerGone(e.into_inner()),
                _ => unreachable!("push gives back the message it was given"),
            })?;
        Ok(async move { rx.await.map_err(|_| ManagerError::ManagerGone) })
    }
}

impl<E: 'static> fmt::Debug for NotifyPermit<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NotifyPermit").finish_non_exhaustive()
    }
}

/// The typed result of a delete, from the manager's untyped reply.
pub(super) fn typed_handover<H: Handler<E>, E: 'static>(
    reply: Result<Result<Box<dyn Any + Send>, DeleteError>, Option<DeleteError>>,
    id: HandlerId,
) -> Result<H::Handover, DeleteError> {
    match reply {
        Err(Some(e)) | Ok(Err(e)) => Err(e),
        Err(None) => Err(DeleteError::ManagerGone),
        // The identity names the type, so the hand-over is an `H::Handover`.
        Ok(Ok(handover)) => handover
            .downcast::<H::Handover>()
            .map(|h| *h)
            .map_err(|_| DeleteError::NotInstalled(id)),
    }
}

impl<E: 'static> Clone for EventManager<E> {
    fn clone(&self) -> Self {
        self.mailbox.handle_acquired();
        EventManager {
            mailbox: self.mailbox.clone(),
        }
    }
}

impl<E: 'static> Drop for EventManager<E> {
    fn drop(&mut self) {
        self.mailbox.handle_released();
    }
}

impl<E: 'static> fmt::Debug for EventManager<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventManager")
            .field("name", &self.mailbox.name())
            .finish_non_exhaustive()
    }
}

/// The reply to a request sent with [`send_request`](EventManager::send_request): a future of
/// the handler's reply, or why there is none.
///
/// # Cancel safety
/// Awaited through a reference (`&mut pending`), it is cancel safe: dropped before it
/// completes, the reply is still to come. Dropping the `PendingReply` itself drops the reply;
/// the handler still runs the request.
#[must_use = "the reply arrives through this future; dropping it drops the reply"]
pub struct PendingReply<T> {
    rx: oneshot::Receiver<Result<T, CallError>>,
}

impl<T> PendingReply<T> {
    pub(super) fn new(rx: oneshot::Receiver<Result<T, CallError>>) -> Self {
        PendingReply { rx }
    }
}

impl<T> std::future::Future for PendingReply<T> {
    type Output = Result<T, CallError>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.rx)
            .poll(cx)
            .map(|reply| reply.unwrap_or(Err(CallError::ManagerGone)))
    }
}

impl<T> fmt::Debug for PendingReply<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PendingReply")
    }
}

/// The reply to come of [`EventManager::call`]: the request is sent when this is first polled.
#[must_use = "a call sends nothing until it is awaited"]
pub struct Calling<'a, E: 'static, T> {
    mailbox: &'a Mailbox<E>,
    msg: Option<CallMessage<E>>,
    reply: PendingReply<T>,
}

// Nothing in a `Calling` is ever pinned: the request waits by value, the reply's receiver is
// `Unpin`.
impl<E: 'static, T> Unpin for Calling<'_, E, T> {}

impl<E: Send + Sync + 'static, T> Future for Calling<'_, E, T> {
    type Output = Result<T, CallError>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Some(msg) = this.msg.take() {
            if callback::inside(this.mailbox.uid()) {
                return Poll::Ready(Err(CallError::WouldDeadlock));
            }
            if this.mailbox.push(Msg::Call(msg.0)).is_err() {
                return Poll::Ready(Err(CallError::ManagerGone));
            }
        }
        Pin::new(&mut this.reply).poll(cx)
    }
}

impl<E: 'static, T> fmt::Debug for Calling<'_, E, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Calling")
    }
}

/// An install on its way, whatever its reply's form `R`; sent when first polled.
struct Adding<'a, E: 'static, H, R> {
    mailbox: &'a Mailbox<E>,
    start: Start<E>,
    href: Option<HandlerRef<H>>,
    rx: oneshot::Receiver<Result<R, AddError>>,
}

/// What the first poll of an install does.
enum Start<E: 'static> {
    Send(Msg<E>),
    Fail(AddError),
    Sent,
}

impl<E: Send + Sync + 'static, H, R> Adding<'_, E, H, R> {
    fn poll_add(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(HandlerRef<H>, R), AddError>> {
        match std::mem::replace(&mut self.start, Start::Sent) {
            Start::Sent => {}
            _ if callback::inside(self.mailbox.uid()) => {
                return Poll::Ready(Err(AddError::WouldDeadlock));
            }
            Start::Fail(error) => return Poll::Ready(Err(error)),
            Start::Send(msg) => {
                if self.mailbox.push(msg).is_err() {
                    return Poll::Ready(Err(AddError::ManagerGone));
                }
            }
        }
        let r = match Pin::new(&mut self.rx).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Ok(r)) => r,
            Poll::Ready(Err(_)) => Err(AddError::ManagerGone),
        };
        let href = self.href.take().expect("install polled after it completed");
        Poll::Ready(r.map(|r| (href, r)))
    }
}

/// The install of a handler ([`EventManager::add_handler`] and its kin): resolves to the
/// handler's reference. The install is sent when this is first polled.
#[must_use = "an install sends nothing until it is awaited"]
pub struct Installing<'a, E: 'static, H>(Adding<'a, E, H, ()>);

/// The install of a supervised handler ([`EventManager::add_sup_handler`] and its kin):
/// resolves to its supervising link. The install is sent when this is first polled.
#[must_use = "an install sends nothing until it is awaited"]
pub struct InstallingSup<'a, E: 'static, H>(Adding<'a, E, H, Link>);

// Nothing in an install is ever pinned: the handler waits by value, the receiver is `Unpin`.
impl<E: 'static, H> Unpin for Installing<'_, E, H> {}
impl<E: 'static, H> Unpin for InstallingSup<'_, E, H> {}

impl<E: Send + Sync + 'static, H> Future for Installing<'_, E, H> {
    type Output = Result<HandlerRef<H>, AddError>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        self.get_mut()
            .0
            .poll_add(cx)
            .map(|r| r.map(|(href, ())| href))
    }
}

impl<E: Send + Sync + 'static, H> Future for InstallingSup<'_, E, H> {
    type Output = Result<SupLink<H>, AddError>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        self.get_mut()
            .0
            .poll_add(cx)
            .map(|r| r.map(|(href, link)| SupLink::new(link, href)))
    }
}

impl<E: 'static, H> fmt::Debug for Installing<'_, E, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Installing")
    }
}

impl<E: 'static, H> fmt::Debug for InstallingSup<'_, E, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InstallingSup")
    }
}
