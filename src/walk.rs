//! Find the files to process: named files as given, directories walked in parallel for
//! `*.yaml`, `*.yml` and `*.json`, skipping hidden entries and what `.gitignore` excludes,
//! never following symlinks. Output is sorted so results do not depend on thread timing.

use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

use ignore::{WalkBuilder, WalkState};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Input {
    Stdin,
    File(PathBuf),
}

#[derive(Debug)]
pub struct Walked {
    pub inputs: Vec<Input>,
    /// Paths that could not be walked, with the reason.
    pub errors: Vec<(PathBuf, String)>,
}

pub fn is_manifest_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
}

pub fn walk(roots: &[PathBuf]) -> Walked {
    let found = Mutex::new(Vec::new());
    let errors = Mutex::new(Vec::new());
    let mut stdin = false;
    for root in roots {
        if root.as_os_str() == "-" {
            stdin = true;
            continue;
        }
        match std::fs::metadata(root) {
            Err(e) => errors.lock().unwrap().push((root.clone(), e.to_string())),
            Ok(m) if !m.is_dir() => found.lock().unwrap().push(clean(root)),
            Ok(_) => {
                WalkBuilder::new(root)
                    .follow_links(false)
                    .build_parallel()
                    .run(|| {
                        Box::new(|entry| {
                            match entry {
                                Ok(e) => {
                                    if e.file_type().is_some_and(|t| t.is_file())
                                        && is_manifest_name(e.path())
                                    {
                                        found.lock().unwrap().push(clean(e.path()));
                                    }
                                }
                                Err(err) => {
                                    let mut errors = errors.lock().unwrap();
                                    describe(&err, root, "", &mut errors);
                                }
                            }
                            WalkState::Continue
                        })
                    });
            }
        }
    }
    let mut files = found.into_inner().unwrap();
    files.sort();
    files.dedup();
    same_file_once(&mut files);
    let mut inputs: Vec<Input> = files.into_iter().map(Input::File).collect();
    if stdin {
        inputs.insert(0, Input::Stdin);
    }
    let mut errors = errors.into_inner().unwrap();
    errors.sort();
    errors.dedup();
    Walked { inputs, errors }
}

/// One `(path, message)` per problem in a walk error, naming the entry that failed rather
/// than the root it was found under, each message on one line.
fn describe(err: &ignore::Error, path: &Path, prefix: &str, out: &mut Vec<(PathBuf, String)>) {
    use ignore::Error as E;
    match err {
        E::Partial(errs) => {
            for e in errs {
                describe(e, path, prefix, out);
            }
        }
        E::WithDepth { err, .. } => describe(err, path, prefix, out),
        E::WithPath { path, err } => describe(err, &clean(path), prefix, out),
        E::WithLineNumber { line, err } => {
            describe(err, path, &format!("{prefix}line {line}: "), out)
        }
        E::Io(e) => out.push((path.to_path_buf(), format!("{prefix}cannot read: {e}"))),
        e => out.push((
            path.to_path_buf(),
            format!("{prefix}{}", e.to_string().replace('\n', "; ")),
        )),
    }
}

/// Keep one name per file: `a.yaml`, `sub/../a.yaml` and `/abs/a.yaml` are the same file, and
/// processing it twice would make the second `fix` fail. The first name in sorted order wins.
#[cfg(unix)]
fn same_file_once(files: &mut Vec<PathBuf>) {
    use std::collections::HashSet;
    use std::os::unix::fs::MetadataExt;
    let mut seen = HashSet::new();
    files.retain(|p| match std::fs::symlink_metadata(p) {
        Ok(m) => seen.insert((m.dev(), m.ino())),
        Err(_) => true,
    });
}

#[cfg(not(unix))]
fn same_file_once(_: &mut Vec<PathBuf>) {}

/// `./a.yaml` → `a.yaml`, `sub//./b.yaml` → `sub/b.yaml`, so diff headers read `a/a.yaml` as
/// git expects (`git apply` rejects `.` components and empty ones).
fn clean(p: &Path) -> PathBuf {
    let cleaned: PathBuf = p
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect();
    if cleaned.as_os_str().is_empty() {
        p.to_path_buf()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_drops_dot_and_empty_components() {
        for (given, want) in [
            ("./a.yaml", "a.yaml"),
            ("sub//./b.yaml", "sub/b.yaml"),
            ("./sub/./c.yml", "sub/c.yml"),
            ("/abs/./d.json", "/abs/d.json"),
            ("../up/e.yaml", "../up/e.yaml"),
            (".", "."),
        ] {
            assert_eq!(clean(Path::new(given)), Path::new(want), "{given}");
        }
    }
}
