//! `--max-memory` for `top`, `diagnose` and `anomalies` (as for `rejects`, in
//! bad_inputs.rs): past the budget the answer is approximate, says so in the
//! table, on stderr and in JSON, stays within the bounds it reports, and the
//! process stays smaller than without the budget.

mod util;

use std::process::Command;

use serde_json::Value;
use util::*;

/// Every record a REJECT from its own scanner address (gzip, so that no mapped
/// text counts in the resident memory).
fn distinct_sources(dir: &std::path::Path) -> String {
    let mut text = Vec::new();
    flowgen::Generator::new(flowgen::Spec {
        records: 800_000,
        seed: 78,
        reject_ratio: 1.0,
        scanners: 2_000_000,
        ..flowgen::Spec::default()
    })
    .write_text(&mut text)
    .unwrap();
    let input = dir.join("distinct.log.gz");
    std::fs::write(&input, gzip(&text)).unwrap();
    input.to_string_lossy().into_owned()
}

fn flate2_decode(path: &str) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn json(args: &[&str]) -> (Value, String) {
    let mut all = args.to_vec();
    all.extend(["-f", "json"]);
    let (out, err) = ok(&all, 0);
    (serde_json::from_str(&out).unwrap(), err)
}

fn peak(args: &[&str]) -> u64 {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_flowscan"));
    cmd.args(args).arg("-q");
    let (code, kib) = peak_rss_kib(cmd);
    assert_eq!(code, 0, "{args:?}");
    kib
}

/// Peak memory above what reading `input` costs anyway (the program, the
/// read buffers, the mapped compressed file), with and without the budget:
/// the first must be well under the second.
fn bounded(input: &str, small: &[&str], unbounded: &[&str]) {
    let base = peak(&["top", "--by", "action", input]);
    let (b, u) = (
        peak(small).saturating_sub(base),
        peak(unbounded).saturating_sub(base),
    );
    assert!(
        b * 3 < u * 2,
        "above {base} KiB: bounded {b} KiB, unbounded {u} KiB"
    );
}

#[test]
fn top_stays_within_its_budget_and_says_by_how_much() {
    let dir = tempfile::tempdir().unwrap();
    let input = distinct_sources(dir.path());
    let by = [
        "top",
        "--by",
        "srcaddr,dstaddr,srcport",
        "--top",
        "5",
        &input,
    ];
    let (exact, _) = json(&by);
    assert!(exact["approximate"].is_null());
    let mut small = by.to_vec();
    small.extend(["--max-memory", "4MB"]);
    let (approx, err) = json(&small);
    assert!(
        err.contains("approximate: the memory budget (4.00 MB) was reached"),
        "{err}"
    );
    let a = &approx["approximate"];
    assert_eq!(a["budget"], 4_000_000);
    let low = a["records_low_by_at_most"].as_u64().unwrap();
    assert!(low > 0, "{a}");
    assert!(approx["groups"].as_u64() < exact["groups"].as_u64());
    // Every row of the approximate answer is a real group, low by at most the
    // bound (counted here from the text).
    let text = String::from_utf8(flate2_decode(&input)).unwrap();
    let mut truth: std::collections::HashMap<(&str, &str, String), u64> = Default::default();
    for l in text.lines().skip(1) {
        let t: Vec<&str> = l.split(' ').collect();
        *truth.entry((t[3], t[4], t[5].to_string())).or_default() += 1;
    }
    for r in approx["rows"].as_array().unwrap() {
        let k = &r["key"];
        // `-` (NODATA records) comes back as null.
        let port = k[2]
            .as_u64()
            .map_or_else(|| "-".to_string(), |p| p.to_string());
        let key = (
            k[0].as_str().unwrap_or("-"),
            k[1].as_str().unwrap_or("-"),
            port,
        );
        let (got, want) = (r["records"].as_u64().unwrap(), truth[&key]);
        assert!(got <= want && want - got <= low, "{r}: {want} records");
    }
    let (table, _) = ok(&small, 0);
    assert!(
        table.starts_with("approximate: the memory budget"),
        "{table}"
    );
    bounded(&input, &small, &by);
}

#[test]
fn top_distinct_counts_are_sampled_past_the_budget() {
    let dir = tempfile::tempdir().unwrap();
    let input = distinct_sources(dir.path());
    let by = [
        "top",
        "--by",
        "dstport",
        "--distinct",
        "srcaddr",
        "--top",
        "3",
        &input,
    ];
    let (exact, _) = json(&by);
    let mut small = by.to_vec();
    small.extend(["--max-memory", "2MB"]);
    let (approx, _) = json(&small);
    assert!(
        approx["approximate"]["distinct_sampled_one_in"]
            .as_u64()
            .unwrap()
            > 1
    );
    for (e, g) in exact["rows"]
        .as_array()
        .unwrap()
        .iter()
        .zip(approx["rows"].as_array().unwrap())
    {
        assert_eq!(e["key"], g["key"]);
        let (e, g) = (
            e["distinct"].as_f64().unwrap(),
            g["distinct"].as_f64().unwrap(),
        );
        assert!((g - e).abs() / e < 0.15, "distinct {e} vs {g}");
    }
}

#[test]
fn diagnose_stays_within_its_budget_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let input = distinct_sources(dir.path());
    let (exact, _) = json(&["diagnose", &input]);
    assert!(exact["approximate"].is_null());
    let small = ["diagnose", &input, "--max-memory", "4MB"];
    let (approx, err) = json(&small);
    assert!(
        err.contains("approximate: the memory budget (4.00 MB) was reached"),
        "{err}"
    );
    assert!(
        approx["approximate"]["distinct_sampled_one_in"]
            .as_u64()
            .unwrap()
            > 1
    );
    let scanning = |v: &Value| {
        let f = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["kind"] == "inbound-scanning")
            .unwrap()
            .clone();
        let s = f["summary"]
            .as_str()
            .unwrap()
            .trim_start_matches("about ")
            .to_string();
        (
            f,
            s.split(' ')
                .next()
                .unwrap()
                .replace(',', "")
                .parse::<f64>()
                .unwrap(),
        )
    };
    let ((ef, e), (gf, g)) = (scanning(&exact), scanning(&approx));
    assert_eq!(ef["records"], gf["records"]);
    assert!((g - e).abs() / e < 0.15, "public sources {e} vs {g}");
    assert!(gf["summary"].as_str().unwrap().starts_with("about "));
    let (table, _) = ok(&small, 0);
    assert!(
        table.contains("\napproximate: the memory budget"),
        "{table}"
    );
    bounded(&input, &small, &["diagnose", &input]);
}

#[test]
fn anomalies_stay_within_their_budget_and_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let input = distinct_sources(dir.path());
    let args = ["anomalies", "--key", "srcaddr", &input];
    let (exact, _) = json(&args);
    assert!(exact["approximate"].is_null());
    let mut small = args.to_vec();
    small.extend(["--max-memory", "2MB"]);
    let (approx, err) = json(&small);
    assert!(
        err.contains("approximate: the memory budget (2.00 MB) was reached"),
        "{err}"
    );
    assert!(
        approx["approximate"]["records_low_by_at_most"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert!(approx["series"].as_u64() < exact["series"].as_u64());
    bounded(&input, &small, &args);
}
