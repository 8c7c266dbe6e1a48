//! Visible by default: with no `tracing` subscriber installed, a handler's crash and a
//! supervisor giving up are written to stderr, one block each; with a subscriber, they go
//! through `tracing` only. Each case runs in a child process (this test binary run again), as
//! whether a subscriber is installed is process-wide.

use std::process::Command;
use std::time::Duration;

use event_core::{handler, ChildSpec, EventManager, Intensity, Supervisor};

/// Set in the child process: which case it runs.
const CASE: &str = "EVENT_CORE_CONSOLE_CASE";

#[derive(Debug)]
struct Boom;

#[handler]
struct Fragile {
    seen: u32,
}

#[handler(event = Boom)]
impl Fragile {
    fn init(_: ()) -> Self {
        Fragile { seen: 0 }
    }

    fn handle_event(&mut self, _: &Boom) {
        self.seen += 1;
        panic!("the fragile handler breaks");
    }
}

/// A handler crashes; then a supervisor gives up on a child that keeps failing.
fn crash_and_give_up() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let manager = EventManager::<Boom>::builder()
            .name("console-test")
            .start()
            .unwrap();
        manager.add_handler::<Fragile>(()).await.unwrap();
        manager.sync_notify(Boom).await.unwrap();
        assert!(manager.which_handlers().await.unwrap().is_empty());

        let supervisor = Supervisor::builder()
            .name("console-sup")
            .intensity(Intensity::new(1, Duration::from_secs(3600)))
            .child(ChildSpec::task("flaky", |_stop| async {
                // Fails once started: its second failure spends the intensity.
                tokio::task::yield_now().await;
                Err("the flaky child fails".into())
            }))
            .start()
            .await
            .unwrap();
        supervisor.stopped().await;
    });
}

/// Runs this test binary again, as the child process of `case`; its stderr.
fn run_case(case: &str) -> String {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CASE, case)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "the child process ran:\n{stderr}");
    stderr
}

/// The child process's body; nothing unless run as one.
#[test]
fn child_process() {
    match std::env::var(CASE).as_deref() {
        Ok("bare") => crash_and_give_up(),
        Ok("subscribed") => {
            // A subscriber that writes nowhere: what it is given is not on stderr.
            let subscriber = tracing_subscriber::fmt()
                .with_writer(std::io::sink)
                .finish();
            tracing::subscriber::set_global_default(subscriber).unwrap();
            crash_and_give_up();
        }
        _ => {}
    }
}

#[test]
fn without_a_subscriber_crash_reports_go_to_stderr_one_block_each() {
    let stderr = run_case("bare");
    let blocks: Vec<&str> = stderr
        .split("=== ")
        .skip(1)
        .filter(|b| b.contains("REPORT"))
        .collect();
    let crash = blocks
        .iter()
        .find(|b| b.starts_with("CRASH REPORT: event handler crashed\n"))
        .unwrap_or_else(|| panic!("a crash report block:\n{stderr}"));
    for line in [
        "    manager: console-test\n",
        "    handler: ",
        "    reason: ",
        "the fragile handler breaks",
        "    status: ",
        "    outcome: removed\n",
    ] {
        assert!(crash.contains(line), "{line:?} in the block:\n{crash}");
    }
    let gave_up = blocks
        .iter()
        .find(|b| b.starts_with("SUPERVISOR REPORT: reached its restart intensity"))
        .unwrap_or_else(|| panic!("a supervisor report block:\n{stderr}"));
    assert!(
        gave_up.contains("    supervisor: console-sup\n"),
        "{gave_up}"
    );
    assert!(gave_up.contains("flaky"), "{gave_up}");
    let terminated = blocks
        .iter()
        .filter(|b| b.starts_with("SUPERVISOR REPORT: child terminated"))
        .count();
    assert_eq!(terminated, 2, "each failure of the child:\n{stderr}");
}

#[test]
fn with_a_subscriber_reports_go_through_tracing_only() {
    let stderr = run_case("subscribed");
    assert!(
        !stderr.contains("REPORT"),
        "nothing on stderr but the test harness's own lines:\n{stderr}"
    );
}
