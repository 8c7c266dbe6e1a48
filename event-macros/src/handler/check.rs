//! The checks rustc cannot word well: each callback's receiver, parameters, return type and
//! `async`, and the cross-cutting ones (one method per request type, a `handle_event`). Each
//! error is spanned on the offending token; what passes becomes a [`Callback`] to expand.

use quote::ToTokens;
use syn::{FnArg, GenericArgument, GenericParam, Ident, PathArguments, ReturnType, Type};

use super::ast::{HandlerImpl, Kind, Method};
use crate::ctxt::{distance, Errors};

/// A callback that passed the checks, reduced to what the expansion needs.
pub struct Callback<'a> {
    pub ident: &'a Ident,
    /// The `async` keyword's span, for an `async` method.
    pub asyncness: Option<proc_macro2::Span>,
    /// The parameter after the receiver: init's args, the event, the info, the request, or
    /// terminate's reason (`None` when the callback does not take it).
    pub value: Option<&'a Type>,
    /// The context's type, when it is passed last.
    pub cx: Option<&'a Type>,
    /// The return type as written (`None` for `()`).
    pub output: Option<&'a Type>,
}

/// The callbacks of one handler.
#[derive(Default)]
pub struct Plan<'a> {
    pub init: Option<Callback<'a>>,
    pub handle_event: Option<Callback<'a>>,
    pub handle_info: Option<Callback<'a>>,
    /// The `M` of handle_info's `Info<M>`.
    pub info: Option<&'a Type>,
    pub terminate: Option<Callback<'a>>,
    pub format_status: Option<Callback<'a>>,
    pub calls: Vec<Callback<'a>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Receiver {
    None,
    Value,
    Ref,
    RefMut,
    Other,
}

pub fn check<'a>(input: &HandlerImpl<'a>, errors: &mut Errors) -> Plan<'a> {
    let mut plan = Plan::default();
    for method in &input.methods {
        let Some(callback) = check_method(method, errors) else {
            continue;
        };
        match method.kind {
            Kind::Init => plan.init = Some(callback),
            Kind::HandleEvent => plan.handle_event = Some(callback),
            Kind::HandleInfo => {
                plan.info = callback.value.and_then(info_message);
                plan.handle_info = Some(callback);
            }
            Kind::Terminate => plan.terminate = Some(callback),
            Kind::FormatStatus => plan.format_status = Some(callback),
            Kind::Call => {
                let request = callback.value.map(|t| t.to_token_stream().to_string());
                let earlier = plan
                    .calls
                    .iter()
                    .find(|c| c.value.map(|t| t.to_token_stream().to_string()) == request);
                if let (Some(earlier), Some(ty)) = (earlier, callback.value) {
                    errors.at(
                        ty,
                        format_args!(
                            "requests of type `{}` are already answered by `{}`: one \
                             `#[call]` method per request type",
                            ty.to_token_stream(),
                            earlier.ident
                        ),
                    );
                } else {
                    plan.calls.push(callback);
                }
            }
        }
    }
    let misspelt = misspelt_callbacks(input, errors);
    if !input.is_trait_impl
        && !input.methods.iter().any(|m| m.kind == Kind::HandleEvent)
        && !misspelt.contains(&Kind::HandleEvent)
    {
        let message = if input.methods.iter().all(|m| m.kind == Kind::Call) {
            "a handler needs a `handle_event` method: \
             `fn handle_event(&mut self, event: &Event)`. If it is in another `#[handler]` \
             impl block of this type, move these methods there: one impl block per handler"
        } else {
            "a handler needs a `handle_event` method: \
             `fn handle_event(&mut self, event: &Event)`"
        };
        errors.at(&input.item.self_ty, message);
    }
    plan
}

