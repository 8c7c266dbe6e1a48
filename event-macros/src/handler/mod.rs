//! `#[handler]`: parse (`attr`, `ast`), check (`check`), expand (`expand`).

mod ast;
mod attr;
mod check;
mod expand;

use proc_macro2::TokenStream;
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
            expand::status(&s, &private)
        }
        Some(Input::Impl(i)) => {
            let plan = check::check(&i, &mut errors);
            match &keys.event {
                Some((_, event)) => expand::handler(&i, &plan, event, &private),
                None => {
                    errors.push(syn::Error::new(
                        proc_macro2::Span::call_site(),
                        "missing the event type: `#[handler(event = Event)]`",
                    ));
                    TokenStream::new()
                }
            }
        }
        None => TokenStream::new(),
    };
    prepare_user_item(&mut item);
    if errors.count() > 0 {
        // The user's item alone, so that one mistake does not cascade through its uses.
        let errors = errors.into_compile_errors();
        return quote!(#item #errors);
    }
    quote!(#item #generated)
}

/// Removes `#[call]` and `#[redact]`, which only this macro understands, and allows on each
/// callback the pedantic lints that the shape the macro imposes would trigger (a request taken
/// by value, an event by reference, a receiver the callback may not need).
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
                                clippy::trivially_copy_pass_by_ref,
                                clippy::unused_self
                            )]
                        });
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
