//! Group tables of the REJECT hotspots: sums per key, keys found by hash,
//! the smaller half dropped when memory runs short.

use std::hash::{BuildHasher, Hash};

use foldhash::fast::RandomState;

use super::rows::RowStats;
use crate::aggregate::distinct::Distinct;
use crate::aggregate::slots::Slots;
use crate::parse::{decode_text, hex_digits, prefetch, ValueError};
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

/// What one REJECT record adds to each of its groups: its first and last
/// seen as [`Stats`] holds them, so that a queued REJECT stays small (see
/// `Pending`).
#[derive(Clone, Copy)]
pub(super) struct Hit {
    pub packets: u64,
    pub bytes: u64,
    /// The start; `u64::MAX` for none.
    first: u64,
    /// The end; `-1` for none.
    last: i64,
}

impl Hit {
    /// Nothing: no packets, bytes, start or end.
    pub const NONE: Hit = Hit {
        packets: 0,
        bytes: 0,
        first: u64::MAX,
        last: -1,
    };

    #[inline]
    pub fn new(packets: u64, bytes: u64, start: Option<u64>, end: Option<u64>) -> Hit {
        Hit {
            packets,
            bytes,
            first: start.unwrap_or(u64::MAX),
            last: end.map_or(-1, |e| e.min(i64::MAX as u64) as i64),
        }
    }
}

