//! The macros' compile-fail cases, each with the error rustc shows, and their compile-pass
//! cases. Regenerate the `.stderr` files with `TRYBUILD=overwrite` and read the diff.

#[test]
fn handler_ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/handler/*.rs");
    t.pass("tests/ui/handler/pass/*.rs");
}

#[test]
fn supervisor_ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/supervisor/*.rs");
    t.pass("tests/ui/supervisor/pass/*.rs");
}
