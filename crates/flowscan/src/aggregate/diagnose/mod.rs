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
//!
//! Every part merges to the same value however the records were split among
//! threads: sums, minima, maxima and set unions; an interface's own address is
//! judged from a sample of its records chosen by a fixed hash (the same records
//! whatever the split), and evidence records are the earliest by position.
//!
//! Past a memory budget, accepted flows, response candidates and public sources
//! are sampled (1 in 2, 4, … by a fixed hash, the same for a request and its
//! response; counts scaled back up), then the smaller half of the REJECT groups
//! is dropped, and the report says by how much it may be off.

mod budget;
mod evidence;
mod parts;
mod report;
#[cfg(test)]
mod tests;

use std::hash::BuildHasher;
use std::net::IpAddr;

use foldhash::fast::{FixedState, RandomState};
use hashbrown::HashMap;

use super::budget::{MemoryBudget, Share};
use super::{Aggregate, Sink};
use crate::aggregate::distinct::kept_hash as kept;
use crate::record::FlowRecord;
use crate::schema::{Field, FieldSet};
use crate::sink::{Position, SinkError};
pub use evidence::{Evidence, EvidenceValue};
use evidence::{Formats, Raw};
use parts::{num, Earliest, Enis, Pile, Seen};
pub use report::{DiagnoseReport, Finding};

/// Ports from here up are ephemeral (client) ports, as AWS's NACL guidance
/// has it.
pub const EPHEMERAL: u16 = 1024;

/// How much memory the aggregation may use.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DiagnoseConfig {
    /// The budget for flows, groups and sources, shared by every aggregate of
    /// the scan (`None`: no limit). Past it, flows and sources are sampled and
    /// the smallest groups dropped, and the report says the result is
    /// approximate.
    pub memory: Option<MemoryBudget>,
}

/// A rejected record that may be a response (its reverse may have been accepted).
#[derive(Clone, Copy)]
struct Candidate {
    reverse: u64,
    group: u32,
}

/// Key of a response-or-egress group: interface, the far address and port
/// (for egress) or the local service port (for responses, whose `dst` is 0),
/// protocol.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct GroupKey {
    eni: u32,
    src: u128,
    dst: u128,
    port: u16,
    proto: u8,
    egress: bool,
}

/// REJECTs on one interface of one kind.
#[derive(Clone, Default)]
struct Group {
    seen: Seen,
    /// Destination ports.
    low_port: u16,
    high_port: u16,
    /// Source ports: a request group from one port only, between two
    /// ephemeral ports, may be a service's replies (see [`Diagnose::settle`]).
    low_sport: u16,
    high_sport: u16,
    evidence: Earliest<Raw>,
}

impl Group {
    /// Adds another group's records (its evidence already in this side's formats).
    fn absorb(&mut self, g: Group) {
        if g.seen.records == 0 {
            return;
        }
        self.widen((g.low_port, g.high_port), (g.low_sport, g.high_sport));
        self.seen.merge(&g.seen);
        self.evidence.merge(g.evidence);
    }

    /// Widens the port ranges to hold these (low, high) destination and
    /// source ports; an empty group takes them as they are. Call before
    /// counting the records they come with.
    fn widen(&mut self, (low, high): (u16, u16), (low_s, high_s): (u16, u16)) {
        if self.seen.records == 0 {
            (self.low_port, self.high_port) = (low, high);
            (self.low_sport, self.high_sport) = (low_s, high_s);
        }
        self.low_port = self.low_port.min(low);
        self.high_port = self.high_port.max(high);
        self.low_sport = self.low_sport.min(low_s);
        self.high_sport = self.high_sport.max(high_s);
    }
}

/// REJECTs from public sources that are not responses.
#[derive(Default)]
struct Scan {
    seen: Seen,
    sources: Pile<u128>,
    /// Destination ports, one bit each.
    ports: Vec<u64>,
    evidence: Earliest<Raw>,
}

/// REJECTs carrying one reject-reason.
#[derive(Default)]
struct Reason {
    seen: Seen,
    evidence: Earliest<Raw>,
}

/// The `diagnose` aggregation.
pub struct Diagnose {
    config: DiagnoseConfig,
    hasher: FixedState,
    enis: Enis,
    formats: Formats,
    accepted: Pile<u64>,
    candidates: Vec<Candidate>,
    index: HashMap<GroupKey, u32, RandomState>,
    keys: Vec<GroupKey>,
    groups: Vec<Group>,
    scan: Scan,
    reasons: HashMap<Box<[u8]>, Reason, RandomState>,
    rejects: u64,
    /// Sampling level of flows and sources: 1 in `2^level` kept.
    level: u32,
    /// How many records a group's count may be low by, after groups were dropped.
    error: u64,
    /// Bytes of evidence kept (an overestimate: replaced records are not taken off).
    evidence_bytes: usize,
    share: Option<Share>,
}

