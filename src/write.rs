//! Replace a file atomically: a temporary file in the same directory, the original's
//! permissions, a flush to disk, rename, and a flush of the rename. A reader sees the old file
//! or the new one, never half of either. Many files are flushed together ([`Batch`]). Files
//! that a rename would silently break are refused, and so are read-only files (their owner said not to change them) and files that changed since
//! they were read: checked by content before the temporary file is written, and by inode,
//! size and modification time again just before the rename.
//!
//! The temporary file is created exclusively (`O_EXCL`, a random name
//! `.kubemig-PID-*.tmp`) next to the target, and removed on every error. A kill between its
//! creation and the rename leaves it behind: the next `fix` that writes in that directory
//! removes the leftovers of processes that are gone ([`remove_leftovers`]) and says so.

use std::collections::HashSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};

use anyhow::{Context, Result, bail};

/// Replace `path`, which held `original` when it was read, with `new`, and make the
/// replacement durable before returning.
pub fn replace(path: &Path, original: &[u8], new: &[u8]) -> Result<()> {
    let mut batch = Batch::default();
    batch.push(stage(path, original, new)?);
    let result = batch.commit().pop().unwrap_or(Ok(()));
    batch.sync();
    result
}

/// A replacement written to a temporary file next to its target and not yet renamed over
/// it. Dropping it removes the temporary file.
#[derive(Debug)]
pub struct Staged {
    path: PathBuf,
    /// The target as it was when it was read and checked, to see a change before the rename.
    meta: fs::Metadata,
    /// Taken when it is renamed; otherwise removed when this is dropped.
    tmp: Option<tempfile::TempPath>,
}

/// Write `new` to a temporary file next to `path`, which held `original` when it was read,
/// with the original's permissions and owner; refuse what a rename would break. Nothing is
/// flushed yet: [`Batch::commit`] flushes many files at once, then renames them.
pub fn stage(path: &Path, original: &[u8], new: &[u8]) -> Result<Staged> {
    // Opened without following a symlink, and asked about through the descriptor: the
    // metadata and the content checked below are the same file's (one path lookup, not two).
    let opened = match open_no_follow(path) {
        Ok(f) => {
            let meta = f.metadata().context("cannot stat the file")?;
            Opened { file: f, meta }
        }
        Err(e) if is_symlink(path, &e) => bail!(
            "is a symlink; kubemig does not write through symlinks, run it on the file the link points to"
        ),
        Err(e) => return Err(e).context("cannot re-read the file before replacing it"),
    };
    stage_opened(path, opened, original, new)
}

/// A file opened for reading without following a symlink ([`open_no_follow`]), with its
/// metadata: what `fix` keeps from reading a file, so that staging its replacement needs
/// no other open or stat of it.
#[derive(Debug)]
pub struct Opened {
    pub file: fs::File,
    pub meta: fs::Metadata,
}

/// [`stage`] for a file still open from when it was read (`original`, through
/// `opened.file`, whose metadata then was `opened.meta`). Its content is read again through
/// the descriptor: a change since the read is seen here, a change after it by
/// [`Batch::commit`], against the metadata of the read.
pub fn stage_opened(path: &Path, opened: Opened, original: &[u8], new: &[u8]) -> Result<Staged> {
    let Opened { mut file, meta } = opened;
    if meta.permissions().readonly() {
        bail!("is read-only; kubemig does not replace read-only files, make it writable first");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if meta.nlink() > 1 {
            bail!(
                "has {} hard links; replacing it would split them, so it was left unchanged",
                meta.nlink()
            );
        }
    }
    if !same_content(&mut file, meta.len(), original)
        .context("cannot re-read the file before replacing it")?
    {
        bail!("changed on disk while kubemig was working; it was left unchanged, rerun kubemig");
    }
    drop(file);
    let dir = parent(path);
    remove_leftovers(dir);
    // The process id is asked for once, not once per file.
    static PREFIX: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| format!(".kubemig-{}-", std::process::id()));
    let mut tmp = {
        // Created and recorded with the gate held open (shared: other workers create theirs
        // at the same time), so that an interrupt, which closes it, removes every temporary
        // file that exists: none is created once it has begun ([`remove_staged`]). The set
        // of live files is locked only to record the name, never across a system call.
        let gate = open_gate();
        if *gate {
            bail!("kubemig was interrupted; the file was left unchanged");
        }
        let tmp = tempfile::Builder::new()
            .prefix(PREFIX.as_str())
            .suffix(".tmp")
            .tempfile_in(absolute(dir))
            .context("cannot create a temporary file next to it")?;
        lock_live().insert(tmp.path().to_path_buf());
        drop(gate);
        tmp
    };
    tmp.write_all(new)
        .context("cannot write the temporary file")?;
    // The owner first: a change of owner clears the set-user-ID and set-group-ID bits.
    #[cfg(unix)]
    give_owner(tmp.as_file(), dir, &meta);
    // Through the descriptor: no path lookup.
    tmp.as_file()
        .set_permissions(meta.permissions())
        .context("cannot copy the file's permissions")?;
    Ok(Staged {
        path: path.to_path_buf(),
        meta,
        tmp: Some(tmp.into_temp_path()),
    })
}