/// The callbacks whose name a method of the block misspells, each reported on the method:
/// a method named close to a callback the block does not have, taking the receiver that
/// callback takes (so `fn terminated(&self) -> bool` is the handler's own). `init` is left
/// out: its name is too short to tell a slip from a word.
fn misspelt_callbacks(input: &HandlerImpl, errors: &mut Errors) -> Vec<Kind> {
    const NAMES: &[(&str, Kind, Receiver)] = &[
        ("handle_event", Kind::HandleEvent, Receiver::RefMut),
        ("handle_info", Kind::HandleInfo, Receiver::RefMut),
        ("terminate", Kind::Terminate, Receiver::Value),
        ("format_status", Kind::FormatStatus, Receiver::Ref),
    ];
    let mut found = Vec::new();
    if input.is_trait_impl {
        return found;
    }
    for member in &input.item.items {
        let syn::ImplItem::Fn(func) = member else {
            continue;
        };
        let name = func.sig.ident.to_string();
        if Kind::by_name(&name).is_some() || func.attrs.iter().any(super::ast::is_call) {
            continue;
        }
        let receiver = match func.sig.inputs.first() {
            Some(FnArg::Receiver(r)) => receiver_kind(r),
            _ => Receiver::None,
        };
        let absent = NAMES.iter().filter(|(_, kind, wants)| {
            !input.methods.iter().any(|m| m.kind == *kind)
                && (*wants == receiver || (*wants == Receiver::RefMut && receiver == Receiver::Ref))
        });
        // At most two edits (a slip, a swap of two letters): `handle_error` or `handle_item`
        // are the handler's own.
        let closest = absent
            .map(|entry| (distance(&name, entry.0), entry))
            .filter(|(d, _)| *d <= 2)
            .min_by_key(|(d, _)| *d);
        if let Some((_, (callback, kind, _))) = closest {
            errors.at(
                &func.sig.ident,
                format_args!(
                    "`{name}` is not a callback of a handler (did you mean `{callback}`?): the \
                     runtime calls only the methods named as its callbacks. Rename it \
                     `{callback}`, or, if it is the handler's own method, give it a name \
                     further from `{callback}`"
                ),
            );
            found.push(*kind);
        }
    }
    found
}

