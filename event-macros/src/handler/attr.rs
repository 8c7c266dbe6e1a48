//! The grammar of `#[handler(...)]`'s keys: `event = Type` and `crate = path`.

use proc_macro2::{TokenStream, TokenTree};
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::{Ident, Path, Token, Type};

use crate::ctxt::Errors;
use crate::private_path::private_path;

/// The keys, in the order a message lists them.
pub const KEYS: &str = "`event`, `crate`";

/// The keys given to one `#[handler(...)]`.
#[derive(Default)]
pub struct Keys {
    /// `event = Type`: the event type the handler handles, with the key for spans.
    pub event: Option<(Ident, Type)>,
    /// `crate = path`: where `event_core` is, when it is not `::event_core`.
    pub krate: Option<(Ident, Path)>,
    /// A syntax error cut the parse short: a key may be missing only because it was not read.
    pub cut_short: bool,
}

impl Keys {
    /// The path of the runtime's hidden module (`::event_core::__private_0_1_0`).
    pub fn private(&self) -> TokenStream {
        private_path(self.krate.as_ref().map(|(_, path)| path))
    }
}

/// Parses the attribute's arguments, reporting every bad key; a syntax error ends the parse
/// (what follows it cannot be trusted) but keeps what was read before it.
pub fn parse(args: TokenStream, errors: &mut Errors) -> Keys {
    let mut keys = Keys::default();
    let parser = |input: ParseStream| {
        if let Err(e) = parse_keys(input, &mut keys, errors) {
            errors.push(e);
            keys.cut_short = true;
            // The rest cannot be trusted: skip it rather than report it too.
            input.parse::<TokenStream>()?;
        }
        Ok(())
    };
    if let Err(e) = parser.parse2(args) {
        errors.push(e);
        keys.cut_short = true;
    }
    keys
}

fn parse_keys(input: ParseStream, keys: &mut Keys, errors: &mut Errors) -> syn::Result<()> {
    while !input.is_empty() {
        parse_key(input, keys, errors)?;
        if input.is_empty() {
            break;
        }
        input.parse::<Token![,]>()?;
    }
    Ok(())
}

fn parse_key(input: ParseStream, keys: &mut Keys, errors: &mut Errors) -> syn::Result<()> {
    let key = Ident::parse_any(input)?;
    let name = key.to_string();
    if name != "event" && name != "crate" {
        errors.at(
            &key,
            format_args!("unknown key `{name}`; expected one of: {KEYS}"),
        );
        skip_value(input);
        return Ok(());
    }
    let what = if name == "event" {
        "the event type: `event = Event`"
    } else {
        "a path: `crate = path::to::event_core`"
    };
    if !input.peek(Token![=]) {
        return Err(syn::Error::new_spanned(
            &key,
            format_args!("expected {what}"),
        ));
    }
    let eq: Token![=] = input.parse()?;
    if input.is_empty() || input.peek(Token![,]) {
        return Err(syn::Error::new(eq.span, format_args!("expected {what}")));
    }
    let duplicate = || syn::Error::new_spanned(&key, format_args!("duplicate key `{name}`"));
    if name == "event" {
        let ty: Type = input.parse()?;
        if keys.event.is_some() {
            errors.push(duplicate());
        } else {
            keys.event = Some((key, ty));
        }
    } else {
        let path = Path::parse_mod_style(input)
            .map_err(|e| syn::Error::new(e.span(), format_args!("expected {what}")))?;
        if keys.krate.is_some() {
            errors.push(duplicate());
        } else {
            keys.krate = Some((key, path));
        }
    }
    Ok(())
}

/// Skips an unknown key's `= value`, up to the next top-level comma.
fn skip_value(input: ParseStream) {
    let _ = input.step(|cursor| {
        let mut rest = *cursor;
        let mut depth = 0usize;
        while let Some((tt, next)) = rest.token_tree() {
            match &tt {
                TokenTree::Punct(p) if p.as_char() == ',' && depth == 0 => break,
                TokenTree::Punct(p) if p.as_char() == '<' => depth += 1,
                TokenTree::Punct(p) if p.as_char() == '>' => depth = depth.saturating_sub(1),
                _ => {}
            }
            rest = next;
        }
        Ok(((), rest))
    });
}
