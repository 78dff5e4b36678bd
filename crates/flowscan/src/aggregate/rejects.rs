//! REJECT hotspots: top interfaces, destination ports and source networks.

use std::hash::Hash;
use std::net::IpAddr;

use foldhash::fast::RandomState;
use hashbrown::HashMap;
use serde::Serialize;

use super::distinct::Distinct;
use super::{Aggregate, Sink};
use crate::parse::ValueError;
use crate::record::FlowRecord;
use crate::schema::{Field, FieldSet};
use crate::sink::Position;

/// How source addresses are rolled up into networks.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct RejectsConfig {
    /// Prefix length for IPv4 sources (default 24).
    pub prefix4: u8,
    /// Prefix length for IPv6 sources (default 64).
    pub prefix6: u8,
    /// Bytes this aggregate may use for groups and distinct addresses (`None`:
    /// no limit). Past it, the smallest groups are dropped and distinct
    /// addresses are sampled, and the report says the result is approximate.
    pub memory: Option<usize>,
}

impl Default for RejectsConfig {
    fn default() -> Self {
        RejectsConfig {
            prefix4: 24,
            prefix6: 64,
            memory: None,
        }
    }
}

/// Sums for one group.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Stats {
    records: u64,
    packets: u64,
    bytes: u64,
    first: Option<u64>,
    last: Option<u64>,
}

impl Stats {
    #[inline]
    fn add(&mut self, packets: u64, bytes: u64, start: Option<u64>, end: Option<u64>) {
        self.records += 1;
        self.packets = self.packets.saturating_add(packets);
        self.bytes = self.bytes.saturating_add(bytes);
        self.first = min_opt(self.first, start);
        self.last = max_opt(self.last, end);
    }

    fn merge(&mut self, o: &Stats) {
        self.records += o.records;
        self.packets = self.packets.saturating_add(o.packets);
        self.bytes = self.bytes.saturating_add(o.bytes);
        self.first = min_opt(self.first, o.first);
        self.last = max_opt(self.last, o.last);
    }
}

#[inline]
fn min_opt(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

#[inline]
fn max_opt(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    a.max(b)
}

/// Groups keyed by `K`, each with an index used by the distinct-address sets.
struct Groups<K> {
    index: HashMap<K, u32, RandomState>,
    keys: Vec<K>,
    stats: Vec<Stats>,
}

impl<K> Default for Groups<K> {
    fn default() -> Self {
        Groups {
            index: HashMap::default(),
            keys: Vec::new(),
            stats: Vec::new(),
        }
    }
}

impl<K: Hash + Eq + Clone> Groups<K> {
    #[inline]
    fn slot(&mut self, key: K) -> u32 {
        if let Some(&i) = self.index.get(&key) {
            return i;
        }
        self.insert(key)
    }

    fn insert(&mut self, key: K) -> u32 {
        let i = self.keys.len() as u32;
        self.index.insert(key.clone(), i);
        self.keys.push(key);
        self.stats.push(Stats::default());
        i
    }

    /// Drops the half of the groups with the fewest records; returns where each
    /// old index went (`u32::MAX`: dropped) and the most records a dropped group
    /// had, which bounds how far any count can now be low.
    fn evict_half(&mut self) -> (Vec<u32>, u64) {
        let n = self.keys.len();
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_unstable_by_key(|&i| std::cmp::Reverse(self.stats[i].records));
        let keep = n / 2;
        let mut dropped_max = 0;
        let mut remap = vec![u32::MAX; n];
        let mut keys = Vec::with_capacity(keep);
        let mut stats = Vec::with_capacity(keep);
        let mut old_keys: Vec<Option<K>> = std::mem::take(&mut self.keys)
            .into_iter()
            .map(Some)
            .collect();
        for (rank, &i) in order.iter().enumerate() {
            if rank < keep {
                remap[i] = keys.len() as u32;
                keys.push(old_keys[i].take().expect("each key once"));
                stats.push(self.stats[i]);
            } else {
                dropped_max = dropped_max.max(self.stats[i].records);
            }
        }
        self.index.clear();
        for (i, k) in keys.iter().enumerate() {
            self.index.insert(k.clone(), i as u32);
        }
        self.keys = keys;
        self.stats = stats;
        (remap, dropped_max)
    }

    /// Rough bytes used per group, key included.
    fn bytes(&self, per_key: usize) -> usize {
        self.index.capacity() * (per_key + 8)
            + self.keys.capacity() * per_key
            + self.stats.capacity() * std::mem::size_of::<Stats>()
    }

    /// Merges `other`'s groups in; returns where each of its indices went.
    fn merge(&mut self, other: Groups<K>) -> Vec<u32> {
        let mut remap = Vec::with_capacity(other.keys.len());
        for (key, stats) in other.keys.into_iter().zip(other.stats) {
            let i = self.slot(key);
            self.stats[i as usize].merge(&stats);
            remap.push(i);
        }
        remap
    }
}

impl Groups<Box<[u8]>> {
    /// Looks a text key up without allocating unless it is new; new keys must be
    /// UTF-8 (so that every key can be printed and compared as text).
    #[inline]
    fn slot_text(&mut self, key: &[u8], field: Field) -> Result<u32, ValueError> {
        if let Some(&i) = self.index.get(key) {
            return Ok(i);
        }
        if std::str::from_utf8(key).is_err() {
            return Err(ValueError::new(field, "invalid UTF-8 in", key));
        }
        if key.iter().any(|b| b.is_ascii_control()) {
            return Err(ValueError::new(field, "control character in", key));
        }
        Ok(self.insert(key.into()))
    }
}

/// A destination port and protocol; `None` where the record had `-`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct PortKey(Option<u16>, Option<u8>);

/// A source network (address already masked), or no address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum NetKey {
    V4(u32),
    V6(u128),
    Missing,
}

