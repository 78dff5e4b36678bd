//! A record as the evaluator needs it: which interface, which way, which
//! packet, and whether it looks like a request or a response.

use std::net::IpAddr;

use foldhash::fast::FixedState;
use ipnetwork::IpNetwork;

use super::config::{normalize, VpcConfig};
use super::eval::{is_icmp, Packet};
use super::Direction;
use crate::parse::{decode_text, ValueError};
use crate::record::FlowRecord;
use crate::schema::Field;

/// Ports from here up are ephemeral (client) ports, as AWS's NACL guidance has it.
pub const EPHEMERAL: u16 = 1024;

/// One record, oriented.
pub(crate) struct Seen<'r> {
    /// The interface's index, when the configuration holds it.
    pub iface: Option<u32>,
    /// Its id as the record wrote it.
    pub eni: &'r [u8],
    /// Which way the packet crossed it, when known.
    pub dir: Option<Direction>,
    pub pkt: Packet,
    pub flags: Option<u64>,
}

/// Reads a record's interface, addresses, ports and protocol; `None` when it
/// carries no addresses or protocol (NODATA, SKIPDATA) or no interface.
pub(crate) fn read<'r, R: FlowRecord>(
    cfg: &VpcConfig,
    r: &'r R,
) -> Result<Option<Seen<'r>>, ValueError> {
    let (Some(src), Some(dst)) = (r.addr(Field::SrcAddr)?, r.addr(Field::DstAddr)?) else {
        return Ok(None);
    };
    let Some(proto) = r.int(Field::Protocol)? else {
        return Ok(None);
    };
    let sport = r.int(Field::SrcPort)?.unwrap_or(0) as u16;
    let dport = r.int(Field::DstPort)?.unwrap_or(0) as u16;
    let flags = r.int(Field::TcpFlags)?;
    let Some(eni) = r.text(Field::InterfaceId) else {
        return Ok(None);
    };
    // Refused as the other reports refuse it: an id that is not printable
    // text would reach the terminal as it is.
    let iface = cfg.interface(decode_text(Field::InterfaceId, eni)?);
    let pkt = Packet {
        proto: proto as u8,
        src,
        dst,
        sport,
        dport,
    };
    let dir = match r.text(Field::FlowDirection) {
        Some(b"ingress") => Some(Direction::Ingress),
        Some(b"egress") => Some(Direction::Egress),
        _ => iface.and_then(|i| infer(cfg, i, &pkt)),
    };
    Ok(Some(Seen {
        iface,
        eni,
        dir,
        pkt,
        flags,
    }))
}

/// Without `flow-direction`: the side whose address is the interface's own.
fn infer(cfg: &VpcConfig, iface: u32, pkt: &Packet) -> Option<Direction> {
    let own = &cfg.interfaces[iface as usize].addresses;
    if own.contains(&pkt.dst) {
        Some(Direction::Ingress)
    } else if own.contains(&pkt.src) {
        Some(Direction::Egress)
    } else {
        None
    }
}

/// Whether a packet starts a connection or answers one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Role {
    Request,
    Response,
}

/// The role a packet most likely has, and whether its TCP flags say so
/// (SYN alone: a request; SYN-ACK: a response). Without flags, a packet from a
/// lower port to an ephemeral one looks like a response; ICMP looks like a
/// request until an accepted reverse shows otherwise.
pub(crate) fn role(pkt: &Packet, flags: Option<u64>) -> (Role, bool) {
    if pkt.proto == 6 {
        if let Some(f) = flags {
            if f & 0x12 == 0x12 {
                return (Role::Response, true);
            }
            if f & 0x02 != 0 {
                return (Role::Request, true);
            }
        }
    }
    if is_icmp(pkt.proto) {
        return (Role::Request, false);
    }
    if pkt.dport >= EPHEMERAL && pkt.sport < pkt.dport {
        (Role::Response, false)
    } else {
        (Role::Request, false)
    }
}

/// The service port of a packet in a role (the request's destination port).
pub(crate) fn service_port(pkt: &Packet, role: Role) -> u16 {
    if is_icmp(pkt.proto) {
        0
    } else {
        match role {
            Role::Request => pkt.dport,
            Role::Response => pkt.sport,
        }
    }
}

/// Hash of a packet on an interface, to find an accepted request for a
/// rejected response (fixed seed: every thread computes the same value).
pub(crate) fn flow_hash(h: &FixedState, iface: u32, pkt: &Packet) -> u64 {
    use std::hash::BuildHasher;
    let ports = if is_icmp(pkt.proto) {
        (0, 0)
    } else {
        (pkt.sport, pkt.dport)
    };
    h.hash_one((
        iface,
        super::addr_key(pkt.src),
        super::addr_key(pkt.dst),
        ports,
        pkt.proto,
    ))
}

/// Whether an accepted packet could be the request a rejected response answers.
pub(crate) fn could_be_request(pkt: &Packet) -> bool {
    is_icmp(pkt.proto) || pkt.sport >= EPHEMERAL
}

/// Whether the ports alone cannot tell a request from a response: both are
/// ephemeral (a service on 50051 answering a client on 33000 looks like a
/// request to 33000), so only an accepted reverse can tell.
pub(crate) fn ambiguous(pkt: &Packet) -> bool {
    !is_icmp(pkt.proto) && pkt.sport >= EPHEMERAL && pkt.dport >= EPHEMERAL
}

/// The network a peer is grouped by: its subnet when the configuration holds
/// it, the whole internet for public addresses, else its /24 (/64).
pub(crate) fn peer_net(cfg: &VpcConfig, peer: IpAddr) -> IpNetwork {
    if let Some(s) = cfg.subnet_containing(peer) {
        let s = &cfg.subnets[s as usize];
        if let Some(n) = s.cidr.iter().chain(&s.ipv6).find(|n| n.contains(peer)) {
            return *n;
        }
    }
    let len = match (peer, super::is_internet(peer)) {
        (IpAddr::V4(_), true) | (IpAddr::V6(_), true) => 0,
        (IpAddr::V4(_), false) => 24,
        (IpAddr::V6(_), false) => 64,
    };
    normalize(IpNetwork::new(peer, len).expect("a valid prefix length"))
}
