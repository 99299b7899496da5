//! `check --format sarif`: SARIF 2.1.0 (OASIS), as GitHub code scanning uploads it.
//!
//! One rule per migration id that has results (§3.49 reportingDescriptor: name, short and
//! full description, help text and the upstream migration guide as `helpUri`), one result
//! per reported object (§3.27) at the object's `apiVersion` (region §3.30, 1-based line and
//! column counted in Unicode code points, `columnKind` §3.14.17), with the findings about it
//! in the message and as related locations. Paths are relative to `%SRCROOT%`, the current
//! directory (§3.14.14 originalUriBaseIds). Files that could not be processed are
//! tool execution notifications (§3.20.21), not results.

use std::io::{self, Write};

use serde_json::{Value, json};

use crate::catalogue::{Level, codes};
use crate::plan::Status;

use super::machine::{Collector, Object, RunInfo, Script};

const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const GUIDE: &str = "https://kubernetes.io/docs/reference/using-api/deprecation-guide/";
const BASE: &str = "%SRCROOT%";

/// Where to learn about the tool: the package's homepage when set, else the guide it
/// implements.
fn information_uri() -> &'static str {
    match option_env!("CARGO_PKG_HOMEPAGE") {
        Some(h) if !h.is_empty() => h,
        _ => GUIDE,
    }
}

struct RuleInfo {
    id: String,
    summary: String,
    help: String,
    docs: String,
}

fn rule_info(id: &str, info: &RunInfo) -> RuleInfo {
    let cat = info.catalogue;
    if let Some(h) = cat.hop(id) {
        let m = &h.meta;
        return RuleInfo {
            id: id.to_string(),
            summary: sentence(&m.summary),
            help: format!(
                "{} {} {} moves to {}. When more steps follow, `kubemig fix` takes the object \
                 along the chain to the newest version that every release from --min-version \
                 to --target-version serves (the result names it), rewriting it in place and \
                 keeping its formatting; `kubemig explain {} {}` shows each step. \
                 Migration guide: {}",
                sentence(&m.summary),
                m.from,
                m.kinds.join(", "),
                m.to,
                m.from,
                m.kinds.first().map_or("KIND", String::as_str),
                m.docs
            ),
            docs: m.docs.clone(),
        };
    }
    if let Some(f) = cat.fields.iter().find(|f| f.meta.id == id) {
        let m = &f.meta;
        return RuleInfo {
            id: id.to_string(),
            summary: sentence(&m.summary),
            help: format!(
                "{} Applies to {}. `kubemig fix` rewrites what it can and reports the rest. \
                 Migration guide: {}",
                sentence(&m.summary),
                m.applies_to.join(", "),
                m.docs
            ),
            docs: m.docs.clone(),
        };
    }
    if let Some(c) = codes::find(id) {
        return RuleInfo {
            id: id.to_string(),
            summary: c.title.to_string(),
            help: c.help.to_string(),
            docs: c.docs.to_string(),
        };
    }
    // A code from a migration's rules (an object with no migration of its own).
    let reported = cat.rules_with_code(id);
    let by: Vec<&str> = reported.iter().map(|(m, _)| *m).collect();
    let docs = by
        .iter()
        .find_map(|m| cat.hop(m).map(|h| h.meta.docs.clone()))
        .unwrap_or_else(|| GUIDE.to_string());
    RuleInfo {
        id: id.to_string(),
        summary: reported.first().map_or_else(
            || format!("Finding {id} reported by kubemig."),
            |(_, f)| sentence(&crate::explain::placeholders(&f.message)),
        ),
        help: if by.is_empty() {
            format!(
                "kubemig reported {id}; the result's message says what to do. \
                 `kubemig list` shows the catalogue."
            )
        } else {
            format!(
                "Reported by the catalogue's migration {}; the result's message says what to \
                 do, and `kubemig explain {id}` shows every rule that reports it.",
                by.join(", ")
            )
        },
        docs,
    }
}

/// Whether a rule id is one of the `kubectl run` codes `--scan-scripts` reports.
fn is_script_code(id: &str) -> bool {
    [
        codes::KUBECTL_RUN_FLAG_REMOVED.id,
        codes::KUBECTL_RUN_FLAG_IGNORED.id,
    ]
    .contains(&id)
}

