//! A supervisor's record of its children: each one's specification and state, in start order,
//! found by its reference in O(log N), with the counts `count_children` gives kept as they
//! change, so that no child operation looks through the others.
//!
//! A child is given a position when it is added and keeps it across its restarts: start order
//! is position order. A dynamic child's number is its position (the id its template gave it
//! is its name, shared with its start function, not an index); a child with an id is found
//! through an index of ids.

use std::collections::{BTreeMap, HashMap};
use std::ops::RangeFrom;
use std::sync::Arc;

use tokio::task::JoinHandle;

use super::super::child::{ChildExit, ChildKind, ChildSpec, Restart, Shutdown, Starter, Stop};
use super::super::snapshot::Probed;
use super::super::supervisor::{ChildCount, ChildInfo, ChildRef, ChildSpecView, ChildState};

/// A running child, as its supervisor holds it: its task, whose output is how it ended.
/// Dropping it aborts the child, so a supervisor that is itself killed takes its children
/// with it.
pub(super) struct Running {
    /// Tells this incarnation's end from an earlier one's.
    pub(super) uid: u64,
    pub(super) task: JoinHandle<ChildExit>,
    /// How it is asked to stop; taken when it is.
    pub(super) stop: Option<Stop>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Where a child comes from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Origin {
    /// The supervisor's own specification: started again by each of its incarnations.
    Fixed,
    /// Added by `start_child`.
    Added,
    /// Started from a simple_one_for_one supervisor's template, named by its position.
    Dynamic,
}

pub(super) enum State {
    Running(Running),
    Restarting,
    NotRunning,
}

/// One child: its specification and its state.
pub(super) struct Child {
    /// Its id; a dynamic child's name (its position names it).
    id: Arc<str>,
    /// How to start it; dropped once a temporary child runs, as it is never started again
    /// (it ends for good by itself).
    pub(super) starter: Option<Arc<dyn Starter>>,
    pub(super) restart: Restart,
    pub(super) shutdown: Shutdown,
    pub(super) kind: ChildKind,
    pub(super) significant: bool,
    /// Where it comes from; one byte, beside the other small fields.
    origin: Origin,
    /// How many times it was started (ran) in this incarnation of its supervisor; counted by
    /// [`Children::set_state`].
    pub(super) incarnation: u32,
    /// Changed through [`Children::set_state`], which keeps the counts.
    state: State,
}

impl Child {
    /// A child of `spec`, not running.
    pub(super) fn new(spec: ChildSpec, origin: Origin) -> Self {
        Child {
            id: spec.id,
            starter: Some(spec.starter),
            restart: spec.restart,
            shutdown: spec.shutdown,
            kind: spec.kind,
            significant: spec.significant,
            origin,
            incarnation: 0,
            state: State::NotRunning,
        }
    }

    pub(super) fn state(&self) -> &State {
        &self.state
    }

    /// It will never run again.
    pub(super) fn retire(&self) {
        if let Some(starter) = &self.starter {
            starter.retire();
        }
    }

    /// It is not running and not being restarted.
    pub(super) fn park(&self) {
        if let Some(starter) = &self.starter {
            starter.park();
        }
    }

    /// Its reference, given its position.
    pub(super) fn key(&self, pos: u64) -> ChildRef {
        match self.dynamic() {
            false => ChildRef::Id(self.id.clone()),
            true => ChildRef::Dynamic(pos),
        }
    }

    fn dynamic(&self) -> bool {
        self.origin == Origin::Dynamic
    }

    /// From the supervisor's own specification, not added later.
    pub(super) fn fixed(&self) -> bool {
        self.origin == Origin::Fixed
    }

    /// Its name: its id, or the id a dynamic child's template gave it.
    pub(super) fn name(&self) -> &Arc<str> {
        &self.id
    }

    /// How logs name it: its reference, and a dynamic child's name.
    pub(super) fn label(&self, pos: u64) -> String {
        match self.dynamic() {
            false => self.id.to_string(),
            true => format!("{} (#{pos})", self.id),
        }
    }

    /// Its specification, to be read (OTP's `get_childspec`).
    pub(super) fn spec_view(&self, pos: u64) -> ChildSpecView {
        ChildSpecView {
            id: self.key(pos),
            name: self.id.clone(),
            restart: self.restart,
            shutdown: self.shutdown,
            kind: self.kind,
            significant: self.significant,
        }
    }

    fn info(&self, pos: u64) -> ChildInfo {
        ChildInfo {
            id: self.key(pos),
            name: self.id.clone(),
            incarnation: self.incarnation,
            state: match self.state {
                State::Running(_) => ChildState::Running,
                State::Restarting => ChildState::Restarting,
                State::NotRunning => ChildState::NotRunning,
            },
            kind: self.kind,
            restart: self.restart,
        }
    }
}

/// The children, by position, and what is counted of them.
pub(super) struct Children {
    /// In start order.
    by_pos: BTreeMap<u64, Child>,
    /// The positions of the children with ids.
    ids: HashMap<Arc<str>, u64>,
    /// The position of the next child added; dynamic children are numbered from 1.
    next: u64,
    /// Children running.
    active: usize,
    supervisors: usize,
    /// Significant children that have not ended (running or restarting).
    significant: usize,
    /// How each child that ended last ended, for a snapshot; kept out of the child's record,
    /// which stays small.
    last_exits: HashMap<u64, ChildExit>,
}

impl Children {
    pub(super) fn new() -> Self {
        Children {
            by_pos: BTreeMap::new(),
            ids: HashMap::new(),
            next: 1,
            active: 0,
            supervisors: 0,
            significant: 0,
            last_exits: HashMap::new(),
        }
    }

