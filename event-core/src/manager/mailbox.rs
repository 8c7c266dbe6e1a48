//! A manager's mailbox: one FIFO queue shared by every sender, drained by the manager in
//! batches. It outlives the manager's task, so a handle keeps reaching whatever task runs it.
//!
//! Only events count against the optional bound: requests (calls, installs, ...) are
//! bounded by their callers waiting for replies, and the notices the runtime sends itself (a
//! dropped link, a fired timer) must never be refused.
//!
//! What a supervised manager's mailbox does differently (it outlives each incarnation, is
//! reopened, parked, retired, and stays open through a `stop` its supervisor answers with a
//! restart) is in `supervised`, which also defines `is_supervised` and `stop_closes`.

use std::any::Any;
use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::task::{Poll, Waker};

use tokio::sync::{Notify, Semaphore};

use super::context::InfoSink;
use super::event_loop::id_hash;
use super::link::LinkOwner;
use super::message::Msg;
use crate::callback::{next_uid, Owned};
use crate::handler::HandlerId;

pub(super) struct State<E: 'static> {
    pub(super) queue: VecDeque<Msg<E>>,
    pub(super) waker: Option<Waker>,
    /// The manager has ended, or a stop is queued: nothing more is accepted.
    pub(super) closed: bool,
    /// Every `EventManager` handle is gone: the manager ends once the queue is drained.
    orphaned: bool,
}

pub(super) struct Mailbox<E: 'static> {
    state: Mutex<State<E>>,
    bound: Option<Semaphore>,
    handles: AtomicUsize,
    uid: u64,
    name: Box<str>,
    done: AtomicBool,
    ended: Notify,
    /// Whether a supervisor runs the manager, and whether it restarts it after a `stop`: set
    /// and read only through `supervised`.
    pub(super) supervised: AtomicU8,
    /// A handler's context recorded a request (see [`Mailbox::take_asked`]).
    asked: AtomicBool,
}

impl<E: 'static> Mailbox<E> {
    pub(super) fn new(name: Option<String>, bound: Option<usize>) -> Self {
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
            supervised: AtomicU8::new(0),
            asked: AtomicBool::new(false),
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, State<E>> {
        // Nothing that can panic runs under this lock but an allocation; a poisoned lock
        // still holds a consistent queue.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn uid(&self) -> u64 {
        self.uid
    }

    pub(super) fn name(&self) -> &str {
        &self.name
    }

    pub(super) fn bound(&self) -> Option<&Semaphore> {
        self.bound.as_ref()
    }

    /// Appends a message; gives it back if the manager has ended.
    pub(super) fn push(&self, msg: Msg<E>) -> Result<(), Msg<E>> {
        self.append(msg, false)
    }

    /// Queues a stop. What was queued before it is handled before the handlers terminate.
    /// Unless a supervisor restarts the manager after the stop, every message after it is
    /// refused, so that nothing is accepted that would not be handled; if one does, the
    /// mailbox stays open and what comes after waits for the next incarnation.
    pub(super) fn push_stop(&self, msg: Msg<E>) -> Result<(), Msg<E>> {
        self.append(msg, self.stop_closes())
    }

    #[inline(always)]
    fn append(&self, msg: Msg<E>, closes: bool) -> Result<(), Msg<E>> {
        let waker = {
            let mut st = self.lock();
            if st.closed {
                return Err(msg);
            }
            st.queue.push_back(msg);
            st.closed |= closes;
            st.waker.take()
        };
        // A supervised manager's bound stays open for its next incarnation.
        if closes && !self.is_supervised() {
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
    pub(super) async fn recv_batch(&self, batch: &mut VecDeque<Msg<E>>) -> bool {
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
    pub(super) fn close(&self) -> VecDeque<Msg<E>> {
        if let Some(b) = &self.bound {
            b.close();
        }
        let mut st = self.lock();
        st.closed = true;
        st.waker = None;
        std::mem::take(&mut st.queue)
    }

    /// Notes that a handler's context recorded a request (an operation or an action on itself).
    pub(super) fn mark_asked(&self) {
        self.asked.store(true, Ordering::Relaxed);
    }

    /// Whether a context recorded a request since the last call, so that the manager looks for
    /// requests only after the callbacks that made one, not after every callback. A hint: a
    /// dedicated handler's requests set it too (its own task takes them), which costs the
    /// manager one needless look. A callback's own mark, made before it returned, is always
    /// seen.
    pub(super) fn take_asked(&self) -> bool {
        self.asked.load(Ordering::Relaxed) && {
            self.asked.store(false, Ordering::Relaxed);
            true
        }
    }

    /// Gives back the room of `n` handled events.
    pub(super) fn release(&self, n: usize) {
        if let Some(b) = &self.bound {
            b.add_permits(n);
        }
    }

    pub(super) fn handle_acquired(&self) {
        self.handles.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn handle_released(&self) {
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

    pub(super) fn mark_done(&self) {
        self.done.store(true, Ordering::Release);
        self.ended.notify_waiters();
    }

    pub(super) fn is_done(&self) -> bool {
        self.done.load(Ordering::Acquire)
    }

    pub(super) async fn wait_done(&self) {
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
            payload: Owned::new(payload),
        })
        .map_err(|msg| match msg {
            Msg::Info { payload, .. } => payload.into_inner(),
            _ => unreachable!("push gives back the message it was given"),
        })
    }
}

impl<E: Send + 'static> LinkOwner for Mailbox<E> {
    fn link_dropped(&self, link: u64, handler: &HandlerId) {
        let handler = id_hash(handler);
        let _ = self.push(Msg::LinkDropped { link, handler });
    }
}
