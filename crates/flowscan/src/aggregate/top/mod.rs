//! Top groups by any fields: `flowscan top --by srcaddr/24,dstport --sum bytes`.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Serialize;

use super::budget::MemoryBudget;
use super::rejects::Approximation;
use crate::schema::{Field, Kind, Schema};

/// One part of a group key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyPart {
    /// A field's value.
    Field(Field),
    /// An address field rolled up to a network (`srcaddr/24`; IPv6 addresses to
    /// the second prefix, `/64` unless given as `srcaddr/24/48`).
    Net(Field, u8, u8),
    /// A time field in buckets of this many seconds (`start/5m`).
    Time(Field, u64),
}

impl KeyPart {
    /// Parses `dstport`, `srcaddr/24`, `src-cidr/24` (an alias of `srcaddr/24`),
    /// `dstaddr/16/48`, `start/5m`, `end/1h`.
    pub fn parse(text: &str) -> Result<KeyPart, String> {
        let mut parts = text.trim().split('/');
        let name = parts.next().unwrap_or_default();
        let name = match name {
            "src-cidr" => "srcaddr",
            "dst-cidr" => "dstaddr",
            n => n,
        };
        let field = Schema::known_name(name.as_bytes())
            .ok_or_else(|| format!("`{name}` is not a flow log field"))?;
        let rest: Vec<&str> = parts.collect();
        if rest.is_empty() {
            return Ok(KeyPart::Field(field));
        }
        match field.kind() {
            Kind::Addr => {
                let p4: u8 = rest[0]
                    .parse()
                    .ok()
                    .filter(|p| *p <= 32)
                    .ok_or_else(|| format!("`{text}`: an IPv4 prefix length is 0 to 32"))?;
                let p6: u8 =
                    match rest.get(1) {
                        Some(p) => p.parse().ok().filter(|p| *p <= 128).ok_or_else(|| {
                            format!("`{text}`: an IPv6 prefix length is 0 to 128")
                        })?,
                        None => 64,
                    };
                Ok(KeyPart::Net(field, p4, p6))
            }
            _ if matches!(field, Field::Start | Field::End) => {
                let d =
                    crate::parse::parse_duration(rest[0]).map_err(|e| format!("`{text}`: {e}"))?;
                Ok(KeyPart::Time(field, d))
            }
            _ => Err(format!(
                "`{text}`: only addresses take /prefix and only start or end take /duration"
            )),
        }
    }

    /// The field read.
    pub fn field(self) -> Field {
        match self {
            KeyPart::Field(f) | KeyPart::Net(f, _, _) | KeyPart::Time(f, _) => f,
        }
    }
}

impl fmt::Display for KeyPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyPart::Field(x) => write!(f, "{x}"),
            KeyPart::Net(x, p4, 64) => write!(f, "{x}/{p4}"),
            KeyPart::Net(x, p4, p6) => write!(f, "{x}/{p4}/{p6}"),
            KeyPart::Time(x, s) => write!(f, "{x}/{}", format_duration(*s)),
        }
    }
}

fn format_duration(s: u64) -> String {
    match s {
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// What is measured per group (records are always counted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measure {
    /// Records.
    Count,
    /// The sum of a counter field (`bytes`, `packets`).
    Sum(Field),
    /// Distinct values of a field.
    Distinct(Field),
}

/// What `top` groups by and measures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopConfig {
    /// The key parts, in order.
    pub by: Vec<KeyPart>,
    /// The measure rows are ranked by.
    pub measure: Measure,
    /// The budget for groups and distinct values, shared by every aggregate
    /// of the scan (`None`: no limit). Past it, distinct values are sampled
    /// and the groups with the smallest measure dropped, and the report says
    /// the result is approximate.
    pub memory: Option<MemoryBudget>,
}

mod agg;
mod table;

pub use agg::Top;

const MISSING: u8 = 0;
const PRESENT: u8 = 1;
const V4: u8 = 1;
const V6: u8 = 2;

