//! The files of a run: walked, each given the role kustomize gives it and the Helm chart it
//! belongs to, read and put through the pipeline on workers (and for `fix` staged next to
//! itself), and handed back in path order, `fix`'s renames done a batch at a time on a
//! thread of their own.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use anyhow::Result;

use crate::catalogue::{Catalogue, Window};
use crate::chart_scan::{Charts, Unit};
use crate::cli::RunArgs;
use crate::config::Settings;
use crate::engine::{self, Context, FileError, Keep, Outcome};
use crate::kustomize::{Role, Roles};
use crate::plan::Status;
use crate::walk::{Input, Walked, walk_with};
use crate::write;

/// Staged files a batch waits for once the run is going (while the committer is free),
/// and outcomes held back waiting for a commit, at most.
const COMMIT_FILES: usize = 256;
const COMMIT_WAITING: usize = 4096;

pub(super) struct Files {
    pub walked: Walked,
    roles: Roles,
    charts: Charts,
    /// What is processed: the walked files and the chart files scanned as text.
    pub inputs: Vec<Input>,
    /// The kustomize role stdin has as the file `--stdin-filename` names.
    stdin_role: Option<Role>,
}

/// The walked files with their kustomize roles: what needs only the settings, so it can
/// be found while the catalogue is read.
pub(super) struct Walk {
    walked: Walked,
    roles: Roles,
    stdin_role: Option<Role>,
}

impl Walk {
    pub(super) fn new(args: &RunArgs, settings: &Settings) -> Walk {
        let paths = if args.stdin_filename.is_some() {
            vec![PathBuf::from("-")]
        } else {
            args.paths.clone()
        };
        let walked = walk_with(&paths, &settings.walk);
        let roles = Roles::build(&walked.inputs, &walked.not_links);
        let stdin_role = args.stdin_filename.as_ref().map(|p| {
            let as_file = [Input::File(p.clone())];
            Roles::build(&as_file, &[false]).of(&as_file[0])
        });
        Walk {
            walked,
            roles,
            stdin_role,
        }
    }
}

impl Files {
    /// The walked files and the Helm charts among them.
    pub(super) fn new(walk: Walk, cat: &Catalogue, window: Window) -> Files {
        let Walk {
            walked,
            roles,
            stdin_role,
        } = walk;
        // Helm charts among the files: helpers and values files are scanned as text
        // (`chart_scan`), so no removed group/version in a chart goes unreported.
        let mut charts = Charts::build(&walked.inputs, cat, window);
        let inputs = charts.inputs(&walked.inputs);
        charts.count_units(&inputs);
        Files {
            walked,
            roles,
            charts,
            inputs,
            stdin_role,
        }
    }

    /// The chart unit of `input` ([`Unit`]).
    pub(super) fn unit(&self, input: &Input) -> Option<Unit> {
        self.charts.unit(input)
    }

    fn role_of(&self, input: &Input) -> Role {
        match (input, self.stdin_role) {
            (Input::Stdin, Some(r)) => r,
            _ => self.roles.of(input),
        }
    }

    /// One input read (`stdin`: what was read from it) and put through the pipeline as its
    /// kind; a chart's helper is only scanned as text, by `chart_scan`. With the rewrite's
    /// texts kept (`fix`), the file is also kept open when it was read, for [`stage`].
    pub(super) fn outcome(
        &self,
        input: &Input,
        ctx: &Context,
        stdin: &Option<io::Result<Vec<u8>>>,
        limit: u64,
        keep: Keep,
    ) -> (Outcome, Option<write::Opened>) {
        // A template whose apiVersion comes from a values file or a helper that the chart
        // scan migrated: planned there, with the value written in.
        if let Some(mut out) = self.charts.planned(input) {
            self.charts.amend(input, &mut out);
            return (out, None);
        }
        let (mut out, opened) = match super::read::input(input, stdin, limit, keep == Keep::Texts) {
            _ if self.charts.is_helper(input) => (Outcome::default(), None),
            Ok((bytes, opened)) => (
                engine::process_keeping(bytes, ctx, self.role_of(input), keep),
                opened,
            ),
            Err(e) => (
                Outcome {
                    error: Some(FileError::new(e)),
                    ..Outcome::default()
                },
                None,
            ),
        };
        self.charts.amend(input, &mut out);
        // Closed at once unless there is a rewrite to stage.
        let opened = opened.filter(|_| out.rewrite.is_some());
        (out, opened)
    }
}

