use super::*;
use crate::parse::Tokens;
use crate::record::Record;
use crate::schema::Schema;

const T: u64 = 1_795_514_400;

/// Feeds `lines` (numbered from `first`) read with `schema`.
fn feed(d: &mut Diagnose, schema: &Schema, lines: &[String], first: u64) {
    let mut t = Tokens::default();
    for (i, l) in lines.iter().enumerate() {
        t.split(l.as_bytes());
        let pos = Position::new("flows.log".as_ref(), 0, Some(first + i as u64), None);
        d.record(&Record::new(l.as_bytes(), &t, schema).unwrap(), &pos)
            .unwrap();
    }
}

#[allow(clippy::too_many_arguments)]
fn rec(
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
        "2 123456789012 {eni} {src} {dst} {sport} {dport} {proto} 3 180 {t} {} {action} OK",
        t + 30
    )
}

/// An interface whose first record does not carry its own address, then its
/// ordinary traffic, then blocked egress to a database; a NACL on a return
/// path; inbound scanning.
fn lines() -> Vec<String> {
    let mut v = vec![rec(
        "eni-x", "10.1.1.1", "10.2.2.2", 40000, 443, 6, T, "ACCEPT",
    )];
    for i in 0..20u32 {
        let peer = format!("10.3.0.{}", i + 1);
        v.push(rec(
            "eni-x",
            &peer,
            "10.0.0.5",
            50000 + i,
            443,
            6,
            T + u64::from(i),
            "ACCEPT",
        ));
    }
    for i in 0..4u32 {
        v.push(rec(
            "eni-x",
            "10.0.0.5",
            "10.9.9.9",
            51000 + i,
            5432,
            6,
            T + 100 + u64::from(i),
            "REJECT",
        ));
    }
    for i in 0..5u32 {
        let client = format!("10.20.0.{}", i + 1);
        v.push(rec(
            "eni-y",
            &client,
            "10.9.0.10",
            40000 + i,
            443,
            6,
            T + 200,
            "ACCEPT",
        ));
        v.push(rec(
            "eni-y",
            "10.9.0.10",
            &client,
            443,
            40000 + i,
            6,
            T + 201,
            "REJECT",
        ));
    }
    for i in 0..12u32 {
        let src = format!("203.0.113.{}", i + 1);
        v.push(rec(
            "eni-y",
            &src,
            "10.9.0.10",
            33000,
            22 + i,
            6,
            T + 300,
            "REJECT",
        ));
    }
    v.push(rec(
        "eni-z",
        "203.0.113.7",
        "10.4.0.1",
        0,
        0,
        1,
        T + 400,
        "ACCEPT",
    ));
    v.push(rec(
        "eni-z",
        "10.4.0.1",
        "203.0.113.7",
        0,
        0,
        1,
        T + 401,
        "REJECT",
    ));
    v
}

/// Issue 12, item 6: the interface's own address came from whichever side's
/// first record merged first, and evidence from whichever side merged first.
#[test]
fn merge_equals_one_pass_whatever_the_split() {
    let schema = Schema::default_v2();
    let all = lines();
    let mut whole = Diagnose::new();
    feed(&mut whole, &schema, &all, 1);
    let want = whole.report();
    assert!(
        want.findings.iter().any(|f| f.kind == "egress-blocked"),
        "{want:#?}"
    );
    for cut in 0..=all.len() {
        for flip in [false, true] {
            let mut a = Diagnose::new();
            let mut b = Diagnose::new();
            feed(&mut a, &schema, &all[..cut], 1);
            feed(&mut b, &schema, &all[cut..], 1 + cut as u64);
            if flip {
                a.merge(b);
                assert_eq!(a.report(), want, "cut at {cut}, flipped");
            } else {
                b.merge(a);
                assert_eq!(b.report(), want, "cut at {cut}");
            }
        }
    }
}

