//! The expansions of every `#[handler]` form and of `supervisor!` are lint-clean:
//! `cargo clippy --all-targets` checks the compile-pass cases, included here as modules, under
//! `deny(warnings, clippy::pedantic)` (trybuild alone only runs rustc's lints); running them
//! checks what they assert.
#![deny(warnings, clippy::pedantic)]

#[path = "ui/handler/pass/async.rs"]
mod async_callbacks;
#[path = "ui/handler/pass/calls.rs"]
mod calls;
#[path = "ui/handler/pass/crate_override.rs"]
mod crate_override;
#[path = "ui/handler/pass/deny_warnings.rs"]
mod deny_warnings;
#[path = "ui/handler/pass/format_status.rs"]
mod format_status;
#[path = "ui/handler/pass/generic.rs"]
mod generic;
#[path = "ui/handler/pass/sync.rs"]
mod sync;

#[test]
fn the_compile_pass_cases_run_as_modules_too() {
    async_callbacks::main();
    calls::main();
    crate_override::main();
    deny_warnings::main();
    format_status::main();
    generic::main();
    sync::main();
}

#[path = "ui/supervisor/pass/deny_warnings.rs"]
mod supervisor_deny_warnings;

#[test]
fn the_lint_clean_tree_compiles_as_a_module_too() {
    supervisor_deny_warnings::main();
}
