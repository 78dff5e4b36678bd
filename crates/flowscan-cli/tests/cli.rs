//! Integration tests: the real `flowscan` binary on fixtures and generated data.

mod util;

use std::fs;

use serde_json::Value;
use util::*;

fn path(name: &str) -> String {
    testdata(name).to_string_lossy().into_owned()
}

#[test]
fn default_fixture_hotspots() {
    let v = rejects_json(&[&path("default-v2.log")], 0);
    assert_eq!(v["records"], 40);
    assert_eq!(v["rejects"], 18);
    assert_eq!(v["accepts"], 20);
    assert_eq!(v["nodata"], 1);
    assert_eq!(v["skipdata"], 1);
    assert_eq!(v["interfaces"][0]["interface_id"], "eni-0a1b2c3d4e5f60001");
    assert_eq!(v["interfaces"][0]["records"], 12);
    assert_eq!(v["ports"][0]["label"], "22/tcp");
    assert_eq!(v["ports"][0]["records"], 7);
    assert_eq!(v["ports"][1]["label"], "23/tcp");
    // The ICMP reply rejected on its way back.
    assert!(v["ports"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["label"] == "0/icmp" && p["records"] == 2));
    assert_eq!(counts(&v), (41, 40, 1, 0, 0));
    assert_accounting(&v);
}

#[test]
fn table_output_reads_well() {
    let (out, _) = ok(&["rejects", &path("default-v2.log")], 0);
    for want in [
        "REJECT hotspots: 18 of 40 records rejected (45.0%)",
        "Top interfaces",
        "eni-0a1b2c3d4e5f60001",
        "Top destination ports",
        "22/tcp",
        "Top source networks (IPv4 /24, IPv6 /64)",
        "198.51.100.0/24",
        "Top destinations",
        "2001:db8:feed:1::/64",
        "records   40 (18 REJECT, 20 ACCEPT, 1 NODATA, 1 SKIPDATA)",
        "span      2026-11-24T10:00:00Z",
    ] {
        assert!(out.contains(want), "missing {want:?} in\n{out}");
    }
}

#[test]
fn csv_output_has_one_row_per_hotspot() {
    let (out, _) = ok(
        &[
            "rejects",
            "--format",
            "csv",
            "--top",
            "2",
            &path("default-v2.log"),
        ],
        0,
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "table,key,port,protocol,records,packets,bytes,distinct_peers,first_seen,last_seen,ingress,egress"
    );
    assert_eq!(lines.len(), 1 + 2 * 4);
    assert!(lines[1].starts_with("interfaces,eni-0a1b2c3d4e5f60001,,,12,"));
    assert!(lines[3].starts_with("ports,22/tcp,22,6,7,"));
    assert!(lines[7].starts_with("destinations,"), "{out}");
    // The default format has no flow-direction: the direction columns are empty.
    assert!(lines[1].ends_with(",,"), "{out}");
}

#[test]
fn custom_order_gzip_multi_member_and_headerless_agree() {
    let base = answer(&rejects_json(&[&path("default-v2.log")], 0));
    for args in [
        vec![path("custom-v5.log")],
        vec![path("default-v2.log.gz")],
        vec![path("multi-member.log.gz")],
        vec![path("headerless.log"), "--fields".into(), "default".into()],
        vec![
            path("headerless.log"),
            "--fields".into(),
            flowgen::DEFAULT_FIELDS.join(" "),
        ],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut got = answer(&rejects_json(&args, 0));
        // Only the version 5 file carries flow-direction: the same answer, with
        // the direction counts besides.
        if got["directions"] == true {
            assert_eq!(got["interfaces"][0]["egress"], 2, "{args:?}");
            got["directions"] = false.into();
            for table in ["interfaces", "ports", "sources", "destinations"] {
                for row in got[table].as_array_mut().unwrap() {
                    let row = row.as_object_mut().unwrap();
                    assert!(row.remove("ingress").is_some() && row.remove("egress").is_some());
                }
            }
        }
        assert_eq!(got, base, "{args:?}");
    }
}

