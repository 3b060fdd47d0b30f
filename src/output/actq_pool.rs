//! `queue.workerThreads` > 1 on an action queue: the queue's batches are sent through several
//! transports in parallel, each with its own connection — rsyslog's several queue workers,
//! each with its own action instance (omfwd: its own socket). The queue worker
//! (src/output/actq.rs) takes a batch as usual; [`Pool`] cuts it into one contiguous part per
//! transport and sends the parts at the same time on scoped threads, so the order across
//! connections is not kept (nor is it in rsyslog, whose workers dequeue independently);
//! within one connection it is.
//!
//! A failure is reported as the prefix that was sent: the parts before the first failed one
//! and what that one sent. Parts after it that were sent all the same are sent again when the
//! action resumes — after a failure a message may arrive twice, never not at all (plain TCP
//! cannot promise more either). Retrying reconnects every transport.

use super::actq::Transport;

/// The most workers one action may ask for.
pub const MAX_WORKERS: i64 = 64;

/// What one part's send returned (see [`Transport::send`]).
type Sent = Result<(), (usize, String)>;

/// Several transports used as one.
pub struct Pool {
    ts: Vec<Box<dyn Transport>>,
}

impl Pool {
    /// `n` transports made by `make`; one transport is returned as it is.
    pub fn of(n: usize, mut make: impl FnMut() -> Box<dyn Transport>) -> Box<dyn Transport> {
        if n <= 1 {
            return make();
        }
        Box::new(Pool {
            ts: (0..n).map(|_| make()).collect(),
        })
    }
}

impl Transport for Pool {
    fn send(&mut self, msgs: &[Vec<u8>]) -> Result<(), (usize, String)> {
        let per = msgs.len().div_ceil(self.ts.len()).max(1);
        let mut results: Vec<(usize, Sent)> = Vec::new();
        std::thread::scope(|sc| {
            let mut parts = self.ts.iter_mut().zip(msgs.chunks(per));
            let first = parts.next();
            let handles: Vec<_> = parts
                .map(|(t, c)| (c.len(), sc.spawn(move || t.send(c))))
                .collect();
            if let Some((t, c)) = first {
                results.push((c.len(), t.send(c)));
            }
            for (len, h) in handles {
                let r = h
                    .join()
                    .unwrap_or_else(|_| Err((0, "a sending thread panicked".to_string())));
                results.push((len, r));
            }
        });
        let mut sent = 0;
        for (len, r) in results {
            match r {
                Ok(()) => sent += len,
                Err((n, e)) => return Err((sent + n, e)),
            }
        }
        Ok(())
    }

    fn try_resume(&mut self) -> Result<(), String> {
        for t in &mut self.ts {
            t.try_resume()?;
        }
        Ok(())
    }

    fn close(&mut self) {
        for t in &mut self.ts {
            t.close();
        }
    }

    fn describe(&self) -> String {
        self.ts.first().map(|t| t.describe()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Records what it was given; fails once at message `fail_at` of its part when set.
    struct Rec {
        got: Arc<Mutex<Vec<Vec<u8>>>>,
        fail_at: Option<usize>,
    }

    impl Transport for Rec {
        fn send(&mut self, msgs: &[Vec<u8>]) -> Result<(), (usize, String)> {
            let n = self
                .fail_at
                .take()
                .map_or(msgs.len(), |f| f.min(msgs.len()));
            self.got.lock().unwrap().extend(msgs[..n].iter().cloned());
            if n < msgs.len() {
                return Err((n, "refused".into()));
            }
            Ok(())
        }
        fn try_resume(&mut self) -> Result<(), String> {
            Ok(())
        }
        fn close(&mut self) {}
        fn describe(&self) -> String {
            "rec".into()
        }
    }

    #[test]
    fn a_batch_is_split_among_the_transports_and_a_failure_is_a_prefix() {
        let logs: Vec<Arc<Mutex<Vec<Vec<u8>>>>> = (0..3).map(|_| Arc::default()).collect();
        let mut i = 0;
        let mut p = Pool::of(3, || {
            let t = Rec {
                got: logs[i].clone(),
                // the second transport fails after one message of its part
                fail_at: (i == 1).then_some(1),
            };
            i += 1;
            Box::new(t)
        });
        let msgs: Vec<Vec<u8>> = (0..9u8).map(|b| vec![b]).collect();
        // parts 0..3, 3..6, 6..9: the first and the third are sent, the second sends one
        assert_eq!(p.send(&msgs), Err((4, "refused".into())));
        let got: Vec<usize> = logs.iter().map(|l| l.lock().unwrap().len()).collect();
        assert_eq!(got, vec![3, 1, 3]);
        // the retry sends from message 4 on: everything arrives, 6..9 twice
        p.send(&msgs[4..]).unwrap();
        let mut all: Vec<u8> = logs
            .iter()
            .flat_map(|l| l.lock().unwrap().clone())
            .map(|m| m[0])
            .collect();
        all.sort();
        assert_eq!(all, vec![0, 1, 2, 3, 4, 5, 6, 6, 7, 7, 8, 8]);
    }
}
