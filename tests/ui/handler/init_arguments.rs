use event_core::{handler, Context};

struct TooMany(u32);

#[handler(event = u32)]
impl TooMany {
    fn init(start: u32, step: u32, cx: &mut Context<u32, Self>) -> Self {
        let _ = (step, cx);
        TooMany(start)
    }

    fn handle_event(&mut self, _: &u32) {}
}

struct ContextFirst(u32);

#[handler(event = u32)]
impl ContextFirst {
    fn init(cx: &mut Context<u32, Self>, start: u32) -> Self {
        let _ = cx;
        ContextFirst(start)
    }

    fn handle_event(&mut self, _: &u32) {}
}

struct NoReturn;

#[handler(event = u32)]
impl NoReturn {
    fn init(start: u32) {
        let _ = start;
    }

    fn handle_event(&mut self, _: &u32) {}
}

struct Borrowed(String);

#[handler(event = u32)]
impl Borrowed {
    fn init(name: &str) -> Self {
        Borrowed(name.to_owned())
    }

    fn handle_event(&mut self, _: &u32) {}
}

struct BorrowedForAWhile(String);

#[handler(event = u32)]
impl BorrowedForAWhile {
    fn init<'a>(name: &'a str) -> Self {
        BorrowedForAWhile(name.to_owned())
    }

    fn handle_event(&mut self, _: &u32) {}
}

struct Opaque(String);

#[handler(event = u32)]
impl Opaque {
    fn init(name: impl Into<String>) -> Self {
        Opaque(name.into())
    }

    fn handle_event(&mut self, _: &u32) {}
}

// Found by rustc: the context of another event type.
struct OtherContext;

#[handler(event = u32)]
impl OtherContext {
    fn init((): (), _: &mut Context<u64, Self>) -> Self {
        OtherContext
    }

    fn handle_event(&mut self, _: &u32) {}
}

fn main() {}
