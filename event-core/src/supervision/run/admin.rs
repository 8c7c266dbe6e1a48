//! Child administration: the commands a supervisor's handles send (start, terminate, restart
//! and delete a child, list and count them, stop).

use std::any::Any;

use super::{Child, Cmd, State, Sup};
use crate::callback;
use crate::supervision::child::{ChildExit, ChildKind, ChildSpec, Restart};
use crate::supervision::supervisor::{check_spec, ChildCount, ChildRef, Strategy, SupervisorError};

impl Sup {
    pub(super) async fn command(&mut self, cmd: Cmd) {
        let sofo = self.strategy == Strategy::SimpleOneForOne;
        const NO_IDS: &str = "the children of a simple_one_for_one supervisor are started with start_dynamic and have no ids to restart or delete";
        match cmd {
            Cmd::StartChild(spec, reply) => {
                let r = if sofo {
                    Err(SupervisorError::SimpleOneForOne("a simple_one_for_one supervisor starts children from its template: use start_dynamic"))
                } else {
                    self.start_child(spec).await
                };
                let _ = reply.send(r);
            }
            Cmd::StartDynamic(args, reply) => {
                let _ = reply.send(self.start_dynamic(args).await);
            }
            Cmd::Terminate(key, reply) => {
                let r = match (sofo, &key, self.find(&key)) {
                    (true, ChildRef::Id(_), _) => Err(SupervisorError::SimpleOneForOne(NO_IDS)),
                    // A dynamic child that has ended is terminated already.
                    (true, ChildRef::Dynamic(n), None) if *n <= self.next_dynamic => Ok(()),
                    (_, _, None) => Err(SupervisorError::NotFound(key)),
                    (_, _, Some(i)) => {
                        if let State::Running(r) =
                            std::mem::replace(&mut self.children[i].state, State::NotRunning)
                        {
                            Self::stop_child(r, self.children[i].spec.shutdown, false).await;
                        }
                        if sofo || self.children[i].spec.restart == Restart::Temporary {
                            self.remove(i);
                        } else {
                            self.children[i].spec.starter.park();
                        }
                        Ok(())
                    }
                };
                let _ = reply.send(r);
            }
            Cmd::Restart(key, reply) => {
                let r = match self.admin_target(&key, sofo, NO_IDS) {
                    Err(e) => Err(e),
                    Ok(i) => {
                        let spec = self.children[i].spec.clone();
                        match self.start_spec(&spec).await {
                            Ok(Some(r)) => {
                                self.children[i].state = State::Running(r);
                                Ok(())
                            }
                            Ok(None) => Ok(()),
                            Err(reason) => Err(SupervisorError::StartFailed { id: key, reason }),
                        }
                    }
                };
                let _ = reply.send(r);
            }
            Cmd::Delete(key, reply) => {
                let r = self
                    .admin_target(&key, sofo, NO_IDS)
                    .map(|i| self.remove(i));
                let _ = reply.send(r);
            }
            Cmd::Which(reply) => {
                let _ = reply.send(Ok(self.children.iter().rev().map(Child::info).collect()));
            }
            Cmd::Count(reply) => {
                let mut n = ChildCount {
                    // A simple_one_for_one supervisor holds one specification: its template.
                    specs: if sofo { 1 } else { self.children.len() },
                    ..ChildCount::default()
                };
                for c in &self.children {
                    if matches!(c.state, State::Running(_)) {
                        n.active += 1;
                    }
                    match c.spec.kind {
                        ChildKind::Worker => n.workers += 1,
                        ChildKind::Supervisor => n.supervisors += 1,
                    }
                }
                let _ = reply.send(Ok(n));
            }
            Cmd::Stop(reply) => {
                self.ending = Some(ChildExit::Normal);
                // Answered once the supervisor has ended (see `Drop`).
                self.stop_reply = Some(reply);
            }
        }
    }

    /// The child a restart_child or delete_child acts on: present and not running.
    pub(super) fn admin_target(
        &self,
        key: &ChildRef,
        sofo: bool,
        no_ids: &'static str,
    ) -> Result<usize, SupervisorError> {
        if sofo {
            return Err(SupervisorError::SimpleOneForOne(no_ids));
        }
        let i = self
            .find(key)
            .ok_or_else(|| SupervisorError::NotFound(key.clone()))?;
        match self.children[i].state {
            State::Running(_) => Err(SupervisorError::Running(key.clone())),
            State::Restarting => Err(SupervisorError::Restarting(key.clone())),
            State::NotRunning => Ok(i),
        }
    }

    pub(super) async fn start_child(
        &mut self,
        spec: ChildSpec,
    ) -> Result<ChildRef, SupervisorError> {
        check_spec(&spec, self.auto_shutdown)?;
        let key = ChildRef::Id(spec.id.clone());
        if let Some(i) = self.find(&key) {
            return Err(match self.children[i].state {
                State::Running(_) => SupervisorError::AlreadyStarted(key),
                _ => SupervisorError::AlreadyPresent(key),
            });
        }
        match self.start_spec(&spec).await {
            Ok(running) => {
                if running.is_some() || spec.restart != Restart::Temporary {
                    self.children.push(Child {
                        key: key.clone(),
                        state: running.map_or(State::NotRunning, State::Running),
                        spec,
                        fixed: false,
                    });
                }
                Ok(key)
            }
            Err(reason) => Err(SupervisorError::StartFailed { id: key, reason }),
        }
    }

    pub(super) async fn start_dynamic(
        &mut self,
        args: Box<dyn Any + Send>,
    ) -> Result<Option<ChildRef>, SupervisorError> {
        let Some((template, expected)) = self.template.clone() else {
            return Err(SupervisorError::SimpleOneForOne(
                "start_dynamic is for simple_one_for_one supervisors; use start_child",
            ));
        };
        let uid = self.shared.uid;
        let spec = match callback::catching(uid, || template(args)) {
            Ok(Some(spec)) => spec,
            Ok(None) => return Err(SupervisorError::WrongArgs { expected }),
            Err(reason) => {
                return Err(SupervisorError::StartFailed {
                    id: ChildRef::Dynamic(self.next_dynamic + 1),
                    reason,
                })
            }
        };
        check_spec(&spec, self.auto_shutdown)?;
        self.next_dynamic += 1;
        let key = ChildRef::Dynamic(self.next_dynamic);
        match self.start_spec(&spec).await {
            Ok(Some(r)) => {
                self.children.push(Child {
                    key: key.clone(),
                    spec,
                    state: State::Running(r),
                    fixed: false,
                });
                Ok(Some(key))
            }
            // An ignored dynamic child is not kept: there is nothing to name.
            Ok(None) => Ok(None),
            Err(reason) => Err(SupervisorError::StartFailed { id: key, reason }),
        }
    }
}
