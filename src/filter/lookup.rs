//! Lookup tables (`lookup_table()` objects, `lookup()`): placeholder while the
//! implementation is written — no table loads, so `lookup()` of any name is a config error.

use crate::config::model::Config;

/// Loaded lookup tables (none yet).
#[derive(Debug, Default)]
pub struct LookupTables {}

impl LookupTables {
    pub fn load(cfg: &Config) -> Result<LookupTables, String> {
        let _ = cfg;
        Ok(LookupTables {})
    }
    pub fn index(&self, _name: &str) -> Option<usize> {
        None
    }
    pub fn lookup(&self, _table: usize, _key: &[u8], _out: &mut Vec<u8>) {}
    pub fn reload_with_stub(&mut self, _table: usize, _stub: Option<&[u8]>) -> Result<(), String> {
        Ok(())
    }
    pub fn hup(&mut self) -> Vec<String> {
        Vec::new()
    }
}
