//! A one-line progress bar on stderr for long primitives (feature
//! extraction, training): `label [#####·····] 120/7128 45.1/s ETA 2m35s note`.
//! Drawn only when stderr is a terminal, at most ten times a second, so
//! piped runs and golden outputs stay clean. Where a [`Sink`] is set (the
//! Jupyter kernel), the bar goes there instead and is updated in place.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Where bars go instead of stderr. Bars are drawn from whichever thread
/// runs the work (rayon workers included), hence `Send + Sync`.
pub trait Sink: Send + Sync {
    /// Bar `id` now reads `line`; `finished` on its last draw.
    fn show(&self, id: u64, line: &str, finished: bool);
}

static SINK: RwLock<Option<Arc<dyn Sink>>> = RwLock::new(None);
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Sends every bar to `sink` from now on (`None`: back to stderr).
pub fn set_sink(sink: Option<Arc<dyn Sink>>) {
    *SINK.write().unwrap_or_else(|e| e.into_inner()) = sink;
}

fn sink() -> Option<Arc<dyn Sink>> {
    SINK.read().unwrap_or_else(|e| e.into_inner()).clone()
}

pub struct Progress {
    label: String,
    total: usize,
    unit: &'static str,
    started: Instant,
    last_draw: Option<Instant>,
    enabled: bool,
    id: u64,
}

impl Progress {
    pub fn new(label: impl Into<String>, total: usize, unit: &'static str) -> Progress {
        Progress {
            label: label.into(),
            total,
            unit,
            started: Instant::now(),
            last_draw: None,
            enabled: std::io::stderr().is_terminal() || sink().is_some(),
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// For jobs without a known total: one status line, redrawn in place.
    pub fn note(&mut self, text: &str) {
        self.draw(false, |p| format!("{}: {text}", p.label));
    }

    /// Updates the bar to `done` of the total, with an optional note (a loss).
    pub fn update(&mut self, done: usize, note: &str) {
        self.draw(done >= self.total, |p| {
            render(&p.label, done, p.total, p.unit, p.started.elapsed(), note)
        });
    }

    /// Redraws the line (at most every 100 ms unless `finished`, which also
    /// ends it with a newline).
    fn draw(&mut self, finished: bool, line: impl FnOnce(&Progress) -> String) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        if !finished
            && self
                .last_draw
                .is_some_and(|t| now - t < Duration::from_millis(100))
        {
            return;
        }
        self.last_draw = Some(now);
        let text = line(self);
        if let Some(sink) = sink() {
            sink.show(self.id, &text, finished);
            return;
        }
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{text}");
        if finished {
            let _ = writeln!(err);
        }
        let _ = err.flush();
    }
}

/// The bar's text (separate from drawing so tests can read it).
pub fn render(
    label: &str,
    done: usize,
    total: usize,
    unit: &str,
    elapsed: Duration,
    note: &str,
) -> String {
    const WIDTH: usize = 24;
    let fraction = if total == 0 {
        1.0
    } else {
        done as f64 / total as f64
    };
    let filled = ((fraction * WIDTH as f64).round() as usize).min(WIDTH);
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 { done as f64 / secs } else { 0.0 };
    let eta = if rate > 0.0 && done < total {
        format!(" ETA {}", duration((total - done) as f64 / rate))
    } else {
        format!(" in {}", duration(secs))
    };
    let note = if note.is_empty() {
        String::new()
    } else {
        format!(" {note}")
    };
    format!(
        "{label} [{}{}] {done}/{total} {rate:.1} {unit}/s{eta}{note}",
        "#".repeat(filled),
        "·".repeat(WIDTH - filled)
    )
}

fn duration(secs: f64) -> String {
    let s = secs.round() as u64;
    if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{:.1}s", secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_count_rate_and_eta() {
        let text = render("mobilenet_v2", 50, 200, "img", Duration::from_secs(10), "");
        assert_eq!(
            text,
            "mobilenet_v2 [######··················] 50/200 5.0 img/s ETA 30.0s"
        );
        let done = render("fit", 3, 3, "epoch", Duration::from_secs(90), "loss 0.2");
        assert_eq!(
            done,
            "fit [########################] 3/3 0.0 epoch/s in 1m30s loss 0.2"
        );
    }
}
