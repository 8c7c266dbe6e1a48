use event_core::handler;

// `#[handler]` is on the impl block but not on the struct, which `#[redact]` needs.
struct Login {
    user: String,
    #[redact]
    password: String,
}

#[handler(event = u32)]
impl Login {
    fn init() -> Self {
        Login {
            user: String::new(),
            password: String::new(),
        }
    }

    fn handle_event(&mut self, _: &u32) {
        let _ = (&self.user, &self.password);
    }
}

fn main() {}
