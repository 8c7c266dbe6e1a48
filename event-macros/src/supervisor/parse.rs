//! The syntax of `supervisor!`, read into a [`Tree`]. Every value is read on its own, so a bad
//! value is reported on its tokens and the rest of the tree is still read; a syntax error in a
//! key or a child is reported and the reading goes on at the next `,`.

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{
    braced, bracketed, parenthesized, token, Attribute, Expr, Ident, LitStr, Path, Token, Type,
    Visibility,
};

use crate::ctxt::{did_you_mean, Errors};

/// A key's value: an expression for the keys that take one, tokens for the others.
enum Raw {
    Tokens(TokenStream),
    Expr(Box<Expr>),
}

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
    pub auto_shutdown: Option<AutoShutdown>,
    /// The `children` key and its bracket, when given.
    pub children_key: Option<(Ident, token::Bracket)>,
    pub children: Vec<Child>,
    /// How many entries of `children` could not be read (an unknown kind of child).
    pub children_unread: usize,
    /// Every `template` key, with its guard when it could be read.
    pub templates: Vec<(Ident, Option<Child>)>,
}

/// A manager the tree is given when it starts: `(events: Event)`.
pub struct Param {
    pub name: Ident,
    pub event: Type,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    OneForOne,
    OneForAll,
    RestForOne,
    SimpleOneForOne,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum AutoShutdown {
    Never,
    AnySignificant,
    AllSignificant,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Restart {
    Permanent,
    Transient,
    Temporary,
}

#[derive(Clone, Copy)]
pub enum Shutdown {
    BrutalKill,
    Infinity,
    Millis(u64),
}

/// One child (or the template, whose name is the `guard` keyword).
pub struct Child {
    pub name: Ident,
    pub kind: Kind,
    pub restart: Option<(Restart, TokenStream)>,
    pub shutdown: Option<Shutdown>,
    /// `significant: true`, with its tokens.
    pub significant: Option<TokenStream>,
    /// Whether an error was reported about this child itself.
    pub bad: bool,
}

pub enum Kind {
    Manager {
        event: Type,
        name: Option<LitStr>,
        bounded: Option<usize>,
        debug_events: bool,
    },
    Guard {
        handler: Type,
        manager: Option<Ident>,
        args: Option<Box<Expr>>,
        key: Option<Box<Expr>>,
        dedicated: Option<usize>,
        /// `(first, max)` in ms, and the attempts.
        backoff: Option<(u64, u64, u32)>,
        /// `(restarts, period in ms)`.
        in_place: Option<(u32, u64)>,
    },
    Task {
        run: Option<Box<Expr>>,
    },
    Supervisor {
        path: Path,
        args: Vec<Ident>,
    },
}

impl Kind {
    pub fn word(&self) -> &'static str {
        match self {
            Kind::Manager { .. } => "an event manager",
            Kind::Guard { .. } => "a guard",
            Kind::Task { .. } => "a task",
            Kind::Supervisor { .. } => "a supervisor",
        }
    }
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
const MANAGER_KEYS: &[&str] = &[
    "name",
    "bounded",
    "debug_events",
    "restart",
    "shutdown",
    "significant",
];
const GUARD_KEYS: &[&str] = &[
    "manager",
    "args",
    "key",
    "dedicated",
    "in_place",
    "backoff",
    "restart",
    "shutdown",
    "significant",
];
const TEMPLATE_KEYS: &[&str] = &[
    "manager",
    "dedicated",
    "in_place",
    "backoff",
    "restart",
    "shutdown",
    "significant",
];
const TASK_KEYS: &[&str] = &["run", "restart", "shutdown", "significant"];
const SUPERVISOR_KEYS: &[&str] = &["restart", "shutdown", "significant"];
const CHILD_KINDS: &[&str] = &["manager", "guard", "task", "supervisor"];

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
            let event: Type = content.parse()?;
            params.push(Param { name, event });
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
            "strategy" => {
                t.strategy = word(
                    &tokens,
                    "strategy",
                    &[
                        ("one_for_one", Strategy::OneForOne),
                        ("one_for_all", Strategy::OneForAll),
                        ("rest_for_one", Strategy::RestForOne),
                        ("simple_one_for_one", Strategy::SimpleOneForOne),
                    ],
                    errors,
                )
                .map(|s| (s, tokens.clone()));
            }
            "intensity" => {
                t.intensity = intensity(&tokens, errors);
            }
            "period" => t.period_ms = period(&tokens, errors),
            "auto_shutdown" => {
                t.auto_shutdown = word(
                    &tokens,
                    "auto_shutdown",
                    &[
                        ("never", AutoShutdown::Never),
                        ("any_significant", AutoShutdown::AnySignificant),
                        ("all_significant", AutoShutdown::AllSignificant),
                    ],
                    errors,
                );
            }
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

/// One child: `kind name: Type { key: value, .. }`; `None` (reported) for an unknown kind.
fn child(input: ParseStream, errors: &mut Errors) -> syn::Result<Option<Child>> {
    let word: Ident = input.call(Ident::parse_any)?;
    let kind = word.to_string();
    if !CHILD_KINDS.contains(&kind.as_str()) {
        errors.at(
            &word,
            format!(
                "unknown kind of child `{kind}`{}; a child is one of: `manager name: Event`, `guard name: Handler {{ manager: .. }}`, `task name {{ run: .. }}`, `supervisor name: Tree`",
                did_you_mean(&kind, CHILD_KINDS.iter().copied())
            ),
        );
        skip_to_comma(input)?;
        return Ok(None);
    }
    let name: Ident = input.parse()?;
    let child = match kind.as_str() {
        "manager" => {
            input.parse::<Token![:]>().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "expected `: Event`: a manager names its event type, `manager events: Event`",
                )
            })?;
            let event: Type = input.parse()?;
            let body = body(input, &[], MANAGER_KEYS, "an event manager", errors)?;
            let mut kind = Kind::Manager {
                event,
                name: None,
                bounded: None,
                debug_events: false,
            };
            child_keys(name, &mut kind, body, errors)
        }
        "guard" => {
            input.parse::<Token![:]>().map_err(|e| {
                syn::Error::new(e.span(), "expected `: Handler`: a guard names its handler type, `guard log: Log { manager: events }`")
            })?;
            let handler: Type = input.parse()?;
            let body = body(input, &["args", "key"], GUARD_KEYS, "a guard", errors)?;
            guard(
                name,
                handler,
                body,
                "a guard needs the manager it installs its handler on: add `{ manager: events }`",
                errors,
            )
        }
        "task" => {
            let span = name.clone();
            let body = body(input, &["run"], TASK_KEYS, "a task", errors)?;
            let mut kind = Kind::Task { run: None };
            let mut child = child_keys(name, &mut kind, body, errors);
            if let Kind::Task { run: None } = &child.kind {
                errors.at(&span, "a task needs the function it runs: add `{ run: |stop: StopToken| async move { .. } }`");
                child.bad = true;
            }
            child
        }
        _ => {
            input.parse::<Token![:]>().map_err(|e| {
                syn::Error::new(e.span(), "expected `: Tree`: a nested supervisor names the type another `supervisor!` declared")
            })?;
            let path = Path::parse_mod_style(input)?;
            let mut args = Vec::new();
            if input.peek(token::Paren) {
                // Read on its own, so that an error inside leaves no tokens unread here.
                let group: proc_macro2::Group = input.parse()?;
                let managers =
                    Punctuated::<Ident, Token![,]>::parse_terminated.parse2(group.stream());
                let managers = managers.map_err(|e| {
                    syn::Error::new(e.span(), "expected the names of managers declared before this tree: `supervisor sinks: Sinks(events)`")
                })?;
                args.extend(managers);
            }
            let body = body(input, &[], SUPERVISOR_KEYS, "a supervisor", errors)?;
            let mut kind = Kind::Supervisor { path, args };
            child_keys(name, &mut kind, body, errors)
        }
    };
    Ok(Some(child))
}

