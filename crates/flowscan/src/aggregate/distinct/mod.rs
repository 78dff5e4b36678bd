//! Exact (or, past a memory budget, sampled) distinct values per group.

use std::net::IpAddr;

mod grouped;

use grouped::Grouped;

/// Distinct addresses per group, kept as (group, address) pairs appended to a
/// vector and periodically sorted and deduplicated: IPv4 pairs in [`Grouped`],
/// the others in [`Pairs`].
///
/// Past a memory budget, pairs are *sampled*: only addresses whose hash ends in
/// `level` zero bits are kept, and a count is scaled by `2^level` (adaptive
/// sampling; each level halves the pairs kept).
pub(crate) struct Distinct {
    v4: Grouped,
    v6: Pairs<Wide>,
    /// Sampling level: 0 keeps every pair (exact counts).
    pub(crate) level: u32,
    /// Others taken in by [`Distinct::merge_later`] and not merged yet, each
    /// with where its groups went (`u32::MAX`: dropped); all at this level.
    parts: Vec<(Vec<u32>, Distinct)>,
}

impl Default for Distinct {
    fn default() -> Self {
        Distinct {
            v4: Grouped::new(COMPACT_MIN),
            v6: Pairs::default(),
            level: 0,
            parts: Vec::new(),
        }
    }
}

/// Pairs held here whose counts [`Distinct::counts_of`] gathers at once (a
/// few in tests, so that their reports take several batches).
#[cfg(not(test))]
const GATHER: usize = 1 << 18;
#[cfg(test)]
const GATHER: usize = 3;

/// Vectors shorter than this are never compacted before the end.
const COMPACT_MIN: usize = 1 << 16;

/// Values appended in any order, of which `v[..sorted]` are sorted and
/// deduplicated. Appending is sequential, so the hot path takes no cache miss
/// (a hash set of millions of pairs takes one per insert). When the unsorted
/// tail reaches half the sorted part, only the tail is sorted, then merged in:
/// each value is sorted once, in a run a third of the whole, and the merges
/// are linear and branch-free.
///
/// While values are pushed, the vector's room is reserved exactly up to the
/// next compaction, so it holds at most 1.5 times the distinct values (or
/// [`COMPACT_MIN`]), plus, while merging, a copy of the deduplicated tail.
/// (Compacting the whole vector when it had doubled held up to four times the
/// distinct values: the doubling, and the allocator's own doubling of the
/// vector's room.)
struct Pairs<T> {
    v: Vec<T>,
    sorted: usize,
    /// The length at which the next compaction is due.
    due: usize,
    /// The least length at which one is due ([`COMPACT_MIN`]; less in tests).
    min: usize,
}

impl<T> Default for Pairs<T> {
    fn default() -> Self {
        Pairs {
            v: Vec::new(),
            sorted: 0,
            due: COMPACT_MIN,
            min: COMPACT_MIN,
        }
    }
}

impl<T: Ord + Copy> Pairs<T> {
    #[inline]
    fn push(&mut self, x: T) {
        self.v.push(x);
        if self.v.len() >= self.due {
            self.compact();
            // Room up to the next compaction, reserved exactly: growing by
            // doubling would overshoot it by up to half.
            self.v.reserve_exact(self.due - self.v.len());
        }
    }

    /// Sorts and deduplicates the tail and merges it into the sorted part.
    fn compact(&mut self) {
        let a = self.sorted;
        if a == self.v.len() {
            return;
        }
        let tail = &mut self.v[a..];
        tail.sort_unstable();
        let b = dedup_sorted(tail);
        let run = self.v[a..a + b].to_vec();
        self.v.truncate(a);
        self.merge_run(run);
    }

    /// Sorts and deduplicates everything, after a change that broke the order.
    fn resort(&mut self) {
        self.v.sort_unstable();
        self.v.dedup();
        self.sorted = self.v.len();
        self.due = self.next_due();
    }

    fn next_due(&self) -> usize {
        (self.sorted + self.sorted / 2).max(self.min)
    }

    /// Merges a sorted, deduplicated run into the vector (compacted first).
    fn merge_run(&mut self, mut run: Vec<T>) {
        self.compact();
        let a = self.v.len();
        let keep = difference(&mut run, &self.v);
        run.truncate(keep);
        self.sorted = a + keep;
        self.due = self.next_due();
        self.v.reserve_exact(keep);
        self.v.extend_from_slice(&run);
        merge_back(&mut self.v, a, &run);
    }

