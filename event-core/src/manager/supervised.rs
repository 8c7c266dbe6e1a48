//! The supervised mode of a manager: the one seam between a manager and the supervision side.
//!
//! A manager run by a supervisor lives through several incarnations (tasks) with one mailbox
//! and one set of handles, so a handle reaches every incarnation. Everything that differs from a
//! manager started on its own is here:
//!
//! - the flag that marks the mailbox supervised, set when the manager is made, and how long its
//!   supervisor keeps it going ([`Lifespan`]: restarted after a `stop` or not, or this
//!   incarnation the last), set by each incarnation;
//! - what a `stop` does to the mailbox: a standalone manager's closes to senders at once; so
//!   does a supervised manager's that its supervisor leaves ended after a stop; one that its
//!   supervisor restarts after a stop stays open, and what is sent between the stop and the
//!   next incarnation waits for it, as across any restart;
//! - what becomes of the mailbox when a task ends ([`Taken`]): a standalone manager's closes
//!   for good; a supervised manager's stays open, and the messages its task took out but did
//!   not handle go back to its head, for the next incarnation;
//! - the standing handlers every incarnation installs before its first message;
//! - what the supervisor does to it: start an incarnation (which reopens a mailbox a `stop`
//!   closed), halt one (after what was queued before the halt), park the mailbox (not running,
//!   not being restarted: senders are refused), and retire it (for good). A last incarnation
//!   (a temporary child's, whose supervisor keeps nothing of it to retire it with) retires the
//!   mailbox itself when it ends, however it ends.
//!
//! The supervision side names only [`SupervisedManager`], [`Standing`], [`Lifespan`] and
//! [`Ended`]; this side never names the supervision side.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::oneshot;
use tracing::Instrument;

use super::builder::Builder;
use super::crash::InPlace;
use super::event_loop::{Ended, EventLoop};
use super::handle::EventManager;
use super::install::{Install, NewHandler};
use super::mailbox::Mailbox;
use super::message::{Msg, Op};
use crate::error::{AddError, StartError};
use crate::handler::Handler;
use crate::intensity::Intensity;
use crate::observe::span;

/// How long a supervisor keeps its manager going, as far as the mailbox is concerned: whether
/// the manager's own `stop` closes it to senders, and whether an incarnation is the last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lifespan {
    /// Restarted whenever it ends, its own stop included (a permanent child): the stop leaves
    /// the mailbox open, and what is sent until the next incarnation waits for it.
    Restarted,
    /// Not restarted after its stop (a transient child): the stop closes the mailbox, as a
    /// standalone manager's; a later incarnation (a restart after a failure) reopens it.
    UntilStopped,
    /// This incarnation is the last (a temporary child): its stop closes the mailbox, and its
    /// end, however it comes, retires the mailbox.
    Once,
}

/// `Mailbox::supervised`: not supervised, supervised and closed by a stop, or supervised and
/// kept open through a stop.
const STANDALONE: u8 = 0;
const STOP_CLOSES: u8 = 1;
const STOP_KEEPS_OPEN: u8 = 2;

impl<E: 'static> Mailbox<E> {
    /// Whether a supervisor runs this manager: its mailbox outlives each task.
    pub(super) fn is_supervised(&self) -> bool {
        self.supervised.load(Ordering::Relaxed) != STANDALONE
    }

    /// Whether a `stop` closes the mailbox to senders: not if a supervisor restarts the
    /// manager after it.
    pub(super) fn stop_closes(&self) -> bool {
        self.supervised.load(Ordering::Relaxed) != STOP_KEEPS_OPEN
    }

    /// Opens the mailbox for a new incarnation, after a `stop` closed it.
    fn reopen(&self) {
        self.lock().closed = false;
    }

    /// Gives back messages taken out but not handled, at the head of the queue, in order:
    /// the next incarnation takes them first.
    fn unshift(&self, mut rest: VecDeque<Msg<E>>) {
        if rest.is_empty() {
            return;
        }
        let mut st = self.lock();
        rest.append(&mut st.queue);
        st.queue = rest;
    }

    /// Closes a manager that is not running and not being restarted: senders are refused and
    /// what is queued is dropped (a call's caller learns the manager is gone), until a start
    /// reopens it. Dropped events give their room back.
    fn park(&self) {
        let dropped = {
            let mut st = self.lock();
            st.closed = true;
            st.waker = None;
            std::mem::take(&mut st.queue)
        };
        let events = dropped
            .iter()
            .filter(|m| matches!(m, Msg::Event(_) | Msg::SyncEvent(..)))
            .count();
        drop(dropped);
        self.release(events);
    }

    /// Ends the manager for good: senders are refused, waiters woken.
    fn retire(&self) {
        drop(self.close());
        self.mark_done();
    }
}

