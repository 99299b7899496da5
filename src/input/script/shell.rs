//! Finding `kubectl` commands in a script's text: the `kubectl` words that start a command
//! and the words after each, tokenised as a shell would (quotes, backslash-newline
//! continuations), without parsing the script as a language. In a Dockerfile only the `RUN`
//! instructions hold commands.

use regex::Regex;

/// A word of a command: its byte range in the file and whether it holds `$` or a backquote.
#[derive(Debug, Clone)]
pub(super) struct Word {
    pub start: usize,
    pub end: usize,
    pub text: String,
    pub expands: bool,
}

/// The words after `kubectl` of every command in `text` (in a Dockerfile, every command
/// inside a `RUN` instruction).
pub(super) fn kubectl_commands(text: &str, dockerfile: bool) -> Vec<Vec<Word>> {
    let runs = if dockerfile {
        run_instructions(text)
    } else {
        Vec::new()
    };
    kubectl_words(text)
        .into_iter()
        .filter(|&(kubectl_end, _)| {
            !dockerfile
                || runs
                    .iter()
                    .any(|&(s, e)| s <= kubectl_end && kubectl_end <= e)
        })
        .map(|(kubectl_end, quote)| words(text, kubectl_end, quote))
        .collect()
}

/// The end of every `kubectl` word that starts a command, with the quote that encloses the
/// command when it sits inside a quoted string (`sh 'kubectl run …'`, `- "kubectl run …"`).
/// Commented-out lines are skipped.
fn kubectl_words(text: &str) -> Vec<(usize, Option<char>)> {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r#"(?m)(^|[\s;&|(`'"@+{])(?:[\w./~-]*/)?kubectl(?:[ \t]|\\\r?\n)"#)
            .expect("valid regex")
    });
    let mut out = Vec::new();
    for caps in re.captures_iter(text) {
        let lead = caps.get(1).expect("group 1");
        let whole = caps.get(0).expect("match");
        let line_start = text[..lead.end()].rfind('\n').map_or(0, |i| i + 1);
        if text[line_start..lead.end()].trim_start().starts_with('#') {
            continue;
        }
        // `# kubemig: ignore` at the end of the command's line, or on a comment line just above,
        // skips it.
        let eol = text[line_start..]
            .find('\n')
            .map_or(text.len(), |i| line_start + i);
        let above = text[..line_start.saturating_sub(1)]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        if text[line_start..eol].contains("kubemig: ignore")
            || (line_start > 0 && {
                let prev = text[above..line_start].trim();
                prev.starts_with('#') && prev.contains("kubemig: ignore")
            })
        {
            continue;
        }
        let quote = match lead.as_str() {
            "'" => Some('\''),
            "\"" => Some('"'),
            _ => None,
        };
        let end = whole.end() - (whole.as_str().len() - whole.as_str().trim_end().len());
        let end = text[..end].strip_suffix('\\').map_or(end, |t| t.len());
        out.push((end, quote));
    }
    out
}

/// The words of the command after `kubectl`, up to a newline, a shell control operator, a
/// comment or the quote that encloses the command.
fn words(text: &str, from: usize, outer: Option<char>) -> Vec<Word> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = from;
    loop {
        i = skip_blanks(b, i);
        if i >= b.len() {
            return out;
        }
        let c = b[i] as char;
        if matches!(c, '\n' | ';' | '&' | '|' | ')' | '#' | '`') || Some(c) == outer {
            return out;
        }
        let w = word(text, i, outer);
        i = w.end;
        out.push(w);
        if i >= b.len() {
            return out;
        }
    }
}

/// Past the blanks and backslash-newline continuations between words.
fn skip_blanks(b: &[u8], mut i: usize) -> usize {
    while i < b.len() {
        if b[i] == b' ' || b[i] == b'\t' || b[i] == b'\r' {
            i += 1;
        } else if b[i] == b'\\' && b.get(i + 1) == Some(&b'\n') {
            i += 2;
        } else if b[i] == b'\\' && b.get(i + 1) == Some(&b'\r') && b.get(i + 2) == Some(&b'\n') {
            i += 3;
        } else {
            break;
        }
    }
    i
}

/// The word that starts at `start`, as the shell reads it: quotes removed, a backslash
/// escaping the next character, ending at a blank, a control operator or `outer`.
fn word(text: &str, start: usize, outer: Option<char>) -> Word {
    let mut i = start;
    let mut word = String::new();
    let mut expands = false;
    let mut quote: Option<char> = None;
    while i < text.len() {
        let c = text[i..].chars().next().expect("char");
        match quote {
            Some(q) if c == q => {
                quote = None;
                i += 1;
                continue;
            }
            Some(_) => {
                if c == '$' || c == '`' {
                    expands = true;
                }
                if c == '\n' {
                    // An unclosed quote: stop at the line's end.
                    break;
                }
                word.push(c);
                i += c.len_utf8();
                continue;
            }
            None => {}
        }
        // Only the blanks `skip_blanks` skips end a word, as in the shell (a no-break space or
        // a form feed is part of a word): any other end would leave a word of nothing there,
        // and the command would never end.
        if matches!(c, ' ' | '\t' | '\r' | '\n' | ';' | '&' | '|' | ')' | '`') || Some(c) == outer {
            break;
        }
        if c == '\\' {
            if text[i + 1..].starts_with('\n') || text[i + 1..].starts_with("\r\n") {
                break;
            }
            if let Some(n) = text[i + 1..].chars().next() {
                word.push(n);
                i += 1 + n.len_utf8();
                continue;
            }
        }
        if c == '\'' || c == '"' {
            quote = Some(c);
            i += 1;
            continue;
        }
        if c == '$' {
            expands = true;
        }
        word.push(c);
        i += c.len_utf8();
    }
    Word {
        start,
        end: i,
        text: word,
        expands,
    }
}

/// Byte ranges of the Dockerfile `RUN` instructions, with their continuation lines.
fn run_instructions(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut offset = 0;
    let mut current: Option<usize> = None;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let start_of_run = current.is_none()
            && body
                .trim_start()
                .get(..4)
                .is_some_and(|w| w.eq_ignore_ascii_case("RUN ") || w.eq_ignore_ascii_case("RUN\t"));
        if start_of_run {
            current = Some(offset);
        }
        let end = offset + line.len();
        if let Some(s) = current
            && !body.trim_end().ends_with('\\')
        {
            out.push((s, end));
            current = None;
        }
        offset = end;
    }
    if let Some(s) = current {
        out.push((s, text.len()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_white_space_is_part_of_a_word() {
        // These once ended a word without being skipped between words: the scan never ended.
        for ws in ["\u{a0}", "\u{3000}", "\u{b}", "\u{c}", "\u{2028}"] {
            let text = format!("kubectl {ws}run a --wait{ws}x --timeout=1s\n");
            let found: Vec<String> = kubectl_commands(&text, false)
                .into_iter()
                .flatten()
                .map(|w| w.text)
                .collect();
            assert_eq!(
                found,
                [
                    format!("{ws}run"),
                    "a".into(),
                    format!("--wait{ws}x"),
                    "--timeout=1s".into()
                ],
                "{ws:?}"
            );
        }
    }
}
