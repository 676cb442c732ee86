//! User-agent mapping (OS, client, device), as every session and log entry runs it.
#![no_main]

use latchkey::domain::useragent::{parse, truncate};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let cut = truncate(&s);
    assert!(s.starts_with(cut));
    let _ = parse(cut);
});
