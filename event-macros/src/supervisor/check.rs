//! What `supervisor!` checks beyond the syntax: names, references between children, and the
//! rules of strategies and significant children.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::Ident;

use super::parse::{AutoShutdown, Child, Kind, Restart, Strategy, Tree};
use crate::ctxt::{did_you_mean, Errors};

/// Names of the generated struct's own methods, which a child's accessor cannot take.
pub const RESERVED: &[&str] = &[
    "start",
    "supervised",
    "supervisor",
    "stop",
    "start_child",
    "start_child_keyed",
];

/// What the expansion needs to know beyond the tree.
pub struct Plan {
    /// Per child: the event type of the manager a guard attaches to.
    pub events: Vec<Option<TokenStream>>,
    /// Per child: whether its build code is emitted (it and what it refers to are sound).
    pub build: Vec<bool>,
    /// The template's event type, when it resolves.
    pub template_event: Option<TokenStream>,
}

pub fn check(tree: &mut Tree, errors: &mut Errors) -> Plan {
    names(tree, errors);
    let n = tree.children.len();
    let mut plan = Plan {
        events: vec![None; n],
        build: vec![false; n],
        template_event: None,
    };
    for i in 0..n {
        let (before, rest) = tree.children.split_at(i);
        let child = &rest[0];
        let after = &rest[1..];
        let mut sound = !child.bad;
        match &child.kind {
            Kind::Guard {
                manager: Some(m), ..
            } => match resolve(m, Some(child), before, after, tree, errors) {
                Some((event, at)) => {
                    plan.events[i] = Some(event);
                    sound &= at.is_none_or(|j| plan.build[j]);
                }
                None => sound = false,
            },
            Kind::Supervisor { args, .. } => {
                for m in args {
                    // A value the tree is given passes on as it is.
                    if tree.params.iter().any(|p| p.value && p.name == *m)
                        && !before.iter().any(|c| c.name == *m)
                    {
                        continue;
                    }
                    match resolve(m, Some(child), before, after, tree, errors) {
                        Some((_, at)) => sound &= at.is_none_or(|j| plan.build[j]),
                        None => sound = false,
                    }
                }
            }
            Kind::Task { clone, .. } => {
                for (k, v) in clone.iter().enumerate() {
                    if clone[..k].contains(v) {
                        errors.at(v, format!("`{v}` is cloned once already"));
                        sound = false;
                        continue;
                    }
                    match value(v, child, before, after, tree, errors) {
                        Some(at) => sound &= at.is_none_or(|j| plan.build[j]),
                        None => sound = false,
                    }
                }
            }
            Kind::Manager { handlers, .. } => duplicate_handlers(handlers, errors),
            Kind::Guard { .. } | Kind::Child { .. } => {}
        }
        plan.build[i] = sound;
    }
    let strategy = tree
        .strategy
        .as_ref()
        .map(|(s, _)| *s)
        .unwrap_or(Strategy::OneForOne);
    if strategy == Strategy::SimpleOneForOne {
        if let Some((auto, tokens)) = &tree.auto_shutdown {
            if *auto != AutoShutdown::Never {
                errors.at(
                    tokens,
                    "a simple_one_for_one supervisor cannot shut down on its significant children (OTP's bad_combination): its children come and go by `start_child`; remove `auto_shutdown` or make it `never`",
                );
            }
        }
        if let Some((key, _)) = &tree.children_key {
            errors.at(
                key,
                "a simple_one_for_one supervisor has no static children: it starts each child from its template, with `start_child`",
            );
        }
        match tree.templates.as_slice() {
            [] => {
                let at = tree
                    .strategy
                    .as_ref()
                    .map(|(_, t)| t.clone())
                    .unwrap_or_default();
                errors.at(
                    at,
                    "a simple_one_for_one supervisor needs a template: add `template: guard Handler { manager: events }`",
                );
            }
            [(_, Some(t))] => {
                if let Kind::Guard {
                    manager: Some(m), ..
                } = &t.kind
                {
                    plan.template_event = match resolve(m, None, &[], &[], tree, errors) {
                        Some((event, _)) if !t.bad => Some(event),
                        _ => None,
                    };
                }
            }
            [_] => {}
            [_, more @ ..] => {
                for (key, _) in more {
                    errors.at(
                        key,
                        "a second template: a simple_one_for_one supervisor starts every child from its one template",
                    );
                }
            }
        }
    } else {
        for (key, _) in &tree.templates {
            errors.at(
                key,
                "a template is only for `strategy: simple_one_for_one`; other strategies list their `children`",
            );
        }
        if tree.children.is_empty() && tree.children_unread == 0 && tree.templates.is_empty() {
            match &tree.children_key {
                Some((_, bracket)) => errors.push(syn::Error::new(
                    bracket.span.join(),
                    "an empty tree: list its children in start order",
                )),
                None => errors.at(
                    &tree.name,
                    "an empty tree: add `children: [..]` in start order (or `strategy: simple_one_for_one` with a `template`)",
                ),
            }
        }
    }
    let auto = tree
        .auto_shutdown
        .as_ref()
        .map_or(AutoShutdown::Never, |(a, _)| *a);
    let template = tree.templates.iter().filter_map(|(_, t)| t.as_ref());
    for child in tree.children.iter().chain(template) {
        significant(child, auto, errors);
    }
    plan
}

