//! Records pulled one at a time from a gzip buffer held in memory (an S3
//! object body, a message from a queue), with their positions.
//!
//! cargo run -p flowscan --example gzip_in_memory

use std::io::Write;

use flowscan::{Field, FlowRecord, Reader};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let text = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status
2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.9.69 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK
2 123456789010 eni-1235b8ca123456789 172.31.9.69 203.0.113.12 3389 49761 6 20 4249 1418530010 1418530070 ACCEPT OK
not a record
";
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes())?;
    let body = gz.finish()?;

    let mut reader = Reader::from_reader("object.log.gz", std::io::Cursor::new(body));
    while let Some((rec, pos)) = reader.read_record()? {
        let action = String::from_utf8_lossy(rec.text(Field::Action).unwrap_or(b"-")).into_owned();
        println!(
            "line {:?}: {} -> {:?} {action}",
            pos.line,
            rec.addr(Field::SrcAddr)?
                .map_or("-".into(), |a| a.to_string()),
            rec.int(Field::DstPort)?
        );
    }
    for m in reader.malformed() {
        println!("malformed: {m}");
    }
    let c = reader.counts();
    println!(
        "{} lines: {} records, {} malformed",
        c.lines, c.records, c.malformed
    );
    Ok(())
}
