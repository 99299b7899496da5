//! Find the files to process: named files as given, directories walked in parallel for
//! `*.yaml`, `*.yml` and `*.json` (or what `--include` names), skipping hidden entries, what
//! `.gitignore`, `.ignore` and `.kubemigignore` exclude and what `--exclude` names, following
//! symlinks only with `--follow-symlinks` and never to a target outside the walked directory.
//! Output is sorted so results do not depend on thread timing.

use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::{Match, WalkBuilder, WalkState};

/// The name of kubemig's own ignore file (gitignore syntax), read like `.gitignore`.
pub const IGNORE_FILE: &str = ".kubemigignore";

/// How directories are walked, beyond the defaults.
#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    /// Files and directories to skip.
    pub exclude: Vec<Globs>,
    /// When not empty, the walk picks files matching one of these instead of manifest names.
    pub include: Vec<Globs>,
    pub follow_symlinks: bool,
    /// Apply `exclude` and `.kubemigignore` to files named explicitly too.
    pub force_exclude: bool,
}

/// Globs in gitignore syntax, anchored at a directory: `*.yaml` matches a name at any depth,
/// `deploy/*.yaml` or `/deploy` match relative to `base`, `vendor/` matches a directory,
/// `!keep.yaml` re-includes.
#[derive(Debug, Clone)]
pub struct Globs {
    /// Absolute directory the globs are relative to.
    pub base: PathBuf,
    pub globs: Vec<String>,
    matcher: Gitignore,
}

impl Globs {
    pub fn new(base: &Path, globs: &[String]) -> Result<Globs, String> {
        let mut b = GitignoreBuilder::new(base);
        for g in globs {
            b.add_line(None, g)
                .map_err(|e| format!("`{g}` is not a valid glob: {e}"))?;
        }
        let matcher = b.build().map_err(|e| e.to_string())?;
        Ok(Globs {
            base: base.to_path_buf(),
            globs: globs.to_vec(),
            matcher,
        })
    }

    /// How the absolute path `abs` fares against these globs (only paths under `base` can
    /// match); `parents` also tries the directories above it.
    fn matched(&self, abs: &Path, is_dir: bool, parents: bool) -> Match<()> {
        if self.globs.is_empty() || !abs.starts_with(&self.base) {
            return Match::None;
        }
        let m = if parents {
            self.matcher.matched_path_or_any_parents(abs, is_dir)
        } else {
            self.matcher.matched(abs, is_dir)
        };
        m.map(|_| ())
    }
}

impl WalkOptions {
    pub(crate) fn excluded(&self, abs: &Path, is_dir: bool, parents: bool) -> bool {
        self.exclude
            .iter()
            .any(|g| g.matched(abs, is_dir, parents).is_ignore())
    }

    /// [`WalkOptions::wanted`] for a walked `path` relative to `cwd`; the absolute path is
    /// only worked out when `--include` globs need it.
    fn wanted_entry(&self, cwd: &Path, path: &Path) -> bool {
        if self.include.is_empty() {
            is_manifest_name(path)
        } else {
            self.wanted(&absolute(cwd, path))
        }
    }

