//! Every error of one macro invocation, collected so that all are reported together.

use proc_macro2::TokenStream;

/// The errors found so far, each spanned on the token it is about.
#[derive(Default)]
pub struct Errors(Option<syn::Error>, usize);

impl Errors {
    /// Adds an error.
    pub fn push(&mut self, error: syn::Error) {
        self.1 += 1;
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    /// Adds an error spanned on `tokens`.
    pub fn at(&mut self, tokens: impl quote::ToTokens, message: impl std::fmt::Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    /// How many errors were found so far.
    pub fn count(&self) -> usize {
        self.1
    }

    /// All the errors as one, if there are any.
    pub fn into_error(self) -> Option<syn::Error> {
        self.0
    }

    /// One `compile_error!` per error.
    pub fn into_compile_errors(self) -> TokenStream {
        self.0.map(|e| e.to_compile_error()).unwrap_or_default()
    }
}
