//! The conditions of the rule language (`when = { … }` in `migrations/*.toml`), declared once.
//!
//! [`CONDITIONS`] is the only list of them: it names each condition, says how its value is
//! written and what it compiles to. The file format accepts exactly these names
//! ([`super::model::When`]), the registry compiles through this table and checks the
//! `${var}`s of every condition alike, the rule interpreter matches on [`Cond`] (so a new
//! condition that is not evaluated does not compile), and `kubemig list` classifies a rule
//! as conditional when it has any condition at all.

use std::sync::LazyLock;

use anyhow::{Result, bail};

use super::release::Release;
use super::relpath::{Pattern, RelPath, Shape, regex, rel};

/// One compiled condition.
#[derive(Debug, Clone)]
pub enum Cond {
    /// Tested on the matched node.
    Node(NodeTest),
    /// Tested on the release window the run covers.
    Window(WindowTest),
}

impl Cond {
    /// Whether it holds when a node is absent (`missing`).
    pub fn is_missing(&self) -> bool {
        matches!(self, Cond::Node(NodeTest::Missing(_)))
    }
}

/// A condition on the document, relative to the matched node.
#[derive(Debug, Clone)]
pub enum NodeTest {
    Has(RelPath),
    Missing(RelPath),
    /// At least one of the paths exists.
    HasAny(Vec<RelPath>),
    Equals(RelPath, toml::Value),
    NotEquals(RelPath, toml::Value),
    OneOf(RelPath, Vec<toml::Value>),
    NotOneOf(RelPath, Vec<toml::Value>),
    /// None of the nodes the pattern reaches has one of the values.
    NoneOf(RelPath, Vec<toml::Value>),
    /// Some node the pattern reaches has one of the values.
    AnyOf(RelPath, Vec<toml::Value>),
    Shape(RelPath, Shape),
    Differs(RelPath, RelPath),
    StartsWith(RelPath, String),
    LessThan(RelPath, i64),
    Duplicates(RelPath),
    Matches(RelPath, Pattern),
    NotMatches(RelPath, Pattern),
}

/// A condition on the release window (unknown parts make it false).
#[derive(Debug, Clone, Copy)]
pub enum WindowTest {
    MinAtLeast(Release),
    MinBelow(Release),
    TargetAtLeast(Release),
    TargetBelow(Release),
}

impl WindowTest {
    pub fn holds(self, min: Option<Release>, target: Option<Release>) -> bool {
        match self {
            WindowTest::MinAtLeast(r) => min.is_some_and(|v| v >= r),
            WindowTest::MinBelow(r) => min.is_some_and(|v| v < r),
            WindowTest::TargetAtLeast(r) => target.is_some_and(|v| v >= r),
            WindowTest::TargetBelow(r) => target.is_some_and(|v| v < r),
        }
    }
}

/// How a condition's value is written, and what each entry compiles to.
#[derive(Clone, Copy)]
pub enum Form {
    /// `[path, …]`: one test per path.
    Paths(fn(RelPath) -> NodeTest),
    /// `[path, …]`: one test over all of them.
    AnyPath(fn(Vec<RelPath>) -> NodeTest),
    /// `{ path = value }`.
    Values(fn(RelPath, toml::Value) -> NodeTest),
    /// `{ path = [value, …] }`.
    Lists(fn(RelPath, Vec<toml::Value>) -> NodeTest),
    /// `{ path = "other path" }`.
    OtherPath(fn(RelPath, RelPath) -> NodeTest),
    /// `{ path = "text" }`.
    Text(fn(RelPath, String) -> NodeTest),
    /// `{ path = 3 }`.
    Int(fn(RelPath, i64) -> NodeTest),
    /// `{ path = "regular expression" }`.
    Regex(fn(RelPath, Pattern) -> NodeTest),
    /// `"1.29"`.
    Release(fn(Release) -> WindowTest),
}

/// A condition's name in `when`, and its form.
pub struct Condition {
    pub name: &'static str,
    pub form: Form,
}

const fn c(name: &'static str, form: Form) -> Condition {
    Condition { name, form }
}

