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
    writeln!(w, "{header}--- {}{header:#}", header_name("a/", name))?;
    writeln!(w, "{header}+++ {}{header:#}", header_name("b/", name))?;
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

/// The file name on a `---`/`+++` line, spelled as `git diff` spells it so that both
/// `git apply` and `patch` read it back: C-quoted when it holds a quote, a backslash or a
/// control character; followed by a tab when it holds a space (otherwise `patch` stops the
/// name at the space).
fn header_name(prefix: &str, name: &str) -> String {
    if name
        .chars()
        .any(|c| c == '"' || c == '\\' || c.is_ascii_control())
    {
        let mut q = String::with_capacity(name.len() + prefix.len() + 2);
        q.push('"');
        q.push_str(prefix);
        for c in name.chars() {
            match c {
                '"' => q.push_str("\\\""),
                '\\' => q.push_str("\\\\"),
                '\t' => q.push_str("\\t"),
                '\n' => q.push_str("\\n"),
                '\r' => q.push_str("\\r"),
                c if c.is_ascii_control() => q.push_str(&format!("\\{:03o}", c as u32)),
                c => q.push(c),
            }
        }
        q.push('"');
        q
    } else if name.contains(' ') {
        format!("{prefix}{name}\t")
    } else {
        format!("{prefix}{name}")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn header_names_are_spelled_like_git() {
        use super::header_name;
        assert_eq!(header_name("a/", "x/y.yaml"), "a/x/y.yaml");
        assert_eq!(header_name("b/", "my file.yaml"), "b/my file.yaml\t");
        assert_eq!(header_name("a/", "q\"uote.yaml"), r#""a/q\"uote.yaml""#);
        assert_eq!(header_name("a/", "tab\tname.yaml"), r#""a/tab\tname.yaml""#);
        assert_eq!(header_name("a/", "b\\s \x01.yaml"), r#""a/b\\s \001.yaml""#);
        assert_eq!(header_name("a/", "ünï.yaml"), "a/ünï.yaml");
    }

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
