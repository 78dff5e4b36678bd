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

/// Issue 12, item 11: a spike in the first hour used to be skipped silently
/// (`0 anomalous windows`): the first `window/2` windows were never judged.
#[test]
fn a_spike_in_the_first_hour_is_found_and_what_was_not_judged_is_said() {
    let mut text = background(100_000, 1);
    let eni = enis_by_rejects(&text)[0].clone();
    plant(&mut text, &eni, 4, 150);
    let v = run(&text, &[]);
    let found = v["anomalies"].as_array().unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["key"], eni.as_str());
    assert_eq!(found[0]["window_start"], "2026-11-24T10:20:00Z");
    assert_eq!(found[0]["confidence"], "low");
    let w = &v["windows"];
    assert_eq!(
        (w["min_history"].as_u64(), w["full_history"].as_u64()),
        (Some(3), Some(12))
    );
    assert!(w["not_judged"].as_u64().unwrap() > 0, "{w}");
    assert!(w["judged_with_short_history"].as_u64().unwrap() > 0, "{w}");
    assert!(v["not_judged_because"]
        .as_str()
        .unwrap()
        .contains("fewer than 3 earlier windows"));
    // The table says it too.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("flows.log");
    std::fs::write(&f, &text).unwrap();
    let (out, _) = ok(&["anomalies", "-q", &f.to_string_lossy()], 0);
    assert!(out.starts_with("1 anomalous window among "), "{out}");
    assert!(out.contains("not judged"), "{out}");
    assert!(out.contains("low confidence: a baseline of"), "{out}");
}

/// Issue 12, item 2: one REJECT starting at 0, or at i64::MAX (milliseconds),
/// among 2026 data made a dense series of millions (or 3·10^13) windows per
/// key: minutes of work, or "memory allocation of 245956587649464 bytes
/// failed". Each now makes a stretch of its own.
#[test]
fn outlying_start_times_cost_one_window_each() {
    let mut text = background(50_000, 1);
    let eni = enis_by_rejects(&text)[0].clone();
    for start in ["0", "9223372036854775807"] {
        text.push_str(&format!(
            "2 123456789012 {eni} 198.51.100.1 10.0.0.9 40000 22 6 1 44 {start} 1795514460 REJECT OK\n"
        ));
    }
    let v = run(&text, &[]);
    let stretches = v["stretches"].as_array().unwrap();
    assert_eq!(stretches.len(), 3, "{stretches:?}");
    assert_eq!(stretches[0]["first"], "1970-01-01T00:00:00Z");
    assert_eq!(v["anomalies"].as_array().unwrap().len(), 0);
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("flows.log");
    std::fs::write(&f, &text).unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_flowscan"));
    cmd.args(["anomalies", "-q", &f.to_string_lossy()]);
    let started = std::time::Instant::now();
    let (code, peak) = peak_rss_kib(cmd);
    assert_eq!(code, 0);
    assert!(peak < 200 * 1024, "peak RSS {peak} KiB");
    // Generous for a debug build on a loaded machine; the old code did not
    // finish at all.
    assert!(started.elapsed().as_secs() < 60);
}
