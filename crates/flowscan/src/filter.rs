//! Record filters shared by every command: time range, ENI, port, CIDRs, account,
//! VPC, subnet.

use ipnetwork::IpNetwork;

use crate::parse::ValueError;
use crate::record::FlowRecord;
use crate::schema::{Field, FieldSet};

/// Which records a command looks at. Every condition that is set must hold; the
/// values within one condition are alternatives (`--eni a --eni b` is a or b).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// Keep records whose `start` is at or after this (Unix seconds).
    pub since: Option<u64>,
    /// Keep records whose `start` is before this (Unix seconds).
    pub until: Option<u64>,
    /// Keep records on these interfaces.
    pub enis: Vec<String>,
    /// Keep records to these destination ports.
    pub ports: Vec<u16>,
    /// Keep records whose source address is in one of these networks.
    pub src_cidrs: Vec<IpNetwork>,
    /// Keep records whose destination address is in one of these networks.
    pub dst_cidrs: Vec<IpNetwork>,
    /// Keep records of these accounts: the delivery account in the file's S3 path
    /// when the path names one, else the record's `account-id`.
    pub accounts: Vec<String>,
    /// Keep records of these VPCs.
    pub vpcs: Vec<String>,
    /// Keep records of these subnets.
    pub subnets: Vec<String>,
    /// Keep records of these regions: the region in the file's S3 path when the
    /// path names one, else the record's `region` field.
    pub regions: Vec<String>,
    /// Keep records the `--where` query matches.
    pub query: Option<crate::query::Query>,
}

impl Filter {
    /// Whether the filter keeps every record.
    pub fn is_empty(&self) -> bool {
        *self == Filter::default()
    }

    /// Fields a file must have for the filter to be decided on its records.
    pub fn needs(&self) -> FieldSet {
        let mut set = FieldSet::EMPTY;
        let mut need = |cond: bool, f: Field| {
            if cond {
                set.insert(f)
            }
        };
        need(self.since.is_some() || self.until.is_some(), Field::Start);
        need(!self.enis.is_empty(), Field::InterfaceId);
        need(!self.ports.is_empty(), Field::DstPort);
        need(!self.src_cidrs.is_empty(), Field::SrcAddr);
        need(!self.dst_cidrs.is_empty(), Field::DstAddr);
        need(!self.vpcs.is_empty(), Field::VpcId);
        need(!self.subnets.is_empty(), Field::SubnetId);
        if let Some(q) = &self.query {
            set = set.union(q.fields());
        }
        set
    }

    /// Whether the record passes. A record with `-` in a filtered field does not
    /// pass; a token that does not decode is an error (the line is malformed).
    #[inline]
    pub fn matches<R: FlowRecord>(&self, r: &R) -> Result<bool, ValueError> {
        if self.since.is_some() || self.until.is_some() {
            let Some(start) = r.int(Field::Start)? else {
                return Ok(false);
            };
            if self.since.is_some_and(|s| start < s) || self.until.is_some_and(|u| start >= u) {
                return Ok(false);
            }
        }
        if !text_in(r, Field::InterfaceId, &self.enis)
            || !text_in(r, Field::Region, &self.regions)
            || !text_in(r, Field::AccountId, &self.accounts)
            || !text_in(r, Field::VpcId, &self.vpcs)
            || !text_in(r, Field::SubnetId, &self.subnets)
        {
            return Ok(false);
        }
        if !self.ports.is_empty() {
            match r.int(Field::DstPort)? {
                Some(p) if self.ports.contains(&(p as u16)) => {}
                _ => return Ok(false),
            }
        }
        if !(addr_in(r, Field::SrcAddr, &self.src_cidrs)?
            && addr_in(r, Field::DstAddr, &self.dst_cidrs)?)
        {
            return Ok(false);
        }
        match &self.query {
            Some(q) => q.matches(r),
            None => Ok(true),
        }
    }
}

fn text_in<R: FlowRecord>(r: &R, field: Field, values: &[String]) -> bool {
    values.is_empty()
        || r.text(field)
            .is_some_and(|t| values.iter().any(|v| v.as_bytes() == t))
}

fn addr_in<R: FlowRecord>(r: &R, field: Field, nets: &[IpNetwork]) -> Result<bool, ValueError> {
    if nets.is_empty() {
        return Ok(true);
    }
    Ok(r.addr(field)?
        .is_some_and(|a| nets.iter().any(|n| n.contains(a))))
}

