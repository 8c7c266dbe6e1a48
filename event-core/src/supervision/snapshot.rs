//! A supervision tree, whole (observer's live tree): [`Supervisor::snapshot`] asks a
//! supervisor for its children, then each running nested supervisor and manager for theirs,
//! outside the supervisor's task (a slow child never holds its supervisor). Printable as a
//! text tree; serializable with the `serde` feature.

use std::fmt;
use std::time::Duration;

use tokio::sync::oneshot;

use super::child::{ChildExit, ChildKind, Restart};
use super::run::Cmd;
use super::supervisor::{ChildInfo, ChildRef, ChildState, Supervisor, SupervisorError};
use crate::handler::BoxFuture;
use crate::EventManager;

/// A child as its supervisor answers a snapshot: what `which_children` says of it, how it last
/// ended, and a probe if it runs and can be looked inside.
pub(crate) struct Probed {
    pub(crate) info: ChildInfo,
    pub(crate) last_exit: Option<ChildExit>,
    pub(crate) probe: Option<Probe>,
}

/// How to look inside a running child.
pub(crate) enum Probe {
    Supervisor(Supervisor),
    Manager(Box<dyn FnOnce() -> BoxFuture<'static, Option<ManagerSnapshot>> + Send>),
}

impl Probe {
    pub(crate) fn manager<E: Send + Sync + 'static>(manager: EventManager<E>) -> Self {
        Probe::Manager(Box::new(move || {
            Box::pin(async move {
                let handlers = manager.which_handlers().await.ok()?;
                let stats = manager.statistics().await.ok()?;
                Some(ManagerSnapshot {
                    name: manager.name().to_owned(),
                    handlers: handlers.iter().map(ToString::to_string).collect(),
                    events: stats.events,
                    calls: stats.calls,
                    queued: stats.queued,
                    queued_high_water: stats.queued_high_water,
                    uptime: stats.uptime,
                })
            })
        }))
    }
}

/// A supervisor and its children, recursively: from [`Supervisor::snapshot`].
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct SupervisorSnapshot {
    /// The supervisor's name.
    pub name: String,
    /// How many restarts more its intensity allows in the current period.
    pub restarts_left: u32,
    /// Its children, newest first.
    pub children: Vec<ChildSnapshot>,
}

/// One child of a supervisor in a [`SupervisorSnapshot`].
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct ChildSnapshot {
    /// Its id.
    #[cfg_attr(feature = "serde", serde(serialize_with = "display"))]
    pub id: ChildRef,
    /// Its name: its id, or for a dynamic child the id its template gave it (as in
    /// [`ChildInfo::name`]).
    pub name: String,
    /// How many times it has started in this incarnation of its supervisor (as in
    /// [`ChildInfo::incarnation`]): 1 after its first start, one more for each restart.
    pub incarnation: u32,
    /// How many times it has been restarted in this incarnation of its supervisor: its
    /// incarnation less its first start.
    pub restarts: u32,
    /// How it last ended (on its own, or stopped by its supervisor), if it ever did in this
    /// incarnation of its supervisor.
    #[cfg_attr(feature = "serde", serde(serialize_with = "display_opt"))]
    pub last_exit: Option<ChildExit>,
    /// Worker or supervisor.
    #[cfg_attr(feature = "serde", serde(serialize_with = "debug"))]
    pub kind: ChildKind,
    /// Its restart type.
    #[cfg_attr(feature = "serde", serde(serialize_with = "debug"))]
    pub restart: Restart,
    /// Whether it runs.
    #[cfg_attr(feature = "serde", serde(serialize_with = "debug"))]
    pub state: ChildState,
    /// Inside it, if it runs and is a supervisor or an event manager.
    pub inside: Option<Inside>,
}

/// What runs inside a child.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub enum Inside {
    /// A nested supervisor.
    Supervisor(SupervisorSnapshot),
    /// An event manager.
    Manager(ManagerSnapshot),
}

/// An event manager in a [`SupervisorSnapshot`]: its handlers and its
/// [statistics](crate::EventManager::statistics).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct ManagerSnapshot {
    /// The manager's name.
    pub name: String,
    /// Its handlers' identities, newest first.
    pub handlers: Vec<String>,
    /// Events it has taken (in this incarnation).
    pub events: u64,
    /// Calls it has taken.
    pub calls: u64,
    /// Messages queued now.
    pub queued: usize,
    /// The most messages it found queued at once.
    pub queued_high_water: usize,
    /// How long this incarnation has run.
    pub uptime: Duration,
}

#[cfg(feature = "serde")]
fn display<T: fmt::Display, S: serde::Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

#[cfg(feature = "serde")]
fn display_opt<T: fmt::Display, S: serde::Serializer>(
    v: &Option<T>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.collect_str(v),
        None => s.serialize_none(),
    }
}

