//! `flowscan anomalies`: reject spikes against a learned baseline.

use std::io::{self, Write};
use std::path::Path;

use anyhow::{Context, Result};
use std::collections::HashMap;

use flowscan::aggregate::anomalies::{
    detect_top, sparkline, Anomaly, AnomalyOptions, Detection, Series,
};
use flowscan::aggregate::top::{KeyPart, Measure, Top, TopConfig};
use flowscan::display::format_time;
use flowscan::query::Query;
use flowscan::render::{approximation_text, thousands};
use flowscan::{Field, MemoryBudget};

use super::plural;
use crate::args::{AnomalyArgs, AnomalyMeasure, SummaryFormat};
use crate::{config, report, Exit};

/// Buckets shown on each side of an anomaly in its sparkline.
const AROUND: usize = 24;

/// Runs the command.
pub fn run(args: AnomalyArgs) -> Result<Exit> {
    let key = KeyPart::parse(&args.key)
        .map_err(anyhow::Error::msg)
        .context("bad --key")?;
    let bucket = flowscan::parse::parse_duration(&args.bucket)
        .map_err(anyhow::Error::msg)
        .context("bad --bucket")?;
    let setup = config::setup_with(&args.input, &args.filter, None, |f| {
        let rejects = Query::parse("action = REJECT").expect("a valid query");
        f.query = Some(match f.query.take() {
            Some(q) => Query::And(vec![q, rejects]),
            None => rejects,
        });
    })?;
    let cfg = TopConfig {
        by: vec![key, KeyPart::Time(Field::Start, bucket)],
        measure: match args.measure {
            AnomalyMeasure::Records => Measure::Count,
            AnomalyMeasure::Bytes => Measure::Sum(Field::Bytes),
        },
        // One budget for the groups of every thread.
        memory: Some(MemoryBudget::new(super::budget_bytes(args.max_memory))),
    };
    let (agg, scan) = super::scan(&setup, || Top::new(cfg.clone()))?;
    let approximate = agg.approximation();
    let note = approximate
        .as_ref()
        .map(|a| approximation_text(a, "window", ""));
    if let Some(n) = &note {
        say!("flowscan: {n} (--max-memory)");
    }
    let aopts = AnomalyOptions {
        bucket,
        window: args.window.max(1),
        sensitivity: args.sensitivity,
        min_count: args.min_count,
    };
    let det = detect_top(&agg, &aopts).map_err(anyhow::Error::msg)?;
    drop(agg);
    if let Some(path) = &args.plot {
        plot(path, &det, bucket).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let shown: Vec<&Anomaly> = det.anomalies.iter().take(args.top).collect();
    let mut out = io::stdout().lock();
    match args.format {
        SummaryFormat::Json => {
            let doc = serde_json::json!({
                "key": args.key,
                "bucket_seconds": bucket,
                "series": det.keys,
                "windows": {
                    "judged": det.judged,
                    "judged_with_short_history": det.short_history,
                    "not_judged": det.not_judged,
                    "min_history": det.min_history,
                    "full_history": det.full_history,
                },
                "not_judged_because": not_judged(&det),
                "stretches": det.stretches,
                "untimed": det.untimed,
                "approximate": approximate,
                "anomalies": shown,
                "scan": flowscan::render::scan_json_value(&scan),
            });
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
        SummaryFormat::Table => {
            if let Some(n) = &note {
                writeln!(out, "{n}\n")?;
            }
            table(&mut out, &args, &det, &shown, bucket)?
        }
    }
    out.flush()?;
    Ok(report::exit_code(&scan))
}

/// Why a window with records is not judged.
fn not_judged(det: &Detection) -> String {
    format!(
        "the first windows of the data (of each stretch) have fewer than {} to compare with",
        plural(det.min_history as u64, "earlier window", "earlier windows")
    )
}

/// The stretches listed in the table before the rest are summed up.
const STRETCHES_SHOWN: usize = 5;

fn table(
    out: &mut dyn Write,
    args: &AnomalyArgs,
    det: &Detection,
    shown: &[&Anomaly],
    bucket: u64,
) -> io::Result<()> {
    writeln!(
        out,
        "{} among {} of {} per {} window{}\n",
        plural(
            det.anomalies.len() as u64,
            "anomalous window",
            "anomalous windows"
        ),
        plural(det.keys, "series", "series"),
        match args.measure {
            AnomalyMeasure::Records => "REJECT records",
            AnomalyMeasure::Bytes => "REJECT bytes",
        },
        args.bucket,
        if det.anomalies.len() > shown.len() {
            format!(" (the {} strongest shown)", shown.len())
        } else {
            String::new()
        }
    )?;
    judged_lines(out, det, args.window.max(1) as u64, bucket)?;
    let index: HashMap<&str, &Series> = det.series.iter().map(|s| (s.key.as_str(), s)).collect();
    for a in shown {
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
        let (Some(s), Some(st)) = (index.get(a.key.as_str()), det.stretch_of(a.window_start))
        else {
            continue;
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
        )?;
    }
    Ok(())
}

/// How much of the data was judged, and the stretches it falls in.
fn judged_lines(out: &mut dyn Write, det: &Detection, window: u64, bucket: u64) -> io::Result<()> {
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
        // As the library cuts them: no record for longer than a day or the
        // baseline window, whichever is longer.
        let gap = (window * bucket).max(86_400);
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
        )?;
    }
    writeln!(out)
}

