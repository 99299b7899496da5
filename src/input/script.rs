//! The opt-in script scan (`--scan-scripts`, k8s-field-migrations.md §4): `kubectl run` flags
//! that kubectl 1.26 deprecated (they were already ignored) and kubectl 1.31 removed, in shell
//! scripts, Makefiles, Dockerfile `RUN` instructions and CI files. Scripts are never parsed as
//! a language: a command is found by its `kubectl` word and tokenised as a shell would
//! (quotes, backslash-newline continuations); `fix` deletes only the flag tokens (and the
//! value of a space-separated `--timeout 30s`), and only when they hold no shell expansion.
//!
//! Not an [`InputKind`](super::InputKind): a script holds no YAML document to parse, plan
//! and verify, so it is a line scan beside the kinds (docs/design.md, "Layers"). One job a
//! file: [`find`] the scripts, find the `kubectl` commands in one (`shell`), classify a
//! `kubectl run` command's flags (`flags`), delete the fixable ones (`delete`). The run
//! drives it (`run::scripts`) and `report::script` prints what it finds.

pub mod find;

mod delete;
mod flags;
mod shell;

use std::path::Path;

use crate::catalogue::Release;

/// What the scan reports about one `kubectl run` command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptFinding {
    /// 1-based line and column of the first flag.
    pub line: usize,
    pub col: usize,
    /// `error` when kubectl at the target rejects a flag, otherwise `warning`.
    pub removed: bool,
    pub code: &'static str,
    pub message: String,
    /// Whether `fix` deletes every flag of this command.
    pub fixable: bool,
}

#[derive(Debug, Default)]
pub struct ScriptReport {
    pub findings: Vec<ScriptFinding>,
    /// The text with the fixable flags deleted, when there are any.
    pub rewrite: Option<String>,
}

/// Scan one script's text for `kubectl run` commands with the flags, for clusters (and
/// kubectl clients) at `target`.
pub fn scan(path: &Path, text: &str, target: Release) -> ScriptReport {
    let mut report = ScriptReport::default();
    let mut deletions: Vec<(usize, usize)> = Vec::new();
    for words in shell::kubectl_commands(text, find::is_dockerfile(path)) {
        let Some(flags) = flags::run_flags(&words) else {
            continue;
        };
        if flags.is_empty() {
            continue;
        }
        let finding = flags::finding(text, &flags, target);
        if finding.fixable {
            deletions.extend(delete::groups(text, &flags));
        }
        report.findings.push(finding);
    }
    if !deletions.is_empty() {
        report.rewrite = Some(delete::delete(text, deletions));
    }
    report
}

/// 1-based line and column (in characters) of a byte offset of `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, text[line_start..offset].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(name: &str, text: &str) -> (Vec<String>, Option<String>) {
        let r = scan(Path::new(name), text, Release(31));
        (
            r.findings
                .iter()
                .map(|f| format!("{}:{} {}", f.line, f.col, f.code))
                .collect(),
            r.rewrite,
        )
    }

    #[test]
    fn the_spec_example_loses_only_its_flags() {
        let text = "kubectl -n qa run smoke --image=curlimages/curl:8.8.0 --restart=Never --rm -i \\\n  --timeout=60s --grace-period=5 -- curl -fsS http://web/healthz\n";
        let (found, fixed) = fix("ci/smoke.sh", text);
        assert_eq!(found, ["2:3 KUBECTL-RUN-FLAG-REMOVED"]);
        assert_eq!(
            fixed.unwrap(),
            "kubectl -n qa run smoke --image=curlimages/curl:8.8.0 --restart=Never --rm -i \\\n  -- curl -fsS http://web/healthz\n"
        );
    }

    #[test]
    fn values_continuations_and_other_subcommands() {
        let text = "kubectl run a --image x --timeout 30s --wait\nkubectl delete pod a --wait --timeout=1m\nkubectl run b --image=x \\\n  --force \\\n  --restart=Never\n/usr/local/bin/kubectl run c --image=x -f pod.yaml -R\n# kubectl run d --wait\n";
        let (found, fixed) = fix("x.sh", text);
        assert_eq!(
            found,
            [
                "1:25 KUBECTL-RUN-FLAG-REMOVED",
                "4:3 KUBECTL-RUN-FLAG-REMOVED",
                "6:40 KUBECTL-RUN-FLAG-REMOVED"
            ]
        );
        assert_eq!(
            fixed.unwrap(),
            "kubectl run a --image x\nkubectl delete pod a --wait --timeout=1m\nkubectl run b --image=x \\\n  --restart=Never\n/usr/local/bin/kubectl run c --image=x\n# kubectl run d --wait\n"
        );
    }

    #[test]
    fn expansions_are_reported_not_fixed_and_quotes_end_commands() {
        let (found, fixed) = fix("x.sh", "kubectl run a --image=x --timeout=$T\n");
        assert_eq!(found, ["1:25 KUBECTL-RUN-FLAG-REMOVED"]);
        assert!(fixed.is_none());
        let text = "pipeline { steps { sh 'kubectl run a --image=x --wait' } }\n";
        let (_, fixed) = fix("Jenkinsfile", text);
        assert_eq!(
            fixed.unwrap(),
            "pipeline { steps { sh 'kubectl run a --image=x' } }\n"
        );
    }

    #[test]
    fn dockerfiles_only_in_run_and_older_targets_warn() {
        let text = "FROM alpine\nRUN apk add curl && \\\n    kubectl run a --image=x --wait; true\nCMD kubectl run b --image=x --wait\n";
        let r = scan(Path::new("Dockerfile"), text, Release(30));
        assert_eq!(r.findings.len(), 1);
        assert_eq!(r.findings[0].code, "KUBECTL-RUN-FLAG-IGNORED");
        assert!(!r.findings[0].removed);
    }

    #[test]
    fn an_ignore_comment_skips_a_command_and_a_bare_last_flag_ends_the_line_above() {
        let text = "# kubemig: ignore -- this runner pins kubectl 1.25\nkubectl run a --image=x --wait\nkubectl run b --image=x --wait # kubemig: ignore\nkubectl run c --image=x \\\n  --wait\necho done\n";
        let (found, fixed) = fix("x.sh", text);
        assert_eq!(found, ["5:3 KUBECTL-RUN-FLAG-REMOVED"]);
        assert_eq!(
            fixed.unwrap(),
            "# kubemig: ignore -- this runner pins kubectl 1.25\nkubectl run a --image=x --wait\nkubectl run b --image=x --wait # kubemig: ignore\nkubectl run c --image=x\necho done\n"
        );
    }
}
