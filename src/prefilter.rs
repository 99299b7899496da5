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

use aho_corasick::{AhoCorasick, Input, MatchKind};

use crate::catalogue::Catalogue;

/// Substrings that most needles contain and ordinary text rarely does: a needle that has
/// one is searched for by it, then checked in place.
const ANCHORS: [&str; 2] = ["beta", "alpha"];

/// An anchor and its needles, as (offset of the anchor in the needle, needle).
type Group = (Box<[u8]>, Vec<(usize, Box<[u8]>)>);

pub struct Prefilter {
    /// Every distinct anchor; a hit at offset `p` is checked against the needles of every
    /// anchor that starts at `p`.
    anchors: AhoCorasick,
    /// Per anchor (by pattern id): the anchor, and its needles as (offset of the anchor in
    /// the needle, needle).
    groups: Vec<Group>,
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
        // A kustomization's patch targets spell group and version apart; a file named
        // `kustomization.yaml` is always parsed, any other says what it is in its apiVersion.
        patterns.push("kustomize.config.k8s.io".to_string());
        // JSON may escape a slash.
        let escaped: Vec<String> = patterns
            .iter()
            .filter(|p| p.contains('/'))
            .map(|p| p.replace('/', "\\/"))
            .collect();
        patterns.extend(escaped);
        patterns.retain(|p| !p.is_empty());
        patterns.sort_unstable();
        patterns.dedup();
        patterns
    }

    pub fn from_needles(patterns: Vec<String>) -> Prefilter {
        // A needle that contains another needle adds nothing.
        let mut needles: Vec<&String> = patterns
            .iter()
            .filter(|p| !patterns.iter().any(|q| q != *p && p.contains(q.as_str())))
            .collect();
        needles.sort_unstable();
        let mut groups: Vec<Group> = Vec::new();
        for p in needles {
            let (anchor, at) = anchor(p);
            let needle = (at, p.as_bytes().into());
            match groups.iter_mut().find(|(a, _)| **a == *anchor.as_bytes()) {
                Some((_, g)) => g.push(needle),
                None => groups.push((anchor.as_bytes().into(), vec![needle])),
            }
        }
        let anchors = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .build(groups.iter().map(|(a, _)| a))
            .expect("anchors are valid patterns");
        Prefilter {
            anchors,
            groups,
            patterns,
        }
    }

    /// The needles, for tools that want to search the same strings (the benchmark).
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// Whether `text` contains one of the needles.
    pub fn mentions_old_api(&self, text: &[u8]) -> bool {
        let mut input = Input::new(text);
        while let Some(m) = self.anchors.find(input.clone()) {
            let at = m.start();
            // Leftmost-first reports one anchor per offset: check every anchor there.
            for (anchor, needles) in &self.groups {
                if text[at..].starts_with(anchor)
                    && needles
                        .iter()
                        .any(|(k, n)| at >= *k && text[at - k..].starts_with(n))
                {
                    return true;
                }
            }
            // Anchors can overlap (`alphalpha`): go on from the next byte.
            input.set_start(at + 1);
        }
        false
    }

    pub fn may_need_work(&self, text: &[u8]) -> bool {
        self.mentions_old_api(text) || has_quoted_escape(text)
    }
}

/// The part of a needle searched for: `beta` or `alpha` if it has one, else what follows
/// its last `/` (so `kubernetes.io/rbd` and `kubernetes.io\/rbd` share one), else all of it.
fn anchor(needle: &str) -> (&str, usize) {
    if let Some((a, at)) = ANCHORS.iter().find_map(|a| needle.find(a).map(|i| (*a, i))) {
        return (a, at);
    }
    match needle.rfind('/') {
        Some(i) if needle.len() - i > 3 => (&needle[i + 1..], i + 1),
        _ => (needle, 0),
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

    /// The plain automaton over every needle: what the anchored search must agree with.
    fn automaton(patterns: &[String]) -> AhoCorasick {
        AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .build(patterns)
            .expect("needles are valid patterns")
    }

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
        assert!(!pf.mentions_old_api(b"apiVersion: v1\nkind: Service\n"));
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

    #[test]
    fn anchored_search_finds_every_needle_anywhere() {
        let pf = pf();
        let all = automaton(pf.patterns());
        for n in pf.patterns() {
            for (before, after) in [
                ("", ""),
                ("x", "y"),
                ("alphalph", "beta"),
                ("betbeta", "\n"),
            ] {
                let text = format!("{before}{n}{after}");
                assert!(pf.mentions_old_api(text.as_bytes()), "{text}");
                assert!(all.is_match(text.as_bytes()), "{text}");
            }
            // One byte short of the needle is not a match.
            let short = &n[..n.len() - 1];
            if !pf.patterns().iter().any(|p| short.contains(p.as_str())) {
                assert!(!pf.mentions_old_api(short.as_bytes()), "{short}");
            }
        }
        // A self-overlapping anchor: the second `alpha` of `alphalpha` starts a needle.
        let one = Prefilter::from_needles(vec!["xalphalpha1".into()]);
        assert!(one.mentions_old_api(b"--xalphalpha1--"));
        assert!(!one.mentions_old_api(b"--xalphalpha2--"));
    }
}
