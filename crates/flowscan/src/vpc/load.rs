//! Reading the AWS CLI's JSON: files or folders, each file recognised by its
//! content (the top-level keys of each document), several documents back to
//! back (pages, regions) or in one array.

use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use ipnetwork::IpNetwork;
use serde_json::Value;

use super::shapes::*;

use super::config::{
    normalize, AclEntry, Interface, NetworkAcl, Protocol, SecurityGroup, SgPeer, SgRule,
    SourceFile, Subnet, VpcConfig,
};
use super::Direction;
use crate::display::path_text;

/// Why the saved configuration could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A file or folder could not be read.
    #[error("{}: {error}", path_text(path))]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        error: std::io::Error,
    },
    /// A file is not what the AWS CLI writes for one of the documents read.
    #[error("{}: {what}", path_text(path))]
    Content {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
    /// A folder held no file.
    #[error("{}: no configuration files in it", path_text(.0))]
    Empty(PathBuf),
}

const EXPECTED: &str = "expected the JSON that `aws ec2 describe-security-groups`, \
`describe-security-group-rules`, `describe-network-interfaces`, `describe-network-acls`, \
`describe-subnets`, `describe-prefix-lists` or `get-managed-prefix-list-entries` prints";

/// Reads the configuration from files and folders (a folder's files are read in
/// name order, hidden ones left out).
pub fn load(paths: &[PathBuf]) -> Result<VpcConfig, ConfigError> {
    let mut b = Builder::default();
    for p in paths {
        for f in files_of(p)? {
            let bytes = std::fs::read(&f).map_err(|error| ConfigError::Io {
                path: f.clone(),
                error,
            })?;
            let kinds = b.file(&f, &bytes)?;
            b.cfg.files.push(SourceFile { path: f, kinds });
        }
    }
    b.finish()
}

/// Reads one document set from memory (`name` stands for its file in
/// messages, and names a prefix list for `get-managed-prefix-list-entries`).
pub fn load_str(name: &str, json: &str) -> Result<VpcConfig, ConfigError> {
    let mut b = Builder::default();
    let kinds = b.file(Path::new(name), json.as_bytes())?;
    b.cfg.files.push(SourceFile {
        path: name.into(),
        kinds,
    });
    b.finish()
}

fn files_of(p: &Path) -> Result<Vec<PathBuf>, ConfigError> {
    let meta = std::fs::metadata(p).map_err(|error| ConfigError::Io {
        path: p.to_path_buf(),
        error,
    })?;
    if !meta.is_dir() {
        return Ok(vec![p.to_path_buf()]);
    }
    let mut out = Vec::new();
    let walk = walkdir::WalkDir::new(p)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
    for e in walk {
        let e = e.map_err(|e| ConfigError::Io {
            path: e.path().unwrap_or(p).to_path_buf(),
            error: e.into(),
        })?;
        if e.file_type().is_file() {
            out.push(e.into_path());
        }
    }
    if out.is_empty() {
        return Err(ConfigError::Empty(p.to_path_buf()));
    }
    Ok(out)
}

#[derive(Default)]
struct Builder {
    cfg: VpcConfig,
    ifaces: HashSet<String>,
    groups: BTreeMap<String, u32>,
    /// Rules from `IpPermissions`, by group index (`None`: the group was
    /// not described by `describe-security-groups`).
    perm_rules: Vec<Option<Vec<SgRule>>>,
    /// Rules from `describe-security-group-rules` (with ids), by group id:
    /// they replace the group's permissions, unless pages may be missing.
    sgr_rules: BTreeMap<String, Vec<SgRule>>,
    /// The first `describe-security-group-rules` page that says more follow
    /// (`NextToken`): a group's rules may be split across pages.
    sgr_more: Option<PathBuf>,
    /// Whether a page of it said none follow (the last page was saved).
    sgr_last: bool,
    acls: HashSet<String>,
    subnets: HashSet<String>,
}

fn bad(path: &Path, what: impl Into<String>) -> ConfigError {
    ConfigError::Content {
        path: path.to_path_buf(),
        what: what.into(),
    }
}

