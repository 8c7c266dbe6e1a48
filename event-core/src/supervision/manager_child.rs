//! Event managers as a supervisor's children: [`Builder::supervised`] makes one, with the
//! standing handlers every incarnation starts with. Built on the manager's supervised mode
//! ([`SupervisedManager`]), the one seam between the two sides.

use super::snapshot::Probe;
use std::fmt;
use std::sync::Arc;

use tokio::sync::oneshot;

use super::child::{ChildExit, ChildKind, ChildSpec, Launch, Restart, Run, Start, Starter, Stop};
use crate::error::StartError;
use crate::handler::{BoxError, BoxFuture, Handler};
use crate::intensity::Intensity;
use crate::manager::{
    Builder, Ended, EventManager, Install, Lifespan, Standing, SupervisedManager,
};

/// An event manager to be run by a supervisor: built by [`Builder::supervised`], with the handlers
/// every incarnation starts with.
///
/// Its handle ([`EventManager`]) is made now and outlives every restart: events sent while the
/// manager restarts wait in its mailbox and are handled by the next incarnation, after its
/// standing handlers are installed and before anything else. That holds for a restart after
/// the manager's own [`stop`](EventManager::stop) too: a permanent child's stop does not close
/// the mailbox, and what is sent after it waits for the next incarnation. A transient or
/// temporary child is not restarted after a stop, so its stop refuses what comes after, as a
/// standalone manager's does.
///
/// Once nothing can start the manager again, the handle refuses everything with
/// `ManagerGone` and [`stopped`](EventManager::stopped) returns: after its supervisor ends
/// for good or fails to start, after its child is deleted, after a temporary child's end, and
/// when its [`ChildSpec`] is dropped without ever being given to a supervisor that runs it.
#[must_use = "a manager child does nothing until built and given to a supervisor"]
pub struct ManagerChild<E: 'static> {
    id: Arc<str>,
    builder: Builder<E>,
    standing: Standing<E>,
}

impl<E: Send + Sync + 'static> Builder<E> {
    /// Makes this manager a supervisor's child with id `id`; see [`ManagerChild`].
    pub fn supervised(self, id: impl Into<Arc<str>>) -> ManagerChild<E> {
        ManagerChild {
            id: id.into(),
            builder: self,
            standing: Standing::new(),
        }
    }
}

impl<E: Send + Sync + 'static> ManagerChild<E> {
    /// A standing handler: installed (inline, unsupervised) by every incarnation before its
    /// first message, with a fresh clone of `args`. If its `init` fails, the manager fails to
    /// start.
    pub fn handler<H>(self, install: impl Into<Install<H>>, args: H::Args) -> Self
    where
        H: Handler<E>,
        H::Args: Clone + Sync,
    {
        self.standing_handler(install.into(), args, None)
    }

    /// A standing handler that the manager also restarts in place after a crash (see
    /// [`EventManager::add_handler_in_place`]).
    pub fn handler_in_place<H>(
        self,
        install: impl Into<Install<H>>,
        args: H::Args,
        intensity: Intensity,
    ) -> Self
    where
        H: Handler<E>,
        H::Args: Clone + Sync,
    {
        self.standing_handler(install.into(), args, Some(intensity))
    }

    fn standing_handler<H>(
        mut self,
        install: Install<H>,
        args: H::Args,
        intensity: Option<Intensity>,
    ) -> Self
    where
        H: Handler<E>,
        H::Args: Clone + Sync,
    {
        self.standing.push(install, args, intensity);
        self
    }

    /// The manager's handle, which reaches every incarnation, and its child specification.
    pub fn build(self) -> Result<(EventManager<E>, ChildSpec), StartError> {
        let (handle, manager) = SupervisedManager::new(self.builder, self.standing)?;
        let starter = ManagerStarter(manager);
        Ok((
            handle,
            ChildSpec::from_starter(self.id, Arc::new(starter), ChildKind::Worker),
        ))
    }
}

impl<E> fmt::Debug for ManagerChild<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManagerChild")
            .field("id", &self.id)
            .field("standing", &self.standing.len())
            .finish_non_exhaustive()
    }
}

/// Starts each incarnation of a supervised manager.
struct ManagerStarter<E: 'static>(SupervisedManager<E>);

impl<E: Send + Sync + 'static> Starter for ManagerStarter<E> {
    fn start(&self, restart: Restart) -> BoxFuture<'static, Result<Start, BoxError>> {
        // A stop ends the manager normally: only a permanent child is restarted after it, and
        // a temporary one is never restarted (its supervisor keeps nothing to retire it with).
        let lifespan = match restart {
            Restart::Permanent => Lifespan::Restarted,
            Restart::Transient => Lifespan::UntilStopped,
            Restart::Temporary => Lifespan::Once,
        };
        let (ready_tx, ready_rx) = oneshot::channel();
        let incarnation = self.0.incarnation(lifespan, move |started| {
            let _ = ready_tx.send(started.map_err(|e| Box::new(e) as BoxError));
        });
        let run = Box::pin(async move {
            match incarnation.await {
                Ended::Stopped => ChildExit::Normal,
                Ended::Halted | Ended::NotStarted => ChildExit::Shutdown,
            }
        });
        let halt = self.0.halter();
        Box::pin(async move {
            Ok(Start(Some(Launch {
                run: Run::Child(run),
                ready: Some(ready_rx),
                stop: Stop::Call(Box::new(move |restarting| halt.halt(restarting))),
            })))
        })
    }

    fn retire(&self) {
        self.0.retire();
    }

    fn park(&self) {
        self.0.park();
    }

    fn probe(&self) -> Option<Probe> {
        Some(Probe::manager(self.0.handle()))
    }
}
