use event_core::handler;

/// Neither `Send` nor `'static`.
struct Buffer<T> {
    item: Option<T>,
}

#[handler(event = u32)]
impl<T> Buffer<T> {
    fn init() -> Self {
        Buffer { item: None }
    }

    fn handle_event(&mut self, _: &u32) {
        self.item = None;
    }
}

/// `Send`, but not `'static`; the event, not `Sync`.
struct Latest<T> {
    latest: Option<T>,
}

#[handler(event = T)]
impl<T: Clone + Send> Latest<T> {
    fn init() -> Self {
        Latest { latest: None }
    }

    fn handle_event(&mut self, event: &T) {
        self.latest = Some(event.clone());
    }
}

fn main() {}