/// `template: guard Handler { manager: events, .. }`.
fn template(input: ParseStream, errors: &mut Errors) -> syn::Result<Child> {
    let kw: Ident = input.call(Ident::parse_any)?;
    if kw != "guard" {
        return Err(syn::Error::new(
            kw.span(),
            "a template is a guard: `template: guard Handler { manager: events }`, its args given to `start_child`",
        ));
    }
    let handler: Type = input.parse()?;
    let body = body(input, &[], TEMPLATE_KEYS, "a guard template", errors)?;
    let child = guard(
        kw,
        handler,
        body,
        "a guard template needs the manager it installs handlers on: add `{ manager: events }`",
        errors,
    );
    if !input.is_empty() {
        return Err(input.error("unexpected tokens after the template"));
    }
    Ok(child)
}

/// A guard, a child or the template, from its handler type and keys. It needs a manager:
/// without one, `no_manager` is reported on the handler type.
fn guard(
    name: Ident,
    handler: Type,
    body: Entries,
    no_manager: &str,
    errors: &mut Errors,
) -> Child {
    let span = handler.to_token_stream();
    let mut kind = Kind::Guard {
        handler,
        manager: None,
        args: None,
        key: None,
        dedicated: None,
        backoff: None,
        in_place: None,
    };
    let mut child = child_keys(name, &mut kind, body, errors);
    if let Kind::Guard { manager: None, .. } = &child.kind {
        errors.at(&span, no_manager);
        child.bad = true;
    }
    child
}

