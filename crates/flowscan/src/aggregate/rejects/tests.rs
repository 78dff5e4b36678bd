use super::*;
use crate::parse::Tokens;
use crate::record::Record;
use crate::schema::Schema;

fn feed(agg: &mut Rejects, lines: &[&str]) -> Vec<Result<(), SinkError>> {
    feed_as(agg, &Schema::default_v2(), lines)
}

/// Feeds lines of the format `schema`.
fn feed_as(
    agg: &mut Rejects,
    schema: &Schema,
    lines: &[impl AsRef<str>],
) -> Vec<Result<(), SinkError>> {
    let mut t = Tokens::default();
    lines
        .iter()
        .map(|l| {
            let l = l.as_ref();
            t.split(l.as_bytes());
            agg.record(
                &Record::new(l.as_bytes(), &t, schema).unwrap(),
                &crate::sink::Position::new("t".as_ref(), 0, Some(1), None),
            )
        })
        .collect()
}

const LINES: &[&str] = &[
    "2 1 eni-a 203.0.113.12 10.0.0.1 40000 22 6 2 100 1000 1060 REJECT OK",
    "2 1 eni-a 203.0.113.99 10.0.0.2 40001 22 6 3 200 900 1100 REJECT OK",
    "2 1 eni-b 198.51.100.7 10.0.0.1 40002 3389 6 1 60 2000 2060 REJECT OK",
    "2 1 eni-b 10.0.0.1 10.0.0.9 443 40002 6 1 60 2000 2060 ACCEPT OK",
    "2 1 eni-c 2001:db8:1:2::5 2001:db8::1 0 0 58 1 60 2000 2060 REJECT OK",
    "2 1 - - - - - - - - 500 600 - NODATA",
    "2 1 eni-a - - - - - - - 700 800 - SKIPDATA",
];

#[test]
fn groups_and_totals() {
    let mut agg = Rejects::new(RejectsConfig::default());
    assert!(feed(&mut agg, LINES).iter().all(Result::is_ok));
    let r = agg.report(10);
    assert_eq!(
        (r.records, r.accepts, r.rejects, r.nodata, r.skipdata),
        (7, 1, 4, 1, 1)
    );
    assert_eq!((r.first_start, r.last_end), (Some(500), Some(2060)));
    assert_eq!(r.interfaces[0].interface_id, "eni-a");
    assert_eq!(r.interfaces[0].distinct_sources, 2);
    assert_eq!(
        r.interfaces[0].stats,
        RowStats {
            records: 2,
            packets: 5,
            bytes: 300,
            first_seen: Some(900),
            last_seen: Some(1100),
            ingress: None,
            egress: None,
        }
    );
    assert_eq!(r.ports[0].label, "22/tcp");
    assert_eq!(r.ports[1].label, "0/icmpv6");
    assert_eq!(r.ports[2].label, "3389/tcp");
    assert_eq!(r.sources[0].cidr, "203.0.113.0/24");
    assert_eq!(r.sources[0].distinct_destinations, 2);
    assert_eq!(r.sources[1].cidr, "198.51.100.0/24");
    assert_eq!(r.sources[2].cidr, "2001:db8:1:2::/64");
}

#[test]
fn merge_equals_one_pass_whatever_the_split() {
    let mut whole = Rejects::new(RejectsConfig::default());
    feed(&mut whole, LINES);
    let want = whole.report(10);
    for cut in 0..=LINES.len() {
        let mut a = Rejects::new(RejectsConfig::default());
        let mut b = Rejects::new(RejectsConfig::default());
        feed(&mut a, &LINES[..cut]);
        feed(&mut b, &LINES[cut..]);
        b.merge(a);
        assert_eq!(b.report(10), want, "cut at {cut}");
    }
}

#[test]
fn bad_token_leaves_the_aggregate_unchanged() {
    let mut agg = Rejects::new(RejectsConfig::default());
    let res = feed(
        &mut agg,
        &["2 1 eni-new 203.0.113.1 10.0.0.1 1 70000 6 1 1 1 2 REJECT OK"],
    );
    match &res[0] {
        Err(SinkError::Value(e)) => assert_eq!(e.field, Field::DstPort),
        other => panic!("expected a bad value, got {other:?}"),
    }
    let r = agg.report(10);
    assert_eq!((r.records, r.rejects), (0, 0));
    assert!(r.interfaces.is_empty());
}

