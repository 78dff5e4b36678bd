//! Group tables of the REJECT hotspots: sums per key, keys found by hash,
//! the smaller half dropped when memory runs short.

use std::hash::Hash;

use foldhash::fast::RandomState;
use hashbrown::HashMap;

use super::rows::RowStats;
use crate::parse::ValueError;
use crate::schema::Field;

/// Sums for one group.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Stats {
    pub records: u64,
    pub packets: u64,
    pub bytes: u64,
    pub first: Option<u64>,
    pub last: Option<u64>,
    /// Records whose `flow-direction` was ingress, and egress.
    pub ingress: u64,
    pub egress: u64,
}

/// What one REJECT record adds to each of its groups.
#[derive(Clone, Copy)]
pub(super) struct Hit {
    pub packets: u64,
    pub bytes: u64,
    pub start: Option<u64>,
    pub end: Option<u64>,
    /// 1 for ingress, 2 for egress, 0 when the record does not say.
    pub direction: u8,
}

impl Stats {
    #[inline]
    pub fn add(&mut self, h: &Hit) {
        self.records += 1;
        self.packets = self.packets.saturating_add(h.packets);
        self.bytes = self.bytes.saturating_add(h.bytes);
        self.first = min_opt(self.first, h.start);
        self.last = max_opt(self.last, h.end);
        self.ingress += u64::from(h.direction == 1);
        self.egress += u64::from(h.direction == 2);
    }

    pub fn merge(&mut self, o: &Stats) {
        self.records += o.records;
        self.packets = self.packets.saturating_add(o.packets);
        self.bytes = self.bytes.saturating_add(o.bytes);
        self.first = min_opt(self.first, o.first);
        self.last = max_opt(self.last, o.last);
        self.ingress += o.ingress;
        self.egress += o.egress;
    }
}

#[inline]
pub(super) fn min_opt(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

#[inline]
pub(super) fn max_opt(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    a.max(b)
}

/// Groups keyed by `K`, each with an index used by the distinct-address sets.
pub(super) struct Groups<K> {
    pub index: HashMap<K, u32, RandomState>,
    pub keys: Vec<K>,
    pub stats: Vec<Stats>,
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
    pub fn slot(&mut self, key: K) -> u32 {
        if let Some(&i) = self.index.get(&key) {
            return i;
        }
        self.insert(key)
    }

    pub fn insert(&mut self, key: K) -> u32 {
        let i = self.keys.len() as u32;
        self.index.insert(key.clone(), i);
        self.keys.push(key);
        self.stats.push(Stats::default());
        i
    }

    /// Drops the half of the groups with the fewest records; returns where each
    /// old index went (`u32::MAX`: dropped) and the most records a dropped group
    /// had, which bounds how far any count can now be low.
    pub fn evict_half(&mut self) -> (Vec<u32>, u64) {
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
    pub fn bytes(&self, per_key: usize) -> usize {
        self.index.capacity() * (per_key + 8)
            + self.keys.capacity() * per_key
            + self.stats.capacity() * std::mem::size_of::<Stats>()
    }

    /// Merges `other`'s groups in; returns where each of its indices went.
    pub fn merge(&mut self, other: Groups<K>) -> Vec<u32> {
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
    pub fn slot_text(&mut self, key: &[u8], field: Field) -> Result<u32, ValueError> {
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
pub(super) struct PortKey(pub Option<u16>, pub Option<u8>);

/// A source network (address already masked), or no address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum NetKey {
    V4(u32),
    V6(u128),
    Missing,
}

/// Sorts groups by records (most first), then by key, and builds the first
/// `n` rows; direction counts are given when `directions` (the logs carry them).
pub(super) fn top<K: Ord, T>(
    g: &Groups<K>,
    n: usize,
    directions: bool,
    row: impl Fn(usize, &K, RowStats) -> T,
) -> Vec<T> {
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
                    ingress: directions.then_some(s.ingress),
                    egress: directions.then_some(s.egress),
                },
            )
        })
        .collect()
}
