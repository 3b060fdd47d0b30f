//! Time and extension functions: placeholder while the implementation is written.

pub fn format_time(_unix: i64, _fmt: &[u8]) -> Vec<u8> {
    Vec::new()
}
pub fn parse_time(_s: &[u8]) -> Option<i64> {
    None
}
pub fn is_time(_s: &[u8], _fmt: Option<&[u8]>) -> bool {
    false
}
pub fn split(s: &[u8], _sep: &[u8]) -> Vec<Vec<u8>> {
    vec![s.to_vec()]
}
pub fn is_in_subnet(_ip: &[u8], _net: &[u8]) -> bool {
    false
}
pub fn b64_decode(_s: &[u8]) -> Option<Vec<u8>> {
    None
}
