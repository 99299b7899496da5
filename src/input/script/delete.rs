//! What `fix` deletes from a script: the flag tokens of a command (and a space-separated
//! value), with the blanks and line continuations that would be left dangling.

use super::flags::Flag;

/// Byte ranges to delete for the flags of one command: adjacent flags (only blanks between
/// them) go together; a group that starts its line takes the blanks after it, otherwise the
/// blanks before it; a line left with nothing but a continuation backslash goes whole.
pub(super) fn groups(text: &str, flags: &[Flag]) -> Vec<(usize, usize)> {
    let mut spans: Vec<(usize, usize)> = flags
        .iter()
        .map(|(_, ws)| (ws[0].start, ws[ws.len() - 1].end))
        .collect();
    spans.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (s, e) in spans {
        match merged.last_mut() {
            Some(last) if text[last.1..s].bytes().all(|c| c == b' ' || c == b'\t') => last.1 = e,
            _ => merged.push((s, e)),
        }
    }
    let blank = |c: u8| c == b' ' || c == b'\t';
    let b = text.as_bytes();
    merged
        .into_iter()
        .map(|(s, e)| {
            let line_start = text[..s].rfind('\n').map_or(0, |i| i + 1);
            let eol = text[e..].find('\n').map_or(text.len(), |i| e + i);
            let mut after = e;
            while after < b.len() && blank(b[after]) {
                after += 1;
            }
            let prefix_blank = b[line_start..s].iter().all(|&c| blank(c));
            if !prefix_blank {
                let mut before = s;
                while before > line_start && blank(b[before - 1]) {
                    before -= 1;
                }
                return (before, e);
            }
            let rest = text[after..eol].trim_end_matches('\r');
            if rest == "\\" {
                // Only the continuation is left on the line: drop the line.
                return (line_start, (eol + 1).min(text.len()));
            }
            if rest.is_empty() {
                // Nothing is left, and the line before continued into it: end that line.
                let prev = text[..line_start].trim_end_matches(['\n', '\r']);
                if let Some(body) = prev.strip_suffix('\\') {
                    let cut = body.trim_end_matches([' ', '\t']).len();
                    return (cut, eol);
                }
            }
            (s, after)
        })
        .collect()
}

/// `text` without the byte ranges `spans` (an overlapping range is skipped).
pub(super) fn delete(text: &str, mut spans: Vec<(usize, usize)>) -> String {
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (s, e) in spans {
        if s < at {
            continue;
        }
        out.push_str(&text[at..s]);
        at = e;
    }
    out.push_str(&text[at..]);
    out
}
