//! A supervisor's strategies: which children a child's end stops and restarts, in which order,
//! and when the restart intensity is spent.

use super::*;

impl Sup {
    /// Stops the running children at `range`, newest first (in parallel for dynamic ones).
    pub(super) async fn stop_range(
        &mut self,
        from: usize,
        except: Option<usize>,
        restarting: bool,
    ) {
        if self.strategy == Strategy::SimpleOneForOne {
            let mut stops = Vec::new();
            for (i, c) in self.children.iter_mut().enumerate().skip(from) {
                if Some(i) == except {
                    continue;
                }
                if let State::Running(r) = std::mem::replace(&mut c.state, State::NotRunning) {
                    stops.push(tokio::spawn(Self::stop_child(r, c.spec.shutdown, false)));
                }
            }
            for s in stops {
                let _ = s.await;
            }
            return;
        }
        for i in (from..self.children.len()).rev() {
            if Some(i) == except {
                continue;
            }
            let c = &mut self.children[i];
            if let State::Running(r) = std::mem::replace(&mut c.state, State::NotRunning) {
                let restarting = restarting && c.spec.restart != Restart::Temporary;
                Self::stop_child(r, c.spec.shutdown, restarting).await;
            }
        }
    }

    pub(super) async fn stop_all(&mut self, restarting: bool) {
        self.stop_range(0, None, restarting).await;
    }

    pub(super) fn find(&self, key: &ChildRef) -> Option<usize> {
        self.children.iter().position(|c| c.key == *key)
    }

    pub(super) fn remove(&mut self, i: usize) {
        let c = self.children.remove(i);
        c.spec.starter.retire();
    }

    pub(super) async fn exited(&mut self, uid: u64, exit: ChildExit) {
        let Some(i) = self
            .children
            .iter()
            .position(|c| c.running_uid() == Some(uid))
        else {
            return; // stopped by this supervisor already
        };
        self.children[i].state = State::NotRunning;
        self.child_exited(i, exit).await;
    }

    pub(super) async fn child_exited(&mut self, i: usize, exit: ChildExit) {
        let c = &self.children[i];
        let restart = match c.spec.restart {
            Restart::Permanent => true,
            Restart::Transient => !exit.is_normal_or_shutdown(),
            Restart::Temporary => false,
        };
        if matches!(exit, ChildExit::Failed(_) | ChildExit::Killed) {
            tracing::error!(supervisor = self.name(), child = %c.key, reason = %exit, "child terminated");
        }
        if restart {
            self.restart(i).await;
            return;
        }
        let significant = c.spec.significant;
        if c.spec.restart == Restart::Temporary || self.strategy == Strategy::SimpleOneForOne {
            self.remove(i);
        } else {
            c.spec.starter.park();
        }
        if significant {
            let shut = match self.auto_shutdown {
                AutoShutdown::Never => false,
                AutoShutdown::AnySignificant => true,
                AutoShutdown::AllSignificant => !self
                    .children
                    .iter()
                    .any(|c| c.spec.significant && !matches!(c.state, State::NotRunning)),
            };
            if shut {
                tracing::info!(
                    supervisor = self.name(),
                    "a significant child ended; the supervisor shuts down"
                );
                self.ending = Some(ChildExit::Shutdown);
            }
        }
    }

    /// Restarts the child at `i` as the strategy says, counting the restart.
    pub(super) async fn restart(&mut self, i: usize) {
        if !self.window.allow() {
            tracing::error!(supervisor = self.name(), child = %self.children[i].key, "reached its restart intensity; shutting down");
            self.ending = Some(ChildExit::Shutdown);
            return;
        }
        let from = match self.strategy {
            Strategy::OneForOne | Strategy::SimpleOneForOne => {
                self.start_group(i, i + 1).await;
                return;
            }
            Strategy::OneForAll => 0,
            Strategy::RestForOne => i,
        };
        self.stop_range(from, Some(i), true).await;
        // Temporary children stopped as bystanders are not restarted: they are dropped.
        let key = self.children[i].key.clone();
        let mut j = from;
        while j < self.children.len() {
            if self.children[j].spec.restart == Restart::Temporary && self.children[j].key != key {
                self.remove(j);
            } else {
                j += 1;
            }
        }
        let end = self.children.len();
        self.start_group(from, end).await;
    }

    /// Starts the children in `from..to` that are not running, in order. A failure marks the
    /// child restarting and tries again later (each try counts), the ones after it not
    /// running.
    pub(super) async fn start_group(&mut self, from: usize, to: usize) {
        for j in from..to.min(self.children.len()) {
            if matches!(self.children[j].state, State::Running(_)) {
                continue;
            }
            let spec = self.children[j].spec.clone();
            match self.start_spec(&spec).await {
                Ok(Some(r)) => self.children[j].state = State::Running(r),
                // OTP removes a dynamic child whose restart returns ignore; the others keep
                // their specification, not running.
                Ok(None) if self.strategy == Strategy::SimpleOneForOne => {
                    self.remove(j);
                    return;
                }
                Ok(None) => self.children[j].state = State::NotRunning,
                Err(reason) => {
                    let key = self.children[j].key.clone();
                    tracing::error!(supervisor = self.name(), child = %key, reason = %reason, "child failed to restart; trying again");
                    self.children[j].state = State::Restarting;
                    self.retries.push_back(key);
                    return;
                }
            }
        }
    }
}
