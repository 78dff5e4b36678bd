//! IPv4 (group, address) pairs, compacted into each group's sorted addresses.

use super::dedup_sorted;

/// IPv4 pairs: the compacted ones as each group's sorted, distinct addresses,
/// one group after another (4 bytes a pair, where a (group, address) word takes
/// 8), and those appended since as words `group << 32 | address`.
///
/// When the appended tail reaches half the compacted pairs, it is sorted,
/// deduplicated, stripped of the pairs already held, and merged in from the
/// back, so that nothing moves twice and no second copy is made. A pair costs
/// under 8 bytes: 4 held, and its share of the tail's room (8 bytes for half
/// as many pairs). Held as (group, address) words, as the other pairs are,
/// with room for half as many again, it cost 12.
///
/// Each compaction reads every held pair of the groups it adds to (in the
/// interface table, all of them), so the tail's size sets how often a pair is
/// read again. At a quarter, the compactions were a fifth of a scan's time on
/// a machine with a large L3 cache; at half, `rejects` took 0.90x the time at
/// one thread, for 4 MB more heap on a 10 M-record tree, paid for by packing
/// the IPv6 pairs ([`super::Distinct`]).
///
/// The difference and the counts per group take no branch per pair or per
/// group: the port and network tables have tens of thousands of groups of a
/// few pairs each, and with a loop per group in those passes too, each
/// mispredicting its exit, this layout was 10 % slower over a whole scan than
/// the words. Only the merge goes group by group, over the groups with new
/// pairs.
pub(super) struct Grouped {
    addrs: Vec<u32>,
    /// Where each group's addresses end in `addrs`: group `g`'s are
    /// `ends[g - 1]..ends[g]` (from 0 for the first).
    ends: Vec<usize>,
    pub(super) tail: Vec<u64>,
    /// The tail length at which the next compaction is due.
    pub(super) due: usize,
    /// The least such length.
    min: usize,
}

/// The tail is compacted when it holds this share of the compacted pairs
/// (1 / `TAIL_SHARE`; see [`Grouped`]).
pub(super) const TAIL_SHARE: usize = 2;

impl Grouped {
    pub(super) fn new(min: usize) -> Grouped {
        Grouped {
            addrs: Vec::new(),
            ends: Vec::new(),
            tail: Vec::new(),
            due: min,
            min,
        }
    }

    #[inline]
    pub(super) fn push(&mut self, group: u32, addr: u32) {
        let len = self.tail.len();
        if len == self.tail.capacity() {
            // Doubled, but never past the next compaction: plain doubling
            // would overshoot it by up to half, and at the end of a scan the
            // tails are half of what every thread holds.
            let room = (2 * len).max(1024).min(self.due).max(len + 1);
            self.tail.reserve_exact(room - len);
        }
        self.tail.push(u64::from(group) << 32 | u64::from(addr));
        if self.tail.len() >= self.due {
            self.compact();
            self.due = (self.addrs.len() / TAIL_SHARE).max(self.min);
        }
    }

    /// Moves the tail into the groups.
    pub(super) fn compact(&mut self) {
        let mut run = std::mem::take(&mut self.tail);
        run.sort_unstable();
        let n = dedup_sorted(&mut run);
        run.truncate(n);
        self.merge_sorted(&mut run);
        run.clear();
        self.tail = run;
    }

    /// Gives up the tail's room (after the last push).
    pub(super) fn release(&mut self) {
        self.compact();
        self.tail = Vec::new();
    }

    /// Merges sorted, distinct words `group << 32 | address` in; `run` is left
    /// with those that were new.
    pub(super) fn merge_sorted(&mut self, run: &mut Vec<u64>) {
        let Some(&last) = run.last() else {
            return;
        };
        let a = self.addrs.len();
        let groups = ((last >> 32) as usize + 1).max(self.ends.len());
        self.ends.resize(groups, a);
        let keep = self.difference(run);
        run.truncate(keep);
        // New pairs per group, counted without a branch per pair or group
        // (tens of thousands of groups of a few pairs each are common, and a
        // loop per group mispredicts its exit every time).
        let mut added = vec![0usize; groups];
        for &w in run.iter() {
            added[(w >> 32) as usize] += 1;
        }
        let mut moved = 0;
        for (end, n) in self.ends.iter_mut().zip(&added) {
            moved += n;
            *end += moved;
        }
        // Exactly: the vector is the biggest thing in memory at the end of a
        // scan, and doubling its room would add up to as much again.
        self.addrs.reserve_exact(run.len());
        self.addrs.resize(a + run.len(), 0);
        // From the last group with new pairs back: `j` new pairs belong to
        // groups up to `g`, so the old pairs between two such groups move up
        // by `j`, in one copy; below the first, nothing moves.
        let mut j = run.len();
        let mut moved_from = a;
        while j > 0 {
            let g = (run[j - 1] >> 32) as usize;
            let jg = j - added[g];
            let new_end = self.ends[g];
            let new_start = if g == 0 { 0 } else { self.ends[g - 1] };
            let (old_start, old_end) = (new_start - jg, new_end - j);
            self.addrs.copy_within(old_end..moved_from, old_end + j);
            merge_back(&mut self.addrs, old_start, old_end, new_end, &run[jg..j]);
            moved_from = old_start;
            j = jg;
        }
    }

