//! The index of a group table: where each group is, found by its key's hash.
//!
//! A lookup in `hashbrown`'s table waits on three cache misses in a row (the
//! control bytes, then the slot they point to, then the group), and the
//! table does not say where its slots are, so none of them can be fetched
//! ahead. Here a key's hash alone gives the slot its probe starts at, so a
//! table can ask for that slot as soon as it knows a key, and for the group
//! the slot names once the slot is in cache (`rejects` and `top` queue
//! their records for that).

use crate::parse::prefetch;

/// Open addressing with linear probing. A slot is 32 bits while the table
/// has at most [`NARROW`] groups: the top 8 bits of the key's hash as a
/// tag, the group's index plus one below them, and zero for an empty slot;
/// sixteen slots to a cache line, and 4 bytes a slot against `hashbrown`'s
/// 5. Past that many groups the slots become 64 bits (a 32-bit tag and
/// the index plus one). A probe starts at the hash's low bits. The table is
/// at most three quarters full: a probe for a key that is not there (a new
/// group) reads about 8.5 slots then, one or two cache lines, where seven
/// eighths would make it about 32; a key that is there takes 2.5.
pub(crate) struct Slots {
    store: Store,
    len: usize,
    /// Groups the narrow slots hold at most ([`NARROW`]; less in tests).
    narrow: u32,
}

enum Store {
    Narrow(Vec<u32>),
    Wide(Vec<u64>),
}

/// Indices a narrow slot holds: 24 bits, less the zero of an empty slot.
const NARROW: u32 = (1 << 24) - 1;

impl Default for Slots {
    fn default() -> Self {
        Slots::with_narrow(NARROW)
    }
}

/// A slot's word: a tag of the key's hash above the group's index plus
/// one, zero when empty.
trait Word: Copy + Eq + Default {
    /// The slot of index `i` under `hash`.
    fn new(hash: u64, i: u32) -> Self;
    /// The index in the slot, if its tag is `hash`'s.
    fn index_if(self, hash: u64) -> Option<u32>;
    /// The index in the slot.
    fn index(self) -> u32;
}

/// Narrow: the hash's top 8 bits, then 24 bits of index.
impl Word for u32 {
    #[inline(always)]
    fn new(hash: u64, i: u32) -> u32 {
        ((hash >> 32) as u32 & 0xff00_0000) | (i + 1)
    }
    #[inline(always)]
    fn index_if(self, hash: u64) -> Option<u32> {
        ((self ^ (hash >> 32) as u32) & 0xff00_0000 == 0).then(|| self.index())
    }
    #[inline(always)]
    fn index(self) -> u32 {
        (self & 0x00ff_ffff) - 1
    }
}

/// Wide: the hash's top 32 bits, then 32 bits of index.
impl Word for u64 {
    #[inline(always)]
    fn new(hash: u64, i: u32) -> u64 {
        (hash & 0xffff_ffff_0000_0000) | u64::from(i + 1)
    }
    #[inline(always)]
    fn index_if(self, hash: u64) -> Option<u32> {
        ((self ^ hash) >> 32 == 0).then(|| self.index())
    }
    #[inline(always)]
    fn index(self) -> u32 {
        self as u32 - 1
    }
}

impl Slots {
    fn with_narrow(narrow: u32) -> Slots {
        Slots {
            store: Store::Narrow(Vec::new()),
            len: 0,
            narrow,
        }
    }

    /// Asks for the cache line of the slot a lookup of `hash` starts at.
    #[inline(always)]
    pub(crate) fn prefetch(&self, hash: u64) {
        match &self.store {
            Store::Narrow(s) => prefetch(s, home(s, hash)),
            Store::Wide(s) => prefetch(s, home(s, hash)),
        }
    }

    /// The index whose slot has `hash`'s tag and for which `eq` holds.
    #[inline]
    pub(crate) fn find(&self, hash: u64, eq: impl Fn(u32) -> bool) -> Option<u32> {
        match &self.store {
            Store::Narrow(s) => probe(s, hash, eq),
            Store::Wide(s) => probe(s, hash, eq),
        }
    }

    /// The index a lookup of `hash` most likely finds, without comparing
    /// keys: the first whose slot has the hash's tag. For asking ahead for
    /// a group's data, once the slot is in cache (see [`prefetch`](Self::prefetch)).
    #[inline]
    pub(crate) fn likely(&self, hash: u64) -> Option<u32> {
        self.find(hash, |_| true)
    }

    /// Adds index `i` (below `u32::MAX`) under `hash`, whose key the table
    /// does not hold; `hash_of` gives the hash of an index already held
    /// (narrow slots keep too little of it to move when the table grows).
    pub(crate) fn insert_unique(&mut self, hash: u64, i: u32, hash_of: impl Fn(u32) -> u64) {
        assert!(i < u32::MAX, "a table of 2^32 groups");
        if i >= self.narrow {
            if let Store::Narrow(old) = &self.store {
                let mut wide = vec![0u64; old.len()];
                move_all(old, &mut wide, &hash_of);
                self.store = Store::Wide(wide);
            }
        }
        self.len += 1;
        match &mut self.store {
            Store::Narrow(s) => add(s, self.len, hash, i, &hash_of),
            Store::Wide(s) => add(s, self.len, hash, i, &hash_of),
        }
    }