/// `HorizontalPodAutoscalerV2beta1ToV2`-style friendly name for a rule id.
fn friendly_name(id: &str) -> String {
    id.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut cs = w.chars();
            cs.next()
                .map(|c| c.to_ascii_uppercase().to_string() + &cs.as_str().to_ascii_lowercase())
                .unwrap_or_default()
        })
        .collect()
}

/// Text that ends like a sentence (SARIF2001).
fn sentence(s: &str) -> String {
    let t = s.trim_end();
    if t.ends_with(['.', '!', '?']) {
        t.to_string()
    } else {
        format!("{t}.")
    }
}

/// A path as a URI reference: relative paths against `%SRCROOT%`, absolute ones as
/// `file://` URIs, with what a URI cannot hold percent-encoded.
fn artifact(path: &str) -> Value {
    if path.starts_with('/') {
        json!({ "uri": format!("file://{}", encode(path)) })
    } else {
        json!({ "uri": encode(path), "uriBaseId": BASE })
    }
}

fn encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b'/'
            | b'!'
            | b'$'
            | b'&'
            | b'\''
            | b'('
            | b')'
            | b'*'
            | b'+'
            | b','
            | b';'
            | b'='
            | b'@' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn location(path: &str, line: usize, column: usize) -> Value {
    json!({
        "physicalLocation": {
            "artifactLocation": artifact(path),
            "region": { "startLine": line, "startColumn": column }
        }
    })
}

fn level(o: &Object, info: &RunInfo) -> &'static str {
    let r = &o.report;
    match r.status {
        Status::Blocked => "error",
        Status::Migrated => {
            let served = info
                .catalogue
                .version(&r.from, &r.kind)
                .is_some_and(|v| v.served_at(info.target()));
            if served { "warning" } else { "error" }
        }
        Status::Noted => {
            if o.findings.iter().any(|(_, _, f)| f.level >= Level::Warn) {
                "warning"
            } else {
                "note"
            }
        }
        Status::Deprecated => "note",
    }
}

fn message(o: &Object, info: &RunInfo) -> String {
    let r = &o.report;
    let target = info.target();
    let who = o.who();
    let mut text = match (r.status, &r.field) {
        (Status::Migrated, None) => {
            let served = info
                .catalogue
                .version(&r.from, &r.kind)
                .is_some_and(|v| v.served_at(target));
            let why = if served {
                format!("which Kubernetes {target} still serves but has deprecated")
            } else {
                format!("which Kubernetes {target} does not serve")
            };
            format!(
                "{who} uses {}, {why}; `kubemig fix` rewrites it to {}.",
                r.from,
                r.to.as_deref().unwrap_or("?")
            )
        }
        (Status::Migrated, Some(summary)) => {
            format!(
                "{who}: {}; `kubemig fix` rewrites it.",
                summary.trim_end_matches('.')
            )
        }
        (Status::Blocked, _) => {
            let reason = r
                .findings
                .iter()
                .find(|f| f.level.blocks())
                .map_or(String::new(), |f| format!(": {}", f.message));
            match &r.field {
                Some(summary) => format!(
                    "{who}: {}; kubemig cannot rewrite it, a human must{reason}",
                    summary.trim_end_matches('.')
                ),
                None => format!(
                    "{who} uses {}, which Kubernetes {target} does not serve; kubemig cannot rewrite it, a human must{reason}",
                    r.from
                ),
            }
        }
        (Status::Deprecated, _) => {
            let to =
                r.to.as_deref()
                    .map_or(String::new(), |t| format!("; it can move to {t}"));
            format!(
                "{who} uses {}, which Kubernetes {target} serves but has deprecated{to}.",
                r.from
            )
        }
        (Status::Noted, Some(summary)) => format!("{who}: {}.", summary.trim_end_matches('.')),
        (Status::Noted, None) => format!("{who}: see the findings."),
    };
    text = sentence(&text);
    for (line, col, f) in &o.findings {
        if f.level.blocks() && r.status == Status::Blocked && text.contains(&f.message) {
            continue;
        }
        text.push_str(&format!(
            "\n{} [{}] at {line}:{col}: {}",
            f.level.as_str(),
            f.code,
            sentence(&f.message)
        ));
    }
    text
}

