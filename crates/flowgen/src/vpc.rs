//! The VPC configuration the generated interfaces live in, as the AWS CLI
//! prints it (`describe-security-groups`, `describe-network-interfaces`,
//! `describe-network-acls`, `describe-subnets`), for `flowscan explain`,
//! `rules` and `subnets` on generated data.
//!
//! Each of the four VPCs has one /24 subnet per third octet the generator's
//! addresses use, eight security groups (tiers) that admit the services the
//! generated traffic uses from the private network and 5432 from the next
//! tier by reference, and one network ACL that admits the private network,
//! HTTPS and the ephemeral ports, and denies the rest. Scanners are therefore
//! rejected by the ACL or by the groups, as in a real VPC.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::Path;

use crate::{Generator, SERVICES};

const TIERS: usize = 8;

fn tier_of(i: usize) -> usize {
    (i / 4) % TIERS
}

fn group_id(vpc: usize, tier: usize) -> String {
    format!("sg-{:017x}", 0x5c0000 + vpc * 16 + tier)
}

fn subnet_id(vpc: usize, octet: usize) -> String {
    format!("subnet-{:017x}", 0x5b0000 + vpc * 256 + octet)
}

fn perm(out: &mut String, proto: &str, port: Option<u16>, peer: &str) {
    let ports = port.map_or_else(String::new, |p| {
        format!("\"FromPort\": {p}, \"ToPort\": {p}, ")
    });
    let _ = write!(out, "{{\"IpProtocol\": \"{proto}\", {ports}{peer}}}");
}

impl Generator {
    /// Writes `sgs.json`, `enis.json`, `nacls.json` and `subnets.json` into `dir`.
    pub fn write_aws_config(&self, dir: &Path) -> io::Result<()> {
        fs::create_dir_all(dir)?;
        let vpcs = self
            .ifaces
            .iter()
            .map(|f| f.vpc.clone())
            .collect::<Vec<_>>();
        let vpc_ids: BTreeMap<usize, String> = (0..4.min(self.ifaces.len()))
            .map(|v| (v, vpcs[v].clone()))
            .collect();
        fs::write(dir.join("sgs.json"), self.groups_json(&vpc_ids))?;
        fs::write(dir.join("enis.json"), self.enis_json())?;
        fs::write(dir.join("nacls.json"), self.acls_json(&vpc_ids))?;
        fs::write(dir.join("subnets.json"), self.subnets_json(&vpc_ids))
    }

    fn groups_json(&self, vpcs: &BTreeMap<usize, String>) -> String {
        let mut out = String::from("{\"SecurityGroups\": [\n");
        let mut first = true;
        for (&v, vpc) in vpcs {
            for t in 0..TIERS {
                if !first {
                    out.push_str(",\n");
                }
                first = false;
                let _ = write!(
                    out,
                    "{{\"GroupId\": \"{}\", \"GroupName\": \"tier-{t}\", \"VpcId\": \"{vpc}\", \"IpPermissions\": [",
                    group_id(v, t)
                );
                for (k, &port) in SERVICES.iter().enumerate() {
                    let proto = if port == 53 { "udp" } else { "tcp" };
                    perm(&mut out, proto, Some(port), "\"IpRanges\": [{\"CidrIp\": \"10.0.0.0/8\"}], \"Ipv6Ranges\": [{\"CidrIpv6\": \"2600:1f18::/32\"}]");
                    if k + 1 < SERVICES.len() {
                        out.push_str(", ");
                    }
                }
                out.push_str(", ");
                let peer = format!(
                    "\"UserIdGroupPairs\": [{{\"GroupId\": \"{}\", \"UserId\": \"{}\"}}]",
                    group_id(v, (t + 1) % TIERS),
                    self.spec.account
                );
                perm(&mut out, "tcp", Some(5432), &peer);
                out.push_str("], \"IpPermissionsEgress\": [");
                perm(&mut out, "-1", None, "\"IpRanges\": [{\"CidrIp\": \"0.0.0.0/0\"}], \"Ipv6Ranges\": [{\"CidrIpv6\": \"::/0\"}]");
                out.push_str("]}");
            }
        }
        out.push_str("\n]}\n");
        out
    }

