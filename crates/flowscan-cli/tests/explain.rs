//! `explain`, `rules` and `subnets` over a planted VPC: the configuration as
//! the AWS CLI prints it, written to a temporary folder, and logs in version 5
//! (with `flow-direction` and TCP flags) and in the default version 2 format
//! (without them). Every planted cause is found with its layer, resource and
//! rule number; scanning gets no fix; the stale rules are listed; the
//! near-full subnet is flagged.

mod util;

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use util::*;

const T: u64 = 1_795_514_400;
const ACCOUNT: &str = "123456789012";

fn perm(proto: &str, port: Option<u16>, peer: Value) -> Value {
    let mut p = json!({"IpProtocol": proto, "IpRanges": [], "Ipv6Ranges": [], "PrefixListIds": [], "UserIdGroupPairs": []});
    if let Some(port) = port {
        p["FromPort"] = json!(port);
        p["ToPort"] = json!(port);
    }
    let (key, v) = match peer["kind"].as_str().unwrap() {
        "cidr" => ("IpRanges", json!({"CidrIp": peer["v"]})),
        _ => (
            "UserIdGroupPairs",
            json!({"GroupId": peer["v"], "UserId": ACCOUNT}),
        ),
    };
    p[key].as_array_mut().unwrap().push(v);
    p
}

fn cidr(c: &str) -> Value {
    json!({"kind": "cidr", "v": c})
}

fn group(g: &str) -> Value {
    json!({"kind": "group", "v": g})
}

fn sg(id: &str, ingress: Vec<Value>, egress: Vec<Value>) -> Value {
    json!({"GroupId": id, "GroupName": id.trim_start_matches("sg-"), "VpcId": "vpc-0abc",
           "OwnerId": ACCOUNT, "Description": "planted", "IpPermissions": ingress,
           "IpPermissionsEgress": egress, "Tags": []})
}

/// `(rule, protocol, allow, egress, cidr, ports)`.
fn entry(
    rule: u16,
    proto: &str,
    allow: bool,
    egress: bool,
    cidr: &str,
    ports: Option<(u16, u16)>,
) -> Value {
    let mut e = json!({"RuleNumber": rule, "Protocol": proto,
                       "RuleAction": if allow { "allow" } else { "deny" },
                       "Egress": egress, "CidrBlock": cidr});
    if let Some((f, t)) = ports {
        e["PortRange"] = json!({"From": f, "To": t});
    }
    e
}

fn acl(id: &str, default: bool, subnets: &[&str], mut entries: Vec<Value>) -> Value {
    entries.push(entry(32767, "-1", false, false, "0.0.0.0/0", None));
    entries.push(entry(32767, "-1", false, true, "0.0.0.0/0", None));
    let assoc: Vec<Value> = subnets
        .iter()
        .enumerate()
        .map(|(i, s)| json!({"NetworkAclAssociationId": format!("aclassoc-{id}{i}"), "NetworkAclId": id, "SubnetId": s}))
        .collect();
    json!({"NetworkAclId": id, "VpcId": "vpc-0abc", "IsDefault": default, "OwnerId": ACCOUNT,
           "Associations": assoc, "Entries": entries, "Tags": []})
}

fn eni(id: &str, subnet: &str, ip: &str, groups: &[&str], instance: &str) -> Value {
    json!({"NetworkInterfaceId": id, "SubnetId": subnet, "VpcId": "vpc-0abc", "InterfaceType": "interface",
           "PrivateIpAddress": ip, "PrivateIpAddresses": [{"PrivateIpAddress": ip, "Primary": true}],
           "Ipv6Addresses": [], "Status": "in-use", "RequesterManaged": false,
           "Groups": groups.iter().map(|g| json!({"GroupId": g, "GroupName": g})).collect::<Vec<_>>(),
           "Attachment": {"InstanceId": instance, "Status": "attached"}})
}

fn subnet(id: &str, cidr: &str, available: u64) -> Value {
    json!({"SubnetId": id, "VpcId": "vpc-0abc", "CidrBlock": cidr, "AvailableIpAddressCount": available,
           "AvailabilityZone": "us-east-1a", "MapPublicIpOnLaunch": false, "Ipv6CidrBlockAssociationSet": []})
}

