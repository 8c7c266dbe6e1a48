//! What the macros' expansions name besides the public API, re-exported in the
//! hidden module `__private_<version>` of the crate root.
//!
//! Not a public API: it may change in any release.

use std::fmt;

use crate::handler::BoxError;

/// What a plain or `async` callback written under `#[handler]` may return where the runtime
/// expects a `Result<T, BoxError>`: `T` itself (the callback cannot fail) or `Result<T, E>`
/// where `E: Into<BoxError>`. An `init` returns the handler, `Self` or `Result<Self, E>`;
/// `handle_event` and `handle_info` return `()` or `Result<(), E>`.
///
/// Public so that a wrong return type is reported under this name; there is nothing to
/// implement (the two impls cannot overlap: `T` would have to be `Result<T, E>`).
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

#[diagnostic::do_not_recommend]
impl<T> Outcome<T> for T {
    fn into_result(self) -> Result<T, BoxError> {
        Ok(self)
    }
}

#[diagnostic::do_not_recommend]
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

// ---- supervisor! ----------------------------------------------------------------------------

/// A manager child of a `supervisor!` tree, its standing handlers added: its handle and its
/// specification.
///
/// # Errors
/// The manager's [`StartError`](crate::StartError), as the supervisor's error.
pub fn manager<E: Send + Sync + 'static>(
    child: crate::ManagerChild<E>,
    id: &'static str,
) -> Result<(crate::EventManager<E>, crate::ChildSpec), crate::SupervisorError> {
    child.build().map_err(|e| match e {
        crate::StartError::NoRuntime => crate::SupervisorError::NoRuntime,
        e => crate::SupervisorError::BadSpec(format!("event manager {id}: {e}")),
    })
}

/// A standing handler of a `supervisor!` manager child: every incarnation of the manager
/// starts with it, after the ones before it.
pub fn standing<E, H>(
    child: crate::ManagerChild<E>,
    install: crate::Install<H>,
    args: <H as crate::Handler<E>>::Args,
    in_place: Option<crate::Intensity>,
) -> crate::ManagerChild<E>
where
    E: Send + Sync + 'static,
    H: crate::Handler<E>,
    <H as crate::Handler<E>>::Args: Clone + Sync,
{
    match in_place {
        None => child.handler(install, args),
        Some(intensity) => child.handler_in_place(install, args, intensity),
    }
}

/// A task child of a `supervisor!` tree: `run` started with a fresh stop token at each start.
///
/// Its future's output is `Result<(), BoxError>` itself, not any `Result<(), E>`: named so,
/// it types the `async` block's `Ok(())` and `?` without annotations.
pub fn task<F, Fut>(id: &'static str, run: F) -> crate::ChildSpec
where
    F: Fn(crate::StopToken) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), BoxError>> + Send + 'static,
{
    crate::ChildSpec::task(id, run)
}

/// A child of a `supervisor!` tree of the `child` form: its handle and its specification.
///
/// # Errors
/// The child's own, from [`IntoChild::into_child`](crate::IntoChild::into_child).
pub fn child<T: crate::IntoChild>(
    from: T,
    id: &'static str,
) -> Result<(T::Handle, crate::ChildSpec), crate::SupervisorError> {
    from.into_child(id.into())
}

/// The handle a `supervisor!` tree keeps for a child of type `T` of the `child` form.
///
/// Its type names `T` without requiring `T: IntoChild`, so that a type that is not a child is
/// one error where the child is built, not one on every use of the tree.
pub struct ChildHandle<T: ?Sized> {
    handle: std::sync::Arc<dyn std::any::Any + Send + Sync>,
    of: std::marker::PhantomData<fn() -> T>,
}

impl<T: ?Sized> Clone for ChildHandle<T> {
    fn clone(&self) -> Self {
        ChildHandle {
            handle: self.handle.clone(),
            of: std::marker::PhantomData,
        }
    }
}

impl<T: ?Sized> ChildHandle<T> {
    /// Keeps `handle`, which [`child`] gave for a `T`.
    pub fn new<H: std::any::Any + Send + Sync>(handle: H) -> Self {
        ChildHandle {
            handle: std::sync::Arc::new(handle),
            of: std::marker::PhantomData,
        }
    }
}

impl<T: crate::IntoChild> ChildHandle<T> {
    /// The handle, as the child gave it.
    pub fn get(&self) -> &T::Handle {
        match self.handle.downcast_ref() {
            Some(handle) => handle,
            // The tree keeps what `child` gave for a `T`: a `T::Handle`.
            None => unreachable!("a child's handle is of its type's Handle"),
        }
    }
}