/// REJECTs wait in a queue before they are added to their groups; one with
/// an interface id held as text is added at once. Groups are still made in
/// the order of their records (which orders the groups dropped under a
/// memory budget), a bad line among queued ones changes nothing, and every
/// queued REJECT is in the tables once the run ends.
#[test]
fn queued_rejects_are_added_in_order_and_a_bad_line_changes_nothing() {
    let made = |agg: &Rejects| -> Vec<String> {
        agg.enis
            .groups
            .iter()
            .map(|g| g.key.text().into())
            .collect()
    };
    let line = |eni: &str| format!("2 1 {eni} 203.0.113.1 10.0.0.1 1 22 6 1 1 1 2 REJECT OK");
    let ids = [
        "eni-a1", "eni-b2", "eni-Text", "eni-c3", "-", "eni-d4", "eni-e5",
    ];
    let mut lines: Vec<String> = ids.iter().map(|id| line(id)).collect();
    let mut agg = Rejects::new(RejectsConfig::default());
    assert!(feed_as(&mut agg, &Schema::default_v2(), &lines)
        .iter()
        .all(Result::is_ok));
    agg.end_file(&crate::sink::FileInfo {
        index: 0,
        path: "t".as_ref(),
    });
    assert!(agg.queued == 0);
    assert_eq!(made(&agg), ids);
    let want = agg.report(10);
    assert_eq!(want.rejects, 7);

    // The same, with lines a bad token rejects among them: a bad text id
    // after queued REJECTs, and a bad number.
    lines.insert(2, line("eni-\u{7}"));
    lines.insert(5, line("eni-f6").replace(" 22 ", " 70000 "));
    let mut agg = Rejects::new(RejectsConfig::default());
    let res = feed_as(&mut agg, &Schema::default_v2(), &lines);
    let bad: Vec<usize> = (0..res.len()).filter(|&i| res[i].is_err()).collect();
    assert_eq!(bad, [2, 5]);
    assert_eq!(agg.report(10), want);
    assert_eq!(made(&agg), ids);
}

#[test]
fn ties_break_by_key_and_top_n_cuts() {
    let mut agg = Rejects::new(RejectsConfig {
        prefix4: 16,
        prefix6: 48,
        ..RejectsConfig::default()
    });
    feed(
        &mut agg,
        &[
            "2 1 eni-z 10.1.2.3 10.0.0.1 1 80 6 1 1 1 2 REJECT OK",
            "2 1 eni-y 10.1.9.9 10.0.0.1 1 80 6 1 1 1 2 REJECT OK",
            "2 1 eni-x 10.2.0.1 10.0.0.1 1 81 17 1 1 1 2 REJECT OK",
        ],
    );
    let r = agg.report(2);
    let enis: Vec<_> = r
        .interfaces
        .iter()
        .map(|e| e.interface_id.as_str())
        .collect();
    assert_eq!(enis, ["eni-x", "eni-y"]);
    assert_eq!(r.sources[0].cidr, "10.1.0.0/16");
    assert_eq!(r.sources[0].stats.records, 2);
    assert_eq!(r.ports[1].label, "81/udp");
}

#[test]
fn csv_quotes_keys_only_when_needed() {
    let mut agg = Rejects::new(RejectsConfig::default());
    let lines = [
        "2 1 eni-a,\"b 203.0.113.12 10.0.0.1 40000 22 6 2 100 1000 1060 REJECT OK",
        "2 1 eni-plain 203.0.113.12 10.0.0.1 40000 22 6 2 100 1000 1060 REJECT OK",
    ];
    assert!(feed(&mut agg, &lines).iter().all(Result::is_ok));
    let mut out = Vec::new();
    crate::render::rejects_csv(&mut out, &agg.report(10)).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.starts_with("table,key,port,protocol,records,"),
        "{text}"
    );
    assert!(
        text.contains("\ninterfaces,\"eni-a,\"\"b\",,,1,2,100,1,"),
        "{text}"
    );
    assert!(
        text.contains("\ninterfaces,eni-plain,,,1,2,100,1,"),
        "{text}"
    );
}

/// Lines of logs with `flow-direction`: (interface, source, direction).
fn directed(lines: &[(u8, u8, u8)]) -> Vec<String> {
    lines
        .iter()
        .map(|&(eni, src, dir)| {
            let dir = ["-", "ingress", "egress"][usize::from(dir % 3)];
            format!("5 eni-{eni} 203.0.113.{src} 10.0.0.1 22 6 1 60 100 160 REJECT {dir}")
        })
        .collect()
}

fn feed_directed(agg: &mut Rejects, lines: &[String]) {
    let schema = Schema::from_header(
        b"version interface-id srcaddr dstaddr dstport protocol packets bytes start end action flow-direction",
    )
    .unwrap();
    assert!(feed_as(agg, &schema, lines).iter().all(Result::is_ok));
}

proptest::proptest! {
    /// Direction counts are kept apart from the other sums, only for groups
    /// that had a direction: whatever groups come before or after, and
    /// however the records are split between two merged aggregates, each
    /// row counts what its records said.
    #[test]
    fn direction_counts_survive_merges(
        lines in proptest::collection::vec((0u8..6, 0u8..4, 0u8..3), 1..60),
        cut in 0usize..60,
    ) {
        let text = directed(&lines);
        let cut = cut.min(text.len());
        let (mut a, mut b) = (
            Rejects::new(RejectsConfig::default()),
            Rejects::new(RejectsConfig::default()),
        );
        feed_directed(&mut a, &text[..cut]);
        feed_directed(&mut b, &text[cut..]);
        b.merge(a);
        let r = b.report(10);
        let said = lines.iter().any(|l| l.2 != 0);
        proptest::prop_assert_eq!(r.directions, said);
        for row in &r.interfaces {
            let mine = lines.iter().filter(|l| format!("eni-{}", l.0) == row.interface_id);
            let (i, e) = mine.fold((0, 0), |(i, e), l| (i + u64::from(l.2 == 1), e + u64::from(l.2 == 2)));
            proptest::prop_assert_eq!(row.stats.ingress, said.then_some(i));
            proptest::prop_assert_eq!(row.stats.egress, said.then_some(e));
        }
    }
}

