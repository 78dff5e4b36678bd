//! REJECT hotspots: top interfaces, destination ports, source networks and
//! destinations.

use std::hash::Hash;
use std::net::IpAddr;

use super::distinct::Distinct;
use super::{Aggregate, Sink};
use crate::display::port_label;
use crate::parse::ValueError;
use crate::record::FlowRecord;
use crate::schema::{Field, FieldSet};
use crate::sink::{FileInfo, Position, SinkError};

mod groups;
mod rows;

#[cfg(test)]
mod tests;

use super::budget::{MemoryBudget, Share};
use groups::{max_opt, min_opt, top, EniKey, Groups, Hit, NetKey, PackedEni, PortKey};
pub use rows::*;

/// How addresses are rolled up, and the memory the tables may use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RejectsConfig {
    /// Prefix length for IPv4 sources (default 24).
    pub prefix4: u8,
    /// Prefix length for IPv6 sources (default 64).
    pub prefix6: u8,
    /// Prefix length for IPv4 destinations (default 32: each address).
    pub dst_prefix4: u8,
    /// Prefix length for IPv6 destinations (default 128: each address).
    pub dst_prefix6: u8,
    /// The budget for groups and distinct addresses, shared by every aggregate
    /// of the scan (`None`: no limit). Past it, distinct addresses are sampled
    /// and the smallest groups dropped, and the report says the result is
    /// approximate.
    pub memory: Option<MemoryBudget>,
}

impl Default for RejectsConfig {
    fn default() -> Self {
        RejectsConfig {
            prefix4: 24,
            prefix6: 64,
            dst_prefix4: 32,
            dst_prefix6: 128,
            memory: None,
        }
    }
}

/// Masks for a prefix length of IPv4 and of IPv6 addresses.
#[derive(Clone, Copy)]
struct Masks(u32, u128);

impl Masks {
    fn new(p4: u8, p6: u8) -> Masks {
        Masks(
            if p4 == 0 { 0 } else { u32::MAX << (32 - p4) },
            if p6 == 0 { 0 } else { u128::MAX << (128 - p6) },
        )
    }

    #[inline]
    fn key(self, addr: Option<IpAddr>) -> NetKey {
        match addr {
            Some(IpAddr::V4(a)) => NetKey::v4(u32::from(a) & self.0),
            Some(IpAddr::V6(a)) => NetKey::v6(u128::from(a) & self.1),
            None => NetKey::Missing,
        }
    }
}

/// The REJECT hotspot aggregation behind `flowscan rejects`.
///
/// Counts every record it is given (accepts, rejects, NODATA, SKIPDATA, time
/// span) and, for REJECT records, groups by interface, by destination port and
/// protocol, by source network and by destination, with packets, bytes,
/// distinct peers, first/last seen and, where the logs carry `flow-direction`,
/// ingress and egress counts. Only REJECT records are decoded past their time,
/// action and status.
pub struct Rejects {
    config: RejectsConfig,
    src_mask: Masks,
    dst_mask: Masks,
    records: u64,
    accepts: u64,
    rejects: u64,
    nodata: u64,
    skipdata: u64,
    first: Option<u64>,
    last: Option<u64>,
    /// A REJECT record carried `flow-direction`.
    directions: bool,
    enis: Groups<EniKey>,
    ports: Groups<PortKey>,
    nets: Groups<NetKey>,
    dsts: Groups<NetKey>,
    eni_sources: Distinct,
    port_sources: Distinct,
    net_targets: Distinct,
    dst_sources: Distinct,
    /// How many records a group's count may be low by, after groups were
    /// dropped to stay within the memory budget.
    error: u64,
    share: Option<Share>,
    /// REJECTs decoded and not yet added (see [`LAG`]), oldest first from
    /// `head`, in a ring of fixed size: empty whenever a run of records has
    /// ended.
    pending: [Pending; LAG + 1],
    head: usize,
    queued: usize,
}

