//! Ctrl-C. One process-wide flag: the signal handler sets it, the engine's
//! progress hook turns it into a script termination, and long-running Rust
//! primitives poll [`check`] so they stop too.

use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};

static REQUESTED: AtomicBool = AtomicBool::new(false);
static HANDLER: Once = Once::new();

/// Ask the running evaluation to stop (what Ctrl-C does).
pub fn request() {
    REQUESTED.store(true, Ordering::SeqCst);
}

/// Whether a stop has been asked for and not yet cleared.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::Relaxed)
}

/// Forget a pending stop; called before each evaluation.
pub fn clear() {
    REQUESTED.store(false, Ordering::SeqCst);
}

/// For long loops in Rust code: `interrupt::check()?` once per batch.
pub fn check() -> Result<()> {
    if requested() {
        Err(Error::Interrupted)
    } else {
        Ok(())
    }
}

/// Route SIGINT to [`request`] (once per process). Without it Ctrl-C kills the
/// process; with it, the evaluation stops and the REPL keeps its session.
pub fn install_handler() {
    HANDLER.call_once(|| {
        // If another handler is already installed (embedding program), keep it.
        let _ = ctrlc::set_handler(request);
    });
}
