//! Fine-tuning MobileNetV2 on posters (`Backbone.fine_tune`): the same seed
//! gives the same model, the saved file is torchvision's state dict, a
//! checkpoint resumes exactly and refuses other runs, and bad input is
//! named. The layers' gradients against PyTorch are unit tests of
//! `vision::finetune`. Needs ../shared (the weights and posters); skipped
//! with a message without it.

mod common;

use std::path::Path;

const WEIGHTS: &str = "DATA_DIR + \"/../models/mobilenet_v2-b0353104.pth\"";

/// A session with `net` (the backbone), `posters` (eight poster paths),
/// `genres` (three made-up genres) and `y` (their labels).
fn session(test: &str) -> Option<genrelab::Session> {
    let data = common::shared_data(test)?;
    let (mut s, _) = genrelab::Session::capturing(Ok(data));
    let _ = s.eval(
        &format!(
            "let net = vision::backbone(\"mobilenet_v2\", {WEIGHTS});
             let posters = data::movies(DATA_DIR + \"/movies/movies.csv\").split(\"train\").sample(8).posters();
             let genres = data::binarizer([[\"a\"], [\"b\"], [\"c\"]]);
             let y = genres.transform([[\"a\"], [\"b\"], [\"c\"], [\"a\", \"b\"], [\"a\"], [\"c\"], [\"b\", \"c\"], [\"a\"]]);"
        ),
        "setup",
    )
    .unwrap_or_else(|e| panic!("{}", e.render()));
    Some(s)
}

fn value(s: &mut genrelab::Session, code: &str) -> String {
    let v = s
        .eval(code, "t")
        .unwrap_or_else(|e| panic!("{}", e.render()));
    s.display(&v).unwrap_or_default()
}

fn error(s: &mut genrelab::Session, code: &str) -> String {
    s.eval(code, "t").map(|_| ()).unwrap_err().render()
}

#[test]
fn the_same_seed_gives_the_same_model_and_the_file_is_torchvisions() {
    let Some(mut s) = session("the_same_seed_gives_the_same_model") else {
        return;
    };
    let opts = "#{ epochs: 2, trainable: 2, batch_size: 4, seed: 5 }";
    let run = |s: &mut genrelab::Session, opts: &str| {
        value(
            s,
            &format!("net.fine_tune(posters, y, {opts}).predict_proba(posters).to_array()"),
        )
    };
    let a = run(&mut s, opts);
    assert_eq!(a, run(&mut s, opts), "same seed, same model");
    assert_ne!(
        a,
        run(&mut s, &opts.replace("seed: 5", "seed: 6")),
        "another seed"
    );
    // Batch statistics and no augmentation train too, and differently.
    assert_ne!(
        a,
        run(
            &mut s,
            &opts.replace("seed: 5", "seed: 5, batch_norm: \"batch\"")
        )
    );
    assert_ne!(
        a,
        run(&mut s, &opts.replace("seed: 5", "seed: 5, augment: false"))
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tuned.safetensors");
    let back = value(
        &mut s,
        &format!(
            "let m = net.fine_tune(posters, y, {opts});
             m.save(\"{p}\");
             let back = vision::load_classifier(\"{p}\");
             [back.predict_proba(posters).to_array() == m.predict_proba(posters).to_array(),
              back.history.best_epoch, back.backbone().extract(posters).shape,
              m.backbone().extract(posters).to_array() != net.extract(posters).to_array()]",
            p = path.display()
        ),
    );
    assert_eq!(back, "[true, 2, [8, 1280], true]");
    // torchvision's mobilenet_v2(num_classes=3).state_dict(): names, shapes
    // and dtypes (tests/fixtures, written by torchvision 0.29.2; a
    // safetensors file keeps no order).
    let expected = std::fs::read_to_string(
        common::root().join("tests/fixtures/torchvision_mobilenet_v2_state_dict.txt"),
    )
    .unwrap();
    let mut expected: Vec<&str> = expected.lines().filter(|l| !l.starts_with('#')).collect();
    expected.sort();
    let bytes = std::fs::read(&path).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut names: Vec<String> = st.names().into_iter().map(str::to_string).collect();
    names.sort();
    let got: Vec<String> = names
        .iter()
        .map(|name| {
            let t = st.tensor(name).unwrap();
            let dtype = match t.dtype() {
                safetensors::Dtype::F32 => "float32",
                safetensors::Dtype::I64 => "int64",
                other => panic!("{name}: {other:?}"),
            };
            format!("{name} {:?} {dtype}", t.shape())
        })
        .collect();
    assert_eq!(got, expected);
}

/// A run cut short (Ctrl-C) and rerun ends with exactly the weights of a
/// run never cut; a finished run is read back; another run's checkpoint
/// and files of other kinds are refused by name.
#[test]
fn checkpoints_resume_exactly_and_refuse_other_runs() {
    let Some(mut s) = session("checkpoints_resume_exactly") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let opts = |path: &Path, trainable: usize| {
        format!(
            "#{{ epochs: 60, trainable: {trainable}, batch_size: 2, augment: false, seed: 3, checkpoint: \"{}\" }}",
            path.display()
        )
    };
    let whole = dir.path().join("whole.safetensors");
    let reference = value(
        &mut s,
        &format!(
            "net.fine_tune(posters, y, {}).predict_proba(posters).to_array()",
            opts(&whole, 1)
        ),
    );
    let cut = dir.path().join("cut.safetensors");
    let stopper = std::thread::spawn(|| {
        std::thread::sleep(std::time::Duration::from_millis(1500));
        genrelab::interrupt::request();
    });
    let first = s.eval(
        &format!("net.fine_tune(posters, y, {})", opts(&cut, 1)),
        "t",
    );
    stopper.join().unwrap();
    match first {
        Err(e) => assert!(e.is_interrupt(), "{}", e.render()),
        Ok(_) => panic!("the run finished before the interrupt"),
    }
    assert!(cut.exists(), "the checkpoint is written at Ctrl-C");
    let resumed = value(
        &mut s,
        &format!(
            "net.fine_tune(posters, y, {}).predict_proba(posters).to_array()",
            opts(&cut, 1)
        ),
    );
    assert_eq!(resumed, reference);
    let again = value(
        &mut s,
        &format!(
            "net.fine_tune(posters, y, {}).history.epochs.len()",
            opts(&cut, 1)
        ),
    );
    assert_eq!(again, "60");
    // Another number of trained blocks is another network.
    let e = error(
        &mut s,
        &format!("net.fine_tune(posters, y, {})", opts(&cut, 2)),
    );
    assert!(e.contains("the checkpoint is of another run: the networks differ (it has mobilenet_v2, the last 1 blocks trained; this run mobilenet_v2, the last 2 blocks trained)"), "{e}");
    // Another architecture's checkpoint (a sentence encoder's), and a model file.
    let text = dir.path().join("text.safetensors");
    let _ = value(
        &mut s,
        &format!(
            "let enc = text::encoder(\"tests/fixtures/finetune/tiny_bert\");
             enc.fine_tune([\"a b\", \"c d\"], data::binarizer([[\"x\"]]).transform([[\"x\"], []]), #{{ epochs: 1, seed: 0, checkpoint: \"{}\" }}); 0",
            text.display()
        ),
    );
    let e = error(
        &mut s,
        &format!("net.fine_tune(posters, y, {})", opts(&text, 1)),
    );
    assert!(e.contains("the checkpoint of a sentence encoder's fine-tune (a BERT, another architecture), not a poster fine-tune's checkpoint"), "{e}");
    let e = error(
        &mut s,
        &format!("vision::load_classifier(\"{}\")", text.display()),
    );
    assert!(e.contains("not a genrelab image classifier"), "{e}");
}

#[test]
fn bad_inputs_are_named() {
    let Some(mut s) = session("bad_inputs_are_named") else {
        return;
    };
    for (code, wanted) in [
        (
            "net.fine_tune(posters, y, #{ trainable: 20 })",
            "option 'trainable' is 20, but mobilenet_v2 has 19 blocks (features.0 to features.18)",
        ),
        (
            "net.fine_tune(posters, y, #{ patience: 2 })",
            "option 'patience' needs option 'validation'",
        ),
        (
            "net.fine_tune(posters.extract(0, 3), y, #{})",
            "training set has 3 posters but 8 label rows",
        ),
        (
            "net.fine_tune(posters, y, #{ validation: [posters] })",
            "expected [dev Movies or poster paths, dev Labels]",
        ),
        (
            "net.fine_tune(42, y, #{})",
            "fine_tune: expected a Movies or an array of image paths, got 42",
        ),
        (
            "net.fine_tune(posters, y, #{ batch_norm: \"moving\" })",
            "option 'batch_norm' is \"moving\"",
        ),
        (
            "net.fine_tune(posters, y, #{ lr: 0.0 })",
            "option 'lr' is 0.0, expected a number > 0",
        ),
    ] {
        let e = error(&mut s, code);
        assert!(e.contains(wanted), "{code}\nexpected {wanted:?} in\n{e}");
        assert!(!e.contains("panicked"), "{e}");
    }
    let e = error(
        &mut s,
        "let other = data::binarizer([[\"x\"], [\"b\"], [\"c\"]]).transform([[\"x\"], [\"b\"], [\"c\"], [\"x\"], [\"x\"], [\"c\"], [\"b\"], [\"x\"]]);
         net.fine_tune(posters, y, #{ validation: [posters, other] })",
    );
    assert!(
        e.contains("the training labels") && e.contains("the validation labels"),
        "{e}"
    );
}

/// A poster that cannot be decoded is named and left out; the others train.
#[test]
fn an_unreadable_poster_is_named_and_left_out() {
    let Some(data) = common::shared_data("an_unreadable_poster_is_named") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let bad = common::write(dir.path(), "bad.jpg", b"\xff\xd8\xff\xe0 not a jpeg");
    let script = common::write(
        dir.path(),
        "t.rhai",
        format!(
            "let net = vision::backbone(\"mobilenet_v2\", {WEIGHTS});
             let posters = data::movies(DATA_DIR + \"/movies/movies.csv\").sample(3).posters() + [\"{}\"];
             let y = data::binarizer([[\"a\"], [\"b\"]]).transform([[\"a\"], [\"b\"], [\"a\"], [\"b\"]]);
             let m = net.fine_tune(posters, y, #{{ epochs: 1, trainable: 1, seed: 0 }});
             print(m.predict_proba(posters).shape);",
            bad.display()
        )
        .as_bytes(),
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_genrelab"))
        .args(["run", script.to_str().unwrap()])
        .env("GENRELAB_DATA", &data)
        .current_dir(common::root())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("bad.jpg: the JPEG is truncated")
            && stderr.contains("left out of the training set"),
        "{stderr}"
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[3, 2]");
}
