//! A completion notice that travels with a batch through the main queue: the input that
//! made the batch (imrelp) learns when the rules thread has run every message of it through
//! every action and ended the actions' batch (`end_batch`: written, or handed to an action
//! queue). A batch split by the main queue's admission carries one part per piece; the
//! notice fires when the last part is dropped, with `true` only if every part was marked
//! done — a part dropped unprocessed (shutdown, abandoned queue) makes it `false`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::oneshot;

struct Inner {
    failed: AtomicBool,
    tx: Option<oneshot::Sender<bool>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(tx) = self.tx.take() {
            let _ = tx.send(!self.failed.load(Ordering::SeqCst));
        }
    }
}

/// One part of a completion notice (see the module doc).
pub struct Completion {
    inner: Arc<Inner>,
    done: bool,
}

impl std::fmt::Debug for Completion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Completion")
    }
}

impl Completion {
    /// A new notice and the receiver that learns its outcome.
    pub fn new() -> (Completion, oneshot::Receiver<bool>) {
        let (tx, rx) = oneshot::channel();
        let c = Completion {
            inner: Arc::new(Inner {
                failed: AtomicBool::new(false),
                tx: Some(tx),
            }),
            done: false,
        };
        (c, rx)
    }

    /// Another part of the same notice (for a piece of a split batch).
    pub fn part(&self) -> Completion {
        Completion {
            inner: self.inner.clone(),
            done: false,
        }
    }

    /// Makes the whole notice fail (some message of it was dropped).
    pub fn fail(&self) {
        self.inner.failed.store(true, Ordering::SeqCst);
    }

    /// This part was processed completely.
    pub fn done(mut self) {
        self.done = true;
    }
}

impl Drop for Completion {
    fn drop(&mut self) {
        if !self.done {
            self.inner.failed.store(true, Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fires_true_only_when_every_part_is_done() {
        let (c, mut rx) = Completion::new();
        let p = c.part();
        c.done();
        assert!(rx.try_recv().is_err(), "fired before the last part");
        p.done();
        assert_eq!(rx.try_recv(), Ok(true));

        let (c, mut rx) = Completion::new();
        let p = c.part();
        c.done();
        drop(p);
        assert_eq!(rx.try_recv(), Ok(false));

        let (c, mut rx) = Completion::new();
        c.fail();
        c.done();
        assert_eq!(rx.try_recv(), Ok(false));
    }
}
