use event_core::handler;

#[handler]
struct Session {
    user: String,
    #[redact(partially)]
    password: String,
}

fn main() {
    let _ = Session { user: String::new(), password: String::new() };
}
