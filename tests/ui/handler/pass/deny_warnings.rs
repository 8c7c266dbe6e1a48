//! The expansion is lint-clean: every form under `deny(warnings)` and clippy's pedantic lints
//! (`tests/handler_lints.rs` runs clippy over this file).
#![deny(warnings, clippy::pedantic)]

use std::time::Duration;

use event_core::{handler, BoxError, Context, EventManager, Info, Terminate};

#[handler]
pub struct Everything<T> {
    items: Vec<T>,
    ticks: u8,
    #[redact]
    key: String,
}

pub struct Len;
pub struct Key;

#[handler(event = T)]
impl<T: Clone + std::fmt::Debug + Send + Sync + 'static> Everything<T> {
    fn init(key: String, cx: &mut Context<T, Self>) -> Result<Self, BoxError> {
        if key.is_empty() {
            return Err("no key".into());
        }
        cx.send_after(Duration::from_millis(1), 1);
        Ok(Everything {
            items: Vec::new(),
            ticks: 0,
            key,
        })
    }

    async fn handle_event(&mut self, item: &T, _cx: &mut Context<T, Self>) {
        tokio::task::yield_now().await;
        self.items.push(item.clone());
    }

    fn handle_info(&mut self, info: Info<u8>) -> Result<(), BoxError> {
        match info {
            Info::Message(n) => self.ticks += n,
            Info::Down(_) => return Err("nothing is watched".into()),
        }
        Ok(())
    }

    #[call]
    fn len(&self, _: Len) -> usize {
        self.items.len()
    }

    #[call]
    async fn key(&mut self, _: Key, _cx: &mut Context<T, Self>) -> String {
        tokio::task::yield_now().await;
        self.key.clone()
    }

    async fn terminate(self, reason: Terminate) -> Vec<T> {
        tokio::task::yield_now().await;
        assert!(matches!(reason, Terminate::Deleted(_)));
        self.items
    }
}

pub fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let manager = EventManager::<u32>::start().unwrap();
        let href = manager
            .add_handler::<Everything<u32>>("k".to_string())
            .await
            .unwrap();
        manager.notify(7).await.unwrap();
        assert_eq!(manager.call(&href, Len).await.unwrap(), 1);
        assert_eq!(manager.call(&href, Key).await.unwrap(), "k");
        assert_eq!(manager.delete_handler(&href, ()).await.unwrap(), [7]);
    });
}
