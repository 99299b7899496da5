//! `kubemig list`: the catalogue as a table, one row per old apiVersion and kind that
//! matters at the target (deprecated or removed by then). Every cell is one word, so the
//! table stays easy to `grep` and `awk`.

use std::io::{self, Write};

use crate::catalogue::codes;
use crate::catalogue::model::ApiVersion;
use crate::catalogue::{Catalogue, Decision, Release, Window, decide};
use crate::explain::chain_class;

pub fn write(w: &mut dyn Write, cat: &Catalogue, window: Window) -> io::Result<()> {
    let mut rows = vec![
        [
            "FROM",
            "KIND",
            "DEPRECATED",
            "REMOVED",
            "REPLACEMENT",
            "SINCE",
            "CLASS",
        ]
        .map(str::to_string)
        .into_iter()
        .chain([format!("AT {}", window.target), "MIGRATION".to_string()])
        .collect::<Vec<_>>(),
    ];
    let mut versions: Vec<&ApiVersion> = cat
        .versions
        .iter()
        .filter(|v| {
            // A pack's versions count in its add-on's releases (`--component`).
            let target = v
                .component
                .as_deref()
                .and_then(|c| cat.component_target(c))
                .unwrap_or(window.target);
            v.deprecated_at(target) || v.removed.is_some_and(|r| r <= target)
        })
        .collect();
    versions.sort_by(|a, b| (a.removed, &a.api).cmp(&(b.removed, &b.api)));
    let release = |r: Option<Release>| r.map_or("-".to_string(), |r| r.to_string());
    for v in versions {
        for kind in &v.kinds {
            // The whole chain: its end is what the object becomes when no window limits it.
            let chain: Vec<_> = cat.chain_from(&v.api, kind).collect();
            let first = chain.first();
            let replacement = chain.last().map(|h| h.meta.to.clone());
            let since = replacement
                .as_deref()
                .and_then(|r| cat.version(r, kind))
                .map(|v| v.introduced);
            let class = if chain.is_empty() {
                "removed"
            } else {
                chain_class(&chain).0
            };
            let at = match decide(cat, &v.api, kind, window) {
                _ if cat.ignores_chain(&v.api, kind) => "ignored".into(),
                Decision::Migrate { to, .. } => to,
                Decision::NoReplacement { .. } => "needs-a-human".into(),
                Decision::Deprecated { .. } => "deprecated".into(),
                Decision::Current => "served".into(),
            };
            rows.push(vec![
                v.api.clone(),
                kind.clone(),
                release(v.deprecated),
                release(v.removed),
                replacement.unwrap_or_else(|| "-".into()),
                release(since),
                class.to_string(),
                at,
                first.map_or("-".to_string(), |h| h.meta.id.clone()),
            ]);
        }
    }
    table(w, &rows)
}

/// `kubemig list --fields`: the deprecated fields inside served APIs that the catalogue knows.
pub fn write_fields(w: &mut dyn Write, cat: &Catalogue, window: Window) -> io::Result<()> {
    let release = |r: Option<Release>| r.map_or("-".to_string(), |r| r.to_string());
    let mut rows = vec![
        ["MIGRATION", "APPLIES-TO", "DEPRECATED", "REMOVED", "ACTIVE"]
            .map(str::to_string)
            .to_vec(),
    ];
    for f in &cat.fields {
        let m = &f.meta;
        // yes: rewrites files and fails `check`; note: deprecated but still working, shown
        // with -v only; no: not deprecated yet at the target.
        let active = if cat.ignores(&m.id) {
            "ignored"
        } else if m.active_at(
            window.target,
            window.include_deprecated || cat.enables(&m.id),
        ) {
            "yes"
        } else if m.deprecated_only_at(window.target) {
            "note"
        } else {
            "no"
        };
        rows.push(vec![
            m.id.clone(),
            m.applies_to.join(","),
            release(m.deprecated),
            release(m.removed),
            active.into(),
        ]);
    }
    // APPLIES-TO lists can be long: on a terminal they wrap to fit its width; piped, every
    // row stays one line for grep and awk.
    fitted(w, &rows, 1, terminal_width())
}

/// The width of the terminal stdout is, or `None` when it is not one (piped, redirected).
/// `COLUMNS` wins when set, as for other tools.
fn terminal_width() -> Option<usize> {
    use std::io::IsTerminal;
    if !io::stdout().is_terminal() {
        return None;
    }
    if let Some(n) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
        return Some(n);
    }
    #[cfg(unix)]
    {
        rustix::termios::tcgetwinsize(io::stdout())
            .ok()
            .map(|ws| usize::from(ws.ws_col))
            .filter(|&c| c > 0)
    }
    #[cfg(not(unix))]
    None
}

