//! What `flowscan export` promises (docs/robustness.md, "What export
//! promises"): every row read is written once, nothing is written or deleted
//! outside the output folder, a killed export can be recovered, two exports
//! cannot share a folder, and Athena sees every row. Rows are counted by
//! DuckDB reading the files as a user would.

mod util;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use util::*;

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// `flowscan export ARGS -q --format json`, expecting `code`; the summary and stderr.
fn export(args: &[&str], code: i32) -> (Value, String) {
    let mut all = vec!["export", "--format", "json", "-q"];
    all.extend_from_slice(args);
    let (out, err) = ok(&all, code);
    (serde_json::from_str(&out).unwrap_or(Value::Null), err)
}

/// What DuckDB reads from an export.
fn duck(out: &Path) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/reference/export_rows.py");
    let o = Command::new("python3")
        .arg(script)
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// Records `rejects` counts (VPC records: Transit Gateway lines are skipped;
/// exit 4 when no file had any).
fn vpc_records(input: &Path) -> u64 {
    let o = run(&["rejects", "-f", "json", "-q", &s(input)], None);
    assert!(matches!(o.status.code(), Some(0 | 4)), "{o:?}");
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    v["scan"]["records"].as_u64().unwrap()
}

/// Records `filter` prints (every record of every dataset), and its exit
/// code (4 when no file could be used).
fn all_records(input: &Path) -> (u64, i32) {
    let o = run(&["filter", "--format", "jsonl", "-q", &s(input)], None);
    let code = o.status.code().unwrap();
    assert!(matches!(code, 0 | 4), "{o:?}");
    (
        String::from_utf8_lossy(&o.stdout).lines().count() as u64,
        code,
    )
}

fn text(records: u64, seed: u64, fields: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    flowgen::Generator::new(flowgen::Spec {
        records,
        seed,
        fields: fields.iter().map(|s| s.to_string()).collect(),
        ..flowgen::Spec::default()
    })
    .write_text(&mut out)
    .unwrap();
    out
}

fn v5() -> &'static [&'static str] {
    flowgen::V5_FIELDS
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// Item 1: a header that changes the format mid-file, read whole, in
/// parallel blocks (mapped) and pipelined (gzip), at 1, 2 and 7 threads.
#[test]
fn a_header_change_mid_file_loses_and_duplicates_nothing() {
    if !python_has("duckdb") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut mixed = text(20_000, 3, flowgen::DEFAULT_FIELDS);
    mixed.extend(text(20_000, 4, v5()));
    let plain = dir.path().join("hmix.log");
    let gz = dir.path().join("hmix.log.gz");
    fs::write(&plain, &mixed).unwrap();
    fs::write(&gz, gzip(&mixed)).unwrap();
    for input in [&plain, &gz] {
        for threads in ["1", "2", "7"] {
            for split in [None, Some("1")] {
                let out = dir.path().join(format!(
                    "o-{}-{threads}-{}",
                    input.extension().unwrap().to_string_lossy(),
                    split.is_some()
                ));
                let mut args = vec![
                    s(input),
                    "--out".into(),
                    s(&out),
                    "--threads".into(),
                    threads.into(),
                ];
                if let Some(n) = split {
                    args.extend([
                        "--split-min".into(),
                        n.into(),
                        "--block-size".into(),
                        "65536".into(),
                    ]);
                }
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let (summary, _) = export(&args, 0);
                assert_eq!(
                    summary["export"]["vpc_rows"], 40_000,
                    "{input:?} {threads} {split:?}"
                );
                assert_eq!(
                    duck(&out)["vpc"]["rows"],
                    40_000,
                    "{input:?} {threads} {split:?}"
                );
            }
        }
    }
}

/// Item 2: Transit Gateway lines after VPC lines in one file are written to
/// their own dataset, not dropped.
#[test]
fn transit_gateway_rows_in_a_mixed_file_are_written() {
    if !python_has("duckdb") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut mixed = text(3_000, 5, flowgen::DEFAULT_FIELDS);
    mixed.extend(fs::read(testdata("tgw.log")).unwrap());
    let input = dir.path().join("m.log");
    fs::write(&input, &mixed).unwrap();
    let out = dir.path().join("o");
    let (summary, _) = export(&[&s(&input), "--out", &s(&out)], 0);
    assert_eq!(summary["export"]["vpc_rows"], 3_000);
    assert_eq!(summary["export"]["tgw_rows"], 3);
    let d = duck(&out);
    assert_eq!(d["vpc"]["rows"], 3_000);
    assert_eq!(d["tgw"]["rows"], 3);
    assert!(out.join("_athena_tgw_flow_logs.sql").exists());
}

/// Athena reads every file under a table's LOCATION: in every partition
/// layout, the VPC table's location holds exactly the VPC files, and the
/// Transit Gateway table's the TGW files (without partitions, the TGW
/// folder was inside the VPC table's location).
#[test]
fn each_table_location_holds_only_its_own_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut mixed = text(300, 5, flowgen::DEFAULT_FIELDS);
    mixed.extend(fs::read(testdata("tgw.log")).unwrap());
    let input = dir.path().join("m.log");
    fs::write(&input, &mixed).unwrap();
    for partition in ["none", "day", "hour"] {
        let out = dir.path().join(partition);
        let (summary, _) = export(
            &[
                &s(&input),
                "--out",
                &s(&out),
                "--partition",
                partition,
                "--location",
                "s3://b/p/",
            ],
            0,
        );
        for (table, dataset, rows) in [
            ("vpc_flow_logs", "vpc", 300),
            ("tgw_flow_logs", "transit_gateway", 3),
        ] {
            let ddl = fs::read_to_string(out.join(format!("_athena_{table}.sql"))).unwrap();
            let at = ddl.find("LOCATION 's3://b/p/").expect(&ddl) + "LOCATION 's3://b/p/".len();
            let rel = &ddl[at..at + ddl[at..].find('\'').unwrap()];
            let files = summary["export"]["files"].as_array().unwrap();
            let under: Vec<_> = files
                .iter()
                .filter(|f| f["path"].as_str().unwrap().starts_with(rel))
                .collect();
            assert!(
                under.iter().all(|f| f["dataset"] == dataset),
                "{partition}: {table} at {rel}: {under:?}"
            );
            let sum: u64 = under.iter().map(|f| f["rows"].as_u64().unwrap()).sum();
            assert_eq!(sum, rows, "{partition}: {table} at {rel}");
        }
    }
}

