//! What `#[handler]`'s expansion names besides the public API, re-exported as `__private`.
//!
//! Not a public API: it may change in any release.

use std::fmt;

use crate::handler::BoxError;

/// What a plain or `async` callback written under `#[handler]` may return where the runtime
/// expects a `Result<T, BoxError>`: `T` itself (the callback cannot fail) or `Result<T, E>`.
///
/// The two impls cannot overlap: `T` would have to be `Result<T, E>`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a valid return type for this `#[handler]` callback",
    label = "expected `{T}` or `Result<{T}, E>`",
    note = "return `{T}`, or `Result<{T}, E>` where `E: Into<event_core::BoxError>` to fail"
)]
pub trait Outcome<T> {
    /// The callback's result, failures boxed.
    ///
    /// # Errors
    /// The callback's own error, boxed.
    fn into_result(self) -> Result<T, BoxError>;
}

impl<T> Outcome<T> for T {
    fn into_result(self) -> Result<T, BoxError> {
        Ok(self)
    }
}

impl<T, E: Into<BoxError>> Outcome<T> for Result<T, E> {
    fn into_result(self) -> Result<T, BoxError> {
        self.map_err(Into::into)
    }
}

/// The status view `#[handler]` on a struct generates: its fields with `Debug`, `#[redact]`
/// fields hidden.
pub trait Status {
    /// Writes the view.
    ///
    /// # Errors
    /// The formatter's.
    fn fmt_status(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

/// Stands for a `#[redact]` field in a status view.
pub struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Picks the struct's [`Status`] when `#[handler]` generated one, the default view otherwise,
/// by autoref specialization: `(&&StatusProbe(h)).event_core_status(f)` finds [`ViaStatus`]
/// first (its receiver is `&&StatusProbe`) and falls back to [`ViaDefault`] after one deref.
pub struct StatusProbe<'a, H>(pub &'a H);

/// The probe's choice when the handler struct has a [`Status`].
pub trait ViaStatus {
    /// Writes the struct's status view.
    ///
    /// # Errors
    /// The formatter's.
    fn event_core_status(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

impl<H: Status> ViaStatus for &StatusProbe<'_, H> {
    fn event_core_status(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt_status(f)
    }
}

/// The probe's fallback: the state is not shown.
pub trait ViaDefault {
    /// Writes the default view, as `Handler::format_status` does.
    ///
    /// # Errors
    /// The formatter's.
    fn event_core_status(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

impl<H> ViaDefault for StatusProbe<'_, H> {
    fn event_core_status(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The same words as `Handler::format_status`'s default.
        f.write_str("(state not shown)")
    }
}

/// What a generic `#[handler]` asserts of its type `H` and its event type `E`: the bounds of
/// [`Handler`], and what a manager needs of its events. Its impls assume them in their `where`
/// clauses, so that a handler missing one gets this error alone, on its type.
///
/// [`Handler`]: crate::Handler
pub fn assert_handler<H: Send + 'static, E: Send + Sync + 'static>() {}
