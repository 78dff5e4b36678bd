//! How AWS decides, as pure functions of the saved configuration and one
//! packet.
//!
//! - Security groups are stateful and allow-only: a packet that starts a
//!   connection passes when any rule of any group on the interface admits it
//!   (the union); the response passes because the request did.
//! - Network ACLs are stateless, per subnet: every packet, request or response,
//!   is checked against the entries of its direction in ascending rule number,
//!   the first match decides, and the final `*` entry denies. Traffic between
//!   two interfaces of one subnet is not checked.
//!
//! Flow logs do not record the ICMP type, and the configuration may name a
//! group or a prefix list it does not describe, so a rule can be undecided
//! ([`Tri::Maybe`]): answers are then less specific, never wrong.

use std::net::IpAddr;

use super::config::{AclEntry, Protocol, SgPeer, SgRule, VpcConfig};
use super::Direction;

/// Yes, no, or cannot tell from what was saved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tri {
    /// Does not match.
    No,
    /// Matches only for some ICMP types, or names a group or prefix list whose
    /// members the configuration does not hold.
    Maybe,
    /// Matches.
    Yes,
}

impl Tri {
    fn of(b: bool) -> Tri {
        if b {
            Tri::Yes
        } else {
            Tri::No
        }
    }
}

/// One packet: protocol, addresses and ports (0 for portless protocols).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Packet {
    /// IANA protocol number.
    pub proto: u8,
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
}

impl Packet {
    /// The packet going the other way (a response to this request).
    pub fn reversed(&self) -> Packet {
        Packet {
            proto: self.proto,
            src: self.dst,
            dst: self.src,
            sport: self.dport,
            dport: self.sport,
        }
    }

    /// The far side for an interface that sees it in `dir`: the source of
    /// what arrives, the destination of what leaves.
    pub fn peer(&self, dir: Direction) -> IpAddr {
        match dir {
            Direction::Ingress => self.src,
            Direction::Egress => self.dst,
        }
    }
}

/// Whether ports (or ICMP types) are a thing for this protocol.
pub fn has_ports(proto: u8) -> bool {
    proto == 6 || proto == 17
}

/// Whether `proto` is ICMP or ICMPv6.
pub fn is_icmp(proto: u8) -> bool {
    proto == 1 || proto == 58
}

/// Whether a security group rule's protocol and ports admit the packet.
fn sg_ports(r: &SgRule, proto: u8, dport: u16) -> Tri {
    if !r.protocol.covers(proto) {
        return Tri::No;
    }
    match r.protocol {
        Protocol::All => Tri::Yes,
        Protocol::Number(6 | 17) => match (r.from_port, r.to_port) {
            (Some(f), Some(t)) if f >= 0 && t >= 0 => {
                Tri::of(f <= i32::from(dport) && i32::from(dport) <= t)
            }
            _ => Tri::Yes,
        },
        // The type is not in flow logs: a rule for every type admits any.
        Protocol::Number(1 | 58) => match r.from_port {
            None | Some(-1) => Tri::Yes,
            Some(_) => Tri::Maybe,
        },
        // Other protocols have no ports: AWS admits all of them.
        Protocol::Number(_) => Tri::Yes,
    }
}

/// Whether a rule's peer covers `peer` (the far address).
fn sg_peer(cfg: &VpcConfig, rule: &SgPeer, peer: IpAddr, vpc: Option<&str>) -> Tri {
    match rule {
        SgPeer::Cidr(n) => Tri::of(n.contains(peer)),
        SgPeer::PrefixList(id) => match cfg.prefix_lists.get(id) {
            Some(nets) => Tri::of(nets.iter().any(|n| n.contains(peer))),
            None => Tri::Maybe,
        },
        SgPeer::Group(id) => {
            // Only private addresses of interfaces in the group match.
            let at = cfg.interfaces_at(peer);
            if at.is_empty() {
                // Public addresses never match; a private one the saved
                // interfaces do not hold may belong to one made since (a
                // Lambda or ECS task interface), or to another account.
                return if super::is_internet(peer) {
                    Tri::No
                } else {
                    Tri::Maybe
                };
            }
            // Overlapping saved VPCs: the interface's own VPC first.
            let same: Vec<u32> = at
                .iter()
                .copied()
                .filter(|&i| vpc.is_some() && cfg.interfaces[i as usize].vpc_id.as_deref() == vpc)
                .collect();
            let cands = if same.is_empty() { at } else { &same[..] };
            let hit = cands
                .iter()
                .any(|&i| cfg.interfaces[i as usize].group_ids.iter().any(|g| g == id));
            Tri::of(hit)
        }
    }
}