/// Duplicate and reserved names.
fn names(tree: &mut Tree, errors: &mut Errors) {
    let mut seen: Vec<Ident> = tree.params.iter().map(|p| p.name.clone()).collect();
    for (i, p) in tree.params.iter().enumerate() {
        if tree.params[..i].iter().any(|o| o.name == p.name) {
            errors.at(&p.name, format!("duplicate parameter `{}`", p.name));
        }
    }
    for child in &mut tree.children {
        let name = child.name.to_string();
        if seen.contains(&child.name) {
            errors.at(
                &child.name,
                format!("duplicate child name `{name}`: each child has its own name, which is its id and its accessor"),
            );
            child.bad = true;
        } else if RESERVED.contains(&name.as_str()) {
            errors.at(
                &child.name,
                format!("`{name}` is a method of the generated struct: name the child otherwise"),
            );
            child.bad = true;
        }
        seen.push(child.name.clone());
    }
}

/// The event manager `m` that `child` (none: the template) refers to: its event type, and its
/// index if it is a child (none for a parameter).
fn resolve(
    m: &Ident,
    child: Option<&Child>,
    before: &[Child],
    after: &[Child],
    tree: &Tree,
    errors: &mut Errors,
) -> Option<(TokenStream, Option<usize>)> {
    let noun = child.map_or("template", |c| kind_noun(&c.kind));
    if let Some(child) = child.filter(|c| c.name == *m) {
        errors.at(
            m,
            format!(
                "a child cannot refer to itself: `{m}` is this {}",
                kind_noun(&child.kind)
            ),
        );
        return None;
    }
    if let Some((j, c)) = before.iter().enumerate().rev().find(|(_, c)| c.name == *m) {
        return match &c.kind {
            Kind::Manager { event, .. } => Some((event.to_token_stream(), Some(j))),
            other => {
                errors.at(
                    m,
                    format!("`{m}` is {}, not an event manager", other.word()),
                );
                None
            }
        };
    }
    if let Some(p) = tree.params.iter().find(|p| p.name == *m) {
        if p.value {
            errors.at(
                m,
                format!(
                    "`{m}` is a value the tree is given (`{}`), not an event manager; a manager parameter names its event type, `{m}: Event`",
                    p.ty.to_token_stream().to_string().replace("& ", "&")
                ),
            );
            return None;
        }
        return Some((p.ty.to_token_stream(), None));
    }
    if let Some(c) = after.iter().find(|c| c.name == *m) {
        let msg = match &c.kind {
            Kind::Manager { .. } => format!(
                "the event manager `{m}` is declared after this {noun}: children start in order, so declare `{m}` first"
            ),
            other => format!("`{m}` is {}, not an event manager", other.word()),
        };
        errors.at(m, msg);
        return None;
    }
    let managers = tree
        .children
        .iter()
        .filter(|c| matches!(c.kind, Kind::Manager { .. }))
        .map(|c| c.name.to_string())
        .chain(
            tree.params
                .iter()
                .filter(|p| !p.value)
                .map(|p| p.name.to_string()),
        )
        .collect::<Vec<_>>();
    errors.at(
        m,
        format!(
            "no event manager `{m}` in this tree{}; declare it before this child with `manager {m}: Event`, or take it as a parameter, `struct {}({m}: Event)`",
            did_you_mean(&m.to_string(), managers.iter().map(String::as_str)),
            tree.name
        ),
    );
    None
}

