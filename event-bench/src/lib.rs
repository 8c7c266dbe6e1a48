//! The handlers the benchmark program and the micro-benchmarks share.

pub mod handlers;
