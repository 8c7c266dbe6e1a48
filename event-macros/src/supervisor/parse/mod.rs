//! The syntax of `supervisor!`, read into a [`Tree`]. Every value is read on its own, so a bad
//! value is reported on its tokens and the rest of the tree is still read; a syntax error in a
//! key or a child is reported and the reading goes on at the next `,`.
//!
//! What each file reads:
//! - `mod.rs`: the tree: `struct Name(params) { .. }`, its keys and its `children: [..]` list.
//! - `child.rs`: one child or the `template`, and the `key: value, ..` lists that the tree and
//!   the children are written with.
//! - `value.rs`: one key's value: a word, a number, a duration, a capacity, a string, a
//!   boolean, and the values with keys of their own (`in_place`, `backoff`).

mod child;
mod value;

use proc_macro2::TokenStream;
use syn::parse::{ParseStream, Parser};
use syn::{
    braced, bracketed, parenthesized, token, Attribute, Ident, LitStr, Path, Token, Type,
    Visibility,
};

use crate::ctxt::Errors;
use child::{child, entries, skip_to_comma, template, Raw};
pub use child::{Child, Kind, Restart, Shutdown, Standing};
use value::{intensity, period, string, word, Word};

/// The whole declaration.
pub struct Tree {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub name: Ident,
    pub params: Vec<Param>,
    pub krate: Option<Path>,
    pub sup_name: Option<LitStr>,
    pub strategy: Option<(Strategy, TokenStream)>,
    pub intensity: Option<u32>,
    pub period_ms: Option<u64>,
    pub auto_shutdown: Option<(AutoShutdown, TokenStream)>,
    /// The `children` key and its bracket, when given.
    pub children_key: Option<(Ident, token::Bracket)>,
    pub children: Vec<Child>,
    /// How many entries of `children` could not be read (an unknown kind of child).
    pub children_unread: usize,
    /// Every `template` key, with its guard when it could be read.
    pub templates: Vec<(Ident, Option<Child>)>,
}

/// What the tree is given when it starts: a manager, `(events: Event)`, or a value, by
/// reference, `(bus: &Bus)`.
pub struct Param {
    pub name: Ident,
    /// A manager's event type, or a value's (reference) type.
    pub ty: Type,
    /// A value (its type is a reference), not a manager.
    pub value: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    OneForOne,
    OneForAll,
    RestForOne,
    SimpleOneForOne,
}

impl Word for Strategy {
    const WHAT: &'static str = "strategy";
    const WORDS: &'static [(&'static str, Self)] = &[
        ("one_for_one", Strategy::OneForOne),
        ("one_for_all", Strategy::OneForAll),
        ("rest_for_one", Strategy::RestForOne),
        ("simple_one_for_one", Strategy::SimpleOneForOne),
    ];
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum AutoShutdown {
    Never,
    AnySignificant,
    AllSignificant,
}

impl Word for AutoShutdown {
    const WHAT: &'static str = "auto_shutdown";
    const WORDS: &'static [(&'static str, Self)] = &[
        ("never", AutoShutdown::Never),
        ("any_significant", AutoShutdown::AnySignificant),
        ("all_significant", AutoShutdown::AllSignificant),
    ];
}

const TREE_KEYS: &[&str] = &[
    "strategy",
    "intensity",
    "period",
    "auto_shutdown",
    "name",
    "children",
    "template",
    "crate",
];

pub fn parse(input: TokenStream, errors: &mut Errors) -> syn::Result<Tree> {
    (|stream: ParseStream| tree(stream, errors)).parse2(input)
}

