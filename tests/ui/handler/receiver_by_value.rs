use event_core::{handler, Info};

struct Counter(u32);
struct Get;

#[handler(event = u32)]
impl Counter {
    fn init() -> Self {
        Counter(0)
    }

    fn handle_event(self, n: &u32) {
        let _ = (self.0, n);
    }

    fn handle_info(mut self, _: Info<()>) {
        self.0 += 1;
    }

    #[call]
    fn get(self, _: Get) -> u32 {
        self.0
    }
}

fn main() {}
