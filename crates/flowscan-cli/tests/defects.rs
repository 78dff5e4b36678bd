//! Defects users met (issue #12), each as they met it, through the real binary.

mod util;

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use util::*;

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn sample() -> String {
    s(&testdata("default-v2.log"))
}

/// Item 5a: nesting that used to overflow the stack (SIGABRT) is a clear error.
#[test]
fn deeply_nested_queries_are_refused() {
    for q in [
        "(".repeat(10_000),
        "not ".repeat(20_000) + "action = REJECT",
    ] {
        let (_, err) = ok(&["filter", "--where", &q, &sample()], 2);
        assert!(err.contains("nest more than 64 deep"), "{err}");
    }
}

/// Item 5f: a long `in` list gives the answer of the range it spells out.
#[test]
fn long_in_lists_answer_like_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.log");
    fs::write(&input, generated(30_000, 12)).unwrap();
    let list: Vec<String> = (30_000..=50_000).map(|p| p.to_string()).collect();
    let q = format!("dstport in ({})", list.join(","));
    let (a, _) = ok(&["filter", "-q", "--where", &q, &s(&input)], 0);
    let (b, _) = ok(
        &[
            "filter",
            "-q",
            "--where",
            "dstport >= 30000 and dstport <= 50000",
            &s(&input),
        ],
        0,
    );
    assert_eq!(a, b);
}

/// Item 5b: a memory-mapped file cut short by another process while it is
/// read is reported as read in part (exit 3, named), not a SIGBUS.
#[cfg(target_os = "linux")]
#[test]
fn a_file_truncated_while_it_is_read_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("big.log");
    let chunk = generated(200_000, 13);
    let mut f = fs::File::create(&input).unwrap();
    for _ in 0..16 {
        f.write_all(&chunk).unwrap();
    }
    drop(f);
    let child = Command::new(env!("CARGO_BIN_EXE_flowscan"))
        .args(["rejects", "-q", "--threads", "1", "-f", "json"])
        .arg(&input)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    fs::OpenOptions::new()
        .write(true)
        .open(&input)
        .unwrap()
        .set_len(1 << 20)
        .unwrap();
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    if o.status.code() == Some(0) {
        eprintln!("inconclusive: the scan finished before the file was cut");
        return;
    }
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains("big.log: the file was truncated while being read"),
        "{err}"
    );
}

/// Item 5c: names that are not UTF-8 open by their OS name, print lossily, and
/// control characters in names cannot forge output.
#[cfg(unix)]
#[test]
fn hostile_file_names() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join(std::ffi::OsStr::from_bytes(b"bad\xff.log"));
    fs::copy(testdata("default-v2.log"), &bad).unwrap();
    let esc = dir.path().join("esc\u{1b}[2J\nflowscan: fake.log");
    let mut text = fs::read(testdata("default-v2.log")).unwrap();
    text.extend_from_slice(b"bogus\n");
    fs::write(&esc, text).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_flowscan"))
        .args(["rejects", "-q", "-f", "json"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for cmd in ["rejects", "diagnose", "anomalies"] {
        let (out, err) = ok(&[cmd, "-f", "json", &s(dir.path())], 0);
        let v: Value = serde_json::from_str(&out).unwrap();
        assert!(v.is_object(), "{cmd}");
        assert!(!err.contains('\u{1b}'), "{cmd}: {err:?}");
        assert!(
            err.contains("esc\\u{1b}[2J\\nflowscan: fake.log"),
            "{cmd}: {err}"
        );
    }
    let elsewhere = tempfile::tempdir().unwrap();
    let out = elsewhere.path().join("pq");
    let (o, _) = ok(
        &[
            "export",
            "-f",
            "json",
            "-q",
            &s(dir.path()),
            "--out",
            &s(&out),
        ],
        0,
    );
    let v: Value = serde_json::from_str(&o).unwrap();
    assert_eq!(v["export"]["vpc_rows"], 80);
}

/// Item 5d: a named pipe inside a folder is left alone (and named), not read
/// forever.
#[cfg(unix)]
#[test]
fn a_fifo_in_a_folder_does_not_hang_the_walk() {
    let dir = tempfile::tempdir().unwrap();
    fs::copy(testdata("default-v2.log"), dir.path().join("a.log")).unwrap();
    let fifo = dir.path().join("pipe.log");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let (_, err) = ok(&["rejects", &s(dir.path())], 0);
    assert!(err.contains("pipe.log: not a regular file"), "{err}");
}

/// Item 5: strict mode names the first malformed line in input order, at any
/// thread count and read path.
#[test]
fn strict_names_the_same_line_at_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let text = String::from_utf8(generated(140_000, 14)).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[79_999] = "garbage one";
    lines[84_999] = "garbage two";
    let input = dir.path().join("big.log");
    fs::write(&input, lines.join("\n") + "\n").unwrap();
    fs::write(
        dir.path().join("big.log.gz"),
        gzip(fs::read(&input).unwrap().as_slice()),
    )
    .unwrap();
    for file in ["big.log", "big.log.gz"] {
        for threads in ["1", "2", "7"] {
            for forced in [&[][..], &["--split-min", "1", "--block-size", "65536"][..]] {
                let p = s(&dir.path().join(file));
                let mut args = vec!["rejects", "--strict", "--threads", threads, &p];
                args.extend_from_slice(forced);
                let (_, err) = ok(&args, 1);
                assert!(
                    err.contains(&format!("{file}:80000: expected 14 fields")),
                    "{file} {threads} {forced:?}: {err}"
                );
            }
        }
    }
}

