//! Property tests for the parser: any valid record written out reads back with
//! the same values, and any bytes at all give counted results, never a panic.

use std::net::IpAddr;
use std::path::Path;

use flowscan::parse::Tokens;
use flowscan::{FlowRecord, Record, Rejects, RejectsConfig, Scanner, Schema};
use proptest::prelude::*;

/// One value of each default-format field, as text, and what it must decode to.
#[derive(Clone, Debug)]
struct Rec {
    version: u64,
    account: String,
    eni: Option<String>,
    src: Option<IpAddr>,
    dst: Option<IpAddr>,
    sport: Option<u16>,
    dport: Option<u16>,
    proto: Option<u8>,
    packets: Option<u64>,
    bytes: Option<u64>,
    start: u64,
    end: u64,
    millis: bool,
    action: Option<&'static str>,
    status: &'static str,
}

fn addr() -> impl Strategy<Value = Option<IpAddr>> {
    prop_oneof![
        Just(None),
        any::<[u8; 4]>().prop_map(|o| Some(IpAddr::from(o))),
        any::<[u16; 8]>().prop_map(|s| Some(IpAddr::from(s))),
    ]
}

fn rec() -> impl Strategy<Value = Rec> {
    (
        (
            2u64..=11,
            "[0-9]{1,12}|unknown",
            proptest::option::of("eni-[0-9a-f]{8}|eni-[0-9a-f]{17}"),
            addr(),
            addr(),
        ),
        (
            proptest::option::of(any::<u16>()),
            proptest::option::of(any::<u16>()),
            proptest::option::of(any::<u8>()),
            proptest::option::of(0u64..=i64::MAX as u64),
            proptest::option::of(0u64..=i64::MAX as u64),
        ),
        (
            0u64..99_999_999_999,
            0u64..99_999_999_999,
            any::<bool>(),
            prop_oneof![Just(None), Just(Some("ACCEPT")), Just(Some("REJECT"))],
            prop_oneof![Just("OK"), Just("NODATA"), Just("SKIPDATA")],
        ),
    )
        .prop_map(
            |(
                (version, account, eni, src, dst),
                (sport, dport, proto, packets, bytes),
                (start, end, millis, action, status),
            )| Rec {
                version,
                account,
                eni,
                src,
                dst,
                sport,
                dport,
                proto,
                packets,
                bytes,
                start,
                end,
                // Only times of 1973 or later are written as milliseconds: smaller
                // millisecond values read as seconds, as documented.
                millis: millis && start >= 100_000_000 && end >= 100_000_000,
                action,
                status,
            },
        )
}

fn text<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map_or_else(|| "-".to_string(), T::to_string)
}

impl Rec {
    fn tokens(&self) -> Vec<(&'static str, String)> {
        let time = |t: u64| {
            if self.millis {
                (t * 1000).to_string()
            } else {
                t.to_string()
            }
        };
        vec![
            ("version", self.version.to_string()),
            ("account-id", self.account.clone()),
            ("interface-id", text(&self.eni)),
            ("srcaddr", text(&self.src)),
            ("dstaddr", text(&self.dst)),
            ("srcport", text(&self.sport)),
            ("dstport", text(&self.dport)),
            ("protocol", text(&self.proto)),
            ("packets", text(&self.packets)),
            ("bytes", text(&self.bytes)),
            ("start", time(self.start)),
            ("end", time(self.end)),
            ("action", self.action.unwrap_or("-").to_string()),
            ("log-status", self.status.to_string()),
        ]
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Written in any field order with any runs of spaces and line end, a valid
    /// record reads back with the values it was written with.
    #[test]
    fn valid_records_read_back(r in rec(), order in Just((0..14).collect::<Vec<usize>>()).prop_shuffle(), gaps in proptest::collection::vec(1usize..4, 15), crlf in any::<bool>()) {
        let toks = r.tokens();
        let header: Vec<&str> = order.iter().map(|&i| toks[i].0).collect();
        let schema = Schema::parse(&header.join(" ")).unwrap();
        let mut line = " ".repeat(gaps[14] - 1);
        for (k, &i) in order.iter().enumerate() {
            if k > 0 {
                line.push_str(&" ".repeat(gaps[k]));
            }
            line.push_str(&toks[i].1);
        }
        if crlf {
            line.push('\r');
        }
        let mut t = Tokens::default();
        t.split(line.as_bytes());
        prop_assert_eq!(t.len(), 14);
        let body = line.strip_suffix('\r').unwrap_or(&line);
        let rec = Record::new(body.as_bytes(), &t, &schema).unwrap();
        use flowscan::Field::*;
        prop_assert_eq!(rec.int(Version).unwrap(), Some(r.version));
        prop_assert_eq!(rec.text(AccountId), Some(r.account.as_bytes()));
        prop_assert_eq!(rec.text(InterfaceId), r.eni.as_deref().map(str::as_bytes));
        prop_assert_eq!(rec.addr(SrcAddr).unwrap(), r.src);
        prop_assert_eq!(rec.addr(DstAddr).unwrap(), r.dst);
        prop_assert_eq!(rec.int(SrcPort).unwrap(), r.sport.map(u64::from));
        prop_assert_eq!(rec.int(DstPort).unwrap(), r.dport.map(u64::from));
        prop_assert_eq!(rec.int(Protocol).unwrap(), r.proto.map(u64::from));
        prop_assert_eq!(rec.int(Packets).unwrap(), r.packets);
        prop_assert_eq!(rec.int(Bytes).unwrap(), r.bytes);
        prop_assert_eq!(rec.int(Start).unwrap(), Some(r.start));
        prop_assert_eq!(rec.int(End).unwrap(), Some(r.end));
        prop_assert_eq!(rec.text(Action), r.action.map(str::as_bytes));
        prop_assert_eq!(rec.text(LogStatus), Some(r.status.as_bytes()));
    }

    /// Any bytes, after a header or not, scan without a panic, and every line is
    /// accounted for; malformed lines are numbered within the file.
    #[test]
    fn any_bytes_are_accounted_for(header in any::<bool>(), body in proptest::collection::vec(prop_oneof![
        8 => proptest::sample::select(b" \n0123456789abcdef.:-ACEJOKRT\r".to_vec()),
        1 => any::<u8>(),
    ], 0..600)) {
        let mut bytes = Vec::new();
        if header {
            bytes.extend_from_slice(b"version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n");
        }
        bytes.extend_from_slice(&body);
        let scanner = Scanner::builder().threads(1).build().unwrap();
        let (mut agg, report) = scanner
            .aggregate_slice(Path::new("fuzz"), &bytes, || Rejects::new(RejectsConfig::default()))
            .unwrap();
        let c = report.totals;
        prop_assert_eq!(c.lines, c.records + c.headers + c.blank + c.malformed + c.skipped);
        for m in &report.malformed {
            prop_assert!(m.line >= 1 && m.line <= c.lines);
        }
        let r = agg.report(10);
        prop_assert!(r.records <= c.records);
    }
}

/// A record as text, with its line and byte offset.
type Seen = (String, Option<u64>, Option<u64>);

/// Every record an ordered scan hands over, with its position.
#[derive(Default)]
struct Collect(Vec<Seen>);

impl flowscan::Sink for Collect {
    fn needs(&self) -> flowscan::FieldSet {
        flowscan::FieldSet::EMPTY
    }

