//! Interpret the catalogue's rules on a working tree.

use crate::catalogue::model::FindingSpec;
use crate::catalogue::registry::{CompiledOp, CompiledRule, POD_TEMPLATE_SITES, RelPath, Shape};
use crate::yaml::path::{Path, Seg};
use crate::yaml::value::resolve_plain;
use crate::yaml::{Style, Value};

use super::mtree::{MKind, MNode, Position, TreeError};

/// A rule's finding, at the node the rule matched.
#[derive(Debug, Clone)]
pub struct RuleHit {
    pub spec: FindingSpec,
    pub at: Path,
    /// The original node the rule matched (it may have moved), to place the finding.
    pub orig: Option<usize>,
}

/// Apply `rules` to the object at `base` in `doc`, in order; each rule sees the result of
/// the ones before it. A rule with ops reports its finding only when the ops changed
/// something, so a pin appears only where a value was actually written.
pub fn apply(
    doc: &mut MNode,
    base: &Path,
    rules: &[CompiledRule],
    hits: &mut Vec<RuleHit>,
) -> Result<bool, TreeError> {
    let mut any_change = false;
    for rule in rules {
        let mut found = matches(doc, base, rule);
        // Deleting matched sequence items shifts the ones after them: go from the back.
        if rule
            .ops
            .iter()
            .any(|op| matches!(op, CompiledOp::Delete(p) if p.path.0.is_empty()))
        {
            found.reverse();
        }
        for at in found {
            let join = |p: &RelPath| {
                if p.from_object {
                    base.join(&p.path)
                } else {
                    at.join(&p.path)
                }
            };
            if !holds(doc, rule, &join) {
                continue;
            }
            let orig = doc.get(&at.0).and_then(|n| n.orig);
            let mut changed = false;
            for op in &rule.ops {
                changed |= match op {
                    CompiledOp::Rename(p, to) => doc.rename(&last_items(doc, join(p)), to)?,
                    CompiledOp::Move(from, to, pos, unquote) => {
                        let to = last_items(doc, join(to));
                        let moved = doc.move_to(&last_items(doc, join(from)), &to, pos)?;
                        if moved && *unquote {
                            unquote_int(doc, &to)?;
                        }
                        moved
                    }
                    CompiledOp::Copy(from, to, pos, None) => doc.copy_to(
                        &last_items(doc, join(from)),
                        &last_items(doc, join(to)),
                        pos,
                    )?,
                    CompiledOp::Copy(from, to, pos, Some(sep)) => copy_split(
                        doc,
                        &last_items(doc, join(from)),
                        &last_items(doc, join(to)),
                        pos,
                        sep,
                    )?,
                    CompiledOp::Append(path, value) => {
                        doc.append(&last_items(doc, join(path)), from_toml(value))?
                    }
                    CompiledOp::Set {
                        path,
                        value,
                        pos,
                        if_absent,
                    } => doc.set(
                        &last_items(doc, join(path)),
                        from_toml(value),
                        pos,
                        *if_absent,
                    )?,
                    CompiledOp::Delete(p) => doc.remove(&last_items(doc, join(p)))?.is_some(),
                    CompiledOp::FromJson {
                        from,
                        to,
                        lower_camel,
                    } => from_json(
                        doc,
                        &last_items(doc, join(from)),
                        &last_items(doc, join(to)),
                        *lower_camel,
                    )?,
                };
            }
            any_change |= changed;
            if let Some(spec) = &rule.finding
                && (rule.ops.is_empty() || changed)
            {
                hits.push(RuleHit {
                    spec: spec.clone(),
                    at: at.clone(),
                    orig,
                });
            }
        }
    }
    Ok(any_change)
}

/// `[-1]` in a catalogue path means the last item of that sequence as the document is now.
fn last_items(doc: &MNode, path: Path) -> Path {
    if !path.0.contains(&Seg::Index(usize::MAX)) {
        return path;
    }
    let mut out = Vec::with_capacity(path.0.len());
    for seg in path.0 {
        let seg = match seg {
            Seg::Index(usize::MAX) => match doc.get(&out).map(|n| &n.kind) {
                Some(MKind::Seq { items, .. }) if !items.is_empty() => Seg::Index(items.len() - 1),
                _ => Seg::Index(usize::MAX),
            },
            s => s,
        };
        out.push(seg);
    }
    Path(out)
}

/// Copy a string as the sorted list of its distinct, trimmed, non-empty parts
/// (`"az1__az2"` → `[az1, az2]`, how multi-zone labels are spelled).
fn copy_split(
    doc: &mut MNode,
    from: &Path,
    to: &Path,
    pos: &Position,
    sep: &str,
) -> Result<bool, TreeError> {
    let Some(text) = doc.get(&from.0).and_then(MNode::as_str) else {
        return Ok(false);
    };
    let mut parts: Vec<&str> = text
        .split(sep)
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    parts.sort_unstable();
    parts.dedup();
    let items = parts.into_iter().map(MNode::string).collect();
    doc.insert_at(to, MNode::new(MKind::Seq { flow: false, items }), pos)?;
    Ok(true)
}

