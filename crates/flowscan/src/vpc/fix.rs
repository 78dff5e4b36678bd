//! Fixes as AWS CLI commands: the narrowest security group rule or network
//! ACL entry that admits the traffic observed, and a free ACL rule number that
//! is evaluated before the entry that denied it.

use std::collections::BTreeSet;
use std::net::IpAddr;

use ipnetwork::IpNetwork;

use super::config::{normalize, VpcConfig};
use super::eval::{has_ports, is_icmp};
use super::Direction;

/// The last rule number a user may give (32767 and up are the `*` entries).
pub const MAX_RULE: u16 = 32766;

/// What a new security group rule admits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Peers {
    /// Networks (IPv4 and IPv6 together).
    Cidrs(Vec<IpNetwork>),
    /// Interfaces in this security group.
    Group(String),
}

/// The networks to admit for peers observed at `addrs` (sorted, distinct),
/// all in `net`, `distinct` of them in total: each address alone when there are
/// few; else the network they share, but the whole internet only when many
/// addresses came from it.
pub fn narrowest(addrs: &[IpAddr], net: IpNetwork, distinct: u64, few: usize) -> Vec<IpNetwork> {
    let host = |a: IpAddr| {
        let len = if a.is_ipv4() { 32 } else { 128 };
        IpNetwork::new(a, len).expect("a host prefix")
    };
    let everywhere = net.prefix() == 0;
    if distinct as usize <= few || (everywhere && distinct <= 16) {
        addrs.iter().map(|a| host(*a)).collect()
    } else {
        vec![normalize(net)]
    }
}

/// `--ip-permissions` shorthand: `IpProtocol=tcp,FromPort=5432,ToPort=5432,IpRanges=[{CidrIp=10.0.2.15/32}]`.
pub fn ip_permissions(proto: u8, ports: (u16, u16), peers: &Peers) -> String {
    let mut s = format!("IpProtocol={}", super::config::protocol_name(proto));
    if has_ports(proto) {
        s += &format!(",FromPort={},ToPort={}", ports.0, ports.1);
    } else if is_icmp(proto) {
        // Flow logs do not record the ICMP type: every type.
        s += ",FromPort=-1,ToPort=-1";
    }
    match peers {
        Peers::Group(g) => s += &format!(",UserIdGroupPairs=[{{GroupId={g}}}]"),
        Peers::Cidrs(nets) => {
            let v4: Vec<String> = nets
                .iter()
                .filter(|n| n.is_ipv4())
                .map(|n| format!("{{CidrIp={n}}}"))
                .collect();
            let v6: Vec<String> = nets
                .iter()
                .filter(|n| n.is_ipv6())
                .map(|n| format!("{{CidrIpv6={n}}}"))
                .collect();
            if !v4.is_empty() {
                s += &format!(",IpRanges=[{}]", v4.join(","));
            }
            if !v6.is_empty() {
                s += &format!(",Ipv6Ranges=[{}]", v6.join(","));
            }
        }
    }
    s
}

/// `aws ec2 authorize-security-group-ingress|egress --group-id … --ip-permissions '…'`
/// (quoted, so that shells that expand brackets leave it alone).
pub fn sg_command(
    group: &str,
    dir: Direction,
    proto: u8,
    ports: (u16, u16),
    peers: &Peers,
) -> String {
    format!(
        "aws ec2 authorize-security-group-{dir} --group-id {group} --ip-permissions '{}'",
        ip_permissions(proto, ports, peers)
    )
}

/// `aws ec2 create-network-acl-entry …` admitting one network.
pub fn acl_command(
    acl: &str,
    rule_number: u16,
    dir: Direction,
    proto: u8,
    ports: (u16, u16),
    cidr: IpNetwork,
) -> String {
    let mut s = format!(
        "aws ec2 create-network-acl-entry --network-acl-id {acl} --rule-number {rule_number} --protocol {proto}"
    );
    if has_ports(proto) {
        s += &format!(" --port-range From={},To={}", ports.0, ports.1);
    } else if is_icmp(proto) {
        s += " --icmp-type-code Type=-1,Code=-1";
    }
    s += match dir {
        Direction::Ingress => " --ingress",
        Direction::Egress => " --egress",
    };
    if cidr.is_ipv4() {
        s += &format!(" --cidr-block {cidr}");
    } else {
        s += &format!(" --ipv6-cidr-block {cidr}");
    }
    s + " --rule-action allow"
}