#[cfg(feature = "serde")]
fn debug<T: fmt::Debug, S: serde::Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&format_args!("{v:?}"))
}

impl Supervisor {
    /// A snapshot of the tree under this supervisor (observer's live tree): each supervisor
    /// with the restarts its intensity allows now, each child with its kind, restart type,
    /// state, incarnation, restarts and last exit, and inside each running nested supervisor
    /// and event manager, its own children, or its handlers and statistics. The supervisors are asked
    /// one after another, each between two of its commands, so the snapshot is not of one
    /// instant. Print it (`{}`) for a text tree.
    ///
    /// ```
    /// # use event_core::{EventManager, Supervisor};
    /// # #[derive(Debug)] struct Ev;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (alarms, child) = EventManager::<Ev>::builder().name("alarms").supervised("alarms").build()?;
    /// let top = Supervisor::builder().name("top").child(child).start().await?;
    /// let tree = top.snapshot().await?;
    /// assert_eq!(tree.children.len(), 1);
    /// println!("{tree}");
    /// # drop(alarms);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`SupervisorError::SupervisorGone`] if this supervisor has ended. A nested supervisor
    /// or manager that ends meanwhile is shown without its inside.
    pub async fn snapshot(&self) -> Result<SupervisorSnapshot, SupervisorError> {
        snapshot(self.clone_handle()).await
    }

    fn clone_handle(&self) -> Supervisor {
        Supervisor {
            shared: self.shared.clone(),
        }
    }
}

fn snapshot(sup: Supervisor) -> BoxFuture<'static, Result<SupervisorSnapshot, SupervisorError>> {
    Box::pin(async move {
        let (tx, rx) = oneshot::channel();
        sup.shared
            .tx
            .send(Cmd::Probe(tx))
            .map_err(|_| SupervisorError::SupervisorGone)?;
        let (restarts_left, probed) = rx.await.map_err(|_| SupervisorError::SupervisorGone)??;
        let mut children = Vec::with_capacity(probed.len());
        for Probed {
            info,
            last_exit,
            probe,
        } in probed
        {
            let inside = match probe {
                None => None,
                Some(Probe::Supervisor(nested)) => {
                    snapshot(nested).await.ok().map(Inside::Supervisor)
                }
                Some(Probe::Manager(look)) => look().await.map(Inside::Manager),
            };
            children.push(ChildSnapshot {
                id: info.id,
                name: info.name.to_string(),
                incarnation: info.incarnation,
                restarts: info.incarnation.saturating_sub(1),
                last_exit,
                kind: info.kind,
                restart: info.restart,
                state: info.state,
                inside,
            });
        }
        Ok(SupervisorSnapshot {
            name: sup.name().to_owned(),
            restarts_left,
            children,
        })
    })
}

impl fmt::Display for SupervisorSnapshot {
    /// The tree as text, a line per supervisor, child, manager and handler.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "supervisor {} (restarts left: {})",
            self.name, self.restarts_left
        )?;
        self.write_children(f, "")
    }
}

impl SupervisorSnapshot {
    fn write_children(&self, f: &mut fmt::Formatter<'_>, indent: &str) -> fmt::Result {
        for (n, c) in self.children.iter().enumerate() {
            let last = n + 1 == self.children.len();
            let (branch, below) = match last {
                true => ("└─ ", "   "),
                false => ("├─ ", "│  "),
            };
            write!(
                f,
                "{indent}{branch}{} ({:?}, {:?}, {:?}, #{}",
                c.id, c.kind, c.restart, c.state, c.incarnation
            )?;
            if let ChildRef::Dynamic(_) = c.id {
                write!(f, ", {}", c.name)?;
            }
            match &c.last_exit {
                Some(exit) => write!(f, ", last exit: {exit})")?,
                None => write!(f, ")")?,
            }
            let inner = format!("{indent}{below}");
            match &c.inside {
                None => writeln!(f)?,
                Some(Inside::Supervisor(s)) => {
                    writeln!(
                        f,
                        ": supervisor {} (restarts left: {})",
                        s.name, s.restarts_left
                    )?;
                    s.write_children(f, &inner)?;
                }
                Some(Inside::Manager(m)) => {
                    writeln!(
                        f,
                        ": manager {}, {} events, {} calls, {} queued (most {}), up {:?}",
                        m.name, m.events, m.calls, m.queued, m.queued_high_water, m.uptime
                    )?;
                    for (k, h) in m.handlers.iter().enumerate() {
                        let branch = match k + 1 == m.handlers.len() {
                            true => "└─ ",
                            false => "├─ ",
                        };
                        writeln!(f, "{inner}{branch}handler {h}")?;
                    }
                }
            }
        }
        Ok(())
    }
}
