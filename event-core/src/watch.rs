//! What a handler can watch: anything that can tell when it has gone away.

use std::future::Future;

use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

/// A subscriber a handler can [`watch`](crate::Context::watch): something that can tell when
/// it has gone away (OTP's `monitor`).
///
/// Implemented for the sending halves of tokio's channels (gone when the receiver is dropped:
/// a subscriber that disconnected) and for a task's `JoinHandle` (gone when the task ends).
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
            // Holding a strong sender while waiting does not keep the receiver open.
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
