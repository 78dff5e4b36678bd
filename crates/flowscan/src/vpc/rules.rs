//! Traffic per security group rule and network ACL entry, and the rules
//! nothing used.
//!
//! An accepted record is attributed to every rule of its interface's groups
//! that admits the connection it belongs to (a response counts for the rule
//! that admitted its request: security groups are stateful), and to the network
//! ACL entry that matched the packet first (ACLs see every packet). A deny
//! entry counts the REJECT records it decided.

use std::sync::Arc;

use foldhash::fast::RandomState;
use hashbrown::HashSet;
use serde::Serialize;

use super::config::{SgPeer, VpcConfig};
use super::eval::{acl_check, visit_rules, AclCheck, Packet, Tri};
use super::flow::{self, Role};
use super::{Direction, Period, Span};
use crate::aggregate::Aggregate;
use crate::display::format_time;
use crate::record::FlowRecord;
use crate::schema::{Field, FieldSet};
use crate::sink::{Position, Sink, SinkError};

/// Use of one rule.
#[derive(Clone, Debug, Default)]
struct Use {
    records: u64,
    packets: u64,
    bytes: u64,
    span: Span,
    peers: HashSet<u128, RandomState>,
}

impl Use {
    fn add(&mut self, packets: u64, bytes: u64, start: Option<u64>, end: Option<u64>, peer: u128) {
        self.records += 1;
        self.packets += packets;
        self.bytes += bytes;
        self.span.add(start, end);
        self.peers.insert(peer);
    }

    fn merge(&mut self, o: Use) {
        self.records += o.records;
        self.packets += o.packets;
        self.bytes += o.bytes;
        self.span.merge(o.span);
        self.peers.extend(o.peers);
    }
}

/// One rule and the traffic it admitted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleUse {
    /// The security group (for a security group rule).
    pub group_id: Option<String>,
    /// `sgr-…`, when describe-security-group-rules was saved.
    pub rule_id: Option<String>,
    /// The network ACL (for an ACL entry).
    pub network_acl_id: Option<String>,
    /// The entry's rule number (32767: `*`).
    pub rule_number: Option<u16>,
    /// `allow` or `deny` (ACL entries; security group rules only allow).
    pub action: &'static str,
    /// `ingress` or `egress`.
    pub direction: Direction,
    /// `tcp`, `udp`, `icmp`, `icmpv6`, `-1`, or a number.
    pub protocol: String,
    /// First port (ICMP: type; `-1`: any).
    pub from_port: Option<i32>,
    /// Last port (ICMP: code).
    pub to_port: Option<i32>,
    /// The network it applies to.
    pub cidr: Option<String>,
    /// The security group it references.
    pub group: Option<String>,
    /// The prefix list it references.
    pub prefix_list: Option<String>,
    /// Records it admitted (deny entries: REJECT records it decided).
    pub records: u64,
    /// Their packets.
    pub packets: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Distinct peer addresses.
    pub peers: u64,
    /// Earliest start.
    pub first_seen: Option<String>,
    /// Latest end.
    pub last_seen: Option<String>,
    /// An allowing rule that admitted nothing in the period.
    pub unused: bool,
    /// The rule's description.
    pub description: Option<String>,
}

/// The result of [`Rules::report`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RulesReport {
    /// The time the records cover (the period "unused" refers to).
    pub period: Option<Period>,
    /// ACCEPT records seen.
    pub accepted: u64,
    /// ACCEPT records of interfaces not in the configuration, or whose
    /// direction could not be told.
    pub unattributed: u64,
    /// ACCEPT records no saved security group rule admits (the rules changed).
    pub sg_unmatched: u64,
    /// ACCEPT records a saved ACL entry denies (the ACL changed).
    pub acl_denied: u64,
    /// Allowing rules that admitted nothing.
    pub unused: u64,
    /// Every rule: security group rules by group, then ACL entries by ACL,
    /// direction and number.
    pub rules: Vec<RuleUse>,
}

