//! Paths in the rule language, relative to the node a rule matched (`spec.x`), to the
//! object (`$.spec.x`), to an ancestor (`^.x`), to the pod template (`@pod.x`), or a `let`
//! variable (`${name}`); and the other small values rules are compiled from.

use anyhow::{Context, Result};

use crate::yaml::path::Path;

/// Where a rule's path starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Root {
    /// The node the rule matched (the default).
    At,
    /// The object (`$.…`).
    Object,
    /// The kind's pod template site (`@pod.…`).
    Pod,
    /// The matched node's N-th ancestor (`^.…` is the parent, `^^.…` its parent).
    Up(usize),
    /// Not a node: the value of a `let` variable (`${name}`), for conditions.
    Var(String),
}

/// A path that is relative to the `at` node, or to the object when written `$.…`. Its keys
/// may contain `${name}` variables, replaced when the rule runs.
#[derive(Debug, Clone)]
pub struct RelPath {
    pub root: Root,
    pub path: Path,
    /// Whether some key contains `${…}`.
    pub vars: bool,
}

/// A type check on a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Int,
    String,
    Digits,
    Empty,
    NotEmpty,
}

pub fn rel(text: &str) -> Result<RelPath> {
    // `${name}`, or a name built from other variables: `${assume.vsphere-fcd-id.${pv}}`.
    if let Some(name) = text.strip_prefix("${").and_then(|r| r.strip_suffix('}'))
        && (is_var_name(name) || is_var_name(&name.replace("${", "").replace('}', "")))
    {
        return Ok(RelPath {
            root: Root::Var(name.to_string()),
            path: Path::default(),
            vars: name.contains("${"),
        });
    }
    let ups = text.bytes().take_while(|&b| b == b'^').count();
    let (root, body) = if text.starts_with('$') && !text.starts_with("${") {
        (Root::Object, &text[1..])
    } else if let Some(rest) = text
        .strip_prefix("@pod")
        .filter(|r| r.is_empty() || r.starts_with(['.', '[']))
    {
        (Root::Pod, rest)
    } else if ups > 0 {
        (Root::Up(ups), &text[ups..])
    } else {
        (Root::At, text)
    };
    let body = body.strip_prefix('.').unwrap_or(body);
    let path = Path::parse(body).map_err(anyhow::Error::msg)?;
    Ok(RelPath {
        root,
        vars: body.contains("${"),
        path,
    })
}

pub fn is_var_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
}

/// A rule's regular expression. Compiling every one of them was a fifth of each run's
/// start-up, and a run uses few: those of the embedded catalogue (compiled in a unit test)
/// are compiled on first use; any other file's (`--rules`, packs) as it loads, so that a bad
/// one is an error there.
#[derive(Debug, Clone)]
pub struct Pattern {
    text: Box<str>,
    re: std::sync::OnceLock<regex::Regex>,
}

impl std::ops::Deref for Pattern {
    type Target = regex::Regex;

    fn deref(&self) -> &regex::Regex {
        self.re.get_or_init(|| {
            regex::Regex::new(&self.text).expect("the embedded catalogue's patterns compile")
        })
    }
}

thread_local! {
    /// Set while the embedded catalogue's own files compile (see [`Pattern`]).
    static DEFER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// While it lives, the patterns compiled on this thread are deferred to their first use
/// when `defer` is true: only for the embedded catalogue's own files, whose patterns a unit
/// test compiles.
pub struct DeferPatterns(bool);

impl DeferPatterns {
    pub fn new(defer: bool) -> DeferPatterns {
        DeferPatterns(DEFER.replace(defer))
    }
}

impl Drop for DeferPatterns {
    fn drop(&mut self) {
        DEFER.set(self.0);
    }
}

pub fn regex(text: &str) -> Result<Pattern> {
    let re = std::sync::OnceLock::new();
    if !DEFER.get() {
        let compiled =
            regex::Regex::new(text).with_context(|| format!("bad regular expression `{text}`"))?;
        let _ = re.set(compiled);
    }
    Ok(Pattern {
        text: text.into(),
        re,
    })
}