/// The planted VPC's four documents.
fn documents() -> [(&'static str, Value); 4] {
    let sgs = json!({"SecurityGroups": [
        sg("sg-web", vec![perm("tcp", Some(443), cidr("0.0.0.0/0"))], vec![perm("-1", None, cidr("0.0.0.0/0"))]),
        sg("sg-app", vec![
            perm("tcp", Some(8080), group("sg-web")),
            perm("tcp", Some(22), cidr("10.0.4.0/24")),
            // Stale: a network long gone.
            perm("tcp", Some(9000), cidr("10.0.9.0/24")),
        ], vec![perm("tcp", Some(443), cidr("0.0.0.0/0"))]),
        sg("sg-dbclient", vec![], vec![perm("tcp", Some(5432), cidr("10.0.2.0/24"))]),
        sg("sg-db", vec![
            perm("tcp", Some(5432), group("sg-app")),
            // Stale: MySQL, migrated away.
            perm("tcp", Some(3306), cidr("10.0.0.0/16")),
        ], vec![perm("-1", None, cidr("0.0.0.0/0"))]),
        sg("sg-worker", vec![], vec![perm("-1", None, cidr("0.0.0.0/0"))]),
        sg("sg-bastion", vec![perm("tcp", Some(22), cidr("203.0.113.0/24"))], vec![perm("-1", None, cidr("0.0.0.0/0"))]),
    ]});
    let enis = json!({"NetworkInterfaces": [
        eni("eni-0web0000000000001", "subnet-web", "10.0.0.10", &["sg-web"], "i-0web"),
        eni("eni-0app0000000000001", "subnet-app", "10.0.1.10", &["sg-app"], "i-0app1"),
        eni("eni-0app0000000000002", "subnet-app", "10.0.1.11", &["sg-app", "sg-dbclient"], "i-0app2"),
        eni("eni-0db00000000000001", "subnet-db", "10.0.2.15", &["sg-db"], "i-0db"),
        eni("eni-0wrk0000000000001", "subnet-work", "10.0.3.7", &["sg-worker"], "i-0wrk1"),
        eni("eni-0wrk0000000000002", "subnet-work", "10.0.3.8", &["sg-worker"], "i-0wrk2"),
        eni("eni-0bst0000000000001", "subnet-mgmt", "10.0.4.5", &["sg-bastion"], "i-0bst"),
    ]});
    let acls = json!({"NetworkAcls": [
        // No outbound ephemeral range: responses to the web's clients die here.
        acl("acl-0web", false, &["subnet-web"], vec![
            entry(100, "6", true, false, "0.0.0.0/0", Some((443, 443))),
            entry(110, "6", true, false, "10.0.0.0/16", Some((1024, 65535))),
            entry(100, "6", true, true, "10.0.1.0/24", Some((8080, 8080))),
        ]),
        // No SSH into the app subnet, whatever its security groups say.
        acl("acl-0app", false, &["subnet-app"], vec![
            entry(90, "6", false, false, "0.0.0.0/0", Some((22, 22))),
            entry(100, "-1", true, false, "10.0.0.0/16", None),
            entry(110, "6", true, false, "0.0.0.0/0", Some((1024, 65535))),
            entry(100, "-1", true, true, "0.0.0.0/0", None),
        ]),
        acl("acl-0db", false, &["subnet-db"], vec![
            entry(100, "-1", true, false, "10.0.0.0/16", None),
            entry(100, "-1", true, true, "10.0.0.0/16", None),
        ]),
        acl("acl-0dflt", true, &["subnet-work", "subnet-mgmt"], vec![
            entry(100, "-1", true, false, "0.0.0.0/0", None),
            entry(100, "-1", true, true, "0.0.0.0/0", None),
        ]),
    ]});
    let subnets = json!({"Subnets": [
        subnet("subnet-web", "10.0.0.0/24", 245),
        subnet("subnet-app", "10.0.1.0/24", 240),
        subnet("subnet-db", "10.0.2.0/24", 248),
        // 11 usable, 1 free: 90.9% used.
        subnet("subnet-work", "10.0.3.0/28", 1),
        subnet("subnet-mgmt", "10.0.4.0/24", 250),
    ]});
    [
        ("sgs.json", sgs),
        ("enis.json", enis),
        ("nacls.json", acls),
        ("subnets.json", subnets),
    ]
}

/// Writes the documents into `dir` (all of them, or those named).
fn write_config(dir: &Path, only: Option<&[&str]>) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    for (name, doc) in documents() {
        if only.is_none_or(|o| o.contains(&name)) {
            std::fs::write(dir.join(name), serde_json::to_string_pretty(&doc).unwrap()).unwrap();
        }
    }
    dir.to_path_buf()
}

