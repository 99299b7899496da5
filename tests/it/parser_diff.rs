//! The fast YAML path (`kubemig::yaml::fast`) against granit: whenever the fast path
//! accepts a text, `parse_stream` must return exactly what granit's path returns (documents
//! with every span, id, value, style, props and tag, or the same error).
//!
//! - Files: the real corpus `testdata/corpus` (the fast
//!   path must accept at least 95 % of its files and bytes, so that a fast path that bails
//!   on everything fails here), every .yaml/.yml/.json file under `testdata/` (some broken
//!   or hostile on purpose) and `fuzz/regressions/`. `PARSER_DIFF_DIRS` (paths separated by
//!   `:`) adds directories for local runs: the generated benchmark corpora under
//!   `target/bench/`, libFuzzer's corpus `fuzz/corpus/process` (any file, any name).
//! - Hand-written snippets around every rule of the subset, with what must be accepted and
//!   what must be declined.
//! - A property: YAML-ish text built from manifest-like fragments (indentation steps,
//!   indentless and compact sequences, comments everywhere, quoting and escapes, empty
//!   values, block scalars with indicators and blank lines, multi-line plain scalars, flow
//!   collections, `---`/`...`, CRLF, a BOM, trailing spaces, no final newline), then
//!   mutated a few bytes at a time; the two parsers must agree wherever the fast path
//!   accepts. `PROPTEST_CASES` sets the number of cases.

use std::fs;
use std::path::{Path, PathBuf};

use kubemig::yaml::{Parser, parse_stream_with};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};

/// What the fast path did with one text: `Ok(true)` if it accepted and agrees with
/// granit, `Ok(false)` if it declined, `Err` (saying how) if it accepted and differs.
fn compare(src: &str) -> Result<bool, String> {
    let Some(fast) = parse_stream_with(src, Parser::Fast) else {
        return Ok(false);
    };
    let granit = parse_stream_with(src, Parser::Granit).expect("granit always answers");
    if fast == granit {
        Ok(true)
    } else {
        Err(format!(
            "the fast path and granit differ on {src:?}\nfast:   {fast:?}\ngranit: {granit:?}"
        ))
    }
}

fn check(name: &str, src: &str) -> bool {
    compare(src).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn files_under(dir: &Path, all: bool, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, all, out);
        } else if all
            || matches!(
                p.extension().and_then(|x| x.to_str()),
                Some("yaml" | "yml" | "json")
            )
        {
            out.push(p);
        }
    }
}

#[derive(Default, Debug)]
struct Tally {
    files: usize,
    accepted: usize,
    bytes: usize,
    accepted_bytes: usize,
}

