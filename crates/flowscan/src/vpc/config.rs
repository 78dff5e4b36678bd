//! The VPC's configuration as the AWS CLI saved it, in a model the evaluator
//! reads: interfaces by id and by private address, security groups and their
//! rules, network ACLs with their entries and subnet associations, subnets, and
//! prefix lists when their entries were saved.
//!
//! Reading the files is [`load`](fn@super::load); this module holds the model and
//! the indexes built once after loading, so that a lookup per record is a hash
//! probe.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

use foldhash::fast::RandomState;
use hashbrown::HashMap;
use ipnetwork::IpNetwork;
use serde::Serialize;

use super::Direction;

/// A protocol as a rule names it: every protocol (`-1`) or one IANA number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    /// `-1`: every protocol (ports do not apply).
    All,
    /// One protocol number (`tcp` is 6, `udp` 17, `icmp` 1, `icmpv6` 58).
    Number(u8),
}

impl Protocol {
    /// Whether a packet of protocol `p` is of this protocol.
    pub fn covers(self, p: u8) -> bool {
        match self {
            Protocol::All => true,
            Protocol::Number(n) => n == p,
        }
    }

    /// The name as the AWS CLI writes it in security group rules (`tcp`,
    /// `icmpv6`, `-1`, or the number).
    pub fn name(self) -> String {
        match self {
            Protocol::All => "-1".into(),
            Protocol::Number(p) => protocol_name(p),
        }
    }
}

/// `tcp`, `udp`, `icmp`, `icmpv6`, or the number as text.
pub fn protocol_name(p: u8) -> String {
    match p {
        6 => "tcp".into(),
        17 => "udp".into(),
        1 => "icmp".into(),
        58 => "icmpv6".into(),
        _ => p.to_string(),
    }
}

/// A network interface (`describe-network-interfaces`).
#[derive(Clone, Debug, Default)]
pub struct Interface {
    /// `eni-…`.
    pub id: String,
    /// Its subnet.
    pub subnet_id: Option<String>,
    /// Its VPC.
    pub vpc_id: Option<String>,
    /// Private IPv4 and IPv6 addresses (what flow logs record for it).
    pub addresses: Vec<IpAddr>,
    /// Public addresses associated with it (never matched by a rule that
    /// references a group).
    pub public: Vec<IpAddr>,
    /// Ids of its security groups, in the order AWS lists them.
    pub group_ids: Vec<String>,
    /// The instance it is attached to.
    pub instance_id: Option<String>,
    /// `interface`, `nat_gateway`, `lambda`, … (`InterfaceType`).
    pub kind: Option<String>,
    /// Its description (load balancers and endpoints say what they are).
    pub description: Option<String>,
}

/// What a security group rule admits traffic from (ingress) or to (egress).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SgPeer {
    /// An IPv4 or IPv6 network.
    Cidr(IpNetwork),
    /// The private addresses of interfaces in this security group.
    Group(String),
    /// The entries of this prefix list.
    PrefixList(String),
}

impl SgPeer {
    /// The peer as text: the network, the group id or the prefix list id.
    pub fn text(&self) -> String {
        match self {
            SgPeer::Cidr(n) => n.to_string(),
            SgPeer::Group(g) | SgPeer::PrefixList(g) => g.clone(),
        }
    }
}

/// One security group rule: one permission with one peer (a permission with
/// several peers is several rules, as AWS counts them).
#[derive(Clone, Debug)]
pub struct SgRule {
    /// Index of its group in [`VpcConfig::groups`].
    pub group: u32,
    /// `sgr-…`, when `describe-security-group-rules` was saved.
    pub rule_id: Option<String>,
    /// Egress (outbound) or ingress (inbound).
    pub direction: Direction,
    /// Protocol.
    pub protocol: Protocol,
    /// First port, or the ICMP type (`-1`: any); `None` when the protocol has no ports.
    pub from_port: Option<i32>,
    /// Last port, or the ICMP code (`-1`: any).
    pub to_port: Option<i32>,
    /// What it admits.
    pub peer: SgPeer,
    /// The rule's description.
    pub description: Option<String>,
}

/// A security group (`describe-security-groups`).
#[derive(Clone, Debug, Default)]
pub struct SecurityGroup {
    /// `sg-…`.
    pub id: String,
    /// Its name.
    pub name: Option<String>,
    /// Its VPC.
    pub vpc_id: Option<String>,
    /// Indexes of its rules in [`VpcConfig::sg_rules`], in the order AWS lists them.
    pub rules: Vec<u32>,
}