/// A child's optional `{ key: value, .. }`.
fn body(
    input: ParseStream,
    expr_keys: &[&str],
    valid: &[&str],
    what: &str,
    errors: &mut Errors,
) -> syn::Result<Entries> {
    if !input.peek(token::Brace) {
        return Ok(Entries {
            keys: Vec::new(),
            broken: false,
        });
    }
    let content;
    braced!(content in input);
    entries(&content, expr_keys, valid, what, errors)
}

/// Reads a child's keys into it; marks it bad if one of them is.
fn child_keys(name: Ident, kind: &mut Kind, body: Entries, errors: &mut Errors) -> Child {
    let before = errors.count();
    let mut restart = None;
    let mut shutdown = None;
    let mut significant = None;
    for (key, raw) in body.keys {
        let k = key.to_string();
        let tokens = match raw {
            Raw::Expr(e) => {
                match (k.as_str(), &mut *kind) {
                    ("args", Kind::Guard { args, .. }) => *args = Some(e),
                    ("key", Kind::Guard { key, .. }) => *key = Some(e),
                    ("run", Kind::Task { run }) => *run = Some(e),
                    _ => unreachable!("expression keys are args, key and run"),
                }
                continue;
            }
            Raw::Tokens(t) => t,
        };
        match (k.as_str(), &mut *kind) {
            ("restart", _) => {
                restart = word(
                    &tokens,
                    "restart type",
                    &[
                        ("permanent", Restart::Permanent),
                        ("transient", Restart::Transient),
                        ("temporary", Restart::Temporary),
                    ],
                    errors,
                )
                .map(|r| (r, tokens.clone()));
            }
            ("shutdown", _) => shutdown = shutdown_value(&tokens, errors),
            ("significant", _) => {
                if boolean(&tokens, errors) == Some(true) {
                    significant = Some(tokens);
                }
            }
            ("name", Kind::Manager { name, .. }) => {
                *name = string(&tokens, "the manager's name", errors);
            }
            ("bounded", Kind::Manager { bounded, .. }) => {
                *bounded = capacity(&tokens, "a bounded mailbox", "events", errors);
            }
            ("debug_events", Kind::Manager { debug_events, .. }) => {
                *debug_events = boolean(&tokens, errors).unwrap_or(false);
            }
            ("manager", Kind::Guard { manager, .. }) => {
                match syn::parse2::<Ident>(tokens.clone()) {
                    Ok(m) => *manager = Some(m),
                    Err(_) => errors.at(
                        &tokens,
                        "expected the name of an event manager declared before this guard",
                    ),
                }
            }
            ("in_place", Kind::Guard { in_place, .. }) => {
                *in_place = in_place_value(&tokens, errors);
            }
            ("backoff", Kind::Guard { backoff, .. }) => *backoff = backoff_value(&tokens, errors),
            ("dedicated", Kind::Guard { dedicated, .. }) => {
                *dedicated = capacity(&tokens, "a dedicated handler's queue", "messages", errors);
            }
            _ => unreachable!("entries() keeps only known keys"),
        }
    }
    Child {
        name,
        kind: std::mem::replace(kind, Kind::Task { run: None }),
        restart,
        shutdown,
        significant,
        bad: body.broken || errors.count() > before,
    }
}

