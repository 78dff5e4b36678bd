//! The pieces of the diagnose aggregation: interfaces interned once, each with
//! a sample of its records (for its own address) and its instances; groups of
//! REJECTs; evidence chosen by position. Every piece merges to the same value
//! however the records were split.

use std::net::IpAddr;

use foldhash::fast::RandomState;
use hashbrown::HashMap;

use crate::parse::{decode_text, ValueError};
use crate::schema::Field;

/// An address as a number: IPv4 with a marker bit, so it cannot equal an IPv6
/// address (whose top bit is unallocated).
pub(super) fn num(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v) => 1 << 127 | u128::from(u32::from(v)),
        IpAddr::V6(v) => u128::from(v),
    }
}

/// Back from [`num`].
pub(super) fn addr_text(a: u128) -> String {
    if a >> 127 == 1 && a >> 32 == 1 << 95 {
        std::net::Ipv4Addr::from(a as u32).to_string()
    } else {
        std::net::Ipv6Addr::from(a).to_string()
    }
}

/// Records of an interface sampled for its own address: the ones with the
/// smallest hashes (a bottom-k sample: the same records whatever the split,
/// and the sample of a union is the sample of the samples).
#[derive(Clone, Default)]
pub(super) struct Own {
    records: u64,
    /// (record hash, source, destination; 0 for none), ascending.
    sample: Vec<(u64, u128, u128)>,
}

/// Records an interface's own address is judged from.
pub(super) const OWN_SAMPLE: usize = 16;

impl Own {
    #[inline]
    pub fn add(&mut self, h: u64, src: u128, dst: u128) {
        self.records += 1;
        let e = (h, src, dst);
        if self.sample.len() == OWN_SAMPLE && e >= self.sample[OWN_SAMPLE - 1] {
            return;
        }
        let at = self.sample.partition_point(|x| *x < e);
        self.sample.insert(at, e);
        self.sample.truncate(OWN_SAMPLE);
    }

    pub fn merge(&mut self, o: &Own) {
        self.records += o.records;
        self.sample.extend_from_slice(&o.sample);
        self.sample.sort_unstable();
        self.sample.truncate(OWN_SAMPLE);
    }

    /// The address in at least nine in ten of the sampled records (all of
    /// them when there are few), if exactly one is.
    pub fn address(&self) -> Option<u128> {
        let n = self.sample.len();
        let mut found = None;
        let mut cands: Vec<u128> = self.sample.iter().flat_map(|e| [e.1, e.2]).collect();
        cands.sort_unstable();
        cands.dedup();
        for a in cands.into_iter().filter(|&a| a != 0) {
            let c = self.sample.iter().filter(|e| e.1 == a || e.2 == a).count();
            if c * 10 >= n * 9 {
                if found.is_some() {
                    // Two addresses in every record: nothing says which is its own.
                    return None;
                }
                found = Some(a);
            }
        }
        found
    }

    pub fn bytes(&self) -> usize {
        self.sample.capacity() * 40
    }
}

/// Instance ids an interface's records carry: the few smallest, so that the
/// same ones are kept whatever the split.
pub(super) const INSTANCES: usize = 3;

/// What is known of one interface.
#[derive(Clone, Default)]
pub(super) struct Eni {
    pub name: Box<str>,
    pub own: Own,
    pub instances: Vec<Box<str>>,
    /// Public sources were rejected on it (inbound scanning).
    pub scanned: bool,
}

impl Eni {
    #[inline]
    pub fn note_instance(&mut self, id: &[u8]) {
        if self.instances.iter().any(|i| i.as_bytes() == id) {
            return;
        }
        self.add_instance(String::from_utf8_lossy(id).into());
    }

    fn add_instance(&mut self, id: Box<str>) {
        if self.instances.len() == INSTANCES && id >= self.instances[INSTANCES - 1] {
            return;
        }
        if !self.instances.contains(&id) {
            let at = self.instances.partition_point(|x| *x < id);
            self.instances.insert(at, id);
            self.instances.truncate(INSTANCES);
        }
    }

    fn merge(&mut self, o: Eni) {
        self.own.merge(&o.own);
        for i in o.instances {
            self.add_instance(i);
        }
        self.scanned |= o.scanned;
    }
}

/// Interfaces by name, each with a number; names are copied only when new.
#[derive(Default)]
pub(super) struct Enis {
    index: HashMap<Box<[u8]>, u32, RandomState>,
    pub list: Vec<Eni>,
}

impl Enis {
    /// The number of an interface; a new name must be printable text (as
    /// `rejects` requires), so that names compare the same in every thread.
    #[inline]
    pub fn id(&mut self, name: &[u8]) -> Result<u32, ValueError> {
        if let Some(&i) = self.index.get(name) {
            return Ok(i);
        }
        let text = decode_text(Field::InterfaceId, name)?;
        Ok(self.insert(text))
    }

