//! Reading what the AWS CLI prints: pages, regions, arrays, the newer rules
//! document, prefix lists, and clear errors for anything else.

use std::path::Path;

use super::*;
use crate::vpc::config::{Protocol, SgPeer};

const PAGE1: &str = r#"{"SecurityGroups": [{"GroupId": "sg-1", "GroupName": "a", "VpcId": "vpc-1",
  "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
     "IpRanges": [{"CidrIp": "10.0.0.5/24", "Description": "admins"}, {"CidrIp": "192.0.2.0/24"}],
     "UserIdGroupPairs": [{"GroupId": "sg-2", "UserId": "123456789012"}]}],
  "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]}],
  "NextToken": "eyJ"}"#;
const PAGE2: &str = r#"{"SecurityGroups": [{"GroupId": "sg-2", "IpPermissions": [{"IpProtocol": "58", "FromPort": -1, "ToPort": -1, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}]},
  {"GroupId": "sg-1", "GroupName": "a page again"}]}"#;

#[test]
fn pages_and_regions_back_to_back_make_one_configuration() {
    let c = load_str("sgs.json", &format!("{PAGE1}\n{PAGE2}\n")).unwrap();
    assert_eq!(c.groups.len(), 2, "sg-1 read once");
    assert_eq!(
        c.groups[0].name.as_deref(),
        Some("a"),
        "the first copy kept"
    );
    // One permission with three peers is three rules, plus the egress one.
    let g1: Vec<_> = c.groups[0]
        .rules
        .iter()
        .map(|&r| &c.sg_rules[r as usize])
        .collect();
    assert_eq!(g1.len(), 4);
    assert_eq!(
        g1[0].peer,
        SgPeer::Cidr("10.0.0.0/24".parse().unwrap()),
        "host bits cleared"
    );
    assert_eq!(g1[0].description.as_deref(), Some("admins"));
    assert_eq!(g1[2].peer, SgPeer::Group("sg-2".into()));
    assert_eq!((g1[3].protocol, g1[3].from_port), (Protocol::All, None));
    let g2 = &c.sg_rules[c.groups[1].rules[0] as usize];
    assert_eq!(
        (g2.protocol, g2.from_port),
        (Protocol::Number(58), Some(-1))
    );
    assert_eq!(c.files[0].kinds, vec!["security-groups"]);
    // The same documents as one array (`jq -s`) read the same.
    let a = load_str("all.json", &format!("[{PAGE1}, {PAGE2}]")).unwrap();
    assert_eq!(a.sg_rules.len(), c.sg_rules.len());
}

