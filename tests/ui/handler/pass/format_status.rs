//! A `format_status` written in the impl block wins over the struct's status view.

use std::fmt;

use event_core::handler;

#[handler]
struct Session {
    user: String,
    #[redact]
    password: String,
}

#[handler(event = ())]
impl Session {
    fn init((user, password): (String, String)) -> Self {
        Session { user, password }
    }

    fn handle_event(&mut self, (): &()) {
        assert!(!self.password.is_empty());
    }

    fn format_status(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "session of {}", self.user)
    }
}

fn main() {}