/// Whether one security group rule of an interface in `vpc` admits a packet
/// seen in `dir`.
pub fn sg_rule_admits(
    cfg: &VpcConfig,
    r: &SgRule,
    dir: Direction,
    pkt: &Packet,
    vpc: Option<&str>,
) -> Tri {
    if r.direction != dir {
        return Tri::No;
    }
    let ports = sg_ports(r, pkt.proto, pkt.dport);
    if ports == Tri::No {
        return Tri::No;
    }
    ports.min(sg_peer(cfg, &r.peer, pkt.peer(dir), vpc))
}

/// What the security groups of an interface say about a packet that starts a
/// connection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SgResult {
    /// Whether it passes.
    pub allowed: Option<Tri>,
    /// Rules that admit it.
    pub matched: Vec<u32>,
    /// Rules that may admit it (ICMP type, unknown members).
    pub maybe: Vec<u32>,
    /// Groups on the interface that the configuration does not describe.
    pub missing: Vec<String>,
}

/// Evaluates the security groups of interface `iface` for a packet it sees in
/// `dir` (`allowed` is `None` when the interface has no security group, as
/// NAT gateways have not: then none applies).
pub fn security_groups(cfg: &VpcConfig, iface: u32, dir: Direction, pkt: &Packet) -> SgResult {
    let mut res = SgResult::default();
    if cfg.interfaces[iface as usize].group_ids.is_empty() {
        return res;
    }
    res.missing = visit_rules(cfg, iface, dir, pkt, |ri, t| match t {
        Tri::Yes => res.matched.push(ri),
        Tri::Maybe => res.maybe.push(ri),
        Tri::No => {}
    });
    res.allowed = Some(if !res.matched.is_empty() {
        Tri::Yes
    } else if !res.maybe.is_empty() || !res.missing.is_empty() {
        Tri::Maybe
    } else {
        Tri::No
    });
    res
}

/// Calls `f` with every rule of the interface's groups that matches (or may
/// match) a packet seen in `dir`; returns the ids of its groups that the
/// configuration does not describe.
pub fn visit_rules(
    cfg: &VpcConfig,
    iface: u32,
    dir: Direction,
    pkt: &Packet,
    mut f: impl FnMut(u32, Tri),
) -> Vec<String> {
    let fc = &cfg.interfaces[iface as usize];
    let vpc = fc.vpc_id.as_deref();
    let mut missing = Vec::new();
    for (k, g) in cfg.groups_of(iface).iter().enumerate() {
        let Some(g) = g else {
            missing.push(fc.group_ids[k].clone());
            continue;
        };
        for &ri in &cfg.groups[*g as usize].rules {
            let t = sg_rule_admits(cfg, &cfg.sg_rules[ri as usize], dir, pkt, vpc);
            if t != Tri::No {
                f(ri, t);
            }
        }
    }
    missing
}

/// Rules of the interface's groups, in `dir`, that open this protocol and port
/// to some peer (when none admits the packet's peer, these are the ones to
/// compare with).
pub fn rules_for_port(
    cfg: &VpcConfig,
    iface: u32,
    dir: Direction,
    proto: u8,
    port: u16,
) -> Vec<u32> {
    let mut out = Vec::new();
    for g in cfg.groups_of(iface).iter().flatten() {
        for &ri in &cfg.groups[*g as usize].rules {
            let r = &cfg.sg_rules[ri as usize];
            if r.direction == dir && sg_ports(r, proto, port) != Tri::No {
                out.push(ri);
            }
        }
    }
    out
}