#[test]
fn headerless_without_fields_assumes_default_and_says_so() {
    let (_, err) = ok(&["rejects", "--format", "json", &path("headerless.log")], 0);
    assert!(
        err.contains("no header: default format (version 2) assumed"),
        "{err}"
    );
}

#[test]
fn standard_input_plain_and_gzip() {
    let base = answer(&rejects_json(&[&path("default-v2.log")], 0));
    let plain = fs::read(testdata("default-v2.log")).unwrap();
    for input in [plain.clone(), gzip(&plain)] {
        for args in [
            &["rejects", "-f", "json", "-q", "-"][..],
            &["rejects", "-f", "json", "-q"][..],
        ] {
            let out = run(args, Some(&input));
            assert_eq!(out.status.code(), Some(0));
            let v: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(answer(&v), base);
        }
    }
}

#[test]
fn malformed_lines_are_counted_and_located() {
    let (out, err) = ok(&["rejects", "-f", "json", &path("malformed.log")], 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(counts(&v), (18, 6, 1, 0, 11));
    assert_accounting(&v);
    let p = path("malformed.log");
    for want in [
        format!("{p}:5: expected 14 fields, found 11"),
        format!("{p}:7: dstport: not a number `ssh`"),
        format!("{p}:8: dstport: number out of range `70000`"),
        format!("{p}:9: bytes: negative number `-60`"),
        format!("{p}:10: bytes: number out of range `18446744073709551616`"),
        format!("{p}:14: srcaddr: not an IP address `198.51.100.300`"),
        format!("{p}:15: srcaddr: not an IP address `2001:db8::zz`"),
        format!("{p}:16: interface-id: invalid UTF-8"),
        format!("{p}:17: expected 14 fields, found 17"),
        "11 malformed lines".to_string(),
    ] {
        assert!(err.contains(&want), "missing {want:?} in\n{err}");
    }
    // The first ten are in the JSON too; the eleventh only counted.
    assert_eq!(v["scan"]["malformed_lines"].as_array().unwrap().len(), 10);
}

#[test]
fn strict_stops_at_the_first_malformed_line() {
    let (_, err) = ok(&["rejects", "--strict", &path("malformed.log")], 1);
    assert!(err.contains("malformed.log:5: expected 14 fields"), "{err}");
    assert!(err.contains("strict"), "{err}");
}

#[test]
fn messy_but_valid_lines() {
    let v = rejects_json(&[&path("messy.log")], 0);
    // Runs of spaces, CRLF, blank lines, a repeated header, a header that
    // reorders the fields, millisecond times, no final newline.
    assert_eq!(counts(&v), (11, 5, 3, 3, 0));
    assert_eq!(v["rejects"], 2);
    assert_eq!(v["first_start"], "2026-11-24T10:00:00Z");
    assert_accounting(&v);
}

#[test]
fn truncated_gzip_keeps_what_was_read_and_exits_3() {
    let (out, err) = ok(&["rejects", "-f", "json", &path("truncated.log.gz")], 3);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(v["records"].as_u64().unwrap() > 10);
    assert!(v["records"].as_u64().unwrap() < 40);
    assert_eq!(v["scan"]["files_incomplete"], 1);
    assert!(err.contains("truncated.log.gz"), "{err}");
    assert!(err.contains("read only in part"), "{err}");
    assert_accounting(&v);
}

#[test]
fn files_that_cannot_be_used_are_reported_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["default-v2.log", "tgw.log", "not-a-flow-log.txt"] {
        fs::copy(testdata(f), dir.path().join(f)).unwrap();
    }
    fs::write(dir.path().join("empty.log"), "").unwrap();
    fs::write(dir.path().join(".hidden.log"), "garbage").unwrap();
    let d = dir.path().to_string_lossy().into_owned();
    let (out, err) = ok(&["rejects", "-f", "json", &d], 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["records"], 40);
    assert_eq!(v["scan"]["files"], 4, "hidden files are not read");
    assert_eq!(v["scan"]["files_skipped"], 2);
    assert!(
        err.contains("tgw.log: Transit Gateway flow log (no action field)"),
        "{err}"
    );
    assert!(err.contains("not-a-flow-log.txt: not a flow log"), "{err}");
}

