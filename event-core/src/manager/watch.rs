//! What a handler can watch: anything that can tell when it has gone away; and the set of a
//! manager's watches, polled by its loop (a future per watch, not a task).
//!
//! Each watch's future is polled with a waker of its own, which queues the watch's place on
//! the set's ready list and wakes the manager: the manager polls only the watches woken, and a
//! subscriber's end finds its watch, and the watch its handler, in O(1).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use super::registry::{Registry, State};

/// A subscriber a handler can [`watch`](crate::Context::watch): something that can tell when
/// it has gone away (OTP's `monitor`).
///
/// Implemented for the sending halves of tokio's channels (gone when the receiver is dropped:
/// a subscriber that disconnected) and for a task's `JoinHandle` (gone when the task ends).
///
/// A watch holds its own sender until the subscriber is gone or the watch ends, so the
/// channel stays open for the receiver meanwhile: a handler that drops a subscriber from its
/// list should also [`unwatch`](crate::Context::unwatch) it, so that the subscriber's `recv()`
/// sees the channel closed. (A watched [`mpsc::WeakSender`] is upgraded while it is watched,
/// and holds the channel open the same way.)
pub trait Watchable: Send + 'static {
    /// Resolves when the subscriber is gone.
    fn gone(self) -> impl Future<Output = ()> + Send + 'static;
}

impl<T: Send + 'static> Watchable for mpsc::Sender<T> {
    async fn gone(self) {
        self.closed().await;
    }
}

impl<T: Send + 'static> Watchable for mpsc::UnboundedSender<T> {
    async fn gone(self) {
        self.closed().await;
    }
}

impl<T: Send + 'static> Watchable for mpsc::WeakSender<T> {
    async fn gone(self) {
        if let Some(tx) = self.upgrade() {
            // `closed` needs a strong sender: the channel stays open while it is watched.
            tx.closed().await;
        }
    }
}

impl<T: Send + 'static> Watchable for oneshot::Sender<T> {
    async fn gone(mut self) {
        self.closed().await;
    }
}

impl<T: Send + Sync + 'static> Watchable for watch::Sender<T> {
    async fn gone(self) {
        self.closed().await;
    }
}

impl<T: Send + 'static> Watchable for JoinHandle<T> {
    async fn gone(self) {
        let _ = self.await;
    }
}

/// A watch's future, boxed: each subscriber type has its own.
pub(super) type Gone = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A watch: its future (out while the manager polls it) and its waker.
pub(super) struct Watching {
    gone: Option<Gone>,
    node: Arc<WakeNode>,
}

/// The places of the watches woken since the manager last looked, and the manager's waker.
#[derive(Default)]
pub(super) struct Ready(Mutex<ReadyList>);

#[derive(Default)]
struct ReadyList {
    places: Vec<u32>,
    waker: Option<Waker>,
}

impl Ready {
    fn lock(&self) -> std::sync::MutexGuard<'_, ReadyList> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes the places woken; with `waker`, the manager waits for the next one.
    pub(super) fn take(&self, waker: Option<&Waker>) -> Vec<u32> {
        let mut list = self.lock();
        if let Some(w) = waker {
            match &list.waker {
                Some(old) if old.will_wake(w) => {}
                _ => list.waker = Some(w.clone()),
            }
        }
        std::mem::take(&mut list.places)
    }
}

/// A watch's waker: its place in the registry, queued once until the manager polls it.
pub(super) struct WakeNode {
    ready: Arc<Ready>,
    at: u32,
    queued: AtomicBool,
}