/// The REJECT hotspot aggregation behind `flowscan rejects`.
///
/// Counts every record it is given (accepts, rejects, NODATA, SKIPDATA, time
/// span) and, for REJECT records, groups by interface, by destination port and
/// protocol, and by source network, with packets, bytes, distinct peers and
/// first/last seen.
pub struct Rejects {
    config: RejectsConfig,
    mask4: u32,
    mask6: u128,
    records: u64,
    accepts: u64,
    rejects: u64,
    nodata: u64,
    skipdata: u64,
    first: Option<u64>,
    last: Option<u64>,
    enis: Groups<Box<[u8]>>,
    ports: Groups<PortKey>,
    nets: Groups<NetKey>,
    eni_sources: Distinct,
    port_sources: Distinct,
    net_targets: Distinct,
    /// How many records a group's count may be low by, after groups were
    /// dropped to stay within the memory budget.
    error: u64,
    /// REJECT records since the memory use was last checked.
    unchecked: u32,
}

/// How an over-budget result is approximate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Approximation {
    /// The memory budget, in bytes.
    pub budget: usize,
    /// A group's record count may be low by at most this much (groups with
    /// fewer records were dropped, and may have come back later).
    pub records_low_by_at_most: u64,
    /// Distinct counts are estimated from 1 address in this many.
    pub distinct_sampled_one_in: u64,
}

/// Rough bytes per key of each group table (key, index entry, allocation).
const ENI_KEY: usize = 64;
const PORT_KEY: usize = 16;
const NET_KEY: usize = 40;

impl Rejects {
    /// An empty aggregation.
    pub fn new(config: RejectsConfig) -> Rejects {
        let p4 = config.prefix4.min(32);
        let p6 = config.prefix6.min(128);
        Rejects {
            config: RejectsConfig {
                prefix4: p4,
                prefix6: p6,
                memory: config.memory,
            },
            mask4: if p4 == 0 { 0 } else { u32::MAX << (32 - p4) },
            mask6: if p6 == 0 { 0 } else { u128::MAX << (128 - p6) },
            records: 0,
            accepts: 0,
            rejects: 0,
            nodata: 0,
            skipdata: 0,
            first: None,
            last: None,
            enis: Groups::default(),
            ports: Groups::default(),
            nets: Groups::default(),
            eni_sources: Distinct::default(),
            port_sources: Distinct::default(),
            net_targets: Distinct::default(),
            error: 0,
            unchecked: 0,
        }
    }

