//! A manager's mailbox: one FIFO queue shared by every sender, drained by the manager in
//! batches. It outlives the manager's task, so a handle keeps reaching whatever task runs it.
//!
//! Only events count against the optional bound: requests (calls, installs, ...) are
//! bounded by their callers waiting for replies, and the notices the runtime sends itself (a
//! dropped link, a fired timer) must never be refused.

use std::any::Any;
use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::task::{Poll, Waker};

use tokio::sync::{oneshot, Notify, Semaphore};

use crate::call::ErasedCall;
use crate::context::InfoSink;
use crate::dedicated::Report;
use crate::error::{AddError, DeleteError, SwapError};
use crate::exit::Args;
use crate::handler::HandlerId;
use crate::install::Installer;
use crate::link::{Link, LinkOwner};

/// One message in a manager's mailbox.
pub(crate) enum Msg<E: 'static> {
    Event(E),
    SyncEvent(E, oneshot::Sender<()>),
    Call(Box<dyn ErasedCall<E>>),
    Op(Box<Op<E>>),
    /// Operations a dedicated handler asked for from a callback.
    Deferred(Vec<Op<E>>),
    Info {
        uid: u64,
        timer: Option<u64>,
        payload: Box<dyn Any + Send>,
    },
    Down {
        uid: u64,
        watch: u64,
    },
    LinkDropped(u64),
    Dedicated {
        uid: u64,
        report: Box<Report<E>>,
    },
}

/// An administrative request.
pub(crate) enum Op<E: 'static> {
    Add {
        install: Installer<E>,
        supervised: bool,
        reply: oneshot::Sender<Result<Option<Link>, AddError>>,
    },
    Delete {
        id: HandlerId,
        args: Args,
        reply: oneshot::Sender<Result<Box<dyn Any + Send>, DeleteError>>,
    },
    Swap {
        old: HandlerId,
        args: Args,
        new: Installer<E>,
        supervised: bool,
        reply: oneshot::Sender<Result<Option<Link>, SwapError>>,
    },
    Which(oneshot::Sender<Vec<HandlerId>>),
    Stop(oneshot::Sender<()>),
    /// A supervisor ends this incarnation: what was queued before is handled, the rest stays
    /// in the mailbox for the next one.
    Halt {
        restarting: bool,
        reply: oneshot::Sender<()>,
    },
}

struct State<E: 'static> {
    queue: VecDeque<Msg<E>>,
    waker: Option<Waker>,
    /// The manager has ended, or a stop is queued: nothing more is accepted.
    closed: bool,
    /// Every `EventManager` handle is gone: the manager ends once the queue is drained.
    orphaned: bool,
}

pub(crate) struct Mailbox<E: 'static> {
    state: Mutex<State<E>>,
    bound: Option<Semaphore>,
    handles: AtomicUsize,
    uid: u64,
    name: Box<str>,
    done: AtomicBool,
    ended: Notify,
    /// Run by a supervisor: a `stop` ends the task, not the mailbox, which a restart reopens.
    supervised: AtomicBool,
    /// A handler's context recorded a request (see [`Mailbox::take_asked`]).
    asked: AtomicBool,
}

static NEXT_MANAGER: AtomicU64 = AtomicU64::new(1);

/// A process-wide unique id, shared by managers and supervisors so the deadlock check of one
/// can never match the other.
pub(crate) fn next_uid() -> u64 {
    NEXT_MANAGER.fetch_add(1, Ordering::Relaxed)
}