#[test]
fn direction_counts_follow_their_groups_through_an_eviction() {
    let hit = Hit::new(1, 1, None, None);
    let mut g = Groups::<u32>::default();
    // Group k gets k + 1 records; only the odd ones say a direction, and
    // group 4, the last, none at all (its counts lie past the vector's end).
    for k in 0..5u32 {
        let i = g.slot(k);
        for _ in 0..=k {
            g.add(i, &hit, if k % 2 == 1 { 1 + (k as u8 / 2) % 2 } else { 0 });
        }
    }
    let (remap, dropped) = g.evict_half();
    assert_eq!(dropped, 3);
    let kept: Vec<_> = (0..5)
        .filter(|&k| remap[k] != u32::MAX)
        .map(|k| (k, g.dirs(remap[k] as usize)))
        .collect();
    assert_eq!(kept, [(3, [0, 4]), (4, [0, 0])]);
}

proptest::proptest! {
    /// However REJECT records are split among three aggregates, and however
    /// they are merged (one after another, or two first and that into the
    /// third), the report is the one-pass report: the distinct peers of the
    /// top rows are gathered from tables kept apart at the merges (or, under
    /// a budget half used, merged at once), IPv4 and IPv6 alike.
    #[test]
    fn merges_of_merges_report_as_one_pass(
        recs in proptest::collection::vec((0u8..5, 0u16..300, 0u8..6, 0u8..8), 0..300),
        cut_a in 0usize..300,
        cut_b in 0usize..300,
        nested: bool,
        tight: bool,
        n in 1usize..8,
        prepared in 0usize..12,
    ) {
        let lines: Vec<String> = recs
            .iter()
            .map(|&(eni, src, port, dst)| {
                let src = if src % 7 == 0 {
                    format!("2001:db8:{:x}::{:x}", src % 3, src)
                } else {
                    format!("198.51.{}.{}", src % 4, src % 200)
                };
                format!(
                    "2 1 eni-{eni} {src} 10.0.{dst}.1 40000 {} 6 1 60 1000 1060 REJECT OK",
                    [22, 80, 443, 3389, 8080, 0][port as usize]
                )
            })
            .collect();
        let config = || RejectsConfig::default();
        let mut whole = Rejects::new(config());
        feed_as(&mut whole, &Schema::default_v2(), &lines);
        let want = whole.report(n);
        let (x, y) = (cut_a.min(cut_b).min(lines.len()), cut_a.max(cut_b).min(lines.len()));
        // A budget already more than half used by something else: merges
        // are eager then.
        let budget = MemoryBudget::new(1 << 30);
        let _held = tight.then(|| {
            let mut s = budget.share();
            s.report(3 << 28);
            s
        });
        let make = || Rejects::new(RejectsConfig { memory: Some(budget.clone()), ..config() });
        let (mut a, mut b, mut c) = (make(), make(), make());
        feed_as(&mut a, &Schema::default_v2(), &lines[..x]);
        feed_as(&mut b, &Schema::default_v2(), &lines[x..y]);
        feed_as(&mut c, &Schema::default_v2(), &lines[y..]);
        if nested {
            b.merge(c);
            a.merge(b);
        } else {
            a.merge(b);
            a.merge(c);
        }
        proptest::prop_assert_eq!(a.report(n), want.clone());
        // Readied for a report of any size (some tables settled, some not),
        // the same report.
        a.prepare_report(prepared);
        proptest::prop_assert_eq!(a.report(n), want);
    }
}

#[test]
fn a_report_of_most_groups_merges_the_pairs_kept_apart() {
    // Both threads saw the same records: kept apart, every pair is held twice.
    let lines: Vec<String> = (0..200)
        .map(|i| {
            format!(
                "2 1 eni-{:x} 198.51.{}.{} 10.0.0.{} 40000 {} 6 1 60 1000 1060 REJECT OK",
                i % 3,
                i % 5,
                i,
                i % 7,
                20 + i % 4
            )
        })
        .collect();
    let (mut a, mut b) = (
        Rejects::new(RejectsConfig::default()),
        Rejects::new(RejectsConfig::default()),
    );
    feed_as(&mut a, &Schema::default_v2(), &lines);
    feed_as(&mut b, &Schema::default_v2(), &lines);
    a.merge(b);
    let want = a.report(1000);
    let apart = a.distinct_bytes();
    a.prepare_report(1);
    assert_eq!(
        a.distinct_bytes(),
        apart,
        "a short report leaves them apart"
    );
    a.prepare_report(1000);
    assert!(
        a.distinct_bytes() < apart,
        "{} against {apart}",
        a.distinct_bytes()
    );
    assert_eq!(a.report(1000), want);
}
