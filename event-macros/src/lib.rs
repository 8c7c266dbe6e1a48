//! Procedural macros for [`event-core`](https://docs.rs/event-core).
//!
//! This crate will hold `#[handler]`, which turns an annotated struct and its `impl` block into
//! an event handler, and `supervisor!`, which declares a supervision tree checked at compile
//! time. Depend on `event-core` (feature `macros`, on by default) rather than on this crate:
//! the expansions name the runtime through `::event_core::__private`.
//!
//! Until those macros land, handlers are written as plain `impl Handler<E> for T` blocks; see
//! the guide in `event-core`.
#![forbid(unsafe_code)]