/// The messages a manager's task has taken out of its mailbox and not handled yet. However the
/// task ends (a stop, its last handle dropped, a halt, or the task dropped with its runtime or
/// by its supervisor), this decides what becomes of them and of the mailbox.
pub(super) struct Taken<E: 'static> {
    queue: VecDeque<Msg<E>>,
    mailbox: Arc<Mailbox<E>>,
}

impl<E: 'static> Taken<E> {
    pub(super) fn new(mailbox: Arc<Mailbox<E>>) -> Self {
        Taken {
            queue: VecDeque::new(),
            mailbox,
        }
    }

    pub(super) fn queue(&mut self) -> &mut VecDeque<Msg<E>> {
        &mut self.queue
    }
}

impl<E: 'static> Drop for Taken<E> {
    fn drop(&mut self) {
        let rest = std::mem::take(&mut self.queue);
        // A retired mailbox takes nothing back: a last incarnation may be retired before its
        // taken messages are dropped.
        if self.mailbox.is_supervised() && !self.mailbox.is_done() {
            // Nothing sent to a supervised manager is lost to a restart; its supervisor parks
            // or retires the mailbox when it gives up on it.
            self.mailbox.unshift(rest);
        } else {
            // The callers of what was not handled learn that the manager is gone; so do
            // senders and waiters from now on.
            drop(rest);
            drop(self.mailbox.close());
            self.mailbox.mark_done();
        }
    }
}

type MakeNew<E> = Box<dyn Fn(&Arc<Mailbox<E>>) -> NewHandler<E> + Send + Sync>;

/// The handlers every incarnation of a supervised manager installs, inline and unsupervised,
/// before its first message, each with a fresh clone of its args.
pub(crate) struct Standing<E: 'static>(Vec<MakeNew<E>>);

impl<E: Send + Sync + 'static> Standing<E> {
    pub(crate) fn new() -> Self {
        Standing(Vec::new())
    }

    /// Adds a handler, restarted in place after a crash if `intensity` is given.
    pub(crate) fn push<H>(
        &mut self,
        install: Install<H>,
        args: H::Args,
        intensity: Option<Intensity>,
    ) where
        H: Handler<E>,
        H::Args: Clone + Sync,
    {
        self.0.push(Box::new(move |mailbox| {
            let restart = intensity.map(|i| InPlace::new(i, args.clone()));
            install
                .clone()
                .new_handler(mailbox.clone(), args.clone(), restart)
        }));
    }
}

impl<E: 'static> Standing<E> {
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
}

/// A manager run by a supervisor: what the supervisor holds of it.
pub(crate) struct SupervisedManager<E: 'static> {
    /// Keeps the manager from ending when its users drop their handles.
    keep_alive: EventManager<E>,
    mailbox: Arc<Mailbox<E>>,
    debug_event: Option<fn(&E) -> String>,
    standing: Standing<E>,
    /// Whether its last incarnation was made: that incarnation retires the mailbox when it
    /// ends, and this need not.
    last_made: AtomicBool,
}

