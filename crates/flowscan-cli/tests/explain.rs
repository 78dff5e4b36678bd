//! `explain`, `rules` and `subnets` over a planted VPC: the configuration as
//! the AWS CLI prints it, written to a temporary folder, and logs in version 5
//! (with `flow-direction` and TCP flags) and in the default version 2 format
//! (without them). Every planted cause is found with its layer, resource and
//! rule number; scanning gets no fix; the stale rules are listed; the
//! near-full subnet is flagged.

mod planted;
mod util;

use std::path::{Path, PathBuf};

use planted::*;
use serde_json::{json, Value};
use util::*;

fn run_json(cmd: &str, logs: &Path, cfg: &[PathBuf], extra: &[&str]) -> Value {
    let logs = logs.to_string_lossy().into_owned();
    let cfg: Vec<String> = cfg
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let mut args = vec![cmd, "--format", "json", "-q", &logs];
    args.extend_from_slice(extra);
    args.push("--aws-config");
    args.extend(cfg.iter().map(String::as_str));
    let (out, _) = ok(&args, 0);
    serde_json::from_str(&out).expect("JSON")
}

fn findings(v: &Value) -> Vec<Value> {
    v["findings"].as_array().unwrap().clone()
}

/// The finding of an interface for a service port and direction.
fn find<'a>(f: &'a [Value], eni: &str, dir: &str, port: u64) -> &'a Value {
    let hits: Vec<&Value> = f
        .iter()
        .filter(|x| x["interface_id"] == eni && x["direction"] == dir && x["port"] == port)
        .collect();
    assert_eq!(hits.len(), 1, "one finding for {eni} {dir} {port}: {f:#?}");
    hits[0]
}

