//! The `router_dialer` example (seed 000): a handler waiting for its own manager gets an error
//! instead of a deadlock, the deferred install and a task of its own make the dial work, each
//! handler receives only its own timers, and a slow handler made dedicated stops delaying the
//! others.
//!
//! Paused time makes the figures exact: the archive's writes take virtual time, and the clock
//! moves only when every task waits.

use std::time::Duration;

use event_core::AddError;

#[allow(dead_code)]
#[path = "../examples/router_dialer.rs"]
mod router_dialer;

use router_dialer::{Connection, Dialer, Router, ARCHIVE_WRITE, PACKETS};

#[tokio::test(start_paused = true)]
async fn the_router_dials_without_deadlock_timers_stay_with_their_handler_and_dedicated_stops_the_delay(
) {
    let outcome = tokio::time::timeout(Duration::from_secs(60), router_dialer::run())
        .await
        .expect("the example ends by itself")
        .unwrap();

    // The blocking install from inside the router's callback was refused, not left hanging.
    assert!(
        matches!(outcome.router.refused, Some(AddError::WouldDeadlock)),
        "{:?}",
        outcome.router.refused
    );
    // The deferred install put the dialer in, and the router's task dialed through it.
    assert_eq!(outcome.handlers.len(), 2);
    assert!(outcome.handlers[0].is::<Dialer>());
    assert_eq!(outcome.handlers[0].to_string(), r#"Dialer("peer-7")"#);
    assert!(outcome.handlers[1].is::<Router>());
    assert_eq!(outcome.router.routes, [Connection { peer: "peer-7" }]);

    // Both timers fired; each reached only the handler that set it.
    let mut router_heard = outcome.router.heard.clone();
    router_heard.sort_unstable();
    assert_eq!(router_heard, ["Dialed", "RefreshRoutes"]);
    assert_eq!(outcome.dialer_heard, ["Keepalive"]);

    // Inline, the router waits for the archive on every packet: it routes the last one once the
    // archive has stored them all.
    assert_eq!(outcome.inline.archived_by_then, PACKETS);
    assert!(outcome.inline.router_done_after >= ARCHIVE_WRITE * PACKETS);
    // Dedicated, the router routes the whole burst before the archive has stored one packet.
    assert_eq!(outcome.dedicated.archived_by_then, 0);
    assert!(outcome.dedicated.router_done_after < ARCHIVE_WRITE);
}
