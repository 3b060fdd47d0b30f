//! Message filters: legacy selectors (`facility.priority`), property filters and RainerScript
//! expressions.

pub mod exec;
pub mod selector;
