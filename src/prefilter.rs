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
use crate::catalogue::needle::found_at;
pub use crate::catalogue::needle::{CompiledNeedle, is_word};

/// Substrings that most needles contain and ordinary text rarely does: a needle that has
/// one is searched for by it, then checked in place.
const ANCHORS: [&str; 2] = ["beta", "alpha"];

/// One needle, checked in place at an anchor hit.
#[derive(Debug)]
struct Needle {
    /// Offset of the anchor in the needle.
    at: usize,
    text: Box<[u8]>,
    /// A word (letters and digits only) matches only where no letter or digit touches it.
    word: bool,
}

/// An anchor and its needles.
type Group = (Box<[u8]>, Vec<Needle>);

pub struct Prefilter {
    /// Every distinct anchor; a hit at offset `p` is checked against the needles of every
    /// anchor that starts at `p`.
    anchors: AhoCorasick,
    /// Per anchor (by pattern id): the anchor and its needles.
    groups: Vec<Group>,
    patterns: Vec<String>,
}

/// Whether `text` contains `needle`, as a whole word if the needle is a word ([`is_word`]):
/// the test the prefilter makes for each of its needles.
pub fn contains_needle(text: &[u8], needle: &str) -> bool {
    CompiledNeedle::new(needle).found_in(text)
}

/// Whether a match of needle `q` inside every match of needle `p` makes `p` redundant: `q`
/// is in `p`, and where it is a word, at a place in `p` whose neighbours are not letters or
/// digits (so they are the same wherever `p` is).
///
/// Every pair of the ~200 needles is asked at start-up, so the search is a plain byte scan:
/// `str::contains` sets up a two-way searcher per call, which cost more than the rest of
/// building the prefilter.
fn implied_by(p: &str, q: &str) -> bool {
    let (b, n) = (p.as_bytes(), q.as_bytes());
    // Equal, or too long to be inside: no proper part. (An empty `q` never reaches here:
    // needles are not empty, and it would be in every `p`.)
    if n.len() >= b.len() || n.is_empty() {
        return n.is_empty() && p != q;
    }
    let word = is_word(q);
    // Each place `q` starts in `p`. A whole word's matches cannot overlap usefully: inside
    // an earlier match (letters and digits), the byte before a later one is a letter or
    // digit, so every place may be tried, overlapping or not.
    (0..=b.len() - n.len())
        .filter(|&i| b[i] == n[0] && &b[i..i + n.len()] == n)
        .any(|i| {
            !word
                || (i > 0
                    && !b[i - 1].is_ascii_alphanumeric()
                    && b.get(i + n.len())
                        .is_some_and(|c| !c.is_ascii_alphanumeric()))
        })
}

impl Prefilter {
    pub fn new(cat: &Catalogue) -> Prefilter {
        Prefilter::from_needles(Prefilter::needles(cat))
    }

