//! oxsyslog: a drop-in replacement for rsyslog. The library holds everything; the binaries
//! (`oxsyslogd`) are thin front ends.

pub mod config;
pub mod filter;
pub mod message;
pub mod parse;
