//! Kustomize: which files are kustomizations and which are the patches they list.
//!
//! Which files are patches is decided before processing, from the walked files: every
//! kustomization among them, or in a directory above one of them (kustomize loads files
//! only from below a kustomization's directory by default), is read and the files it lists
//! are marked ([`Roles`]). How a kustomization or a patch is planned once its role is known
//! is the input kind [`crate::input::kustomize`].

use std::collections::{HashMap, HashSet};
use std::path::{Path as FsPath, PathBuf};

use crate::walk::Input;
use crate::yaml::{Node, NodeKind, parse_stream};

/// What a file is to kustomize.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Role {
    /// Manifests (or anything not known to kustomize).
    #[default]
    Plain,
    /// A kustomization file.
    Kustomization,
    /// A patch listed by a kustomization: a partial object.
    Patch,
}

/// The file names kustomize reads a kustomization from.
pub const KUSTOMIZATION_NAMES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

pub fn is_kustomization_name(path: &FsPath) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| KUSTOMIZATION_NAMES.contains(&n))
}

/// The role of every walked file.
#[derive(Debug, Default)]
pub struct Roles {
    by_input: HashMap<PathBuf, Role>,
}

impl Roles {
    /// Find the kustomizations among `inputs` and in the directories above them, and mark
    /// the patch files they list.
    /// `not_links[i]` says that `inputs[i]` is known not to be a symlink.
    pub fn build(inputs: &[Input], not_links: &[bool]) -> Roles {
        // Canonical directories, each worked out once: a full `canonicalize` per file (a
        // readlink per path component) cost more than reading the files. Nothing is kept
        // per input but its role, when it has one (memory stays small at 100k files), and
        // the system calls run on every core.
        use rayon::prelude::*;
        let parent = |p: &FsPath| -> PathBuf {
            match p.parent() {
                Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                _ => PathBuf::from("."),
            }
        };
        let mut parents: Vec<PathBuf> = inputs
            .iter()
            .filter_map(|i| match i {
                Input::File(p) => Some(parent(p)),
                Input::Stdin => None,
            })
            .collect();
        parents.sort_unstable();
        parents.dedup();
        let dirs = canonical_dirs(parents);
        // Where each input really is: its directory's canonical path and its name, or for
        // a symlink (named on the command line, or walked with --follow-symlinks) its target.
        let absolute = |i: usize, p: &FsPath| -> Option<PathBuf> {
            let not_link = not_links.get(i).copied().unwrap_or(false)
                || std::fs::symlink_metadata(p).is_ok_and(|m| !m.file_type().is_symlink());
            match p.file_name() {
                Some(name) if not_link => dirs.get(&parent(p))?.as_ref().map(|d| d.join(name)),
                _ => p.canonicalize().ok(),
            }
        };
        // Inputs not known to be plain files (few) may sit elsewhere than their directory.
        let unsure: Vec<PathBuf> = inputs
            .par_iter()
            .enumerate()
            .filter(|(i, _)| !not_links.get(*i).copied().unwrap_or(false))
            .filter_map(|(i, input)| match input {
                Input::File(p) => absolute(i, p),
                Input::Stdin => None,
            })
            .collect();
        // Every directory above an input, once, then the kustomizations in them.
        let mut seen: HashSet<&FsPath> = HashSet::new();
        let starts = dirs
            .values()
            .flatten()
            .map(PathBuf::as_path)
            .chain(unsure.iter().filter_map(|p| p.parent()));
        for start in starts {
            let mut dir = Some(start);
            while let Some(d) = dir {
                if !seen.insert(d) {
                    break;
                }
                dir = d.parent();
            }
        }
        let mut above: Vec<&FsPath> = seen.into_iter().collect();
        above.sort_unstable();
        let kustomizations: Vec<PathBuf> = above
            .par_iter()
            .flat_map_iter(|d| KUSTOMIZATION_NAMES.iter().map(move |n| d.join(n)))
            .filter(|f| f.is_file())
            .collect();
        let mut roles: HashMap<PathBuf, Role> = HashMap::new();
        for k in &kustomizations {
            roles.insert(k.clone(), Role::Kustomization);
        }
        // Reading and parsing the kustomizations runs on every core. A kustomization is
        // never demoted to a patch, whatever the order.
        let listed: Vec<Vec<PathBuf>> = kustomizations
            .par_iter()
            .map(|k| {
                listed_patches(k)
                    .into_iter()
                    .filter_map(|p| p.canonicalize().ok())
                    .collect()
            })
            .collect();
        for c in listed.into_iter().flatten() {
            roles.entry(c).or_insert(Role::Patch);
        }
        let by_input = inputs
            .par_iter()
            .enumerate()
            .filter_map(|(i, input)| {
                let Input::File(p) = input else { return None };
                let abs = absolute(i, p)?;
                let role = roles
                    .get(&abs)
                    .copied()
                    .or_else(|| is_kustomization_name(&abs).then_some(Role::Kustomization))?;
                Some((p.clone(), role))
            })
            .collect();
        Roles { by_input }
    }