    /// The child at `pos` ended so (on its own, or stopped).
    pub(super) fn ended(&mut self, pos: u64, exit: &ChildExit) {
        self.last_exits.insert(pos, exit.clone());
    }

    /// Takes the position for a child about to be started: a dynamic child's number, used even
    /// if its start fails or is ignored.
    pub(super) fn reserve(&mut self) -> u64 {
        self.next += 1;
        self.next - 1
    }

    /// Whether `pos` was ever given out.
    pub(super) fn was_given(&self, pos: u64) -> bool {
        pos < self.next
    }

    /// Adds `child` at `pos`, a position reserved for it, in state `state`.
    pub(super) fn insert(&mut self, pos: u64, mut child: Child, state: State) {
        if child.restart == Restart::Temporary {
            // OTP keeps no start arguments for a temporary child: it is never started again.
            child.starter = None;
        }
        if !child.dynamic() {
            self.ids.insert(child.id.clone(), pos);
        }
        if child.kind == ChildKind::Supervisor {
            self.supervisors += 1;
        }
        self.by_pos.insert(pos, child);
        self.set_state(pos, state);
    }

    /// Takes out the child at `pos`.
    pub(super) fn remove(&mut self, pos: u64) -> Child {
        self.set_state(pos, State::NotRunning);
        let child = self.by_pos.remove(&pos).expect("a child at the position");
        self.last_exits.remove(&pos);
        if !child.dynamic() {
            self.ids.remove(&child.id);
        }
        if child.kind == ChildKind::Supervisor {
            self.supervisors -= 1;
        }
        child
    }

    /// The position of the child `key` names.
    pub(super) fn find(&self, key: &ChildRef) -> Option<u64> {
        match key {
            ChildRef::Id(id) => self.ids.get(id).copied(),
            ChildRef::Dynamic(n) => self
                .by_pos
                .get(n)
                .is_some_and(|c| c.dynamic())
                .then_some(*n),
        }
    }

    pub(super) fn get(&self, pos: u64) -> Option<&Child> {
        self.by_pos.get(&pos)
    }

    /// The child at `pos`, which is there.
    pub(super) fn at(&self, pos: u64) -> &Child {
        &self.by_pos[&pos]
    }

    /// Sets the state of the child at `pos`, and gives back the one it had. A child set
    /// running has started once more.
    pub(super) fn set_state(&mut self, pos: u64, state: State) -> State {
        let child = self.by_pos.get_mut(&pos).expect("a child at the position");
        if matches!(state, State::Running(_)) {
            child.incarnation += 1;
        }
        let old = std::mem::replace(&mut child.state, state);
        let running = |s: &State| matches!(s, State::Running(_));
        let alive = |s: &State| !matches!(s, State::NotRunning);
        self.active = self.active + running(&child.state) as usize - running(&old) as usize;
        if child.significant {
            self.significant =
                self.significant + alive(&child.state) as usize - alive(&old) as usize;
        }
        old
    }

    /// Marks the child at `pos` not running, and gives back what ran, if it did.
    pub(super) fn take_running(&mut self, pos: u64) -> Option<Running> {
        match self.set_state(pos, State::NotRunning) {
            State::Running(r) => Some(r),
            _ => None,
        }
    }

    /// The positions from `from` on, in start order.
    pub(super) fn positions(&self, from: RangeFrom<u64>) -> Vec<u64> {
        self.by_pos.range(from).map(|(p, _)| *p).collect()
    }

    /// Every child, in start order, with its position.
    pub(super) fn iter(&self) -> impl DoubleEndedIterator<Item = (u64, &Child)> {
        self.by_pos.iter().map(|(p, c)| (*p, c))
    }

    /// The children as `which_children` lists them, each running one with its probe.
    pub(super) fn probes(&self) -> Vec<Probed> {
        let probe = |c: &Child| match c.state {
            State::Running(_) => c.starter.as_ref().and_then(|s| s.probe()),
            _ => None,
        };
        self.iter()
            .rev()
            .map(|(p, c)| Probed {
                info: c.info(p),
                last_exit: self.last_exits.get(&p).cloned(),
                probe: probe(c),
            })
            .collect()
    }

    /// The children as `which_children` lists them: newest first.
    pub(super) fn infos(&self) -> Vec<ChildInfo> {
        self.iter().rev().map(|(p, c)| c.info(p)).collect()
    }

    /// `count_children`; a simple_one_for_one supervisor holds one specification, its
    /// template.
    pub(super) fn count(&self, sofo: bool) -> ChildCount {
        let n = self.by_pos.len();
        ChildCount {
            specs: if sofo { 1 } else { n },
            active: self.active,
            supervisors: self.supervisors,
            workers: n - self.supervisors,
        }
    }

    /// Whether a significant child is running or restarting.
    pub(super) fn any_significant_alive(&self) -> bool {
        self.significant > 0
    }

    /// Drops every child, which aborts those running.
    pub(super) fn clear(&mut self) {
        self.by_pos.clear();
        self.ids.clear();
        self.active = 0;
        self.supervisors = 0;
        self.significant = 0;
        self.last_exits.clear();
    }
}
