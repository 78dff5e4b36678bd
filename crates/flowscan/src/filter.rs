//! Record filters shared by every command: time range, ENI, port, CIDRs, account,
//! VPC, subnet.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
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
        Ok(addr_in(r, Field::SrcAddr, &self.src_cidrs)?
            && addr_in(r, Field::DstAddr, &self.dst_cidrs)?)
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

/// Parses a point in time for `--since`/`--until`: RFC 3339
/// (`2026-11-24T10:00:00Z`), the same without seconds (`2026-11-24T10:00Z`), a
/// date (`2026-11-24`, midnight UTC), Unix seconds (`1764000000`), or a duration
/// back from `now` (`90s`, `15m`, `2h`, `7d`, `1w`).
pub fn parse_time(text: &str, now: DateTime<Utc>) -> Result<u64, String> {
    let t = text.trim();
    let parsed = DateTime::parse_from_rfc3339(t)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            [
                "%Y-%m-%dT%H:%MZ",
                "%Y-%m-%dT%H:%M",
                "%Y-%m-%dT%H:%M:%S",
                "%Y-%m-%d %H:%M:%S",
            ]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
            .map(|n| n.and_utc())
        })
        .or_else(|| {
            NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|n| n.and_utc())
        });
    if let Some(d) = parsed {
        return u64::try_from(d.timestamp()).map_err(|_| format!("`{t}` is before 1970"));
    }
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse().map_err(|_| format!("`{t}` is out of range"));
    }
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let unit_secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => {
            return Err(format!(
                "`{t}` is not a time: use RFC 3339 (2026-11-24T10:00:00Z), a date, Unix seconds, or a duration such as 2h"
            ))
        }
    };
    let n: i64 = num
        .parse()
        .map_err(|_| format!("`{t}` is not a duration such as 2h"))?;
    let secs = n
        .checked_mul(unit_secs)
        .ok_or_else(|| format!("`{t}` is too long"))?;
    u64::try_from(now.timestamp() - secs).map_err(|_| format!("`{t}` reaches before 1970"))
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
        filter.matches(&Record::new(line.as_bytes(), &t, &schema))
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

    #[test]
    fn times() {
        let now = DateTime::parse_from_rfc3339("2026-11-25T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let at = |s| parse_time(s, now);
        assert_eq!(at("2026-11-24T10:00:00Z"), Ok(1_795_514_400));
        assert_eq!(at("2026-11-24T11:00:00+01:00"), Ok(1_795_514_400));
        assert_eq!(at("2026-11-24T10:00Z"), Ok(1_795_514_400));
        assert_eq!(at("2026-11-24"), Ok(1_795_478_400));
        assert_eq!(at("1795514400"), Ok(1_795_514_400));
        assert_eq!(at("2h"), Ok(1_795_608_000 - 7200));
        assert_eq!(at("1d"), Ok(1_795_608_000 - 86_400));
        assert!(at("yesterday").is_err());
        assert!(at("2x").is_err());
    }
}