fn mask(a: IpAddr, p4: u8, p6: u8) -> IpAddr {
    match a {
        IpAddr::V4(v) => {
            let m = if p4 == 0 { 0 } else { u32::MAX << (32 - p4) };
            IpAddr::V4(Ipv4Addr::from(u32::from(v) & m))
        }
        IpAddr::V6(v) => {
            let m = if p6 == 0 { 0 } else { u128::MAX << (128 - p6) };
            IpAddr::V6(Ipv6Addr::from(u128::from(v) & m))
        }
    }
}

fn push_int(out: &mut Vec<u8>, v: Option<u64>) {
    match v {
        None => out.push(MISSING),
        Some(v) => {
            out.push(PRESENT);
            out.extend_from_slice(&v.to_be_bytes());
        }
    }
}

fn push_addr(out: &mut Vec<u8>, a: Option<IpAddr>) {
    match a {
        None => out.push(MISSING),
        Some(IpAddr::V4(v)) => {
            out.push(V4);
            out.extend_from_slice(&v.octets());
        }
        Some(IpAddr::V6(v)) => {
            out.push(V6);
            out.extend_from_slice(&v.octets());
        }
    }
}

/// Turns an encoded key back into printable values, one per key part.
fn decode(by: &[KeyPart], mut key: &[u8]) -> Vec<KeyValue> {
    let mut out = Vec::with_capacity(by.len());
    for part in by {
        let tag = key[0];
        key = &key[1..];
        if tag == MISSING {
            out.push(KeyValue::Missing);
            continue;
        }
        let kind = match part {
            KeyPart::Field(f) => f.kind(),
            KeyPart::Net(..) => Kind::Addr,
            KeyPart::Time(..) => Kind::Int64,
        };
        match kind {
            Kind::Int32 | Kind::Int64 => {
                let v = u64::from_be_bytes(key[..8].try_into().expect("8 bytes"));
                key = &key[8..];
                out.push(match part {
                    KeyPart::Time(..) => KeyValue::Time(v),
                    _ => KeyValue::Int(v),
                });
            }
            Kind::Addr => {
                let len = if tag == V4 { 4 } else { 16 };
                let a = if tag == V4 {
                    IpAddr::from(<[u8; 4]>::try_from(&key[..4]).expect("4 bytes"))
                } else {
                    IpAddr::from(<[u8; 16]>::try_from(&key[..16]).expect("16 bytes"))
                };
                key = &key[len..];
                out.push(match part {
                    KeyPart::Net(_, p4, p6) => KeyValue::Net(a, if tag == V4 { *p4 } else { *p6 }),
                    _ => KeyValue::Addr(a),
                });
            }
            Kind::Text => {
                let end = key.iter().position(|&b| b == 0).unwrap_or(key.len());
                out.push(KeyValue::Text(
                    String::from_utf8_lossy(&key[..end]).into_owned(),
                ));
                key = &key[(end + 1).min(key.len())..];
            }
        }
    }
    out
}

/// A key value, printable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyValue {
    /// `-` in the record.
    Missing,
    /// A number.
    Int(u64),
    /// A bucket of a time field (Unix seconds of its start).
    Time(u64),
    /// An address.
    Addr(IpAddr),
    /// A network.
    Net(IpAddr, u8),
    /// Text.
    Text(String),
}

impl fmt::Display for KeyValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyValue::Missing => f.write_str("-"),
            KeyValue::Int(v) => write!(f, "{v}"),
            KeyValue::Time(t) => f.write_str(&crate::display::format_time(*t)),
            KeyValue::Addr(a) => write!(f, "{a}"),
            KeyValue::Net(a, p) => write!(f, "{a}/{p}"),
            KeyValue::Text(t) => f.write_str(t),
        }
    }
}

impl Serialize for KeyValue {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            KeyValue::Missing => s.serialize_none(),
            KeyValue::Int(v) => s.serialize_u64(*v),
            other => s.serialize_str(&other.to_string()),
        }
    }
}

