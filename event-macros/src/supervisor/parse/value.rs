//! One key's value, read from its tokens: a word, a number (with its unit), a duration, a
//! capacity, a string, a boolean, and the values with keys of their own (`in_place`,
//! `backoff`). A bad value is reported on its tokens and read as `None`.

use proc_macro2::{TokenStream, TokenTree};
use syn::parse::{ParseStream, Parser};
use syn::{braced, Ident, LitStr};

use super::child::{entries, Raw, Shutdown};
use crate::ctxt::{did_you_mean, Errors};

/// A value written as one of a few words, as `strategy: one_for_one`.
pub(super) trait Word: Copy + 'static {
    /// What the value is, in messages: "unknown {WHAT} `x`".
    const WHAT: &'static str;
    /// Each word, in the order messages list them, and the value it reads as.
    const WORDS: &'static [(&'static str, Self)];
}

/// One of `T`'s words; a misspelt one is reported with the closest word, if one is close.
pub(super) fn word<T: Word>(tokens: &TokenStream, errors: &mut Errors) -> Option<T> {
    let (what, words) = (T::WHAT, T::WORDS);
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
struct Number {
    value: u64,
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
pub(super) fn intensity(tokens: &TokenStream, errors: &mut Errors) -> Option<u32> {
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
pub(super) fn capacity(
    tokens: &TokenStream,
    queue: &str,
    items: &str,
    errors: &mut Errors,
) -> Option<usize> {
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

pub(super) fn period(tokens: &TokenStream, errors: &mut Errors) -> Option<u64> {
    let ms = duration(tokens, "the period", "s", errors)?;
    if ms == 0 {
        errors.at(tokens, "the period cannot be zero: restarts are counted over a period (in seconds, or `500ms`)");
        return None;
    }
    Some(ms)
}

pub(super) fn shutdown_value(tokens: &TokenStream, errors: &mut Errors) -> Option<Shutdown> {
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
    // Zero is valid, as in OTP: the child is asked to stop and killed at once.
    let ms = duration(tokens, "the shutdown timeout", "ms", errors)?;
    Some(Shutdown::Millis(ms))
}

/// `in_place: true` (the default intensity, 1 restart in 5 s) or `in_place: { intensity: 3,
/// period: 10 }`.
pub(super) fn in_place_value(tokens: &TokenStream, errors: &mut Errors) -> Option<(u32, u64)> {
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
pub(super) fn backoff_value(tokens: &TokenStream, errors: &mut Errors) -> Option<(u64, u64, u32)> {
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

pub(super) fn boolean(tokens: &TokenStream, errors: &mut Errors) -> Option<bool> {
    match syn::parse2::<syn::LitBool>(tokens.clone()) {
        Ok(b) => Some(b.value),
        Err(_) => {
            errors.at(tokens, "expected `true` or `false`");
            None
        }
    }
}

pub(super) fn string(tokens: &TokenStream, what: &str, errors: &mut Errors) -> Option<LitStr> {
    match syn::parse2::<LitStr>(tokens.clone()) {
        Ok(s) => Some(s),
        Err(_) => {
            errors.at(tokens, format!("expected a string literal for {what}"));
            None
        }
    }
}
