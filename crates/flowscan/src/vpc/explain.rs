//! Why each REJECT was rejected: REJECT records grouped by interface,
//! direction, protocol, service port and peer network, each evaluated against
//! the saved configuration, with the layer that rejected it and a fix.
//!
//! A record is evaluated when it is read (the configuration is shared by every
//! thread), and the decisions are part of the group's key, so that peers of
//! one network that the rules treat differently end up in different findings.
//! Whether a rejected packet answers a request is decided at the end: its
//! TCP flags say so, or the request (the reverse flow, on the same interface)
//! was accepted somewhere in the logs.

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::Arc;

use foldhash::fast::{FixedState, RandomState};
use hashbrown::{HashMap, HashSet};
use ipnetwork::IpNetwork;
use serde::Serialize;

use super::config::{Coverage, VpcConfig};
use super::eval::{acl_check, is_icmp, security_groups, AclCheck, Tri};
use super::flow::{self, Role};
use super::{Direction, Period, Span};
use crate::aggregate::Aggregate;
use crate::parse::ValueError;
use crate::record::FlowRecord;
use crate::schema::{Field, FieldSet};
use crate::sink::{Position, Sink, SinkError};

/// The layer a finding blames.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layer {
    /// A security group of the interface admits no such traffic.
    SecurityGroup,
    /// The network ACL of the interface's subnet denies it.
    NetworkAcl,
    /// The saved configuration allows it: the rules changed after the records,
    /// or the configuration is from another account or time.
    AllowedNow,
    /// The interface is not in the saved configuration.
    UnknownInterface,
    /// The saved configuration cannot tell (a piece is missing; the note says which).
    Unknown,
}

impl Layer {
    /// `security-group`, `network-acl`, …
    pub fn name(self) -> &'static str {
        match self {
            Layer::SecurityGroup => "security-group",
            Layer::NetworkAcl => "network-acl",
            Layer::AllowedNow => "allowed-now",
            Layer::UnknownInterface => "unknown-interface",
            Layer::Unknown => "unknown",
        }
    }
}

/// One explained group of REJECT records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The interface that logged them.
    pub interface_id: String,
    /// Its instance (from the configuration, else from the records).
    pub instance_id: Option<String>,
    /// Direction of the rejected records (`None`: could not be told).
    pub direction: Option<Direction>,
    /// `tcp`, `udp`, `icmp`, or the number.
    pub protocol: String,
    /// The service port: the request's destination port, also when the
    /// rejected records are its responses (0 for ICMP).
    pub port: u16,
    /// The peer: its address when there is one, else the network they share.
    pub peer: String,
    /// Distinct peer addresses.
    pub peers: u64,
    /// REJECT records.
    pub records: u64,
    /// Their packets.
    pub packets: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Earliest start (RFC 3339).
    pub first_seen: Option<String>,
    /// Latest end.
    pub last_seen: Option<String>,
    /// The layer that rejected them.
    pub layer: Layer,
    /// The security group to change or the network ACL that denied.
    pub resource_id: Option<String>,
    /// The network ACL entry that denied (32767 is the final `*` deny).
    pub rule_number: Option<u16>,
    /// Whether the rejected records are responses to accepted requests.
    pub return_path: bool,
    /// Unsolicited traffic from the internet, blocked as intended (no fix).
    pub intended: bool,
    /// The security groups on the interface.
    pub groups: Vec<String>,
    /// The rule that matters: the one that denied, or one that opens the port
    /// to other peers.
    pub rule: Option<String>,
    /// What happened, in a sentence.
    pub summary: String,
    /// AWS CLI commands that admit the observed traffic, narrowly.
    pub fix: Option<String>,
    /// Caveats: what could not be checked, why a rule number was chosen.
    pub note: Option<String>,
}

/// The result of [`Explain::report`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExplainReport {
    /// REJECT records seen.
    pub rejects: u64,
    /// REJECT records without addresses or protocol (not explained).
    pub unusable: u64,
    /// The time the records cover.
    pub period: Option<Period>,
    /// What the saved configuration held.
    pub configuration: Coverage,
    /// What is missing from it, and what that leaves unchecked.
    pub notes: Vec<String>,
    /// One per group, most records first.
    pub findings: Vec<Finding>,
}

