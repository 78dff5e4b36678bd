//! The aggregate on the evaluator's example VPC: AWS's ping examples (a
//! network ACL that blocks the echo reply), merging at any split, and
//! interfaces the configuration does not hold.

use std::path::Path;
use std::sync::Arc;

use super::*;
use crate::parse::Tokens;
use crate::record::Record;
use crate::schema::Schema;
use crate::vpc::eval::tests::CONFIG;
use crate::vpc::load::load_str;

fn cfg() -> Arc<VpcConfig> {
    Arc::new(load_str("vpc.json", CONFIG).unwrap())
}

/// Default-format lines: `(eni, src, dst, sport, dport, proto, action)`.
fn lines(v: &[(&str, &str, &str, u16, u16, u8, &str)]) -> Vec<String> {
    v.iter()
        .enumerate()
        .map(|(i, (eni, s, d, sp, dp, p, a))| {
            let t = 1_795_514_400 + i as u64;
            format!(
                "2 123456789012 {eni} {s} {d} {sp} {dp} {p} 4 336 {t} {} {a} OK",
                t + 60
            )
        })
        .collect()
}

fn feed(agg: &mut Explain, lines: &[String]) {
    let schema = Schema::default_v2();
    let mut tokens = Tokens::default();
    let pos = Position::new(Path::new("t.log"), 0, None, None);
    for l in lines {
        tokens.split(l.as_bytes());
        let r = Record::new(l.as_bytes(), &tokens, &schema).unwrap();
        agg.record(&r, &pos).unwrap();
    }
}

#[test]
fn a_network_acl_that_blocks_the_echo_reply_is_a_return_path() {
    // AWS's flow log example: the ping is accepted in, the reply rejected out
    // because the outbound rules have no ICMP.
    let l = lines(&[
        ("eni-web", "10.0.1.30", "10.0.0.10", 0, 0, 1, "ACCEPT"),
        ("eni-web", "10.0.0.10", "10.0.1.30", 0, 0, 1, "REJECT"),
    ]);
    let mut e = Explain::new(cfg());
    feed(&mut e, &l);
    let r = e.report();
    assert_eq!(r.findings.len(), 1);
    let f = &r.findings[0];
    assert_eq!((f.layer, f.return_path), (Layer::NetworkAcl, true));
    assert_eq!(
        (f.resource_id.as_deref(), f.rule_number),
        (Some("acl-web"), Some(32767))
    );
    assert_eq!(
        (f.direction, f.protocol.as_str(), f.port),
        (Some(Direction::Egress), "icmp", 0)
    );
    assert_eq!(
        f.fix.as_deref(),
        Some("aws ec2 create-network-acl-entry --network-acl-id acl-web --rule-number 130 --protocol 1 --icmp-type-code Type=-1,Code=-1 --egress --cidr-block 10.0.1.30/32 --rule-action allow")
    );
    // Without the accepted ping, the same reject is a ping from the web
    // server, and sg-web has no outbound rule for ICMP: the group is the cause.
    let mut alone = Explain::new(cfg());
    feed(&mut alone, &l[1..]);
    let f = &alone.report().findings[0];
    assert_eq!((f.layer, f.return_path), (Layer::SecurityGroup, false));
    assert_eq!(f.resource_id.as_deref(), Some("sg-web"));
}

#[test]
fn merging_partial_results_gives_the_same_report_at_any_split() {
    let mut v = Vec::new();
    for i in 0..40u16 {
        v.push((
            "eni-web",
            "10.0.0.10",
            "10.0.1.20",
            40000 + i,
            3306,
            6,
            "ACCEPT",
        ));
        v.push((
            "eni-db",
            "10.0.1.30",
            "10.0.1.20",
            41000 + i,
            3306,
            6,
            "REJECT",
        ));
        v.push((
            "eni-web",
            "10.0.0.10",
            "203.0.113.9",
            443,
            1500 + i,
            6,
            "REJECT",
        ));
        v.push((
            "eni-web",
            "203.0.113.9",
            "10.0.0.10",
            1500 + i,
            443,
            6,
            "ACCEPT",
        ));
        v.push((
            "eni-unsaved",
            "198.51.100.1",
            "10.9.9.9",
            40000,
            22,
            6,
            "REJECT",
        ));
    }
    let l = lines(&v);
    let mut whole = Explain::new(cfg());
    feed(&mut whole, &l);
    let want = whole.report();
    assert!(want.findings.len() >= 3, "{want:#?}");
    for parts in [2, 3, 7] {
        let mut aggs: Vec<Explain> = (0..parts).map(|_| Explain::new(cfg())).collect();
        for (i, line) in l.iter().enumerate() {
            feed(&mut aggs[i % parts], std::slice::from_ref(line));
        }
        // Merge in reverse, so that order cannot matter.
        let mut m = aggs.pop().unwrap();
        while let Some(a) = aggs.pop() {
            m.merge(a);
        }
        assert_eq!(m.report(), want, "{parts} parts");
    }
    let unknown = want
        .findings
        .iter()
        .find(|f| f.interface_id == "eni-unsaved")
        .unwrap();
    assert_eq!(unknown.layer, Layer::UnknownInterface);
    assert_eq!(unknown.records, 40);
    // The responses to the NAT'd client (port 1500) leave through the `*`
    // rule: return path, with the ephemeral range to add.
    let rp = want.findings.iter().find(|f| f.return_path).unwrap();
    assert_eq!(
        (rp.port, rp.records, rp.rule_number),
        (443, 40, Some(32767))
    );
    assert!(rp
        .fix
        .as_deref()
        .unwrap()
        .contains("--port-range From=1024,To=65535 --egress --cidr-block 203.0.113.9/32"));
}

