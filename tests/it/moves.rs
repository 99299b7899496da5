//! Property test of structural edits: a subtree holding every scalar style the parser
//! accepts (plain, single- and double-quoted over several lines, literal and folded block
//! scalars with and without indentation indicators and chomping, empty and space-only lines
//! inside them, multi-line flow collections, anchors, aliases, tags, trailing comments), at
//! several depths, as mapping values and as sequence items, is moved, copied and renamed by
//! rules of the rule language (`move`, `copy`, `rename`), deeper and shallower, through the
//! whole pipeline (`engine::process`, self-verification included).
//!
//! Each case checks: no file error at all (an "internal error" is a failure); the output
//! parses for `yaml_serde` (libyaml); the subtree read at its new place equals the one read
//! at its old place in the input; everything before `spec:` and the next document are
//! byte-identical. A refusal is accepted only for a copy of a subtree that defines anchors
//! (YAML would then define them twice), and the object must then be left as it was.
//!
//! `PROPTEST_CASES` sets the number of cases (default below).

use std::sync::OnceLock;

use kubemig::catalogue::{Catalogue, Window};
use kubemig::engine::{Context, process};
use kubemig::plan::Status;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestRunner};
use yaml_serde::Value as V;

const DEFAULT_CASES: u32 = 256;

/// Source and target paths under `spec`, by depth.
const PATHS: [&str; 3] = ["s", "a.s", "a.b.c.s"];
const TARGETS: [&str; 3] = ["t", "x.t", "x.y.z.t"];

/// The rules: one kind per operation and pair of depths.
fn rules() -> String {
    let mut kinds = Vec::new();
    let mut rules = String::new();
    for (i, from) in PATHS.iter().enumerate() {
        for (j, to) in TARGETS.iter().enumerate() {
            for op in ["move", "copy"] {
                let kind = format!("{}{i}{j}", if op == "move" { "Move" } else { "Copy" });
                rules.push_str(&format!(
                    "[[migration.rule]]\nat = \"spec\"\nwhen = {{ has = [\"{from}\"], equals = {{ \"$.kind\" = \"{kind}\" }} }}\nops = [{{ {op} = \"{from}\", to = \"{to}\" }}]\n\n"
                ));
                kinds.push(kind);
            }
        }
        let kind = format!("Rename{i}");
        rules.push_str(&format!(
            "[[migration.rule]]\nat = \"spec\"\nwhen = {{ has = [\"{from}\"], equals = {{ \"$.kind\" = \"{kind}\" }} }}\nops = [{{ rename = \"{from}\", to = \"t\" }}]\n\n"
        ));
        kinds.push(kind);
    }
    let kinds = kinds
        .iter()
        .map(|k| format!("\"{k}\""))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "[[version]]\napi = \"moves.example.com/v1alpha1\"\nkinds = [{kinds}]\nintroduced = \"1.0\"\nremoved = \"1.0\"\n\n\
         [[version]]\napi = \"moves.example.com/v1\"\nkinds = [{kinds}]\nintroduced = \"1.0\"\n\n\
         [[migration]]\nid = \"moves/v1alpha1-to-v1\"\nfrom = \"moves.example.com/v1alpha1\"\nto = \"moves.example.com/v1\"\nkinds = [{kinds}]\nsummary = \"test moves\"\ndocs = \"https://example.com\"\n\n{rules}"
    )
}

fn catalogue() -> &'static Catalogue {
    static CAT: OnceLock<Catalogue> = OnceLock::new();
    CAT.get_or_init(|| {
        Catalogue::embedded_with(&[("moves.toml".to_string(), rules())]).expect("catalogue")
    })
}

/// A value of the moved subtree.
#[derive(Clone, Debug)]
enum Gen {
    /// A scalar (or flow collection) in one of the styles of `scalar`.
    Scalar(usize),
    Map(Vec<Gen>),
    Seq(Vec<Gen>),
}

const STYLES: usize = 19;

fn subtree() -> impl Strategy<Value = Gen> {
    let leaf = (0..STYLES).prop_map(Gen::Scalar);
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 1..5).prop_map(Gen::Map),
            proptest::collection::vec(inner, 1..4).prop_map(Gen::Seq),
        ]
    })
}

struct Writer {
    out: String,
    step: usize,
    indentless: bool,
    anchors: usize,
    keys: usize,
}