impl ConfigError {
    /// The error, said of the item `at` (`Subnets[2] (subnet-0abc)`).
    fn at(self, at: &str) -> ConfigError {
        match self {
            ConfigError::Content { path, what } => ConfigError::Content {
                path,
                what: format!("{at}: {what}"),
            },
            e => e,
        }
    }
}

/// A file's text: UTF-8, with or without a byte-order mark, or UTF-16 with
/// one (what Windows PowerShell's `>` writes when `aws` output is saved).
fn utf8(bytes: &[u8]) -> Result<std::borrow::Cow<'_, str>, String> {
    let utf16 = |rest: &[u8], word: fn([u8; 2]) -> u16| {
        if !rest.len().is_multiple_of(2) {
            return Err("UTF-16 text of an odd number of bytes".to_string());
        }
        let units = rest.chunks_exact(2).map(|c| word([c[0], c[1]]));
        char::decode_utf16(units)
            .collect::<Result<String, _>>()
            .map(std::borrow::Cow::Owned)
            .map_err(|e| format!("not valid UTF-16 ({e})"))
    };
    match bytes {
        [0xef, 0xbb, 0xbf, rest @ ..] => std::str::from_utf8(rest)
            .map(std::borrow::Cow::Borrowed)
            .map_err(|e| format!("not UTF-8 ({e})")),
        [0xff, 0xfe, rest @ ..] => utf16(rest, u16::from_le_bytes),
        [0xfe, 0xff, rest @ ..] => utf16(rest, u16::from_be_bytes),
        _ => std::str::from_utf8(bytes)
            .map(std::borrow::Cow::Borrowed)
            .map_err(|e| format!("not UTF-8 ({e}); {EXPECTED}")),
    }
}

/// Removes every `null` member of every object, and every `null` in a list:
/// the CLI and tools that rewrite its output write `"Groups": null` for an
/// empty list, which the shapes then read as absent (an empty list, or no
/// value).
fn drop_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, x| !x.is_null());
            m.values_mut().for_each(drop_nulls);
        }
        Value::Array(a) => {
            a.retain(|x| !x.is_null());
            a.iter_mut().for_each(drop_nulls);
        }
        _ => {}
    }
}

/// The items of the list `key`, each with where it is (`key[i]` and its id,
/// when it has one) for the errors found in it.
fn items<T: serde::de::DeserializeOwned>(
    path: &Path,
    key: &str,
    list: Value,
) -> Result<Vec<(String, T)>, ConfigError> {
    let list = match list {
        Value::Array(list) => list,
        // As a missing member: no items.
        Value::Null => Vec::new(),
        _ => return Err(bad(path, format!("`{key}` is not a list"))),
    };
    let mut out = Vec::with_capacity(list.len());
    for (i, mut item) in list.into_iter().enumerate() {
        if item.is_null() {
            continue;
        }
        drop_nulls(&mut item);
        const IDS: [&str; 6] = [
            "SecurityGroupRuleId",
            "GroupId",
            "NetworkInterfaceId",
            "NetworkAclId",
            "SubnetId",
            "PrefixListId",
        ];
        let id = IDS
            .iter()
            .find_map(|k| item.get(*k).and_then(Value::as_str));
        let at = match id {
            Some(id) => {
                let id: String = id.chars().take(80).collect();
                format!("{key}[{i}] ({})", crate::display::escape_controls(&id))
            }
            None => format!("{key}[{i}]"),
        };
        match T::deserialize(item) {
            Ok(t) => out.push((at, t)),
            Err(e) => return Err(bad(path, format!("{at}: unexpected shape: {e}"))),
        }
    }
    Ok(out)
}

