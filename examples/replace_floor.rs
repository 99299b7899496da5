//! The floor under `kubemig fix` on a filesystem: read every manifest the walk picks, write
//! it unchanged to a temporary file next to it and rename that over it, on every core, with
//! no parsing and no flush. `bench/run.sh` times it beside `fix`, so that what the filesystem
//! costs is told apart from what kubemig costs:
//!
//!   cargo run --release --example replace_floor -- DIR

use rayon::prelude::*;

fn main() -> std::io::Result<()> {
    let dir = std::env::args().nth(1).expect("usage: replace_floor DIR");
    let walked = kubemig::walk::walk(&[dir.into()]);
    walked.inputs.par_iter().try_for_each(|input| {
        let kubemig::walk::Input::File(path) = input else {
            return Ok(());
        };
        let bytes = std::fs::read(path)?;
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
        let tmp = tempfile::NamedTempFile::new_in(dir.unwrap_or(std::path::Path::new(".")))?;
        std::fs::write(tmp.path(), &bytes)?;
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    })
}
