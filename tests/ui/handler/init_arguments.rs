use event_core::{handler, Context};

struct Counter(u32);

#[handler(event = u32)]
impl Counter {
    fn init(start: u32, step: u32, cx: &mut Context<u32, Self>) -> Self {
        let _ = (step, cx);
        Counter(start)
    }

    fn handle_event(&mut self, n: &u32) {
        self.0 += n;
    }
}

struct NoReturn;

#[handler(event = u32)]
impl NoReturn {
    fn init(start: u32) {
        let _ = start;
    }

    fn handle_event(&mut self, _: &u32) {}
}

fn main() {}