/// Give the temporary file `tmp`, in `dir`, the owner and group of the file it replaces
/// (`meta`), unless it has them already. Only root can give a file away; anyone may give it
/// one of their groups. What a new file gets in a directory (this process's user, and its
/// group or the directory's) is asked once per directory, of the first one made there: most
/// files are their writer's already, and need no `fchown`.
#[cfg(unix)]
fn give_owner(tmp: &fs::File, dir: &Path, meta: &fs::Metadata) {
    use std::os::unix::fs::MetadataExt;
    static NEW_FILES: std::sync::LazyLock<Mutex<std::collections::HashMap<PathBuf, (u32, u32)>>> =
        std::sync::LazyLock::new(Default::default);
    let lock = || NEW_FILES.lock().unwrap_or_else(|e| e.into_inner());
    let known = lock().get(dir).copied();
    let new = known.or_else(|| {
        let m = tmp.metadata().ok()?;
        let owner = (m.uid(), m.gid());
        lock().insert(dir.to_path_buf(), owner);
        Some(owner)
    });
    let want = (meta.uid(), meta.gid());
    if new != Some(want) {
        let _ = std::os::unix::fs::fchown(tmp, Some(want.0), Some(want.1));
    }
}

/// `path` opened for reading, failing on a symlink instead of following it (`O_NOFOLLOW`),
/// and without waiting on a FIFO.
pub fn open_no_follow(path: &Path) -> std::io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(
            (rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK).bits() as i32,
        );
    }
    options.open(path)
}

/// Whether `open_no_follow` failed with `e` because `path` is a symlink.
pub fn is_symlink(path: &Path, e: &std::io::Error) -> bool {
    #[cfg(unix)]
    if e.raw_os_error() != Some(rustix::io::Errno::LOOP.raw_os_error()) {
        return false;
    }
    #[cfg(not(unix))]
    let _ = e;
    fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// Whether `file` (of `size` bytes by its metadata) holds exactly `original`, read from its
/// start whatever has been read of it already. A different size is a change without reading;
/// otherwise one `pread` of `size + 1` bytes that returns `size` has reached the end.
fn same_content(file: &mut fs::File, size: u64, original: &[u8]) -> std::io::Result<bool> {
    if size != original.len() as u64 {
        return Ok(false);
    }
    let mut now = Vec::with_capacity(original.len() + 1);
    // Until exactly the size it had (or more: a change either way), or the end.
    while now.len() < original.len() {
        if read_more(file, &mut now)? == 0 {
            break;
        }
    }
    Ok(now == original)
}

/// Read `file` from byte `buf.len()` into the rest of `buf`'s capacity (not zeroed first:
/// it is read over); how many bytes were read.
pub fn read_more(file: &mut fs::File, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    #[cfg(unix)]
    loop {
        let at = buf.len() as u64;
        match rustix::io::pread(&*file, rustix::buffer::spare_capacity(buf), at) {
            Err(rustix::io::Errno::INTR) => continue,
            r => return r.map_err(Into::into),
        }
    }
    #[cfg(not(unix))]
    {
        use std::io::{Read, Seek};
        let at = buf.len();
        file.seek(std::io::SeekFrom::Start(at as u64))?;
        buf.resize(buf.capacity(), 0);
        let n = loop {
            match file.read(&mut buf[at..]) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                r => break r,
            }
        };
        buf.truncate(at + *n.as_ref().unwrap_or(&0));
        n
    }
}

