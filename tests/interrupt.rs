//! Ctrl-C stops a running evaluation and keeps the session. In its own test
//! binary: the stop flag is process-wide.

use std::thread;
use std::time::Duration;

use genrelab::{Session, interrupt};

/// The stop flag is process-wide: these tests take turns.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn interrupt_stops_a_long_loop_and_the_session_goes_on() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let (mut s, _) = Session::capturing(Err("no data".into()));
    let _ = s.eval("let kept = 7;", "1").unwrap();
    let stopper = thread::spawn(|| {
        thread::sleep(Duration::from_millis(300));
        interrupt::request();
    });
    let err = s.eval("let n = 0; loop { n += 1; }", "2").unwrap_err();
    stopper.join().unwrap();
    assert!(err.is_interrupt());
    assert!(
        err.render().contains("interrupted (Ctrl-C)"),
        "{}",
        err.render()
    );
    // The next evaluation clears the flag and sees the earlier variables.
    assert_eq!(s.eval("kept", "3").unwrap().as_int().unwrap(), 7);
}

/// Ctrl-C during `fit` stops training with an error, and the network keeps
/// what it learnt (usable, with a history of the epochs that ran).
#[test]
fn interrupting_fit_keeps_the_trained_network() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let (mut s, _) = Session::capturing(Err("no data".into()));
    let _ = s
        .eval(
            "let rows = []; for i in 0..2000 { rows.push([(i % 7).to_float(), (i % 11).to_float(), (i % 13).to_float()]); }
             let x = data::matrix(rows);
             let y = data::binarizer([[\"A\"]]).transform(rows.map(|r| if r[0] > 3.0 { [\"A\"] } else { [] }));
             let net = nn::mlp(#{ hidden: [256], seed: 0 });",
            "1",
        )
        .unwrap();
    let stopper = thread::spawn(|| {
        thread::sleep(Duration::from_millis(500));
        interrupt::request();
    });
    let err = s
        .eval("net.fit(x, y, #{ epochs: 100000, batch_size: 16 })", "2")
        .unwrap_err();
    stopper.join().unwrap();
    assert!(err.is_interrupt(), "{}", err.render());
    assert!(
        err.render().contains("interrupted (Ctrl-C)"),
        "{}",
        err.render()
    );
    let v = s
        .eval("[net.history.epochs > 0, net.predict_proba(x).rows]", "3")
        .unwrap();
    assert_eq!(s.display(&v).unwrap(), "[true, 2000]");
}

/// Ctrl-C during a poster extraction stops it with the interruption, and the
/// rows computed before it are in the cache (written on the way out), so
/// the rerun computes only the rest. Needs ../shared (skipped without it).
#[test]
fn interrupting_extract_keeps_the_rows_done_in_the_cache() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let models = root.join("../shared/models/mobilenet_v2-b0353104.pth");
    let posters = root.join("../shared/data/movies/posters");
    if !models.is_file() || !posters.is_dir() {
        eprintln!("SKIPPED interrupting_extract: ../shared is absent (CI has it)");
        return;
    }
    let mut paths: Vec<_> = std::fs::read_dir(&posters)
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    paths.sort();
    paths.truncate(1200);
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("features.safetensors");
    let (mut s, _) = Session::capturing(Err("no data".into()));
    let setup = format!(
        "let net = vision::backbone(\"mobilenet_v2\", \"{}\"); let paths = {:?};",
        models.display(),
        paths
    );
    let _ = s.eval(&setup, "1").unwrap();
    let stopper = thread::spawn(|| {
        thread::sleep(Duration::from_millis(1500));
        interrupt::request();
    });
    let run = format!(
        "net.extract(paths, #{{ batch: 4, cache: \"{}\" }})",
        cache.display()
    );
    let err = s.eval(&run, "2").unwrap_err();
    stopper.join().unwrap();
    assert!(err.is_interrupt(), "{}", err.render());
    let (loaded, _) = genrelab::matrix::io::load_with_meta(&cache).unwrap();
    let genrelab::matrix::io::Loaded::Dense(kept) = loaded else {
        panic!("the cache is a dense matrix")
    };
    let kept = kept.values().nrows();
    assert!(kept > 0 && kept < paths.len(), "{kept} rows cached");
    // The rerun reuses every cached row and computes the rest.
    let v = s
        .eval(&format!("{run}.rows"), "3")
        .unwrap_or_else(|e| panic!("{}", e.render()));
    assert_eq!(s.display(&v).unwrap(), paths.len().to_string());
}

/// Ctrl-C during `encode` stops it with an error and keeps every embedding
/// computed so far in the cache; the rerun encodes only the rest.
#[test]
fn interrupting_encode_keeps_the_cache() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let data = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    if !data.join("movies/movies.csv").is_file() {
        eprintln!(
            "SKIPPED interrupting_encode_keeps_the_cache: ../shared/data is absent (CI has it)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache.safetensors");
    let (mut s, _) = Session::capturing(Ok(data));
    let _ = s
        .eval(
            &format!(
                "let enc = text::encoder(DATA_DIR + \"/../models/all-MiniLM-L6-v2\");
                 let movies = data::movies(DATA_DIR + \"/movies/movies.csv\").split(\"dev\");
                 let cache = \"{}\";",
                cache.display()
            ),
            "1",
        )
        .unwrap();
    let stopper = thread::spawn(|| {
        thread::sleep(Duration::from_millis(1500));
        interrupt::request();
    });
    let err = s
        .eval("enc.encode(movies, #{ cache: cache })", "2")
        .unwrap_err();
    stopper.join().unwrap();
    assert!(err.is_interrupt(), "{}", err.render());
    let kept = s
        .eval("data::load_matrix(cache).rows", "3")
        .unwrap()
        .as_int()
        .unwrap();
    assert!(kept > 0 && kept < 712, "{kept} rows kept");
    // The rerun takes what was kept and encodes the rest.
    let _ = s
        .eval("enc.encode(movies, #{ cache: cache })", "4")
        .unwrap();
    let all = s
        .eval("data::load_matrix(cache).rows", "5")
        .unwrap()
        .as_int()
        .unwrap();
    assert!(all > kept && all <= 712, "{all} rows after the rerun");
}
