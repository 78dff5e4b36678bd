//! One record line under a given header: the first line of the input is the
//! header, the second the record. Every typed getter of every field must return
//! a value or an error, never panic.
#![no_main]

use flowscan::parse::Tokens;
use flowscan::{Field, FlowRecord, Record, Schema};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(2, |&b| b == b'\n');
    let header = parts.next().unwrap_or_default();
    let line = parts.next().unwrap_or_default();
    let Ok(schema) = Schema::from_header(header) else {
        return;
    };
    let mut tokens = Tokens::default();
    tokens.split(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let Ok(rec) = Record::new(line, &tokens, &schema) else {
        return;
    };
    for &f in Field::ALL {
        let _ = rec.text(f);
        let _ = rec.int(f);
        let _ = rec.addr(f);
    }
});