/// The interface of a group.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum IfaceKey {
    Known(u32),
    Unknown(String),
}

/// The network ACL's decision, as part of a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum AclKey {
    NotEvaluated,
    NotGiven,
    Unknown,
    SameSubnet,
    Checked {
        acl: u32,
        entry: Option<u32>,
        allow: bool,
        conditional: Option<u32>,
    },
}

/// The security groups' decision for the packet as a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum SgKey {
    NotEvaluated,
    NoGroups,
    Denied,
    Maybe,
    Allowed,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct GroupKey {
    pub iface: IfaceKey,
    pub dir: Option<Direction>,
    pub proto: u8,
    /// The service port if the guess is right.
    pub port: u16,
    pub peer_net: IpNetwork,
    pub guess: Role,
    pub acl: AclKey,
    pub sg: SgKey,
}

#[derive(Clone, Debug)]
pub(crate) struct Group {
    pub records: u64,
    pub packets: u64,
    pub bytes: u64,
    pub span: Span,
    pub peers: HashSet<u128, RandomState>,
    /// Range of the port that is not the service port.
    pub other: (u16, u16),
    /// Records whose TCP flags show a response (SYN-ACK).
    pub synack: u64,
    /// Reverse-flow hashes of records that may be responses.
    pub candidates: Vec<u64>,
    /// Smallest instance id the records name (for interfaces not saved).
    pub instance: Option<String>,
}

impl Default for Group {
    fn default() -> Group {
        Group {
            records: 0,
            packets: 0,
            bytes: 0,
            span: Span::default(),
            peers: HashSet::default(),
            other: (u16::MAX, 0),
            synack: 0,
            candidates: Vec::new(),
            instance: None,
        }
    }
}

impl Group {
    fn merge(&mut self, o: Group) {
        self.records += o.records;
        self.packets += o.packets;
        self.bytes += o.bytes;
        self.span.merge(o.span);
        self.peers.extend(o.peers);
        self.other = (self.other.0.min(o.other.0), self.other.1.max(o.other.1));
        self.synack += o.synack;
        self.candidates.extend(o.candidates);
        self.instance = match (self.instance.take(), o.instance) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
}

/// The `explain` aggregation.
pub struct Explain {
    cfg: Arc<VpcConfig>,
    hasher: FixedState,
    accepted: HashSet<u64, RandomState>,
    groups: HashMap<GroupKey, Group, RandomState>,
    rejects: u64,
    unusable: u64,
    span: Span,
}

impl Explain {
    /// An empty aggregation over a configuration.
    pub fn new(cfg: Arc<VpcConfig>) -> Explain {
        Explain {
            cfg,
            hasher: FixedState::with_seed(0x005e_ed0f_e4b1_a1e5),
            accepted: HashSet::default(),
            groups: HashMap::default(),
            rejects: 0,
            unusable: 0,
            span: Span::default(),
        }
    }

    /// The key of a rejected record: its group and the decisions about it.
    fn key(&self, seen: &flow::Seen<'_>) -> (GroupKey, Role, bool) {
        let cfg = &*self.cfg;
        let (guess, flagged) = flow::role(&seen.pkt, seen.flags);
        let port = flow::service_port(&seen.pkt, guess);
        let (iface, peer) = match (seen.iface, seen.dir) {
            (Some(i), Some(d)) => (IfaceKey::Known(i), seen.pkt.peer(d)),
            (Some(i), None) => (IfaceKey::Known(i), seen.pkt.src),
            (None, d) => (
                IfaceKey::Unknown(String::from_utf8_lossy(seen.eni).into_owned()),
                seen.pkt.peer(d.unwrap_or(Direction::Ingress)),
            ),
        };
        let (acl, sg) = match (seen.iface, seen.dir) {
            (Some(i), Some(d)) => (
                acl_key(acl_check(cfg, i, d, &seen.pkt)),
                match security_groups(cfg, i, d, &seen.pkt).allowed {
                    None => SgKey::NoGroups,
                    Some(Tri::Yes) => SgKey::Allowed,
                    Some(Tri::Maybe) => SgKey::Maybe,
                    Some(Tri::No) => SgKey::Denied,
                },
            ),
            _ => (AclKey::NotEvaluated, SgKey::NotEvaluated),
        };
        let key = GroupKey {
            iface,
            dir: seen.dir,
            proto: seen.pkt.proto,
            port,
            peer_net: flow::peer_net(cfg, peer),
            guess,
            acl,
            sg,
        };
        (key, guess, flagged)
    }