/// REJECTs decoded and not yet added to their groups, at most.
///
/// A group lookup waits on two cache misses in a row (the slot, then the
/// group) in tables of tens of thousands of groups a thread, and a REJECT
/// comes every five records or so. So the slots of a REJECT's groups are
/// asked for when it is decoded, its groups when the next REJECT is, and it
/// is added when the one after that is: each miss has a REJECT's worth of
/// work to hide behind.
const LAG: usize = 2;

/// A REJECT record decoded, with its keys hashed, waiting to be added.
///
/// Fields, not nested structs, and no network keys (they are the addresses
/// masked again when it is added), so that it is 128 bytes and `Copy`: a
/// move is then a few vector moves, where the 192 bytes it took with its
/// keys and an `EniKey` cost a `memcpy` call each time (three per REJECT,
/// 3 % of the instructions).
#[derive(Clone, Copy)]
struct Pending {
    /// The interface id (`eni-` and `eni_digits` hex digits) and its hash;
    /// unused by [`Rejects::add_groups`], which is given its group.
    eni_hi: u64,
    eni_lo: u64,
    eni_digits: u8,
    eni_hash: u64,
    service: PortKey,
    service_hash: u64,
    net_hash: u64,
    target_hash: u64,
    src: Option<IpAddr>,
    dst: Option<IpAddr>,
    hit: Hit,
    /// 1 for ingress, 2 for egress, 0 when the record does not say.
    direction: u8,
}

const _: () = assert!(std::mem::size_of::<Pending>() <= 128);

impl Pending {
    /// What an empty place of the ring holds.
    const NONE: Pending = Pending {
        eni_hi: 0,
        eni_lo: 0,
        eni_digits: 0,
        eni_hash: 0,
        service: PortKey(None, None),
        service_hash: 0,
        net_hash: 0,
        target_hash: 0,
        src: None,
        dst: None,
        hit: Hit::NONE,
        direction: 0,
    };

    fn eni(&self) -> PackedEni {
        PackedEni {
            hi: self.eni_hi,
            lo: self.eni_lo,
            digits: self.eni_digits,
        }
    }
}

/// The sparsest sampling of distinct pairs: 1 in 2^32.
const MAX_LEVEL: u32 = 32;

/// Rough bytes per key of each group table (the key, and for text its
/// allocation; the hash table's slots are counted apart).
const ENI_KEY: usize = 64;
const PORT_KEY: usize = 16;
const NET_KEY: usize = 24;

impl Rejects {
    /// An empty aggregation.
    pub fn new(config: RejectsConfig) -> Rejects {
        let config = RejectsConfig {
            prefix4: config.prefix4.min(32),
            prefix6: config.prefix6.min(128),
            dst_prefix4: config.dst_prefix4.min(32),
            dst_prefix6: config.dst_prefix6.min(128),
            memory: config.memory,
        };
        Rejects {
            src_mask: Masks::new(config.prefix4, config.prefix6),
            dst_mask: Masks::new(config.dst_prefix4, config.dst_prefix6),
            share: config.memory.as_ref().map(MemoryBudget::share),
            config,
            records: 0,
            accepts: 0,
            rejects: 0,
            nodata: 0,
            skipdata: 0,
            first: None,
            last: None,
            directions: false,
            enis: Groups::default(),
            ports: Groups::default(),
            nets: Groups::default(),
            dsts: Groups::default(),
            eni_sources: Distinct::default(),
            port_sources: Distinct::default(),
            net_targets: Distinct::default(),
            dst_sources: Distinct::default(),
            error: 0,
            pending: [Pending::NONE; LAG + 1],
            head: 0,
            queued: 0,
        }
    }

    fn distinct(&mut self) -> [&mut Distinct; 4] {
        [
            &mut self.eni_sources,
            &mut self.port_sources,
            &mut self.net_targets,
            &mut self.dst_sources,
        ]
    }

