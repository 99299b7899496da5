use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

// Planning builds and drops many small trees and paths: with glibc's allocator a third of a
// run's instructions were malloc and free (callgrind; docs/performance.md). jemalloc cut
// them by 18 % and kept peak memory low; mimalloc cut 24 % but doubled it at 100k files.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = kubemig::cli::Cli::parse();
    match kubemig::run::run(cli) {
        Ok(exit) => ExitCode::from(exit as u8),
        Err(e) => {
            // A closed pipe (`kubemig diff | head`) is not an error.
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            let _ = writeln!(std::io::stderr(), "kubemig: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
