//! flowscan against independent engines on the same files.
//!
//! DuckDB (from PyPI) answers the same REJECT hotspot query; the answers must be
//! identical. Set `FLOWSCAN_REQUIRE_DUCKDB=1` (as `.ci/run` does) to make a
//! missing DuckDB a failure instead of a skip.

mod util;

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use util::*;

fn duckdb(files: &[&str], extra: &[&str]) -> Value {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/reference/duckdb_rejects.py");
    let out = Command::new("python3")
        .arg(script)
        .args(extra)
        .args(files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Every key DuckDB answered must be equal in flowscan's report.
fn assert_same(duck: &Value, ours: &Value, what: &str) {
    for (k, want) in duck.as_object().unwrap() {
        let got = &ours[k];
        match want {
            Value::Array(rows) => {
                let got = got
                    .as_array()
                    .unwrap_or_else(|| panic!("{what}: {k} missing"));
                assert_eq!(rows.len(), got.len(), "{what}: {k} row count");
                for (i, (w, g)) in rows.iter().zip(got).enumerate() {
                    for (col, wv) in w.as_object().unwrap() {
                        assert_eq!(
                            &g[col], wv,
                            "{what}: {k}[{i}].{col}\nduckdb: {w}\nflowscan: {g}"
                        );
                    }
                }
            }
            _ => assert_eq!(got, want, "{what}: {k}"),
        }
    }
}

#[test]
fn fixtures_agree_with_duckdb() {
    if !python_has("duckdb, numpy") {
        return;
    }
    for f in ["default-v2.log", "custom-v5.log", "default-v2.log.gz"] {
        let p = testdata(f).to_string_lossy().into_owned();
        let duck = duckdb(&[&p], &[]);
        let ours = rejects_json(&[&p], 0);
        assert_same(&duck, &ours, f);
    }
}

#[test]
fn generated_tree_agrees_with_duckdb() {
    if !python_has("duckdb, numpy") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let files = flowgen::Generator::new(flowgen::Spec {
        records: 150_000,
        seed: 11,
        ..flowgen::Spec::default()
    })
    .write_tree(dir.path(), 24, 1)
    .unwrap();
    let names: Vec<String> = files
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let root = dir.path().to_string_lossy().into_owned();
    for extra in [
        &[][..],
        &["--top", "25", "--prefix4", "20", "--prefix6", "48"][..],
    ] {
        let duck = duckdb(&names, extra);
        let mut args = vec![root.as_str()];
        args.extend_from_slice(extra);
        let ours = rejects_json(&args, 0);
        assert_same(&duck, &ours, &format!("tree {extra:?}"));
        assert_eq!(ours["records"], 150_000);
    }
}

#[test]
fn large_plain_file_agrees_with_duckdb() {
    if !python_has("duckdb, numpy") {
        return;
    }
    // Big enough to be cut into chunks scanned in parallel.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.log");
    std::fs::write(&file, generated(200_000, 23)).unwrap();
    let f = file.to_string_lossy().into_owned();
    let duck = duckdb(&[&f], &[]);
    for threads in ["1", "2"] {
        let ours = rejects_json(&[&f, "--threads", threads], 0);
        assert_same(&duck, &ours, &format!("threads {threads}"));
    }
}

/// A dual-stack log (six records in ten over IPv6), end to end: flowscan
/// reads IPv6 text with its own loop (the parser's rules are tested beside
/// it), and its networks and distinct peers must equal DuckDB's at several
/// threads and network lengths.
#[test]
fn dual_stack_file_agrees_with_duckdb() {
    if !python_has("duckdb, numpy") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dual.log");
    let text = generated_as(flowgen::Spec {
        records: 120_000,
        seed: 29,
        ipv6_ratio: 0.6,
        ..flowgen::Spec::default()
    });
    std::fs::write(&file, text).unwrap();
    let f = file.to_string_lossy().into_owned();
    for extra in [&[][..], &["--top", "30", "--prefix6", "48"][..]] {
        let duck = duckdb(&[&f], extra);
        for threads in ["1", "2", "7"] {
            let mut args = vec![f.as_str(), "--threads", threads];
            args.extend_from_slice(extra);
            let ours = rejects_json(&args, 0);
            assert_same(
                &duck,
                &ours,
                &format!("dual stack {extra:?}, threads {threads}"),
            );
        }
    }
}