/// Every condition of the rule language (documented in migrations/README.md).
pub const CONDITIONS: &[Condition] = &[
    c("has", Form::Paths(NodeTest::Has)),
    c("missing", Form::Paths(NodeTest::Missing)),
    c("equals", Form::Values(NodeTest::Equals)),
    c("not-equals", Form::Values(NodeTest::NotEquals)),
    c("one-of", Form::Lists(NodeTest::OneOf)),
    c("not-one-of", Form::Lists(NodeTest::NotOneOf)),
    c("is-int", Form::Paths(|p| NodeTest::Shape(p, Shape::Int))),
    c(
        "is-string",
        Form::Paths(|p| NodeTest::Shape(p, Shape::String)),
    ),
    c(
        "is-digits",
        Form::Paths(|p| NodeTest::Shape(p, Shape::Digits)),
    ),
    c("empty", Form::Paths(|p| NodeTest::Shape(p, Shape::Empty))),
    c(
        "not-empty",
        Form::Paths(|p| NodeTest::Shape(p, Shape::NotEmpty)),
    ),
    c("differs", Form::OtherPath(NodeTest::Differs)),
    c("starts-with", Form::Text(NodeTest::StartsWith)),
    c("less-than", Form::Int(NodeTest::LessThan)),
    c("duplicates", Form::Paths(NodeTest::Duplicates)),
    c("none-of", Form::Lists(NodeTest::NoneOf)),
    c("any-of", Form::Lists(NodeTest::AnyOf)),
    c("has-any", Form::AnyPath(NodeTest::HasAny)),
    c("matches", Form::Regex(NodeTest::Matches)),
    c("not-matches", Form::Regex(NodeTest::NotMatches)),
    c(
        "min-version-at-least",
        Form::Release(WindowTest::MinAtLeast),
    ),
    c("min-version-below", Form::Release(WindowTest::MinBelow)),
    c("target-at-least", Form::Release(WindowTest::TargetAtLeast)),
    c("target-below", Form::Release(WindowTest::TargetBelow)),
];

/// The names of [`CONDITIONS`], for the file format's "expected one of" message.
pub static NAMES: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| CONDITIONS.iter().map(|c| c.name).collect());

/// Compile a rule's `when` table, in the order of [`CONDITIONS`].
pub fn compile(when: &toml::Table) -> Result<Vec<Cond>> {
    let mut out = Vec::new();
    for name in when.keys() {
        if !CONDITIONS.iter().any(|c| c.name == name) {
            bail!("unknown condition `{name}`; known: {}", NAMES.join(", "));
        }
    }
    for cond in CONDITIONS {
        if let Some(value) = when.get(cond.name) {
            compile_one(cond, value, &mut out)?;
        }
    }
    Ok(out)
}

