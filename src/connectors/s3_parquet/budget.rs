//! The worker-wide memory budget over every open Parquet file of every S3-Parquet task.
//!
//! Each task holds a [`Lease`] and reports what its open files use; when the sum passes the
//! limit, tasks rotate their largest files early (see `task.rs`). The budget never blocks:
//! rotating frees memory, and while an upload fails the task stops accepting records.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

/// Default `buffer.memory.bytes`: 128 MiB across all open files of the worker.
pub const DEFAULT_LIMIT: usize = 128 << 20;

/// A shared byte budget.
#[derive(Debug)]
pub struct MemoryBudget {
    limit: AtomicUsize,
    used: AtomicUsize,
}

impl MemoryBudget {
    /// A budget of `limit` bytes.
    pub fn new(limit: usize) -> Arc<Self> {
        Arc::new(Self {
            limit: AtomicUsize::new(limit.max(1)),
            used: AtomicUsize::new(0),
        })
    }

    /// The process-wide budget (the worker sets its limit at startup).
    pub fn global() -> Arc<Self> {
        static GLOBAL: OnceLock<Arc<MemoryBudget>> = OnceLock::new();
        GLOBAL
            .get_or_init(|| MemoryBudget::new(DEFAULT_LIMIT))
            .clone()
    }

    /// Changes the limit (`buffer.memory.bytes`).
    pub fn set_limit(&self, limit: usize) {
        self.limit.store(limit.max(1), Ordering::Relaxed);
    }

    /// The limit in bytes.
    pub fn limit(&self) -> usize {
        self.limit.load(Ordering::Relaxed)
    }

    /// Bytes held by all leases.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// True when the holders together use more than the limit.
    pub fn exceeded(&self) -> bool {
        self.used() > self.limit()
    }

    /// A lease holding nothing yet.
    pub fn lease(self: &Arc<Self>) -> Lease {
        Lease {
            budget: self.clone(),
            held: 0,
        }
    }
}

/// One holder's share of the budget; released on drop.
#[derive(Debug)]
pub struct Lease {
    budget: Arc<MemoryBudget>,
    held: usize,
}

impl Lease {
    /// Records that the holder now uses `bytes`.
    pub fn set(&mut self, bytes: usize) {
        if bytes >= self.held {
            self.budget
                .used
                .fetch_add(bytes - self.held, Ordering::Relaxed);
        } else {
            self.budget
                .used
                .fetch_sub(self.held - bytes, Ordering::Relaxed);
        }
        self.held = bytes;
    }

    /// Bytes this holder reported.
    pub fn held(&self) -> usize {
        self.held
    }

    /// The budget this lease belongs to.
    pub fn budget(&self) -> &Arc<MemoryBudget> {
        &self.budget
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.set(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leases_add_up_and_release_on_drop() {
        let b = MemoryBudget::new(100);
        let mut a = b.lease();
        let mut c = b.lease();
        a.set(60);
        c.set(30);
        assert_eq!(b.used(), 90);
        assert!(!b.exceeded());
        c.set(50);
        assert!(b.exceeded());
        a.set(10);
        assert_eq!(b.used(), 60);
        drop(c);
        assert_eq!(b.used(), 10);
        drop(a);
        assert_eq!(b.used(), 0);
    }
}