#[test]
fn undecidable_rules_leave_the_layer_open_and_say_why() {
    let l = lines(&[
        // HTTPS out, admitted only by a prefix list whose entries were not saved.
        (
            "eni-web",
            "10.0.0.10",
            "52.216.1.1",
            40000,
            443,
            6,
            "REJECT",
        ),
        // A ping in: the ACL admits only echo requests (type 8) before `*`.
        ("eni-web", "10.0.1.30", "10.0.0.10", 0, 0, 1, "REJECT"),
    ]);
    let mut e = Explain::new(cfg());
    feed(&mut e, &l);
    let r = e.report();
    let https = r.findings.iter().find(|f| f.port == 443).unwrap();
    assert_eq!((https.layer, https.fix.as_deref()), (Layer::Unknown, None));
    assert!(
        https.summary.contains(
            "sg-web outbound tcp/443 to pl-63a5400a (the prefix list's entries were not saved)"
        ),
        "{}",
        https.summary
    );
    let ping = r.findings.iter().find(|f| f.protocol == "icmp").unwrap();
    assert_eq!(
        (ping.layer, ping.rule_number),
        (Layer::NetworkAcl, Some(32767))
    );
    assert!(
        ping.note
            .as_deref()
            .unwrap()
            .contains("rule 130 decides ICMP of some types first"),
        "{ping:?}"
    );
    // With the prefix list's entries, the same record is allowed now.
    let mut with = load_str("vpc.json", CONFIG).unwrap();
    with.prefix_lists
        .insert("pl-63a5400a".into(), vec!["52.216.0.0/15".parse().unwrap()]);
    let mut e = Explain::new(Arc::new(with));
    feed(&mut e, &l[..1]);
    assert_eq!(e.report().findings[0].layer, Layer::AllowedNow);
}

/// An interface id with an escape sequence is a bad value, as in every
/// other report: it would otherwise be printed as it is (`explain` shows ids
/// the configuration does not hold).
#[test]
fn an_interface_id_with_control_characters_is_refused() {
    let l = lines(&[(
        "eni-\u{1b}[2J",
        "198.51.100.1",
        "10.0.0.10",
        4000,
        22,
        6,
        "REJECT",
    )]);
    let schema = Schema::default_v2();
    let mut tokens = Tokens::default();
    tokens.split(l[0].as_bytes());
    let r = Record::new(l[0].as_bytes(), &tokens, &schema).unwrap();
    let mut e = Explain::new(cfg());
    let pos = Position::new(Path::new("t.log"), 0, None, None);
    let err = e.record(&r, &pos).unwrap_err().to_string();
    assert!(err.contains("control character"), "{err}");
    assert_eq!(e.report().findings.len(), 0);
}

/// A service on an ephemeral port (gRPC on 50051) answering a client on a
/// lower one (33000): by the ports alone its reply looks like a request to
/// 33000, and a security group rule for it was suggested. The accepted
/// request says it is a response from 50051; alone, it is taken as before.
#[test]
fn a_reply_from_a_high_service_port_is_a_response_when_its_request_was_seen() {
    let l = lines(&[
        (
            "eni-web",
            "10.0.0.10",
            "10.0.1.30",
            33000,
            50051,
            6,
            "ACCEPT",
        ),
        (
            "eni-web",
            "10.0.1.30",
            "10.0.0.10",
            50051,
            33000,
            6,
            "REJECT",
        ),
    ]);
    let mut e = Explain::new(cfg());
    feed(&mut e, &l);
    let r = e.report();
    assert_eq!(r.findings.len(), 1);
    let f = &r.findings[0];
    assert_eq!(f.port, 50051, "{f:?}");
    assert!(
        f.fix
            .as_deref()
            .is_none_or(|c| !c.contains("authorize-security-group")),
        "{f:?}"
    );
    let mut alone = Explain::new(cfg());
    feed(&mut alone, &l[1..]);
    assert_eq!(alone.report().findings[0].port, 33000);
}

/// Two findings whose fixes add entries to the same ACL in the same
/// direction name different rule numbers (both were 130).
#[test]
fn fixes_of_two_findings_do_not_share_a_rule_number() {
    let l = lines(&[
        ("eni-web", "10.0.1.30", "10.0.0.10", 0, 0, 1, "ACCEPT"),
        ("eni-web", "10.0.0.10", "10.0.1.30", 0, 0, 1, "REJECT"),
        ("eni-web", "10.0.1.40", "10.0.0.10", 0, 0, 58, "ACCEPT"),
        ("eni-web", "10.0.0.10", "10.0.1.40", 0, 0, 58, "REJECT"),
    ]);
    let mut e = Explain::new(cfg());
    feed(&mut e, &l);
    let numbers: Vec<String> = e
        .report()
        .findings
        .iter()
        .filter_map(|f| f.fix.clone())
        .flat_map(|fix| {
            fix.lines()
                .filter(|c| c.contains("--network-acl-id acl-web") && c.contains("--egress"))
                .map(|c| {
                    c.split("--rule-number ")
                        .nth(1)
                        .unwrap()
                        .split(' ')
                        .next()
                        .unwrap()
                        .to_string()
                })
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(numbers, ["130", "140"], "{:#?}", e.report().findings);
}
