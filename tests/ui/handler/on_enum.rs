use event_core::handler;

#[handler]
enum Log {
    Quiet,
    Loud,
}

fn main() {
    let _ = (Log::Quiet, Log::Loud);
}