#[test]
fn findings_carry_times_instances_and_labelled_evidence() {
    let schema = Schema::parse(
        "version account-id interface-id instance-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status",
    )
    .unwrap();
    let with = |l: &str, inst: &str| {
        let mut t: Vec<&str> = l.split(' ').collect();
        t.insert(3, inst);
        t.join(" ")
    };
    let src: Vec<String> = lines()
        .iter()
        .map(|l| with(l, if l.contains("eni-x") { "i-0abc" } else { "-" }))
        .collect();
    let mut d = Diagnose::new();
    feed(&mut d, &schema, &src, 1);
    let r = d.report();
    let egress = r
        .findings
        .iter()
        .find(|f| f.kind == "egress-blocked")
        .unwrap();
    assert_eq!(egress.interface_id.as_deref(), Some("eni-x"));
    assert_eq!(egress.instance_ids, ["i-0abc"]);
    assert_eq!(
        (egress.first_seen, egress.last_seen),
        (Some(T + 100), Some(T + 133))
    );
    assert!(
        egress
            .summary
            .contains("cannot reach 10.9.9.9:5432/tcp: 4 outbound REJECTs"),
        "{}",
        egress.summary
    );
    let e = &egress.evidence[0];
    assert_eq!((e.file.as_str(), e.line), ("flows.log", 22));
    assert_eq!(
        e.record[2],
        (
            "interface-id".to_string(),
            EvidenceValue::Text("eni-x".into())
        )
    );
    assert_eq!(e.record[3].0, "instance-id");
    assert_eq!(
        e.record[11],
        ("start".to_string(), EvidenceValue::Time(T + 100))
    );
    assert_eq!(e.record[11].1.to_string(), "2026-11-24T10:01:40Z");
    let json = serde_json::to_value(e).unwrap();
    assert_eq!(json["record"]["end"], "2026-11-24T10:02:10Z");
    assert_eq!(json["record"]["dstport"], 5432);
    assert_eq!(json["line"], 22);
    // Instances are only named where the records carry one.
    let nacl = r
        .findings
        .iter()
        .find(|f| f.interface_id.as_deref() == Some("eni-y"))
        .unwrap();
    assert!(nacl.instance_ids.is_empty());
    assert!(
        nacl.summary
            .contains("5 responses (tcp to ports 40000-40004)"),
        "{}",
        nacl.summary
    );
    assert!(nacl.summary.contains("ephemeral ports 1024-65535"));
}

#[test]
fn an_icmp_finding_does_not_talk_about_ports() {
    let mut d = Diagnose::new();
    feed(&mut d, &Schema::default_v2(), &lines(), 1);
    let r = d.report();
    let icmp = r
        .findings
        .iter()
        .find(|f| f.interface_id.as_deref() == Some("eni-z"))
        .unwrap();
    assert_eq!(icmp.kind, "nacl-return-path");
    assert!(
        icmp.summary.starts_with("1 response (icmp) to accepted"),
        "{}",
        icmp.summary
    );
    assert!(
        icmp.summary.contains("allow icmp replies"),
        "{}",
        icmp.summary
    );
    assert!(!icmp.summary.contains("port"), "{}", icmp.summary);
    let scan = r
        .findings
        .iter()
        .find(|f| f.kind == "inbound-scanning")
        .unwrap();
    assert!(
        scan.summary
            .starts_with("12 public sources probed 12 ports on 1 interface and"),
        "{}",
        scan.summary
    );
}

/// Past the budget, flows and sources are sampled consistently (a request
/// and its response by the same hash), and the report says so.
#[test]
fn a_small_budget_samples_and_says_so() {
    let mut text = Vec::new();
    for i in 0..20_000u32 {
        let client = format!("10.{}.{}.{}", 20 + i / 65536, (i / 256) % 256, i % 256);
        let port = 1024 + i % 60000;
        text.push(rec(
            "eni-y",
            &client,
            "10.9.0.10",
            port,
            443,
            6,
            T,
            "ACCEPT",
        ));
        if i % 4 == 0 {
            text.push(rec(
                "eni-y",
                "10.9.0.10",
                &client,
                443,
                port,
                6,
                T + 1,
                "REJECT",
            ));
        }
        let scanner = format!("198.{}.{}.{}", 18 + i / 65536, (i / 256) % 256, i % 256);
        text.push(rec(
            "eni-y",
            &scanner,
            "10.9.0.10",
            40000,
            22,
            6,
            T,
            "REJECT",
        ));
    }
    let mut d = Diagnose::with_config(DiagnoseConfig {
        memory: Some(MemoryBudget::new(200_000)),
    });
    feed(&mut d, &Schema::default_v2(), &text, 1);
    let r = d.report();
    let a = r.approximate.expect("over budget");
    assert!(a.distinct_sampled_one_in > 1, "{a:?}");
    let nacl = &r.findings[0];
    assert_eq!(nacl.kind, "nacl-return-path");
    assert_eq!(nacl.records, 5000);
    let m: f64 = nacl
        .summary
        .split(' ')
        .nth(1)
        .unwrap()
        .replace(',', "")
        .parse()
        .unwrap();
    assert!(nacl.summary.starts_with("about "), "{}", nacl.summary);
    assert!((m - 5000.0).abs() < 1000.0, "{}", nacl.summary);
    assert!(d.bytes() < 400_000, "{}", d.bytes());
}

