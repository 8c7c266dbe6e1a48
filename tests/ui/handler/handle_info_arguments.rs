use event_core::{handler, Context, Info};

struct Tick;

struct NotInfo;

#[handler(event = u32)]
impl NotInfo {
    fn init() -> Self {
        NotInfo
    }

    fn handle_event(&mut self, _: &u32) {}

    fn handle_info(&mut self, _: Tick) {}
}

struct NoMessage;

#[handler(event = u32)]
impl NoMessage {
    fn init() -> Self {
        NoMessage
    }

    fn handle_event(&mut self, _: &u32) {}

    fn handle_info(&mut self) {}
}

struct TooMany;

#[handler(event = u32)]
impl TooMany {
    fn init() -> Self {
        TooMany
    }

    fn handle_event(&mut self, _: &u32) {}

    fn handle_info(&mut self, _: Info<Tick>, _: Tick, _: &mut Context<u32, Self>) {}
}

struct Borrowed;

#[handler(event = u32)]
impl Borrowed {
    fn init() -> Self {
        Borrowed
    }

    fn handle_event(&mut self, _: &u32) {}

    fn handle_info(&mut self, _: Info<&str>) {}
}

// Found by rustc: the context of another event type.
struct OtherContext;

#[handler(event = u32)]
impl OtherContext {
    fn init() -> Self {
        OtherContext
    }

    fn handle_event(&mut self, _: &u32) {}

    fn handle_info(&mut self, _: Info<Tick>, _: &mut Context<u64, Self>) {}
}

fn main() {}