    pub fn of(&self, input: &Input) -> Role {
        match input {
            Input::File(p) => self.by_input.get(p).copied().unwrap_or_default(),
            Input::Stdin => Role::Plain,
        }
    }
}

/// The canonical path of each of `dirs` (sorted). A directory that is not a symlink is its
/// parent's canonical path and its name, so one `lstat` replaces `realpath`'s readlink per
/// path component (100k files in 15k directories: 76k readlinks and 10k getcwds before).
fn canonical_dirs(dirs: Vec<PathBuf>) -> HashMap<PathBuf, Option<PathBuf>> {
    use rayon::prelude::*;
    use std::path::Component;
    // Every directory on the way up, each `lstat`ed once, on every core; then the paths
    // are put together without another system call.
    let mut all: HashSet<&FsPath> = HashSet::new();
    for d in &dirs {
        let mut dir = Some(d.as_path());
        while let Some(x) = dir.filter(|x| !x.as_os_str().is_empty()) {
            if !all.insert(x) {
                break;
            }
            dir = x.parent();
        }
    }
    let real: HashSet<&FsPath> = all
        .into_par_iter()
        .filter(|d| std::fs::symlink_metadata(d).is_ok_and(|m| m.file_type().is_dir()))
        .collect();
    fn canon<'a>(
        d: &'a FsPath,
        real: &HashSet<&FsPath>,
        known: &mut HashMap<&'a FsPath, Option<PathBuf>>,
    ) -> Option<PathBuf> {
        if let Some(c) = known.get(d) {
            return c.clone();
        }
        let plain_name = match d.components().next_back() {
            Some(Component::Normal(name)) => Some(name),
            _ => None,
        };
        let c = match (plain_name, d.parent()) {
            (Some(name), Some(parent)) if real.contains(d) => {
                let parent = if parent.as_os_str().is_empty() {
                    FsPath::new(".")
                } else {
                    parent
                };
                canon(parent, real, known).map(|p| p.join(name))
            }
            // A symlink, `..`, `.`, a root, or not there: the system decides.
            _ => d.canonicalize().ok(),
        };
        known.insert(d, c.clone());
        c
    }
    let mut known = HashMap::new();
    dirs.iter()
        .map(|d| (d.clone(), canon(d, &real, &mut known)))
        .collect()
}

/// The patch files a kustomization lists, resolved against its directory.
fn listed_patches(kustomization: &FsPath) -> Vec<PathBuf> {
    let Some(dir) = kustomization.parent() else {
        return Vec::new();
    };
    let Ok(meta) = std::fs::metadata(kustomization) else {
        return Vec::new();
    };
    if meta.len() > 4 << 20 {
        return Vec::new();
    }
    let Ok(text) = std::fs::read_to_string(kustomization) else {
        return Vec::new();
    };
    let Ok(docs) = parse_stream(&text) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for doc in &docs {
        let root = &doc.root;
        for item in items(root.get("patchesStrategicMerge")) {
            if let Some(p) = item.as_str().filter(|p| !p.contains('\n')) {
                out.push(dir.join(p));
            }
        }
        for key in ["patches", "patchesJson6902"] {
            for item in items(root.get(key)) {
                if let Some(p) = item.get("path").and_then(Node::as_str) {
                    out.push(dir.join(p));
                }
            }
        }
    }
    out
}

/// The items of a sequence (none for anything else).
pub(crate) fn items(node: Option<&Node>) -> &[Node] {
    match node.map(|n| &n.kind) {
        Some(NodeKind::Seq { items, .. }) => items,
        _ => &[],
    }
}

/// Whether a file must be parsed whatever the prefilter says: a kustomization spells a
/// patch target's group and version apart, so no `group/version` needle finds it.
pub fn always_parse(role: Role, text: &[u8]) -> bool {
    // Built once: a searcher per file showed in the profile of a 100k-file run.
    static GROUP: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"kustomize.config.k8s.io/"));
    role == Role::Kustomization || GROUP.find(text).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn directories_resolve_through_symlinks_like_realpath() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("real/sub")).unwrap();
        std::os::unix::fs::symlink(root.join("real"), root.join("link")).unwrap();
        let dirs: Vec<PathBuf> = ["link/sub", "real/sub", "real/./sub/..", "gone/x"]
            .iter()
            .map(|d| root.join(d))
            .collect();
        let mut sorted = dirs.clone();
        sorted.sort();
        let got = canonical_dirs(sorted);
        for d in &dirs {
            assert_eq!(got[d], d.canonicalize().ok(), "{}", d.display());
        }
    }

    #[test]
    fn names() {
        assert!(is_kustomization_name(FsPath::new("a/kustomization.yaml")));
        assert!(is_kustomization_name(FsPath::new("Kustomization")));
        assert!(!is_kustomization_name(FsPath::new("a/kustomize.yaml")));
    }
}
