//! Deterministic generator of realistic VPC Flow Log data.
//!
//! Same [`Spec`] (seed included), same bytes, on every machine: tests and benchmarks
//! make large inputs on the fly instead of checking them in. The data looks like a
//! busy VPC: a few interfaces take most of the traffic (Zipf-distributed), internet
//! scanners from a pool of networks are rejected on the usual ports, some records
//! are IPv6, NODATA and SKIPDATA rows appear, and records are bucketed into files
//! by their end time as AWS delivers them to S3.
//!
//! This crate deliberately shares no code with flowscan, so that it can serve as an
//! independent source of truth in tests.

use std::fmt::Write as _;
use std::fs;
use std::io::{self, BufWriter, Write};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

mod vpc;

/// The default format's fields (version 2).
pub const DEFAULT_FIELDS: &[&str] = &[
    "version",
    "account-id",
    "interface-id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "action",
    "log-status",
];

/// All version 2 to 5 fields, in AWS's table order.
pub const V5_FIELDS: &[&str] = &[
    "version",
    "account-id",
    "interface-id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "action",
    "log-status",
    "vpc-id",
    "subnet-id",
    "instance-id",
    "tcp-flags",
    "type",
    "pkt-srcaddr",
    "pkt-dstaddr",
    "region",
    "az-id",
    "sublocation-type",
    "sublocation-id",
    "pkt-src-aws-service",
    "pkt-dst-aws-service",
    "flow-direction",
    "traffic-path",
];

/// What to generate.
#[derive(Clone, Debug)]
pub struct Spec {
    /// Number of records (NODATA and SKIPDATA rows included).
    pub records: u64,
    /// Seed of the random sequence.
    pub seed: u64,
    /// Field names, in file order (any subset of [`V5_FIELDS`], any order).
    pub fields: Vec<String>,
    /// Unix seconds where the data starts (a multiple of 300 is best).
    pub start: u64,
    /// Seconds the data covers.
    pub span: u64,
    /// Share of records that are REJECT.
    pub reject_ratio: f64,
    /// Share of records with IPv6 addresses.
    pub ipv6_ratio: f64,
    /// Share of NODATA rows.
    pub nodata_ratio: f64,
    /// Share of SKIPDATA rows.
    pub skipdata_ratio: f64,
    /// Number of interfaces.
    pub interfaces: usize,
    /// Number of distinct scanner addresses.
    pub scanners: usize,
    /// Account id written in records and tree paths.
    pub account: String,
    /// Region written in records and tree paths.
    pub region: String,
}

impl Default for Spec {
    fn default() -> Self {
        Spec {
            records: 10_000,
            seed: 42,
            fields: DEFAULT_FIELDS.iter().map(|s| s.to_string()).collect(),
            start: 1_795_514_400, // 2026-11-24T10:00:00Z
            span: 3600,
            reject_ratio: 0.2,
            ipv6_ratio: 0.05,
            nodata_ratio: 0.005,
            skipdata_ratio: 0.001,
            interfaces: 2000,
            scanners: 50_000,
            account: "123456789012".into(),
            region: "us-east-1".into(),
        }
    }
}

/// Samples indices `0..n` with probability proportional to `1 / (i + 1)^s`.
struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    fn new(n: usize, s: f64) -> Zipf {
        let mut acc = 0.0;
        let mut cdf = Vec::with_capacity(n);
        for i in 0..n {
            acc += 1.0 / ((i + 1) as f64).powf(s);
            cdf.push(acc);
        }
        for c in &mut cdf {
            *c /= acc;
        }
        Zipf { cdf }
    }

    fn sample(&self, rng: &mut fastrand::Rng) -> usize {
        let u = rng.f64();
        self.cdf.partition_point(|&c| c < u).min(self.cdf.len() - 1)
    }
}

struct Interface {
    id: String,
    v4: Ipv4Addr,
    v6: Ipv6Addr,
    vpc: String,
    subnet: String,
    instance: String,
    az: String,
}

