//! The same records in every shape CloudWatch and S3 hand out give the same answer.

mod util;

use std::fs;
use std::io::Write;

use serde_json::{json, Value};
use util::*;

/// Generated records without their header.
fn records(n: u64, seed: u64) -> Vec<String> {
    let text = String::from_utf8(generated(n, seed)).unwrap();
    text.lines().skip(1).map(str::to_string).collect()
}

fn envelope(stream: &str, msgs: &[String]) -> String {
    let events: Vec<Value> = msgs
        .iter()
        .enumerate()
        .map(|(i, m)| json!({"id": format!("{i}"), "timestamp": 1_795_514_400_000u64 + i as u64, "message": m}))
        .collect();
    json!({
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": "/vpc/flowlogs",
        "logStream": stream,
        "subscriptionFilters": ["to-firehose"],
        "logEvents": events,
    })
    .to_string()
}

#[test]
fn every_input_shape_gives_the_same_answer() {
    let recs = records(20_000, 41);
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);

    let header = flowgen::DEFAULT_FIELDS.join(" ");
    fs::write(p("flows.log"), format!("{header}\n{}\n", recs.join("\n"))).unwrap();

    // `aws logs filter-log-events --output json`: one document.
    let events: Vec<Value> = recs
        .iter()
        .map(|m| json!({"logStreamName": "eni-x", "timestamp": 1, "message": m, "ingestionTime": 2, "eventId": "e"}))
        .collect();
    fs::write(
        p("events.json"),
        json!({"events": events, "searchedLogStreams": [], "nextToken": "t"}).to_string(),
    )
    .unwrap();

    // Firehose to S3: gzip members back to back, one subscription envelope each,
    // with a control message among them.
    let mut firehose = Vec::new();
    for (i, chunk) in recs.chunks(700).enumerate() {
        firehose.extend(gzip(envelope(&format!("eni-{i}"), chunk).as_bytes()));
        if i == 3 {
            let control = json!({"messageType": "CONTROL_MESSAGE", "logGroup": "", "logStream": "", "logEvents": [{"id": "c", "timestamp": 1, "message": "CWL CONTROL MESSAGE: Checking health of destination Firehose."}]});
            firehose.extend(gzip(control.to_string().as_bytes()));
        }
    }
    fs::write(p("firehose-object"), &firehose).unwrap();

    // The console's CSV export, some messages quoted.
    let mut csv = String::from("timestamp,message\n");
    for (i, m) in recs.iter().enumerate() {
        if i % 2 == 0 {
            csv.push_str(&format!("{},\"{m}\"\n", 1_795_514_400_000u64 + i as u64));
        } else {
            csv.push_str(&format!("{},{m}\n", 1_795_514_400_000u64 + i as u64));
        }
    }
    fs::write(p("export.csv"), csv).unwrap();

    // JSON lines of {"message": …}.
    let mut jl = String::new();
    for m in &recs {
        jl.push_str(&json!({ "message": m }).to_string());
        jl.push('\n');
    }
    fs::write(p("lines.jsonl"), jl).unwrap();

    let base = rejects_json(&[&p("flows.log").to_string_lossy()], 0);
    assert_eq!(base["records"], 20_000);
    for name in [
        "events.json",
        "firehose-object",
        "export.csv",
        "lines.jsonl",
    ] {
        let v = rejects_json(&[&p(name).to_string_lossy()], 0);
        assert_eq!(answer(&v), answer(&base), "{name}");
        assert_eq!(v["scan"]["malformed"], 0, "{name}");
        assert_accounting(&v);
    }
    // The control message is counted, not parsed as a record.
    let v = rejects_json(&[&p("firehose-object").to_string_lossy()], 0);
    assert_eq!(v["scan"]["skipped"], 1);
    // Forcing the format works where detection would too, and --fields applies.
    let v = rejects_json(
        &[
            &p("lines.jsonl").to_string_lossy(),
            "--input-format",
            "cloudwatch-json",
            "--fields",
            "default",
        ],
        0,
    );
    assert_eq!(answer(&v), answer(&base));
    // Text forced as JSON is no JSON document at all: skipped and named,
    // and nothing was read (exit 4), not read in part (exit 3); on
    // standard input too.
    let flows = p("flows.log");
    let forced = ["rejects", "-q", "--input-format", "cloudwatch-json"];
    let (_, err) = ok(&[&forced[..], &[&flows.to_string_lossy()]].concat(), 4);
    assert!(err.contains("not CloudWatch Logs JSON"), "{err}");
    let out = run(
        &[&forced[..], &["-"]].concat(),
        Some(&fs::read(&flows).unwrap()),
    );
    assert_eq!(out.status.code(), Some(4));
    // The same bytes through standard input.
    let out = run(&["rejects", "-f", "json", "-q", "-"], Some(&firehose));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer(&v), answer(&base));
}