fn compile_one(cond: &Condition, value: &toml::Value, out: &mut Vec<Cond>) -> Result<()> {
    let name = cond.name;
    let paths = || -> Result<Vec<RelPath>> {
        match value {
            toml::Value::Array(items) => items
                .iter()
                .map(|i| match i {
                    toml::Value::String(p) => rel(p),
                    _ => bail!("`{name}` needs a list of paths"),
                })
                .collect(),
            _ => bail!("`{name}` needs a list of paths"),
        }
    };
    let table = || -> Result<&toml::Table> {
        match value {
            toml::Value::Table(t) => Ok(t),
            _ => bail!("`{name}` needs a table of paths"),
        }
    };
    let node = |t: NodeTest| Cond::Node(t);
    match cond.form {
        Form::Paths(f) => out.extend(paths()?.into_iter().map(|p| node(f(p)))),
        Form::AnyPath(f) => {
            let ps = paths()?;
            if !ps.is_empty() {
                out.push(node(f(ps)));
            }
        }
        Form::Values(f) => {
            for (k, v) in table()? {
                out.push(node(f(rel(k)?, v.clone())));
            }
        }
        Form::Lists(f) => {
            for (k, v) in table()? {
                match v {
                    toml::Value::Array(items) => out.push(node(f(rel(k)?, items.clone()))),
                    _ => bail!("`{k}` needs a list of values"),
                }
            }
        }
        Form::OtherPath(f) => {
            for (k, v) in table()? {
                match v {
                    toml::Value::String(other) => out.push(node(f(rel(k)?, rel(other)?))),
                    _ => bail!("`{name}.{k}` needs a path"),
                }
            }
        }
        Form::Text(f) => {
            for (k, v) in table()? {
                match v {
                    toml::Value::String(text) => out.push(node(f(rel(k)?, text.clone()))),
                    _ => bail!("`{name}.{k}` needs a string"),
                }
            }
        }
        Form::Int(f) => {
            for (k, v) in table()? {
                match v {
                    toml::Value::Integer(n) => out.push(node(f(rel(k)?, *n))),
                    _ => bail!("`{name}.{k}` needs an integer"),
                }
            }
        }
        Form::Regex(f) => {
            for (k, v) in table()? {
                match v {
                    toml::Value::String(re) => out.push(node(f(rel(k)?, regex(re)?))),
                    _ => bail!("`{k}` needs a regular expression"),
                }
            }
        }
        Form::Release(f) => match value {
            toml::Value::String(s) => out.push(Cond::Window(f(
                Release::parse(s).map_err(anyhow::Error::msg)?
            ))),
            _ => bail!("`{name}` needs a release such as \"1.29\""),
        },
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A value of the condition's form whose every path (and text) uses `${v}`.
    fn sample(form: Form, var: &str) -> String {
        let p = format!("a.${{{var}}}");
        match form {
            Form::Paths(_) | Form::AnyPath(_) => format!("[\"{p}\"]"),
            Form::Values(_) => format!("{{ \"{p}\" = \"x\" }}"),
            Form::Lists(_) => format!("{{ \"{p}\" = [\"x\"] }}"),
            Form::OtherPath(_) => format!("{{ \"{p}\" = \"b\" }}"),
            Form::Text(_) => format!("{{ \"{p}\" = \"x\" }}"),
            Form::Int(_) => format!("{{ \"{p}\" = 3 }}"),
            Form::Regex(_) => format!("{{ \"{p}\" = \"^x$\" }}"),
            Form::Release(_) => "\"1.29\"".to_string(),
        }
    }

    #[test]
    fn every_condition_compiles_from_its_form_and_unknown_ones_are_refused() {
        for cond in CONDITIONS {
            let text = format!("{} = {}\n", cond.name, sample(cond.form, "v"));
            let table: toml::Table = toml::from_str(&text).unwrap();
            let compiled = compile(&table).unwrap();
            assert_eq!(compiled.len(), 1, "{}", cond.name);
        }
        let table: toml::Table = toml::from_str("has-all = [\"a\"]\n").unwrap();
        let err = compile(&table).unwrap_err().to_string();
        assert!(err.contains("unknown condition `has-all`"), "{err}");
        let names: std::collections::HashSet<_> = NAMES.iter().collect();
        assert_eq!(
            names.len(),
            CONDITIONS.len(),
            "a condition is declared twice"
        );
    }

    /// A `${var}` inside any condition must be bound by the rule's `let` (it once went
    /// unchecked in `less-than`, `is-*`, `empty`, `not-empty` and `duplicates`).
    #[test]
    fn variables_in_every_condition_are_checked() {
        let load = |when: &str, bind: &str| {
            let file = format!(
                "[[field]]\nid = \"t\"\napplies-to = [\"pods\"]\nmentions = [\"x\"]\nsummary = \"s\"\ndocs = \"d\"\n\
                 [[field.rule]]\n{bind}when = {{ {when} }}\nops = [{{ delete = \"a\" }}]\n"
            );
            super::super::Catalogue::from_files([
                ("catalogue.toml", "newest = \"1.36\"\n"),
                ("t.toml", file.as_str()),
            ])
            .map(|_| ())
            .map_err(|e| format!("{e:#}"))
        };
        for cond in CONDITIONS {
            if matches!(cond.form, Form::Release(_)) {
                continue; // a release has no path, so no variable
            }
            let when = format!("{} = {}", cond.name, sample(cond.form, "nope"));
            let err = load(&when, "").unwrap_err();
            assert!(
                err.contains("`${nope}` is not bound"),
                "{}: {err}",
                cond.name
            );
            let when = format!("{} = {}", cond.name, sample(cond.form, "v"));
            load(&when, "let = { v = \"b\" }\n").unwrap_or_else(|e| panic!("{}: {e}", cond.name));
        }
    }
}