/// The value `v` that a task's `clone` names: a parameter, or a child declared before the task
/// that has one (not a task); its index if it is a child.
fn value(
    v: &Ident,
    task: &Child,
    before: &[Child],
    after: &[Child],
    tree: &Tree,
    errors: &mut Errors,
) -> Option<Option<usize>> {
    if task.name == *v {
        errors.at(v, format!("a task cannot clone itself: `{v}` is this task"));
        return None;
    }
    if let Some((j, c)) = before.iter().enumerate().rev().find(|(_, c)| c.name == *v) {
        if let Kind::Task { .. } = c.kind {
            errors.at(
                v,
                format!("`{v}` is a task: it has no value to clone (its accessor is its id)"),
            );
            return None;
        }
        return Some(Some(j));
    }
    if tree.params.iter().any(|p| p.name == *v) {
        return Some(None);
    }
    if after.iter().any(|c| c.name == *v) {
        errors.at(
            v,
            format!("`{v}` is declared after this task: children start in order, so declare `{v}` first"),
        );
        return None;
    }
    let names = before
        .iter()
        .filter(|c| !matches!(c.kind, Kind::Task { .. }))
        .map(|c| c.name.to_string())
        .chain(tree.params.iter().map(|p| p.name.to_string()))
        .collect::<Vec<_>>();
    errors.at(
        v,
        format!(
            "no value `{v}` in this tree{}; `clone` names the tree's parameters and the children declared before the task (their handles)",
            did_you_mean(&v.to_string(), names.iter().map(String::as_str))
        ),
    );
    None
}

/// Two standing handlers of one type with the same key (or none): the second would not
/// install.
fn duplicate_handlers(handlers: &[super::parse::Standing], errors: &mut Errors) {
    let id = |h: &super::parse::Standing| {
        (
            h.handler.to_token_stream().to_string(),
            h.key.as_ref().map(|k| k.to_token_stream().to_string()),
        )
    };
    for (i, h) in handlers.iter().enumerate() {
        if handlers[..i].iter().any(|o| id(o) == id(h)) {
            let with = match &h.key {
                Some(k) => format!("with the key `{}`", k.to_token_stream()),
                None => "without a key".to_owned(),
            };
            errors.at(
                &h.handler,
                format!("a second standing `{}` {with}: a manager holds one handler of a type per key; give each its own `key: ..`", h.handler.to_token_stream()),
            );
        }
    }
}

fn kind_noun(kind: &Kind) -> &'static str {
    match kind {
        Kind::Manager { .. } => "manager",
        Kind::Guard { .. } => "guard",
        Kind::Task { .. } => "task",
        Kind::Supervisor { .. } => "supervisor",
        Kind::Child { .. } => "child",
    }
}

/// The restart type a child has when none is given: guards are transient (they end when
/// their handler is removed normally), the others permanent, as in OTP.
pub fn default_restart(kind: &Kind) -> Restart {
    match kind {
        Kind::Guard { .. } => Restart::Transient,
        _ => Restart::Permanent,
    }
}

fn significant(child: &Child, auto: AutoShutdown, errors: &mut Errors) {
    let Some(tokens) = &child.significant else {
        return;
    };
    let restart = child.restart.as_ref().map(|(r, _)| *r);
    // A `child` form's restart type is its own spec's unless given: the supervisor checks it.
    let unknown = restart.is_none() && matches!(child.kind, Kind::Child { .. });
    if !unknown && restart.unwrap_or_else(|| default_restart(&child.kind)) == Restart::Permanent {
        let (at, default): (TokenStream, _) = match &child.restart {
            Some((_, t)) => (t.clone(), String::new()),
            None => (
                tokens.clone(),
                format!(
                    " ({} is permanent unless it says otherwise)",
                    child.kind.word()
                ),
            ),
        };
        errors.at(
            at,
            format!(
                "a significant child cannot be permanent{default}: a permanent child is always restarted, so it never ends for auto_shutdown to see; add `restart: transient` or `restart: temporary`"
            ),
        );
    }
    if auto == AutoShutdown::Never {
        errors.at(
            tokens.to_token_stream(),
            "`significant` needs the tree's `auto_shutdown: any_significant` or `all_significant` (it is `never`)",
        );
    }
}
