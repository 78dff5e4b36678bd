//! Partition values: read from the input's S3 path, the record, or the
//! defaults the caller gives, and validated before they become folder names.
//! A value that is missing or not what AWS writes goes to a fallback
//! partition (`unknown`; for time, the first hour of 2015, before flow logs
//! existed), and is counted.

use std::path::PathBuf;

use serde::Serialize;

use super::layout::Dataset;
use super::Partition;

/// The partition value for a missing or invalid account or region.
pub const UNKNOWN: &str = "unknown";

/// The first year the Athena table projects: AWS launched flow logs in 2015.
pub const FIRST_YEAR: i32 = 2015;
/// The last year a record's time is believed (later times are garbage).
const LAST_YEAR: i32 = 2099;
/// Where rows without a usable time go: 2015-01-01T00:00Z, months before
/// flow logs existed, so nothing real can be there.
pub const FALLBACK_TIME: u64 = 1_420_070_400;

/// An AWS account id: twelve digits.
pub fn valid_account(s: &[u8]) -> bool {
    s.len() == 12 && s.iter().all(u8::is_ascii_digit)
}

/// An AWS region name: lowercase words joined by `-`, the first two letters
/// long, the last a number (`us-east-1`, `us-gov-west-1`, `ap-southeast-2`).
pub fn valid_region(s: &[u8]) -> bool {
    if s.len() > 32 {
        return false;
    }
    let parts: Vec<&[u8]> = s.split(|&b| b == b'-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[0].iter().all(u8::is_ascii_lowercase)
        && parts[1..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.iter().all(u8::is_ascii_lowercase))
        && parts
            .last()
            .is_some_and(|p| (1..=2).contains(&p.len()) && p.iter().all(u8::is_ascii_digit))
}

/// Rows that went to a fallback partition, by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Fallbacks {
    /// Rows without a valid account id (path, record or default).
    pub account: u64,
    /// Rows without a valid region.
    pub region: u64,
    /// Rows without a usable start or end time.
    pub time: u64,
}

impl Fallbacks {
    pub(crate) fn add(&mut self, o: &Fallbacks) {
        self.account += o.account;
        self.region += o.region;
        self.time += o.time;
    }

    /// Whether any row went to a fallback partition.
    pub fn any(&self) -> bool {
        self.account + self.region + self.time > 0
    }
}

/// A partition: dataset, account, region and time bucket (validated).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct PartKey {
    pub dataset: Dataset,
    pub account: String,
    pub region: String,
    /// Unix seconds of the bucket's start.
    pub bucket: u64,
}

/// The bucket of a time, or the fallback when it is not a believable one.
pub(crate) fn bucket(t: Option<u64>, p: Partition) -> (u64, bool) {
    let width = match p {
        Partition::None => return (0, false),
        Partition::Day => 86_400,
        Partition::Hour => 3600,
    };
    let year = |t: u64| {
        use chrono::Datelike;
        i64::try_from(t)
            .ok()
            .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
            .map(|d| d.year())
    };
    match t {
        Some(t) if year(t).is_some_and(|y| (FIRST_YEAR..=LAST_YEAR).contains(&y)) => {
            (t - t % width, false)
        }
        _ => (FALLBACK_TIME, true),
    }
}

impl PartKey {
    /// The folder, relative to the output root: only validated values and
    /// digits go into it, so it cannot leave the root.
    pub fn dir(&self, p: Partition) -> PathBuf {
        // Under `AWSLogs/` whatever the partitioning, so that a table's
        // location (`AWSLogs/` under its dataset's root) never holds the
        // other dataset's files: Athena reads every file under a location.
        let mut d = PathBuf::from(self.dataset.root());
        d.push("AWSLogs");
        if p == Partition::None {
            return d;
        }
        d.push(format!("aws-account-id={}", self.account));
        d.push("aws-service=vpcflowlogs");
        d.push(format!("aws-region={}", self.region));
        let t = chrono::DateTime::from_timestamp(self.bucket as i64, 0).unwrap_or_default();
        d.push(t.format("year=%Y").to_string());
        d.push(t.format("month=%m").to_string());
        d.push(t.format("day=%d").to_string());
        if p == Partition::Hour {
            d.push(t.format("hour=%H").to_string());
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_and_regions_are_validated() {
        assert!(valid_account(b"012345678901"));
        for bad in [
            &b"12345"[..],
            b"x/../../../escaped",
            b"0123456789012",
            b"unknown",
            b"",
        ] {
            assert!(!valid_account(bad));
        }
        for good in [
            "us-east-1",
            "us-gov-west-1",
            "ap-southeast-2",
            "il-central-1",
            "us-isob-east-1",
        ] {
            assert!(valid_region(good.as_bytes()), "{good}");
        }
        for bad in [
            "",
            "us",
            "us-east",
            "US-EAST-1",
            "us-east-1/../x",
            "us--1",
            "useast-1-",
            "a-b-1",
        ] {
            assert!(!valid_region(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn times_outside_the_flow_log_era_fall_back() {
        assert_eq!(
            bucket(Some(1_764_000_123), Partition::Hour),
            (1_764_000_000, false)
        );
        assert_eq!(
            bucket(Some(170_000_000), Partition::Hour),
            (FALLBACK_TIME, true)
        );
        assert_eq!(bucket(None, Partition::Day), (FALLBACK_TIME, true));
        assert_eq!(
            bucket(Some(u64::MAX), Partition::Hour),
            (FALLBACK_TIME, true)
        );
        assert_eq!(bucket(None, Partition::None), (0, false));
    }

    #[test]
    fn folders_hold_only_validated_values() {
        let k = PartKey {
            dataset: Dataset::Vpc,
            account: "123456789012".into(),
            region: "eu-west-1".into(),
            bucket: 1_763_996_400,
        };
        assert_eq!(
            k.dir(Partition::Hour),
            PathBuf::from("AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2025/month=11/day=24/hour=15")
        );
        // The folders' keys are the columns the layout keeps free and the
        // DDL declares.
        let dir = k.dir(Partition::Hour);
        let keys: Vec<&str> = dir
            .iter()
            .skip(1)
            .map(|c| c.to_str().unwrap().split('=').next().unwrap())
            .collect();
        assert_eq!(keys, super::super::layout::PARTITION_COLUMNS);
    }
}