impl<E: Send + Sync + 'static> SupervisedManager<E> {
    /// Makes the manager configured by `builder`, not running yet, and its handle, which
    /// reaches every incarnation.
    pub(crate) fn new(
        builder: Builder<E>,
        standing: Standing<E>,
    ) -> Result<(EventManager<E>, Self), StartError> {
        let (mailbox, debug_event) = builder.into_parts()?;
        mailbox.supervised.store(STOP_CLOSES, Ordering::Relaxed);
        let handle = EventManager::from_mailbox(mailbox.clone());
        let manager = SupervisedManager {
            keep_alive: handle.clone(),
            mailbox,
            debug_event,
            standing,
            last_made: AtomicBool::new(false),
        };
        Ok((handle, manager))
    }

    /// A new incarnation: the mailbox reopens, and the returned task installs the standing
    /// handlers, tells `ready` whether they all started, and runs until it ends. `lifespan`
    /// says what the supervisor does when it ends.
    pub(crate) fn incarnation(
        &self,
        lifespan: Lifespan,
        ready: impl FnOnce(Result<(), AddError>) + Send + 'static,
    ) -> impl Future<Output = Ended> + Send + 'static {
        let mailbox = self.mailbox.clone();
        let mode = match lifespan {
            Lifespan::Restarted => STOP_KEEPS_OPEN,
            Lifespan::UntilStopped | Lifespan::Once => STOP_CLOSES,
        };
        mailbox.supervised.store(mode, Ordering::Relaxed);
        mailbox.reopen();
        // Held by the incarnation, from its start: it keeps the manager from ending when its
        // users drop their handles, as the supervisor does otherwise.
        if lifespan == Lifespan::Once {
            self.last_made.store(true, Ordering::Relaxed);
        }
        let last = (lifespan == Lifespan::Once).then(|| Last {
            mailbox: self.mailbox.clone(),
            _keep_alive: self.keep_alive.clone(),
        });
        let standing: Vec<NewHandler<E>> = self.standing.0.iter().map(|m| m(&mailbox)).collect();
        let span = span::manager(mailbox.name());
        let mut event_loop = EventLoop::new(mailbox, self.debug_event);
        let run = async move {
            let _last = last;
            if let Err(e) = event_loop.install_standing(standing).await {
                ready(Err(e));
                return Ended::NotStarted;
            }
            ready(Ok(()));
            event_loop.run().await
        };
        run.instrument(span)
    }

    /// A handle to the manager, for a look inside it.
    pub(crate) fn handle(&self) -> EventManager<E> {
        self.keep_alive.clone()
    }

    /// What halts the running incarnation, for the supervisor's stop of it.
    pub(crate) fn halter(&self) -> Halter<E> {
        Halter(self.mailbox.clone())
    }

    /// Not running and not being restarted: senders are refused until the next incarnation.
    pub(crate) fn park(&self) {
        self.mailbox.park();
    }

    /// Given up for good: senders are refused, waiters woken.
    pub(crate) fn retire(&self) {
        self.mailbox.retire();
    }
}

/// Nothing can start the manager any more once the supervisor's side drops what it holds of it
/// (its child specification dropped unused, a tree that failed to start before reaching it,
/// a record deleted): the mailbox is retired, so its handles' senders are refused and their
/// waits end rather than hang. A last incarnation already made retires it as it ends instead.
impl<E: 'static> Drop for SupervisedManager<E> {
    fn drop(&mut self) {
        if !self.last_made.load(Ordering::Relaxed) {
            self.mailbox.retire();
        }
    }
}

/// Retires the mailbox when a manager's last incarnation ends, however it ends; meanwhile, a
/// handle that keeps the manager going.
struct Last<E: 'static> {
    mailbox: Arc<Mailbox<E>>,
    _keep_alive: EventManager<E>,
}

impl<E: 'static> Drop for Last<E> {
    fn drop(&mut self) {
        self.mailbox.retire();
    }
}

/// Halts a supervised manager's running incarnation.
pub(crate) struct Halter<E: 'static>(Arc<Mailbox<E>>);

impl<E: 'static> Halter<E> {
    /// Ends the running incarnation once it has handled what was queued before; the rest stays
    /// in the mailbox for the next one. `restarting` tells the handlers' supervising sides that
    /// the manager is being restarted rather than shut down.
    pub(crate) fn halt(self, restarting: bool) {
        let (reply, _rx) = oneshot::channel();
        let _ = self
            .0
            .push(Msg::Op(Box::new(Op::Halt { restarting, reply })));
    }
}