    fn record<R: FlowRecord>(
        &mut self,
        r: &R,
        pos: &flowscan::Position<'_>,
    ) -> Result<(), flowscan::SinkError> {
        let cols: Vec<String> = (0..r.schema().len())
            .map(|c| format!("{:?}", r.value(c)))
            .collect();
        self.0.push((cols.join(" "), pos.line, pos.byte));
        Ok(())
    }

    fn line_numbers(&self) -> bool {
        true
    }
}

struct Collector;

impl flowscan::OrderedSink for Collector {
    type Part = Collect;

    fn needs(&self) -> flowscan::FieldSet {
        flowscan::FieldSet::EMPTY
    }

    fn line_numbers(&self) -> bool {
        true
    }

    fn part(&self, _: &flowscan::FileInfo<'_>) -> Collect {
        Collect::default()
    }
}

/// The records of `path`, in order, read with `threads` threads and blocks of
/// `block` bytes (every file cut into blocks when `block` is given); with the
/// report's line accounting and malformed samples.
fn records(path: &Path, threads: usize, block: Option<usize>) -> (Vec<Seen>, String) {
    let mut b = Scanner::builder().threads(threads);
    if let Some(n) = block {
        b = b.split_min(1).block_size(n);
    }
    let found = flowscan::discover(&[flowscan::Input::Path(path.to_path_buf())]);
    let mut all = Vec::new();
    let report = b
        .build()
        .unwrap()
        .ordered(&found, &Collector, |p: Collect| {
            all.extend(p.0);
            Ok::<(), std::io::Error>(())
        })
        .unwrap();
    let summary = format!("{:?} {:?}", report.totals, report.malformed);
    (all, summary)
}

/// A line of a mixed file: records of two formats, headers that switch
/// between them, blank runs, and garbage.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (any::<u16>(), any::<u32>()).prop_map(|(p, b)| format!("2 123456789012 eni-{p:x} 10.0.{}.{} 1.2.3.4 {p} 22 6 1 {b} 1795514400 1795514460 REJECT OK\n", p % 256, p / 256)),
        2 => (any::<u16>()).prop_map(|p| format!("10.1.{}.{} ingress ACCEPT {p}\n", p % 256, p / 256)),
        1 => Just("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n".to_string()),
        1 => Just("srcaddr flow-direction action dstport\n".to_string()),
        1 => Just("\n\n   \n".to_string()),
        1 => Just("bogus line\n".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// However a file is cut into blocks (1 byte to more than the whole
    /// file), and on however many threads, an ordered scan hands over the
    /// same records, in the same order, with the same positions, and the
    /// report adds up the same.
    #[test]
    fn any_chunking_reads_the_same_records(
        lines in proptest::collection::vec(piece(), 1..300),
        block in prop_oneof![1usize..64, 64usize..4096, Just(4 << 20)],
        threads in 1usize..4,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mixed.log");
        std::fs::write(&path, format!("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n{}", lines.concat())).unwrap();
        let whole = records(&path, 1, None);
        let cut = records(&path, threads, Some(block));
        prop_assert_eq!(&cut.1, &whole.1);
        prop_assert_eq!(cut.0, whole.0);
    }
}