    /// Moves to the front of `run` its pairs not held; returns how many.
    /// `ends` must cover every group of `run`.
    ///
    /// One pass over `run` and the segments of its groups, taking no branch
    /// per step: a loop per group would mispredict its exit once per group.
    fn difference(&self, run: &mut [u64]) -> usize {
        let (addrs, ends) = (&self.addrs, &self.ends);
        let Some(top) = addrs.len().checked_sub(1) else {
            return run.len();
        };
        let (mut i, mut j, mut keep) = (0, 0, 0);
        while j < run.len() {
            let w = run[j];
            let g = (w >> 32) as usize;
            let start = if g == 0 { 0 } else { ends[g - 1] };
            // The next held address of the group, or past every address
            // once the group's are used up (then `w` is new).
            i = i.max(start);
            let past = u64::from(i >= ends[g]).wrapping_neg();
            let x = u64::from(addrs[i.min(top)]) | past;
            let y = w & 0xffff_ffff;
            run[keep] = w;
            keep += usize::from(y < x);
            j += usize::from(y <= x);
            i += usize::from(x <= y);
        }
        keep
    }

    /// Drops the addresses `kept` refuses (a higher sampling level).
    pub(super) fn retain(&mut self, kept: impl Fn(u32) -> bool) {
        self.tail.retain(|&k| kept(k as u32));
        let mut out = 0;
        let mut start = 0;
        for end in &mut self.ends {
            for i in start..*end {
                let x = self.addrs[i];
                self.addrs[out] = x;
                out += usize::from(kept(x));
            }
            start = *end;
            *end = out;
        }
        self.addrs.truncate(out);
        // Memory is short (that is why pairs are sampled): the room goes too,
        // and the tail's is sized for what is left.
        self.compact();
        self.tail = Vec::new();
        self.due = (self.addrs.len() / TAIL_SHARE).max(self.min);
        self.addrs.shrink_to_fit();
    }

    /// Takes in another's pairs with its groups renumbered (`u32::MAX`: the
    /// group was dropped). Its groups are taken in their new order, in chunks
    /// of an eighth of its pairs, so that its pairs are never all held as
    /// 8-byte words at once: at the end of a scan this is the peak of memory.
    pub(super) fn merge_renumbered(&mut self, mut other: Grouped, remap: &[u32]) {
        self.release();
        other.release();
        let mut order: Vec<(u32, usize)> = Vec::with_capacity(other.ends.len());
        let mut start = 0;
        for (g, &end) in other.ends.iter().enumerate() {
            if end > start && remap[g] != u32::MAX {
                order.push((remap[g], g));
            }
            start = end;
        }
        order.sort_unstable();
        // Room for every group it will have, once, rather than growing by
        // doubling chunk after chunk.
        if let Some(&(top, _)) = order.last() {
            let groups = top as usize + 1;
            self.ends
                .reserve_exact(groups.saturating_sub(self.ends.len()));
        }
        let cap = (other.addrs.len() / 8).max(4096);
        let mut chunk: Vec<u64> = Vec::with_capacity(cap);
        let mut last = None;
        for (new, old) in order {
            // Two groups renumbered as one: their pairs are two sorted runs.
            if last == Some(new) || chunk.len() >= cap {
                self.merge_sorted(&mut chunk);
                chunk.clear();
            }
            last = Some(new);
            let addrs = other.segment(old);
            chunk.extend(addrs.iter().map(|&a| u64::from(new) << 32 | u64::from(a)));
        }
        self.merge_sorted(&mut chunk);
    }

    /// Every pair as a word `group << 32 | address`, sorted (the tail too).
    #[cfg(test)]
    fn into_words(mut self) -> Vec<u64> {
        self.release();
        let mut words = Vec::with_capacity(self.addrs.len());
        let mut start = 0;
        for (g, &end) in self.ends.iter().enumerate() {
            words.extend(
                self.addrs[start..end]
                    .iter()
                    .map(|&a| (g as u64) << 32 | u64::from(a)),
            );
            start = end;
        }
        words
    }

    /// The compacted addresses of group `g`, sorted (none past the groups
    /// compacted).
    pub(super) fn segment(&self, g: usize) -> &[u32] {
        match self.ends.get(g) {
            Some(&end) => &self.addrs[if g == 0 { 0 } else { self.ends[g - 1] }..end],
            None => &[],
        }
    }

