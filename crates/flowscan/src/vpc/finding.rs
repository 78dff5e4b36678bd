//! From a group of REJECT records and the decisions about it to a finding:
//! which layer rejected it, the resource and rule, what it means, the fix.
//!
//! The order is the packet's: arriving, the subnet's network ACL is crossed
//! before the interface's security groups; leaving, the security groups come
//! first. A response passes the security groups (they are stateful), so only
//! an ACL can reject it.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use super::config::{protocol_name, SgPeer, SgRule, VpcConfig};
use super::eval::{has_ports, is_icmp, rules_for_port, security_groups, Packet};
use super::explain::{peer_addrs, AclKey, Finding, Group, GroupKey, IfaceKey, Kind, Layer, SgKey};
use super::fix::{self, Peers};
use super::flow::EPHEMERAL;
use super::Direction;
use crate::display::format_time;

/// How many addresses a fix names one by one before it names their network.
const FEW: usize = 4;

/// ACL rule numbers the fixes of earlier findings use, by ACL and direction:
/// two fixes must not name the same new entry.
pub(crate) type Taken = RefCell<BTreeMap<(u32, Direction), BTreeSet<u16>>>;

/// What is known about a group once the logs are all read.
struct Facts<'a> {
    cfg: &'a VpcConfig,
    taken: &'a Taken,
    key: &'a GroupKey,
    g: &'a Group,
    iface: u32,
    dir: Direction,
    response: bool,
    /// The destination ports of the rejected packets, when they are requests.
    ports: (u16, u16),
    peers: Vec<IpAddr>,
    intended: bool,
}

/// The finding for one group of records of a kind.
pub(crate) fn finding(
    cfg: &VpcConfig,
    key: &GroupKey,
    g: &Group,
    kind: Kind,
    taken: &Taken,
) -> Finding {
    let peers = peer_addrs(g);
    let mut f = Finding {
        interface_id: String::new(),
        instance_id: g.instance.clone(),
        direction: key.dir,
        protocol: protocol_name(key.proto),
        port: key.port,
        peer: match &peers[..] {
            [one] => one.to_string(),
            _ => key.peer_net.to_string(),
        },
        peers: g.peers.len() as u64,
        records: g.records,
        packets: g.packets,
        bytes: g.bytes,
        first_seen: g.span.first.map(format_time),
        last_seen: g.span.last.map(format_time),
        layer: Layer::Unknown,
        resource_id: None,
        rule_number: None,
        return_path: false,
        intended: false,
        groups: Vec::new(),
        rule: None,
        summary: String::new(),
        fix: None,
        note: None,
    };
    let iface = match &key.iface {
        IfaceKey::Unknown(eni) => {
            f.interface_id = eni.clone();
            f.layer = Layer::UnknownInterface;
            f.summary = format!("{eni} is not in the saved configuration: save describe-network-interfaces of its account and region");
            return f;
        }
        IfaceKey::Known(i) => *i,
    };
    let fc = &cfg.interfaces[iface as usize];
    f.interface_id = fc.id.clone();
    f.instance_id = fc.instance_id.clone().or(f.instance_id);
    f.groups = fc.group_ids.clone();
    let Some(dir) = key.dir else {
        f.summary = "neither address is the interface's own and the logs carry no flow-direction: it forwards others' traffic (a NAT gateway or load balancer), so the direction cannot be told".into();
        return f;
    };
    let response = kind == Kind::Response;
    let unsolicited = kind == Kind::Unsolicited;
    let ports = if unsolicited {
        g.other
    } else {
        (key.port, key.port)
    };
    if unsolicited && !is_icmp(key.proto) {
        f.port = ports.0;
    }
    let intended = dir == Direction::Ingress && !response && key.peer_net.prefix() == 0;
    let facts = Facts {
        cfg,
        taken,
        key,
        g,
        iface,
        dir,
        response,
        ports,
        peers,
        intended,
    };
    decide(&facts, &mut f);
    f
}

/// Picks the layer that rejected the traffic and fills the finding.
fn decide(x: &Facts<'_>, f: &mut Finding) {
    let acl_denies = matches!(x.key.acl, AclKey::Checked { allow: false, .. });
    let sg_denies = !x.response && x.key.sg == SgKey::Denied;
    let acl_first = x.dir == Direction::Ingress || !sg_denies;
    if acl_denies && acl_first {
        acl_finding(x, f, sg_denies);
    } else if sg_denies {
        sg_finding(x, f, acl_denies);
    } else {
        undecided(x, f);
    }
    if x.key.acl == AclKey::Unknown && f.layer == Layer::SecurityGroup {
        add_note(
            f,
            "the subnet's network ACL is not among those saved, so it could not be checked",
        );
    }
    if x.key.acl == AclKey::NotGiven && f.layer == Layer::SecurityGroup {
        add_note(
            f,
            "network ACLs were not saved, so they could not be checked",
        );
    }
}