    fn enis_json(&self) -> String {
        let mut out = String::from("{\"NetworkInterfaces\": [\n");
        for (i, f) in self.ifaces.iter().enumerate() {
            if i > 0 {
                out.push_str(",\n");
            }
            let [_, vpc, octet, _] = f.v4.octets();
            let attach = if f.instance == "-" {
                String::new()
            } else {
                format!(", \"Attachment\": {{\"InstanceId\": \"{}\"}}", f.instance)
            };
            let _ = write!(
                out,
                "{{\"NetworkInterfaceId\": \"{}\", \"SubnetId\": \"{}\", \"VpcId\": \"{}\", \"InterfaceType\": \"interface\", \"PrivateIpAddress\": \"{}\", \"PrivateIpAddresses\": [{{\"PrivateIpAddress\": \"{}\", \"Primary\": true}}], \"Ipv6Addresses\": [{{\"Ipv6Address\": \"{}\"}}], \"Groups\": [{{\"GroupId\": \"{}\"}}]{attach}}}",
                f.id,
                subnet_id(vpc as usize, octet as usize),
                f.vpc,
                f.v4,
                f.v4,
                f.v6,
                group_id(vpc as usize, tier_of(i)),
            );
        }
        out.push_str("\n]}\n");
        out
    }

    /// The /24s of a VPC, with the number of interfaces in each.
    fn octets(&self, vpc: usize) -> BTreeMap<u8, u64> {
        let mut m = BTreeMap::new();
        for f in &self.ifaces {
            let [_, v, o, _] = f.v4.octets();
            if v as usize == vpc {
                *m.entry(o).or_insert(0) += 1;
            }
        }
        m
    }

    fn acls_json(&self, vpcs: &BTreeMap<usize, String>) -> String {
        let entries = [
            (
                100,
                "-1",
                "allow",
                false,
                "\"CidrBlock\": \"10.0.0.0/8\"",
                "",
            ),
            (
                105,
                "-1",
                "allow",
                false,
                "\"Ipv6CidrBlock\": \"2600:1f18::/32\"",
                "",
            ),
            (
                110,
                "6",
                "allow",
                false,
                "\"CidrBlock\": \"0.0.0.0/0\"",
                ", \"PortRange\": {\"From\": 443, \"To\": 443}",
            ),
            (
                120,
                "6",
                "allow",
                false,
                "\"CidrBlock\": \"0.0.0.0/0\"",
                ", \"PortRange\": {\"From\": 1024, \"To\": 65535}",
            ),
            (
                32767,
                "-1",
                "deny",
                false,
                "\"CidrBlock\": \"0.0.0.0/0\"",
                "",
            ),
            (
                32768,
                "-1",
                "deny",
                false,
                "\"Ipv6CidrBlock\": \"::/0\"",
                "",
            ),
            (100, "-1", "allow", true, "\"CidrBlock\": \"0.0.0.0/0\"", ""),
            (101, "-1", "allow", true, "\"Ipv6CidrBlock\": \"::/0\"", ""),
            (
                32767,
                "-1",
                "deny",
                true,
                "\"CidrBlock\": \"0.0.0.0/0\"",
                "",
            ),
            (32768, "-1", "deny", true, "\"Ipv6CidrBlock\": \"::/0\"", ""),
        ];
        let mut out = String::from("{\"NetworkAcls\": [\n");
        for (k, (&v, vpc)) in vpcs.iter().enumerate() {
            if k > 0 {
                out.push_str(",\n");
            }
            let assoc: Vec<String> = self
                .octets(v)
                .keys()
                .map(|&o| format!("{{\"SubnetId\": \"{}\"}}", subnet_id(v, o as usize)))
                .collect();
            let e: Vec<String> = entries
                .iter()
                .map(|(n, p, a, eg, c, extra)| {
                    format!("{{\"RuleNumber\": {n}, \"Protocol\": \"{p}\", \"RuleAction\": \"{a}\", \"Egress\": {eg}, {c}{extra}}}")
                })
                .collect();
            let _ = write!(
                out,
                "{{\"NetworkAclId\": \"acl-{:017x}\", \"VpcId\": \"{vpc}\", \"IsDefault\": true, \"Associations\": [{}], \"Entries\": [{}]}}",
                0xac1000 + v,
                assoc.join(", "),
                e.join(", ")
            );
        }
        out.push_str("\n]}\n");
        out
    }

    fn subnets_json(&self, vpcs: &BTreeMap<usize, String>) -> String {
        let mut rows = Vec::new();
        for (&v, vpc) in vpcs {
            for (o, n) in self.octets(v) {
                // Some headroom taken by other things (endpoints, load
                // balancers), more in some subnets than in others.
                let other = u64::from(o) * 7 % 40;
                let available = 251u64.saturating_sub(n + other);
                rows.push(format!(
                    "{{\"SubnetId\": \"{}\", \"VpcId\": \"{vpc}\", \"CidrBlock\": \"10.{v}.{o}.0/24\", \"AvailableIpAddressCount\": {available}, \"AvailabilityZone\": \"{}-{}\"}}",
                    subnet_id(v, o as usize),
                    self.spec.region,
                    ["a", "b", "c"][usize::from(o) % 3]
                ));
            }
        }
        format!("{{\"Subnets\": [\n{}\n]}}\n", rows.join(",\n"))
    }
}
