//! An ordered thread pool: run a function on every item on several threads and hand the
//! results over in item order, with bounded memory. Nothing here knows about files.

/// How far the workers may run ahead of the item being emitted, in items and in bytes of
/// finished results waiting to be emitted.
#[derive(Debug, Clone, Copy)]
pub struct Bound {
    pub files: usize,
    pub bytes: usize,
}

impl Default for Bound {
    fn default() -> Bound {
        Bound {
            files: 256,
            bytes: 32 << 20,
        }
    }
}

/// How many items a worker takes at once.
const BATCH: usize = 8;

struct Reorder<O> {
    /// Next item a worker may take.
    next: usize,
    /// Items handed to `emit` so far.
    emitted: usize,
    /// Finished items not yet emitted, by `index % files`.
    slots: Vec<Option<std::thread::Result<O>>>,
    bytes: usize,
    stop: bool,
    /// Workers waiting for room, and whether the calling thread waits for a finished item:
    /// a wake-up is a system call, made only when someone waits.
    idle: usize,
    waiting: bool,
}

impl<O> Reorder<O> {
    /// The items a thread may take now (none: it must wait, or all are taken).
    fn take(&mut self, n: usize, files: usize, bytes: usize) -> std::ops::Range<usize> {
        let ahead = self.next - self.emitted;
        if self.stop
            || self.next >= n
            || ahead >= files
            || (self.bytes >= bytes && self.next != self.emitted)
        {
            return self.next..self.next;
        }
        // A few items at a time: one lock for several small files.
        let take = BATCH.min(files - ahead).min(n - self.next);
        self.next += take;
        self.next - take..self.next
    }
}

