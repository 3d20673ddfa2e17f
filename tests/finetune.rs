//! Fine-tuning's gradients and optimiser against PyTorch.
//!
//! tests/fixtures/finetune/ is written by make_fixtures.py there (torch
//! 2.15, transformers 5.25, sentence-transformers 6.3, run offline in a
//! throwaway venv): a tiny random BERT (2 layers, hidden 32, 4 heads) as a
//! sentence-transformers folder, and, in float64, the loss and the gradient
//! of every parameter of
//! `BCEWithLogitsLoss(pos_weight=[2, 0.5, 1])(head(mean_pool(bert(ids))), y)`
//! for five texts of 4 to 12 tokens, without dropout:
//!
//! ```python
//! model = BertModel.from_pretrained("tiny_bert").double().eval()
//! out = model(input_ids=ids, attention_mask=mask).last_hidden_state
//! pooled = (out * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
//! loss = BCEWithLogitsLoss(pos_weight=pw)(pooled @ head_w.T + head_b, y)
//! loss.backward()   # loss 0.7614080447880279
//! ```

use std::path::PathBuf;

use genrelab::text::encoder::{Folder, Pooling};
use genrelab::text::finetune::adamw::{AdamW, AdamWConfig};
use genrelab::text::finetune::candle::CandleModel;
use genrelab::text::finetune::cpu::{Dropout, Freeze, Input, Trainer};
use genrelab::text::finetune::params::Params;
use safetensors::SafeTensors;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/finetune")
}

