//! `flowscan export` and Parquet input, checked by round trip and by independent
//! readers (pyarrow and DuckDB from PyPI; required when `FLOWSCAN_REQUIRE_DUCKDB`
//! is set, as `.ci/run` does).

mod util;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use util::*;

fn export(args: &[&str], code: i32) -> (Value, String) {
    let mut all = vec!["export", "--format", "json", "-q"];
    all.extend_from_slice(args);
    let (out, err) = ok(&all, code);
    (serde_json::from_str(&out).unwrap_or(Value::Null), err)
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn parquet_files(dir: &Path) -> Vec<PathBuf> {
    walk(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .collect()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

fn check_export(out: &Path) -> Value {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/reference/check_export.py");
    let o = Command::new("python3")
        .arg(script)
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn tree(records: u64, seed: u64, fields: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    three_hours(records, seed, fields)
        .write_tree(dir.path(), 18, 1)
        .unwrap();
    dir
}

#[test]
fn round_trip_text_and_parquet_give_the_same_answer() {
    let input = tree(60_000, 31, flowgen::DEFAULT_FIELDS);
    let out = tempfile::tempdir().unwrap();
    let pq = out.path().join("pq");
    let (summary, _) = export(&[&s(input.path()), "--out", &s(&pq)], 0);
    assert_eq!(summary["export"]["vpc_rows"], 60_000);
    assert_eq!(summary["scan"]["records"], 60_000);
    // Three hours of data, hourly partitions (plus the hour before the first,
    // where records that started early and ended in the first window land).
    assert!(summary["export"]["partitions"].as_u64().unwrap() >= 3);
    let text = rejects_json(&[&s(input.path())], 0);
    let parquet = rejects_json(&[&s(&pq)], 0);
    assert_eq!(answer(&parquet), answer(&text));
    assert_eq!(
        parquet["scan"]["files_skipped"], 0,
        "metadata files are not read as inputs"
    );
    // The v5 format round-trips too, through a filter on a v5-only field.
    let input = tree(20_000, 32, flowgen::V5_FIELDS);
    let pq5 = out.path().join("pq5");
    export(
        &[
            &s(input.path()),
            "--out",
            &s(&pq5),
            "--partition",
            "day",
            "--compression",
            "zstd",
        ],
        0,
    );
    for extra in [&[][..], &["--vpc", "vpc-00000000000abc001"][..]] {
        let mut a = vec![s(input.path())];
        let mut b = vec![s(&pq5)];
        a.extend(extra.iter().map(|x| x.to_string()));
        b.extend(extra.iter().map(|x| x.to_string()));
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let b: Vec<&str> = b.iter().map(String::as_str).collect();
        let want = rejects_json(&a, 0);
        assert!(
            want["records"].as_u64().unwrap() > 1000,
            "{extra:?} selects records"
        );
        assert_eq!(answer(&rejects_json(&b, 0)), answer(&want), "{extra:?}");
    }
}

/// Every command gives the same answer from Parquet as from the text it was
/// exported from. Parquet input decodes only the fields a command declares it
/// reads; reading an undeclared one fails a debug assertion, which this test
/// (a debug build) would meet.
#[test]
fn every_command_reads_parquet_as_it_reads_text() {
    let input = tree(20_000, 33, flowgen::V5_FIELDS);
    let out = tempfile::tempdir().unwrap();
    let pq = out.path().join("pq");
    export(&[&s(input.path()), "--out", &s(&pq)], 0);
    let (text, pq) = (s(input.path()), s(&pq));
    // Evidence records are examples chosen in input order, which Parquet's
    // partitions change; everything else must be equal.
    let strip = |out: &str| -> Value {
        let mut v: Value = serde_json::from_str(out).unwrap();
        v.as_object_mut().unwrap().remove("scan");
        for f in v["findings"].as_array_mut().into_iter().flatten() {
            f.as_object_mut().unwrap().remove("evidence");
        }
        v
    };
    for args in [
        &["rejects"][..],
        &[
            "top",
            "--by",
            "interface-id,dstport",
            "--distinct",
            "srcaddr",
        ],
        &[
            "top",
            "--by",
            "srcaddr/24,flow-direction",
            "--sum",
            "bytes",
            "--where",
            "action = REJECT",
        ],
        &["diagnose"],
        &["anomalies"],
    ] {
        let run_on = |path: &str| {
            let mut all: Vec<&str> = args.to_vec();
            all.extend(["-f", "json", "-q", path]);
            ok(&all, 0).0
        };
        assert_eq!(strip(&run_on(&pq)), strip(&run_on(&text)), "{args:?}");
    }
}

#[test]
fn independent_readers_agree_on_schema_rows_and_rejects() {
    if !python_has("duckdb, pyarrow") {
        return;
    }
    let input = tree(40_000, 33, flowgen::V5_FIELDS);
    let out = tempfile::tempdir().unwrap();
    let pq = out.path().join("pq");
    // The TGW file first, on one thread: the worker's sink meets two formats in
    // turn (a format-keyed cache once mixed them up).
    let (summary, _) = export(
        &[
            &s(&testdata("tgw.log")),
            &s(input.path()),
            "--out",
            &s(&pq),
            "--threads",
            "1",
        ],
        0,
    );
    assert_eq!(summary["scan"]["malformed"], 0);
    let seen = check_export(&pq);
    let vpc = &seen["vpc"];
    assert_eq!(vpc["rows"], 40_000);
    // AWS's Parquet types: INT32 for version, ports, protocol, tcp_flags,
    // traffic_path; INT64 for counters and times; UTF8 strings for the rest.
    let aws: &[(&str, &str)] = &[
        ("version", "INT32"),
        ("account_id", "BYTE_ARRAY"),
        ("interface_id", "BYTE_ARRAY"),
        ("srcaddr", "BYTE_ARRAY"),
        ("dstaddr", "BYTE_ARRAY"),
        ("srcport", "INT32"),
        ("dstport", "INT32"),
        ("protocol", "INT32"),
        ("packets", "INT64"),
        ("bytes", "INT64"),
        ("start", "INT64"),
        ("end", "INT64"),
        ("action", "BYTE_ARRAY"),
        ("log_status", "BYTE_ARRAY"),
        ("vpc_id", "BYTE_ARRAY"),
        ("subnet_id", "BYTE_ARRAY"),
        ("instance_id", "BYTE_ARRAY"),
        ("tcp_flags", "INT32"),
        ("type", "BYTE_ARRAY"),
        ("pkt_srcaddr", "BYTE_ARRAY"),
        ("pkt_dstaddr", "BYTE_ARRAY"),
        ("region", "BYTE_ARRAY"),
        ("az_id", "BYTE_ARRAY"),
        ("sublocation_type", "BYTE_ARRAY"),
        ("sublocation_id", "BYTE_ARRAY"),
        ("pkt_src_aws_service", "BYTE_ARRAY"),
        ("pkt_dst_aws_service", "BYTE_ARRAY"),
        ("flow_direction", "BYTE_ARRAY"),
        ("traffic_path", "INT32"),
    ];
    let cols: Vec<&str> = vpc["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(cols, aws.iter().map(|(n, _)| *n).collect::<Vec<_>>());
    for (name, phys) in aws {
        assert_eq!(vpc["types"][name]["physical"], *phys, "{name}");
        if *phys == "BYTE_ARRAY" {
            assert_eq!(vpc["types"][name]["logical"], "String", "{name}");
        }
    }
    assert_eq!(
        vpc["partitions"]["aws-account-id"],
        serde_json::json!(["123456789012"])
    );
    assert_eq!(
        vpc["partitions"]["aws-service"],
        serde_json::json!(["vpcflowlogs"])
    );
    assert_eq!(
        vpc["partitions"]["aws-region"],
        serde_json::json!(["us-east-1"])
    );
    // The Transit Gateway file is its own dataset with its own columns.
    let tgw = &seen["tgw"];
    assert_eq!(tgw["rows"], 3);
    let tcols: Vec<&str> = tgw["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(tcols.contains(&"tgw_attachment_id") && tcols.contains(&"packets_lost_no_route"));
    assert!(!tcols.contains(&"action") && !tcols.contains(&"interface_id"));
    assert_eq!(tgw["types"]["packets_lost_no_route"]["physical"], "INT64");
    // DuckDB's aggregation over the Parquet equals flowscan's over the text.
    let ours = rejects_json(&[&s(input.path())], 0);
    assert_eq!(seen["rejects"], ours["rejects"]);
    for (i, row) in seen["interfaces"].as_array().unwrap().iter().enumerate() {
        assert_eq!(row["interface_id"], ours["interfaces"][i]["interface_id"]);
        assert_eq!(row["records"], ours["interfaces"][i]["records"]);
    }
    for (i, row) in seen["ports"].as_array().unwrap().iter().enumerate() {
        assert_eq!(row["port"], ours["ports"][i]["port"]);
        assert_eq!(row["protocol"], ours["ports"][i]["protocol"]);
        assert_eq!(row["records"], ours["ports"][i]["records"]);
    }
}

#[test]
fn mixed_formats_share_one_schema_with_nulls() {
    if !python_has("duckdb, pyarrow") {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let pq = out.path().join("pq");
    let (summary, _) = export(
        &[
            &s(&testdata("default-v2.log")),
            &s(&testdata("custom-v5.log")),
            "--out",
            &s(&pq),
        ],
        0,
    );
    assert_eq!(summary["export"]["vpc_rows"], 80);
    let seen = check_export(&pq);
    let vpc = &seen["vpc"];
    assert_eq!(vpc["rows"], 80);
    assert_eq!(vpc["columns"].as_array().unwrap().len(), 29);
    // The 40 v2 records have no vpc-id; every v5 record has one.
    assert_eq!(vpc["nulls"]["vpc_id"], 40);
    // `-` is null: the two NODATA/SKIPDATA rows of each file have no srcaddr.
    assert_eq!(vpc["nulls"]["srcaddr"], 4);
    assert_eq!(vpc["nulls"]["interface_id"], 0);
}

#[test]
fn rows_written_equal_records_parsed_and_malformed_lines_are_counted() {
    let out = tempfile::tempdir().unwrap();
    let pq = out.path().join("pq");
    let (summary, err) = export(&[&s(&testdata("malformed.log")), "--out", &s(&pq)], 0);
    assert_eq!(summary["export"]["vpc_rows"], summary["scan"]["records"]);
    assert_eq!(summary["scan"]["records"], 6);
    assert_eq!(summary["scan"]["malformed"], 11);
    assert!(
        err.contains("malformed.log:7: dstport: not a number `ssh`"),
        "{err}"
    );
}

#[test]
fn existing_output_is_refused_unless_overwrite() {
    let out = tempfile::tempdir().unwrap();
    let pq = out.path().join("pq");
    let input = s(&testdata("default-v2.log"));
    export(&[&input, "--out", &s(&pq)], 0);
    let first = parquet_files(&pq);
    assert_eq!(first.len(), 1);
    let (_, err) = export(&[&input, "--out", &s(&pq)], 1);
    assert!(err.contains("output folder is not empty"), "{err}");
    assert_eq!(parquet_files(&pq), first, "nothing was touched");
    export(
        &[
            &input,
            "--out",
            &s(&pq),
            "--overwrite",
            "--partition",
            "day",
        ],
        0,
    );
    let second = parquet_files(&pq);
    assert_eq!(second.len(), 1);
    assert!(
        !second[0].to_string_lossy().contains("hour="),
        "the old export is gone"
    );
    // A folder flowscan did not write is never emptied.
    let foreign = out.path().join("mine");
    fs::create_dir_all(&foreign).unwrap();
    fs::write(foreign.join("notes.txt"), "keep me").unwrap();
    let (_, err) = export(&[&input, "--out", &s(&foreign), "--overwrite"], 1);
    assert!(err.contains("not written by a flowscan export"), "{err}");
    assert!(foreign.join("notes.txt").exists());
}

#[test]
fn unwritable_output_is_a_clear_error() {
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("a-file");
    fs::write(&file, "x").unwrap();
    let (_, err) = export(
        &[
            &s(&testdata("default-v2.log")),
            "--out",
            &s(&file.join("sub")),
        ],
        1,
    );
    assert!(err.contains("a-file"), "{err}");
}

#[cfg(unix)]
#[test]
fn a_failed_write_leaves_no_partial_file() {
    // A write that fails for real: a file-size limit (`ulimit -f`), which
    // without care kills the process with SIGXFSZ; flowscan turns it into a
    // write error, removes what it was writing and marks the export incomplete.
    let out = tempfile::tempdir().unwrap();
    let pq = out.path().join("pq");
    let input = out.path().join("in.log");
    fs::write(&input, generated(50_000, 9)).unwrap();
    let o = std::process::Command::new("sh")
        .arg("-c")
        .arg("ulimit -f 64 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_flowscan"))
        .args(["export", "-q", "--threads", "1", "--partition", "none"])
        .arg(&input)
        .arg("--out")
        .arg(&pq)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("File too large"), "{err}");
    let left: Vec<PathBuf> = walk(&pq)
        .into_iter()
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.ends_with(".parquet") || n.ends_with(".tmp")
        })
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    let manifest: Value =
        serde_json::from_str(&fs::read_to_string(pq.join("_flowscan_export.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["complete"], false);
    // A later run with --overwrite recovers the folder.
    export(&[&s(&input), "--out", &s(&pq), "--overwrite"], 0);
}

#[test]
fn target_size_splits_files_and_ddl_is_written_beside_the_data() {
    let input = tree(30_000, 34, flowgen::DEFAULT_FIELDS);
    let out = tempfile::tempdir().unwrap();
    let pq = out.path().join("pq");
    let (summary, _) = export(
        &[
            &s(input.path()),
            "--out",
            &s(&pq),
            "--partition",
            "none",
            "--target-size",
            "200KB",
            "--threads",
            "1",
            "--location",
            "s3://b/p/",
        ],
        0,
    );
    let files = parquet_files(&pq);
    assert!(files.len() > 3, "{files:?}");
    assert_eq!(
        summary["export"]["files"].as_array().unwrap().len(),
        files.len()
    );
    let rows: u64 = summary["export"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rows"].as_u64().unwrap())
        .sum();
    assert_eq!(rows, 30_000);
    let ddl = fs::read_to_string(pq.join("_athena_vpc_flow_logs.sql")).unwrap();
    assert!(ddl.contains("LOCATION 's3://b/p/AWSLogs/'"), "{ddl}");
    assert!(!ddl.contains("PARTITIONED BY"), "{ddl}");
    let printed = ok(&["athena-ddl", "--location", "s3://b/p/", "--partition", "none", "--fields", "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"], 0).0;
    assert_eq!(
        printed.replace("IF NOT EXISTS `vpc_flow_logs`", ""),
        ddl.replace("IF NOT EXISTS `vpc_flow_logs`", "")
    );
}

#[test]
fn athena_ddl_command() {
    let (out, _) = ok(
        &[
            "athena-ddl",
            "--location",
            "s3://my-bucket/flowlogs/",
            "--table",
            "flows",
            "--account",
            "111122223333",
            "--region",
            "eu-west-1",
        ],
        0,
    );
    for want in [
        "CREATE EXTERNAL TABLE IF NOT EXISTS `flows` (",
        "`protocol` int",
        "`end` bigint",
        "`reject_reason` string",
        "LOCATION 's3://my-bucket/flowlogs/AWSLogs/'",
        "'projection.aws-account-id.values'='111122223333'",
        "'projection.aws-region.values'='eu-west-1'",
        "'storage.location.template'='s3://my-bucket/flowlogs/AWSLogs/aws-account-id=${aws-account-id}/aws-service=${aws-service}/aws-region=${aws-region}/year=${year}/month=${month}/day=${day}/hour=${hour}'",
    ] {
        assert!(out.contains(want), "missing {want:?}\n{out}");
    }
    assert!(!out.contains("tgw_id"));
    let (out, _) = ok(
        &[
            "athena-ddl",
            "--location",
            "s3://b/tgw/",
            "--tgw",
            "--table",
            "tgw",
        ],
        0,
    );
    assert!(
        out.contains("`tgw_attachment_id` string")
            && out.contains("`packets_lost_no_route` bigint")
    );
    assert!(!out.contains("`action`") && !out.contains("`interface_id`"));
    assert!(out.contains("'projection.aws-account-id.type'='injected'"));
}

#[test]
fn pandas_written_parquet_is_read() {
    let Some(dir) = samples() else {
        eprintln!("skipped: ../shared/samples is not present");
        return;
    };
    let p = s(&dir.join("obsrvbl-flowlogs-reader-tests-flows.parquet"));
    let v = rejects_json(&[&p], 0);
    assert_eq!(v["scan"]["records"], 3);
    assert_eq!(v["scan"]["malformed"], 0);
    assert_eq!(v["nodata"], 2);
}