/// One network ACL entry.
#[derive(Clone, Debug)]
pub struct AclEntry {
    /// Index of its ACL in [`VpcConfig::acls`].
    pub acl: u32,
    /// Rule number (32767, and 32768 for IPv6, is the final `*` deny).
    pub rule_number: u16,
    /// Outbound (egress) or inbound (ingress).
    pub direction: Direction,
    /// Protocol.
    pub protocol: Protocol,
    /// Allow or deny.
    pub allow: bool,
    /// The network it applies to (source for inbound, destination for outbound).
    pub cidr: Option<IpNetwork>,
    /// Destination port range (TCP and UDP); `None`: every port.
    pub ports: Option<(u16, u16)>,
    /// ICMP type and code (`-1`: any); `None`: every type.
    pub icmp: Option<(i32, i32)>,
}

impl AclEntry {
    /// Whether this is the final `*` entry every ACL ends with.
    pub fn is_default(&self) -> bool {
        self.rule_number >= 32767
    }

    /// `100` or `*`.
    pub fn number_text(&self) -> String {
        if self.is_default() {
            "*".into()
        } else {
            self.rule_number.to_string()
        }
    }
}

/// A network ACL (`describe-network-acls`).
#[derive(Clone, Debug, Default)]
pub struct NetworkAcl {
    /// `acl-…`.
    pub id: String,
    /// Its VPC.
    pub vpc_id: Option<String>,
    /// Whether it is its VPC's default ACL (used by subnets with no association).
    pub is_default: bool,
    /// Subnets associated with it.
    pub subnets: Vec<String>,
    /// Inbound entries (indexes in [`VpcConfig::acl_entries`]), by rule number.
    pub inbound: Vec<u32>,
    /// Outbound entries, by rule number.
    pub outbound: Vec<u32>,
}

impl NetworkAcl {
    /// The entries of one direction, by rule number.
    pub fn entries(&self, dir: Direction) -> &[u32] {
        match dir {
            Direction::Ingress => &self.inbound,
            Direction::Egress => &self.outbound,
        }
    }
}

/// A subnet (`describe-subnets`).
#[derive(Clone, Debug, Default)]
pub struct Subnet {
    /// `subnet-…`.
    pub id: String,
    /// Its VPC.
    pub vpc_id: Option<String>,
    /// Its IPv4 network.
    pub cidr: Option<IpNetwork>,
    /// Its IPv6 networks.
    pub ipv6: Vec<IpNetwork>,
    /// Free IPv4 addresses when the configuration was saved.
    pub available: Option<u64>,
    /// Its availability zone.
    pub zone: Option<String>,
}

/// What one configuration file held.
#[derive(Clone, Debug, Serialize)]
pub struct SourceFile {
    /// The file.
    #[serde(serialize_with = "crate::display::ser_path")]
    pub path: PathBuf,
    /// The kinds of document in it (`security-groups`, `network-interfaces`, …).
    pub kinds: Vec<&'static str>,
}

/// How many of each piece were loaded, and which pieces were not given at all.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// Interfaces.
    pub interfaces: usize,
    /// Security groups.
    pub security_groups: usize,
    /// Security group rules.
    pub security_group_rules: usize,
    /// Network ACLs.
    pub network_acls: usize,
    /// Network ACL entries.
    pub network_acl_entries: usize,
    /// Subnets.
    pub subnets: usize,
    /// Prefix lists with their entries.
    pub prefix_lists: usize,
}

/// The saved configuration, indexed.
#[derive(Clone, Debug, Default)]
pub struct VpcConfig {
    /// Network interfaces.
    pub interfaces: Vec<Interface>,
    /// Security groups.
    pub groups: Vec<SecurityGroup>,
    /// Every security group rule.
    pub sg_rules: Vec<SgRule>,
    /// Network ACLs.
    pub acls: Vec<NetworkAcl>,
    /// Every network ACL entry.
    pub acl_entries: Vec<AclEntry>,
    /// Subnets.
    pub subnets: Vec<Subnet>,
    /// Prefix lists whose entries were saved.
    pub prefix_lists: BTreeMap<String, Vec<IpNetwork>>,
    /// The files read.
    pub files: Vec<SourceFile>,
    pub(super) index: Index,
}