/// A `--scan-scripts` finding: a result at the command's first flag.
fn script_result(s: &Script, ids: &[String]) -> Value {
    let f = &s.finding;
    let fix = if f.fixable {
        " `kubemig fix --scan-scripts` deletes the flags."
    } else {
        ""
    };
    json!({
        "ruleId": f.code,
        "ruleIndex": ids.binary_search_by(|i| i.as_str().cmp(f.code)).unwrap_or(0),
        "kind": "fail",
        "level": s.level(),
        "message": { "text": format!("{}{fix}", sentence(&f.message)) },
        "locations": [location(&s.path, f.line, f.col)],
        "properties": { "fixable": f.fixable }
    })
}

pub fn write(w: &mut dyn Write, c: &Collector, info: &RunInfo) -> io::Result<()> {
    let mut ids: Vec<String> = c
        .objects
        .iter()
        .map(Object::rule_id)
        .chain(c.scripts.iter().map(|s| s.finding.code.to_string()))
        .collect();
    ids.sort();
    ids.dedup();
    let rules: Vec<Value> = ids
        .iter()
        .map(|id| {
            let r = rule_info(id, info);
            let tags = if is_script_code(id) {
                json!(["kubernetes", "kubectl", "script"])
            } else {
                json!(["kubernetes", "deprecated-api"])
            };
            json!({
                "id": r.id,
                "name": friendly_name(&r.id),
                "shortDescription": { "text": r.summary },
                "fullDescription": { "text": r.summary },
                "help": { "text": r.help },
                "helpUri": r.docs,
                "defaultConfiguration": { "level": if id == codes::KUBECTL_RUN_FLAG_IGNORED.id { "warning" } else { "error" } },
                "properties": { "tags": tags }
            })
        })
        .collect();
    let results: Vec<Value> = c
        .objects
        .iter()
        .map(|o| {
            let id = o.rule_id();
            let index = ids.binary_search(&id).unwrap_or(0);
            let mut result = json!({
                "ruleId": id,
                "ruleIndex": index,
                "kind": "fail",
                "level": level(o, info),
                "message": { "text": message(o, info) },
            });
            if o.path != "<stdin>" {
                result["locations"] = json!([location(&o.path, o.line, o.column)]);
                let related: Vec<Value> = o
                    .findings
                    .iter()
                    .enumerate()
                    .map(|(i, (line, col, f))| {
                        let mut l = location(&o.path, *line, *col);
                        l["id"] = json!(i + 1);
                        l["message"] =
                            json!({ "text": sentence(&format!("[{}] {}", f.code, f.message)) });
                        l
                    })
                    .collect();
                if !related.is_empty() {
                    result["relatedLocations"] = json!(related);
                }
            }
            result
        })
        .chain(c.scripts.iter().map(|s| script_result(s, &ids)))
        .collect();
    let notifications: Vec<Value> = c
        .errors
        .iter()
        .map(|e| {
            let mut n = json!({
                "level": "error",
                "message": { "text": sentence(&format!("{}: {}", e.path, e.message)) },
                "descriptor": { "id": codes::KUBEMIG_FILE_ERROR.id }
            });
            if e.path != "<stdin>" {
                let (line, col) = e.position.unwrap_or((1, 1));
                n["locations"] = json!([location(&e.path, line, col)]);
            }
            n
        })
        .collect();
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut root = format!("file://{}", encode(&cwd.display().to_string()));
    if !root.ends_with('/') {
        root.push('/');
    }
    let mut invocation = json!({ "executionSuccessful": true });
    if !notifications.is_empty() {
        invocation["toolExecutionNotifications"] = json!(notifications);
    }
    let log = json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "kubemig",
                    "version": env!("CARGO_PKG_VERSION"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "informationUri": information_uri(),
                    "rules": rules
                }
            },
            "invocations": [invocation],
            "originalUriBaseIds": {
                BASE: { "uri": root }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
            "properties": {
                "targetVersion": info.target().to_string(),
                "minVersion": info.min().to_string()
            }
        }]
    });
    serde_json::to_writer_pretty(&mut *w, &log).map_err(io::Error::other)?;
    writeln!(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_uris() {
        assert_eq!(
            friendly_name("networking/ingress-v1beta1-to-v1"),
            "NetworkingIngressV1beta1ToV1"
        );
        assert_eq!(encode("a b/ü#?.yaml"), "a%20b/%C3%BC%23%3F.yaml");
        assert_eq!(sentence("done"), "done.");
        assert_eq!(sentence("done."), "done.");
    }
}
