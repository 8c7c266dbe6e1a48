//! Code generation: the `Handler` and `Call` impls that call the user's methods, and the
//! struct's status view. Every impl is `#[automatically_derived]` and names the runtime through
//! its hidden module only (`__private_` and the version, see `crate::private_path`).

use proc_macro2::{Group, Ident, Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{Fields, GenericParam, Type};

use super::ast::{HandlerImpl, HandlerStruct};
use super::check::{Callback, Plan};

/// The struct's status view: `impl Status`, its fields with `Debug`, `#[redact]` ones hidden.
pub fn status(input: &HandlerStruct, private: &TokenStream) -> TokenStream {
    let item = input.item;
    let name = &item.ident;
    let name_str = name.to_string();
    let field_value = |i: usize, f: &super::ast::StatusField| -> TokenStream {
        if f.redacted {
            return quote!(&#private::Redacted);
        }
        match &f.field.ident {
            Some(ident) => quote!(&self.#ident),
            None => {
                let index = syn::Index::from(i);
                quote!(&self.#index)
            }
        }
    };
    let body = match &item.fields {
        Fields::Named(_) => {
            let fields = input.fields.iter().enumerate().map(|(i, f)| {
                let label = f.field.ident.as_ref().map(ToString::to_string);
                let value = field_value(i, f);
                quote!(.field(#label, #value))
            });
            quote!(f.debug_struct(#name_str) #(#fields)* .finish())
        }
        Fields::Unnamed(_) => {
            let fields = input.fields.iter().enumerate().map(|(i, f)| {
                let value = field_value(i, f);
                quote!(.field(#value))
            });
            quote!(f.debug_tuple(#name_str) #(#fields)* .finish())
        }
        Fields::Unit => quote!(f.write_str(#name_str)),
    };

    // Like `derive(Debug)`, each type parameter a shown field uses must be `Debug`.
    let params: Vec<&Ident> = item
        .generics
        .params
        .iter()
        .filter_map(|p| match p {
            GenericParam::Type(t) => Some(&t.ident),
            _ => None,
        })
        .filter(|ident| {
            input
                .fields
                .iter()
                .any(|f| !f.redacted && mentions(f.field.ty.to_token_stream(), ident))
        })
        .collect();
    let (impl_generics, ty_generics, where_clause) = item.generics.split_for_impl();
    let predicates = where_clause.map(|w| &w.predicates).into_iter().flatten();
    quote! {
        #[automatically_derived]
        impl #impl_generics #private::Status for #name #ty_generics
        where
            #(#predicates,)*
            #(#params: #private::fmt::Debug,)*
        {
            fn fmt_status(&self, f: &mut #private::fmt::Formatter<'_>) -> #private::fmt::Result {
                #body
            }
        }
    }
}

fn mentions(tokens: TokenStream, ident: &Ident) -> bool {
    tokens.into_iter().any(|tt| match tt {
        TokenTree::Ident(i) => i == *ident,
        TokenTree::Group(g) => mentions(g.stream(), ident),
        _ => false,
    })
}

/// What every impl generated for one handler shares: its generics, and the bounds a handler
/// needs, so that a generic handler missing one gets a single error, on its type, from
/// [`Frame::assertions`], and none from the impls themselves.
pub struct Frame<'a> {
    pub p: &'a TokenStream,
    pub self_ty: &'a Type,
    pub event: TokenStream,
    /// `<...>` after `impl`, or nothing.
    pub impl_generics: TokenStream,
    /// The `where` clause of the `Handler` impl.
    pub handler_where: TokenStream,
    /// The `where` clause of a `Call` impl: the `Handler` one, and the handler being one, so
    /// that a handler whose `Handler` impl has an error is not reported again for each call.
    pub call_where: TokenStream,
    /// Whether the user's impl block is generic.
    generic: bool,
    /// The user's impl generics and where clause, for the assertions.
    user_generics: &'a syn::Generics,
}

impl<'a> Frame<'a> {
    /// The frame of `input`'s impls. Without an event type (the fallback, when the key is
    /// missing), the impls are generic over the event.
    pub fn new(input: &HandlerImpl<'a>, event: Option<&Type>, p: &'a TokenStream) -> Self {
        let item = input.item;
        let self_ty = &*item.self_ty;
        let generics = &item.generics;
        let generic = !generics.params.is_empty();
        let mut params: Vec<TokenStream> = generics
            .params
            .iter()
            .map(ToTokens::to_token_stream)
            .collect();
        let event = match event {
            Some(event) => event.to_token_stream(),
            None => {
                params.push(quote!(__Event: 'static));
                quote!(__Event)
            }
        };
        let impl_generics = if params.is_empty() {
            TokenStream::new()
        } else {
            quote!(<#(#params),*>)
        };
        let mut predicates: Vec<TokenStream> = generics
            .where_clause
            .iter()
            .flat_map(|w| w.predicates.iter().map(ToTokens::to_token_stream))
            .collect();
        if generic {
            predicates.push(quote!(#self_ty: #p::Send + 'static));
            predicates.push(quote!(#event: #p::Send + #p::Sync + 'static));
        }
        let handler_where = quote!(where #(#predicates,)*);
        // Higher-ranked, so that it is not a trivial bound, which rustc would check here.
        predicates.push(quote!(for<'__event_core> #self_ty: #p::Handler<#event>));
        let call_where = quote!(where #(#predicates,)*);
        Frame {
            p,
            self_ty,
            event,
            impl_generics,
            handler_where,
            call_where,
            generic,
            user_generics: generics,
        }
    }

    /// For a generic handler, the bounds its impls assume, asserted once: the handler's
    /// (`Send + 'static`), reported on its type, and the event's (`Send + Sync + 'static`, what
    /// a manager needs of its events), reported on the event type.
    pub fn assertions(&self, event: Option<&Type>) -> TokenStream {
        if !self.generic {
            return TokenStream::new();
        }
        let Frame { p, self_ty, .. } = self;
        let (impl_generics, _, where_clause) = self.user_generics.split_for_impl();
        // All of the path spanned on the handler's type, so that a missing `'static`, which
        // rustc reports on the whole call, is reported there too.
        let span = self_ty.span();
        let assert = respan(quote!(#p::assert_handler), span);
        let event = event.map_or_else(|| quote!(()), ToTokens::to_token_stream);
        let call = quote_spanned!(span=> #assert::<#self_ty, #event>());
        quote! {
            #[allow(dead_code)]
            fn assert_bounds #impl_generics () #where_clause {
                #call;
            }
        }
    }
}

impl Frame<'_> {
    /// `Handler<Event>`, spanned on the handler's type: a handler that is not `Send` is
    /// reported there, once.
    pub fn handler_trait(&self) -> TokenStream {
        let Frame {
            p, self_ty, event, ..
        } = self;
        let span = self_ty.span();
        let path = respan(quote!(#p::Handler), span);
        let (lt, gt) = (respan(quote!(<), span), respan(quote!(>), span));
        quote!(#path #lt #event #gt)
    }
}

/// The tokens, every one spanned at `span`.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tt| {
            if let TokenTree::Group(g) = &tt {
                let mut group = Group::new(g.delimiter(), respan(g.stream(), span));
                group.set_span(span);
                tt = TokenTree::Group(group);
            } else {
                tt.set_span(span);
            }
            tt
        })
        .collect()
}

/// The `Handler` impl and one `Call` impl per `#[call]` method.
pub fn handler(input: &HandlerImpl, plan: &Plan, event: &Type, p: &TokenStream) -> TokenStream {
    let frame = Frame::new(input, Some(event), p);
    let Frame {
        self_ty,
        impl_generics,
        handler_where,
        call_where,
        ..
    } = &frame;
    let lt = quote!('__event_core);
    let cx_ty = quote!(#p::Context<#event, Self>);

    // init: the user's, or `Default` with `Args = ()`.
    let (args_ty, init) = match &plan.init {
        Some(cb) => {
            let args_ty = cb
                .value
                .map_or_else(|| quote!(()), ToTokens::to_token_stream);
            let args_pat = if cb.value.is_some() {
                quote!(args)
            } else {
                quote!(_)
            };
            let cx_pat = cx_pat(cb);
            let call = invoke(cb, quote!(), "args");
            let body = finish(cb, Convert::Outcome(quote!(Self)), &call, p);
            (
                args_ty.clone(),
                quote! {
                    fn init(#args_pat: #args_ty, #cx_pat: &mut #cx_ty) -> #p::Step<'static, Self> {
                        #body
                    }
                },
            )
        }
        None => {
            let default = quote_spanned!(self_ty.span()=> <Self as #p::Default>::default());
            (
                quote!(()),
                quote! {
                    fn init((): (), _: &mut #cx_ty) -> #p::Step<'static, Self> {
                        #p::Step::ok(#default)
                    }
                },
            )
        }
    };

    let handle_event = plan.handle_event.as_ref().map(|cb| {
        let cx_pat = cx_pat(cb);
        let call = invoke(cb, quote!(self,), "event");
        let body = finish(cb, Convert::Outcome(quote!(())), &call, p);
        quote! {
            fn handle_event<#lt>(
                &#lt mut self,
                event: &#lt #event,
                #cx_pat: &#lt mut #cx_ty,
            ) -> #p::Step<#lt> {
                #body
            }
        }
    });

    let info_ty = plan
        .info
        .map_or_else(|| quote!(()), ToTokens::to_token_stream);
    let handle_info = plan.handle_info.as_ref().map(|cb| {
        let cx_pat = cx_pat(cb);
        let call = invoke(cb, quote!(self,), "info");
        let body = finish(cb, Convert::Outcome(quote!(())), &call, p);
        quote! {
            fn handle_info<#lt>(
                &#lt mut self,
                info: #p::Info<#info_ty>,
                #cx_pat: &#lt mut #cx_ty,
            ) -> #p::Step<#lt> {
                #body
            }
        }
    });

    // terminate: its return value is the hand-over, as is.
    let (handover_ty, terminate) = match &plan.terminate {
        Some(cb) => {
            let reason_pat = if cb.value.is_some() {
                quote!(reason)
            } else {
                quote!(_)
            };
            let call = invoke(cb, quote!(self,), "reason");
            let body = finish(cb, Convert::Ok, &call, p);
            let handover_ty = cb
                .output
                .map_or_else(|| quote!(()), ToTokens::to_token_stream);
            (
                handover_ty.clone(),
                quote! {
                    fn terminate(self, #reason_pat: #p::Terminate) -> #p::Step<'static, #handover_ty> {
                        #body
                    }
                },
            )
        }
        None => (
            quote!(()),
            quote! {
                fn terminate(self, _: #p::Terminate) -> #p::Step<'static, ()> {
                    #p::Step::ok(())
                }
            },
        ),
    };

    // format_status: the user's, else the struct's status view, else the default.
    let format_status = match &plan.format_status {
        Some(cb) => {
            // The call spanned on the return type, the formatter on its parameter's type, so
            // that a mismatch of either is reported there.
            let ident = cb.ident;
            let f = cb.value.map(|ty| Ident::new("f", ty.span()));
            let span = cb.output.map_or_else(|| ident.span(), Spanned::span);
            quote_spanned!(span=> Self::#ident(self, #f))
        }
        None => quote! {{
            #[allow(unused_imports)]
            use #p::{ViaDefault as _, ViaStatus as _};
            (&&#p::StatusProbe(self)).event_core_status(f)
        }},
    };

    let calls = plan.calls.iter().map(|cb| {
        let request = cb.value.expect("checked: a call takes a request");
        let reply = cb.output.expect("checked: a call has a reply type");
        let cx_pat = cx_pat(cb);
        let call = invoke(cb, quote!(self,), "request");
        let body = finish(cb, Convert::Ok, &call, p);
        quote! {
            #[automatically_derived]
            impl #impl_generics #p::Call<#event, #request> for #self_ty #call_where {
                type Reply = #reply;

                fn handle_call<#lt>(
                    &#lt mut self,
                    request: #request,
                    #cx_pat: &#lt mut #cx_ty,
                ) -> #p::Step<#lt, #reply> {
                    #body
                }
            }
        }
    });
    let assertions = frame.assertions(Some(event));
    let handler_trait = frame.handler_trait();

    quote! {
        const _: () = {
            #[automatically_derived]
            impl #impl_generics #handler_trait for #self_ty #handler_where {
                type Args = #args_ty;
                type Info = #info_ty;
                type Handover = #handover_ty;

                #init
                #handle_event
                #handle_info
                #terminate

                fn format_status(
                    &self,
                    f: &mut #p::fmt::Formatter<'_>,
                ) -> #p::fmt::Result {
                    #format_status
                }
            }

            #(#calls)*

            #assertions
        };
    }
}

/// The pattern of a callback's context parameter: `cx` when the method takes the context,
/// else `_`.
fn cx_pat(cb: &Callback) -> TokenStream {
    if cb.cx.is_some() {
        quote!(cx)
    } else {
        quote!(_)
    }
}

/// `Self::method(receiver, value, cx)`, the value and the context spanned on the parameters'
/// types, so that a type mismatch points at the parameter.
fn invoke(cb: &Callback, receiver: TokenStream, value: &str) -> TokenStream {
    let ident = cb.ident;
    let value = cb.value.map(|ty| {
        let value = Ident::new(value, ty.span());
        quote!(#value,)
    });
    let cx = cb.cx.map(|ty| Ident::new("cx", ty.span()));
    quote!(Self::#ident(#receiver #value #cx))
}

/// How a callback's return value becomes the `Result` the runtime expects.
enum Convert {
    /// Through `Outcome<T>`: `T`, or `Result<T, E>` to fail.
    Outcome(TokenStream),
    /// As is: a reply or a hand-over.
    Ok,
}

/// The callback's `Step`: ready for a plain method, the awaited future for an `async` one.
/// A bad return type is reported on the return type.
fn finish(cb: &Callback, convert: Convert, call: &TokenStream, p: &TokenStream) -> TokenStream {
    let value = if cb.asyncness.is_some() {
        quote!(#call.await)
    } else {
        call.clone()
    };
    let result = match (convert, cb.output) {
        (Convert::Outcome(target), Some(ty)) => {
            // Spanned on the return type, so that a bad one is reported there.
            let returned = Ident::new("returned", ty.span());
            let into_result =
                quote_spanned!(ty.span()=> Outcome::<#target>::into_result(#returned));
            quote!({
                use #p::Outcome;
                let #returned = #value;
                #into_result
            })
        }
        (Convert::Outcome(_) | Convert::Ok, _) => quote!(#p::Ok(#value)),
    };
    if let Some(span) = cb.asyncness {
        // Spanned on `async`, so that a future that is not `Send` is reported there.
        let from_async = quote_spanned!(span=> #p::Step::from_async);
        quote!(#from_async(async move { #result }))
    } else {
        quote!(#p::Step::Ready(#result))
    }
}
