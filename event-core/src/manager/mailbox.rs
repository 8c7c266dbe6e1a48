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
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use tokio::sync::{Notify, Semaphore};
use tokio::time::{Instant, Sleep};

use super::context::InfoSink;
use super::event_loop::id_hash;
use super::link::LinkOwner;
use super::message::Msg;
use super::registry::NIL;
use super::timers::{Payload, Timers};
use super::watch::{Gone, Polling, Ready, Watches};
use crate::callback::{self, next_uid};
use crate::handler::HandlerId;

pub(super) struct State<E: 'static> {
    pub(super) queue: VecDeque<Msg<E>>,
    pub(super) waker: Option<Waker>,
    /// The manager has ended, or a stop is queued: nothing more is accepted.
    pub(super) closed: bool,
    /// Every `EventManager` handle is gone: the manager ends once the queue is drained.
    orphaned: bool,
    /// The handlers' timers and watches, once one is set.
    timers: Option<Box<Timers>>,
    watches: Option<Box<Watches>>,
}

/// How many timers the manager fires into one batch: a burst is handled a part at a time, with
/// what arrives in between.
const FIRE_AT_ONCE: usize = 4096;

/// How many woken watches the manager polls between two looks at the watch set.
const WATCHES_AT_ONCE: usize = 256;

/// What the manager's loop keeps to wait for its handlers' timers and watches.
#[derive(Default)]
pub(super) struct Waits {
    /// One sleep for the earliest timer, made when the first one is set.
    sleep: Option<Pin<Box<Sleep>>>,
    /// The deadline `sleep` is set for.
    sleep_at: Option<(u64, Instant)>,
    /// The last timers fired were a part of those due.
    more_due: bool,
    /// The watches' ready list, once there are watches.
    ready: Option<Arc<Ready>>,
    polling: Vec<Polling>,
}

/// A handler's lists of timers and watches (the heads of its lists in its manager's registry).
pub(super) struct Owned {
    pub(super) timers: u32,
    pub(super) watches: u32,
}

impl Default for Owned {
    fn default() -> Self {
        Owned {
            timers: NIL,
            watches: NIL,
        }
    }
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
                timers: None,
                watches: None,
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