    /// The strings whose presence makes a file worth parsing. Those made of letters and
    /// digits only count as whole words ([`is_word`]).
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
            .filter(|p| !patterns.iter().any(|q| implied_by(p, q)))
            .collect();
        needles.sort_unstable();
        let mut groups: Vec<Group> = Vec::new();
        for p in needles {
            let (anchor, at) = anchor(p);
            let needle = Needle {
                at,
                text: p.as_bytes().into(),
                word: is_word(p),
            };
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

    /// Whether `text` contains one of the needles: an old API, a kind, or a field some
    /// migration looks for.
    pub fn contains_any_needle(&self, text: &[u8]) -> bool {
        let mut input = Input::new(text);
        while let Some(m) = self.anchors.find(input.clone()) {
            let at = m.start();
            // Leftmost-first reports one anchor per offset: check every anchor there.
            for (anchor, needles) in &self.groups {
                if text[at..].starts_with(anchor)
                    && needles
                        .iter()
                        .any(|n| at >= n.at && found_at(text, at - n.at, &n.text, n.word))
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
        self.contains_any_needle(text) || has_quoted_escape(text)
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

/// The keys and scalar values of one object: what a field migration's rules can read. A
/// field migration acts on an object only if one of its `mentions` is among them (the
/// catalogue's contract, which the prefilter relies on too), so the planner skips the others
/// without copying the document for them.
///
/// Where it can, the text is the object's source, not a copy of each key and value: a needle
/// without white space, quotes or backslashes ([`CompiledNeedle::is_verbatim`]) is in a key
/// or value only where it is in the text that wrote it, but for an escape of a
/// double-quoted scalar (`\x65`, `\/`, or `\b` that ends a word). So the source says all that
/// the keys and values say (and more: comments and indentation, which only ever cost a
/// search), once the values of double-quoted scalars written with a backslash are copied out
/// beside it, and so are those that a migration changed or added in the working copy.
#[derive(Debug)]
pub struct ObjectText<'a> {
    /// The object as written; empty when it may hold an alias (a `*` in a document with a
    /// `&`).
    source: &'a str,
    /// Keys and values, one a line: every one when `source` is not used, else the values of
    /// escaped double-quoted scalars (the first `escaped` bytes), then those of the working
    /// copy that `source` may not hold (changed or new ones).
    text: String,
    escaped: usize,
    /// `text` holds every key and value (no `source`).
    exact: bool,
    /// An alias stands for a node elsewhere in the document: nothing can be ruled out.
    aliased: bool,
    /// The pairs of bytes of `source` and `text`, on first use: most needles are ruled out by
    /// them.
    pairs: std::cell::OnceCell<crate::catalogue::needle::Pairs>,
}

impl Default for ObjectText<'_> {
    fn default() -> Self {
        // Room for a typical object's keys and values: growing the text from nothing cost
        // as much as filling it (a reallocation and copy at every doubling).
        ObjectText {
            source: "",
            text: String::with_capacity(4096),
            escaped: 0,
            exact: true,
            aliased: false,
            pairs: std::cell::OnceCell::new(),
        }
    }
}

impl<'a> ObjectText<'a> {
    pub fn of_node(node: &crate::yaml::Node) -> ObjectText<'a> {
        let mut t = ObjectText::default();
        t.add_node(node);
        t
    }

    pub fn of_mnode(node: &crate::plan::mtree::MNode) -> ObjectText<'a> {
        let mut t = ObjectText::default();
        t.add_mnode(node);
        t
    }

    /// What the object `orig` of a document parsed from `src` says, or its working copy
    /// `work` (made from the document by `MNode::from_node`, then migrated) where there is
    /// one: from the source where that can be, else copied out. `anchors`: whether the
    /// document's text has a `&` (without one, it has no anchor and so no alias), asked only
    /// of an object with a `*`.
    pub fn of_object(
        src: &'a str,
        orig: &crate::yaml::Node,
        work: Option<&crate::plan::mtree::MNode>,
        anchors: impl FnOnce() -> bool,
    ) -> ObjectText<'a> {
        let source = src
            .get(orig.span.clone())
            .filter(|s| memchr::memchr(b'*', s.as_bytes()).is_none() || !anchors());
        match (source, work) {
            (Some(source), work) => {
                let mut t = ObjectText {
                    source,
                    text: String::new(),
                    exact: false,
                    ..ObjectText::default()
                };
                if memchr::memchr(b'\\', source.as_bytes()).is_some() {
                    t.add_escaped(src, orig);
                }
                t.escaped = t.text.len();
                if let Some(work) = work {
                    t.add_changed(work, &subtree_ids(orig));
                }
                t
            }
            (None, Some(work)) => ObjectText::of_mnode(work),
            (None, None) => ObjectText::of_node(orig),
        }
    }

    /// After the working copy `work` of the object `orig` changed: what it says now. The
    /// source stays; its pairs are not worked out again (the old text's stay marked too,
    /// which only ever costs a search).
    pub fn update(&mut self, orig: &crate::yaml::Node, work: &crate::plan::mtree::MNode) {
        self.text.truncate(self.escaped);
        self.aliased = false;
        if self.exact {
            self.add_mnode(work);
        } else {
            self.add_changed(work, &subtree_ids(orig));
        }
        if let Some(pairs) = self.pairs.get_mut() {
            pairs.add(&self.text.as_bytes()[self.escaped..]);
        }
    }