impl Writer {
    /// The text after `key: ` or `- ` of scalar style `style`, written in a block collection
    /// indented `n` columns: continuation lines at `n + 2`.
    fn scalar(&mut self, style: usize, n: usize) -> String {
        let p = " ".repeat(n + 2);
        let q = " ".repeat(n + 4);
        match style {
            0 => "plain".into(),
            1 => format!("a plain scalar that the generator\n{p}wrapped onto a second line"),
            2 => format!("plain with\n\n{p}an empty line"),
            3 => format!("'single ''quoted''\n\n{p}with an empty line'"),
            4 => format!("\"double \\\n{q}escaped break\\tand\n{p}fold\""),
            5 => format!("|\n{p}literal\n\n{p}  indented\n{p}end"),
            6 => format!("|-\n{p}strip\n{q}\n{p}space-only line above"),
            7 => format!("|+\n{p}keep\n"),
            8 => format!("|2\n{q}first deeper\n{p}than the rest"),
            9 => format!(">\n{p}folded\n{p}text\n\n{q}more indented\n{p}back"),
            10 => format!(">1-\n{p}x\n{}y", " ".repeat(n + 1)),
            11 => format!("[a,\n{p}b, 'c\n{p}d']"),
            12 => format!("{{k: v,\n{p}k2: \"w\n{p}x\"}}"),
            13 => format!("!!str 12\n{p}34"),
            14 => format!("plain\n{p}over lines # a trailing comment"),
            15 => format!("| # header comment\n{p}text"),
            16 => {
                self.anchors += 1;
                format!("&a{} anchored\n{p}text", self.anchors)
            }
            17 if self.anchors > 0 => format!("*a{}", self.anchors),
            17 => "'one line'".into(),
            _ => format!(">-\n\n{p}leading empty line\n{p}folded"),
        }
    }

    fn key(&mut self) -> String {
        self.keys += 1;
        format!("k{}", self.keys)
    }

    /// The text after `key:` (with its line break when the value is a block collection) for
    /// `g` as the value of a key at column `col`.
    fn value(&mut self, g: &Gen, col: usize) -> String {
        match g {
            Gen::Scalar(s) => format!(" {}\n", self.scalar(*s, col)),
            Gen::Map(entries) => {
                let mut out = "\n".to_string();
                out.push_str(&self.map(entries, col + self.step));
                out
            }
            Gen::Seq(items) => {
                let dash = if self.indentless {
                    col
                } else {
                    col + self.step
                };
                let mut out = "\n".to_string();
                out.push_str(&self.seq(items, dash));
                out
            }
        }
    }

    fn map(&mut self, entries: &[Gen], col: usize) -> String {
        let mut out = String::new();
        for (i, g) in entries.iter().enumerate() {
            if i > 0 {
                out.push_str(&" ".repeat(col));
            }
            let k = self.key();
            out.push_str(&k);
            out.push(':');
            let v = self.value(g, col);
            out.push_str(&v);
        }
        format!("{}{out}", " ".repeat(col))
    }

    fn seq(&mut self, items: &[Gen], dash: usize) -> String {
        let mut out = String::new();
        for g in items {
            out.push_str(&" ".repeat(dash));
            out.push_str("- ");
            match g {
                Gen::Scalar(s) => {
                    let t = self.scalar(*s, dash);
                    out.push_str(&t);
                    out.push('\n');
                }
                Gen::Map(entries) => {
                    // A compact mapping: its first key on the dash's line.
                    let m = self.map(entries, dash + 2);
                    out.push_str(&m[dash + 2..]);
                }
                Gen::Seq(inner) => {
                    let m = self.seq(inner, dash + 2);
                    out.push_str(&m[dash + 2..]);
                }
            }
        }
        out
    }
}

/// Everything before `spec:`: must survive byte for byte.
fn head(kind: &str) -> String {
    format!(
        "apiVersion: moves.example.com/v1alpha1\nkind: {kind}\nmetadata:\n  name: m\n  annotations:\n    note: a plain note\n      on two lines\n    text: |-\n      kept\n\n      as is\n"
    )
}

const TAIL: &str =
    "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: after\ndata:\n  x: |\n    y\n";

/// The document: the subtree `g` at `spec.<path>`, with a sibling before and after it.
fn document(kind: &str, path: &str, g: &Gen, step: usize, indentless: bool) -> String {
    let mut w = Writer {
        out: String::new(),
        step,
        indentless,
        anchors: 0,
        keys: 0,
    };
    let mut text = head(kind);
    text.push_str("spec:\n");
    let segs: Vec<&str> = path.split('.').collect();
    let mut col = step;
    text.push_str(&format!("{}before: 1\n", " ".repeat(col)));
    for (i, seg) in segs.iter().enumerate() {
        text.push_str(&" ".repeat(col));
        text.push_str(seg);
        text.push(':');
        if i + 1 < segs.len() {
            text.push('\n');
            col += step;
        }
    }
    let v = w.value(g, col);
    text.push_str(&v);
    text.push_str(&format!("{}after: 2\n", " ".repeat(step)));
    w.out = text;
    w.out + TAIL
}

fn at<'v>(v: &'v V, path: &str) -> Option<&'v V> {
    path.split('.').try_fold(v, |v, seg| v.get(seg))
}

fn parse(text: &str) -> Result<Vec<V>, String> {
    use serde::Deserialize;
    yaml_serde::Deserializer::from_str(text)
        .map(|d| V::deserialize(d).map_err(|e| e.to_string()))
        .collect()
}