/// The keys read from a `{ key: value, .. }`, and whether a syntax error made one unreadable.
struct Entries {
    keys: Vec<(Ident, Raw)>,
    broken: bool,
}

/// `key: value, ..` up to the end of `input`. Unknown and repeated keys are reported and
/// skipped; so is an entry with a syntax error, which marks the list broken, and the reading
/// goes on at the next `,`.
fn entries(
    input: ParseStream,
    expr_keys: &[&str],
    valid: &[&str],
    what: &str,
    errors: &mut Errors,
) -> syn::Result<Entries> {
    let mut out = Entries {
        keys: Vec::new(),
        broken: false,
    };
    while !input.is_empty() {
        let (key, raw) = match entry(input, expr_keys) {
            Ok(entry) => entry,
            Err(e) => {
                errors.push(e);
                out.broken = true;
                skip_to_comma(input)?;
                if !input.is_empty() {
                    input.parse::<Token![,]>()?;
                }
                continue;
            }
        };
        let k = key.to_string();
        if !valid.contains(&k.as_str()) {
            errors.at(
                &key,
                format!(
                    "unknown key `{k}` for {what}{}; the keys are: {}",
                    did_you_mean(&k, valid.iter().copied()),
                    valid.join(", ")
                ),
            );
            continue;
        }
        // `template` may repeat: its own check says why two are wrong.
        if k != "template" && out.keys.iter().any(|(o, _)| *o == key) {
            errors.at(&key, format!("duplicate key `{k}`: give it once"));
            continue;
        }
        if let Raw::Tokens(t) = &raw {
            if t.is_empty() {
                errors.at(&key, format!("`{k}` needs a value"));
                continue;
            }
        }
        out.keys.push((key, raw));
    }
    Ok(out)
}

/// One `key: value` and the `,` after it, if any.
fn entry(input: ParseStream, expr_keys: &[&str]) -> syn::Result<(Ident, Raw)> {
    let key: Ident = input.call(Ident::parse_any)?;
    input.parse::<Token![:]>().map_err(|e| {
        syn::Error::new(
            e.span(),
            format!("expected `:` after `{key}`: keys are written `{key}: value`"),
        )
    })?;
    let raw = if expr_keys.contains(&key.to_string().as_str()) {
        Raw::Expr(Box::new(input.parse()?))
    } else {
        Raw::Tokens(skip_to_comma(input)?)
    };
    if !input.is_empty() {
        input.parse::<Token![,]>()?;
    }
    Ok((key, raw))
}

/// The tokens up to the next `,` at this level (or the end).
fn skip_to_comma(input: ParseStream) -> syn::Result<TokenStream> {
    let mut tokens = TokenStream::new();
    while !input.is_empty() && !input.peek(Token![,]) {
        let tt: TokenTree = input.parse()?;
        tokens.extend([tt]);
    }
    Ok(tokens)
}

fn word<T: Copy>(
    tokens: &TokenStream,
    what: &str,
    words: &[(&str, T)],
    errors: &mut Errors,
) -> Option<T> {
    let names = || words.iter().map(|(w, _)| *w);
    let list = names().collect::<Vec<_>>().join(", ");
    match syn::parse2::<Ident>(tokens.clone()) {
        Ok(id) => {
            let s = id.to_string();
            if let Some((_, t)) = words.iter().find(|(w, _)| *w == s) {
                return Some(*t);
            }
            errors.at(
                tokens,
                format!(
                    "unknown {what} `{s}`{}; expected one of: {list}",
                    did_you_mean(&s, names())
                ),
            );
        }
        Err(_) => errors.at(tokens, format!("expected a {what}, one of: {list}")),
    }
    None
}

/// An integer literal, with the unit its suffix names.
pub struct Number {
    pub value: u64,
    suffix: String,
}

impl Number {
    fn unit(&self) -> Option<&str> {
        (!self.suffix.is_empty()).then_some(self.suffix.as_str())
    }
}

