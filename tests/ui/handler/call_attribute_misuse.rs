use event_core::handler;

struct Counter(u32);
struct Get;

#[handler(event = u32)]
impl Counter {
    #[call]
    fn init() -> Self {
        Counter(0)
    }

    fn handle_event(&mut self, n: &u32) {
        self.0 += n;
    }

    #[call(fallible)]
    fn get(&self, _: Get) -> u32 {
        self.0
    }
}

fn main() {}
