use event_core::{handler, Context};

struct Counter(u32);
struct Get;
struct Query<'a>(&'a str);

#[handler(event = u32)]
impl Counter {
    fn init() -> Self {
        Counter(0)
    }

    fn handle_event(&mut self, n: &u32) {
        self.0 += n;
    }

    #[call]
    fn by_reference(&self, _: &Get) -> u32 {
        self.0
    }

    #[call]
    fn no_request(&self) -> u32 {
        self.0
    }

    #[call]
    fn too_many(&self, _: Get, _: u8, _: &mut Context<u32, Self>) -> u32 {
        self.0
    }

    #[call]
    fn context_first(&self, _: &mut Context<u32, Self>, _: Get) -> u32 {
        self.0
    }

    #[call]
    fn generic<T>(&self, _: T) -> u32 {
        self.0
    }

    #[call]
    fn opaque(&self, _: impl Send) -> u32 {
        self.0
    }

    #[call]
    fn borrowing_request(&self, _: Query<'_>) -> u32 {
        self.0
    }

    #[call]
    fn borrowing_reply(&self, _: u8) -> &u32 {
        &self.0
    }

    #[call]
    fn opaque_reply(&self, _: u16) -> impl Copy {
        self.0
    }
}

// Found by rustc: the context of another event type.
struct OtherContext;

#[handler(event = u32)]
impl OtherContext {
    fn init() -> Self {
        OtherContext
    }

    fn handle_event(&mut self, _: &u32) {}

    #[call]
    fn get(&self, _: Get, _: &mut Context<u64, Self>) -> u32 {
        0
    }
}

fn main() {}
