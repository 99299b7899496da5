//! The finding codes kubemig reports itself (not from a catalogue rule), declared once: code,
//! usual level, one-line title, help text and where to read more.
//!
//! This is a Rust table rather than a `migrations/codes.toml` because every one of these
//! codes is emitted by Rust code: a constant the compiler checks (`codes::G_WINDOW`) cannot
//! be misspelt where a finding is built, while a string looked up in a data file could only
//! fail at run time. The codes that migrations report are data in their own rules
//! (`finding = { code = … }`), and `kubemig explain CODE` reads both.
//!
//! SARIF rule help, `kubemig explain CODE`, `kubemig list --codes` and docs/codes.md
//! (checked by a test) all come from [`ALL`].

use super::model::Level;

/// One built-in finding code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    /// The code as printed: `G-WINDOW`.
    pub id: &'static str,
    /// The level it is usually reported at (a few codes are also reported at another one,
    /// which the finding's constructor names).
    pub level: Level,
    /// What it means, in one line.
    pub title: &'static str,
    /// What to do about it: SARIF's rule help and `kubemig explain CODE`.
    pub help: &'static str,
    /// Where to read more (SARIF's `helpUri`): the upstream guide the code is about.
    pub docs: &'static str,
    /// Whether `ignore` accepts it. `KUBEMIG-*` codes say kubemig cannot rewrite something
    /// safely: ignoring them would let it try.
    pub ignorable: bool,
}

const GUIDE: &str = "https://kubernetes.io/docs/reference/using-api/deprecation-guide/";
const KUBECTL_RUN: &str =
    "https://kubernetes.io/docs/reference/generated/kubectl/kubectl-commands#run";

macro_rules! codes {
    ($($name:ident = $id:literal, $level:ident, $ignorable:literal, $docs:expr,
        $title:literal, $help:literal;)*) => {
        $(pub const $name: Code = Code {
            id: $id,
            level: Level::$level,
            title: $title,
            help: $help,
            docs: $docs,
            ignorable: $ignorable,
        };)*
        /// Every built-in code, in the order of docs/codes.md.
        pub const ALL: &[Code] = &[$($name),*];
    };
}

