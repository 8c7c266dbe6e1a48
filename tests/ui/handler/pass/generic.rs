//! A generic handler with the bounds it needs; its status view shows its fields when `T: Debug`.

use std::fmt::Debug;

use event_core::{handler, Handler};

#[handler]
struct Buffer<T> {
    items: Vec<T>,
    #[redact]
    secret: u8,
}

struct Take;

#[handler(event = T)]
impl<T> Buffer<T>
where
    T: Clone + Debug + Send + Sync + 'static,
{
    fn init(secret: u8) -> Self {
        Buffer {
            items: Vec::new(),
            secret,
        }
    }

    fn handle_event(&mut self, item: &T) {
        self.items.push(item.clone());
    }

    #[call]
    fn take(&mut self, _: Take) -> Vec<T> {
        std::mem::take(&mut self.items)
    }

    fn terminate(self) -> u8 {
        self.secret
    }
}

fn is_handler<E: 'static, H: Handler<E, Args = u8, Handover = u8>>() {}

fn main() {
    is_handler::<String, Buffer<String>>();
}
