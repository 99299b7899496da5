//! Compiling a catalogue rule (`[[…rules]]` in `migrations/*.toml`) into what the rule
//! interpreter (`plan::rules`) runs: its paths parsed, its `let` bindings and `when`
//! conditions compiled, its `${var}`s checked against what is bound.

use anyhow::{Context, Result, bail};

use super::conditions::{self, Cond};
use super::model::{Binding, FindingSpec, Op, PositionSpec, Rule};
use super::relpath::{RelPath, is_var_name, regex, rel};
use crate::plan::mtree::Position;
use crate::yaml::path::Path;

/// A compiled `let` entry.
#[derive(Debug, Clone)]
pub struct CompiledBinding {
    pub name: String,
    /// Candidates, the first that exists wins.
    pub paths: Vec<RelPath>,
    pub key: bool,
    pub pattern: Option<super::relpath::Pattern>,
    pub split: Option<String>,
    pub default: Option<String>,
    pub lower: bool,
}

/// A value an op writes: the catalogue's TOML, and the YAML it becomes when it holds no
/// `${…}` (the same for every match), made by the interpreter on first use (most rules
/// never write).
#[derive(Debug, Clone)]
pub struct OpValue {
    pub toml: toml::Value,
    pub fixed: std::sync::OnceLock<Option<crate::plan::mtree::MNode>>,
}

impl OpValue {
    fn new(toml: &toml::Value) -> OpValue {
        OpValue {
            toml: toml.clone(),
            fixed: std::sync::OnceLock::new(),
        }
    }

    /// Whether some string of the value (or key of a table in it) has a `${…}`.
    pub fn has_vars(&self) -> bool {
        let mut texts = Vec::new();
        toml_strings(&self.toml, &mut texts);
        texts.iter().any(|t| t.contains("${"))
    }
}

#[derive(Debug, Clone)]
pub enum CompiledOp {
    Rename(RelPath, String),
    Move(RelPath, RelPath, Position, bool),
    Copy(RelPath, RelPath, Position, Option<String>),
    Append(RelPath, OpValue),
    Set {
        path: RelPath,
        value: OpValue,
        pos: Position,
        if_absent: bool,
    },
    Delete(RelPath),
    FromJson {
        from: RelPath,
        to: RelPath,
        lower_camel: bool,
    },
    ToPairs {
        path: RelPath,
        name: String,
        value: String,
    },
}

#[derive(Debug, Clone)]
pub struct CompiledRule {
    pub at: Vec<Path>,
    pub recurse: Vec<Path>,
    /// Its `when`, compiled (see [`super::conditions`]).
    pub when: Vec<Cond>,
    pub lets: Vec<CompiledBinding>,
    pub ops: Vec<CompiledOp>,
    pub finding: Option<FindingSpec>,
}

/// Every `${name}` in `text`, without any `.N` group suffix.
fn var_refs(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        rest = &rest[i + 2..];
        let Some(end) = rest.find('}') else { break };
        let name = &rest[..end];
        if is_var_name(name) {
            out.push(name.split('.').next().unwrap_or(name));
        }
        rest = &rest[end + 1..];
    }
    out
}

fn toml_strings<'a>(v: &'a toml::Value, out: &mut Vec<&'a str>) {
    match v {
        toml::Value::String(s) => out.push(s),
        toml::Value::Array(items) => items.iter().for_each(|i| toml_strings(i, out)),
        toml::Value::Table(t) => t.iter().for_each(|(k, v)| {
            out.push(k);
            toml_strings(v, out)
        }),
        _ => {}
    }
}

fn bindings(t: &toml::Table) -> Result<Vec<CompiledBinding>> {
    t.iter()
        .map(|(name, v)| {
            if !is_var_name(name) || name.contains('.') {
                bail!("`let.{name}`: a variable name is letters, digits, `_` and `-`");
            }
            let b: Binding = v
                .clone()
                .try_into()
                .with_context(|| format!("`let.{name}`"))?;
            Ok(match b {
                Binding::Path(p) => CompiledBinding {
                    name: name.clone(),
                    paths: vec![rel(&p)?],
                    key: false,
                    pattern: None,
                    split: None,
                    default: None,
                    lower: false,
                },
                Binding::Spec(s) => CompiledBinding {
                    name: name.clone(),
                    paths: s.path.paths().into_iter().map(rel).collect::<Result<_>>()?,
                    key: s.key,
                    pattern: s.pattern.as_deref().map(regex).transpose()?,
                    split: s.split.filter(|sep| !sep.is_empty()),
                    default: s.default,
                    lower: s.lower,
                },
            })
        })
        .collect()
}