/// Lookups built once after loading.
#[derive(Clone, Debug, Default)]
pub(super) struct Index {
    pub iface_by_id: HashMap<String, u32, RandomState>,
    pub iface_by_addr: HashMap<IpAddr, Vec<u32>, RandomState>,
    pub group_by_id: HashMap<String, u32, RandomState>,
    pub group_members: Vec<Vec<u32>>,
    pub iface_groups: Vec<Vec<Option<u32>>>,
    pub acl_of_iface: Vec<Option<u32>>,
    pub subnet_by_id: HashMap<String, u32, RandomState>,
    /// Subnet networks by prefix length, longest first: (length, masked
    /// network as a number, subnets), IPv4 and IPv6 apart. A network holds
    /// several subnets only when saved configurations of several VPCs
    /// overlap (every default VPC is 172.31.0.0/16).
    pub nets4: Vec<(u8, Nets<u32>)>,
    pub nets6: Vec<(u8, Nets<u128>)>,
}

/// Subnets by masked network, for one prefix length.
pub(super) type Nets<K> = HashMap<K, Vec<u32>, RandomState>;

impl VpcConfig {
    /// What was loaded.
    pub fn coverage(&self) -> Coverage {
        Coverage {
            interfaces: self.interfaces.len(),
            security_groups: self.groups.len(),
            security_group_rules: self.sg_rules.len(),
            network_acls: self.acls.len(),
            network_acl_entries: self.acl_entries.len(),
            subnets: self.subnets.len(),
            prefix_lists: self.prefix_lists.len(),
        }
    }

    /// The interface with this id.
    pub fn interface(&self, id: &str) -> Option<u32> {
        self.index.iface_by_id.get(id).copied()
    }

    /// Interfaces holding this private address (several only when saved
    /// configurations of several VPCs overlap).
    pub fn interfaces_at(&self, addr: IpAddr) -> &[u32] {
        self.index
            .iface_by_addr
            .get(&addr)
            .map_or(&[], Vec::as_slice)
    }

    /// The interface at `addr`, preferring one in `vpc`.
    pub fn interface_at(&self, addr: IpAddr, vpc: Option<&str>) -> Option<u32> {
        let at = self.interfaces_at(addr);
        at.iter()
            .copied()
            .find(|&i| vpc.is_some() && self.interfaces[i as usize].vpc_id.as_deref() == vpc)
            .or_else(|| at.first().copied())
    }

    /// The security group with this id.
    pub fn group(&self, id: &str) -> Option<u32> {
        self.index.group_by_id.get(id).copied()
    }

    /// The interfaces in a group.
    pub fn members(&self, group: u32) -> &[u32] {
        &self.index.group_members[group as usize]
    }

    /// An interface's groups: `None` for a group id the configuration does not hold.
    pub fn groups_of(&self, iface: u32) -> &[Option<u32>] {
        &self.index.iface_groups[iface as usize]
    }

    /// The network ACL of an interface's subnet (its association, else its
    /// VPC's default ACL).
    pub fn acl_of(&self, iface: u32) -> Option<u32> {
        self.index.acl_of_iface[iface as usize]
    }

    /// The subnet with this id.
    pub fn subnet(&self, id: &str) -> Option<u32> {
        self.index.subnet_by_id.get(id).copied()
    }

    /// The subnet of an interface, when the subnets were saved.
    pub fn subnet_of(&self, iface: u32) -> Option<u32> {
        self.interfaces[iface as usize]
            .subnet_id
            .as_deref()
            .and_then(|s| self.subnet(s))
    }

    /// The subnet whose network holds `addr` (the longest match).
    pub fn subnet_containing(&self, addr: IpAddr) -> Option<u32> {
        self.subnets_containing(addr).next()
    }

