//! Kernel benchmarks: the token split, decoding a record, aggregating a
//! chunk of text and a million records (past the compaction of distinct
//! pairs), reading a CloudWatch JSON document (cut into pieces), and a
//! gzip file inflated whole or streamed. Run with `cargo bench -p flowscan --bench kernels`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use flowscan::parse::{record_tokens, split_lines_by, Kernel, Tokens};
use flowscan::{Aggregate, FlowRecord, Position, Record, Rejects, RejectsConfig, Schema, Sink};

fn sample_text(records: u64) -> Vec<u8> {
    text_of(flowgen::Spec {
        records,
        ..flowgen::Spec::default()
    })
}

fn text_of(spec: flowgen::Spec) -> Vec<u8> {
    let mut out = Vec::new();
    flowgen::Generator::new(spec).write_text(&mut out).unwrap();
    out
}

fn lines(text: &[u8]) -> Vec<&[u8]> {
    text.split(|&b| b == b'\n')
        .skip(1)
        .filter(|l| !l.is_empty())
        .collect()
}

fn split(c: &mut Criterion) {
    let text = sample_text(10_000);
    let lines = lines(&text);
    let mut g = c.benchmark_group("split");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("hand-written", |b| {
        let mut t = Tokens::default();
        b.iter(|| {
            let mut n = 0;
            for l in &lines {
                t.split(l);
                n += t.len();
            }
            black_box(n)
        })
    });
    // The path scans take: every line of a block split in one pass, by each
    // kernel this CPU runs (scans take the last).
    for kernel in Kernel::all() {
        g.bench_function(format!("lines in one pass ({kernel:?})"), |b| {
            let mut t = Tokens::default();
            b.iter(|| {
                let mut n = 0;
                split_lines_by(kernel, &text, &mut t, |_, toks| {
                    n += toks.len();
                    true
                });
                black_box(n)
            })
        });
    }
    g.bench_function("nom combinators", |b| {
        b.iter(|| {
            let mut n = 0;
            for l in &lines {
                n += record_tokens(l).map(|(_, v)| v.len()).unwrap_or(0);
            }
            black_box(n)
        })
    });
    g.finish();
}

fn decode(c: &mut Criterion) {
    let text = sample_text(10_000);
    let lines = lines(&text);
    let schema = Schema::default_v2();
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("all default fields", |b| {
        let mut t = Tokens::default();
        b.iter(|| {
            let mut acc = 0u64;
            for l in &lines {
                t.split(l);
                let r = Record::new(l, &t, &schema).unwrap();
                for f in flowscan::schema::DEFAULT_FIELDS {
                    match f.kind() {
                        flowscan::schema::Kind::Int32 | flowscan::schema::Kind::Int64 => {
                            acc += r.int(f).ok().flatten().unwrap_or(0)
                        }
                        flowscan::schema::Kind::Addr => {
                            acc += r.addr(f).ok().flatten().is_some() as u64
                        }
                        flowscan::schema::Kind::Text => {
                            acc += r.text(f).map_or(0, |t| t.len() as u64)
                        }
                    }
                }
            }
            black_box(acc)
        })
    });
    g.finish();
}

fn addresses(c: &mut Criterion) {
    let text = sample_text(10_000);
    // Each record's source and destination, as the tokens they are.
    let addrs: Vec<&[u8]> = lines(&text)
        .into_iter()
        .flat_map(|l| l.split(|&b| b == b' ').skip(3).take(2))
        .collect();
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements(addrs.len() as u64));
    g.bench_function("IPv4 addresses", |b| {
        b.iter(|| {
            let mut acc = 0u32;
            for a in &addrs {
                acc ^= flowscan::parse::parse_ipv4(a).map_or(0, u32::from);
            }
            black_box(acc)
        })
    });
    g.finish();

    // A dual-stack log's IPv6 addresses, read by flowscan's loop and by the
    // standard library it replaced.
    let v6_text = text_of(flowgen::Spec {
        records: 10_000,
        ipv6_ratio: 1.0,
        ..flowgen::Spec::default()
    });
    let v6: Vec<&[u8]> = lines(&v6_text)
        .into_iter()
        .flat_map(|l| l.split(|&b| b == b' ').skip(3).take(2))
        .filter(|a| a.contains(&b':'))
        .collect();
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements(v6.len() as u64));
    g.bench_function("IPv6 addresses", |b| {
        b.iter(|| {
            let mut acc = 0u128;
            for a in &v6 {
                acc ^= flowscan::parse::parse_ipv6(a).map_or(0, u128::from);
            }
            black_box(acc)
        })
    });
    g.bench_function("IPv6 addresses, standard library", |b| {
        b.iter(|| {
            let mut acc = 0u128;
            for a in &v6 {
                let s = std::str::from_utf8(a).unwrap();
                acc ^= s.parse::<std::net::Ipv6Addr>().map_or(0, u128::from);
            }
            black_box(acc)
        })
    });
    g.finish();
}

