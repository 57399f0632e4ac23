//! Values read from the database and kept for a moment: what almost every request reads and
//! almost nothing writes (the live custom fields of each entity, a token's user).
//!
//! A value is used for at most `fresh_for` after it was read. Writes made through the same
//! `Database` call [`Remembered::forget`] after they commit, so this server never answers from
//! before them; another server sharing the database sees them within `fresh_for`. A reader
//! takes the [`generation`](Remembered::generation) before it reads, and what it read is kept
//! only when no write committed in between, so a value read before a write is never kept as
//! current after it.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

struct Entry<V> {
    value: V,
    generation: u64,
    read_at: Instant,
}

/// Values by key, each fresh for a while after it was read.
pub(crate) struct Remembered<K, V> {
    fresh_for: Duration,
    /// Past this many entries, stale ones are dropped before another is kept.
    capacity: usize,
    /// Moves on at every write that could change a value.
    generation: AtomicU64,
    entries: Mutex<HashMap<K, Entry<V>>>,
}

impl<K: Hash + Eq, V: Clone> Remembered<K, V> {
    pub(crate) fn new(fresh_for: Duration, capacity: usize) -> Self {
        Self {
            fresh_for,
            capacity,
            generation: AtomicU64::new(0),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Taken before reading a value that may be kept.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Forgets every value; called after a write that may change one commits.
    pub(crate) fn forget(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    fn entries(&self) -> MutexGuard<'_, HashMap<K, Entry<V>>> {
        // Entries are inserted and removed whole: a panic while the lock was held left none
        // half-written.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn fresh(&self, entry: &Entry<V>, generation: u64, now: Instant) -> bool {
        entry.generation == generation && now.duration_since(entry.read_at) < self.fresh_for
    }

    /// The value of `key` while fresh.
    pub(crate) fn get<Q>(&self, key: &Q, now: Instant) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let generation = self.generation();
        self.entries()
            .get(key)
            .filter(|e| self.fresh(e, generation, now))
            .map(|e| e.value.clone())
    }

    /// Keeps `value`, read at `read_at` by a reader that started at `generation`, unless a
    /// write committed since.
    pub(crate) fn put(&self, key: K, generation: u64, read_at: Instant, value: V) {
        let mut entries = self.entries();
        let current = self.generation();
        if generation != current {
            return;
        }
        if entries.len() >= self.capacity {
            entries.retain(|_, e| self.fresh(e, current, read_at));
            if entries.len() >= self.capacity {
                return;
            }
        }
        entries.insert(
            key,
            Entry {
                value,
                generation,
                read_at,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memo() -> Remembered<String, u32> {
        Remembered::new(Duration::from_secs(60), 2)
    }

    #[test]
    fn a_value_is_kept_while_fresh() {
        let memo = memo();
        let now = Instant::now();
        memo.put("a".into(), memo.generation(), now, 1);
        assert_eq!(memo.get("a", now), Some(1));
        assert_eq!(memo.get("a", now + Duration::from_secs(59)), Some(1));
        assert_eq!(memo.get("a", now + Duration::from_secs(60)), None);
        assert_eq!(memo.get("b", now), None);
    }

    #[test]
    fn a_write_forgets_every_value() {
        let memo = memo();
        let now = Instant::now();
        memo.put("a".into(), memo.generation(), now, 1);
        memo.forget();
        assert_eq!(memo.get("a", now), None);
    }

    #[test]
    fn a_value_read_before_a_write_is_not_kept() {
        let memo = memo();
        let now = Instant::now();
        let started = memo.generation();
        memo.forget();
        memo.put("a".into(), started, now, 1);
        assert_eq!(memo.get("a", now), None);
        memo.put("a".into(), memo.generation(), now, 2);
        assert_eq!(memo.get("a", now), Some(2));
    }

    #[test]
    fn stale_values_make_room_and_a_full_memo_keeps_no_more() {
        let memo = memo();
        let then = Instant::now();
        let later = then + Duration::from_secs(61);
        memo.put("a".into(), 0, then, 1);
        memo.put("b".into(), 0, later, 2);
        assert_eq!(memo.entries().len(), 2);
        memo.put("c".into(), 0, later, 3);
        assert_eq!(
            (memo.get("b", later), memo.get("c", later)),
            (Some(2), Some(3))
        );
        memo.put("d".into(), 0, later, 4);
        assert_eq!(memo.get("d", later), None, "both kept values are fresh");
    }
}
