//! Crash safety and determinism on a large generated tree.
//!
//! `fix` runs over thousands of files that all need changes and is killed with SIGKILL at
//! random moments, again and again until a run completes. After every kill each file must
//! be byte-equal to its original or to its fully migrated form; temporary files a kill
//! leaves behind (`.kubemig-PID-*.tmp`, created but not yet renamed) must be removed and
//! reported by the next run; the run that completes leaves every file migrated and no
//! temporary file anywhere.
//!
//! KUBEMIG_CRASH_FILES, KUBEMIG_CRASH_PASSES and KUBEMIG_CRASH_SEED change the size, the
//! number of passes (a pass resets the tree and kills until a run completes) and the random
//! seed (printed, for reproducing a failure).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::common::{is_temp, km, snapshot};
use std::time::{Duration, Instant, SystemTime};

/// Exit status, stdout and stderr of one run.
type Output = (Option<i32>, Vec<u8>, Vec<u8>);
/// Every file of a tree by relative path.
type Tree = BTreeMap<PathBuf, Vec<u8>>;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// xorshift64*: enough randomness for kill times, reproducible from the seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// One manifest needing migration, of a size and shape chosen by `i`: HPAs with every
/// metric source, flowcontrol, Ingress, CRLF, no final newline, comments, and every
/// fiftieth one large (a wider window between temporary file and rename).
fn manifest(i: usize) -> String {
    let mut s = format!("# file {i}\n");
    match i % 4 {
        0 => s.push_str(&format!(
            "apiVersion: autoscaling/v2beta1\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: hpa-{i}\nspec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: web\n  maxReplicas: {}\n  metrics:\n  - type: Resource\n    resource:\n      name: cpu\n      targetAverageUtilization: {} # percent\n  - type: Pods\n    pods:\n      metricName: rps\n      targetAverageValue: \"100\"\n",
            i % 50 + 2,
            i % 90 + 5
        )),
        1 => s.push_str(&format!(
            "apiVersion: flowcontrol.apiserver.k8s.io/v1beta1\nkind: PriorityLevelConfiguration\nmetadata:\n  name: plc-{i}\nspec:\n  type: Limited\n  limited:\n    assuredConcurrencyShares: {}\n    limitResponse:\n      type: Reject\n",
            i % 3
        )),
        2 => s.push_str(&format!(
            "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata:\n  name: ing-{i}\nspec:\n  rules:\n  - host: h{i}.example.com\n    http:\n      paths:\n      - path: /\n        backend:\n          serviceName: web\n          servicePort: 80\n"
        )),
        _ => s.push_str(&format!(
            "apiVersion: autoscaling/v2beta2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: hpa-{i}\nspec:\n  maxReplicas: 3\n---\napiVersion: batch/v1beta1\nkind: CronJob\nmetadata:\n  name: cj-{i}\nspec:\n  schedule: \"*/5 * * * *\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n          - name: c\n            image: busybox\n"
        )),
    }
    if i % 50 == 7 {
        for l in 0..4000 {
            s.push_str(&format!(
                "# padding line {l} ..................................\n"
            ));
        }
    }
    if i % 7 == 3 {
        s = s.replace('\n', "\r\n");
    }
    if i % 11 == 5 {
        s.pop();
        if s.ends_with('\r') {
            s.pop();
        }
    }
    s
}

fn rel(i: usize) -> PathBuf {
    PathBuf::from(format!(
        "team-{:02}/app-{:03}/m{i:05}.yaml",
        i % 17,
        i % 113
    ))
}

fn write_tree(dir: &Path, files: usize) {
    for i in 0..files {
        let p = dir.join(rel(i));
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, manifest(i)).unwrap();
    }
}

fn fix(dir: &Path, threads: u64) -> Command {
    let mut cmd = km(dir, &["fix", ".", "--color", "never"])
        .env("RAYON_NUM_THREADS", &threads.to_string())
        .command();
    cmd.stdout(Stdio::null());
    cmd
}