/// `fix` writes the new text next to the file here, on a worker; the rename over the file
/// happens in path order, a batch at a time ([`in_path_order`]). `opened`: the file as it
/// was read, still open.
pub(super) fn stage(
    input: &Input,
    out: &mut Outcome,
    opened: Option<write::Opened>,
) -> Option<write::Staged> {
    let (Input::File(p), Some((old, new))) = (input, &mut out.rewrite) else {
        return None;
    };
    let staged = match opened {
        Some(o) => write::stage_opened(Path::new(p), o, old.as_bytes(), new.as_bytes()),
        None => write::stage(Path::new(p), old.as_bytes(), new.as_bytes()),
    };
    match staged {
        Ok(s) => {
            // The text is in the temporary file now; only the fact of a rewrite is still
            // needed, so memory stays bounded while the batch waits.
            drop_texts(out);
            Some(s)
        }
        Err(e) => {
            not_written(out, e);
            None
        }
    }
}

/// Free the old and new texts of a rewrite, keeping the fact of it: what a staged `fix`
/// reports. Freed on the worker that made them, where freeing is cheap, not on the
/// reporting thread, and not held in the reorder buffer.
fn drop_texts(out: &mut Outcome) {
    if let Some((old, new)) = &mut out.rewrite {
        *old = String::new();
        *new = String::new();
    }
}

/// Run `work` on every input on the worker threads and `show` each outcome on this one, in
/// path order as they come in, through a bounded reorder buffer, so memory does not grow
/// with the number of files. An outcome whose file `work` staged waits for the rename of
/// its batch, so that each report says whether its file was really written. The files of
/// a chart [`Unit`] are renamed in one batch, its carriers last and only if every template
/// of the unit was written.
///
/// Batches are flushed and renamed on a thread of their own ([`Committer`]), one at a time
/// and in path order, while the files after them are processed and staged: a `syncfs` that
/// waits for the disk holds up no worker and no report of the files before it.
pub(super) fn in_path_order<'a>(
    inputs: &'a [Input],
    unit: impl Fn(&Input) -> Option<Unit>,
    work: impl Fn(&Input) -> (Outcome, Option<write::Staged>) + Sync,
    mut show: impl FnMut(&'a Input, Outcome) -> Result<()>,
) -> Result<()> {
    let (jobs, to_commit) = mpsc::channel::<Pending<'a>>();
    let (committed, results) = mpsc::channel::<Vec<Shown<'a>>>();
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut committer = Committer::default();
            for job in to_commit {
                if committed.send(committer.commit(job)).is_err() {
                    break;
                }
            }
            // The last renames made durable, once every batch is in.
            committer.sync();
        });
        let mut batches = Batches {
            pending: Pending::default(),
            at_committer: false,
            jobs,
            results,
            min_files: 1,
        };
        // The chart units whose files are coming in, with how many are still to come:
        // nothing is committed while one is open (its files need not be adjacent: a
        // subchart's files sort between its parent's).
        let mut open: HashMap<usize, usize> = HashMap::new();
        crate::pool::run_ordered(
            inputs,
            rayon::current_num_threads(),
            crate::pool::Bound::default(),
            |(out, _)| out.weight(),
            work,
            |input, (out, staged)| {
                batches.show_committed(false, &mut show)?;
                let u = unit(input);
                if let Some(u) = u {
                    let left = open.entry(u.chart).or_insert(u.files);
                    *left = left.saturating_sub(1);
                    if *left == 0 {
                        open.remove(&u.chart);
                    }
                }
                if staged.is_none() && u.is_none() && batches.idle() {
                    return show(input, out);
                }
                batches.pending.push(input, out, staged, u);
                if open.is_empty() {
                    batches.send_if_due(&mut show)?;
                }
                Ok(())
            },
        )?;
        batches.finish(&mut show)
        // Dropping `batches` ends the committer's jobs: it makes the renames durable and
        // ends, and the scope waits for it.
    })
}

