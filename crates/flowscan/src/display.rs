//! Text for people: file names, times, protocols, ports, counts and sizes, as
//! every report and message shows them.

use std::borrow::Cow;
use std::path::Path;

/// A path as text for a terminal: bytes that are not UTF-8 become U+FFFD, and
/// control characters (escape sequences, newlines) are escaped, so that a
/// crafted file name can neither move the cursor nor fake a line of output.
pub fn path_text(p: &Path) -> String {
    escape_controls(&p.to_string_lossy()).into_owned()
}

/// Text with its control characters (escape sequences, newlines) and the
/// invisible characters that change how a terminal shows text (bidirectional
/// overrides, zero-width ones) escaped as Rust escapes them (`\u{1b}`, `\n`,
/// `\u{202e}`), for text from outside (file names, saved configurations)
/// that is printed.
pub fn escape_controls(s: &str) -> Cow<'_, str> {
    if !s.chars().any(hidden) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if hidden(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A control character, or a format character that reorders or hides text:
/// the bidirectional marks, embeddings, overrides and isolates, the zero-width
/// characters and the byte-order mark.
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061c}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

/// Serialises a path as text, lossily: serde refuses paths that are not UTF-8,
/// and a report must not fail (or be cut short) because of a file's name.
pub fn ser_path<S: serde::Serializer>(p: &Path, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&p.to_string_lossy())
}

/// [`ser_path`] for a list of paths.
pub fn ser_paths<S: serde::Serializer>(ps: &[std::path::PathBuf], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(ps.iter().map(|p| p.to_string_lossy()))
}

/// Formats Unix seconds as RFC 3339 UTC (`2026-11-24T10:00:00Z`).
pub fn format_time(secs: u64) -> String {
    i64::try_from(secs)
        .ok()
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| secs.to_string())
}

pub(crate) fn ser_time<S: serde::Serializer>(t: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&format_time(*t)),
        None => s.serialize_none(),
    }
}

/// The usual name of an IANA protocol number.
pub fn protocol_name(p: u8) -> Option<&'static str> {
    Some(match p {
        1 => "icmp",
        2 => "igmp",
        4 => "ipip",
        6 => "tcp",
        17 => "udp",
        41 => "ipv6",
        47 => "gre",
        50 => "esp",
        51 => "ah",
        58 => "icmpv6",
        132 => "sctp",
        _ => return None,
    })
}

/// `22/tcp`, `0/icmp`, `500/99`, `-/-`.
pub fn port_label(port: Option<u16>, proto: Option<u8>) -> String {
    let port = port.map_or_else(|| "-".to_string(), |p| p.to_string());
    let proto = match proto {
        None => "-".to_string(),
        Some(p) => protocol_name(p).map_or_else(|| p.to_string(), str::to_string),
    };
    format!("{port}/{proto}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(port_label(Some(22), Some(6)), "22/tcp");
        assert_eq!(port_label(None, None), "-/-");
        assert_eq!(port_label(Some(500), Some(99)), "500/99");
        assert_eq!(format_time(1_418_530_010), "2014-12-14T04:06:50Z");
    }

    #[test]
    fn control_characters_in_names_are_escaped() {
        assert_eq!(path_text(Path::new("a/b.log")), "a/b.log");
        assert_eq!(
            path_text(Path::new("x\u{1b}[2J\nflowscan: fake.log")),
            "x\\u{1b}[2J\\nflowscan: fake.log"
        );
        // A right-to-left override would show `gol.exe` as `exe.log`.
        assert_eq!(
            path_text(Path::new("a\u{202e}gol.exe\u{200b}\u{feff}")),
            "a\\u{202e}gol.exe\\u{200b}\\u{feff}"
        );
        assert_eq!(escape_controls("é ü 日"), "é ü 日");
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            let p = Path::new(std::ffi::OsStr::from_bytes(b"bad\xff.log"));
            assert_eq!(path_text(p), "bad\u{fffd}.log");
        }
    }
}
