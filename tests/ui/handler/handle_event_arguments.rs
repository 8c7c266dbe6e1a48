use event_core::{handler, Context};

struct ByValue;

#[handler(event = u32)]
impl ByValue {
    fn init() -> Self {
        ByValue
    }

    fn handle_event(&mut self, n: u32) {
        let _ = n;
    }
}

struct NoEvent;

#[handler(event = u32)]
impl NoEvent {
    fn init() -> Self {
        NoEvent
    }

    fn handle_event(&mut self) {}
}

struct NotAContext;

#[handler(event = u32)]
impl NotAContext {
    fn init() -> Self {
        NotAContext
    }

    fn handle_event(&mut self, _: &u32, _: u8) {}
}

struct TooMany;

#[handler(event = u32)]
impl TooMany {
    fn init() -> Self {
        TooMany
    }

    fn handle_event(&mut self, _: &u32, _: &mut Context<u32, Self>, _: u8) {}
}

fn main() {}