impl Builder {
    /// Reads every document of one file; returns the kinds found.
    fn file(&mut self, path: &Path, bytes: &[u8]) -> Result<Vec<&'static str>, ConfigError> {
        let mut kinds = Vec::new();
        let text = utf8(bytes).map_err(|why| bad(path, why))?;
        let stream = serde_json::Deserializer::from_str(&text).into_iter::<Value>();
        for doc in stream {
            let doc = doc.map_err(|e| bad(path, format!("not JSON ({e}); {EXPECTED}")))?;
            let docs = match doc {
                Value::Array(a) => a,
                d => vec![d],
            };
            for d in docs {
                let k = self.document(path, d)?;
                if !kinds.contains(&k) {
                    kinds.push(k);
                }
            }
        }
        if kinds.is_empty() {
            return Err(bad(path, format!("empty; {EXPECTED}")));
        }
        Ok(kinds)
    }

    fn document(&mut self, path: &Path, d: Value) -> Result<&'static str, ConfigError> {
        let Value::Object(mut m) = d else {
            return Err(bad(path, format!("not a JSON object; {EXPECTED}")));
        };
        let take = |m: &mut serde_json::Map<String, Value>, k: &str| m.remove(k);
        if let Some(v) = take(&mut m, "SecurityGroups") {
            for (at, g) in items::<SgShape>(path, "SecurityGroups", v)? {
                self.group(path, g).map_err(|e| e.at(&at))?;
            }
            return Ok("security-groups");
        }
        if let Some(v) = take(&mut m, "SecurityGroupRules") {
            for (at, r) in items::<SgrShape>(path, "SecurityGroupRules", v)? {
                self.sgr(path, r).map_err(|e| e.at(&at))?;
            }
            let more = m
                .get("NextToken")
                .and_then(Value::as_str)
                .is_some_and(|t| !t.is_empty());
            if !more {
                self.sgr_last = true;
            } else if self.sgr_more.is_none() {
                self.sgr_more = Some(path.to_path_buf());
            }
            return Ok("security-group-rules");
        }
        if let Some(v) = take(&mut m, "NetworkInterfaces") {
            for (at, f) in items::<EniShape>(path, "NetworkInterfaces", v)? {
                self.interface(path, f).map_err(|e| e.at(&at))?;
            }
            return Ok("network-interfaces");
        }
        if let Some(v) = take(&mut m, "NetworkAcls") {
            for (at, a) in items::<AclShape>(path, "NetworkAcls", v)? {
                self.acl(path, a).map_err(|e| e.at(&at))?;
            }
            return Ok("network-acls");
        }
        if let Some(v) = take(&mut m, "Subnets") {
            for (at, s) in items::<SubnetShape>(path, "Subnets", v)? {
                self.subnet(path, s).map_err(|e| e.at(&at))?;
            }
            return Ok("subnets");
        }
        if let Some(v) = take(&mut m, "PrefixLists") {
            for (at, p) in items::<PlShape>(path, "PrefixLists", v)? {
                if let Some(cidrs) = p.cidrs {
                    let nets = cidrs
                        .iter()
                        .map(|c| net(path, c).map_err(|e| e.at(&at)))
                        .collect::<Result<_, _>>()?;
                    self.cfg
                        .prefix_lists
                        .entry(p.prefix_list_id)
                        .or_insert(nets);
                }
            }
            return Ok("prefix-lists");
        }
        if let Some(v) = take(&mut m, "Entries") {
            let id = prefix_list_id(path).ok_or_else(|| {
                bad(path, "holds prefix list entries but its name does not say which list: name the file after it (pl-0123456789abcdef0.json)")
            })?;
            let nets = items::<PlEntryShape>(path, "Entries", v)?
                .iter()
                .map(|(at, e)| net(path, &e.cidr).map_err(|err| err.at(at)))
                .collect::<Result<_, _>>()?;
            self.cfg.prefix_lists.entry(id).or_insert(nets);
            return Ok("prefix-list-entries");
        }
        let keys: Vec<&str> = m.keys().map(String::as_str).collect();
        Err(bad(
            path,
            format!(
                "not a saved VPC configuration (top-level keys: {}); {EXPECTED}",
                if keys.is_empty() {
                    "none".into()
                } else {
                    keys.join(", ")
                }
            ),
        ))
    }

    fn group(&mut self, path: &Path, g: SgShape) -> Result<(), ConfigError> {
        if self.groups.contains_key(&g.group_id) {
            return Ok(());
        }
        let idx = self.new_group(g.group_id.clone());
        let sg = &mut self.cfg.groups[idx as usize];
        sg.name = g.group_name;
        sg.vpc_id = g.vpc_id;
        let mut rules = Vec::new();
        for (dir, perms) in [
            (Direction::Ingress, g.ip_permissions),
            (Direction::Egress, g.ip_permissions_egress),
        ] {
            for p in perms {
                permission_rules(path, idx, dir, p, &mut rules)?;
            }
        }
        self.perm_rules[idx as usize] = Some(rules);
        Ok(())
    }

    fn new_group(&mut self, id: String) -> u32 {
        if let Some(&i) = self.groups.get(&id) {
            return i;
        }
        let i = self.cfg.groups.len() as u32;
        self.groups.insert(id.clone(), i);
        self.cfg.groups.push(SecurityGroup {
            id,
            ..SecurityGroup::default()
        });
        self.perm_rules.push(None);
        i
    }

    fn sgr(&mut self, path: &Path, r: SgrShape) -> Result<(), ConfigError> {
        let peer = if let Some(c) = &r.cidr_ipv4 {
            SgPeer::Cidr(net(path, c)?)
        } else if let Some(c) = &r.cidr_ipv6 {
            SgPeer::Cidr(net(path, c)?)
        } else if let Some(p) = r.prefix_list_id {
            SgPeer::PrefixList(p)
        } else if let Some(g) = r.referenced_group_info.and_then(|g| g.group_id) {
            SgPeer::Group(g)
        } else {
            return Err(bad(
                path,
                format!("rule {} names no peer", r.security_group_rule_id),
            ));
        };
        let protocol = protocol(path, &r.ip_protocol)?;
        let list = self.sgr_rules.entry(r.group_id).or_default();
        if list
            .iter()
            .any(|x| x.rule_id.as_deref() == Some(&r.security_group_rule_id))
        {
            return Ok(());
        }
        list.push(SgRule {
            group: 0,
            rule_id: Some(r.security_group_rule_id),
            direction: if r.is_egress {
                Direction::Egress
            } else {
                Direction::Ingress
            },
            protocol,
            from_port: port_of(protocol, r.from_port),
            to_port: port_of(protocol, r.to_port),
            peer,
            description: r.description,
        });
        Ok(())
    }

    fn interface(&mut self, path: &Path, f: EniShape) -> Result<(), ConfigError> {
        if !self.ifaces.insert(f.network_interface_id.clone()) {
            return Ok(());
        }
        let mut addresses = Vec::new();
        let mut public = Vec::new();
        for a in f.private_ip_address.iter() {
            push_addr(&mut addresses, addr(path, a)?);
        }
        for p in &f.private_ip_addresses {
            if let Some(a) = &p.private_ip_address {
                push_addr(&mut addresses, addr(path, a)?);
            }
            if let Some(a) = p.association.as_ref().and_then(|a| a.public_ip.as_ref()) {
                push_addr(&mut public, addr(path, a)?);
            }
        }
        if let Some(a) = f.association.as_ref().and_then(|a| a.public_ip.as_ref()) {
            push_addr(&mut public, addr(path, a)?);
        }
        for a in &f.ipv6_addresses {
            push_addr(&mut addresses, addr(path, &a.ipv6_address)?);
        }
        self.cfg.interfaces.push(Interface {
            id: f.network_interface_id,
            subnet_id: f.subnet_id,
            vpc_id: f.vpc_id,
            addresses,
            public,
            group_ids: f.groups.into_iter().filter_map(|g| g.group_id).collect(),
            instance_id: f.attachment.and_then(|a| a.instance_id),
            kind: f.interface_type,
            description: f.description.filter(|d| !d.is_empty()),
        });
        Ok(())
    }

    fn acl(&mut self, path: &Path, a: AclShape) -> Result<(), ConfigError> {
        if !self.acls.insert(a.network_acl_id.clone()) {
            return Ok(());
        }
        let idx = self.cfg.acls.len() as u32;
        let mut acl = NetworkAcl {
            id: a.network_acl_id,
            vpc_id: a.vpc_id,
            is_default: a.is_default,
            subnets: a
                .associations
                .into_iter()
                .filter_map(|s| s.subnet_id)
                .collect(),
            ..NetworkAcl::default()
        };
        let mut entries: Vec<AclEntry> = Vec::new();
        for e in a.entries {
            entries.push(acl_entry(path, idx, e)?);
        }
        entries.sort_by_key(|e| (e.direction, e.rule_number));
        for e in entries {
            let i = self.cfg.acl_entries.len() as u32;
            match e.direction {
                Direction::Ingress => acl.inbound.push(i),
                Direction::Egress => acl.outbound.push(i),
            }
            self.cfg.acl_entries.push(e);
        }
        self.cfg.acls.push(acl);
        Ok(())
    }

    fn subnet(&mut self, path: &Path, s: SubnetShape) -> Result<(), ConfigError> {
        if !self.subnets.insert(s.subnet_id.clone()) {
            return Ok(());
        }
        let ipv6 = s
            .ipv6_cidr_block_association_set
            .iter()
            .filter(|a| {
                a.ipv6_cidr_block_state
                    .as_ref()
                    .and_then(|s| s.state.as_deref())
                    != Some("disassociated")
            })
            .filter_map(|a| a.ipv6_cidr_block.as_deref())
            .map(|c| net(path, c))
            .collect::<Result<_, _>>()?;
        self.cfg.subnets.push(Subnet {
            id: s.subnet_id,
            vpc_id: s.vpc_id,
            cidr: s.cidr_block.as_deref().map(|c| net(path, c)).transpose()?,
            ipv6,
            available: s.available_ip_address_count,
            zone: s.availability_zone,
        });
        Ok(())
    }

    fn finish(mut self) -> Result<VpcConfig, ConfigError> {
        for id in self.sgr_rules.keys().cloned().collect::<Vec<_>>() {
            self.new_group(id);
        }
        let mut sgr = std::mem::take(&mut self.sgr_rules);
        for (i, perm) in std::mem::take(&mut self.perm_rules).into_iter().enumerate() {
            // Rules with ids describe the same permissions: prefer them, unless
            // pages of them may be missing; then the group's own description
            // is complete, and lends its rules the ids it can match.
            let id = self.cfg.groups[i].id.clone();
            let rules = match (sgr.remove(&id), &self.sgr_more, perm) {
                (None, _, perm) => perm.unwrap_or_default(),
                (Some(with_ids), None, _) => with_ids,
                (Some(with_ids), Some(_), Some(perm)) => name_rules(perm, &with_ids),
                (Some(with_ids), Some(_), None) if self.sgr_last => with_ids,
                (Some(_), Some(page), None) => {
                    return Err(bad(
                        page,
                        format!(
                            "holds a page of describe-security-group-rules (it has a NextToken) but not the last: rules of {id} on the missing pages would be taken as absent; save the whole output (without --max-items or --no-paginate), or describe-security-groups too"
                        ),
                    ))
                }
            };
            for mut r in rules {
                r.group = i as u32;
                self.cfg.groups[i]
                    .rules
                    .push(self.cfg.sg_rules.len() as u32);
                self.cfg.sg_rules.push(r);
            }
        }
        self.cfg.build_index();
        Ok(self.cfg)
    }
}