    fn wanted(&self, abs: &Path) -> bool {
        if self.include.is_empty() {
            is_manifest_name(abs)
        } else {
            self.include
                .iter()
                .any(|g| g.matched(abs, false, false).is_ignore())
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Input {
    Stdin,
    File(PathBuf),
}

#[derive(Debug)]
pub struct Walked {
    pub inputs: Vec<Input>,
    /// Parallel to `inputs`: whether the input is known not to be a symlink (a file found
    /// by walking without following links), which spares a stat when resolving its path.
    pub not_links: Vec<bool>,
    /// Paths that could not be walked, with the reason.
    pub errors: Vec<(PathBuf, String)>,
    /// Directories named on the command line in which no file to process was found.
    pub empty: Vec<PathBuf>,
}

pub fn is_manifest_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
}

pub fn walk(roots: &[PathBuf]) -> Walked {
    walk_with(roots, &WalkOptions::default())
}

pub fn walk_with(roots: &[PathBuf], opts: &WalkOptions) -> Walked {
    let found = Mutex::new(Vec::new());
    let errors = Mutex::new(Vec::new());
    let mut stdin = false;
    let mut empty = Vec::new();
    let cwd = std::env::current_dir().unwrap_or_default();
    for root in roots {
        if root.as_os_str() == "-" {
            stdin = true;
            continue;
        }
        match std::fs::metadata(root) {
            Err(e) => errors.lock().unwrap().push((root.clone(), missing(&e))),
            Ok(m) if !m.is_dir() => {
                let abs = absolute(&cwd, root);
                if !(opts.force_exclude
                    && (opts.excluded(&abs, false, true) || kubemigignored(&abs)))
                {
                    found.lock().unwrap().push((clean(root), None, false));
                }
            }
            Ok(_) => {
                let before = found.lock().unwrap_or_else(|e| e.into_inner()).len();
                let abs_root = absolute(&cwd, root);
                let real_root = std::fs::canonicalize(root).unwrap_or_else(|_| abs_root.clone());
                let (filter_opts, filter_root) = (opts.clone(), root.clone());
                WalkBuilder::new(root)
                    // As many walker threads as workers: `--threads 1` is one thread.
                    .threads(rayon::current_num_threads())
                    .follow_links(opts.follow_symlinks)
                    .add_custom_ignore_filename(IGNORE_FILE)
                    .filter_entry(move |e| {
                        if e.depth() == 0 {
                            return true;
                        }
                        if !filter_opts.exclude.is_empty() {
                            let is_dir = e.file_type().is_some_and(|t| t.is_dir());
                            let abs = absolute(&abs_root, rel(&filter_root, e.path()));
                            if filter_opts.excluded(&abs, is_dir, false) {
                                return false;
                            }
                        }
                        // A followed link must stay inside the walked directory.
                        !e.path_is_symlink()
                            || std::fs::canonicalize(e.path())
                                .is_ok_and(|t| t.starts_with(&real_root))
                    })
                    .build_parallel()
                    .run(|| {
                        // Each walker thread collects its own finds and hands them over once,
                        // when it is done: a lock per file made the threads wait on each other.
                        let mut mine = Finds {
                            local: Vec::new(),
                            shared: &found,
                        };
                        let (cwd, errors) = (&cwd, &errors);
                        Box::new(move |entry| {
                            match entry {
                                Ok(e) => {
                                    if e.file_type().is_some_and(|t| t.is_file())
                                        && opts.wanted_entry(cwd, e.path())
                                    {
                                        // The inode number from the directory listing lets
                                        // `same_file_once` skip a stat for most files.
                                        let ino = if opts.follow_symlinks { None } else { e.ino() };
                                        let plain = !opts.follow_symlinks;
                                        mine.local.push((clean(e.path()), ino, plain));
                                    }
                                }
                                // A link back to a directory being walked: skip it quietly.
                                Err(err) if is_loop(&err) => {}
                                Err(err) => {
                                    let mut errors = errors.lock().unwrap();
                                    describe(&err, root, "", &mut errors);
                                }
                            }
                            WalkState::Continue
                        })
                    });
                // The walk's threads have handed over their finds when `run` returns.
                if found.lock().unwrap_or_else(|e| e.into_inner()).len() == before {
                    empty.push(root.clone());
                }
            }
        }
    }
    let mut files = found.into_inner().unwrap();
    sort_paths(&mut files);
    files.dedup_by(|a, b| a.0 == b.0);
    same_file_once(&mut files, opts.follow_symlinks);
    let mut not_links: Vec<bool> = files.iter().map(|f| f.2).collect();
    let mut inputs: Vec<Input> = files.into_iter().map(|(p, ..)| Input::File(p)).collect();
    if stdin {
        inputs.insert(0, Input::Stdin);
        not_links.insert(0, false);
    }
    let mut errors = errors.into_inner().unwrap();
    errors.sort();
    errors.dedup();
    Walked {
        inputs,
        not_links,
        errors,
        empty,
    }
}

/// Sort `files` as sorting the tuples sorts them (paths in `Path`'s order, component by
/// component), cheaply: when no path has a `.`, `..` or empty component, comparing the bytes
/// with `/` taken as smaller than any other byte is that order (a path that ends where
/// another has a `/` is a prefix of it either way), without `Path`'s parsing of components
/// at every comparison (which was most of the walk's time on the main thread).
fn sort_paths(files: &mut Found) {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let plain = |p: &Path| {
            let b = p.as_os_str().as_bytes();
            let b = b.strip_prefix(b"/").unwrap_or(b);
            b.split(|&c| c == b'/')
                .all(|c| !matches!(c, b"" | b"." | b".."))
        };
        if files.iter().all(|f| plain(&f.0)) {
            let key = |p: &Path| -> Vec<u8> {
                let b = p.as_os_str().as_bytes().iter();
                b.map(|&c| if c == b'/' { 0 } else { c }).collect()
            };
            files.sort_by_cached_key(|f| (key(&f.0), f.1, f.2));
            return;
        }
    }
    files.sort();
}

/// A walker thread's finds: `(path, inode, known not a link)`.
type Found = Vec<(PathBuf, Option<u64>, bool)>;

/// What one walker thread found, moved to the shared list when the thread's visitor is
/// dropped (at the end of the walk).
struct Finds<'a> {
    local: Found,
    shared: &'a Mutex<Found>,
}