fn f64s(st: &SafeTensors, name: &str) -> Vec<f64> {
    let t = st.tensor(name).unwrap_or_else(|_| panic!("no {name}"));
    t.data()
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

fn i64s(st: &SafeTensors, name: &str) -> Vec<i64> {
    let t = st.tensor(name).unwrap();
    t.data()
        .chunks_exact(8)
        .map(|b| i64::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

/// The tiny BERT with the fixture's head, the five sequences, labels and
/// positive weights.
struct Case {
    p: Params,
    ids: Vec<u32>,
    lengths: Vec<usize>,
    labels: Vec<f32>,
    pos_weight: Vec<f32>,
    bytes: Vec<u8>,
}

impl Case {
    fn load() -> Case {
        let folder = Folder::read(&fixtures().join("tiny_bert")).unwrap();
        let bytes = std::fs::read(fixtures().join("grads.safetensors")).unwrap();
        let st = SafeTensors::deserialize(&bytes).unwrap();
        let mut p = Params::read(&folder.weights, &folder.config, 3, 0).unwrap();
        let f32s = |name: &str| -> Vec<f32> { f64s(&st, name).iter().map(|v| *v as f32).collect() };
        p.set_head(&f32s("head.weight"), &f32s("head.bias"));
        Case {
            ids: i64s(&st, "input_ids").iter().map(|v| *v as u32).collect(),
            lengths: i64s(&st, "lengths").iter().map(|v| *v as usize).collect(),
            labels: f32s("labels"),
            pos_weight: f32s("pos_weight"),
            p,
            bytes,
        }
    }

    fn sequences(&self) -> Vec<&[u32]> {
        let mut out = Vec::new();
        let mut start = 0;
        for &n in &self.lengths {
            out.push(&self.ids[start..start + n]);
            start += n;
        }
        out
    }

    /// Each named gradient against torch's, within 1e-4 of the tensor's
    /// largest; the worst relative error.
    fn compare(&self, grads: &[Vec<f32>]) -> f64 {
        let st = SafeTensors::deserialize(&self.bytes).unwrap();
        let (mut checked, mut worst) = (0, 0.0f64);
        for (name, shape, got) in self.p.named(grads) {
            let want = f64s(&st, &format!("grad.{name}"));
            assert_eq!(got.len(), want.len(), "{name} {shape:?}");
            let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                let err = (f64::from(*g) - w).abs();
                // 1e-4 relative to the tensor's largest gradient (float32
                // sums against float64; some gradients are 0 in theory).
                assert!(
                    err <= 1e-4 * scale + 1e-7,
                    "{name}[{i}]: {g} vs torch {w} (largest {scale})"
                );
                if scale > 1e-9 {
                    worst = worst.max(err / scale);
                }
            }
            checked += 1;
        }
        // 5 embedding tensors, 16 per layer, the head's 2.
        assert_eq!(checked, 5 + 2 * 16 + 2, "every tensor compared");
        worst
    }
}

#[test]
fn every_gradient_equals_pytorch_autograd() {
    let case = Case::load();
    let mut grads: Vec<Vec<f32>> = case
        .p
        .items
        .iter()
        .map(|i| vec![0.0; i.data.len()])
        .collect();
    let mut trainer = Trainer::default();
    let loss = trainer.step(
        &case.p,
        Input::Tokens(&case.sequences()),
        &case.labels,
        &case.pos_weight,
        Pooling::Mean,
        Dropout::default(),
        Freeze::default(),
        0,
        &mut grads,
    );
    let st = SafeTensors::deserialize(&case.bytes).unwrap();
    let want_loss = f64s(&st, "loss")[0];
    assert!(
        (loss - want_loss).abs() < 1e-5,
        "loss {loss} vs torch {want_loss}"
    );
    let (pooled, _) = trainer.outputs();
    for (a, b) in pooled.iter().zip(f64s(&st, "pooled")) {
        assert!((f64::from(*a) - b).abs() < 1e-4, "pooled {a} vs {b}");
    }
    let worst = case.compare(&grads);
    eprintln!("CPU backward: largest gradient error {worst:.2e} of its tensor's largest gradient");
}

/// The candle path (what trains on a GPU) runs candle's autograd; it gives
/// torch's gradients too, and so the hand-written CPU backward agrees with
/// candle's autograd.
#[test]
fn candles_autograd_gives_the_same_gradients() {
    let case = Case::load();
    let trained = vec![true; case.p.items.len()];
    let all: Vec<Vec<f32>> = case
        .p
        .items
        .iter()
        .map(|i| vec![0.0; i.data.len()])
        .collect();
    let adam = AdamW::new(AdamWConfig::default(), &all);
    let model = CandleModel::new(&case.p, &trained, candle_core::Device::Cpu, &adam).unwrap();
    let (loss, grads) = model
        .gradients(
            &case.p,
            &case.sequences(),
            &case.labels,
            &case.pos_weight,
            Pooling::Mean,
            Dropout::default(),
            0,
        )
        .unwrap();
    let st = SafeTensors::deserialize(&case.bytes).unwrap();
    assert!((loss - f64s(&st, "loss")[0]).abs() < 1e-5, "{loss}");
    let grads: Vec<Vec<f32>> = grads
        .iter()
        .map(|g| {
            g.as_ref()
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()
        })
        .collect();
    let worst = case.compare(&grads);
    eprintln!("candle autograd: largest gradient error {worst:.2e}");
}

mod common;

const TEXTS: &str = r#"["the man", "a shark terrorizes the beach town!", "love and war in space", "the detective , the murder , the city at night", "a funny dog", "a ghost in the dark house", "a family at school", "the alien space ship"]"#;
const GENRES: &str =
    r#"[["a"], ["b", "c"], ["a", "b"], ["c"], ["a", "c"], ["b"], ["a"], ["b", "c"]]"#;

/// A session with the tiny model (`enc`), eight texts (`texts`) and their
/// labels (`y`) of three genres.
fn tiny_session() -> genrelab::Session {
    let (mut s, _) = genrelab::Session::capturing(Err("no data".into()));
    let _ = s
        .eval(
            &format!(
                "let enc = text::encoder(\"tests/fixtures/finetune/tiny_bert\");
             let texts = {TEXTS};
             let genres = data::binarizer([[\"a\"], [\"b\"], [\"c\"]]);
             let y = genres.transform({GENRES});"
            ),
            "setup",
        )
        .unwrap_or_else(|e| panic!("{}", e.render()));
    s
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

/// One seed fixes the head's initialisation, the batch order and the
/// dropout masks: two runs give the same model; another seed another.
#[test]
fn the_same_seed_gives_the_same_weights() {
    let mut s = tiny_session();
    let opts = "#{ epochs: 3, batch_size: 3, lr: 1e-3, seed: 5 }";
    let a = value(
        &mut s,
        &format!("enc.fine_tune(texts, y, {opts}).predict_proba(texts).to_array()"),
    );
    let b = value(
        &mut s,
        &format!("enc.fine_tune(texts, y, {opts}).predict_proba(texts).to_array()"),
    );
    assert_eq!(a, b);
    let c = value(
        &mut s,
        "enc.fine_tune(texts, y, #{ epochs: 3, batch_size: 3, lr: 1e-3, seed: 6 }).predict_proba(texts).to_array()",
    );
    assert_ne!(a, c);
    // With validation and patience: a history per epoch and the best kept.
    let h = value(
        &mut s,
        "let m = enc.fine_tune(texts, y, #{ epochs: 4, batch_size: 4, lr: 1e-3, seed: 1, validation: [texts, y], patience: 1 });
         [m.history.epochs.len() >= 2, m.history.best_epoch >= 1, m.history.epochs[0].dev_f1_tuned > 0.0]",
    );
    assert_eq!(h, "[true, true, true]");
}

/// The tuned classifier saved and loaded back predicts the same; its
/// folder is a sentence-transformers folder `text::encoder` reads.
#[test]
fn a_saved_classifier_loads_back() {
    let mut s = tiny_session();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tuned");
    let same = value(
        &mut s,
        &format!(
            "let m = enc.fine_tune(texts, y, #{{ epochs: 2, batch_size: 4, lr: 1e-3, freeze: 1, seed: 2 }});
             m.save(\"{0}\");
             let back = text::load_classifier(\"{0}\");
             let e = text::encoder(\"{0}\");
             [back.predict_proba(texts).to_array() == m.predict_proba(texts).to_array(),
              e.encode(texts).to_array() == m.encoder().encode(texts).to_array(),
              e.encode(texts).to_array() != enc.encode(texts).to_array()]",
            out.display()
        ),
    );
    assert_eq!(same, "[true, true, true]");
    let e = error(
        &mut s,
        "text::load_classifier(\"tests/fixtures/finetune/tiny_bert\")",
    );
    assert!(e.contains("has no classifier.safetensors"), "{e}");
    let e = error(
        &mut s,
        "enc.fine_tune(texts, y, #{ epochs: 1, seed: 0 }).save(\"tests/fixtures/finetune/tiny_bert\")",
    );
    assert!(e.contains("this is the base model's folder"), "{e}");
}

#[test]
fn bad_inputs_are_named() {
    let mut s = tiny_session();
    for (code, wanted) in [
        (
            "enc.fine_tune(texts, genres.transform([[\"a\"]]), #{})",
            "8 texts but 1 label rows",
        ),
        (
            "enc.fine_tune(texts, y, #{ lr: 0.0 })",
            "option 'lr' is 0.0, expected a number > 0",
        ),
        (
            "enc.fine_tune(texts, y, #{ lr: -1 })",
            "option 'lr' is -1, expected a number > 0",
        ),
        (
            "enc.fine_tune(texts, y, #{ freeze: 3 })",
            "option 'freeze' is 3, but the model has 2 layers",
        ),
        (
            "enc.fine_tune(texts, y, #{ patience: 2 })",
            "option 'patience' needs option 'validation'",
        ),
        (
            "enc.fine_tune(texts, y, #{ pos_weight: [1.0] })",
            "1 weights for 3 genres",
        ),
        (
            "enc.fine_tune(texts, y, #{ freeze: \"everything\" })",
            "option 'freeze' is \"everything\"",
        ),
        (
            "enc.fine_tune(texts, y, #{ validation: [texts] })",
            "expected [dev texts or Movies, dev Labels]",
        ),
        (
            "enc.fine_tune(42, y, #{})",
            "fine_tune: expected an array of strings or a Movies, got 42",
        ),
        ("enc.fine_tune(texts, y, #{ device: \"cuda\" })", "cuda"),
    ] {
        let e = error(&mut s, code);
        assert!(e.contains(wanted), "{code}\nexpected {wanted:?} in\n{e}");
        assert!(!e.contains("panicked"), "{e}");
    }
    let e = error(
        &mut s,
        &format!(
            "enc.fine_tune(texts, y, #{{ validation: [texts, data::binarizer([[\"x\"], [\"b\"], [\"c\"]]).transform({GENRES})] }})"
        ),
    );
    assert!(e.contains("the training labels"), "{e}");
}

/// A genre no training text has is named in a warning; the head still
/// trains (it learns to say no).
#[test]
fn a_genre_without_positives_is_named_and_trained() {
    let dir = tempfile::tempdir().unwrap();
    let script = common::write(
        dir.path(),
        "t.rhai",
        format!(
            "let enc = text::encoder(\"tests/fixtures/finetune/tiny_bert\");
             let y = data::binarizer([[\"a\"], [\"b\"], [\"c\"], [\"western\"]]).transform({GENRES});
             let m = enc.fine_tune({TEXTS}, y, #{{ epochs: 2, batch_size: 4, lr: 1e-2, seed: 0 }});
             let p = m.predict_proba([\"the man\"]).row(0);
             print(p[3] < 0.5);"
        )
        .as_bytes(),
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_genrelab"))
        .args(["run", script.to_str().unwrap()])
        .current_dir(common::root())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("no training text has western"), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "true");
}

/// A checkpoint resumes a run: a run cut short (Ctrl-C) and rerun ends
/// with exactly the weights of a run never cut; a finished run is read
/// back, not retrained; a checkpoint of another run is refused by name.
#[test]
fn checkpoints_resume_and_refuse_other_runs() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole.safetensors");
    let cut = dir.path().join("cut.safetensors");
    let mut s = tiny_session();
    let many = "let many = []; let ys = []; for i in 0..400 { many += texts; ys += {GENRES}; } let yy = genres.transform(ys);";
    let _ = value(&mut s, &many.replace("{GENRES}", GENRES));
    let opts = |path: &std::path::Path| {
        format!(
            "#{{ epochs: 12, batch_size: 8, lr: 1e-3, seed: 3, checkpoint: \"{}\" }}",
            path.display()
        )
    };
    let reference = value(
        &mut s,
        &format!(
            "enc.fine_tune(many, yy, {}).predict_proba(texts).to_array()",
            opts(&whole)
        ),
    );
    // Cut the second run short, then run it again.
    let stopper = std::thread::spawn(|| {
        std::thread::sleep(std::time::Duration::from_millis(500));
        genrelab::interrupt::request();
    });
    let first = s.eval(&format!("enc.fine_tune(many, yy, {})", opts(&cut)), "t");
    stopper.join().unwrap();
    match first {
        Err(e) => assert!(e.is_interrupt(), "{}", e.render()),
        Ok(_) => panic!("the run finished before the interrupt"),
    }
    assert!(cut.exists(), "the checkpoint is written at Ctrl-C");
    let resumed = value(
        &mut s,
        &format!(
            "enc.fine_tune(many, yy, {}).predict_proba(texts).to_array()",
            opts(&cut)
        ),
    );
    assert_eq!(resumed, reference);
    // Finished: read back (the history is the one saved).
    let again = value(
        &mut s,
        &format!(
            "enc.fine_tune(many, yy, {}).history.epochs.len()",
            opts(&whole)
        ),
    );
    assert_eq!(again, "12");
    // Another run: other options, other labels, another model.
    let e = error(
        &mut s,
        &format!(
            "enc.fine_tune(many, yy, #{{ epochs: 12, batch_size: 8, lr: 2e-3, seed: 3, checkpoint: \"{}\" }})",
            whole.display()
        ),
    );
    assert!(
        e.contains("the checkpoint is of another run: the options differ"),
        "{e}"
    );
    let other = dir.path().join("other.safetensors");
    std::fs::write(&other, b"not a checkpoint").unwrap();
    let e = error(
        &mut s,
        &format!(
            "enc.fine_tune(texts, y, #{{ checkpoint: \"{}\" }})",
            other.display()
        ),
    );
    assert!(
        e.contains("not a safetensors file") || e.contains("not a genrelab fine-tuning checkpoint"),
        "{e}"
    );
    let model_file = dir.path().join("svm.safetensors");
    let _ = value(
        &mut s,
        &format!(
            "svm::linear(#{{}}).fit(text::count_vectorizer().fit_transform([\"gun fight\", \"love kiss\"]), data::binarizer([[\"x\"]]).transform([[\"x\"], []])).save(\"{}\")",
            model_file.display()
        ),
    );
    let e = error(
        &mut s,
        &format!(
            "enc.fine_tune(texts, y, #{{ checkpoint: \"{}\" }})",
            model_file.display()
        ),
    );
    assert!(
        e.contains("this is a genrelab svm file, not a fine-tuning checkpoint"),
        "{e}"
    );
    let e = error(
        &mut s,
        &format!(
            "enc.fine_tune(texts, y, #{{ epochs: 12, batch_size: 8, lr: 1e-3, seed: 3, checkpoint: \"{}\" }})",
            whole.display()
        ),
    );
    assert!(e.contains("the training texts or labels differ"), "{e}");
}

/// A saved folder is what sentence-transformers and PyTorch read:
/// tests/fixtures/finetune/tuned was written by genrelab (the run below,
/// seed 7) and read back by `make_fixtures.py --tuned` into
/// tuned_embeddings.json — `SentenceTransformer('tuned').encode(texts)`,
/// and the head loaded with `nn.Linear.load_state_dict` on the pooled
/// vectors. The same run here writes the same tensors; the encoder and
/// the classifier read from the folder give Python's numbers.
#[test]
fn sentence_transformers_reads_a_saved_folder() {
    let fixture: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("tuned_embeddings.json")).unwrap(),
    )
    .unwrap();
    let rows = |key: &str| -> Vec<Vec<f64>> {
        fixture[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r.as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64().unwrap())
                    .collect()
            })
            .collect()
    };
    let mut s = tiny_session();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tuned");
    let got = value(
        &mut s,
        &format!(
            "enc.fine_tune(texts, y, #{{ epochs: 3, batch_size: 3, lr: 1e-2, seed: 7 }}).save(\"{}\");
             let e = text::encoder(\"tests/fixtures/finetune/tuned\");
             let c = text::load_classifier(\"tests/fixtures/finetune/tuned\");
             [e.encode(texts).to_array(), c.predict_proba(texts).to_array()]",
            out.display()
        ),
    );
    let numbers = |text: &str| -> Vec<f64> {
        text.split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == 'e'))
            .filter_map(|t| t.parse::<f64>().ok())
            .collect()
    };
    let want: Vec<f64> = rows("embeddings")
        .into_iter()
        .flatten()
        .chain(rows("probabilities").into_iter().flatten())
        .collect();
    let got = numbers(&got);
    assert_eq!(got.len(), want.len(), "{got:?}");
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() < 1e-5, "{g} vs Python's {w}");
    }
    // The run here writes the fixture's tensors again.
    for file in ["model.safetensors", "classifier.safetensors"] {
        let a = std::fs::read(out.join(file)).unwrap();
        let b = std::fs::read(fixtures().join("tuned").join(file)).unwrap();
        let (a, b) = (
            SafeTensors::deserialize(&a).unwrap(),
            SafeTensors::deserialize(&b).unwrap(),
        );
        let mut names = a.names();
        names.sort();
        let mut theirs = b.names();
        theirs.sort();
        assert_eq!(names, theirs, "{file}");
        for name in names {
            let (x, y) = (a.tensor(name).unwrap(), b.tensor(name).unwrap());
            assert_eq!(x.shape(), y.shape(), "{name}");
            for (p, q) in x.data().chunks_exact(4).zip(y.data().chunks_exact(4)) {
                let (p, q) = (
                    f32::from_le_bytes(p.try_into().unwrap()),
                    f32::from_le_bytes(q.try_into().unwrap()),
                );
                assert!(
                    (p - q).abs() <= 1e-5 * (1.0 + q.abs()),
                    "{file} {name}: {p} vs {q}"
                );
            }
        }
    }
}
