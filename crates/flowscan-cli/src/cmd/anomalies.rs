//! `flowscan anomalies`: reject spikes against a learned baseline.

use std::io::{self, Write};
use std::path::Path;

use anyhow::{Context, Result};
use flowscan::aggregate::anomalies::{detect, sparkline, Anomaly, AnomalyOptions, Series};
use flowscan::aggregate::rejects::format_time;
use flowscan::aggregate::top::{KeyPart, Measure, Top, TopConfig};
use flowscan::query::Query;
use flowscan::render::thousands;
use flowscan::Field;

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
            Some(q) => Query::And(Box::new(q), Box::new(rejects)),
            None => rejects,
        });
    })?;
    let cfg = TopConfig {
        by: vec![key, KeyPart::Time(Field::Start, bucket)],
        measure: match args.measure {
            AnomalyMeasure::Records => Measure::Count,
            AnomalyMeasure::Bytes => Measure::Sum(Field::Bytes),
        },
    };
    let (mut agg, scan) = super::scan(&setup, || Top::new(cfg.clone()))?;
    let all = agg.report(usize::MAX);
    let aopts = AnomalyOptions {
        bucket,
        window: args.window.max(1),
        sensitivity: args.sensitivity,
        min_count: args.min_count,
    };
    let (anomalies, series) = detect(&all, &aopts);
    if let Some(path) = &args.plot {
        plot(path, &anomalies, &series, bucket)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let shown: Vec<&Anomaly> = anomalies.iter().take(args.top).collect();
    let mut out = io::stdout().lock();
    match args.format {
        SummaryFormat::Json => {
            let doc = serde_json::json!({
                "key": args.key,
                "bucket_seconds": bucket,
                "series": series.len(),
                "anomalies": shown,
                "scan": flowscan::render::scan_json_value(&scan),
            });
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
        SummaryFormat::Table => {
            writeln!(
                out,
                "{} anomalous windows among {} series of {} per {} window{}\n",
                thousands(anomalies.len() as u64),
                thousands(series.len() as u64),
                match args.measure {
                    AnomalyMeasure::Records => "REJECT records",
                    AnomalyMeasure::Bytes => "REJECT bytes",
                },
                args.bucket,
                if anomalies.len() > shown.len() {
                    format!(" (the {} strongest shown)", shown.len())
                } else {
                    String::new()
                }
            )?;
            for a in &shown {
                let s = series
                    .iter()
                    .find(|s| s.key == a.key)
                    .expect("every anomaly has its series");
                let i = ((a.window_start - s.start) / bucket) as usize;
                let from = i.saturating_sub(AROUND);
                let to = (i + AROUND + 1).min(s.values.len());
                writeln!(
                    out,
                    "  {}  {}  observed {}  expected {:.0} (normal up to {:.0})  score {:.1}",
                    a.key,
                    format_time(a.window_start),
                    thousands(a.observed),
                    a.expected,
                    a.upper,
                    a.score
                )?;
                writeln!(
                    out,
                    "    {}  {} to {}",
                    sparkline(&s.values[from..to]),
                    format_time(s.start + from as u64 * bucket),
                    format_time(s.start + (to as u64 - 1) * bucket)
                )?;
            }
        }
    }
    out.flush()?;
    Ok(report::exit_code(&scan))
}

/// One panel per key (the four with the strongest anomalies): the series, the
/// band's top, and the anomalous windows marked.
fn plot(path: &Path, anomalies: &[Anomaly], series: &[Series], bucket: u64) -> Result<()> {
    use plotters::prelude::*;
    let mut keys: Vec<&str> = Vec::new();
    for a in anomalies {
        if !keys.contains(&a.key.as_str()) {
            keys.push(&a.key);
        }
        if keys.len() == 4 {
            break;
        }
    }
    if keys.is_empty() {
        keys.extend(series.iter().take(1).map(|s| s.key.as_str()));
    }
    let root = SVGBackend::new(path, (960, 220 * keys.len().max(1) as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow::anyhow!("{e}"))?;
    let panels = root.split_evenly((keys.len().max(1), 1));
    for (panel, key) in panels.iter().zip(keys) {
        let s = series
            .iter()
            .find(|s| s.key == key)
            .expect("a series per key");
        let max = s.values.iter().copied().max().unwrap_or(1).max(1) as f64 * 1.1;
        let n = s.values.len() as f64;
        let mut chart = ChartBuilder::on(panel)
            .caption(format!("{key} (window {} s)", bucket), ("sans-serif", 14))
            .margin(8)
            .x_label_area_size(24)
            .y_label_area_size(48)
            .build_cartesian_2d(0f64..n, 0f64..max)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        chart
            .configure_mesh()
            .x_desc("window")
            .disable_mesh()
            .draw()
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        chart
            .draw_series(LineSeries::new(
                s.values
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| (i as f64, v as f64)),
                &BLUE,
            ))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        chart
            .draw_series(LineSeries::new(
                s.upper
                    .iter()
                    .enumerate()
                    .filter_map(|(i, u)| u.map(|u| (i as f64, u.min(max)))),
                &RGBColor(160, 160, 160),
            ))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        chart
            .draw_series(anomalies.iter().filter(|a| a.key == key).map(|a| {
                Circle::new(
                    (
                        ((a.window_start - s.start) / bucket) as f64,
                        a.observed as f64,
                    ),
                    4,
                    RED.filled(),
                )
            }))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    root.present().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}