/// Checks every planted cause with its layer, resource, rule number and fix.
fn check_all_causes(f: &[Value]) {
    // (a) responses from port 443 denied leaving the web subnet by the `*` rule.
    let a = find(f, WEB, "egress", 443);
    assert_eq!(
        (a["layer"].as_str(), a["resource_id"].as_str()),
        (Some("network-acl"), Some("acl-0web"))
    );
    assert_eq!(
        (a["rule_number"].as_u64(), a["return_path"].as_bool()),
        (Some(32767), Some(true))
    );
    assert_eq!(a["records"], 30);
    assert_eq!(a["protocol"], "tcp");
    assert_eq!(
        a["fix"],
        "aws ec2 create-network-acl-entry --network-acl-id acl-0web --rule-number 110 --protocol 6 --port-range From=1024,To=65535 --egress --cidr-block 0.0.0.0/0 --rule-action allow"
    );
    // (c) the missing egress rule, exactly as an operator would type it.
    let c = find(f, APP1, "egress", 5432);
    assert_eq!(
        (c["layer"].as_str(), c["resource_id"].as_str()),
        (Some("security-group"), Some("sg-app"))
    );
    assert_eq!(
        (c["return_path"].as_bool(), c["rule_number"].as_u64()),
        (Some(false), None)
    );
    assert_eq!(c["peer"], "10.0.2.15");
    assert_eq!(c["instance_id"], "i-0app1");
    assert_eq!(
        c["fix"],
        "aws ec2 authorize-security-group-egress --group-id sg-app --ip-permissions 'IpProtocol=tcp,FromPort=5432,ToPort=5432,IpRanges=[{CidrIp=10.0.2.15/32}]'"
    );
    // (f) SSH the security group allows and rule 90 denies: a rule below 90.
    let s = find(f, APP1, "ingress", 22);
    assert_eq!(
        (s["layer"].as_str(), s["resource_id"].as_str()),
        (Some("network-acl"), Some("acl-0app"))
    );
    assert_eq!(
        (s["rule_number"].as_u64(), s["return_path"].as_bool()),
        (Some(90), Some(false))
    );
    assert!(
        s["summary"]
            .as_str()
            .unwrap()
            .contains("security groups allow it"),
        "{s}"
    );
    assert_eq!(
        s["fix"],
        "aws ec2 create-network-acl-entry --network-acl-id acl-0app --rule-number 10 --protocol 6 --port-range From=22,To=22 --ingress --cidr-block 10.0.4.5/32 --rule-action allow"
    );
    // (g) the worker and the database that admits only the app group.
    let g = find(f, DB, "ingress", 5432);
    assert_eq!(
        (g["layer"].as_str(), g["resource_id"].as_str()),
        (Some("security-group"), Some("sg-db"))
    );
    assert!(g["rule"].as_str().unwrap().contains("from sg-app"), "{g}");
    assert_eq!(
        g["fix"],
        "aws ec2 authorize-security-group-ingress --group-id sg-db --ip-permissions 'IpProtocol=tcp,FromPort=5432,ToPort=5432,UserIdGroupPairs=[{GroupId=sg-worker}]'"
    );
    // (h) scanning: blocked as intended, no fix, at either layer.
    for port in [22, 3389, 23] {
        let x = find(f, WEB, "ingress", port);
        assert_eq!(
            (x["layer"].as_str(), x["rule_number"].as_u64()),
            (Some("network-acl"), Some(32767))
        );
        assert_eq!(
            (x["intended"].as_bool(), x["fix"].is_null()),
            (Some(true), true),
            "{x}"
        );
    }
    // Backscatter: one finding for all source ports, to the ports it hit.
    let x = find(f, WEB, "ingress", 50001);
    assert_eq!(
        (x["layer"].as_str(), x["rule_number"].as_u64()),
        (Some("network-acl"), Some(32767))
    );
    assert_eq!(
        (
            x["intended"].as_bool(),
            x["return_path"].as_bool(),
            x["fix"].is_null()
        ),
        (Some(true), Some(false), true),
        "{x}"
    );
    assert_eq!(
        (x["records"].as_u64(), x["peers"].as_u64()),
        (Some(10), Some(10))
    );
    let b = find(f, BASTION, "ingress", 22);
    assert_eq!(
        (b["layer"].as_str(), b["resource_id"].as_str()),
        (Some("security-group"), Some("sg-bastion"))
    );
    assert_eq!(
        (b["intended"].as_bool(), b["fix"].is_null()),
        (Some(true), true)
    );
    assert_eq!(b["peers"], 40);
    // Nothing else: the accepted traffic is not a finding, and nothing is
    // blamed on a configuration that allows it.
    assert_eq!(f.len(), 9, "{f:#?}");
    assert!(f
        .iter()
        .all(|x| x["layer"] != "allowed-now" && x["layer"] != "unknown"));
}

#[test]
fn explain_finds_every_planted_cause_in_v5_logs() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(&dir.path().join("cfg"), None);
    let logs = write_logs(dir.path(), true);
    let v = run_json("explain", &logs, &[cfg], &[]);
    check_all_causes(&findings(&v));
    assert_eq!(v["rejects"], 30 + 12 * 3 + 80 + 10);
    assert_eq!(v["notes"].as_array().unwrap().len(), 0);
}

#[test]
fn explain_finds_the_same_in_v2_logs_without_direction_or_flags() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(&dir.path().join("cfg"), None);
    let v2 = run_json(
        "explain",
        &write_logs(dir.path(), false),
        std::slice::from_ref(&cfg),
        &[],
    );
    check_all_causes(&findings(&v2));
    // The same answer as from version 5, but for the instance ids, which both
    // take from the configuration.
    let v5 = run_json("explain", &write_logs(dir.path(), true), &[cfg], &[]);
    assert_eq!(findings(&v2), findings(&v5));
}

