use event_core::handler;

#[handler(event = u32)]
struct Log;

fn main() {
    let _ = Log;
}
