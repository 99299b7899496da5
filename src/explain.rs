//! `kubemig explain`: what a migration changes and why, from the catalogue's own data, with
//! its example migrated live by the engine (so the example can never drift from the code).

use std::fmt::Write as _;

use anyhow::{Result, bail};

use crate::catalogue::model::Level;
use crate::catalogue::registry::{Catalogue, CompiledRule, Field, Hop};
use crate::catalogue::{Release, Window};
use crate::engine::{self, Context};

/// How a chain of hops behaves, derived from their rules: a one-word name and a phrase.
pub fn chain_class(hops: &[&Hop]) -> (&'static str, &'static str) {
    let classes: Vec<_> = hops.iter().map(|h| class(h)).collect();
    ["manual", "auto+pins", "auto+manual", "auto"]
        .into_iter()
        .find_map(|name| classes.iter().find(|c| c.0 == name).copied())
        .unwrap_or(("auto", "automatic"))
}

/// How a hop behaves, derived from its rules: a one-word name for tables and a phrase.
pub fn class(hop: &Hop) -> (&'static str, &'static str) {
    let unconditional_manual = hop.rules.iter().any(|r| {
        r.ops.is_empty()
            && r.has.is_empty()
            && r.missing.is_empty()
            && r.equals.is_empty()
            && r.not_one_of.is_empty()
            && r.finding.as_ref().is_some_and(|f| f.level.blocks())
    });
    if unconditional_manual {
        ("manual", "manual: a human decides")
    } else if hop
        .rules
        .iter()
        .any(|r| r.finding.as_ref().is_some_and(|f| f.level == Level::Pin))
    {
        ("auto+pins", "automatic, writes old defaults explicitly")
    } else if hop
        .rules
        .iter()
        .any(|r| r.finding.as_ref().is_some_and(|f| f.level.blocks()))
    {
        ("auto+manual", "automatic, but some inputs need a human")
    } else {
        ("auto", "automatic")
    }
}

/// Find the hops a query names: a migration id, or `apiVersion Kind` (the chain from there).
pub fn lookup<'c>(cat: &'c Catalogue, query: &[String]) -> Result<Vec<&'c Hop>> {
    match query {
        [id] => match cat.hop(id) {
            Some(h) => Ok(vec![h]),
            None => {
                let close: Vec<&str> = cat
                    .hops
                    .iter()
                    .map(|h| h.meta.id.as_str())
                    .chain(cat.fields.iter().map(|f| f.meta.id.as_str()))
                    .filter(|i| i.contains(id.as_str()))
                    .take(8)
                    .collect();
                if close.is_empty() {
                    bail!(
                        "no migration `{id}`; `kubemig list` shows them all, or ask `kubemig explain APIVERSION KIND`"
                    )
                }
                bail!(
                    "no migration `{id}`; did you mean one of: {}",
                    close.join(", ")
                )
            }
        },
        [api, kind] => {
            let mut chain = Vec::new();
            let mut cur = api.as_str();
            while let Some(h) = cat.hop_from(cur, kind) {
                if chain.iter().any(|c: &&Hop| c.meta.id == h.meta.id) {
                    break;
                }
                chain.push(h);
                cur = &h.meta.to;
            }
            if chain.is_empty() {
                match cat.version(api, kind) {
                    Some(v) if v.removed.is_none() && v.deprecated.is_none() => {
                        bail!("{api} {kind} is current: nothing to migrate")
                    }
                    Some(v) => bail!(
                        "{api} {kind} has no successor{}",
                        if v.note.is_empty() {
                            String::new()
                        } else {
                            format!(": {}", v.note)
                        }
                    ),
                    None => bail!(
                        "{api} {kind} is not in the catalogue: it is current, or not a built-in Kubernetes API"
                    ),
                }
            }
            Ok(chain)
        }
        _ => bail!("give a migration id, or an apiVersion and a kind"),
    }
}

/// Explain a query: a migration id, a field migration id, or `apiVersion Kind`.
pub fn explain_query(cat: &Catalogue, query: &[String]) -> Result<String> {
    if let [id] = query
        && let Some(field) = cat.fields.iter().find(|f| &f.meta.id == id)
    {
        return explain_field(cat, field);
    }
    explain(cat, &lookup(cat, query)?)
}

fn explain_field(cat: &Catalogue, field: &Field) -> Result<String> {
    let m = &field.meta;
    let mut out = String::new();
    writeln!(out, "{}: {} ({})", m.id, m.summary, m.applies_to.join(", "))?;
    let when = |r: Option<Release>| r.map_or("-".to_string(), |r| r.to_string());
    writeln!(
        out,
        "  deprecated in {}, stops working in {}",
        when(m.deprecated),
        when(m.removed)
    )?;
    write_findings(&mut out, &field.rules)?;
    writeln!(out, "  docs: {}", m.docs)?;
    if let Some(example) = &m.example {
        writeln!(
            out,
            "\n  Example, migrated by `kubemig fix` at its default target:\n"
        )?;
        out.push_str(&example_diff(cat, example)?);
    }
    Ok(out)
}

