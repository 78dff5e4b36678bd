//! `flowscan top` and `--where` against the same questions asked of DuckDB in SQL.

mod util;

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use util::*;

fn duckdb(sql: &str, files: &[&str]) -> Option<Vec<Vec<Value>>> {
    if !python_has("duckdb, numpy") {
        return None;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/reference/duckdb_sql.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(sql)
        .args(files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

fn top(args: &[&str]) -> Vec<Vec<Value>> {
    let mut all = vec!["top", "-f", "json", "-q"];
    all.extend_from_slice(args);
    let (out, _) = ok(&all, 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let mut row: Vec<Value> = r["key"].as_array().unwrap().clone();
            row.push(r["records"].clone());
            if let Some(x) = r.get("sum").or(r.get("distinct")) {
                row.push(x.clone());
            }
            row
        })
        .collect()
}

fn data() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("flows.log");
    std::fs::write(&f, generated(150_000, 61)).unwrap();
    let s = f.to_string_lossy().into_owned();
    (dir, s)
}

#[test]
fn top_agrees_with_duckdb() {
    let (_dir, f) = data();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--by", "srcaddr/24,dstport", "--where", "action = REJECT and dstport in (22, 3389)", "--top", "20"],
            "SELECT n, dstport, c FROM (SELECT net(srcaddr, 24, 64) n, net_order(srcaddr, 24, 64) o, dstport, count(*) c
             FROM flows WHERE action = 'REJECT' AND dstport IN (22, 3389) GROUP BY ALL) ORDER BY c DESC, o, dstport NULLS FIRST LIMIT 20",
        ),
        (
            &["--by", "interface-id", "--sum", "bytes", "--where", "dstaddr in 10.0.0.0/16"],
            "SELECT \"interface-id\", count(*) c, sum(bytes) s FROM flows WHERE in_net(dstaddr, '10.0.0.0/16')
             GROUP BY ALL ORDER BY s DESC, c DESC, \"interface-id\" LIMIT 10",
        ),
        (
            &["--by", "dstport", "--distinct", "srcaddr", "--where", "action = REJECT and not dstport in (22, 3389)"],
            "SELECT dstport, count(*) c, count(DISTINCT srcaddr) d FROM flows WHERE action = 'REJECT' AND dstport NOT IN (22, 3389)
             GROUP BY ALL ORDER BY d DESC, c DESC, dstport NULLS FIRST LIMIT 10",
        ),
        (
            &["--by", "action,log-status", "--where", "start >= 2026-11-24T10:20:00Z and start < 2026-11-24T10:40:00Z or protocol = 1"],
            "SELECT action, \"log-status\", count(*) c FROM flows WHERE (start >= 1795515600 AND start < 1795516800) OR protocol = 1
             GROUP BY ALL ORDER BY c DESC, action NULLS FIRST, \"log-status\" LIMIT 10",
        ),
        (
            &["--by", "start/10m", "--sum", "packets"],
            "SELECT strftime(to_timestamp(start - start % 600), '%Y-%m-%dT%H:%M:%SZ'), count(*) c, sum(packets) s FROM flows
             GROUP BY ALL ORDER BY s DESC, c DESC, 1 LIMIT 10",
        ),
    ];
    for (args, sql) in cases {
        let Some(want) = duckdb(sql, &[&f]) else {
            return;
        };
        let mut a = vec![f.as_str()];
        a.extend_from_slice(args);
        let got = top(&a);
        assert_eq!(got, want, "{args:?}");
    }
}

#[test]
fn where_errors_point_at_the_column() {
    let (_, err) = ok(
        &[
            "top",
            &path_of("default-v2.log"),
            "--by",
            "dstport",
            "--where",
            "action = REJECT and dstprt = 22",
        ],
        2,
    );
    assert!(
        err.contains("bad --where: at column 21: `dstprt` is not a flow log field"),
        "{err}"
    );
    let (_, err) = ok(
        &[
            "top",
            &path_of("default-v2.log"),
            "--by",
            "dstport",
            "--where",
            "(action = REJECT",
        ],
        2,
    );
    assert!(err.contains("at column 17"), "{err}");
    let (_, err) = ok(&["top", &path_of("default-v2.log"), "--by", "nope"], 2);
    assert!(err.contains("bad --by"), "{err}");
}

#[test]
fn where_applies_to_rejects_too_and_files_lacking_its_fields_are_skipped() {
    let v = rejects_json(&[&path_of("default-v2.log"), "--where", "dstport = 22"], 0);
    assert_eq!(v["rejects"], 7);
    let (_, err) = ok(
        &[
            "rejects",
            &path_of("default-v2.log"),
            "--where",
            "vpc-id = vpc-1",
        ],
        4,
    );
    assert!(err.contains("format lacks vpc-id"), "{err}");
}

fn path_of(name: &str) -> String {
    testdata(name).to_string_lossy().into_owned()
}

#[test]
fn filter_prints_the_matching_records_in_every_format() {
    let (dir, f) = data();
    let q = "action = REJECT and dstport in (22, 3389)";
    let want = rejects_json(&[&f, "--where", q], 0);
    let n = want["records"].as_u64().unwrap();
    assert!(n > 1000);
    // Text: a flow log again, which reads back to the same answer.
    let (text, _) = ok(&["filter", "-q", &f, "--where", q], 0);
    assert_eq!(text.lines().count() as u64, n + 1);
    let back = dir.path().join("back.log");
    std::fs::write(&back, &text).unwrap();
    assert_eq!(
        answer(&rejects_json(&[&back.to_string_lossy()], 0)),
        answer(&want)
    );
    // CSV: a header row and one row per record.
    let (csv, _) = ok(&["filter", "-q", "-f", "csv", &f, "--where", q], 0);
    assert_eq!(csv.lines().count() as u64, n + 1);
    assert!(csv.starts_with("version,account-id,interface-id,srcaddr,"));
    // JSON lines, typed.
    let (jl, _) = ok(&["filter", "-q", "-f", "jsonl", &f, "--where", q], 0);
    let first: Value = serde_json::from_str(jl.lines().next().unwrap()).unwrap();
    assert!(first["dstport"] == 22 || first["dstport"] == 3389);
    assert_eq!(first["action"], "REJECT");
    assert_eq!(jl.lines().count() as u64, n);
    // Parquet, through the export writer.
    let out = dir.path().join("pq");
    ok(
        &[
            "filter",
            "-q",
            "-f",
            "parquet",
            "--out",
            &out.to_string_lossy(),
            &f,
            "--where",
            q,
        ],
        0,
    );
    let again = rejects_json(&[&out.to_string_lossy()], 0);
    assert_eq!(answer(&again), answer(&want));
}
