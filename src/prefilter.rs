//! A cheap test, before parsing, for whether a file can need any work.
//!
//! An object is reported only when its `apiVersion` value (with its `kind`) is one the
//! catalogue deprecates or removes, so a file can need work only if its text contains such a
//! value. The test is complete, never a guess:
//!
//! - every old `group/version` is a needle, and so is its JSON spelling with an escaped slash
//!   (`extensions\/v1beta1`);
//! - old core-group versions (`v1` Endpoints, ComponentStatus) are found by their kind's name,
//!   since `v1` is in nearly every manifest;
//! - any other way to spell those characters is a double-quoted escape (`\x65`, `\u0065`,
//!   `\U…`, or a `\` that joins two lines), so a file with such an escape on a line that has a
//!   `"` before it is parsed too. (An unescaped line break inside a quoted value turns into a
//!   space, so a value that spans lines has an escaped break on the line of its opening quote.)
//!
//! What the prefilter can hide is only an error that parsing alone would find: a YAML syntax
//! error, or a duplicate `apiVersion`/`kind` key, in a file that mentions no old API.
//! Decoding (UTF-8, no NUL) happens before the prefilter, so it is checked on every file.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use crate::catalogue::Catalogue;

pub struct Prefilter {
    needles: AhoCorasick,
    patterns: Vec<String>,
}

impl Prefilter {
    pub fn new(cat: &Catalogue) -> Prefilter {
        Prefilter::from_needles(Prefilter::needles(cat))
    }

    /// The strings whose presence makes a file worth parsing.
    pub fn needles(cat: &Catalogue) -> Vec<String> {
        let mut patterns: Vec<String> = Vec::new();
        for v in cat
            .versions
            .iter()
            .filter(|v| v.removed.is_some() || v.deprecated.is_some())
        {
            if v.api.contains('/') {
                patterns.push(v.api.clone());
                patterns.push(v.api.replace('/', "\\/"));
            } else {
                // The core group: `v1` alone would match every file; the kind cannot be
                // spelled without its name either.
                patterns.extend(v.kinds.iter().cloned());
            }
        }
        // Deprecated fields inside served APIs: the words their rules look for.
        patterns.extend(
            cat.fields
                .iter()
                .flat_map(|f| f.meta.mentions.iter().cloned()),
        );
        patterns.sort_unstable();
        patterns.dedup();
        patterns
    }

    fn from_needles(patterns: Vec<String>) -> Prefilter {
        let needles = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&patterns)
            .expect("catalogue apiVersions are valid patterns");
        Prefilter { needles, patterns }
    }

    /// The needles, for tools that want to search the same strings (the benchmark).
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    pub fn may_need_work(&self, text: &[u8]) -> bool {
        self.needles.is_match(text) || has_quoted_escape(text)
    }
}

/// Whether `text` has a double-quoted escape that can stand for a letter, digit, `.` or `/`
/// (`\x`, `\u`, `\U`) or join two lines (`\` before a line break), on a line with a `"`
/// before it.
fn has_quoted_escape(text: &[u8]) -> bool {
    for i in memchr::memchr_iter(b'\\', text) {
        let Some(&next) = text.get(i + 1) else {
            continue;
        };
        if !matches!(next, b'x' | b'u' | b'U' | b'\n' | b'\r') {
            continue;
        }
        let start = memchr::memrchr(b'\n', &text[..i]).map_or(0, |n| n + 1);
        if memchr::memchr(b'"', &text[start..i]).is_some() {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pf() -> Prefilter {
        Prefilter::new(&Catalogue::embedded().unwrap())
    }

    #[test]
    fn finds_plain_and_json_escaped_spellings() {
        let pf = pf();
        assert!(pf.may_need_work(b"apiVersion: autoscaling/v2beta2\n"));
        assert!(pf.may_need_work(br#"{"apiVersion": "autoscaling\/v2beta1"}"#));
        assert!(!pf.may_need_work(b"apiVersion: autoscaling/v2\n"));
    }

    #[test]
    fn core_group_is_found_by_kind_not_by_v1() {
        let pf = pf();
        assert!(!pf.needles.is_match(b"apiVersion: v1\nkind: Service\n"));
        assert!(pf.may_need_work(b"apiVersion: v1\nkind: Endpoints\n"));
        assert!(pf.may_need_work(b"{\"apiVersion\":\"v1\",\"kind\":\"ComponentStatus\"}"));
        assert!(pf.patterns().iter().all(|p| p != "v1"));
    }

    #[test]
    fn quoted_escapes_that_can_hide_a_needle_are_parsed() {
        let pf = pf();
        for text in [
            &b"apiVersion: \"\\x65xtensions/v1beta1\"\n"[..],
            b"{\"apiVersion\": \"\\u0065xtensions/v1beta1\"}",
            b"apiVersion: \"extensions/v1\\\n  beta1\"\n",
            b"apiVersion: \"extensions/v1\\\r\n  beta1\"\r\n",
            b"kind: \"Endpoint\\x73\"\n",
        ] {
            assert!(pf.may_need_work(text), "{}", String::from_utf8_lossy(text));
        }
        // Backslashes in block scalars, plain scalars and comments are not escapes.
        for text in [
            &b"data:\n  run.sh: |\n    echo a \\\n      b\n"[..],
            b"a: \\d+\\x\n",
            b"a: \"\\d\"\n",
            b"# see C:\\users\n",
        ] {
            assert!(!pf.may_need_work(text), "{}", String::from_utf8_lossy(text));
        }
    }
}
