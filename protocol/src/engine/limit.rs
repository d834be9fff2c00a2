//! Per-source rate limits for the answers that amplify: node status (about 4.6 times the
//! request's bytes) and the browser's GetBackupList responses. Each source address has a token
//! bucket; an answer past it is dropped and counted. Name queries are not limited: they are the
//! hot path and amplify by 1.24 at most.
//!
//! The table of buckets is bounded ([`MAX_SOURCES`]): when it is full, buckets that have filled
//! up again are forgotten first (their source is idle), then the one heard from longest ago, so
//! a flood from spoofed addresses costs a fixed amount of memory and never locks out a new
//! client for long.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use super::Instant;

/// Most sources tracked at once.
pub const MAX_SOURCES: usize = 4096;

/// How many answers one source may get: `per_sec` on average, `burst` at once. `per_sec` 0
/// turns the limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Answers a second, on average.
    pub per_sec: u32,
    /// Answers at once, after a quiet spell.
    pub burst: u32,
}

impl RateLimit {
    /// A limit of `per_sec` answers a second with bursts of twice that (0: no limit).
    pub const fn per_second(per_sec: u32) -> Self {
        RateLimit {
            per_sec,
            burst: per_sec.saturating_mul(2),
        }
    }

    /// No limit.
    pub const OFF: RateLimit = RateLimit {
        per_sec: 0,
        burst: 0,
    };

    /// Whether it limits anything.
    pub fn is_off(&self) -> bool {
        self.per_sec == 0
    }
}

/// Node status answers per source: generous for nbtscan, `nmblookup -A`, `nbt scan` and
/// monitoring, which ask once per host or every few seconds.
pub const DEFAULT_STATUS_RATE: RateLimit = RateLimit::per_second(10);
/// GetBackupList responses per source: a client asks once per browse.
pub const DEFAULT_BROWSER_RATE: RateLimit = RateLimit::per_second(5);

/// Tokens are counted in thousandths, so that the refill is exact to the millisecond.
const MILLI: u64 = 1000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// Thousandths of a token.
    tokens: u64,
    /// When `tokens` was last brought up to date.
    at: Instant,
}

/// Token buckets by source address.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    limit: RateLimit,
    buckets: HashMap<Ipv4Addr, Bucket>,
}

impl RateLimiter {
    /// A limiter with no source seen yet.
    pub fn new(limit: RateLimit) -> Self {
        RateLimiter {
            limit,
            buckets: HashMap::new(),
        }
    }

    /// The limit.
    pub fn limit(&self) -> RateLimit {
        self.limit
    }

    /// Changes the limit; buckets already kept are capped to the new burst.
    pub fn set_limit(&mut self, limit: RateLimit) {
        self.limit = limit;
        let cap = self.cap();
        for b in self.buckets.values_mut() {
            b.tokens = b.tokens.min(cap);
        }
        if limit.is_off() {
            self.buckets.clear();
        }
    }

    /// Sources tracked now.
    pub fn sources(&self) -> usize {
        self.buckets.len()
    }

    fn cap(&self) -> u64 {
        u64::from(self.limit.burst.max(1)) * MILLI
    }

    fn refill(limit: RateLimit, cap: u64, b: &mut Bucket, now: Instant) {
        let ms = now.saturating_duration_since(b.at).as_millis();
        let ms = u64::try_from(ms).unwrap_or(u64::MAX);
        b.tokens = b
            .tokens
            .saturating_add(ms.saturating_mul(u64::from(limit.per_sec)))
            .min(cap);
        if now > b.at {
            b.at = now;
        }
    }

    /// Whether one more answer to `src` at `now` is within the limit; counts it if so.
    pub fn allow(&mut self, now: Instant, src: Ipv4Addr) -> bool {
        if self.limit.is_off() {
            return true;
        }
        let (limit, cap) = (self.limit, self.cap());
        if !self.buckets.contains_key(&src) && self.buckets.len() >= MAX_SOURCES {
            self.make_room(now);
        }
        let b = self.buckets.entry(src).or_insert(Bucket {
            tokens: cap,
            at: now,
        });
        Self::refill(limit, cap, b, now);
        if b.tokens >= MILLI {
            b.tokens -= MILLI;
            true
        } else {
            false
        }
    }

    /// Forgets the buckets that are full again, or else the one heard from longest ago.
    fn make_room(&mut self, now: Instant) {
        let (limit, cap) = (self.limit, self.cap());
        self.buckets.retain(|_, b| {
            Self::refill(limit, cap, b, now);
            b.tokens < cap
        });
        if self.buckets.len() >= MAX_SOURCES {
            if let Some(oldest) = self
                .buckets
                .iter()
                .min_by_key(|(_, b)| b.at)
                .map(|(a, _)| *a)
            {
                self.buckets.remove(&oldest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn a(i: u32) -> Ipv4Addr {
        Ipv4Addr::from(0xc612_0000 + i)
    }

    #[test]
    fn a_burst_then_the_rate_per_source() {
        let t0 = Instant::now();
        let mut l = RateLimiter::new(RateLimit::per_second(10));
        let granted = (0..100).filter(|_| l.allow(t0, a(1))).count();
        assert_eq!(granted, 20, "the burst");
        assert!(l.allow(t0, a(2)), "another source has its own bucket");
        // 10 a second after that.
        let mut t = t0;
        let mut more = 0;
        for _ in 0..1000 {
            t += Duration::from_millis(1);
            if l.allow(t, a(1)) {
                more += 1;
            }
        }
        assert_eq!(more, 10);
    }

    #[test]
    fn off_allows_everything_and_keeps_nothing() {
        let t0 = Instant::now();
        let mut l = RateLimiter::new(RateLimit::OFF);
        assert!((0..10_000).all(|_| l.allow(t0, a(1))));
        assert_eq!(l.sources(), 0);
    }

    #[test]
    fn the_table_stays_bounded_under_spoofed_sources_and_a_new_client_gets_its_answer() {
        let t0 = Instant::now();
        let mut l = RateLimiter::new(RateLimit::per_second(10));
        for i in 0..(MAX_SOURCES as u32 * 3) {
            l.allow(t0, a(i));
            assert!(l.sources() <= MAX_SOURCES);
        }
        assert!(l.allow(t0, Ipv4Addr::new(10, 0, 0, 1)));
    }
}