/// Whether a network ACL entry matches a packet.
pub fn acl_entry_matches(e: &AclEntry, pkt: &Packet) -> Tri {
    if !e.protocol.covers(pkt.proto) {
        return Tri::No;
    }
    let peer = pkt.peer(e.direction);
    if !e.cidr.is_some_and(|n| n.contains(peer)) {
        return Tri::No;
    }
    if let (Some((from, to)), true) = (e.ports, has_ports(pkt.proto)) {
        if pkt.dport < from || pkt.dport > to {
            return Tri::No;
        }
    }
    match e.icmp {
        Some((t, _)) if t >= 0 && is_icmp(pkt.proto) => Tri::Maybe,
        _ => Tri::Yes,
    }
}

/// The entry of a network ACL that decides a packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AclResult {
    /// The first entry that matches (index in [`VpcConfig::acl_entries`]);
    /// `None` when none does (a saved ACL without its `*` entry): denied.
    pub entry: Option<u32>,
    /// Whether the packet passes.
    pub allow: bool,
    /// Entries before it that match only some ICMP types, whose action differs:
    /// the packet's fate depends on its type.
    pub conditional: Vec<u32>,
}

/// Evaluates ACL `acl` for a packet crossing it in `dir` (entering the subnet:
/// ingress; leaving it: egress).
pub fn network_acl(cfg: &VpcConfig, acl: u32, dir: Direction, pkt: &Packet) -> AclResult {
    let mut conditional = Vec::new();
    for &ei in cfg.acls[acl as usize].entries(dir) {
        let e = &cfg.acl_entries[ei as usize];
        match acl_entry_matches(e, pkt) {
            Tri::Yes => {
                conditional.retain(|&c: &u32| cfg.acl_entries[c as usize].allow != e.allow);
                return AclResult {
                    entry: Some(ei),
                    allow: e.allow,
                    conditional,
                };
            }
            Tri::Maybe => conditional.push(ei),
            Tri::No => {}
        }
    }
    conditional.retain(|&c| cfg.acl_entries[c as usize].allow);
    AclResult {
        entry: None,
        allow: false,
        conditional,
    }
}

/// Whether the network ACL is checked for traffic between the interface and
/// `peer`: not when both are in one subnet.
pub fn acl_applies(cfg: &VpcConfig, iface: u32, peer: IpAddr) -> bool {
    let f = &cfg.interfaces[iface as usize];
    if let Some(s) = cfg.subnet_of(iface) {
        let s = &cfg.subnets[s as usize];
        if s.cidr.iter().chain(&s.ipv6).any(|n| n.contains(peer)) {
            return false;
        }
    }
    let same = cfg.interfaces_at(peer).iter().any(|&p| {
        let o = &cfg.interfaces[p as usize];
        o.subnet_id.is_some() && o.subnet_id == f.subnet_id
    });
    !same
}

/// What the network ACL of an interface's subnet does with a packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AclCheck {
    /// The configuration holds no network ACL at all.
    NotGiven,
    /// None of the saved ACLs is the subnet's (another VPC's configuration).
    Unknown,
    /// Both ends are in one subnet: no ACL applies.
    SameSubnet,
    /// The ACL (index in [`VpcConfig::acls`]) and its decision.
    Checked(u32, AclResult),
}

/// Checks the network ACL for a packet interface `iface` sees in `dir`.
pub fn acl_check(cfg: &VpcConfig, iface: u32, dir: Direction, pkt: &Packet) -> AclCheck {
    if cfg.acls.is_empty() {
        return AclCheck::NotGiven;
    }
    if !acl_applies(cfg, iface, pkt.peer(dir)) {
        return AclCheck::SameSubnet;
    }
    match cfg.acl_of(iface) {
        Some(a) => AclCheck::Checked(a, network_acl(cfg, a, dir, pkt)),
        None => AclCheck::Unknown,
    }
}

#[cfg(test)]
#[path = "eval_tests.rs"]
pub(crate) mod tests;
