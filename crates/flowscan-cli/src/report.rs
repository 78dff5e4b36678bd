//! What the command tells people on standard error: malformed lines, files it
//! skipped or could not read, and the exit code that sums it up.

use flowscan::display::path_text;
use flowscan::render::{human_bytes, line_accounting, thousands};
use flowscan::{Discovery, FileStatus, ScanReport};

use crate::Exit;

/// How many skipped or failed files are named before the rest are counted.
const NAMED: usize = 5;

/// Total on-disk size, when every input's size is known.
pub fn total_size(found: &Discovery) -> Option<u64> {
    found.sources.iter().map(|s| s.size).sum()
}

/// Prints malformed lines (the first few in full), and files skipped, incomplete
/// or failed, to standard error.
pub fn warnings(scan: &ScanReport) {
    let t = &scan.totals;
    if t.malformed > 0 {
        say!(
            "flowscan: {} malformed line{} (not counted as records){}:",
            thousands(t.malformed),
            if t.malformed == 1 { "" } else { "s" },
            if t.malformed as usize > scan.malformed.len() {
                format!(", the first {}", scan.malformed.len())
            } else {
                String::new()
            }
        );
        for m in &scan.malformed {
            say!("  {m}");
        }
    }
    let list = |title: &str, pred: fn(&FileStatus) -> Option<&String>| {
        let hits: Vec<_> = scan
            .files
            .iter()
            .filter_map(|f| pred(&f.status).map(|why| (f, why)))
            .collect();
        if hits.is_empty() {
            return;
        }
        say!(
            "flowscan: {} file{} {title}:",
            hits.len(),
            if hits.len() == 1 { "" } else { "s" }
        );
        for (f, why) in hits.iter().take(NAMED) {
            say!("  {}: {}", path_text(&f.path), with_flags(why));
        }
        if hits.len() > NAMED {
            say!("  … and {} more", hits.len() - NAMED);
        }
    };
    list("skipped", |s| match s {
        FileStatus::Skipped(w) => Some(w),
        _ => None,
    });
    list("read only in part", |s| match s {
        FileStatus::Incomplete(w) => Some(w),
        _ => None,
    });
    list("could not be read", |s| match s {
        FileStatus::Failed(w) => Some(w),
        _ => None,
    });
    let notes: Vec<_> = scan
        .files
        .iter()
        .filter_map(|f| f.note.as_ref().map(|n| (f, n)))
        .collect();
    for (f, n) in notes.iter().take(NAMED) {
        say!("flowscan: note: {}: {}", path_text(&f.path), with_flags(n));
    }
    if notes.len() > NAMED {
        say!(
            "flowscan: note: … and {} without a header",
            flowscan::render::plural((notes.len() - NAMED) as u64, "more file", "more files")
        );
    }
}

/// The library's reasons name no flags; here, where flags exist, the one
/// that changes the outcome is added.
pub fn with_flags(why: &str) -> String {
    const HINTS: [(&str, &str); 6] = [
        ("the inflate limit", "--max-inflate"),
        ("the default account", "--default-account"),
        ("the default region", "--default-region"),
        ("field list", "--fields"),
        ("the input format given", "--input-format"),
        ("unsigned requests", "--no-sign-request"),
    ];
    // The phrase that comes first: a later one may be inside a quoted value.
    let first = HINTS
        .iter()
        .filter_map(|&(phrase, flag)| why.find(phrase).map(|at| (at, phrase, flag)))
        .min_by_key(|&(at, ..)| at);
    match first {
        Some((at, phrase, flag)) => {
            let end = at + phrase.len();
            format!("{} ({flag}){}", &why[..end], &why[end..])
        }
        None => why.to_string(),
    }
}

/// A message line longer than this many characters is cut in the middle.
const LONGEST_LINE: usize = 1000;

/// Whether a line of the message is longer than [`LONGEST_LINE`] characters.
pub fn too_long(msg: &str) -> bool {
    msg.lines().any(|l| l.chars().count() > LONGEST_LINE)
}

/// The message with every line longer than [`LONGEST_LINE`] characters cut
/// in its middle: an error that quotes a flag's value (a 10 kB `--by`, a
/// pasted log as `--where`) still fits a terminal and says what was left out.
pub fn shorten(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len().min(4 * LONGEST_LINE));
    for (i, line) in msg.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let n = line.chars().count();
        if n <= LONGEST_LINE {
            out.push_str(line);
            continue;
        }
        let (head, tail) = (LONGEST_LINE * 3 / 5, LONGEST_LINE / 5);
        out.extend(line.chars().take(head));
        out.push_str(&format!(" … [{} characters left out] … ", n - head - tail));
        out.extend(line.chars().skip(n - tail));
    }
    out
}

/// A one-line summary for standard error when standard output holds JSON or CSV.
pub fn brief(scan: &ScanReport) {
    say!(
        "flowscan: {} file{}, {} read; lines {}; {:.2} s",
        scan.files.len(),
        if scan.files.len() == 1 { "" } else { "s" },
        human_bytes(scan.bytes),
        line_accounting(&scan.totals),
        scan.elapsed.as_secs_f64()
    );
}

/// 0 when every input was read completely, 3 when some could not be, 4 when
/// none could be used at all.
pub fn exit_code(scan: &ScanReport) -> Exit {
    if scan.read_nothing() {
        Exit::NothingRead
    } else if scan.is_complete() {
        Exit::Clean
    } else {
        Exit::Incomplete
    }
}

/// Says plainly that nothing was read (the warnings above said why).
pub fn nothing_read(scan: &ScanReport) {
    if scan.files.is_empty() {
        say!("flowscan: no input files were found: nothing to report");
    } else {
        say!(
            "flowscan: no flow log records were read: of {} file{}, none could be used (see above); nothing to report",
            thousands(scan.files.len() as u64),
            if scan.files.len() == 1 { "" } else { "s" }
        );
    }
}

#[cfg(test)]
mod tests {
    use super::{shorten, with_flags};

    #[test]
    fn long_lines_are_cut_in_the_middle() {
        let long = format!("bad --by: `{}` is not a field", "x".repeat(10_000));
        let short = shorten(&format!("first\n{long}\nlast"));
        let lines: Vec<&str> = short.lines().collect();
        assert_eq!(lines[0], "first");
        assert_eq!(lines[2], "last");
        assert!(lines[1].starts_with("bad --by: `xxx"), "{}", lines[1]);
        assert!(lines[1].ends_with("x` is not a field"), "{}", lines[1]);
        assert!(
            lines[1].contains(" … [9227 characters left out] … "),
            "{}",
            lines[1]
        );
        assert!(lines[1].chars().count() < 1100);
        assert!(!super::too_long(&short) && super::too_long(&long));
        // Short lines, and multi-byte text, are left whole.
        assert_eq!(shorten("é ü\nok"), "é ü\nok");
        let wide = "é".repeat(1500);
        assert_eq!(shorten(&wide).chars().filter(|&c| c == 'é').count(), 800);
    }

    #[test]
    fn library_reasons_gain_the_flag_that_changes_them() {
        assert_eq!(
            with_flags("access denied: … (set AWS_PROFILE, or send unsigned requests to a public bucket)"),
            "access denied: … (set AWS_PROFILE, or send unsigned requests (--no-sign-request) to a public bucket)"
        );
        assert_eq!(
            with_flags("stopped at the inflate limit"),
            "stopped at the inflate limit (--max-inflate)"
        );
        assert_eq!(with_flags("not found"), "not found");
    }
}