    fn reject<R: FlowRecord>(&mut self, r: &R, seen: &flow::Seen<'_>) -> Result<(), ValueError> {
        let packets = r.int(Field::Packets)?.unwrap_or(0);
        let bytes = r.int(Field::Bytes)?.unwrap_or(0);
        let (start, end) = (r.int(Field::Start)?, r.int(Field::End)?);
        let (key, guess, flagged) = self.key(seen);
        let peer = match key.dir {
            Some(d) => seen.pkt.peer(d),
            None => seen.pkt.src,
        };
        let other = match guess {
            Role::Request => seen.pkt.sport,
            Role::Response => seen.pkt.dport,
        };
        let reverse = match (seen.iface, flagged) {
            (Some(i), false)
                if guess == Role::Response || is_icmp(key.proto) || flow::ambiguous(&seen.pkt) =>
            {
                Some(flow::flow_hash(&self.hasher, i, &seen.pkt.reversed()))
            }
            _ => None,
        };
        let unknown = matches!(key.iface, IfaceKey::Unknown(_));
        let g = self.groups.entry(key).or_default();
        g.records += 1;
        g.packets += packets;
        g.bytes += bytes;
        g.span.add(start, end);
        g.peers.insert(super::addr_key(peer));
        g.other = (g.other.0.min(other), g.other.1.max(other));
        if flagged && guess == Role::Response {
            g.synack += 1;
        }
        g.candidates.extend(reverse);
        if unknown {
            if let Some(i) = r.text(Field::InstanceId) {
                if g.instance.as_deref().is_none_or(|cur| i < cur.as_bytes()) {
                    g.instance = Some(String::from_utf8_lossy(i).into_owned());
                }
            }
        }
        Ok(())
    }

    /// The findings, most records first (ties by key, so the order does not
    /// depend on the thread count).
    pub fn report(&self) -> ExplainReport {
        let mut units: Vec<(Cow<'_, GroupKey>, Kind, Cow<'_, Group>)> = Vec::new();
        let mut unsolicited: HashMap<GroupKey, Group, RandomState> = HashMap::default();
        let mut answers: HashMap<GroupKey, Group, RandomState> = HashMap::default();
        for (k, g) in &self.groups {
            let joined = g.candidates.iter().any(|h| self.accepted.contains(h));
            // Taken for requests (both ports ephemeral) but answering one
            // seen accepted: responses from the service on their source
            // port, when they all came from one.
            if k.guess == Role::Request && !is_icmp(k.proto) && joined && g.other.0 == g.other.1 {
                let mut k = k.clone();
                let mut g = g.clone();
                (k.guess, g.other, k.port) = (Role::Response, (k.port, k.port), g.other.0);
                answers.entry(k).or_default().merge(g);
                continue;
            }
            // A SYN-ACK from the internet that answers nothing seen sent is
            // backscatter (a flood elsewhere with our address forged).
            let backscatter = k.dir == Some(Direction::Ingress) && k.peer_net.prefix() == 0;
            let kind = match k.guess {
                Role::Response if joined || (g.synack > 0 && !backscatter) => Kind::Response,
                Role::Response => Kind::Unsolicited,
                Role::Request if is_icmp(k.proto) && joined => Kind::Response,
                Role::Request => Kind::Request,
            };
            if kind == Kind::Unsolicited {
                // Their source ports say nothing (scanners pick them at
                // random): one group per destination, whatever the source port.
                let mut k = k.clone();
                k.port = 0;
                unsolicited.entry(k).or_default().merge(g.clone());
            } else {
                units.push((Cow::Borrowed(k), kind, Cow::Borrowed(g)));
            }
        }
        // A group already taken for responses takes those found to be.
        for (k, _, g) in units.iter_mut().filter(|u| u.1 == Kind::Response) {
            if let Some(more) = answers.remove(k.as_ref()) {
                g.to_mut().merge(more);
            }
        }
        units.extend(
            unsolicited
                .into_iter()
                .map(|(k, g)| (Cow::Owned(k), Kind::Unsolicited, Cow::Owned(g)))
                .chain(
                    answers
                        .into_iter()
                        .map(|(k, g)| (Cow::Owned(k), Kind::Response, Cow::Owned(g))),
                ),
        );
        units.sort_by(|a, b| {
            b.2.records
                .cmp(&a.2.records)
                .then_with(|| a.0.cmp(&b.0))
                .then_with(|| a.1.cmp(&b.1))
        });
        let taken = super::finding::Taken::default();
        let findings = units
            .iter()
            .map(|(k, kind, g)| super::finding::finding(&self.cfg, k, g, *kind, &taken))
            .collect();
        ExplainReport {
            rejects: self.rejects,
            unusable: self.unusable,
            period: self.span.period(),
            configuration: self.cfg.coverage(),
            notes: gaps(&self.cfg),
            findings,
        }
    }
}

/// What a group of rejected packets turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    /// Requests (or packets that start nothing known).
    Request,
    /// Responses to requests seen accepted (or marked SYN-ACK).
    Response,
    /// Packets that look like responses, to no request seen: unsolicited,
    /// to the destination ports they name.
    Unsolicited,
}