/// Checks one method against its callback kind; `None` if it cannot be expanded.
fn check_method<'a>(method: &Method<'a>, errors: &mut Errors) -> Option<Callback<'a>> {
    let sig = &method.func.sig;
    let name = &sig.ident;
    let what = match method.kind {
        Kind::Call => format!("the `#[call]` method `{name}`"),
        _ => format!("`{name}`"),
    };
    let before = errors.count();
    let fail = |errors: &mut Errors, tokens: &dyn ToTokens, message: String| {
        errors.at(tokens.to_token_stream(), message);
    };

    // What no callback may be.
    for param in &sig.generics.params {
        if !matches!(param, GenericParam::Lifetime(_)) {
            fail(
                errors,
                param,
                format!("{what} cannot be generic: the runtime calls it with fixed types"),
            );
        }
    }
    if let syn::Safety::Unsafe(token) = &sig.safety {
        fail(
            errors,
            token,
            format!("{what} cannot be `unsafe`: the runtime calls it"),
        );
    }
    if let Some(abi) = &sig.abi {
        fail(errors, abi, format!("{what} cannot have an ABI"));
    }
    if let Some(variadic) = &sig.variadic {
        fail(errors, variadic, format!("{what} cannot be variadic"));
    }

    // The lifetimes the method declares: a type crossing into or out of the manager cannot
    // borrow for them.
    let local: Vec<String> = sig
        .generics
        .lifetimes()
        .map(|l| l.lifetime.ident.to_string())
        .collect();

    // The receiver.
    let receiver_arg = sig.inputs.first().and_then(|a| match a {
        FnArg::Receiver(r) => Some(r),
        FnArg::Typed(_) => None,
    });
    let receiver = receiver_arg.map_or(Receiver::None, receiver_kind);
    let receiver_span: &dyn ToTokens = match receiver_arg {
        Some(r) => r,
        None => name,
    };
    match method.kind {
        Kind::Init => {
            if receiver != Receiver::None {
                fail(
                    errors,
                    receiver_span,
                    "`init` builds the handler, so it takes no `self`: \
                     `fn init(args: Args) -> Self`"
                        .into(),
                );
            }
        }
        Kind::Terminate => match receiver {
            Receiver::Value => {}
            Receiver::None => fail(
                errors,
                receiver_span,
                "`terminate` consumes the handler: take `self` first".into(),
            ),
            _ => fail(
                errors,
                receiver_span,
                "`terminate` consumes the handler: take `self`, not a reference".into(),
            ),
        },
        Kind::FormatStatus => {
            if receiver != Receiver::Ref {
                fail(
                    errors,
                    receiver_span,
                    "`format_status` only looks at the handler: take `&self`".into(),
                );
            }
        }
        Kind::HandleEvent | Kind::HandleInfo | Kind::Call => match receiver {
            Receiver::Ref | Receiver::RefMut => {}
            Receiver::None => fail(
                errors,
                receiver_span,
                format!("{what} is a method of the handler: take `&mut self` first"),
            ),
            _ => fail(
                errors,
                receiver_span,
                format!(
                    "{what} borrows the handler: take `&mut self` (only `terminate` \
                     consumes it)"
                ),
            ),
        },
    }

    // The parameters: a value, then optionally the context, a `&mut` reference.
    let params: Vec<&syn::PatType> = sig
        .inputs
        .iter()
        .filter_map(|a| match a {
            FnArg::Typed(t) => Some(t),
            FnArg::Receiver(_) => None,
        })
        .collect();
    let is_cx = |t: &Type| matches!(t, Type::Reference(r) if r.mutability.is_some());
    let (value_slot, takes_cx) = match method.kind {
        // init's args are optional (no args: `Args = ()`).
        Kind::Init => (Slot::Optional, true),
        Kind::Terminate => (Slot::Optional, false),
        Kind::FormatStatus => (Slot::Required, false),
        Kind::HandleEvent | Kind::HandleInfo | Kind::Call => (Slot::Required, true),
    };
    let shape = shape(method.kind);
    // The context is the last parameter when it is a `&mut` reference; init may take it alone.
    let cx = takes_cx
        && params.last().is_some_and(|p| is_cx(&p.ty))
        && (params.len() >= 2 || method.kind == Kind::Init);
    let values = &params[..params.len() - usize::from(cx)];
    let value = values.first().map(|p| &*p.ty);
    let misplaced = params
        .iter()
        .rev()
        .skip(1)
        .find(|p| takes_cx && names_context(&p.ty));
    if let Some(param) = misplaced {
        fail(
            errors,
            &param.ty,
            format!("the context comes last: {what} takes {shape}"),
        );
    } else {
        if value.is_none() && value_slot == Slot::Required {
            fail(errors, name, format!("{what} takes {shape}"));
        }
        match values.get(1..).unwrap_or_default() {
            [] => {}
            extra if method.kind == Kind::Init => {
                let extra = extra.iter();
                fail(
                    errors,
                    &quote::quote!(#(#extra),*),
                    "`init` takes its args as one parameter, and optionally the context last: \
                     several values are one tuple parameter, `fn init((a, b): (A, B))`"
                        .into(),
                );
            }
            [one] if takes_cx && !cx => fail(
                errors,
                &one.ty,
                format!(
                    "the parameter after the {} of {what} is the context: \
                     `&mut Context<Event, Self>`",
                    value_name(method.kind)
                ),
            ),
            extra => {
                let extra = extra.iter();
                fail(
                    errors,
                    &quote::quote!(#(#extra),*),
                    format!("too many parameters: {what} takes {shape}"),
                );
            }
        }
    }

    for param in &params {
        if let Some(Unfit::Opaque(span)) = unfit(&param.ty) {
            errors.push(syn::Error::new(
                span,
                format!(
                    "{what} cannot be generic, and an `impl Trait` parameter is a type \
                     parameter: name the type"
                ),
            ));
        }
    }

    // Per-kind checks of the value (the misplaced context is not it).
    if let Some(ty) = value.filter(|_| misplaced.is_none()) {
        match method.kind {
            Kind::HandleEvent if !matches!(ty, Type::Reference(r) if r.mutability.is_none()) => {
                fail(
                    errors,
                    ty,
                    "`handle_event` takes the event by reference: `event: &Event`".into(),
                );
            }
            Kind::HandleInfo if info_message(ty).is_none() => fail(
                errors,
                ty,
                "`handle_info` takes `Info<M>`, where `M` is the type of the messages the \
                 handler sends itself"
                    .into(),
            ),
            Kind::Call if matches!(ty, Type::Reference(_)) => fail(
                errors,
                ty,
                format!("{what} takes its request by value: the request type is its type"),
            ),
            Kind::Init | Kind::Call => {
                if let Some(Unfit::Borrows(span)) = unfit_in(ty, &local) {
                    errors.push(syn::Error::new(
                        span,
                        format!(
                            "the {} of {what} cannot borrow: {} moved into the manager. Take an \
                             owned type, or a `&'static` reference",
                            value_name(method.kind),
                            if method.kind == Kind::Init {
                                "they are"
                            } else {
                                "it is"
                            },
                        ),
                    ));
                }
            }
            Kind::HandleInfo => {
                if let Some(Unfit::Borrows(span)) =
                    info_message(ty).and_then(|m| unfit_in(m, &local))
                {
                    errors.push(syn::Error::new(
                        span,
                        "the messages a handler sends itself cannot borrow: they wait in the \
                         manager. Take an owned type, or a `&'static` reference",
                    ));
                }
            }
            Kind::Terminate if is_cx(ty) => fail(
                errors,
                ty,
                "`terminate` takes only the reason it ends, `reason: Terminate`; it gets no \
                 context"
                    .into(),
            ),
            _ => {}
        }
    }

    // The return type.
    let output = match &sig.output {
        ReturnType::Default => None,
        ReturnType::Type(_, ty) => Some(&**ty),
    };
    // A hand-over that borrows does not compile as a method already: only a reply is checked.
    if let (Kind::Call | Kind::Terminate, Some(ty)) = (method.kind, output) {
        match unfit_in(ty, &local) {
            Some(Unfit::Borrows(span)) if method.kind == Kind::Call => {
                errors.push(syn::Error::new(
                    span,
                    "a reply is sent to the caller once the call is done: it cannot \
                     borrow. Return an owned value",
                ))
            }
            Some(Unfit::Opaque(span)) => errors.push(syn::Error::new(
                span,
                format!("{what} returns a type the handler's impls must name: not `impl Trait`"),
            )),
            _ => {}
        }
    }
    if output.is_none() {
        match method.kind {
            Kind::Init => fail(
                errors,
                name,
                "`init` returns the handler: `-> Self` or `-> Result<Self, E>`".into(),
            ),
            Kind::Call => fail(
                errors,
                name,
                format!(
                    "{what} has no reply type: a call returns its reply (`-> ()` to reply \
                     with nothing)"
                ),
            ),
            _ => {}
        }
    }

    // `async`.
    if let Some(token) = &sig.asyncness {
        match method.kind {
            Kind::FormatStatus => fail(
                errors,
                token,
                "`format_status` cannot be `async`: it writes to a formatter while a crash \
                 report is being written"
                    .into(),
            ),
            Kind::Init if cx => fail(
                errors,
                token,
                "an `async init` cannot take the context: its future outlives the call. \
                 Drop the context parameter, or make `init` a plain `fn`"
                    .into(),
            ),
            _ => {}
        }
    }

    if errors.count() != before {
        return None;
    }
    Some(Callback {
        ident: name,
        asyncness: sig.asyncness.as_ref().map(|a| a.span),
        value,
        cx: params.last().filter(|_| cx).map(|p| &*p.ty),
        output,
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Slot {
    Optional,
    Required,
}

fn shape(kind: Kind) -> &'static str {
    match kind {
        Kind::Init => "its args and, optionally, the context last: \
                       `fn init(args: Args, cx: &mut Context<Event, Self>)`",
        Kind::HandleEvent => "the event and, optionally, the context last: \
                              `fn handle_event(&mut self, event: &Event, cx: &mut Context<Event, Self>)`",
        Kind::HandleInfo => "the message and, optionally, the context last: \
                             `fn handle_info(&mut self, info: Info<M>, cx: &mut Context<Event, Self>)`",
        Kind::Call => "the request by value and, optionally, the context last: \
                       `fn name(&mut self, request: Request, cx: &mut Context<Event, Self>) -> Reply`",
        Kind::Terminate => "at most the reason it ends: `fn terminate(self, reason: Terminate)`",
        Kind::FormatStatus => "a formatter: \
                               `fn format_status(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result`",
    }
}

fn value_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Init => "args",
        Kind::HandleEvent => "event",
        Kind::HandleInfo => "message",
        Kind::Call => "request",
        Kind::Terminate => "reason",
        Kind::FormatStatus => "formatter",
    }
}

/// `&mut Context<..>`, by the name of its last path segment.
fn names_context(ty: &Type) -> bool {
    let Type::Reference(r) = ty else { return false };
    r.mutability.is_some()
        && matches!(&*r.elem, Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Context"))
}

fn receiver_kind(r: &syn::Receiver) -> Receiver {
    match &r.kind {
        syn::ReceiverKind::Value => Receiver::Value,
        syn::ReceiverKind::Reference(_, _, None) => Receiver::Ref,
        syn::ReceiverKind::Reference(_, _, Some(_)) => Receiver::RefMut,
        syn::ReceiverKind::Typed(_, ty) => match &**ty {
            Type::Path(p) if p.path.is_ident("Self") => Receiver::Value,
            Type::Reference(r) if matches!(&*r.elem, Type::Path(p) if p.path.is_ident("Self")) => {
                if r.mutability.is_some() {
                    Receiver::RefMut
                } else {
                    Receiver::Ref
                }
            }
            _ => Receiver::Other,
        },
        _ => Receiver::Other,
    }
}

/// The `M` of `Info<M>` (any path ending in `Info`).
pub fn info_message(ty: &Type) -> Option<&Type> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != "Info" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let mut types = args.args.iter();
    match (types.next(), types.next()) {
        (Some(GenericArgument::Type(m)), None) => Some(m),
        _ => None,
    }
}

/// What makes a type unfit to cross into or out of the manager, with where it is.
pub enum Unfit {
    /// An elided or anonymous lifetime: it borrows from the call.
    Borrows(proc_macro2::Span),
    /// `impl Trait`: a type the generated impls cannot name.
    Opaque(proc_macro2::Span),
}

pub fn unfit(ty: &Type) -> Option<Unfit> {
    unfit_in(ty, &[])
}

/// [`unfit`], a lifetime the method declares (in `local`) borrowing too.
fn unfit_in(ty: &Type, local: &[String]) -> Option<Unfit> {
    let borrows = |l: &syn::Lifetime| l.ident == "_" || local.contains(&l.ident.to_string());
    match ty {
        Type::Reference(r) => match &r.lifetime {
            None => Some(Unfit::Borrows(r.and_token.span)),
            Some(l) if borrows(l) => Some(Unfit::Borrows(l.span())),
            Some(_) => unfit_in(&r.elem, local),
        },
        Type::ImplTrait(i) => Some(Unfit::Opaque(i.impl_token.span)),
        Type::Path(p) => p
            .qself
            .as_ref()
            .and_then(|q| unfit_in(&q.ty, local))
            .or_else(|| path_unfit(&p.path, local)),
        Type::Array(a) => unfit_in(&a.elem, local),
        Type::Slice(s) => unfit_in(&s.elem, local),
        Type::Ptr(p) => unfit_in(&p.elem, local),
        Type::Paren(p) => unfit_in(&p.elem, local),
        Type::Group(g) => unfit_in(&g.elem, local),
        Type::Tuple(t) => t.elems.iter().find_map(|t| unfit_in(t, local)),
        Type::TraitObject(t) => t.bounds.iter().find_map(|b| match b {
            syn::TypeParamBound::Trait(t) => path_unfit(&t.path, local),
            syn::TypeParamBound::Lifetime(l) if borrows(l) => Some(Unfit::Borrows(l.span())),
            _ => None,
        }),
        // A function pointer's or an `Fn` bound's elided lifetimes are its own.
        _ => None,
    }
}

fn path_unfit(path: &syn::Path, local: &[String]) -> Option<Unfit> {
    let borrows = |l: &syn::Lifetime| l.ident == "_" || local.contains(&l.ident.to_string());
    path.segments.iter().find_map(|segment| {
        let PathArguments::AngleBracketed(args) = &segment.arguments else {
            return None;
        };
        args.args.iter().find_map(|arg| match arg {
            GenericArgument::Lifetime(l) if borrows(l) => Some(Unfit::Borrows(l.span())),
            GenericArgument::Type(ty) => unfit_in(ty, local),
            GenericArgument::AssocType(a) => unfit_in(&a.ty, local),
            _ => None,
        })
    })
}