/// Item 3: a long run of blank lines before the records.
#[test]
fn blank_lines_before_the_records_lose_nothing() {
    if !python_has("duckdb") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut data = vec![b'\n'; 1_200_000];
    data.extend(text(10_000, 6, flowgen::DEFAULT_FIELDS));
    let input = dir.path().join("blank.log");
    fs::write(&input, &data).unwrap();
    for split in [&[][..], &["--split-min", "1", "--block-size", "65536"][..]] {
        let out = dir.path().join(format!("o{}", split.len()));
        let mut args = vec![s(&input), "--out".into(), s(&out)];
        args.extend(split.iter().map(|x| x.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (summary, _) = export(&args, 0);
        assert_eq!(summary["export"]["vpc_rows"], 10_000);
        assert_eq!(summary["scan"]["blank"], 1_200_000);
        assert_eq!(duck(&out)["vpc"]["rows"], 10_000);
    }
}

/// Item 4: standard input in a format no file declared keeps all its columns.
#[test]
fn standard_input_keeps_every_column() {
    if !python_has("duckdb") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let data = text(2_000, 7, v5());
    let o = run(
        &["export", "-q", "--format", "json", "-", "--out", &s(&out)],
        Some(&data),
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let d = duck(&out);
    assert_eq!(d["vpc"]["rows"], 2_000);
    let cols: Vec<&str> = d["vpc"]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    for f in v5() {
        let name = f.replace('-', "_");
        assert!(
            cols.contains(&name.as_str()),
            "{name} missing from {cols:?}"
        );
    }
}

/// Item 5: an output folder that is, holds or is inside the input is refused
/// before anything is touched.
#[test]
fn an_output_folder_overlapping_the_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    fs::create_dir(&logs).unwrap();
    fs::write(logs.join("a.log"), text(500, 8, flowgen::DEFAULT_FIELDS)).unwrap();
    let before = files_under(&logs);
    for out in [logs.clone(), logs.join("parquet"), dir.path().to_path_buf()] {
        let (_, err) = export(&[&s(&logs), "--out", &s(&out), "--overwrite"], 1);
        assert!(err.contains("overlaps the input"), "{err}");
        assert_eq!(files_under(&logs), before);
    }
}

/// Item 6: partition values from records are validated: a hostile account
/// id cannot put a file outside the output folder.
#[test]
fn hostile_partition_values_stay_inside() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.log");
    let mut data = String::from("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status region\n");
    for acct in ["x/../../../escaped", "../../etc", "123456789012", "/abs"] {
        data.push_str(&format!("2 {acct} eni-1 1.2.3.4 5.6.7.8 1 22 6 1 60 1795514400 1795514460 REJECT OK us-east-1/../..\n"));
    }
    fs::write(&input, data).unwrap();
    let out = dir.path().join("o");
    let (summary, err) = export(&[&s(&input), "--out", &s(&out)], 0);
    assert_eq!(summary["export"]["vpc_rows"], 4);
    assert_eq!(summary["export"]["fallbacks"]["account"], 3);
    assert_eq!(summary["export"]["fallbacks"]["region"], 4);
    assert!(
        err.contains("--default-account") && err.contains("--default-region"),
        "{err}"
    );
    // Only the output folder and the input exist in the temporary folder.
    let mut top: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    top.sort();
    assert_eq!(top, ["in.log", "o"]);
    for f in files_under(&out) {
        let rel = f.strip_prefix(&out).unwrap().to_string_lossy().into_owned();
        assert!(!rel.contains(".."), "{rel}");
    }
    let ddl = fs::read_to_string(out.join("_athena_vpc_flow_logs.sql")).unwrap();
    assert!(
        ddl.contains("'projection.aws-account-id.values'='123456789012,unknown'"),
        "{ddl}"
    );
    assert!(!ddl.contains("escaped") && !ddl.contains(".."), "{ddl}");
}

/// Item 7: `--overwrite` deletes only what the old manifest lists inside the
/// folder; a manifest that lists anything else, a symbolic link, or a foreign
/// file makes it refuse with nothing deleted.
#[cfg(unix)]
#[test]
fn overwrite_deletes_nothing_it_did_not_write() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.log");
    fs::write(&input, text(2_000, 9, flowgen::DEFAULT_FIELDS)).unwrap();
    let victim = dir.path().join("victim");
    fs::create_dir(&victim).unwrap();
    fs::write(victim.join("keep.txt"), "precious").unwrap();
    let fresh = |name: &str| {
        let out = dir.path().join(name);
        export(&[&s(&input), "--out", &s(&out)], 0);
        out
    };
    let manifest_listing = |out: &Path, path: &str| {
        let m = out.join("_flowscan_export.json");
        let mut v: Value = serde_json::from_str(&fs::read_to_string(&m).unwrap()).unwrap();
        v["files"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({ "path": path }));
        fs::write(&m, v.to_string()).unwrap();
    };
    for (name, listed) in [
        ("a", "../victim/keep.txt"),
        ("b", victim.join("keep.txt").to_str().unwrap()),
    ] {
        let out = fresh(name);
        let before = files_under(&out);
        manifest_listing(&out, listed);
        let (_, err) = export(&[&s(&input), "--out", &s(&out), "--overwrite"], 1);
        assert!(err.contains("cannot be trusted"), "{err}");
        assert!(victim.join("keep.txt").exists());
        assert_eq!(files_under(&out), before, "nothing deleted");
    }
    // A partition folder replaced by a link to a foreign folder.
    let out = fresh("c");
    let part = files_under(&out)
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "parquet"))
        .unwrap();
    let hour = part.parent().unwrap();
    fs::remove_dir_all(hour).unwrap();
    std::os::unix::fs::symlink(&victim, hour).unwrap();
    let (_, err) = export(&[&s(&input), "--out", &s(&out), "--overwrite"], 1);
    assert!(err.contains("not written by a flowscan export"), "{err}");
    assert_eq!(
        fs::read_to_string(victim.join("keep.txt")).unwrap(),
        "precious"
    );
    assert_eq!(fs::read_dir(&victim).unwrap().count(), 1);
    // A foreign Parquet file dropped into an export.
    let out = fresh("d");
    fs::write(out.join("AWSLogs").join("theirs.parquet"), b"PAR1").unwrap();
    let (_, err) = export(&[&s(&input), "--out", &s(&out), "--overwrite"], 1);
    assert!(
        err.contains("theirs.parquet: not written by a flowscan export"),
        "{err}"
    );
    assert!(out.join("AWSLogs").join("theirs.parquet").exists());
}