    /// Bytes held.
    pub(crate) fn bytes(&self) -> usize {
        match &self.store {
            Store::Narrow(s) => s.capacity() * 4,
            Store::Wide(s) => s.capacity() * 8,
        }
    }
}

/// Where a probe for `hash` starts.
#[inline(always)]
fn home<T>(slots: &[T], hash: u64) -> usize {
    hash as usize & slots.len().wrapping_sub(1)
}

/// Linear probing from `hash`'s home: the first index whose tag matches and
/// for which `eq` holds, or `None` at an empty slot.
#[inline(always)]
fn probe<T: Word>(slots: &[T], hash: u64, eq: impl Fn(u32) -> bool) -> Option<u32> {
    if slots.is_empty() {
        return None;
    }
    let mut at = home(slots, hash);
    loop {
        let x = slots[at];
        if x == T::default() {
            return None;
        }
        if let Some(i) = x.index_if(hash) {
            if eq(i) {
                return Some(i);
            }
        }
        at = (at + 1) & (slots.len() - 1);
    }
}

/// Stores index `i` under `hash` in a table that will then hold `len`
/// entries, doubling its slots first if it would be over three quarters full.
fn add<T: Word>(slots: &mut Vec<T>, len: usize, hash: u64, i: u32, hash_of: &impl Fn(u32) -> u64) {
    if len * 4 > slots.len() * 3 {
        let old = std::mem::replace(slots, vec![T::default(); (slots.len() * 2).max(16)]);
        move_all(&old, slots, hash_of);
    }
    put(slots, hash, T::new(hash, i));
}

/// Puts every entry of `from` into `to`, by the hash of its index.
fn move_all<F: Word, T: Word>(from: &[F], to: &mut [T], hash_of: &impl Fn(u32) -> u64) {
    for &x in from.iter().filter(|&&x| x != F::default()) {
        let i = x.index();
        let hash = hash_of(i);
        put(to, hash, T::new(hash, i));
    }
}

/// Stores `x` in the first empty slot from `hash`'s home.
#[inline]
fn put<T: Word>(slots: &mut [T], hash: u64, x: T) {
    let mut at = home(slots, hash);
    while slots[at] != T::default() {
        at = (at + 1) & (slots.len() - 1);
    }
    slots[at] = x;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hashes chosen to collide: made of few distinct bits, so that many
    /// keys share a tag (418 of the first thousand share one) and probes
    /// run long and meet the tags of other keys.
    fn hash(k: u64) -> u64 {
        ((k / 4) << 40 | (k % 4) << 56).rotate_left((k % 3) as u32 * 8) ^ (k & !3)
    }

    /// Against the keys themselves, through growth and, past `narrow`
    /// groups, the change to wide slots.
    fn finds_what_was_put(narrow: u32, n: u64) {
        let mut s = Slots::with_narrow(narrow);
        let keys: Vec<u64> = (0..n).collect();
        let hash_of = |i: u32| hash(keys[i as usize]);
        for &k in &keys {
            assert_eq!(s.find(hash(k), |i| keys[i as usize] == k), None);
            s.insert_unique(hash(k), k as u32, hash_of);
        }
        assert_eq!(matches!(s.store, Store::Wide(_)), n > u64::from(narrow));
        for &k in &keys {
            assert_eq!(s.find(hash(k), |i| keys[i as usize] == k), Some(k as u32));
            assert_eq!(s.find(hash(k), |_| false), None);
            // The first slot with the tag: this key's, or one that shares it.
            let i = s.likely(hash(k)).expect("a held key's tag is there");
            assert_eq!(hash(keys[i as usize]) >> 56, hash(k) >> 56);
        }
        let room = s.bytes() / if n > u64::from(narrow) { 8 } else { 4 };
        assert!(s.len * 4 <= room * 3);
    }

    #[test]
    fn finds_what_was_put_and_nothing_else() {
        finds_what_was_put(NARROW, 20_000);
    }

    #[test]
    fn narrow_slots_widen_past_their_last_index() {
        finds_what_was_put(1000, 20_000);
        finds_what_was_put(1000, 1000);
        finds_what_was_put(1000, 1001);
    }

    /// The real limit: the last index a narrow slot holds stays narrow, the
    /// next widens the table, and indices past 24 bits are kept whole.
    #[test]
    fn the_narrow_limit_is_the_last_24_bit_index() {
        let mut s = Slots::default();
        let ids = [NARROW - 1, 3, NARROW, (1 << 24) + 5, u32::MAX - 1];
        let hash_of = |i: u32| hash(u64::from(i) * 4);
        for (n, &i) in ids.iter().enumerate() {
            s.insert_unique(hash_of(i), i, hash_of);
            let wide = matches!(s.store, Store::Wide(_));
            assert_eq!(wide, n >= 2, "after {i}");
            for &j in &ids[..=n] {
                assert_eq!(s.find(hash_of(j), |k| k == j), Some(j), "{j} after {i}");
            }
        }
    }

    #[test]
    fn an_empty_table_finds_nothing_and_prefetches_nothing() {
        let s = Slots::default();
        s.prefetch(7);
        assert_eq!(s.find(7, |_| true), None);
        assert_eq!(s.likely(7), None);
    }
}