fn acl_key(c: AclCheck) -> AclKey {
    match c {
        AclCheck::NotGiven => AclKey::NotGiven,
        AclCheck::Unknown => AclKey::Unknown,
        AclCheck::SameSubnet => AclKey::SameSubnet,
        AclCheck::Checked(acl, r) => AclKey::Checked {
            acl,
            entry: r.entry,
            allow: r.allow,
            conditional: r.conditional.first().copied(),
        },
    }
}

/// What the missing pieces of the configuration leave unchecked.
pub fn gaps(cfg: &VpcConfig) -> Vec<String> {
    let mut out = Vec::new();
    if cfg.interfaces.is_empty() {
        out.push("no network interfaces were saved (aws ec2 describe-network-interfaces): no record can be tied to its security groups or subnet".into());
    }
    if cfg.groups.is_empty() {
        out.push("no security groups were saved (aws ec2 describe-security-groups): security groups could not be checked".into());
    }
    if cfg.acls.is_empty() {
        out.push("no network ACLs were saved (aws ec2 describe-network-acls): network ACLs could not be checked".into());
    }
    if cfg.subnets.is_empty() {
        out.push("no subnets were saved (aws ec2 describe-subnets): peers are grouped by /24 and traffic within a subnet is told only between saved interfaces".into());
    }
    out
}

/// Addresses of a group's peers, in order.
pub(crate) fn peer_addrs(g: &Group) -> Vec<IpAddr> {
    let mut v: Vec<u128> = g.peers.iter().copied().collect();
    v.sort_unstable();
    v.into_iter().map(super::key_addr).collect()
}

impl Sink for Explain {
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
            Field::InstanceId,
        ])
    }

    fn record<R: FlowRecord>(&mut self, r: &R, _pos: &Position<'_>) -> Result<(), SinkError> {
        let (start, end) = (r.int(Field::Start)?, r.int(Field::End)?);
        match r.text(Field::Action) {
            Some(b"ACCEPT") => {
                if let Some(s) = flow::read(&self.cfg, r)? {
                    if let Some(i) = s.iface.filter(|_| flow::could_be_request(&s.pkt)) {
                        self.accepted
                            .insert(flow::flow_hash(&self.hasher, i, &s.pkt));
                    }
                }
            }
            Some(b"REJECT") => match flow::read(&self.cfg, r)? {
                Some(s) => {
                    self.reject(r, &s)?;
                    self.rejects += 1;
                }
                None => {
                    self.rejects += 1;
                    self.unusable += 1;
                }
            },
            _ => return Ok(()),
        }
        self.span.add(start, end);
        Ok(())
    }
}

impl Aggregate for Explain {
    fn merge(&mut self, o: Explain) {
        self.accepted.extend(o.accepted);
        for (k, g) in o.groups {
            self.groups.entry(k).or_default().merge(g);
        }
        self.rejects += o.rejects;
        self.unusable += o.unusable;
        self.span.merge(o.span);
    }
}

#[cfg(test)]
#[path = "explain_tests.rs"]
mod tests;
