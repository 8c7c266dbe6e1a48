//! The supervision side: supervisors, their children, and guards. Built on the manager side
//! (a manager child uses the manager's supervised mode, a guard holds a handler's link), never
//! the reverse.
//!
//! - `supervisor`: the public face ([`Supervisor`], [`SupervisorBuilder`], strategies, child
//!   references and states, errors).
//! - `run`: a supervisor's task: its run loop, its strategies (`run/strategy`), its child
//!   administration (`run/admin`), its record of its children (`run/children`).
//! - `child`: child specifications, restart types, shutdowns, and what a child's start returns.
//! - `events`: what a supervisor tells of its children as they come and go, and why it ended.
//! - `manager_child`: event managers as children.
//! - `into_child`: types that know how to start as a child ([`IntoChild`]).
//! - `guard`: lager's watcher, a child that re-installs a supervised handler.
//! - `snapshot`: the tree, whole, for a look at it (observer's live tree).
//!
//! Invariants:
//! - A supervisor's task is the only one that touches its children; handles send commands.
//! - Children start in order and stop in reverse order; a child's end is handled before the
//!   next command, by its restart type, the strategy and the intensity, as in OTP.
//! - A supervisor that is dropped or killed takes its running children with it.
//! - No child operation looks through the other children: each finds its child by reference
//!   in O(log N), and the counts are kept as children change, so a tree of N children starts
//!   and stops in O(N log N).
//! - A handle to a nested supervisor or a supervised manager reaches every incarnation.

mod child;
mod events;
mod guard;
mod into_child;
mod manager_child;
mod run;
mod snapshot;
mod supervisor;

pub use child::{ChildExit, ChildKind, ChildSpec, Restart, Shutdown, Start, StopToken};
pub use events::{ChildEvent, ChildEvents, SupervisorExit};
pub use guard::{Backoff, Fatal, Guard, GuardChild, GuardError, InstallError};
pub use into_child::IntoChild;
pub use manager_child::ManagerChild;
pub use snapshot::{ChildSnapshot, Inside, ManagerSnapshot, SupervisorSnapshot};
pub use supervisor::{
    AutoShutdown, ChildCount, ChildInfo, ChildRef, ChildSpecView, ChildState, Strategy, Supervisor,
    SupervisorBuilder, SupervisorError,
};
