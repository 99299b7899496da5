//! Unified diffs that `git apply` and `patch -p1` accept.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};
use similar::{ChangeTag, TextDiff};

/// Write the diff of `old` → `new` for `name` (`a/NAME`, `b/NAME` headers).
pub fn write(w: &mut dyn Write, name: &str, old: &str, new: &str) -> io::Result<()> {
    let diff = TextDiff::from_lines(old, new);
    let header = Style::new().bold();
    let hunk_style = Style::new().fg_color(Some(AnsiColor::Cyan.into()));
    let del = Style::new().fg_color(Some(AnsiColor::Red.into()));
    let ins = Style::new().fg_color(Some(AnsiColor::Green.into()));
    writeln!(w, "{header}--- a/{name}{header:#}")?;
    writeln!(w, "{header}+++ b/{name}{header:#}")?;
    for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
        writeln!(w, "{hunk_style}{}{hunk_style:#}", hunk.header())?;
        for change in hunk.iter_changes() {
            let (sign, style) = match change.tag() {
                ChangeTag::Delete => ('-', del),
                ChangeTag::Insert => ('+', ins),
                ChangeTag::Equal => (' ', Style::new()),
            };
            let line = change.value();
            let body = line.strip_suffix('\n').unwrap_or(line);
            writeln!(w, "{style}{sign}{body}{style:#}")?;
            if change.missing_newline() {
                writeln!(w, "\\ No newline at end of file")?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    fn plain(out: Vec<u8>) -> String {
        anstream::adapter::strip_str(&String::from_utf8(out).unwrap()).to_string()
    }

    #[test]
    fn plain_unified_diff() {
        let mut out = Vec::new();
        super::write(&mut out, "x.yaml", "a: 1\nb: 2\n", "a: 1\nb: 3\n").unwrap();
        assert_eq!(
            plain(out),
            "--- a/x.yaml\n+++ b/x.yaml\n@@ -1,2 +1,2 @@\n a: 1\n-b: 2\n+b: 3\n"
        );
    }

    #[test]
    fn keeps_carriage_returns_and_marks_missing_newline() {
        let mut out = Vec::new();
        super::write(&mut out, "x", "a: 1\r\nb: 2", "a: 1\r\nb: 3").unwrap();
        let s = plain(out);
        assert!(
            s.contains(" a: 1\r\n-b: 2\n\\ No newline at end of file\n+b: 3\n\\ No newline"),
            "{s:?}"
        );
    }
}