fn add_note(f: &mut Finding, note: &str) {
    f.note = Some(match f.note.take() {
        Some(n) => format!("{n}; {note}"),
        None => note.to_string(),
    });
}

/// `tcp/5432`, `icmp`, `tcp/1024-65535`.
fn what(proto: u8, ports: (u16, u16)) -> String {
    let p = protocol_name(proto);
    if !has_ports(proto) {
        p
    } else if ports.0 == ports.1 {
        format!("{p}/{}", ports.0)
    } else {
        format!("{p}/{}-{}", ports.0, ports.1)
    }
}

fn peer_text(x: &Facts<'_>) -> String {
    match &x.peers[..] {
        [one] => one.to_string(),
        _ if x.key.peer_net.prefix() == 0 => format!("{} internet addresses", x.peers.len()),
        _ => format!("{} addresses in {}", x.peers.len(), x.key.peer_net),
    }
}

fn acl_finding(x: &Facts<'_>, f: &mut Finding, sg_also: bool) {
    let AclKey::Checked {
        acl,
        entry,
        conditional,
        ..
    } = x.key.acl
    else {
        return;
    };
    let a = &x.cfg.acls[acl as usize];
    let e = entry.map(|e| &x.cfg.acl_entries[e as usize]);
    let number = e.map_or(32767, |e| e.rule_number);
    f.layer = Layer::NetworkAcl;
    f.resource_id = Some(a.id.clone());
    f.rule_number = Some(number);
    f.return_path = x.response;
    f.rule = Some(match e {
        Some(e) if !e.is_default() => format!(
            "{} rule {}: deny {} {}",
            x.dir.bound(),
            e.rule_number,
            e.protocol.name(),
            e.cidr.map_or_else(String::new, |c| c.to_string())
        ),
        _ => format!("{} rule *: the default deny", x.dir.bound()),
    });
    let denied_by = match e {
        Some(e) if !e.is_default() => format!("rule {}", e.rule_number),
        _ => "the default deny (*)".into(),
    };
    let edge = match x.dir {
        Direction::Ingress => "entering",
        Direction::Egress => "leaving",
    };
    if x.response {
        let eph = what(x.key.proto, (EPHEMERAL, 65535));
        f.summary = format!(
            "responses from port {} to {} are denied {edge} the subnet by {} at {denied_by}: the requests were accepted, but network ACLs are stateless and its {} entries do not allow the return traffic ({}, observed ports {}-{})",
            x.key.port, peer_text(x), a.id, x.dir.bound(), eph, x.g.other.0, x.g.other.1
        );
    } else {
        f.summary = format!(
            "{} {} {} is denied {edge} the subnet by network ACL {} at {denied_by}{}",
            what(x.key.proto, x.ports),
            if x.dir == Direction::Ingress {
                "from"
            } else {
                "to"
            },
            peer_text(x),
            a.id,
            if sg_also {
                "; the security groups deny it too"
            } else if x.key.sg == SgKey::Allowed {
                "; the security groups allow it"
            } else {
                ""
            }
        );
    }
    if let Some(c) = conditional {
        let c = &x.cfg.acl_entries[c as usize];
        add_note(
            f,
            &format!(
                "rule {} decides ICMP of some types first (flow logs do not record the type)",
                c.rule_number
            ),
        );
    }
    if x.intended {
        f.intended = true;
        f.summary += ": unsolicited traffic from the internet, blocked as intended";
        return;
    }
    let fix = acl_fix(x, acl, number);
    if let Some((cmds, why)) = fix {
        f.fix = Some(cmds);
        add_note(f, &why);
        if sg_also {
            if let Some(s) = sg_fix(x) {
                f.fix = f.fix.take().map(|c| format!("{c}\n{}", s.0));
            }
        }
    } else {
        add_note(
            f,
            "no free rule number below the entry that denied: renumber the ACL's entries first",
        );
    }
}

