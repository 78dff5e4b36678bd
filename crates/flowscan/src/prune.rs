//! Skipping files by name: in trees laid out as AWS writes them, the path tells
//! the account, the region and the time of the records inside, so a time range
//! (or an account or region list) rules out whole folders without opening them.
//!
//! Two layouts are understood:
//! `AWSLogs/<account>/vpcflowlogs/<region>/YYYY/MM/DD[/HH]/<account>_vpcflowlogs_<region>_<id>_<YYYYMMDDTHHmmZ>_<hash>.log.gz`
//! and the Hive-compatible
//! `AWSLogs/aws-account-id=<account>/aws-service=vpcflowlogs/aws-region=<region>/year=YYYY/month=MM/day=DD[/hour=HH]/…`.
//!
//! A file name's time is the 5-minute bucket of its records' *end* times. A
//! record's start precedes its end by up to one aggregation interval (10 minutes
//! at most), and AWS may publish late, so names are used only as a conservative
//! hint: a file stamped `T` is assumed to hold records that start anywhere in
//! `[T − 1 h, T + 15 min)` ([`BEFORE`], [`AFTER`]).

use std::path::Path;

use chrono::{Datelike, NaiveDate};

/// How long before its stamp a file's records may start.
pub const BEFORE: u64 = 3600;
/// How long after its stamp a file's records may start.
pub const AFTER: u64 = 900;

/// What paths can rule out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Prune {
    /// Records must start at or after this (Unix seconds).
    pub since: Option<u64>,
    /// Records must start before this.
    pub until: Option<u64>,
    /// Accounts wanted (empty: any).
    pub accounts: Vec<String>,
    /// Regions wanted (empty: any).
    pub regions: Vec<String>,
}

/// What a path says about the records under it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PathFacts {
    /// The account, when the path names one.
    pub account: Option<String>,
    /// The region, when the path names one.
    pub region: Option<String>,
    /// The range `[from, to)` of the stamps of the files under the path.
    pub stamps: Option<(u64, u64)>,
}

impl Prune {
    /// Whether nothing can be ruled out.
    pub fn is_empty(&self) -> bool {
        self.since.is_none()
            && self.until.is_none()
            && self.accounts.is_empty()
            && self.regions.is_empty()
    }

    /// Whether the file or folder at `path` cannot hold a wanted record.
    pub fn rules_out(&self, path: &Path) -> bool {
        if self.is_empty() {
            return false;
        }
        let f = facts(path);
        if let Some(a) = &f.account {
            if !self.accounts.is_empty() && !self.accounts.contains(a) {
                return true;
            }
        }
        if let Some(r) = &f.region {
            if !self.regions.is_empty() && !self.regions.contains(r) {
                return true;
            }
        }
        if let Some((from, to)) = f.stamps {
            let first = from.saturating_sub(BEFORE);
            let last = to + AFTER;
            if self.since.is_some_and(|s| last <= s) || self.until.is_some_and(|u| first >= u) {
                return true;
            }
        }
        false
    }
}

fn num(s: &str, digits: usize) -> Option<u32> {
    (s.len() == digits && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok())?
}

fn epoch(d: NaiveDate) -> u64 {
    d.and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp().max(0) as u64)
}

/// Reads account, region and time from a path in either AWS layout.
pub fn facts(path: &Path) -> PathFacts {
    let parts: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let mut f = PathFacts::default();
    // Date parts found after the region: year, month, day, hour.
    let mut date: Vec<u32> = Vec::new();
    let mut i = 0;
    while i < parts.len() {
        let p = &parts[i];
        if let Some(a) = p.strip_prefix("aws-account-id=") {
            f.account = Some(a.to_string());
        } else if let Some(r) = p.strip_prefix("aws-region=") {
            f.region = Some(r.to_string());
            date.clear();
        } else if p == "AWSLogs" && parts.get(i + 2).is_some_and(|s| s == "vpcflowlogs") {
            f.account = parts.get(i + 1).cloned();
            f.region = parts.get(i + 3).cloned();
            date.clear();
            i += 4;
            // Then YYYY / MM / DD / HH, as far as the path goes.
            for (k, digits) in [4, 2, 2, 2].into_iter().enumerate() {
                match parts.get(i + k).and_then(|s| num(s, digits)) {
                    Some(v) => date.push(v),
                    None => break,
                }
            }
            i += date.len();
            continue;
        } else {
            for (k, key) in ["year=", "month=", "day=", "hour="].iter().enumerate() {
                if let Some(v) = p
                    .strip_prefix(key)
                    .and_then(|v| num(v, if k == 0 { 4 } else { 2 }))
                {
                    if date.len() == k {
                        date.push(v);
                    }
                }
            }
        }
        i += 1;
    }
    let name = parts.last().map(String::as_str).unwrap_or("");
    f.stamps = stamp_of_name(name)
        .map(|t| (t, t + 300))
        .or_else(|| range_of(&date));
    f
}

