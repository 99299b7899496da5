//! The modules under `src/` form layers: no module may depend, directly or through others,
//! on a module that depends on it. The graph is built from the source text: every
//! `crate::…`, `super::…` and `self::…` path outside comments and `#[cfg(test)]` blocks (in
//! `use` lines, grouped `use` lists and inline paths alike), resolved to the file that
//! declares the item: a name a module re-exports from its child (`pub use
//! registry::Catalogue` in `catalogue`) resolves to the child. A module owns its children,
//! so a parent's paths into them are no edge; a child may use its parent. See docs/design.md for the layers.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module's path from the crate root: `["report", "json"]`; the root is `[]`.
type Module = Vec<String>;

fn collect(dir: &Path, prefix: &[String], out: &mut BTreeMap<Module, PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        if path.is_dir() {
            let mut m = prefix.to_vec();
            m.push(name.clone());
            collect(&path, &m, out);
        } else if let Some(stem) = name.strip_suffix(".rs") {
            let mut m = prefix.to_vec();
            if !matches!(stem, "mod" | "lib" | "main") {
                m.push(stem.to_string());
            }
            if stem != "main" {
                out.insert(m, path);
            }
        }
    }
}

/// The source without comments, string literals and `#[cfg(test)]` items, so that only
/// code that ships counts.
fn code_of(text: &str) -> String {
    let mut out = String::new();
    let mut skip_depth: Option<usize> = None;
    let mut depth = 0usize;
    let mut pending_test = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("//") {
            continue;
        }
        let line = match line.find("//") {
            Some(i) if !line[..i].contains('"') => &line[..i],
            _ => line,
        };
        if skip_depth.is_none() && trimmed.starts_with("#[cfg(test)]") {
            pending_test = true;
            continue;
        }
        let start_depth = depth;
        let mut in_str = false;
        let mut kept = String::new();
        let mut prev = ' ';
        for c in line.chars() {
            if c == '"' && prev != '\\' && prev != '\'' {
                in_str = !in_str;
            } else if !in_str {
                match c {
                    '{' => depth += 1,
                    '}' => depth = depth.saturating_sub(1),
                    _ => {}
                }
                kept.push(c);
            }
            prev = c;
        }
        if pending_test {
            if depth > start_depth {
                skip_depth = Some(start_depth);
                pending_test = false;
                continue;
            }
            if line.trim_end().ends_with(';') {
                pending_test = false;
                continue;
            }
        }
        if let Some(d) = skip_depth {
            if depth <= d {
                skip_depth = None;
            }
            continue;
        }
        out.push_str(&kept);
        out.push('\n');
    }
    out
}

/// Expand a `use` tree such as `super::{machine::{A, B}, text}` into its full paths.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        return vec![tree.split(" as ").next().unwrap().trim().to_string()];
    };
    let base = tree[..open].trim_end_matches("::").trim();
    let inner = &tree[open + 1..tree.rfind('}').unwrap()];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .flat_map(expand)
        .map(|p| {
            if p == "self" {
                base.to_string()
            } else {
                format!("{base}::{p}")
            }
        })
        .collect()
}

/// Every path the code names through `crate::`, `super::` or `self::`.
fn paths(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    // `use` statements, which may span lines and group paths in braces.
    let mut rest = code;
    while let Some(i) = rest.find("use ") {
        let boundary = i == 0
            || !rest.as_bytes()[i - 1].is_ascii_alphanumeric() && rest.as_bytes()[i - 1] != b'_';
        let after = &rest[i + 4..];
        if boundary && let Some(end) = after.find(';') {
            let stmt = &after[..end];
            if stmt
                .chars()
                .all(|c| c.is_alphanumeric() || "_:{}, *\n\t".contains(c))
                || stmt.contains(" as ")
            {
                found.extend(expand(stmt));
            }
        }
        rest = after;
    }
    // Inline paths: `crate::plan::Status::Blocked`.
    for anchor in ["crate::", "super::", "self::"] {
        let mut from = 0;
        while let Some(i) = code[from..].find(anchor) {
            let at = from + i;
            let prev = code[..at].chars().last().unwrap_or(' ');
            if !(prev.is_alphanumeric() || prev == '_' || prev == ':') {
                let tail: String = code[at..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                found.push(tail.trim_end_matches(':').to_string());
            }
            from = at + anchor.len();
        }
    }
    found
}

/// The module a path names: the longest prefix of it that is a module file.
fn resolve(
    from: &Module,
    path: &str,
    modules: &BTreeMap<Module, PathBuf>,
    reexports: &BTreeMap<Module, BTreeMap<String, Module>>,
) -> Option<Module> {
    let mut segs = path.split("::").filter(|s| !s.is_empty()).peekable();
    let mut at: Module = match *segs.peek()? {
        "crate" => {
            segs.next();
            Vec::new()
        }
        "super" | "self" => from.clone(),
        // `use child::Item` in a module that declares `child` (a re-export, say).
        first if modules.contains_key(&[from.as_slice(), &[first.to_string()]].concat()) => {
            from.clone()
        }
        _ => return None,
    };
    while let Some(&s) = segs.peek() {
        match s {
            "super" => {
                at.pop();
            }
            "self" => {}
            _ => break,
        }
        segs.next();
    }
    for s in segs {
        let mut next = at.clone();
        next.push(s.to_string());
        if modules.contains_key(&next) {
            at = next;
        } else if let Some(target) = reexports.get(&at).and_then(|r| r.get(s)) {
            // `crate::catalogue::Catalogue`, re-exported from `catalogue/registry`.
            at = target.clone();
            break;
        } else {
            break;
        }
    }
    Some(at)
}

fn graph() -> BTreeMap<Module, BTreeSet<Module>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut modules = BTreeMap::new();
    collect(&src, &[], &mut modules);
    let code: BTreeMap<Module, String> = modules
        .iter()
        .map(|(m, file)| (m.clone(), code_of(&std::fs::read_to_string(file).unwrap())))
        .collect();
    // What each module re-exports from its children (`pub use registry::{Catalogue, …}`).
    let none = BTreeMap::new();
    let mut reexports: BTreeMap<Module, BTreeMap<String, Module>> = BTreeMap::new();
    for (module, text) in &code {
        for stmt in text.split("pub use ").skip(1) {
            let Some(end) = stmt.find(';') else { continue };
            for p in expand(&stmt[..end]) {
                let last = p.rsplit("::").next().unwrap().to_string();
                if let Some(to) = resolve(module, &p, &modules, &none)
                    && to.starts_with(module)
                    && to != *module
                {
                    reexports
                        .entry(module.clone())
                        .or_default()
                        .insert(last, to);
                }
            }
        }
    }
    let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (module, text) in &code {
        let entry = edges.entry(module.clone()).or_default();
        for p in paths(text) {
            if let Some(to) = resolve(module, &p, &modules, &reexports) {
                // A module owns its children: reaching into them is no layer edge.
                if !to.starts_with(module) && !to.is_empty() {
                    entry.insert(to);
                }
            }
        }
    }
    edges
}