/// Ports scanners try, most tried first.
const SCANNED: &[u16] = &[
    22, 3389, 23, 445, 80, 443, 8080, 1433, 3306, 5900, 6379, 5432, 21, 25, 135, 139, 8443, 9200,
    27017, 11211, 2375, 5060, 161, 53, 123, 1900, 8888, 7547, 9000, 10000,
];
/// Services that accepted traffic goes to.
const SERVICES: &[u16] = &[443, 80, 5432, 3306, 6379, 22, 8080, 53, 9092, 2049];

/// One generated flow, every field known; the format picks which are written.
struct Flow<'a> {
    iface: &'a Interface,
    src: String,
    dst: String,
    sport: u16,
    dport: u16,
    proto: u8,
    packets: u64,
    bytes: u64,
    start: u64,
    end: u64,
    action: &'static str,
    status: &'static str,
    tcp_flags: u8,
    ipv6: bool,
    ingress: bool,
}

/// Produces records for a [`Spec`].
pub struct Generator {
    spec: Spec,
    rng: fastrand::Rng,
    ifaces: Vec<Interface>,
    hot_reject: Zipf,
    hot_accept: Zipf,
    scanner_pick: Zipf,
    port_pick: Zipf,
    scanners: Vec<(Ipv4Addr, Ipv6Addr)>,
}

impl Generator {
    /// A generator; everything it produces follows from `spec`.
    pub fn new(spec: Spec) -> Generator {
        let mut rng = fastrand::Rng::with_seed(spec.seed);
        let n = spec.interfaces.max(1);
        let ifaces = (0..n)
            .map(|i| {
                let vpc = i % 4;
                let subnet = i % 16;
                Interface {
                    id: format!("eni-{:017x}", rng.u64(..)),
                    v4: Ipv4Addr::new(10, vpc as u8, (i / 250) as u8, (i % 250 + 4) as u8),
                    v6: Ipv6Addr::new(
                        0x2600,
                        0x1f18,
                        vpc as u16,
                        subnet as u16,
                        0,
                        0,
                        0,
                        i as u16 + 1,
                    ),
                    vpc: format!("vpc-{:017x}", 0xabc000 + vpc),
                    subnet: format!("subnet-{:017x}", 0xdef000 + subnet),
                    instance: if i % 7 == 0 {
                        "-".into()
                    } else {
                        format!("i-{:017x}", 0x5000 + i)
                    },
                    az: format!("use1-az{}", subnet % 3 + 1),
                }
            })
            .collect();
        let scanners = (0..spec.scanners.max(1))
            .map(|_| {
                // Scanners cluster in a few thousand networks, as they do (more
                // networks only when asked for millions of scanners).
                let nets = (spec.scanners as u32 / 25).max(2000);
                let net = rng.u32(0..nets);
                let a = [185u8, 45, 89, 193, 194, 212, 61, 222][(net % 8) as usize];
                let v4 = Ipv4Addr::new(
                    a.wrapping_add((net >> 11) as u8),
                    (net / 8) as u8,
                    rng.u8(..),
                    rng.u8(1..255),
                );
                let v6 = Ipv6Addr::new(
                    0x2a02,
                    0x4780,
                    (net % 64) as u16,
                    0,
                    rng.u16(..),
                    0,
                    0,
                    rng.u16(1..),
                );
                (v4, v6)
            })
            .collect::<Vec<_>>();
        Generator {
            hot_reject: Zipf::new(n, 1.1),
            hot_accept: Zipf::new(n, 0.7),
            scanner_pick: Zipf::new(scanners.len(), 0.9),
            port_pick: Zipf::new(SCANNED.len(), 1.0),
            spec,
            rng,
            ifaces,
            scanners,
        }
    }

    /// The header line (without its newline).
    pub fn header(&self) -> String {
        self.spec.fields.join(" ")
    }