    fn insert(&mut self, name: &str) -> u32 {
        let i = self.list.len() as u32;
        self.index.insert(name.as_bytes().into(), i);
        self.list.push(Eni {
            name: name.into(),
            ..Eni::default()
        });
        i
    }

    /// Merges `other` in; returns where each of its numbers went.
    pub fn merge(&mut self, other: Enis) -> Vec<u32> {
        let mut remap = Vec::with_capacity(other.list.len());
        for e in other.list {
            let i = match self.index.get(e.name.as_bytes()) {
                Some(&i) => i,
                None => self.insert(&e.name),
            };
            self.list[i as usize].merge(e);
            remap.push(i);
        }
        remap
    }

    pub fn bytes(&self) -> usize {
        self.index.capacity() * 40
            + self
                .list
                .iter()
                .map(|e| 96 + e.name.len() + e.own.bytes() + e.instances.len() * 40)
                .sum::<usize>()
    }
}

/// The first few of something, by position in the input (file, then line):
/// the same ones whatever the split.
#[derive(Clone, Debug)]
pub(super) struct Earliest<T> {
    items: Vec<((usize, u64), T)>,
}

impl<T> Default for Earliest<T> {
    fn default() -> Self {
        Earliest { items: Vec::new() }
    }
}

/// Evidence records kept per finding.
pub(super) const EVIDENCE: usize = 3;

impl<T> Earliest<T> {
    /// Keeps `make()` if `at` is among the first [`EVIDENCE`]; `make` runs only then.
    #[inline]
    pub fn offer(&mut self, at: (usize, u64), make: impl FnOnce() -> T) {
        if self.items.len() == EVIDENCE && at >= self.items[EVIDENCE - 1].0 {
            return;
        }
        let i = self.items.partition_point(|x| x.0 < at);
        if self.items.len() < EVIDENCE {
            // One at a time: most groups keep one or two, and a vector's first
            // growth would reserve four.
            self.items.reserve_exact(1);
        }
        self.items.insert(i, (at, make()));
        self.items.truncate(EVIDENCE);
    }

    pub fn merge(&mut self, o: Earliest<T>) {
        for (at, t) in o.items {
            self.offer(at, || t);
        }
    }

    pub fn for_each_mut(&mut self, mut f: impl FnMut(&mut T)) {
        for x in &mut self.items {
            f(&mut x.1);
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.items.iter().map(|x| &x.1)
    }
}

/// Sums over the records of a finding.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Seen {
    pub records: u64,
    pub first: Option<u64>,
    pub last: Option<u64>,
}

impl Seen {
    #[inline]
    pub fn add(&mut self, start: Option<u64>, end: Option<u64>) {
        self.records += 1;
        self.first = match (self.first, start) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last = self.last.max(end);
    }

    pub fn merge(&mut self, o: &Seen) {
        self.records += o.records;
        self.first = match (self.first, o.first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last = self.last.max(o.last);
    }
}

/// A set kept as a vector: values appended, sorted and deduplicated whenever
/// it has doubled. Appending takes no cache miss (a hash set of millions takes
/// one per insert), and growing costs no second table (a hash set that grows
/// holds its old table and a new one twice the size).
#[derive(Clone, Default)]
pub(super) struct Pile<T> {
    v: Vec<T>,
    /// Length after the last compaction.
    compacted: usize,
}

/// Piles shorter than this are compacted only when asked.
const PILE_MIN: usize = 1 << 16;

impl<T: Ord + Copy> Pile<T> {
    #[inline]
    pub fn push(&mut self, x: T) {
        self.v.push(x);
        if self.v.len() >= (2 * self.compacted).max(PILE_MIN) {
            self.compact();
        }
    }

    /// Sorts and deduplicates.
    pub fn compact(&mut self) {
        self.v.sort_unstable();
        self.v.dedup();
        self.compacted = self.v.len();
    }

    /// Distinct values (after [`compact`](Pile::compact)).
    pub fn len(&self) -> usize {
        self.v.len()
    }

    /// Whether `x` is in (after [`compact`](Pile::compact)).
    pub fn contains(&self, x: &T) -> bool {
        self.v.binary_search(x).is_ok()
    }

    pub fn retain(&mut self, keep: impl FnMut(&T) -> bool) {
        self.v.retain(keep);
        self.compact();
        self.v.shrink_to_fit();
    }

    pub fn extend(&mut self, o: Pile<T>) {
        self.v.extend(o.v);
        self.compact();
    }

    pub fn bytes(&self) -> usize {
        self.v.capacity() * std::mem::size_of::<T>()
    }
}