/// Every node a rule applies to: the `at` matches, then what `recurse` reaches from them.
fn matches(doc: &MNode, base: &Path, rule: &CompiledRule) -> Vec<Path> {
    let Some(object) = doc.get(&base.0) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for at in &rule.at {
        // `@pod` stands for wherever this kind keeps its pod template.
        if let Some((Seg::Key(first), rest)) = at.0.split_first()
            && first == "@pod"
        {
            let kind = object
                .get(&[Seg::Key("kind".into())])
                .and_then(MNode::as_str);
            let Some((_, site)) = POD_TEMPLATE_SITES.iter().find(|(k, _)| Some(*k) == kind) else {
                continue;
            };
            let site = Path::parse(site).expect("valid site path");
            let pattern: Vec<Seg> = site.0.into_iter().chain(rest.iter().cloned()).collect();
            object.expand(&pattern, &mut base.0.clone(), &mut found);
            continue;
        }
        object.expand(&at.0, &mut base.0.clone(), &mut found);
    }
    let mut next = 0;
    while next < found.len() && !rule.recurse.is_empty() && found.len() < 100_000 {
        let here = found[next].clone();
        next += 1;
        if here.0.len() > 4 * crate::yaml::events::MAX_DEPTH {
            continue;
        }
        if let Some(node) = doc.get(&here.0) {
            for pattern in &rule.recurse {
                node.expand(&pattern.0, &mut here.0.clone(), &mut found);
            }
        }
    }
    found
}

/// `"80"` → `80`, for a value that moved into a field that must be an integer.
fn unquote_int(doc: &mut MNode, path: &Path) -> Result<(), TreeError> {
    if let Some(node) = doc.get_mut(&path.0)?
        && let MKind::Scalar { value, style } = &mut node.kind
        && matches!(resolve_plain(value), Value::Int(_))
    {
        *style = Style::Plain;
    }
    Ok(())
}

