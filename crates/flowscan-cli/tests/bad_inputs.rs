//! Every kind of damage in `testdata/bad/` (made by `testdata/make_bad.py`), and
//! the big ones made here: each with the outcome a user should see.

mod util;

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use util::*;

fn bad(name: &str) -> String {
    testdata(&format!("bad/{name}"))
        .to_string_lossy()
        .into_owned()
}

/// Runs `rejects --format json` on one input; checks the exit code, the line
/// accounting, and that stderr holds every `want` (the path is always named).
fn check(path: &str, code: i32, want: &[&str]) -> Value {
    let (out, err) = ok(&["rejects", "-f", "json", path], code);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_accounting(&v);
    for w in want {
        assert!(err.contains(w), "missing {w:?} for {path} in:\n{err}");
    }
    v
}

#[test]
fn truncated_gzip() {
    let v = check(
        &bad("truncated.log.gz"),
        3,
        &[
            "truncated.log.gz: read error after",
            "records before it are counted",
        ],
    );
    assert_eq!(v["scan"]["files_incomplete"], 1);
}

#[test]
fn corrupt_gzip() {
    let v = check(
        &bad("corrupt.log.gz"),
        3,
        &["corrupt.log.gz: read error after", "corrupt"],
    );
    assert_eq!(v["scan"]["files_incomplete"], 1);
}

#[test]
fn gzip_of_something_else() {
    let v = check(
        &bad("not-flow-log.txt.gz"),
        4,
        &[
            "not-flow-log.txt.gz: not a flow log",
            "no flow log records were read",
        ],
    );
    assert_eq!(v["scan"]["files_skipped"], 1);
}

#[test]
fn empty_and_header_only_files() {
    let v = check(&bad("empty.log"), 0, &[]);
    assert_eq!(counts(&v), (0, 0, 0, 0, 0));
    let v = check(&bad("header-only.log"), 0, &[]);
    assert_eq!(counts(&v), (1, 0, 1, 0, 0));
}

#[test]
fn duplicate_and_unknown_header_names() {
    let v = check(
        &bad("duplicate-fields.log"),
        4,
        &["duplicate-fields.log: bad header line: field `srcport` is named twice"],
    );
    assert_eq!(v["scan"]["files_skipped"], 1);
    let v = check(&bad("unknown-fields.log"), 0, &[]);
    assert_eq!(counts(&v), (5, 4, 1, 0, 0));
    assert_eq!(v["rejects"], 2);
}

#[test]
fn wrong_field_counts() {
    let v = check(
        &bad("field-counts.log"),
        0,
        &[
            "field-counts.log:3: expected 14 fields, found 15",
            "field-counts.log:4: expected 14 fields, found 13",
        ],
    );
    assert_eq!(counts(&v), (5, 2, 1, 0, 2));
}

#[test]
fn bad_numbers() {
    let v = check(
        &bad("numbers.log"),
        0,
        &[
            "numbers.log:2: dstport: number out of range `70000`",
            "numbers.log:3: bytes: negative number `-120`",
            "numbers.log:4: bytes: number out of range `18446744073709551616`",
            "numbers.log:5: dstport: not a number `twenty-two`",
        ],
    );
    assert_eq!(counts(&v), (6, 1, 1, 0, 4));
}

#[test]
fn bad_addresses() {
    let v = check(
        &bad("addresses.log"),
        0,
        &[
            "addresses.log:2: srcaddr: not an IP address `198.51.100.700`",
            "addresses.log:3: srcaddr: not an IP address `2001:db8::g`",
        ],
    );
    assert_eq!(counts(&v), (4, 1, 1, 0, 2));
}

#[test]
fn invalid_utf8_and_nul_bytes() {
    check(
        &bad("invalid-utf8.log"),
        0,
        &["invalid-utf8.log:2: interface-id: invalid UTF-8 in"],
    );
    let v = check(
        &bad("nul-bytes.log"),
        0,
        &[
            "nul-bytes.log:2: interface-id: control character in `eni-0a1b\\02c3d`",
            "nul-bytes.log:3: expected 14 fields, found 1",
        ],
    );
    assert_eq!(counts(&v), (4, 1, 1, 0, 2));
}

#[test]
fn crlf_and_no_final_newline_are_fine() {
    let a = check(&bad("crlf.log"), 0, &[]);
    let b = check(&bad("no-final-newline.log"), 0, &[]);
    assert_eq!(counts(&a), (5, 4, 1, 0, 0));
    assert_eq!(answer(&a), answer(&b));
}