#[test]
fn missing_input_exits_3_with_the_rest_read() {
    let (out, err) = ok(
        &[
            "rejects",
            "-f",
            "json",
            &path("default-v2.log"),
            "/no/such/file.log",
        ],
        3,
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["records"], 40);
    assert!(err.contains("/no/such/file.log"), "{err}");
}

#[test]
fn bad_arguments_exit_2() {
    ok(&["rejects", "--top", "many", &path("default-v2.log")], 2);
    ok(&["rejects", "--prefix4", "33", &path("default-v2.log")], 2);
    ok(
        &[
            "rejects",
            "--src-cidr",
            "10.0.0.0/99",
            &path("default-v2.log"),
        ],
        2,
    );
    ok(&["frobnicate"], 2);
}

/// Values checked after parsing exit 2, as the ones clap refuses.
#[test]
fn bad_values_exit_2() {
    let (_, err) = ok(
        &["rejects", "--since", "yesterday", &path("default-v2.log")],
        2,
    );
    assert!(err.contains("bad --since"), "{err}");
    let (_, err) = ok(
        &[
            "rejects",
            "--fields",
            "srcaddr 1.2.3.4",
            &path("default-v2.log"),
        ],
        2,
    );
    assert!(err.contains("bad --fields"), "{err}");
    let f = path("default-v2.log");
    for args in [
        &["rejects", "--where", "port ="][..],
        &[
            "rejects",
            "--since",
            "2026-01-02T00:00:00Z",
            "--until",
            "2026-01-01T00:00:00Z",
        ],
        &["rejects", "--fields", ""],
        &["top", "--by", "interface-id", "--sum", "action"],
        &["anomalies", "--sensitivity", "NaN"],
        &["anomalies", "--sensitivity", "inf"],
        &[
            "export",
            "--out",
            "/nonexistent/o",
            "--default-account",
            "12",
        ],
        &[
            "export",
            "--out",
            "/nonexistent/o",
            "--default-region",
            "Mars",
        ],
        &[
            "export",
            "--out",
            "/nonexistent/o",
            "--location",
            "http://x",
        ],
        &["athena-ddl", "--location", "s3://b/", "--fields", ""],
        &["athena-ddl", "--location", "s3://b/", "--table", "a;b"],
    ] {
        let mut all = args.to_vec();
        if args[0] != "athena-ddl" {
            all.push(&f);
        }
        let (_, err) = ok(&all, 2);
        assert!(
            err.contains("bad --")
                || err.contains("invalid value")
                || args.get(3).is_some_and(|a| err.contains(&format!("({a})"))),
            "{args:?}: {err}"
        );
    }
}