/// An outcome to show, with its input.
type Shown<'a> = (&'a Input, Outcome);

/// The outcomes waiting for a commit, and the batch at the committer.
struct Batches<'a> {
    /// What has come in since the batch at the committer was sent.
    pending: Pending<'a>,
    /// Whether a batch was sent whose outcomes are not shown yet.
    at_committer: bool,
    jobs: mpsc::Sender<Pending<'a>>,
    results: mpsc::Receiver<Vec<Shown<'a>>>,
    /// How many staged files a batch waits for while the committer is free: 1, then twice
    /// as many each time up to COMMIT_FILES, so that a run stopped early (killed, timed out)
    /// has still replaced the files it finished, and reruns make progress. While the
    /// committer is busy more come in, and all of them go in the next batch: the slower
    /// the flush, the larger the batches and the fewer the flushes.
    min_files: usize,
}

impl<'a> Batches<'a> {
    /// Whether an outcome that waits for no rename can be shown at once: nothing before it
    /// waits.
    fn idle(&self) -> bool {
        !self.at_committer && self.pending.waiting.is_empty()
    }

    /// Show the outcomes of the batch at the committer once it is done (`wait`: wait for
    /// it); then those that came in since and wait for no rename, if none does.
    fn show_committed(
        &mut self,
        wait: bool,
        show: &mut impl FnMut(&'a Input, Outcome) -> Result<()>,
    ) -> Result<()> {
        if !self.at_committer {
            return Ok(());
        }
        let done = if wait {
            self.results.recv().ok()
        } else {
            match self.results.try_recv() {
                Err(mpsc::TryRecvError::Empty) => return Ok(()),
                r => r.ok(),
            }
        };
        self.at_committer = false;
        let Some(done) = done else {
            anyhow::bail!("the thread renaming the staged files stopped");
        };
        for (input, out) in done {
            show(input, out)?;
        }
        if self.pending.staged() == 0 && self.pending.units == 0 {
            for w in self.pending.waiting.drain(..) {
                show(w.input, w.out)?;
            }
        }
        Ok(())
    }

    /// With no chart unit open: send what is pending to the committer if it is free and
    /// enough files are staged or a unit is whole, or if too many outcomes wait (then after
    /// the batch before it is done).
    fn send_if_due(
        &mut self,
        show: &mut impl FnMut(&'a Input, Outcome) -> Result<()>,
    ) -> Result<()> {
        if self.pending.waiting.len() >= COMMIT_WAITING {
            self.show_committed(true, show)?;
            if self.pending.waiting.is_empty() {
                return Ok(());
            }
        } else if self.at_committer
            || (self.pending.staged() < self.min_files && self.pending.units == 0)
        {
            return Ok(());
        }
        self.send()?;
        self.min_files = (self.min_files * 2).min(COMMIT_FILES);
        Ok(())
    }

    fn send(&mut self) -> Result<()> {
        let batch = std::mem::take(&mut self.pending);
        if self.jobs.send(batch).is_err() {
            anyhow::bail!("the thread renaming the staged files stopped");
        }
        self.at_committer = true;
        Ok(())
    }

    /// Commit and show everything left, in order.
    fn finish(&mut self, show: &mut impl FnMut(&'a Input, Outcome) -> Result<()>) -> Result<()> {
        self.show_committed(true, show)?;
        if !self.pending.waiting.is_empty() {
            self.send()?;
            self.show_committed(true, show)?;
        }
        Ok(())
    }
}

/// Outcomes waiting for the renames of their batch, and the staged files of that batch.
#[derive(Default)]
struct Pending<'a> {
    waiting: Vec<Waiting<'a>>,
    staged: Vec<write::Staged>,
    /// Carriers of chart units, renamed after the rest ([`Unit`]).
    held: Vec<write::Staged>,
    /// How many of `waiting` are files of a chart unit.
    units: usize,
}

struct Waiting<'a> {
    input: &'a Input,
    out: Outcome,
    staged: bool,
    unit: Option<Unit>,
}

impl<'a> Pending<'a> {
    fn push(
        &mut self,
        input: &'a Input,
        out: Outcome,
        staged: Option<write::Staged>,
        unit: Option<Unit>,
    ) {
        self.waiting.push(Waiting {
            input,
            out,
            staged: staged.is_some(),
            unit,
        });
        self.units += usize::from(unit.is_some());
        match (staged, unit) {
            (Some(s), Some(u)) if u.carries => self.held.push(s),
            (Some(s), _) => self.staged.push(s),
            (None, _) => {}
        }
    }

