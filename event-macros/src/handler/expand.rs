//! Code generation: the `Handler` and `Call` impls that call the user's methods, and the
//! struct's status view. Every impl is `#[automatically_derived]` and names the runtime through
//! its `__private` module only.

use proc_macro2::{Ident, TokenStream, TokenTree};
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

/// The `Handler` impl and one `Call` impl per `#[call]` method.
pub fn handler(input: &HandlerImpl, plan: &Plan, event: &Type, p: &TokenStream) -> TokenStream {
    let item = input.item;
    let self_ty = &item.self_ty;
    let (impl_generics, _, where_clause) = item.generics.split_for_impl();
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
            let cx_pat = if cb.cx.is_some() {
                quote!(cx)
            } else {
                quote!(_)
            };
            let call = invoke(cb, quote!(), "args");
            let body = finish(cb, Convert::Outcome(quote!(Self)), &call, p);
            (
                args_ty,
                quote! {
                    fn init(#args_pat: Self::Args, #cx_pat: &mut #cx_ty) -> #p::Step<'static, Self> {
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
        let cx_pat = if cb.cx.is_some() {
            quote!(cx)
        } else {
            quote!(_)
        };
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
        let cx_pat = if cb.cx.is_some() {
            quote!(cx)
        } else {
            quote!(_)
        };
        let call = invoke(cb, quote!(self,), "info");
        let body = finish(cb, Convert::Outcome(quote!(())), &call, p);
        quote! {
            fn handle_info<#lt>(
                &#lt mut self,
                info: #p::Info<Self::Info>,
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
            (
                cb.output
                    .map_or_else(|| quote!(()), ToTokens::to_token_stream),
                quote! {
                    fn terminate(self, #reason_pat: #p::Terminate) -> #p::Step<'static, Self::Handover> {
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
            let ident = cb.ident;
            quote!(Self::#ident(self, f))
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
        let cx_pat = if cb.cx.is_some() {
            quote!(cx)
        } else {
            quote!(_)
        };
        let call = invoke(cb, quote!(self,), "request");
        let body = finish(cb, Convert::Ok, &call, p);
        quote! {
            #[automatically_derived]
            impl #impl_generics #p::Call<#event, #request> for #self_ty #where_clause {
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

    quote! {
        const _: () = {
            #[automatically_derived]
            impl #impl_generics #p::Handler<#event> for #self_ty #where_clause {
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
        };
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
    let value = if cb.is_async {
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
    if cb.is_async {
        quote!(#p::Step::from_async(async move { #result }))
    } else {
        quote!(#p::Step::Ready(#result))
    }
}
