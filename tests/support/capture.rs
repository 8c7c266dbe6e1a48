//! What tracing writes, kept in memory per test: one global subscriber writes to the buffer
//! of the thread that captures. Tests using it run on a current-thread runtime, so the
//! manager's task logs on the test's thread too.
#![allow(dead_code)]

use std::cell::RefCell;
use std::io;
use std::sync::{Arc, Mutex, Once};

#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Captured {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    pub fn lines_with(&self, needle: &str) -> usize {
        self.text().lines().filter(|l| l.contains(needle)).count()
    }
}

thread_local! {
    /// Where what this thread logs goes, while a test captures it.
    static SINK: RefCell<Option<Captured>> = const { RefCell::new(None) };
}

/// The global subscriber's writer: this thread's capture, if any.
struct ThreadSink;

impl io::Write for ThreadSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        SINK.with(|sink| match &mut *sink.borrow_mut() {
            Some(out) => out.write(buf),
            None => Ok(buf.len()),
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Ends a capture when dropped.
pub struct Capturing;

impl Drop for Capturing {
    fn drop(&mut self) {
        SINK.with(|sink| sink.borrow_mut().take());
    }
}

/// Captures what is logged on this thread until the guard is dropped; the tests using it run
/// on a current-thread runtime, so the manager logs on this thread too.
///
/// One global subscriber serves every test and writes to the capturing thread's buffer: a
/// per-test `set_default` subscriber can miss events when tests on other threads start and
/// drop theirs meanwhile (tracing caches, per callsite, whether anybody listens).
pub fn capture() -> (Captured, Capturing) {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_writer(|| ThreadSink)
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only global subscriber");
    });
    let out = Captured::default();
    SINK.with(|sink| *sink.borrow_mut() = Some(out.clone()));
    (out, Capturing)
}
