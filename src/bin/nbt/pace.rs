//! Rate pacing and a progress bar drawn by hand on stderr.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use tokio::time::Instant;

/// Spaces sends at `rate` per second (a virtual-schedule token bucket, GCRA): a send is allowed
/// when its theoretical time has come, give or take a burst of about 10 ms worth of sends (at
/// most 64). A late timer never leads to a catch-up faster than the rate beyond that burst.
#[derive(Debug, Clone, Copy)]
pub struct Pacer {
    interval: Duration,
    tolerance: Duration,
    next: Duration,
}

impl Pacer {
    /// A pacer for `rate` sends per second (at least 1), starting at time zero.
    pub fn new(rate: u32) -> Self {
        let rate = rate.max(1);
        let interval = Duration::from_nanos(1_000_000_000 / u64::from(rate));
        let burst = (rate / 100).clamp(1, 64);
        Pacer {
            interval,
            tolerance: interval * (burst - 1),
            next: Duration::ZERO,
        }
    }

    /// Takes a send slot at `now` (time since the start) if one is free.
    pub fn try_send(&mut self, now: Duration) -> bool {
        if now + self.tolerance >= self.next {
            self.next = self.next.max(now) + self.interval;
            true
        } else {
            false
        }
    }

    /// When (since the start) the next send slot frees.
    pub fn due(&self) -> Duration {
        self.next.saturating_sub(self.tolerance)
    }
}

/// A one-line progress bar on stderr, drawn only when stderr is a terminal.
#[derive(Debug)]
pub struct Progress {
    enabled: bool,
    last: Option<Instant>,
}

/// Time between redraws.
const REDRAW: Duration = Duration::from_millis(100);
/// Width of the bar in characters.
const BAR: usize = 30;

impl Progress {
    /// A progress bar, shown if stderr is a terminal and `wanted`.
    pub fn new(wanted: bool) -> Self {
        Progress {
            enabled: wanted && std::io::stderr().is_terminal(),
            last: None,
        }
    }

    /// Redraws, at most every 100 ms unless `force`.
    pub fn draw(&mut self, done: u64, total: u64, answered: u64, force: bool) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        if !force && self.last.is_some_and(|t| now - t < REDRAW) {
            return;
        }
        self.last = Some(now);
        let mut e = std::io::stderr().lock();
        let _ = write!(e, "\r\x1b[2K{}", render(done, total, answered));
        let _ = e.flush();
    }

    /// Erases the bar.
    pub fn finish(&mut self) {
        if self.enabled && self.last.is_some() {
            let mut e = std::io::stderr().lock();
            let _ = write!(e, "\r\x1b[2K");
            let _ = e.flush();
        }
    }
}

/// The bar's text: `[#####.....] 120/254 sent, 2 answered`.
pub fn render(done: u64, total: u64, answered: u64) -> String {
    let filled = (done.min(total) * BAR as u64)
        .checked_div(total)
        .map_or(BAR, |f| f as usize);
    format!(
        "[{}{}] {done}/{total} sent, {answered} answered",
        "#".repeat(filled),
        ".".repeat(BAR - filled)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sends_until(p: &mut Pacer, now: Duration) -> u64 {
        let mut n = 0;
        while p.try_send(now) {
            n += 1;
        }
        n
    }

    #[test]
    fn pacing_follows_the_rate() {
        let mut p = Pacer::new(100);
        assert!(p.try_send(Duration::ZERO), "the first send goes at once");
        assert!(!p.try_send(Duration::ZERO));
        assert_eq!(p.due(), Duration::from_millis(10));
        assert!(!p.try_send(Duration::from_millis(9)));
        assert!(p.try_send(Duration::from_millis(10)));
        // A wake-up 1 s late does not catch up: one send, then the rate again.
        assert_eq!(sends_until(&mut p, Duration::from_secs(1)), 1);
        assert_eq!(p.due(), Duration::from_millis(1010));
    }

    #[test]
    fn bursts_are_bounded() {
        let mut p = Pacer::new(10_000);
        assert_eq!(sends_until(&mut p, Duration::ZERO), 64);
        assert_eq!(sends_until(&mut p, Duration::from_secs(5)), 64);
        let mut slow = Pacer::new(1);
        assert!(slow.try_send(Duration::ZERO));
        assert!(!slow.try_send(Duration::from_millis(999)));
        assert_eq!(slow.due(), Duration::from_secs(1));
        // Polled every millisecond for 2 s, 250/s sends 500 plus its burst of 2 at the start.
        let mut p = Pacer::new(250);
        let mut sent = 0;
        for ms in 0..=2000u64 {
            sent += sends_until(&mut p, Duration::from_millis(ms));
        }
        assert_eq!(sent, 502);
        // Polled rarely, it never exceeds the rate plus one burst either.
        let mut p = Pacer::new(1000);
        let mut sent = 0;
        for t in (0..=2000u64).step_by(250) {
            sent += sends_until(&mut p, Duration::from_millis(t));
        }
        assert!(sent <= 2001 + 10, "{sent}");
    }

    #[test]
    fn bar_text() {
        assert_eq!(
            render(127, 254, 2),
            format!(
                "[{}{}] 127/254 sent, 2 answered",
                "#".repeat(15),
                ".".repeat(15)
            )
        );
        assert!(render(0, 0, 0).starts_with(&format!("[{}]", "#".repeat(30))));
        assert!(render(300, 254, 0).contains(&"#".repeat(30)));
    }
}