/// Item 7 and 8b: a byte-order mark starts CloudWatch JSON and text files
/// written by Windows tools.
#[test]
fn byte_order_marks_are_not_data() {
    let dir = tempfile::tempdir().unwrap();
    let text = fs::read(testdata("default-v2.log")).unwrap();
    let mut bom = b"\xef\xbb\xbf".to_vec();
    bom.extend_from_slice(&text);
    fs::write(dir.path().join("bom.log"), &bom).unwrap();
    let base = rejects_json(&[&sample()], 0);
    let v = rejects_json(&[&s(&dir.path().join("bom.log"))], 0);
    assert_eq!(answer(&v), answer(&base));
    let msgs: Vec<Value> = String::from_utf8(text)
        .unwrap()
        .lines()
        .skip(1)
        .map(|m| serde_json::json!({ "message": m }))
        .collect();
    let mut json = b"\xef\xbb\xbf".to_vec();
    json.extend_from_slice(serde_json::json!({ "events": msgs }).to_string().as_bytes());
    fs::write(dir.path().join("bom.json"), &json).unwrap();
    let v = rejects_json(&[&s(&dir.path().join("bom.json"))], 0);
    assert_eq!(answer(&v), answer(&base));
}

/// Items 8 and 8a: Parquet as pyarrow writes it: dictionary strings, floats
/// for ports (whole, fractional, huge), a column of a type flowscan does not
/// read, and a file cut in half.
#[test]
fn parquet_written_by_pyarrow() {
    if !python_has("pyarrow") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let script = r#"
import sys, pyarrow as pa, pyarrow.parquet as pq
d = sys.argv[1]
n = 4
cols = {
    "interface_id": pa.array(["eni-1", "eni-2", "eni-1", "eni-1"]).dictionary_encode(),
    "srcaddr": pa.array(["1.2.3.4"] * n), "dstaddr": pa.array(["5.6.7.8"] * n),
    "protocol": pa.array([6] * n, pa.int32()), "packets": pa.array([1] * n), "bytes": pa.array([60] * n),
    "start": pa.array([1795514400] * n), "end": pa.array([1795514460] * n),
    "action": pa.array(["REJECT"] * n).dictionary_encode(), "log_status": pa.array(["OK"] * n),
}
good = dict(cols, dstport=pa.array([22.0, 22.0, 3389.0, None]))
pq.write_table(pa.table(good), d + "/good.parquet")
bad = dict(cols, dstport=pa.array([22.0, 1.5, 1e30, 22.0]))
pq.write_table(pa.table(bad), d + "/floats.parquet")
odd = dict(cols, dstport=pa.array([b"22"] * n, pa.binary()))
pq.write_table(pa.table(odd), d + "/binary.parquet")
raw = open(d + "/good.parquet", "rb").read()
open(d + "/cut.parquet", "wb").write(raw[: len(raw) // 2])
"#;
    let o = Command::new("python3")
        .args(["-c", script])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let p = |n: &str| s(&dir.path().join(n));
    let v = rejects_json(&[&p("good.parquet")], 0);
    assert_eq!(v["rejects"], 4);
    assert_eq!(v["interfaces"][0]["interface_id"], "eni-1");
    assert_eq!(v["interfaces"][0]["records"], 3);
    let (out, err) = ok(&["rejects", "-f", "json", &p("floats.parquet")], 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["scan"]["malformed"], 2, "{err}");
    assert!(err.contains("dstport: not a number `1.5`"), "{err}");
    assert!(err.contains("1000000000000000000000000000000"), "{err}");
    let (_, err) = ok(&["rejects", &p("binary.parquet")], 4);
    assert!(err.contains("column `dstport` has type Binary"), "{err}");
    let (_, err) = ok(&["rejects", &p("cut.parquet")], 4);
    assert!(err.contains("cut.parquet: damaged Parquet file"), "{err}");
    // Beside a good file, a damaged one makes the result partial: exit 3.
    let (_, err) = ok(&["rejects", &p("cut.parquet"), &p("good.parquet")], 3);
    assert!(err.contains("1 file could not be read"), "{err}");
}

/// Item 8b: gzip detection must not depend on how a pipe splits its reads;
/// zero padding after gzip is not an error; zstd is read; bzip2, xz and zip
/// are named.
#[cfg(unix)]
#[test]
fn compressed_input_in_every_shape() {
    let dir = tempfile::tempdir().unwrap();
    let text = fs::read(testdata("default-v2.log")).unwrap();
    let base = rejects_json(&[&sample()], 0);
    let gz = dir.path().join("x.gz");
    fs::write(&gz, gzip(&text)).unwrap();
    let o = Command::new("sh")
        .arg("-c")
        .arg("(head -c1 \"$1\"; sleep 0.3; tail -c +2 \"$1\") | \"$0\" rejects -q -f json -")
        .arg(env!("CARGO_BIN_EXE_flowscan"))
        .arg(&gz)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(answer(&v), answer(&base));
    let mut padded = gzip(&text);
    padded.extend([0u8; 4096]);
    fs::write(dir.path().join("padded.gz"), padded).unwrap();
    let v = rejects_json(&[&s(&dir.path().join("padded.gz"))], 0);
    assert_eq!(answer(&v), answer(&base));
    fs::write(
        dir.path().join("x.zst"),
        zstd::encode_all(&text[..], 3).unwrap(),
    )
    .unwrap();
    let v = rejects_json(&[&s(&dir.path().join("x.zst"))], 0);
    assert_eq!(answer(&v), answer(&base));
    let named = dir.path().join("named");
    fs::create_dir(&named).unwrap();
    fs::write(named.join("a.bz2"), b"BZh91AY&SY\x00\x01").unwrap();
    fs::write(named.join("b.xz"), b"\xfd7zXZ\x00\x00\x04").unwrap();
    fs::write(named.join("c.zip"), b"PK\x03\x04\x14\x00").unwrap();
    let (_, err) = ok(&["rejects", &s(&named)], 4);
    for name in ["bzip2", "xz", "zip"] {
        assert!(err.contains(&format!("{name}-compressed")), "{err}");
    }
}

/// Item 8b: tabs separate fields like spaces; a line of tabs is blank.
#[test]
fn tabs_are_whitespace() {
    let dir = tempfile::tempdir().unwrap();
    let text = fs::read_to_string(testdata("default-v2.log")).unwrap();
    let tabbed = text.replace(' ', "\t") + "\t\t\n";
    fs::write(dir.path().join("tabs.log"), tabbed).unwrap();
    let base = rejects_json(&[&sample()], 0);
    let v = rejects_json(&[&s(&dir.path().join("tabs.log"))], 0);
    assert_eq!(answer(&v), answer(&base));
    assert_eq!(v["scan"]["blank"], 1);
    assert_eq!(v["scan"]["malformed"], 0);
}

/// Item 8c: an IPv4 address written as IPv6 is that IPv4 address.
#[test]
fn ipv4_mapped_addresses_match_ipv4_networks() {
    let dir = tempfile::tempdir().unwrap();
    let text = fs::read_to_string(testdata("default-v2.log"))
        .unwrap()
        .replace(" 192.0.2.44 ", " ::ffff:192.0.2.44 ");
    fs::write(dir.path().join("m.log"), text).unwrap();
    let v = rejects_json(
        &[&s(&dir.path().join("m.log")), "--src-cidr", "192.0.2.0/24"],
        0,
    );
    assert!(v["rejects"].as_u64().unwrap() > 0);
    assert_eq!(v["sources"][0]["cidr"], "192.0.2.0/24");
}

/// Item 8d: an I/O error is said once.
#[test]
fn io_errors_are_said_once() {
    let (_, err) = ok(
        &["export", &sample(), "--out", "/proc/self/flowscan-out"],
        1,
    );
    let os = err.matches("(os error").count();
    assert_eq!(os, 1, "{err}");
}

/// Item 9: values of enumerated fields compare without regard to case; a
/// value the field never takes is an error that lists the ones it does.
#[test]
fn enumerated_values() {
    let (a, _) = ok(
        &["filter", "-q", "--where", "action = reject", &sample()],
        0,
    );
    let (b, _) = ok(
        &["filter", "-q", "--where", "action = REJECT", &sample()],
        0,
    );
    assert_eq!(a, b);
    assert!(a.lines().count() > 1);
    let (_, err) = ok(&["filter", "--where", "action = BLOCK", &sample()], 2);
    assert!(err.contains("action is one of ACCEPT, REJECT"), "{err}");
}

/// Item 10: when nothing usable was read, flowscan says so and exits 4.
#[test]
fn nothing_read_is_said_plainly() {
    let dir = tempfile::tempdir().unwrap();
    fs::copy(testdata("tgw.log"), dir.path().join("tgw.log")).unwrap();
    for (args, want) in [
        (
            vec!["rejects".to_string(), s(dir.path())],
            "none could be used",
        ),
        (
            vec!["rejects".into(), "/nonexistent/flowscan".into()],
            "none could be used",
        ),
        (
            vec!["top".into(), "--by".into(), "action".into(), s(dir.path())],
            "none could be used",
        ),
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (out, err) = ok(&args, 4);
        assert!(out.is_empty(), "{out}");
        assert!(err.contains(want), "{err}");
    }
    // Machine formats still get their document, with the reasons in it.
    let (out, _) = ok(&["rejects", "-f", "json", &s(dir.path())], 4);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["scan"]["files_skipped"], 1);
    let empty = tempfile::tempdir().unwrap();
    let (_, err) = ok(&["rejects", &s(empty.path())], 4);
    assert!(err.contains("no input files were found"), "{err}");
}

/// Item 12: a time without a zone is read as UTC, and flowscan says so.
#[test]
fn times_without_a_zone_are_echoed_as_utc() {
    let (_, err) = ok(&["rejects", "--since", "2026-11-24T10:00", &sample()], 0);
    assert!(
        err.contains(
            "--since 2026-11-24T10:00 has no time zone: read as 2026-11-24T10:00:00Z (UTC)"
        ),
        "{err}"
    );
    let (_, err) = ok(&["rejects", "--since", "2026-11-24T10:00Z", &sample()], 0);
    assert!(!err.contains("time zone"), "{err}");
}

/// Item 13: help that says what the command does, with the query grammar and
/// examples in it.
#[test]
fn help_says_what_is_true() {
    let (top, _) = ok(&["top", "--help"], 0);
    assert!(
        top.contains("The --where language:") && !top.contains("docs/query.md"),
        "{top}"
    );
    let (filter, _) = ok(&["filter", "--help"], 0);
    assert!(filter.contains("expr       := expr or expr"), "{filter}");
    let (export, _) = ok(&["export", "--help"], 0);
    assert!(export.contains("_athena_vpc_flow_logs.sql") && !export.contains("athena-*.sql"));
    assert!(export.contains("Format of the summary"));
    let (rejects, _) = ok(&["rejects", "--help"], 0);
    assert!(rejects.contains("no one-line summary on standard error after JSON or"));
    let (all, _) = ok(&["--help"], 0);
    assert!(
        all.contains("Examples:") && all.contains("4 nothing could be read"),
        "{all}"
    );
    for cmd in [
        "rejects",
        "top",
        "filter",
        "diagnose",
        "anomalies",
        "export",
        "athena-ddl",
    ] {
        let (h, _) = ok(&[cmd, "--help"], 0);
        assert!(h.contains("Examples:"), "{cmd}");
    }
}

/// Item 14: sizes in SI units everywhere, tables included.
#[test]
fn sizes_are_si_units() {
    let (t, _) = ok(
        &["top", "--by", "interface-id", "--sum", "bytes", &sample()],
        0,
    );
    assert!(t.contains(" kB") || t.contains(" MB"), "{t}");
    assert!(!t.contains("KiB") && !t.contains("MiB"), "{t}");
}

/// Item 17: shell completions and a man page, from the same definitions.
#[test]
fn completions_and_man_page() {
    for shell in ["bash", "zsh", "fish"] {
        let (c, _) = ok(&["completions", shell], 0);
        assert!(c.contains("rejects") && c.contains("export"), "{shell}");
    }
    let (m, _) = ok(&["man"], 0);
    assert!(m.contains(".TH flowscan") && m.contains("rejects"), "{m}");
    let (m, _) = ok(&["man", "export"], 0);
    assert!(m.contains("default\\-account"), "{m}");
}

/// CSV from standard input had no columns (its header cannot be read ahead
/// of the scan): every row came out as `""`. Each row now holds the values
/// of the same row read by path, with every other field AWS defines empty.
#[test]
fn csv_from_standard_input_keeps_every_value() {
    let by_path = ok(&["filter", &sample(), "--format", "csv", "-q"], 0).0;
    let out = run(
        &["filter", "-", "--format", "csv", "-q"],
        Some(&fs::read(testdata("default-v2.log")).unwrap()),
    );
    assert_eq!(out.status.code(), Some(0));
    let piped = String::from_utf8(out.stdout).unwrap();
    let (want, got): (Vec<&str>, Vec<&str>) = (by_path.lines().collect(), piped.lines().collect());
    assert_eq!(got.len(), want.len());
    assert!(
        got[0].starts_with(&format!("{},vpc-id,", want[0])),
        "{}",
        got[0]
    );
    for (w, g) in want.iter().zip(&got).skip(1) {
        assert!(
            g.starts_with(w) && g[w.len()..].bytes().all(|b| b == b','),
            "{w}\n{g}"
        );
    }
}

/// A named pipe given as a path (`<(zcat …)`, a FIFO) was read for its
/// header before the scan, so `filter` printed nothing, `export` wrote no
/// rows (both exiting 0), or `filter` waited forever on the reopened FIFO.
#[cfg(unix)]
#[test]
fn a_named_pipe_is_read_once_and_whole() {
    let dir = tempfile::tempdir().unwrap();
    let data = fs::read(testdata("default-v2.log")).unwrap();
    let fifo = dir.path().join("p");
    let feed = |fifo: &Path| {
        assert!(Command::new("mkfifo").arg(fifo).status().unwrap().success());
        let (fifo, data) = (fifo.to_path_buf(), data.clone());
        std::thread::spawn(move || fs::write(fifo, data).unwrap())
    };
    let writer = feed(&fifo);
    let (out, _) = ok(&["filter", &s(&fifo), "-q"], 0);
    writer.join().unwrap();
    assert_eq!(out, ok(&["filter", &sample(), "-q"], 0).0);
    fs::remove_file(&fifo).unwrap();
    let writer = feed(&fifo);
    let out = dir.path().join("o");
    let (summary, _) = ok(
        &[
            "export",
            &s(&fifo),
            "--out",
            &s(&out),
            "--format",
            "json",
            "-q",
        ],
        0,
    );
    writer.join().unwrap();
    let summary: Value = serde_json::from_str(&summary).unwrap();
    assert_eq!(summary["export"]["vpc_rows"], 40, "{summary}");
}

/// An IPv4-mapped IPv6 address in a record is read as its IPv4 address; the
/// same address or network in `--where` or `--src-cidr` used to stay IPv6,
/// and matched nothing, not even the record's own text.
#[test]
fn ipv4_mapped_constants_match_what_the_records_hold() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("m.log");
    fs::write(&f, "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n2 1 eni-1 ::ffff:192.0.2.44 10.0.1.12 1 22 6 3 180 1795514400 1795514420 REJECT OK\n").unwrap();
    for args in [
        ["--where", "srcaddr = ::ffff:192.0.2.44"],
        ["--where", "srcaddr in ::ffff:0:0/96"],
        ["--where", "srcaddr = 192.0.2.44"],
        ["--src-cidr", "::ffff:192.0.2.0/120"],
    ] {
        let (out, _) = ok(&["filter", &s(&f), "-q", args[0], args[1]], 0);
        assert_eq!(out.lines().count(), 2, "{args:?}: {out}");
    }
}

