use event_core::handler;

struct Ticker;
struct Tick;

#[handler(event = u32)]
impl Ticker {
    fn init() -> Self {
        Ticker
    }

    fn handle_event(&mut self, _: &u32) {}

    fn handle_info(&mut self, _: Tick) {}
}

fn main() {}