/// One flow record as both formats see it.
struct Rec<'a> {
    eni: &'a str,
    src: String,
    dst: String,
    sport: u32,
    dport: u32,
    proto: u8,
    t: u64,
    action: &'a str,
    ingress: bool,
    flags: u8,
}

const V5: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id sublocation-type sublocation-id pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path";
const V2: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";

impl Rec<'_> {
    fn v2(&self) -> String {
        format!(
            "2 {ACCOUNT} {} {} {} {} {} {} 4 240 {} {} {} OK\n",
            self.eni,
            self.src,
            self.dst,
            self.sport,
            self.dport,
            self.proto,
            self.t,
            self.t + 30,
            self.action
        )
    }

    fn v5(&self) -> String {
        format!(
            "5 {ACCOUNT} {} {} {} {} {} {} 4 240 {} {} {} OK vpc-0abc - - {} IPv4 {} {} us-east-1 use1-az1 - - - - {} {}\n",
            self.eni, self.src, self.dst, self.sport, self.dport, self.proto, self.t, self.t + 30, self.action,
            self.flags, self.src, self.dst,
            if self.ingress { "ingress" } else { "egress" },
            if self.ingress { "-" } else { "1" }
        )
    }
}

const WEB: &str = "eni-0web0000000000001";
const APP1: &str = "eni-0app0000000000001";
const APP2: &str = "eni-0app0000000000002";
const DB: &str = "eni-0db00000000000001";
const WORK: &str = "eni-0wrk0000000000001";
const BASTION: &str = "eni-0bst0000000000001";

/// A TCP connection seen on one interface: the request and its response.
#[allow(clippy::too_many_arguments)]
fn conn<'a>(
    out: &mut Vec<Rec<'a>>,
    eni: &'a str,
    client: &str,
    server: &str,
    cport: u32,
    port: u32,
    t: u64,
    local_is_client: bool,
    actions: (&'a str, &'a str),
) {
    out.push(Rec {
        eni,
        src: client.into(),
        dst: server.into(),
        sport: cport,
        dport: port,
        proto: 6,
        t,
        action: actions.0,
        ingress: !local_is_client,
        flags: 2,
    });
    if actions.0 == "ACCEPT" || actions.1 == "ACCEPT" {
        out.push(Rec {
            eni,
            src: server.into(),
            dst: client.into(),
            sport: port,
            dport: cport,
            proto: 6,
            t: t + 1,
            action: actions.1,
            ingress: local_is_client,
            flags: 18,
        });
    }
}