fn big_input(dir: &Path) -> PathBuf {
    let input = dir.join("big.log");
    fs::write(&input, text(1_500_000, 10, flowgen::DEFAULT_FIELDS)).unwrap();
    input
}

/// Starts an export of `input` into `out`; returns the child once the export
/// has started writing (its manifest exists).
fn start_export(input: &Path, out: &Path, extra: &[&str]) -> std::process::Child {
    let child = Command::new(env!("CARGO_BIN_EXE_flowscan"))
        .args(["export", "-q", "--threads", "1", "--target-size", "1MB"])
        .args(extra)
        .arg(input)
        .arg("--out")
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !files_under(out)
        .iter()
        .any(|p| p.extension().is_some_and(|e| e == "parquet"))
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the export never wrote"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child
}

/// Item 8: killed mid-write, the folder says so; flowscan's own reader warns
/// (exit 3); a re-run refuses without --overwrite and recovers with it.
#[cfg(unix)]
#[test]
fn a_killed_export_is_flagged_and_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let input = big_input(dir.path());
    let out = dir.path().join("o");
    let mut child = start_export(&input, &out, &[]);
    child.kill().unwrap();
    child.wait().unwrap();
    let m: Value =
        serde_json::from_str(&fs::read_to_string(out.join("_flowscan_export.json")).unwrap())
            .unwrap();
    assert_eq!(m["complete"], false);
    let (_, err) = ok(&["rejects", "-q", &s(&out)], 3);
    let (_, err2) = ok(&["rejects", &s(&out)], 3);
    assert!(
        err.is_empty() || err.contains("unfinished flowscan export"),
        "{err}"
    );
    assert!(err2.contains("unfinished flowscan export"), "{err2}");
    let (_, err) = export(&[&s(&input), "--out", &s(&out)], 1);
    assert!(
        err.contains("not empty") && err.contains("--overwrite"),
        "{err}"
    );
    let (summary, _) = export(&[&s(&input), "--out", &s(&out), "--overwrite"], 0);
    assert_eq!(summary["export"]["vpc_rows"], 1_500_000);
    let leftovers: Vec<PathBuf> = files_under(&out)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    ok(&["rejects", "-q", &s(&out)], 0);
}

