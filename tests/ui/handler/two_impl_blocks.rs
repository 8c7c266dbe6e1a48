use event_core::handler;

struct Log(u32);

struct Get;

#[handler(event = u32)]
impl Log {
    fn init() -> Self {
        Log(0)
    }

    fn handle_event(&mut self, n: &u32) {
        self.0 = *n;
    }
}

// A second `#[handler]` block for the same handler.
#[handler(event = u32)]
impl Log {
    #[call]
    fn get(&mut self, _: Get) -> u32 {
        self.0
    }
}

fn main() {}
