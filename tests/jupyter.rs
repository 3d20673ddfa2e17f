//! Jupyter's own tools against `genrelab kernel`: the official
//! jupyter_kernel_test suite, an interrupt from jupyter_client, a restart,
//! and examples/tour.ipynb under nbclient (tests/jupyter/test_kernel.py).
//!
//! They need a Python with jupyter_client, jupyter_kernel_test, nbclient
//! and nbformat: `$GENRELAB_JUPYTER_PYTHON`, else `target/jupyter-venv`
//! (which .ci/run makes with pip). Without one they skip with a message,
//! except under CI, where a missing venv is a failure.

use std::path::{Path, PathBuf};
use std::process::Command;

fn python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GENRELAB_JUPYTER_PYTHON") {
        return Some(PathBuf::from(p));
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/jupyter-venv/bin/python");
    venv.exists().then_some(venv)
}

#[test]
fn jupyter_kernel_test_suite_interrupt_restart_and_the_tour_notebook() {
    let Some(python) = python() else {
        let why = "no Python with jupyter_client: set GENRELAB_JUPYTER_PYTHON or run \
                   `python3 -m venv target/jupyter-venv && target/jupyter-venv/bin/pip install \
                   -r tests/jupyter/requirements.txt`";
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must provide the Jupyter venv: {why}"
        );
        eprintln!("skipped: {why}");
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let jupyter = tempfile::tempdir().unwrap();
    let install = Command::new(env!("CARGO_BIN_EXE_genrelab"))
        .args(["kernel", "install", "--name", "genrelab-test", "--prefix"])
        .arg(jupyter.path())
        .current_dir(root)
        .output()
        .unwrap();
    assert!(
        install.status.success(),
        "{}",
        String::from_utf8_lossy(&install.stderr)
    );
    let share = jupyter.path().join("share/jupyter");
    let out = Command::new(&python)
        .args(["-m", "unittest", "-v", "tests/jupyter/test_kernel.py"])
        .current_dir(root)
        // Only the kernelspec just installed, and no state in the user's home.
        .env("JUPYTER_PATH", &share)
        .env("JUPYTER_DATA_DIR", &share)
        .env("JUPYTER_RUNTIME_DIR", jupyter.path().join("runtime"))
        .env("JUPYTER_CONFIG_DIR", jupyter.path().join("config"))
        .env("JUPYTER_PLATFORM_DIRS", "1")
        .env("GENRELAB_KERNEL_NAME", "genrelab-test")
        .output()
        .unwrap();
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{report}");
    assert!(out.status.success(), "the Jupyter tests failed:\n{report}");
    assert!(report.contains("OK"), "{report}");
}