    /// Appends one record whose `end` lies in `[window, window + width)`, with its
    /// newline.
    fn record(&mut self, window: u64, width: u64, out: &mut String) {
        let r = self.rng.f64();
        let status = if r < self.spec.nodata_ratio {
            "NODATA"
        } else if r < self.spec.nodata_ratio + self.spec.skipdata_ratio {
            "SKIPDATA"
        } else {
            "OK"
        };
        let end = window + self.rng.u64(0..width.max(1));
        let start = end.saturating_sub(self.rng.u64(0..60));
        let reject = status == "OK" && self.rng.f64() < self.spec.reject_ratio;
        let ipv6 = self.rng.f64() < self.spec.ipv6_ratio;
        let i = if reject {
            self.hot_reject.sample(&mut self.rng)
        } else {
            self.hot_accept.sample(&mut self.rng)
        };
        let iface = &self.ifaces[i];
        let flow = if reject {
            let (s4, s6) = self.scanners[self.scanner_pick.sample(&mut self.rng)];
            let dport = if self.rng.u8(..) < 20 {
                self.rng.u16(1..)
            } else {
                SCANNED[self.port_pick.sample(&mut self.rng)]
            };
            let proto = match dport {
                53 | 123 | 161 | 1900 | 5060 | 11211 => 17,
                _ if self.rng.u8(..) < 8 => 1,
                _ => 6,
            };
            let packets = self.rng.u64(1..4);
            Flow {
                iface,
                src: if ipv6 { s6.to_string() } else { s4.to_string() },
                dst: if ipv6 {
                    iface.v6.to_string()
                } else {
                    iface.v4.to_string()
                },
                sport: self.rng.u16(1024..),
                dport: if proto == 1 { 0 } else { dport },
                proto,
                packets,
                bytes: packets * self.rng.u64(40..80),
                start,
                end,
                action: "REJECT",
                status,
                tcp_flags: if proto == 6 { 2 } else { 0 },
                ipv6,
                ingress: true,
            }
        } else {
            let peer = self.rng.usize(0..self.ifaces.len());
            let peer = &self.ifaces[peer];
            let dport = SERVICES[self.rng.usize(0..SERVICES.len())];
            let packets = self.rng.u64(1..2000);
            // An occasional elephant flow: bytes beyond 32 bits.
            let per = if self.rng.u32(0..100_000) == 0 {
                5_000_000
            } else {
                self.rng.u64(60..1500)
            };
            let ingress = self.rng.bool();
            let (src, dst) = if ipv6 {
                (peer.v6.to_string(), iface.v6.to_string())
            } else {
                (peer.v4.to_string(), iface.v4.to_string())
            };
            let (src, dst) = if ingress { (src, dst) } else { (dst, src) };
            Flow {
                iface,
                src,
                dst,
                sport: self.rng.u16(32768..61000),
                dport,
                proto: if dport == 53 { 17 } else { 6 },
                packets,
                bytes: packets * per,
                start,
                end,
                action: "ACCEPT",
                status,
                tcp_flags: [0, 2, 3, 18, 19][self.rng.usize(0..5)],
                ipv6,
                ingress,
            }
        };
        let nodata = status != "OK";
        for (k, name) in self.spec.fields.iter().enumerate() {
            if k > 0 {
                out.push(' ');
            }
            write_field(out, name, &flow, nodata, &self.spec);
        }
        out.push('\n');
    }

    /// Writes the header and `spec.records` records, spread evenly over the span.
    pub fn write_text(&mut self, out: &mut dyn Write) -> io::Result<()> {
        let mut buf = String::with_capacity(1 << 16);
        buf.push_str(&self.header());
        buf.push('\n');
        let windows = (self.spec.span / 300).max(1);
        for (w, n) in spread(self.spec.records, windows).enumerate() {
            let at = self.spec.start + w as u64 * 300;
            for _ in 0..n {
                self.record(at, 300.min(self.spec.span), &mut buf);
                if buf.len() > (1 << 16) - 1024 {
                    out.write_all(buf.as_bytes())?;
                    buf.clear();
                }
            }
        }
        out.write_all(buf.as_bytes())
    }