#[test]
fn a_ten_megabyte_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = generated(100, 2);
    let at = text.iter().position(|&b| b == b'\n').unwrap() + 1;
    let mut long = vec![b'7'; 10 << 20];
    long.push(b'\n');
    text.splice(at..at, long);
    let plain = dir.path().join("long.log");
    fs::write(&plain, &text).unwrap();
    let gz = dir.path().join("long.log.gz");
    fs::write(&gz, gzip(&text)).unwrap();
    for p in [&plain, &gz] {
        let v = check(
            &p.to_string_lossy(),
            0,
            &[":2: expected 14 fields, found 1"],
        );
        assert_eq!(counts(&v), (102, 100, 1, 0, 1));
    }
}

#[test]
fn formats_mixed_in_one_directory() {
    let dir = tempfile::tempdir().unwrap();
    for f in [
        "default-v2.log",
        "custom-v5.log",
        "tgw.log",
        "default-v2.log.gz",
        "multi-member.log.gz",
    ] {
        fs::copy(testdata(f), dir.path().join(f)).unwrap();
    }
    fs::write(dir.path().join("events.json"), r#"{"events":[{"message":"2 123456789012 eni-0a1b2c3d4e5f60001 198.51.100.7 10.0.1.10 40000 22 6 1 60 1795514400 1795514460 REJECT OK"}]}"#).unwrap();
    let v = check(
        &dir.path().to_string_lossy(),
        0,
        &["tgw.log: Transit Gateway flow log"],
    );
    assert_eq!(v["records"], 40 * 4 + 1);
    assert_eq!(v["rejects"], 18 * 4 + 1);
}

#[cfg(unix)]
#[test]
fn symlink_loops_and_unreadable_files() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("d")).unwrap();
    fs::copy(testdata("default-v2.log"), dir.path().join("d/a.log")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("d"), dir.path().join("d/loop")).unwrap();
    let v = check(&dir.path().to_string_lossy(), 3, &["symbolic link loop"]);
    assert_eq!(v["records"], 40);
    let locked = dir.path().join("locked.log");
    fs::copy(testdata("default-v2.log"), &locked).unwrap();
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    if fs::read(&locked).is_ok() {
        eprintln!("skipped the permission case: running as a user who can read any file (root)");
        return;
    }
    check(
        &locked.to_string_lossy(),
        3,
        &["locked.log: Permission denied"],
    );
}

#[test]
fn a_file_used_as_a_directory() {
    let p = format!("{}/", bad("crlf.log"));
    check(&p, 4, &["crlf.log/"]);
}

