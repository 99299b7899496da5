//! Interrupts: `fix` on thousands of files, sent SIGINT, SIGTERM or SIGHUP at several moments
//! of the run, must leave no temporary file (`.kubemig-*.tmp`) and no file that is neither its
//! original nor its migrated form, and exit 128 + the signal number.
//!
//! The moments are not times but states of the tree, watched from outside: "the file first in
//! path order has been rewritten", "the file a third of the way", "two thirds of the way". So
//! the signal always lands in the middle of the run, however fast or loaded the machine is.
//! Only the last moment can come too late (the run finished in the instant between the
//! watcher seeing it and the signal); that run must then have completed cleanly.
//!
//! KUBEMIG_SIGNAL_FILES changes the size of the tree (default 1500).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{is_temp, km, snapshot};

/// A manifest that needs migrating; every 40th one large, for a longer write.
fn manifest(i: usize) -> String {
    let mut s = match i % 3 {
        0 => format!(
            "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata:\n  name: ing-{i}\nspec:\n  rules:\n  - host: h{i}.example.com\n    http:\n      paths:\n      - path: /\n        backend:\n          serviceName: web\n          servicePort: 80\n"
        ),
        1 => format!(
            "apiVersion: batch/v1beta1\nkind: CronJob\nmetadata:\n  name: cj-{i} # nightly\nspec:\n  schedule: \"0 3 * * *\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n          - name: c\n            image: busybox\n"
        ),
        _ => format!(
            "apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata:\n  name: pdb-{i}\nspec:\n  minAvailable: 1\n  selector:\n    matchLabels:\n      app: a{i}\n"
        ),
    };
    if i % 40 == 9 {
        for l in 0..3000 {
            s.push_str(&format!(
                "# padding {l} ............................................\n"
            ));
        }
    }
    s
}

fn rel(i: usize) -> PathBuf {
    PathBuf::from(format!("d{:02}/m{i:05}.yaml", i % 23))
}

fn write_tree(dir: &Path, files: usize) {
    for i in 0..files {
        let p = dir.join(rel(i));
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, manifest(i)).unwrap();
    }
}

fn fix(dir: &Path) -> Command {
    let mut cmd = km(dir, &["fix", "."])
        .plain()
        .env("RAYON_NUM_THREADS", "2")
        .command();
    cmd.stdout(Stdio::null());
    cmd
}

fn send(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{sig}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(ok.success(), "kill -{sig} {pid}");
}

#[test]
fn interrupted_fix_leaves_no_temporary_and_no_partial_file() {
    let files: usize = std::env::var("KUBEMIG_SIGNAL_FILES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1500);
    let reference = tempfile::tempdir().unwrap();
    write_tree(reference.path(), files);
    let originals = snapshot(reference.path());
    let out = fix(reference.path()).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let migrated = snapshot(reference.path());
    for (p, bytes) in &originals {
        assert_ne!(&migrated[p], bytes, "{} needs no change", p.display());
    }
    // Files in the order `fix` replaces them (path order).
    let order: Vec<&PathBuf> = originals.keys().collect();

    let mut interrupted = 0;
    let (third, two_thirds) = (order.len() / 3, 2 * order.len() / 3);
    for (sig, code, moments) in [
        ("INT", 130, &[0, third, two_thirds][..]),
        ("TERM", 143, &[0, third, two_thirds][..]),
        ("HUP", 129, &[third][..]),
    ] {
        for &watch in moments {
            let work = tempfile::tempdir().unwrap();
            write_tree(work.path(), files);
            let watched = work.path().join(order[watch]);
            let mut child = fix(work.path()).spawn().unwrap();
            let start = Instant::now();
            let mut finished = false;
            while fs::read(&watched).unwrap() == originals[order[watch]] {
                if child.try_wait().unwrap().is_some() {
                    finished = true;
                    break;
                }
                assert!(
                    start.elapsed() < Duration::from_secs(120),
                    "fix makes no progress"
                );
                std::thread::sleep(Duration::from_micros(200));
            }
            if !finished {
                send(child.id(), sig);
            }
            let out = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            let now = snapshot(work.path());
            let temps: Vec<_> = now.keys().filter(|p| is_temp(p)).collect();
            assert!(
                temps.is_empty(),
                "SIG{sig} at file {watch}: {temps:?} left behind"
            );
            let partial: Vec<_> = now
                .iter()
                .filter(|(p, b)| originals.get(*p) != Some(b) && migrated.get(*p) != Some(b))
                .map(|(p, _)| p)
                .collect();
            assert!(
                partial.is_empty(),
                "SIG{sig} at file {watch}: partial {partial:?}"
            );
            assert_eq!(
                now.len(),
                files,
                "SIG{sig} at file {watch}: files appeared or vanished"
            );
            let done = now
                .iter()
                .filter(|(p, b)| migrated.get(*p) == Some(b))
                .count();
            match out.status.code() {
                Some(c) if c == code => {
                    interrupted += 1;
                    assert!(
                        stderr.contains(&format!("interrupted by SIG{sig}")),
                        "{stderr}"
                    );
                    assert!(
                        done < files,
                        "SIG{sig} at file {watch}: every file was done"
                    );
                }
                // Only possible for the last moment: the run was over before the signal.
                Some(0) if watch > order.len() / 2 => assert_eq!(now, migrated),
                c => panic!("SIG{sig} at file {watch}: exit {c:?}, want {code}: {stderr}"),
            }
            eprintln!("SIG{sig} after file {watch}: {done} of {files} files rewritten");
            if watch == 0 {
                // The next run finishes the job from the state the interrupt left.
                let out = fix(work.path()).output().unwrap();
                assert_eq!(out.status.code(), Some(0));
                assert_eq!(snapshot(work.path()), migrated, "SIG{sig}: rerun");
            }
        }
    }
    assert!(interrupted >= 5, "only {interrupted} runs were interrupted");
}
