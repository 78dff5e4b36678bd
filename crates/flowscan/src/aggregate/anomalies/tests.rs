use super::*;
use crate::aggregate::top::TopRow;

fn report(rows: &[(String, u64, u64)]) -> TopReport {
    report_by(rows, "start/5m")
}

fn report_by(rows: &[(String, u64, u64)], time: &str) -> TopReport {
    TopReport {
        by: vec!["interface-id".into(), time.into()],
        measure: "records".into(),
        groups: rows.len() as u64,
        rows: rows
            .iter()
            .map(|(k, t, v)| TopRow {
                key: vec![KeyValue::Text(k.clone()), KeyValue::Time(*t)],
                records: *v,
                sum: None,
                distinct: None,
            })
            .collect(),
        approximate: None,
        saturated: false,
    }
}

fn rows(list: &[(&str, u64, u64)]) -> Vec<(String, u64, u64)> {
    list.iter()
        .map(|(k, t, v)| (k.to_string(), *t, *v))
        .collect()
}

const T0: u64 = 1_795_514_400;

fn steady(key: &str, from: u64, windows: u64, out: &mut Vec<(String, u64, u64)>) {
    for i in 0..windows {
        out.push((key.into(), from + i * 300, 40 + (i * 7) % 9));
    }
}

#[test]
fn a_spike_in_a_steady_series_is_found_and_only_it() {
    let mut r = Vec::new();
    for i in 0..100u64 {
        let v = if i == 70 { 400 } else { 40 + (i * 7) % 9 };
        r.push(("eni-a".to_string(), 1_000_000 + i * 300, v));
        r.push(("eni-b".to_string(), 1_000_000 + i * 300, 20 + (i * 5) % 7));
    }
    let d = detect(&report(&r), &AnomalyOptions::default()).unwrap();
    assert_eq!(d.anomalies.len(), 1, "{:?}", d.anomalies);
    assert_eq!(d.anomalies[0].key, "eni-a");
    assert_eq!(d.anomalies[0].window_start, 1_000_000 + 70 * 300);
    assert_eq!(d.anomalies[0].confidence, "high");
    // Only the series with an anomaly is kept, for charts.
    assert_eq!((d.keys, d.series.len()), (2, 1));
    assert_eq!(d.series[0].key, "eni-a");
    assert_eq!((d.judged, d.not_judged), (194, 6));
}

#[test]
fn gaps_count_as_zero_and_small_counts_are_not_spikes() {
    let r = rows(&[("k", 0, 3), ("k", 3000, 9), ("k", 6000, 2)]);
    let d = detect(&report(&r), &AnomalyOptions::default()).unwrap();
    assert!(d.anomalies.is_empty());
    let s = &d.series[0];
    assert_eq!(s.points.len(), 3);
    let v = s.values(0, 6000, 300);
    assert_eq!(v.len(), 21);
    assert_eq!((v[0], v[10], v[20], v.iter().sum::<u64>()), (3, 9, 2, 14));
    assert_eq!(d.stretches.len(), 1);
}

/// A `start` of 0 or of i64::MAX milliseconds among 2026 data used to make a
/// dense series of millions (or 3·10^13) windows per key.
#[test]
fn outliers_far_from_the_bulk_make_stretches_of_their_own() {
    let mut r = Vec::new();
    for k in 0..50 {
        steady(&format!("eni-{k}"), T0, 100, &mut r);
    }
    r.push(("eni-7".into(), T0 + 60 * 300, 500));
    let far = (i64::MAX as u64 / 1000) / 300 * 300;
    r.push(("eni-7".into(), 0, 1));
    r.push(("eni-7".into(), far, 1));
    r.push(("eni-9".into(), far, 30));
    let d = detect(&report(&r), &AnomalyOptions::default()).unwrap();
    assert_eq!(d.stretches.len(), 3);
    assert_eq!(d.stretches[0], Stretch { first: 0, last: 0 });
    assert_eq!(d.stretches[2].first, far);
    // Every point is judged once (or not); nothing dense.
    assert_eq!(d.judged + d.not_judged, 50 * 100 + 3);
    assert_eq!(d.keys, 50);
    assert_eq!(d.series[0].points.len(), 100 + 2);
    // The spike in the bulk is found; the lone windows have no history.
    assert_eq!(d.anomalies.len(), 1, "{:?}", d.anomalies);
    assert_eq!(d.anomalies[0].window_start, T0 + 60 * 300);
    assert_eq!(d.not_judged, 50 * 3 + 3);
    assert_eq!(d.stretch_of(far + 10), None);
    assert_eq!(d.stretch_of(far).unwrap().first, far);
    assert_eq!(d.stretch_of(T0 + 500).unwrap().first, T0);
}

