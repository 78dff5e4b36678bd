//! Judging each window of sparse series against its stretch's history.

use super::{Anomaly, AnomalyOptions, Detection, Point, Series, Stretch};

/// A stretch in window numbers (`t / bucket`).
struct Span {
    first: u64,
    last: u64,
    seasonal: bool,
}

/// Cuts the windows holding any record wherever none holds one for longer
/// than `gap` windows.
fn stretches(points: &[Vec<(u64, u64)>], gap: u64, per_day: u64) -> Vec<Span> {
    let mut all: Vec<u64> = points.iter().flatten().map(|p| p.0).collect();
    all.sort_unstable();
    all.dedup();
    let mut out: Vec<Span> = Vec::new();
    for w in all {
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

/// The baseline values for point `j` of a key's sorted points: the trailing
/// windows of its stretch (zeros where the key had no records) and, in a
/// seasonal stretch, the same window on up to seven earlier days.
fn history(pts: &[(u64, u64)], j: usize, span: &Span, window: u64, per_day: u64) -> Vec<f64> {
    let w = pts[j].0;
    let h = window.min(w - span.first);
    let mut base: Vec<f64> = pts[..j]
        .iter()
        .rev()
        .take_while(|p| p.0 >= w - h)
        .map(|p| p.1 as f64)
        .collect();
    base.resize(h as usize, 0.0);
    if span.seasonal {
        for d in 1..=7u64 {
            match w.checked_sub(d * per_day) {
                Some(x) if x >= span.first => {
                    let v = pts[..j]
                        .binary_search_by_key(&x, |p| p.0)
                        .map_or(0, |k| pts[k].1);
                    base.push(v as f64);
                }
                _ => break,
            }
        }
    }
    base
}

/// Judges every point of every key; `points` are (window number, value), window
/// `w` starting at `origin + w × bucket`.
pub(super) fn judge(
    keys: Vec<String>,
    mut points: Vec<Vec<(u64, u64)>>,
    origin: u64,
    opts: &AnomalyOptions,
) -> Detection {
    let start = |w: u64| origin + w * opts.bucket;
    for pts in &mut points {
        pts.sort_unstable();
        // A report holds each (key, window) once; sum any repeats all the same.
        pts.dedup_by(|b, a| {
            let same = a.0 == b.0;
            if same {
                a.1 = a.1.saturating_add(b.1);
            }
            same
        });
    }
    let window = opts.window.max(1) as u64;
    let per_day = (86_400 / opts.bucket).max(1);
    let spans = stretches(&points, window.max(per_day), per_day);
    let full = opts.full_history();
    let mut det = Detection {
        anomalies: Vec::new(),
        series: Vec::with_capacity(keys.len()),
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
        full_history: full,
        untimed: 0,
    };
    for (key, pts) in keys.into_iter().zip(points) {
        let mut series = Vec::with_capacity(pts.len());
        for j in 0..pts.len() {
            let (w, x) = pts[j];
            let span = &spans[spans.partition_point(|s| s.last < w)];
            let mut base = history(&pts, j, span, window, per_day);
            let mut point = Point {
                start: start(w),
                value: x,
                upper: None,
            };
            if base.len() < opts.min_history() {
                det.not_judged += 1;
                series.push(point);
                continue;
            }
            det.judged += 1;
            let short = base.len() < full;
            det.short_history += u64::from(short);
            let m = median(&mut base);
            let mut dev: Vec<f64> = base.iter().map(|v| (v - m).abs()).collect();
            let scale = (1.4826 * median(&mut dev)).max(m.sqrt()).max(1.0);
            let top = m + opts.sensitivity * scale;
            point.upper = Some(top);
            series.push(point);
            if x >= opts.min_count.max(1) && x as f64 > top {
                det.anomalies.push(Anomaly {
                    key: key.clone(),
                    window_start: point.start,
                    observed: x,
                    expected: m,
                    upper: top,
                    score: (x as f64 - m) / scale,
                    history: base.len(),
                    confidence: if short { "low" } else { "high" },
                });
            }
        }
        det.series.push(Series {
            key,
            points: series,
        });
    }
    det.anomalies.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.key.cmp(&b.key))
            .then(a.window_start.cmp(&b.window_start))
    });
    det
}