fn check(
    op: usize,
    from: usize,
    to: usize,
    g: &Gen,
    step: usize,
    indentless: bool,
) -> Result<bool, TestCaseError> {
    let (kind, target) = match op {
        0 => (format!("Move{from}{to}"), TARGETS[to].to_string()),
        1 => (format!("Copy{from}{to}"), TARGETS[to].to_string()),
        _ => {
            let parent = PATHS[from].rsplit_once('.').map(|(p, _)| p);
            let t = parent.map_or("t".to_string(), |p| format!("{p}.t"));
            (format!("Rename{from}"), t)
        }
    };
    let input = document(&kind, PATHS[from], g, step, indentless);
    let show = || format!("\n--- input\n{input}");
    let before = parse(&input).map_err(|e| TestCaseError::fail(format!("{e}{}", show())))?;
    let ctx = Context {
        catalogue: catalogue(),
        window: Window {
            target: catalogue().newest,
            min: None,
            include_deprecated: false,
        },
        prefilter: None,
    };
    let out = process(input.as_bytes().to_vec(), &ctx);
    prop_assert!(out.error.is_none(), "error: {:?}{}", out.error, show());
    let Some((_, output)) = out.rewrite else {
        // Refused: only a copy that would define anchors twice, and then the object is
        // reported for a human.
        prop_assert!(
            op == 1 && input.contains(" &a"),
            "not migrated: {:?}{}",
            out.objects.iter().map(|o| &o.item).collect::<Vec<_>>(),
            show()
        );
        prop_assert!(
            out.objects.iter().any(|o| o.item.status == Status::Blocked),
            "refused without a report{}",
            show()
        );
        return Ok(false);
    };
    let show = || format!("\n--- input\n{input}\n--- output\n{output}");
    let after = parse(&output).map_err(|e| TestCaseError::fail(format!("{e}{}", show())))?;
    prop_assert_eq!(after.len(), 2, "documents{}", show());
    let old = at(&before[0]["spec"], PATHS[from]);
    let new = at(&after[0]["spec"], &target);
    prop_assert!(old.is_some(), "nothing at the source{}", show());
    prop_assert_eq!(old, new, "moved value differs{}", show());
    if op == 1 {
        prop_assert_eq!(
            old,
            at(&after[0]["spec"], PATHS[from]),
            "copy lost its source{}",
            show()
        );
    } else {
        prop_assert!(
            at(&after[0]["spec"], PATHS[from]).is_none(),
            "source still there{}",
            show()
        );
    }
    for sibling in ["before", "after"] {
        prop_assert_eq!(
            before[0]["spec"].get(sibling),
            after[0]["spec"].get(sibling),
            "{} changed{}",
            sibling,
            show()
        );
    }
    let head = &input[..input.find("spec:").unwrap()];
    prop_assert!(
        output.starts_with(&head.replace("v1alpha1", "v1")),
        "bytes before spec changed{}",
        show()
    );
    prop_assert!(output.ends_with(TAIL), "next document changed{}", show());
    // A second run changes nothing.
    let again = process(output.as_bytes().to_vec(), &ctx);
    prop_assert!(
        again.error.is_none() && again.rewrite.is_none(),
        "second run: {:?}{}",
        again.error,
        show()
    );
    Ok(true)
}

#[test]
fn moved_subtrees_keep_every_scalar_style() {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..Config::default()
    });
    let migrated = std::cell::Cell::new(0usize);
    runner
        .run(
            &(
                0..3usize,
                0..3usize,
                0..3usize,
                subtree(),
                1..5usize,
                any::<bool>(),
            ),
            |(op, from, to, g, step, indentless)| {
                if check(op, from, to, &g, step.max(2), indentless)? {
                    migrated.set(migrated.get() + 1);
                }
                Ok(())
            },
        )
        .unwrap();
    // Refusals are rare (copies with anchors); most cases must migrate.
    assert!(
        migrated.get() * 2 > cases as usize,
        "only {} of {cases} migrated",
        migrated.get()
    );
}

/// Each style alone, moved both ways at every depth: the cases a random run may miss.
#[test]
fn every_style_moves_deeper_and_shallower() {
    for style in 0..STYLES {
        for g in [
            Gen::Scalar(style),
            Gen::Map(vec![Gen::Scalar(style), Gen::Scalar(0)]),
            Gen::Seq(vec![
                Gen::Scalar(style),
                Gen::Map(vec![Gen::Scalar(style), Gen::Scalar(style)]),
            ]),
        ] {
            for (from, to) in [(0, 2), (2, 0), (1, 1)] {
                for op in 0..3 {
                    for (step, indentless) in [(2, true), (4, false)] {
                        if let Err(e) = check(op, from, to, &g, step, indentless) {
                            panic!("style {style}, op {op}, {from}->{to}: {e}");
                        }
                    }
                }
            }
        }
    }
}
