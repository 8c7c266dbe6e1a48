use event_core::handler;

struct Counter(u32);
struct Reset;

#[handler(event = u32)]
impl Counter {
    fn init() -> Self {
        Counter(0)
    }

    fn handle_event(&mut self, n: &u32) {
        self.0 += n;
    }

    #[call]
    fn reset(&mut self, _: Reset) {
        self.0 = 0;
    }
}

fn main() {}