/// One group of [`TopReport`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TopRow {
    /// The key values, one per `--by` part.
    pub key: Vec<KeyValue>,
    /// Records in the group.
    pub records: u64,
    /// The sum, when the measure is a sum.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sum: Option<u64>,
    /// Distinct values, when the measure is a distinct count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distinct: Option<u64>,
}

/// The result of [`Top::report`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TopReport {
    /// The key parts, as written (`srcaddr/24`).
    pub by: Vec<String>,
    /// The ranking measure (`records`, `sum(bytes)`, `distinct(srcaddr)`).
    pub measure: String,
    /// Groups found in all (groups dropped to stay within the memory budget
    /// are not counted).
    pub groups: u64,
    /// The top groups.
    pub rows: Vec<TopRow>,
    /// Set when the memory budget made the result approximate.
    pub approximate: Option<Approximation>,
    /// Whether a row's sum reached 2^64 − 1: sums stop there
    /// ([`SATURATED`](crate::render::SATURATED)).
    pub saturated: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::{Aggregate, MemoryBudget, Sink};
    use crate::parse::Tokens;
    use crate::record::Record;

    fn run(by: &str, measure: Measure, lines: &[&str]) -> TopReport {
        let by = by.split(',').map(|p| KeyPart::parse(p).unwrap()).collect();
        let mut top = Top::new(TopConfig {
            by,
            measure,
            memory: None,
        });
        let schema = Schema::default_v2();
        let mut t = Tokens::default();
        for l in lines {
            t.split(l.as_bytes());
            top.record(
                &Record::new(l.as_bytes(), &t, &schema).unwrap(),
                &crate::sink::Position::new("t".as_ref(), 0, Some(1), None),
            )
            .unwrap();
        }
        top.report(10)
    }

    const LINES: &[&str] = &[
        "2 1 eni-a 203.0.113.12 10.0.0.1 40000 22 6 2 100 1795514410 1795514460 REJECT OK",
        "2 1 eni-a 203.0.113.99 10.0.0.2 40001 22 6 3 200 1795514700 1795514760 REJECT OK",
        "2 1 eni-b 198.51.100.7 10.0.0.1 40002 3389 6 1 60 1795514410 1795514460 ACCEPT OK",
        "2 1 - - - - - - - - 1795514410 1795514460 - NODATA",
    ];

    #[test]
    fn groups_by_fields_networks_and_time() {
        let r = run("srcaddr/24,dstport", Measure::Count, LINES);
        assert_eq!(
            r.rows[0].key,
            vec![
                KeyValue::Net("203.0.113.0".parse().unwrap(), 24),
                KeyValue::Int(22)
            ]
        );
        assert_eq!(r.rows[0].records, 2);
        assert_eq!(r.groups, 3);
        let r = run("interface-id", Measure::Sum(Field::Bytes), LINES);
        assert_eq!(r.rows[0].key, vec![KeyValue::Text("eni-a".into())]);
        assert_eq!(r.rows[0].sum, Some(300));
        assert_eq!(r.rows[2].key, vec![KeyValue::Missing]);
        let r = run("start/5m", Measure::Distinct(Field::SrcAddr), LINES);
        assert_eq!(r.rows[0].key, vec![KeyValue::Time(1_795_514_400)]);
        assert_eq!(r.rows[0].distinct, Some(2));
        assert_eq!(r.rows[0].key[0].to_string(), "2026-11-24T10:00:00Z");
        let r = run("action", Measure::Distinct(Field::InterfaceId), LINES);
        assert_eq!(r.rows[0].distinct, Some(1));
    }

    /// Records wait in a queue before they are added to their groups: the
    /// groups are still made in the order of the records, a bad line among
    /// queued ones changes nothing, and every record is in the groups once
    /// the run ends.
    #[test]
    fn queued_records_are_added_in_order_and_a_bad_line_changes_nothing() {
        let mut top = Top::new(TopConfig {
            by: vec![KeyPart::parse("dstport").unwrap()],
            measure: Measure::Count,
            memory: None,
        });
        let schema = Schema::default_v2();
        let mut t = Tokens::default();
        let ports = [22, 80, 443, 22, 8080, 53, 80, 3389];
        for (n, port) in ports.iter().enumerate() {
            let line = format!("2 1 eni-a 10.0.0.1 10.0.0.2 1 {port} 6 1 1 1 2 REJECT OK");
            t.split(line.as_bytes());
            let pos = crate::sink::Position::new("t".as_ref(), 0, Some(1), None);
            top.record(&Record::new(line.as_bytes(), &t, &schema).unwrap(), &pos)
                .unwrap();
            if n == 4 {
                let bad = "2 1 eni-a 10.0.0.1 10.0.0.2 1 70000 6 1 1 1 2 REJECT OK";
                t.split(bad.as_bytes());
                let rec = Record::new(bad.as_bytes(), &t, &schema).unwrap();
                assert!(top.record(&rec, &pos).is_err());
            }
        }
        top.end_file(&crate::sink::FileInfo {
            index: 0,
            path: "t".as_ref(),
        });
        assert!(top.pending.is_empty());
        let made: Vec<&[u8]> = (0..top.groups.len()).map(|i| top.groups.key(i)).collect();
        let mut want: Vec<Vec<u8>> = Vec::new();
        for p in ports {
            let mut k = Vec::new();
            push_int(&mut k, Some(p));
            if !want.contains(&k) {
                want.push(k);
            }
        }
        assert_eq!(made, want);
        let r = top.report(10);
        assert_eq!(r.rows.iter().map(|r| r.records).sum::<u64>(), 8);
        assert_eq!(r.rows[0].records, 2);
    }

    /// Text keys must be UTF-8 without control characters, printable ASCII
    /// (checked on whole words) or not.
    #[test]
    fn text_keys_refuse_bad_utf8_and_control_characters() {
        let mut top = Top::new(TopConfig {
            by: vec![KeyPart::parse("interface-id").unwrap()],
            measure: Measure::Count,
            memory: None,
        });
        let schema = Schema::default_v2();
        let mut t = Tokens::default();
        let pos = crate::sink::Position::new("t".as_ref(), 0, Some(1), None);
        let ids: [(&[u8], bool); 7] = [
            (b"eni-0a1b2c3d4e5f67890", true),
            (b"~!\"#$%&'()*+,-./0123456789:;<=>?@[]^_`{|}", true),
            ("eni-\u{e9}t\u{e9}".as_bytes(), true),
            (b"eni-\x7f", false),
            (b"eni-\x01a", false),
            (b"eni-\xff", false),
            (b"eni-\xc3", false),
        ];
        for (id, ok) in ids {
            let mut line = b"2 1 ".to_vec();
            line.extend_from_slice(id);
            line.extend_from_slice(b" 10.0.0.1 10.0.0.2 1 22 6 1 1 1 2 REJECT OK");
            t.split(&line);
            let rec = Record::new(&line, &t, &schema).unwrap();
            assert_eq!(top.record(&rec, &pos).is_ok(), ok, "{id:?}");
        }
        assert_eq!(top.report(10).groups, 3);
        // A key of 100 kB is counted, and its buffer is not kept for the
        // next keys (spare buffers are outside the memory budget).
        let mut line = b"2 1 eni-".to_vec();
        line.resize(100_008, b'a');
        line.extend_from_slice(b" 10.0.0.1 10.0.0.2 1 22 6 1 1 1 2 REJECT OK");
        t.split(&line);
        top.record(&Record::new(&line, &t, &schema).unwrap(), &pos)
            .unwrap();
        assert_eq!(top.report(10).groups, 4);
        assert!(top.spare.iter().all(|k| k.capacity() <= 1024));
    }

    #[test]
    fn merge_equals_one_pass() {
        let by: Vec<KeyPart> = vec![KeyPart::parse("dstaddr").unwrap()];
        let cfg = TopConfig {
            by,
            measure: Measure::Distinct(Field::SrcAddr),
            memory: None,
        };
        let schema = Schema::default_v2();
        let mut t = Tokens::default();
        let mut whole = Top::new(cfg.clone());
        let (mut a, mut b) = (Top::new(cfg.clone()), Top::new(cfg));
        for (i, l) in LINES.iter().enumerate() {
            t.split(l.as_bytes());
            let rec = Record::new(l.as_bytes(), &t, &schema).unwrap();
            whole
                .record(
                    &rec,
                    &crate::sink::Position::new("t".as_ref(), 0, Some(1), None),
                )
                .unwrap();
            if i % 2 == 0 {
                a.record(
                    &rec,
                    &crate::sink::Position::new("t".as_ref(), 0, Some(1), None),
                )
                .unwrap()
            } else {
                b.record(
                    &rec,
                    &crate::sink::Position::new("t".as_ref(), 0, Some(1), None),
                )
                .unwrap()
            }
        }
        a.merge(b);
        assert_eq!(a.report(10), whole.report(10));
    }

    #[test]
    fn key_parts() {
        assert_eq!(
            KeyPart::parse("src-cidr/24").unwrap(),
            KeyPart::Net(Field::SrcAddr, 24, 64)
        );
        assert_eq!(
            KeyPart::parse("dstaddr/16/48").unwrap(),
            KeyPart::Net(Field::DstAddr, 16, 48)
        );
        assert_eq!(
            KeyPart::parse("start/5m").unwrap(),
            KeyPart::Time(Field::Start, 300)
        );
        assert_eq!(KeyPart::parse("start/5m").unwrap().to_string(), "start/5m");
        assert!(KeyPart::parse("dstport/5m").is_err());
        assert!(KeyPart::parse("srcaddr/33").is_err());
        assert!(KeyPart::parse("nope").is_err());
    }

    /// Two aggregates sharing a small budget, merged (groups are dropped while
    /// merging, too): the heavy groups survive with counts within the bound.
    #[test]
    fn past_the_budget_small_groups_go_and_the_bound_holds() {
        let budget = MemoryBudget::new(96 << 10);
        let cfg = TopConfig {
            by: vec![KeyPart::parse("srcaddr").unwrap()],
            measure: Measure::Distinct(Field::DstPort),
            memory: Some(budget.clone()),
        };
        let (mut a, mut b) = (Top::new(cfg.clone()), Top::new(cfg));
        let schema = Schema::default_v2();
        let mut t = Tokens::default();
        let pos = crate::sink::Position::new("t".as_ref(), 0, Some(1), None);
        for i in 0..60_000u32 {
            // Five heavy sources, each on 600 ports; the rest seen once.
            let (src, port) = if i % 4 == 0 {
                (format!("10.0.0.{}", i / 4 % 5 + 1), i / 20 % 600)
            } else {
                (
                    format!("172.{}.{}.{}", 16 + i / 65536, i / 256 % 256, i % 256),
                    1,
                )
            };
            let l = format!("2 1 eni-a {src} 10.9.9.9 1 {port} 6 1 1 5 6 REJECT OK");
            t.split(l.as_bytes());
            let side = if i % 3 == 0 { &mut a } else { &mut b };
            side.record(&Record::new(l.as_bytes(), &t, &schema).unwrap(), &pos)
                .unwrap();
        }
        a.merge(b);
        let r = a.report(5);
        let ap = r.approximate.expect("over budget");
        assert!(ap.records_low_by_at_most > 0 || ap.distinct_sampled_one_in > 1);
        assert_eq!(ap.budget, 96 << 10);
        for row in &r.rows {
            let KeyValue::Addr(addr) = row.key[0] else {
                panic!("{row:?}")
            };
            assert!(addr.to_string().starts_with("10.0.0."), "{row:?}");
            assert!(row.records <= 3000 && 3000 - row.records <= ap.records_low_by_at_most);
            let d = row.distinct.unwrap() as f64;
            assert!((d - 600.0).abs() < 150.0, "{row:?}");
        }
        assert!(budget.used() <= 2 * (96 << 10), "{}", budget.used());
    }
}
