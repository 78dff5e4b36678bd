//! Findings, worded for an operator.

use serde::Serialize;

use super::evidence::{Evidence, Raw};
use super::parts::{addr_text, Earliest, Seen};
use super::{Diagnose, GroupKey, EPHEMERAL};
use crate::aggregate::rejects::Approximation;
use crate::display::protocol_name;
use crate::render::thousands;

/// One finding of [`Diagnose::report`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// `nacl-return-path`, `egress-blocked`, `inbound-scanning` or `reject-reason`.
    pub kind: &'static str,
    /// `high`, `medium` or `low`.
    pub confidence: &'static str,
    /// What it means, in a sentence.
    pub summary: String,
    /// The interface, when the finding is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interface_id: Option<String>,
    /// The instances the interface's records name (`instance-id`), when the
    /// logs carry that field: the first few in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub instance_ids: Vec<String>,
    /// REJECT records the finding rests on.
    pub records: u64,
    /// Earliest `start` of those records (Unix seconds).
    #[serde(serialize_with = "crate::display::ser_time")]
    pub first_seen: Option<u64>,
    /// Latest `end` of those records.
    #[serde(serialize_with = "crate::display::ser_time")]
    pub last_seen: Option<u64>,
    /// The first few of those records in input order, with file and line.
    pub evidence: Vec<Evidence>,
}

/// The result of [`Diagnose::report`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DiagnoseReport {
    /// REJECT records seen.
    pub rejects: u64,
    /// What they point at, strongest first.
    pub findings: Vec<Finding>,
    /// Set when the memory budget made the result approximate: counts of
    /// matched responses and public sources are then estimated from a sample.
    pub approximate: Option<Approximation>,
}