fn number(tokens: &TokenStream, what: &str, errors: &mut Errors) -> Option<Number> {
    let mut iter = tokens.clone().into_iter();
    let first = iter.next();
    if let Some(TokenTree::Punct(p)) = &first {
        if p.as_char() == '-' {
            errors.at(tokens, format!("{what} cannot be negative"));
            return None;
        }
    }
    let lit = match (first, iter.next()) {
        (Some(TokenTree::Literal(l)), None) => syn::Lit::new(l),
        _ => {
            errors.at(tokens, format!("expected a number for {what}"));
            return None;
        }
    };
    match lit {
        syn::Lit::Int(i) => match i.base10_parse::<u64>() {
            Ok(value) => Some(Number {
                value,
                suffix: i.suffix().to_owned(),
            }),
            Err(e) => {
                errors.at(tokens, e);
                None
            }
        },
        syn::Lit::Float(_) => {
            errors.at(tokens, format!("{what} is a whole number"));
            None
        }
        _ => {
            errors.at(tokens, format!("expected a number for {what}"));
            None
        }
    }
}

/// A number of restarts allowed in a period.
fn intensity(tokens: &TokenStream, errors: &mut Errors) -> Option<u32> {
    let n = number(
        tokens,
        "the intensity (restarts allowed in a period)",
        errors,
    )?;
    if let Some(unit) = n.unit() {
        errors.at(
            tokens,
            format!("the intensity is a number of restarts, not `{unit}`"),
        );
        return None;
    }
    match u32::try_from(n.value) {
        Ok(v) => Some(v),
        Err(_) => {
            errors.at(
                tokens,
                "the intensity is too large: at most u32::MAX restarts",
            );
            None
        }
    }
}

/// A queue's capacity: a count of `items`, at least one.
fn capacity(tokens: &TokenStream, queue: &str, items: &str, errors: &mut Errors) -> Option<usize> {
    let n = number(tokens, &format!("the capacity of {queue}"), errors)?;
    if let Some(unit) = n.unit() {
        errors.at(
            tokens,
            format!("a capacity is a count of {items}, not `{unit}`"),
        );
        return None;
    }
    if n.value == 0 {
        errors.at(
            tokens,
            format!("{queue} needs room for at least one: a capacity of 1 or more"),
        );
        return None;
    }
    Some(usize::try_from(n.value).unwrap_or(usize::MAX))
}

/// The `{ key: value, .. }` of a key whose value has keys of its own: each known key with its
/// value, and whether all of them were valid. `None` (reported) if it is not a braced list.
fn sub_keys(
    tokens: &TokenStream,
    keys: &[&str],
    what: &str,
    example: &str,
    errors: &mut Errors,
) -> Option<(Vec<(Ident, TokenStream)>, bool)> {
    let parsed = (|s: ParseStream| {
        let content;
        braced!(content in s);
        let mut e = Errors::default();
        let list = entries(&content, &[], keys, what, &mut e)?;
        Ok((list, e))
    })
    .parse2(tokens.clone());
    let (list, e) = match parsed {
        Ok((list, e)) if !list.broken => (list.keys, e),
        _ => {
            errors.at(tokens, format!("expected {example}"));
            return None;
        }
    };
    let ok = e.count() == 0;
    if let Some(e) = e.into_error() {
        errors.push(e);
    }
    let list = list
        .into_iter()
        .filter_map(|(key, raw)| match raw {
            Raw::Tokens(t) => Some((key, t)),
            Raw::Expr(_) => None,
        })
        .collect();
    Some((list, ok))
}

/// A duration: a bare number is in `bare_unit` ("s" or "ms"); `5s` and `500ms` say theirs.
fn duration(tokens: &TokenStream, what: &str, bare_unit: &str, errors: &mut Errors) -> Option<u64> {
    let n = number(tokens, what, errors)?;
    let scale = match n.unit().unwrap_or(bare_unit) {
        "s" => 1000,
        "ms" => 1,
        other => {
            errors.at(
                tokens,
                format!("unknown unit `{other}` for {what}: write seconds as `5s` or milliseconds as `500ms`"),
            );
            return None;
        }
    };
    match n.value.checked_mul(scale) {
        Some(ms) => Some(ms),
        None => {
            errors.at(tokens, format!("{what} is too long"));
            None
        }
    }
}

