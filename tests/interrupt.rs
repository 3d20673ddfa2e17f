//! Ctrl-C stops a running evaluation and keeps the session. In its own test
//! binary: the stop flag is process-wide.

use std::thread;
use std::time::Duration;

use genrelab::{Session, interrupt};

#[test]
fn interrupt_stops_a_long_loop_and_the_session_goes_on() {
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