#[test]
fn security_group_rules_with_ids_replace_the_permissions() {
    let rules = r#"{"SecurityGroupRules": [
      {"SecurityGroupRuleId": "sgr-1", "GroupId": "sg-1", "GroupOwnerId": "1", "IsEgress": false, "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIpv4": "10.0.0.0/24"},
      {"SecurityGroupRuleId": "sgr-2", "GroupId": "sg-1", "IsEgress": true, "IpProtocol": "-1", "FromPort": -1, "ToPort": -1, "CidrIpv4": "0.0.0.0/0"},
      {"SecurityGroupRuleId": "sgr-3", "GroupId": "sg-9", "IsEgress": false, "IpProtocol": "udp", "FromPort": 53, "ToPort": 53, "ReferencedGroupInfo": {"GroupId": "sg-1", "UserId": "1"}},
      {"SecurityGroupRuleId": "sgr-4", "GroupId": "sg-9", "IsEgress": false, "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "PrefixListId": "pl-0abc"}]}"#;
    let c = load_str("x.json", &format!("{PAGE1}{rules}")).unwrap();
    let ids: Vec<_> = c
        .sg_rules
        .iter()
        .map(|r| r.rule_id.as_deref().unwrap())
        .collect();
    assert_eq!(ids, ["sgr-1", "sgr-2", "sgr-3", "sgr-4"]);
    let sg9 = c.group("sg-9").expect("a group known only from its rules");
    assert_eq!(c.groups[sg9 as usize].rules.len(), 2);
    assert_eq!(c.sg_rules[3].peer, SgPeer::PrefixList("pl-0abc".into()));
    assert_eq!(c.groups[0].name.as_deref(), Some("a"));
}

#[test]
fn prefix_lists_from_either_command() {
    let c = load_str(
        "pls.json",
        r#"{"PrefixLists": [{"PrefixListId": "pl-63a5400a", "PrefixListName": "com.amazonaws.us-east-1.s3", "Cidrs": ["54.231.0.0/17", "52.216.0.0/15"]},
                             {"PrefixListId": "pl-0nocidrs", "PrefixListName": "mine"}]}"#,
    )
    .unwrap();
    assert_eq!(c.prefix_lists["pl-63a5400a"].len(), 2);
    assert!(
        !c.prefix_lists.contains_key("pl-0nocidrs"),
        "managed lists without entries say nothing"
    );
    let e = r#"{"Entries": [{"Cidr": "203.0.113.0/24", "Description": "office"}]}"#;
    let c = load_str("cfg/pl-0123abcd.json", e).unwrap();
    assert_eq!(
        c.prefix_lists["pl-0123abcd"],
        vec!["203.0.113.0/24".parse().unwrap()]
    );
    let err = load_str("entries.json", e).unwrap_err().to_string();
    assert!(err.contains("entries.json") && err.contains("pl-"), "{err}");
}

#[test]
fn anything_else_is_an_error_naming_the_file() {
    let err = load_str(
        "cfg/instances.json",
        r#"{"Reservations": [], "NextToken": null}"#,
    )
    .unwrap_err()
    .to_string();
    assert!(err.starts_with("cfg/instances.json: not a saved VPC configuration (top-level keys: Reservations, NextToken)"), "{err}");
    assert!(err.contains("describe-security-groups"), "{err}");
    for (text, what) in [
        ("", "empty"),
        ("{\"SecurityGroups\": [", "not JSON"),
        ("[1]", "not a JSON object"),
        (
            r#"{"Subnets": [{"SubnetId": "s", "CidrBlock": "10.0.0.0/33"}]}"#,
            "`10.0.0.0/33` is not a network",
        ),
        (
            r#"{"SecurityGroups": [{"GroupId": "g", "IpPermissions": [{"IpProtocol": "tcpp"}]}]}"#,
            "`tcpp` is not a protocol",
        ),
        (r#"{"NetworkAcls": [{"Entries": []}]}"#, "unexpected shape"),
    ] {
        let err = load_str("f.json", text).unwrap_err().to_string();
        assert!(
            err.starts_with("f.json: ") && err.contains(what),
            "{text:?}: {err}"
        );
    }
}

#[test]
fn folders_are_read_in_name_order_without_hidden_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("b.json"), PAGE2).unwrap();
    std::fs::write(dir.path().join("a.json"), PAGE1).unwrap();
    std::fs::write(dir.path().join(".DS_Store"), "junk").unwrap();
    let c = load(&[dir.path().to_path_buf()]).unwrap();
    let names: Vec<_> = c
        .files
        .iter()
        .map(|f| f.path.file_name().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["a.json", "b.json"]);
    assert_eq!(c.groups[0].id, "sg-1");
    let empty = tempfile::tempdir().unwrap();
    let err = load(&[empty.path().to_path_buf()]).unwrap_err();
    assert!(matches!(err, ConfigError::Empty(_)), "{err}");
    let err = load(&[Path::new("/no/such/cfg").to_path_buf()])
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("/no/such/cfg: "), "{err}");
}