/// The `YYYYMMDDTHHmmZ` stamp in an AWS object name, as Unix seconds.
fn stamp_of_name(name: &str) -> Option<u64> {
    name.split('_').find_map(|tok| {
        let b = tok.as_bytes();
        if b.len() != 14 || b[8] != b'T' || b[13] != b'Z' {
            return None;
        }
        let d = NaiveDate::from_ymd_opt(
            num(&tok[0..4], 4)? as i32,
            num(&tok[4..6], 2)?,
            num(&tok[6..8], 2)?,
        )?;
        let (h, m) = (num(&tok[9..11], 2)?, num(&tok[11..13], 2)?);
        (h < 24 && m < 60).then(|| epoch(d) + u64::from(h) * 3600 + u64::from(m) * 60)
    })
}

/// The stamps a date folder can hold: a year, month, day or hour.
fn range_of(date: &[u32]) -> Option<(u64, u64)> {
    let y = *date.first()? as i32;
    match date.len() {
        1 => Some((
            epoch(NaiveDate::from_ymd_opt(y, 1, 1)?),
            epoch(NaiveDate::from_ymd_opt(y + 1, 1, 1)?),
        )),
        2 => {
            let start = NaiveDate::from_ymd_opt(y, date[1], 1)?;
            let next = if start.month() == 12 {
                NaiveDate::from_ymd_opt(y + 1, 1, 1)?
            } else {
                NaiveDate::from_ymd_opt(y, date[1] + 1, 1)?
            };
            Some((epoch(start), epoch(next)))
        }
        _ => {
            let day = epoch(NaiveDate::from_ymd_opt(y, date[1], date[2])?);
            match date.get(3) {
                Some(&h) if h < 24 => {
                    Some((day + u64::from(h) * 3600, day + u64::from(h + 1) * 3600))
                }
                _ => Some((day, day + 86_400)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: u64 = 1_795_514_400; // 2026-11-24T10:00:00Z

    #[test]
    fn reads_both_layouts() {
        let f = facts(Path::new("/b/AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/11/24/123456789012_vpcflowlogs_eu-west-1_fl-1_20261124T1005Z_ab.log.gz"));
        assert_eq!(f.account.as_deref(), Some("123456789012"));
        assert_eq!(f.region.as_deref(), Some("eu-west-1"));
        assert_eq!(f.stamps, Some((T + 300, T + 600)));
        let f = facts(Path::new(
            "/b/AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/11/24",
        ));
        assert_eq!(f.stamps, Some((T - 10 * 3600, T + 14 * 3600)));
        let f = facts(Path::new(
            "/b/AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/11/24/10",
        ));
        assert_eq!(f.stamps, Some((T, T + 3600)));
        let f = facts(Path::new(
            "/b/AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/12",
        ));
        assert_eq!(f.stamps.map(|s| s.1 - s.0), Some(31 * 86_400));
        let f = facts(Path::new("x/AWSLogs/aws-account-id=1/aws-service=vpcflowlogs/aws-region=us-east-2/year=2026/month=11/day=24/hour=10/part.parquet"));
        assert_eq!(f.account.as_deref(), Some("1"));
        assert_eq!(f.region.as_deref(), Some("us-east-2"));
        assert_eq!(f.stamps, Some((T, T + 3600)));
        assert_eq!(facts(Path::new("logs/a.log")), PathFacts::default());
    }

    #[test]
    fn rules_out_only_what_cannot_match() {
        let day = |h: u64| Path::new("/AWSLogs/1/vpcflowlogs/r/2026/11/24").join(format!("{h:02}"));
        let p = Prune {
            since: Some(T),
            until: Some(T + 3600),
            ..Prune::default()
        };
        assert!(!p.rules_out(&day(10)));
        // The hour before may hold records that start after `since` (late ends).
        assert!(!p.rules_out(&day(9)));
        assert!(
            !p.rules_out(&day(11)),
            "a record stamped 11:00-11:15 may start before 11:00"
        );
        assert!(p.rules_out(&day(8)));
        assert!(p.rules_out(&day(12)));
        assert!(!p.rules_out(Path::new("/somewhere/else.log")));
        let p = Prune {
            regions: vec!["us-east-1".into()],
            accounts: vec!["1".into()],
            ..Prune::default()
        };
        assert!(p.rules_out(&day(10)), "region r is not wanted");
        assert!(!p.rules_out(Path::new("/AWSLogs/1/vpcflowlogs/us-east-1/2026")));
        assert!(p.rules_out(Path::new("/AWSLogs/2/vpcflowlogs/us-east-1/2026")));
    }
}
