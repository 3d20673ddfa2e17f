//! Where a training step's time goes, when `GENRELAB_PROFILE` is set: each
//! timed phase's seconds summed, printed on stderr at the end of training.

use std::cell::RefCell;
use std::sync::OnceLock;
use std::time::Instant;

fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("GENRELAB_PROFILE").is_some())
}

thread_local! {
    static TIMES: RefCell<Vec<(&'static str, f64)>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f`, adding its time to `phase` when profiling.
pub fn timed<T>(phase: &'static str, f: impl FnOnce() -> T) -> T {
    if !enabled() {
        return f();
    }
    let t0 = Instant::now();
    let out = f();
    let dt = t0.elapsed().as_secs_f64();
    TIMES.with(|t| {
        let mut t = t.borrow_mut();
        match t.iter_mut().find(|(p, _)| *p == phase) {
            Some(e) => e.1 += dt,
            None => t.push((phase, dt)),
        }
    });
    out
}

/// Prints and clears the phases timed on this thread.
pub fn report() {
    if !enabled() {
        return;
    }
    TIMES.with(|t| {
        let t = std::mem::take(&mut *t.borrow_mut());
        let total: f64 = t.iter().map(|(_, s)| s).sum();
        for (phase, s) in &t {
            eprintln!(
                "profile: {phase:24} {s:8.3} s {:5.1} %",
                100.0 * s / total.max(1e-12)
            );
        }
    });
}
