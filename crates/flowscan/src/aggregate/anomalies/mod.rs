//! Reject spikes against a learned baseline, as CloudWatch anomaly detection
//! does, without the cloud.
//!
//! REJECT counts (or bytes) per key are bucketed into time windows by the
//! [`Top`] aggregation (`KEY,start/5m`). Each window a key has
//! records in is compared with a robust baseline of the windows before it: the
//! median and the median absolute deviation (MAD) of the trailing `window`
//! values (windows without records count zero). A window is an anomaly when it
//! exceeds `median + sensitivity × scale`, where
//! `scale = max(1.4826 × MAD, √median, 1)` (the MAD of a steady series can be
//! zero; the square root stands for counting noise), and holds at least
//! `min_count`. When the data spans two days or more, the same time of day on
//! up to seven earlier days is a second baseline (daily seasonality), once at
//! least three earlier days are known (their median is then not a single
//! day's): a window must exceed that one's bound too, so a burst at the same
//! time every day is a spike on its first three days only, and one far above
//! the usual burst still is. The trailing windows alone decide whether a
//! window is judged, and its confidence.
//!
//! **The data's real span.** Series are sparse: only windows with records are
//! stored and judged (an empty window is never a spike), so memory follows the
//! rows of the report, not the distance between the earliest and latest time.
//! The windows holding any record are cut into *stretches* wherever no key has
//! a record for longer than a day (or than the baseline's `window`, if longer):
//! the logs say nothing about such a gap, so it is not counted as zeros, and each
//! stretch is judged on its own. A record whose `start` is far from the bulk
//! (0, or a time in the year 2262 from a corrupt field) therefore makes a
//! stretch of its own, costs one window, and cannot distort the baseline of the
//! rest.
//!
//! **Early windows.** A window is judged against what history its stretch has:
//! with fewer than [`AnomalyOptions::full_history`] values (half the window) the
//! verdict is reported with `low` confidence. The first windows of a stretch,
//! with fewer than [`AnomalyOptions::min_history`] (3) earlier windows, are not
//! judged (a median of one or two values, one of them usually the partial first
//! window of a file, is no baseline); [`Detection::not_judged`] counts them.

mod baseline;

use baseline::Walk;

use std::fmt::{self, Write as _};

use serde::Serialize;

use super::top::{KeyValue, Top, TopReport};

/// How spikes are judged.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AnomalyOptions {
    /// Bucket width in seconds (the width the report was grouped by).
    pub bucket: u64,
    /// Trailing buckets the baseline learns from (at least 1 is used).
    pub window: usize,
    /// How many scales above the median a spike must be.
    pub sensitivity: f64,
    /// Smallest count that can be an anomaly.
    pub min_count: u64,
}

impl Default for AnomalyOptions {
    fn default() -> Self {
        AnomalyOptions {
            bucket: 300,
            window: 24,
            sensitivity: 5.0,
            min_count: 10,
        }
    }
}

impl AnomalyOptions {
    /// Values a baseline needs for any verdict: 3 (fewer when `window` is
    /// smaller). A median of one or two windows is no baseline: the first
    /// window of a file is usually partial (records that started before it).
    pub fn min_history(&self) -> usize {
        self.window.clamp(1, 3)
    }

    /// Values a baseline needs for a verdict of full confidence: half the
    /// window.
    pub fn full_history(&self) -> usize {
        self.window.max(1).div_ceil(2).max(self.min_history())
    }
}

/// One window outside the band.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Anomaly {
    /// The key (`eni-…`, `22`, `203.0.113.0/24`).
    pub key: String,
    /// Start of the window (Unix seconds).
    #[serde(serialize_with = "ser_time")]
    pub window_start: u64,
    /// What was seen.
    pub observed: u64,
    /// The baseline's median.
    pub expected: f64,
    /// The top of the normal band.
    pub upper: f64,
    /// How many scales above the median.
    pub score: f64,
    /// Values the baseline was made of (earlier windows, and the same time on
    /// earlier days).
    pub history: usize,
    /// `high`, or `low` when the baseline had fewer values than
    /// [`Detection::full_history`] (the first windows of the data).
    pub confidence: &'static str,
}

fn ser_time<S: serde::Serializer>(t: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::display::format_time(*t))
}