    /// Groups in each table, in the order of [`Rejects::distinct`].
    fn group_counts(&self) -> [usize; 4] {
        [
            self.enis.len(),
            self.ports.len(),
            self.nets.len(),
            self.dsts.len(),
        ]
    }

    fn distinct_bytes(&self) -> usize {
        self.eni_sources.bytes()
            + self.port_sources.bytes()
            + self.net_targets.bytes()
            + self.dst_sources.bytes()
    }

    /// Rough bytes used by groups and distinct pairs.
    fn bytes(&self) -> usize {
        self.group_bytes().iter().sum::<usize>() + self.distinct_bytes()
    }

    /// Rough bytes of each group table, in the order of [`Rejects::distinct`].
    fn group_bytes(&self) -> [usize; 4] {
        [
            self.enis.bytes(ENI_KEY),
            self.ports.bytes(PORT_KEY),
            self.nets.bytes(NET_KEY),
            self.dsts.bytes(NET_KEY),
        ]
    }

    /// When the scan's tables are over the budget, shrinks these by the
    /// excess: first by sampling distinct pairs more sparsely (while they are
    /// the larger part), then by dropping the smaller half of the largest group
    /// table.
    fn enforce(&mut self) {
        let bytes = self.bytes();
        let Some(target) = self.share.as_mut().and_then(|s| s.target(bytes)) else {
            return;
        };
        // Pairs kept apart by a merge are held twice where both sides had them.
        for d in self.distinct() {
            d.settle();
        }
        for _ in 0..64 {
            let bytes = self.bytes();
            if bytes <= target {
                break;
            }
            let level = self.distinct().iter().map(|d| d.level).max().unwrap_or(0);
            if self.distinct_bytes() > bytes / 2 && level < MAX_LEVEL {
                for d in self.distinct() {
                    d.sample(level + 1);
                }
            } else if !self.drop_half_of_largest() {
                break;
            }
        }
        let bytes = self.bytes();
        if let Some(s) = &mut self.share {
            s.report(bytes);
        }
    }

    /// Drops the smaller half of the largest group table; false if none has
    /// more than one group.
    fn drop_half_of_largest(&mut self) -> bool {
        let (bytes, counts) = (self.group_bytes(), self.group_counts());
        let Some(largest) = (0..4)
            .filter(|&i| counts[i] > 1)
            .max_by_key(|&i| (bytes[i], std::cmp::Reverse(i)))
        else {
            return false;
        };
        let (remap, low) = match largest {
            0 => self.enis.evict_half(),
            1 => self.ports.evict_half(),
            2 => self.nets.evict_half(),
            _ => self.dsts.evict_half(),
        };
        self.distinct()[largest].remap(&remap);
        // A group dropped more than once loses its count each time: the bound
        // is the sum of what each drop could take.
        self.error += low;
        true
    }

    /// How the result is approximate, if memory ran short.
    pub fn approximation(&self) -> Option<Approximation> {
        let level = [
            &self.eni_sources,
            &self.port_sources,
            &self.net_targets,
            &self.dst_sources,
        ]
        .iter()
        .map(|d| d.level)
        .max()
        .unwrap_or(0);
        (self.error > 0 || level > 0).then(|| Approximation {
            budget: self.config.memory.as_ref().map_or(0, MemoryBudget::limit),
            records_low_by_at_most: self.error,
            distinct_sampled_one_in: 1 << level,
            sum_low_by_at_most: None,
        })
    }