    /// Adds each group's count of pairs to `c` (compacted first).
    pub(super) fn count_into(&self, c: &mut [u64]) {
        debug_assert!(self.tail.is_empty());
        let mut start = 0;
        for (g, &end) in self.ends.iter().enumerate() {
            c[g] += (end - start) as u64;
            start = end;
        }
    }

    pub(super) fn bytes(&self) -> usize {
        self.addrs.capacity() * 4 + self.ends.capacity() * 8 + self.tail.capacity() * 8
    }

    #[cfg(test)]
    pub(super) fn room(&self) -> usize {
        self.addrs.capacity() + 2 * self.tail.capacity()
    }
}

/// Merges `run` (no value also in the old segment) with the old segment
/// `v[old_start..old_end]` into `v[..new_end]` ending at `new_end`, from the
/// back: the new segment starts at or after the old one, so the old values not
/// yet merged are never overwritten.
fn merge_back(v: &mut [u32], old_start: usize, old_end: usize, new_end: usize, run: &[u64]) {
    let (mut i, mut j, mut k) = (old_end, run.len(), new_end);
    while i > old_start && j > 0 {
        let (x, y) = (v[i - 1], run[j - 1] as u32);
        let take_old = x > y;
        k -= 1;
        v[k] = if take_old { x } else { y };
        i -= usize::from(take_old);
        j -= usize::from(!take_old);
    }
    while j > 0 {
        k -= 1;
        j -= 1;
        v[k] = run[j] as u32;
    }
    if k != i {
        v.copy_within(old_start..i, k - (i - old_start));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn held(g: &Grouped) -> Vec<u64> {
        let mut c = Grouped {
            ..Grouped::new(g.min)
        };
        c.addrs = g.addrs.clone();
        c.ends = g.ends.clone();
        c.into_words()
    }

    /// Another's groups, renumbered (reversed, one dropped), taken in chunks
    /// that end inside groups: the pairs of a set fed both sides.
    #[test]
    fn a_renumbered_merge_in_chunks_holds_a_set() {
        let (mut mine, mut theirs) = (Grouped::new(64), Grouped::new(64));
        let mut want = BTreeSet::new();
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let remap: Vec<u32> = (0..50)
            .map(|g| if g == 7 { u32::MAX } else { 49 - g })
            .collect();
        for i in 0..60_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let (g, a) = ((x % 50) as u32, (x >> 40) as u32 % 3000);
            if i % 2 == 0 {
                mine.push(g, a);
                want.insert(u64::from(g) << 32 | u64::from(a));
            } else {
                theirs.push(g, a);
                if remap[g as usize] != u32::MAX {
                    want.insert(u64::from(remap[g as usize]) << 32 | u64::from(a));
                }
            }
        }
        mine.merge_renumbered(theirs, &remap);
        assert_eq!(held(&mine), want.into_iter().collect::<Vec<_>>());
    }

    proptest! {
        /// Compacted often (from four pairs on), the groups hold what a set of
        /// pairs holds, whatever the order and repeats of what was pushed and
        /// after a run is merged in; and a pair costs at most 8 bytes of room.
        #[test]
        fn groups_hold_a_set_of_pairs(
            pushed in proptest::collection::vec((0u32..9, 0u32..50), 0..400),
            merged in proptest::collection::btree_set((0u32..12, 0u32..50), 0..100),
        ) {
            let mut g = Grouped::new(4);
            let mut want = BTreeSet::new();
            for &(group, a) in &pushed {
                g.push(group, a);
                want.insert(u64::from(group) << 32 | u64::from(a));
                prop_assert!(g.tail.len() < g.due);
            }
            g.compact();
            prop_assert_eq!(held(&g), want.iter().copied().collect::<Vec<_>>());
            let mut run: Vec<u64> = merged.iter().map(|&(x, a)| u64::from(x) << 32 | u64::from(a)).collect();
            g.merge_sorted(&mut run);
            want.extend(merged.iter().map(|&(x, a)| u64::from(x) << 32 | u64::from(a)));
            prop_assert_eq!(held(&g), want.iter().copied().collect::<Vec<_>>());
            let mut c = [0; 12];
            g.count_into(&mut c[..g.ends.len()]);
            for (x, n) in c.iter().enumerate() {
                prop_assert_eq!(*n as usize, want.iter().filter(|&&w| (w >> 32) as usize == x).count());
            }
            g.retain(|a| a % 3 != 0);
            want.retain(|&w| !(w as u32).is_multiple_of(3));
            prop_assert_eq!(held(&g), want.iter().copied().collect::<Vec<_>>());
        }
    }
}