impl Filter {
    /// The filter for the records of the file at `path`, and the fields the file
    /// must have: conditions on the account and region that the path already
    /// answers (it passed [`Filter::prune`]) are dropped; the others fall to the
    /// records' `account-id` and `region` fields.
    pub fn for_path(&self, path: &std::path::Path) -> (Filter, FieldSet) {
        let mut f = self.clone();
        let mut needs = self.needs();
        if f.accounts.is_empty() && f.regions.is_empty() {
            return (f, needs);
        }
        let facts = crate::prune::facts(path);
        if facts.account.is_some() {
            f.accounts.clear();
        } else if !f.accounts.is_empty() {
            needs.insert(Field::AccountId);
        }
        if facts.region.is_some() {
            f.regions.clear();
        } else if !f.regions.is_empty() {
            needs.insert(Field::Region);
        }
        (f, needs)
    }

    /// What the filter lets paths rule out (time range, accounts, regions).
    pub fn prune(&self) -> crate::prune::Prune {
        crate::prune::Prune {
            since: self.since,
            until: self.until,
            accounts: self.accounts.clone(),
            regions: self.regions.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::Tokens;
    use crate::record::Record;
    use crate::schema::Schema;

    fn check(filter: &Filter, line: &str) -> Result<bool, ValueError> {
        let schema = Schema::default_v2();
        let mut t = Tokens::default();
        t.split(line.as_bytes());
        filter.matches(&Record::new(line.as_bytes(), &t, &schema).unwrap())
    }

    const LINE: &str = "2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 51234 22 6 20 4249 1418530010 1418530070 REJECT OK";

    #[test]
    fn empty_filter_keeps_all() {
        assert!(Filter::default().is_empty());
        assert_eq!(check(&Filter::default(), LINE), Ok(true));
    }

    #[test]
    fn each_condition() {
        let f = |f: Filter| check(&f, LINE).unwrap();
        assert!(f(Filter {
            since: Some(1418530010),
            ..Default::default()
        }));
        assert!(!f(Filter {
            since: Some(1418530011),
            ..Default::default()
        }));
        assert!(!f(Filter {
            until: Some(1418530010),
            ..Default::default()
        }));
        assert!(f(Filter {
            until: Some(1418530011),
            ..Default::default()
        }));
        assert!(f(Filter {
            enis: vec!["x".into(), "eni-1235b8ca123456789".into()],
            ..Default::default()
        }));
        assert!(!f(Filter {
            enis: vec!["eni-1".into()],
            ..Default::default()
        }));
        assert!(f(Filter {
            ports: vec![22],
            ..Default::default()
        }));
        assert!(!f(Filter {
            ports: vec![51234],
            ..Default::default()
        }));
        assert!(f(Filter {
            src_cidrs: vec!["203.0.113.0/24".parse().unwrap()],
            ..Default::default()
        }));
        assert!(!f(Filter {
            dst_cidrs: vec!["203.0.113.0/24".parse().unwrap()],
            ..Default::default()
        }));
        assert!(!f(Filter {
            src_cidrs: vec!["2001:db8::/32".parse().unwrap()],
            ..Default::default()
        }));
        assert!(f(Filter {
            accounts: vec!["123456789010".into()],
            ..Default::default()
        }));
        assert!(!f(Filter {
            vpcs: vec!["vpc-1".into()],
            ..Default::default()
        }));
    }

    #[test]
    fn needs_lists_filtered_fields() {
        let f = Filter {
            vpcs: vec!["vpc-1".into()],
            since: Some(1),
            ..Default::default()
        };
        assert_eq!(f.needs(), FieldSet::of(&[Field::Start, Field::VpcId]));
    }

    #[test]
    fn account_and_region_come_from_the_path_when_it_names_them() {
        let f = Filter {
            accounts: vec!["1".into()],
            regions: vec!["r".into()],
            ..Default::default()
        };
        let (pf, needs) = f.for_path(std::path::Path::new("/AWSLogs/1/vpcflowlogs/r/2026/x.log"));
        assert!(pf.is_empty() && needs.is_empty());
        let (pf, needs) = f.for_path(std::path::Path::new("/flat/x.log"));
        assert_eq!(pf, f);
        assert_eq!(needs, FieldSet::of(&[Field::AccountId, Field::Region]));
    }
}