#[test]
fn invalid_json_reports_where_and_keeps_what_came_before() {
    let recs = records(50, 42);
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for m in &recs[..30] {
        text.push_str(&json!({ "message": m }).to_string());
        text.push('\n');
    }
    text.push_str("{\"message\": \"2 123 eni-1 1.2.3.4\n");
    let f = dir.path().join("broken.json");
    fs::write(&f, &text).unwrap();
    let (out, err) = ok(&["rejects", "-f", "json", &f.to_string_lossy()], 3);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["records"], 30);
    assert!(
        err.contains("broken.json: invalid JSON at line 32"),
        "{err}"
    );
    assert!(err.contains("(byte "), "{err}");
    assert!(
        err.contains("the 30 records before it are counted"),
        "{err}"
    );
    // A bare message string cut by the end of the file (a writer killed
    // mid-line) is as broken as a cut object: it was read as the clean end.
    text.truncate(text.len() - "{\"message\": \"2 123 eni-1 1.2.3.4\n".len());
    text.push_str(&format!("\"{}", &recs[30][..40]));
    fs::write(&f, &text).unwrap();
    let (out, err) = ok(&["rejects", "-f", "json", &f.to_string_lossy()], 3);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["records"], 30);
    assert!(err.contains("EOF while parsing a string"), "{err}");
    // One record before it is one record.
    let one = format!("{}\n\"{}", json!({ "message": recs[0] }), &recs[1][..40]);
    fs::write(&f, one).unwrap();
    let (_, err) = ok(&["rejects", "-f", "json", &f.to_string_lossy()], 3);
    assert!(err.contains("the 1 record before it is counted"), "{err}");
}

#[test]
fn a_lone_surrogate_escape_damages_one_record_not_the_file() {
    let recs = records(50, 7);
    let whole = |text: &str| {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("cut.json");
        fs::write(&f, text).unwrap();
        let (out, err) = ok(&["rejects", "-f", "json", &f.to_string_lossy()], 0);
        (serde_json::from_str::<Value>(&out).unwrap(), err)
    };
    let plain: String = recs
        .iter()
        .map(|m| json!({ "message": m }).to_string() + "\n")
        .collect();
    let (base, _) = whole(&plain);
    // A message cut inside a character by a JavaScript writer: its source
    // address ends in half a surrogate pair (a REJECT, whose address
    // `rejects` reads).
    let cut = (10..recs.len())
        .find(|&i| recs[i].contains(" REJECT "))
        .unwrap();
    let mut text = String::new();
    for (i, m) in recs.iter().enumerate() {
        let line = json!({ "message": m }).to_string();
        if i == cut {
            let src = m.split(' ').nth(3).unwrap();
            text.push_str(&line.replacen(src, &format!("{src}\\ud83d"), 1));
        } else {
            text.push_str(&line);
        }
        text.push('\n');
    }
    let (v, err) = whole(&text);
    assert_eq!(v["scan"]["malformed"], 1, "{err}");
    assert!(!err.contains("invalid JSON"), "{err}");
    assert!(
        err.contains(&format!("cut.json:{}: srcaddr", cut + 1)),
        "{err}"
    );
    assert!(err.contains(MENDED), "{err}");
    assert_eq!(
        v["records"].as_u64().unwrap() + 1,
        base["records"].as_u64().unwrap()
    );
}

/// What a file's note says when a lone surrogate escape was read as U+FFFD.
const MENDED: &str = "were read as U+FFFD";

/// A lone escape in a field no command checks changes a record's text, not
/// its numbers: the answer is the clean file's, and a note says what was
/// read, from a file, from standard input and gzip'd; a clean file has no
/// such note.
#[test]
fn a_lone_surrogate_escape_in_an_unchecked_field_is_noted() {
    let recs = records(200, 8);
    let doc = |mend: bool| -> String {
        recs.iter()
            .enumerate()
            .map(|(i, m)| {
                let line = json!({ "message": m }).to_string();
                // The account id, which `rejects` does not read.
                // The first record too: a note made before the format is
                // known was replaced by the "no header" note.
                let line = if mend && (i == 0 || i == 100) {
                    line.replacen(" 123456789012 ", " 123456789012\\ud800 ", 1)
                } else {
                    line
                };
                // A value without a message after it: a piece then notes
                // two things, and joined notes of pieces repeated their parts.
                if i == 100 {
                    line + "\n{\"x\":1}\n"
                } else {
                    line + "\n"
                }
            })
            .collect()
    };
    let (clean, damaged) = (doc(false), doc(true));
    assert!(damaged.contains("123456789012\\ud800 "), "{damaged}");
    let dir = tempfile::tempdir().unwrap();
    let answers = |text: &str| {
        let f = dir.path().join("flows.json");
        fs::write(&f, text).unwrap();
        let path = f.to_string_lossy().into_owned();
        let args = ["rejects", "-f", "json", "--input-format", "cloudwatch-json"];
        let file = ok(&[&args[..], &[&path]].concat(), 0);
        // Cut into pieces read apart, each noting what it saw.
        let pieces = ["--split-min", "1", "--block-size", "4096", "--threads", "2"];
        let cut = ok(&[&args[..], &pieces[..], &[&path]].concat(), 0);
        let stdin = run(&[&args[..], &["-"]].concat(), Some(text.as_bytes()));
        let gz = run(&[&args[..], &["-"]].concat(), Some(&gzip(text.as_bytes())));
        let mut got = vec![file, cut];
        for out in [stdin, gz] {
            assert_eq!(out.status.code(), Some(0));
            got.push((
                String::from_utf8(out.stdout).unwrap(),
                String::from_utf8(out.stderr).unwrap(),
            ));
        }
        got
    };
    let base = answers(&clean);
    for ((out, err), (base_out, base_err)) in answers(&damaged).iter().zip(&base) {
        let (v, b) = (
            serde_json::from_str::<Value>(out).unwrap(),
            serde_json::from_str::<Value>(base_out).unwrap(),
        );
        assert_eq!(answer(&v), answer(&b));
        assert_eq!(v["scan"]["malformed"], 0, "{err}");
        // Once, however many pieces said it.
        assert_eq!(err.matches(MENDED).count(), 1, "{err}");
        assert_eq!(err.matches("no header").count(), 1, "{err}");
        assert_eq!(err.matches("were skipped").count(), 1, "{err}");
        assert!(err.contains("1 skipped (not records"), "{err}");
        assert!(!base_err.contains(MENDED), "{base_err}");
    }
}

