//! Which custom fields are live (not archived), remembered per entity for a moment.
//!
//! Every read of a record hides the values of archived fields, so every GET, list and overview
//! asked the database for the live keys: a third of a GET's statements. Definitions change
//! rarely, so each `Database` remembers them for [`FRESH_FOR`]. A definition written through
//! this `Database` forgets them at once (after its commit); another server sees an archived
//! field's values disappear from reads at most [`FRESH_FOR`] later. Writes never depend on
//! this: they read the definitions themselves.
//!
//! Store functions receive only a connection, so [`Database::read`](crate::Database) and
//! `write` make the cache reachable for the duration of their closure through [`within`]. The
//! generation is taken when the closure starts, before its transaction (and so, on SQLite,
//! its snapshot) begins: keys read from a snapshot older than a definition change are never
//! kept as current.

use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crm_domain::custom_fields::FieldEntity;

use crate::remembered::Remembered;

/// How long remembered keys are used before they are read again.
pub(crate) const FRESH_FOR: Duration = Duration::from_secs(1);

/// The live keys of one entity.
pub(crate) type LiveKeys = Arc<HashSet<String>>;

/// The remembered live keys of each entity.
pub(crate) type LiveFieldCache = Remembered<FieldEntity, LiveKeys>;

/// An empty cache for a `Database`.
pub(crate) fn cache() -> Arc<LiveFieldCache> {
    Arc::new(Remembered::new(FRESH_FOR, FieldEntity::ALL.len()))
}

thread_local! {
    /// The cache of the `Database` whose closure runs on this thread, with the generation
    /// the closure started at.
    static SCOPE: RefCell<Option<(Arc<LiveFieldCache>, u64)>> = const { RefCell::new(None) };
}

/// Restores the enclosing scope, also when the closure panics.
struct Restore(Option<(Arc<LiveFieldCache>, u64)>);

impl Drop for Restore {
    fn drop(&mut self) {
        let previous = self.0.take();
        SCOPE.with(|s| *s.borrow_mut() = previous);
    }
}

/// Runs `f` with `cache` reachable by [`cached`].
pub(crate) fn within<T>(cache: &Arc<LiveFieldCache>, f: impl FnOnce() -> T) -> T {
    let scope = (cache.clone(), cache.generation());
    let _restore = Restore(SCOPE.with(|s| s.replace(Some(scope))));
    f()
}

/// The live keys of `entity`: remembered ones while fresh, otherwise `read`'s, then remembered.
pub(crate) fn cached<E>(
    entity: FieldEntity,
    read: impl FnOnce() -> Result<HashSet<String>, E>,
) -> Result<LiveKeys, E> {
    let scope = SCOPE.with(|s| s.borrow().clone());
    let started = Instant::now();
    if let Some((cache, _)) = &scope {
        if let Some(keys) = cache.get(&entity, started) {
            return Ok(keys);
        }
    }
    let keys = Arc::new(read()?);
    if let Some((cache, generation)) = scope {
        cache.put(entity, generation, started, keys.clone());
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(names: &[&str]) -> HashSet<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    /// Reads through `cached` in `cache`'s scope, counting the reads that reached `read`.
    fn read_in(cache: &Arc<LiveFieldCache>, reads: &mut u32, names: &[&str]) -> LiveKeys {
        within(cache, || {
            cached::<()>(FieldEntity::Customer, || {
                *reads += 1;
                Ok(keys(names))
            })
        })
        .unwrap_or_default()
    }

    #[test]
    fn keys_are_read_once_while_fresh() {
        let cache = cache();
        let mut reads = 0;
        assert_eq!(*read_in(&cache, &mut reads, &["a"]), keys(&["a"]));
        assert_eq!(*read_in(&cache, &mut reads, &["b"]), keys(&["a"]));
        assert_eq!(reads, 1);
    }

    #[test]
    fn a_definition_change_forgets_them() {
        let cache = cache();
        let mut reads = 0;
        read_in(&cache, &mut reads, &["a"]);
        cache.forget();
        assert_eq!(*read_in(&cache, &mut reads, &["a", "b"]), keys(&["a", "b"]));
        assert_eq!(reads, 2);
    }

    #[test]
    fn keys_read_from_before_a_change_are_not_kept() {
        let cache = cache();
        let mut reads = 0;
        // A closure that started before the change read the old keys after it.
        within(&cache, || {
            cache.forget();
            cached::<()>(FieldEntity::Customer, || Ok(keys(&["old"])))
        })
        .ok();
        assert_eq!(*read_in(&cache, &mut reads, &["new"]), keys(&["new"]));
        assert_eq!(reads, 1);
    }

    #[test]
    fn stale_keys_are_read_again() {
        let cache = cache();
        let long_ago = Instant::now()
            .checked_sub(FRESH_FOR * 2)
            .unwrap_or_else(Instant::now);
        cache.put(FieldEntity::Customer, 0, long_ago, Arc::new(keys(&["old"])));
        assert!(cache.get(&FieldEntity::Customer, Instant::now()).is_none());
        let mut reads = 0;
        assert_eq!(*read_in(&cache, &mut reads, &["new"]), keys(&["new"]));
        assert_eq!(reads, 1);
    }

    #[test]
    fn entities_are_kept_apart_and_nothing_is_kept_outside_a_scope() {
        let cache = cache();
        let mut reads = 0;
        read_in(&cache, &mut reads, &["a"]);
        assert!(cache.get(&FieldEntity::Contact, Instant::now()).is_none());
        let outside = cached::<()>(FieldEntity::Contact, || Ok(keys(&["c"])));
        assert_eq!(outside.map(|k| (*k).clone()), Ok(keys(&["c"])));
        assert!(cache.get(&FieldEntity::Contact, Instant::now()).is_none());
    }
}