/// Run `work` on every item on `threads` threads (the calling one among them) and hand the
/// results to `emit` in item order, on the calling thread, as soon as each is next in line.
/// At most `bound.files` items are taken ahead of the one being emitted, and a thread only
/// starts another item while the finished ones waiting hold fewer than `bound.bytes` (the
/// next in line always goes), so memory does not grow with the number of items. The calling
/// thread emits what is ready and otherwise works like the others, so `threads` is the
/// number of threads busy: one thread is one, with nothing handed between threads. A panic
/// in `work` is re-raised here; an error from `emit` stops the workers and is returned.
pub fn run_ordered<'a, I, O, E>(
    items: &'a [I],
    threads: usize,
    bound: Bound,
    weight: impl Fn(&O) -> usize + Sync,
    work: impl Fn(&I) -> O + Sync,
    mut emit: impl FnMut(&'a I, O) -> Result<(), E>,
) -> Result<(), E>
where
    I: Sync,
    O: Send,
{
    use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
    use std::sync::{Condvar, Mutex};

    let files = bound.files.max(1);
    let state = Mutex::new(Reorder {
        next: 0,
        emitted: 0,
        slots: (0..files.min(items.len())).map(|_| None).collect(),
        bytes: 0,
        stop: false,
        idle: 0,
        waiting: false,
    });
    // Workers wait on `room` for the calling thread to emit; it waits on `ready` for them.
    let (room, ready) = (Condvar::new(), Condvar::new());
    let n = items.len();
    // Run `run`'s items and put their results in their slots.
    let run_batch = |run: std::ops::Range<usize>, done: &mut Vec<_>| {
        for i in run {
            let out = catch_unwind(AssertUnwindSafe(|| work(&items[i])));
            let w = out.as_ref().map_or(0, &weight);
            done.push((i, out, w));
        }
        let mut s = state.lock().unwrap();
        let len = s.slots.len();
        for (i, out, w) in done.drain(..) {
            s.slots[i % len] = Some(out);
            s.bytes += w;
        }
        if s.waiting {
            ready.notify_one();
        }
    };
    std::thread::scope(|scope| {
        for _ in 1..threads.clamp(1, n.max(1)) {
            scope.spawn(|| {
                let mut done = Vec::with_capacity(BATCH);
                loop {
                    let run = {
                        let mut s = state.lock().unwrap();
                        loop {
                            if s.stop || s.next >= n {
                                return;
                            }
                            let run = s.take(n, files, bound.bytes);
                            if !run.is_empty() {
                                break run;
                            }
                            s.idle += 1;
                            s = room.wait(s).unwrap();
                            s.idle -= 1;
                        }
                    };
                    run_batch(run, &mut done);
                }
            });
        }
        let stop = |state: &Mutex<Reorder<O>>| {
            state.lock().unwrap().stop = true;
            room.notify_all();
        };
        let mut finished = Vec::new();
        let mut done = Vec::with_capacity(BATCH);
        let mut i = 0;
        while i < n {
            let run = {
                // Take every finished item that is next in line, under one lock; with none,
                // work on the next few items, or wait for a worker's.
                let mut s = state.lock().unwrap();
                let len = s.slots.len();
                loop {
                    while let Some(out) = s.slots[(i + finished.len()) % len].take() {
                        s.bytes -= out.as_ref().map_or(0, &weight);
                        finished.push(out);
                        if i + finished.len() == n {
                            break;
                        }
                    }
                    if !finished.is_empty() {
                        s.emitted = i + finished.len();
                        if s.idle > 0 {
                            room.notify_all();
                        }
                        break None;
                    }
                    let run = s.take(n, files, bound.bytes);
                    if !run.is_empty() {
                        break Some(run);
                    }
                    s.waiting = true;
                    s = ready.wait(s).unwrap();
                    s.waiting = false;
                }
            };
            if let Some(run) = run {
                run_batch(run, &mut done);
                continue;
            }
            for out in finished.drain(..) {
                match out {
                    Ok(out) => {
                        if let Err(e) = emit(&items[i], out) {
                            stop(&state);
                            return Err(e);
                        }
                    }
                    Err(panic) => {
                        stop(&state);
                        resume_unwind(panic);
                    }
                }
                i += 1;
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ordered_emits_in_order_within_its_bounds() {
        let items: Vec<usize> = (0..500).collect();
        for threads in [1, 2, 7] {
            let in_flight = std::sync::atomic::AtomicUsize::new(0);
            let most = std::sync::atomic::AtomicUsize::new(0);
            let mut seen = Vec::new();
            let bound = Bound {
                files: 8,
                bytes: 1000,
            };
            run_ordered(
                &items,
                threads,
                bound,
                |o: &(usize, usize)| o.1,
                |&i| {
                    // Later items finish first, so the reorder buffer has work to do.
                    std::thread::sleep(std::time::Duration::from_micros(((i * 7) % 5) as u64 * 50));
                    let now = in_flight.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                    most.fetch_max(now, std::sync::atomic::Ordering::SeqCst);
                    (i, if i % 50 == 0 { 5000 } else { 10 })
                },
                |&i, (j, _)| -> Result<(), ()> {
                    assert_eq!(i, j);
                    in_flight.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                    seen.push(i);
                    Ok(())
                },
            )
            .unwrap();
            assert_eq!(seen, items);
            // Each worker may finish one item beyond the buffer's bound before it waits.
            assert!(
                most.into_inner() <= 8 + threads,
                "more than `files` items (plus one per worker) held at once"
            );
        }
    }

    #[test]
    fn run_ordered_stops_on_an_emit_error_and_reraises_panics() {
        let items: Vec<usize> = (0..100).collect();
        let err = run_ordered(
            &items,
            2,
            Bound::default(),
            |_| 0,
            |&i| i,
            |&i, _| {
                if i == 10 { Err(i) } else { Ok(()) }
            },
        );
        assert_eq!(err, Err(10));
        let panicked = std::panic::catch_unwind(|| {
            run_ordered(
                &items,
                2,
                Bound::default(),
                |_| 0,
                |&i| {
                    assert!(i != 42, "boom");
                    i
                },
                |_, _| Ok::<(), ()>(()),
            )
        });
        assert!(panicked.is_err());
    }
}
