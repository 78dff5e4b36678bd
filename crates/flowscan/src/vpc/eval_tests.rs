//! The evaluator on AWS's documented examples: the web and database groups
//! (a group that references another), the default group, the custom network
//! ACL of the VPC user guide (rule order, the `*` rule, ephemeral ports),
//! protocol -1, ICMP and IPv6.

use std::collections::BTreeSet;
use std::net::IpAddr;

use super::*;
use crate::vpc::fix::free_rule_numbers;
use crate::vpc::load::load_str;

/// Two subnets: web (10.0.0.0/24, with IPv6) and db (10.0.1.0/24). The web
/// group admits HTTP/HTTPS from anywhere and SSH from 192.0.2.0/24; the
/// database group admits MySQL from the web group only; the default group
/// admits everything from itself. The web subnet's ACL is the user guide's
/// custom ACL; the database subnet's ACL denies SSH before allowing the VPC.
pub(crate) const CONFIG: &str = r#"
{"SecurityGroups": [
  {"GroupId": "sg-web", "GroupName": "web", "VpcId": "vpc-1",
   "IpPermissions": [
     {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
     {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
     {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "192.0.2.0/24"}]},
     {"IpProtocol": "icmp", "FromPort": 8, "ToPort": -1, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}],
   "IpPermissionsEgress": [
     {"IpProtocol": "tcp", "FromPort": 3306, "ToPort": 3306, "UserIdGroupPairs": [{"GroupId": "sg-db", "UserId": "123456789012"}]},
     {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "PrefixListIds": [{"PrefixListId": "pl-63a5400a"}]}]},
  {"GroupId": "sg-db", "GroupName": "db", "VpcId": "vpc-1",
   "IpPermissions": [
     {"IpProtocol": "tcp", "FromPort": 3306, "ToPort": 3306, "UserIdGroupPairs": [{"GroupId": "sg-web", "UserId": "123456789012"}]}],
   "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]},
  {"GroupId": "sg-default", "GroupName": "default", "VpcId": "vpc-1",
   "IpPermissions": [{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": "sg-default"}]}],
   "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}]}
]}
{"NetworkInterfaces": [
  {"NetworkInterfaceId": "eni-web", "SubnetId": "subnet-web", "VpcId": "vpc-1", "PrivateIpAddress": "10.0.0.10",
   "PrivateIpAddresses": [{"PrivateIpAddress": "10.0.0.10", "Primary": true, "Association": {"PublicIp": "198.51.100.10"}}],
   "Ipv6Addresses": [{"Ipv6Address": "2600:1f18:1:1::10"}],
   "Groups": [{"GroupId": "sg-web", "GroupName": "web"}], "Attachment": {"InstanceId": "i-web"}},
  {"NetworkInterfaceId": "eni-db", "SubnetId": "subnet-db", "VpcId": "vpc-1", "PrivateIpAddress": "10.0.1.20",
   "Groups": [{"GroupId": "sg-db"}], "Attachment": {"InstanceId": "i-db"}},
  {"NetworkInterfaceId": "eni-other", "SubnetId": "subnet-db", "VpcId": "vpc-1", "PrivateIpAddress": "10.0.1.30",
   "Groups": [{"GroupId": "sg-default"}]},
  {"NetworkInterfaceId": "eni-other2", "SubnetId": "subnet-web", "VpcId": "vpc-1", "PrivateIpAddress": "10.0.0.40",
   "Groups": [{"GroupId": "sg-default"}]}
]}
{"NetworkAcls": [
  {"NetworkAclId": "acl-web", "VpcId": "vpc-1", "IsDefault": false,
   "Associations": [{"NetworkAclAssociationId": "aclassoc-1", "NetworkAclId": "acl-web", "SubnetId": "subnet-web"}],
   "Entries": [
     {"RuleNumber": 100, "Protocol": "6", "RuleAction": "allow", "Egress": false, "CidrBlock": "0.0.0.0/0", "PortRange": {"From": 80, "To": 80}},
     {"RuleNumber": 105, "Protocol": "6", "RuleAction": "allow", "Egress": false, "Ipv6CidrBlock": "::/0", "PortRange": {"From": 80, "To": 80}},
     {"RuleNumber": 110, "Protocol": "6", "RuleAction": "allow", "Egress": false, "CidrBlock": "0.0.0.0/0", "PortRange": {"From": 443, "To": 443}},
     {"RuleNumber": 120, "Protocol": "6", "RuleAction": "allow", "Egress": false, "CidrBlock": "192.0.2.0/24", "PortRange": {"From": 22, "To": 22}},
     {"RuleNumber": 130, "Protocol": "1", "RuleAction": "allow", "Egress": false, "CidrBlock": "10.0.0.0/16", "IcmpTypeCode": {"Type": 8, "Code": -1}},
     {"RuleNumber": 140, "Protocol": "6", "RuleAction": "allow", "Egress": false, "CidrBlock": "0.0.0.0/0", "PortRange": {"From": 32768, "To": 65535}},
     {"RuleNumber": 32767, "Protocol": "-1", "RuleAction": "deny", "Egress": false, "CidrBlock": "0.0.0.0/0"},
     {"RuleNumber": 32768, "Protocol": "-1", "RuleAction": "deny", "Egress": false, "Ipv6CidrBlock": "::/0"},
     {"RuleNumber": 100, "Protocol": "6", "RuleAction": "allow", "Egress": true, "CidrBlock": "0.0.0.0/0", "PortRange": {"From": 80, "To": 80}},
     {"RuleNumber": 110, "Protocol": "6", "RuleAction": "allow", "Egress": true, "CidrBlock": "0.0.0.0/0", "PortRange": {"From": 443, "To": 443}},
     {"RuleNumber": 120, "Protocol": "6", "RuleAction": "allow", "Egress": true, "CidrBlock": "0.0.0.0/0", "PortRange": {"From": 32768, "To": 65535}},
     {"RuleNumber": 32767, "Protocol": "-1", "RuleAction": "deny", "Egress": true, "CidrBlock": "0.0.0.0/0"}]},
  {"NetworkAclId": "acl-db", "VpcId": "vpc-1", "IsDefault": true,
   "Associations": [{"SubnetId": "subnet-db"}],
   "Entries": [
     {"RuleNumber": 90, "Protocol": "6", "RuleAction": "deny", "Egress": false, "CidrBlock": "0.0.0.0/0", "PortRange": {"From": 22, "To": 22}},
     {"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": false, "CidrBlock": "10.0.0.0/16"},
     {"RuleNumber": 32767, "Protocol": "-1", "RuleAction": "deny", "Egress": false, "CidrBlock": "0.0.0.0/0"},
     {"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": true, "CidrBlock": "0.0.0.0/0"},
     {"RuleNumber": 32767, "Protocol": "-1", "RuleAction": "deny", "Egress": true, "CidrBlock": "0.0.0.0/0"}]}
]}
{"Subnets": [
  {"SubnetId": "subnet-web", "VpcId": "vpc-1", "CidrBlock": "10.0.0.0/24", "AvailableIpAddressCount": 240,
   "Ipv6CidrBlockAssociationSet": [{"Ipv6CidrBlock": "2600:1f18:1:1::/64", "Ipv6CidrBlockState": {"State": "associated"}}]},
  {"SubnetId": "subnet-db", "VpcId": "vpc-1", "CidrBlock": "10.0.1.0/24", "AvailableIpAddressCount": 9}
]}
"#;

fn cfg() -> VpcConfig {
    load_str("vpc.json", CONFIG).unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn tcp(src: &str, dst: &str, sport: u16, dport: u16) -> Packet {
    Packet {
        proto: 6,
        src: ip(src),
        dst: ip(dst),
        sport,
        dport,
    }
}

fn sg(c: &VpcConfig, eni: &str, dir: Direction, p: &Packet) -> Option<Tri> {
    security_groups(c, c.interface(eni).unwrap(), dir, p).allowed
}

/// The deciding entry's rule number (None: no entry) and whether it allows.
fn acl(c: &VpcConfig, eni: &str, dir: Direction, p: &Packet) -> (Option<u16>, bool) {
    match acl_check(c, c.interface(eni).unwrap(), dir, p) {
        AclCheck::Checked(_, r) => (
            r.entry.map(|e| c.acl_entries[e as usize].rule_number),
            r.allow,
        ),
        other => panic!("not checked: {other:?}"),
    }
}

#[test]
fn a_group_referencing_another_matches_its_members_private_addresses_only() {
    let c = cfg();
    let from_web = tcp("10.0.0.10", "10.0.1.20", 40000, 3306);
    assert_eq!(
        sg(&c, "eni-db", Direction::Ingress, &from_web),
        Some(Tri::Yes)
    );
    // Another instance of the VPC, not in sg-web.
    let from_other = tcp("10.0.1.30", "10.0.1.20", 40000, 3306);
    assert_eq!(
        sg(&c, "eni-db", Direction::Ingress, &from_other),
        Some(Tri::No)
    );
    // The web server's public address is not a member's private address.
    let public = tcp("198.51.100.10", "10.0.1.20", 40000, 3306);
    assert_eq!(sg(&c, "eni-db", Direction::Ingress, &public), Some(Tri::No));
    // A private address no saved interface holds: cannot tell.
    let gone = tcp("10.0.0.99", "10.0.1.20", 40000, 3306);
    assert_eq!(
        sg(&c, "eni-db", Direction::Ingress, &gone),
        Some(Tri::Maybe)
    );
    // The web group's egress to the database group, the other way round.
    assert_eq!(
        sg(&c, "eni-web", Direction::Egress, &from_web),
        Some(Tri::Yes)
    );
    // Wrong port: the rule exists for 3306 only.
    let pg = tcp("10.0.0.10", "10.0.1.20", 40000, 5432);
    assert_eq!(sg(&c, "eni-db", Direction::Ingress, &pg), Some(Tri::No));
    let near = rules_for_port(
        &c,
        c.interface("eni-db").unwrap(),
        Direction::Ingress,
        6,
        3306,
    );
    assert_eq!(near.len(), 1);
    assert_eq!(
        c.sg_rules[near[0] as usize].peer,
        SgPeer::Group("sg-web".into())
    );
}

#[test]
fn the_default_group_admits_its_members_and_everything_out() {
    let c = cfg();
    // Protocol -1 from itself: any protocol and port from another member.
    let udp = Packet {
        proto: 17,
        ..tcp("10.0.0.40", "10.0.1.30", 5353, 9999)
    };
    assert_eq!(
        sg(&c, "eni-other", Direction::Ingress, &udp),
        Some(Tri::Yes)
    );
    assert_eq!(
        sg(
            &c,
            "eni-other",
            Direction::Ingress,
            &tcp("10.0.0.10", "10.0.1.30", 1, 2)
        ),
        Some(Tri::No)
    );
    let out = tcp("10.0.1.30", "203.0.113.9", 40000, 25);
    assert_eq!(sg(&c, "eni-other", Direction::Egress, &out), Some(Tri::Yes));
}

#[test]
fn security_group_rules_apply_by_family_and_prefix_list() {
    let c = cfg();
    let v6 = tcp("2001:db8::1", "2600:1f18:1:1::10", 40000, 80);
    assert_eq!(sg(&c, "eni-web", Direction::Ingress, &v6), Some(Tri::Yes));
    // 443 is open to 0.0.0.0/0 only: not to IPv6.
    let v6s = tcp("2001:db8::1", "2600:1f18:1:1::10", 40000, 443);
    assert_eq!(sg(&c, "eni-web", Direction::Ingress, &v6s), Some(Tri::No));
    // Egress 443 only to a prefix list whose entries were not saved.
    let s3 = tcp("10.0.0.10", "52.216.1.1", 40000, 443);
    assert_eq!(sg(&c, "eni-web", Direction::Egress, &s3), Some(Tri::Maybe));
    let mut with = cfg();
    with.prefix_lists
        .insert("pl-63a5400a".into(), vec!["52.216.0.0/15".parse().unwrap()]);
    assert_eq!(sg(&with, "eni-web", Direction::Egress, &s3), Some(Tri::Yes));
    let elsewhere = tcp("10.0.0.10", "8.8.8.8", 40000, 443);
    assert_eq!(
        sg(&with, "eni-web", Direction::Egress, &elsewhere),
        Some(Tri::No)
    );
}

#[test]
fn icmp_rules_for_one_type_cannot_be_decided_from_flow_logs() {
    let c = cfg();
    let ping = Packet {
        proto: 1,
        ..tcp("10.0.1.30", "10.0.0.10", 0, 0)
    };
    // The rule admits echo requests (type 8) only; the logs do not say the type.
    assert_eq!(
        sg(&c, "eni-web", Direction::Ingress, &ping),
        Some(Tri::Maybe)
    );
    // The ACL's ICMP entry 130 is for type 8 too: the `*` deny decides other
    // types, and 130 is the condition.
    let r = match acl_check(
        &c,
        c.interface("eni-web").unwrap(),
        Direction::Ingress,
        &ping,
    ) {
        AclCheck::Checked(_, r) => r,
        o => panic!("{o:?}"),
    };
    assert_eq!(
        r.entry.map(|e| c.acl_entries[e as usize].rule_number),
        Some(32767)
    );
    assert!(!r.allow);
    assert_eq!(
        r.conditional
            .iter()
            .map(|&e| c.acl_entries[e as usize].rule_number)
            .collect::<Vec<_>>(),
        vec![130]
    );
    // From outside 10.0.0.0/16 nothing ICMP is admitted at all.
    let far = Packet {
        proto: 1,
        ..tcp("203.0.113.5", "10.0.0.10", 0, 0)
    };
    assert_eq!(sg(&c, "eni-web", Direction::Ingress, &far), Some(Tri::No));
}

#[test]
fn network_acl_rules_are_read_in_number_order_first_match_wins() {
    let c = cfg();
    // The user guide's custom ACL: HTTP from anywhere at 100.
    assert_eq!(
        acl(
            &c,
            "eni-web",
            Direction::Ingress,
            &tcp("203.0.113.5", "10.0.0.10", 40000, 80)
        ),
        (Some(100), true)
    );
    // SSH from the admin network at 120; from elsewhere, the `*` rule.
    assert_eq!(
        acl(
            &c,
            "eni-web",
            Direction::Ingress,
            &tcp("192.0.2.7", "10.0.0.10", 40000, 22)
        ),
        (Some(120), true)
    );
    assert_eq!(
        acl(
            &c,
            "eni-web",
            Direction::Ingress,
            &tcp("203.0.113.5", "10.0.0.10", 40000, 22)
        ),
        (Some(32767), false)
    );
    // NetBIOS (139) matches no rule but `*`.
    assert_eq!(
        acl(
            &c,
            "eni-web",
            Direction::Ingress,
            &tcp("203.0.113.5", "10.0.0.10", 40000, 139)
        ),
        (Some(32767), false)
    );
    // The database ACL denies SSH at 90 before allowing the VPC at 100.
    assert_eq!(
        acl(
            &c,
            "eni-db",
            Direction::Ingress,
            &tcp("10.0.0.10", "10.0.1.20", 40000, 22)
        ),
        (Some(90), false)
    );
    assert_eq!(
        acl(
            &c,
            "eni-db",
            Direction::Ingress,
            &tcp("10.0.0.10", "10.0.1.20", 40000, 3306)
        ),
        (Some(100), true)
    );
    // Protocol -1 at 100 covers UDP too.
    let udp = Packet {
        proto: 17,
        ..tcp("10.0.0.10", "10.0.1.20", 40000, 53)
    };
    assert_eq!(
        acl(&c, "eni-db", Direction::Ingress, &udp),
        (Some(100), true)
    );
}

#[test]
fn responses_need_the_ephemeral_ports_in_the_other_direction() {
    let c = cfg();
    let request = tcp("203.0.113.5", "10.0.0.10", 49152, 443);
    assert_eq!(
        acl(&c, "eni-web", Direction::Ingress, &request),
        (Some(110), true)
    );
    // The response leaves to the client's port: 120 admits 32768-65535.
    assert_eq!(
        acl(&c, "eni-web", Direction::Egress, &request.reversed()),
        (Some(120), true)
    );
    // A NAT gateway or a load balancer uses 1024-65535: denied by `*`.
    let via_nat = tcp("203.0.113.5", "10.0.0.10", 1500, 443);
    assert_eq!(
        acl(&c, "eni-web", Direction::Egress, &via_nat.reversed()),
        (Some(32767), false)
    );
    // The security group is stateful: the same response needs no egress rule.
    assert_eq!(
        sg(&c, "eni-web", Direction::Ingress, &via_nat),
        Some(Tri::Yes)
    );
}

#[test]
fn ipv6_entries_match_ipv6_packets_only() {
    let c = cfg();
    let v6 = tcp("2001:db8::1", "2600:1f18:1:1::10", 40000, 80);
    assert_eq!(
        acl(&c, "eni-web", Direction::Ingress, &v6),
        (Some(105), true)
    );
    let v6s = tcp("2001:db8::1", "2600:1f18:1:1::10", 40000, 443);
    assert_eq!(
        acl(&c, "eni-web", Direction::Ingress, &v6s),
        (Some(32768), false)
    );
}

#[test]
fn traffic_within_a_subnet_is_not_checked_by_its_acl() {
    let c = cfg();
    let web = c.interface("eni-web").unwrap();
    let p = tcp("10.0.0.40", "10.0.0.10", 40000, 22);
    assert_eq!(
        acl_check(&c, web, Direction::Ingress, &p),
        AclCheck::SameSubnet
    );
}

#[test]
fn free_rule_numbers_fall_below_the_deny_that_matched() {
    let c = cfg();
    let web = c.acl_of(c.interface("eni-web").unwrap()).unwrap();
    let db = c.acl_of(c.interface("eni-db").unwrap()).unwrap();
    let none = BTreeSet::new();
    // Below `*` in the web ACL's outbound entries (100, 110, 120): 130.
    assert_eq!(
        free_rule_numbers(&c, web, Direction::Egress, 32767, 1, &none),
        Some(vec![130])
    );
    assert_eq!(
        free_rule_numbers(&c, web, Direction::Egress, 32767, 2, &none),
        Some(vec![130, 140])
    );
    // Below 90 in the database ACL, with nothing before it: 10.
    assert_eq!(
        free_rule_numbers(&c, db, Direction::Ingress, 90, 1, &none),
        Some(vec![10])
    );
    // Below 110 in the web ACL: 106 (no multiple of ten is free after 105).
    assert_eq!(
        free_rule_numbers(&c, web, Direction::Ingress, 110, 1, &none),
        Some(vec![106])
    );
    // Numbers another fix proposed are not proposed again.
    assert_eq!(
        free_rule_numbers(&c, web, Direction::Egress, 32767, 1, &BTreeSet::from([130])),
        Some(vec![140])
    );
}

#[test]
fn an_unsaved_acl_or_group_leaves_the_answer_open() {
    let only_groups = load_str(
        "x.json",
        &CONFIG[..CONFIG.find("{\"NetworkAcls\"").unwrap()],
    )
    .unwrap();
    let web = only_groups.interface("eni-web").unwrap();
    let p = tcp("203.0.113.5", "10.0.0.10", 40000, 22);
    assert_eq!(
        acl_check(&only_groups, web, Direction::Ingress, &p),
        AclCheck::NotGiven
    );
    let mut missing = cfg();
    missing.interfaces[web as usize]
        .group_ids
        .push("sg-elsewhere".into());
    missing.build_index();
    let r = security_groups(&missing, web, Direction::Ingress, &p);
    assert_eq!(r.allowed, Some(Tri::Maybe));
    assert_eq!(r.missing, vec!["sg-elsewhere".to_string()]);
}