codes! {
    G_API_GONE = "G-API-GONE", Manual, true, GUIDE,
        "The group/version is not served at the target at all, and the catalogue does not list the object's kind there.",
        "The object's group/version is not served at the target at all, and the catalogue does not list its kind there: the API server will reject it ('no matches for kind'). Check the kind's spelling, and move the object to the group/version that serves that kind now (`kubectl api-resources` lists them).";
    G_NO_SERVED_REPLACEMENT = "G-NO-SERVED-REPLACEMENT", Manual, true, GUIDE,
        "An API version the target release no longer serves, with no served replacement.",
        "The object's apiVersion is not served at the target and no version on its migration chain is: nothing kubemig can write would be accepted. Move to the API that replaced it (see the note), remove the object, or choose an older --target-version.";
    G_NO_KIND = "G-NO-KIND", Manual, true, GUIDE,
        "A document with a removed apiVersion but no kind.",
        "The document has a removed apiVersion but no `kind` (or a kind that is not a string): neither kubectl nor kubemig can tell what it is, and the API server would reject it. Add the kind, then run kubemig again.";
    G_WINDOW = "G-WINDOW", Warn, true, GUIDE,
        "The version chosen is not served on every release back to --min-version.",
        "The version chosen is served at the target but not on every release back to --min-version: applying the output to an older cluster would fail. Upgrade the old clusters first, or raise --min-version.";
    G_CHOSEN_DEPRECATED = "G-CHOSEN-DEPRECATED", Warn, true, GUIDE,
        "The version chosen for the --min-version window is itself deprecated at the target.",
        "The version chosen to keep every release of the --min-version window working is itself deprecated at the target and removed by a later release: the manifest will need migrating again before that release. Raise --min-version to move straight to the newer version.";
    G_DEPRECATED = "G-DEPRECATED", Info, true, GUIDE,
        "An API version the target release still serves but has deprecated.",
        "The object's apiVersion is still served at the target but deprecated: it keeps working, so `check` does not fail on it. Shown as a note. Where a served replacement exists, `--include-deprecated` (or `--enable MIGRATION-ID`) migrates it; where none exists, plan the change by hand before the release that removes it.";
    F_DEPRECATED = "F-DEPRECATED", Info, true, GUIDE,
        "A deprecated field, annotation or label that the target still honours.",
        "A deprecated field, annotation or label that the target still honours: nothing breaks, so kubemig only notes it (shown with -v). `--enable MIGRATION-ID` or --include-deprecated applies the migration.";
    HELM_TEMPLATED = "HELM-TEMPLATED", Manual, true, GUIDE,
        "An object in a Helm template whose migration must change or read text a template action writes.",
        "The migration of this object in a Helm template must edit or read text that a `{{ … }}` action writes (a computed apiVersion, a `toYaml` value the pins would change, labels chosen by `if`/`with`/`range`, an insert inside `range`), so no rewrite holds for every value. The finding names the line or action; change the template by hand, e.g. write the field literally or give the values file the new shape.";
    HELM_GUARDED = "HELM-GUARDED", Warn, true, GUIDE,
        "An object in a Helm template already guarded by a Capabilities check on its apiVersion.",
        "The object in a Helm template is already guarded by a Capabilities check on its apiVersion: kubemig leaves the branches as the chart author wrote them.";
    HELM_UNRESOLVED = "HELM-UNRESOLVED", Manual, true, GUIDE,
        "A group/version the target does not serve, in a place of a Helm chart kubemig cannot rewrite.",
        "A group/version the target does not serve appears in a Helm chart where kubemig cannot plan an object: a helper (`_helpers.tpl`) returns it, a values file sets it (or the version half of an apiVersion a template builds from values), or a template's object has a templated or unknown kind. Change it by hand to the replacement the finding names; a guarded fallback for older clusters is only noted.";
    KUSTOMIZE_PATCH = "KUSTOMIZE-PATCH", Manual, false, GUIDE,
        "A patch listed by a kustomization that kubemig cannot migrate with its resource.",
        "A kustomization's patch is a partial object: kubemig changes its apiVersion when the patch carries no field the migration changes, and otherwise reports it, because merged onto the migrated resource the patch would bring the old field back. Rewrite the patch in the new version's form by hand, then rerun.";
    KUSTOMIZE_TARGET = "KUSTOMIZE-TARGET", Manual, false, GUIDE,
        "A kustomization's patch target that selects objects by an apiVersion that changes.",
        "A `target` of a kustomization's patch selects objects by group, version and kind: once the objects move to their new version, a target that names the old one no longer selects them. kubemig rewrites targets it can follow; spell out group, version and kind where it cannot, then rerun.";
    KUBEMIG_ALIAS = "KUBEMIG-ALIAS", Manual, false, GUIDE,
        "The apiVersion is written as a YAML alias.",
        "The object's `apiVersion` is a YAML alias (`*name`): kubemig does not rewrite through aliases, since the anchored value may be used elsewhere or sit in a field the migration deletes. Write the apiVersion out, then rerun.";
    KUBEMIG_MERGE_KEY = "KUBEMIG-MERGE-KEY", Manual, false, GUIDE,
        "The object uses a YAML merge key (<<).",
        "The object uses a YAML merge key (`<<`): what a migration changes may come from the merged mapping, which other objects share. Expand the merge by hand, then rerun.";
    KUBEMIG_SHAPE = "KUBEMIG-SHAPE", Manual, false, GUIDE,
        "The object's shape is not what its migration expects.",
        "A field the migration reads or writes has an unexpected shape (a scalar where a mapping belongs, for example), so the rewrite could not be done faithfully. The message names the field: fix the object, or migrate it by hand.";
    KUBEMIG_LAYOUT = "KUBEMIG-LAYOUT", Manual, false, GUIDE,
        "The object is written in a form kubemig cannot edit without re-serializing it.",
        "kubemig edits manifests in place and never re-serializes them; this object's layout (the message says where) does not allow the edit its migration needs. Migrate this object by hand.";
    KUBEMIG_IGNORE_UNKNOWN = "KUBEMIG-IGNORE-UNKNOWN", Warn, false, GUIDE,
        "A `# kubemig: ignore=` comment that names no migration.",
        "A `# kubemig: ignore=ID` comment names no migration id or finding code, so it suppresses nothing. Correct the id (`kubemig list` shows them) or delete the comment.";
    KUBECTL_RUN_FLAG_REMOVED = "KUBECTL-RUN-FLAG-REMOVED", Error, false, KUBECTL_RUN,
        "A `kubectl run` flag that kubectl at the target no longer accepts.",
        "kubectl 1.26 deprecated the `kubectl run` flags --cascade, --filename/-f, --force, --grace-period, --kustomize/-k, --recursive/-R, --timeout and --wait (run already ignored them), and kubectl 1.31 removed all but --cascade: the command fails with `unknown flag`. Delete the flags: `kubemig fix --scan-scripts` deletes them unless one holds a shell expansion. To wait for the pod use --pod-running-timeout or `kubectl wait`; a grace period goes in the pod's terminationGracePeriodSeconds.";
    KUBECTL_RUN_FLAG_IGNORED = "KUBECTL-RUN-FLAG-IGNORED", Warn, false, KUBECTL_RUN,
        "A `kubectl run` flag that kubectl ignores and has deprecated.",
        "Since kubectl 1.26 `kubectl run` ignores --cascade, --filename/-f, --force, --grace-period, --kustomize/-k, --recursive/-R, --timeout and --wait, and kubectl 1.31 removed all but --cascade (whose removal is unconfirmed). The command still runs at the target, but the flags do nothing: delete them. `kubemig fix --scan-scripts` deletes them unless one holds a shell expansion.";
    KUBEMIG_OBJECT = "KUBEMIG-OBJECT", Info, false, GUIDE,
        "An object reported without a migration or a finding.",
        "The SARIF rule and GitHub annotation title for an object that has neither a migration id nor a finding code; the message says what was found.";
    KUBEMIG_FILE_ERROR = "KUBEMIG-FILE-ERROR", Error, false, GUIDE,
        "A file that could not be read or parsed.",
        "A file kubemig could not process: unreadable, not valid YAML (`PATH:LINE:COL: error: ...`), or refused for safety. Nothing in it was checked or rewritten; other files were. Fix the file, then rerun.";
}

