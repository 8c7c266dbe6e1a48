//! The `charging_station` example (seed 001): a state machine's requests to a transparently
//! supervised business logic. The request that crashes the handler is answered "internal
//! error"; restarted in place, the handler answers the request queued right behind the crash;
//! restarted by a guard, that request falls into the window before the re-install.

use std::time::Duration;

#[allow(dead_code)]
#[path = "../examples/charging_station.rs"]
mod charging_station;

use charging_station::{Answer, Decision, Outcome, Restart};

async fn run(restart: Restart) -> Outcome {
    tokio::time::timeout(Duration::from_secs(10), charging_station::run(restart))
        .await
        .expect("the example ends by itself")
        .unwrap()
}

fn decided(id: u32, status: &'static str, incarnation: u32) -> Answer {
    Answer::Result {
        id,
        decision: Decision {
            status,
            incarnation,
        },
    }
}

#[tokio::test(flavor = "current_thread")]
async fn in_place_the_request_behind_the_poison_one_is_answered_by_the_new_incarnation() {
    let outcome = run(Restart::InPlace).await;
    assert_eq!(
        outcome.answers,
        [
            decided(1, "Accepted", 1),
            Answer::InternalError { id: 2 },
            decided(3, "Accepted", 2),
            decided(4, "Ok", 2),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_place_there_is_no_window_on_a_multi_thread_runtime_either() {
    for _ in 0..20 {
        let outcome = run(Restart::InPlace).await;
        assert_eq!(outcome.answers[1], Answer::InternalError { id: 2 });
        assert_eq!(outcome.answers[2], decided(3, "Accepted", 2));
    }
}

#[tokio::test(flavor = "current_thread")]
async fn with_a_guard_the_request_behind_the_poison_one_falls_into_the_window() {
    let outcome = run(Restart::Guard).await;
    assert_eq!(
        outcome.answers,
        [
            decided(1, "Accepted", 1),
            Answer::InternalError { id: 2 },
            // Queued before the guard could re-install the handler: no handler to answer it.
            Answer::InternalError { id: 3 },
            decided(4, "Ok", 2),
        ]
    );
}
