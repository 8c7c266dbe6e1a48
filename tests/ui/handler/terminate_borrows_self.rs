use event_core::{handler, Terminate};

struct Counter(u32);

#[handler(event = u32)]
impl Counter {
    fn init() -> Self {
        Counter(0)
    }

    fn handle_event(&mut self, n: &u32) {
        self.0 += n;
    }

    fn terminate(&mut self, _: Terminate) -> u32 {
        self.0
    }
}

fn main() {}