impl Default for Diagnose {
    fn default() -> Self {
        Diagnose::new()
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

/// One record's flow, decoded.
struct Flow {
    src: IpAddr,
    s: u128,
    d: u128,
    sport: u16,
    dport: u16,
    proto: u8,
    start: Option<u64>,
    end: Option<u64>,
}

impl Flow {
    fn icmp(&self) -> bool {
        self.proto == 1 || self.proto == 58
    }
}

impl Diagnose {
    /// An empty aggregation without a memory limit.
    pub fn new() -> Diagnose {
        Diagnose::with_config(DiagnoseConfig::default())
    }

    /// An empty aggregation.
    pub fn with_config(config: DiagnoseConfig) -> Diagnose {
        Diagnose {
            share: config.memory.as_ref().map(MemoryBudget::share),
            config,
            hasher: FixedState::with_seed(0x2545_f491_4f6c_dd1d),
            enis: Enis::default(),
            formats: Formats::default(),
            accepted: Pile::default(),
            candidates: Vec::new(),
            index: HashMap::default(),
            keys: Vec::new(),
            groups: Vec::new(),
            scan: Scan::default(),
            reasons: HashMap::default(),
            rejects: 0,
            level: 0,
            error: 0,
            evidence_bytes: 0,
        }
    }

    /// Hash of a 5-tuple; fixed seed, so that every thread computes the same value.
    fn flow_hash(&self, src: u128, dst: u128, sport: u16, dport: u16, proto: u8) -> u64 {
        self.hasher.hash_one((src, dst, sport, dport, proto))
    }

    fn group(&mut self, key: GroupKey) -> u32 {
        if let Some(&i) = self.index.get(&key) {
            return i;
        }
        let i = self.keys.len() as u32;
        self.index.insert(key, i);
        self.keys.push(key);
        self.groups.push(Group::default());
        i
    }

    fn accept(&mut self, f: &Flow) {
        if f.icmp() || f.sport >= EPHEMERAL {
            let h = self.flow_hash(f.s, f.d, f.sport, f.dport, f.proto);
            if kept(self.level, h) {
                self.accepted.push(h);
            }
        }
    }

    fn reject<R: FlowRecord>(&mut self, r: &R, pos: &Position<'_>, f: &Flow, eni: Option<u32>) {
        let at = (pos.file, pos.line.unwrap_or(0));
        self.rejects += 1;
        if let Some(reason) = r.text(Field::RejectReason) {
            if !self.reasons.contains_key(reason) {
                self.reasons.insert(reason.into(), Reason::default());
            }
            let e = self.reasons.get_mut(reason).expect("just inserted");
            e.seen.add(f.start, f.end);
            let (formats, bytes) = (&mut self.formats, &mut self.evidence_bytes);
            e.evidence.offer(at, || keep(formats, bytes, r, pos));
        }
        let eni = match eni {
            Some(e) => e,
            None => self.enis.id(b"-").unwrap_or(0),
        };
        let egress = r.text(Field::FlowDirection) == Some(b"egress");
        let public = !is_private(f.src);
        if public && !egress {
            self.scanned(r, pos, f, eni);
        }
        // A response goes from the service port to the client's ephemeral
        // one: a high destination port above the source port.
        let response = f.icmp() || (f.dport >= EPHEMERAL && f.sport < f.dport);
        // Public sources hitting us are scanning unless they turn out to be
        // responses; keep them only as response candidates.
        if public && !response && !egress {
            return;
        }
        // From a higher ephemeral port to a lower one it is grouped as a
        // request, but may be a reply of a service on an ephemeral port
        // (gRPC's 50051 to a client's 33000): its reverse is kept as a
        // candidate, and the report decides (`settle`).
        let ambiguous = !response && f.dport >= EPHEMERAL;
        // A possible response is grouped by the local service port, so that all
        // the rejected replies of one service form one finding.
        let (dst, port) = if response {
            (0, f.sport)
        } else {
            (f.d, f.dport)
        };
        let g = self.group(GroupKey {
            eni,
            src: f.s,
            dst,
            port,
            proto: f.proto,
            egress,
        });
        let group = &mut self.groups[g as usize];
        group.widen((f.dport, f.dport), (f.sport, f.sport));
        group.seen.add(f.start, f.end);
        let (formats, bytes) = (&mut self.formats, &mut self.evidence_bytes);
        group.evidence.offer(at, || keep(formats, bytes, r, pos));
        if response || ambiguous {
            let reverse = self.flow_hash(f.d, f.s, f.dport, f.sport, f.proto);
            if kept(self.level, reverse) {
                self.candidates.push(Candidate { reverse, group: g });
            }
        }
    }

    fn scanned<R: FlowRecord>(&mut self, r: &R, pos: &Position<'_>, f: &Flow, eni: u32) {
        let scan = &mut self.scan;
        scan.seen.add(f.start, f.end);
        if kept(self.level, self.hasher.hash_one(f.s)) {
            scan.sources.push(f.s);
        }
        if scan.ports.is_empty() {
            scan.ports = vec![0; 1024];
        }
        scan.ports[usize::from(f.dport / 64)] |= 1 << (f.dport % 64);
        self.enis.list[eni as usize].scanned = true;
        let (formats, bytes) = (&mut self.formats, &mut self.evidence_bytes);
        scan.evidence.offer((pos.file, pos.line.unwrap_or(0)), || {
            keep(formats, bytes, r, pos)
        });
    }
}

/// Keeps a record as evidence, counting its bytes.
fn keep<R: FlowRecord>(f: &mut Formats, bytes: &mut usize, r: &R, pos: &Position<'_>) -> Raw {
    let raw = f.keep(r, pos);
    *bytes += raw.bytes();
    raw
}

impl Sink for Diagnose {
    fn needs(&self) -> FieldSet {
        FieldSet::of(&[Field::Action])
    }

    /// Evidence is chosen and shown by (file, line).
    fn line_numbers(&self) -> bool {
        true
    }

    fn record<R: FlowRecord>(&mut self, r: &R, pos: &Position<'_>) -> Result<(), SinkError> {
        // Decode everything before changing anything, so that a bad token leaves
        // the aggregate as it was.
        let src = r.addr(Field::SrcAddr)?;
        let dst = r.addr(Field::DstAddr)?;
        let sport = r.int(Field::SrcPort)?.unwrap_or(0) as u16;
        let dport = r.int(Field::DstPort)?.unwrap_or(0) as u16;
        let proto = r.int(Field::Protocol)?.unwrap_or(0) as u8;
        let start = r.int(Field::Start)?;
        let end = r.int(Field::End)?;
        let eni = r
            .text(Field::InterfaceId)
            .map(|e| self.enis.id(e))
            .transpose()?;
        let (s, d) = (src.map(num), dst.map(num));
        if let Some(e) = eni {
            let info = &mut self.enis.list[e as usize];
            if s.is_some() || d.is_some() {
                let h = self
                    .hasher
                    .hash_one((s, d, sport, dport, proto, start, end));
                info.own.add(h, s.unwrap_or(0), d.unwrap_or(0));
            }
            if let Some(id) = r.text(Field::InstanceId) {
                if !id.iter().any(u8::is_ascii_control) {
                    info.note_instance(id);
                }
            }
        }
        if let (Some(src), Some(s), Some(d)) = (src, s, d) {
            let f = Flow {
                src,
                s,
                d,
                sport,
                dport,
                proto,
                start,
                end,
            };
            match r.text(Field::Action) {
                Some(b"ACCEPT") => self.accept(&f),
                Some(b"REJECT") => self.reject(r, pos, &f, eni),
                _ => {}
            }
        }
        if self.share.as_mut().is_some_and(Share::due) {
            self.enforce();
        }
        Ok(())
    }
}

impl Aggregate for Diagnose {
    fn merge(&mut self, mut o: Diagnose) {
        let level = self.level.max(o.level);
        self.resample(level);
        o.resample(level);
        let enis = self.enis.merge(o.enis);
        let formats = self.formats.merge(o.formats);
        let remap_ev = |mut e: Earliest<Raw>| {
            e.for_each_mut(|raw| Formats::remap(raw, &formats));
            e
        };
        self.accepted.extend(o.accepted);
        let mut groups = Vec::with_capacity(o.keys.len());
        for (mut key, mut g) in o.keys.into_iter().zip(o.groups) {
            key.eni = enis[key.eni as usize];
            let i = self.group(key);
            g.evidence = remap_ev(g.evidence);
            self.groups[i as usize].absorb(g);
            groups.push(i);
        }
        self.candidates
            .extend(o.candidates.into_iter().map(|c| Candidate {
                reverse: c.reverse,
                group: groups[c.group as usize],
            }));
        self.scan.seen.merge(&o.scan.seen);
        self.scan.sources.extend(o.scan.sources);
        if self.scan.ports.is_empty() {
            self.scan.ports = vec![0; 1024];
        }
        for (a, b) in self.scan.ports.iter_mut().zip(&o.scan.ports) {
            *a |= b;
        }
        self.scan.evidence.merge(remap_ev(o.scan.evidence));
        for (k, v) in o.reasons {
            let e = self.reasons.entry(k).or_default();
            e.seen.merge(&v.seen);
            e.evidence.merge(remap_ev(v.evidence));
        }
        self.rejects += o.rejects;
        self.evidence_bytes += o.evidence_bytes;
        // A group dropped by one side may have been counted by the other.
        self.error += o.error;
        // Its tables are in these now: its share of the budget goes.
        drop(o.share.take());
        self.enforce();
    }
}
