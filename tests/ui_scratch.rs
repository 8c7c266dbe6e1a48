#[test]
fn scratch() {
    let t = trybuild::TestCases::new();
    for f in [
        "not_a_child",
        "child_from",
        "task_wrong_return",
        "bad_clone",
        "standing_handlers",
        "value_param",
        "unknown_key",
        "unknown_child_kind",
    ] {
        t.compile_fail(format!("tests/ui/supervisor/{f}.rs"));
    }
}
