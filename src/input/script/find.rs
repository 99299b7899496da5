//! Which files `--scan-scripts` reads: shell scripts, Makefiles, Dockerfiles and CI files,
//! by name, found under the paths of the run with the walk's ignore files and `--exclude`.

use std::path::{Path, PathBuf};

use ignore::WalkBuilder;

use crate::walk::{WalkOptions, absolute};

/// Whether a file is one the scan reads, by its name (and, for GitHub workflows and CircleCI,
/// its directory).
pub fn is_script(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let parent = path
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .unwrap_or("");
    let grand = path
        .parent()
        .and_then(Path::parent)
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .unwrap_or("");
    let yaml = name.ends_with(".yml") || name.ends_with(".yaml");
    [".sh", ".bash", ".zsh", ".mk", ".Dockerfile", ".dockerfile"]
        .iter()
        .any(|s| name.ends_with(s))
        || matches!(
            name,
            "Makefile" | "makefile" | "GNUmakefile" | "Jenkinsfile" | "justfile" | "Justfile"
        )
        || name.starts_with("Dockerfile")
        || name.starts_with("Containerfile")
        || name == ".gitlab-ci.yml"
        || (yaml && (name.starts_with("azure-pipelines") || name.starts_with("Taskfile")))
        || (yaml && parent == "workflows" && grand == ".github")
        || (name == "config.yml" && parent == ".circleci")
}

/// Whether a script is a Dockerfile (or Containerfile): only its `RUN` instructions hold
/// commands.
pub fn is_dockerfile(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
        n.starts_with("Dockerfile")
            || n.starts_with("Containerfile")
            || n.ends_with(".Dockerfile")
            || n.ends_with(".dockerfile")
    })
}

/// The script files under `roots`: named files that are scripts, and the scripts found by
/// walking directories (hidden ones too, for `.github/` and `.gitlab-ci.yml`, but never
/// `.git/`), with `.gitignore`, `.kubemigignore` and `--exclude` honoured.
pub fn find(roots: &[PathBuf], opts: &WalkOptions) -> Vec<PathBuf> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut out = Vec::new();
    for root in roots {
        if root.as_os_str() == "-" {
            continue;
        }
        if root.is_file() {
            if is_script(root) {
                out.push(root.clone());
            }
            continue;
        }
        let opts = opts.clone();
        let abs_root = absolute(&cwd, root);
        let base = root.clone();
        let walker = WalkBuilder::new(root)
            .hidden(false)
            .add_custom_ignore_filename(crate::walk::IGNORE_FILE)
            .filter_entry(move |e| {
                if e.depth() > 0 && e.file_name() == ".git" {
                    return false;
                }
                let is_dir = e.file_type().is_some_and(|t| t.is_dir());
                let rel = e.path().strip_prefix(&base).unwrap_or(e.path());
                e.depth() == 0 || !opts.excluded(&absolute(&abs_root, rel), is_dir, false)
            })
            .build();
        for entry in walker.flatten() {
            if entry.file_type().is_some_and(|t| t.is_file()) && is_script(entry.path()) {
                out.push(entry.path().to_path_buf());
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_names() {
        for yes in [
            "a.sh",
            "Makefile",
            "build/Dockerfile.ci",
            ".github/workflows/ci.yml",
            ".gitlab-ci.yml",
            ".circleci/config.yml",
            "Jenkinsfile",
        ] {
            assert!(is_script(Path::new(yes)), "{yes}");
        }
        for no in ["deploy.yaml", "workflows/ci.yml", "README.md"] {
            assert!(!is_script(Path::new(no)), "{no}");
        }
    }
}
