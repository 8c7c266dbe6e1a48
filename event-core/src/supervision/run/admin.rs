//! Child administration: the commands a supervisor's handles send (start, terminate, restart
//! and delete a child, list and count them, stop).

use std::any::Any;

use super::{Child, Cmd, Origin, State, Sup};
use crate::callback;
use crate::supervision::child::{ChildSpec, Restart};
use crate::supervision::events::SupervisorExit;
use crate::supervision::supervisor::{check_spec, ChildRef, SupervisorError};

const NO_IDS: &str = "the children of a simple_one_for_one supervisor are started with start_dynamic and have no ids to restart or delete";

impl Sup {
    pub(super) async fn command(&mut self, cmd: Cmd) {
        let sofo = self.sofo();
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
                let _ = reply.send(self.terminate_child(key).await);
            }
            Cmd::Restart(key, reply) => {
                let r = match self.admin_target(&key) {
                    Err(e) => Err(e),
                    Ok(pos) => match self.start(self.children.at(pos), pos).await {
                        Ok(Some(r)) => {
                            self.children.set_state(pos, State::Running(r));
                            self.emit_started(pos);
                            Ok(())
                        }
                        Ok(None) => Ok(()),
                        Err(reason) => Err(SupervisorError::StartFailed { id: key, reason }),
                    },
                };
                let _ = reply.send(r);
            }
            Cmd::Delete(key, reply) => {
                let r = self.admin_target(&key).map(|pos| self.remove(pos));
                let _ = reply.send(r);
            }
            Cmd::Which(reply) => {
                let _ = reply.send(Ok(self.children.infos()));
            }
            Cmd::Probe(reply) => {
                let _ = reply.send(Ok((self.window.left(), self.children.probes())));
            }
            Cmd::Spec(key, reply) => {
                let r = match self.children.find(&key) {
                    Some(pos) => Ok(self.children.at(pos).spec_view(pos)),
                    None => Err(SupervisorError::NotFound(key)),
                };
                let _ = reply.send(r);
            }
            Cmd::Count(reply) => {
                let _ = reply.send(Ok(self.children.count(sofo)));
            }
            Cmd::Stop(reply) => {
                self.ending = Some(SupervisorExit::Stopped);
                // Answered once the supervisor has ended (see `Drop`).
                self.stop_reply = Some(reply);
            }
        }
    }

    async fn terminate_child(&mut self, key: ChildRef) -> Result<(), SupervisorError> {
        let sofo = self.sofo();
        let pos = match (&key, self.children.find(&key)) {
            (ChildRef::Id(_), _) if sofo => return Err(SupervisorError::SimpleOneForOne(NO_IDS)),
            (_, Some(pos)) => pos,
            // A dynamic child that has ended is terminated already.
            (ChildRef::Dynamic(n), None) if sofo && self.children.was_given(*n) => return Ok(()),
            (_, None) => return Err(SupervisorError::NotFound(key)),
        };
        if let Some(r) = self.children.take_running(pos) {
            let exit = Self::stop_child(r, self.children.at(pos).shutdown, false).await;
            self.emit_stopped(pos, exit);
        }
        let c = self.children.at(pos);
        if sofo || c.restart == Restart::Temporary {
            self.remove(pos);
        } else {
            c.park();
        }
        Ok(())
    }

    /// The child a restart_child or delete_child acts on: present and not running.
    fn admin_target(&self, key: &ChildRef) -> Result<u64, SupervisorError> {
        if self.sofo() {
            return Err(SupervisorError::SimpleOneForOne(NO_IDS));
        }
        let pos = self
            .children
            .find(key)
            .ok_or_else(|| SupervisorError::NotFound(key.clone()))?;
        match self.children.at(pos).state() {
            State::Running(_) => Err(SupervisorError::Running(key.clone())),
            State::Restarting => Err(SupervisorError::Restarting(key.clone())),
            State::NotRunning => Ok(pos),
        }
    }

    async fn start_child(&mut self, spec: ChildSpec) -> Result<ChildRef, SupervisorError> {
        check_spec(&spec, self.auto_shutdown)?;
        let key = ChildRef::Id(spec.id.clone());
        if let Some(pos) = self.children.find(&key) {
            return Err(match self.children.at(pos).state() {
                State::Running(_) => SupervisorError::AlreadyStarted(key),
                _ => SupervisorError::AlreadyPresent(key),
            });
        }
        let pos = self.children.reserve();
        self.add(Child::new(spec, Origin::Added), pos)
            .await
            .map(|_| key)
    }

    async fn start_dynamic(
        &mut self,
        args: Box<dyn Any + Send>,
    ) -> Result<Option<ChildRef>, SupervisorError> {
        let Some((template, expected)) = &self.template else {
            return Err(SupervisorError::SimpleOneForOne(
                "start_dynamic is for simple_one_for_one supervisors; use start_child",
            ));
        };
        let expected = *expected;
        let spec = match callback::catching(self.shared.uid, || template(args)) {
            Ok(Some(spec)) => spec,
            Ok(None) => return Err(SupervisorError::WrongArgs { expected }),
            Err(reason) => {
                let id = ChildRef::Dynamic(self.children.reserve());
                return Err(SupervisorError::StartFailed { id, reason });
            }
        };
        check_spec(&spec, self.auto_shutdown)?;
        let pos = self.children.reserve();
        let added = self.add(Child::new(spec, Origin::Dynamic), pos).await?;
        Ok(added.then_some(ChildRef::Dynamic(pos)))
    }

    /// Starts a child added by a handle, at its reserved position `pos`, and keeps it unless
    /// its start was ignored and nothing would be left of it (a temporary or dynamic child).
    /// Whether it was kept.
    async fn add(&mut self, child: Child, pos: u64) -> Result<bool, SupervisorError> {
        match self.start(&child, pos).await {
            Ok(Some(r)) => {
                self.children.insert(pos, child, State::Running(r));
                self.emit_started(pos);
                Ok(true)
            }
            Ok(None) if child.restart == Restart::Temporary || self.sofo() => Ok(false),
            Ok(None) => {
                self.children.insert(pos, child, State::NotRunning);
                Ok(true)
            }
            Err(reason) => Err(SupervisorError::StartFailed {
                id: child.key(pos),
                reason,
            }),
        }
    }
}