    /// The values of the double-quoted scalars under `node` written with a backslash: what
    /// an escape may make of them is not in the source.
    fn add_escaped(&mut self, src: &str, node: &crate::yaml::Node) {
        use crate::yaml::{NodeKind, Style};
        match &node.kind {
            NodeKind::Scalar {
                value,
                style: Style::Double,
            } => {
                if src
                    .get(node.span.clone())
                    .is_none_or(|s| s.as_bytes().contains(&b'\\'))
                {
                    self.add(value);
                }
            }
            NodeKind::Map { entries, .. } => entries.iter().for_each(|(k, v)| {
                self.add_escaped(src, k);
                self.add_escaped(src, v);
            }),
            NodeKind::Seq { items, .. } => items.iter().for_each(|i| self.add_escaped(src, i)),
            NodeKind::Scalar { .. } | NodeKind::Alias(_) => {}
        }
    }

    fn add_node(&mut self, node: &crate::yaml::Node) {
        use crate::yaml::NodeKind;
        match &node.kind {
            NodeKind::Scalar { value, .. } => self.add(value),
            NodeKind::Map { entries, .. } => entries.iter().for_each(|(k, v)| {
                self.add_node(k);
                self.add_node(v);
            }),
            NodeKind::Seq { items, .. } => items.iter().for_each(|i| self.add_node(i)),
            NodeKind::Alias(_) => self.aliased = true,
        }
    }

    fn add_mnode(&mut self, node: &crate::plan::mtree::MNode) {
        use crate::plan::mtree::MKind;
        match &node.kind {
            MKind::Scalar { value, .. } => self.add(value),
            MKind::Map { entries, .. } => entries.iter().for_each(|(k, v)| {
                self.add_mnode(k);
                self.add_mnode(v);
            }),
            MKind::Seq { items, .. } => items.iter().for_each(|i| self.add_mnode(i)),
            MKind::Alias(_) => self.aliased = true,
        }
    }

    /// The keys and values of `node` that the object's source may not hold: all but those
    /// of untouched subtrees copied from a node of the object (ids `ids`). An untouched node
    /// (not `dirty`) is as its original node, which the emitter relies on too.
    fn add_changed(&mut self, node: &crate::plan::mtree::MNode, ids: &std::ops::Range<usize>) {
        use crate::plan::mtree::MKind;
        if !node.dirty && node.orig.is_some_and(|id| ids.contains(&id)) {
            return;
        }
        match &node.kind {
            MKind::Scalar { value, .. } => self.add(value),
            MKind::Map { entries, .. } => entries.iter().for_each(|(k, v)| {
                self.add_changed(k, ids);
                self.add_changed(v, ids);
            }),
            MKind::Seq { items, .. } => items.iter().for_each(|i| self.add_changed(i, ids)),
            MKind::Alias(_) => self.aliased = true,
        }
    }

    fn add(&mut self, s: &str) {
        self.text.push_str(s);
        self.text.push('\n');
    }

    /// Whether the object may hold one of `mentions` (as [`contains_needle`] finds them).
    pub fn mentions(&self, mentions: &[CompiledNeedle]) -> bool {
        if self.aliased {
            return true;
        }
        let (source, text) = (self.source.as_bytes(), self.text.as_bytes());
        let pairs = self.pairs.get_or_init(|| {
            let mut pairs = crate::catalogue::needle::Pairs::of(source);
            pairs.add(text);
            pairs
        });
        mentions.iter().any(|m| {
            // A needle the source may spell otherwise cannot be ruled out by it.
            (!self.exact && !m.is_verbatim())
                || m.may_be_in(pairs) && (m.found_in(source) || m.found_in(text))
        })
    }
}