/// A group's rules from its own description, each given the id and, when
/// it has none, the description of an equal rule from
/// `describe-security-group-rules`.
fn name_rules(mut perm: Vec<SgRule>, with_ids: &[SgRule]) -> Vec<SgRule> {
    let mut used = vec![false; with_ids.len()];
    for r in &mut perm {
        let same = |w: &SgRule| {
            (w.direction, w.protocol, w.from_port, w.to_port, &w.peer)
                == (r.direction, r.protocol, r.from_port, r.to_port, &r.peer)
        };
        if let Some(j) = (0..with_ids.len()).find(|&j| !used[j] && same(&with_ids[j])) {
            used[j] = true;
            r.rule_id.clone_from(&with_ids[j].rule_id);
            if r.description.is_none() {
                r.description.clone_from(&with_ids[j].description);
            }
        }
    }
    perm
}

fn push_addr(v: &mut Vec<IpAddr>, a: IpAddr) {
    if !v.contains(&a) {
        v.push(a);
    }
}

fn addr(path: &Path, s: &str) -> Result<IpAddr, ConfigError> {
    s.parse()
        .map_err(|_| bad(path, format!("`{s}` is not an IP address")))
}

fn net(path: &Path, s: &str) -> Result<IpNetwork, ConfigError> {
    s.parse::<IpNetwork>()
        .map(normalize)
        .map_err(|_| bad(path, format!("`{s}` is not a network (CIDR)")))
}

