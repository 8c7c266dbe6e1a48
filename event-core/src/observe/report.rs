//! Reports that must not go unseen. Crash reports and a supervisor giving up are `tracing`
//! events; when no subscriber is installed (the program never set one, as OTP's console
//! logger is there by default), they are also written to stderr, one block each, so that a
//! crash is never silent.

use std::fmt::{self, Write as _};

/// Whether no `tracing` subscriber is installed for this thread (neither a global default
/// nor a scoped one): reports then go to stderr too.
pub(crate) fn unobserved() -> bool {
    tracing::dispatcher::get_default(|d| d.is::<tracing::subscriber::NoSubscriber>())
}

/// Writes a report to stderr, as one block, if no subscriber is installed: a heading line,
/// then a line per field.
pub(crate) fn console(heading: &str, fields: &[(&str, &dyn fmt::Display)]) {
    if !unobserved() {
        return;
    }
    let mut block = format!("=== {heading}\n");
    for (name, value) in fields {
        // A multi-line value is indented under its name.
        let value = value.to_string().replace('\n', "\n        ");
        let _ = writeln!(block, "    {name}: {value}");
    }
    // One write of the whole block: reports from several tasks do not interleave. (`eprint!`
    // rather than a write to the handle: a test harness captures it with the test's output.)
    eprint!("{block}");
}