/// Sums are held in 64 bits and stop at 2^64 − 1: a result that reached it
/// says so (JSON `saturated`, a warning), where it was silent.
#[test]
fn sums_that_reach_the_largest_value_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.log");
    let mut text = String::from("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n");
    for (eni, bytes) in [
        ("eni-1", i64::MAX),
        ("eni-1", i64::MAX),
        ("eni-1", i64::MAX),
        ("eni-2", 60),
    ] {
        text.push_str(&format!("2 123456789012 {eni} 1.2.3.4 5.6.7.8 1 22 6 1 {bytes} 1795514400 1795514460 REJECT OK\n"));
    }
    fs::write(&input, &text).unwrap();
    let (out, err) = ok(&["rejects", "--format", "json", &s(&input)], 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["saturated"], true);
    assert_eq!(v["interfaces"][0]["bytes"], u64::MAX);
    assert!(err.contains("2^64 - 1"), "{err}");
    let by_sum = [
        "top",
        "--by",
        "interface-id",
        "--sum",
        "bytes",
        "--format",
        "json",
    ];
    let (out, err) = ok(&[&by_sum[..], &[&s(&input)]].concat(), 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["saturated"], true);
    assert!(err.contains("2^64 - 1"), "{err}");
    // `anomalies --measure bytes` sums each window's bytes the same way.
    let bytes = ["anomalies", "--measure", "bytes", "--format", "json"];
    let (out, err) = ok(&[&bytes[..], &[&s(&input)]].concat(), 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["saturated"], true);
    assert!(err.contains("2^64 - 1"), "{err}");
    // Below the largest value, nothing is said.
    let small = dir.path().join("small.log");
    let lines: Vec<&str> = text.lines().collect();
    fs::write(&small, [lines[0], lines[1], lines[4]].join("\n")).unwrap();
    for args in [
        &["rejects", "--format", "json"][..],
        &by_sum[..],
        &bytes[..],
    ] {
        let (out, err) = ok(&[args, &[&s(&small)]].concat(), 0);
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["saturated"], false, "{args:?}");
        assert!(!err.contains("2^64"), "{err}");
    }
}

/// JSON lines hold each record's own fields, in its header's order, however
/// the input is read: from standard input, whose header cannot be planned,
/// every field AWS defines used to be added as null.
#[test]
fn json_lines_are_the_same_from_a_path_and_from_standard_input() {
    let input = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/custom-v5.log");
    let args = ["filter", "-q", "--format", "jsonl"];
    let (by_path, _) = ok(&[&args[..], &[&s(&input)]].concat(), 0);
    let piped = run(
        &[&args[..], &["-"]].concat(),
        Some(&fs::read(&input).unwrap()),
    );
    assert_eq!(String::from_utf8_lossy(&piped.stdout), by_path);
    let first: Value = serde_json::from_str(by_path.lines().next().unwrap()).unwrap();
    assert!(first.get("tgw-id").is_none(), "{first}");
    assert_eq!(first["interface-id"], "eni-0a1b2c3d4e5f60003");
}
