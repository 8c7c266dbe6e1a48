//! `#[handler]`: parse (`attr`, `ast`), check (`check`), expand (`expand`), and on error the
//! stand-in impls (`fallback`).

mod ast;
mod attr;
mod check;
mod expand;
mod fallback;

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{Fields, ImplItem, Item};

use crate::ctxt::Errors;
use ast::Input;

pub fn expand(args: TokenStream, input: TokenStream) -> TokenStream {
    let mut item: Item = match syn::parse2(input.clone()) {
        Ok(item) => item,
        Err(e) => {
            let error = e.to_compile_error();
            return quote!(#input #error);
        }
    };
    let mut errors = Errors::default();
    let keys = attr::parse(args, &mut errors);
    let private = keys.private();
    let generated = match Input::from_item(&item, &mut errors) {
        Some(Input::Struct(s)) => {
            if let Some((key, _)) = &keys.event {
                errors.at(
                    key,
                    "`event` goes on the impl block: `#[handler(event = Event)] impl Name { .. }`",
                );
            }
            // Valid whatever else is wrong, and nothing else depends on it.
            expand::status(&s, &private)
        }
        Some(Input::Impl(i)) => {
            let event = keys.event.as_ref().map(|(_, ty)| ty);
            if event.is_none() && !keys.cut_short && !i.is_trait_impl {
                errors.push(syn::Error::new(
                    Span::call_site(),
                    "missing the event type: `#[handler(event = Event)]`",
                ));
            }
            let plan = check::check(&i, &mut errors);
            match event {
                Some(event) if errors.count() == 0 => expand::handler(&i, &plan, event, &private),
                // Stand-ins for the impls, so that the handler's uses elsewhere compile and the
                // mistakes above are the only errors.
                // A block of `#[call]` methods alone is most likely a second block for a
                // handler declared elsewhere: stand-ins would conflict with its impls.
                _ if !i.is_trait_impl && i.methods.iter().any(|m| m.kind != ast::Kind::Call) => {
                    fallback::handler(&i, event, &private)
                }
                _ => TokenStream::new(),
            }
        }
        None => TokenStream::new(),
    };
    prepare_user_item(&mut item);
    let errors = errors.into_compile_errors();
    quote!(#item #generated #errors)
}

/// Removes `#[call]` and `#[redact]`, which only this macro understands, and allows on each
/// callback the lints that the shape the macro imposes would trigger (a request taken by value,
/// an event by reference, be it a `&String`, a receiver the callback may not need, a call's
/// `-> ()`).
fn prepare_user_item(item: &mut Item) {
    match item {
        Item::Impl(i) => {
            for member in &mut i.items {
                if let ImplItem::Fn(f) = member {
                    let is_call = f.attrs.iter().any(ast::is_call);
                    f.attrs.retain(|a| !ast::is_call(a));
                    if is_call || ast::Kind::by_name(&f.sig.ident.to_string()).is_some() {
                        f.attrs.push(syn::parse_quote! {
                            #[allow(
                                clippy::needless_pass_by_value,
                                clippy::ptr_arg,
                                clippy::trivially_copy_pass_by_ref,
                                clippy::unused_self
                            )]
                        });
                    }
                    if is_call {
                        // A call names its reply, `()` included.
                        f.attrs
                            .push(syn::parse_quote!(#[allow(clippy::unused_unit)]));
                    }
                }
            }
        }
        Item::Struct(s) => {
            let fields = match &mut s.fields {
                Fields::Named(f) => Some(&mut f.named),
                Fields::Unnamed(f) => Some(&mut f.unnamed),
                Fields::Unit => None,
            };
            for field in fields.into_iter().flatten() {
                field.attrs.retain(|a| !ast::is_redact(a));
            }
        }
        _ => {}
    }
}
