//! Likely causes of REJECTs, reasoned the way an operator would:
//!
//! - **NACL on the return path**: a flow accepted one way while its reverse
//!   (same address pair, ports swapped, usually to an ephemeral port) is
//!   rejected. Security groups are stateful and would have let the response
//!   through; a network ACL is not.
//! - **Egress blocked**: REJECTs of traffic leaving an interface (its own
//!   address as the source, or `flow-direction` egress) that are not responses:
//!   the instance cannot reach a dependency.
//! - **Inbound scanning**: public sources probing many ports and being
//!   rejected: expected, low priority.
//! - **reject-reason** (version 8), counted where present.

use std::hash::{BuildHasher, Hash};
use std::net::IpAddr;

use foldhash::fast::{FixedState, RandomState};
use hashbrown::{HashMap, HashSet};
use serde::Serialize;

use super::{Aggregate, Sink};
use crate::parse::ValueError;
use crate::record::{FlowRecord, Value};
use crate::schema::{Field, FieldSet};
use crate::sink::Position;

/// Ports from here up are ephemeral (client) ports, as AWS's NACL guidance
/// has it.
pub const EPHEMERAL: u16 = 1024;

/// One finding of [`Diagnose::report`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// `nacl-return-path`, `egress-blocked`, `inbound-scanning` or `reject-reason`.
    pub kind: &'static str,
    /// `high`, `medium` or `low`.
    pub confidence: &'static str,
    /// What it means, in a sentence.
    pub summary: String,
    /// The interface, when the finding is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interface_id: Option<String>,
    /// REJECT records the finding rests on.
    pub records: u64,
    /// A few of those records, as text.
    pub evidence: Vec<String>,
}

/// Hash of a 5-tuple (addresses as 128-bit numbers); fixed seed, so that every
/// thread computes the same value.
fn flow_hash(h: &FixedState, src: u128, dst: u128, sport: u16, dport: u16, proto: u8) -> u64 {
    h.hash_one((src, dst, sport, dport, proto))
}

fn num(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v) => 1 << 127 | u128::from(u32::from(v)),
        IpAddr::V6(v) => u128::from(v),
    }
}

/// Private, shared and link-local ranges: traffic from them is not "the
/// internet".
fn is_private(a: IpAddr) -> bool {
    match a {
        IpAddr::V4(v) => {
            let o = v.octets();
            v.is_private()
                || v.is_loopback()
                || v.is_link_local()
                || (o[0] == 100 && (64..128).contains(&o[1]))
        }
        IpAddr::V6(v) => {
            let s = v.segments()[0];
            v.is_loopback() || (s & 0xfe00) == 0xfc00 || (s & 0xffc0) == 0xfe80
        }
    }
}

/// What one interface's records say about its own address: the two addresses
/// of its first record, and how many records each appeared in since.
#[derive(Clone, Default)]
struct Own {
    cand: [Option<u128>; 2],
    seen: [u64; 2],
    records: u64,
}

impl Own {
    fn add(&mut self, src: Option<u128>, dst: Option<u128>) {
        if self.records == 0 {
            self.cand = [src, dst];
        }
        self.records += 1;
        for (k, c) in self.cand.iter().enumerate() {
            if c.is_some() && (*c == src || *c == dst) {
                self.seen[k] += 1;
            }
        }
    }

    fn merge(&mut self, o: &Own) {
        if self.records == 0 {
            *self = o.clone();
            return;
        }
        // Keep this side's candidates; the other side's counts only add up for
        // the same candidates.
        for k in 0..2 {
            for j in 0..2 {
                if self.cand[k].is_some() && self.cand[k] == o.cand[j] {
                    self.seen[k] += o.seen[j];
                }
            }
        }
        self.records += o.records;
    }

    /// The address in (nearly) every record of the interface.
    fn address(&self) -> Option<u128> {
        let (k, &n) = self.seen.iter().enumerate().max_by_key(|(_, n)| **n)?;
        (n * 10 >= self.records * 9)
            .then_some(self.cand[k])
            .flatten()
    }
}

/// A rejected record that may be a response (its reverse may have been accepted).
struct Candidate {
    reverse: u64,
    group: u32,
}