impl Stats {
    #[inline]
    pub fn add(&mut self, h: &Hit) {
        self.records += 1;
        self.packets = self.packets.saturating_add(h.packets);
        self.bytes = self.bytes.saturating_add(h.bytes);
        self.first = self.first.min(h.first);
        self.last = self.last.max(h.last);
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
/// The hash table holds only each group's index (and a tag of its hash),
/// and compares keys in `groups`: a table of keys as well would hold every
/// key twice (an IPv6-capable network key and its index take 48 bytes a
/// slot, against 4).
pub(super) struct Groups<K> {
    index: Slots,
    hasher: RandomState,
    /// Each group's key beside its sums, 64 bytes for a network: a lookup
    /// compares the key, and the record is then added to the sums fetched
    /// with it (held apart, with tens of thousands of networks a thread, the
    /// key and the sums each took a cache miss).
    pub groups: Vec<Group<K>>,
    /// Records whose `flow-direction` was ingress, and egress, per group:
    /// empty until a record says, then as long as the last group that had
    /// one (the groups after it had none). Most logs do not carry the field,
    /// and in [`Stats`] the two counts took 16 of 56 bytes a group.
    dirs: Vec<[u64; 2]>,
}

impl<K> Default for Groups<K> {
    fn default() -> Self {
        Groups {
            index: Slots::default(),
            hasher: RandomState::default(),
            groups: Vec::new(),
            dirs: Vec::new(),
        }
    }
}

/// One group: its key and its sums.
#[derive(Clone, Debug)]
pub(super) struct Group<K> {
    pub key: K,
    pub stats: Stats,
}

impl<K> Groups<K> {
    /// Number of groups.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// Adds a record to group `i`; `direction` is 1 for ingress, 2 for
    /// egress, 0 when the record does not say.
    #[inline]
    pub fn add(&mut self, i: u32, h: &Hit, direction: u8) {
        self.groups[i as usize].stats.add(h);
        if direction != 0 {
            let mut d = [0; 2];
            d[usize::from(direction == 2)] = 1;
            self.add_dirs(i as usize, d);
        }
    }

    /// Adds direction counts to group `i`.
    fn add_dirs(&mut self, i: usize, d: [u64; 2]) {
        if d == [0; 2] {
            return;
        }
        if self.dirs.len() <= i {
            self.dirs.resize(self.groups.len(), [0; 2]);
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
        let hash = self.hash(&key);
        self.slot_hashed(key, hash)
    }

    /// The hash [`slot_hashed`](Self::slot_hashed) takes.
    #[inline]
    pub fn hash(&self, key: &K) -> u64 {
        self.hasher.hash_one(key)
    }

    /// Asks for the cache line where a lookup of `hash` starts, so that a
    /// [`slot_hashed`](Self::slot_hashed) made later finds it in cache.
    #[inline]
    pub fn prefetch(&self, hash: u64) {
        self.index.prefetch(hash);
    }

    /// Asks for the group a lookup of `hash` will most likely find, the
    /// first whose slot has the hash's tag, once that slot is in cache
    /// (asked for by [`prefetch`](Self::prefetch) earlier).
    #[inline]
    pub fn prefetch_group(&self, hash: u64) {
        if let Some(i) = self.index.likely(hash) {
            prefetch(&self.groups, i as usize);
        }
    }

    /// [`slot`](Self::slot) of a key whose [`hash`](Self::hash) is known.
    #[inline]
    pub fn slot_hashed(&mut self, key: K, hash: u64) -> u32 {
        let groups = &self.groups;
        if let Some(i) = self.index.find(hash, |i| groups[i as usize].key == key) {
            return i;
        }
        self.insert(hash, key)
    }

    /// Adds a group the table does not have; `hash` is its key's.
    fn insert(&mut self, hash: u64, key: K) -> u32 {
        let i = self.groups.len() as u32;
        if self.groups.len() == self.groups.capacity() {
            // Grown by half, not doubled: tens of thousands of groups per
            // thread, and doubling leaves up to half of them as empty room.
            self.groups.reserve_exact(self.groups.len() / 2 + 16);
        }
        let (groups, hasher) = (&self.groups, &self.hasher);
        self.index
            .insert_unique(hash, i, |j| hasher.hash_one(&groups[j as usize].key));
        self.groups.push(Group {
            key,
            stats: Stats::default(),
        });
        i
    }

    /// Drops the half of the groups with the fewest records; returns where each
    /// old index went (`u32::MAX`: dropped) and the most records a dropped group
    /// had, which bounds how far any count can now be low.
    pub fn evict_half(&mut self) -> (Vec<u32>, u64) {
        let n = self.groups.len();
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_unstable_by_key(|&i| std::cmp::Reverse(self.groups[i].stats.records));
        let keep = n / 2;
        let mut dropped_max = 0;
        let mut remap = vec![u32::MAX; n];
        let mut groups = Vec::with_capacity(keep);
        let mut dirs = Vec::new();
        let mut old: Vec<Option<Group<K>>> = std::mem::take(&mut self.groups)
            .into_iter()
            .map(Some)
            .collect();
        for (rank, &i) in order.iter().enumerate() {
            let group = old[i].take().expect("each group once");
            if rank < keep {
                remap[i] = groups.len() as u32;
                groups.push(group);
                if !self.dirs.is_empty() {
                    dirs.push(self.dirs(i));
                }
            } else {
                dropped_max = dropped_max.max(group.stats.records);
            }
        }
        // A fresh index, sized for the groups kept (and narrow again).
        self.index = Slots::default();
        let hasher = &self.hasher;
        for (i, g) in groups.iter().enumerate() {
            self.index
                .insert_unique(hasher.hash_one(&g.key), i as u32, |j| {
                    hasher.hash_one(&groups[j as usize].key)
                });
        }
        self.groups = groups;
        self.dirs = dirs;
        (remap, dropped_max)
    }

    /// Rough bytes used per group, key included.
    pub fn bytes(&self, per_key: usize) -> usize {
        self.index.bytes()
            + self.groups.capacity() * (per_key + std::mem::size_of::<Stats>())
            + self.dirs.capacity() * 16
    }

    /// Merges `other`'s groups in; returns where each of its indices went.
    pub fn merge(&mut self, mut other: Groups<K>) -> Vec<u32> {
        let mut remap = Vec::with_capacity(other.groups.len());
        let dirs = std::mem::take(&mut other.dirs);
        for (j, Group { key, stats }) in other.groups.into_iter().enumerate() {
            let i = self.slot(key);
            self.groups[i as usize].stats.merge(&stats);
            if let Some(&d) = dirs.get(j) {
                self.add_dirs(i as usize, d);
            }
            remap.push(i);
        }
        remap
    }
}

impl Groups<EniKey> {
    /// Looks an interface id up without allocating unless it is new text;
    /// new text keys must be UTF-8 (so that every key can be printed and
    /// compared as text).
    #[inline]
    pub fn slot_eni(&mut self, text: &[u8], field: Field) -> Result<u32, ValueError> {
        if let Some(key) = EniKey::packed(text) {
            return Ok(self.slot(key));
        }
        // The hash of a text key is its text's (see `EniKey`'s `Hash`).
        let hash = self.hasher.hash_one(text);
        let groups = &self.groups;
        let same = |i: u32| matches!(&groups[i as usize].key, EniKey::Text(t) if **t == *text);
        if let Some(i) = self.index.find(hash, same) {
            return Ok(i);
        }
        decode_text(field, text)?;
        Ok(self.insert(hash, EniKey::Text(text.into())))
    }
}

/// An interface id. The usual `eni-` and 17 lowercase hex digits is held as
/// its number and digit count: no allocation per interface, and a lookup
/// hashes and compares two words instead of the text. Anything else is kept
/// as its text.
///
/// Keys order and print as their text, whichever way they are held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum EniKey {
    /// `eni-` and `digits` hex digits (1 to 32), whose value is `hi << 64 | lo`.
    Hex { digits: u8, hi: u64, lo: u64 },
    /// Any other text.
    Text(Box<[u8]>),
}

impl EniKey {
    /// The number in `eni-` and 1 to 32 lowercase hex digits.
    #[inline]
    pub(super) fn packed(text: &[u8]) -> Option<EniKey> {
        PackedEni::parse(text).map(PackedEni::key)
    }

    /// The key as text.
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            EniKey::Hex { digits, hi, lo } => {
                let value = u128::from(*hi) << 64 | u128::from(*lo);
                format!("eni-{value:0width$x}", width = usize::from(*digits)).into()
            }
            EniKey::Text(t) => String::from_utf8_lossy(t),
        }
    }
}