    /// Rough bytes used by groups and distinct pairs.
    fn bytes(&self) -> usize {
        self.enis.bytes(ENI_KEY)
            + self.ports.bytes(PORT_KEY)
            + self.nets.bytes(NET_KEY)
            + self.eni_sources.bytes()
            + self.port_sources.bytes()
            + self.net_targets.bytes()
    }

    /// Brings memory use under the budget: first by sampling distinct pairs
    /// more sparsely, then by dropping the smaller half of the largest group
    /// table.
    fn enforce(&mut self) {
        let Some(budget) = self.config.memory else {
            return;
        };
        let mut rounds = 0;
        while self.bytes() > budget && rounds < 64 {
            rounds += 1;
            let distinct =
                self.eni_sources.bytes() + self.port_sources.bytes() + self.net_targets.bytes();
            if distinct > budget / 2 {
                let level = self
                    .eni_sources
                    .level
                    .max(self.port_sources.level)
                    .max(self.net_targets.level)
                    + 1;
                for d in [
                    &mut self.eni_sources,
                    &mut self.port_sources,
                    &mut self.net_targets,
                ] {
                    d.sample(level);
                }
                continue;
            }
            let (e, p, n) = (
                self.enis.bytes(ENI_KEY),
                self.ports.bytes(PORT_KEY),
                self.nets.bytes(NET_KEY),
            );
            if e >= p && e >= n && self.enis.keys.len() > 1 {
                let (remap, low) = self.enis.evict_half();
                self.eni_sources.remap(&remap);
                self.error = self.error.max(low);
            } else if n >= p && self.nets.keys.len() > 1 {
                let (remap, low) = self.nets.evict_half();
                self.net_targets.remap(&remap);
                self.error = self.error.max(low);
            } else if self.ports.keys.len() > 1 {
                let (remap, low) = self.ports.evict_half();
                self.port_sources.remap(&remap);
                self.error = self.error.max(low);
            } else {
                break;
            }
        }
    }

    /// How the result is approximate, if memory ran short.
    pub fn approximation(&self) -> Option<Approximation> {
        let level = self
            .eni_sources
            .level
            .max(self.port_sources.level)
            .max(self.net_targets.level);
        (self.error > 0 || level > 0).then(|| Approximation {
            budget: self.config.memory.unwrap_or(0),
            records_low_by_at_most: self.error,
            distinct_sampled_one_in: 1 << level,
        })
    }

    #[inline]
    fn net(&self, addr: Option<IpAddr>) -> NetKey {
        match addr {
            Some(IpAddr::V4(a)) => NetKey::V4(u32::from(a) & self.mask4),
            Some(IpAddr::V6(a)) => NetKey::V6(u128::from(a) & self.mask6),
            None => NetKey::Missing,
        }
    }

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
        let eni = self.enis.slot_text(
            r.text(Field::InterfaceId).unwrap_or(b"-"),
            Field::InterfaceId,
        )?;

