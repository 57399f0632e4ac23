//! The reference data a customer overview shows beside the customer, remembered for a moment:
//! every pipeline with its stages (which name the open opportunities' stages), the behaviour
//! catalogue and the scoring half-life.
//!
//! Admins change them rarely and the overview is one of the most requested reads, where they
//! were four of its statements. Like the live custom fields, each `Database` keeps them for
//! [`FRESH_FOR`]; a pipeline, stage, behaviour or half-life written through it forgets them
//! after its commit, and another server shows such a change in overviews at most [`FRESH_FOR`]
//! later. Writes never read them from here.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crm_domain::pipelines::Pipeline;
use crm_domain::scoring::Behavior;
use crm_domain::DomainError;

use crate::errors::TxError;
use crate::remembered::Remembered;
use crate::{Database, DbConnection};

/// How long remembered reference data is used before it is read again.
pub(crate) const FRESH_FOR: Duration = Duration::from_secs(1);

/// What an overview shows of the installation's settings.
#[derive(Clone)]
pub(crate) struct Reference {
    pub(crate) pipelines: Arc<Vec<Pipeline>>,
    pub(crate) behaviors: Arc<Vec<Behavior>>,
    pub(crate) half_life_days: u32,
}

/// The remembered reference data (one entry).
pub(crate) type ReferenceCache = Remembered<(), Reference>;

pub(crate) fn cache() -> ReferenceCache {
    Remembered::new(FRESH_FOR, 1)
}

fn read(conn: &mut DbConnection) -> Result<Reference, TxError> {
    Ok(Reference {
        pipelines: Arc::new(crate::pipelines::load_all(conn)?),
        behaviors: Arc::new(crate::scoring::catalogue(conn)?),
        half_life_days: crate::scoring::half_life_days(conn)?,
    })
}

impl Database {
    /// Runs the read `f` with the reference data: the remembered one while fresh, otherwise
    /// read in `f`'s own transaction (one snapshot with the rest on SQLite) and then remembered.
    pub(crate) fn read_with_reference<T>(
        &self,
        f: impl FnOnce(&mut DbConnection, &Reference) -> Result<T, TxError>,
    ) -> Result<T, DomainError> {
        // Taken before the read starts: data read before a change that commits meanwhile is
        // never kept as current.
        let generation = self.reference.generation();
        let read_at = Instant::now();
        let remembered = self.reference.get(&(), read_at);
        let (result, just_read) = self.read(|conn| {
            let (reference, just_read) = match remembered {
                Some(reference) => (reference, None),
                None => {
                    let reference = read(conn)?;
                    (reference.clone(), Some(reference))
                }
            };
            Ok((f(conn, &reference)?, just_read))
        })?;
        if let Some(reference) = just_read {
            self.reference.put((), generation, read_at, reference);
        }
        Ok(result)
    }

    /// Runs the write `w` and forgets the remembered reference data after it ends.
    pub(crate) fn write_reference<T>(
        &self,
        w: impl FnOnce(&mut DbConnection) -> Result<T, TxError>,
    ) -> Result<T, DomainError> {
        let written = self.write(w);
        self.reference.forget();
        written
    }
}