/// Issue 12, item 1: one duration parser; sizes that overflowed `n * unit`
/// (a debug panic, or in release a zero width and then a division by zero)
/// are refused with a message.
#[test]
fn absurd_durations_are_refused_with_a_message() {
    let f = path("default-v2.log");
    let cases: &[(&[&str], &str, &str)] = &[
        (
            &["top", "--by", "start/4611686018427387904m"],
            "bad --by",
            "at most 100 years",
        ),
        (
            &["top", "--by", "end/530000600238621102m"],
            "bad --by",
            "at most 100 years",
        ),
        (&["top", "--by", "start/0m"], "bad --by", "is zero"),
        (
            &["anomalies", "--bucket", "4611686018427387904m"],
            "bad --bucket",
            "at most 100 years",
        ),
        (&["anomalies", "--bucket", "0s"], "bad --bucket", "is zero"),
        (
            &["anomalies", "--bucket", "5"],
            "bad --bucket",
            "not a duration",
        ),
        (
            &["rejects", "--since", "4611686018427387904m"],
            "bad --since",
            "at most 100 years",
        ),
        (&["rejects", "--since", "0h"], "bad --since", "is zero"),
        (
            &["rejects", "--since", "2026-13-45"],
            "bad --since",
            "is not a time",
        ),
        (
            &["filter", "--where", "start > 2026-11-24T25:00Z"],
            "bad --where",
            "is not a time",
        ),
    ];
    for (args, flag, says) in cases {
        let mut all = args.to_vec();
        all.push(&f);
        let (_, err) = ok(&all, 2);
        assert!(err.contains(flag) && err.contains(says), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    // The same parser accepts the same spellings everywhere.
    for args in [
        &["top", "--by", "start/1w", "-q"][..],
        &["anomalies", "--bucket", "90s", "-q"],
        &["rejects", "--since", "2w", "-q"],
    ] {
        let mut all = args.to_vec();
        all.push(&f);
        ok(&all, 0);
    }
}

#[test]
fn filters() {
    let p = path("default-v2.log");
    let v = rejects_json(&[&p, "--port", "22"], 0);
    assert_eq!(v["rejects"], 7);
    let v = rejects_json(&[&p, "--port", "22,23"], 0);
    assert_eq!(v["rejects"], 12);
    let v = rejects_json(&[&p, "--src-cidr", "2001:db8::/32"], 0);
    assert!(v["sources"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["cidr"].as_str().unwrap().starts_with("2001:db8:")));
    let v = rejects_json(&[&p, "--eni", "eni-0a1b2c3d4e5f60002"], 0);
    assert_eq!(v["rejects"], 4);
    assert_eq!(v["interfaces"].as_array().unwrap().len(), 1);
    // start in [since, until): records start every 90 s from 10:00:00.
    let v = rejects_json(
        &[
            &p,
            "--since",
            "2026-11-24T10:00:00Z",
            "--until",
            "2026-11-24T10:03:00Z",
        ],
        0,
    );
    assert_eq!(v["records"], 2);
    let v = rejects_json(&[&p, "--account", "000000000000"], 0);
    assert_eq!(v["records"], 0);
    // The v2 file has no vpc-id: it cannot answer --vpc and is skipped, not zero;
    // with nothing else read, that is exit 4.
    let (out, err) = ok(&["rejects", "-f", "json", &p, "--vpc", "vpc-0abc1"], 4);
    assert!(err.contains("format lacks vpc-id"), "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["scan"]["files_skipped"], 1);
    let v = rejects_json(&[&path("custom-v5.log"), "--vpc", "vpc-0abc1"], 0);
    assert_eq!(v["records"], 40);
}

#[test]
fn prefix_lengths_are_configurable() {
    let v = rejects_json(
        &[
            &path("default-v2.log"),
            "--prefix4",
            "16",
            "--prefix6",
            "32",
        ],
        0,
    );
    let cidrs: Vec<&str> = v["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["cidr"].as_str().unwrap())
        .collect();
    assert!(cidrs.contains(&"198.51.0.0/16"), "{cidrs:?}");
    assert!(cidrs.contains(&"2001:db8::/32"), "{cidrs:?}");
}

#[test]
fn results_do_not_depend_on_threads_or_chunking() {
    // Large enough (about 14 MB) to be cut into chunks scanned in parallel.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.log");
    fs::write(&file, generated(120_000, 3)).unwrap();
    let f = file.to_string_lossy().into_owned();
    let one = rejects_json(&[&f, "--threads", "1"], 0);
    for t in ["2", "7"] {
        let other = rejects_json(&[&f, "--threads", t], 0);
        assert_eq!(answer(&other), answer(&one), "threads {t}");
        assert_eq!(counts(&other), counts(&one));
    }
    assert_eq!(one["records"], 120_000);
}

#[test]
fn a_header_changing_the_format_mid_file_is_honoured_when_chunked() {
    let dir = tempfile::tempdir().unwrap();
    let text = String::from_utf8(generated(120_000, 5)).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(' ').collect();
    let reversed: Vec<&str> = header.iter().rev().copied().collect();
    let mut mixed = String::new();
    mixed.push_str(&header.join(" "));
    mixed.push('\n');
    let body: Vec<&str> = lines.collect();
    let (a, b) = body.split_at(body.len() / 2);
    for l in a {
        mixed.push_str(l);
        mixed.push('\n');
    }
    mixed.push_str(&reversed.join(" "));
    mixed.push('\n');
    for l in b {
        let toks: Vec<&str> = l.split(' ').rev().collect();
        mixed.push_str(&toks.join(" "));
        mixed.push('\n');
    }
    let plain = dir.path().join("plain.log");
    let swapped = dir.path().join("swapped.log");
    fs::write(&plain, &text).unwrap();
    fs::write(&swapped, &mixed).unwrap();
    let want = rejects_json(&[&plain.to_string_lossy()], 0);
    for t in ["1", "2"] {
        let got = rejects_json(&[&swapped.to_string_lossy(), "--threads", t], 0);
        assert_eq!(answer(&got), answer(&want), "threads {t}");
        assert_eq!(got["scan"]["malformed"], 0);
    }
}

#[test]
fn malformed_line_numbers_are_exact_in_chunked_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = generated(120_000, 9);
    // Damage line 100,000 (header is line 1) of a file that is scanned in chunks.
    let mut nl = text
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| i);
    let start = nl.nth(99_998).unwrap() + 1;
    text.splice(start..start, b"garbage ".iter().copied());
    let file = dir.path().join("damaged.log");
    fs::write(&file, &text).unwrap();
    let f = file.to_string_lossy().into_owned();
    let (_, err) = ok(&["rejects", "-f", "json", "--threads", "2", &f], 0);
    assert!(
        err.contains(&format!("{f}:100000: expected 14 fields, found 15")),
        "{err}"
    );
}

#[test]
fn broken_pipe_exits_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.log");
    fs::write(&file, generated(30_000, 1)).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_flowscan"))
        .args(["rejects", "--top", "100000", &file.to_string_lossy()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn help_and_version() {
    let (out, _) = ok(&["rejects", "--help"], 0);
    assert!(out.contains("Examples:"));
    assert!(out.contains("Exit codes"));
    let (out, _) = ok(&["--version"], 0);
    assert!(out.starts_with("flowscan "));
}

/// Text with its header switching to the reversed field order halfway.
fn swapped_halves(text: &str) -> String {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(' ').collect();
    let body: Vec<&str> = lines.collect();
    let (a, b) = body.split_at(body.len() / 2);
    let mut out = format!("{}\n", header.join(" "));
    for l in a {
        out.push_str(l);
        out.push('\n');
    }
    let reversed: Vec<&str> = header.iter().rev().copied().collect();
    out.push_str(&reversed.join(" "));
    out.push('\n');
    for l in b {
        let toks: Vec<&str> = l.split(' ').rev().collect();
        out.push_str(&toks.join(" "));
        out.push('\n');
    }
    out
}

#[test]
fn large_gzip_is_read_in_parallel_blocks_with_the_same_answer() {
    // About 14 MB of text: several 4 MiB blocks inflated in one thread and
    // parsed in others.
    let dir = tempfile::tempdir().unwrap();
    let mut text = generated(120_000, 17);
    let mut nl = text
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| i);
    let start = nl.nth(109_998).unwrap() + 1;
    text.splice(start..start, b"garbage ".iter().copied());
    let plain = dir.path().join("p.log");
    let gz = dir.path().join("p.log.gz");
    fs::write(&plain, &text).unwrap();
    fs::write(&gz, gzip(&text)).unwrap();
    let want = rejects_json(&[&plain.to_string_lossy()], 0);
    for t in ["1", "2", "3"] {
        let (out, err) = ok(
            &[
                "rejects",
                "-f",
                "json",
                "--pipeline-min",
                "1",
                "--threads",
                t,
                &gz.to_string_lossy(),
            ],
            0,
        );
        let got: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(answer(&got), answer(&want), "threads {t}");
        assert_eq!(counts(&got), counts(&want), "threads {t}");
        assert!(
            err.contains("p.log.gz:110000: expected 14 fields, found 15"),
            "{err}"
        );
    }
    // A format change mid-file makes the blocks after it wrong: the file is
    // read again in order, and the answer is the plain text's.
    let swapped = swapped_halves(&String::from_utf8(generated(120_000, 18)).unwrap());
    let plain = dir.path().join("q.log");
    fs::write(&plain, generated(120_000, 18)).unwrap();
    let gz = dir.path().join("q.log.gz");
    fs::write(&gz, gzip(swapped.as_bytes())).unwrap();
    let want = rejects_json(&[&plain.to_string_lossy()], 0);
    let got = rejects_json(
        &[
            &gz.to_string_lossy(),
            "--threads",
            "2",
            "--pipeline-min",
            "1",
        ],
        0,
    );
    assert_eq!(answer(&got), answer(&want));
    assert_eq!(got["scan"]["malformed"], 0);
    // Cut short: what was read is kept, the cut line is counted, exit code 3.
    let whole = gzip(&generated(120_000, 19));
    let cut = dir.path().join("cut.log.gz");
    fs::write(&cut, &whole[..whole.len() * 3 / 4]).unwrap();
    let (out, err) = ok(
        &[
            "rejects",
            "-f",
            "json",
            "--pipeline-min",
            "1",
            "--threads",
            "2",
            &cut.to_string_lossy(),
        ],
        3,
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    let records = v["records"].as_u64().unwrap();
    assert!(records > 60_000 && records < 120_000, "{records}");
    assert_eq!(v["scan"]["malformed"], 1);
    assert_accounting(&v);
    assert!(err.contains("cut.log.gz: read error after"), "{err}");
}

/// One record of the version 5 format (flowgen's field order), with `egress`
/// or `ingress` in flow-direction.
fn v5_line(eni: &str, src: &str, dst: &str, dport: u16, t: u64, action: &str, dir: &str) -> String {
    flowgen::V5_FIELDS
        .iter()
        .map(|f| match *f {
            "version" => "5".to_string(),
            "account-id" => "123456789012".into(),
            "interface-id" => eni.into(),
            "srcaddr" | "pkt-srcaddr" => src.into(),
            "dstaddr" | "pkt-dstaddr" => dst.into(),
            "srcport" => "50000".into(),
            "dstport" => dport.to_string(),
            "protocol" => "6".into(),
            "packets" => "2".into(),
            "bytes" => "120".into(),
            "start" => t.to_string(),
            "end" => (t + 20).to_string(),
            "action" => action.into(),
            "log-status" => "OK".into(),
            "flow-direction" => dir.into(),
            "type" => "IPv4".into(),
            _ => "-".into(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Issue 12, item 16: an application that cannot reach its database read like
/// an inbound problem ("Top source networks 10.0.1.0/24", one source). With
/// flow-direction the rows say egress, and the destination has its own table.
#[test]
fn egress_rejects_show_their_direction_and_destination() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("v5.log");
    let mut text = Vec::new();
    flowgen::Generator::new(flowgen::Spec {
        records: 3000,
        seed: 16,
        fields: flowgen::V5_FIELDS.iter().map(|s| s.to_string()).collect(),
        ..flowgen::Spec::default()
    })
    .write_text(&mut text)
    .unwrap();
    let mut text = String::from_utf8(text).unwrap();
    for i in 0..700u64 {
        let line = v5_line(
            "eni-0app",
            "10.0.1.5",
            "10.0.2.9",
            5432,
            1_795_514_400 + i,
            "REJECT",
            "egress",
        );
        text.push_str(&line);
        text.push('\n');
    }
    fs::write(&f, &text).unwrap();
    let p = f.to_string_lossy().into_owned();
    let v = rejects_json(&[&p, "--top", "3"], 0);
    assert_eq!(v["directions"], true);
    let src = &v["sources"][0];
    assert_eq!(src["cidr"], "10.0.1.0/24");
    assert_eq!(
        (src["egress"].as_u64(), src["ingress"].as_u64()),
        (Some(700), Some(0))
    );
    let dst = &v["destinations"][0];
    assert_eq!(dst["destination"], "10.0.2.9");
    assert_eq!(dst["records"], 700);
    assert_eq!(dst["distinct_sources"], 1);
    assert_eq!(dst["egress"], 700);
    assert_eq!(dst["first_seen"], "2026-11-24T10:00:00Z");
    // The scanners' rejects are inbound.
    assert_eq!(v["ports"][1]["egress"], 0);
    let (out, _) = ok(&["rejects", &p, "--top", "3"], 0);
    assert!(out.contains("Top destinations"), "{out}");
    let row = out
        .lines()
        .find(|l| l.trim_start().starts_with("10.0.2.9"))
        .unwrap();
    assert!(
        row.trim_end().ends_with("egress") && row.contains(" 700 "),
        "{row}"
    );
    let head = out.lines().find(|l| l.contains("interface-id")).unwrap();
    assert!(head.trim_end().ends_with("direction"), "{head}");
    let (csv, _) = ok(&["rejects", &p, "--top", "3", "-f", "csv"], 0);
    assert!(
        csv.lines()
            .any(|l| l.starts_with("destinations,10.0.2.9,,,700,") && l.ends_with(",0,700")),
        "{csv}"
    );
    // Destinations can be rolled up to networks too.
    let v = rejects_json(&[&p, "--top", "3", "--dst-prefix4", "24"], 0);
    assert_eq!(v["destinations"][0]["destination"], "10.0.2.0/24");
    // Without flow-direction, no direction is claimed.
    let v = rejects_json(&[&path("default-v2.log")], 0);
    assert_eq!(v["directions"], false);
    assert!(v["interfaces"][0].get("ingress").is_none());
    let (out, _) = ok(&["rejects", &path("default-v2.log")], 0);
    assert!(!out.contains("direction"), "{out}");
}

/// A thread count out of 1..=1024 is a bad argument (exit 2), refused before
/// any thread starts: 100,000 threads ran the process out of memory
/// mappings and ended in a panic.
#[test]
fn thread_counts_out_of_range_are_bad_arguments() {
    let f = testdata("default-v2.log").to_string_lossy().into_owned();
    for t in ["0", "1025", "100000", "x"] {
        let (_, err) = ok(&["rejects", &f, "--threads", t], 2);
        assert!(err.contains("thread count from 1 to 1024"), "{t}: {err}");
    }
    ok(&["rejects", &f, "--threads", "1024", "-q"], 0);
}

/// A chart that cannot be written is an error (the SVG backend dropped its
/// write errors: a full disk gave a cut file and exit 0).
#[cfg(target_os = "linux")]
#[test]
fn an_anomaly_chart_that_cannot_be_written_is_an_error() {
    let f = testdata("default-v2.log").to_string_lossy().into_owned();
    let (_, err) = ok(&["anomalies", &f, "-q", "--plot", "/dev/full"], 1);
    assert!(err.contains("cannot write /dev/full"), "{err}");
}

/// `athena-ddl --tgw` names its table as an export does: under the VPC
/// table's name, `IF NOT EXISTS` made it a silent no-op.
#[test]
fn the_transit_gateway_ddl_has_its_own_table_name() {
    let (ddl, _) = ok(&["athena-ddl", "--tgw", "--location", "s3://b/p/"], 0);
    assert!(ddl.contains("EXISTS `tgw_flow_logs`"), "{ddl}");
    let (ddl, _) = ok(&["athena-ddl", "--location", "s3://b/p/"], 0);
    assert!(ddl.contains("EXISTS `vpc_flow_logs`"), "{ddl}");
}

/// `filter --out` belongs to `--format parquet` (CSV with --out printed to
/// standard output and ignored the folder), `--overwrite` replaces its
/// previous output as its error message says, and zero rows per row group
/// is refused (it was taken as one).
#[test]
fn filter_output_flags_are_checked() {
    let f = path("default-v2.log");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pq");
    let o = out.to_string_lossy().into_owned();
    let (printed, err) = ok(&["filter", "-f", "csv", "--out", &o, &f], 2);
    assert!(
        printed.is_empty() && err.contains("--out is for --format parquet"),
        "{err}"
    );
    assert!(!out.exists());
    ok(&["filter", "--overwrite", &f], 2);
    ok(&["filter", "-f", "parquet", &f], 2);
    ok(&["filter", "-q", "-f", "parquet", "--out", &o, &f], 0);
    let (_, err) = ok(&["filter", "-q", "-f", "parquet", "--out", &o, &f], 1);
    assert!(err.contains("--overwrite"), "{err}");
    ok(
        &[
            "filter",
            "-q",
            "-f",
            "parquet",
            "--out",
            &o,
            "--overwrite",
            &f,
        ],
        0,
    );
    let (_, err) = ok(
        &[
            "export",
            &f,
            "--out",
            &dir.path().join("x").to_string_lossy(),
            "--row-group-rows",
            "0",
        ],
        2,
    );
    assert!(err.contains("--row-group-rows"), "{err}");
    // The partition defaults are export's: only with Parquet, checked before
    // anything is written, and they fill in what the records lack.
    let (_, err) = ok(&["filter", "--default-region", "eu-west-1", &f], 2);
    assert!(
        err.contains("--default-region is for --format parquet"),
        "{err}"
    );
    let pq = dir.path().join("pq2");
    let p = pq.to_string_lossy().into_owned();
    let (_, err) = ok(
        &[
            "filter",
            "-f",
            "parquet",
            "--out",
            &p,
            "--default-region",
            "Mars",
            &f,
        ],
        2,
    );
    assert!(err.contains("(--default-region) \"Mars\""), "{err}");
    assert!(!pq.exists());
    let (_, err) = ok(&["filter", "-f", "parquet", "--out", &p, &f], 0);
    assert!(
        err.contains("without a region (--default-region NAME)"),
        "{err}"
    );
    let (_, err) = ok(
        &[
            "filter",
            "-f",
            "parquet",
            "--out",
            &p,
            "--overwrite",
            "--default-account",
            "123456789012",
            "--default-region",
            "eu-west-1",
            &f,
        ],
        0,
    );
    assert!(!err.contains("fallback"), "{err}");
    assert!(pq
        .join("AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-west-1")
        .is_dir());
}

/// A huge flag value is not echoed whole: the error line is cut in the middle
/// and says how much was left out; clap's refusals and flowscan's alike.
#[test]
fn huge_flag_values_are_not_echoed_whole() {
    let f = path("default-v2.log");
    let huge = "x".repeat(100_000);
    for args in [
        &["top", "--by", &huge][..],
        &["rejects", "--since", &huge],
        &["rejects", "--format", &huge],
    ] {
        let mut all = args.to_vec();
        all.push(&f);
        let (_, err) = ok(&all, 2);
        assert!(err.len() < 2_000, "{args:?}: {} bytes", err.len());
        assert!(err.contains("characters left out"), "{err}");
    }
}
