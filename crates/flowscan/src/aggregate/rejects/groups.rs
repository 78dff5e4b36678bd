//! Group tables of the REJECT hotspots: sums per key, keys found by hash,
//! the smaller half dropped when memory runs short.

use std::hash::{BuildHasher, Hash};

use foldhash::fast::RandomState;
use hashbrown::HashTable;

use super::rows::RowStats;
use crate::aggregate::distinct::Distinct;
use crate::parse::ValueError;
use crate::schema::Field;

/// Sums for one group. First and last seen are kept without `Option` (the
/// field is at most `i64::MAX`, so `u64::MAX` and `-1` are free to mean
/// "none"), and the direction counts apart (see [`Groups::dirs`]): 40 bytes a
/// group instead of 72, and there are tens of thousands of groups per thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Stats {
    pub records: u64,
    pub packets: u64,
    pub bytes: u64,
    /// The earliest start; `u64::MAX` for none.
    first: u64,
    /// The latest end; `-1` for none.
    last: i64,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            records: 0,
            packets: 0,
            bytes: 0,
            first: u64::MAX,
            last: -1,
        }
    }
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
        self.first = self.first.min(h.start.unwrap_or(u64::MAX));
        self.last = self
            .last
            .max(h.end.map_or(-1, |e| e.min(i64::MAX as u64) as i64));
    }

    pub fn merge(&mut self, o: &Stats) {
        self.records += o.records;
        self.packets = self.packets.saturating_add(o.packets);
        self.bytes = self.bytes.saturating_add(o.bytes);
        self.first = self.first.min(o.first);
        self.last = self.last.max(o.last);
    }

    /// The earliest start seen, if any.
    pub fn first(&self) -> Option<u64> {
        (self.first != u64::MAX).then_some(self.first)
    }

    /// The latest end seen, if any.
    pub fn last(&self) -> Option<u64> {
        u64::try_from(self.last).ok()
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
///
/// The hash table holds only each group's index, and compares keys in `keys`:
/// a table of keys as well would hold every key twice (an IPv6-capable network
/// key and its index take 48 bytes a slot, against 4).
pub(super) struct Groups<K> {
    index: HashTable<u32>,
    hasher: RandomState,
    pub keys: Vec<K>,
    pub stats: Vec<Stats>,
    /// Records whose `flow-direction` was ingress, and egress, per group:
    /// empty until a record says, then as long as the last group that had
    /// one (the groups after it had none). Most logs do not carry the field,
    /// and in [`Stats`] the two counts took 16 of 56 bytes a group.
    dirs: Vec<[u64; 2]>,
}

impl<K> Default for Groups<K> {
    fn default() -> Self {
        Groups {
            index: HashTable::new(),
            hasher: RandomState::default(),
            keys: Vec::new(),
            stats: Vec::new(),
            dirs: Vec::new(),
        }
    }
}

impl<K> Groups<K> {
    /// Adds a record to group `i`.
    #[inline]
    pub fn add(&mut self, i: u32, h: &Hit) {
        self.stats[i as usize].add(h);
        if h.direction != 0 {
            let mut d = [0; 2];
            d[usize::from(h.direction == 2)] = 1;
            self.add_dirs(i as usize, d);
        }
    }

    /// Adds direction counts to group `i`.
    fn add_dirs(&mut self, i: usize, d: [u64; 2]) {
        if d == [0; 2] {
            return;
        }
        if self.dirs.len() <= i {
            self.dirs.resize(self.keys.len(), [0; 2]);
        }
        let x = &mut self.dirs[i];
        x[0] += d[0];
        x[1] += d[1];
    }

    /// Records of group `i` whose direction was ingress, and egress.
    pub fn dirs(&self, i: usize) -> [u64; 2] {
        self.dirs.get(i).copied().unwrap_or_default()
    }
}

impl<K: Hash + Eq> Groups<K> {
    #[inline]
    pub fn slot(&mut self, key: K) -> u32 {
        let hash = self.hasher.hash_one(&key);
        let keys = &self.keys;
        if let Some(&i) = self.index.find(hash, |&i| keys[i as usize] == key) {
            return i;
        }
        self.insert(hash, key)
    }

    /// Adds a group the table does not have; `hash` is its key's.
    fn insert(&mut self, hash: u64, key: K) -> u32 {
        let i = self.keys.len() as u32;
        if self.keys.len() == self.keys.capacity() {
            // Grown by half, not doubled: tens of thousands of groups per
            // thread, and doubling leaves up to half of them as empty room.
            let more = self.keys.len() / 2 + 16;
            self.keys.reserve_exact(more);
            self.stats.reserve_exact(more);
        }
        let (keys, hasher) = (&self.keys, &self.hasher);
        self.index
            .insert_unique(hash, i, |&j| hasher.hash_one(&keys[j as usize]));
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
        let mut dirs = Vec::new();
        let mut old_keys: Vec<Option<K>> = std::mem::take(&mut self.keys)
            .into_iter()
            .map(Some)
            .collect();
        for (rank, &i) in order.iter().enumerate() {
            if rank < keep {
                remap[i] = keys.len() as u32;
                keys.push(old_keys[i].take().expect("each key once"));
                stats.push(self.stats[i]);
                if !self.dirs.is_empty() {
                    dirs.push(self.dirs(i));
                }
            } else {
                dropped_max = dropped_max.max(self.stats[i].records);
            }
        }
        self.index.clear();
        for (i, k) in keys.iter().enumerate() {
            let hash = self.hasher.hash_one(k);
            let hasher = &self.hasher;
            self.index
                .insert_unique(hash, i as u32, |&j| hasher.hash_one(&keys[j as usize]));
        }
        self.keys = keys;
        self.stats = stats;
        self.dirs = dirs;
        (remap, dropped_max)
    }

    /// Rough bytes used per group, key included.
    pub fn bytes(&self, per_key: usize) -> usize {
        self.index.capacity() * 5
            + self.keys.capacity() * per_key
            + self.stats.capacity() * std::mem::size_of::<Stats>()
            + self.dirs.capacity() * 16
    }

    /// Merges `other`'s groups in; returns where each of its indices went.
    pub fn merge(&mut self, mut other: Groups<K>) -> Vec<u32> {
        let mut remap = Vec::with_capacity(other.keys.len());
        let dirs = std::mem::take(&mut other.dirs);
        for (j, (key, stats)) in other.keys.into_iter().zip(other.stats).enumerate() {
            let i = self.slot(key);
            self.stats[i as usize].merge(&stats);
            if let Some(&d) = dirs.get(j) {
                self.add_dirs(i as usize, d);
            }
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
        // A boxed slice hashes as the slice it holds.
        let hash = self.hasher.hash_one(key);
        let keys = &self.keys;
        if let Some(&i) = self.index.find(hash, |&i| *keys[i as usize] == *key) {
            return Ok(i);
        }
        if std::str::from_utf8(key).is_err() {
            return Err(ValueError::new(field, "invalid UTF-8 in", key));
        }
        if key.iter().any(|b| b.is_ascii_control()) {
            return Err(ValueError::new(field, "control character in", key));
        }
        Ok(self.insert(hash, key.into()))
    }
}

/// A destination port and protocol; `None` where the record had `-`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) struct PortKey(pub Option<u16>, pub Option<u8>);

/// A network (address already masked), or no address.
///
/// The addresses are big-endian bytes, not integers: with no field aligned
/// wider than a byte the key takes 17 bytes where `u128`'s alignment made it
/// 32, in tables of tens of thousands of groups per thread; and big-endian
/// bytes order as the integers do, so the derived order is the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum NetKey {
    V4([u8; 4]),
    V6([u8; 16]),
    Missing,
}

impl NetKey {
    pub fn v4(a: u32) -> NetKey {
        NetKey::V4(a.to_be_bytes())
    }

    pub fn v6(a: u128) -> NetKey {
        NetKey::V6(a.to_be_bytes())
    }
}

/// Sorts groups by records (most first), then by key, and builds the first
/// `n` rows; direction counts are given when `directions` (the logs carry them).
pub(super) fn top<K: Ord, T>(
    g: &Groups<K>,
    n: usize,
    directions: bool,
    peers: &Distinct,
    row: impl Fn(u64, &K, RowStats) -> T,
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
    let peers = peers.counts_of(&order);
    order
        .into_iter()
        .zip(peers)
        .map(|(i, peers)| {
            let s = g.stats[i];
            let [ingress, egress] = g.dirs(i);
            row(
                peers,
                &g.keys[i],
                RowStats {
                    records: s.records,
                    packets: s.packets,
                    bytes: s.bytes,
                    first_seen: s.first(),
                    last_seen: s.last(),
                    ingress: directions.then_some(ingress),
                    egress: directions.then_some(egress),
                },
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::NetKey;

    #[test]
    fn a_network_key_takes_17_bytes() {
        assert_eq!(std::mem::size_of::<NetKey>(), 17);
    }

    proptest! {
        /// Keys order as their addresses do, IPv4 before IPv6 before none,
        /// which is how rows tied on records are ordered.
        #[test]
        fn network_keys_order_as_their_addresses(a: u32, b: u32, x: u128, y: u128) {
            prop_assert_eq!(NetKey::v4(a).cmp(&NetKey::v4(b)), a.cmp(&b));
            prop_assert_eq!(NetKey::v6(x).cmp(&NetKey::v6(y)), x.cmp(&y));
            prop_assert!(NetKey::v4(a) < NetKey::v6(x));
            prop_assert!(NetKey::v6(x) < NetKey::Missing);
        }
    }
}