/// Item 8: SIGTERM is handled like Ctrl-C: unfinished files removed, exit 130.
#[cfg(unix)]
#[test]
fn sigterm_stops_an_export_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let input = big_input(dir.path());
    let out = dir.path().join("o");
    let child = start_export(&input, &out, &[]);
    // SAFETY: sending a signal to our own child process.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    let tmp: Vec<PathBuf> = files_under(&out)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(tmp.is_empty(), "{tmp:?}");
}

/// Item 9: a second export into a folder being written is refused.
#[cfg(unix)]
#[test]
fn two_exports_cannot_share_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let input = big_input(dir.path());
    let out = dir.path().join("o");
    let mut first = start_export(&input, &out, &[]);
    let (_, err) = export(&[&s(&input), "--out", &s(&out), "--overwrite"], 1);
    assert!(err.contains("another flowscan export is writing"), "{err}");
    assert!(first.wait().unwrap().success());
    let m: Value =
        serde_json::from_str(&fs::read_to_string(out.join("_flowscan_export.json")).unwrap())
            .unwrap();
    assert_eq!(m["complete"], true);
    assert_eq!(m["vpc_rows"], 1_500_000);
}

/// Item 10: records without region (the default format) go to a fallback
/// partition the table covers, with a warning naming the flag; the defaults
/// put them where they belong.
#[test]
fn defaults_fill_in_what_records_lack() {
    if !python_has("duckdb") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let input = testdata("default-v2.log");
    let (summary, err) = export(&[&s(&input), "--out", &s(&out)], 0);
    let rows = summary["export"]["vpc_rows"].as_u64().unwrap();
    assert!(
        err.contains("without a region (--default-region NAME)"),
        "{err}"
    );
    assert!(err.contains("aws-region=unknown"), "{err}");
    let ddl = fs::read_to_string(out.join("_athena_vpc_flow_logs.sql")).unwrap();
    assert!(
        ddl.contains("'projection.aws-region.values'='unknown'"),
        "{ddl}"
    );
    let out2 = dir.path().join("o2");
    let (summary, err) = export(
        &[
            &s(&input),
            "--out",
            &s(&out2),
            "--default-account",
            "012345678901",
            "--default-region",
            "eu-west-1",
        ],
        0,
    );
    assert!(!err.contains("fallback"), "{err}");
    assert_eq!(
        summary["export"]["regions"],
        serde_json::json!(["eu-west-1"])
    );
    assert_eq!(duck(&out2)["vpc"]["rows"], rows);
    let (_, err) = export(
        &[
            &s(&input),
            "--out",
            &s(&dir.path().join("o3")),
            "--default-region",
            "mars-1",
        ],
        2,
    );
    assert!(err.contains("(--default-region) \"mars-1\""), "{err}");
}