/// `dir` as an absolute path, the working directory asked for once: the temporary file's
/// name is made absolute, which costs a `getcwd` per file otherwise.
fn absolute(dir: &Path) -> std::borrow::Cow<'_, Path> {
    static CWD: std::sync::LazyLock<Option<PathBuf>> =
        std::sync::LazyLock::new(|| std::env::current_dir().ok());
    match &*CWD {
        Some(cwd) if dir.is_relative() => std::borrow::Cow::Owned(cwd.join(dir)),
        _ => std::borrow::Cow::Borrowed(dir),
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if let Some(tmp) = self.tmp.take() {
            let p = tmp.to_path_buf();
            // Removed first, forgotten second: an interrupt in between removes it again,
            // which does no harm, where the other order could leave it behind.
            drop(tmp);
            forget(&p);
        }
    }
}

/// The temporary files staged by this process and not yet renamed or removed.
static LIVE: std::sync::LazyLock<Mutex<HashSet<PathBuf>>> =
    std::sync::LazyLock::new(Default::default);

/// Whether an interrupt has closed the way to new temporary files: staging holds it shared
/// (read) from before it creates one until the file is in [`LIVE`], an interrupt takes it
/// exclusively (write) to close it.
static GATE: RwLock<bool> = RwLock::new(false);

fn lock_live() -> std::sync::MutexGuard<'static, HashSet<PathBuf>> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

fn open_gate() -> std::sync::RwLockReadGuard<'static, bool> {
    GATE.read().unwrap_or_else(|e| e.into_inner())
}

fn forget(tmp: &Path) {
    lock_live().remove(tmp);
}