/// REJECTs on one interface of one kind, with counts and examples.
#[derive(Clone, Default)]
struct Group {
    records: u64,
    matched: u64,
    low_port: u16,
    high_port: u16,
    evidence: Vec<String>,
}

impl Group {
    fn add(&mut self, port: u16, text: impl FnOnce() -> String) {
        if self.records == 0 {
            self.low_port = port;
            self.high_port = port;
        }
        self.records += 1;
        self.low_port = self.low_port.min(port);
        self.high_port = self.high_port.max(port);
        if self.evidence.len() < 3 {
            self.evidence.push(text());
        }
    }

    fn merge(&mut self, o: &Group) {
        if self.records == 0 {
            *self = o.clone();
            return;
        }
        self.records += o.records;
        self.matched += o.matched;
        self.low_port = self.low_port.min(o.low_port);
        self.high_port = self.high_port.max(o.high_port);
        for e in &o.evidence {
            if self.evidence.len() < 3 {
                self.evidence.push(e.clone());
            }
        }
    }
}

/// Key of a response-or-egress group: interface, the far address and port
/// (for egress) or the local service port (for responses), protocol.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct GroupKey {
    eni: String,
    src: u128,
    dst: u128,
    port: u16,
    proto: u8,
    egress_flag: bool,
}

/// The `diagnose` aggregation.
pub struct Diagnose {
    hasher: FixedState,
    accepted: HashSet<u64, RandomState>,
    candidates: Vec<Candidate>,
    keys: Vec<GroupKey>,
    index: HashMap<GroupKey, u32, RandomState>,
    groups: Vec<Group>,
    own: HashMap<String, Own, RandomState>,
    scan_records: u64,
    scan_sources: HashSet<u128, RandomState>,
    scan_ports: HashSet<u16, RandomState>,
    scan_enis: HashSet<String, RandomState>,
    scan_evidence: Vec<String>,
    reasons: HashMap<String, (u64, Vec<String>), RandomState>,
    rejects: u64,
}

impl Default for Diagnose {
    fn default() -> Self {
        Diagnose::new()
    }
}

