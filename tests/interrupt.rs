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
