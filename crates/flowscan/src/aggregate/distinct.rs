//! Exact (or, past a memory budget, sampled) distinct values per group.

use std::net::IpAddr;

/// Distinct addresses per group, kept as (group, address) pairs appended to a
/// vector and periodically sorted and deduplicated. Appending is sequential, so
/// the hot path takes no cache miss (a hash set of millions of pairs takes one
/// per insert); memory stays within about twice the distinct pairs.
///
/// Past a memory budget, pairs are *sampled*: only addresses whose hash ends in
/// `level` zero bits are kept, and a count is scaled by `2^level` (adaptive
/// sampling; each level halves the pairs kept).
#[derive(Default)]
pub(crate) struct Distinct {
    v4: Vec<u64>,
    v6: Vec<(u32, u128)>,
    /// Lengths after the last compaction: the next one is due when a vector has
    /// doubled.
    compact4: usize,
    compact6: usize,
    /// Sampling level: 0 keeps every pair (exact counts).
    pub(crate) level: u32,
}

/// Vectors shorter than this are never compacted before the end.
const COMPACT_MIN: usize = 1 << 16;

fn compact<T: Ord>(v: &mut Vec<T>) {
    v.sort_unstable();
    v.dedup();
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
        if !kept(self.level, value) {
            return;
        }
        self.v6.push((group, value));
        if self.v6.len() >= (2 * self.compact6).max(COMPACT_MIN) {
            compact(&mut self.v6);
            self.compact6 = self.v6.len();
        }
    }

    #[inline]
    pub(crate) fn insert(&mut self, group: u32, addr: IpAddr) {
        match addr {
            IpAddr::V4(a) => {
                if !kept(self.level, u32::from(a) as u128) {
                    return;
                }
                self.v4.push((group as u64) << 32 | u32::from(a) as u64);
                if self.v4.len() >= (2 * self.compact4).max(COMPACT_MIN) {
                    compact(&mut self.v4);
                    self.compact4 = self.v4.len();
                }
            }
            IpAddr::V6(a) => {
                if !kept(self.level, u128::from(a)) {
                    return;
                }
                self.v6.push((group, u128::from(a)));
                if self.v6.len() >= (2 * self.compact6).max(COMPACT_MIN) {
                    compact(&mut self.v6);
                    self.compact6 = self.v6.len();
                }
            }
        }
    }

    pub(crate) fn bytes(&self) -> usize {
        self.v4.capacity() * 8 + self.v6.capacity() * 32
    }

    /// Keeps only the pairs of the given sampling level (and compacts).
    pub(crate) fn sample(&mut self, level: u32) {
        if level > self.level {
            self.level = level;
            self.v4.retain(|k| kept(level, (k & 0xffff_ffff) as u128));
            self.v6.retain(|(_, a)| kept(level, *a));
        }
        compact(&mut self.v4);
        compact(&mut self.v6);
        self.v4.shrink_to_fit();
        self.v6.shrink_to_fit();
        self.compact4 = self.v4.len();
        self.compact6 = self.v6.len();
    }

    /// Renumbers groups after an eviction, dropping pairs of dropped groups
    /// (`u32::MAX`), in place: a copy would double the biggest thing in memory.
    pub(crate) fn remap(&mut self, remap: &[u32]) {
        self.remap_only(remap);
        self.sample(self.level);
    }

    /// Takes in another's pairs, renumbering its groups (`u32::MAX`: the group
    /// was dropped; its pairs go too).
    pub(crate) fn merge(&mut self, mut other: Distinct, remap: &[u32]) {
        let level = self.level.max(other.level);
        // Each side sampled to the common level (nothing is appended only to
        // be dropped), renumbered, sorted and deduplicated, both at once.
        rayon::join(
            || self.sample(level),
            || {
                other.remap_only(remap);
                other.sample(level);
            },
        );
        // Two sorted runs: the stable sort finds them and merges them in one
        // pass, where sorting the whole again would cost a log factor.
        self.v4.extend(other.v4);
        self.v6.extend(other.v6);
        self.v4.sort();
        self.v6.sort();
        self.v4.dedup();
        self.v6.dedup();
        self.compact4 = self.v4.len();
        self.compact6 = self.v6.len();
    }

    fn remap_only(&mut self, remap: &[u32]) {
        self.v4.retain_mut(|k| {
            let g = remap[(*k >> 32) as usize];
            *k = (g as u64) << 32 | (*k & 0xffff_ffff);
            g != u32::MAX
        });
        self.v6.retain_mut(|(g, _)| {
            *g = remap[*g as usize];
            *g != u32::MAX
        });
    }

    /// Distinct addresses per group (estimates, scaled up, when sampled).
    /// Counts per group; the vectors must be compacted ([`Distinct::sample`]).
    pub(crate) fn counts(&self, groups: usize) -> Vec<u64> {
        let mut c = vec![0u64; groups];
        for k in &self.v4 {
            c[(k >> 32) as usize] += 1;
        }
        for (g, _) in &self.v6 {
            c[*g as usize] += 1;
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
        // Compactions bound memory: a vector holds at most twice its distinct
        // pairs (or less than the size that starts compactions).
        for (held, v6) in [(d.v4.len(), false), (d.v6.len(), true)] {
            let distinct = want.iter().filter(|p| p.2 == v6).count();
            assert!(
                held <= (2 * distinct).max(COMPACT_MIN),
                "{held} held for {distinct}"
            );
        }
        d.sample(0);
        let mut counts = vec![0u64; 7];
        for (g, _, _) in &want {
            counts[*g as usize] += 1;
        }
        assert_eq!(d.counts(7), counts);
    }

    proptest! {
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
    }
}
