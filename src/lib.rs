//! oxsyslog: a drop-in replacement for rsyslog. The library holds everything; the binaries
//! (`oxsyslogd`, `oxaudit`) are thin front ends.

pub mod audit;
pub mod completion;
pub mod config;
pub mod diskq;
pub mod engine;
pub mod filter;
pub mod input;
pub mod json;
pub mod leftover_queues;
pub mod mainq;
pub mod message;
pub mod mqdisk;
pub mod output;
pub mod parse;
pub mod privdrop;
pub mod relp;
pub mod resident;
pub mod rsq;
pub mod runtime_support;
pub mod stats;
pub mod template;
pub mod tls;
pub mod vars;
pub mod workers;