/// One window of a series that has records.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Point {
    /// Start of the window (Unix seconds).
    pub start: u64,
    /// Its value.
    pub value: u64,
    /// The band's top (`None` when the window was not judged).
    pub upper: Option<f64>,
}

/// A key's series: the windows it has records in, in time order (the windows
/// between them hold zero).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Series {
    /// The key.
    pub key: String,
    /// Windows with records.
    pub points: Vec<Point>,
}

impl Series {
    /// Values of the windows starting at `from`, `from + bucket`, … up to `to`
    /// (inclusive), empty windows as zero. `bucket` must not be zero (an empty
    /// result when it is), and the range is cut at 100,000 windows.
    pub fn values(&self, from: u64, to: u64, bucket: u64) -> Vec<u64> {
        if bucket == 0 || to < from {
            return Vec::new();
        }
        let n = ((to - from) / bucket + 1).min(100_000) as usize;
        let mut out = vec![0; n];
        let first = self.points.partition_point(|p| p.start < from);
        for p in &self.points[first..] {
            let i = ((p.start - from) / bucket) as usize;
            if i >= n {
                break;
            }
            out[i] += p.value;
        }
        out
    }
}

/// A run of windows with records, no gap in it longer than the baseline
/// reaches; judged apart from the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Stretch {
    /// Start of its first window (Unix seconds).
    #[serde(serialize_with = "ser_time")]
    pub first: u64,
    /// Start of its last window.
    #[serde(serialize_with = "ser_time")]
    pub last: u64,
}

/// What [`detect`] found, and how much of the data it could judge.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Detection {
    /// Anomalies, strongest first.
    pub anomalies: Vec<Anomaly>,
    /// The series of every key with an anomaly (for charts); when there is no
    /// anomaly, the series of the key with the largest window. Keeping every
    /// key's series would cost more than the aggregation that made them.
    pub series: Vec<Series>,
    /// Keys (series) judged.
    pub keys: u64,
    /// The stretches of data, in time order.
    pub stretches: Vec<Stretch>,
    /// Windows (of any key) with records that were judged.
    pub judged: u64,
    /// Of those, judged against fewer values than `full_history`: verdicts of
    /// low confidence.
    pub short_history: u64,
    /// Windows with records that were not judged: the first windows of a
    /// stretch have fewer than `min_history` earlier windows to compare with.
    pub not_judged: u64,
    /// Baseline values needed for any verdict.
    pub min_history: usize,
    /// Baseline values needed for a verdict of full confidence.
    pub full_history: usize,
    /// Records (or bytes) in report rows without a time (`start` was `-`),
    /// which belong to no window.
    pub untimed: u64,
    /// Some window's sum (or the untimed one) reached 2^64 − 1, the largest
    /// held, and stopped there: its true value is at least that.
    pub saturated: bool,
}

impl Detection {
    /// The stretch holding the window that starts at `t`.
    pub fn stretch_of(&self, t: u64) -> Option<&Stretch> {
        let i = self.stretches.partition_point(|s| s.last < t);
        self.stretches.get(i).filter(|s| s.first <= t)
    }
}

/// Why a report cannot be searched for anomalies.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DetectError {
    /// The bucket width is zero.
    ZeroBucket,
    /// The report is not grouped by exactly a key and a time bucket.
    NotKeyAndTime(String),
}

impl fmt::Display for DetectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DetectError::ZeroBucket => f.write_str("the window width is zero"),
            DetectError::NotKeyAndTime(by) => write!(
                f,
                "anomalies need a report grouped by a key and a time bucket (such as interface-id,start/5m), not by {by}"
            ),
        }
    }
}

impl std::error::Error for DetectError {}

/// Finds the anomalies in a `Top` report grouped by `[key, start/bucket]`
/// (every group, not just the top ones). Time and memory follow the report's
/// rows, not the distance between their times.
pub fn detect(report: &TopReport, opts: &AnomalyOptions) -> Result<Detection, DetectError> {
    check(&report.by.join(","), report.by.len(), opts)?;
    let mut rows = Vec::with_capacity(report.rows.len());
    for row in &report.rows {
        let (key, t) = split(&row.key, &report.by)?;
        rows.push((key.to_string(), t, row.sum.unwrap_or(row.records)));
    }
    rows.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    let times = rows.iter().filter_map(|r| r.1).collect();
    let mut keys = Keys::new(Walk::new(times, opts));
    for (key, t, v) in rows {
        keys.add(key, t, v);
    }
    Ok(keys.finish())
}