fn holds(doc: &MNode, rule: &CompiledRule, resolve: &dyn Fn(&RelPath) -> Path) -> bool {
    let get = |p: &RelPath| doc.get(&resolve(p).0);
    let any_eq = |n: &MNode, vs: &[toml::Value]| vs.iter().any(|v| value_eq(n, v));
    rule.has.iter().all(|p| get(p).is_some())
        && rule.missing.iter().all(|p| get(p).is_none())
        && rule.equals.iter().all(|(p, v)| get(p).is_some_and(|n| value_eq(n, v)))
        && rule.not_equals.iter().all(|(p, v)| get(p).is_none_or(|n| !value_eq(n, v)))
        && rule.one_of.iter().all(|(p, vs)| get(p).is_some_and(|n| any_eq(n, vs)))
        && rule.not_one_of.iter().all(|(p, vs)| get(p).is_none_or(|n| !any_eq(n, vs)))
        && rule.differs.iter().all(|(a, b)| match (get(a), get(b)) {
            (Some(x), Some(y)) => x.to_value().ok() != y.to_value().ok(),
            _ => false,
        })
        && rule.starts_with.iter().all(|(p, prefix)| {
            matches!(get(p).and_then(MNode::scalar_value), Some(Value::Str(s)) if s.starts_with(prefix.as_str()))
        })
        && rule.less_than.iter().all(|(p, n)| {
            matches!(get(p).and_then(MNode::scalar_value), Some(Value::Int(i)) if i.parse::<i64>().is_ok_and(|i| i < *n))
        })
        && rule.none_of.iter().all(|(p, vs)| {
            let mut reached = Vec::new();
            let start = resolve(&RelPath { from_object: p.from_object, path: Path::default() });
            if let Some(node) = doc.get(&start.0) {
                node.expand(&p.path.0, &mut start.0.clone(), &mut reached);
            }
            !reached.iter().filter_map(|r| doc.get(&r.0)).any(|n| any_eq(n, vs))
        })
        && rule.duplicates.iter().all(|p| {
            let mut reached = Vec::new();
            let start = resolve(&RelPath { from_object: p.from_object, path: Path::default() });
            if let Some(node) = doc.get(&start.0) {
                node.expand(&p.path.0, &mut start.0.clone(), &mut reached);
            }
            let mut values: Vec<Value> = reached.iter().filter_map(|r| doc.get(&r.0)?.scalar_value()).collect();
            let n = values.len();
            values.sort();
            values.dedup();
            values.len() < n
        })
        && rule.shapes.iter().all(|(p, shape)| {
            let node = get(p);
            let scalar = node.and_then(MNode::scalar_value);
            match shape {
                Shape::Int => matches!(scalar, Some(Value::Int(_))),
                Shape::String => matches!(scalar, Some(Value::Str(_))),
                Shape::Digits => {
                    matches!(&scalar, Some(Value::Str(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                }
                Shape::Empty => node.is_some_and(is_empty),
                Shape::NotEmpty => node.is_some_and(|n| !is_empty(n)),
            }
        })
}

/// An empty mapping or sequence, a null, or a mapping whose values are all empty: what a
/// label selector that selects nothing looks like.
fn is_empty(node: &MNode) -> bool {
    match &node.kind {
        MKind::Map { entries, .. } => entries.iter().all(|(_, v)| is_empty(v)),
        MKind::Seq { items, .. } => items.is_empty(),
        MKind::Scalar { .. } => node.scalar_value() == Some(Value::Null),
        MKind::Alias(_) => false,
    }
}

/// Compare a YAML node with a catalogue value by meaning: `0`, `"0"`… a quoted number is a
/// string in YAML, but Kubernetes' int fields reject strings anyway, so compare the text.
fn value_eq(node: &MNode, v: &toml::Value) -> bool {
    if matches!(v, toml::Value::Array(_) | toml::Value::Table(_)) {
        return node
            .to_value()
            .is_ok_and(|n| from_toml(v).to_value().is_ok_and(|t| t == n));
    }
    let Some(actual) = node.scalar_value() else {
        return false;
    };
    match (actual, v) {
        (Value::Int(a), toml::Value::Integer(b)) => {
            a.replace('_', "").trim_start_matches('+').parse::<i64>() == Ok(*b)
        }
        (Value::Str(a), toml::Value::String(b)) => &a == b,
        (Value::Bool(a), toml::Value::Boolean(b)) => a == *b,
        (Value::Str(a), toml::Value::Integer(b)) => a.parse::<i64>() == Ok(*b),
        _ => false,
    }
}

/// Decode a JSON annotation into YAML at `to`. Malformed JSON changes nothing (the rule
/// that calls this should report that case separately).
fn from_json(
    doc: &mut MNode,
    from: &Path,
    to: &Path,
    lower_camel: bool,
) -> Result<bool, TreeError> {
    let Some(text) = doc.get(&from.0).and_then(MNode::as_str) else {
        return Ok(false);
    };
    let Ok(json) = serde_json::from_str::<serde_json::Value>(text) else {
        return Ok(false);
    };
    if doc.get(&to.0).is_some() {
        return Ok(false);
    }
    doc.insert_at(to, json_to_yaml(&json, lower_camel), &Position::End)?;
    Ok(true)
}

fn json_to_yaml(v: &serde_json::Value, lower_camel: bool) -> MNode {
    match v {
        serde_json::Value::Null => MNode::plain("null"),
        serde_json::Value::Bool(b) => MNode::plain(if *b { "true" } else { "false" }),
        serde_json::Value::Number(n) => MNode::plain(&n.to_string()),
        serde_json::Value::String(s) => MNode::string(s),
        serde_json::Value::Array(items) => MNode::new(MKind::Seq {
            flow: false,
            items: items.iter().map(|i| json_to_yaml(i, lower_camel)).collect(),
        }),
        serde_json::Value::Object(map) => MNode::new(MKind::Map {
            flow: false,
            entries: map
                .iter()
                .map(|(k, v)| {
                    let key = if lower_camel {
                        lower_first(k)
                    } else {
                        k.clone()
                    };
                    (MNode::string(&key), json_to_yaml(v, lower_camel))
                })
                .collect(),
        }),
    }
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map_or(String::new(), |c| c.to_lowercase().chain(chars).collect())
}

/// A catalogue value as new YAML.
pub fn from_toml(v: &toml::Value) -> MNode {
    match v {
        toml::Value::String(s) => MNode::string(s),
        toml::Value::Integer(i) => MNode::plain(&i.to_string()),
        toml::Value::Float(f) => MNode::plain(&f.to_string()),
        toml::Value::Boolean(b) => MNode::plain(if *b { "true" } else { "false" }),
        toml::Value::Datetime(d) => MNode::string(&d.to_string()),
        toml::Value::Array(items) => MNode::new(MKind::Seq {
            flow: false,
            items: items.iter().map(from_toml).collect(),
        }),
        toml::Value::Table(t) => MNode::new(MKind::Map {
            flow: false,
            entries: t
                .iter()
                .map(|(k, v)| (MNode::string(k), from_toml(v)))
                .collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_values_become_yaml_with_safe_quoting() {
        assert_eq!(
            from_toml(&toml::Value::Integer(30)).scalar_value(),
            Some(Value::Int("30".into()))
        );
        assert_eq!(
            from_toml(&toml::Value::String("true".into())).scalar_value(),
            Some(Value::Str("true".into()))
        );
    }
}
