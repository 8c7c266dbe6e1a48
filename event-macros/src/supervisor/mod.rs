//! `supervisor!`: parse (`parse`), check (`check`), expand (`expand`).

mod check;
mod expand;
mod parse;

use proc_macro2::TokenStream;
use quote::quote;

use crate::ctxt::Errors;

pub fn expand(input: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let mut tree = match parse::parse(input, &mut errors) {
        Ok(tree) => tree,
        Err(e) => {
            errors.push(e);
            return errors.into_compile_errors();
        }
    };
    let plan = check::check(&mut tree, &mut errors);
    let ok = errors.count() == 0;
    let generated = expand::expand(&tree, &plan, ok);
    let errors = errors.into_compile_errors();
    quote!(#errors #generated)
}