/// The built-in code `id`, if it is one.
pub fn find(id: &str) -> Option<&'static Code> {
    ALL.iter().find(|c| c.id == id)
}

/// The Markdown table of [`ALL`] that docs/codes.md carries (a test keeps them equal).
pub fn markdown_table() -> String {
    let mut out = String::from("| code | level | meaning |\n|---|---|---|\n");
    for c in ALL {
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            c.id,
            c.level.as_str(),
            c.title
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/codes.md lists exactly the codes of [`ALL`], as [`markdown_table`] writes them
    /// (`KUBEMIG_BLESS=1` rewrites its table).
    #[test]
    fn docs_table_lists_exactly_the_registry() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/codes.md");
        let text = std::fs::read_to_string(&path).unwrap();
        let start = text
            .find("| code | level | meaning |")
            .expect("docs/codes.md has the table");
        let end = text[start..]
            .find("\n\n")
            .map_or(text.len(), |i| start + i + 1);
        let want = markdown_table();
        if text[start..end] != want && std::env::var_os("KUBEMIG_BLESS").is_some() {
            std::fs::write(&path, format!("{}{want}{}", &text[..start], &text[end..])).unwrap();
            return;
        }
        assert_eq!(
            text[start..end],
            want,
            "docs/codes.md is out of date: KUBEMIG_BLESS=1"
        );
    }

    #[test]
    fn codes_are_unique_upper_case_and_titled_in_one_line() {
        let mut ids: Vec<&str> = ALL.iter().map(|c| c.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), ALL.len(), "a code is declared twice");
        for c in ALL {
            assert!(
                c.id.bytes().all(|b| b.is_ascii_uppercase() || b == b'-'),
                "{}",
                c.id
            );
            assert!(
                !c.title.contains('\n') && c.title.ends_with('.'),
                "{}",
                c.id
            );
            assert!(c.help.len() > c.title.len(), "{}", c.id);
            assert_eq!(
                c.ignorable,
                !c.id.starts_with("KUBEMIG-")
                    && !c.id.starts_with("KUSTOMIZE-")
                    && !c.id.starts_with("KUBECTL-"),
                "{}",
                c.id
            );
        }
    }
}