/// Item 11: the table's years run to NOW (next year needs no new DDL); a
/// missing --location is said.
#[test]
fn the_table_covers_years_to_come() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let (o, err) = ok(
        &["export", &s(&testdata("default-v2.log")), "--out", &s(&out)],
        0,
    );
    assert!(err.contains("no --location given"), "{err}");
    assert!(o.contains("flowscan athena-ddl --location"), "{o}");
    let ddl = fs::read_to_string(out.join("_athena_vpc_flow_logs.sql")).unwrap();
    assert!(ddl.contains("'projection.year.range'='2015,NOW'"), "{ddl}");
    let (_, err) = ok(
        &[
            "export",
            &s(&testdata("default-v2.log")),
            "--out",
            &s(&dir.path().join("x")),
            "--location",
            "s3://b/x' ; drop",
        ],
        2,
    );
    assert!(err.contains("not an S3 location"), "{err}");
}

/// Item 12: an account id with a leading zero survives DuckDB when read with
/// hive_types, as the README shows.
#[test]
fn leading_zeros_survive_with_hive_types() {
    if !python_has("duckdb") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // AWS writes `unknown` as the account of some managed interfaces.
    let text = fs::read_to_string(testdata("default-v2.log"))
        .unwrap()
        .replace(" 123456789012 ", " unknown ");
    let input = dir.path().join("in.log");
    fs::write(&input, text).unwrap();
    let out = dir.path().join("o");
    export(
        &[
            &s(&input),
            "--out",
            &s(&out),
            "--default-account",
            "012345678901",
            "--default-region",
            "us-east-1",
        ],
        0,
    );
    let d = duck(&out);
    assert_eq!(d["vpc"]["accounts"], serde_json::json!(["012345678901"]));
}

/// The property behind all of it: random mixes of formats (default, v5,
/// Transit Gateway, headers changing mid-file, blank runs, malformed lines),
/// in one file and across files, at 1 and 2 threads with the parallel paths
/// forced: DuckDB reads back exactly the records flowscan counts.
#[test]
fn random_mixes_round_trip() {
    if !python_has("duckdb") {
        return;
    }
    let tgw = fs::read(testdata("tgw.log")).unwrap();
    let mut rng = fastrand::Rng::with_seed(2026);
    for case in 0..6 {
        let dir = tempfile::tempdir().unwrap();
        let files = rng.usize(1..=3);
        for f in 0..files {
            let mut data = Vec::new();
            for _ in 0..rng.usize(1..=4) {
                match rng.u8(0..5) {
                    0 => data.extend(text(
                        rng.u64(100..4_000),
                        rng.u64(..),
                        flowgen::DEFAULT_FIELDS,
                    )),
                    1 => data.extend(text(rng.u64(100..4_000), rng.u64(..), v5())),
                    2 => data.extend(&tgw),
                    3 => data.extend(vec![b'\n'; rng.usize(0..20_000)]),
                    _ => data.extend(b"2 123456789012 eni-1 not-an-address x\nbogus line\n"),
                }
            }
            let name = dir.path().join(format!("f{f}.log"));
            if rng.bool() {
                fs::write(name.with_extension("log.gz"), gzip(&data)).unwrap();
            } else {
                fs::write(name, data).unwrap();
            }
        }
        let vpc = vpc_records(dir.path());
        let (all, code) = all_records(dir.path());
        for threads in ["1", "2"] {
            let out = tempfile::tempdir().unwrap();
            let o = out.path().join("o");
            let (summary, _) = export(
                &[
                    &s(dir.path()),
                    "--out",
                    &s(&o),
                    "--threads",
                    threads,
                    "--split-min",
                    "1",
                    "--block-size",
                    "4096",
                ],
                code,
            );
            let d = duck(&o);
            assert_eq!(d["vpc"]["rows"], vpc, "case {case} threads {threads}");
            let written = d["vpc"]["rows"].as_u64().unwrap() + d["tgw"]["rows"].as_u64().unwrap();
            assert_eq!(written, all, "case {case} threads {threads}");
            // An export that read nothing writes nothing, not even a summary.
            if code == 4 {
                assert!(summary.is_null(), "{summary}");
            } else {
                assert_eq!(summary["export"]["vpc_rows"], vpc);
            }
        }
    }
}

