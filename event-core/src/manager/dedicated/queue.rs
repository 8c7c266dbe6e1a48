//! The bounded queue in front of a dedicated handler: one sender (its manager), one receiver
//! (its task).
//!
//! A channel would do for waiting senders, but an overload policy also needs the sender to
//! take the oldest event out of a full queue, which no channel's sending half can.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

use tokio::sync::Notify;

pub(super) struct Queue<T> {
    state: Mutex<State<T>>,
    capacity: usize,
    /// Something was pushed, or the sender is gone.
    ready: Notify,
    /// Something was taken out, or the receiver is gone.
    room: Notify,
}

struct State<T> {
    items: VecDeque<T>,
    sender_gone: bool,
    receiver_gone: bool,
    /// The receiver waits for an item: the next push wakes it. Only then is `ready`
    /// notified, so a busy receiver costs its sender no wake-up.
    receiver_waits: bool,
    /// The sender waits for room: the next pop wakes it.
    sender_waits: bool,
}

/// Why a push did not happen; the item comes back.
pub(super) enum Refused<T> {
    Full(T),
    Closed(T),
}

impl<T> Queue<T> {
    pub(super) fn new(capacity: usize) -> Self {
        Queue {
            state: Mutex::new(State {
                items: VecDeque::with_capacity(capacity.min(64)),
                sender_gone: false,
                receiver_gone: false,
                receiver_waits: false,
                sender_waits: false,
            }),
            capacity,
            ready: Notify::new(),
            room: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // Nothing that can panic runs under this lock but an allocation.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn try_push(&self, item: T) -> Result<(), Refused<T>> {
        self.offer(item, false)
    }

    /// Pushes if there is room; `wait` marks the sender as waiting for room when there is
    /// none, in the same look at the queue, so the next pop cannot miss it.
    fn offer(&self, item: T, wait: bool) -> Result<(), Refused<T>> {
        let wake = {
            let mut st = self.lock();
            if st.receiver_gone {
                return Err(Refused::Closed(item));
            }
            if st.items.len() >= self.capacity {
                st.sender_waits |= wait;
                return Err(Refused::Full(item));
            }
            st.items.push_back(item);
            std::mem::take(&mut st.receiver_waits)
        };
        if wake {
            self.ready.notify_one();
        }
        Ok(())
    }

    /// Pushes, waiting for room; gives the item back if the receiver is gone.
    pub(super) async fn push(&self, mut item: T) -> Result<(), T> {
        loop {
            match self.offer(item, true) {
                Ok(()) => return Ok(()),
                Err(Refused::Closed(back)) => return Err(back),
                Err(Refused::Full(back)) => item = back,
            }
            // A pop after the check above left a permit in `room`: this returns at once.
            self.room.notified().await;
        }
    }

    /// Pushes into a full queue by taking out the oldest item `evictable` accepts; gives back
    /// the evicted item, or the new one if nothing could be evicted.
    pub(super) fn push_evicting(
        &self,
        item: T,
        evictable: impl Fn(&T) -> bool,
    ) -> Result<Option<T>, Refused<T>> {
        let evicted = {
            let mut st = self.lock();
            if st.receiver_gone {
                return Err(Refused::Closed(item));
            }
            let evicted = if st.items.len() >= self.capacity {
                match st.items.iter().position(&evictable) {
                    Some(i) => st.items.remove(i),
                    None => return Err(Refused::Full(item)),
                }
            } else {
                None
            };
            st.items.push_back(item);
            (evicted, std::mem::take(&mut st.receiver_waits))
        };
        let (evicted, wake) = evicted;
        if wake {
            self.ready.notify_one();
        }
        Ok(evicted)
    }

    /// Takes out everything queued.
    pub(super) fn drain(&self) -> VecDeque<T> {
        let (items, wake) = {
            let mut st = self.lock();
            (
                std::mem::take(&mut st.items),
                std::mem::take(&mut st.sender_waits),
            )
        };
        if wake {
            self.room.notify_one();
        }
        items
    }

    /// The next item, waiting for one; `None` once the sender is gone and the queue is empty.
    pub(super) async fn pop(&self) -> Option<T> {
        loop {
            {
                let mut st = self.lock();
                if let Some(item) = st.items.pop_front() {
                    let wake = std::mem::take(&mut st.sender_waits);
                    drop(st);
                    if wake {
                        self.room.notify_one();
                    }
                    return Some(item);
                }
                if st.sender_gone {
                    return None;
                }
                st.receiver_waits = true;
            }
            // A push after the check above left a permit in `ready`: this returns at once.
            self.ready.notified().await;
        }
    }

    /// The sender is gone: the receiver takes what is queued, then ends.
    pub(super) fn close_sender(&self) {
        self.lock().sender_gone = true;
        // Notified whether it waits or not: a permit left behind costs one extra look.
        self.ready.notify_one();
    }

    /// The receiver is gone: later pushes are refused; gives back what was queued.
    pub(super) fn close_receiver(&self) -> VecDeque<T> {
        let items = {
            let mut st = self.lock();
            st.receiver_gone = true;
            std::mem::take(&mut st.items)
        };
        self.room.notify_one();
        items
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn a_full_queue_refuses_a_try_push_and_a_push_waits_for_a_pop() {
        let q = Arc::new(Queue::new(1));
        assert!(q.try_push(1).is_ok());
        assert!(matches!(q.try_push(2), Err(Refused::Full(2))));
        let pusher = tokio::spawn({
            let q = q.clone();
            async move { q.push(2).await }
        });
        assert_eq!(q.pop().await, Some(1));
        assert!(pusher.await.unwrap().is_ok());
        assert_eq!(q.pop().await, Some(2));
    }

    #[tokio::test]
    async fn push_evicting_takes_out_the_oldest_evictable_item() {
        let q = Queue::new(3);
        for n in [1, 2, 3] {
            assert!(q.try_push(n).is_ok());
        }
        let evicted = q.push_evicting(4, |n| n % 2 == 0);
        assert!(matches!(evicted, Ok(Some(2))));
        assert!(matches!(
            q.push_evicting(5, |n| *n > 10),
            Err(Refused::Full(5))
        ));
        assert_eq!(q.drain(), [1, 3, 4]);
    }

    #[tokio::test]
    async fn pop_ends_once_the_sender_is_gone_and_the_queue_is_empty() {
        let q = Queue::new(2);
        assert!(q.try_push(1).is_ok());
        q.close_sender();
        assert_eq!(q.pop().await, Some(1));
        assert_eq!(q.pop().await, None);
    }

    #[tokio::test]
    async fn a_push_waiting_for_room_gets_its_item_back_when_the_receiver_goes() {
        let q = Arc::new(Queue::new(1));
        assert!(q.try_push(1).is_ok());
        let pusher = tokio::spawn({
            let q = q.clone();
            async move { q.push(2).await }
        });
        tokio::task::yield_now().await;
        assert_eq!(q.close_receiver(), [1]);
        assert_eq!(pusher.await.unwrap(), Err(2));
    }
}