    fn bytes(&self) -> usize {
        self.v.capacity() * std::mem::size_of::<T>()
    }
}

impl Pairs<Wide> {
    /// Renumbers groups (`u32::MAX`: dropped, with its pairs), and sorts again.
    fn renumber(&mut self, remap: &[u32]) {
        self.v.retain_mut(|p| {
            p.group = remap[p.group as usize];
            p.group != u32::MAX
        });
        self.resort();
    }
}

/// A group and a value wider than an IPv4 address (an IPv6 address, or the
/// hash of a text), in 20 bytes: as `(u32, u128)` a pair took 32, the
/// `u128`'s alignment padding it. Packed, the peak heap of `rejects` on a
/// generated 10 M-record tree (5 % of its REJECTs from IPv6 sources) went
/// from 70.2 to 64.2 MB. Ordered as (group, value).
#[derive(Clone, Copy, PartialEq, Eq)]
struct Wide {
    group: u32,
    /// The value's 32-bit words, the most significant first.
    words: [u32; 4],
}

impl Wide {
    #[inline]
    fn new(group: u32, value: u128) -> Wide {
        let w = |k: u32| (value >> (96 - 32 * k)) as u32;
        Wide {
            group,
            words: [w(0), w(1), w(2), w(3)],
        }
    }

    #[inline]
    fn value(&self) -> u128 {
        self.words.iter().fold(0, |v, &w| v << 32 | u128::from(w))
    }
}

impl Ord for Wide {
    #[inline]
    fn cmp(&self, other: &Wide) -> std::cmp::Ordering {
        (self.group, self.value()).cmp(&(other.group, other.value()))
    }
}

impl PartialOrd for Wide {
    #[inline]
    fn partial_cmp(&self, other: &Wide) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Where group `g` went (`u32::MAX` if dropped, or past the renumbering).
#[inline]
fn renumbered(to: &[u32], g: u32) -> u32 {
    to.get(g as usize).copied().unwrap_or(u32::MAX)
}

/// How many values sorted, deduplicated runs hold together.
fn union_len(runs: &[&[u32]]) -> usize {
    match runs {
        [] => 0,
        [a] => a.len(),
        [a, b] => a.len() + b.len() - common(a, b),
        [a, b, mid @ .., last] => {
            let (mut acc, mut next) = (Vec::new(), Vec::new());
            union_into(a, b, &mut acc);
            for r in mid {
                union_into(&acc, r, &mut next);
                std::mem::swap(&mut acc, &mut next);
            }
            acc.len() + last.len() - common(&acc, last)
        }
    }
}

/// How many values two sorted, deduplicated runs share.
fn common(a: &[u32], b: &[u32]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        let (x, y) = (a[i], b[j]);
        n += usize::from(x == y);
        i += usize::from(x <= y);
        j += usize::from(y <= x);
    }
    n
}

