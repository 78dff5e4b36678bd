//! The `top` aggregation: groups by an encoded key, with a memory budget.

use std::collections::VecDeque;
use std::hash::BuildHasher;
use std::net::IpAddr;

use super::table::KeyTable;
use super::{
    decode, mask, push_addr, push_int, KeyPart, KeyValue, Measure, TopConfig, TopReport, TopRow,
};
use super::{MISSING, PRESENT};
use crate::aggregate::budget::{MemoryBudget, Share};
use crate::aggregate::distinct::Distinct;
use crate::aggregate::rejects::Approximation;
use crate::aggregate::{Aggregate, Sink};
use crate::parse::{decode_text, ValueError};
use crate::record::FlowRecord;
use crate::schema::{FieldSet, Kind};
use crate::sink::{FileInfo, Position, SinkError};

/// Groups records by a composite key. Keys are encoded into bytes that sort as
/// the values do (numbers big-endian, missing values first), so a group is
/// found by its encoded bytes without allocating, and ties break in value order.
///
/// Past the memory budget ([`TopConfig::memory`]), distinct values are sampled
/// (1 in 2, 4, … by a fixed hash; counts scaled back up) while they are the
/// larger part, else the half of the groups with the smallest measure is
/// dropped; the largest measure dropped bounds how low any count can be.
pub struct Top {
    config: TopConfig,
    pub(super) groups: KeyTable,
    distinct: Distinct,
    scratch: Vec<u8>,
    hasher: foldhash::fast::FixedState,
    /// How many records (and how much of the sum) a group may be low by.
    low_records: u64,
    low_sum: u64,
    share: Option<Share>,
    /// Records whose key is encoded and not yet added (see [`LAG`]): empty
    /// whenever a run of records has ended.
    pub(super) pending: VecDeque<Queued>,
    /// Key buffers of records added, for the next records' keys.
    pub(super) spare: Vec<Vec<u8>>,
}

/// Records with their keys encoded and not yet added to their groups, at
/// most. A lookup waits on three cache misses in a row (see
/// [`KeyTable`]); each is asked for one record ahead, so a record is added
/// three records after it came.
const LAG: usize = 3;

/// The longest key buffer kept for the next records' keys.
const SPARE_KEY: usize = 1024;

/// A record's key, its hash and what it adds, waiting to be added.
pub(super) struct Queued {
    key: Vec<u8>,
    hash: u64,
    sum: u64,
    distinct: Option<u128>,
}

impl Top {
    /// An empty aggregation.
    pub fn new(config: TopConfig) -> Top {
        let sums = matches!(config.measure, Measure::Sum(_));
        Top {
            share: config.memory.as_ref().map(MemoryBudget::share),
            config,
            groups: KeyTable::new(sums),
            distinct: Distinct::default(),
            scratch: Vec::new(),
            // A fixed seed: the hash of distinct text values must agree across threads.
            hasher: foldhash::fast::FixedState::with_seed(0x6a09_e667_f3bc_c908),
            low_records: 0,
            low_sum: 0,
            pending: VecDeque::with_capacity(LAG + 1),
            spare: Vec::new(),
        }
    }

    /// Asks for the slot of `q`'s group, for the groups and keys of the
    /// records queued before it, and adds the one queued [`LAG`] before it.
    #[inline]
    fn queue(&mut self, q: Queued) {
        let n = self.pending.len();
        self.groups.prefetch(q.hash);
        if let Some(b) = n.checked_sub(1).and_then(|i| self.pending.get(i)) {
            self.groups.prefetch_group(b.hash);
        }
        if let Some(c) = n.checked_sub(2).and_then(|i| self.pending.get(i)) {
            self.groups.prefetch_key(c.hash);
        }
        self.pending.push_back(q);
        if self.pending.len() > LAG {
            if let Some(q) = self.pending.pop_front() {
                self.add(q);
            }
        }
    }

