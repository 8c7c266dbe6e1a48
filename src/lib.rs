//! The workspace's root package: it owns the runnable examples (`examples/`) and the
//! cross-crate integration tests (`tests/`). It publishes nothing; the library is
//! `event-core`.
