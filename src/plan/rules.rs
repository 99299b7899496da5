//! Interpret the catalogue's rules on a working tree.

use crate::catalogue::model::FindingSpec;
use crate::catalogue::registry::{CompiledOp, CompiledRule, RelPath};
use crate::yaml::Value;
use crate::yaml::path::Path;

use super::mtree::{MKind, MNode, TreeError};

/// A rule's finding, at the node the rule matched.
#[derive(Debug, Clone)]
pub struct RuleHit {
    pub spec: FindingSpec,
    pub at: Path,
}

/// Apply `rules` to the object at `base` in `doc`, in order; each rule sees the result of
/// the ones before it.
pub fn apply(
    doc: &mut MNode,
    base: &Path,
    rules: &[CompiledRule],
    hits: &mut Vec<RuleHit>,
) -> Result<(), TreeError> {
    for rule in rules {
        let Some(object) = doc.get(&base.0) else {
            return Ok(());
        };
        let mut matches = Vec::new();
        for at in &rule.at {
            object.expand(&at.0, &mut base.0.clone(), &mut matches);
        }
        for at in matches {
            let resolve = |p: &RelPath| {
                if p.from_object {
                    base.join(&p.path)
                } else {
                    at.join(&p.path)
                }
            };
            if !holds(doc, rule, &resolve) {
                continue;
            }
            if let Some(spec) = &rule.finding {
                hits.push(RuleHit {
                    spec: spec.clone(),
                    at: at.clone(),
                });
            }
            for op in &rule.ops {
                match op {
                    CompiledOp::Rename(p, to) => {
                        doc.rename(&resolve(p), to)?;
                    }
                    CompiledOp::Move(from, to) => {
                        doc.move_to(&resolve(from), &resolve(to))?;
                    }
                    CompiledOp::Set {
                        path,
                        value,
                        first,
                        if_absent,
                    } => {
                        doc.set(&resolve(path), from_toml(value), *first, *if_absent)?;
                    }
                    CompiledOp::Delete(p) => {
                        doc.remove(&resolve(p))?;
                    }
                }
            }
        }
    }
    Ok(())
}

fn holds(doc: &MNode, rule: &CompiledRule, resolve: &dyn Fn(&RelPath) -> Path) -> bool {
    let get = |p: &RelPath| doc.get(&resolve(p).0);
    rule.has.iter().all(|p| get(p).is_some())
        && rule.missing.iter().all(|p| get(p).is_none())
        && rule
            .equals
            .iter()
            .all(|(p, v)| get(p).is_some_and(|n| value_eq(n, v)))
        && rule
            .not_equals
            .iter()
            .all(|(p, v)| get(p).is_none_or(|n| !value_eq(n, v)))
}

/// Compare a YAML node with a catalogue value by meaning: `0`, `"0"`… a quoted number is a
/// string in YAML, but Kubernetes' int fields reject strings anyway, so compare the text.
fn value_eq(node: &MNode, v: &toml::Value) -> bool {
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
