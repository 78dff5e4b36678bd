//! `flowscan diagnose` on generated data with planted situations: it finds each
//! one, and nothing else.

mod util;

use std::fmt::Write as _;

use serde_json::Value;
use util::*;

const T: u64 = 1_795_514_400;

#[allow(clippy::too_many_arguments)]
fn line(
    eni: &str,
    src: &str,
    dst: &str,
    sport: u32,
    dport: u32,
    proto: u8,
    t: u64,
    action: &str,
) -> String {
    format!(
        "2 123456789012 {eni} {src} {dst} {sport} {dport} {proto} 3 180 {t} {} {action} OK\n",
        t + 30
    )
}

/// A server whose network ACL lets requests in but not their responses out.
fn nacl_return_path(out: &mut String) {
    let eni = "eni-0aaaa000000000001";
    for i in 0..20u32 {
        let client = format!("10.20.0.{}", i + 1);
        out.push_str(&line(
            eni,
            &client,
            "10.9.0.10",
            40000 + i,
            443,
            6,
            T + 60 * u64::from(i),
            "ACCEPT",
        ));
        out.push_str(&line(
            eni,
            "10.9.0.10",
            &client,
            443,
            40000 + i,
            6,
            T + 60 * u64::from(i) + 1,
            "REJECT",
        ));
    }
}

/// An application whose outbound rules do not allow its database.
fn egress_block(out: &mut String) {
    let eni = "eni-0bbbb000000000002";
    for i in 0..10u32 {
        let peer = format!("10.30.0.{}", i + 1);
        out.push_str(&line(
            eni,
            &peer,
            "10.9.1.20",
            50000 + i,
            443,
            6,
            T + 90 * u64::from(i),
            "ACCEPT",
        ));
        out.push_str(&line(
            eni,
            "10.9.1.20",
            "10.9.2.30",
            51000 + i,
            5432,
            6,
            T + 90 * u64::from(i) + 5,
            "REJECT",
        ));
    }
}

fn diagnose(text: &str) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("flows.log");
    std::fs::write(&f, text).unwrap();
    let (out, _) = ok(&["diagnose", "-f", "json", "-q", &f.to_string_lossy()], 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    v["findings"].as_array().unwrap().clone()
}

