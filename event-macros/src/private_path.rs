//! The path the expansions name the runtime through: event-core's hidden module, versioned.

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;
use syn::Path;

/// The name of event-core's hidden module: `__private_` and this crate's version with
/// underscores for dots and any other character an identifier cannot hold
/// (`__private_0_1_0`, `__private_0_2_0_alpha_1`).
///
/// The two crates share one version (the workspace's), and event-core depends on this crate
/// at exactly that version (`=0.1.0`), so the name is the one event-core declares. The version
/// in the name keeps a newer macro crate from ever being paired with an older runtime: its
/// expansions would name a module that does not exist there, rather than items of a hidden,
/// unstable API that an older runtime lacks or shapes otherwise.
pub fn private_module() -> Ident {
    let version = env!("CARGO_PKG_VERSION").replace(|c: char| !c.is_ascii_alphanumeric(), "_");
    Ident::new(&format!("__private_{version}"), Span::call_site())
}

/// The full path of the hidden module: under `krate` (`crate = path`) when it is given, else
/// under `::event_core`.
pub fn private_path(krate: Option<&Path>) -> TokenStream {
    let module = private_module();
    match krate {
        Some(path) => quote!(#path::#module),
        None => quote!(::event_core::#module),
    }
}

#[cfg(test)]
mod tests {
    use super::{private_module, private_path};

    #[test]
    fn the_module_is_named_after_the_version() {
        let version = env!("CARGO_PKG_VERSION");
        let expected = format!("__private_{}", version.replace('.', "_"));
        assert_eq!(private_module().to_string(), expected);
        assert!(!expected.contains('.'));
        assert_eq!(
            private_path(None).to_string(),
            format!(":: event_core :: {expected}")
        );
        let krate: syn::Path = syn::parse_quote!(crate::rt);
        assert_eq!(
            private_path(Some(&krate)).to_string(),
            format!("crate :: rt :: {expected}")
        );
    }
}
