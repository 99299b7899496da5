//! `kubemig explain`: what a migration changes and why, from the catalogue's own data, with
//! its example migrated live by the engine (so the example can never drift from the code).

use std::fmt::Write as _;

use anyhow::{Result, bail};

use crate::catalogue::codes;
use crate::catalogue::model::Level;
use crate::catalogue::registry::{Catalogue, CompiledRule, Field, Hop};
use crate::catalogue::{Release, Window};
use crate::engine::{self, Context};

/// How a chain of hops behaves, derived from their rules: a one-word name and a phrase.
pub fn chain_class(hops: &[&Hop]) -> (&'static str, &'static str) {
    let classes: Vec<_> = hops.iter().map(|h| class(h)).collect();
    ["manual", "auto+manual", "auto+pins", "auto"]
        .into_iter()
        .find_map(|name| classes.iter().find(|c| c.0 == name).copied())
        .unwrap_or(("auto", "automatic"))
}

/// Whether a rule applies to every object of its hop: at the object itself, with no
/// condition and no binding (a binding that finds nothing skips the object).
fn applies_always(r: &CompiledRule) -> bool {
    r.when.is_empty()
        && r.lets.is_empty()
        && r.recurse.is_empty()
        && r.at.iter().all(|p| p.0.is_empty())
}

