//! The `supervised_tree` example (seed 003): the lager-style tree declared with `supervisor!`;
//! guards end with a backend deleted normally and re-install a crashed one; a crash storm past
//! the guard supervisor's intensity restarts it empty, and a second one, past the top
//! supervisor's, stops the tree.

use event_core::{ChildRef, ChildState, HandlerId, HandlerRef};

#[allow(dead_code)]
#[path = "../examples/supervised_tree.rs"]
mod supervised_tree;

use supervised_tree::{Backend, Tally};

fn backend(name: &str) -> HandlerId {
    HandlerRef::<Backend>::with_key(name.to_owned())
        .id()
        .clone()
}

#[tokio::test]
async fn guards_reinstall_crashed_backends_and_crash_storms_escalate_as_in_otp() {
    let outcome = tokio::time::timeout(std::time::Duration::from_secs(20), supervised_tree::run())
        .await
        .expect("the example ends by itself")
        .unwrap();
    let tally = HandlerRef::<Tally>::new().id().clone();

    // One guard per backend, started after the tree was up; the tally was added first.
    assert_eq!(
        outcome.installed,
        [
            backend("debug.log"),
            backend("app.log"),
            backend("console"),
            tally.clone()
        ]
    );

    // The console crashed and its guard installed a fresh one: it wrote 2, then 1.
    assert_eq!(outcome.console_written, (2, 1));

    // debug.log deleted normally: its guard ended and was not restarted.
    assert_eq!(outcome.guards_after_delete.active, 2);
    assert_eq!(outcome.guards_after_delete.workers, 2);

    // The first storm: the guard supervisor gave up, and the top supervisor (one_for_one)
    // restarted it alone. It came back empty, its guards' backends removed; the manager kept
    // its incarnation, and the tally added by hand counted all 5 messages.
    let storm = &outcome.after_first_storm;
    assert_eq!(storm.guards.active, 0);
    assert_eq!(storm.guards.workers, 0);
    let top: Vec<_> = storm.top.iter().map(|c| (c.id.clone(), c.state)).collect();
    assert_eq!(
        top,
        [
            (ChildRef::from("guards"), ChildState::Running),
            (ChildRef::from("log"), ChildState::Running)
        ]
    );
    assert_eq!(storm.handlers, [tally]);
    assert_eq!(storm.tally, 5);

    // The second storm within the top supervisor's period: the whole tree stopped.
    assert_eq!(outcome.stopped, (true, true));
}
