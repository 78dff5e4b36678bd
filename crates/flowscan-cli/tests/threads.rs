//! Every command gives the same answer whatever the thread count and however
//! the input is cut: 1, 2 and 7 threads, whole files and forced parallel
//! blocks of small files (`--split-min 1 --block-size 4096`, and larger
//! blocks at 2 threads), on a generated
//! tree and on one file whose format changes mid-file (a default-format part,
//! then a version 5 header and records), plain and gzip.

mod util;

use std::path::Path;

use serde_json::Value;
use util::*;

const T: u64 = 1_795_514_400;

/// The ways a scan is run: thread counts, then the same with every file cut
/// into small blocks read in parallel.
fn configs() -> Vec<Vec<&'static str>> {
    let mut out = Vec::new();
    for blocks in [false, true] {
        for threads in ["1", "2", "7"] {
            let mut c = vec!["--threads", threads];
            if blocks {
                c.extend(["--split-min", "1", "--block-size", "4096"]);
            }
            out.push(c);
        }
    }
    // Blocks of several pages: a mapped file's whole pages are let go once
    // their block is read (4 KiB blocks hold none), and a block read again
    // (a format changed mid-file) must fault them in with the same bytes.
    out.push(vec![
        "--threads",
        "2",
        "--split-min",
        "1",
        "--block-size",
        "20000",
    ]);
    out
}

fn generated_text(records: u64, seed: u64, fields: &[&str]) -> String {
    let mut out = Vec::new();
    three_hours(records, seed, fields)
        .write_text(&mut out)
        .unwrap();
    String::from_utf8(out).unwrap()
}

/// Situations `diagnose` reports, with evidence whose order matters: a NACL
/// on a return path, blocked egress from an interface whose first record
/// does not carry its own address, an ICMP reply; in the default format.
fn planted() -> String {
    let line =
        |eni: &str, src: &str, dst: &str, sp: u32, dp: u32, proto: u8, t: u64, action: &str| {
            format!(
                "2 123456789012 {eni} {src} {dst} {sp} {dp} {proto} 3 180 {t} {} {action} OK\n",
                t + 30
            )
        };
    let mut s = line(
        "eni-0e9", "10.1.1.1", "10.2.2.2", 40000, 443, 6, T, "ACCEPT",
    );
    for i in 0..30u32 {
        let peer = format!("10.3.0.{}", i + 1);
        let t = T + 60 * u64::from(i);
        s += &line("eni-0e9", &peer, "10.0.0.5", 50000 + i, 443, 6, t, "ACCEPT");
        s += &line(
            "eni-0e9",
            "10.0.0.5",
            "10.9.9.9",
            51000 + i,
            5432,
            6,
            t + 5,
            "REJECT",
        );
        let client = format!("10.20.0.{}", i + 1);
        s += &line(
            "eni-0n1",
            &client,
            "10.9.0.10",
            40000 + i,
            443,
            6,
            t,
            "ACCEPT",
        );
        s += &line(
            "eni-0n1",
            "10.9.0.10",
            &client,
            443,
            40000 + i,
            6,
            t + 1,
            "REJECT",
        );
    }
    s += &line(
        "eni-0c3",
        "203.0.113.9",
        "10.4.0.1",
        0,
        0,
        1,
        T + 10,
        "ACCEPT",
    );
    s += &line(
        "eni-0c3",
        "10.4.0.1",
        "203.0.113.9",
        0,
        0,
        1,
        T + 11,
        "REJECT",
    );
    s
}

/// Writes the inputs: a tree of gzip files; one file of a default-format part
/// (with the planted situations) and a version 5 part, plain and gzip.
fn inputs(dir: &Path) -> Vec<String> {
    let tree = dir.join("tree");
    flowgen::Generator::new(flowgen::Spec {
        records: 12_000,
        seed: 6,
        span: 2 * 3600,
        ..flowgen::Spec::default()
    })
    .write_tree(&tree, 16, 1)
    .unwrap();
    let mut mixed = generated_text(8_000, 61, flowgen::DEFAULT_FIELDS);
    mixed += &planted();
    mixed += &generated_text(8_000, 62, flowgen::V5_FIELDS);
    let plain = dir.join("mixed.log");
    std::fs::write(&plain, &mixed).unwrap();
    let gz = dir.join("mixed.log.gz");
    std::fs::write(&gz, gzip(mixed.as_bytes())).unwrap();
    [tree, plain, gz]
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect()
}

