//! `s3://` inputs against a real S3 API on this machine: moto's server (from
//! PyPI, `moto[server]`), started on a free loopback port for each test and
//! stopped after it. Answers from S3 must equal answers from the same tree on
//! disk; a time window must list only the prefixes that can hold it; a
//! failing GET is retried, or the object is named.

mod util;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use util::*;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A moto server, stopped when dropped.
struct Moto {
    child: Child,
    port: u16,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn moto() -> Option<Moto> {
    if !python_has("moto, boto3") {
        return None;
    }
    let port = free_port();
    let child = Command::new("python3")
        .args(["-m", "moto.server", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "moto did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(Moto { child, port })
}

/// Creates `bucket` and uploads every file under `root` to it, keys relative to `root`.
fn upload(port: u16, bucket: &str, root: &Path) {
    let script = r#"
import os, sys, boto3
port, bucket, root = sys.argv[1], sys.argv[2], sys.argv[3]
s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test")
s3.create_bucket(Bucket=bucket)
for d, _, files in os.walk(root):
    for f in files:
        p = os.path.join(d, f)
        s3.upload_file(p, bucket, os.path.relpath(p, root))
"#;
    let o = Command::new("python3")
        .args(["-c", script, &port.to_string(), bucket])
        .arg(root)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// flowscan with the environment pointing at `port`.
fn flowscan(port: u16, args: &[&str]) -> (i32, Value, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_flowscan"))
        .args(args)
        .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"))
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .output()
        .unwrap();
    let v = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
    (
        o.status.code().unwrap(),
        v,
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Two days of generated flow logs, as AWS lays them out.
fn two_days() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    flowgen::Generator::new(flowgen::Spec {
        records: 40_000,
        seed: 21,
        span: 48 * 3600,
        ..flowgen::Spec::default()
    })
    .write_tree(dir.path(), 48, 1)
    .unwrap();
    dir
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

#[test]
fn s3_answers_equal_the_local_tree_and_windows_list_less() {
    let Some(m) = moto() else { return };
    let tree = two_days();
    upload(m.port, "logs", tree.path());
    let local = rejects_json(&[&s(tree.path())], 0);
    let (code, remote, err) = flowscan(m.port, &["rejects", "-f", "json", "-q", "s3://logs/"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(answer(&remote), answer(&local));
    assert_eq!(remote["scan"]["files"], local["scan"]["files"]);
    let everything = remote["scan"]["list_requests"].as_u64().unwrap();
    // One hour of the second day.
    let since = remote_window(&local);
    let window = ["--since", &since.0, "--until", &since.1];
    let mut la = vec![s(tree.path())];
    la.extend(window.iter().map(|x| x.to_string()));
    let la: Vec<&str> = la.iter().map(String::as_str).collect();
    let local_w = rejects_json(&la, 0);
    let mut ra = vec!["rejects", "-f", "json", "-q", "s3://logs/AWSLogs/"];
    ra.extend(window);
    let (code, remote_w, err) = flowscan(m.port, &ra);
    assert_eq!(code, 0, "{err}");
    assert_eq!(answer(&remote_w), answer(&local_w));
    let windowed = remote_w["scan"]["list_requests"].as_u64().unwrap();
    assert!(remote_w["scan"]["pruned_by_name"].as_u64().unwrap() > 0);
    assert!(
        windowed < everything,
        "{windowed} list requests for one hour, {everything} for all"
    );
}

/// An hour in the middle of the generated data's second day.
fn remote_window(local: &Value) -> (String, String) {
    let first = local["first_start"].as_str().unwrap();
    let t = chrono::DateTime::parse_from_rfc3339(first)
        .unwrap()
        .timestamp()
        + 30 * 3600;
    let t = t - t % 3600;
    let f = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    };
    (f(t), f(t + 3600))
}

#[test]
fn missing_buckets_and_keys_are_named() {
    let Some(m) = moto() else { return };
    let tree = tempfile::tempdir().unwrap();
    std::fs::copy(testdata("default-v2.log"), tree.path().join("a.log")).unwrap();
    upload(m.port, "real", tree.path());
    let (code, _, err) = flowscan(m.port, &["rejects", "s3://no-such-bucket/AWSLogs/"]);
    assert_eq!(code, 4, "{err}");
    assert!(
        err.contains("s3://no-such-bucket/AWSLogs: no such bucket"),
        "{err}"
    );
    let (code, _, err) = flowscan(m.port, &["rejects", "s3://real/nothing/here/"]);
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("no input files were found"), "{err}");
    let (code, v, err) = flowscan(m.port, &["rejects", "-f", "json", "-q", "s3://real/a.log"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        answer(&v),
        answer(&rejects_json(&[&s(&testdata("default-v2.log"))], 0))
    );
}

/// A loopback proxy in front of moto that answers some object GETs with
/// `503 Slow Down`: `first_n` of them, or every one for keys containing `always`.
struct Flaky {
    port: u16,
    failed: Arc<AtomicUsize>,
    /// Bytes of the responses to object GETs passed on.
    served: Arc<AtomicUsize>,
}

fn flaky(upstream: u16, first_n: usize, always: Option<&'static str>) -> Flaky {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let failed = Arc::new(AtomicUsize::new(0));
    let served = Arc::new(AtomicUsize::new(0));
    let (f, sv) = (failed.clone(), served.clone());
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let (f, sv) = (f.clone(), sv.clone());
            std::thread::spawn(move || relay(conn, upstream, first_n, always, &f, &sv));
        }
    });
    Flaky {
        port,
        failed,
        served,
    }
}

/// Serves one request on `conn`: fails it, or forwards it to `upstream`.
fn relay(
    mut conn: TcpStream,
    upstream: u16,
    first_n: usize,
    always: Option<&str>,
    failed: &AtomicUsize,
    served: &AtomicUsize,
) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match conn.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let line = text.lines().next().unwrap_or_default().to_string();
    let object_get = line.starts_with("GET ") && !line.contains('?');
    let fail = object_get
        && (always.is_some_and(|k| line.contains(k))
            || failed.fetch_add(1, Ordering::SeqCst) < first_n);
    if fail {
        let _ = conn
            .write_all(b"HTTP/1.1 503 Slow Down\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    }
    let forwarded: String = text
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .map(|l| format!("{l}\r\n"))
        .collect::<String>()
        .trim_end()
        .to_string()
        + "\r\nConnection: close\r\n\r\n";
    let Ok(mut up) = TcpStream::connect(("127.0.0.1", upstream)) else {
        return;
    };
    let _ = up.write_all(forwarded.as_bytes());
    let mut response = Vec::new();
    let _ = up.read_to_end(&mut response);
    if object_get {
        served.fetch_add(response.len(), Ordering::SeqCst);
    }
    let _ = conn.write_all(&response);
}

#[test]
fn failed_gets_are_retried_or_named() {
    let Some(m) = moto() else { return };
    let tree = tempfile::tempdir().unwrap();
    for (i, seed) in [31u64, 32, 33].iter().enumerate() {
        std::fs::write(
            tree.path().join(format!("f{i}.log")),
            generated(2_000, *seed),
        )
        .unwrap();
    }
    upload(m.port, "logs", tree.path());
    let local = rejects_json(&[&s(tree.path())], 0);
    // Each object's first GET fails: retried, and the answer is whole.
    let proxy = flaky(m.port, 3, None);
    let (code, v, err) = flowscan(proxy.port, &["rejects", "-f", "json", "-q", "s3://logs/"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(answer(&v), answer(&local));
    assert!(proxy.failed.load(Ordering::SeqCst) >= 3);
    // One object always fails: it is named, the others are read, exit 3.
    let proxy = flaky(m.port, 0, Some("f1.log"));
    let (code, _, err) = flowscan(proxy.port, &["rejects", "-f", "json", "s3://logs/"]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("s3://logs/f1.log"), "{err}");
}

/// Exports `text` (flow log text) into `out` as one Parquet file
/// (`out/AWSLogs/*.parquet`) of row groups of `rows` rows.
fn export_parquet(out: &Path, text: Vec<u8>, rows: u32) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.log"), text).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_flowscan"))
        .args(["export", "-q", "--partition", "none", "--row-group-rows"])
        .arg(rows.to_string())
        .arg("--out")
        .arg(out)
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn parquet_objects_are_read_by_ranges() {
    let Some(m) = moto() else { return };
    let out = tempfile::tempdir().unwrap();
    let pq = out.path().join("pq");
    export_parquet(&pq, generated(300_000, 41), 100_000);
    upload(m.port, "parquet-logs", &pq);
    let stored: u64 = std::fs::read_dir(pq.join("AWSLogs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    let proxy = flaky(m.port, 0, None);
    // Every command answers from S3 Parquet as from the same files on disk.
    let local = rejects_json(&[&s(&pq)], 0);
    let (code, v, err) = flowscan(
        proxy.port,
        &["rejects", "-f", "json", "-q", "s3://parquet-logs/"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(answer(&v), answer(&local));
    // One column of fourteen: far less than the objects is fetched (row
    // groups far enough apart that near ranges are not merged).
    proxy.served.store(0, Ordering::SeqCst);
    let top = |path: &str, port: Option<u16>| {
        let args = ["top", "-f", "json", "-q", "--by", "dstport", path];
        match port {
            Some(p) => flowscan(p, &args),
            None => {
                let o = Command::new(env!("CARGO_BIN_EXE_flowscan"))
                    .args(args)
                    .output()
                    .unwrap();
                let v = serde_json::from_slice(&o.stdout).unwrap();
                (o.status.code().unwrap(), v, String::new())
            }
        }
    };
    let (code, remote, err) = top("s3://parquet-logs/", Some(proxy.port));
    assert_eq!(code, 0, "{err}");
    let (_, on_disk, _) = top(&s(&pq), None);
    assert_eq!(remote["rows"], on_disk["rows"]);
    assert_eq!(remote["groups"], on_disk["groups"]);
    let served = proxy.served.load(Ordering::SeqCst) as u64;
    assert!(
        served * 3 < stored,
        "{served} bytes fetched of {stored} stored, for one column"
    );
}

#[test]
fn names_do_not_decide_how_objects_are_read() {
    let Some(m) = moto() else { return };
    let tree = tempfile::tempdir().unwrap();
    // Text named `.parquet` (large enough that only its tail is fetched
    // first), and Parquet named `.log`.
    std::fs::write(tree.path().join("text.parquet"), generated(3_000, 51)).unwrap();
    let pq = tree.path().join("export");
    export_parquet(&pq, generated(3_000, 52), 40);
    for e in std::fs::read_dir(pq.join("AWSLogs")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|e| e == "parquet") {
            // Also as `.parquet`: 75 row groups make a footer larger than
            // the tail fetched first.
            std::fs::copy(&p, tree.path().join("groups.parquet")).unwrap();
            std::fs::rename(&p, tree.path().join("columns.log")).unwrap();
        }
    }
    std::fs::remove_dir_all(&pq).unwrap();
    upload(m.port, "named-wrong", tree.path());
    let local = rejects_json(&[&s(tree.path())], 0);
    assert_eq!(local["scan"]["files_read"], 3);
    let (code, v, err) = flowscan(
        m.port,
        &["rejects", "-f", "json", "-q", "s3://named-wrong/"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(answer(&v), answer(&local));
    assert_eq!(v["scan"]["records"], 9_000);
}