/// [`detect`] straight from a [`Top`] aggregation grouped by
/// `[key, start/bucket]`, without a report row per group: its groups are
/// walked in key order, one key's windows at a time.
pub fn detect_top(top: &mut Top, opts: &AnomalyOptions) -> Result<Detection, DetectError> {
    let by: Vec<String> = top.by().iter().map(|p| p.to_string()).collect();
    check(&by.join(","), by.len(), opts)?;
    let mut times = Vec::new();
    let mut failed = None;
    top.for_each_group(|key, _, _| match split(key, &by) {
        Ok((_, Some(t))) => times.push(t),
        Ok(_) => {}
        Err(e) => failed = Some(e),
    });
    if let Some(e) = failed {
        return Err(e);
    }
    let mut keys = Keys::new(Walk::new(times, opts));
    let mut text = String::new();
    top.for_each_group_sorted(|key, records, sum| {
        if let Ok((k, t)) = split(key, &by) {
            text.clear();
            let _ = write!(text, "{k}");
            keys.add_str(&text, t, sum.unwrap_or(records));
        }
    });
    Ok(keys.finish())
}

fn check(by: &str, parts: usize, opts: &AnomalyOptions) -> Result<(), DetectError> {
    if opts.bucket == 0 {
        return Err(DetectError::ZeroBucket);
    }
    if parts != 2 {
        return Err(DetectError::NotKeyAndTime(by.to_string()));
    }
    Ok(())
}

/// A group's key and window start (`None`: the record had no time).
fn split<'k>(
    key: &'k [KeyValue],
    by: &[String],
) -> Result<(&'k KeyValue, Option<u64>), DetectError> {
    let shape = || DetectError::NotKeyAndTime(by.join(","));
    let [key, time] = key else {
        return Err(shape());
    };
    match time {
        KeyValue::Time(t) => Ok((key, Some(*t))),
        KeyValue::Missing => Ok((key, None)),
        _ => Err(shape()),
    }
}

/// Groups in key order, gathered one key at a time for the walk.
struct Keys<'o> {
    walk: Walk<'o>,
    key: Option<String>,
    points: Vec<(u64, u64)>,
    untimed: u64,
}

impl<'o> Keys<'o> {
    fn new(walk: Walk<'o>) -> Keys<'o> {
        Keys {
            walk,
            key: None,
            points: Vec::new(),
            untimed: 0,
        }
    }

    fn add(&mut self, key: String, t: Option<u64>, value: u64) {
        if self.key.as_deref() != Some(key.as_str()) {
            self.flush();
            self.key = Some(key);
        }
        self.point(t, value);
    }

    fn add_str(&mut self, key: &str, t: Option<u64>, value: u64) {
        if self.key.as_deref() != Some(key) {
            self.flush();
            self.key = Some(key.to_string());
        }
        self.point(t, value);
    }

    fn point(&mut self, t: Option<u64>, value: u64) {
        let Some(t) = t else {
            self.untimed = self.untimed.saturating_add(value);
            return;
        };
        let w = self.walk.window_of(t);
        match self.points.last_mut() {
            // A report holds each (key, window) once; sum any repeats all the same.
            Some(p) if p.0 == w => p.1 = p.1.saturating_add(value),
            _ => self.points.push((w, value)),
        }
    }

    fn flush(&mut self) {
        if let Some(key) = self.key.take() {
            if !self.points.is_empty() {
                self.walk.key(key, &self.points);
            }
        }
        self.points.clear();
    }

    fn finish(mut self) -> Detection {
        self.flush();
        self.walk.finish(self.untimed)
    }
}

/// A one-line chart of a series: `▁▂▃▄▅▆▇█`.
pub fn sparkline(values: &[u64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = values.iter().copied().max().unwrap_or(0).max(1);
    values
        .iter()
        .map(|&v| BARS[((v as f64 / max as f64) * 7.0).round() as usize])
        .collect()
}

#[cfg(test)]
mod tests;
