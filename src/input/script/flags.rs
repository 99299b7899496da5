//! Classifying a `kubectl run` command: which of its flags kubectl 1.26 deprecated (they were
//! already ignored) and kubectl 1.31 removed, what the finding says at the target, and what to
//! do instead.

use super::ScriptFinding;
use super::shell::Word;
use crate::catalogue::{Release, codes};

/// The `kubectl run` flags that do nothing since 1.26: long name, short letter, and whether
/// a value may follow as the next word (a flag with a default for a bare use, like
/// `--cascade`, only takes one after `=`).
const FLAGS: &[(&str, Option<char>, bool)] = &[
    ("filename", Some('f'), true),
    ("force", None, false),
    ("grace-period", None, true),
    ("kustomize", Some('k'), true),
    ("recursive", Some('R'), false),
    ("timeout", None, true),
    ("wait", None, false),
    ("cascade", None, false),
];

/// kubectl's global options that take the next word as their value (before the subcommand).
const GLOBAL_VALUE: &[&str] = &[
    "-n",
    "--namespace",
    "--context",
    "--kubeconfig",
    "-v",
    "--v",
    "--as",
    "--as-group",
    "--as-uid",
    "--cluster",
    "--user",
    "-s",
    "--server",
    "--token",
    "--request-timeout",
    "--certificate-authority",
    "--client-certificate",
    "--client-key",
    "--tls-server-name",
    "--cache-dir",
    "--username",
    "--password",
    "--profile",
    "--profile-output",
    "--log-file",
];

/// `kubectl run` options that take the next word as their value.
const RUN_VALUE: &[&str] = &[
    "--image",
    "--restart",
    "--port",
    "--env",
    "--labels",
    "-l",
    "--overrides",
    "--override-type",
    "--pod-running-timeout",
    "--annotations",
    "--image-pull-policy",
    "--field-manager",
    "--output",
    "-o",
    "--template",
    "--namespace",
    "-n",
];

/// The kubectl release that removed the flags (PR #125842); `--cascade`'s removal is
/// unconfirmed, so it is only ever reported as ignored.
const REMOVED_IN: Release = Release(31);

/// A flag as written (`--wait`, `-f`) and the words it spans (its value too).
pub(super) type Flag = (String, Vec<Word>);

/// The finding for a command with these flags (not empty), for kubectl at `target`.
pub(super) fn finding(text: &str, flags: &[Flag], target: Release) -> ScriptFinding {
    let names: Vec<String> = flags.iter().map(|f| f.0.clone()).collect();
    let removed = target >= REMOVED_IN && names.iter().any(|n| n != "--cascade");
    let fixable = flags.iter().all(|f| !f.1.iter().any(|w| w.expands));
    let first = &flags[0].1[0];
    let (line, col) = super::line_col(text, first.start);
    let what = if names.len() == 1 { "it" } else { "them" };
    let mut message = format!(
        "kubectl run {}: {}; delete {what}: {}",
        names.join(", "),
        if removed {
            "removed in kubectl 1.31, which fails with `unknown flag` (ignored since 1.26)"
        } else if names.iter().all(|n| n == "--cascade") {
            "ignored since kubectl 1.26 (whether 1.31 removed it is unconfirmed)"
        } else {
            "ignored since kubectl 1.26 and removed in 1.31"
        },
        advice(&names)
    );
    if !fixable {
        message.push_str("; a flag holds a shell expansion, so `fix` leaves this command alone");
    }
    ScriptFinding {
        line,
        col,
        removed,
        code: if removed {
            codes::KUBECTL_RUN_FLAG_REMOVED.id
        } else {
            codes::KUBECTL_RUN_FLAG_IGNORED.id
        },
        message,
        fixable,
    }
}

/// What to do instead, for the flags found (none of them ever did anything for `run`).
fn advice(names: &[String]) -> String {
    let has = |n: &[&str]| names.iter().any(|x| n.contains(&x.as_str()));
    let mut out = Vec::new();
    if has(&["--wait", "--timeout"]) {
        out.push("to wait for the pod use --pod-running-timeout, or `kubectl wait --for=condition=Ready pod/NAME --timeout=…` after it");
    }
    if has(&["--grace-period"]) {
        out.push("a grace period goes in the pod's terminationGracePeriodSeconds (--overrides or a manifest)");
    }
    if has(&["--filename", "-f", "--kustomize", "-k", "--recursive", "-R"]) {
        out.push("to create from files use kubectl apply or kubectl create");
    }
    if out.is_empty() {
        out.push("they never did anything for `run`");
    }
    out.join("; ")
}

/// The flags of a `kubectl run` command (each with the words it spans), or `None` when the
/// words are not a `kubectl run`.
pub(super) fn run_flags(words: &[Word]) -> Option<Vec<Flag>> {
    let mut i = 0;
    // Global options up to the subcommand.
    while i < words.len() && words[i].text.starts_with('-') {
        let w = &words[i].text;
        i += if GLOBAL_VALUE.contains(&w.as_str()) {
            2
        } else {
            1
        };
    }
    if words.get(i).map(|w| w.text.as_str()) != Some("run") {
        return None;
    }
    i += 1;
    let mut out = Vec::new();
    while i < words.len() {
        let w = &words[i].text;
        if w == "--" {
            break;
        }
        let (name, inline) = match w.split_once('=') {
            Some((n, _)) => (n, true),
            None => (w.as_str(), false),
        };
        let hit = if let Some(long) = name.strip_prefix("--") {
            FLAGS.iter().find(|f| f.0 == long)
        } else if let Some(short) = name.strip_prefix('-') {
            let mut cs = short.chars();
            let first = cs.next();
            let attached = cs.next().is_some();
            // `-fX` carries its value like `-f=X`.
            FLAGS
                .iter()
                .find(|f| f.1.is_some() && f.1 == first)
                .filter(|f| !attached || f.2)
        } else {
            None
        };
        match hit {
            Some(&(long, short, takes)) => {
                let attached = !name.starts_with("--") && name.len() > 2;
                let mut span = vec![words[i].clone()];
                if takes && !inline && !attached && i + 1 < words.len() && words[i + 1].text != "--"
                {
                    span.push(words[i + 1].clone());
                    i += 1;
                }
                let shown = if name.starts_with("--") {
                    format!("--{long}")
                } else {
                    format!("-{}", short.expect("short flag"))
                };
                out.push((shown, span));
            }
            None => {
                if !inline && RUN_VALUE.contains(&name) {
                    i += 1;
                }
            }
        }
        i += 1;
    }
    Some(out)
}
