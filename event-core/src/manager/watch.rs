//! What a handler can watch: anything that can tell when it has gone away.

use std::future::Future;

use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

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