/// Early windows are judged against the history there is, with low confidence,
/// instead of not at all.
#[test]
fn a_spike_in_the_first_windows_is_found_with_low_confidence() {
    let mut r = Vec::new();
    steady("eni-a", T0, 48, &mut r);
    steady("eni-b", T0, 48, &mut r);
    r[3].2 = 400; // eni-a's fourth window: three windows of history
    let d = detect(&report(&r), &AnomalyOptions::default()).unwrap();
    assert_eq!(d.anomalies.len(), 1, "{:?}", d.anomalies);
    let a = &d.anomalies[0];
    assert_eq!(
        (a.window_start, a.history, a.confidence),
        (T0 + 900, 3, "low")
    );
    assert_eq!((d.min_history, d.full_history), (3, 12));
    // Three windows per key have too little before them; nine more are short.
    assert_eq!((d.not_judged, d.short_history, d.judged), (6, 18, 90));
    assert_eq!(d.series[0].points[2].upper, None);
    assert!(d.series[0].points[3].upper.is_some());
}

#[test]
fn reports_of_another_shape_are_refused_not_a_panic() {
    let mut one = report(&rows(&[("k", 0, 3)]));
    one.by.truncate(1);
    for r in &mut one.rows {
        r.key.truncate(1);
    }
    let e = detect(&one, &AnomalyOptions::default()).unwrap_err();
    assert!(e.to_string().contains("a key and a time bucket"), "{e}");
    // Two parts, but the second is not a time.
    let mut two = report(&rows(&[("k", 0, 3)]));
    two.rows[0].key[1] = KeyValue::Int(3);
    assert!(detect(&two, &AnomalyOptions::default()).is_err());
    // A zero width.
    let opts = AnomalyOptions {
        bucket: 0,
        ..AnomalyOptions::default()
    };
    assert_eq!(
        detect(&report(&rows(&[("k", 0, 3)])), &opts),
        Err(DetectError::ZeroBucket)
    );
    // An empty report, and rows without a time.
    let mut empty = report(&[]);
    assert_eq!(
        detect(&empty, &AnomalyOptions::default()).unwrap().series,
        []
    );
    empty.rows = report(&rows(&[("k", 0, 3)])).rows;
    empty.rows[0].key[1] = KeyValue::Missing;
    assert_eq!(
        detect(&empty, &AnomalyOptions::default()).unwrap().untimed,
        3
    );
}

/// Keys are gathered by sorting, not searched one by one: 100,000 keys (a
/// linear search per row took 13.5 s in release) with one planted spike.
#[test]
fn a_hundred_thousand_keys() {
    let mut r = Vec::with_capacity(600_000);
    for k in 0..100_000u64 {
        for i in 0..6u64 {
            let v = if k == 77_777 && i == 5 {
                200
            } else {
                20 + (k + i) % 2
            };
            r.push((format!("k{k}"), T0 + i * 300, v));
        }
    }
    let opts = AnomalyOptions {
        window: 4,
        ..AnomalyOptions::default()
    };
    let d = detect(&report(&r), &opts).unwrap();
    assert_eq!((d.keys, d.series.len()), (100_000, 1));
    assert_eq!(d.anomalies.len(), 1);
    assert_eq!(d.anomalies[0].key, "k77777");
    assert_eq!(d.anomalies[0].confidence, "high");
}

#[test]
fn sparklines() {
    assert_eq!(sparkline(&[0, 1, 2, 4, 8]), "▁▂▃▅█");
}