#[test]
fn subnets_without_an_association_use_their_vpcs_default_acl() {
    let c = load_str(
        "x.json",
        r#"{"NetworkInterfaces": [{"NetworkInterfaceId": "eni-1", "SubnetId": "subnet-new", "VpcId": "vpc-1", "PrivateIpAddress": "10.0.5.5"},
                                  {"NetworkInterfaceId": "eni-2", "SubnetId": "subnet-a", "VpcId": "vpc-1", "PrivateIpAddress": "10.0.1.5"},
                                  {"NetworkInterfaceId": "eni-3", "SubnetId": "subnet-x", "VpcId": "vpc-2", "PrivateIpAddress": "10.0.1.5"}]}
           {"NetworkAcls": [{"NetworkAclId": "acl-custom", "VpcId": "vpc-1", "IsDefault": false, "Associations": [{"SubnetId": "subnet-a"}], "Entries": []},
                            {"NetworkAclId": "acl-default", "VpcId": "vpc-1", "IsDefault": true, "Associations": [], "Entries": []}]}"#,
    )
    .unwrap();
    let acl = |eni: &str| {
        c.acl_of(c.interface(eni).unwrap())
            .map(|a| c.acls[a as usize].id.as_str())
    };
    assert_eq!(acl("eni-1"), Some("acl-default"));
    assert_eq!(acl("eni-2"), Some("acl-custom"));
    assert_eq!(acl("eni-3"), None, "another VPC's ACLs were not saved");
    // One address in two VPCs: the asking interface's VPC first.
    let a = "10.0.1.5".parse().unwrap();
    assert_eq!(c.interfaces_at(a).len(), 2);
    assert_eq!(c.interface_at(a, Some("vpc-2")), c.interface("eni-3"));
}

/// Ids reach the `aws` commands `explain` prints and every table: one that
/// could end a shell word or hold an escape sequence is refused, named with
/// its control characters escaped.
#[test]
fn ids_that_are_not_aws_ids_are_refused() {
    for bad in [
        r#"sg-1;touch /tmp/x;#"#,
        r#"sg-1 $(id)"#,
        r#"sg-1'"#,
        r#"subnet-\u001b[2J"#,
        "",
    ] {
        let json = format!(r#"{{"SecurityGroups": [{{"GroupId": "{bad}"}}]}}"#);
        let e = load_str("sgs.json", &json).unwrap_err().to_string();
        assert!(e.contains("is not an AWS id"), "{bad}: {e}");
        assert!(!e.contains('\u{1b}'), "{e}");
    }
    let json = r#"{"Subnets": [{"SubnetId": "subnet-0ab", "VpcId": "vpc-1;x"}]}"#;
    assert!(load_str("subnets.json", json).is_err());
    // Descriptions are free text: kept, with control characters escaped.
    let json =
        r#"{"NetworkInterfaces": [{"NetworkInterfaceId": "eni-1", "Description": "lb\u001b[2J"}]}"#;
    let c = load_str("enis.json", json).unwrap();
    assert_eq!(c.interfaces[0].description.as_deref(), Some("lb\\u{1b}[2J"));
}

/// A page of `describe-security-group-rules` (with a `NextToken`) holds some
/// of a group's rules: they do not replace the group's own, complete
/// description (they lend it their ids); without that description and
/// without the last page, the configuration is refused; with the last page,
/// the pages together are the rules.
#[test]
fn a_page_of_rules_does_not_replace_a_group() {
    let page = r#"{"SecurityGroupRules": [
      {"SecurityGroupRuleId": "sgr-1", "GroupId": "sg-1", "IsEgress": false, "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIpv4": "10.0.0.0/24"}],
      "NextToken": "eyJ2"}"#;
    let last = r#"{"SecurityGroupRules": [
      {"SecurityGroupRuleId": "sgr-2", "GroupId": "sg-1", "IsEgress": true, "IpProtocol": "-1", "FromPort": -1, "ToPort": -1, "CidrIpv4": "0.0.0.0/0"}]}"#;
    let c = load_str("x.json", &format!("{PAGE1}{page}")).unwrap();
    let g1: Vec<_> = c.groups[c.group("sg-1").unwrap() as usize]
        .rules
        .iter()
        .map(|&r| &c.sg_rules[r as usize])
        .collect();
    assert_eq!(g1.len(), 4, "the group's own four rules");
    assert_eq!(g1[0].rule_id.as_deref(), Some("sgr-1"));
    assert_eq!(g1[0].description.as_deref(), Some("admins"));
    assert!(g1[1..].iter().all(|r| r.rule_id.is_none()));

    let err = load_str("rules.json", page).unwrap_err().to_string();
    assert!(
        err.starts_with("rules.json: holds a page of describe-security-group-rules (it has a NextToken) but not the last: rules of sg-1"),
        "{err}"
    );

    let c = load_str("rules.json", &format!("{page}{last}")).unwrap();
    let ids: Vec<_> = c
        .sg_rules
        .iter()
        .map(|r| r.rule_id.as_deref().unwrap())
        .collect();
    assert_eq!(ids, ["sgr-1", "sgr-2"]);
}

