use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

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
