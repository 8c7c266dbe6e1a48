use event_core::handler;

struct Counter(u32);
struct Get;

#[handler(event = u32)]
impl Counter {
    fn init(&self) -> Self {
        Counter(self.0)
    }

    fn handle_event(n: &u32) {
        let _ = n;
    }

    #[call]
    fn get(_: Get) -> u32 {
        0
    }
}

fn main() {}
