//! `flowscan anomalies`: spikes planted in a steady background are found
//! (recall), and little else is (precision).

mod util;

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;
use util::*;

const T0: u64 = 1_795_514_400;

fn background(records: u64, days: u64) -> String {
    let mut out = Vec::new();
    flowgen::Generator::new(flowgen::Spec {
        records,
        seed: 5150,
        span: days * 86_400,
        ..flowgen::Spec::default()
    })
    .write_text(&mut out)
    .unwrap();
    String::from_utf8(out).unwrap()
}

/// Interfaces by REJECT count, most first.
fn enis_by_rejects(text: &str) -> Vec<String> {
    let mut c: HashMap<&str, u64> = HashMap::new();
    for l in text.lines().skip(1) {
        let t: Vec<&str> = l.split(' ').collect();
        if t[12] == "REJECT" {
            *c.entry(t[2]).or_default() += 1;
        }
    }
    let mut v: Vec<(&str, u64)> = c.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    v.into_iter().map(|(e, _)| e.to_string()).collect()
}

fn plant(text: &mut String, eni: &str, window: u64, n: u32) {
    for i in 0..n {
        let t = T0 + window * 300 + u64::from(i % 250);
        text.push_str(&format!(
            "2 123456789012 {eni} 185.220.{}.{} 10.0.0.9 {} 22 6 1 44 {t} {} REJECT OK\n",
            i % 200,
            1 + i % 250,
            30000 + i,
            t + 20
        ));
    }
}

fn run(text: &str, extra: &[&str]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("flows.log");
    std::fs::write(&f, text).unwrap();
    let mut args = vec!["anomalies", "-f", "json", "-q", "--top", "1000"];
    let p = f.to_string_lossy().into_owned();
    args.push(&p);
    args.extend_from_slice(extra);
    let (out, _) = ok(&args, 0);
    serde_json::from_str(&out).unwrap()
}

#[test]
fn planted_spikes_are_found_with_good_precision_and_recall() {
    let mut text = background(200_000, 2);
    let enis = enis_by_rejects(&text);
    // Spikes on a busy interface, a middling one and a quiet one, at various
    // times of both days.
    let planted: BTreeSet<(String, u64)> = [
        (enis[0].clone(), 100),
        (enis[0].clone(), 400),
        (enis[3].clone(), 250),
        (enis[20].clone(), 320),
        (enis[50].clone(), 500),
    ]
    .into_iter()
    .collect();
    for (eni, w) in &planted {
        plant(&mut text, eni, *w, 120);
    }
    let v = run(&text, &[]);
    let found: BTreeSet<(String, u64)> = v["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let t = chrono::DateTime::parse_from_rfc3339(a["window_start"].as_str().unwrap())
                .unwrap()
                .timestamp() as u64;
            (a["key"].as_str().unwrap().to_string(), (t - T0) / 300)
        })
        .collect();
    let hits = planted.intersection(&found).count();
    let recall = hits as f64 / planted.len() as f64;
    let precision = hits as f64 / found.len().max(1) as f64;
    assert_eq!(recall, 1.0, "found {found:?}");
    assert!(precision >= 0.8, "precision {precision}: found {found:?}");
}

#[test]
fn a_steady_background_has_no_anomalies() {
    let text = background(100_000, 1);
    let v = run(&text, &[]);
    assert_eq!(
        v["anomalies"].as_array().unwrap().len(),
        0,
        "{}",
        v["anomalies"]
    );
}

#[test]
fn sparklines_and_svg() {
    let mut text = background(50_000, 1);
    let eni = enis_by_rejects(&text)[0].clone();
    plant(&mut text, &eni, 150, 200);
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("flows.log");
    std::fs::write(&f, &text).unwrap();
    let svg = dir.path().join("spikes.svg");
    let (out, _) = ok(
        &[
            "anomalies",
            &f.to_string_lossy(),
            "--plot",
            &svg.to_string_lossy(),
        ],
        0,
    );
    assert!(out.contains(&eni), "{out}");
    assert!(out.contains('█'), "{out}");
    let chart = std::fs::read_to_string(&svg).unwrap();
    assert!(chart.starts_with("<svg") && chart.contains(&eni));
    // Other keys and measures.
    let v = run(
        &text,
        &["--key", "dstport", "--measure", "bytes", "--bucket", "10m"],
    );
    assert_eq!(v["bucket_seconds"], 600);
}