/// An interface id of `eni-` and `digits` hex digits, as [`EniKey::Hex`]
/// holds it, but `Copy`: what a queued REJECT carries.
#[derive(Clone, Copy)]
pub(super) struct PackedEni {
    pub hi: u64,
    pub lo: u64,
    pub digits: u8,
}

impl PackedEni {
    /// The number in `eni-` and 1 to 32 lowercase hex digits.
    #[inline]
    pub(super) fn parse(text: &[u8]) -> Option<PackedEni> {
        let digits = text.strip_prefix(b"eni-")?;
        if digits.is_empty() || digits.len() > 32 {
            return None;
        }
        // The last 16 digits are the low word (all 16 at once in the usual
        // 17), those before them the high one.
        let (high, low) = digits.split_at(digits.len().saturating_sub(16));
        Some(PackedEni {
            digits: digits.len() as u8,
            lo: hex_digits(low)?,
            hi: hex_digits(high)?,
        })
    }

    #[inline]
    pub(super) fn key(self) -> EniKey {
        EniKey::Hex {
            digits: self.digits,
            hi: self.hi,
            lo: self.lo,
        }
    }
}

impl Hash for EniKey {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        match self {
            EniKey::Hex { digits, hi, lo } => {
                h.write_u8(*digits);
                h.write_u64(*hi);
                h.write_u64(*lo);
            }
            // As the text itself hashes, so that a lookup by text need not
            // build a key.
            EniKey::Text(t) => t.hash(h),
        }
    }
}

