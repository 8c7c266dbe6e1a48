//! The error context of one macro invocation ([`Errors`], every error collected so that all
//! are reported together) and the suggestions its messages make for a misspelt word
//! ([`did_you_mean`]).

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

/// ` (did you mean `x`?)` when one of `candidates` is close to `word`, else nothing. Close is
/// at most a third of the candidate's length in edits (one at least); the nearest, then the
/// first, wins.
pub fn did_you_mean<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> String {
    let best = candidates
        .map(|c| (distance(word, c), c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(1))
        .min_by_key(|(d, _)| *d);
    match best {
        Some((_, c)) => format!(" (did you mean `{c}`?)"),
        None => String::new(),
    }
}

/// Levenshtein distance.
pub fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::{did_you_mean, distance};

    #[test]
    fn distance_counts_edits() {
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("guard", "guard"), 0);
        assert_eq!(distance("gaurd", "guard"), 2);
        assert_eq!(distance("manger", "manager"), 1);
    }

    #[test]
    fn suggests_the_nearest_close_word() {
        let kinds = ["manager", "guard", "task", "supervisor"];
        assert_eq!(
            did_you_mean("manger", kinds.into_iter()),
            " (did you mean `manager`?)"
        );
        assert_eq!(did_you_mean("tsak", kinds.into_iter()), "");
        assert_eq!(did_you_mean("taks", kinds.into_iter()), "");
        assert_eq!(did_you_mean("handler", kinds.into_iter()), "");
    }
}
