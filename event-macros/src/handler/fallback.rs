//! On error, stand-ins for the impls: a `Handler` impl and a `Call` impl per request type, with
//! the associated types read from the methods as far as they can be, so that the handler's uses
//! elsewhere (`add_handler::<H>(args)`, `call(&h, Request)`, a hand-over) compile and the
//! macro's own errors are the only ones. Their bodies never run: the crate does not compile.

use proc_macro2::{Group, Punct, Spacing, Span, TokenStream, TokenTree};
use quote::{quote, ToTokens};
use syn::{FnArg, GenericParam, ReturnType, Type};

use super::ast::{HandlerImpl, Kind, Method};
use super::check::{info_message, unfit, Unfit};
use super::expand::Frame;

pub fn handler(input: &HandlerImpl, event: Option<&Type>, p: &TokenStream) -> TokenStream {
    let frame = Frame::new(input, event, p);
    let Frame {
        self_ty,
        event,
        impl_generics,
        handler_where,
        call_where,
        ..
    } = &frame;
    // The impl's own lifetimes; any other one in a method's types becomes `'static`.
    let lifetimes: Vec<String> = input
        .item
        .generics
        .lifetimes()
        .map(|l| l.lifetime.ident.to_string())
        .collect();
    let known = |ty: &Type| owned(ty, &lifetimes);
    let of = |kind: Kind| input.methods.iter().find(|m| m.kind == kind && !generic(m));
    let unit = || quote!(());
    let args = of(Kind::Init)
        .and_then(|m| params(m).into_iter().find(|ty| !is_context(ty)))
        .and_then(known)
        .unwrap_or_else(unit);
    let info = of(Kind::HandleInfo)
        .and_then(|m| params(m).into_iter().next())
        .and_then(info_message)
        .and_then(known)
        .unwrap_or_else(unit);
    let handover = of(Kind::Terminate)
        .and_then(output)
        .and_then(known)
        .unwrap_or_else(unit);

    let mut requests: Vec<String> = Vec::new();
    let calls = input
        .methods
        .iter()
        .filter(|m| m.kind == Kind::Call && !generic(m))
        .filter_map(|m| {
            let request = params(m).into_iter().find(|ty| !is_context(ty))?;
            let request = match request {
                Type::Reference(r) => &*r.elem,
                other => other,
            };
            let request = known(request)?;
            let key = request.to_string();
            if requests.contains(&key) {
                return None;
            }
            requests.push(key);
            let reply = output(m).and_then(known).unwrap_or_else(unit);
            Some(quote! {
                #[automatically_derived]
                impl #impl_generics #p::Call<#event, #request> for #self_ty #call_where {
                    type Reply = #reply;

                    fn handle_call<'__event_core>(
                        &'__event_core mut self,
                        _: #request,
                        _: &'__event_core mut #p::Context<#event, Self>,
                    ) -> #p::Step<'__event_core, #reply> {
                        #p::unreachable!()
                    }
                }
            })
        })
        .collect::<Vec<_>>();
    let assertions = frame.assertions(None);
    let handler_trait = frame.handler_trait();

    quote! {
        const _: () = {
            #[automatically_derived]
            impl #impl_generics #handler_trait for #self_ty #handler_where {
                type Args = #args;
                type Info = #info;
                type Handover = #handover;

                fn init(_: #args, _: &mut #p::Context<#event, Self>) -> #p::Step<'static, Self> {
                    #p::unreachable!()
                }

                fn handle_event<'__event_core>(
                    &'__event_core mut self,
                    _: &'__event_core #event,
                    _: &'__event_core mut #p::Context<#event, Self>,
                ) -> #p::Step<'__event_core> {
                    #p::unreachable!()
                }

                fn terminate(self, _: #p::Terminate) -> #p::Step<'static, #handover> {
                    #p::unreachable!()
                }
            }

            #(#calls)*

            #assertions
        };
    }
}

/// The types of a method's parameters, the receiver left out.
fn params<'a>(method: &Method<'a>) -> Vec<&'a Type> {
    method
        .func
        .sig
        .inputs
        .iter()
        .filter_map(|a| match a {
            FnArg::Typed(t) => Some(&*t.ty),
            FnArg::Receiver(_) => None,
        })
        .collect()
}

fn output<'a>(method: &Method<'a>) -> Option<&'a Type> {
    match &method.func.sig.output {
        ReturnType::Default => None,
        ReturnType::Type(_, ty) => Some(ty),
    }
}

fn is_context(ty: &Type) -> bool {
    matches!(ty, Type::Reference(r) if r.mutability.is_some())
}

/// Whether the method has type or const parameters: its types cannot be named outside it.
fn generic(method: &Method) -> bool {
    method
        .func
        .sig
        .generics
        .params
        .iter()
        .any(|p| !matches!(p, GenericParam::Lifetime(_)))
}

/// The type as the stand-in impls can name it: its elided, anonymous and method-declared
/// lifetimes made `'static` (a borrowed type is reported already); `None` for `impl Trait`.
fn owned(ty: &Type, lifetimes: &[String]) -> Option<TokenStream> {
    if let Some(Unfit::Opaque(_)) = unfit(ty) {
        return None;
    }
    Some(statics(ty.to_token_stream(), lifetimes))
}

fn statics(tokens: TokenStream, lifetimes: &[String]) -> TokenStream {
    let mut out = Vec::new();
    let mut iter = tokens.into_iter().peekable();
    while let Some(tt) = iter.next() {
        match tt {
            TokenTree::Group(g) => {
                let mut group = Group::new(g.delimiter(), statics(g.stream(), lifetimes));
                group.set_span(g.span());
                out.push(TokenTree::Group(group));
            }
            TokenTree::Punct(ref amp) if amp.as_char() == '&' => {
                out.push(tt.clone());
                if !matches!(iter.peek(), Some(TokenTree::Punct(q)) if q.as_char() == '\'') {
                    out.extend(static_lifetime(amp.span()));
                }
            }
            TokenTree::Punct(ref q) if q.as_char() == '\'' => match iter.next() {
                Some(TokenTree::Ident(name))
                    if name != "static" && !lifetimes.contains(&name.to_string()) =>
                {
                    out.extend(static_lifetime(name.span()));
                }
                Some(next) => {
                    out.push(tt.clone());
                    out.push(next);
                }
                None => out.push(tt.clone()),
            },
            other => out.push(other),
        }
    }
    out.into_iter().collect()
}

fn static_lifetime(span: Span) -> TokenStream {
    let mut quote = Punct::new('\'', Spacing::Joint);
    quote.set_span(span);
    let name = proc_macro2::Ident::new("static", span);
    quote!(#quote #name)
}