fn aggregate(c: &mut Criterion) {
    let text = sample_text(50_000);
    let lines = lines(&text);
    let schema = Schema::default_v2();
    let mut g = c.benchmark_group("aggregate");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("rejects", |b| {
        let mut t = Tokens::default();
        let pos = Position::new("bench".as_ref(), 0, Some(1), None);
        b.iter(|| {
            let mut agg = Rejects::new(RejectsConfig::default());
            for l in &lines {
                t.split(l);
                let _ = agg.record(&Record::new(l, &t, &schema).unwrap(), &pos);
            }
            black_box(agg.report(10).rejects)
        })
    });
    g.finish();
}

/// The REJECT tables past the size where distinct pairs are compacted (a
/// million records, about 200,000 rejects), fed as two threads' halves and
/// merged, as a scan does: guards the compaction and the merge, which the
/// 50,000-record bench above never reaches.
fn aggregate_large(c: &mut Criterion) {
    let text = sample_text(1_000_000);
    let lines = lines(&text);
    let schema = Schema::default_v2();
    let mut g = c.benchmark_group("aggregate");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("rejects, 1M records in two merged halves", |b| {
        let mut t = Tokens::default();
        let pos = Position::new("bench".as_ref(), 0, Some(1), None);
        b.iter(|| {
            let mut halves = [
                Rejects::new(RejectsConfig::default()),
                Rejects::new(RejectsConfig::default()),
            ];
            for (i, l) in lines.iter().enumerate() {
                t.split(l);
                let _ =
                    halves[i * 2 / lines.len()].record(&Record::new(l, &t, &schema).unwrap(), &pos);
            }
            let [mut a, b] = halves;
            a.merge(b);
            black_box(a.report(10).rejects)
        })
    });
    g.finish();
}

/// A `filter-log-events` page of 100,000 events on one thread: the cut into
/// pieces and their parse, as `rejects` reads a downloaded document.
fn json(c: &mut Criterion) {
    let text = sample_text(100_000);
    let events: Vec<String> = lines(&text)
        .iter()
        .map(|l| {
            format!(
                r#"{{"logStreamName":"eni-0a1b2c3d4e5f60718-all","timestamp":1764000000000,"message":"{}","ingestionTime":1764000001000,"eventId":"3800000000000000000"}}"#,
                String::from_utf8_lossy(l)
            )
        })
        .collect();
    let doc = format!(
        r#"{{"events":[{}],"searchedLogStreams":[]}}"#,
        events.join(",")
    );
    let scanner = flowscan::Scanner::builder().threads(1).build().unwrap();
    let mut g = c.benchmark_group("json");
    g.throughput(Throughput::Bytes(doc.len() as u64));
    g.sample_size(20);
    g.bench_function("filter-log-events document", |b| {
        b.iter(|| {
            let (mut agg, _) = scanner
                .aggregate_slice("events.json".as_ref(), doc.as_bytes(), || {
                    Rejects::new(RejectsConfig::default())
                })
                .unwrap();
            black_box(agg.report(10).rejects)
        })
    });
    g.finish();
}

/// A gzip file of 100,000 records on one thread, `rejects` over it: held in
/// memory, it is inflated whole (libdeflate) and cut as a slice; from a
/// reader, it streams (zlib-rs) with the partial line carried between blocks.
fn gzip(c: &mut Criterion) {
    use std::io::Write;
    let text = sample_text(100_000);
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    e.write_all(&text).unwrap();
    let gz = e.finish().unwrap();
    let scanner = flowscan::Scanner::builder().threads(1).build().unwrap();
    let make = || Rejects::new(RejectsConfig::default());
    let mut g = c.benchmark_group("gzip");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.sample_size(20);
    g.bench_function("whole file in memory", |b| {
        b.iter(|| {
            let (mut agg, _) = scanner
                .aggregate_slice("f.log.gz".as_ref(), &gz, make)
                .unwrap();
            black_box(agg.report(10).rejects)
        })
    });
    g.bench_function("streamed from a reader", |b| {
        b.iter(|| {
            let r = std::io::Cursor::new(&gz);
            let (mut agg, _) = scanner
                .aggregate_reader("f.log.gz".as_ref(), r, make)
                .unwrap();
            black_box(agg.report(10).rejects)
        })
    });
    g.finish();
}

criterion_group!(
    benches,
    split,
    decode,
    addresses,
    aggregate,
    aggregate_large,
    json,
    gzip
);
criterion_main!(benches);
