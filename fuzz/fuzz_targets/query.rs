//! The `--where` language: any text parses to a query or to an error with a
//! column inside the text, never a panic or a stack overflow; a query that
//! parses evaluates on a record without a panic.
#![no_main]

use flowscan::parse::Tokens;
use flowscan::query::Query;
use flowscan::{Record, Schema};
use libfuzzer_sys::fuzz_target;

const LINE: &[u8] = b"2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 51234 22 6 20 4249 1795514400 1795514460 REJECT OK";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Query::parse(text) {
        Ok(q) => {
            let schema = Schema::default_v2();
            let mut t = Tokens::default();
            t.split(LINE);
            let rec = Record::new(LINE, &t, &schema).expect("a default-format line");
            let _ = q.matches(&rec);
            let _ = q.fields();
        }
        Err(e) => assert!(e.column >= 1 && e.column <= text.len() + 1),
    }
});