    /// Decodes a REJECT record and queues it; the one queued [`LAG`]
    /// REJECTs before it is added to its groups (see [`Pending`]).
    #[cold]
    fn add_reject<R: FlowRecord>(
        &mut self,
        r: &R,
        start: Option<u64>,
        end: Option<u64>,
    ) -> Result<(), ValueError> {
        // Decode everything before changing anything, so that a bad token leaves
        // the aggregate as it was.
        let src = r.addr(Field::SrcAddr)?;
        let dst = r.addr(Field::DstAddr)?;
        let port = r.int(Field::DstPort)?.map(|p| p as u16);
        let proto = r.int(Field::Protocol)?.map(|p| p as u8);
        let packets = r.int(Field::Packets)?.unwrap_or(0);
        let bytes = r.int(Field::Bytes)?.unwrap_or(0);
        let direction = match r.text(Field::FlowDirection) {
            Some(b"ingress") => 1,
            Some(b"egress") => 2,
            _ => 0,
        };
        let service = PortKey(port, proto);
        let mut p = Pending {
            net_hash: self.nets.hash(&self.src_mask.key(src)),
            target_hash: self.dsts.hash(&self.dst_mask.key(dst)),
            service_hash: self.ports.hash(&service),
            service,
            src,
            dst,
            hit: Hit::new(packets, bytes, start, end),
            direction,
            ..Pending::NONE
        };
        let text = r.text(Field::InterfaceId).unwrap_or(b"-");
        let Some(eni) = PackedEni::parse(text) else {
            // An id held as text (rare) is added now, after those queued, so
            // that groups are made in the order of their records.
            self.flush();
            let eni = self.enis.slot_eni(text, Field::InterfaceId)?;
            self.add_groups(eni, p);
            return Ok(());
        };
        (p.eni_hi, p.eni_lo, p.eni_digits) = (eni.hi, eni.lo, eni.digits);
        p.eni_hash = self.enis.hash(&eni.key());
        self.queue(p);
        Ok(())
    }

    /// Asks for the slots of `p`'s groups, for the groups themselves of the
    /// REJECT queued before it, and adds the one before that.
    #[inline]
    fn queue(&mut self, p: Pending) {
        self.enis.prefetch(p.eni_hash);
        self.ports.prefetch(p.service_hash);
        self.nets.prefetch(p.net_hash);
        self.dsts.prefetch(p.target_hash);
        if self.queued > 0 {
            let q = &self.pending[(self.head + self.queued - 1) % (LAG + 1)];
            self.enis.prefetch_group(q.eni_hash);
            self.ports.prefetch_group(q.service_hash);
            self.nets.prefetch_group(q.net_hash);
            self.dsts.prefetch_group(q.target_hash);
        }
        self.pending[(self.head + self.queued) % (LAG + 1)] = p;
        self.queued += 1;
        if self.queued > LAG {
            self.add_oldest();
        }
    }

    /// Adds the oldest queued REJECT to its groups (there is one).
    #[inline]
    fn add_oldest(&mut self) {
        let p = self.pending[self.head];
        self.head = (self.head + 1) % (LAG + 1);
        self.queued -= 1;
        let eni = self.enis.slot_hashed(p.eni().key(), p.eni_hash);
        self.add_groups(eni, p);
    }

    /// Adds every queued REJECT to its groups, oldest first.
    fn flush(&mut self) {
        while self.queued > 0 {
            self.add_oldest();
        }
    }

    /// Adds a REJECT to interface `eni` and to its other groups.
    #[inline]
    fn add_groups(&mut self, eni: u32, k: Pending) {
        let (hit, dir) = (&k.hit, k.direction);
        self.rejects += 1;
        self.directions |= dir != 0;
        self.enis.add(eni, hit, dir);
        let p = self.ports.slot_hashed(k.service, k.service_hash);
        self.ports.add(p, hit, dir);
        let n = self.nets.slot_hashed(self.src_mask.key(k.src), k.net_hash);
        self.nets.add(n, hit, dir);
        let d = self
            .dsts
            .slot_hashed(self.dst_mask.key(k.dst), k.target_hash);
        self.dsts.add(d, hit, dir);
        if let Some(src) = k.src {
            self.eni_sources.insert(eni, src);
            self.port_sources.insert(p, src);
            self.dst_sources.insert(d, src);
        }
        if let Some(dst) = k.dst {
            self.net_targets.insert(n, dst);
        }
        if self.share.as_mut().is_some_and(Share::due) {
            self.enforce();
        }
    }