impl Ord for EniKey {
    fn cmp(&self, o: &EniKey) -> std::cmp::Ordering {
        match (self, o) {
            // Equal lengths of lowercase hex order as their values.
            (
                EniKey::Hex { digits, hi, lo },
                EniKey::Hex {
                    digits: d,
                    hi: h,
                    lo: l,
                },
            ) if digits == d => (hi, lo).cmp(&(h, l)),
            _ => self.text().as_bytes().cmp(o.text().as_bytes()),
        }
    }
}

impl PartialOrd for EniKey {
    fn partial_cmp(&self, o: &EniKey) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
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
    let mut order: Vec<usize> = (0..g.len()).collect();
    let (s, k) = (|i: usize| &g.groups[i].stats, |i: usize| &g.groups[i].key);
    let cmp = |a: &usize, b: &usize| {
        s(*b)
            .records
            .cmp(&s(*a).records)
            .then_with(|| k(*a).cmp(k(*b)))
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
            let s = g.groups[i].stats;
            let [ingress, egress] = g.dirs(i);
            row(
                peers,
                &g.groups[i].key,
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

    use super::{EniKey, Groups, NetKey};
    use crate::schema::Field;

    #[test]
    fn a_network_key_takes_17_bytes() {
        assert_eq!(std::mem::size_of::<NetKey>(), 17);
    }

    #[test]
    fn a_group_is_its_key_and_sums_in_64_bytes_at_most() {
        assert_eq!(std::mem::size_of::<super::Group<NetKey>>(), 64);
        assert_eq!(std::mem::size_of::<super::Group<EniKey>>(), 64);
        assert_eq!(std::mem::size_of::<super::Group<super::PortKey>>(), 48);
    }

    #[test]
    fn interface_ids_are_held_as_numbers_or_text() {
        let mut g = Groups::<EniKey>::default();
        let id = |g: &mut Groups<EniKey>, t: &str| g.slot_eni(t.as_bytes(), Field::InterfaceId);
        let a = id(&mut g, "eni-0ca71d87c76983989").unwrap();
        assert!(matches!(
            g.groups[a as usize].key,
            EniKey::Hex { digits: 17, .. }
        ));
        // Leading zeros are part of the id; capitals and other shapes are text.
        for t in [
            "eni-00ca71d87c76983989",
            "eni-0CA71D87C76983989",
            "-",
            "eni-",
            "eni-xyz",
        ] {
            let i = id(&mut g, t).unwrap();
            assert_ne!(i, a);
            assert_eq!(g.groups[i as usize].key.text(), t);
        }
        assert!(matches!(g.groups[2].key.clone(), EniKey::Text(_)));
        assert_eq!(id(&mut g, "eni-0ca71d87c76983989"), Ok(a));
        assert_eq!(g.len(), 6);
        assert!(id(&mut g, "eni-\u{7}").is_err());
        assert!(g.slot_eni(b"eni-\xff", Field::InterfaceId).is_err());
        assert_eq!(g.len(), 6);
    }

    proptest! {
        /// Every id is one group, prints as it was written, and orders as
        /// its text does, whether it was held as a number or as text.
        #[test]
        fn interface_ids_keep_their_text_and_order(
            ids in proptest::collection::vec("(eni-)?[0-9a-fA-F]{0,33}", 1..40)
        ) {
            let mut g = Groups::<EniKey>::default();
            let mut seen = std::collections::BTreeMap::new();
            for t in &ids {
                let i = g.slot_eni(t.as_bytes(), Field::InterfaceId).unwrap();
                prop_assert_eq!(*seen.entry(t.clone()).or_insert(i), i);
                prop_assert_eq!(g.groups[i as usize].key.text(), t.as_str());
            }
            prop_assert_eq!(g.len(), seen.len());
            for a in g.groups.iter().map(|g| &g.key) {
                for b in g.groups.iter().map(|g| &g.key) {
                    prop_assert_eq!(a.cmp(b), a.text().cmp(&b.text()));
                }
            }
        }

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
