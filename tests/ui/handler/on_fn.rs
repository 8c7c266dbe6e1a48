use event_core::handler;

#[handler(event = u32)]
fn log(n: &u32) {
    let _ = n;
}

fn main() {
    log(&1);
}
