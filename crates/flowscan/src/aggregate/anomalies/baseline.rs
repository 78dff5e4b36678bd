//! Judging each window of sparse series against its stretch's history.

use super::{Anomaly, AnomalyOptions, Detection, Point, Series, Stretch};

/// A stretch in window numbers (`t / bucket`).
struct Span {
    first: u64,
    last: u64,
    seasonal: bool,
}

/// Cuts the windows holding any record (window numbers, sorted and
/// deduplicated) wherever none holds one for longer than `gap` windows.
fn stretches(windows: &[u64], gap: u64, per_day: u64) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::new();
    for &w in windows {
        match out.last_mut() {
            Some(s) if w - s.last <= gap => s.last = w,
            _ => out.push(Span {
                first: w,
                last: w,
                seasonal: false,
            }),
        }
    }
    for s in &mut out {
        s.seasonal = s.last - s.first + 1 >= 2 * per_day;
    }
    out
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

/// Same-time values of earlier days needed before they set a baseline of
/// their own: with three, the median is one of them only if it is shared by
/// two, so a single earlier burst (or quiet day) cannot set the bound.
const SEASONAL_MIN: usize = 3;

/// The baseline values for point `j` of a key's sorted points: the trailing
/// windows of its stretch (zeros where the key had no records) and, in a
/// seasonal stretch, the same window on up to seven earlier days.
fn history(
    pts: &[(u64, u64)],
    j: usize,
    span: &Span,
    window: u64,
    per_day: u64,
) -> (Vec<f64>, Vec<f64>) {
    let w = pts[j].0;
    let h = window.min(w - span.first);
    let mut trailing: Vec<f64> = pts[..j]
        .iter()
        .rev()
        .take_while(|p| p.0 >= w - h)
        .map(|p| p.1 as f64)
        .collect();
    trailing.resize(h as usize, 0.0);
    let mut seasonal = Vec::new();
    if span.seasonal {
        for d in 1..=7u64 {
            match w.checked_sub(d * per_day) {
                Some(x) if x >= span.first => {
                    let v = pts[..j]
                        .binary_search_by_key(&x, |p| p.0)
                        .map_or(0, |k| pts[k].1);
                    seasonal.push(v as f64);
                }
                _ => break,
            }
        }
    }
    (trailing, seasonal)
}

/// A baseline: its median, its scale, and the upper bound a value must pass.
struct Level {
    median: f64,
    scale: f64,
    upper: f64,
}

impl Level {
    /// The level of `values` (not empty; reordered).
    fn of(values: &mut [f64], sensitivity: f64) -> Level {
        let median = median(values);
        let mut dev: Vec<f64> = values.iter().map(|v| (v - median).abs()).collect();
        let scale = (1.4826 * self::median(&mut dev))
            .max(median.sqrt())
            .max(1.0);
        Level {
            median,
            scale,
            upper: median + sensitivity * scale,
        }
    }
}

/// Judges keys one at a time, in any order, each with its points in time
/// order; keeps the series of keys with anomalies (and of the busiest key, for
/// a chart when there are none).
pub(super) struct Walk<'o> {
    opts: &'o AnomalyOptions,
    origin: u64,
    window: u64,
    per_day: u64,
    spans: Vec<Span>,
    det: Detection,
    /// The busiest key's series so far (its largest window), while no key
    /// has an anomaly.
    busiest: Option<(u64, Series)>,
}

impl<'o> Walk<'o> {
    /// A walk over data whose windows (times, in any order) are `times`.
    pub fn new(mut times: Vec<u64>, opts: &'o AnomalyOptions) -> Walk<'o> {
        let origin = times.iter().copied().min().unwrap_or(0);
        for t in &mut times {
            *t = (*t - origin) / opts.bucket;
        }
        times.sort_unstable();
        times.dedup();
        let window = opts.window.max(1) as u64;
        let per_day = (86_400 / opts.bucket).max(1);
        let spans = stretches(&times, window.max(per_day), per_day);
        drop(times);
        let start = |w: u64| origin + w * opts.bucket;
        let det = Detection {
            anomalies: Vec::new(),
            series: Vec::new(),
            keys: 0,
            stretches: spans
                .iter()
                .map(|s| Stretch {
                    first: start(s.first),
                    last: start(s.last),
                })
                .collect(),
            judged: 0,
            short_history: 0,
            not_judged: 0,
            min_history: opts.min_history(),
            full_history: opts.full_history(),
            untimed: 0,
            saturated: false,
        };
        Walk {
            opts,
            origin,
            window,
            per_day,
            spans,
            det,
            busiest: None,
        }
    }

    /// The window number of a time.
    pub fn window_of(&self, t: u64) -> u64 {
        (t - self.origin) / self.opts.bucket
    }

    /// Judges one key's points: (window number, value), ascending.
    pub fn key(&mut self, key: String, pts: &[(u64, u64)]) {
        let opts = self.opts;
        let full = opts.full_history();
        let found = self.det.anomalies.len();
        self.det.saturated |= pts.iter().any(|p| p.1 == u64::MAX);
        let mut series = Vec::with_capacity(pts.len());
        for j in 0..pts.len() {
            let (w, x) = pts[j];
            let span = &self.spans[self.spans.partition_point(|s| s.last < w)];
            let (mut trailing, mut seasonal) = history(pts, j, span, self.window, self.per_day);
            let mut point = Point {
                start: self.origin + w * opts.bucket,
                value: x,
                upper: None,
            };
            // The trailing windows decide whether a window can be judged:
            // the same-time values only ever raise the bound.
            if trailing.len() < opts.min_history() {
                self.det.not_judged += 1;
                series.push(point);
                continue;
            }
            self.det.judged += 1;
            let short = trailing.len() < full;
            self.det.short_history += u64::from(short);
            // A value must pass both baselines: the trailing windows', and
            // the same time on earlier days', so that what happens at that
            // time every day is not a spike every day.
            let mut level = Level::of(&mut trailing, opts.sensitivity);
            let mut known = trailing.len();
            if seasonal.len() >= SEASONAL_MIN {
                let daily = Level::of(&mut seasonal, opts.sensitivity);
                if daily.upper > level.upper {
                    level = daily;
                    known = seasonal.len();
                }
            }
            point.upper = Some(level.upper);
            series.push(point);
            if x >= opts.min_count.max(1) && x as f64 > level.upper {
                self.det.anomalies.push(Anomaly {
                    key: key.clone(),
                    window_start: point.start,
                    observed: x,
                    expected: level.median,
                    upper: level.upper,
                    score: (x as f64 - level.median) / level.scale,
                    history: known,
                    confidence: if short { "low" } else { "high" },
                });
            }
        }
        self.det.keys += 1;
        let series = Series {
            key,
            points: series,
        };
        if self.det.anomalies.len() > found {
            self.det.series.push(series);
        } else if self.det.anomalies.is_empty() {
            let peak = pts.iter().map(|p| p.1).max().unwrap_or(0);
            if self.busiest.as_ref().is_none_or(|b| peak > b.0) {
                self.busiest = Some((peak, series));
            }
        }
    }

    /// The detection, anomalies strongest first.
    pub fn finish(mut self, untimed: u64) -> Detection {
        if self.det.series.is_empty() {
            self.det.series.extend(self.busiest.map(|b| b.1));
        }
        self.det.untimed = untimed;
        self.det.saturated |= untimed == u64::MAX;
        self.det.anomalies.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.key.cmp(&b.key))
                .then(a.window_start.cmp(&b.window_start))
        });
        self.det
    }
}