/// Runs `args` with each config; every stdout must equal the first after
/// `normalise`.
fn same_everywhere(what: &str, args: &[&str], normalise: impl Fn(&str) -> String) {
    let mut first: Option<String> = None;
    for c in configs() {
        let mut all = args.to_vec();
        all.extend(&c);
        let (out, _) = ok(&all, 0);
        let got = normalise(&out);
        match &first {
            None => first = Some(got),
            Some(want) => assert!(
                &got == want,
                "{what}: {c:?} differs from {:?}\n--- got\n{got}\n--- want\n{want}",
                configs()[0]
            ),
        }
    }
}

/// A JSON document without its scan section's timing.
fn json_answer(out: &str) -> String {
    let mut v: Value = serde_json::from_str(out).unwrap();
    if let Some(scan) = v.get_mut("scan").and_then(Value::as_object_mut) {
        scan.remove("elapsed_seconds");
    }
    serde_json::to_string_pretty(&v).unwrap()
}

#[test]
fn every_command_answers_the_same_at_any_thread_count_and_cut() {
    let dir = tempfile::tempdir().unwrap();
    for input in inputs(dir.path()) {
        let i = input.as_str();
        let json = ["-f", "json", "-q", i];
        let cases: Vec<(&str, Vec<&str>)> = vec![
            ("rejects", vec!["rejects", "--top", "25"]),
            (
                "top",
                vec!["top", "--by", "srcaddr/24,dstport", "--top", "30"],
            ),
            (
                "top distinct",
                vec!["top", "--by", "interface-id", "--distinct", "srcaddr"],
            ),
            ("diagnose", vec!["diagnose"]),
            ("anomalies", vec!["anomalies", "--top", "50"]),
        ];
        for (what, mut args) in cases {
            args.extend(json);
            same_everywhere(&format!("{what} on {i}"), &args, json_answer);
        }
        same_everywhere(
            &format!("filter on {i}"),
            &[
                "filter",
                "-q",
                "--where",
                "action = REJECT or dstport = 443",
                i,
            ],
            str::to_string,
        );
        export_same_everywhere(dir.path(), i);
    }
}

/// Exports once per config; the rows of each partition and dataset, and the
/// summary without timings, paths and sizes, must agree. How a partition's
/// rows are split into files may differ: the writer keeps a bounded number
/// of files open and closes the least recently used, and which that is
/// depends on how the input was cut into blocks.
fn export_same_everywhere(dir: &Path, input: &str) {
    let mut first: Option<Value> = None;
    for (n, c) in configs().into_iter().enumerate() {
        let out = dir.join(format!("export-{n}"));
        let _ = std::fs::remove_dir_all(&out);
        let o = out.to_string_lossy().into_owned();
        let mut args = vec!["export", input, "--out", &o, "-f", "json", "-q"];
        args.extend(&c);
        let (stdout, _) = ok(&args, 0);
        let mut v: Value = serde_json::from_str(&stdout).unwrap();
        let e = v["export"].as_object_mut().unwrap();
        let mut rows = std::collections::BTreeMap::<(String, String), u64>::new();
        for f in e["files"].as_array().unwrap() {
            let path = f["path"].as_str().unwrap();
            // part-RUN-N.parquet: the run id differs from run to run.
            let folder = path.rsplit_once('/').map_or("", |p| p.0).to_string();
            let dataset = f["dataset"].as_str().unwrap().to_string();
            *rows.entry((folder, dataset)).or_default() += f["rows"].as_u64().unwrap();
        }
        let rows: Vec<_> = rows.into_iter().collect();
        e.insert("files".into(), serde_json::to_value(rows).unwrap());
        e.remove("bytes");
        let scan = v["scan"].as_object_mut().unwrap();
        scan.remove("elapsed_seconds");
        match &first {
            None => first = Some(v),
            Some(want) => assert_eq!(&v, want, "export of {input}: {c:?}"),
        }
        std::fs::remove_dir_all(&out).unwrap();
    }
}