/// Variables every rule may read without binding them: `${assume.KEY}`, `${flag.NAME}`.
pub const OPTION_ROOTS: &[&str] = &["assume", "flag"];

/// Every `${name}` a rule uses must be bound by its `let`.
fn check_vars(r: &Rule, lets: &[CompiledBinding]) -> Result<()> {
    let mut texts: Vec<&str> = Vec::new();
    // Every condition alike, whatever its form: its paths are keys or strings, its values
    // strings (`toml_strings` reads both).
    for v in r.when.0.values() {
        toml_strings(v, &mut texts);
    }
    for v in r.bind.values() {
        toml_strings(v, &mut texts);
    }
    for op in &r.ops {
        match op {
            Op::Rename { rename, to } => texts.extend([rename.as_str(), to]),
            Op::Move { from, to, pos, .. }
            | Op::Copy {
                copy: from,
                to,
                pos,
                ..
            } => {
                texts.extend([from.as_str(), to]);
                texts.extend(pos.before.iter().chain(&pos.after).map(String::as_str));
            }
            Op::Set {
                set, value, pos, ..
            } => {
                texts.push(set);
                toml_strings(value, &mut texts);
                texts.extend(pos.before.iter().chain(&pos.after).map(String::as_str));
            }
            Op::Append { append, value } => {
                texts.push(append);
                toml_strings(value, &mut texts);
            }
            Op::Delete { delete } => texts.push(delete),
            Op::FromJson { from, to, .. } => texts.extend([from.as_str(), to]),
            Op::ToPairs { path, .. } => texts.push(path),
        }
    }
    if let Some(f) = &r.finding {
        texts.push(&f.message);
    }
    for t in texts {
        for name in var_refs(t) {
            // `${assume.KEY}` and `${flag.NAME}` come from the command line (`Catalogue::options`).
            if !OPTION_ROOTS.contains(&name) && !lets.iter().any(|b| b.name == name) {
                bail!("`${{{name}}}` is not bound by the rule's `let`");
            }
        }
    }
    Ok(())
}

fn position(p: &PositionSpec) -> Result<Position> {
    Ok(match (p.first, &p.before, &p.after) {
        (false, None, None) => Position::End,
        (true, None, None) => Position::First,
        (false, Some(k), None) => Position::Before(k.clone()),
        (false, None, Some(k)) => Position::After(k.clone()),
        _ => bail!("give at most one of `first`, `before`, `after`"),
    })
}

pub fn compile_rule(r: &Rule) -> Result<CompiledRule> {
    let at =
        r.at.paths()
            .into_iter()
            .map(|p| Path::parse(p).map_err(anyhow::Error::msg))
            .collect::<Result<_>>()?;
    let ops = r
        .ops
        .iter()
        .map(|op| {
            Ok(match op {
                Op::Rename { rename, to } => CompiledOp::Rename(rel(rename)?, to.clone()),
                Op::Move {
                    from,
                    to,
                    unquote,
                    pos,
                } => CompiledOp::Move(rel(from)?, rel(to)?, position(pos)?, *unquote),
                Op::Copy {
                    copy,
                    to,
                    split,
                    pos,
                } => CompiledOp::Copy(rel(copy)?, rel(to)?, position(pos)?, split.clone()),
                Op::Append { append, value } => {
                    CompiledOp::Append(rel(append)?, OpValue::new(value))
                }
                Op::Set {
                    set,
                    value,
                    if_absent,
                    pos,
                } => CompiledOp::Set {
                    path: rel(set)?,
                    value: OpValue::new(value),
                    pos: position(pos)?,
                    if_absent: *if_absent,
                },
                Op::Delete { delete } => CompiledOp::Delete(rel(delete)?),
                Op::FromJson {
                    from,
                    to,
                    lower_camel,
                } => CompiledOp::FromJson {
                    from: rel(from)?,
                    to: rel(to)?,
                    lower_camel: *lower_camel,
                },
                Op::ToPairs { path, name, value } => CompiledOp::ToPairs {
                    path: rel(path)?,
                    name: name.clone(),
                    value: value.clone(),
                },
            })
        })
        .collect::<Result<_>>()?;
    if r.ops.is_empty() && r.finding.is_none() {
        bail!("a rule needs ops or a finding");
    }
    let lets = bindings(&r.bind)?;
    check_vars(r, &lets)?;
    Ok(CompiledRule {
        at,
        recurse: r
            .recurse
            .iter()
            .map(|p| Path::parse(p).map_err(anyhow::Error::msg))
            .collect::<Result<_>>()?,
        when: conditions::compile(&r.when.0)?,
        lets,
        ops,
        finding: r.finding.clone(),
    })
}