/// A guard child of a `supervisor!` tree: the reference of the handler it installs (the same
/// across re-installs) and the guard.
pub fn guard<E, H>(
    manager: &crate::EventManager<E>,
    install: crate::Install<H>,
    args: <H as crate::Handler<E>>::Args,
    in_place: Option<crate::Intensity>,
) -> (crate::HandlerRef<H>, crate::Guard)
where
    E: Send + Sync + 'static,
    H: crate::Handler<E>,
    <H as crate::Handler<E>>::Args: Clone + Sync,
{
    let handler = install.handler_ref().clone();
    let guard = match in_place {
        None => crate::Guard::new(manager, install, args),
        Some(intensity) => crate::Guard::in_place(manager, install, args, intensity),
    };
    (handler, guard)
}

/// What a `supervisor!` guard template takes from `start_child`.
pub type GuardArgs<E, H> = (crate::Install<H>, <H as crate::Handler<E>>::Args);

/// Gives a `supervisor!` `simple_one_for_one` tree its template: one guard per
/// `start_child`, each child specification passed through `spec` (restart type, shutdown).
pub fn guard_template<E, H>(
    builder: crate::SupervisorBuilder,
    manager: &crate::EventManager<E>,
    in_place: Option<crate::Intensity>,
    dedicated: Option<usize>,
    backoff: Option<crate::Backoff>,
    spec: fn(crate::ChildSpec) -> crate::ChildSpec,
) -> crate::SupervisorBuilder
where
    E: Send + Sync + 'static,
    H: crate::Handler<E>,
    <H as crate::Handler<E>>::Args: Clone + Sync,
{
    let manager = manager.clone();
    builder.template(move |(install, args): GuardArgs<E, H>| {
        let install = match dedicated {
            Some(capacity) => install.dedicated(capacity),
            None => install,
        };
        // Each guard is named after its handler, key included, for its logs.
        let name = install.handler_ref().id().to_string();
        let guard = match in_place {
            None => crate::Guard::new(&manager, install, args),
            Some(intensity) => crate::Guard::in_place(&manager, install, args, intensity),
        };
        let guard = match backoff {
            Some(backoff) => guard.backoff(backoff),
            None => guard,
        };
        spec(guard.child(name))
    })
}

/// The args of a guard or a standing handler that `supervisor!` gives none: `()`, for a
/// handler whose `init` takes nothing.
#[diagnostic::on_unimplemented(
    message = "this handler's `init` takes `{Self}`: give it its args",
    label = "needs `args: ..` of type `{Self}`",
    note = "add `args: <a {Self}>` to its keys; the args are cloned for each install"
)]
pub trait NoArgs {
    /// The args.
    fn no_args() -> Self;
}

impl NoArgs for () {
    fn no_args() -> Self {}
}

/// Starts one guard from a `supervisor!` template; once its handler is installed, the child's
/// reference and the handler's.
///
/// # Errors
/// The supervisor's, as `start_dynamic` returns them.
pub async fn start_guard<E, H>(
    supervisor: &crate::Supervisor,
    key: Option<crate::Key>,
    args: <H as crate::Handler<E>>::Args,
) -> Result<crate::GuardChild<H>, crate::SupervisorError>
where
    E: Send + Sync + 'static,
    H: crate::Handler<E>,
    <H as crate::Handler<E>>::Args: Clone + Sync,
{
    let install = match key {
        Some(key) => crate::Install::<H>::new().key(key),
        None => crate::Install::<H>::new(),
    };
    let handler = install.handler_ref().clone();
    let child = supervisor
        .start_dynamic::<GuardArgs<E, H>>((install, args))
        .await?
        .ok_or_else(|| {
            // A guard's start installs its handler or fails; it never returns `ignore`.
            crate::SupervisorError::BadSpec(format!(
                "the guard of {} was not kept by its supervisor",
                handler.id()
            ))
        })?;
    Ok(crate::GuardChild::new(child, handler))
}

/// What a generic `#[handler]` asserts of its type `H` and its event type `E`: the bounds of
/// [`Handler`], and what a manager needs of its events. Its impls assume them in their `where`
/// clauses, so that a handler missing one gets this error alone, on its type.
///
/// [`Handler`]: crate::Handler
pub fn assert_handler<H: Send + 'static, E: Send + Sync + 'static>() {}
