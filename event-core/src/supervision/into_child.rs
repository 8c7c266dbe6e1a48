//! Types that know how to start as a supervisor's child: [`IntoChild`], which `supervisor!`'s
//! `child` form takes.

use std::sync::Arc;

use super::child::ChildSpec;
use super::supervisor::{ChildRef, SupervisorError};

/// A type that knows how to start as a supervisor's child: it gives its [`ChildSpec`] under
/// the id its tree names it by, and a handle that the tree keeps for it.
///
/// `supervisor!` declares such a child with `child name: Type { from: value }`, and its
/// accessor returns `&Type::Handle`; by hand, give the spec to
/// [`SupervisorBuilder::child`](crate::SupervisorBuilder::child). Implement it for a type of
/// your own to declare it in a tree:
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use event_core::{BoxError, ChildSpec, IntoChild, SupervisorError};
///
/// /// Ticks until stopped; counts its ticks over every incarnation.
/// pub struct Ticker {
///     ticks: Arc<AtomicU64>,
/// }
///
/// impl IntoChild for Ticker {
///     type Handle = Arc<AtomicU64>;
///
///     fn into_child(self, id: Arc<str>) -> Result<(Self::Handle, ChildSpec), SupervisorError> {
///         let ticks = self.ticks.clone();
///         let spec = ChildSpec::task(id, move |stop| {
///             let ticks = ticks.clone();
///             async move {
///                 while !stop.is_stopped() {
///                     ticks.fetch_add(1, Ordering::Relaxed);
///                     tokio::task::yield_now().await;
///                 }
///                 Ok::<(), BoxError>(())
///             }
///         });
///         Ok((self.ticks, spec))
///     }
/// }
///
/// event_core::supervisor! {
///     struct Clock {
///         children: [
///             child ticker: Ticker { from: Ticker { ticks: Arc::default() } },
///         ],
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let clock = Clock::start().await?;
/// let ticks: &Arc<AtomicU64> = clock.ticker();
/// while ticks.load(Ordering::Relaxed) == 0 {
///     tokio::task::yield_now().await;
/// }
/// clock.stop().await?;
/// # Ok(()) }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not know how to start as a supervisor's child",
    label = "not a child: `IntoChild` is not implemented for `{Self}`",
    note = "implement `event_core::IntoChild` for it: `into_child` gives its `ChildSpec` and the handle the tree keeps"
)]
pub trait IntoChild {
    /// What the tree keeps for the child, and its accessor returns: a handle that reaches
    /// every incarnation, the child's counters, or its [`ChildRef`].
    type Handle: Clone + Send + Sync + 'static;

    /// The child's specification with id `id`, and its handle.
    ///
    /// # Errors
    /// A child that cannot be made ([`SupervisorError::BadSpec`] saying why, or
    /// [`SupervisorError::NoRuntime`]).
    fn into_child(self, id: Arc<str>) -> Result<(Self::Handle, ChildSpec), SupervisorError>;
}

/// A specification made by hand: the tree names it (its own id is replaced by `id`), and keeps
/// its [`ChildRef`].
impl IntoChild for ChildSpec {
    type Handle = ChildRef;

    fn into_child(mut self, id: Arc<str>) -> Result<(ChildRef, ChildSpec), SupervisorError> {
        self.id = id.clone();
        Ok((ChildRef::Id(id), self))
    }
}
