//! The `demo` example: a tree declared with `supervisor!`; a crash that one handler survives
//! restarted in place and the other re-installed by its guard; the tree and its counters.

use event_core::{ChildRef, ChildState};

#[allow(dead_code)]
#[path = "../examples/demo.rs"]
mod demo;

use demo::{Alarm, Average};

#[tokio::test]
async fn the_demo_restarts_one_handler_in_place_and_reinstalls_the_other_through_its_guard() {
    let outcome = tokio::time::timeout(std::time::Duration::from_secs(10), demo::run())
        .await
        .expect("the demo ends by itself")
        .unwrap();

    assert_eq!(outcome.average, Some(26.0));
    // The request sent right behind the crash was answered, by a new `Average`.
    assert_eq!(outcome.average_after_crash, None);

    // Both handlers are back; each handled only the reading sent after its restart.
    assert_eq!(outcome.handlers.len(), 2);
    assert!(outcome.handlers.iter().any(|h| h.is::<Alarm>()));
    assert!(outcome.handlers.iter().any(|h| h.is::<Average>()));
    assert_eq!(outcome.handled, (1, 1));

    // The tree is whole: the manager and the two guards, newest first, all running.
    let children: Vec<_> = outcome
        .children
        .iter()
        .map(|c| (c.id.clone(), c.state))
        .collect();
    assert_eq!(
        children,
        [
            (ChildRef::from("alarm"), ChildState::Running),
            (ChildRef::from("average"), ChildState::Running),
            (ChildRef::from("readings"), ChildState::Running),
        ]
    );
    assert_eq!((outcome.count.specs, outcome.count.active), (3, 3));
    assert_eq!(outcome.count.workers, 3);
}
