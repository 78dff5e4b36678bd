//! Text for people: file names, times, protocols, ports, counts and sizes, as
//! every report and message shows them.

use std::path::Path;

/// A path as text for a terminal: bytes that are not UTF-8 become U+FFFD, and
/// control characters (escape sequences, newlines) are escaped, so that a
/// crafted file name can neither move the cursor nor fake a line of output.
pub fn path_text(p: &Path) -> String {
    let s = p.to_string_lossy();
    if !s.chars().any(char::is_control) {
        return s.into_owned();
    }
    s.chars()
        .flat_map(|c| {
            let esc: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            esc
        })
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_in_names_are_escaped() {
        assert_eq!(path_text(Path::new("a/b.log")), "a/b.log");
        assert_eq!(
            path_text(Path::new("x\u{1b}[2J\nflowscan: fake.log")),
            "x\\u{1b}[2J\\nflowscan: fake.log"
        );
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            let p = Path::new(std::ffi::OsStr::from_bytes(b"bad\xff.log"));
            assert_eq!(path_text(p), "bad\u{fffd}.log");
        }
    }
}