    /// Adds every queued record to its group, oldest first.
    fn flush(&mut self) {
        while let Some(q) = self.pending.pop_front() {
            self.add(q);
        }
    }

    #[inline]
    fn add(&mut self, mut q: Queued) {
        let i = self.groups.slot_hashed(&q.key, q.hash);
        self.groups.add(i, 1, q.sum);
        if let Some(v) = q.distinct {
            self.distinct.insert_raw(i, v);
        }
        // A long key's buffer is not kept: the spares are not counted in the
        // memory budget, and a hostile line can hold a key of megabytes.
        if q.key.capacity() <= SPARE_KEY {
            q.key.clear();
            self.spare.push(q.key);
        }
        if self.share.as_mut().is_some_and(Share::due) {
            let _ = self.enforce();
        }
    }

    fn encode<R: FlowRecord>(&mut self, r: &R) -> Result<(), ValueError> {
        self.scratch.clear();
        for part in &self.config.by {
            match *part {
                KeyPart::Field(f) => match f.kind() {
                    Kind::Int32 | Kind::Int64 => push_int(&mut self.scratch, r.int(f)?),
                    Kind::Addr => push_addr(&mut self.scratch, r.addr(f)?),
                    Kind::Text => match r.text(f) {
                        None => self.scratch.push(MISSING),
                        Some(t) => {
                            if !printable_ascii(t) {
                                decode_text(f, t)?;
                            }
                            self.scratch.push(PRESENT);
                            self.scratch.extend_from_slice(t);
                            // Text cannot hold NUL (refused above): it ends the value.
                            self.scratch.push(0);
                        }
                    },
                },
                KeyPart::Net(f, p4, p6) => {
                    push_addr(&mut self.scratch, r.addr(f)?.map(|a| mask(a, p4, p6)))
                }
                // A width of 0 (only possible when built by hand) buckets nothing.
                KeyPart::Time(f, width) => push_int(
                    &mut self.scratch,
                    r.int(f)?.map(|t| t - t.checked_rem(width).unwrap_or(0)),
                ),
            }
        }
        Ok(())
    }

    fn measure_value<R: FlowRecord>(&self, r: &R) -> Result<(u64, Option<u128>), ValueError> {
        Ok(match self.config.measure {
            Measure::Count => (0, None),
            Measure::Sum(f) => (r.int(f)?.unwrap_or(0), None),
            Measure::Distinct(f) => (
                0,
                match f.kind() {
                    Kind::Int32 | Kind::Int64 => r.int(f)?.map(u128::from),
                    Kind::Addr => r.addr(f)?.map(|a| match a {
                        // A marker bit keeps IPv4 apart from IPv6 (whose top bit
                        // is unallocated).
                        IpAddr::V4(v) => 1 << 127 | u128::from(u32::from(v)),
                        IpAddr::V6(v) => u128::from(v),
                    }),
                    Kind::Text => r.text(f).map(|t| {
                        let a = self.hasher.hash_one(t);
                        let b = self.hasher.hash_one((t, 0x5bd1_e995u32));
                        u128::from(a) << 64 | u128::from(b)
                    }),
                },
            ),
        })
    }

    /// The key parts groups are made of.
    pub fn by(&self) -> &[KeyPart] {
        &self.config.by
    }

    /// The value rows are ranked by, per group.
    fn values(&mut self) -> Vec<u64> {
        match self.config.measure {
            Measure::Count => self.groups.records.clone(),
            Measure::Sum(_) => self.groups.sums.clone(),
            Measure::Distinct(_) => self.distinct.counts(self.groups.len()),
        }
    }

