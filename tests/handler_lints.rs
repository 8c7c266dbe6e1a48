//! The expansions of every `#[handler]` form and of `supervisor!` are lint-clean: `cargo clippy --all-targets` checks
//! the compile-pass case below under `deny(warnings, clippy::pedantic)` (trybuild alone only
//! runs rustc's lints).

#[path = "ui/handler/pass/deny_warnings.rs"]
mod deny_warnings;

#[test]
fn the_lint_clean_case_compiles_as_a_module_too() {
    deny_warnings::main();
}

#[path = "ui/supervisor/pass/deny_warnings.rs"]
mod supervisor_deny_warnings;

#[test]
fn the_lint_clean_tree_compiles_as_a_module_too() {
    supervisor_deny_warnings::main();
}
