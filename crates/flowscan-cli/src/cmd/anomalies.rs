//! `flowscan anomalies`: reject spikes against a learned baseline.

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::Path;

use anyhow::{Context, Result};
use flowscan::aggregate::anomalies::{detect_top, AnomalyOptions, Detection, Series};
use flowscan::aggregate::top::{KeyPart, Measure, Top, TopConfig};
use flowscan::display::format_time;
use flowscan::query::Query;
use flowscan::render;
use flowscan::{Field, MemoryBudget};

use crate::args::{AnomalyArgs, AnomalyMeasure, SummaryFormat};
use crate::{config, report, Exit};

/// Runs the command.
pub fn run(args: AnomalyArgs) -> Result<Exit> {
    let key = KeyPart::parse(&args.key)
        .map_err(anyhow::Error::msg)
        .context(crate::bad("key"))?;
    let bucket = flowscan::parse::parse_duration(&args.bucket)
        .map_err(anyhow::Error::msg)
        .context(crate::bad("bucket"))?;
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
    let (mut agg, scan) = super::scan(&setup, || Top::new(cfg.clone()))?;
    let approximate = agg.approximation();
    if let Some(a) = &approximate {
        say!(
            "flowscan: {} (--max-memory)",
            render::anomalies_approximation_note(a)
        );
    }
    let aopts = AnomalyOptions {
        bucket,
        window: args.window.max(1),
        sensitivity: args.sensitivity,
        min_count: args.min_count,
    };
    let det = detect_top(&mut agg, &aopts).map_err(anyhow::Error::msg)?;
    drop(agg);
    if det.saturated {
        say!("flowscan: warning: {}", render::SATURATED);
    }
    if let Some(path) = &args.plot {
        plot(path, &det, bucket).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let view = render::Anomalies {
        key: &args.key,
        bucket: &args.bucket,
        measure: &cfg.measure,
        options: &aopts,
        detection: &det,
        approximate: approximate.as_ref(),
        top: args.top,
    };
    let mut out = io::stdout().lock();
    match args.format {
        SummaryFormat::Json => render::anomalies_json(&mut out, &view, &scan)?,
        SummaryFormat::Table => render::anomalies_table(&mut out, &view)?,
    }
    out.flush()?;
    Ok(report::exit_code(&scan))
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
    // Drawn into memory and written here: the backend's own file writes
    // dropped their errors (a full disk left a cut SVG and exit 0).
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, 220 * keys.len().max(1) as u32))
            .into_drawing_area();
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
                        .map(|a| {
                            Circle::new((x(a.window_start), a.observed as f64), 4, RED.filled())
                        }),
                )
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        root.present().map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    std::fs::write(path, svg)?;
    Ok(())
}
