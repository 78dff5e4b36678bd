//! A small harness for running the real `flowscan` binary.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

/// The repository's `testdata/` folder.
pub fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(name)
}

/// `../shared/samples` beside the repository, when present.
pub fn samples() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/samples");
    p.is_dir().then_some(p)
}

/// Runs flowscan with `args` and optional standard input.
pub fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_flowscan"));
    cmd.args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("flowscan runs");
    if let Some(input) = stdin {
        let mut s = child.stdin.take().unwrap();
        let input = input.to_vec();
        std::thread::spawn(move || {
            let _ = s.write_all(&input);
        });
    }
    child.wait_with_output().unwrap()
}

/// Runs flowscan, checks the exit code, and returns stdout as text.
pub fn ok(args: &[&str], code: i32) -> (String, String) {
    let out = run(args, None);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(code),
        "flowscan {args:?}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    (stdout, stderr)
}

/// `flowscan rejects --format json ARGS`, expecting exit code `code`.
pub fn rejects_json(args: &[&str], code: i32) -> Value {
    let mut all = vec!["rejects", "--format", "json", "-q"];
    all.extend_from_slice(args);
    let (stdout, _) = ok(&all, code);
    serde_json::from_str(&stdout).expect("valid JSON")
}

/// The report without the parts that legitimately differ between runs (timing)
/// or inputs (file lists).
pub fn answer(v: &Value) -> Value {
    let mut v = v.clone();
    v.as_object_mut().unwrap().remove("scan");
    v
}

/// The scan section's line accounting.
pub fn counts(v: &Value) -> (u64, u64, u64, u64, u64) {
    let s = &v["scan"];
    let n = |k: &str| s[k].as_u64().unwrap();
    (
        n("lines"),
        n("records"),
        n("headers"),
        n("blank"),
        n("malformed"),
    )
}

/// Checks `lines = records + headers + blank + malformed + skipped`.
pub fn assert_accounting(v: &Value) {
    let s = &v["scan"];
    let n = |k: &str| s[k].as_u64().unwrap();
    assert_eq!(
        n("lines"),
        n("records") + n("headers") + n("blank") + n("malformed") + n("skipped"),
        "{s}"
    );
}

/// Generated default-format text.
pub fn generated(records: u64, seed: u64) -> Vec<u8> {
    generated_as(flowgen::Spec {
        records,
        seed,
        ..flowgen::Spec::default()
    })
}

/// The text of the records `spec` describes.
pub fn generated_as(spec: flowgen::Spec) -> Vec<u8> {
    let mut out = Vec::new();
    flowgen::Generator::new(spec).write_text(&mut out).unwrap();
    out
}

/// A generator of `records` records in the format of `fields`, spread over
/// three hours.
pub fn three_hours(records: u64, seed: u64, fields: &[&str]) -> flowgen::Generator {
    flowgen::Generator::new(flowgen::Spec {
        records,
        seed,
        fields: fields.iter().map(|s| s.to_string()).collect(),
        span: 3 * 3600,
        ..flowgen::Spec::default()
    })
}

/// Gzip at level 1.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Whether python3 can import `modules` (for the tests that ask an
/// independent engine). Missing is a failure when `FLOWSCAN_REQUIRE_DUCKDB` is
/// set (as `.ci/run` does), else a skip with a message.
pub fn python_has(modules: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", &format!("import {modules}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("FLOWSCAN_REQUIRE_DUCKDB").is_none(),
            "python3 with {modules} is required (FLOWSCAN_REQUIRE_DUCKDB is set)"
        );
        eprintln!(
            "skipped: python3 with {modules} is not installed (pip install duckdb numpy pyarrow)"
        );
    }
    ok
}

/// Peak resident memory of a child, sampled from /proc while it runs.
#[cfg(target_os = "linux")]
pub fn peak_rss_kib(mut cmd: Command) -> (i32, u64) {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(s) = std::fs::read_to_string(&status_path) {
            if let Some(v) = s.lines().find_map(|l| l.strip_prefix("VmHWM:")) {
                peak = peak.max(v.trim().trim_end_matches(" kB").trim().parse().unwrap_or(0));
            }
        }
        if let Some(st) = child.try_wait().unwrap() {
            return (st.code().unwrap_or(-1), peak);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
