//! A supervisor's strategies: which children a child's end stops and restarts, in which order,
//! and when the restart intensity is spent.

use super::{State, Stopping, Sup};
use crate::observe::report;
use crate::supervision::child::{ChildExit, Restart};
use crate::supervision::events::{ChildEvent, SupervisorExit};
use crate::supervision::supervisor::{AutoShutdown, Strategy};

impl Sup {
    /// Stops the running children from position `from` on, but `except`: newest first, one
    /// after another, or all at once for dynamic ones (each is sent its stop, then each is
    /// waited for).
    pub(super) async fn stop_range(&mut self, from: u64, except: Option<u64>, restarting: bool) {
        let positions = self.children.positions(from..);
        let positions = positions.into_iter().filter(|p| Some(*p) != except);
        if self.sofo() {
            let mut stopping = Vec::new();
            for pos in positions {
                if let Some(r) = self.children.take_running(pos) {
                    let shutdown = self.children.at(pos).shutdown;
                    stopping.push((pos, Stopping::new(r, shutdown, false)));
                }
            }
            for (pos, mut s) in stopping {
                let exit = s.wait().await;
                self.emit_stopped(pos, exit);
            }
            return;
        }
        for pos in positions.rev() {
            if let Some(r) = self.children.take_running(pos) {
                let c = self.children.at(pos);
                let restarting = restarting && c.restart != Restart::Temporary;
                let exit = Self::stop_child(r, c.shutdown, restarting).await;
                self.emit_stopped(pos, exit);
            }
        }
    }

    pub(super) async fn stop_all(&mut self, restarting: bool) {
        self.stop_range(0, None, restarting).await;
    }

    /// Takes out the child at `pos` for good.
    pub(super) fn remove(&mut self, pos: u64) {
        self.children.remove(pos).retire();
    }

    /// The child at `pos` ended on its own, unless this is an earlier incarnation's end.
    pub(super) async fn exited(&mut self, pos: u64, uid: u64, exit: ChildExit) {
        let current = self
            .children
            .get(pos)
            .is_some_and(|c| matches!(c.state(), State::Running(r) if r.uid == uid));
        if !current {
            return; // stopped by this supervisor already
        }
        self.children.set_state(pos, State::NotRunning);
        self.children.ended(pos, &exit);
        self.shared.emit(|| {
            let c = self.children.at(pos);
            ChildEvent::Exited {
                child: c.key(pos),
                incarnation: c.incarnation,
                exit: exit.clone(),
            }
        });
        self.child_exited(pos, exit).await;
    }

    pub(super) async fn child_exited(&mut self, pos: u64, exit: ChildExit) {
        let c = self.children.at(pos);
        let restart = match c.restart {
            Restart::Permanent => true,
            Restart::Transient => !exit.is_normal_or_shutdown(),
            Restart::Temporary => false,
        };
        tracing::debug!(target: "event_core::supervisor", supervisor = self.name(), child = %c.label(pos), reason = %exit, restart, "child exited");
        if matches!(exit, ChildExit::Failed(_) | ChildExit::Killed) {
            let label = c.label(pos);
            tracing::error!(target: "event_core::crash", supervisor = self.name(), child = %label, reason = %exit, "child terminated");
            report::console(
                "SUPERVISOR REPORT: child terminated",
                &[
                    ("supervisor", &self.name()),
                    ("child", &label),
                    ("reason", &exit),
                ],
            );
        }
        if restart {
            self.restart(pos, exit).await;
            return;
        }
        let key = c.key(pos);
        let significant = c.significant;
        if c.restart == Restart::Temporary || self.sofo() {
            self.remove(pos);
        } else {
            c.park();
        }
        if significant {
            let shut = match self.auto_shutdown {
                AutoShutdown::Never => false,
                AutoShutdown::AnySignificant => true,
                AutoShutdown::AllSignificant => !self.children.any_significant_alive(),
            };
            if shut {
                tracing::info!(
                    supervisor = self.name(),
                    child = %key,
                    "a significant child ended; the supervisor shuts down"
                );
                self.ending = Some(SupervisorExit::Significant { child: key, exit });
            }
        }
    }

    /// Restarts the child at `pos`, which ended with `exit`, as the strategy says, counting
    /// the restart.
    pub(super) async fn restart(&mut self, pos: u64, exit: ChildExit) {
        if !self.window.allow() {
            let c = self.children.at(pos);
            let label = c.label(pos);
            tracing::error!(target: "event_core::supervisor", supervisor = self.name(), child = %label, reason = %exit, "reached its restart intensity; shutting down");
            report::console(
                "SUPERVISOR REPORT: reached its restart intensity; shutting down",
                &[
                    ("supervisor", &self.name()),
                    ("last child to fail", &label),
                    ("reason", &exit),
                ],
            );
            let child = c.key(pos);
            self.shared.emit(|| ChildEvent::GaveUp {
                child: child.clone(),
                exit: exit.clone(),
            });
            self.ending = Some(SupervisorExit::Intensity { child, exit });
            return;
        }
        tracing::info!(target: "event_core::supervisor", supervisor = self.name(), child = %self.children.at(pos).label(pos), strategy = ?self.strategy, "restarting child");
        #[cfg(feature = "metrics")]
        crate::observe::metrics::supervisor_restart(self.name());
        let from = match self.strategy {
            Strategy::OneForOne | Strategy::SimpleOneForOne => {
                self.start_group(&[pos]).await;
                return;
            }
            Strategy::OneForAll => 0,
            Strategy::RestForOne => pos,
        };
        self.stop_range(from, Some(pos), true).await;
        // Temporary children stopped as bystanders are not restarted: they are dropped.
        let mut group = Vec::new();
        for p in self.children.positions(from..) {
            if p != pos && self.children.at(p).restart == Restart::Temporary {
                self.remove(p);
            } else {
                group.push(p);
            }
        }
        self.start_group(&group).await;
    }

    /// Starts the children at `group` that are not running, in order. A failure marks the
    /// child restarting and tries again later (each try counts), the ones after it not
    /// running.
    pub(super) async fn start_group(&mut self, group: &[u64]) {
        for &pos in group {
            let child = self.children.at(pos);
            if matches!(child.state(), State::Running(_)) {
                continue;
            }
            match self.start(child, pos).await {
                Ok(Some(r)) => {
                    self.children.set_state(pos, State::Running(r));
                    self.shared.emit(|| {
                        let c = self.children.at(pos);
                        ChildEvent::Restarted {
                            child: c.key(pos),
                            incarnation: c.incarnation,
                        }
                    });
                }
                // OTP removes a dynamic child whose restart returns ignore; the others keep
                // their specification, not running.
                Ok(None) if self.sofo() => self.remove(pos),
                Ok(None) => {
                    self.children.set_state(pos, State::NotRunning);
                }
                Err(reason) => {
                    let c = self.children.at(pos);
                    tracing::error!(supervisor = self.name(), child = %c.label(pos), reason = %reason, "child failed to restart; trying again");
                    let child = c.key(pos);
                    self.shared.emit(|| ChildEvent::RestartFailed {
                        child,
                        reason: reason.clone(),
                    });
                    self.children.set_state(pos, State::Restarting);
                    self.retries.push_back((pos, ChildExit::Failed(reason)));
                    return;
                }
            }
        }
    }
}