impl<E: 'static> Mailbox<E> {
    pub(crate) fn new(name: Option<String>, bound: Option<usize>) -> Self {
        let uid = next_uid();
        Mailbox {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                waker: None,
                closed: false,
                orphaned: false,
            }),
            bound: bound.map(Semaphore::new),
            handles: AtomicUsize::new(0),
            uid,
            name: name
                .unwrap_or_else(|| format!("manager#{uid}"))
                .into_boxed_str(),
            done: AtomicBool::new(false),
            ended: Notify::new(),
            supervised: AtomicBool::new(false),
            asked: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<E>> {
        // Nothing that can panic runs under this lock but an allocation; a poisoned lock
        // still holds a consistent queue.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn uid(&self) -> u64 {
        self.uid
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn bound(&self) -> Option<&Semaphore> {
        self.bound.as_ref()
    }

    /// Appends a message; gives it back if the manager has ended.
    pub(crate) fn push(&self, msg: Msg<E>) -> Result<(), Msg<E>> {
        let waker = {
            let mut st = self.lock();
            if st.closed {
                return Err(msg);
            }
            st.queue.push_back(msg);
            st.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// Queues a stop and refuses every message after it, so that nothing is accepted that
    /// would not be handled: what was queued before the stop is handled before the handlers
    /// terminate.
    pub(crate) fn push_stop(&self, msg: Msg<E>) -> Result<(), Msg<E>> {
        let waker = {
            let mut st = self.lock();
            if st.closed {
                return Err(msg);
            }
            st.queue.push_back(msg);
            st.closed = true;
            st.waker.take()
        };
        if !self.is_supervised() {
            if let Some(b) = &self.bound {
                b.close();
            }
        }
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// Waits for messages and moves all of them into `batch`. Returns false when the manager
    /// should end: every handle is gone and nothing is left to handle.
    pub(crate) async fn recv_batch(&self, batch: &mut VecDeque<Msg<E>>) -> bool {
        poll_fn(|cx| {
            let mut st = self.lock();
            if !st.queue.is_empty() {
                std::mem::swap(&mut st.queue, batch);
                return Poll::Ready(true);
            }
            if st.orphaned || st.closed {
                // Nothing more can arrive (a queued stop was taken in an earlier batch).
                return Poll::Ready(false);
            }
            match &st.waker {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => st.waker = Some(cx.waker().clone()),
            }
            Poll::Pending
        })
        .await
    }

    /// Refuses every later message and returns the ones not handled, so their callers learn
    /// that the manager is gone when they are dropped.
    pub(crate) fn close(&self) -> VecDeque<Msg<E>> {
        if let Some(b) = &self.bound {
            b.close();
        }
        let mut st = self.lock();
        st.closed = true;
        st.waker = None;
        std::mem::take(&mut st.queue)
    }

    /// Notes that a handler's context recorded a request (an operation or an action on itself).
    pub(crate) fn mark_asked(&self) {
        self.asked.store(true, Ordering::Relaxed);
    }

    /// Whether a context recorded a request since the last call, so that the manager looks for
    /// requests only after the callbacks that made one, not after every callback. A hint: a
    /// dedicated handler's requests set it too (its own task takes them), which costs the
    /// manager one needless look. A callback's own mark, made before it returned, is always
    /// seen.
    pub(crate) fn take_asked(&self) -> bool {
        self.asked.load(Ordering::Relaxed) && {
            self.asked.store(false, Ordering::Relaxed);
            true
        }
    }

    pub(crate) fn set_supervised(&self) {
        self.supervised.store(true, Ordering::Relaxed);
    }

    pub(crate) fn is_supervised(&self) -> bool {
        self.supervised.load(Ordering::Relaxed)
    }

    /// Opens a supervised mailbox for a new incarnation, after a `stop` closed it.
    pub(crate) fn reopen(&self) {
        let mut st = self.lock();
        st.closed = false;
    }

    /// Gives back messages taken out but not handled, at the head of the queue, in order:
    /// the next incarnation takes them first.
    pub(crate) fn unshift(&self, mut rest: VecDeque<Msg<E>>) {
        if rest.is_empty() {
            return;
        }
        let mut st = self.lock();
        rest.append(&mut st.queue);
        st.queue = rest;
    }

    /// Closes a supervised manager that is not running and not being restarted: senders are
    /// refused and what is queued is dropped (a call's caller learns the manager is gone),
    /// until a start reopens it. Dropped events give their room back.
    pub(crate) fn park(&self) {
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

    /// Ends a supervised manager for good: senders are refused, waiters woken.
    pub(crate) fn retire(&self) {
        drop(self.close());
        self.mark_done();
    }

    /// Gives back the room of `n` handled events.
    pub(crate) fn release(&self, n: usize) {
        if let Some(b) = &self.bound {
            b.add_permits(n);
        }
    }

    pub(crate) fn handle_acquired(&self) {
        self.handles.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn handle_released(&self) {
        if self.handles.fetch_sub(1, Ordering::AcqRel) == 1 {
            let waker = {
                let mut st = self.lock();
                st.orphaned = true;
                st.waker.take()
            };
            if let Some(w) = waker {
                w.wake();
            }
        }
    }

    pub(crate) fn mark_done(&self) {
        self.done.store(true, Ordering::Release);
        self.ended.notify_waiters();
    }

    pub(crate) fn is_done(&self) -> bool {
        self.done.load(Ordering::Acquire)
    }

    pub(crate) async fn wait_done(&self) {
        let ended = self.ended.notified();
        tokio::pin!(ended);
        // Registered before the flag is read, so a `mark_done` in between is not missed.
        ended.as_mut().enable();
        if self.is_done() {
            return;
        }
        ended.await;
    }
}

impl<E: Send + 'static> InfoSink for Mailbox<E> {
    fn send_info(&self, uid: u64, payload: Box<dyn Any + Send>) -> Result<(), Box<dyn Any + Send>> {
        self.push(Msg::Info {
            uid,
            timer: None,
            payload,
        })
        .map_err(|msg| match msg {
            Msg::Info { payload, .. } => payload,
            _ => unreachable!("push gives back the message it was given"),
        })
    }
}

impl<E: Send + 'static> LinkOwner for Mailbox<E> {
    fn link_dropped(&self, link: u64) {
        let _ = self.push(Msg::LinkDropped(link));
    }
}