impl Drop for Finds<'_> {
    fn drop(&mut self) {
        let mut shared = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        shared.append(&mut self.local);
    }
}

/// Why a named path cannot be used, with what to do about it.
fn missing(e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::NotFound {
        "no such file or directory; check the path (directories are walked for *.yaml, *.yml and *.json, and `-` reads stdin)".to_string()
    } else {
        format!("cannot read: {e}")
    }
}

fn is_loop(err: &ignore::Error) -> bool {
    match err {
        ignore::Error::Loop { .. } => true,
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithPath { err, .. } => is_loop(err),
        _ => false,
    }
}

/// `path` relative to `root` when it is under it (the walker yields `root/…`).
fn rel<'a>(root: &Path, path: &'a Path) -> &'a Path {
    path.strip_prefix(root).unwrap_or(path)
}

/// `p` made absolute against `base` and with `.` and `..` resolved lexically, so that globs
/// anchored at a directory can be matched whatever way the path was spelled.
pub fn absolute(base: &Path, p: &Path) -> PathBuf {
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

/// Whether a file named explicitly is left out: only with `force_exclude`, when `--exclude`
/// or a `.kubemigignore` excludes it (as for files named on the command line).
pub fn named_file_excluded(opts: &WalkOptions, path: &Path) -> bool {
    let abs = absolute(&std::env::current_dir().unwrap_or_default(), path);
    opts.force_exclude && (opts.excluded(&abs, false, true) || kubemigignored(&abs))
}

/// Whether a `.kubemigignore` in a directory above `abs` (up to the repository root) excludes
/// it: the deepest file that says something about it decides.
fn kubemigignored(abs: &Path) -> bool {
    let mut dir = abs.parent();
    while let Some(d) = dir {
        let file = d.join(IGNORE_FILE);
        if file.is_file() {
            let mut b = GitignoreBuilder::new(d);
            b.add(&file);
            if let Ok(gi) = b.build() {
                match gi.matched_path_or_any_parents(abs, false) {
                    Match::Ignore(_) => return true,
                    Match::Whitelist(_) => return false,
                    Match::None => {}
                }
            }
        }
        if d.join(".git").exists() {
            break;
        }
        dir = d.parent();
    }
    false
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
/// When links are followed, a file reached through a link is the file it points to.
#[cfg(unix)]
fn same_file_once(files: &mut Vec<(PathBuf, Option<u64>, bool)>, follow: bool) {
    use std::collections::{HashMap, HashSet};
    use std::os::unix::fs::MetadataExt;
    // Two names of one file share an inode number. When every name came from a directory
    // listing, which gives that number for free, only names whose number repeats need a stat
    // to compare devices; a name given on the command line has no number, so then all do.
    let mut inos: Option<HashMap<u64, usize>> = Some(HashMap::new());
    for (_, ino, _) in files.iter() {
        match (ino, &mut inos) {
            (Some(i), Some(m)) => *m.entry(*i).or_default() += 1,
            _ => inos = None,
        }
    }
    let mut seen = HashSet::new();
    files.retain(|(p, ino, _)| {
        if let (Some(m), Some(i)) = (&inos, ino)
            && m[i] == 1
        {
            return true;
        }
        let meta = if follow {
            std::fs::metadata(p)
        } else {
            std::fs::symlink_metadata(p)
        };
        match meta {
            Ok(m) => seen.insert((m.dev(), m.ino())),
            Err(_) => true,
        }
    });
}

#[cfg(not(unix))]
fn same_file_once(_: &mut Vec<(PathBuf, Option<u64>, bool)>, _: bool) {}

/// `./a.yaml` → `a.yaml`, `sub//./b.yaml` → `sub/b.yaml`, so diff headers read `a/a.yaml` as
/// git expects (`git apply` rejects `.` components and empty ones).
fn clean(p: &Path) -> PathBuf {
    // Most paths need at most a leading `./` dropped: no components rebuilt.
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let b = p.as_os_str().as_bytes();
        let mut rest = b;
        while let Some(r) = rest.strip_prefix(b"./") {
            rest = r;
        }
        let plain = !rest.is_empty()
            && rest != b"."
            && !(rest.len() < b.len() && rest.starts_with(b"/"))
            && memchr::memmem::find(rest, b"//").is_none()
            && memchr::memmem::find(rest, b"/./").is_none()
            && !rest.ends_with(b"/")
            && !rest.ends_with(b"/.");
        if plain {
            return PathBuf::from(std::ffi::OsStr::from_bytes(rest));
        }
    }
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
    fn paths_sort_as_paths_do() {
        let names = [
            "a", "a/b", "a-b", "a/b/c", "a.b/c", "a\x01", "ab", "/x", "/x/y", "/x-y", "b/a",
            "a/b-c/d", "a/b/c-d", "a/bc", "a/b.yaml", "a0/b", "A/b", "z", "ä/b", "a/ä",
        ];
        // Every pair of names, in both orders, with ties broken by the inode number.
        let mut files: Found = Vec::new();
        for (i, x) in names.iter().enumerate() {
            for y in names.iter().rev().filter(|y| !y.starts_with('/')) {
                files.push((
                    PathBuf::from(format!("{x}/{y}")),
                    Some(i as u64),
                    i % 2 == 0,
                ));
                files.push((PathBuf::from(*x), None, false));
            }
        }
        let mut want = files.clone();
        want.sort();
        sort_paths(&mut files);
        assert_eq!(files, want);
        // With a `..` component, `Path`'s own order.
        let mut files: Found = vec![
            (PathBuf::from("-a"), None, false),
            (PathBuf::from("../a"), None, false),
        ];
        sort_paths(&mut files);
        assert_eq!(files[0].0, Path::new("../a"));
    }

    #[test]
    fn clean_drops_dot_and_empty_components() {
        for (given, want) in [
            ("./a.yaml", "a.yaml"),
            ("sub//./b.yaml", "sub/b.yaml"),
            ("./sub/./c.yml", "sub/c.yml"),
            ("/abs/./d.json", "/abs/d.json"),
            ("../up/e.yaml", "../up/e.yaml"),
            (".", "."),
            ("././f.yaml", "f.yaml"),
            (".//g.yaml", "g.yaml"),
            ("h/./", "h"),
            ("i/.", "i"),
            ("j/", "j"),
            ("./", "."),
            ("k/../l.yaml", "k/../l.yaml"),
            ("/m/n.yaml", "/m/n.yaml"),
        ] {
            assert_eq!(clean(Path::new(given)), Path::new(want), "{given}");
        }
    }
}
