//! Find the files to process: named files as given, directories walked in parallel for
//! `*.yaml`, `*.yml` and `*.json`, skipping hidden entries and what `.gitignore` excludes,
//! never following symlinks. Output is sorted so results do not depend on thread timing.

use std::path::{Path, PathBuf};
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
            Ok(m) if !m.is_dir() => found.lock().unwrap().push(root.clone()),
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
                                    errors.lock().unwrap().push((root.clone(), err.to_string()))
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
    let mut inputs: Vec<Input> = files.into_iter().map(Input::File).collect();
    if stdin {
        inputs.insert(0, Input::Stdin);
    }
    let mut errors = errors.into_inner().unwrap();
    errors.sort();
    Walked { inputs, errors }
}

/// `./a.yaml` → `a.yaml`, so diff headers read `a/a.yaml` as git expects.
fn clean(p: &Path) -> PathBuf {
    p.strip_prefix(".")
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| p.to_path_buf())
}