/// Item 8: a partition folder or a single file of an unfinished export,
/// named on its own, is flagged as the export's folder is.
#[test]
fn a_part_of_an_unfinished_export_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    export(&[&s(&testdata("sample")), "--out", &s(&out)], 0);
    let manifest = out.join("_flowscan_export.json");
    let file = files_under(&out)
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "parquet"))
        .unwrap();
    let partition = file.parent().unwrap().to_path_buf();
    let done = fs::read_to_string(&manifest).unwrap();
    let mut m: Value = serde_json::from_str(&done).unwrap();
    m["complete"] = Value::Bool(false);
    fs::write(&manifest, m.to_string()).unwrap();
    for part in [&file, &partition] {
        let (_, err) = ok(&["rejects", &s(part)], 3);
        assert!(err.contains("unfinished flowscan export"), "{err}");
    }
    fs::write(&manifest, done).unwrap();
    ok(&["rejects", "-q", &s(&file)], 0);
    ok(&["rejects", "-q", &s(&partition)], 0);
}

/// The lock file is opened without following a link (a link planted there
/// made export create and lock a file outside the output folder), and a
/// folder export refuses is left as it was found, without a lock file.
#[test]
fn a_planted_lock_link_is_not_followed_and_a_refused_folder_is_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.log");
    fs::write(&input, text(50, 3, flowgen::DEFAULT_FIELDS)).unwrap();
    let (out, outside) = (dir.path().join("o"), dir.path().join("outside"));
    fs::create_dir_all(&out).unwrap();
    fs::create_dir_all(&outside).unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(outside.join("created"), out.join("_flowscan_export.lock"))
            .unwrap();
        let (_, err) = export(&[&s(&input), "--out", &s(&out)], 1);
        assert!(err.contains("_flowscan_export.lock"), "{err}");
        assert!(files_under(&outside).is_empty(), "a file was made outside");
    }
    let taken = dir.path().join("taken");
    fs::create_dir_all(&taken).unwrap();
    fs::write(taken.join("old.txt"), "mine").unwrap();
    let (_, err) = export(&[&s(&input), "--out", &s(&taken)], 1);
    assert!(err.contains("not empty"), "{err}");
    assert_eq!(files_under(&taken), [taken.join("old.txt")]);
}

/// `--overwrite` replaces a previous export only once the new one is
/// complete: a run that reads nothing (a mistyped path) leaves it whole,
/// manifest and all (it used to delete it first, then mark the empty run
/// complete), and a run killed midway leaves both listed, so that the next
/// `--overwrite` still replaces them.
#[test]
fn overwrite_replaces_a_previous_export_only_when_the_new_one_is_complete() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.log");
    fs::write(&input, text(300, 5, flowgen::DEFAULT_FIELDS)).unwrap();
    let out = dir.path().join("o");
    export(&[&s(&input), "--out", &s(&out)], 0);
    let before = files_under(&out);
    let manifest = fs::read(out.join("_flowscan_export.json")).unwrap();
    let missing = dir.path().join("typo.log");
    let (_, err) = export(&[&s(&missing), "--out", &s(&out), "--overwrite"], 4);
    assert!(err.contains("left as it was"), "{err}");
    assert_eq!(files_under(&out), before);
    assert_eq!(
        fs::read(out.join("_flowscan_export.json")).unwrap(),
        manifest
    );
    assert_eq!(duck(&out)["vpc"]["rows"], 300);
    // A complete run replaces it: its rows only, the old files gone.
    let tgw = testdata("tgw.log");
    let (summary, _) = export(&[&s(&tgw), "--out", &s(&out), "--overwrite"], 0);
    assert_eq!(summary["export"]["vpc_rows"], 0);
    let after = files_under(&out);
    assert!(before
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "parquet"))
        .all(|f| !after.contains(f)));
    assert!(!out.join("_athena_vpc_flow_logs.sql").exists());
}