/// The `create-network-acl-entry` commands, and why their rule numbers.
fn acl_fix(x: &Facts<'_>, acl: u32, denied_at: u16) -> Option<(String, String)> {
    let nets = fix::narrowest(&x.peers, x.key.peer_net, x.g.peers.len() as u64, 1);
    let mut taken = x.taken.borrow_mut();
    let taken = taken.entry((acl, x.dir)).or_default();
    let numbers = fix::free_rule_numbers(x.cfg, acl, x.dir, denied_at, nets.len(), taken)?;
    taken.extend(&numbers);
    let ports = if x.response {
        (EPHEMERAL, 65535)
    } else {
        x.ports
    };
    let id = &x.cfg.acls[acl as usize].id;
    let cmds: Vec<String> = nets
        .iter()
        .zip(&numbers)
        .map(|(n, r)| fix::acl_command(id, *r, x.dir, x.key.proto, ports, *n))
        .collect();
    let list = numbers
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let below = if denied_at >= 32767 {
        "the default deny (*)".to_string()
    } else {
        format!("rule {denied_at}, the deny that matched")
    };
    let mut why = format!("rule number {list}: free, and below {below}, so evaluated first (lowest number first, first match wins)");
    if x.response {
        why += "; clients pick a new ephemeral port per connection, so the entry admits 1024-65535 as AWS advises";
    }
    Some((cmds.join("\n"), why))
}

fn sg_finding(x: &Facts<'_>, f: &mut Finding, acl_also: bool) {
    let cfg = x.cfg;
    f.layer = Layer::SecurityGroup;
    let near = rules_for_port(cfg, x.iface, x.dir, x.key.proto, x.ports.0);
    let near_rule = near.first().map(|&r| &cfg.sg_rules[r as usize]);
    let target = near_rule
        .map(|r| r.group)
        .or_else(|| cfg.groups_of(x.iface).iter().flatten().next().copied());
    f.resource_id = target.map(|g| cfg.groups[g as usize].id.clone());
    let groups = f.groups.join(", ");
    let dir = x.dir.bound();
    let peer = peer_text(x);
    let traffic = what(x.key.proto, x.ports);
    let prep = if x.dir == Direction::Ingress {
        "from"
    } else {
        "to"
    };
    f.summary = format!("no {dir} rule of {groups} admits {traffic} {prep} {peer}");
    if let Some(r) = near_rule {
        let text = rule_text(cfg, r);
        f.summary += &format!("; the port is open only to others: {text}");
        f.rule = Some(text);
    }
    if acl_also {
        f.summary += "; the network ACL denies it too";
    }
    if x.intended {
        f.intended = true;
        f.summary += ": unsolicited traffic from the internet, blocked as intended";
        return;
    }
    if let Some((cmd, why)) = sg_fix(x) {
        f.fix = Some(cmd);
        if let Some(w) = why {
            add_note(f, &w);
        }
    }
    if acl_also {
        if let AclKey::Checked { acl, entry, .. } = x.key.acl {
            let at = entry.map_or(32767, |e| cfg.acl_entries[e as usize].rule_number);
            if let Some((c, _)) = acl_fix(x, acl, at) {
                f.fix = Some(f.fix.take().map_or(c.clone(), |s| format!("{s}\n{c}")));
            }
        }
    }
}

/// `sg-db inbound tcp/5432 from sg-app (sgr-…)`.
fn rule_text(cfg: &VpcConfig, r: &SgRule) -> String {
    let prep = if r.direction == Direction::Ingress {
        "from"
    } else {
        "to"
    };
    format!(
        "{} {} {} {prep} {}{}",
        cfg.groups[r.group as usize].id,
        r.direction.bound(),
        what_rule(r.protocol.name(), r.from_port, r.to_port),
        r.peer.text(),
        r.rule_id
            .as_ref()
            .map_or_else(String::new, |id| format!(" ({id})"))
    )
}

fn what_rule(proto: String, from: Option<i32>, to: Option<i32>) -> String {
    match (from, to) {
        (Some(a), Some(b)) if a == b => format!("{proto}/{a}"),
        (Some(a), Some(b)) if a >= 0 => format!("{proto}/{a}-{b}"),
        _ => proto,
    }
}

