//! A real `nats-server` with JetStream for the tests: on a free loopback port, with a store
//! folder of its own, stopped (and the folder removed) when dropped.

#![allow(dead_code)]

use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Set (to anything) where every NATS test must run: a missing `nats-server` fails them
/// instead of skipping them. `.ci/run` sets it.
const REQUIRE: &str = "EVENT_NATS_REQUIRE_SERVER";

pub struct NatsServer {
    child: Child,
    port: u16,
    store: PathBuf,
}

/// Whether `nats-server` can be run; if not, says so in one line that the test harness does
/// not capture, and fails where the server is required.
pub fn available() -> bool {
    let found = std::process::Command::new("nats-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var_os(REQUIRE).is_none(),
            "{REQUIRE} is set but nats-server is not installed (apt-get install nats-server)"
        );
        let _ = writeln!(
            std::io::stderr(),
            "skipped: nats-server is not installed (apt-get install nats-server); this test needs it"
        );
    }
    found
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl NatsServer {
    /// Starts a server on a free port with a new store folder, and waits until it is ready.
    pub async fn start() -> NatsServer {
        static N: AtomicU64 = AtomicU64::new(0);
        let store = std::env::temp_dir().join(format!(
            "event-nats-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&store).unwrap();
        // A port can be taken between the look-up and the server's bind: try a few.
        for _ in 0..5 {
            let port = free_port();
            if let Some(child) = Self::spawn(port, &store).await {
                return NatsServer { child, port, store };
            }
        }
        panic!("nats-server did not start");
    }

    /// Starts `nats-server` on `port` with `store`; `None` if it exits before it is ready.
    async fn spawn(port: u16, store: &PathBuf) -> Option<Child> {
        let mut child = Command::new("nats-server")
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(store)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("nats-server runs");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let ready = tokio::time::timeout(Duration::from_secs(30), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if line.contains("Server is ready") {
                    return true;
                }
            }
            false
        })
        .await
        .unwrap_or(false);
        if !ready {
            let _ = child.kill().await;
            return None;
        }
        // Keep reading its log so that it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Some(child)
    }

    pub fn url(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the server (SIGKILL) and starts it again on the same port and store.
    pub async fn kill_and_restart(&mut self) {
        self.child.kill().await.unwrap();
        let mut tries = 0;
        loop {
            if let Some(child) = Self::spawn(self.port, &self.store).await {
                self.child = child;
                return;
            }
            tries += 1;
            assert!(
                tries < 20,
                "nats-server did not restart on port {}",
                self.port
            );
            // The port is released by the kernel shortly after the process dies.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.store);
    }
}

/// A TCP proxy between clients and the server, whose connections can be cut: the clients see
/// the broker vanish, and reconnect once it is restored.
pub struct Proxy {
    port: u16,
    cut: tokio::sync::watch::Sender<bool>,
    refused: std::sync::Arc<tokio::sync::Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// A proxy on a free loopback port to `upstream`.
    pub async fn start(upstream: String) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (cut, cut_rx) = tokio::sync::watch::channel(false);
        let refused = std::sync::Arc::new(tokio::sync::Notify::new());
        let refused_tx = refused.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if *cut_rx.borrow() {
                    drop(client);
                    refused_tx.notify_one();
                    continue;
                }
                let upstream = upstream.clone();
                let mut cut = cut_rx.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.wait_for(|cut| *cut) => {}
                    }
                });
            }
        });
        Proxy {
            port,
            cut,
            refused,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Drops every connection, and refuses new ones until restored; returns once a client has
    /// tried to reconnect and been refused.
    pub async fn cut(&self) {
        self.cut.send_replace(true);
        self.refused.notified().await;
    }

    pub fn restore(&self) {
        self.cut.send_replace(false);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}
