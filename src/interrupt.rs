//! SIGINT, SIGTERM and SIGHUP during `fix`: remove every staged temporary file, leave each
//! target as it was or as it was rewritten (renames are atomic), and exit 128 + the signal
//! number (130, 143, 129), as a shell reports a process the signal killed.
//!
//! A thread waits for the signals (signal-hook's self-pipe: nothing but a write happens in
//! the handler itself) and does the cleaning outside signal context. The process exits from
//! that thread without unwinding the others: their staged files are gone and a rename still
//! in flight either happened or fails, so nothing they would do next matters.

/// Catch the signals from now on. Without a way to catch them (not Unix, or the handler
/// cannot be installed) the default applies: the process dies, and the next `fix` removes
/// what it left (`write::remove_leftovers`).
pub fn clean_up_on_signals() {
    #[cfg(unix)]
    {
        use signal_hook::consts::signal::{SIGHUP, SIGINT, SIGTERM};
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
            return;
        };
        // A thread that cannot be started leaves the signals caught and unanswered: a
        // second Ctrl-C does nothing either. Starting one thread does not fail in practice.
        let _ = std::thread::Builder::new()
            .name("kubemig-signals".into())
            .spawn(move || {
                if let Some(sig) = signals.forever().next() {
                    let removed = crate::write::remove_staged();
                    let name = match sig {
                        SIGINT => "SIGINT",
                        SIGTERM => "SIGTERM",
                        _ => "SIGHUP",
                    };
                    use std::io::Write as _;
                    let _ = writeln!(
                        std::io::stderr(),
                        "\nkubemig: interrupted by {name}: files already rewritten are complete, the others unchanged ({removed} temporary file{} removed)",
                        if removed == 1 { "" } else { "s" }
                    );
                    std::process::exit(128 + sig);
                }
            });
    }
}
