//! Replace a file atomically: a temporary file in the same directory, the original's
//! permissions, fsync, rename, fsync of the directory. A reader sees the old file or the new
//! one, never half of either. Files that a rename would silently break are refused, and so
//! are read-only files (their owner said not to change them) and files that changed since
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
use std::sync::Mutex;

use anyhow::{Context, Result, bail};

/// Replace `path`, which held `original` when it was read, with `new`.
pub fn replace(path: &Path, original: &[u8], new: &[u8]) -> Result<()> {
    let meta = fs::symlink_metadata(path).context("cannot stat the file")?;
    if meta.file_type().is_symlink() {
        bail!(
            "is a symlink; kubemig does not write through symlinks, run it on the file the link points to"
        );
    }
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
    let now = fs::read(path).context("cannot re-read the file before replacing it")?;
    if now != original {
        bail!("changed on disk while kubemig was working; it was left unchanged, rerun kubemig");
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    remove_leftovers(dir);
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".kubemig-{}-", std::process::id()))
        .suffix(".tmp")
        .tempfile_in(dir)
        .context("cannot create a temporary file next to it")?;
    tmp.write_all(new)
        .context("cannot write the temporary file")?;
    fs::set_permissions(tmp.path(), meta.permissions())
        .context("cannot copy the file's permissions")?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // Only root can give a file away; for anyone else the new file is theirs already.
        let _ = std::os::unix::fs::chown(tmp.path(), Some(meta.uid()), Some(meta.gid()));
    }
    tmp.as_file()
        .sync_all()
        .context("cannot flush the temporary file")?;
    if changed_since(path, &meta) {
        bail!("changed on disk while kubemig was working; it was left unchanged, rerun kubemig");
    }
    tmp.persist(path)
        .map_err(|e| e.error)
        .context("cannot rename the temporary file over the original")?;
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
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
/// `/proc` says so), or older than a day (elsewhere, or without a PID in the name). Files
/// of this process and of running ones are never touched.
pub fn remove_leftovers(dir: &Path) {
    let mut guard = CLEANED.lock().unwrap_or_else(|e| e.into_inner());
    let (done, removed) = guard.get_or_insert_with(Default::default);
    if !done.insert(dir.to_path_buf()) {
        return;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let me = std::process::id();
    let proc_fs = Path::new("/proc/self").exists();
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
        let gone = match pid {
            Some(p) if p == me => false,
            Some(p) if proc_fs => !Path::new("/proc").join(p.to_string()).exists(),
            _ => e
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t.elapsed().is_ok_and(|age| age.as_secs() > 24 * 3600)),
        };
        if gone && fs::remove_file(e.path()).is_ok() {
            removed.push(e.path());
        }
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
