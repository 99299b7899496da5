//! Reading the inputs of a run: stdin first, on the main thread; each file whole, on a
//! worker, refusing what would block or is too large.

use std::io::{self, Read};
use std::path::Path;

use crate::walk::Input;
use crate::write;

/// stdin read whole (up to `limit` and one byte more, so that too large is seen), when it is
/// one of the inputs. It cannot be read from a worker thread in a meaningful order, so it is
/// read first, and the bytes are kept so that `fix -` can pass an unchanged stream through.
pub(super) fn stdin(inputs: &[Input], limit: u64) -> Option<io::Result<Vec<u8>>> {
    inputs.contains(&Input::Stdin).then(|| {
        let mut buf = Vec::new();
        io::stdin()
            .lock()
            .take(limit + 1)
            .read_to_end(&mut buf)
            .map(|_| buf)
    })
}

/// Read one input whole, refusing what is not a regular file (a FIFO would block) and what
/// is larger than `limit` (memory stays bounded whatever a repository holds). `keep`
/// (`fix`): a file is opened without following a symlink, and kept open with its metadata
/// for staging its replacement (`write::stage_opened`); a symlink is read through the link
/// and not kept, so that staging refuses it as before.
pub(super) fn input(
    input: &Input,
    stdin: &Option<io::Result<Vec<u8>>>,
    limit: u64,
    keep: bool,
) -> Result<(Vec<u8>, Option<write::Opened>), String> {
    let too_big = |size: u64| {
        format!(
            "is {} bytes, more than --max-file-size {limit}; no manifest is that large, raise the limit if this one is",
            size
        )
    };
    match input {
        Input::Stdin => match stdin {
            Some(Ok(bytes)) if bytes.len() as u64 > limit => Err(too_big(bytes.len() as u64)),
            Some(Ok(bytes)) => Ok((bytes.clone(), None)),
            Some(Err(e)) => Err(format!("cannot read: {e}")),
            None => Ok((Vec::new(), None)),
        },
        Input::File(p) => {
            // Opened first and asked about through the descriptor: one path lookup, not two.
            // Non-blocking, so that opening a FIFO does not wait for a writer.
            let opened = match keep {
                true => match write::open_no_follow(p) {
                    Ok(f) => Ok((f, true)),
                    Err(e) if write::is_symlink(p, &e) => open_nonblocking(p).map(|f| (f, false)),
                    Err(e) => Err(e),
                },
                false => open_nonblocking(p).map(|f| (f, false)),
            };
            let (mut file, kept) = opened.map_err(|e| format!("cannot read: {e}"))?;
            let meta = file.metadata().map_err(|e| format!("cannot read: {e}"))?;
            if !meta.is_file() {
                return Err("is not a regular file (a FIFO, socket or device?); skipped".into());
            }
            if meta.len() > limit {
                return Err(too_big(meta.len()));
            }
            let bytes = read_whole(&mut file, meta.len(), limit)
                .map_err(|e| format!("cannot read: {e}"))?;
            if bytes.len() as u64 > limit {
                return Err(too_big(bytes.len() as u64));
            }
            Ok((bytes, kept.then_some(write::Opened { file, meta })))
        }
    }
}

/// Read `file`, of `size` bytes by its metadata, to its end (at most `limit` and one byte
/// more). One `pread` for a file that is the size it says, into a buffer that is not zeroed
/// first: a read that fills exactly `size` bytes of a `size + 1` buffer is at the end (one
/// more `read` to see 0 would only find it again); a short read (a file shrinking, a FUSE or
/// network file system) or a file that grew goes on to the end as before.
fn read_whole(file: &mut std::fs::File, size: u64, limit: u64) -> io::Result<Vec<u8>> {
    use std::io::Seek;
    let mut bytes = Vec::with_capacity(size.min(limit) as usize + 1);
    let n = write::read_more(file, &mut bytes)?;
    if n as u64 != size {
        // `pread` left the file's offset where it was.
        file.seek(io::SeekFrom::Start(n as u64))?;
        file.by_ref()
            .take(limit + 1 - n as u64)
            .read_to_end(&mut bytes)?;
    }
    Ok(bytes)
}

fn open_nonblocking(p: &Path) -> io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32);
    }
    options.open(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_not_the_size_its_metadata_says_is_read_to_its_end() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.yaml");
        std::fs::write(&p, "abcdef").unwrap();
        let read = |size, limit| read_whole(&mut std::fs::File::open(&p).unwrap(), size, limit);
        assert_eq!(read(6, 100).unwrap(), b"abcdef");
        // Grown since its size was asked, shrunk, or past the limit (one byte more is read).
        assert_eq!(read(3, 100).unwrap(), b"abcdef");
        assert_eq!(read(10, 100).unwrap(), b"abcdef");
        assert_eq!(read(2, 3).unwrap(), b"abcd");
    }
}