/// `-1`, `tcp`, `udp`, `icmp`, `icmpv6`, `all`, or a number (as text or not).
fn protocol(path: &Path, v: &Value) -> Result<Protocol, ConfigError> {
    let text = match v {
        Value::String(s) => s.to_ascii_lowercase(),
        Value::Number(n) => n.to_string(),
        _ => return Err(bad(path, format!("`{v}` is not a protocol"))),
    };
    Ok(match text.as_str() {
        "-1" | "all" => Protocol::All,
        "tcp" => Protocol::Number(6),
        "udp" => Protocol::Number(17),
        "icmp" => Protocol::Number(1),
        "icmpv6" => Protocol::Number(58),
        n => Protocol::Number(
            n.parse()
                .map_err(|_| bad(path, format!("`{n}` is not a protocol")))?,
        ),
    })
}

/// Ports mean nothing for `-1`.
fn port_of(p: Protocol, v: Option<i64>) -> Option<i32> {
    match p {
        Protocol::All => None,
        Protocol::Number(_) => v.and_then(|v| i32::try_from(v).ok()),
    }
}

fn permission_rules(
    path: &Path,
    group: u32,
    direction: Direction,
    p: PermShape,
    out: &mut Vec<SgRule>,
) -> Result<(), ConfigError> {
    let protocol = protocol(path, &p.ip_protocol)?;
    let rule = |peer: SgPeer, description: Option<String>| SgRule {
        group,
        rule_id: None,
        direction,
        protocol,
        from_port: port_of(protocol, p.from_port),
        to_port: port_of(protocol, p.to_port),
        peer,
        description,
    };
    for r in &p.ip_ranges {
        out.push(rule(
            SgPeer::Cidr(net(path, &r.cidr_ip)?),
            r.description.clone(),
        ));
    }
    for r in &p.ipv6_ranges {
        out.push(rule(
            SgPeer::Cidr(net(path, &r.cidr_ipv6)?),
            r.description.clone(),
        ));
    }
    for r in &p.prefix_list_ids {
        out.push(rule(
            SgPeer::PrefixList(r.prefix_list_id.clone()),
            r.description.clone(),
        ));
    }
    for r in &p.user_id_group_pairs {
        if let Some(g) = &r.group_id {
            out.push(rule(SgPeer::Group(g.clone()), r.description.clone()));
        }
    }
    Ok(())
}