        self.rejects += 1;
        self.enis.stats[eni as usize].add(packets, bytes, start, end);
        let p = self.ports.slot(PortKey(port, proto));
        self.ports.stats[p as usize].add(packets, bytes, start, end);
        let n = self.nets.slot(self.net(src));
        self.nets.stats[n as usize].add(packets, bytes, start, end);
        if let Some(src) = src {
            self.eni_sources.insert(eni, src);
            self.port_sources.insert(p, src);
        }
        if let Some(dst) = dst {
            self.net_targets.insert(n, dst);
        }
        if self.config.memory.is_some() {
            self.unchecked += 1;
            if self.unchecked >= 4096 {
                self.unchecked = 0;
                self.enforce();
            }
        }
        Ok(())
    }

    /// The top `n` groups of each kind, and the totals.
    pub fn report(&mut self, n: usize) -> RejectsReport {
        // Deduplicate the distinct pairs in place rather than in a copy: at the
        // end of a large scan they are the biggest thing in memory.
        for d in [
            &mut self.eni_sources,
            &mut self.port_sources,
            &mut self.net_targets,
        ] {
            d.sample(d.level);
        }
        let eni_peers = self.eni_sources.counts(self.enis.keys.len());
        let port_peers = self.port_sources.counts(self.ports.keys.len());
        let net_peers = self.net_targets.counts(self.nets.keys.len());
        RejectsReport {
            records: self.records,
            accepts: self.accepts,
            rejects: self.rejects,
            nodata: self.nodata,
            skipdata: self.skipdata,
            first_start: self.first,
            last_end: self.last,
            prefix4: self.config.prefix4,
            prefix6: self.config.prefix6,
            approximate: self.approximation(),
            interfaces: top(&self.enis, n, |i, k, s| EniRow {
                interface_id: String::from_utf8_lossy(k).into_owned(),
                distinct_sources: eni_peers[i],
                stats: s,
            }),
            ports: top(&self.ports, n, |i, k, s| PortRow {
                port: k.0,
                protocol: k.1,
                label: port_label(k.0, k.1),
                distinct_sources: port_peers[i],
                stats: s,
            }),
            sources: top(&self.nets, n, |i, k, s| NetRow {
                cidr: self.net_label(*k),
                distinct_destinations: net_peers[i],
                stats: s,
            }),
        }
    }

    fn net_label(&self, k: NetKey) -> String {
        match k {
            NetKey::V4(a) => format!("{}/{}", std::net::Ipv4Addr::from(a), self.config.prefix4),
            NetKey::V6(a) => format!("{}/{}", std::net::Ipv6Addr::from(a), self.config.prefix6),
            NetKey::Missing => "-".to_string(),
        }
    }
}

/// Sorts groups by records (most first), then by key, and builds the first `n` rows.
fn top<K: Ord, T>(g: &Groups<K>, n: usize, row: impl Fn(usize, &K, RowStats) -> T) -> Vec<T> {
    let mut order: Vec<usize> = (0..g.keys.len()).collect();
    let cmp = |a: &usize, b: &usize| {
        g.stats[*b]
            .records
            .cmp(&g.stats[*a].records)
            .then_with(|| g.keys[*a].cmp(&g.keys[*b]))
    };
    if n < order.len() {
        if n > 0 {
            order.select_nth_unstable_by(n - 1, cmp);
        }
        order.truncate(n);
    }
    order.sort_unstable_by(cmp);
    order
        .into_iter()
        .map(|i| {
            let s = g.stats[i];
            row(
                i,
                &g.keys[i],
                RowStats {
                    records: s.records,
                    packets: s.packets,
                    bytes: s.bytes,
                    first_seen: s.first,
                    last_seen: s.last,
                },
            )
        })
        .collect()
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
        ])
    }

    #[inline]
    fn record<R: FlowRecord>(&mut self, r: &R, _pos: &Position<'_>) -> Result<(), ValueError> {
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
}

impl Aggregate for Rejects {
    fn merge(&mut self, o: Rejects) {
        self.records += o.records;
        self.accepts += o.accepts;
        self.rejects += o.rejects;
        self.nodata += o.nodata;
        self.skipdata += o.skipdata;
        self.first = min_opt(self.first, o.first);
        self.last = max_opt(self.last, o.last);
        let remap = self.enis.merge(o.enis);
        self.eni_sources.merge(o.eni_sources, &remap);
        let remap = self.ports.merge(o.ports);
        self.port_sources.merge(o.port_sources, &remap);
        let remap = self.nets.merge(o.nets);
        self.net_targets.merge(o.net_targets, &remap);
        // A group dropped by one side may have been counted by the other.
        self.error += o.error;
        self.enforce();
    }
}

/// Common columns of every hotspot row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct RowStats {
    /// REJECT records.
    pub records: u64,
    /// Packets in those records.
    pub packets: u64,
    /// Bytes in those records.
    pub bytes: u64,
    /// Earliest `start` (Unix seconds).
    #[serde(serialize_with = "ser_time")]
    pub first_seen: Option<u64>,
    /// Latest `end` (Unix seconds).
    #[serde(serialize_with = "ser_time")]
    pub last_seen: Option<u64>,
}

/// A row of the top-interfaces table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EniRow {
    /// The interface id, `-` for records without one.
    pub interface_id: String,
    /// Distinct source addresses rejected on it.
    pub distinct_sources: u64,
    /// Sums.
    #[serde(flatten)]
    pub stats: RowStats,
}