    /// Waits for messages and moves all of them into `batch`, with the notices of the timers
    /// due and the watched subscribers gone. Returns false when the manager should end: every
    /// handle is gone and nothing is left to handle.
    pub(super) async fn recv_batch(
        &self,
        batch: &mut VecDeque<Msg<E>>,
        waits: &mut Option<Box<Waits>>,
    ) -> bool {
        poll_fn(|cx| {
            if let Some(w) = waits.as_deref_mut() {
                if let Some(ready) = w.ready.clone() {
                    self.poll_watches(cx, &ready, batch, w);
                }
            }
            let mut st = self.lock();
            if !st.queue.is_empty() {
                if batch.is_empty() {
                    std::mem::swap(&mut st.queue, batch);
                } else {
                    batch.append(&mut st.queue);
                }
            }
            if st.timers.is_some() || st.watches.is_some() {
                let w = waits.get_or_insert_with(Box::default);
                if let (None, Some(watches)) = (&w.ready, &st.watches) {
                    // The first watch: polled from now on, starting at once.
                    w.ready = Some(watches.ready.clone());
                    drop(st);
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                if let Some(timers) = st.timers.as_mut() {
                    Self::poll_timers(cx, timers, batch, w);
                }
            }
            let sleep_at = waits.as_ref().and_then(|w| w.sleep_at);
            if !batch.is_empty() {
                if let Some(t) = st.timers.as_mut() {
                    t.waiting = None;
                }
                return Poll::Ready(true);
            }
            if st.orphaned || st.closed {
                // Nothing more can arrive (a queued stop was taken in an earlier batch).
                return Poll::Ready(false);
            }
            if let Some(t) = st.timers.as_mut() {
                t.waiting = Some(sleep_at.map_or(u64::MAX, |(due, _)| due));
            }
            match &st.waker {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => st.waker = Some(cx.waker().clone()),
            }
            Poll::Pending
        })
        .await
    }

    /// Sets the loop's sleep for the earliest timer, and fires the timers due once it ends.
    fn poll_timers(
        cx: &mut Context<'_>,
        timers: &mut Timers,
        batch: &mut VecDeque<Msg<E>>,
        waits: &mut Waits,
    ) {
        if waits.more_due {
            // A burst fired in parts: the rest is due already, without waiting for the sleep.
            let fired = timers.fire_due(Instant::now(), FIRE_AT_ONCE, |uid, timer, payload| {
                batch.push_back(Msg::Info {
                    uid,
                    timer: Some(timer),
                    payload,
                })
            });
            waits.more_due = fired == FIRE_AT_ONCE;
            if fired > 0 {
                return;
            }
        }
        let Some(next) = timers.next_deadline() else {
            waits.sleep_at = None;
            return;
        };
        if waits.sleep_at != Some(next) {
            match &mut waits.sleep {
                Some(sleep) => sleep.as_mut().reset(next.1),
                None => waits.sleep = Some(Box::pin(tokio::time::sleep_until(next.1))),
            }
            waits.sleep_at = Some(next);
        }
        let Some(sleep) = &mut waits.sleep else {
            return;
        };
        // Outside tokio's budget: an elapsed sleep reports so even late in a long poll.
        if pin!(tokio::task::unconstrained(sleep.as_mut()))
            .poll(cx)
            .is_ready()
        {
            let fired = timers.fire_due(Instant::now(), FIRE_AT_ONCE, |uid, timer, payload| {
                batch.push_back(Msg::Info {
                    uid,
                    timer: Some(timer),
                    payload,
                })
            });
            waits.more_due = fired == FIRE_AT_ONCE;
            // Set again for the next one, if any.
            waits.sleep_at = None;
            if batch.is_empty() {
                cx.waker().wake_by_ref();
            }
        }
    }

    /// Polls the watches woken since the last look, outside the lock: the subscribers gone go
    /// to `batch` as notices.
    fn poll_watches(
        &self,
        cx: &mut Context<'_>,
        ready: &Ready,
        batch: &mut VecDeque<Msg<E>>,
        waits: &mut Waits,
    ) {
        let places = ready.take(Some(cx.waker()));
        // A part at a time, so that what is held while polling stays small.
        for part in places.chunks(WATCHES_AT_ONCE) {
            if let Some(w) = self.lock().watches.as_mut() {
                w.take_woken(part, &mut waits.polling);
            }
            for p in &mut waits.polling {
                p.poll();
            }
            let mut drop_later = Vec::new();
            if let Some(w) = self.lock().watches.as_mut() {
                w.put_back(
                    &mut waits.polling,
                    &mut |uid, watch| batch.push_back(Msg::Down { uid, watch }),
                    &mut drop_later,
                );
            }
            waits.polling.clear();
            drop(drop_later);
        }
    }

    /// Arms a timer of handler `uid` due at `at`.
    pub(super) fn arm_timer(
        &self,
        uid: u64,
        owned: &mut Owned,
        at: Instant,
        payload: Payload,
    ) -> u64 {
        let (r, waker) = {
            let mut st = self.lock();
            let timers = st.timers.get_or_insert_with(|| Box::new(Timers::new()));
            let (r, wake) = timers.arm(uid, &mut owned.timers, at, payload);
            (r, if wake { st.waker.take() } else { None })
        };
        if let Some(w) = waker {
            w.wake();
        }
        r
    }

    /// Cancels timer `timer` of handler `uid`; returns whether it was pending.
    pub(super) fn cancel_timer(&self, uid: u64, owned: &mut Owned, timer: u64) -> bool {
        let cancelled = self
            .lock()
            .timers
            .as_mut()
            .and_then(|t| t.cancel(timer, uid, &mut owned.timers));
        // The message, dropped outside the lock.
        cancelled.is_some()
    }

    /// Forgets a timer of handler `uid` whose message it got; returns whether it is wanted.
    pub(super) fn timer_handled(&self, uid: u64, owned: &mut Owned, timer: u64) -> bool {
        self.lock()
            .timers
            .as_mut()
            .is_some_and(|t| t.handled(timer, uid, &mut owned.timers))
    }

    /// Watches a subscriber for handler `uid`.
    pub(super) fn watch(&self, uid: u64, owned: &mut Owned, gone: Gone) -> u64 {
        let mut st = self.lock();
        let first = st.watches.is_none();
        let watches = st.watches.get_or_insert_with(Box::default);
        let r = watches.watch(uid, &mut owned.watches, gone);
        // The manager may be waiting without knowing of watches yet.
        let waker = if first { st.waker.take() } else { None };
        drop(st);
        if let Some(w) = waker {
            w.wake();
        }
        r
    }

    /// Ends watch `watch` of handler `uid`; returns whether it was active.
    pub(super) fn unwatch(&self, uid: u64, owned: &mut Owned, watch: u64) -> bool {
        let gone = self
            .lock()
            .watches
            .as_mut()
            .and_then(|w| w.unwatch(watch, uid, &mut owned.watches));
        gone.is_some()
    }

    /// Forgets a watch of handler `uid` whose end it got; returns whether it is wanted.
    pub(super) fn watch_handled(&self, uid: u64, owned: &mut Owned, watch: u64) -> bool {
        self.lock()
            .watches
            .as_mut()
            .is_some_and(|w| w.handled(watch, uid, &mut owned.watches))
    }

    /// Cancels every timer and watch of a handler leaving.
    pub(super) fn cancel_owned(&self, owned: &mut Owned) {
        if owned.timers == NIL && owned.watches == NIL {
            return;
        }
        let mut payloads = Vec::new();
        let mut gone = Vec::new();
        {
            let mut st = self.lock();
            if let Some(t) = st.timers.as_mut() {
                t.cancel_all(&mut owned.timers, &mut payloads);
            }
            if let Some(w) = st.watches.as_mut() {
                w.unwatch_all(&mut owned.watches, &mut gone);
            }
        }
        drop(payloads);
        drop(gone);
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
            payload: callback::Owned::new(payload),
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