fn period(tokens: &TokenStream, errors: &mut Errors) -> Option<u64> {
    let ms = duration(tokens, "the period", "s", errors)?;
    if ms == 0 {
        errors.at(tokens, "the period cannot be zero: restarts are counted over a period (in seconds, or `500ms`)");
        return None;
    }
    Some(ms)
}

fn shutdown_value(tokens: &TokenStream, errors: &mut Errors) -> Option<Shutdown> {
    if let Ok(id) = syn::parse2::<Ident>(tokens.clone()) {
        let s = id.to_string();
        return match s.as_str() {
            "brutal_kill" => Some(Shutdown::BrutalKill),
            "infinity" => Some(Shutdown::Infinity),
            _ => {
                errors.at(
                    tokens,
                    format!(
                        "unknown shutdown `{s}`{}; expected brutal_kill, infinity, or a timeout (`5000` ms, `5s`, `500ms`)",
                        did_you_mean(&s, ["brutal_kill", "infinity"].into_iter())
                    ),
                );
                None
            }
        };
    }
    let ms = duration(tokens, "the shutdown timeout", "ms", errors)?;
    if ms == 0 {
        errors.at(
            tokens,
            "a shutdown timeout of zero: use `brutal_kill` to stop the child at once",
        );
        return None;
    }
    Some(Shutdown::Millis(ms))
}

/// `in_place: true` (the default intensity, 1 restart in 5 s) or `in_place: { intensity: 3,
/// period: 10 }`.
fn in_place_value(tokens: &TokenStream, errors: &mut Errors) -> Option<(u32, u64)> {
    const DEFAULT: (u32, u64) = (1, 5000);
    if let Ok(b) = syn::parse2::<syn::LitBool>(tokens.clone()) {
        return b.value.then_some(DEFAULT);
    }
    let example = "`true`, `false` or `{ intensity: 3, period: 10 }`";
    let (list, mut ok) = sub_keys(
        tokens,
        &["intensity", "period"],
        "in_place",
        example,
        errors,
    )?;
    let (mut restarts, mut period_ms) = DEFAULT;
    for (key, t) in list {
        let read = if key == "intensity" {
            intensity(&t, errors).map(|v| restarts = v)
        } else {
            period(&t, errors).map(|v| period_ms = v)
        };
        ok &= read.is_some();
    }
    ok.then_some((restarts, period_ms))
}

/// `backoff: { first: 10ms, max: 1s, attempts: 5 }`, each key optional (those are the
/// defaults); bare numbers are milliseconds.
fn backoff_value(tokens: &TokenStream, errors: &mut Errors) -> Option<(u64, u64, u32)> {
    let example = "`{ first: 10ms, max: 1s, attempts: 5 }`";
    let (list, mut ok) = sub_keys(
        tokens,
        &["first", "max", "attempts"],
        "backoff",
        example,
        errors,
    )?;
    let (mut first, mut max, mut attempts) = (10, 1000, 5);
    for (key, t) in list {
        let read = match key.to_string().as_str() {
            "first" => duration(&t, "the first wait", "ms", errors).map(|v| first = v),
            "max" => duration(&t, "the longest wait", "ms", errors).map(|v| max = v),
            _ => match number(&t, "the attempts", errors) {
                Some(n) if n.unit().is_some() || u32::try_from(n.value).is_err() => {
                    errors.at(&t, "`attempts` is a count of tries");
                    None
                }
                Some(n) if n.value == 0 => {
                    errors.at(&t, "a guard tries at least once: `attempts` is 1 or more");
                    None
                }
                Some(n) => u32::try_from(n.value).ok().map(|v| attempts = v),
                None => None,
            },
        };
        ok &= read.is_some();
    }
    ok.then_some((first, max, attempts))
}

fn boolean(tokens: &TokenStream, errors: &mut Errors) -> Option<bool> {
    match syn::parse2::<syn::LitBool>(tokens.clone()) {
        Ok(b) => Some(b.value),
        Err(_) => {
            errors.at(tokens, "expected `true` or `false`");
            None
        }
    }
}

fn string(tokens: &TokenStream, what: &str, errors: &mut Errors) -> Option<LitStr> {
    match syn::parse2::<LitStr>(tokens.clone()) {
        Ok(s) => Some(s),
        Err(_) => {
            errors.at(tokens, format!("expected a string literal for {what}"));
            None
        }
    }
}
