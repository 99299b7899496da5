//! A progress bar on stderr for long runs: only when stderr is a terminal, and only once the
//! run has taken a second (so short runs, pipes and CI logs never see it). It is cleared
//! before the results are printed.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bar: Option<ProgressBar>,
    start: Instant,
    delay: Duration,
    shown: AtomicBool,
}

impl Progress {
    /// A bar for `total` files; `enabled` is false for `--quiet`.
    pub fn new(total: usize, enabled: bool) -> Progress {
        let on = enabled && std::io::stderr().is_terminal() && total > 0;
        // How long a run must take before the bar appears (an undocumented knob for tests).
        let delay = std::env::var("KUBEMIG_PROGRESS_DELAY_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map_or(Duration::from_secs(1), Duration::from_millis);
        let bar = on.then(|| {
            let bar =
                ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::hidden());
            bar.set_style(
                ProgressStyle::with_template("kubemig: {bar:30} {pos}/{len} files {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        Progress {
            bar,
            start: Instant::now(),
            delay,
            shown: AtomicBool::new(false),
        }
    }

    /// One more file done (callable from any thread).
    pub fn inc(&self) {
        let Some(bar) = &self.bar else {
            return;
        };
        bar.inc(1);
        if !self.shown.load(Ordering::Relaxed)
            && self.start.elapsed() >= self.delay
            && !self.shown.swap(true, Ordering::Relaxed)
        {
            bar.set_draw_target(ProgressDrawTarget::stderr());
            bar.tick();
        }
    }

    /// Run `f` with the bar out of the way (for output printed while it is shown).
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.bar {
            Some(bar) if self.shown.load(Ordering::Relaxed) => bar.suspend(f),
            _ => f(),
        }
    }

    /// Remove the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