    /// The top `n` groups by the measure (records, then key, break ties).
    pub fn report(&mut self, n: usize) -> TopReport {
        self.flush();
        let value = self.values();
        let g = &self.groups;
        let cmp = |a: &usize, b: &usize| {
            value[*b]
                .cmp(&value[*a])
                .then(g.records[*b].cmp(&g.records[*a]))
                .then_with(|| g.key(*a).cmp(g.key(*b)))
        };
        let mut order: Vec<usize> = (0..g.len()).collect();
        if n < order.len() {
            if n > 0 {
                order.select_nth_unstable_by(n - 1, cmp);
            }
            order.truncate(n);
        }
        order.sort_unstable_by(cmp);
        let measure = self.config.measure;
        let rows: Vec<TopRow> = order
            .into_iter()
            .map(|i| TopRow {
                key: decode(&self.config.by, g.key(i)),
                records: g.records[i],
                sum: matches!(measure, Measure::Sum(_)).then_some(g.sum(i)),
                distinct: matches!(measure, Measure::Distinct(_)).then_some(value[i]),
            })
            .collect();
        TopReport {
            by: self.config.by.iter().map(|p| p.to_string()).collect(),
            measure: match measure {
                Measure::Count => "records".into(),
                Measure::Sum(f) => format!("sum({f})"),
                Measure::Distinct(f) => format!("distinct({f})"),
            },
            groups: g.len() as u64,
            saturated: rows.iter().any(|r| r.sum == Some(u64::MAX)),
            rows,
            approximate: self.approximation(),
        }
    }

    /// Calls `f` with every group's key, records and sum (when a sum is
    /// measured), in no particular order: for consumers of every group, without
    /// building a report row for each.
    pub fn for_each_group(&mut self, mut f: impl FnMut(&[KeyValue], u64, Option<u64>)) {
        self.flush();
        let sums = matches!(self.config.measure, Measure::Sum(_));
        for i in 0..self.groups.len() {
            let key = decode(&self.config.by, self.groups.key(i));
            f(
                &key,
                self.groups.records[i],
                sums.then(|| self.groups.sum(i)),
            );
        }
    }

    /// [`for_each_group`](Top::for_each_group) in the order of the keys'
    /// encoded values: groups that share their first parts come together, and
    /// within them the last part ascends (a time bucket last: in time order).
    pub fn for_each_group_sorted(&mut self, mut f: impl FnMut(&[KeyValue], u64, Option<u64>)) {
        self.flush();
        let sums = matches!(self.config.measure, Measure::Sum(_));
        let g = &self.groups;
        let mut order: Vec<u32> = (0..g.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| g.key(a as usize).cmp(g.key(b as usize)));
        for i in order {
            let i = i as usize;
            let key = decode(&self.config.by, g.key(i));
            f(&key, g.records[i], sums.then(|| g.sum(i)));
        }
    }

    /// How the result is approximate, if it is.
    pub fn approximation(&self) -> Option<Approximation> {
        (self.low_records > 0 || self.distinct.level > 0).then(|| Approximation {
            budget: self.config.memory.as_ref().map_or(0, MemoryBudget::limit),
            records_low_by_at_most: self.low_records,
            distinct_sampled_one_in: 1 << self.distinct.level,
            sum_low_by_at_most: matches!(self.config.measure, Measure::Sum(_))
                .then_some(self.low_sum),
        })
    }

    /// Rough bytes in use.
    fn bytes(&self) -> usize {
        self.groups.bytes() + self.distinct.bytes() + self.scratch.capacity()
    }

    /// When the scan's groups are over the budget, shrinks these by the
    /// excess; returns where each group number went if groups were dropped.
    fn enforce(&mut self) -> Option<Vec<u32>> {
        let bytes = self.bytes();
        let target = self.share.as_mut()?.target(bytes)?;
        let mut moved: Option<Vec<u32>> = None;
        for _ in 0..64 {
            let bytes = self.bytes();
            if bytes <= target {
                break;
            }
            if self.distinct.bytes() > bytes / 2 && self.distinct.level < 32 {
                self.distinct.sample(self.distinct.level + 1);
            } else if self.groups.len() > 1 {
                let remap = self.drop_half();
                moved = Some(match moved {
                    None => remap,
                    Some(before) => before
                        .into_iter()
                        .map(|i| if i == u32::MAX { i } else { remap[i as usize] })
                        .collect(),
                });
            } else {
                break;
            }
        }
        let bytes = self.bytes();
        if let Some(s) = &mut self.share {
            s.report(bytes);
        }
        moved
    }

