//! A handler's status view keeps its secrets out of crash reports: a `#[redact]` field never
//! reaches the `tracing` output, whichever callback crashes, inline, dedicated or restarted in
//! place, while the fields it does show are there.

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use event_core::{handler, Context, EventManager, ExitReason, Info, Install, Intensity};

const SECRET: &str = "correct-horse-battery-staple";

#[derive(Debug)]
enum Cmd {
    Note,
    Fail,
    Panic,
    Tick,
}

#[handler]
struct Vault {
    user: String,
    #[redact]
    password: String,
    notes: u32,
}

struct Open;

#[handler(event = Cmd)]
impl Vault {
    fn init(password: String) -> Self {
        Vault {
            user: "alice".into(),
            password,
            notes: 0,
        }
    }

    fn handle_event(&mut self, cmd: &Cmd, cx: &mut Context<Cmd, Self>) -> Result<(), String> {
        match cmd {
            Cmd::Note => self.notes += 1,
            Cmd::Fail => return Err("the vault refuses".into()),
            Cmd::Panic => panic!("the vault breaks"),
            Cmd::Tick => {
                cx.send_after(Duration::ZERO, ());
            }
        }
        Ok(())
    }

    fn handle_info(&mut self, _: Info<()>) -> Result<(), &'static str> {
        Err("the vault's timer fails")
    }

    #[call]
    fn open(&mut self, _: Open) -> bool {
        // A call fails by panicking (a returned `Result` would be its reply).
        let length = self.password.len();
        panic!(
            "{} may not open the vault (a password of {length})",
            self.user
        )
    }
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_redacted_field_never_reaches_a_crash_report() {
    let out = Captured::default();
    let writer = out.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    tracing::callsite::rebuild_interest_cache();

    let manager = EventManager::<Cmd>::start().unwrap();
    let mut exits = Vec::new();
    let installs = [
        Install::<Vault>::new().key("inline"),
        Install::<Vault>::new().key("dedicated").dedicated(4),
    ];
    // Each way to crash: an error and a panic in handle_event, a failing call, a failing timer.
    for way in ["error", "panic", "call", "timer"] {
        for install in installs.clone() {
            let link = manager
                .add_sup_handler_with(install.clone(), SECRET.to_string())
                .await
                .unwrap();
            manager.sync_notify(Cmd::Note).await.unwrap();
            match way {
                "error" => manager.sync_notify(Cmd::Fail).await.unwrap(),
                "panic" => manager.sync_notify(Cmd::Panic).await.unwrap(),
                "call" => assert!(manager.call(install.handler_ref(), Open).await.is_err()),
                _ => manager.sync_notify(Cmd::Tick).await.unwrap(),
            }
            exits.push(link.await);
        }
    }
    // And restarted in place.
    let intensity = Intensity::new(5, Duration::from_secs(60));
    let mut link = manager
        .add_sup_handler_in_place(
            Install::<Vault>::new().key("in place"),
            SECRET.to_string(),
            intensity,
        )
        .await
        .unwrap();
    manager.sync_notify(Cmd::Panic).await.unwrap();
    assert!(link.try_restarted().is_some());

    let text = String::from_utf8_lossy(&out.0.lock().unwrap()).into_owned();
    let reports = text
        .lines()
        .filter(|l| l.contains("event handler crashed"))
        .count();
    assert_eq!(reports, 9, "every crash was reported:\n{text}");
    for line in text.lines().filter(|l| l.contains("event handler crashed")) {
        assert!(
            line.contains(r#"status=Vault { user: "alice", password: <redacted>, notes: 1 }"#)
                || line
                    .contains(r#"status=Vault { user: "alice", password: <redacted>, notes: 0 }"#),
            "the report shows the status view: {line}"
        );
    }
    assert!(!text.contains(SECRET), "the secret leaked:\n{text}");
    for exit in &exits {
        assert!(matches!(exit, ExitReason::Crashed(_)), "{exit:?}");
        assert!(!exit.to_string().contains(SECRET));
        assert!(!format!("{exit:?}").contains(SECRET));
    }
}