    /// Writes an S3-style tree under `root`:
    /// `AWSLogs/<account>/vpcflowlogs/<region>/YYYY/MM/DD/<account>_vpcflowlogs_<region>_fl-…_<YYYYMMDDTHHmmZ>_<hash>.log.gz`,
    /// `files` gzip files (at `level`, 0 to 9) holding records bucketed by end time
    /// into 5-minute windows. Returns the files written.
    pub fn write_tree(
        &mut self,
        root: &Path,
        files: usize,
        level: u32,
    ) -> io::Result<Vec<PathBuf>> {
        let files = files.max(1) as u64;
        let windows = (self.spec.span / 300).clamp(1, files);
        let width = self.spec.span / windows;
        let mut written = Vec::new();
        let per_window: Vec<u64> = spread(self.spec.records, windows).collect();
        for (w, nfiles) in spread(files, windows).enumerate() {
            let at = self.spec.start + w as u64 * width;
            let (y, mo, d, h, mi) = civil(at);
            let dir = root.join(format!(
                "AWSLogs/{}/vpcflowlogs/{}/{y:04}/{mo:02}/{d:02}",
                self.spec.account, self.spec.region
            ));
            fs::create_dir_all(&dir)?;
            for (f, n) in spread(per_window[w], nfiles).enumerate() {
                let name = format!(
                    "{acct}_vpcflowlogs_{region}_fl-0123456789abcdef0_{y:04}{mo:02}{d:02}T{h:02}{mi:02}Z_{hash:08x}.log.gz",
                    acct = self.spec.account,
                    region = self.spec.region,
                    hash = (w as u64 * 7919 + f as u64).wrapping_mul(2_654_435_761) & 0xffff_ffff
                );
                let path = dir.join(name);
                let file = BufWriter::new(fs::File::create(&path)?);
                let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::new(level));
                let mut buf = String::with_capacity(1 << 16);
                buf.push_str(&self.header());
                buf.push('\n');
                for _ in 0..n {
                    self.record(at, width, &mut buf);
                    if buf.len() > (1 << 16) - 1024 {
                        gz.write_all(buf.as_bytes())?;
                        buf.clear();
                    }
                }
                gz.write_all(buf.as_bytes())?;
                gz.finish()?.flush()?;
                written.push(path);
            }
        }
        Ok(written)
    }
}

/// Splits `total` into `parts` near-equal counts (the first ones one larger).
fn spread(total: u64, parts: u64) -> impl Iterator<Item = u64> {
    let parts = parts.max(1);
    (0..parts).map(move |i| total / parts + u64::from(i < total % parts))
}

/// Year, month, day, hour, minute of Unix seconds (UTC), by the civil-from-days
/// algorithm.
fn civil(t: u64) -> (i64, u32, u32, u32, u32) {
    let days = (t / 86_400) as i64;
    let secs = t % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, (secs / 3600) as u32, (secs % 3600 / 60) as u32)
}