fn tree(input: ParseStream, errors: &mut Errors) -> syn::Result<Tree> {
    let attrs = input.call(Attribute::parse_outer)?;
    let vis: Visibility = input.parse()?;
    if !input.peek(Token![struct]) {
        return Err(input.error(
            "expected `struct Name { .. }`: `supervisor! { pub struct Tree { strategy: one_for_one, children: [..] } }`",
        ));
    }
    input.parse::<Token![struct]>()?;
    let name: Ident = input.parse()?;
    if input.peek(Token![<]) {
        return Err(input.error(
            "a tree is not generic: name the event types of the managers it is given in its parameters, `struct Tree(events: Event) { .. }`",
        ));
    }
    let mut params = Vec::new();
    if input.peek(token::Paren) {
        let content;
        parenthesized!(content in input);
        while !content.is_empty() {
            let name: Ident = content.parse()?;
            content.parse::<Token![:]>()?;
            let ty: Type = content.parse()?;
            let value = matches!(ty, Type::Reference(_));
            params.push(Param { name, ty, value });
            if !content.is_empty() {
                content.parse::<Token![,]>()?;
            }
        }
    }
    if !input.peek(token::Brace) {
        return Err(input.error("expected the tree's body: `{ strategy: .., children: [..] }`"));
    }
    let body;
    braced!(body in input);
    let mut t = Tree {
        attrs,
        vis,
        name,
        params,
        krate: None,
        sup_name: None,
        strategy: None,
        intensity: None,
        period_ms: None,
        auto_shutdown: None,
        children_key: None,
        children: Vec::new(),
        children_unread: 0,
        templates: Vec::new(),
    };
    for (key, raw) in entries(&body, &[], TREE_KEYS, "the tree", errors)?.keys {
        let Raw::Tokens(tokens) = raw else { continue };
        match key.to_string().as_str() {
            "strategy" => t.strategy = word(&tokens, errors).map(|s| (s, tokens.clone())),
            "intensity" => {
                t.intensity = intensity(&tokens, errors);
            }
            "period" => t.period_ms = period(&tokens, errors),
            "auto_shutdown" => t.auto_shutdown = word(&tokens, errors).map(|a| (a, tokens.clone())),
            "name" => t.sup_name = string(&tokens, "the supervisor's name", errors),
            "crate" => match syn::parse2::<Path>(tokens.clone()) {
                Ok(p) => t.krate = Some(p),
                Err(_) => errors.at(
                    &tokens,
                    "expected a path to event_core: `crate: ::event_core`",
                ),
            },
            "children" => {
                let parsed = (|s: ParseStream| {
                    let content;
                    let bracket = bracketed!(content in s);
                    let list = children(&content, errors)?;
                    Ok((bracket, list))
                })
                .parse2(tokens.clone());
                match parsed {
                    Ok((bracket, (list, unread))) => {
                        t.children_key = Some((key, bracket));
                        t.children = list;
                        t.children_unread = unread;
                    }
                    Err(e) => errors.push(syn::Error::new(
                        e.span(),
                        format!("{e}; children are a list in start order: `children: [manager events: Event, guard log: Log {{ manager: events }}]`"),
                    )),
                }
            }
            "template" => {
                let parsed = (|s: ParseStream| template(s, errors)).parse2(tokens.clone());
                match parsed {
                    Ok(child) => t.templates.push((key, Some(child))),
                    Err(e) => {
                        errors.push(e);
                        t.templates.push((key, None));
                    }
                }
            }
            _ => unreachable!("entries() keeps only known keys"),
        }
    }
    Ok(t)
}

/// `children: [ .. ]`'s content: the children read, and how many could not be. A child with
/// a syntax error is reported and skipped up to the next `,`, and the others are still read.
fn children(input: ParseStream, errors: &mut Errors) -> syn::Result<(Vec<Child>, usize)> {
    let mut list = Vec::new();
    let mut unread = 0;
    while !input.is_empty() {
        match child(input, errors) {
            Ok(Some(child)) => list.push(child),
            Ok(None) => unread += 1,
            Err(e) => {
                errors.push(e);
                skip_to_comma(input)?;
                unread += 1;
            }
        }
        if !input.is_empty() {
            if let Err(e) = input.parse::<Token![,]>() {
                errors.push(syn::Error::new(
                    e.span(),
                    "expected `,`: children are separated by commas",
                ));
                skip_to_comma(input)?;
                if !input.is_empty() {
                    input.parse::<Token![,]>()?;
                }
            }
        }
    }
    Ok((list, unread))
}
