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

struct ContextFirst;

#[handler(event = u32)]
impl ContextFirst {
    fn init() -> Self {
        ContextFirst
    }

    fn handle_event(&mut self, _: &mut Context<u32, Self>, _: &u32) {}
}

struct TooMany;

#[handler(event = u32)]
impl TooMany {
    fn init() -> Self {
        TooMany
    }

    fn handle_event(&mut self, _: &u32, _: u8, _: &mut Context<u32, Self>) {}
}

struct Opaque;

#[handler(event = u32)]
impl Opaque {
    fn init() -> Self {
        Opaque
    }

    fn handle_event(&mut self, _: &impl Copy) {}
}

// Found by rustc: another event type, and the context of another event type.
struct OtherEvent;

#[handler(event = u32)]
impl OtherEvent {
    fn init() -> Self {
        OtherEvent
    }

    fn handle_event(&mut self, line: &String) {
        let _ = line;
    }
}

struct OtherContext;

#[handler(event = u32)]
impl OtherContext {
    fn init() -> Self {
        OtherContext
    }

    fn handle_event(&mut self, _: &u32, _: &mut Context<u64, Self>) {}
}

fn main() {}
