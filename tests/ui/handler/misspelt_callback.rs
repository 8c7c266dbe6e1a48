use event_core::handler;

struct Log;

#[handler(event = u32)]
impl Log {
    fn init() -> Self {
        Log
    }

    fn handle_event(&mut self, _: &u32) {}

    // Misspelt lifecycle callbacks: the runtime would never call them.
    fn handle_ifno(&mut self, _: event_core::Info<()>) {}

    fn termniate(self) {}

    // Methods whose names are not within two edits of a callback's are the handler's own.
    fn flush(&mut self) {}

    fn handle_error(&mut self, _: String) {}

    fn handle_item(&mut self, _: u32) {}
}

fn main() {}
