//! Keeping the aggregation within its memory budget.

use std::cmp::Reverse;
use std::hash::BuildHasher;
use std::mem::size_of;

use super::{Candidate, Diagnose, Group, GroupKey};
use crate::aggregate::distinct::kept_hash as kept;
use crate::aggregate::rejects::Approximation;

impl Diagnose {
    /// Rough bytes in use.
    pub(super) fn bytes(&self) -> usize {
        self.sampled_bytes()
            + self.group_bytes()
            + self.enis.bytes()
            + self.formats.bytes()
            + self.evidence_bytes
    }

    /// What sampling can shrink: accepted flows, response candidates, public sources.
    fn sampled_bytes(&self) -> usize {
        self.accepted.bytes()
            + self.scan.sources.bytes()
            + self.candidates.capacity() * size_of::<Candidate>()
    }

    fn group_bytes(&self) -> usize {
        self.index.capacity() * 8 / 7 * (size_of::<(GroupKey, u32)>() + 1)
            + self.keys.capacity() * size_of::<GroupKey>()
            + self.groups.capacity() * size_of::<Group>()
    }

    /// Brings memory use under the budget: sampling flows and sources more
    /// sparsely while they are the larger part, else dropping the smaller half
    /// of the groups. Interfaces are never dropped (their own addresses are
    /// needed), nor reject reasons (a handful).
    pub(super) fn enforce(&mut self) {
        let bytes = self.bytes();
        let Some(target) = self.share.as_mut().and_then(|s| s.target(bytes)) else {
            return;
        };
        for _ in 0..64 {
            let sampled = self.sampled_bytes();
            let bytes = self.bytes();
            if bytes <= target {
                break;
            }
            if sampled >= self.group_bytes() && sampled > bytes / 16 && self.level < 32 {
                self.resample(self.level + 1);
            } else if self.keys.len() > 1 {
                self.evict_half();
            } else {
                break;
            }
        }
        let bytes = self.bytes();
        if let Some(s) = &mut self.share {
            s.report(bytes);
        }
    }

    /// Keeps only what sampling level `level` keeps.
    pub(super) fn resample(&mut self, level: u32) {
        if level <= self.level {
            return;
        }
        self.level = level;
        self.accepted.retain(|h| kept(level, *h));
        self.candidates.retain(|c| kept(level, c.reverse));
        let hasher = self.hasher.clone();
        self.scan
            .sources
            .retain(|s| kept(level, hasher.hash_one(*s)));
        self.candidates.shrink_to_fit();
    }

    /// Drops the half of the groups with the fewest records; the most records
    /// a dropped group had bounds how low any count can now be.
    fn evict_half(&mut self) {
        let n = self.keys.len();
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_unstable_by_key(|&i| Reverse(self.groups[i].seen.records));
        let keep = n / 2;
        let mut remap = vec![u32::MAX; n];
        let mut old: Vec<Option<Group>> = std::mem::take(&mut self.groups)
            .into_iter()
            .map(Some)
            .collect();
        let mut keys = Vec::with_capacity(keep);
        let mut groups = Vec::with_capacity(keep);
        let mut dropped = 0;
        for (rank, &i) in order.iter().enumerate() {
            let g = old[i].take().expect("each group once");
            if rank < keep {
                remap[i] = keys.len() as u32;
                keys.push(self.keys[i]);
                groups.push(g);
            } else {
                dropped = dropped.max(g.seen.records);
            }
        }
        // A group dropped more than once loses its count each time: the bound
        // is the sum of what each drop could take.
        self.error += dropped;
        self.index = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (*k, i as u32))
            .collect();
        self.keys = keys;
        self.groups = groups;
        self.candidates.retain_mut(|c| {
            c.group = remap[c.group as usize];
            c.group != u32::MAX
        });
        self.candidates.shrink_to_fit();
        self.evidence_bytes = self
            .groups
            .iter()
            .map(|g| &g.evidence)
            .chain(self.reasons.values().map(|r| &r.evidence))
            .chain([&self.scan.evidence])
            .flat_map(|e| e.iter())
            .map(|r| r.bytes())
            .sum();
    }

    /// How the result is approximate, if it is.
    pub(super) fn approximation(&self) -> Option<Approximation> {
        (self.level > 0 || self.error > 0).then(|| Approximation {
            budget: self
                .config
                .memory
                .as_ref()
                .map_or(0, crate::aggregate::MemoryBudget::limit),
            records_low_by_at_most: self.error,
            distinct_sampled_one_in: 1 << self.level,
            sum_low_by_at_most: None,
        })
    }
}
