//! The status view: from the struct (named, tuple or unit fields, `#[redact]` ones hidden), or
//! a `format_status` written in the impl block, which wins over the struct's.

use std::fmt;

use event_core::{handler, Handler};

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

#[handler]
struct Pair(u8, #[redact] String);

#[handler(event = ())]
impl Pair {
    fn init(key: String) -> Self {
        Pair(0, key)
    }

    fn handle_event(&mut self, (): &()) {
        self.0 = self.0.wrapping_add(1);
        assert!(!self.1.is_empty());
    }
}

#[handler]
struct Unit;

#[handler(event = ())]
impl Unit {
    fn init() -> Self {
        Unit
    }

    fn handle_event(&mut self, (): &()) {}
}

/// A handler's status view, as a crash report writes it.
struct View<'a, H>(&'a H);

impl<H: Handler<()>> fmt::Display for View<'_, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.format_status(f)
    }
}

pub fn main() {
    let session = Session::init(("ada".to_owned(), "hunter2".to_owned()));
    assert_eq!(View(&session).to_string(), "session of ada");
    assert_eq!(
        View(&Pair::init("key".to_owned())).to_string(),
        "Pair(0, <redacted>)"
    );
    assert_eq!(View(&Unit).to_string(), "Unit");
}