impl Wake for WakeNode {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.queued.swap(true, Ordering::AcqRel) {
            return;
        }
        let waker = {
            let mut list = self.ready.lock();
            list.places.push(self.at);
            list.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// A manager's watches.
#[derive(Default)]
pub(super) struct Watches {
    registry: Registry<Watching>,
    pub(super) ready: Arc<Ready>,
}

/// A watch taken out of the set to be polled.
pub(super) struct Polling {
    r: u64,
    uid: u64,
    gone: Gone,
    node: Arc<WakeNode>,
    /// Polled, and the subscriber is gone.
    down: bool,
}

impl Watches {
    /// Adds a watch of handler `uid` (its list is `head`), queued for its first poll.
    pub(super) fn watch(&mut self, uid: u64, head: &mut u32, gone: Gone) -> u64 {
        let node = Arc::new(WakeNode {
            ready: self.ready.clone(),
            at: self.registry.next_place(),
            queued: AtomicBool::new(false),
        });
        let r = self.registry.insert(
            uid,
            head,
            Watching {
                gone: Some(gone),
                node: node.clone(),
            },
        );
        debug_assert_eq!(r as u32, node.at);
        node.wake_by_ref();
        r
    }

    /// Ends watch `r` of handler `uid`; returns whether it was active (or down and not yet
    /// handled), and its future, to be dropped outside the mailbox's lock.
    pub(super) fn unwatch(&mut self, r: u64, uid: u64, head: &mut u32) -> Option<Option<Gone>> {
        let (_, w) = self.registry.remove(r, uid, head)?;
        Some(w.and_then(|w| w.gone))
    }

    /// Forgets a watch whose end the handler got; returns whether it was still wanted.
    pub(super) fn handled(&mut self, r: u64, uid: u64, head: &mut u32) -> bool {
        match self.registry.get_mut(r) {
            Some(e) if e.state == State::Fired && e.uid == uid => {
                self.registry.remove(r, uid, head);
                true
            }
            _ => false,
        }
    }

    /// Ends every watch of the list `head`, handing their futures to `drop_later`.
    pub(super) fn unwatch_all(&mut self, head: &mut u32, drop_later: &mut Vec<Gone>) {
        self.registry
            .remove_all(head, |_, w| drop_later.extend(w.and_then(|w| w.gone)));
    }

    /// Takes out the futures of the watches at `places`, to be polled outside the lock.
    pub(super) fn take_woken(&mut self, places: &[u32], out: &mut Vec<Polling>) {
        for &at in places {
            if let Some((r, e)) = self.registry.at_mut(at) {
                if let (State::Armed, Some(w)) = (e.state, e.item.as_mut()) {
                    if let Some(gone) = w.gone.take() {
                        out.push(Polling {
                            r,
                            uid: e.uid,
                            gone,
                            node: w.node.clone(),
                            down: false,
                        });
                    }
                }
            }
        }
    }

    /// Puts back the watches polled: those still pending wait again, those down are marked so
    /// and go to `down` (handler uid, reference). A watch ended meanwhile is dropped later.
    pub(super) fn put_back(
        &mut self,
        polled: &mut Vec<Polling>,
        down: &mut impl FnMut(u64, u64),
        drop_later: &mut Vec<Gone>,
    ) {
        for p in polled.drain(..) {
            match self.registry.get_mut(p.r) {
                Some(e) if e.state == State::Armed => match (p.down, e.item.as_mut()) {
                    (true, _) => {
                        e.state = State::Fired;
                        e.item = None;
                        drop_later.push(p.gone);
                        down(p.uid, p.r);
                    }
                    (false, Some(w)) => w.gone = Some(p.gone),
                    (false, None) => drop_later.push(p.gone),
                },
                _ => drop_later.push(p.gone),
            }
        }
    }
}

impl Polling {
    /// Polls the watch's future with its own waker, outside tokio's budget (the manager
    /// polls many at once, each once per wake-up); notes whether the subscriber is gone.
    pub(super) fn poll(&mut self) {
        self.node.queued.store(false, Ordering::Release);
        let waker = Waker::from(self.node.clone());
        let mut cx = Context::from_waker(&waker);
        let gone = std::pin::pin!(tokio::task::unconstrained(self.gone.as_mut()));
        self.down = matches!(gone.poll(&mut cx), Poll::Ready(()));
    }
}
