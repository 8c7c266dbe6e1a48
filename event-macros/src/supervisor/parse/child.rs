//! One child, `kind name: Type { key: value, .. }`, or the tree's `template`, and the
//! `key: value, ..` lists that the tree and the children are written with.

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{braced, bracketed, token, Expr, Ident, LitStr, Path, Token, Type};

use super::value::{
    backoff_value, boolean, capacity, in_place_value, shutdown_value, string, word, Word,
};
use crate::ctxt::{did_you_mean, Errors};

/// A key's value: an expression for the keys that take one, tokens for the others.
pub(super) enum Raw {
    Tokens(TokenStream),
    Expr(Box<Expr>),
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Restart {
    Permanent,
    Transient,
    Temporary,
}

impl Word for Restart {
    const WHAT: &'static str = "restart type";
    const WORDS: &'static [(&'static str, Self)] = &[
        ("permanent", Restart::Permanent),
        ("transient", Restart::Transient),
        ("temporary", Restart::Temporary),
    ];
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
        /// The standing handlers, in order.
        handlers: Vec<Standing>,
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
        /// The values `run` is given a fresh clone of at each start.
        clone: Vec<Ident>,
    },
    Supervisor {
        path: Path,
        args: Vec<Ident>,
    },
    /// Any type that knows how to start as a child (`IntoChild`).
    Child {
        ty: Type,
        from: Option<Box<Expr>>,
    },
}

/// A standing handler of a manager child: `Handler { args: .., key: .., .. }`.
pub struct Standing {
    pub handler: Type,
    pub args: Option<Box<Expr>>,
    pub key: Option<Box<Expr>>,
    pub dedicated: Option<usize>,
    pub in_place: Option<(u32, u64)>,
}

impl Kind {
    pub fn word(&self) -> &'static str {
        match self {
            Kind::Manager { .. } => "an event manager",
            Kind::Guard { .. } => "a guard",
            Kind::Task { .. } => "a task",
            Kind::Supervisor { .. } => "a supervisor",
            Kind::Child { .. } => "a child",
        }
    }
}

/// The keys of each kind of child besides [`EVERY_CHILD_KEYS`], which [`body`] adds after them.
const MANAGER_KEYS: &[&str] = &["name", "bounded", "debug_events", "handlers"];
const GUARD_KEYS: &[&str] = &["manager", "args", "key", "dedicated", "in_place", "backoff"];
const TEMPLATE_KEYS: &[&str] = &["manager", "dedicated", "in_place", "backoff"];
const TASK_KEYS: &[&str] = &["run", "clone"];
const SUPERVISOR_KEYS: &[&str] = &[];
const CHILD_FORM_KEYS: &[&str] = &["from"];
/// The keys of a manager's standing handler.
const STANDING_KEYS: &[&str] = &["args", "key", "dedicated", "in_place"];
/// The keys every child takes, the template too.
const EVERY_CHILD_KEYS: &[&str] = &["restart", "shutdown", "significant"];
const CHILD_KINDS: &[&str] = &["manager", "guard", "task", "supervisor", "child"];

