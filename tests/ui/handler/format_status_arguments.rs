use std::fmt;

use event_core::handler;

struct NoFormatter;

#[handler(event = u32)]
impl NoFormatter {
    fn init() -> Self {
        NoFormatter
    }

    fn handle_event(&mut self, _: &u32) {}

    fn format_status(&mut self) -> fmt::Result {
        Ok(())
    }
}

struct TooMany;

#[handler(event = u32)]
impl TooMany {
    fn init() -> Self {
        TooMany
    }

    fn handle_event(&mut self, _: &u32) {}

    fn format_status(&self, f: &mut fmt::Formatter<'_>, verbose: bool) -> fmt::Result {
        let _ = verbose;
        f.write_str("too many")
    }
}

// Found by rustc: not a formatter, and not a `fmt::Result`.
struct NotAFormatter;

#[handler(event = u32)]
impl NotAFormatter {
    fn init() -> Self {
        NotAFormatter
    }

    fn handle_event(&mut self, _: &u32) {}

    fn format_status(&self, out: &mut String) -> fmt::Result {
        out.push_str("not a formatter");
        Ok(())
    }
}

struct NotAResult;

#[handler(event = u32)]
impl NotAResult {
    fn init() -> Self {
        NotAResult
    }

    fn handle_event(&mut self, _: &u32) {}

    fn format_status(&self, _: &mut fmt::Formatter<'_>) -> String {
        "not a result".to_owned()
    }
}

fn main() {}
