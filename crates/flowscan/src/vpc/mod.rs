//! The VPC's saved configuration read beside the logs: why each REJECT was
//! rejected ([`Explain`]), which rules the accepted traffic used ([`Rules`]),
//! and how full each subnet is ([`Subnets`]).
//!
//! The configuration is what the AWS CLI prints (`aws ec2
//! describe-security-groups`, `describe-network-interfaces`,
//! `describe-network-acls`, `describe-subnets`, optionally
//! `describe-security-group-rules` and prefix lists), read by [`load()`] from
//! files recognised by their content. [`eval`] decides a packet the way AWS
//! does; the three aggregates run in the scan like any other (one per thread,
//! merged exactly), each holding the configuration behind an [`Arc`](std::sync::Arc).
//!
//! Only security groups and network ACLs are evaluated: route tables,
//! endpoint policies, network firewalls and transit gateways are not.

pub mod config;
pub mod eval;
pub mod explain;
mod finding;
pub mod fix;
mod flow;
pub mod load;
pub mod rules;
mod shapes;
pub mod subnets;

use std::fmt;
use std::net::IpAddr;

use serde::Serialize;

pub use config::VpcConfig;
pub use explain::{Explain, ExplainReport, Finding, Layer};
pub use load::{load, ConfigError};
pub use rules::{RuleUse, Rules, RulesReport};
pub use subnets::{SubnetUse, Subnets, SubnetsReport};

/// Which way a packet crosses an interface or a subnet's edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Arriving (inbound rules).
    Ingress,
    /// Leaving (outbound rules).
    Egress,
}

impl Direction {
    /// The other way.
    pub fn flip(self) -> Direction {
        match self {
            Direction::Ingress => Direction::Egress,
            Direction::Egress => Direction::Ingress,
        }
    }

    /// `inbound` or `outbound`, as the AWS console says.
    pub fn bound(self) -> &'static str {
        match self {
            Direction::Ingress => "inbound",
            Direction::Egress => "outbound",
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        })
    }
}

/// Whether an address is on the internet: not private (RFC 1918, unique
/// local), shared (100.64.0.0/10), loopback or link-local.
pub fn is_internet(a: IpAddr) -> bool {
    match a {
        IpAddr::V4(v) => {
            let o = v.octets();
            !(v.is_private()
                || v.is_loopback()
                || v.is_link_local()
                || v.is_unspecified()
                || (o[0] == 100 && (64..128).contains(&o[1])))
        }
        IpAddr::V6(v) => {
            let s = v.segments()[0];
            !(v.is_loopback()
                || v.is_unspecified()
                || (s & 0xfe00) == 0xfc00
                || (s & 0xffc0) == 0xfe80)
        }
    }
}

/// An address as one number (IPv4 as its IPv4-mapped IPv6 form), for compact sets.
pub(crate) fn addr_key(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v) => u128::from(v.to_ipv6_mapped()),
        IpAddr::V6(v) => u128::from(v),
    }
}

/// The address back from [`addr_key`].
pub(crate) fn key_addr(k: u128) -> IpAddr {
    let v6 = std::net::Ipv6Addr::from(k);
    match v6.to_ipv4_mapped() {
        Some(v4) => IpAddr::V4(v4),
        None => IpAddr::V6(v6),
    }
}

/// Earliest start and latest end of a set of records, merged exactly.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Span {
    pub first: Option<u64>,
    pub last: Option<u64>,
}

impl Span {
    pub fn add(&mut self, start: Option<u64>, end: Option<u64>) {
        if let Some(s) = start.or(end) {
            self.first = Some(self.first.map_or(s, |f| f.min(s)));
        }
        if let Some(e) = end.or(start) {
            self.last = Some(self.last.map_or(e, |l| l.max(e)));
        }
    }

    pub fn merge(&mut self, o: Span) {
        self.add(o.first, o.last);
    }
}

/// The time covered, as text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Period {
    /// Earliest record start (RFC 3339).
    pub from: String,
    /// Latest record end.
    pub to: String,
}

impl Span {
    pub fn period(&self) -> Option<Period> {
        Some(Period {
            from: crate::display::format_time(self.first?),
            to: crate::display::format_time(self.last?),
        })
    }
}