/// The ids of `node` and the nodes under it, as a half-open range.
fn subtree_ids(node: &crate::yaml::Node) -> std::ops::Range<usize> {
    let ids = node.subtree_ids();
    *ids.start()..*ids.end() + 1
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

    /// Every manifest of testdata (the public corpus included) and the catalogue's examples.
    pub(super) fn manifest_texts(cat: &Catalogue) -> Vec<String> {
        let mut texts: Vec<String> = crate::testdata_files()
            .into_iter()
            .filter(|(p, _)| crate::walk::is_manifest_name(p))
            .filter_map(|(_, bytes)| String::from_utf8(bytes).ok())
            .collect();
        texts.extend(cat.fields.iter().filter_map(|f| f.meta.example.clone()));
        texts
    }

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
        assert!(!pf.contains_any_needle(b"apiVersion: v1\nkind: Service\n"));
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

    /// The reference: each needle looked for on its own with `memmem`.
    fn reference(patterns: &[String], text: &[u8]) -> bool {
        patterns.iter().any(|p| contains_needle(text, p))
    }

    #[test]
    fn anchored_search_agrees_with_searching_each_needle() {
        let pf = pf();
        let all = automaton(pf.patterns());
        let contexts = [
            ("", ""),
            ("x", "y"),
            ("-", ":"),
            ("\"", "\""),
            ("{", ", "),
            ("alphalph", "beta"),
            ("betbeta", "\n"),
            ("a1", ""),
            ("", "Name"),
            ("_", "_"),
        ];
        let mut texts = Vec::new();
        for n in pf.patterns() {
            for (before, after) in contexts {
                texts.push(format!("{before}{n}{after}"));
            }
            texts.push(n[..n.len() - 1].to_string());
            texts.push(n[1..].to_string());
            // Two needles run together, and a needle repeated where the first copy fails.
            for m in pf.patterns().iter().step_by(7) {
                texts.push(format!("{n}{m}"));
                texts.push(format!("x{n} {m}y"));
            }
        }
        let mut found = 0;
        for text in &texts {
            let want = reference(pf.patterns(), text.as_bytes());
            assert_eq!(pf.contains_any_needle(text.as_bytes()), want, "{text:?}");
            found += usize::from(want);
            // Where no needle is a word, the plain automaton agrees too.
            if !want {
                assert!(
                    !all.is_match(text.as_bytes())
                        || pf
                            .patterns()
                            .iter()
                            .any(|p| is_word(p) && text.contains(p.as_str())),
                    "{text:?}"
                );
            }
        }
        assert!(found > texts.len() / 2, "most texts hold a needle");
        // Every needle is found where it stands between non-word characters.
        for n in pf.patterns() {
            for (before, after) in [("", ""), ("-", ":"), ("\"", "\""), ("betbeta/", "\n")] {
                let text = format!("{before}{n}{after}");
                assert!(pf.contains_any_needle(text.as_bytes()), "{text}");
            }
        }
        // A self-overlapping anchor: the second `alpha` of `alphalpha` starts a needle.
        let one = Prefilter::from_needles(vec!["xalphalpha1".into()]);
        assert!(one.contains_any_needle(b"--xalphalpha1--"));
        assert!(!one.contains_any_needle(b"--xalphalpha2--"));
    }

    #[test]
    fn words_match_only_whole() {
        let pf = pf();
        for yes in [
            &b"spec:\n  serviceAccount: builder\n"[..],
            b"{\"spec\": {\"serviceAccount\": \"builder\"}}",
            b"spec: {serviceAccount: builder}",
            b"spec:\n  'serviceAccount': builder\n",
            b"spec:\n  ? serviceAccount\n  : builder\n",
            b"spec:\n  ipFamily: IPv4\n",
            b"  persistentVolumeReclaimPolicy: Recycle\r\n",
            b"    lifecycle:\n      preStop:\n        tcpSocket: {port: 80}\n",
            b"volumes:\n- name: v\n  rbd: {image: i}\n",
            b"provisioner: kubernetes.io/rbd\n",
            b"provisioner: \"kubernetes.io\\/rbd\"\n",
        ] {
            assert!(pf.may_need_work(yes), "{}", String::from_utf8_lossy(yes));
        }
        for no in [
            &b"spec:\n  serviceAccountName: builder\n"[..],
            b"spec:\n  automountServiceAccountToken: false\n",
            b"spec:\n  ipFamilyPolicy: SingleStack\n  ipFamilies: [IPv4]\n",
            b"    readinessProbe:\n      tcpSocket: {port: 80}\n",
            b"data:\n  blob: aGVsbG8gcmJkY2luZGVy\n",
            b"persistentVolumeReclaimPolicy: Recycled\n",
        ] {
            assert!(!pf.may_need_work(no), "{}", String::from_utf8_lossy(no));
        }
    }

    #[test]
    fn a_needle_is_dropped_only_when_another_one_implies_it() {
        // A substring needle implies any needle that contains it.
        assert!(implied_by("kubernetes.io/rbd-x", "kubernetes.io/rbd"));
        // A word implies a needle only where the word stands whole inside it.
        assert!(implied_by("a.rbd.b", "rbd"));
        assert!(!implied_by("kubernetes.io/rbd", "rbd"));
        assert!(!implied_by("xrbd.b", "rbd"));
        assert!(!implied_by("rbd", "rbd"));
        let pf = Prefilter::from_needles(vec!["rbd".into(), "kubernetes.io/rbd".into()]);
        assert!(pf.contains_any_needle(b"kubernetes.io/rbdx"));
        assert!(!pf.contains_any_needle(b"rbdx"));
    }

    /// `implied_by` as it was written first, with the standard library's searches.
    fn implied_by_std(p: &str, q: &str) -> bool {
        if p == q {
            return false;
        }
        if !is_word(q) {
            return p.contains(q);
        }
        let b = p.as_bytes();
        p.match_indices(q).any(|(i, _)| {
            i > 0
                && !b[i - 1].is_ascii_alphanumeric()
                && b.get(i + q.len())
                    .is_some_and(|c| !c.is_ascii_alphanumeric())
        })
    }

    #[test]
    fn implied_by_agrees_with_the_standard_searches() {
        let cat = Catalogue::embedded().unwrap();
        let needles = Prefilter::needles(&cat);
        for p in &needles {
            for q in &needles {
                assert_eq!(implied_by(p, q), implied_by_std(p, q), "{p:?} {q:?}");
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn implied_by_agrees_on_short_texts(p in "[ab./é]{0,8}", q in "[ab./é]{0,4}") {
            proptest::prop_assert_eq!(implied_by(&p, &q), implied_by_std(&p, &q));
        }
    }

    /// The catalogue's contract that the prefilter and the planner rely on: a field migration
    /// reports, changes or fails on an object only if one of its `mentions` is among the
    /// object's keys and values ([`ObjectText`]), and so in the file's text (unless spelled
    /// with an escape, which `has_quoted_escape` catches). Checked for every field migration
    /// on every object of the test data, the catalogue's examples, and the public corpus
    /// when it is there; each migration runs on each object, whatever it applies to.
    #[test]
    fn field_migrations_act_only_on_objects_that_mention_them() {
        use crate::plan::mtree::MNode;
        use crate::plan::rules;
        use crate::yaml::path::{Path, Seg};
        let cat = Catalogue::embedded().unwrap();
        // The public corpus included.
        let texts = manifest_texts(&cat);
        let ctxs = [
            rules::Ctx {
                min: Some(cat.newest.minus(3)),
                target: Some(cat.newest),
                options: &[],
            },
            rules::Ctx {
                min: Some(cat.newest),
                target: Some(cat.newest),
                options: &[],
            },
        ];
        let (mut acted, mut objects) = (0, 0);
        for text in &texts {
            let Ok(docs) = crate::yaml::parse_stream(text) else {
                continue;
            };
            for doc in &docs {
                let tree = MNode::from_node(&doc.root);
                let mut bases = vec![Path::default()];
                if let Some(crate::yaml::Node {
                    kind: crate::yaml::NodeKind::Seq { items, .. },
                    ..
                }) = doc.root.get("items")
                {
                    bases.extend(
                        (0..items.len())
                            .map(|i| Path(vec![Seg::Key("items".into()), Seg::Index(i)])),
                    );
                }
                for base in &bases {
                    let Some(object) = tree.get(&base.0) else {
                        continue;
                    };
                    objects += 1;
                    let said = ObjectText::of_mnode(object);
                    for field in &cat.fields {
                        for ctx in &ctxs {
                            let mut trial = tree.clone();
                            let mut hits = Vec::new();
                            let result =
                                rules::apply_in(&mut trial, base, &field.rules, &mut hits, ctx);
                            if hits.is_empty() && matches!(result, Ok(false)) {
                                continue;
                            }
                            acted += 1;
                            assert!(
                                said.mentions(&field.mentions),
                                "{} acts on an object that mentions none of {:?}:\n{text}",
                                field.meta.id,
                                field.meta.mentions
                            );
                        }
                    }
                }
            }
        }
        assert!(
            acted > 50 && objects > 500,
            "{acted} actions on {objects} objects"
        );
    }
}

#[cfg(test)]
mod object_text_tests {
    use super::*;
    use crate::plan::mtree::MNode;
    use crate::plan::rules;
    use crate::yaml::path::{Path, Seg};

    /// Every needle that the exact text of an object (each key and value copied out) holds,
    /// the text read from the source holds too, before and after field migrations change
    /// the working copy (made afresh, and brought up to date): over every object of the test
    /// data and the catalogue's examples, with every needle of the catalogue and some that
    /// escapes, folding, quotes and aliases spell otherwise.
    #[test]
    fn object_text_from_source_holds_what_the_exact_text_holds() {
        let cat = Catalogue::embedded().unwrap();
        let mut needles: Vec<String> = cat
            .fields
            .iter()
            .flat_map(|f| f.meta.mentions.iter().cloned())
            .collect();
        needles.extend(
            [
                "rbd",
                "a b",
                "it's",
                "x\"y",
                "\u{8}rbd",
                "kubernetes.io/rbd",
                "bc",
                "ab",
            ]
            .map(String::from),
        );
        let needles: Vec<CompiledNeedle> = needles.iter().map(|n| CompiledNeedle::new(n)).collect();
        let mut texts = super::tests::manifest_texts(&cat);
        texts.extend(
            [
                "a: \"\\x72bd\"\nb: \"kubernetes.io\\/rbd\"\nc: \"\\brbd\"\n",
                "a: \"x\\\"y\"\nb: 'it''s'\nc: a\n  b\nd: >\n  a\n  b\n",
                "a: &x {rbd: 1}\nb: *x\n",
                "kind: List\nitems:\n- a: &x rbd\n- b: *x\n- c: \"*\"\n",
                "a: \"* * *\"\nb: [ab, bc]\n",
            ]
            .map(String::from),
        );
        let ctx = rules::Ctx {
            min: Some(cat.newest.minus(3)),
            target: Some(cat.newest),
            options: &[],
        };
        let (mut checked, mut changed) = (0, 0);
        let agree = |exact: &ObjectText, from_source: &ObjectText, what: &str| {
            for n in &needles {
                let one = std::slice::from_ref(n);
                if exact.mentions(one) {
                    assert!(from_source.mentions(one), "{what}: {n:?}");
                }
            }
        };
        for text in &texts {
            let Ok(docs) = crate::yaml::parse_stream(text) else {
                continue;
            };
            for doc in &docs {
                let root = &doc.root;
                let anchors = || text.contains('&');
                let tree = MNode::from_node(root);
                let mut bases = vec![Path::default()];
                if let Some(crate::yaml::Node {
                    kind: crate::yaml::NodeKind::Seq { items, .. },
                    ..
                }) = root.get("items")
                {
                    bases.extend(
                        (0..items.len())
                            .map(|i| Path(vec![Seg::Key("items".into()), Seg::Index(i)])),
                    );
                }
                for base in &bases {
                    let (Some(orig), Some(object)) = (node_at(root, base), tree.get(&base.0))
                    else {
                        continue;
                    };
                    checked += 1;
                    let said = ObjectText::of_object(text, orig, None, anchors);
                    agree(&ObjectText::of_node(orig), &said, text);
                    agree(&ObjectText::of_mnode(object), &said, text);
                    // Mark the pairs, so that `update` adds to them.
                    said.mentions(&needles[..1]);
                    for field in &cat.fields {
                        let mut trial = tree.clone();
                        let mut hits = Vec::new();
                        if !matches!(
                            rules::apply_in(&mut trial, base, &field.rules, &mut hits, &ctx),
                            Ok(true)
                        ) {
                            continue;
                        }
                        let Some(migrated) = trial.get(&base.0) else {
                            continue;
                        };
                        changed += 1;
                        let exact = ObjectText::of_mnode(migrated);
                        let what = format!("{} on {text}", field.meta.id);
                        agree(
                            &exact,
                            &ObjectText::of_object(text, orig, Some(migrated), anchors),
                            &what,
                        );
                        let mut updated = ObjectText::of_object(text, orig, None, anchors);
                        updated.mentions(&needles[..1]);
                        updated.update(orig, migrated);
                        agree(&exact, &updated, &what);
                    }
                }
            }
        }
        assert!(
            checked > 500 && changed > 50,
            "{checked} objects, {changed} changed"
        );
    }

    fn node_at<'a>(root: &'a crate::yaml::Node, path: &Path) -> Option<&'a crate::yaml::Node> {
        let mut node = root;
        for seg in &path.0 {
            node = match (seg, &node.kind) {
                (Seg::Key(k), _) => node.get(k)?,
                (Seg::Index(i), crate::yaml::NodeKind::Seq { items, .. }) => items.get(*i)?,
                _ => return None,
            };
        }
        Some(node)
    }
}