    /// Readies the tables for a report of `n` rows each: a table whose
    /// report would show at least half its groups has the distinct pairs
    /// kept apart by merges merged now, in the order they came. Its report
    /// would gather nearly every pair from every part, while the parts still
    /// hold the pairs two threads both saw: merged, they are held once
    /// (a 10 M-record tree reported with `--top 1000000` peaked about 3 MB
    /// higher without this). The answer is the same either way.
    pub fn prepare_report(&mut self, n: usize) {
        self.flush();
        let counts = self.group_counts();
        for (d, len) in self.distinct().into_iter().zip(counts) {
            if n.saturating_mul(2) >= len {
                d.settle();
            }
        }
    }

    /// The top `n` groups of each kind, and the totals. The four tables are
    /// read side by side (on the pool this runs in): counting the distinct
    /// peers of each row gathers the rows' pairs from every thread's table.
    /// Mutable because the last few REJECTs given to [`Sink::record`] may
    /// still wait to be added to their groups: they are added first.
    pub fn report(&mut self, n: usize) -> RejectsReport {
        self.flush();
        let c = &self.config;
        let dirs = self.directions;
        let ((interfaces, ports), (sources, destinations)) = rayon::join(
            || {
                rayon::join(
                    || {
                        top(&self.enis, n, dirs, &self.eni_sources, |peers, k, s| {
                            EniRow {
                                interface_id: k.text().into_owned(),
                                distinct_sources: peers,
                                stats: s,
                            }
                        })
                    },
                    || {
                        top(&self.ports, n, dirs, &self.port_sources, |peers, k, s| {
                            PortRow {
                                port: k.0,
                                protocol: k.1,
                                label: port_label(k.0, k.1),
                                distinct_sources: peers,
                                stats: s,
                            }
                        })
                    },
                )
            },
            || {
                rayon::join(
                    || {
                        top(&self.nets, n, dirs, &self.net_targets, |peers, k, s| {
                            NetRow {
                                cidr: net_label(*k, c.prefix4, c.prefix6, false),
                                distinct_destinations: peers,
                                stats: s,
                            }
                        })
                    },
                    || {
                        top(&self.dsts, n, dirs, &self.dst_sources, |peers, k, s| {
                            DstRow {
                                destination: net_label(*k, c.dst_prefix4, c.dst_prefix6, true),
                                distinct_sources: peers,
                                stats: s,
                            }
                        })
                    },
                )
            },
        );
        let saturated = interfaces
            .iter()
            .map(|r| &r.stats)
            .chain(ports.iter().map(|r| &r.stats))
            .chain(sources.iter().map(|r| &r.stats))
            .chain(destinations.iter().map(|r| &r.stats))
            .any(|s| s.packets == u64::MAX || s.bytes == u64::MAX);
        RejectsReport {
            records: self.records,
            accepts: self.accepts,
            rejects: self.rejects,
            nodata: self.nodata,
            skipdata: self.skipdata,
            first_start: self.first,
            last_end: self.last,
            prefix4: c.prefix4,
            prefix6: c.prefix6,
            dst_prefix4: c.dst_prefix4,
            dst_prefix6: c.dst_prefix6,
            directions: dirs,
            approximate: self.approximation(),
            saturated,
            interfaces,
            ports,
            sources,
            destinations,
        }
    }
}

/// `203.0.113.0/24`; a whole address without its length when `bare`.
fn net_label(k: NetKey, p4: u8, p6: u8, bare: bool) -> String {
    match k {
        NetKey::V4(a) if bare && p4 == 32 => std::net::Ipv4Addr::from(a).to_string(),
        NetKey::V6(a) if bare && p6 == 128 => std::net::Ipv6Addr::from(a).to_string(),
        NetKey::V4(a) => format!("{}/{p4}", std::net::Ipv4Addr::from(a)),
        NetKey::V6(a) => format!("{}/{p6}", std::net::Ipv6Addr::from(a)),
        NetKey::Missing => "-".to_string(),
    }
}