/// Stop staging and remove every temporary file staged and not yet renamed: what an
/// interrupted `fix` does before it exits. Closing the gate waits for the files being
/// created to be recorded. A rename racing with this either happened (the file is new) or
/// fails because its temporary file is gone (the file is old). Returns how many were
/// removed.
pub fn remove_staged() -> usize {
    let mut closed = GATE.write().unwrap_or_else(|e| e.into_inner());
    *closed = true;
    let removed = lock_live()
        .drain()
        .filter(|p| fs::remove_file(p).is_ok())
        .count();
    drop(closed);
    removed
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Staged replacements committed together. A temporary file's data must be on disk before
/// the rename that makes it the file, or a power cut could leave an empty file where the
/// old one was; flushing each file with its own fsync (and its directory with another) cost
/// most of `fix`'s time (10k files: 11.3 s, 7.9 s of it in the kernel). A batch flushes all
/// its temporary files with one `syncfs` per filesystem, then renames them; the renames
/// themselves are made durable by the next batch's flush and by [`Batch::sync`] at the end.
#[derive(Debug, Default)]
pub struct Batch {
    staged: Vec<Staged>,
    /// The directories of every rename done, by filesystem, to make them durable in
    /// [`Batch::sync`].
    touched: std::collections::HashMap<u64, HashSet<PathBuf>>,
}

impl Batch {
    pub fn push(&mut self, staged: Staged) {
        self.staged.push(staged);
    }

    pub fn len(&self) -> usize {
        self.staged.len()
    }

    pub fn is_empty(&self) -> bool {
        self.staged.is_empty()
    }

    /// Flush every staged file, then rename each over its target unless the target changed
    /// since it was read; one result per staged file, in the order they were pushed.
    pub fn commit(&mut self) -> Vec<Result<()>> {
        let staged = std::mem::take(&mut self.staged);
        if staged.is_empty() {
            return Vec::new();
        }
        if let Err(e) = flush(&staged) {
            let why = format!("{e:#}");
            return staged
                .into_iter()
                .map(|_| Err(anyhow::anyhow!("cannot flush the temporary file: {why}")))
                .collect();
        }
        for s in &staged {
            let dirs = self.touched.entry(device(&s.meta)).or_default();
            // Looked up before a path is allocated: most files share a directory.
            if !dirs.contains(parent(&s.path)) {
                dirs.insert(parent(&s.path).to_path_buf());
            }
        }
        rename_all(staged)
    }

    /// Make the renames done so far durable (best effort: the files are in place already).
    pub fn sync(&mut self) {
        let touched = std::mem::take(&mut self.touched);
        #[cfg(target_os = "linux")]
        for d in touched.values().filter_map(|dirs| dirs.iter().next()) {
            let _ = syncfs(d);
        }
        #[cfg(not(target_os = "linux"))]
        for d in touched.into_values().flatten() {
            if let Ok(f) = fs::File::open(d) {
                let _ = f.sync_all();
            }
        }
    }
}

/// Files a rename thread takes at least, and rename threads at most, in [`rename_all`].
const RENAMES_PER_THREAD: usize = 16;
const RENAME_THREADS: usize = 4;

/// Rename each staged file over its target unless the target changed since it was read;
/// one result per file, in order. Replacing a file frees the old one, and on a disk that
/// is where the time goes: ext4 mounted with `discard` waits for the discard of the old
/// file's blocks in the `rename` that drops its last link (~0.5 ms a file here). The files
/// stand alone, so the renames of a batch run on a few threads, their waits overlapping,
/// as they overlap on the workers of the `replace` floor (`examples/replace_floor.rs`).
fn rename_all(staged: Vec<Staged>) -> Vec<Result<()>> {
    let threads = RENAME_THREADS.min(staged.len() / RENAMES_PER_THREAD).max(1);
    if threads == 1 {
        return staged.into_iter().map(rename).collect();
    }
    let per_thread = staged.len().div_ceil(threads);
    let mut parts: Vec<Vec<Staged>> = Vec::with_capacity(threads);
    let mut rest = staged.into_iter();
    loop {
        let part: Vec<Staged> = rest.by_ref().take(per_thread).collect();
        if part.is_empty() {
            break;
        }
        parts.push(part);
    }
    std::thread::scope(|scope| {
        let mut parts = parts.into_iter();
        let first = parts.next().unwrap_or_default();
        let others: Vec<_> = parts
            .map(|part| scope.spawn(move || part.into_iter().map(rename).collect::<Vec<_>>()))
            .collect();
        let mut results: Vec<Result<()>> = first.into_iter().map(rename).collect();
        for other in others {
            match other.join() {
                Ok(r) => results.extend(r),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        results
    })
}

/// Rename one staged file over its target unless the target changed since it was read.
fn rename(mut s: Staged) -> Result<()> {
    if changed_since(&s.path, &s.meta) {
        bail!("changed on disk while kubemig was working; it was left unchanged, rerun kubemig");
    }
    let tmp = s.tmp.take().expect("a staged file has its temporary file");
    let p = tmp.to_path_buf();
    let renamed = tmp.persist(&s.path).map_err(|e| {
        // Not renamed: dropping it removes it, before it is forgotten.
        drop(e.path);
        e.error
    });
    forget(&p);
    renamed.context("cannot rename the temporary file over the original")
}

/// One of `dirs` per filesystem (by device number).
#[cfg(target_os = "linux")]
fn one_per_filesystem<'a>(dirs: impl Iterator<Item = (u64, &'a Path)>) -> Vec<&'a Path> {
    let mut seen = std::collections::HashMap::new();
    for (dev, d) in dirs {
        seen.entry(dev).or_insert(d);
    }
    seen.into_values().collect()
}

/// The filesystem a file is on (its device number; 0 where there is none to ask).
fn device(meta: &fs::Metadata) -> u64 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        meta.dev()
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        0
    }
}

/// Put the data of every staged file on disk.
fn flush(staged: &[Staged]) -> Result<()> {
    #[cfg(target_os = "linux")]
    {
        // The temporary file is in its target's directory, so on its filesystem: the
        // device number read when the target was staged says which, without a system call.
        for d in one_per_filesystem(staged.iter().map(|s| (device(&s.meta), parent(&s.path)))) {
            syncfs(d).with_context(|| format!("syncfs on {}", d.display()))?;
        }
        Ok(())
    }
    #[cfg(not(target_os = "linux"))]
    {
        for s in staged {
            fs::File::open(&s.tmp)
                .and_then(|f| f.sync_all())
                .with_context(|| format!("{}", s.path.display()))?;
        }
        Ok(())
    }
}

