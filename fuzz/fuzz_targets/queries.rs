//! `queries` as clients send them: JSON queries, and the pre-1.5 `limit(25)` syntax, against
//! no attributes (listLogs) and the Users API's attributes. Every input is either a parsed
//! query or an Appwrite error; never a panic.
#![no_main]

use latchkey::domain::queries::{USER_ATTRIBUTES, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let raw: Vec<String> = text.split('\n').map(str::to_owned).collect();
    let attributes = if flags & 2 == 0 { &[][..] } else { USER_ATTRIBUTES };
    let _ = parse(&raw, flags & 1 == 1, attributes);
});