/// How a hop behaves, derived from its rules: a one-word name for tables and a phrase. A
/// finding that needs a human outranks pinned defaults: it is what a reader must plan for.
pub fn class(hop: &Hop) -> (&'static str, &'static str) {
    let blocks = |r: &CompiledRule| r.finding.as_ref().is_some_and(|f| f.level.blocks());
    if hop
        .rules
        .iter()
        .any(|r| r.ops.is_empty() && blocks(r) && applies_always(r))
    {
        ("manual", "manual: a human decides")
    } else if hop.rules.iter().any(blocks) {
        ("auto+manual", "automatic, but some inputs need a human")
    } else if hop
        .rules
        .iter()
        .any(|r| r.finding.as_ref().is_some_and(|f| f.level == Level::Pin))
    {
        ("auto+pins", "automatic, writes old defaults explicitly")
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
            let chain: Vec<&Hop> = cat.chain_from(api, kind).collect();
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
                    None if !cat.kinds_in(api).is_empty() => bail!(
                        "the catalogue lists no kind `{kind}` in {api} (it lists {}); kinds are spelled as in a manifest, e.g. `kubemig explain {api} {}`",
                        cat.kinds_in(api).join(", "),
                        cat.kinds_in(api)[0]
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

/// Explain a query: a migration id, a field migration id, a finding code, or
/// `apiVersion Kind`.
pub fn explain_query(cat: &Catalogue, query: &[String]) -> Result<String> {
    if let [id] = query {
        if let Some(field) = cat.fields.iter().find(|f| &f.meta.id == id) {
            return explain_field(cat, field);
        }
        if cat.hop(id).is_none() {
            let upper = id.to_ascii_uppercase();
            if codes::find(&upper).is_some() || !cat.rules_with_code(&upper).is_empty() {
                return explain_code(cat, &upper);
            }
        }
    }
    if let [api, kind] = query {
        let (kind, hint) = match known_kind(cat, api, kind) {
            Some(k) if k != kind.as_str() => (
                k.to_string(),
                format!(
                    "note: kinds are case-sensitive (`kind: {k}` in a manifest); showing {api} {k}\n"
                ),
            ),
            _ => (kind.clone(), String::new()),
        };
        if let Some(text) = without_migration(cat, api, &kind) {
            return Ok(format!("{hint}{text}"));
        }
        let hops = lookup(cat, &[api.clone(), kind.clone()])?;
        return Ok(format!("{hint}{}", explain(cat, &hops)?));
    }
    explain(cat, &lookup(cat, query)?)
}

/// The kind as the catalogue spells it in `api`, matched without regard to case.
fn known_kind<'c>(cat: &'c Catalogue, api: &str, kind: &str) -> Option<&'c str> {
    cat.kinds_in(api)
        .into_iter()
        .find(|k| k.eq_ignore_ascii_case(kind))
}

/// What to say about an apiVersion and kind that no migration leaves: served and current,
/// deprecated without a successor, or in a group/version gone at the newest release.
/// `None` when a migration does leave it (or the catalogue knows nothing to say).
fn without_migration(cat: &Catalogue, api: &str, kind: &str) -> Option<String> {
    if cat.hop_from(api, kind).is_some() {
        return None;
    }
    let when = |r: Option<Release>| r.map_or("-".to_string(), |r| r.to_string());
    match cat.version(api, kind) {
        Some(v) if v.removed.is_none() && v.deprecated.is_none() => Some(format!(
            "{api} {kind} is served (since {}), nothing to migrate\n",
            v.introduced
        )),
        Some(v) if v.removed.is_none() => Some(format!(
            "{api} {kind} is deprecated since {} and still served (no removal is scheduled); kubemig has no version to move it to{}\n  [G-DEPRECATED] `kubemig check` shows it as a note and does not fail on it\n",
            when(v.deprecated),
            if v.note.is_empty() {
                String::new()
            } else {
                format!(": {}", v.note)
            }
        )),
        Some(_) => None,
        None => {
            let gone = cat.gone_at(api)?;
            Some(format!(
                "{api} is not served from {gone} on, and it never served {kind} (it served {}): kubemig reports such objects as needing a human [G-API-GONE]\n",
                cat.kinds_in(api).join(", ")
            ))
        }
    }
}

/// `kubemig explain CODE`: what a finding code means and what to do about it.
fn explain_code(cat: &Catalogue, code: &str) -> Result<String> {
    let mut out = String::new();
    if let Some(c) = codes::find(code) {
        writeln!(
            out,
            "{code}: {}, reported by kubemig itself",
            c.level.as_str()
        )?;
        writeln!(out, "  {}", c.title)?;
        writeln!(out, "  {}", c.help)?;
        writeln!(out, "  docs: {}", c.docs)?;
        return Ok(out);
    }
    let rules = cat.rules_with_code(code);
    let levels: Vec<&str> = {
        let mut l: Vec<&str> = rules.iter().map(|(_, f)| f.level.as_str()).collect();
        l.sort_unstable();
        l.dedup();
        l
    };
    writeln!(out, "{code}: {}", levels.join(" or "))?;
    if levels.iter().any(|l| *l == "manual" || *l == "error") {
        writeln!(
            out,
            "  At this level the object is not rewritten and `check` exits 1 until a human fixes it (or `ignore = [\"{code}\"]`)."
        )?;
    }
    for (id, f) in &rules {
        writeln!(out, "\n  from {id}:")?;
        writeln!(out, "    {}", placeholders(&f.message))?;
        let docs = cat.hop(id).map(|h| h.meta.docs.as_str()).or_else(|| {
            cat.fields
                .iter()
                .find(|x| x.meta.id == *id)
                .map(|x| x.meta.docs.as_str())
        });
        if let Some(d) = docs {
            writeln!(out, "    docs: {d}")?;
        }
    }
    writeln!(
        out,
        "\n  `kubemig explain MIGRATION-ID` shows the whole migration with an example."
    )?;
    Ok(out)
}

/// A finding's message template as a reader sees it: `${name}` written `<name>`.
pub fn placeholders(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        // Nested `${a.${b}}`: up to the brace that closes this one.
        let mut depth = 1;
        let end = after.char_indices().find_map(|(j, c)| {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(j);
                    }
                }
                _ => {}
            }
            None
        });
        match end {
            Some(j) => {
                let name = after[..j].replace("${", "").replace('}', "");
                out.push('<');
                out.push_str(&name);
                out.push('>');
                rest = &after[j + 1..];
            }
            None => {
                out.push_str(&rest[i..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
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
            writeln!(
                out,
                "    {} [{code}]: {}",
                level.as_str(),
                placeholders(message)
            )?;
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

    /// The class comes from every condition a rule has: a migration whose rules can stop an
    /// object for a human, or pin a default, is never `auto`; `manual` only when some
    /// blocking rule applies to every object. (`class` once read 4 of the conditions, and
    /// called CRD, webhook, event and resource-slice migrations `manual`, so the test above
    /// skipped their examples.)
    #[test]
    fn every_migration_is_classified_from_its_rules() {
        let cat = Catalogue::embedded().unwrap();
        for hop in &cat.hops {
            let (name, _) = class(hop);
            let levels: Vec<Level> = hop
                .rules
                .iter()
                .filter_map(|r| r.finding.as_ref().map(|f| f.level))
                .collect();
            let id = &hop.meta.id;
            if levels.iter().any(|l| l.blocks()) {
                assert!(name == "manual" || name == "auto+manual", "{id}: {name}");
            } else if levels.contains(&Level::Pin) {
                assert_eq!(name, "auto+pins", "{id}");
            }
            if name == "manual" {
                assert!(
                    hop.rules.iter().any(|r| r.ops.is_empty()
                        && applies_always(r)
                        && r.finding.as_ref().is_some_and(|f| f.level.blocks())),
                    "{id}"
                );
            }
        }
        for (id, want) in [
            ("apiextensions/crd-v1beta1-to-v1", "auto+manual"),
            (
                "admissionregistration/webhooks-v1beta1-to-v1",
                "auto+manual",
            ),
            ("events/event-v1beta1-to-v1", "auto+manual"),
            ("resource/resourceslice-v1alpha3-to-v1beta1", "auto+manual"),
            ("autoscaling/scale-apps-v1beta1-to-v1", "manual"),
        ] {
            assert_eq!(class(cat.hop(id).unwrap()).0, want, "{id}");
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

    /// Every code explains: each built-in one (`ING-PATHTYPE`-style catalogue codes and
    /// `KUSTOMIZE-*` once failed), and each code a migration's rules report.
    #[test]
    fn every_finding_code_explains() {
        let cat = Catalogue::embedded().unwrap();
        let mut all: Vec<String> = codes::ALL.iter().map(|c| c.id.to_string()).collect();
        for rules in cat
            .hops
            .iter()
            .map(|h| &h.rules)
            .chain(cat.fields.iter().map(|f| &f.rules))
        {
            all.extend(
                rules
                    .iter()
                    .filter_map(|r| r.finding.as_ref())
                    .map(|f| f.code.clone()),
            );
        }
        assert!(all.iter().any(|c| c == "ING-PATHTYPE"));
        for code in &all {
            let text = explain_query(&cat, &[code.to_ascii_lowercase()])
                .unwrap_or_else(|e| panic!("{code}: {e:#}"));
            assert!(text.starts_with(&format!("{code}: ")), "{text}");
        }
        let text = explain_query(&cat, &["KUSTOMIZE-PATCH".into()]).unwrap();
        assert!(text.contains(codes::KUSTOMIZE_PATCH.help), "{text}");
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
