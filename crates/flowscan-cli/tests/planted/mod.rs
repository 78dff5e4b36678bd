//! A planted VPC for `explain`, `rules` and `subnets`: its configuration in
//! the shape the AWS CLI prints, and traffic in which each situation of
//! issue 15 happens (see `traffic`), written as version 5 logs (with
//! `flow-direction` and TCP flags) or version 2 logs (without).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

pub const T: u64 = 1_795_514_400;
pub const ACCOUNT: &str = "123456789012";

pub fn perm(proto: &str, port: Option<u16>, peer: Value) -> Value {
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

pub fn cidr(c: &str) -> Value {
    json!({"kind": "cidr", "v": c})
}

pub fn group(g: &str) -> Value {
    json!({"kind": "group", "v": g})
}

pub fn sg(id: &str, ingress: Vec<Value>, egress: Vec<Value>) -> Value {
    json!({"GroupId": id, "GroupName": id.trim_start_matches("sg-"), "VpcId": "vpc-0abc",
           "OwnerId": ACCOUNT, "Description": "planted", "IpPermissions": ingress,
           "IpPermissionsEgress": egress, "Tags": []})
}

/// `(rule, protocol, allow, egress, cidr, ports)`.
pub fn entry(
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

pub fn acl(id: &str, default: bool, subnets: &[&str], mut entries: Vec<Value>) -> Value {
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

pub fn eni(id: &str, subnet: &str, ip: &str, groups: &[&str], instance: &str) -> Value {
    json!({"NetworkInterfaceId": id, "SubnetId": subnet, "VpcId": "vpc-0abc", "InterfaceType": "interface",
           "PrivateIpAddress": ip, "PrivateIpAddresses": [{"PrivateIpAddress": ip, "Primary": true}],
           "Ipv6Addresses": [], "Status": "in-use", "RequesterManaged": false,
           "Groups": groups.iter().map(|g| json!({"GroupId": g, "GroupName": g})).collect::<Vec<_>>(),
           "Attachment": {"InstanceId": instance, "Status": "attached"}})
}

pub fn subnet(id: &str, cidr: &str, available: u64) -> Value {
    json!({"SubnetId": id, "VpcId": "vpc-0abc", "CidrBlock": cidr, "AvailableIpAddressCount": available,
           "AvailabilityZone": "us-east-1a", "MapPublicIpOnLaunch": false, "Ipv6CidrBlockAssociationSet": []})
}

/// The planted VPC's four documents.
pub fn documents() -> [(&'static str, Value); 4] {
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
pub fn write_config(dir: &Path, only: Option<&[&str]>) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    for (name, doc) in documents() {
        if only.is_none_or(|o| o.contains(&name)) {
            std::fs::write(dir.join(name), serde_json::to_string_pretty(&doc).unwrap()).unwrap();
        }
    }
    dir.to_path_buf()
}

/// One flow record as both formats see it.
pub struct Rec<'a> {
    pub eni: &'a str,
    pub src: String,
    pub dst: String,
    pub sport: u32,
    pub dport: u32,
    pub proto: u8,
    pub t: u64,
    pub action: &'a str,
    pub ingress: bool,
    pub flags: u8,
}

pub const V5: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id sublocation-type sublocation-id pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path";
pub const V2: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";

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

pub const WEB: &str = "eni-0web0000000000001";
pub const APP1: &str = "eni-0app0000000000001";
pub const APP2: &str = "eni-0app0000000000002";
pub const DB: &str = "eni-0db00000000000001";
pub const WORK: &str = "eni-0wrk0000000000001";
pub const BASTION: &str = "eni-0bst0000000000001";

/// A TCP connection seen on one interface: the request and its response.
#[allow(clippy::too_many_arguments)]
pub fn conn<'a>(
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
pub fn traffic() -> Vec<Rec<'static>> {
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

pub fn write_logs(dir: &Path, v5: bool) -> PathBuf {
    let mut text = String::from(if v5 { V5 } else { V2 });
    text.push('\n');
    for r in traffic() {
        text.push_str(&if v5 { r.v5() } else { r.v2() });
    }
    let p = dir.join(if v5 { "v5.log" } else { "v2.log" });
    std::fs::write(&p, text).unwrap();
    p
}