/// A service on an ephemeral port (gRPC on 50051) whose replies to clients
/// on lower ephemeral ports are rejected: the accepted requests make them
/// responses (a network ACL), not egress to the clients' ports. A reply
/// with no request seen keeps the guess by port order, and a report can be
/// asked for twice.
#[test]
fn replies_from_a_service_on_an_ephemeral_port_are_responses() {
    let schema = Schema::default_v2();
    let mut v = Vec::new();
    for i in 0..4u32 {
        let client = format!("10.0.0.{}", i + 1);
        v.push(rec(
            "eni-g",
            &client,
            "10.0.1.9",
            33000 + i,
            50051,
            6,
            T,
            "ACCEPT",
        ));
        v.push(rec(
            "eni-g",
            "10.0.1.9",
            &client,
            50051,
            33000 + i,
            6,
            T + 1,
            "REJECT",
        ));
    }
    v.push(rec(
        "eni-g",
        "10.0.1.9",
        "10.0.0.200",
        50051,
        33999,
        6,
        T + 2,
        "REJECT",
    ));
    for cut in [0, 3, v.len()] {
        let mut a = Diagnose::new();
        let mut b = Diagnose::new();
        feed(&mut a, &schema, &v[..cut], 1);
        feed(&mut b, &schema, &v[cut..], 1 + cut as u64);
        a.merge(b);
        let report = a.report();
        assert_eq!(report, a.report(), "a second report is the same");
        let kinds: Vec<_> = report
            .findings
            .iter()
            .map(|f| (f.kind, f.records, f.summary.as_str()))
            .collect();
        assert_eq!(kinds.len(), 2, "{kinds:#?}");
        assert_eq!(kinds[0].0, "nacl-return-path", "{kinds:#?}");
        assert_eq!(kinds[0].1, 4, "{kinds:#?}");
        assert!(kinds[0].2.contains("ports 33000-33003"), "{kinds:#?}");
        assert_eq!(kinds[1].0, "egress-blocked", "{kinds:#?}");
        assert!(kinds[1].2.contains("10.0.0.200:33999"), "{kinds:#?}");
    }
}

/// A client reaching a service on a registered port (Postgres on 5432) from
/// many ephemeral ports is one egress finding, not one per connection: only
/// a group from a single source port can be a service's replies.
#[test]
fn requests_to_a_high_service_port_stay_one_group() {
    let schema = Schema::default_v2();
    let mut v = Vec::new();
    for i in 0..50u32 {
        v.push(rec(
            "eni-c",
            "10.0.0.5",
            "10.0.9.9",
            40000 + i,
            5432,
            6,
            T + u64::from(i),
            "REJECT",
        ));
    }
    // A reply seen accepted the other way does not make them responses.
    v.push(rec(
        "eni-c", "10.0.9.9", "10.0.0.5", 5432, 40000, 6, T, "ACCEPT",
    ));
    // Other peers, so that 10.0.0.5 is told to be the interface's own.
    for i in 0..50u32 {
        let peer = format!("10.3.0.{}", i + 1);
        v.push(rec("eni-c", &peer, "10.0.0.5", 50000, 443, 6, T, "ACCEPT"));
    }
    let mut d = Diagnose::new();
    feed(&mut d, &schema, &v, 1);
    let r = d.report();
    assert_eq!(r.findings.len(), 1, "{r:#?}");
    assert_eq!(
        (r.findings[0].kind, r.findings[0].records),
        ("egress-blocked", 50)
    );
    assert!(r.findings[0].summary.contains("10.0.9.9:5432"), "{r:#?}");
}