impl Sink for Rejects {
    fn needs(&self) -> FieldSet {
        FieldSet::of(&[Field::Action])
    }

    fn reads(&self) -> FieldSet {
        FieldSet::of(&[
            Field::Start,
            Field::End,
            Field::Action,
            Field::LogStatus,
            Field::InterfaceId,
            Field::SrcAddr,
            Field::DstAddr,
            Field::DstPort,
            Field::Protocol,
            Field::Packets,
            Field::Bytes,
            Field::FlowDirection,
        ])
    }

    #[inline]
    fn record<R: FlowRecord>(&mut self, r: &R, _pos: &Position<'_>) -> Result<(), SinkError> {
        let start = r.int(Field::Start)?;
        let end = r.int(Field::End)?;
        match r.text(Field::Action) {
            Some(b"REJECT") => self.add_reject(r, start, end)?,
            Some(b"ACCEPT") => self.accepts += 1,
            _ => {}
        }
        match r.text(Field::LogStatus) {
            Some(b"NODATA") => self.nodata += 1,
            Some(b"SKIPDATA") => self.skipdata += 1,
            _ => {}
        }
        self.records += 1;
        self.first = min_opt(self.first, start);
        self.last = max_opt(self.last, end);
        Ok(())
    }

    fn end_file(&mut self, _: &FileInfo<'_>) {
        self.flush();
    }

    fn finish(&mut self) -> Result<(), SinkError> {
        self.flush();
        Ok(())
    }
}

/// Merges another's groups and their distinct pairs into `groups` and
/// `distinct`; the pairs only `later` when memory is plentiful.
fn merge_table<K: Hash + Eq>(
    groups: &mut Groups<K>,
    distinct: &mut Distinct,
    (o_groups, o_distinct): (Groups<K>, Distinct),
    later: bool,
) {
    let remap = groups.merge(o_groups);
    if later {
        distinct.merge_later(o_distinct, &remap);
    } else {
        distinct.merge(o_distinct, &remap);
    }
}

impl Aggregate for Rejects {
    fn merge(&mut self, mut o: Rejects) {
        self.flush();
        o.flush();
        self.records += o.records;
        self.accepts += o.accepts;
        self.rejects += o.rejects;
        self.nodata += o.nodata;
        self.skipdata += o.skipdata;
        self.first = min_opt(self.first, o.first);
        self.last = max_opt(self.last, o.last);
        // Distinct pairs are merged when needed, unless the budget is half
        // used: then now, as a merge frees what both sides held twice.
        let later = self.share.as_ref().is_none_or(Share::roomy);
        // The four tables are independent: merged side by side, as the last
        // merges of a scan run while the other threads have nothing to do.
        let (enis, ports) = ((o.enis, o.eni_sources), (o.ports, o.port_sources));
        let (nets, dsts) = ((o.nets, o.net_targets), (o.dsts, o.dst_sources));
        rayon::join(
            || {
                rayon::join(
                    || merge_table(&mut self.enis, &mut self.eni_sources, enis, later),
                    || merge_table(&mut self.ports, &mut self.port_sources, ports, later),
                )
            },
            || {
                rayon::join(
                    || merge_table(&mut self.nets, &mut self.net_targets, nets, later),
                    || merge_table(&mut self.dsts, &mut self.dst_sources, dsts, later),
                )
            },
        );
        self.directions |= o.directions;
        // A group dropped by one side may have been counted by the other.
        self.error += o.error;
        // Its tables are in these now: its share of the budget goes.
        drop(o.share.take());
        self.enforce();
    }
}