    /// The subnet holding `addr`: the only one, or where subnets of several
    /// VPCs overlap there, the one in `vpc` (the VPC of the record's
    /// interface, asked for only then), and none when no such one is.
    pub fn subnet_in<'a>(
        &'a self,
        addr: IpAddr,
        vpc: impl FnOnce() -> Option<&'a str>,
    ) -> Option<u32> {
        let mut all = self.subnets_containing(addr);
        let first = all.next()?;
        if all.next().is_none() {
            return Some(first);
        }
        let vpc = vpc()?;
        self.subnets_containing(addr)
            .find(|&s| self.subnets[s as usize].vpc_id.as_deref() == Some(vpc))
    }

    /// Every subnet holding `addr`, longest prefix first.
    fn subnets_containing(&self, addr: IpAddr) -> impl Iterator<Item = u32> + '_ {
        let (v4, v6) = match addr {
            IpAddr::V4(a) => (Some(u32::from(a)), None),
            IpAddr::V6(a) => (None, Some(u128::from(a))),
        };
        let four = self.index.nets4.iter().filter_map(move |(len, m)| {
            let a = v4?;
            let mask = if *len == 0 { 0 } else { u32::MAX << (32 - len) };
            m.get(&(a & mask))
        });
        let six = self.index.nets6.iter().filter_map(move |(len, m)| {
            let a = v6?;
            let mask = if *len == 0 {
                0
            } else {
                u128::MAX << (128 - len)
            };
            m.get(&(a & mask))
        });
        four.chain(six).flatten().copied()
    }

    /// Builds the indexes (after every file is read).
    pub(super) fn build_index(&mut self) {
        let mut ix = Index::default();
        for (i, f) in self.interfaces.iter().enumerate() {
            ix.iface_by_id.insert(f.id.clone(), i as u32);
            for a in &f.addresses {
                ix.iface_by_addr.entry(*a).or_default().push(i as u32);
            }
        }
        for (i, g) in self.groups.iter().enumerate() {
            ix.group_by_id.insert(g.id.clone(), i as u32);
        }
        ix.group_members = vec![Vec::new(); self.groups.len()];
        for (i, f) in self.interfaces.iter().enumerate() {
            let gs: Vec<Option<u32>> = f
                .group_ids
                .iter()
                .map(|g| ix.group_by_id.get(g.as_str()).copied())
                .collect();
            for g in gs.iter().flatten() {
                ix.group_members[*g as usize].push(i as u32);
            }
            ix.iface_groups.push(gs);
        }
        let mut by_subnet: HashMap<&str, u32, RandomState> = HashMap::default();
        let mut default_of_vpc: HashMap<&str, u32, RandomState> = HashMap::default();
        for (i, a) in self.acls.iter().enumerate() {
            for s in &a.subnets {
                by_subnet.entry(s.as_str()).or_insert(i as u32);
            }
            if let (true, Some(v)) = (a.is_default, a.vpc_id.as_deref()) {
                default_of_vpc.entry(v).or_insert(i as u32);
            }
        }
        ix.acl_of_iface = self
            .interfaces
            .iter()
            .map(|f| {
                let by = f.subnet_id.as_deref().and_then(|s| by_subnet.get(s));
                let dflt = f.vpc_id.as_deref().and_then(|v| default_of_vpc.get(v));
                by.or(dflt).copied()
            })
            .collect();
        for (i, s) in self.subnets.iter().enumerate() {
            ix.subnet_by_id.insert(s.id.clone(), i as u32);
            for net in s.cidr.iter().chain(&s.ipv6) {
                add_net(&mut ix, *net, i as u32);
            }
        }
        ix.nets4.sort_by_key(|n| std::cmp::Reverse(n.0));
        ix.nets6.sort_by_key(|n| std::cmp::Reverse(n.0));
        self.index = ix;
    }
}

fn add_net(ix: &mut Index, net: IpNetwork, subnet: u32) {
    let len = net.prefix();
    match net {
        IpNetwork::V4(n) => add_to(&mut ix.nets4, len, u32::from(n.network()), subnet),
        IpNetwork::V6(n) => add_to(&mut ix.nets6, len, u128::from(n.network()), subnet),
    }
}

/// Adds a subnet under its masked network `key` among networks of `len` bits.
fn add_to<K: std::hash::Hash + Eq>(nets: &mut Vec<(u8, Nets<K>)>, len: u8, key: K, subnet: u32) {
    match nets.iter_mut().find(|(l, _)| *l == len) {
        Some((_, m)) => m.entry(key).or_default().push(subnet),
        None => {
            let mut m = Nets::default();
            m.insert(key, vec![subnet]);
            nets.push((len, m));
        }
    }
}

/// A network with the host bits cleared (`10.0.1.5/24` → `10.0.1.0/24`).
pub fn normalize(net: IpNetwork) -> IpNetwork {
    IpNetwork::new(net.network(), net.prefix()).unwrap_or(net)
}