/// `n` free rule numbers of `acl` in `dir`, each below `below` (the entry that
/// denied), so that the new entries are evaluated first: multiples of 10 just
/// after the last entry before it when there is room, else any free number
/// below it (an entry between them matches nothing the denied packets are, or
/// it would have decided first). Numbers in `taken` (proposed by other
/// fixes) count as used. `None` when the ACL is full below it.
pub fn free_rule_numbers(
    cfg: &VpcConfig,
    acl: u32,
    dir: Direction,
    below: u16,
    n: usize,
    taken: &BTreeSet<u16>,
) -> Option<Vec<u16>> {
    let used: BTreeSet<u16> = cfg.acls[acl as usize]
        .entries(dir)
        .iter()
        .map(|&e| cfg.acl_entries[e as usize].rule_number)
        .chain(taken.iter().copied())
        .collect();
    let below = below.min(MAX_RULE + 1);
    let last = used.range(..below).next_back().copied().unwrap_or(0);
    let tens = (last + 1..below).filter(|k| k % 10 == 0 && !used.contains(k));
    let mut out: Vec<u16> = tens.take(n).collect();
    if out.len() < n {
        out = (last + 1..below)
            .filter(|k| !used.contains(k))
            .take(n)
            .collect();
    }
    if out.len() < n {
        let mut free: Vec<u16> = (1..below)
            .rev()
            .filter(|k| !used.contains(k))
            .take(n)
            .collect();
        free.reverse();
        out = free;
    }
    (out.len() == n).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_in_the_cli_shorthand() {
        let one = Peers::Cidrs(vec!["10.0.2.15/32".parse().unwrap()]);
        assert_eq!(
            sg_command("sg-1", Direction::Egress, 6, (5432, 5432), &one),
            "aws ec2 authorize-security-group-egress --group-id sg-1 --ip-permissions 'IpProtocol=tcp,FromPort=5432,ToPort=5432,IpRanges=[{CidrIp=10.0.2.15/32}]'"
        );
        let mixed = Peers::Cidrs(vec![
            "10.0.0.0/24".parse().unwrap(),
            "2600:1f18::/64".parse().unwrap(),
        ]);
        assert_eq!(
            ip_permissions(58, (0, 0), &mixed),
            "IpProtocol=icmpv6,FromPort=-1,ToPort=-1,IpRanges=[{CidrIp=10.0.0.0/24}],Ipv6Ranges=[{CidrIpv6=2600:1f18::/64}]"
        );
        assert_eq!(
            ip_permissions(50, (0, 0), &Peers::Group("sg-9".into())),
            "IpProtocol=50,UserIdGroupPairs=[{GroupId=sg-9}]"
        );
        assert_eq!(
            acl_command("acl-1", 110, Direction::Egress, 6, (1024, 65535), "10.0.1.0/24".parse().unwrap()),
            "aws ec2 create-network-acl-entry --network-acl-id acl-1 --rule-number 110 --protocol 6 --port-range From=1024,To=65535 --egress --cidr-block 10.0.1.0/24 --rule-action allow"
        );
        assert_eq!(
            acl_command("acl-1", 5, Direction::Ingress, 1, (0, 0), "::/0".parse().unwrap()),
            "aws ec2 create-network-acl-entry --network-acl-id acl-1 --rule-number 5 --protocol 1 --icmp-type-code Type=-1,Code=-1 --ingress --ipv6-cidr-block ::/0 --rule-action allow"
        );
    }

    #[test]
    fn narrowest_networks() {
        let a: Vec<IpAddr> = vec!["10.0.3.7".parse().unwrap()];
        let subnet: IpNetwork = "10.0.3.0/24".parse().unwrap();
        assert_eq!(
            narrowest(&a, subnet, 1, 4),
            vec!["10.0.3.7/32".parse::<IpNetwork>().unwrap()]
        );
        let many: Vec<IpAddr> = (1..=6)
            .map(|i| format!("10.0.3.{i}").parse().unwrap())
            .collect();
        assert_eq!(narrowest(&many, subnet, 6, 4), vec![subnet]);
        let internet: IpNetwork = "0.0.0.0/0".parse().unwrap();
        let pub6: Vec<IpAddr> = (1..=6)
            .map(|i| format!("52.1.2.{i}").parse().unwrap())
            .collect();
        assert_eq!(
            narrowest(&pub6, internet, 6, 4).len(),
            6,
            "a few addresses are not everywhere"
        );
        assert_eq!(narrowest(&pub6, internet, 500, 4), vec![internet]);
    }
}
