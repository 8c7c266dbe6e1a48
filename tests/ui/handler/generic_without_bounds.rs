use event_core::handler;

struct Buffer<T> {
    items: Vec<T>,
}

#[handler(event = u32)]
impl<T> Buffer<T> {
    fn init() -> Self {
        Buffer { items: Vec::new() }
    }

    fn handle_event(&mut self, _: &u32) {
        self.items.clear();
    }
}

fn main() {}