/// One child: `kind name: Type { key: value, .. }`; `None` (reported) for an unknown kind.
pub(super) fn child(input: ParseStream, errors: &mut Errors) -> syn::Result<Option<Child>> {
    let word: Ident = input.call(Ident::parse_any)?;
    let kind = word.to_string();
    if !CHILD_KINDS.contains(&kind.as_str()) {
        errors.at(
            &word,
            format!(
                "unknown kind of child `{kind}`{}; a child is one of: `manager name: Event`, `guard name: Handler {{ manager: .. }}`, `task name {{ run: .. }}`, `supervisor name: Tree`, `child name: Type {{ from: .. }}`",
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
                handlers: Vec::new(),
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
            let mut kind = Kind::Task {
                run: None,
                clone: Vec::new(),
            };
            let mut child = child_keys(name, &mut kind, body, errors);
            if let Kind::Task { run: None, .. } = &child.kind {
                errors.at(&span, "a task needs the function it runs: add `{ run: |stop: StopToken| async move { .. } }`");
                child.bad = true;
            }
            child
        }
        "child" => {
            input.parse::<Token![:]>().map_err(|e| {
                syn::Error::new(e.span(), "expected `: Type`: a child names its type, which implements `IntoChild`: `child bridge: Bridge<Event> { from: Bridge::new(..) }`")
            })?;
            let ty: Type = input.parse()?;
            let span = ty.to_token_stream();
            let body = body(input, &["from"], CHILD_FORM_KEYS, "a child", errors)?;
            let mut kind = Kind::Child { ty, from: None };
            let mut child = child_keys(name, &mut kind, body, errors);
            if let Kind::Child { from: None, .. } = &child.kind {
                errors.at(&span, "a child needs the value it starts from: add `{ from: <a value of this type> }`");
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
pub(super) fn template(input: ParseStream, errors: &mut Errors) -> syn::Result<Child> {
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

/// A child's optional `{ key: value, .. }`: the keys of its kind, `own`, and those every child
/// takes.
fn body(
    input: ParseStream,
    expr_keys: &[&str],
    own: &[&str],
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
    let valid: Vec<&str> = own.iter().chain(EVERY_CHILD_KEYS).copied().collect();
    entries(&content, expr_keys, &valid, what, errors)
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
                    ("run", Kind::Task { run, .. }) => *run = Some(e),
                    ("from", Kind::Child { from, .. }) => *from = Some(e),
                    _ => unreachable!("expression keys are args, key, run and from"),
                }
                continue;
            }
            Raw::Tokens(t) => t,
        };
        match (k.as_str(), &mut *kind) {
            ("restart", _) => restart = word(&tokens, errors).map(|r| (r, tokens.clone())),
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
            ("handlers", Kind::Manager { handlers, .. }) => {
                *handlers = standing_list(&tokens, errors);
            }
            ("clone", Kind::Task { clone, .. }) => *clone = clone_list(&tokens, errors),
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
        kind: std::mem::replace(
            kind,
            Kind::Task {
                run: None,
                clone: Vec::new(),
            },
        ),
        restart,
        shutdown,
        significant,
        bad: body.broken || errors.count() > before,
    }
}

/// `handlers: [Handler, Handler { args: .., key: .. }, ..]`: a manager's standing handlers,
/// in order. A handler with an error in its keys is reported and left out.
fn standing_list(tokens: &TokenStream, errors: &mut Errors) -> Vec<Standing> {
    let example = "`handlers: [Console, File { args: \"app.log\".into() }]`";
    let parsed = (|input: ParseStream| {
        let content;
        bracketed!(content in input);
        let mut list = Vec::new();
        while !content.is_empty() {
            let handler: Type = content.parse()?;
            let before = errors.count();
            let mut standing = Standing {
                handler,
                args: None,
                key: None,
                dedicated: None,
                in_place: None,
            };
            let mut broken = false;
            if content.peek(token::Brace) {
                let body;
                braced!(body in content);
                let read = entries(
                    &body,
                    &["args", "key"],
                    STANDING_KEYS,
                    "a standing handler",
                    errors,
                )?;
                broken = read.broken;
                for (key, raw) in read.keys {
                    match (key.to_string().as_str(), raw) {
                        ("args", Raw::Expr(e)) => standing.args = Some(e),
                        ("key", Raw::Expr(e)) => standing.key = Some(e),
                        ("dedicated", Raw::Tokens(t)) => {
                            standing.dedicated =
                                capacity(&t, "a dedicated handler's queue", "messages", errors);
                        }
                        ("in_place", Raw::Tokens(t)) => {
                            standing.in_place = in_place_value(&t, errors)
                        }
                        _ => unreachable!("entries() keeps only known keys"),
                    }
                }
            }
            if !broken && errors.count() == before {
                list.push(standing);
            }
            if !content.is_empty() {
                content.parse::<Token![,]>()?;
            }
        }
        Ok(list)
    })
    .parse2(tokens.clone());
    parsed.unwrap_or_else(|e| {
        errors.push(syn::Error::new(
            e.span(),
            format!("{e}; a manager's standing handlers are a list in order: {example}"),
        ));
        Vec::new()
    })
}

/// `clone: [events, bus]`: the names a task's `run` is given fresh clones of.
fn clone_list(tokens: &TokenStream, errors: &mut Errors) -> Vec<Ident> {
    let parsed = (|input: ParseStream| {
        let content;
        bracketed!(content in input);
        Punctuated::<Ident, Token![,]>::parse_terminated(&content)
    })
    .parse2(tokens.clone());
    match parsed {
        Ok(names) if names.is_empty() => {
            errors.at(
                tokens,
                "`clone` lists the values `run` is given a clone of: `clone: [events, bus]`",
            );
            Vec::new()
        }
        Ok(names) => names.into_iter().collect(),
        Err(e) => {
            errors.push(syn::Error::new(
                e.span(),
                "expected the names of values declared before this task, or the tree's parameters: `clone: [events, bus]`",
            ));
            Vec::new()
        }
    }
}

/// The keys read from a `{ key: value, .. }`, and whether a syntax error made one unreadable.
pub(super) struct Entries {
    pub(super) keys: Vec<(Ident, Raw)>,
    pub(super) broken: bool,
}

/// `key: value, ..` up to the end of `input`. Unknown and repeated keys are reported and
/// skipped; so is an entry with a syntax error, which marks the list broken, and the reading
/// goes on at the next `,`.
pub(super) fn entries(
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
        let (key, raw) = match entry(input, expr_keys, valid, errors) {
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
fn entry(
    input: ParseStream,
    expr_keys: &[&str],
    valid: &[&str],
    errors: &mut Errors,
) -> syn::Result<(Ident, Raw)> {
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
        Raw::Tokens(value_tokens(input, valid)?)
    };
    if !input.is_empty() {
        if next_is_key(input, valid) {
            // `strategy: one_for_one children: [..]`: the next key is read as it is.
            let next: Ident = input.fork().call(Ident::parse_any)?;
            errors.at(
                &next,
                format!("expected `,` before `{next}`: a comma is missing after `{key}`'s value"),
            );
        } else {
            input.parse::<Token![,]>()?;
        }
    }
    Ok((key, raw))
}

/// Whether one of the `valid` keys and its `:` come next (not a path's `::`).
fn next_is_key(input: ParseStream, valid: &[&str]) -> bool {
    input.peek(Ident::peek_any)
        && input.peek2(Token![:])
        && !input.peek2(Token![::])
        && input
            .fork()
            .call(Ident::parse_any)
            .is_ok_and(|key| valid.contains(&key.to_string().as_str()))
}

/// A value's tokens: up to the next `,` at this level, or up to a `key:` after at least one
/// token (a `,` forgotten before the next key).
fn value_tokens(input: ParseStream, valid: &[&str]) -> syn::Result<TokenStream> {
    let mut tokens = TokenStream::new();
    while !input.is_empty()
        && !input.peek(Token![,])
        && (tokens.is_empty() || !next_is_key(input, valid))
    {
        let tt: TokenTree = input.parse()?;
        tokens.extend([tt]);
    }
    Ok(tokens)
}

/// The tokens up to the next `,` at this level (or the end).
pub(super) fn skip_to_comma(input: ParseStream) -> syn::Result<TokenStream> {
    let mut tokens = TokenStream::new();
    while !input.is_empty() && !input.peek(Token![,]) {
        let tt: TokenTree = input.parse()?;
        tokens.extend([tt]);
    }
    Ok(tokens)
}