#[test]
fn byte_order_marks_utf16_and_null_lists_are_read() {
    let json = r#"{"NetworkInterfaces": [{"NetworkInterfaceId": "eni-1", "SubnetId": "subnet-1",
        "PrivateIpAddress": "10.0.0.5", "Groups": null, "Ipv6Addresses": null, "Attachment": null}],
        "NextToken": null}"#;
    let dir = tempfile::tempdir().unwrap();
    let mut bom = vec![0xef, 0xbb, 0xbf];
    bom.extend_from_slice(json.as_bytes());
    let mut le = vec![0xff, 0xfe];
    let mut be = vec![0xfe, 0xff];
    for u in json.encode_utf16() {
        le.extend_from_slice(&u.to_le_bytes());
        be.extend_from_slice(&u.to_be_bytes());
    }
    for (name, bytes) in [("bom.json", bom), ("le.json", le), ("be.json", be)] {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let c = load(&[p]).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(c.interfaces.len(), 1, "{name}");
    }
    // A null list is no list, and a null in a list is no item.
    let c = load_str(
        "n.json",
        r#"{"Subnets": null} {"SecurityGroups": [null, {"GroupId": "sg-1", "IpPermissions": [null]}]}"#,
    )
    .unwrap();
    assert_eq!((c.subnets.len(), c.groups.len()), (0, 1));
    let p = dir.path().join("odd.json");
    std::fs::write(&p, [0xff, 0xfe, b'{']).unwrap();
    let err = load(&[p]).unwrap_err().to_string();
    assert!(err.contains("UTF-16"), "{err}");
}

#[test]
fn errors_name_the_item_they_are_in() {
    for (text, want) in [
        (
            r#"{"Subnets": [{"SubnetId": "subnet-a", "CidrBlock": "10.0.0.0/24"},
                {"SubnetId": "subnet-b", "CidrBlock": "10.0.0.0/33"}]}"#,
            "f.json: Subnets[1] (subnet-b): `10.0.0.0/33` is not a network",
        ),
        (
            r#"{"SecurityGroups": [{"GroupId": "sg-9", "IpPermissions": [{"IpProtocol": "tcpp"}]}]}"#,
            "f.json: SecurityGroups[0] (sg-9): `tcpp` is not a protocol",
        ),
        (
            r#"{"NetworkAcls": [{"NetworkAclId": "acl-1", "Entries": []}, {"Entries": []}]}"#,
            "f.json: NetworkAcls[1]: unexpected shape: missing field `NetworkAclId`",
        ),
        (
            r#"{"Subnets": {"SubnetId": "s"}}"#,
            "f.json: `Subnets` is not a list",
        ),
    ] {
        let err = load_str("f.json", text).unwrap_err().to_string();
        assert!(err.starts_with(want), "{text}: {err}");
    }
}