/// Flush everything written to the filesystem that holds `dir`: one call for any number of
/// files, where fsync takes one (and a journal commit) per file.
#[cfg(target_os = "linux")]
fn syncfs(dir: &Path) -> std::io::Result<()> {
    let d = fs::File::open(dir)?;
    Ok(rustix::fs::syncfs(&d)?)
}

/// Whether `path` is no longer the file `before` describes (replaced, resized or written).
fn changed_since(path: &Path, before: &fs::Metadata) -> bool {
    let Ok(now) = fs::symlink_metadata(path) else {
        return true;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if (now.dev(), now.ino()) != (before.dev(), before.ino()) {
            return true;
        }
    }
    now.len() != before.len() || now.modified().ok() != before.modified().ok()
}

/// Whether `name` is a temporary file that an interrupted `fix` left behind.
pub fn leftover(name: &std::ffi::OsStr) -> bool {
    name.to_str()
        .is_some_and(|n| n.starts_with(".kubemig-") && n.ends_with(".tmp"))
}

/// Directories already cleaned by this process, and what was removed there.
static CLEANED: Mutex<Option<(HashSet<PathBuf>, Vec<PathBuf>)>> = Mutex::new(None);

/// Remove, once per directory and process, the temporary files in `dir` that a killed
/// `fix` left behind: `.kubemig-PID-*.tmp` whose process no longer runs (on Linux, where
/// `/proc` says so), or older than a day. Files of this process are never touched, nor the
/// recent ones of a running process (an interrupt removes its own, [`remove_staged`]).
pub fn remove_leftovers(dir: &Path) {
    {
        let mut guard = CLEANED.lock().unwrap_or_else(|e| e.into_inner());
        let (done, _) = guard.get_or_insert_with(Default::default);
        // Asked for every file: looked up before a path is allocated to insert.
        if done.contains(dir) || !done.insert(dir.to_path_buf()) {
            return;
        }
    }
    // Read without the lock, which other workers take for every file they stage. One that
    // stages in this directory meanwhile is of this process: its file is never removed.
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut removed = Vec::new();
    // Asked once per process, not once per directory.
    static ME: std::sync::LazyLock<(u32, bool)> =
        std::sync::LazyLock::new(|| (std::process::id(), Path::new("/proc/self").exists()));
    let (me, proc_fs) = *ME;
    for e in entries.flatten() {
        let name = e.file_name();
        if !leftover(&name) || !e.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        let pid = name.to_str().and_then(|n| {
            n.strip_prefix(".kubemig-")?
                .split('-')
                .next()?
                .parse::<u32>()
                .ok()
        });
        // A staged file lives for one batch, seconds; a day-old one is stale even if its PID
        // now names some other process (PIDs are reused, and a run in another PID namespace
        // sharing this directory cannot be looked up).
        let old = || {
            e.metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t.elapsed().is_ok_and(|age| age.as_secs() > 24 * 3600))
        };
        let gone = match pid {
            Some(p) if p == me => false,
            Some(p) if proc_fs => !Path::new("/proc").join(p.to_string()).exists() || old(),
            _ => old(),
        };
        if gone && fs::remove_file(e.path()).is_ok() {
            removed.push(e.path());
        }
    }
    if !removed.is_empty() {
        let mut guard = CLEANED.lock().unwrap_or_else(|e| e.into_inner());
        guard
            .get_or_insert_with(Default::default)
            .1
            .append(&mut removed);
    }
}