fn line_of<R: FlowRecord>(r: &R) -> String {
    let s = r.schema();
    (0..s.len())
        .map(|c| match r.value(c) {
            Value::Null => "-".to_string(),
            Value::Int(v) => v.to_string(),
            Value::Text(t) => String::from_utf8_lossy(t).into_owned(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl Diagnose {
    /// An empty aggregation.
    pub fn new() -> Diagnose {
        Diagnose {
            hasher: FixedState::with_seed(0x2545_f491_4f6c_dd1d),
            accepted: HashSet::default(),
            candidates: Vec::new(),
            keys: Vec::new(),
            index: HashMap::default(),
            groups: Vec::new(),
            own: HashMap::default(),
            scan_records: 0,
            scan_sources: HashSet::default(),
            scan_ports: HashSet::default(),
            scan_enis: HashSet::default(),
            scan_evidence: Vec::new(),
            reasons: HashMap::default(),
            rejects: 0,
        }
    }

    fn group(&mut self, key: GroupKey) -> u32 {
        if let Some(&i) = self.index.get(&key) {
            return i;
        }
        let i = self.keys.len() as u32;
        self.index.insert(key.clone(), i);
        self.keys.push(key);
        self.groups.push(Group::default());
        i
    }

    /// The findings, strongest first.
    pub fn report(&mut self) -> DiagnoseReport {
        // Join rejected responses with the accepted requests they answer.
        let mut matched = vec![0u64; self.keys.len()];
        for c in &self.candidates {
            if self.accepted.contains(&c.reverse) {
                matched[c.group as usize] += 1;
            }
        }
        let own: HashMap<&str, Option<u128>, RandomState> = self
            .own
            .iter()
            .map(|(k, v)| (k.as_str(), v.address()))
            .collect();
        let mut findings = Vec::new();
        let mut order: Vec<usize> = (0..self.keys.len()).collect();
        order.sort_by(|&a, &b| {
            self.groups[b]
                .records
                .cmp(&self.groups[a].records)
                .then_with(|| self.keys[a].cmp(&self.keys[b]))
        });
        for idx in order {
            let (key, g) = (&self.keys[idx], &self.groups[idx]);
            let m = matched[idx];
            let proto = crate::aggregate::rejects::protocol_name(key.proto)
                .map_or_else(|| key.proto.to_string(), str::to_string);
            if m > 0 {
                let ports = if key.proto == 1 || key.proto == 58 {
                    String::new()
                } else if g.low_port == g.high_port {
                    format!(" to port {}", g.low_port)
                } else {
                    format!(" to ports {}-{}", g.low_port, g.high_port)
                };
                let side = match own.get(key.eni.as_str()).copied().flatten() {
                    Some(a) if a == key.src => {
                        "leaving the interface: its network ACL's outbound rules"
                    }
                    Some(a) if a == key.dst => {
                        "arriving at the interface: its network ACL's inbound rules"
                    }
                    _ => "a network ACL on the path",
                };
                findings.push(Finding {
                    kind: "nacl-return-path",
                    confidence: if m >= 3 { "high" } else { "medium" },
                    summary: format!(
                        "{m} response{} ({proto}{ports}) to accepted requests rejected on {}: security groups are stateful and would allow them, so it is {side} (allow the return traffic, usually ephemeral ports {EPHEMERAL}-65535)",
                        if m == 1 { "" } else { "s" },
                        key.eni
                    ),
                    interface_id: Some(key.eni.clone()),
                    records: g.records,
                    evidence: g.evidence.clone(),
                });
            } else if key.egress_flag
                || own.get(key.eni.as_str()).copied().flatten() == Some(key.src)
            {
                let dst = addr_text(key.dst);
                let port = if key.proto == 1 || key.proto == 58 {
                    String::new()
                } else {
                    format!(":{}", key.port)
                };
                findings.push(Finding {
                    kind: "egress-blocked",
                    confidence: if g.records >= 3 { "high" } else { "medium" },
                    summary: format!(
                        "{} cannot reach {dst}{port}/{proto}: {} outbound REJECTs; check the security group's outbound rules and the subnet's network ACL",
                        key.eni, g.records
                    ),
                    interface_id: Some(key.eni.clone()),
                    records: g.records,
                    evidence: g.evidence.clone(),
                });
            }
        }
        if self.scan_records > 0 && self.scan_sources.len() >= 10 {
            findings.push(Finding {
                kind: "inbound-scanning",
                confidence: "low",
                summary: format!(
                    "{} public sources probed {} ports on {} interfaces and were rejected ({} records): internet noise, expected, low priority",
                    self.scan_sources.len(),
                    self.scan_ports.len(),
                    self.scan_enis.len(),
                    self.scan_records
                ),
                interface_id: None,
                records: self.scan_records,
                evidence: self.scan_evidence.clone(),
            });
        }
        let mut reasons: Vec<_> = self.reasons.iter().collect();
        reasons.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then_with(|| a.0.cmp(b.0)));
        for (reason, (n, ev)) in reasons {
            let what = match reason.as_str() {
                "BPA" => " (VPC Block Public Access)",
                _ => "",
            };
            findings.push(Finding {
                kind: "reject-reason",
                confidence: "high",
                summary: format!("{n} REJECTs carry reject-reason {reason}{what}"),
                interface_id: None,
                records: *n,
                evidence: ev.clone(),
            });
        }
        DiagnoseReport {
            rejects: self.rejects,
            findings,
        }
    }
}

fn addr_text(a: u128) -> String {
    if a >> 127 == 1 && a >> 32 == 1 << 95 {
        std::net::Ipv4Addr::from(a as u32).to_string()
    } else {
        std::net::Ipv6Addr::from(a).to_string()
    }
}

/// The result of [`Diagnose::report`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DiagnoseReport {
    /// REJECT records seen.
    pub rejects: u64,
    /// What they point at.
    pub findings: Vec<Finding>,
}

impl Sink for Diagnose {
    fn needs(&self) -> FieldSet {
        FieldSet::of(&[Field::Action])
    }

    fn record<R: FlowRecord>(&mut self, r: &R, _pos: &Position<'_>) -> Result<(), ValueError> {
        let action = r.text(Field::Action);
        let src = r.addr(Field::SrcAddr)?;
        let dst = r.addr(Field::DstAddr)?;
        let sport = r.int(Field::SrcPort)?.unwrap_or(0) as u16;
        let dport = r.int(Field::DstPort)?.unwrap_or(0) as u16;
        let proto = r.int(Field::Protocol)?.unwrap_or(0) as u8;
        let eni = r
            .text(Field::InterfaceId)
            .map(|e| String::from_utf8_lossy(e).into_owned());
        let (s, d) = (src.map(num), dst.map(num));
        if let Some(eni) = &eni {
            if src.is_some() || dst.is_some() {
                match self.own.get_mut(eni.as_str()) {
                    Some(o) => o.add(s, d),
                    None => {
                        let mut o = Own::default();
                        o.add(s, d);
                        self.own.insert(eni.clone(), o);
                    }
                }
            }
        }
        let (Some(src), Some(_), Some(s), Some(d)) = (src, dst, s, d) else {
            return Ok(());
        };
        match action {
            Some(b"ACCEPT") => {
                let icmp = proto == 1 || proto == 58;
                if icmp || sport >= EPHEMERAL {
                    self.accepted
                        .insert(flow_hash(&self.hasher, s, d, sport, dport, proto));
                }
            }
            Some(b"REJECT") => {
                self.rejects += 1;
                if let Some(reason) = r.text(Field::RejectReason) {
                    let e = self
                        .reasons
                        .entry(String::from_utf8_lossy(reason).into_owned())
                        .or_default();
                    e.0 += 1;
                    if e.1.len() < 3 {
                        e.1.push(line_of(r));
                    }
                }
                let eni = eni.unwrap_or_else(|| "-".into());
                let egress = r.text(Field::FlowDirection) == Some(b"egress");
                if !is_private(src) && !egress {
                    self.scan_records += 1;
                    self.scan_sources.insert(s);
                    self.scan_ports.insert(dport);
                    if !self.scan_enis.contains(&eni) {
                        self.scan_enis.insert(eni.clone());
                    }
                    if self.scan_evidence.len() < 3 {
                        self.scan_evidence.push(line_of(r));
                    }
                }
                let icmp = proto == 1 || proto == 58;
                // A response goes from the service port to the client's
                // ephemeral one: a high destination port above the source port.
                let response = icmp || (dport >= EPHEMERAL && sport < dport);
                // A possible response: grouped by the local service port, so
                // that all the rejected replies of one service form one finding.
                let key = if response {
                    GroupKey {
                        eni: eni.clone(),
                        src: s,
                        dst: 0,
                        port: sport,
                        proto,
                        egress_flag: egress,
                    }
                } else {
                    GroupKey {
                        eni: eni.clone(),
                        src: s,
                        dst: d,
                        port: dport,
                        proto,
                        egress_flag: egress,
                    }
                };
                // Public sources hitting us are scanning unless they turn out to
                // be responses; keep them only as response candidates.
                if !is_private(src) && !response && !egress {
                    return Ok(());
                }
                let g = self.group(key);
                self.groups[g as usize].add(dport, || line_of(r));
                if response {
                    self.candidates.push(Candidate {
                        reverse: flow_hash(&self.hasher, d, s, dport, sport, proto),
                        group: g,
                    });
                }
            }
            _ => {}
        }
        Ok(())
    }
}

impl Aggregate for Diagnose {
    fn merge(&mut self, o: Diagnose) {
        self.accepted.extend(o.accepted);
        let mut remap = Vec::with_capacity(o.keys.len());
        for (key, g) in o.keys.into_iter().zip(&o.groups) {
            let i = self.group(key);
            self.groups[i as usize].merge(g);
            remap.push(i);
        }
        self.candidates
            .extend(o.candidates.into_iter().map(|c| Candidate {
                reverse: c.reverse,
                group: remap[c.group as usize],
            }));
        for (k, v) in o.own {
            self.own.entry(k).or_default().merge(&v);
        }
        self.scan_records += o.scan_records;
        self.scan_sources.extend(o.scan_sources);
        self.scan_ports.extend(o.scan_ports);
        self.scan_enis.extend(o.scan_enis);
        for e in o.scan_evidence {
            if self.scan_evidence.len() < 3 {
                self.scan_evidence.push(e);
            }
        }
        for (k, (n, ev)) in o.reasons {
            let e = self.reasons.entry(k).or_default();
            e.0 += n;
            for x in ev {
                if e.1.len() < 3 {
                    e.1.push(x);
                }
            }
        }
        self.rejects += o.rejects;
    }
}