/// Every planted situation, as records.
fn traffic() -> Vec<Rec<'static>> {
    let mut r = Vec::new();
    const OK: (&str, &str) = ("ACCEPT", "ACCEPT");
    for i in 0..30u32 {
        let t = T + 60 * u64::from(i);
        // (a) Internet clients of the web server: requests in, responses denied
        // by the web subnet's ACL (no outbound ephemeral range).
        conn(
            &mut r,
            WEB,
            &format!("198.51.{}.{}", 100 + i % 3, 10 + i),
            "10.0.0.10",
            49152 + i,
            443,
            t,
            false,
            ("ACCEPT", "REJECT"),
        );
        // (b) The web server calls the app.
        conn(
            &mut r,
            WEB,
            "10.0.0.10",
            "10.0.1.10",
            40000 + i,
            8080,
            t,
            true,
            OK,
        );
        conn(
            &mut r,
            APP1,
            "10.0.0.10",
            "10.0.1.10",
            40000 + i,
            8080,
            t,
            false,
            OK,
        );
        // (d) app2 reads the database; (e) app1 calls an API on the internet.
        conn(
            &mut r,
            APP2,
            "10.0.1.11",
            "10.0.2.15",
            41000 + i,
            5432,
            t,
            true,
            OK,
        );
        conn(
            &mut r,
            DB,
            "10.0.1.11",
            "10.0.2.15",
            41000 + i,
            5432,
            t,
            false,
            OK,
        );
        conn(
            &mut r,
            APP1,
            "10.0.1.10",
            "52.94.10.20",
            42000 + i,
            443,
            t,
            true,
            OK,
        );
        // The worker reaches the internet; the office reaches the bastion.
        conn(
            &mut r,
            WORK,
            "10.0.3.7",
            "52.94.10.21",
            43000 + i,
            443,
            t,
            true,
            OK,
        );
        conn(
            &mut r,
            BASTION,
            "203.0.113.20",
            "10.0.4.5",
            44000 + i,
            22,
            t,
            false,
            OK,
        );
    }
    for i in 0..12u32 {
        let t = T + 100 * u64::from(i) + 7;
        // (c) app1 cannot reach the database: sg-app has no egress for 5432.
        conn(
            &mut r,
            APP1,
            "10.0.1.10",
            "10.0.2.15",
            45000 + i,
            5432,
            t,
            true,
            ("REJECT", "-"),
        );
        // (f) SSH from the bastion to app1: sg-app allows it, acl-0app rule 90 denies it.
        conn(
            &mut r,
            BASTION,
            "10.0.4.5",
            "10.0.1.10",
            46000 + i,
            22,
            t,
            true,
            ("ACCEPT", "-"),
        );
        conn(
            &mut r,
            APP1,
            "10.0.4.5",
            "10.0.1.10",
            46000 + i,
            22,
            t,
            false,
            ("REJECT", "-"),
        );
        // (g) The worker connects to the database, which admits only sg-app.
        conn(
            &mut r,
            WORK,
            "10.0.3.7",
            "10.0.2.15",
            47000 + i,
            5432,
            t,
            true,
            ("ACCEPT", "-"),
        );
        conn(
            &mut r,
            DB,
            "10.0.3.7",
            "10.0.2.15",
            47000 + i,
            5432,
            t,
            false,
            ("REJECT", "-"),
        );
    }
    // (h) Scanners: the web subnet's ACL and the bastion's group stop them.
    for i in 0..40u32 {
        let t = T + 45 * u64::from(i) + 3;
        let scanner = format!("185.{}.{}.{}", 10 + i % 5, i, 200 - i);
        let port = [22, 3389, 23][(i % 3) as usize];
        conn(
            &mut r,
            WEB,
            &scanner,
            "10.0.0.10",
            50000 + i,
            port,
            t,
            false,
            ("REJECT", "-"),
        );
        conn(
            &mut r,
            BASTION,
            &scanner,
            "10.0.4.5",
            51000 + i,
            22,
            t,
            false,
            ("REJECT", "-"),
        );
    }
    // Backscatter: SYN-ACKs (v5) from internet servers to ports the web
    // server never used, answering floods forged with its address.
    for i in 0..10u32 {
        let t = T + 90 * u64::from(i) + 11;
        let src = format!("93.184.{i}.34");
        r.push(Rec {
            eni: WEB,
            src,
            dst: "10.0.0.10".into(),
            sport: [80, 443][(i % 2) as usize],
            dport: 50001 + 7 * i,
            proto: 6,
            t,
            action: "REJECT",
            ingress: true,
            flags: 18,
        });
    }
    r
}

fn write_logs(dir: &Path, v5: bool) -> PathBuf {
    let mut text = String::from(if v5 { V5 } else { V2 });
    text.push('\n');
    for r in traffic() {
        text.push_str(&if v5 { r.v5() } else { r.v2() });
    }
    let p = dir.join(if v5 { "v5.log" } else { "v2.log" });
    std::fs::write(&p, text).unwrap();
    p
}

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