fn write_field(out: &mut String, name: &str, f: &Flow<'_>, nodata: bool, spec: &Spec) {
    let dash = |out: &mut String| out.push('-');
    // NODATA and SKIPDATA rows carry ids and times, and `-` for traffic fields.
    let traffic = matches!(
        name,
        "srcaddr"
            | "dstaddr"
            | "srcport"
            | "dstport"
            | "protocol"
            | "packets"
            | "bytes"
            | "action"
            | "tcp-flags"
            | "type"
            | "pkt-srcaddr"
            | "pkt-dstaddr"
            | "pkt-src-aws-service"
            | "pkt-dst-aws-service"
            | "flow-direction"
            | "traffic-path"
    );
    if nodata && traffic {
        return dash(out);
    }
    let _ = match name {
        "version" => write!(out, "{}", if spec.fields.len() > 14 { 5 } else { 2 }),
        "account-id" => write!(out, "{}", spec.account),
        "interface-id" => write!(out, "{}", f.iface.id),
        "srcaddr" | "pkt-srcaddr" => write!(out, "{}", f.src),
        "dstaddr" | "pkt-dstaddr" => write!(out, "{}", f.dst),
        "srcport" => write!(out, "{}", f.sport),
        "dstport" => write!(out, "{}", f.dport),
        "protocol" => write!(out, "{}", f.proto),
        "packets" => write!(out, "{}", f.packets),
        "bytes" => write!(out, "{}", f.bytes),
        "start" => write!(out, "{}", f.start),
        "end" => write!(out, "{}", f.end),
        "action" => write!(out, "{}", f.action),
        "log-status" => write!(out, "{}", f.status),
        "vpc-id" => write!(out, "{}", f.iface.vpc),
        "subnet-id" => write!(out, "{}", f.iface.subnet),
        "instance-id" => write!(out, "{}", f.iface.instance),
        "tcp-flags" => write!(out, "{}", f.tcp_flags),
        "type" => write!(out, "{}", if f.ipv6 { "IPv6" } else { "IPv4" }),
        "region" => write!(out, "{}", spec.region),
        "az-id" => write!(out, "{}", f.iface.az),
        "sublocation-type" | "sublocation-id" | "pkt-src-aws-service" | "pkt-dst-aws-service" => {
            write!(out, "-")
        }
        "flow-direction" => write!(out, "{}", if f.ingress { "ingress" } else { "egress" }),
        "traffic-path" => {
            if f.ingress {
                write!(out, "-")
            } else {
                write!(out, "1")
            }
        }
        _ => write!(out, "-"),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(spec: Spec) -> String {
        let mut out = Vec::new();
        Generator::new(spec).write_text(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn same_seed_same_bytes() {
        let a = text(Spec {
            records: 500,
            ..Spec::default()
        });
        let b = text(Spec {
            records: 500,
            ..Spec::default()
        });
        let c = text(Spec {
            records: 500,
            seed: 7,
            ..Spec::default()
        });
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn records_have_the_header_field_count() {
        for fields in [DEFAULT_FIELDS, V5_FIELDS] {
            let spec = Spec {
                records: 2000,
                fields: fields.iter().map(|s| s.to_string()).collect(),
                ..Spec::default()
            };
            let t = text(spec);
            let mut lines = t.lines();
            assert_eq!(lines.next().unwrap().split(' ').count(), fields.len());
            let mut n = 0;
            for l in lines {
                assert_eq!(l.split(' ').count(), fields.len(), "{l}");
                n += 1;
            }
            assert_eq!(n, 2000);
        }
    }

    #[test]
    fn mix_of_actions_and_statuses() {
        let t = text(Spec {
            records: 20_000,
            ..Spec::default()
        });
        let rejects = t.lines().filter(|l| l.ends_with("REJECT OK")).count();
        let nodata = t.lines().filter(|l| l.ends_with("NODATA")).count();
        assert!((3000..5000).contains(&rejects), "{rejects}");
        assert!((50..200).contains(&nodata), "{nodata}");
        assert!(t.contains(':'), "some IPv6");
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1, 0, 0));
        assert_eq!(civil(1_795_514_400), (2026, 11, 24, 10, 0));
        assert_eq!(civil(951_782_400), (2000, 2, 29, 0, 0));
    }

    #[test]
    fn tree_is_laid_out_as_aws_does() {
        let dir = std::env::temp_dir().join(format!("flowgen-test-{}", std::process::id()));
        let files = Generator::new(Spec {
            records: 1000,
            ..Spec::default()
        })
        .write_tree(&dir, 24, 1)
        .unwrap();
        assert_eq!(files.len(), 24);
        let name = files[0]
            .strip_prefix(&dir)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(
            name.starts_with("AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/24/123456789012_vpcflowlogs_us-east-1_fl-0123456789abcdef0_20261124T1000Z_"),
            "{name}"
        );
        fs::remove_dir_all(dir).unwrap();
    }
}
