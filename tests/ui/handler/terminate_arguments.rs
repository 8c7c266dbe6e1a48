use event_core::{handler, Context, Terminate};

struct WithContext;

#[handler(event = u32)]
impl WithContext {
    fn init() -> Self {
        WithContext
    }

    fn handle_event(&mut self, _: &u32) {}

    fn terminate(self, _: &mut Context<u32, Self>) {}
}

struct TooMany;

#[handler(event = u32)]
impl TooMany {
    fn init() -> Self {
        TooMany
    }

    fn handle_event(&mut self, _: &u32) {}

    fn terminate(self, _: Terminate, _: u8) {}
}

fn main() {}