    /// Drops the half of the groups with the smallest measure (records for a
    /// distinct count: a group cannot have more distinct values than records);
    /// returns where each old group number went (`u32::MAX`: dropped).
    fn drop_half(&mut self) -> Vec<u32> {
        let g = &self.groups;
        let rank = |i: u32| match self.config.measure {
            Measure::Sum(_) => (g.sum(i as usize), g.records[i as usize]),
            _ => (g.records[i as usize], 0),
        };
        let mut order: Vec<u32> = (0..g.len() as u32).collect();
        let keep = g.len() / 2;
        order.select_nth_unstable_by(keep, |a, b| rank(*b).cmp(&rank(*a)));
        // A group dropped more than once loses its count each time: the bound
        // is the sum of what each drop could take.
        let (mut records, mut sum) = (0, 0);
        for &i in &order[keep..] {
            records = records.max(g.records[i as usize]);
            sum = sum.max(g.sum(i as usize));
        }
        self.low_records += records;
        self.low_sum = self.low_sum.saturating_add(sum);
        order.truncate(keep);
        let remap = self.groups.keep_only(&order);
        drop(order);
        self.distinct.remap(&remap);
        remap
    }
}

/// Whether every byte of `t` is printable ASCII: then it is UTF-8 without a
/// control character, as a key's text must be, and the two checks of other
/// text are not needed (they took 4 % of `top --by interface-id,dstport`).
/// One test per byte and no early exit, so that it runs on whole words.
#[inline]
fn printable_ascii(t: &[u8]) -> bool {
    t.iter().fold(true, |ok, &b| ok & (0x20..0x7f).contains(&b))
}

impl Sink for Top {
    fn needs(&self) -> FieldSet {
        let mut s = FieldSet::EMPTY;
        for p in &self.config.by {
            s.insert(p.field());
        }
        match self.config.measure {
            Measure::Sum(f) | Measure::Distinct(f) => s.insert(f),
            Measure::Count => {}
        }
        s
    }

    fn reads(&self) -> FieldSet {
        self.needs()
    }

    #[inline]
    fn record<R: FlowRecord>(&mut self, r: &R, _pos: &Position<'_>) -> Result<(), SinkError> {
        let (sum, distinct) = self.measure_value(r)?;
        self.encode(r)?;
        let hash = self.groups.hash(&self.scratch);
        let fresh = self.spare.pop().unwrap_or_default();
        let key = std::mem::replace(&mut self.scratch, fresh);
        self.queue(Queued {
            key,
            hash,
            sum,
            distinct,
        });
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

impl Aggregate for Top {
    fn merge(&mut self, mut other: Top) {
        self.flush();
        other.flush();
        let o = &other.groups;
        let mut remap = Vec::with_capacity(o.len());
        for k in 0..o.len() {
            let i = self.groups.slot(o.key(k));
            self.groups.add(i, o.records[k], o.sum(k));
            remap.push(i);
            // Within the budget as it grows, not only once both sides are in.
            if k % 4096 == 4095 && self.share.is_some() {
                if let Some(moved) = self.enforce() {
                    for r in &mut remap {
                        if *r != u32::MAX {
                            *r = moved[*r as usize];
                        }
                    }
                }
            }
        }
        self.distinct.merge(other.distinct, &remap);
        // A group dropped by one side may have been counted by the other.
        self.low_records += other.low_records;
        self.low_sum = self.low_sum.saturating_add(other.low_sum);
        // Its groups are in these now: its share of the budget goes.
        drop(other.share.take());
        let _ = self.enforce();
    }
}
