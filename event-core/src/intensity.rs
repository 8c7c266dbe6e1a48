//! Restart intensity: how many restarts are allowed within how long, shared by supervisors and
//! by handlers restarted in place, and the window that counts them.

use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

use tokio::time::Instant;

/// How many restarts are allowed within a period (OTP's `intensity` and `period`).
///
/// Every restart is timestamped; timestamps more than a period old are forgotten; if more than
/// `restarts` remain, the restarting stops (the supervisor shuts down, the handler restarted in
/// place is removed). So `restarts` restarts in a row are allowed and the next one within the
/// period is not; with `restarts` at 0 the first failure is final.
///
/// The default is OTP's: 1 restart in 5 seconds.
///
/// ```
/// use std::time::Duration;
/// use event_core::Intensity;
///
/// let intensity = Intensity::new(3, Duration::from_secs(10));
/// assert_eq!(intensity.restarts(), 3);
/// assert_eq!(intensity.period(), Duration::from_secs(10));
/// assert_eq!(Intensity::default(), Intensity::new(1, Duration::from_secs(5)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Intensity {
    restarts: u32,
    period: Duration,
}

impl Intensity {
    /// At most `restarts` restarts within `period`. A zero period is refused where the
    /// intensity is used (it would count nothing).
    pub const fn new(restarts: u32, period: Duration) -> Self {
        Intensity { restarts, period }
    }

    /// The number of restarts allowed within the period.
    pub const fn restarts(&self) -> u32 {
        self.restarts
    }

    /// The period over which restarts are counted.
    pub const fn period(&self) -> Duration {
        self.period
    }
}

impl Default for Intensity {
    fn default() -> Self {
        Intensity::new(1, Duration::from_secs(5))
    }
}

impl fmt::Display for Intensity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} restarts in {:?}", self.restarts, self.period)
    }
}

/// The restarts counted against an [`Intensity`].
#[derive(Debug)]
pub(crate) struct RestartWindow {
    intensity: Intensity,
    stamps: VecDeque<Instant>,
}

impl RestartWindow {
    pub(crate) fn new(intensity: Intensity) -> Self {
        RestartWindow {
            intensity,
            stamps: VecDeque::new(),
        }
    }

    pub(crate) fn period(&self) -> Duration {
        self.intensity.period
    }

    /// How many restarts more it allows now, within the period.
    pub(crate) fn left(&self) -> u32 {
        let now = Instant::now();
        let period = self.intensity.period;
        let counted = self
            .stamps
            .iter()
            .filter(|t| now.duration_since(**t) <= period)
            .count();
        let counted = u32::try_from(counted).unwrap_or(u32::MAX);
        self.intensity.restarts.saturating_sub(counted)
    }

    /// Records a restart now; false if it is one too many (OTP's `add_restart`).
    pub(crate) fn allow(&mut self) -> bool {
        let now = Instant::now();
        self.stamps.push_back(now);
        let period = self.intensity.period;
        while self
            .stamps
            .front()
            .is_some_and(|t| now.duration_since(*t) > period)
        {
            self.stamps.pop_front();
        }
        self.stamps.len() <= self.intensity.restarts as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn allows_intensity_restarts_within_the_period_and_refuses_the_next() {
        let mut w = RestartWindow::new(Intensity::new(2, Duration::from_secs(5)));
        assert!(w.allow());
        assert!(w.allow());
        assert!(!w.allow());
    }

    #[tokio::test(start_paused = true)]
    async fn forgets_restarts_older_than_the_period() {
        let mut w = RestartWindow::new(Intensity::new(1, Duration::from_secs(5)));
        assert!(w.allow());
        tokio::time::advance(Duration::from_secs(6)).await;
        assert!(w.allow());
        tokio::time::advance(Duration::from_secs(4)).await;
        assert!(!w.allow());
    }

    #[tokio::test(start_paused = true)]
    async fn says_how_many_restarts_are_left_in_the_period() {
        let mut w = RestartWindow::new(Intensity::new(2, Duration::from_secs(5)));
        assert_eq!(w.left(), 2);
        assert!(w.allow());
        assert_eq!(w.left(), 1);
        assert!(w.allow());
        assert_eq!(w.left(), 0);
        tokio::time::advance(Duration::from_secs(6)).await;
        assert_eq!(w.left(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_restart_exactly_one_period_old_still_counts() {
        // OTP keeps restarts `R >= Now - Period`.
        let mut w = RestartWindow::new(Intensity::new(1, Duration::from_secs(5)));
        assert!(w.allow());
        tokio::time::advance(Duration::from_secs(5)).await;
        assert!(!w.allow());
    }

    #[tokio::test(start_paused = true)]
    async fn zero_intensity_refuses_the_first_restart() {
        let mut w = RestartWindow::new(Intensity::new(0, Duration::from_secs(5)));
        assert!(!w.allow());
    }
}