/// A row of the top-ports table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PortRow {
    /// Destination port (`None` for `-`).
    pub port: Option<u16>,
    /// IANA protocol number (`None` for `-`).
    pub protocol: Option<u8>,
    /// `22/tcp`-style label.
    pub label: String,
    /// Distinct source addresses rejected on this port.
    pub distinct_sources: u64,
    /// Sums.
    #[serde(flatten)]
    pub stats: RowStats,
}

/// A row of the top-source-networks table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NetRow {
    /// The network, `203.0.113.0/24`, or `-` for records without a source.
    pub cidr: String,
    /// Distinct destination addresses it was rejected on.
    pub distinct_destinations: u64,
    /// Sums.
    #[serde(flatten)]
    pub stats: RowStats,
}

/// The result of [`Rejects::report`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RejectsReport {
    /// Records aggregated (after filters).
    pub records: u64,
    /// ACCEPT records.
    pub accepts: u64,
    /// REJECT records.
    pub rejects: u64,
    /// NODATA records.
    pub nodata: u64,
    /// SKIPDATA records.
    pub skipdata: u64,
    /// Earliest `start` over all records.
    #[serde(serialize_with = "ser_time")]
    pub first_start: Option<u64>,
    /// Latest `end` over all records.
    #[serde(serialize_with = "ser_time")]
    pub last_end: Option<u64>,
    /// IPv4 prefix length of the source networks.
    pub prefix4: u8,
    /// IPv6 prefix length of the source networks.
    pub prefix6: u8,
    /// Set when the memory budget made the result approximate.
    pub approximate: Option<Approximation>,
    /// Top interfaces.
    pub interfaces: Vec<EniRow>,
    /// Top destination ports.
    pub ports: Vec<PortRow>,
    /// Top source networks.
    pub sources: Vec<NetRow>,
}

/// Formats Unix seconds as RFC 3339 UTC (`2026-11-24T10:00:00Z`).
pub fn format_time(secs: u64) -> String {
    i64::try_from(secs)
        .ok()
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| secs.to_string())
}

pub(crate) fn ser_time<S: serde::Serializer>(t: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&format_time(*t)),
        None => s.serialize_none(),
    }
}

/// The usual name of an IANA protocol number.
pub fn protocol_name(p: u8) -> Option<&'static str> {
    Some(match p {
        1 => "icmp",
        2 => "igmp",
        4 => "ipip",
        6 => "tcp",
        17 => "udp",
        41 => "ipv6",
        47 => "gre",
        50 => "esp",
        51 => "ah",
        58 => "icmpv6",
        132 => "sctp",
        _ => return None,
    })
}

