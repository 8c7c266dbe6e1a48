use event_core::handler;

struct Counter(u32);
struct Get;

#[handler(event = u32)]
impl Counter {
    fn init() -> Self {
        Counter(0)
    }

    fn handle_event(&mut self, n: &u32) {
        self.0 += n;
    }

    #[call]
    fn get(&self, _: Get) -> u32 {
        self.0
    }

    #[call]
    fn get_again(&self, _: Get) -> u64 {
        self.0.into()
    }
}

fn main() {}