#[test]
fn killed_fix_never_leaves_a_half_written_file() {
    let files = env_or("KUBEMIG_CRASH_FILES", 2000) as usize;
    let passes = env_or("KUBEMIG_CRASH_PASSES", 4);
    let seed = env_or(
        "KUBEMIG_CRASH_SEED",
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
            | 1,
    );
    eprintln!("KUBEMIG_CRASH_SEED={seed}");
    let mut rng = Rng(seed);

    // The fully migrated forms, from an uninterrupted run.
    let reference = tempfile::tempdir().unwrap();
    write_tree(reference.path(), files);
    let originals = snapshot(reference.path());
    let start = Instant::now();
    let out = fix(reference.path(), 2).output().unwrap();
    let full = start.elapsed();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let migrated = snapshot(reference.path());
    assert_eq!(originals.len(), files);
    for (p, bytes) in &originals {
        assert_ne!(&migrated[p], bytes, "{} needs no change", p.display());
    }
    eprintln!("{files} files, an uninterrupted fix takes {full:?}");

    let mut kills = 0;
    let mut leftovers_seen = 0;
    let mut leftovers_removed = 0;
    let mut leftovers_reported = 0;
    for pass in 0..passes {
        let work = tempfile::tempdir().unwrap();
        write_tree(work.path(), files);
        let mut pending_leftovers: Vec<PathBuf> = Vec::new();
        let mut runs = 0;
        // Liveness: reruns must make progress. A run killed before its first batch is on
        // disk replaces nothing (its data must be flushed before any rename, and a freshly
        // written tree makes that first flush slow), so a fixed number of runs says more
        // about this machine's disk than about kubemig: what fails is a long stretch of
        // runs that together migrate nothing.
        let (mut done, mut since_progress) = (0, 0);
        loop {
            runs += 1;
            assert!(
                since_progress < 150,
                "seed {seed}, pass {pass}: {since_progress} runs in a row migrated nothing ({done} of {files} files done)"
            );
            let threads = 1 + rng.below(4);
            let mut child = fix(work.path(), threads).spawn().unwrap();
            // Kill somewhere in the first quarter of a full run, so that most runs die and
            // the tree goes through many partial states.
            let delay = Duration::from_micros(rng.below(full.as_micros() as u64 / 4 + 1));
            std::thread::sleep(delay);
            let finished = child.try_wait().unwrap().is_some();
            if !finished {
                child.kill().unwrap(); // SIGKILL
            }
            let out = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr).to_string();
            // A run that completes reports what it removed; a killed one has no time to.
            for p in &pending_leftovers {
                if !work.path().join(p).exists() {
                    leftovers_removed += 1;
                    if stderr.contains(&format!("{}: note: removed a temporary file", p.display()))
                    {
                        leftovers_reported += 1;
                    }
                }
            }
            let now = snapshot(work.path());
            pending_leftovers.clear();
            for (p, bytes) in &now {
                if is_temp(p) {
                    leftovers_seen += 1;
                    pending_leftovers.push(p.clone());
                    continue;
                }
                assert!(
                    originals.get(p) == Some(bytes) || migrated.get(p) == Some(bytes),
                    "seed {seed}, pass {pass}, run {runs}: {} is neither original nor migrated",
                    p.display()
                );
            }
            assert_eq!(
                now.len() - pending_leftovers.len(),
                files,
                "seed {seed}: files appeared or vanished"
            );
            let migrated_now = now
                .iter()
                .filter(|(p, bytes)| !is_temp(p) && migrated.get(*p) == Some(*bytes))
                .count();
            assert!(
                migrated_now >= done,
                "seed {seed}: a migrated file went back"
            );
            since_progress = if migrated_now > done {
                0
            } else {
                since_progress + 1
            };
            done = migrated_now;
            if out.status.code() == Some(0) {
                assert!(
                    pending_leftovers.is_empty(),
                    "seed {seed}: a completed run left {pending_leftovers:?}"
                );
                assert_eq!(
                    now, migrated,
                    "seed {seed}: a completed run left work undone"
                );
                break;
            }
            assert!(
                out.status.code().is_none(),
                "seed {seed}: fix failed without being killed: {stderr}"
            );
            kills += 1;
        }
        eprintln!("pass {pass}: {runs} runs, {} killed", runs - 1);
    }
    eprintln!(
        "{kills} kills, nothing lost; {leftovers_seen} temporary files left by kills, {leftovers_removed} removed by the next run ({leftovers_reported} reported, the others by runs killed before reporting), the rest by the run that completed"
    );
    assert!(kills >= 20, "too few kills ({kills}) to mean much");
}

/// Determinism: `check`, `diff` and `fix` give byte-identical results with 1, 2 and 8
/// threads, run twice each, on a tree with migrations, refusals and errors.
#[test]
fn output_is_identical_across_thread_counts_and_runs() {
    let t = tempfile::tempdir().unwrap();
    write_tree(t.path(), 600);
    // Files that need a human, and files with errors, among them.
    fs::write(
        t.path().join("team-03/blocked.yaml"),
        "apiVersion: autoscaling/v2beta1\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: b\nspec:\n  metrics:\n  - type: Pods\n    pods:\n      metricName: rps\n",
    )
    .unwrap();
    fs::write(
        t.path().join("team-05/broken.yaml"),
        "apiVersion: extensions/v1beta1\nkind: [\n",
    )
    .unwrap();
    fs::write(t.path().join("team-07/binary.yaml"), b"\x00\x01apiVersion").unwrap();
    let mut seen: Option<(Vec<Output>, Tree)> = None;
    for threads in ["1", "2", "8", "1", "2", "8"] {
        let mut outs = Vec::new();
        for cmd in ["check", "diff"] {
            let out = km(t.path(), &[cmd, ".", "--color", "never"])
                .env("RAYON_NUM_THREADS", threads)
                .output();
            assert_eq!(out.status.code(), Some(2), "{cmd}");
            outs.push((out.status.code(), out.stdout, out.stderr));
        }
        let copy = tempfile::tempdir().unwrap();
        for (p, bytes) in snapshot(t.path()) {
            let dst = copy.path().join(p);
            fs::create_dir_all(dst.parent().unwrap()).unwrap();
            fs::write(dst, bytes).unwrap();
        }
        let out = km(copy.path(), &["fix", ".", "--color", "never"])
            .env("RAYON_NUM_THREADS", threads)
            .output();
        outs.push((out.status.code(), out.stdout, out.stderr));
        let tree = snapshot(copy.path());
        match &seen {
            None => seen = Some((outs, tree)),
            Some((o, tr)) => {
                for (a, b) in o.iter().zip(&outs) {
                    assert!(
                        a == b,
                        "RAYON_NUM_THREADS={threads}: output differs:\n{}\n---\n{}",
                        String::from_utf8_lossy(&a.2),
                        String::from_utf8_lossy(&b.2)
                    );
                }
                assert!(tr == &tree, "RAYON_NUM_THREADS={threads}: fix differs");
            }
        }
    }
}