/// The union of two sorted, deduplicated runs, into `out`.
fn union_into(a: &[u32], b: &[u32], out: &mut Vec<u32>) {
    out.clear();
    out.reserve(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (x, y) = (a[i], b[j]);
        out.push(x.min(y));
        i += usize::from(x <= y);
        j += usize::from(y <= x);
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
}

/// Removes repeats from a sorted slice; its first `n` values, `n` returned,
/// are then the distinct ones.
fn dedup_sorted<T: Ord + Copy>(s: &mut [T]) -> usize {
    if s.is_empty() {
        return 0;
    }
    let mut keep = 1;
    for i in 1..s.len() {
        let x = s[i];
        s[keep] = x;
        keep += usize::from(x != s[keep - 1]);
    }
    keep
}

/// Moves to the front of `run` its values not in `have` (both sorted and
/// deduplicated); returns how many. The steps take no branch: which side
/// advances is random, and a mispredicted branch per value costs more than
/// the comparison.
fn difference<T: Ord + Copy>(run: &mut [T], have: &[T]) -> usize {
    let (mut i, mut j, mut keep) = (0, 0, 0);
    while i < have.len() && j < run.len() {
        let (x, y) = (have[i], run[j]);
        run[keep] = y;
        keep += usize::from(y < x);
        j += usize::from(y <= x);
        i += usize::from(x <= y);
    }
    while j < run.len() {
        run[keep] = run[j];
        keep += 1;
        j += 1;
    }
    keep
}

/// Merges `run` into `v`, whose first `a` values are sorted and whose rest is
/// as long as `run` (no value in both), from the back: the values of `v` not
/// yet merged are never overwritten.
fn merge_back<T: Ord + Copy>(v: &mut [T], a: usize, run: &[T]) {
    let (mut i, mut j) = (a, run.len());
    while i > 0 && j > 0 {
        let (x, y) = (v[i - 1], run[j - 1]);
        let take_v = x > y;
        v[i + j - 1] = if take_v { x } else { y };
        i -= usize::from(take_v);
        j -= usize::from(!take_v);
    }
    v[..j].copy_from_slice(&run[..j]);
}

/// A fixed mix of a value, so that sampling by its low bits is even (the same
/// on every run and thread).
#[inline]
fn mix(h: u64) -> u64 {
    let mut x = h ^ 0x9e37_79b9_7f4a_7c15;
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Whether a value is kept at sampling level `level` (1 in `2^level`).
#[inline]
pub(crate) fn kept_hash(level: u32, h: u64) -> bool {
    level == 0 || mix(h).trailing_zeros() >= level
}

/// The same for an address (IPv4 as its number, IPv6 folded to 64 bits).
#[inline]
fn kept(level: u32, a: u128) -> bool {
    kept_hash(level, (a as u64) ^ ((a >> 64) as u64).rotate_left(32))
}

impl Distinct {
    /// Adds a value that is not an address (an integer, or the 128-bit hash of
    /// a text): kept with the IPv6 pairs.
    #[inline]
    pub(crate) fn insert_raw(&mut self, group: u32, value: u128) {
        if kept(self.level, value) {
            self.v6.push(Wide::new(group, value));
        }
    }

    #[inline]
    pub(crate) fn insert(&mut self, group: u32, addr: IpAddr) {
        match addr {
            IpAddr::V4(a) => {
                if kept(self.level, u32::from(a) as u128) {
                    self.v4.push(group, u32::from(a));
                }
            }
            IpAddr::V6(a) => self.insert_raw(group, u128::from(a)),
        }
    }

    pub(crate) fn bytes(&self) -> usize {
        let parts = self.parts.iter();
        let parts: usize = parts.map(|(r, d)| r.capacity() * 4 + d.bytes()).sum();
        self.v4.bytes() + self.v6.bytes() + parts
    }

    /// Keeps only the pairs of the given sampling level (and compacts).
    pub(crate) fn sample(&mut self, level: u32) {
        self.settle();
        if self.thin(level) {
            self.v6.resort();
            self.v6.v.shrink_to_fit();
        } else {
            self.v6.compact();
        }
        self.v4.compact();
    }

    /// Drops the pairs a higher sampling level does not keep (the appended
    /// ones are not sorted again); whether the level rose.
    fn thin(&mut self, level: u32) -> bool {
        if level <= self.level {
            return false;
        }
        self.level = level;
        self.v4.retain(|a| kept(level, u128::from(a)));
        self.v6.v.retain(|p| kept(level, p.value()));
        true
    }

    /// Renumbers groups after an eviction, dropping pairs of dropped groups
    /// (`u32::MAX`).
    pub(crate) fn remap(&mut self, remap: &[u32]) {
        self.settle();
        // Renumbered as a merge into nothing: groups are reordered, and pairs
        // are never all expanded to words (memory is short when this runs).
        let v4 = std::mem::replace(&mut self.v4, Grouped::new(COMPACT_MIN));
        self.v4.merge_renumbered(v4, remap);
        self.v6.renumber(remap);
        self.v6.v.shrink_to_fit();
    }

    /// Takes in another's pairs, renumbering its groups (`u32::MAX`: the group
    /// was dropped; its pairs go too). Called when `self` takes no more pairs
    /// for a while (the end of a thread's part of a scan): the room kept for
    /// appending IPv4 pairs is given up.
    pub(crate) fn merge(&mut self, mut other: Distinct, remap: &[u32]) {
        self.settle();
        other.settle();
        self.merge_now(other, remap);
    }

    /// Takes in another's pairs as [`Distinct::merge`] does, but keeps them
    /// apart until something needs them merged: the end of a scan only needs
    /// the counts of a few groups ([`Distinct::counts_of`]), and merging every
    /// pair of the threads' tables took a twentieth of a scan's time. Sides at
    /// different sampling levels are merged now.
    pub(crate) fn merge_later(&mut self, mut other: Distinct, remap: &[u32]) {
        if other.level != self.level {
            return self.merge(other, remap);
        }
        for (theirs, part) in std::mem::take(&mut other.parts) {
            let to = theirs.iter().map(|&g| renumbered(remap, g)).collect();
            self.parts.push((to, part));
        }
        self.parts.push((remap.to_vec(), other));
    }

    /// Merges in the parts kept apart.
    pub(crate) fn settle(&mut self) {
        for (remap, part) in std::mem::take(&mut self.parts) {
            self.merge_now(part, &remap);
        }
    }

    /// [`Distinct::merge`], of another without parts into one without parts.
    fn merge_now(&mut self, mut other: Distinct, remap: &[u32]) {
        let level = self.level.max(other.level);
        // Each side sampled to the common level (nothing is appended only to
        // be dropped), the other renumbered, both sorted, at once.
        other.thin(level);
        let Distinct { v4, mut v6, .. } = other;
        rayon::join(|| self.sample(level), || v6.renumber(remap));
        self.v4.merge_renumbered(v4, remap);
        self.v6.merge_run(v6.v);
    }

    /// Distinct values of the distinct groups `wanted`, in their order
    /// (estimates, scaled up, when sampled). Only their pairs are gathered,
    /// and the parts kept apart are not merged.
    ///
    /// Gathered a batch of groups at a time, each holding about [`GATHER`]
    /// pairs here (more in all, with the parts): a report of every row
    /// gathered every pair at once, 5 MB past a 10 M-record tree's peak.
    pub(crate) fn counts_of(&self, wanted: &[usize]) -> Vec<u64> {
        let mut counts = Vec::with_capacity(wanted.len());
        let mut rest = wanted;
        while !rest.is_empty() {
            let mut held = 0;
            let n = rest
                .iter()
                .take_while(|&&g| {
                    held += self.v4.segment(g).len();
                    held <= GATHER
                })
                .count()
                .max(1);
            counts.extend(self.gather(&rest[..n]));
            rest = &rest[n..];
        }
        counts
    }

    /// [`Distinct::counts_of`] for one batch of groups.
    fn gather(&self, wanted: &[usize]) -> Vec<u64> {
        let groups = wanted.iter().max().map_or(0, |&g| g + 1);
        let mut own = vec![u32::MAX; groups];
        for (p, &g) in wanted.iter().enumerate() {
            own[g] = p as u32;
        }
        // Each side, and where each of its groups' pairs count (`u32::MAX`:
        // nowhere).
        let to_own = |remap: &[u32]| remap.iter().map(|&g| renumbered(&own, g)).collect();
        let mut sides: Vec<(&Distinct, Vec<u32>)> = self
            .parts
            .iter()
            .map(|(remap, part)| (part, to_own(remap)))
            .collect();
        sides.push((self, own));
        // The pairs not compacted yet, as words `position << 32 | address`
        // (IPv4), and (position, value).
        let mut tail = Vec::new();
        let mut v6 = Vec::new();
        for (d, to) in &sides {
            for &w in &d.v4.tail {
                let p = renumbered(to, (w >> 32) as u32);
                if p != u32::MAX {
                    tail.push(u64::from(p) << 32 | (w & 0xffff_ffff));
                }
            }
            for w in &d.v6.v {
                let p = renumbered(to, w.group);
                if p != u32::MAX {
                    v6.push(Wide { group: p, ..*w });
                }
            }
        }
        tail.sort_unstable();
        let n = dedup_sorted(&mut tail);
        tail.truncate(n);
        v6.sort_unstable();
        v6.dedup();
        let mut counts = vec![0u64; wanted.len()];
        for w in &v6 {
            counts[w.group as usize] += 1;
        }
        // The compacted IPv4 addresses of each position: one sorted run per
        // side that has any, and one of the tail's.
        let mut runs: Vec<(u32, &[u32])> = Vec::new();
        for (d, to) in &sides {
            for (g, &p) in to.iter().enumerate() {
                let seg = d.v4.segment(g);
                if p != u32::MAX && !seg.is_empty() {
                    runs.push((p, seg));
                }
            }
        }
        runs.sort_unstable_by_key(|r| r.0);
        let (mut r, mut t) = (0, 0);
        // The addresses of one position's tail words.
        let mut row = Vec::new();
        for (p, count) in counts.iter_mut().enumerate() {
            let t0 = t;
            while t < tail.len() && (tail[t] >> 32) as usize == p {
                t += 1;
            }
            row.clear();
            row.extend(tail[t0..t].iter().map(|&w| w as u32));
            let mut of_p: Vec<&[u32]> = Vec::new();
            if !row.is_empty() {
                of_p.push(&row);
            }
            while r < runs.len() && runs[r].0 as usize == p {
                of_p.push(runs[r].1);
                r += 1;
            }
            *count = (*count + union_len(&of_p) as u64) << self.level;
        }
        counts
    }

    /// Distinct addresses per group (estimates, scaled up, when sampled),
    /// every part merged in and the pairs compacted first.
    pub(crate) fn counts(&mut self, groups: usize) -> Vec<u64> {
        self.sample(self.level);
        let mut c = vec![0u64; groups];
        self.v4.count_into(&mut c);
        for w in &self.v6.v {
            c[w.group as usize] += 1;
        }
        for x in &mut c {
            *x <<= self.level;
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn addr(a: u128, v6: bool) -> IpAddr {
        if v6 {
            IpAddr::V6((a << 64 | a).into())
        } else {
            IpAddr::V4((a as u32).into())
        }
    }

    /// Past the size that starts compactions (several rounds of them, with
    /// repeats across rounds), the counts are those of a plain set.
    #[test]
    fn compactions_keep_every_pair_once() {
        let mut d = Distinct::default();
        let mut want = std::collections::HashSet::new();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for i in 0..(COMPACT_MIN as u64 * 9) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let group = (x % 7) as u32;
            // A small range, so that later rounds repeat earlier pairs.
            let a = (x >> 20) % (COMPACT_MIN as u64 / 16);
            let v6 = i % 3 == 0;
            d.insert(group, addr(a as u128, v6));
            want.insert((group, a, v6));
        }
        // Compactions bound memory: a vector's room is at most one and a half
        // times its distinct pairs (or the size that starts compactions).
        let distinct = |v6| want.iter().filter(|p| p.2 == v6).count();
        let (d4, d6) = (distinct(false), distinct(true));
        let room = d.v6.v.capacity();
        assert!(
            room <= (d6 + d6 / 2).max(COMPACT_MIN),
            "room for {room} for {d6}"
        );
        // In 4-byte units: each pair held, and a tail of a share of as many
        // pairs (or the size that starts compactions) at 8 bytes a pair.
        let room = d.v4.room();
        assert!(
            room <= d4 + 2 * (d4 / grouped::TAIL_SHARE).max(COMPACT_MIN),
            "room for {room}/2 for {d4}"
        );
        d.sample(0);
        let mut counts = vec![0u64; 7];
        for (g, _, _) in &want {
            counts[*g as usize] += 1;
        }
        assert_eq!(d.counts(7), counts);
    }

    /// Sampling one level sparser frees about half of what is held, room
    /// included: the memory budget raises the level until the bytes fall, so
    /// room left behind would drive it to sample everything away.
    #[test]
    fn sampling_frees_memory() {
        let mut d = Distinct::default();
        let mut i = 0u32;
        // IPv4 pairs past several compactions, up to one short of the next,
        // when the tail's room is largest.
        while i < COMPACT_MIN as u32 * 8 || d.v4.tail.len() + 1 < d.v4.due {
            d.insert(
                i % 100,
                addr(u128::from(i.wrapping_mul(2_654_435_761)), false),
            );
            i += 1;
        }
        let before = d.bytes();
        d.sample(1);
        assert!(d.bytes() * 2 < before, "{} then {}", before, d.bytes());
        let held: u64 = d.counts(100).iter().sum();
        assert!(
            (held as f64 - f64::from(i)).abs() < f64::from(i) * 0.05,
            "{held} of {i}"
        );
    }

    proptest! {
        /// A packed wide pair keeps its value and sorts as (group, value),
        /// in 20 bytes.
        #[test]
        fn wide_pairs_sort_as_tuples(
            a in (any::<u32>(), any::<u128>()),
            b in (any::<u32>(), any::<u128>()),
            same_group in any::<bool>(),
        ) {
            let b = (if same_group { a.0 } else { b.0 }, b.1);
            let (x, y) = (Wide::new(a.0, a.1), Wide::new(b.0, b.1));
            prop_assert_eq!(x.value(), a.1);
            prop_assert_eq!(x.cmp(&y), a.cmp(&b));
            prop_assert_eq!(x == y, a == b);
            prop_assert_eq!(std::mem::size_of::<Wide>(), 20);
        }

        /// Pairs compacted often (from four values on) hold what a set holds,
        /// in order, whatever the order and repeats of what was pushed, and
        /// after another run is merged in.
        #[test]
        fn pairs_hold_a_sorted_set(
            pushed in proptest::collection::vec(0u16..200, 0..400),
            merged in proptest::collection::btree_set(0u16..200, 0..100),
        ) {
            let mut p = Pairs { min: 4, due: 4, ..Pairs::default() };
            let mut want = std::collections::BTreeSet::new();
            for &x in &pushed {
                p.push(x);
                want.insert(x);
                prop_assert!(p.v[..p.sorted].windows(2).all(|w| w[0] < w[1]));
                prop_assert!(p.v.len() < p.due);
            }
            p.merge_run(merged.iter().copied().collect());
            want.extend(&merged);
            prop_assert_eq!(p.sorted, p.v.len());
            prop_assert_eq!(p.v, want.into_iter().collect::<Vec<_>>());
        }

        /// A merge counts what one set fed every pair (the other's renumbered)
        /// counts: the sides sorted apart and joined must lose and repeat nothing.
        #[test]
        fn a_merge_counts_as_one_set(
            mine in proptest::collection::vec((0u32..6, 0u128..40, any::<bool>()), 0..300),
            theirs in proptest::collection::vec((0u32..6, 0u128..40, any::<bool>()), 0..300),
            remap in proptest::collection::vec(prop_oneof![3 => 0u32..8, 1 => Just(u32::MAX)], 6),
            level in 0u32..3,
        ) {
            let mut a = Distinct::default();
            let mut b = Distinct::default();
            let mut one = Distinct::default();
            for &(g, x, v6) in &mine {
                a.insert(g, addr(x, v6));
                one.insert(g, addr(x, v6));
            }
            for &(g, x, v6) in &theirs {
                b.insert(g, addr(x, v6));
                if remap[g as usize] != u32::MAX {
                    one.insert(remap[g as usize], addr(x, v6));
                }
            }
            b.sample(level);
            a.merge(b, &remap);
            one.sample(level);
            prop_assert_eq!(a.counts(8), one.counts(8));
        }

        /// Parts kept apart count, group by group, what one set fed every pair
        /// counts: whether the parts have parts of their own (a merge of
        /// merges), groups renumbered as one, or pairs not yet compacted; and
        /// merged at last, they count the same again.
        #[test]
        fn parts_kept_apart_count_as_one_set(
            sides in proptest::collection::vec(
                proptest::collection::vec((0u32..6, 0u128..40, any::<bool>()), 0..200),
                1..5,
            ),
            remaps in proptest::collection::vec(
                proptest::collection::vec(prop_oneof![3 => 0u32..8, 1 => Just(u32::MAX)], 8),
                4,
            ),
            compact_min in 1usize..40,
            nested in any::<bool>(),
            wanted in proptest::collection::btree_set(0usize..8, 0..8),
        ) {
            let fresh = || Distinct {
                v4: Grouped::new(compact_min),
                v6: Pairs { min: compact_min, due: compact_min, ..Pairs::default() },
                ..Distinct::default()
            };
            let to = |r: &[u32], g: u32| if g == u32::MAX { g } else { r[g as usize] };
            // Nested: the sides after the second go into the second, which
            // then goes into the first; otherwise each goes into the first.
            let nested = nested && sides.len() > 2;
            let mut one = fresh();
            let mut all = Vec::new();
            for (k, pairs) in sides.iter().enumerate() {
                let mut d = fresh();
                for &(g, x, v6) in pairs {
                    d.insert(g, addr(x, v6));
                    let g = match k {
                        0 => g,
                        _ if nested && k > 1 => to(&remaps[0], to(&remaps[k - 1], g)),
                        _ => to(&remaps[k - 1], g),
                    };
                    if g != u32::MAX {
                        one.insert(g, addr(x, v6));
                    }
                }
                all.push(d);
            }
            let mut all = all.into_iter();
            let mut a = all.next().unwrap();
            if nested {
                let mut b = all.next().unwrap();
                for (k, d) in all.enumerate() {
                    b.merge_later(d, &remaps[k + 1]);
                }
                a.merge_later(b, &remaps[0]);
            } else {
                for (k, d) in all.enumerate() {
                    a.merge_later(d, &remaps[k]);
                }
            }
            one.sample(0);
            let all_counts = one.counts(8);
            let wanted: Vec<usize> = wanted.into_iter().collect();
            let want: Vec<u64> = wanted.iter().map(|&g| all_counts[g]).collect();
            prop_assert_eq!(a.counts_of(&wanted), want);
            prop_assert_eq!(a.counts(8), all_counts);
        }
    }
}