/// Text whose format changes again and again: default-format runs, version 5
/// runs, headers with leading blanks and CRLF, lines that start like a header
/// and are not one, blank runs and malformed lines, so that with small blocks
/// the changes fall everywhere in them.
fn changing_formats() -> String {
    let mut s = String::new();
    for part in 0..12u64 {
        let fields = if part % 2 == 0 {
            flowgen::DEFAULT_FIELDS
        } else {
            flowgen::V5_FIELDS
        };
        let mut text = generated_text(300 + 37 * part, 100 + part, fields);
        if part % 3 == 1 {
            // The same header, indented and ended with CRLF.
            let nl = text.find('\n').unwrap();
            let head = format!(" \t{}\r\n", &text[..nl]);
            text.replace_range(..=nl, &head);
        }
        s += &text;
        s += "\n\n  \n";
        s += "eni-0not-a-header 10.0.0.1 REJECT\n";
        // Unknown names: a header all the same, of a format with no records.
        s += "version and more words\n";
    }
    s
}

/// The answer sections and the scan's counts; not where the text came from
/// (a path or `-`), its size on disk, or the time taken.
fn input_free(out: &str) -> String {
    let mut v: Value = serde_json::from_str(out).unwrap();
    if let Some(scan) = v.get_mut("scan").and_then(Value::as_object_mut) {
        scan.remove("elapsed_seconds");
        scan.remove("bytes");
        if let Some(lines) = scan
            .get_mut("malformed_lines")
            .and_then(Value::as_array_mut)
        {
            for l in lines {
                l.as_object_mut().unwrap().remove("path");
            }
        }
    }
    serde_json::to_string_pretty(&v).unwrap()
}

/// Standard input, which cannot be read twice, is read in parallel blocks by
/// aggregates too: a block that could change the format is read in order by
/// the driver, so every other block starts from the right format. The answer
/// is the file's, read in order on one thread, at any thread count and cut,
/// plain and gzip.
#[test]
fn standard_input_answers_as_the_file_does_at_any_thread_count_and_cut() {
    let dir = tempfile::tempdir().unwrap();
    let text = changing_formats();
    let file = dir.path().join("changing.log");
    std::fs::write(&file, &text).unwrap();
    let f = file.to_string_lossy().into_owned();
    let packed = [text.as_bytes().to_vec(), gzip(text.as_bytes())];
    let cases: [&[&str]; 3] = [
        &["rejects", "--top", "40"],
        &["top", "--by", "srcaddr/24,dstport", "--top", "30"],
        &["anomalies", "--top", "50"],
    ];
    for case in cases {
        let mut args = case.to_vec();
        args.extend(["-f", "json", "-q", "--threads", "1", &f]);
        // Malformed lines make the exit code 0 still (they are counted).
        let (want, _) = ok(&args, 0);
        let want = input_free(&want);
        // Each part: its header, a line of unknown names (a header too, of a
        // format no record follows), and one malformed line.
        assert!(want.contains("\"headers\": 24"), "{want}");
        assert!(want.contains("\"malformed\": 12"), "{want}");
        for input in &packed {
            for c in configs() {
                let mut args = case.to_vec();
                args.extend(["-f", "json", "-q", "-"]);
                args.extend(&c);
                let out = run(&args, Some(input));
                let got = String::from_utf8_lossy(&out.stdout);
                assert_eq!(out.status.code(), Some(0), "{args:?}");
                let got = input_free(&got);
                assert!(
                    got == want,
                    "{args:?} differs\n--- got\n{got}\n--- want\n{want}"
                );
            }
        }
    }
}
