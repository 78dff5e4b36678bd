//! `anomalies`: reject spikes against a learned baseline, with sparklines.

use std::collections::HashMap;
use std::io::{self, Write};

use super::{approximation_text, plural, scan_json_value, thousands, write_json};
use crate::aggregate::anomalies::{sparkline, Anomaly, AnomalyOptions, Detection, Series};
use crate::aggregate::rejects::Approximation;
use crate::aggregate::top::Measure;
use crate::display::format_time;
use crate::scan::ScanReport;

/// Buckets shown on each side of an anomaly in its sparkline.
const AROUND: usize = 24;

/// The stretches listed in the table before the rest are summed up.
const STRETCHES_SHOWN: usize = 5;

/// A detection and what was asked for, as the output describes it.
#[derive(Clone, Copy, Debug)]
pub struct Anomalies<'a> {
    /// What a series is kept per, as asked (`interface-id`, `srcaddr/24`).
    pub key: &'a str,
    /// The window width as asked (`5m`): the table repeats it as given.
    pub bucket: &'a str,
    /// What is counted per window.
    pub measure: &'a Measure,
    /// The options the detection ran with (window width in seconds, baseline).
    pub options: &'a AnomalyOptions,
    /// The detection.
    pub detection: &'a Detection,
    /// Set when the memory budget made the counts approximate.
    pub approximate: Option<&'a Approximation>,
    /// How many anomalies to show, strongest first.
    pub top: usize,
}

impl Anomalies<'_> {
    fn shown(&self) -> Vec<&Anomaly> {
        self.detection.anomalies.iter().take(self.top).collect()
    }
}

/// What an approximate `anomalies` result means, in one sentence.
pub fn anomalies_approximation_note(a: &Approximation) -> String {
    approximation_text(a, "window", "")
}

/// Why a window with records is not judged.
fn not_judged(det: &Detection) -> String {
    format!(
        "the first windows of the data (of each stretch) have fewer than {} to compare with",
        plural(det.min_history as u64, "earlier window", "earlier windows")
    )
}

/// Writes the detection and the scan summary as one JSON document.
pub fn anomalies_json(out: &mut dyn Write, a: &Anomalies<'_>, scan: &ScanReport) -> io::Result<()> {
    let det = a.detection;
    let doc = serde_json::json!({
        "key": a.key,
        "bucket_seconds": a.options.bucket,
        "series": det.keys,
        "windows": {
            "judged": det.judged,
            "judged_with_short_history": det.short_history,
            "not_judged": det.not_judged,
            "min_history": det.min_history,
            "full_history": det.full_history,
        },
        "not_judged_because": not_judged(det),
        "stretches": det.stretches,
        "untimed": det.untimed,
        "saturated": det.saturated,
        "approximate": a.approximate,
        "anomalies": a.shown(),
        "scan": scan_json_value(scan),
    });
    write_json(out, &doc)
}

/// Writes the detection for people: a heading, how much was judged, and
/// each anomaly shown with a sparkline of the windows around it.
pub fn anomalies_table(out: &mut dyn Write, a: &Anomalies<'_>) -> io::Result<()> {
    if let Some(n) = a.approximate {
        writeln!(out, "{}\n", anomalies_approximation_note(n))?;
    }
    let det = a.detection;
    let shown = a.shown();
    let measure = match a.measure {
        Measure::Count => "REJECT records".to_string(),
        Measure::Sum(f) => format!("REJECT {f}"),
        Measure::Distinct(f) => format!("distinct {f} of REJECT records"),
    };
    writeln!(
        out,
        "{} among {} of {measure} per {} window{}\n",
        plural(
            det.anomalies.len() as u64,
            "anomalous window",
            "anomalous windows"
        ),
        plural(det.keys, "series", "series"),
        a.bucket,
        if det.anomalies.len() > shown.len() {
            format!(" (the {} strongest shown)", shown.len())
        } else {
            String::new()
        }
    )?;
    judged_lines(out, det, a.options)?;
    let index: HashMap<&str, &Series> = det.series.iter().map(|s| (s.key.as_str(), s)).collect();
    for x in shown {
        anomaly(out, x, det, &index, a.options.bucket)?;
    }
    Ok(())
}

/// One anomaly's line and, below it, its sparkline.
fn anomaly(
    out: &mut dyn Write,
    a: &Anomaly,
    det: &Detection,
    index: &HashMap<&str, &Series>,
    bucket: u64,
) -> io::Result<()> {
    let confidence = if a.confidence == "low" {
        format!(
            "  low confidence: a baseline of {}",
            plural(a.history as u64, "window", "windows")
        )
    } else {
        String::new()
    };
    writeln!(
        out,
        "  {}  {}  observed {}  expected {:.0} (normal up to {:.0})  score {:.1}{confidence}",
        a.key,
        format_time(a.window_start),
        thousands(a.observed),
        a.expected,
        a.upper,
        a.score
    )?;
    let (Some(s), Some(st)) = (index.get(a.key.as_str()), det.stretch_of(a.window_start)) else {
        return Ok(());
    };
    let span = AROUND as u64 * bucket;
    let from = a.window_start.saturating_sub(span).max(st.first);
    let to = a.window_start.saturating_add(span).min(st.last);
    writeln!(
        out,
        "    {}  {} to {}",
        sparkline(&s.values(from, to, bucket)),
        format_time(from),
        format_time(to)
    )
}

/// How much of the data was judged, and the stretches it falls in.
fn judged_lines(out: &mut dyn Write, det: &Detection, opts: &AnomalyOptions) -> io::Result<()> {
    writeln!(
        out,
        "  judged      {}{}",
        plural(det.judged, "window with records", "windows with records"),
        if det.short_history > 0 {
            format!(
                ", {} of them against fewer than {} (low confidence)",
                thousands(det.short_history),
                plural(det.full_history as u64, "earlier value", "earlier values")
            )
        } else {
            String::new()
        }
    )?;
    if det.not_judged > 0 {
        writeln!(
            out,
            "  not judged  {}: {}",
            plural(det.not_judged, "window", "windows"),
            not_judged(det)
        )?;
    }
    if det.untimed > 0 {
        writeln!(
            out,
            "  untimed     {} without a start time, in no window",
            thousands(det.untimed)
        )?;
    }
    if det.stretches.len() > 1 {
        stretches_line(out, det, opts)?;
    }
    writeln!(out)
}

/// The stretches of data judged apart, the first few with their sizes.
fn stretches_line(out: &mut dyn Write, det: &Detection, opts: &AnomalyOptions) -> io::Result<()> {
    let bucket = opts.bucket;
    let list: Vec<String> = det
        .stretches
        .iter()
        .take(STRETCHES_SHOWN)
        .map(|s| {
            let n = (s.last - s.first) / bucket + 1;
            format!(
                "{} ({})",
                format_time(s.first),
                plural(n, "window", "windows")
            )
        })
        .collect();
    // As the detection cuts them: no record for longer than a day or the
    // baseline window, whichever is longer.
    let gap = (opts.window.max(1) as u64 * bucket).max(86_400);
    writeln!(
        out,
        "  stretches   {}, judged separately (no record for more than {} between them): {}{}",
        det.stretches.len(),
        if gap.is_multiple_of(86_400) {
            format!("{} d", gap / 86_400)
        } else {
            format!("{} h", gap.div_ceil(3600))
        },
        list.join(", "),
        if det.stretches.len() > STRETCHES_SHOWN {
            ", …"
        } else {
            ""
        }
    )
}