#[test]
fn explain_is_the_same_at_any_thread_count_and_block_split() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(&dir.path().join("cfg"), None);
    let logs = write_logs(dir.path(), false);
    let one = run_json(
        "explain",
        &logs,
        std::slice::from_ref(&cfg),
        &["--threads", "1"],
    );
    let split = ["--threads", "3", "--split-min", "1", "--block-size", "4096"];
    let many = run_json("explain", &logs, &[cfg], &split);
    assert_eq!(findings(&one), findings(&many));
}

#[test]
fn without_network_acls_explain_says_it_could_not_check_them() {
    let dir = tempfile::tempdir().unwrap();
    let only = ["sgs.json", "enis.json", "subnets.json"];
    let cfg = write_config(&dir.path().join("cfg"), Some(&only));
    let v = run_json("explain", &write_logs(dir.path(), true), &[cfg], &[]);
    let notes = v["notes"].to_string();
    assert!(
        notes.contains("network ACLs could not be checked"),
        "{notes}"
    );
    let f = findings(&v);
    // Never a network ACL, never "allowed now": less specific, never wrong.
    assert!(
        f.iter()
            .all(|x| x["layer"] != "network-acl" && x["layer"] != "allowed-now"),
        "{f:#?}"
    );
    // The security group causes stand, with a caveat.
    let c = find(&f, APP1, "egress", 5432);
    assert_eq!(c["layer"], "security-group");
    assert!(c["note"]
        .as_str()
        .unwrap()
        .contains("network ACLs were not saved"));
    assert_eq!(find(&f, DB, "ingress", 5432)["layer"], "security-group");
    // What only an ACL can explain is left open, saying so.
    for (eni, dir, port) in [(WEB, "egress", 443), (APP1, "ingress", 22)] {
        let x = find(&f, eni, dir, port);
        assert_eq!(x["layer"], "unknown", "{x}");
        assert!(
            x["summary"]
                .as_str()
                .unwrap()
                .contains("could not be checked"),
            "{x}"
        );
        assert!(x["fix"].is_null());
    }
}

#[test]
fn rules_lists_both_stale_rules_as_unused_and_counts_the_used_ones() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(&dir.path().join("cfg"), None);
    let v = run_json("rules", &write_logs(dir.path(), true), &[cfg], &[]);
    let rules = v["rules"].as_array().unwrap();
    let sg_rule = |g: &str, dir: &str, port: u64| -> &Value {
        rules
            .iter()
            .find(|r| r["group_id"] == g && r["direction"] == dir && r["from_port"] == port)
            .unwrap_or_else(|| panic!("{g} {dir} {port}"))
    };
    for (g, port, peer) in [
        ("sg-app", 9000, "10.0.9.0/24"),
        ("sg-db", 3306, "10.0.0.0/16"),
    ] {
        let r = sg_rule(g, "ingress", port);
        assert_eq!(
            (r["unused"].as_bool(), r["records"].as_u64()),
            (Some(true), Some(0)),
            "{r}"
        );
        assert_eq!(r["cidr"], peer);
        assert_eq!(r["protocol"], "tcp");
    }
    // app2's reads: both records of each connection on the database count
    // for the rule that admitted it, from one peer.
    let db = sg_rule("sg-db", "ingress", 5432);
    assert_eq!(
        (db["records"].as_u64(), db["peers"].as_u64()),
        (Some(60), Some(1))
    );
    assert_eq!(db["group"], "sg-app");
    assert_eq!(db["unused"], false);
    assert!(db["last_seen"].is_string());
    let web = sg_rule("sg-web", "ingress", 443);
    assert_eq!(
        (web["records"].as_u64(), web["peers"].as_u64()),
        (Some(30), Some(30))
    );
    // The ACL entry that let the SSH-denied packets' siblings through, and the
    // deny that stopped them.
    let acl_rule = |a: &str, dir: &str, n: u64| -> &Value {
        rules
            .iter()
            .find(|r| r["network_acl_id"] == a && r["direction"] == dir && r["rule_number"] == n)
            .unwrap()
    };
    assert_eq!(acl_rule("acl-0app", "ingress", 90)["records"], 12);
    assert_eq!(acl_rule("acl-0app", "ingress", 90)["action"], "deny");
    assert_eq!(acl_rule("acl-0web", "egress", 100)["records"], 30);
    assert!(v["period"]["from"].is_string());
    assert!(v["unused"].as_u64().unwrap() >= 2);
}

