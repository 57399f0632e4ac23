//! Login throttling: after repeated failures an account, or a client address, is locked out for
//! a while, whatever the password. Counts live in this process's memory.
//!
//! Failures are counted per key in a fixed window; at the limit the key is locked until the
//! lockout ends. (A token-bucket limiter such as governor counts every attempt and cannot tell
//! whether the next attempt would pass without consuming it; here only failures count.)

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures, per key, before a lockout.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limit {
    pub(crate) failures: u32,
    pub(crate) window: Duration,
    pub(crate) lockout: Duration,
}

/// Five failed logins for one account in 15 minutes lock it for 15 minutes.
pub(crate) const PER_ACCOUNT: Limit = Limit {
    failures: 5,
    window: Duration::from_secs(15 * 60),
    lockout: Duration::from_secs(15 * 60),
};

/// Twenty failed logins from one address in 15 minutes lock it out for 15 minutes.
pub(crate) const PER_ADDRESS: Limit = Limit {
    failures: 20,
    window: Duration::from_secs(15 * 60),
    lockout: Duration::from_secs(15 * 60),
};

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    window_start: Instant,
    locked_until: Option<Instant>,
}

/// Entries kept before stale ones are swept.
const SWEEP_AT: usize = 10_000;

/// Failure counts by key.
#[derive(Debug, Default)]
pub(crate) struct LoginThrottle {
    entries: Mutex<HashMap<String, Entry>>,
}

impl LoginThrottle {
    /// `Err(wait)` while `key` is locked out.
    pub(crate) fn check(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entries.get(key).and_then(|e| e.locked_until) {
            Some(until) if until > now => Err(until - now),
            _ => Ok(()),
        }
    }

    /// Counts a failure; at the limit, locks the key out.
    pub(crate) fn record_failure(&self, key: &str, limit: Limit, now: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= SWEEP_AT {
            entries.retain(|_, e| {
                now.duration_since(e.window_start) < limit.window
                    || e.locked_until.is_some_and(|u| u > now)
            });
        }
        let entry = entries.entry(key.to_string()).or_insert(Entry {
            failures: 0,
            window_start: now,
            locked_until: None,
        });
        if now.duration_since(entry.window_start) >= limit.window {
            *entry = Entry {
                failures: 0,
                window_start: now,
                locked_until: None,
            };
        }
        entry.failures += 1;
        if entry.failures >= limit.failures {
            entry.locked_until = Some(now + limit.lockout);
        }
    }

    /// Forgets the failures of `key` (after a successful login).
    pub(crate) fn clear(&self, key: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: Limit = Limit {
        failures: 3,
        window: Duration::from_secs(60),
        lockout: Duration::from_secs(120),
    };

    #[test]
    fn locks_out_at_the_limit_until_the_lockout_ends() {
        let throttle = LoginThrottle::default();
        let start = Instant::now();
        for _ in 0..2 {
            throttle.record_failure("a", LIMIT, start);
            assert_eq!(throttle.check("a", start), Ok(()));
        }
        throttle.record_failure("a", LIMIT, start);
        assert_eq!(throttle.check("a", start), Err(Duration::from_secs(120)));
        assert_eq!(throttle.check("b", start), Ok(()), "other keys unaffected");
        assert_eq!(
            throttle.check("a", start + Duration::from_secs(120)),
            Ok(())
        );
    }

    #[test]
    fn failures_outside_the_window_do_not_add_up() {
        let throttle = LoginThrottle::default();
        let start = Instant::now();
        throttle.record_failure("a", LIMIT, start);
        throttle.record_failure("a", LIMIT, start);
        throttle.record_failure("a", LIMIT, start + Duration::from_secs(61));
        assert_eq!(throttle.check("a", start + Duration::from_secs(61)), Ok(()));
    }

    #[test]
    fn success_clears_the_count() {
        let throttle = LoginThrottle::default();
        let start = Instant::now();
        throttle.record_failure("a", LIMIT, start);
        throttle.record_failure("a", LIMIT, start);
        throttle.clear("a");
        throttle.record_failure("a", LIMIT, start);
        assert_eq!(throttle.check("a", start), Ok(()));
    }
}
