//! Output modules (actions). Each renders its template into a buffer per batch and writes the
//! whole batch at once.

pub mod file;
pub mod usrmsg;

use crate::message::MsgRef;
use crate::template::RenderEnv;

/// What an action does with messages. Called from the processing thread only.
pub trait Output: Send {
    /// Takes one message of the current batch.
    fn process(&mut self, m: MsgRef<'_>, env: &RenderEnv);
    /// The batch is done: write what was collected (one write per batch where possible).
    fn end_batch(&mut self);
    /// Called about once a second, also when no messages arrive (interval flushes).
    fn tick(&mut self) {}
    /// SIGHUP: reopen files.
    fn hup(&mut self) {}
    /// Shutdown: write everything; returns how many messages could not be written.
    fn shutdown(&mut self) -> u64 {
        self.end_batch();
        0
    }
}