fn acl_entry(path: &Path, acl: u32, e: EntryShape) -> Result<AclEntry, ConfigError> {
    let protocol = protocol(path, &e.protocol)?;
    let cidr = match (&e.cidr_block, &e.ipv6_cidr_block) {
        (Some(c), _) | (None, Some(c)) => Some(net(path, c)?),
        (None, None) => None,
    };
    let clamp = |v: Option<i64>, d: u16| v.map_or(d, |v| v.clamp(0, 65535) as u16);
    let ports = match (protocol, e.port_range) {
        (Protocol::Number(6 | 17), Some(r)) => Some((clamp(r.from, 0), clamp(r.to, 65535))),
        _ => None,
    };
    let icmp = match (protocol, e.icmp_type_code) {
        (Protocol::Number(1 | 58), Some(t)) => Some((
            t.r#type.map_or(-1, |v| v as i32),
            t.code.map_or(-1, |v| v as i32),
        )),
        _ => None,
    };
    Ok(AclEntry {
        acl,
        rule_number: e.rule_number.clamp(0, i64::from(u16::MAX)) as u16,
        direction: if e.egress {
            Direction::Egress
        } else {
            Direction::Ingress
        },
        protocol,
        allow: e.rule_action.eq_ignore_ascii_case("allow"),
        cidr,
        ports,
        icmp,
    })
}

/// `pl-…` in a file's name.
fn prefix_list_id(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_string_lossy();
    let at = name.find("pl-")?;
    let id: String = name[at..]
        .chars()
        .enumerate()
        .take_while(|(i, c)| *i < 3 || c.is_ascii_hexdigit())
        .map(|(_, c)| c)
        .collect();
    (id.len() > 3).then_some(id)
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