#[test]
fn subnets_flags_the_near_full_subnet_and_counts_reclaimable_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(&dir.path().join("cfg"), None);
    let v = run_json("subnets", &write_logs(dir.path(), true), &[cfg], &[]);
    let s = v["subnets"].as_array().unwrap();
    assert_eq!(s.len(), 5);
    let work = &s[0];
    assert_eq!(work["subnet_id"], "subnet-work", "fullest first");
    assert_eq!(
        (work["usable"].as_u64(), work["available"].as_u64()),
        (Some(11), Some(1))
    );
    assert_eq!(work["used_percent"], 90.9);
    assert_eq!(work["flagged"], true);
    // 10.0.3.7 is active; 10.0.3.8 is allocated and never seen.
    assert_eq!(
        (
            work["active_addresses"].as_u64(),
            work["allocated"].as_u64(),
            work["reclaimable"].as_u64()
        ),
        (Some(1), Some(2), Some(1))
    );
    assert!(s[1..].iter().all(|x| x["flagged"] == false));
    assert_eq!(v["flagged"], 1);
    // A threshold above it clears the flag.
    let v = run_json(
        "subnets",
        &write_logs(dir.path(), true),
        &[dir.path().join("cfg")],
        &["--warn-at", "95"],
    );
    assert_eq!(v["flagged"], 0);
}

/// Two saved default VPCs share 172.31.0.0/20, and an address: an active
/// address is counted in the subnet of its record's interface's VPC, and an
/// address no interface can place is counted in neither.
#[test]
fn subnets_of_overlapping_vpcs_count_the_interfaces_own() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("cfg");
    std::fs::create_dir(&cfg).unwrap();
    let subnets = json!({"Subnets": [
        {"SubnetId": "subnet-1", "VpcId": "vpc-1", "CidrBlock": "172.31.0.0/20", "AvailableIpAddressCount": 4000},
        {"SubnetId": "subnet-2", "VpcId": "vpc-2", "CidrBlock": "172.31.0.0/20", "AvailableIpAddressCount": 4000},
    ]});
    let enis = json!({"NetworkInterfaces": [
        {"NetworkInterfaceId": "eni-0a", "SubnetId": "subnet-1", "VpcId": "vpc-1", "PrivateIpAddress": "172.31.0.10"},
        {"NetworkInterfaceId": "eni-0b", "SubnetId": "subnet-2", "VpcId": "vpc-2", "PrivateIpAddress": "172.31.0.10"},
    ]});
    std::fs::write(cfg.join("subnets.json"), subnets.to_string()).unwrap();
    std::fs::write(cfg.join("enis.json"), enis.to_string()).unwrap();
    let logs = dir.path().join("logs.log");
    let mut text = String::from("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n");
    for (eni, src) in [
        ("eni-0b", "172.31.0.10"),
        ("eni-0b", "172.31.0.11"),
        ("eni-0zz", "172.31.0.12"),
    ] {
        text += &format!("2 123456789012 {eni} {src} 203.0.113.9 40000 443 6 1 60 1795514400 1795514460 ACCEPT OK\n");
    }
    std::fs::write(&logs, text).unwrap();
    let v = run_json("subnets", &logs, &[cfg], &[]);
    let active = |id: &str| {
        v["subnets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["subnet_id"] == id)
            .map(|s| {
                (
                    s["active_addresses"].as_u64().unwrap(),
                    s["reclaimable"].as_u64().unwrap(),
                )
            })
            .unwrap()
    };
    assert_eq!(active("subnet-1"), (0, 1), "{v}");
    assert_eq!(active("subnet-2"), (2, 0), "{v}");
}