/// A field flowscan does not know (here `interface-type`, or anything newer
/// than it) is a string column of the export; read back from Parquet it
/// used to come out null, so a re-export lost it.
#[test]
fn a_re_export_keeps_the_columns_flowscan_does_not_know() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.log");
    fs::write(&input, "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status interface-type\n2 123456789012 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1764000000 1764000060 ACCEPT OK nat_gateway\n").unwrap();
    let (first, second) = (dir.path().join("o1"), dir.path().join("o2"));
    export(&[&s(&input), "--out", &s(&first)], 0);
    export(&[&s(&first), "--out", &s(&second)], 0);
    for out in [&first, &second] {
        let (rows, _) = ok(&["filter", &s(out), "--format", "jsonl", "-q"], 0);
        assert!(rows.contains(r#""interface_type":"nat_gateway""#), "{rows}");
        assert!(duck(out)["vpc"]["columns"]
            .to_string()
            .contains("interface_type"));
    }
}

/// The commands an export prints to write its table definitions again give
/// the very files it wrote, for each table and partitioning (they lacked
/// `--partition` and `--fields`, and the TGW table had none).
#[test]
fn the_regenerate_commands_write_the_same_tables() {
    let dir = tempfile::tempdir().unwrap();
    let (vpc, tgw) = (testdata("default-v2.log"), testdata("tgw.log"));
    for partition in ["hour", "day"] {
        let out = dir.path().join(partition);
        let (table, _) = ok(
            &[
                "export",
                &s(&vpc),
                &s(&tgw),
                "--out",
                &s(&out),
                "--partition",
                partition,
                "-q",
            ],
            0,
        );
        let cmds: Vec<&str> = table
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("flowscan athena-ddl"))
            .collect();
        assert_eq!(cmds.len(), 2, "{table}");
        for (cmd, file) in cmds
            .iter()
            .zip(["_athena_vpc_flow_logs.sql", "_athena_tgw_flow_logs.sql"])
        {
            let (head, fields) = cmd.split_once(" --fields '").unwrap();
            let mut args: Vec<&str> = head.split_whitespace().skip(1).collect();
            args.extend(["--fields", fields.trim_end_matches('\'')]);
            let (ddl, _) = ok(&args, 0);
            assert_eq!(ddl, fs::read_to_string(out.join(file)).unwrap(), "{cmd}");
        }
    }
}

/// Input not sorted by time (a CloudWatch export grouped by log stream)
/// visits thirty hours' partitions in turn: each partition gets one file,
/// not a new file per visit (eight open files, the least recently used
/// closed, gave 2,251 files here). Small blocks make many parts, as a large
/// file would.
#[test]
fn input_not_sorted_by_time_makes_one_file_per_partition() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("streams.log");
    let mut text = String::from(
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n",
    );
    for i in 0..3000u64 {
        let start = 1_790_000_000 / 3600 * 3600 + (i % 30) * 3600 + i / 30;
        text.push_str(&format!(
            "2 123456789012 eni-{:017x} 10.0.0.{} 10.0.1.9 {} 443 6 1 60 {start} {} ACCEPT OK\n",
            i / 300,
            i % 250,
            1024 + i,
            start + 30
        ));
    }
    fs::write(&input, text).unwrap();
    for threads in ["1", "2"] {
        let pq = dir.path().join(format!("pq{threads}"));
        let (summary, _) = export(
            &[
                &s(&input),
                "--out",
                &s(&pq),
                "--default-region",
                "us-east-1",
                "--threads",
                threads,
                "--split-min",
                "1",
                "--block-size",
                "4096",
            ],
            0,
        );
        assert_eq!(summary["export"]["vpc_rows"], 3000, "{summary}");
        let files = summary["export"]["files"].as_array().unwrap();
        assert_eq!(files.len(), 30, "one file per hour: {summary}");
        assert!(files.iter().all(|f| f["rows"] == 100), "{summary}");
        let parquet: Vec<_> = files_under(&pq)
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
            .collect();
        assert_eq!(parquet.len(), 30);
        assert_eq!(duck(&pq)["vpc"]["rows"], 3000);
    }
}
