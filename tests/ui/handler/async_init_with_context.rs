use event_core::{handler, Context};

struct Log;

#[handler(event = u32)]
impl Log {
    async fn init(_: (), cx: &mut Context<u32, Self>) -> Self {
        cx.keep();
        Log
    }

    fn handle_event(&mut self, _: &u32) {}
}

fn main() {}