/// [`table`], with the comma-separated cells of column `wrap` broken after a comma onto
/// continuation lines so that rows fit in `width` (the other columns as they are).
fn fitted(
    w: &mut dyn Write,
    rows: &[Vec<String>],
    wrap: usize,
    width: Option<usize>,
) -> io::Result<()> {
    let Some(width) = width else {
        return table(w, rows);
    };
    let others: usize = (0..rows[0].len())
        .filter(|&i| i != wrap)
        .map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0) + 2)
        .sum();
    // Never narrower than a usual kind name, however small the terminal.
    let room = width.saturating_sub(others).max(24);
    let mut lines = Vec::new();
    for r in rows {
        let mut parts: Vec<String> = Vec::new();
        for item in r[wrap].split_inclusive(',') {
            match parts.last_mut() {
                Some(p) if p.len() + item.len() <= room => p.push_str(item),
                _ => parts.push(item.to_string()),
            }
        }
        for (n, part) in parts.into_iter().enumerate() {
            let mut line: Vec<String> = if n == 0 {
                r.clone()
            } else {
                vec![String::new(); r.len()]
            };
            line[wrap] = part;
            lines.push(line);
        }
    }
    table(w, &lines)
}

/// `kubemig list --packs`: the third-party API packs built in, and any a rules file
/// declares; ENABLED says which this run loads, AT the add-on version it targets.
pub fn write_packs(w: &mut dyn Write, cat: &Catalogue) -> io::Result<()> {
    let mut rows = vec![
        ["PACK", "NEWEST", "ENABLED", "AT", "SUMMARY"]
            .map(str::to_string)
            .to_vec(),
    ];
    let builtin = crate::catalogue::registry::embedded_packs()
        .map_err(|e| io::Error::other(format!("{e:#}")))?;
    let mut headers: Vec<_> = builtin.into_iter().map(|(h, _)| h).collect();
    for p in &cat.packs {
        if !headers.iter().any(|h| h.name == p.name) {
            headers.push(p.clone());
        }
    }
    for h in headers {
        let enabled = cat.packs.iter().any(|p| p.name == h.name);
        let at = cat
            .component_target(&h.name)
            .map_or("-".to_string(), |r| r.to_string());
        rows.push(vec![
            h.name.clone(),
            h.newest.to_string(),
            if enabled { "yes" } else { "no" }.into(),
            at,
            h.summary.clone(),
        ]);
    }
    table(w, &rows)
}

/// `kubemig list --codes`: every finding code, with its level and where it comes from:
/// kubemig's own ([`codes::ALL`], with their one-line title), then each code a migration's
/// rules report (with the first migration that does; `explain CODE` shows them all).
pub fn write_codes(w: &mut dyn Write, cat: &Catalogue) -> io::Result<()> {
    let mut rows = vec![
        ["CODE", "LEVEL", "FROM", "MEANING"]
            .map(str::to_string)
            .to_vec(),
    ];
    for c in codes::ALL {
        rows.push(vec![
            c.id.to_string(),
            c.level.as_str().to_string(),
            "kubemig".to_string(),
            c.title.to_string(),
        ]);
    }
    let mut seen: Vec<&str> = Vec::new();
    let rules = cat
        .hops
        .iter()
        .flat_map(|h| &h.rules)
        .chain(cat.fields.iter().flat_map(|f| &f.rules))
        .chain(&cat.global_rules);
    for f in rules.filter_map(|r| r.finding.as_ref()) {
        if seen.contains(&f.code.as_str()) || codes::find(&f.code).is_some() {
            continue;
        }
        seen.push(&f.code);
        let by = cat.rules_with_code(&f.code);
        let mut levels: Vec<&str> = by.iter().map(|(_, s)| s.level.as_str()).collect();
        levels.sort_unstable();
        levels.dedup();
        let from = match by.len() {
            0 | 1 => by.first().map_or("global", |(id, _)| *id).to_string(),
            n => format!("{} (+{})", by[0].0, n - 1),
        };
        rows.push(vec![
            f.code.clone(),
            levels.join("/"),
            from,
            crate::explain::placeholders(&f.message),
        ]);
    }
    table(w, &rows)
}

/// Rows as columns padded to their widest cell, two spaces apart.
fn table(w: &mut dyn Write, rows: &[Vec<String>]) -> io::Result<()> {
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0))
        .collect();
    for r in rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        writeln!(w, "{}", line.join("  ").trim_end())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_to_wraps_to_the_width_and_stays_whole_when_piped() {
        let rows = vec![
            vec!["ID".to_string(), "APPLIES-TO".into(), "ACTIVE".into()],
            vec![
                "pod/x".into(),
                "Pod,Deployment,StatefulSet,DaemonSet,Job,CronJob,ReplicaSet".into(),
                "yes".into(),
            ],
        ];
        let mut piped = Vec::new();
        fitted(&mut piped, &rows, 1, None).unwrap();
        assert_eq!(String::from_utf8(piped).unwrap().lines().count(), 2);
        let mut narrow = Vec::new();
        fitted(&mut narrow, &rows, 1, Some(50)).unwrap();
        let narrow = String::from_utf8(narrow).unwrap();
        assert!(narrow.lines().all(|l| l.len() <= 50), "{narrow}");
        assert!(narrow.lines().count() > 2, "{narrow}");
        // Nothing lost: the wrapped cells read back as the list.
        let cells: String = narrow
            .lines()
            .skip(1)
            .map(|l| l[7..].split_whitespace().next().unwrap_or(""))
            .collect();
        assert_eq!(cells, rows[1][1]);
        assert!(narrow.lines().nth(1).unwrap().ends_with("yes"), "{narrow}");
    }
}