/// The `authorize-security-group-*` command: on the group that already opens
/// the port to others (else the interface's first), for the peers' own group
/// when that group's rules for the port name groups, else for their addresses.
fn sg_fix(x: &Facts<'_>) -> Option<(String, Option<String>)> {
    let cfg = x.cfg;
    let near = rules_for_port(cfg, x.iface, x.dir, x.key.proto, x.ports.0);
    let target = near
        .first()
        .map(|&r| cfg.sg_rules[r as usize].group)
        .or_else(|| cfg.groups_of(x.iface).iter().flatten().next().copied())?;
    let by_group = near
        .iter()
        .any(|&r| matches!(cfg.sg_rules[r as usize].peer, SgPeer::Group(_)));
    let vpc = cfg.interfaces[x.iface as usize].vpc_id.as_deref();
    let shared = if by_group || x.peers.len() > FEW {
        common_group(cfg, &x.peers, vpc)
    } else {
        None
    };
    let (peers, why) = match shared {
        Some(g) => (
            Peers::Group(g.clone()),
            Some(format!("every peer is an interface in {g}: the rule names the group, as the group's other rules for the port do")),
        ),
        None => (
            Peers::Cidrs(fix::narrowest(&x.peers, x.key.peer_net, x.g.peers.len() as u64, FEW)),
            None,
        ),
    };
    let id = &cfg.groups[target as usize].id;
    Some((
        fix::sg_command(id, x.dir, x.key.proto, x.ports, &peers),
        why,
    ))
}

/// The security group every peer's interface is in (the one with the fewest
/// members when several are), if every peer is a saved interface.
fn common_group(cfg: &VpcConfig, peers: &[IpAddr], vpc: Option<&str>) -> Option<String> {
    let mut common: Option<Vec<String>> = None;
    for p in peers {
        let i = cfg.interface_at(*p, vpc)?;
        let gs = &cfg.interfaces[i as usize].group_ids;
        common = Some(match common {
            None => gs.clone(),
            Some(c) => c.into_iter().filter(|g| gs.contains(g)).collect(),
        });
    }
    let mut c = common?;
    c.sort_by_key(|g| {
        (
            cfg.group(g).map_or(usize::MAX, |i| cfg.members(i).len()),
            g.clone(),
        )
    });
    c.into_iter().next()
}

/// Neither layer denies for sure: allowed now, or the configuration cannot tell.
fn undecided(x: &Facts<'_>, f: &mut Finding) {
    let traffic = what(x.key.proto, x.ports);
    let peer = peer_text(x);
    let acl_unchecked = matches!(x.key.acl, AclKey::NotGiven | AclKey::Unknown);
    let sg_unsure = !x.response && x.key.sg == SgKey::Maybe;
    if let AclKey::Checked {
        acl,
        conditional: Some(c),
        ..
    } = x.key.acl
    {
        f.resource_id = Some(x.cfg.acls[acl as usize].id.clone());
        f.summary = format!("{traffic} with {peer}: network ACL {} rule {} decides ICMP of some types only, and flow logs do not record the type", x.cfg.acls[acl as usize].id, x.cfg.acl_entries[c as usize].rule_number);
    } else if sg_unsure {
        f.summary = format!(
            "{traffic} with {peer}: only what the saved configuration cannot decide could admit it: {}",
            unsure(x)
        );
        f.resource_id = f.groups.first().cloned();
    } else if acl_unchecked {
        f.summary = format!(
            "{traffic} with {peer}: the security groups {}, and the network ACL of the subnet was not saved (describe-network-acls), so it could not be checked: it is the likely cause",
            if x.response { "pass responses" } else { "allow it" }
        );
    } else {
        f.layer = Layer::AllowedNow;
        f.summary = format!("{traffic} with {peer}: the saved configuration allows it: the rules changed after these records, the configuration is from another account or time, or something not evaluated rejected it (VPC Block Public Access, a network firewall)");
    }
    // A response that only an unchecked ACL could have denied.
    f.return_path = x.response && f.layer == Layer::Unknown;
}

/// What keeps the security groups undecided for the group's first peer:
/// groups not saved, rules for some ICMP types, unsaved members or prefix lists.
fn unsure(x: &Facts<'_>) -> String {
    let Some(&peer) = x.peers.first() else {
        return "nothing".into();
    };
    let pkt = Packet {
        proto: x.key.proto,
        src: peer,
        dst: peer,
        sport: 0,
        dport: x.ports.0,
    };
    let r = security_groups(x.cfg, x.iface, x.dir, &pkt);
    let mut parts = Vec::new();
    if !r.missing.is_empty() {
        parts.push(format!("groups not saved ({})", r.missing.join(", ")));
    }
    for &m in r.maybe.iter().take(3) {
        let rule = &x.cfg.sg_rules[m as usize];
        let why = match &rule.peer {
            _ if is_icmp(x.key.proto) && rule.from_port.is_some_and(|t| t >= 0) => {
                "flow logs do not record the ICMP type"
            }
            SgPeer::PrefixList(_) => "the prefix list's entries were not saved",
            _ => "the peer is not among the saved interfaces",
        };
        parts.push(format!("{} ({why})", rule_text(x.cfg, rule)));
    }
    parts.join("; ")
}
