//! Groups keyed by encoded bytes, stored compactly: every key in one arena, a
//! hash table of group numbers, counts in parallel vectors. About 30 bytes a
//! group beyond its key, where a map of boxed keys took about 150 (two
//! allocations per key).

use std::hash::BuildHasher;
use std::mem::size_of;

use foldhash::fast::FixedState;

use crate::aggregate::slots::Slots;
use crate::parse::prefetch;

/// Groups, numbered in order of arrival.
///
/// A lookup reads the key's slot, then where the group's key ends, then the
/// key's bytes: three cache misses in a row in a table of a few hundred
/// thousand groups. Each can be asked for ahead, given the key's hash
/// ([`prefetch`](Self::prefetch), [`prefetch_group`](Self::prefetch_group),
/// [`prefetch_key`](Self::prefetch_key)), one record apart.
pub(super) struct KeyTable {
    index: Slots,
    arena: Vec<u8>,
    /// Where each key ends in the arena.
    ends: Vec<usize>,
    pub records: Vec<u64>,
    /// Sums per group, when a sum is measured (else empty).
    pub sums: Vec<u64>,
    track_sums: bool,
    hasher: FixedState,
}

fn key_of<'a>(arena: &'a [u8], ends: &[usize], i: u32) -> &'a [u8] {
    let i = i as usize;
    let start = if i == 0 { 0 } else { ends[i - 1] };
    &arena[start..ends[i]]
}

impl KeyTable {
    pub fn new(track_sums: bool) -> KeyTable {
        KeyTable {
            index: Slots::default(),
            arena: Vec::new(),
            ends: Vec::new(),
            records: Vec::new(),
            sums: Vec::new(),
            track_sums,
            hasher: FixedState::with_seed(0x3c6e_f372_fe94_f82b),
        }
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn key(&self, i: usize) -> &[u8] {
        key_of(&self.arena, &self.ends, i as u32)
    }

    /// The group of `key`, made if new.
    #[inline]
    pub fn slot(&mut self, key: &[u8]) -> u32 {
        let h = self.hash(key);
        self.slot_hashed(key, h)
    }

    /// The hash of `key` that [`slot_hashed`](Self::slot_hashed) takes.
    #[inline]
    pub fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    /// Asks for the slot a lookup of `hash` starts at.
    #[inline]
    pub fn prefetch(&self, hash: u64) {
        self.index.prefetch(hash);
    }

    /// Asks for where the key of the group a lookup of `hash` most likely
    /// finds ends, and for its count: the group the first slot with the
    /// hash's tag names, once that slot is in cache.
    #[inline]
    pub fn prefetch_group(&self, hash: u64) {
        if let Some(i) = self.index.likely(hash) {
            prefetch(&self.ends, i as usize);
            prefetch(&self.records, i as usize);
        }
    }

    /// Asks for the key's bytes of that group, once where it ends is in cache.
    #[inline]
    pub fn prefetch_key(&self, hash: u64) {
        if let Some(i) = self.index.likely(hash) {
            prefetch(key_of(&self.arena, &self.ends, i), 0);
        }
    }

    /// [`slot`](Self::slot) of a key whose [`hash`](Self::hash) is known.
    #[inline]
    pub fn slot_hashed(&mut self, key: &[u8], h: u64) -> u32 {
        let (arena, ends) = (&self.arena, &self.ends);
        if let Some(i) = self.index.find(h, |i| key_of(arena, ends, i) == key) {
            return i;
        }
        let i = self.ends.len() as u32;
        self.arena.extend_from_slice(key);
        self.ends.push(self.arena.len());
        self.records.push(0);
        if self.track_sums {
            self.sums.push(0);
        }
        let (arena, ends, hasher) = (&self.arena, &self.ends, &self.hasher);
        self.index
            .insert_unique(h, i, |j| hasher.hash_one(key_of(arena, ends, j)));
        i
    }

    /// Adds to a group's counts.
    #[inline]
    pub fn add(&mut self, i: u32, records: u64, sum: u64) {
        self.records[i as usize] += records;
        if self.track_sums {
            self.sums[i as usize] = self.sums[i as usize].saturating_add(sum);
        }
    }

    pub fn sum(&self, i: usize) -> u64 {
        self.sums.get(i).copied().unwrap_or(0)
    }

    /// Rough bytes in use: the index, the arena and the vectors, by capacity.
    pub fn bytes(&self) -> usize {
        self.index.bytes()
            + self.arena.capacity()
            + self.ends.capacity() * size_of::<usize>()
            + (self.records.capacity() + self.sums.capacity()) * size_of::<u64>()
    }

    /// Keeps the groups listed in `keep` and drops the rest, compacting in
    /// place (a copy of the kept half would need half as much again as the
    /// table at its fullest); returns where each old number went (`u32::MAX`:
    /// dropped). Kept groups keep their order.
    pub fn keep_only(&mut self, keep: &[u32]) -> Vec<u32> {
        let n = self.len();
        let mut remap = vec![u32::MAX; n];
        for &i in keep {
            remap[i as usize] = 0;
        }
        let (mut old_start, mut w, mut j) = (0usize, 0usize, 0usize);
        for (i, slot) in remap.iter_mut().enumerate() {
            // Read before anything at or below `i` is written.
            let old_end = self.ends[i];
            if *slot != u32::MAX {
                self.arena.copy_within(old_start..old_end, w);
                w += old_end - old_start;
                self.ends[j] = w;
                self.records[j] = self.records[i];
                if self.track_sums {
                    self.sums[j] = self.sums[i];
                }
                *slot = j as u32;
                j += 1;
            }
            old_start = old_end;
        }
        self.arena.truncate(w);
        self.ends.truncate(j);
        self.records.truncate(j);
        self.sums.truncate(if self.track_sums { j } else { 0 });
        self.arena.shrink_to_fit();
        self.ends.shrink_to_fit();
        self.records.shrink_to_fit();
        self.sums.shrink_to_fit();
        self.index = Slots::default();
        let (arena, ends, hasher) = (&self.arena, &self.ends, &self.hasher);
        for i in 0..j as u32 {
            let h = hasher.hash_one(key_of(arena, ends, i));
            self.index
                .insert_unique(h, i, |x| hasher.hash_one(key_of(arena, ends, x)));
        }
        remap
    }
}
