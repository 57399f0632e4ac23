//! SQLite checkpoints off the request path, small and often.
//!
//! In WAL mode a commit appends to the write-ahead log; a checkpoint copies the log back into
//! the database file and syncs it. By default the connection whose commit takes the log past
//! 1,000 pages does that itself, inside the write, so the writers queued behind it
//! (`Database::write`) wait for the copy and the sync. A checkpoint running beside the writers
//! does not stop them, but stalls them for about as long as it writes (the file system's sync
//! holds up their log writes), so the bigger the checkpoint, the longer the stall. Measured at
//! 100k customers, 20-second runs, p99 of creating an activity at half the maximum rate:
//! 15.9 ms with SQLite's own checkpoints, 69 ms checkpointing every second, 55 ms every 100 ms,
//! 4.7 ms every 20 ms (with 38% more writes per second at the maximum rate).
//!
//! So a thread of its own runs `PRAGMA wal_checkpoint(PASSIVE)` (which never waits for readers
//! or writers) after writes, at most every [`GAP`]; with no writes it sleeps. The connections'
//! own automatic checkpoint is raised to [`BACKSTOP_PAGES`], which the log reaches only if this
//! thread falls behind.

use std::path::Path;
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::sqlite::SqliteConnection;
use diesel::Connection;

/// The least time between two checkpoints.
pub(crate) const GAP: Duration = Duration::from_millis(20);

/// The log size, in pages, at which a committing connection checkpoints by itself (about 80 MB
/// of 4 KiB pages): a backstop, should the checkpoint thread fall behind.
pub(crate) const BACKSTOP_PAGES: u32 = 20_000;

/// The checkpoint thread of an SQLite database; it stops when this is dropped.
#[derive(Debug)]
pub(crate) struct Checkpointer {
    wake: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread, with a connection of its own to the database at `path`; `None` (and a
    /// warning) when the thread or its connection cannot be had, leaving the checkpoints to the
    /// backstop.
    pub(crate) fn start(path: &Path, busy_timeout: Duration) -> Option<Self> {
        let path = path.to_string_lossy().into_owned();
        let conn = SqliteConnection::establish(&path)
            .map_err(|e| e.to_string())
            .and_then(|mut conn| {
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {};",
                    busy_timeout.as_millis()
                ))
                .map(|()| conn)
                .map_err(|e| e.to_string())
            });
        let mut conn = match conn {
            Ok(conn) => conn,
            Err(e) => {
                tracing::warn!(error = %e, "no connection for SQLite checkpoints");
                return None;
            }
        };
        // One pending wake-up at most: writes during a checkpoint ask for one more.
        let (wake, woken) = mpsc::sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                // Until the sender is dropped.
                while woken.recv().is_ok() {
                    if let Err(e) = conn.batch_execute("PRAGMA wal_checkpoint(PASSIVE);") {
                        tracing::warn!(error = %e, "SQLite checkpoint failed");
                    }
                    std::thread::sleep(GAP);
                }
            });
        match thread {
            Ok(thread) => Some(Self {
                wake: Some(wake),
                thread: Some(thread),
            }),
            Err(e) => {
                tracing::warn!(error = %e, "no thread for SQLite checkpoints");
                None
            }
        }
    }

    /// Asks for a checkpoint after a write; never waits.
    pub(crate) fn nudge(&self) {
        if let Some(wake) = &self.wake {
            match wake.try_send(()) {
                Ok(()) | Err(TrySendError::Full(())) => {}
                Err(TrySendError::Disconnected(())) => {
                    tracing::warn!("the SQLite checkpoint thread has stopped");
                }
            }
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        // Disconnecting ends the thread's wait; joining closes its connection before the pool's.
        drop(self.wake.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