/// Both parsers over every file under `dir`; returns how many files and bytes the fast
/// path accepted.
fn run_dir(dir: &Path, all: bool) -> Tally {
    let mut paths = Vec::new();
    files_under(dir, all, &mut paths);
    paths.sort();
    let mut t = Tally::default();
    for p in paths {
        let Ok(bytes) = fs::read(&p) else { continue };
        // The `process` fuzz target reads its first byte as options, the rest as the text.
        let text = match (all, bytes.split_first()) {
            (true, Some((_, rest))) => rest,
            _ => &bytes[..],
        };
        let src = String::from_utf8_lossy(text);
        t.files += 1;
        t.bytes += src.len();
        if check(&p.display().to_string(), &src) {
            t.accepted += 1;
            t.accepted_bytes += src.len();
        }
    }
    println!(
        "{}: fast path accepted {}/{} files ({:.1} %), {:.1} % of {} bytes",
        dir.display(),
        t.accepted,
        t.files,
        100.0 * t.accepted as f64 / t.files.max(1) as f64,
        100.0 * t.accepted_bytes as f64 / t.bytes.max(1) as f64,
        t.bytes
    );
    t
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn real_corpus_mostly_takes_the_fast_path_and_agrees() {
    let t = run_dir(&root().join("testdata/corpus"), false);
    assert!(t.files > 100, "{t:?}");
    assert!(t.accepted * 100 >= t.files * 95, "{t:?}");
    assert!(t.accepted_bytes * 100 >= t.bytes * 75, "{t:?}");
}

#[test]
fn committed_test_files_agree() {
    let t = run_dir(&root().join("testdata"), false);
    assert!(t.files > 100 && t.accepted * 2 > t.files, "{t:?}");
    run_dir(&root().join("fuzz/regressions"), true);
}

/// Local only: `PARSER_DIFF_DIRS=target/bench/10k-all:fuzz/corpus/process`.
#[test]
fn extra_directories_agree() {
    let Some(dirs) = std::env::var_os("PARSER_DIFF_DIRS") else {
        return;
    };
    for d in std::env::split_paths(&dirs) {
        let d = if d.is_absolute() { d } else { root().join(d) };
        // libFuzzer's corpora name files by hash, without extension.
        let all = !d.join("..").join("..").join("Cargo.toml").exists()
            || d.components().any(|c| c.as_os_str() == "corpus");
        run_dir(&d, all);
    }
}

/// Snippets the fast path must accept (and agree on).
const ACCEPTED: &[&str] = &[
    "",
    "# only a comment\n",
    "a: 1\nb:\nc: x\n",
    "a:",
    "a :\n",
    "\"a\" :\n",
    "a: # c\nb: 1",
    "a:\n  # c\nb:",
    "a:\n\n\n",
    "a:   \n  \n",
    "- # c\n- x",
    "-   \n- x",
    "-\r\n- x",
    "-",
    "- x\n-",
    "k:\n-\n\n  # c\n\nz: 1",
    "k:\n- a\n- b: 1\n  c:\n-\n",
    "- a\n-\n- [a, \"b\"]\n- {a: 1, b: }\n",
    "- - a\n  - b\n- c: |\n    x\n",
    "-\n  - x\n",
    "a:\n-\n  - x\n",
    "a:\n  b:\n  - x\n",
    "---\n",
    "--- \n",
    "---    # c\n",
    "---\r\n...\r\n",
    "---\na: 1\n...\n",
    "a: 1\n---\nb: 2\n--- # c\n...\n# x\n---\n",
    "a: 1\n...\n---\n...\n",
    "x\n",
    "foo\nbar\n\nbaz\n",
    "\u{feff}a: 1\n",
    "\u{feff}# lead\r\n---\r\na: 1\r\n...\r\n---\r\nb: \"2\"\r\n",
    "a: |\n  x\n\n  y\n\nb: 1",
    "a: |-\n  x\n  # y\n\n# c\nb: 1",
    "a: >+\n  x\n   y\n  z\n\n\n",
    "a: |2\n    x\n  y\n",
    "a: |\n\nb: 1",
    "a: | # c\n  x\r\n  y\r\n",
    "a: >\n x\n\n y\n  z\n w\n",
    "- |\n  x\n- >-\n  y\n",
    "a: |\n  x",
    "a: |+\n  x\n  \n",
    "a: |\n\n  x\n",
    "a: |+\n  x\n\n \n   \n",
    "a: >\n  x\n\n\n  y\n   z\n\n  w\n",
    "a: >-\n\n  x\n",
    "a: |1\n   x\n",
    "a: |+\n  x\n\n",
    "a: |\n  x\n# c",
    "a: |",
    "a: 'it''s'\nb: \"\\u00e9\\x41\\t\\\"\\\\\\/\"\nc: ''\nd: \"\"\n",
    "a: foo\n  bar\n\n  baz # c\nb: 1\n",
    "a:\n  foo\n  bar\n",
    "- foo\n  bar\n",
    "a: -1\nb: a#b\nc: x:y\nd: http://x/y\ne: a, b]\n",
    "spec:\n  containers:\n  - name: x\n    image: \"nginx:1\"\n    args: [\"--a\", \"--b=c\"]\n",
    "{\"a\": 1, \"b\": [true, null, \"x\"], \"c\": {}}\n",
    "{\n  \"a\": {\n    \"b\": [\n      1,\n      2\n    ]\n  }\n}\n",
    "a: [\n  1, # one\n  2\n  ]\n",
    "a: {x: 1, y: [1, {z: 2}]}\n",
    "ü: 日本語 🚀\n'ä': \"ö\"\n",
    "a: b   \nc: 'd'   \n",
    "a: 'x\n  y'\n",
    "a: \"x\n\n  y \\\n  z\"\n",
    "m:\n  k: 'x\ny'\n",
    "a: b\n  {x\n  - y\n  \"z\n",
    "a: :5000\n",
    "--- {a: 1}\n--- [x]\n--- 'q'\n--- text\n...\n",
    "k: {repository: https://example.com/cfg, b: a:b}\n",
];

/// Snippets outside the subset: the fast path must decline them.
const DECLINED: &[&str] = &[
    "%YAML 1.2\n---\na: 1\n",
    "a: &x 1\nb: *x\n",
    "a: !!str 1\n",
    "? a\n: b\n",
    "a:\tb\n",
    "|\n x\n",
    "--- |\n  x\n",
    "--- a: 1\n",
    "--- - a\n",
    "a: [a, b,]\n",
    "a: [a: b]\n",
    "k: {c\n: d}\n",
    "k: {:}\n",
    "- [-]\n",
    "m:\n    n: |-2\n     # c\n    o: 1\n",
    "a: 'x\n---\n  y'\n",
    "a: b: c\n",
    "a: b\n c: d\n",
    "a:\n  b: 1\n c: 2\n",
    "a: 1\n  b: 2\n",
    "a\rb: 1\n",
    "a: \u{85}\n",
    "[a]: b\n",
    "a: |\n   \n  x\n",
    "a: \"\\q\"\n",
    "a: \"\\ud800\"\n",
    "...\n",
    // A last line of blanks without a line break after a block scalar.
    "a: |\n  x\n  ",
    "- |+\n  ",
];

#[test]
fn snippets_accepted_and_agreeing() {
    for src in ACCEPTED {
        assert!(check("snippet", src), "the fast path declined {src:?}");
    }
    // With CRLF and without the final line break, too: equal whenever accepted.
    for src in ACCEPTED {
        check("crlf", &src.replace('\n', "\r\n"));
        check("no final newline", src.trim_end_matches(['\n', '\r']));
    }
}

#[test]
fn snippets_declined() {
    for src in DECLINED {
        assert!(
            parse_stream_with(src, Parser::Fast).is_none(),
            "the fast path accepted {src:?}"
        );
    }
}

#[test]
fn deep_nesting_is_left_to_granit() {
    let deep = format!("{}1{}", "[".repeat(300), "]".repeat(300));
    assert!(parse_stream_with(&deep, Parser::Fast).is_none());
    let mut block = String::new();
    for i in 0..300 {
        block.push_str(&" ".repeat(i));
        block.push_str("a:\n");
    }
    assert!(parse_stream_with(&block, Parser::Fast).is_none());
    check("deep", &block[..block.len() / 4]);
}

// ---- the property ----

/// A node as generated; `render` decides how it is written.
#[derive(Clone, Debug)]
enum G {
    /// A scalar token that fits on one line (plain, quoted or flow).
    Token(&'static str),
    Empty,
    /// A plain scalar over several lines.
    Lines(Vec<&'static str>),
    /// A block scalar: header and content lines (relative indentation included).
    Block(&'static str, Vec<&'static str>),
    Map(Vec<(&'static str, G)>),
    Seq(Vec<G>),
}

const TOKENS: &[&str] = &[
    "x",
    "nginx:1.25",
    "-1",
    "true",
    "~",
    "null",
    "foo bar",
    "a#b",
    "http://x.y/z?q=1",
    "Grüße 日本語",
    "1.5",
    "a, b",
    "v]",
    "'it''s'",
    "''",
    "'a: b # c'",
    "\"\"",
    "\"a\\nb\\t\\\"c\\\\\"",
    "\"\\u00e9\\x41\\U0001F680\\/\\_\\N\"",
    "\"a # b\"",
    "[]",
    "{}",
    "[a, \"b\", 'c']",
    "{a: 1, b: [x, y], c: {d: e}}",
    "{\"k\": \"v\", \"n\": 1}",
    "{a: , b: 1}",
    "[ 1 ,2 ]",
];

const KEYS: &[&str] = &[
    "a",
    "name",
    "image",
    "app.kubernetes.io/name",
    "\"quoted\"",
    "'single'",
    "k y",
    "-dash",
    "ключ",
    "x:y",
];

const LINES: &[&str] = &["x", "two words", "é", "a#b", "1"];

const HEADERS: &[&str] = &[
    "|", ">", "|-", "|+", ">-", ">+", "|2", ">1", "|-2", "|2+", "| # c",
];

const BLOCK_LINES: &[&str] = &["x", "", "  more", "# not a comment", "last  ", "a: b", " "];

fn gen_node() -> impl Strategy<Value = G> {
    let leaf = prop_oneof![
        4 => select(TOKENS).prop_map(G::Token),
        1 => Just(G::Empty),
        1 => proptest::collection::vec(select(LINES), 2..4).prop_map(G::Lines),
        2 => (select(HEADERS), proptest::collection::vec(select(BLOCK_LINES), 0..5))
            .prop_map(|(h, l)| G::Block(h, l)),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec((select(KEYS), inner.clone()), 1..4).prop_map(G::Map),
            proptest::collection::vec(inner, 1..4).prop_map(G::Seq),
        ]
    })
}

/// Formatting choices, read one at a time (cycling) from a byte string.
struct Fmt {
    choices: Vec<u8>,
    next: usize,
}

impl Fmt {
    fn pick(&mut self, n: u8) -> u8 {
        let c = self
            .choices
            .get(self.next % self.choices.len().max(1))
            .copied()
            .unwrap_or(0);
        self.next += 1;
        c % n
    }

    /// A comment or nothing at the end of a line.
    fn eol(&mut self, out: &mut String) {
        match self.pick(8) {
            0 => out.push_str(" # c"),
            1 => out.push_str("   "),
            2 => out.push_str("  #: x"),
            _ => {}
        }
        out.push('\n');
    }

    /// Sometimes a comment line or a blank line before an entry at `indent`.
    fn before(&mut self, out: &mut String, indent: usize) {
        match self.pick(10) {
            0 => {
                out.push_str(&" ".repeat(indent));
                out.push_str("# above\n");
            }
            1 => out.push('\n'),
            2 => out.push_str("# col 0\n"),
            _ => {}
        }
    }
}

/// Write `g` as the value of a key or item whose block is at column `parent`; the cursor is
/// just after `key:` or `-`. `compact_col` is the column a node starting on this line
/// would have.
fn value(g: &G, parent: usize, compact_col: usize, item: bool, f: &mut Fmt, out: &mut String) {
    let step = 1 + f.pick(4) as usize;
    match g {
        G::Token(t) => {
            out.push(' ');
            out.push_str(t);
            f.eol(out);
        }
        G::Empty => f.eol(out),
        G::Lines(lines) => {
            out.push(' ');
            out.push_str(lines[0]);
            out.push('\n');
            for l in &lines[1..] {
                if f.pick(4) == 0 {
                    out.push('\n');
                }
                out.push_str(&" ".repeat(parent + step));
                out.push_str(l);
                out.push('\n');
            }
        }
        G::Block(h, lines) => {
            out.push(' ');
            out.push_str(h);
            out.push('\n');
            let digit = h
                .bytes()
                .find(u8::is_ascii_digit)
                .map(|d| (d - b'0') as usize);
            let indent = parent + digit.unwrap_or(step);
            for l in lines {
                if !l.is_empty() {
                    out.push_str(&" ".repeat(indent));
                }
                out.push_str(l);
                out.push('\n');
            }
        }
        G::Map(entries) => {
            if item && f.pick(2) == 0 {
                // `- key: v` with the following keys under the first.
                let pad = f.pick(3) as usize;
                out.push_str(&" ".repeat(1 + pad));
                map(entries, compact_col + pad, true, f, out);
            } else {
                f.eol(out);
                map(entries, parent + step, false, f, out);
            }
        }
        G::Seq(items) => {
            if item && f.pick(2) == 0 {
                out.push(' ');
                seq(items, compact_col, true, f, out);
            } else if !item && f.pick(2) == 0 {
                f.eol(out);
                seq(items, parent, false, f, out);
            } else {
                f.eol(out);
                seq(items, parent + step, false, f, out);
            }
        }
    }
}

/// A block mapping at column `col`; `inline` when the cursor already sits at its first key.
fn map(entries: &[(&str, G)], col: usize, inline: bool, f: &mut Fmt, out: &mut String) {
    for (i, (k, v)) in entries.iter().enumerate() {
        if i > 0 || !inline {
            f.before(out, col);
            out.push_str(&" ".repeat(col));
        }
        out.push_str(k);
        if f.pick(8) == 0 {
            out.push(' ');
        }
        out.push(':');
        value(v, col, col + k.len() + 2, false, f, out);
    }
}

fn seq(items: &[G], col: usize, inline: bool, f: &mut Fmt, out: &mut String) {
    for (i, v) in items.iter().enumerate() {
        if i > 0 || !inline {
            f.before(out, col);
            out.push_str(&" ".repeat(col));
        }
        out.push('-');
        value(v, col, col + 2, true, f, out);
    }
}

fn render(docs: &[G], f: &mut Fmt) -> String {
    let mut out = String::new();
    if f.pick(8) == 0 {
        out.push('\u{feff}');
    }
    for (i, d) in docs.iter().enumerate() {
        match f.pick(4) {
            0 if i == 0 => {}
            1 => {
                out.push_str("---");
                f.eol(&mut out);
            }
            _ if i > 0 => out.push_str("---\n"),
            _ => {}
        }
        match d {
            G::Map(e) => map(e, 0, false, f, &mut out),
            G::Seq(items) => seq(items, 0, false, f, &mut out),
            G::Token(t) => {
                out.push_str(t);
                out.push('\n');
            }
            _ => {}
        }
        if f.pick(5) == 0 {
            out.push_str("...\n");
        }
    }
    if f.pick(3) == 0 {
        out = out.replace('\n', "\r\n");
    }
    if f.pick(4) == 0 {
        while out.ends_with(['\n', '\r']) {
            out.pop();
        }
    }
    out
}

/// Bytes a mutation may insert: the characters that matter to YAML's syntax.
const MUTANTS: &[&str] = &[
    " ", "\n", "\r\n", "-", ":", "#", "'", "\"", "|", ">", "[", "]", "{", "}", ",", "&a ", "*a",
    "!t ", "?", "\t", "\\", "---\n", "...\n", "  ", "é", "\u{85}",
];

#[test]
fn generated_texts_agree_whenever_accepted() {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "tests/it/parser_diff.proptest-regressions",
        ))),
        ..Config::default()
    });
    let docs = proptest::collection::vec(gen_node(), 1..4);
    let choices = proptest::collection::vec(any::<u8>(), 0..64);
    let mutations = proptest::collection::vec((any::<usize>(), 0..MUTANTS.len() + 1), 0..3);
    let accepted = std::cell::Cell::new(0u32);
    let total = std::cell::Cell::new(0u32);
    runner
        .run(&(docs, choices, mutations), |(docs, choices, mutations)| {
            let mut f = Fmt { choices, next: 0 };
            let mut src = render(&docs, &mut f);
            for (at, what) in mutations {
                let mut at = at % (src.len() + 1);
                while !src.is_char_boundary(at) {
                    at -= 1;
                }
                match MUTANTS.get(what) {
                    Some(m) => src.insert_str(at, m),
                    // Delete one character.
                    None => {
                        if let Some(c) = src[at..].chars().next() {
                            src.replace_range(at..at + c.len_utf8(), "");
                        }
                    }
                }
            }
            total.set(total.get() + 1);
            if compare(&src).map_err(TestCaseError::fail)? {
                accepted.set(accepted.get() + 1);
            }
            Ok(())
        })
        .unwrap();
    println!(
        "generated: the fast path accepted {} of {} texts",
        accepted.get(),
        total.get()
    );
    assert!(accepted.get() * 5 >= total.get(), "accepted too few");
}
