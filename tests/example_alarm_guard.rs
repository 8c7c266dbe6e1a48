//! The `alarm_guard` example (seed 002): the default alarm handler swapped for a custom logger
//! by a guard, with the alarms handed over; the logger re-installed after a crash; duplicates
//! refused.

use event_core::{AddError, SupervisorError};

#[allow(dead_code)]
#[path = "../examples/alarm_guard.rs"]
mod alarm_guard;

use alarm_guard::AlarmLogger;

#[tokio::test]
async fn the_guard_swaps_in_the_logger_with_the_alarms_set_and_reinstalls_it_after_a_crash() {
    let outcome = tokio::time::timeout(std::time::Duration::from_secs(10), alarm_guard::run())
        .await
        .expect("the example ends by itself")
        .unwrap();

    // The default handler's terminate handed the alarms still set to the logger's init.
    assert_eq!(outcome.handed_over, ["disk_full", "fan_failure"]);

    // Installed twice by its guard: at the start, and after the bad alarm crashed it.
    assert_eq!(outcome.installs, 2);
    assert_eq!(outcome.handlers_after_crash.len(), 1);
    assert!(outcome.handlers_after_crash[0].is::<AlarmLogger>());
    // A fresh logger: it holds only what was set after it was re-installed.
    assert_eq!(outcome.held_after_crash, ["power_supply"]);

    // Duplicates are refused, by hand and through a second guard.
    assert!(
        matches!(&outcome.duplicate_add, AddError::AlreadyInstalled(id) if id.is::<AlarmLogger>()),
        "{:?}",
        outcome.duplicate_add
    );
    assert!(
        matches!(&outcome.duplicate_guard, SupervisorError::StartFailed { id, .. } if id.to_string() == "second_logger_guard"),
        "{:?}",
        outcome.duplicate_guard
    );
}