/// Straight from the aggregation, walked in key order, the same answer as
/// from its full report.
#[test]
fn from_the_aggregation_as_from_its_report() {
    use crate::aggregate::top::{KeyPart, Measure, Top, TopConfig};
    use crate::aggregate::Sink;
    use crate::parse::Tokens;
    use crate::record::Record;
    use crate::schema::Schema;
    let mut top = Top::new(TopConfig {
        by: vec![
            KeyPart::parse("dstport").unwrap(),
            KeyPart::parse("start/5m").unwrap(),
        ],
        measure: Measure::Count,
        memory: None,
    });
    let schema = Schema::default_v2();
    let mut t = Tokens::default();
    for w in 0..40u64 {
        for port in [22u64, 80, 443, 3389] {
            let n = if port == 80 && w == 30 {
                200
            } else {
                10 + (w * port) % 7
            };
            for i in 0..n {
                let l = format!(
                    "2 1 eni-a 203.0.113.{} 10.0.0.1 40000 {port} 6 1 40 {} {} REJECT OK",
                    i % 200,
                    T0 + w * 300 + i % 300,
                    T0 + w * 300 + 310
                );
                t.split(l.as_bytes());
                let pos = crate::sink::Position::new("t".as_ref(), 0, Some(1), None);
                top.record(&Record::new(l.as_bytes(), &t, &schema).unwrap(), &pos)
                    .unwrap();
            }
        }
    }
    let opts = AnomalyOptions::default();
    let a = detect_top(&mut top, &opts).unwrap();
    let b = detect(&top.report(usize::MAX), &opts).unwrap();
    assert_eq!(a.anomalies.len(), 1, "{:?}", a.anomalies);
    assert_eq!(a.anomalies[0].key, "80");
    assert_eq!(a.anomalies, b.anomalies);
    assert_eq!(
        (a.keys, a.judged, a.not_judged),
        (b.keys, b.judged, b.not_judged)
    );
    assert_eq!(a.series, b.series);
}

/// A burst at the same time every day is a spike on its first three days,
/// then the pattern of that time of day; a burst far above it still is one.
#[test]
fn a_burst_at_the_same_time_every_day_is_learned() {
    let per_day = 288;
    let mut r = Vec::new();
    for i in 0..6 * per_day {
        let v = match (i / per_day, i % per_day) {
            (5, 36) => 4000,
            (_, 36) => 400,
            _ => 40 + (i * 7) % 9,
        };
        r.push(("eni-a".to_string(), T0 + i * 300, v));
    }
    let d = detect(&report(&r), &AnomalyOptions::default()).unwrap();
    let days: Vec<(u64, u64)> = d
        .anomalies
        .iter()
        .map(|a| ((a.window_start - T0) / 86_400, a.observed))
        .collect();
    let mut days = days;
    days.sort_unstable();
    assert_eq!(
        days,
        [(0, 400), (1, 400), (2, 400), (5, 4000)],
        "{:?}",
        d.anomalies
    );
    let last = d.anomalies.iter().find(|a| a.observed == 4000).unwrap();
    // Judged against the earlier days' bursts, not the quiet hours around.
    assert_eq!((last.expected, last.history), (400.0, 5));
}

/// One earlier burst at that time of day (or one day without the key) does
/// not raise the bound: a spike on the third day is still one.
#[test]
fn one_earlier_burst_is_not_a_pattern() {
    let per_day = 24;
    for first in [10_000, 0] {
        let mut r = Vec::new();
        for i in 0..3 * per_day {
            let v = match (i / per_day, i % per_day) {
                (0, 9) => first,
                (2, 9) => 3000,
                _ => 100 + (i * 7) % 9,
            };
            r.push(("eni-a".to_string(), T0 + i * 3600, v));
        }
        let opts = AnomalyOptions {
            bucket: 3600,
            ..AnomalyOptions::default()
        };
        let d = detect(&report_by(&r, "start/1h"), &opts).unwrap();
        let spike = d.anomalies.iter().find(|a| a.observed == 3000);
        let spike = spike.unwrap_or_else(|| panic!("{first}: {:?}", d.anomalies));
        assert!(spike.expected < 110.0, "{spike:?}");
        assert_eq!(spike.history, 24);
    }
}
