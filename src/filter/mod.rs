//! Message filters: legacy selectors (`facility.priority`), property filters and RainerScript
//! expressions.

pub mod exec;
pub mod funcs;
pub mod lookup;
pub mod selector;
pub mod timefn;
pub mod value;