/// `1 response`, `2 responses`, `1,234 responses`.
fn count(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

fn is_icmp(proto: u8) -> bool {
    proto == 1 || proto == 58
}

impl Diagnose {
    fn finding(
        &self,
        kind: &'static str,
        confidence: &'static str,
        summary: String,
        eni: Option<u32>,
        seen: &Seen,
        evidence: &Earliest<Raw>,
    ) -> Finding {
        let eni = eni.map(|e| &self.enis.list[e as usize]);
        Finding {
            kind,
            confidence,
            summary,
            interface_id: eni.map(|e| e.name.to_string()),
            instance_ids: eni.map_or_else(Vec::new, |e| {
                e.instances.iter().map(|i| i.to_string()).collect()
            }),
            records: seen.records,
            first_seen: seen.first,
            last_seen: seen.last,
            evidence: evidence.iter().map(|r| self.formats.show(r)).collect(),
        }
    }

    /// Groups in report order: most records first, then by key (interface
    /// name, addresses, port, protocol), the same whatever the split.
    fn group_order(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.keys.len()).collect();
        let name = |i: usize| &*self.enis.list[self.keys[i].eni as usize].name;
        order.sort_by(|&a, &b| {
            let (ka, kb) = (&self.keys[a], &self.keys[b]);
            self.groups[b]
                .seen
                .records
                .cmp(&self.groups[a].seen.records)
                .then_with(|| name(a).cmp(name(b)))
                .then_with(|| {
                    (ka.src, ka.dst, ka.port, ka.proto, ka.egress)
                        .cmp(&(kb.src, kb.dst, kb.port, kb.proto, kb.egress))
                })
        });
        order
    }

    /// Turns request groups that are a service's replies into responses:
    /// between two ephemeral ports, from one source port only, answering a
    /// request seen accepted (gRPC's 50051 to clients on lower ports). Such a
    /// group is keyed by the client's port; it joins the response group of
    /// the service port, and its candidates go with it. Emptied groups are
    /// skipped, so it can run again.
    fn settle(&mut self) {
        let n = self.keys.len();
        let mut joined = vec![false; n];
        for c in &self.candidates {
            if self.accepted.contains(&c.reverse) {
                joined[c.group as usize] = true;
            }
        }
        let mut target = vec![u32::MAX; n];
        for i in 0..n {
            let (k, g) = (self.keys[i], &self.groups[i]);
            let replies = joined[i]
                && k.dst != 0
                && !is_icmp(k.proto)
                && k.port >= EPHEMERAL
                && g.seen.records > 0
                && g.low_sport == g.high_sport
                && g.low_sport >= k.port;
            if !replies {
                continue;
            }
            let g = std::mem::take(&mut self.groups[i]);
            let t = self.group(GroupKey {
                dst: 0,
                port: g.low_sport,
                ..k
            });
            self.groups[t as usize].absorb(g);
            target[i] = t;
        }
        // Candidates of the groups left as requests are not responses: only
        // response groups keep theirs, to count the matched ones.
        let keys = &self.keys;
        self.candidates.retain_mut(|c| {
            let i = c.group as usize;
            if i < n && target[i] != u32::MAX {
                c.group = target[i];
            }
            keys[c.group as usize].dst == 0
        });
    }

    /// The findings, strongest first.
    pub fn report(&mut self) -> DiagnoseReport {
        self.accepted.compact();
        self.scan.sources.compact();
        self.settle();
        // Join rejected responses with the accepted requests they answer.
        let mut matched = vec![0u64; self.keys.len()];
        for c in &self.candidates {
            if self.accepted.contains(&c.reverse) {
                matched[c.group as usize] += 1;
            }
        }
        let own: Vec<Option<u128>> = self.enis.list.iter().map(|e| e.own.address()).collect();
        let mut findings = Vec::new();
        for idx in self.group_order() {
            let key = &self.keys[idx];
            if self.groups[idx].seen.records == 0 {
                continue;
            }
            let m = matched[idx] << self.level;
            if m > 0 {
                findings.push(self.return_path(idx, m, own[key.eni as usize]));
            } else if key.egress || own[key.eni as usize] == Some(key.src) {
                findings.push(self.egress(idx));
            }
        }
        findings.extend(self.scanning());
        let mut reasons: Vec<_> = self.reasons.iter().collect();
        reasons.sort_by(|a, b| {
            b.1.seen
                .records
                .cmp(&a.1.seen.records)
                .then_with(|| a.0.cmp(b.0))
        });
        for (reason, r) in reasons {
            let reason = String::from_utf8_lossy(reason);
            let what = if reason == "BPA" {
                " (VPC Block Public Access)"
            } else {
                ""
            };
            let summary = format!(
                "{} carry reject-reason {reason}{what}",
                count(r.seen.records, "REJECT", "REJECTs")
            );
            findings.push(self.finding(
                "reject-reason",
                "high",
                summary,
                None,
                &r.seen,
                &r.evidence,
            ));
        }
        DiagnoseReport {
            rejects: self.rejects,
            findings,
            approximate: self.approximation(),
        }
    }

    fn about(&self) -> &'static str {
        if self.level > 0 {
            "about "
        } else {
            ""
        }
    }

    fn return_path(&self, idx: usize, m: u64, own: Option<u128>) -> Finding {
        let (key, g) = (&self.keys[idx], &self.groups[idx]);
        let proto = protocol_name(key.proto).map_or_else(|| key.proto.to_string(), str::to_string);
        let side = match own {
            Some(a) if a == key.src => "leaving the interface: its network ACL's outbound rules",
            Some(a) if a == key.dst => "arriving at the interface: its network ACL's inbound rules",
            _ => "a network ACL on the path",
        };
        let eni = &self.enis.list[key.eni as usize].name;
        // ICMP replies have no ports: the rule to add is for the protocol.
        let (what, fix) = if is_icmp(key.proto) {
            (proto.clone(), format!("allow {proto} replies"))
        } else {
            let ports = if g.low_port == g.high_port {
                format!("port {}", g.low_port)
            } else {
                format!("ports {}-{}", g.low_port, g.high_port)
            };
            (
                format!("{proto} to {ports}"),
                format!("allow the return traffic, usually ephemeral ports {EPHEMERAL}-65535"),
            )
        };
        let summary = format!(
            "{}{} ({what}) to accepted requests rejected on {eni}: security groups are stateful and would allow them, so it is {side} ({fix})",
            self.about(),
            count(m, "response", "responses"),
        );
        let confidence = if m >= 3 { "high" } else { "medium" };
        self.finding(
            "nacl-return-path",
            confidence,
            summary,
            Some(key.eni),
            &g.seen,
            &g.evidence,
        )
    }

    fn egress(&self, idx: usize) -> Finding {
        let (key, g) = (&self.keys[idx], &self.groups[idx]);
        let proto = protocol_name(key.proto).map_or_else(|| key.proto.to_string(), str::to_string);
        let port = if is_icmp(key.proto) {
            String::new()
        } else {
            format!(":{}", key.port)
        };
        let summary = format!(
            "{} cannot reach {}{port}/{proto}: {}; check the security group's outbound rules and the subnet's network ACL",
            self.enis.list[key.eni as usize].name,
            addr_text(key.dst),
            count(g.seen.records, "outbound REJECT", "outbound REJECTs"),
        );
        let confidence = if g.seen.records >= 3 {
            "high"
        } else {
            "medium"
        };
        self.finding(
            "egress-blocked",
            confidence,
            summary,
            Some(key.eni),
            &g.seen,
            &g.evidence,
        )
    }

    fn scanning(&self) -> Option<Finding> {
        let s = &self.scan;
        let sources = (s.sources.len() as u64) << self.level;
        if s.seen.records == 0 || sources < 10 {
            return None;
        }
        let ports: u64 = s.ports.iter().map(|w| u64::from(w.count_ones())).sum();
        let enis = self.enis.list.iter().filter(|e| e.scanned).count() as u64;
        let summary = format!(
            "{}{} probed {} on {} and were rejected ({}): internet noise, expected, low priority",
            self.about(),
            count(sources, "public source", "public sources"),
            count(ports, "port", "ports"),
            count(enis, "interface", "interfaces"),
            count(s.seen.records, "record", "records"),
        );
        Some(self.finding(
            "inbound-scanning",
            "low",
            summary,
            None,
            &s.seen,
            &s.evidence,
        ))
    }
}