#[test]
fn configuration_is_recognised_by_content_in_any_files() {
    let dir = tempfile::tempdir().unwrap();
    let logs = write_logs(dir.path(), true);
    // Everything in one file, documents back to back (as `>>` makes them),
    // the security groups split over two pages.
    let mut all = String::new();
    for (name, doc) in documents() {
        if name == "sgs.json" {
            let groups = doc["SecurityGroups"].as_array().unwrap();
            all += &json!({"SecurityGroups": groups[..3], "NextToken": "abc"}).to_string();
            all += "\n";
            all += &json!({"SecurityGroups": groups[3..]}).to_string();
        } else {
            all += &serde_json::to_string_pretty(&doc).unwrap();
        }
        all += "\n";
    }
    let one = dir.path().join("everything.txt");
    std::fs::write(&one, all).unwrap();
    let v = run_json("explain", &logs, std::slice::from_ref(&one), &[]);
    check_all_causes(&findings(&v));
    // An unrecognised file is an error that names it.
    let odd = dir.path().join("instances.json");
    std::fs::write(&odd, r#"{"Reservations": []}"#).unwrap();
    let (o, l) = (odd.to_string_lossy(), logs.to_string_lossy());
    let (_, err) = ok(
        &[
            "explain",
            "-q",
            &l,
            "--aws-config",
            &one.to_string_lossy(),
            &o,
        ],
        1,
    );
    assert!(
        err.contains("instances.json") && err.contains("Reservations"),
        "{err}"
    );
    assert!(err.contains("--aws-config"), "{err}");
}

#[test]
fn tables_show_the_fixes_and_the_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(&dir.path().join("cfg"), None);
    let logs = write_logs(dir.path(), true);
    let (l, c) = (logs.to_string_lossy(), cfg.to_string_lossy());
    let (out, _) = ok(&["explain", "-q", &l, "--aws-config", &c], 0);
    assert!(
        out.contains("aws ec2 authorize-security-group-egress --group-id sg-app"),
        "{out}"
    );
    assert!(
        out.contains("network-acl acl-0web rule * (return path)"),
        "{out}"
    );
    assert!(out.contains("Blocked as intended"), "{out}");
    let (out, _) = ok(&["rules", "-q", &l, "--aws-config", &c], 0);
    assert!(
        out.contains("Unused:") && out.contains("sg-app ingress tcp 9000 from 10.0.9.0/24"),
        "{out}"
    );
    let (out, _) = ok(&["subnets", "-q", &l, "--aws-config", &c], 0);
    assert!(
        out.contains("subnet-work") && out.contains("RUNNING OUT"),
        "{out}"
    );
}

#[test]
fn planted_causes_stand_out_of_a_generated_background() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(&dir.path().join("cfg"), None);
    // 30,000 generated records of interfaces the configuration does not hold,
    // then the planted ones in the same (default) format.
    let mut text = String::from_utf8(generated(30_000, 15)).unwrap();
    let planted = std::fs::read_to_string(write_logs(dir.path(), false)).unwrap();
    text.push_str(planted.split_once('\n').unwrap().1);
    let logs = dir.path().join("mixed.log");
    std::fs::write(&logs, text).unwrap();
    let v = run_json("explain", &logs, &[cfg], &[]);
    let (mine, other): (Vec<Value>, Vec<Value>) = findings(&v).into_iter().partition(|f| {
        [WEB, APP1, APP2, DB, WORK, BASTION].contains(&f["interface_id"].as_str().unwrap())
    });
    check_all_causes(&mine);
    assert!(!other.is_empty());
    assert!(
        other
            .iter()
            .all(|f| f["layer"] == "unknown-interface" && f["fix"].is_null()),
        "{other:#?}"
    );
}