fn kinds(f: &[Value]) -> Vec<(String, String)> {
    f.iter()
        .map(|x| {
            (
                x["kind"].as_str().unwrap().to_string(),
                x["interface_id"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn background_alone_is_only_scanning() {
    let text = String::from_utf8(generated(30_000, 91)).unwrap();
    let f = diagnose(&text);
    assert_eq!(
        kinds(&f),
        vec![("inbound-scanning".to_string(), String::new())]
    );
    assert_eq!(f[0]["confidence"], "low");
}

#[test]
fn finds_each_planted_situation_and_nothing_else() {
    let mut text = String::from_utf8(generated(30_000, 92)).unwrap();
    nacl_return_path(&mut text);
    egress_block(&mut text);
    let f = diagnose(&text);
    let mut k = kinds(&f);
    k.sort();
    assert_eq!(
        k,
        vec![
            (
                "egress-blocked".to_string(),
                "eni-0bbbb000000000002".to_string()
            ),
            ("inbound-scanning".to_string(), String::new()),
            (
                "nacl-return-path".to_string(),
                "eni-0aaaa000000000001".to_string()
            ),
        ],
        "{f:#?}"
    );
    let nacl = f.iter().find(|x| x["kind"] == "nacl-return-path").unwrap();
    assert_eq!(nacl["confidence"], "high");
    let s = nacl["summary"].as_str().unwrap();
    assert!(s.contains("20 responses (tcp to ports 40000-40019)"), "{s}");
    assert!(
        s.contains("leaving the interface: its network ACL's outbound rules"),
        "{s}"
    );
    assert_eq!(nacl["evidence"].as_array().unwrap().len(), 3);
    let egress = f.iter().find(|x| x["kind"] == "egress-blocked").unwrap();
    let s = egress["summary"].as_str().unwrap();
    assert!(
        s.contains("cannot reach 10.9.2.30:5432/tcp: 10 outbound REJECTs"),
        "{s}"
    );
}

/// A gRPC service on 50051 whose replies to clients on lower ephemeral
/// ports are blocked on the way out: responses to accepted requests (a
/// network ACL), at any thread count and block size, not egress to the
/// clients' ports.
#[test]
fn replies_from_a_service_on_an_ephemeral_port_are_a_return_path() {
    let mut text = String::from_utf8(generated(20_000, 93)).unwrap();
    let eni = "eni-0cccc000000000003";
    for i in 0..12u32 {
        let client = format!("10.40.0.{}", i + 1);
        let t = T + 60 * u64::from(i);
        text.push_str(&line(
            eni,
            &client,
            "10.9.3.40",
            33000 + i,
            50051,
            6,
            t,
            "ACCEPT",
        ));
        text.push_str(&line(
            eni,
            "10.9.3.40",
            &client,
            50051,
            33000 + i,
            6,
            t + 1,
            "REJECT",
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("flows.log");
    std::fs::write(&f, &text).unwrap();
    let mut first = None;
    for threads in ["1", "2", "7"] {
        let (out, _) = ok(
            &[
                "diagnose",
                "-f",
                "json",
                "-q",
                "--threads",
                threads,
                "--split-min",
                "1",
                "--block-size",
                "4096",
                &f.to_string_lossy(),
            ],
            0,
        );
        let mut v: Value = serde_json::from_str(&out).unwrap();
        let findings = v["findings"].as_array().unwrap().clone();
        let mut k = kinds(&findings);
        k.sort();
        assert_eq!(
            k,
            vec![
                ("inbound-scanning".to_string(), String::new()),
                ("nacl-return-path".to_string(), eni.to_string()),
            ],
            "{findings:#?}"
        );
        let nacl = findings
            .iter()
            .find(|x| x["kind"] == "nacl-return-path")
            .unwrap();
        let s = nacl["summary"].as_str().unwrap();
        assert!(s.contains("12 responses (tcp to ports 33000-33011)"), "{s}");
        v["scan"]["elapsed_seconds"] = Value::Null;
        match &first {
            None => first = Some(v),
            Some(want) => assert_eq!(&v, want, "{threads} threads"),
        }
    }
}

#[test]
fn reject_reasons_and_the_aws_documentation_example() {
    let mut text = String::from("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status reject-reason\n");
    for i in 0..4 {
        let _ = writeln!(
            text,
            "8 123456789012 eni-0c 203.0.113.{i} 10.0.0.5 4000{i} 443 6 1 40 {T} {} REJECT OK BPA",
            T + 5
        );
    }
    let f = diagnose(&text);
    assert!(f.iter().any(|x| x["kind"] == "reject-reason"
        && x["summary"]
            .as_str()
            .unwrap()
            .contains("4 REJECTs carry reject-reason BPA")));
    if let Some(dir) = samples() {
        let sample = std::fs::read_to_string(dir.join("aws-docs-v2-default.log")).unwrap();
        let f = diagnose(&sample);
        // The page's ICMP reply rejected after its request was accepted.
        assert_eq!(
            kinds(&f),
            vec![(
                "nacl-return-path".to_string(),
                "eni-1235b8ca123456789".to_string()
            )]
        );
    }
}

/// Issue 12, item 15: evidence as labelled fields with file:line and UTC
/// times; each finding's first and last seen and instance; plurals; no port
/// talk for ICMP.
#[test]
fn findings_say_where_when_and_which_instance() {
    let mut text = String::from(
        "version account-id interface-id instance-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n",
    );
    let with_instance = |l: String, inst: &str| {
        let mut t: Vec<String> = l.split(' ').map(str::to_string).collect();
        t.insert(3, inst.to_string());
        t.join(" ")
    };
    let mut body = String::new();
    egress_block(&mut body);
    for l in body.lines() {
        text.push_str(&with_instance(l.to_string(), "i-0123456789abcdef0"));
        text.push('\n');
    }
    // An ICMP echo reply rejected after its request was accepted.
    let icmp = [
        line(
            "eni-0cccc000000000003",
            "203.0.113.9",
            "10.9.3.3",
            0,
            0,
            1,
            T + 10,
            "ACCEPT",
        ),
        line(
            "eni-0cccc000000000003",
            "10.9.3.3",
            "203.0.113.9",
            0,
            0,
            1,
            T + 11,
            "REJECT",
        ),
    ];
    for l in icmp {
        text.push_str(&with_instance(l, "-"));
        text.push('\n');
    }
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("flows.log");
    std::fs::write(&f, &text).unwrap();
    let (out, _) = ok(&["diagnose", "-q", &f.to_string_lossy()], 0);
    for want in [
        "11 REJECT records; 2 findings",
        "10 records, first seen 2026-11-24T10:00:05Z, last seen 2026-11-24T10:14:05Z; interface eni-0bbbb000000000002 (instance i-0123456789abcdef0)",
        "flows.log:3\n",
        "instance-id=i-0123456789abcdef0 srcaddr=10.9.1.20 dstaddr=10.9.2.30 srcport=51000",
        "dstport=5432 protocol=6 packets=3 bytes=180 start=2026-11-24T10:00:05Z",
        "end=2026-11-24T10:00:35Z action=REJECT log-status=OK",
        "1 response (icmp) to accepted requests rejected on eni-0cccc000000000003",
        "1 record, first seen 2026-11-24T10:00:11Z",
    ] {
        assert!(out.contains(want), "missing {want:?} in\n{out}");
    }
    let icmp_finding = out
        .lines()
        .find(|l| l.contains("(icmp)"))
        .expect("the ICMP finding");
    assert!(!icmp_finding.contains("port"), "{icmp_finding}");
    // JSON carries the same.
    let (out, _) = ok(&["diagnose", "-q", "-f", "json", &f.to_string_lossy()], 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    let egress = &v["findings"][0];
    assert_eq!(egress["kind"], "egress-blocked");
    assert_eq!(egress["instance_ids"][0], "i-0123456789abcdef0");
    assert_eq!(egress["first_seen"], "2026-11-24T10:00:05Z");
    assert_eq!(egress["last_seen"], "2026-11-24T10:14:05Z");
    let e = &egress["evidence"][0];
    assert!(e["file"].as_str().unwrap().ends_with("flows.log"), "{e}");
    assert_eq!(e["line"], 3);
    assert_eq!(e["record"]["start"], "2026-11-24T10:00:05Z");
    assert_eq!(e["record"]["dstport"], 5432);
    assert_eq!(e["record"]["instance-id"], "i-0123456789abcdef0");
    assert!(v["findings"][1].get("instance_ids").is_none());
}