/// One panel per key (the four with the strongest anomalies): the series over
/// the stretch of data holding its strongest anomaly, the band's top, and the
/// anomalous windows marked.
fn plot(path: &Path, det: &Detection, bucket: u64) -> Result<()> {
    use plotters::prelude::*;
    let mut keys: Vec<(&str, u64)> = Vec::new();
    for a in &det.anomalies {
        if !keys.iter().any(|k| k.0 == a.key) {
            keys.push((&a.key, a.window_start));
        }
        if keys.len() == 4 {
            break;
        }
    }
    if keys.is_empty() {
        keys.extend(
            det.series
                .iter()
                .take(1)
                .filter_map(|s| Some((s.key.as_str(), s.points.first()?.start))),
        );
    }
    let index: HashMap<&str, &Series> = det.series.iter().map(|s| (s.key.as_str(), s)).collect();
    let root = SVGBackend::new(path, (960, 220 * keys.len().max(1) as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow::anyhow!("{e}"))?;
    let panels = root.split_evenly((keys.len().max(1), 1));
    for (panel, (key, at)) in panels.iter().zip(keys) {
        let (Some(s), Some(st)) = (index.get(key), det.stretch_of(at)) else {
            continue;
        };
        let values = s.values(st.first, st.last, bucket);
        let x = |t: u64| ((t - st.first) / bucket) as f64;
        let in_view = |t: u64| t >= st.first && x(t) < values.len() as f64;
        let max = values.iter().copied().max().unwrap_or(1).max(1) as f64 * 1.1;
        let mut chart = ChartBuilder::on(panel)
            .caption(
                format!("{key} (window {bucket} s, from {})", format_time(st.first)),
                ("sans-serif", 14),
            )
            .margin(8)
            .x_label_area_size(24)
            .y_label_area_size(48)
            .build_cartesian_2d(0f64..values.len() as f64, 0f64..max)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        chart
            .configure_mesh()
            .x_desc("window")
            .disable_mesh()
            .draw()
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        chart
            .draw_series(LineSeries::new(
                values
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| (i as f64, v as f64)),
                &BLUE,
            ))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        chart
            .draw_series(LineSeries::new(
                s.points
                    .iter()
                    .filter(|p| in_view(p.start))
                    .filter_map(|p| p.upper.map(|u| (x(p.start), u.min(max)))),
                &RGBColor(160, 160, 160),
            ))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        chart
            .draw_series(
                det.anomalies
                    .iter()
                    .filter(|a| a.key == key && in_view(a.window_start))
                    .map(|a| Circle::new((x(a.window_start), a.observed as f64), 4, RED.filled())),
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    root.present().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}
