//! Real files others wrote (`../shared/samples`, beside the repository): every one
//! is read without a crash, and the counts match PROVENANCE.md. Skipped with a
//! message when the folder is absent.

mod util;

use std::fs;

use util::*;

/// The field list PROVENANCE's headerless-samples.fields.tsv gives for a file.
fn fields_for(dir: &std::path::Path, file: &str) -> Option<String> {
    let tsv = fs::read_to_string(dir.join("headerless-samples.fields.tsv")).ok()?;
    tsv.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(file)?.strip_prefix('\t').map(str::to_string))
}

#[test]
fn every_sample_is_read_without_a_crash() {
    let Some(dir) = samples() else {
        eprintln!("skipped: ../shared/samples is not present");
        return;
    };
    for entry in fs::read_dir(&dir).unwrap() {
        let p = entry.unwrap().path();
        let out = run(&["rejects", "-f", "json", "-q", &p.to_string_lossy()], None);
        let code = out.status.code();
        assert!(
            matches!(code, Some(0) | Some(3) | Some(4)),
            "{}: exit {code:?}\n{}",
            p.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_accounting(&v);
    }
}

#[test]
fn sample_counts_match_provenance() {
    let Some(dir) = samples() else {
        eprintln!("skipped: ../shared/samples is not present");
        return;
    };
    // file, --fields (for headerless files), records, REJECT, malformed
    let table: &[(&str, bool, u64, u64, u64)] = &[
        ("aws-docs-v2-default.log", false, 7, 2, 0),
        ("aws-docs-tcp-flag-sequence-v3.log", false, 8, 0, 0),
        (
            "elastic-beats-module-vpcflow-tcp-flag-sequence-skip-data.log",
            false,
            2,
            0,
            0,
        ),
        ("obsrvbl-flowlogs-reader-v5.log", false, 2, 0, 1),
        ("elastic-integrations-ecs-samples.log", true, 10, 6, 0),
        ("obsrvbl-flowlogs-reader-v2-records.log", true, 5, 1, 0),
    ];
    for &(file, headerless, records, rejects, malformed) in table {
        let p = dir.join(file).to_string_lossy().into_owned();
        let fields = fields_for(&dir, file);
        let mut args = vec![p.as_str()];
        if headerless {
            args.extend(["--fields", fields.as_deref().expect("listed in the tsv")]);
        }
        let v = rejects_json(&args, 0);
        assert_eq!(v["scan"]["records"], records, "{file} records");
        assert_eq!(v["rejects"], rejects, "{file} REJECT");
        assert_eq!(v["scan"]["malformed"], malformed, "{file} malformed");
    }
    // The bogus line is reported where it is.
    let p = dir
        .join("obsrvbl-flowlogs-reader-v5.log")
        .to_string_lossy()
        .into_owned();
    let (_, err) = ok(&["rejects", &p], 0);
    assert!(err.contains("obsrvbl-flowlogs-reader-v5.log:4:"), "{err}");
}

#[test]
fn samples_without_an_action_field_are_skipped_not_zero() {
    let Some(dir) = samples() else {
        eprintln!("skipped: ../shared/samples is not present");
        return;
    };
    for (file, why) in [
        ("aws-docs-nat-gateway-custom.log", "format lacks action"),
        (
            "aws-blog-vpc-encryption-controls-encryption-status.log",
            "format lacks action",
        ),
        (
            "obsrvbl-flowlogs-reader-v6-tgw.log",
            "Transit Gateway flow log",
        ),
        (
            "otel-contrib-valid_tgw_flow_log.log",
            "Transit Gateway flow log",
        ),
    ] {
        let p = dir.join(file).to_string_lossy().into_owned();
        let (_, err) = ok(&["rejects", &p], 4);
        assert!(err.contains(why), "{file}: {err}");
        assert!(
            err.contains("no flow log records were read"),
            "{file}: {err}"
        );
    }
}
