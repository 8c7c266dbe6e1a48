use event_core::{handler, Context};

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
    fn by_reference(&self, _: &Get) -> u32 {
        self.0
    }

    #[call]
    fn no_request(&self) -> u32 {
        self.0
    }

    #[call]
    fn too_many(&self, _: Get, _: &mut Context<u32, Self>, _: u8) -> u32 {
        self.0
    }

    #[call]
    fn generic<T>(&self, _: T) -> u32 {
        self.0
    }
}

fn main() {}