/// The leftover temporary files removed so far, sorted, for reporting; emptied.
pub fn take_removed_leftovers() -> Vec<PathBuf> {
    let mut guard = CLEANED.lock().unwrap_or_else(|e| e.into_inner());
    let mut out = guard
        .as_mut()
        .map(|(_, removed)| std::mem::take(removed))
        .unwrap_or_default();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn keeps_mode_and_refuses_symlinks_and_concurrent_changes() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.yaml");
        fs::write(&f, "old").unwrap();
        fs::set_permissions(&f, fs::Permissions::from_mode(0o640)).unwrap();
        replace(&f, b"old", b"new").unwrap();
        assert_eq!(fs::read(&f).unwrap(), b"new");
        assert_eq!(
            fs::metadata(&f).unwrap().permissions().mode() & 0o7777,
            0o640
        );

        let err = replace(&f, b"something else", b"x").unwrap_err();
        assert!(err.to_string().contains("changed on disk"));
        assert_eq!(fs::read(&f).unwrap(), b"new");

        fs::set_permissions(&f, fs::Permissions::from_mode(0o444)).unwrap();
        let err = replace(&f, b"new", b"x").unwrap_err();
        assert!(err.to_string().contains("read-only"), "{err}");
        assert_eq!(fs::read(&f).unwrap(), b"new");
        fs::set_permissions(&f, fs::Permissions::from_mode(0o640)).unwrap();

        let link = dir.path().join("l.yaml");
        std::os::unix::fs::symlink(&f, &link).unwrap();
        assert!(
            replace(&link, b"new", b"x")
                .unwrap_err()
                .to_string()
                .contains("symlink")
        );
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| leftover(&e.as_ref().unwrap().file_name()))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn a_file_kept_open_from_its_read_is_checked_through_its_descriptor() {
        use std::io::Read;
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.yaml");
        let read = || {
            let mut file = open_no_follow(&f).unwrap();
            let meta = file.metadata().unwrap();
            // Read to its end, as `fix` reads it: the check reads from the start again.
            file.read_to_end(&mut Vec::new()).unwrap();
            Opened { file, meta }
        };
        fs::write(&f, "old").unwrap();
        let mut batch = Batch::default();
        batch.push(stage_opened(&f, read(), b"old", b"new").unwrap());
        assert!(batch.commit().pop().unwrap().is_ok());
        assert_eq!(fs::read(&f).unwrap(), b"new");
        // Written in place between the read and the staging, to the same size.
        let opened = read();
        fs::write(&f, "odd").unwrap();
        let err = stage_opened(&f, opened, b"new", b"x").unwrap_err();
        assert!(err.to_string().contains("changed on disk"), "{err}");
        // Replaced (an editor's rename) after the read: seen by inode before the rename.
        let opened = read();
        let other = dir.path().join("b.yaml");
        fs::write(&other, "odd").unwrap();
        let staged = stage_opened(&f, opened, b"odd", b"x").unwrap();
        fs::rename(&other, &f).unwrap();
        batch.push(staged);
        let err = batch.commit().pop().unwrap().unwrap_err();
        assert!(err.to_string().contains("changed on disk"), "{err}");
        assert_eq!(fs::read(&f).unwrap(), b"odd");
    }

    /// A file of another owner keeps its owner and its set-user-ID bit (root only: no one
    /// else can give a file away).
    #[cfg(unix)]
    #[test]
    fn owner_and_set_id_bits_are_kept() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let dir = tempfile::tempdir().unwrap();
        let (mine, theirs) = (dir.path().join("a.yaml"), dir.path().join("b.yaml"));
        for f in [&mine, &theirs] {
            fs::write(f, "old").unwrap();
        }
        if std::os::unix::fs::chown(&theirs, Some(4242), Some(4343)).is_err() {
            return;
        }
        for f in [&mine, &theirs] {
            // After the chown, which clears the bit.
            fs::set_permissions(f, fs::Permissions::from_mode(0o4750)).unwrap();
        }
        for f in [&mine, &theirs] {
            let before = fs::metadata(f).unwrap();
            replace(f, b"old", b"new").unwrap();
            let after = fs::metadata(f).unwrap();
            assert_eq!(fs::read(f).unwrap(), b"new");
            assert_eq!((after.uid(), after.gid()), (before.uid(), before.gid()));
            assert_eq!(after.mode() & 0o7777, 0o4750, "{}", f.display());
        }
    }

    #[test]
    fn a_change_after_the_content_check_is_seen_by_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.yaml");
        fs::write(&f, "old").unwrap();
        let meta = fs::symlink_metadata(&f).unwrap();
        assert!(!changed_since(&f, &meta));
        fs::write(&f, "other").unwrap();
        assert!(changed_since(&f, &meta));
        fs::remove_file(&f).unwrap();
        assert!(changed_since(&f, &meta));
        assert!(leftover(std::ffi::OsStr::new(".kubemig-AbC123.tmp")));
        assert!(!leftover(std::ffi::OsStr::new("kubemig-AbC123.tmp")));
        assert!(!leftover(std::ffi::OsStr::new(".kubemig-AbC123.yaml")));
    }

    #[test]
    fn a_batch_renames_each_file_unless_it_changed_after_staging() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, c) = (
            dir.path().join("a.yaml"),
            dir.path().join("b.yaml"),
            dir.path().join("sub/c.yaml"),
        );
        fs::create_dir(dir.path().join("sub")).unwrap();
        for f in [&a, &b, &c] {
            fs::write(f, "old").unwrap();
        }
        let mut batch = Batch::default();
        for f in [&a, &b, &c] {
            batch.push(stage(f, b"old", b"new").unwrap());
        }
        // Staged, not yet renamed: the files still hold the old text.
        assert_eq!(fs::read(&a).unwrap(), b"old");
        fs::write(&b, "edited by someone else").unwrap();
        let results = batch.commit();
        assert!(results[0].is_ok() && results[2].is_ok());
        let err = results[1].as_ref().unwrap_err().to_string();
        assert!(err.contains("changed on disk"), "{err}");
        batch.sync();
        assert_eq!(fs::read(&a).unwrap(), b"new");
        assert_eq!(fs::read(&b).unwrap(), b"edited by someone else");
        assert_eq!(fs::read(&c).unwrap(), b"new");
        for d in [dir.path(), &dir.path().join("sub")] {
            let names: Vec<_> = fs::read_dir(d)
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            assert!(!names.iter().any(|n| leftover(n)), "{names:?}");
        }
        // Dropping a staged file that is never committed removes its temporary file.
        drop(stage(&a, b"new", b"newer").unwrap());
        assert!(
            !fs::read_dir(dir.path())
                .unwrap()
                .any(|e| leftover(&e.unwrap().file_name()))
        );
    }

    /// A batch large enough to be renamed on several threads gives each file its own
    /// result, in the order they were pushed.
    #[test]
    fn a_large_batch_renames_on_threads_with_results_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let n = RENAME_THREADS * RENAMES_PER_THREAD + 5;
        let files: Vec<_> = (0..n)
            .map(|i| dir.path().join(format!("f{i:03}.yaml")))
            .collect();
        let mut batch = Batch::default();
        for f in &files {
            fs::write(f, "old").unwrap();
            batch.push(stage(f, b"old", b"new").unwrap());
        }
        let changed = [0, 7, RENAMES_PER_THREAD * 2 + 1, n - 1];
        for &i in &changed {
            fs::write(&files[i], "edited").unwrap();
        }
        let results = batch.commit();
        assert_eq!(results.len(), n);
        for (i, (r, f)) in results.iter().zip(&files).enumerate() {
            if changed.contains(&i) {
                assert!(
                    r.as_ref()
                        .unwrap_err()
                        .to_string()
                        .contains("changed on disk")
                );
                assert_eq!(fs::read(f).unwrap(), b"edited");
            } else {
                assert!(r.is_ok(), "{i}: {r:?}");
                assert_eq!(fs::read(f).unwrap(), b"new");
            }
        }
        batch.sync();
        assert!(
            !fs::read_dir(dir.path())
                .unwrap()
                .any(|e| leftover(&e.unwrap().file_name()))
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn leftovers_of_dead_processes_are_removed_once() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // A PID above the kernel's maximum (4194304) is never running.
        let dead = d.join(".kubemig-4999999-AbCdEf.tmp");
        let mine = d.join(format!(".kubemig-{}-AbCdEf.tmp", std::process::id()));
        let alive = d.join(".kubemig-1-AbCdEf.tmp");
        let other = d.join(".kubemig-notes.yaml");
        for f in [&dead, &mine, &alive, &other] {
            fs::write(f, "x").unwrap();
        }
        fs::write(d.join("a.yaml"), "old").unwrap();
        replace(&d.join("a.yaml"), b"old", b"new").unwrap();
        assert!(!dead.exists());
        assert!(mine.exists() && alive.exists() && other.exists());
        assert!(take_removed_leftovers().contains(&dead));
        // Once per directory: a new leftover is not looked for again in this process.
        fs::write(&dead, "x").unwrap();
        replace(&d.join("a.yaml"), b"new", b"newer").unwrap();
        assert!(dead.exists());
    }
}