/// The `rules` aggregation.
pub struct Rules {
    cfg: Arc<VpcConfig>,
    sg: Vec<Use>,
    acl: Vec<Use>,
    span: Span,
    accepted: u64,
    unattributed: u64,
    sg_unmatched: u64,
    acl_denied: u64,
    hits: Vec<u32>,
    maybe: Vec<u32>,
}

impl Rules {
    /// An empty aggregation over a configuration.
    pub fn new(cfg: Arc<VpcConfig>) -> Rules {
        Rules {
            sg: vec![Use::default(); cfg.sg_rules.len()],
            acl: vec![Use::default(); cfg.acl_entries.len()],
            cfg,
            span: Span::default(),
            accepted: 0,
            unattributed: 0,
            sg_unmatched: 0,
            acl_denied: 0,
            hits: Vec::new(),
            maybe: Vec::new(),
        }
    }

    /// Rules that admit the connection a packet belongs to, trying its likely
    /// role first.
    fn admitting(&mut self, iface: u32, dir: Direction, pkt: &Packet, guess: Role) {
        let roles = match guess {
            Role::Request => [Role::Request, Role::Response],
            Role::Response => [Role::Response, Role::Request],
        };
        for role in roles {
            let (d, p) = match role {
                Role::Request => (dir, *pkt),
                Role::Response => (dir.flip(), pkt.reversed()),
            };
            self.hits.clear();
            self.maybe.clear();
            let (hits, maybe) = (&mut self.hits, &mut self.maybe);
            visit_rules(&self.cfg, iface, d, &p, |r, t| match t {
                Tri::Yes => hits.push(r),
                _ => maybe.push(r),
            });
            // Only undecidable rules (ICMP type, unsaved members) can be it.
            if hits.is_empty() {
                std::mem::swap(hits, maybe);
            }
            if !hits.is_empty() {
                return;
            }
        }
    }

    /// The report; every rule is listed, unused allowing rules flagged.
    pub fn report(&self) -> RulesReport {
        let cfg = &*self.cfg;
        let mut rules = Vec::new();
        let mut order: Vec<u32> = (0..cfg.sg_rules.len() as u32).collect();
        order.sort_by_key(|&r| {
            let x = &cfg.sg_rules[r as usize];
            (&cfg.groups[x.group as usize].id, x.direction, r)
        });
        for r in order {
            let x = &cfg.sg_rules[r as usize];
            let (cidr, group, prefix_list) = match &x.peer {
                SgPeer::Cidr(n) => (Some(n.to_string()), None, None),
                SgPeer::Group(g) => (None, Some(g.clone()), None),
                SgPeer::PrefixList(p) => (None, None, Some(p.clone())),
            };
            let mut row = row(&self.sg[r as usize], x.direction, x.protocol.name(), true);
            row.group_id = Some(cfg.groups[x.group as usize].id.clone());
            row.rule_id = x.rule_id.clone();
            (row.from_port, row.to_port) = (x.from_port, x.to_port);
            (row.cidr, row.group, row.prefix_list) = (cidr, group, prefix_list);
            row.description = x.description.clone();
            rules.push(row);
        }
        let mut acls: Vec<u32> = (0..cfg.acls.len() as u32).collect();
        acls.sort_by_key(|&a| &cfg.acls[a as usize].id);
        for a in acls {
            let acl = &cfg.acls[a as usize];
            for &e in acl.inbound.iter().chain(&acl.outbound) {
                let x = &cfg.acl_entries[e as usize];
                let mut row = row(
                    &self.acl[e as usize],
                    x.direction,
                    x.protocol.name(),
                    x.allow,
                );
                row.network_acl_id = Some(acl.id.clone());
                row.rule_number = Some(x.rule_number);
                row.action = if x.allow { "allow" } else { "deny" };
                (row.from_port, row.to_port) = match (x.ports, x.icmp) {
                    (Some((f, t)), _) => (Some(i32::from(f)), Some(i32::from(t))),
                    (None, Some((t, c))) => (Some(t), Some(c)),
                    _ => (None, None),
                };
                row.cidr = x.cidr.map(|c| c.to_string());
                rules.push(row);
            }
        }
        RulesReport {
            period: self.span.period(),
            accepted: self.accepted,
            unattributed: self.unattributed,
            sg_unmatched: self.sg_unmatched,
            acl_denied: self.acl_denied,
            unused: rules.iter().filter(|r| r.unused).count() as u64,
            rules,
        }
    }
}