#[test]
fn every_kind_of_damage_at_once_keeps_the_accounting() {
    // The whole corpus in one scan: lines = records + headers + blank +
    // malformed + skipped, in total and per file.
    let (out, _) = ok(
        &["rejects", "-f", "json", &testdata("bad").to_string_lossy()],
        3,
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_accounting(&v);
    let sum = |k: &str| -> u64 {
        fs::read_dir(testdata("bad"))
            .unwrap()
            .map(|e| {
                let (o, _) = {
                    let out = run(
                        &[
                            "rejects",
                            "-f",
                            "json",
                            "-q",
                            &e.unwrap().path().to_string_lossy(),
                        ],
                        None,
                    );
                    (String::from_utf8(out.stdout).unwrap(), ())
                };
                let v: Value = serde_json::from_str(&o).unwrap();
                v["scan"][k].as_u64().unwrap()
            })
            .sum()
    };
    for k in [
        "lines",
        "records",
        "headers",
        "blank",
        "malformed",
        "skipped",
    ] {
        assert_eq!(v["scan"][k].as_u64().unwrap(), sum(k), "{k}");
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_gzip_bomb_is_streamed_in_bounded_memory_and_can_be_capped() {
    // A half-megabyte file that inflates to 512 MiB of one line.
    let dir = tempfile::tempdir().unwrap();
    let bomb = dir.path().join("bomb.gz");
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(flowgen::DEFAULT_FIELDS.join(" ").as_bytes())
        .unwrap();
    e.write_all(b"\n").unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..512 {
        e.write_all(&zeros).unwrap();
    }
    fs::write(&bomb, e.finish().unwrap()).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_flowscan"));
    cmd.args(["rejects", "-q", &bomb.to_string_lossy()]);
    let (code, peak) = peak_rss_kib(cmd);
    assert_eq!(code, 0);
    assert!(peak < 128 * 1024, "peak RSS {peak} KiB");
    let (_, err) = ok(
        &["rejects", "--max-inflate", "64MB", &bomb.to_string_lossy()],
        3,
    );
    assert!(
        err.contains("stopped after 64000000 bytes of text: the inflate limit (--max-inflate)"),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_during_export_leaves_no_partial_file() {
    // Large enough that a debug build is still writing when the signal comes:
    // the test waits for the first finished file, then interrupts, and fails
    // (rather than passing vacuously) if the export had already ended.
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.log");
    let chunk = generated(300_000, 5);
    let mut f = fs::File::create(&input).unwrap();
    for _ in 0..5 {
        f.write_all(&chunk).unwrap();
    }
    drop(f);
    let out = dir.path().join("pq");
    let mut child = Command::new(env!("CARGO_BIN_EXE_flowscan"))
        .args([
            "export",
            "-q",
            "--threads",
            "1",
            "--partition",
            "none",
            "--target-size",
            "1MB",
            "--out",
        ])
        .arg(&out)
        .arg(&input)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    // Without partitions the files are under AWSLogs/.
    let files = out.join("AWSLogs");
    let finished = |files: &Path| {
        fs::read_dir(files).is_ok_and(|d| {
            d.flatten()
                .any(|e| e.file_name().to_string_lossy().ends_with(".parquet"))
        })
    };
    while !finished(&files) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no file was finished"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "the export ended before the signal"
    );
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    let left: Vec<_> = fs::read_dir(&files)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    let manifest: Value =
        serde_json::from_str(&fs::read_to_string(out.join("_flowscan_export.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["complete"], false);
    // The files that were finished are whole.
    for f in manifest["files"].as_array().unwrap() {
        let p = Path::new(&out).join(f["path"].as_str().unwrap());
        let bytes = fs::read(p).unwrap();
        assert!(bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"));
    }
}

#[cfg(target_os = "linux")]
#[test]
fn all_distinct_sources_stay_within_the_memory_budget() {
    // Every REJECT from its own scanner address: the distinct-peer tables grow
    // with the input unless the budget stops them. Enough records that they
    // dominate the unbounded run's memory (at 600,000, once the tables took
    // 7 bytes a pair instead of 12, the fixed part made the two runs' peaks
    // too close to tell apart).
    let dir = tempfile::tempdir().unwrap();
    let mut text = Vec::new();
    flowgen::Generator::new(flowgen::Spec {
        records: 1_200_000,
        seed: 77,
        reject_ratio: 1.0,
        scanners: 2_000_000,
        ..flowgen::Spec::default()
    })
    .write_text(&mut text)
    .unwrap();
    // As gzip, so that no mapped file counts in the resident memory.
    let input = dir.path().join("distinct.log.gz");
    fs::write(&input, gzip(&text)).unwrap();
    let input = input.to_string_lossy().into_owned();
    let exact = rejects_json(&[&input, "--top", "5"], 0);
    assert!(exact["approximate"].is_null());
    let (out, err) = ok(
        &[
            "rejects",
            "-f",
            "json",
            "--top",
            "5",
            "--max-memory",
            "8MB",
            &input,
        ],
        0,
    );
    assert!(err.contains("approximate: the memory budget"), "{err}");
    let approx: Value = serde_json::from_str(&out).unwrap();
    let a = &approx["approximate"];
    let low = a["records_low_by_at_most"].as_u64().unwrap();
    assert!(a["distinct_sampled_one_in"].as_u64().unwrap() > 1, "{a}");
    for (e, g) in exact["interfaces"]
        .as_array()
        .unwrap()
        .iter()
        .zip(approx["interfaces"].as_array().unwrap())
    {
        assert_eq!(e["interface_id"], g["interface_id"]);
        let (er, gr) = (
            e["records"].as_u64().unwrap(),
            g["records"].as_u64().unwrap(),
        );
        assert!(
            gr <= er && er - gr <= low,
            "{er} vs {gr} (low by at most {low})"
        );
        let (ed, gd) = (
            e["distinct_sources"].as_f64().unwrap(),
            g["distinct_sources"].as_f64().unwrap(),
        );
        assert!((gd - ed).abs() / ed < 0.15, "distinct {ed} vs {gd}");
    }
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_flowscan"));
    cmd.args(["rejects", "-q", "--max-memory", "8MB", &input]);
    let (_, bounded) = peak_rss_kib(cmd);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_flowscan"));
    cmd.args(["rejects", "-q", &input]);
    let (_, unbounded) = peak_rss_kib(cmd);
    assert!(
        bounded * 3 < unbounded * 2,
        "bounded {bounded} KiB, unbounded {unbounded} KiB"
    );
}