/// `22/tcp`, `0/icmp`, `500/99`, `-/-`.
pub fn port_label(port: Option<u16>, proto: Option<u8>) -> String {
    let port = port.map_or_else(|| "-".to_string(), |p| p.to_string());
    let proto = match proto {
        None => "-".to_string(),
        Some(p) => protocol_name(p).map_or_else(|| p.to_string(), str::to_string),
    };
    format!("{port}/{proto}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::Tokens;
    use crate::record::Record;
    use crate::schema::Schema;

    fn feed(agg: &mut Rejects, lines: &[&str]) -> Vec<Result<(), ValueError>> {
        let schema = Schema::default_v2();
        let mut t = Tokens::default();
        lines
            .iter()
            .map(|l| {
                t.split(l.as_bytes());
                agg.record(
                    &Record::new(l.as_bytes(), &t, &schema).unwrap(),
                    &crate::sink::Position::new("t".as_ref(), 0, 1, None),
                )
            })
            .collect()
    }

    const LINES: &[&str] = &[
        "2 1 eni-a 203.0.113.12 10.0.0.1 40000 22 6 2 100 1000 1060 REJECT OK",
        "2 1 eni-a 203.0.113.99 10.0.0.2 40001 22 6 3 200 900 1100 REJECT OK",
        "2 1 eni-b 198.51.100.7 10.0.0.1 40002 3389 6 1 60 2000 2060 REJECT OK",
        "2 1 eni-b 10.0.0.1 10.0.0.9 443 40002 6 1 60 2000 2060 ACCEPT OK",
        "2 1 eni-c 2001:db8:1:2::5 2001:db8::1 0 0 58 1 60 2000 2060 REJECT OK",
        "2 1 - - - - - - - - 500 600 - NODATA",
        "2 1 eni-a - - - - - - - 700 800 - SKIPDATA",
    ];

    #[test]
    fn groups_and_totals() {
        let mut agg = Rejects::new(RejectsConfig::default());
        assert!(feed(&mut agg, LINES).iter().all(Result::is_ok));
        let r = agg.report(10);
        assert_eq!(
            (r.records, r.accepts, r.rejects, r.nodata, r.skipdata),
            (7, 1, 4, 1, 1)
        );
        assert_eq!((r.first_start, r.last_end), (Some(500), Some(2060)));
        assert_eq!(r.interfaces[0].interface_id, "eni-a");
        assert_eq!(r.interfaces[0].distinct_sources, 2);
        assert_eq!(
            r.interfaces[0].stats,
            RowStats {
                records: 2,
                packets: 5,
                bytes: 300,
                first_seen: Some(900),
                last_seen: Some(1100)
            }
        );
        assert_eq!(r.ports[0].label, "22/tcp");
        assert_eq!(r.ports[1].label, "0/icmpv6");
        assert_eq!(r.ports[2].label, "3389/tcp");
        assert_eq!(r.sources[0].cidr, "203.0.113.0/24");
        assert_eq!(r.sources[0].distinct_destinations, 2);
        assert_eq!(r.sources[1].cidr, "198.51.100.0/24");
        assert_eq!(r.sources[2].cidr, "2001:db8:1:2::/64");
    }

    #[test]
    fn merge_equals_one_pass_whatever_the_split() {
        let mut whole = Rejects::new(RejectsConfig::default());
        feed(&mut whole, LINES);
        let want = whole.report(10);
        for cut in 0..=LINES.len() {
            let mut a = Rejects::new(RejectsConfig::default());
            let mut b = Rejects::new(RejectsConfig::default());
            feed(&mut a, &LINES[..cut]);
            feed(&mut b, &LINES[cut..]);
            b.merge(a);
            assert_eq!(b.report(10), want, "cut at {cut}");
        }
    }

    #[test]
    fn bad_token_leaves_the_aggregate_unchanged() {
        let mut agg = Rejects::new(RejectsConfig::default());
        let res = feed(
            &mut agg,
            &["2 1 eni-new 203.0.113.1 10.0.0.1 1 70000 6 1 1 1 2 REJECT OK"],
        );
        assert_eq!(res[0].as_ref().unwrap_err().field, Field::DstPort);
        let r = agg.report(10);
        assert_eq!((r.records, r.rejects), (0, 0));
        assert!(r.interfaces.is_empty());
    }

    #[test]
    fn ties_break_by_key_and_top_n_cuts() {
        let mut agg = Rejects::new(RejectsConfig {
            prefix4: 16,
            prefix6: 48,
            memory: None,
        });
        feed(
            &mut agg,
            &[
                "2 1 eni-z 10.1.2.3 10.0.0.1 1 80 6 1 1 1 2 REJECT OK",
                "2 1 eni-y 10.1.9.9 10.0.0.1 1 80 6 1 1 1 2 REJECT OK",
                "2 1 eni-x 10.2.0.1 10.0.0.1 1 81 17 1 1 1 2 REJECT OK",
            ],
        );
        let r = agg.report(2);
        let enis: Vec<_> = r
            .interfaces
            .iter()
            .map(|e| e.interface_id.as_str())
            .collect();
        assert_eq!(enis, ["eni-x", "eni-y"]);
        assert_eq!(r.sources[0].cidr, "10.1.0.0/16");
        assert_eq!(r.sources[0].stats.records, 2);
        assert_eq!(r.ports[1].label, "81/udp");
    }

    #[test]
    fn labels() {
        assert_eq!(port_label(Some(22), Some(6)), "22/tcp");
        assert_eq!(port_label(None, None), "-/-");
        assert_eq!(port_label(Some(500), Some(99)), "500/99");
        assert_eq!(format_time(1_418_530_010), "2014-12-14T04:06:50Z");
    }
}
