//! How a manager is configured and started: its name, its bound, whether crash reports show
//! the event.

use std::fmt;
use std::sync::Arc;

use tracing::Instrument;

use super::event_loop::EventLoop;
use super::handle::EventManager;
use super::mailbox::Mailbox;
use crate::error::StartError;
use crate::observe::{span, task};

/// Configures and starts an [`EventManager`].
///
/// ```
/// # use event_core::*;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let manager = EventManager::<u64>::builder()
///     .name("metrics")
///     .bounded(1024)    // notify waits, try_notify says Full, past 1024 queued events
///     .debug_events()   // crash reports show the event
///     .start()?;
/// manager.try_notify(1)?;
/// # Ok(()) }
/// ```
#[must_use = "a builder does nothing until started"]
pub struct Builder<E> {
    name: Option<String>,
    bound: Option<usize>,
    debug_event: Option<fn(&E) -> String>,
}

impl<E> Builder<E> {
    /// The largest capacity [`bounded`](Builder::bounded) takes: the most permits tokio's
    /// semaphore, which counts the room, can hold (`usize::MAX >> 3`). A larger one is refused
    /// with [`StartError::CapacityTooLarge`]; leave the mailbox unbounded instead.
    pub const MAX_BOUND: usize = tokio::sync::Semaphore::MAX_PERMITS;
}

impl<E: Send + Sync + 'static> Builder<E> {
    pub(super) fn new() -> Self {
        Builder {
            name: None,
            bound: None,
            debug_event: None,
        }
    }

    /// Names the manager, for crash reports and logs. The default is `manager#N`.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Bounds the mailbox to `capacity` queued events: [`notify`](EventManager::notify) then
    /// waits for room and [`try_notify`](EventManager::try_notify) returns
    /// [`NotifyError::Full`](crate::NotifyError::Full). Requests (calls, installs, ...) are not counted: each caller
    /// waits for its reply anyway.
    ///
    /// `capacity` is from 1 to [`Builder::MAX_BOUND`]: starting the manager refuses 0 with
    /// [`StartError::ZeroCapacity`] and more with [`StartError::CapacityTooLarge`].
    pub fn bounded(mut self, capacity: usize) -> Self {
        self.bound = Some(capacity);
        self
    }

    /// Crash reports show the `Debug` form of the event that was running.
    pub fn debug_events(mut self) -> Self
    where
        E: fmt::Debug,
    {
        fn debug<E: fmt::Debug>(e: &E) -> String {
            format!("{e:?}")
        }
        self.debug_event = Some(debug::<E>);
        self
    }

    /// Starts the manager's task on the current tokio runtime (current-thread or
    /// multi-thread).
    pub fn start(self) -> Result<EventManager<E>, StartError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| StartError::NoRuntime)?;
        let (mailbox, debug_event) = self.into_parts()?;
        let manager = EventManager::from_mailbox(mailbox.clone());
        let span = span::manager(mailbox.name());
        let name = mailbox.name().to_owned();
        let run = EventLoop::new(mailbox, debug_event).run().instrument(span);
        task::spawn_on(&runtime, || format!("manager {name}"), run);
        Ok(manager)
    }

    /// The mailbox the manager will run on, and how it shows events.
    /// The mailbox and the event formatter, for a manager started here or by a supervisor.
    #[allow(clippy::type_complexity)]
    pub(super) fn into_parts(
        self,
    ) -> Result<(Arc<Mailbox<E>>, Option<fn(&E) -> String>), StartError> {
        match self.bound {
            Some(0) => return Err(StartError::ZeroCapacity),
            Some(requested) if requested > Self::MAX_BOUND => {
                return Err(StartError::CapacityTooLarge {
                    requested,
                    max: Self::MAX_BOUND,
                })
            }
            _ => {}
        }
        Ok((
            Arc::new(Mailbox::new(self.name, self.bound)),
            self.debug_event,
        ))
    }
}

impl<E> fmt::Debug for Builder<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("name", &self.name)
            .field("bound", &self.bound)
            .field("debug_events", &self.debug_event.is_some())
            .finish()
    }
}
