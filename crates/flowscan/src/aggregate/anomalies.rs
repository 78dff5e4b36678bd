//! Reject spikes against a learned baseline, as CloudWatch anomaly detection
//! does, without the cloud.
//!
//! REJECT counts (or bytes) per key are bucketed into time windows by the
//! [`Top`](super::top::Top) aggregation (`--by KEY,start/5m`). For each key the
//! series is made dense (empty windows count zero), and each window is compared
//! with a robust baseline of the windows before it: the median and the median
//! absolute deviation (MAD) of the trailing `window` values and, when the data
//! spans two days or more, of the same time of day on up to seven earlier days
//! (daily seasonality). A window is an anomaly when it exceeds
//! `median + sensitivity × scale`, where `scale = max(1.4826 × MAD, √median, 1)`
//! (the MAD of a steady series can be zero; the square root stands for counting
//! noise), and holds at least `min_count`.

use serde::Serialize;

use super::top::{KeyValue, TopReport};

/// How spikes are judged.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AnomalyOptions {
    /// Bucket width in seconds.
    pub bucket: u64,
    /// Trailing buckets the baseline learns from.
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
}

fn ser_time<S: serde::Serializer>(t: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&super::rejects::format_time(*t))
}

/// A key's dense series, for plotting.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Series {
    /// The key.
    pub key: String,
    /// Start of the first window (Unix seconds).
    pub start: u64,
    /// Values per window.
    pub values: Vec<u64>,
    /// The band's top per window (`None` while the baseline is still learning).
    pub upper: Vec<Option<f64>>,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Finds the anomalies in a `Top` report grouped by `[key, start/bucket]`
/// (every group, not just the top ones), strongest first; and each key's
/// series.
pub fn detect(report: &TopReport, opts: &AnomalyOptions) -> (Vec<Anomaly>, Vec<Series>) {
    // key text -> (bucket start -> value)
    let mut keys: Vec<String> = Vec::new();
    let mut points: Vec<Vec<(u64, u64)>> = Vec::new();
    let (mut lo, mut hi) = (u64::MAX, 0u64);
    for row in &report.rows {
        let (KeyValue::Time(t), key) = (&row.key[1], row.key[0].to_string()) else {
            continue;
        };
        let value = row.sum.unwrap_or(row.records);
        lo = lo.min(*t);
        hi = hi.max(*t);
        match keys.iter().position(|k| *k == key) {
            Some(i) => points[i].push((*t, value)),
            None => {
                keys.push(key);
                points.push(vec![(*t, value)]);
            }
        }
    }
    if keys.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let n = ((hi - lo) / opts.bucket + 1) as usize;
    let per_day = (86_400 / opts.bucket).max(1) as usize;
    let seasonal = n >= 2 * per_day;
    let mut found = Vec::new();
    let mut all = Vec::new();
    for (key, pts) in keys.into_iter().zip(points) {
        let mut values = vec![0u64; n];
        for (t, v) in pts {
            values[((t - lo) / opts.bucket) as usize] += v;
        }
        let mut upper = vec![None; n];
        for i in 0..n {
            let mut base: Vec<f64> = values[i.saturating_sub(opts.window)..i]
                .iter()
                .map(|&v| v as f64)
                .collect();
            if seasonal {
                for d in 1..=7 {
                    if let Some(j) = i.checked_sub(d * per_day) {
                        base.push(values[j] as f64);
                    }
                }
            }
            if base.len() < opts.window.div_ceil(2).max(3) {
                continue;
            }
            let m = median(&mut base);
            let mut dev: Vec<f64> = base.iter().map(|v| (v - m).abs()).collect();
            let mad = median(&mut dev);
            let scale = (1.4826 * mad).max(m.sqrt()).max(1.0);
            let top = m + opts.sensitivity * scale;
            upper[i] = Some(top);
            let x = values[i];
            if x >= opts.min_count && x as f64 > top {
                found.push(Anomaly {
                    key: key.clone(),
                    window_start: lo + i as u64 * opts.bucket,
                    observed: x,
                    expected: m,
                    upper: top,
                    score: (x as f64 - m) / scale,
                });
            }
        }
        all.push(Series {
            key,
            start: lo,
            values,
            upper,
        });
    }
    found.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.key.cmp(&b.key))
            .then(a.window_start.cmp(&b.window_start))
    });
    (found, all)
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
mod tests {
    use super::*;
    use crate::aggregate::top::TopRow;

    fn report(rows: &[(&str, u64, u64)]) -> TopReport {
        TopReport {
            by: vec!["interface-id".into(), "start/5m".into()],
            measure: "records".into(),
            groups: rows.len() as u64,
            rows: rows
                .iter()
                .map(|(k, t, v)| TopRow {
                    key: vec![KeyValue::Text(k.to_string()), KeyValue::Time(*t)],
                    records: *v,
                    sum: None,
                    distinct: None,
                })
                .collect(),
        }
    }

    #[test]
    fn a_spike_in_a_steady_series_is_found_and_only_it() {
        let mut rows = Vec::new();
        for i in 0..100u64 {
            let v = if i == 70 { 400 } else { 40 + (i * 7) % 9 };
            rows.push(("eni-a", 1_000_000 + i * 300, v));
            rows.push(("eni-b", 1_000_000 + i * 300, 20 + (i * 5) % 7));
        }
        let rows: Vec<(&str, u64, u64)> = rows.iter().map(|(k, t, v)| (*k, *t, *v)).collect();
        let (found, series) = detect(&report(&rows), &AnomalyOptions::default());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].key, "eni-a");
        assert_eq!(found[0].window_start, 1_000_000 + 70 * 300);
        assert_eq!(series.len(), 2);
    }

    #[test]
    fn gaps_count_as_zero_and_small_counts_are_not_spikes() {
        let rows = [("k", 0, 3), ("k", 3000, 9), ("k", 6000, 2)];
        let (found, series) = detect(&report(&rows), &AnomalyOptions::default());
        assert!(found.is_empty());
        assert_eq!(series[0].values.len(), 21);
    }

    #[test]
    fn sparklines() {
        assert_eq!(sparkline(&[0, 1, 2, 4, 8]), "▁▂▃▅█");
    }
}