#[test]
fn json_that_is_not_a_flow_log_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("app.json");
    let mut file = fs::File::create(&f).unwrap();
    writeln!(file, "{}", json!({"messageType": "DATA_MESSAGE", "logGroup": "/app", "logEvents": [{"message": "GET /health 200"}]})).unwrap();
    let (_, err) = ok(&["rejects", &f.to_string_lossy()], 4);
    assert!(err.contains("app.json: not a flow log"), "{err}");
}

#[test]
fn cloudwatch_samples() {
    let Some(dir) = samples() else {
        eprintln!("skipped: ../shared/samples is not present");
        return;
    };
    for (file, records, rejects) in [
        ("otel-contrib-valid_vpc_flow_cw.json", 2, 1),
        ("otel-issue-38861-cloudwatch-console-export.csv", 1, 0),
        ("elastic-integrations-with-message-field.log", 1, 0),
    ] {
        let v = rejects_json(&[&dir.join(file).to_string_lossy()], 0);
        assert_eq!(v["scan"]["records"], records, "{file}");
        assert_eq!(v["rejects"], rejects, "{file}");
        assert_eq!(v["scan"]["malformed"], 0, "{file}");
    }
}

#[test]
fn time_ranges_skip_files_by_name_without_changing_the_answer() {
    // A day of data laid out as AWS does: one file per 5-minute window, records
    // bucketed into files by their end time.
    let dir = tempfile::tempdir().unwrap();
    flowgen::Generator::new(flowgen::Spec {
        records: 60_000,
        seed: 43,
        span: 86_400,
        ..flowgen::Spec::default()
    })
    .write_tree(dir.path(), 288, 1)
    .unwrap();
    let root = dir.path().to_string_lossy().into_owned();
    for (since, until) in [
        ("2026-11-24T10:00:00Z", "2026-11-24T11:00:00Z"),
        ("2026-11-24T10:07:00Z", "2026-11-24T10:13:00Z"),
        ("2026-11-25T08:00:00Z", "2026-11-25T09:30:00Z"),
    ] {
        let pruned = rejects_json(&[&root, "--since", since, "--until", until], 0);
        let full = rejects_json(
            &[&root, "--since", since, "--until", until, "--no-prune"],
            0,
        );
        assert_eq!(answer(&pruned), answer(&full), "{since}..{until}");
        assert!(pruned["records"].as_u64().unwrap() > 0);
        assert!(
            pruned["scan"]["pruned_by_name"].as_u64().unwrap() > 50,
            "{}",
            pruned["scan"]
        );
        assert_eq!(full["scan"]["pruned_by_name"], 0);
        assert!(pruned["scan"]["files"].as_u64().unwrap() < 40);
    }
    // Account and region come from the path: the right ones keep every record,
    // others prune everything.
    let all = rejects_json(&[&root], 0);
    let v = rejects_json(
        &[&root, "--account", "123456789012", "--region", "us-east-1"],
        0,
    );
    assert_eq!(answer(&v), answer(&all));
    let v = rejects_json(&[&root, "--region", "eu-west-1"], 0);
    assert_eq!(v["records"], 0);
    assert_eq!(v["scan"]["files"], 0);
    // A flat file has no path facts: the default format has account-id but no
    // region, so --region cannot be answered there and the file is skipped
    // (nothing else is read: exit 4).
    let (out, err) = ok(
        &[
            "rejects",
            "-f",
            "json",
            &testdata("default-v2.log").to_string_lossy(),
            "--region",
            "us-east-1",
        ],
        4,
    );
    assert!(err.contains("format lacks region"), "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["records"], 0);
    let v = rejects_json(
        &[
            &testdata("default-v2.log").to_string_lossy(),
            "--account",
            "123456789012",
        ],
        0,
    );
    assert_eq!(v["records"], 40);
}