fn name(m: &Module) -> String {
    if m.is_empty() {
        "crate".into()
    } else {
        m.join("/")
    }
}

/// One cycle in the graph, if any: depth-first search with colours.
fn find_cycle(edges: &BTreeMap<Module, BTreeSet<Module>>) -> Option<Vec<Module>> {
    fn visit(
        m: &Module,
        edges: &BTreeMap<Module, BTreeSet<Module>>,
        state: &mut BTreeMap<Module, u8>,
        stack: &mut Vec<Module>,
    ) -> Option<Vec<Module>> {
        state.insert(m.clone(), 1);
        stack.push(m.clone());
        for next in edges.get(m).into_iter().flatten() {
            match state.get(next).copied().unwrap_or(0) {
                1 => {
                    let i = stack.iter().position(|x| x == next).unwrap();
                    let mut cycle = stack[i..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(c) = visit(next, edges, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(m.clone(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for m in edges.keys() {
        if state.get(m).copied().unwrap_or(0) == 0 {
            let mut stack = Vec::new();
            if let Some(c) = visit(m, edges, &mut state, &mut stack) {
                return Some(c);
            }
        }
    }
    None
}

#[test]
fn module_graph_has_no_cycle() {
    let edges = graph();
    // The scanner must see the graph at all: a parser that finds nothing finds no cycle.
    assert!(edges.len() > 20, "found only {} modules", edges.len());
    assert!(edges[&vec!["run".to_string()]].contains(&vec!["engine".to_string()]));
    if let Some(cycle) = find_cycle(&edges) {
        let names: Vec<_> = cycle.iter().map(name).collect();
        panic!("import cycle: {}", names.join(" -> "));
    }
}

#[test]
fn the_scanner_sees_grouped_super_and_inline_paths() {
    let code = code_of(
        "use super::{machine::{A, B}, text};\nfn f() { crate::plan::Status::Blocked; }\n\
         // crate::ignored::Path\n#[cfg(test)]\nmod tests {\n    use crate::tested;\n}\n",
    );
    let found = paths(&code);
    assert!(
        found.contains(&"super::machine::A".to_string()),
        "{found:?}"
    );
    assert!(found.contains(&"super::text".to_string()), "{found:?}");
    assert!(
        found.contains(&"crate::plan::Status::Blocked".to_string()),
        "{found:?}"
    );
    assert!(
        !found
            .iter()
            .any(|p| p.contains("ignored") || p.contains("tested")),
        "{found:?}"
    );

    let cyclic: BTreeMap<Module, BTreeSet<Module>> = [
        (
            vec!["a".to_string()],
            BTreeSet::from([vec!["b".to_string()]]),
        ),
        (
            vec!["b".to_string()],
            BTreeSet::from([vec!["a".to_string()]]),
        ),
    ]
    .into_iter()
    .collect();
    assert!(find_cycle(&cyclic).is_some());
}

/// Print every remaining cycle (one per run of the search), for `--nocapture` debugging.
#[test]
#[ignore]
fn print_graph() {
    for (m, to) in graph() {
        let to: Vec<_> = to.iter().map(name).collect();
        println!("{} -> {}", name(&m), to.join(", "));
    }
}