/// The findings rules can report, one line per code and level.
fn write_findings(out: &mut String, rules: &[CompiledRule]) -> std::fmt::Result {
    let mut codes: Vec<(Level, &str, &str)> = rules
        .iter()
        .filter_map(|r| r.finding.as_ref())
        .map(|f| (f.level, f.code.as_str(), f.message.as_str()))
        .collect();
    codes.dedup_by(|a, b| a.1 == b.1 && a.0 == b.0);
    if !codes.is_empty() {
        writeln!(out, "  findings:")?;
        for (level, code, message) in codes {
            writeln!(out, "    {} [{code}]: {message}", level.as_str())?;
        }
    }
    Ok(())
}

pub fn explain(cat: &Catalogue, hops: &[&Hop]) -> Result<String> {
    let mut out = String::new();
    for hop in hops {
        let m = &hop.meta;
        let kinds = m.kinds.join(", ");
        writeln!(out, "{}: {kinds} {} -> {}", m.id, m.from, m.to)?;
        let from = m.kinds.first().and_then(|k| cat.version(&m.from, k));
        let to = m.kinds.first().and_then(|k| cat.version(&m.to, k));
        if let (Some(f), Some(t)) = (from, to) {
            let when = |r: Option<Release>| r.map_or("-".to_string(), |r| r.to_string());
            writeln!(
                out,
                "  {} deprecated in {}, removed in {}; {} served since {}",
                m.from,
                when(f.deprecated),
                when(f.removed),
                m.to,
                t.introduced
            )?;
        }
        writeln!(out, "  class: {}", class(hop).1)?;
        writeln!(out, "  changes: {}", m.summary)?;
        write_findings(&mut out, &hop.rules)?;
        writeln!(out, "  docs: {}", m.docs)?;
        let example = m.example.clone().unwrap_or_else(|| {
            format!(
                "apiVersion: {}\nkind: {}\nmetadata:\n  name: example\n",
                m.from, m.kinds[0]
            )
        });
        writeln!(
            out,
            "\n  Example, migrated by `kubemig fix` at its default target:\n"
        )?;
        out.push_str(&example_diff(cat, &example)?);
        out.push('\n');
    }
    Ok(out)
}

fn example_diff(cat: &Catalogue, example: &str) -> Result<String> {
    let window = Window {
        target: cat.newest,
        min: None,
        include_deprecated: true,
    };
    let ctx = Context {
        catalogue: cat,
        window,
        prefilter: None,
    };
    let outcome = engine::process(example.as_bytes().to_vec(), &ctx);
    let mut text = Vec::new();
    match &outcome.rewrite {
        Some((old, new)) => crate::report::diff::write(&mut text, "example.yaml", old, new)?,
        None => {
            text.extend_from_slice(b"(not rewritten: it needs a human)\n");
            text.extend_from_slice(example.as_bytes());
        }
    }
    let text = anstream::adapter::strip_str(&String::from_utf8(text)?).to_string();
    Ok(text.lines().map(|l| format!("    {l}\n")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_explains_and_its_example_migrates_or_is_manual() {
        let cat = Catalogue::embedded().unwrap();
        for hop in &cat.hops {
            let text = explain(&cat, &[hop]).unwrap();
            assert!(text.contains(&hop.meta.id));
            if hop.meta.example.is_some() {
                assert!(
                    text.contains("+++ b/example.yaml") || class(hop).0 == "manual",
                    "{text}"
                );
            }
        }
    }

    #[test]
    fn every_field_migration_explains_with_a_migrated_example() {
        let cat = Catalogue::embedded().unwrap();
        assert!(!cat.fields.is_empty());
        for f in &cat.fields {
            let text = explain_query(&cat, std::slice::from_ref(&f.meta.id)).unwrap();
            assert!(text.starts_with(&f.meta.id), "{text}");
            if f.meta.example.is_some() {
                assert!(text.contains("+++ b/example.yaml"), "{text}");
            }
        }
    }

    #[test]
    fn lookup_by_id_and_by_api_kind() {
        let cat = Catalogue::embedded().unwrap();
        assert_eq!(
            lookup(&cat, &["autoscaling/hpa-v2beta2-to-v2".into()])
                .unwrap()
                .len(),
            1
        );
        let chain = lookup(
            &cat,
            &[
                "flowcontrol.apiserver.k8s.io/v1beta1".into(),
                "FlowSchema".into(),
            ],
        )
        .unwrap();
        assert_eq!(chain.len(), 3);
        assert!(lookup(&cat, &["nope".into()]).is_err());
        assert!(lookup(&cat, &["apps/v1".into(), "Deployment".into()]).is_err());
    }
}