    fn staged(&self) -> usize {
        self.staged.len() + self.held.len()
    }
}

/// Flushes and renames batches of staged files, one after another, on its own thread
/// ([`in_path_order`]).
#[derive(Default)]
struct Committer {
    batch: write::Batch,
    /// Carriers of chart units, renamed after the rest ([`Unit`]).
    carriers: write::Batch,
}

impl Committer {
    /// Rename the staged files of `job`, then the carriers of units whose templates were
    /// all written; every outcome that waited for them, in order, with what went wrong.
    fn commit<'a>(&mut self, job: Pending<'a>) -> Vec<Shown<'a>> {
        let Pending {
            waiting,
            staged,
            held,
            units: _,
        } = job;
        for s in staged {
            self.batch.push(s);
        }
        let mut results = self.batch.commit().into_iter();
        let mut plain = Vec::with_capacity(waiting.len());
        // Per unit, the first template that was not written.
        let mut failed: HashMap<usize, &Path> = HashMap::new();
        for w in &waiting {
            let r = if w.staged && !w.unit.is_some_and(|u| u.carries) {
                results.next()
            } else {
                None
            };
            let not_written = matches!(r, Some(Err(_))) || (!w.staged && w.out.error.is_some());
            if let (Some(u), Input::File(p)) = (w.unit.filter(|u| !u.carries), w.input)
                && not_written
            {
                failed.entry(u.chart).or_insert(p);
            }
            plain.push(r);
        }
        let held = held.into_iter();
        let mut carried: Vec<Option<Result<()>>> = Vec::new();
        let carrier_units = waiting
            .iter()
            .filter_map(|w| w.unit.filter(|u| u.carries && w.staged));
        for (u, s) in carrier_units.zip(held) {
            match failed.get(&u.chart) {
                // Dropped: its temporary file is removed.
                Some(t) => {
                    drop(s);
                    carried.push(Some(Err(anyhow::anyhow!(
                        "left unchanged: {} of the same chart takes its apiVersion from here and could not be written; fix that and rerun kubemig",
                        t.display()
                    ))));
                }
                None => {
                    self.carriers.push(s);
                    carried.push(None);
                }
            }
        }
        let mut renamed = self.carriers.commit().into_iter();
        let mut carried = carried.into_iter().map(|c| c.or_else(|| renamed.next()));
        let mut shown = Vec::with_capacity(waiting.len());
        for (w, r) in waiting.into_iter().zip(plain) {
            let r = match w.unit {
                Some(u) if u.carries && w.staged => carried.next().flatten(),
                _ => r,
            };
            let mut out = w.out;
            if let Some(Err(e)) = r {
                not_written(&mut out, e);
            }
            shown.push((w.input, out));
        }
        shown
    }

    /// Make the renames done so far durable.
    fn sync(&mut self) {
        self.batch.sync();
        self.carriers.sync();
    }
}

/// Record that the rewrite of `out`'s file could not be written: its objects were not
/// migrated after all.
fn not_written(out: &mut Outcome, e: anyhow::Error) {
    out.error = Some(FileError::new(format!("{e:#}")));
    out.rewrite = None;
    // The error is the file's: its objects are neither migrated nor waiting for a human
    // (a read-only tree is one error per file, not hundreds of objects "needing a human").
    let keep: Vec<bool> = out
        .objects
        .iter()
        .map(|o| o.item.status != Status::Migrated)
        .collect();
    let mut k = keep.iter();
    out.objects.retain(|_| *k.next().unwrap_or(&true));
    let mut k = keep.iter();
    out.finding_positions.retain(|_| *k.next().unwrap_or(&true));
}