fn row(u: &Use, direction: Direction, protocol: String, allows: bool) -> RuleUse {
    RuleUse {
        group_id: None,
        rule_id: None,
        network_acl_id: None,
        rule_number: None,
        action: "allow",
        direction,
        protocol,
        from_port: None,
        to_port: None,
        cidr: None,
        group: None,
        prefix_list: None,
        records: u.records,
        packets: u.packets,
        bytes: u.bytes,
        peers: u.peers.len() as u64,
        first_seen: u.span.first.map(format_time),
        last_seen: u.span.last.map(format_time),
        unused: allows && u.records == 0,
        description: None,
    }
}

impl Sink for Rules {
    fn needs(&self) -> FieldSet {
        FieldSet::of(&[
            Field::Action,
            Field::InterfaceId,
            Field::SrcAddr,
            Field::DstAddr,
        ])
    }

    fn reads(&self) -> FieldSet {
        FieldSet::of(&[
            Field::Action,
            Field::InterfaceId,
            Field::SrcAddr,
            Field::DstAddr,
            Field::SrcPort,
            Field::DstPort,
            Field::Protocol,
            Field::Packets,
            Field::Bytes,
            Field::Start,
            Field::End,
            Field::FlowDirection,
            Field::TcpFlags,
        ])
    }

    fn record<R: FlowRecord>(&mut self, r: &R, _pos: &Position<'_>) -> Result<(), SinkError> {
        let accept = match r.text(Field::Action) {
            Some(b"ACCEPT") => true,
            Some(b"REJECT") => false,
            _ => return Ok(()),
        };
        let (start, end) = (r.int(Field::Start)?, r.int(Field::End)?);
        let packets = r.int(Field::Packets)?.unwrap_or(0);
        let bytes = r.int(Field::Bytes)?.unwrap_or(0);
        let seen = flow::read(&self.cfg, r)?;
        self.span.add(start, end);
        let Some(s) = seen else {
            self.accepted += u64::from(accept);
            self.unattributed += u64::from(accept);
            return Ok(());
        };
        let (Some(iface), Some(dir)) = (s.iface, s.dir) else {
            self.accepted += u64::from(accept);
            self.unattributed += u64::from(accept);
            return Ok(());
        };
        let peer = super::addr_key(s.pkt.peer(dir));
        if let AclCheck::Checked(_, res) = acl_check(&self.cfg, iface, dir, &s.pkt) {
            match (res.entry, accept, res.allow) {
                (Some(e), true, true) | (Some(e), false, false) => {
                    self.acl[e as usize].add(packets, bytes, start, end, peer)
                }
                (_, true, false) => self.acl_denied += 1,
                _ => {}
            }
        }
        if !accept {
            return Ok(());
        }
        self.accepted += 1;
        if self.cfg.interfaces[iface as usize].group_ids.is_empty() {
            return Ok(());
        }
        let (guess, _) = flow::role(&s.pkt, s.flags);
        self.admitting(iface, dir, &s.pkt, guess);
        if self.hits.is_empty() {
            self.sg_unmatched += 1;
        }
        for i in 0..self.hits.len() {
            let r = self.hits[i] as usize;
            self.sg[r].add(packets, bytes, start, end, peer);
        }
        Ok(())
    }
}

impl Aggregate for Rules {
    fn merge(&mut self, o: Rules) {
        for (a, b) in self.sg.iter_mut().zip(o.sg) {
            a.merge(b);
        }
        for (a, b) in self.acl.iter_mut().zip(o.acl) {
            a.merge(b);
        }
        self.span.merge(o.span);
        self.accepted += o.accepted;
        self.unattributed += o.unattributed;
        self.sg_unmatched += o.sg_unmatched;
        self.acl_denied += o.acl_denied;
    }
}
