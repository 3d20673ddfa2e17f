//! The sentence encoder against sentence-transformers on the shared
//! all-MiniLM-L6-v2: 10 fixed texts (accents, apostrophes, Japanese, emoji
//! and ZWJ sequences, the empty string, whitespace only, capitals,
//! full-width letters and ligatures, 400 words cut at 256 tokens) and 20
//! real overviews (the first 10 of movies.csv and its 10 longest); then the
//! CPU forward against the candle forward on a small random BERT (every
//! pooling, ReLU), the cache, and every bad folder.
//!
//! tests/fixtures/sentence_embeddings.json holds the texts and vectors,
//! written by (sentence-transformers 6.3.0, torch 2.15.0, CPU, f32):
//! ```python
//! from sentence_transformers import SentenceTransformer
//! from sentence_transformers.models import Pooling
//! model = SentenceTransformer("shared/models/all-MiniLM-L6-v2", device="cpu")
//! texts = fixed + [r["overview"] for r in rows[:10]] \
//!       + [r["overview"] for r in sorted(rows, key=lambda r: -len(r["overview"]))[:10]]
//! emb = model.encode(texts, batch_size=8)          # Transformer -> mean -> Normalize
//! raw = SentenceTransformer(modules=[model[0], model[1]]).encode(texts[:3])   # no Normalize
//! pooled = {m: SentenceTransformer(modules=[model[0], Pooling(384, pooling_mode=m)]).encode(texts[:3])
//!           for m in ["cls", "max", "mean_sqrt_len_tokens"]}
//! lengths = model.tokenize(texts)["attention_mask"].sum(1)
//! json.dump({"texts": texts, "lengths": lengths, "normalized": emb, "mean_pooled_first3": raw,
//!            "<mode>_pooled_first3": pooled[mode], …}, …)          # values to 7 digits
//! ```
//! Largest differences seen (CPU forward; candle's): 2.1e-7 (2.5e-7) on the
//! normalised embeddings — the issue asks 1e-4 — and 6.9e-7 to 2.9e-6
//! (1.0e-6 to 4.2e-6) on the raw pooled vectors of the four poolings.

mod common;

use std::path::{Path, PathBuf};

use genrelab::text::encoder::{EncoderOptions, Pooling, SentenceEncoder, Target};

fn model() -> Option<PathBuf> {
    let data = common::shared_data("the sentence encoder")?;
    Some(data.join("../models/all-MiniLM-L6-v2"))
}

fn fixture() -> serde_json::Value {
    serde_json::from_str(
        &std::fs::read_to_string(common::root().join("tests/fixtures/sentence_embeddings.json"))
            .unwrap(),
    )
    .unwrap()
}

fn rows(v: &serde_json::Value) -> Vec<Vec<f32>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect()
        })
        .collect()
}

fn max_diff(got: &ndarray::Array2<f32>, want: &[Vec<f32>]) -> f32 {
    assert_eq!(got.nrows(), want.len());
    let mut worst = 0f32;
    for (g, w) in got.rows().into_iter().zip(want) {
        assert_eq!(g.len(), w.len());
        for (a, b) in g.iter().zip(w) {
            worst = worst.max((a - b).abs());
        }
    }
    worst
}

fn open(path: &Path, options: EncoderOptions) -> SentenceEncoder {
    SentenceEncoder::open(path, &options).unwrap_or_else(|e| panic!("{e}"))
}

fn encode(enc: &SentenceEncoder, texts: &[&str], batch: usize) -> ndarray::Array2<f32> {
    enc.encode(texts, None, batch, None, |_, _| {})
        .unwrap()
        .matrix
        .values()
        .clone()
}

#[test]
fn embeddings_equal_sentence_transformers() {
    let Some(path) = model() else { return };
    let fx = fixture();
    let texts: Vec<&str> = fx["texts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    let lengths: Vec<usize> = fx["lengths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap() as usize)
        .collect();
    for target in [Target::Cpu, Target::CandleCpu] {
        let enc = open(
            &path,
            EncoderOptions {
                target: Some(target),
                ..Default::default()
            },
        );
        assert_eq!((enc.dim(), enc.max_length), (384, 256));
        assert_eq!((enc.pooling, enc.normalize), (Pooling::Mean, true));
        for (t, n) in texts.iter().zip(&lengths) {
            assert_eq!(enc.token_ids(t).len(), *n, "{t:?}");
        }
        // Batches of 7 mix lengths (padding and masks in candle's forward).
        let out = enc.encode(&texts, None, 7, None, |_, _| {}).unwrap();
        assert_eq!(out.truncated, 1);
        let worst = max_diff(out.matrix.values(), &rows(&fx["normalized"]));
        assert!(worst < 1e-6, "{target:?}: largest difference {worst}");
        // Unnormalised, every pooling mode: the pooled vectors themselves.
        for (pooling, key) in [
            (Pooling::Mean, "mean_pooled_first3"),
            (Pooling::Cls, "cls_pooled_first3"),
            (Pooling::Max, "max_pooled_first3"),
            (Pooling::MeanSqrtLen, "mean_sqrt_len_tokens_pooled_first3"),
        ] {
            let raw = open(
                &path,
                EncoderOptions {
                    normalize: Some(false),
                    pooling: Some(pooling),
                    target: Some(target),
                    ..Default::default()
                },
            );
            let worst = max_diff(&encode(&raw, &texts[..3], 2), &rows(&fx[key]));
            assert!(worst < 1e-5, "{target:?} {key}: largest difference {worst}");
        }
    }
}

#[test]
fn rows_do_not_depend_on_batching_and_duplicates_are_encoded_once() {
    let Some(path) = model() else { return };
    let enc = open(&path, EncoderOptions::default());
    let texts = [
        "A",
        "heist goes wrong",
        "A",
        "",
        "two lovers in Paris",
        "A",
        "a much longer text with many more words in it",
    ];
    let one = encode(&enc, &texts, 1);
    let all = encode(&enc, &texts, 64);
    for (a, b) in one.iter().zip(&all) {
        assert!((a - b).abs() < 1e-6);
    }
    assert_eq!(one.row(0), one.row(2));
    // The embedding of one text alone equals its row.
    let single = enc.embed_one("heist goes wrong").unwrap();
    for (a, b) in single.iter().zip(one.row(1)) {
        assert!((a - b).abs() < 1e-6);
    }
}

#[test]
fn the_cache_keeps_rows_by_text_and_refuses_other_models() {
    let Some(path) = model() else { return };
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache.safetensors");
    let enc = open(&path, EncoderOptions::default());
    let first = enc
        .encode(&["one", "two"], None, 1, Some(&cache), |_, _| {})
        .unwrap();
    assert_eq!(first.cached, 0);
    let names = Some(vec!["a".into(), "b".into(), "c".into()]);
    let again = enc
        .encode(&["two", "three", "one"], names, 1, Some(&cache), |_, _| {})
        .unwrap();
    assert_eq!(again.cached, 2);
    assert_eq!(again.matrix.row_names().unwrap(), ["a", "b", "c"]);
    assert_eq!(again.matrix.values().row(2), first.matrix.values().row(0));
    let other = open(
        &path,
        EncoderOptions {
            max_length: Some(128),
            ..Default::default()
        },
    );
    let e = other
        .encode(&["one"], None, 1, Some(&cache), |_, _| {})
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("max_length=256") && e.contains("max_length=128") && e.contains("another cache"),
        "{e}"
    );
}

/// A small BERT with random weights and the real tokenizer (its ids need
/// the full vocabulary), written as a sentence-transformers folder.
struct Tiny {
    dir: tempfile::TempDir,
}

const H: usize = 8;
const VOCAB: usize = 30522;

fn tensors(skip: Option<&str>, reshape: Option<&str>) -> Vec<(String, Vec<usize>)> {
    let mut t = vec![
        (
            "embeddings.word_embeddings.weight".to_string(),
            vec![VOCAB, H],
        ),
        ("embeddings.position_embeddings.weight".into(), vec![16, H]),
        ("embeddings.token_type_embeddings.weight".into(), vec![2, H]),
        ("embeddings.LayerNorm.weight".into(), vec![H]),
        ("embeddings.LayerNorm.bias".into(), vec![H]),
    ];
    for l in 0..2 {
        let p = format!("encoder.layer.{l}");
        for name in [
            "attention.self.query",
            "attention.self.key",
            "attention.self.value",
            "attention.output.dense",
        ] {
            t.push((format!("{p}.{name}.weight"), vec![H, H]));
            t.push((format!("{p}.{name}.bias"), vec![H]));
        }
        t.push((format!("{p}.intermediate.dense.weight"), vec![16, H]));
        t.push((format!("{p}.intermediate.dense.bias"), vec![16]));
        t.push((format!("{p}.output.dense.weight"), vec![H, 16]));
        t.push((format!("{p}.output.dense.bias"), vec![H]));
        for norm in ["attention.output.LayerNorm", "output.LayerNorm"] {
            t.push((format!("{p}.{norm}.weight"), vec![H]));
            t.push((format!("{p}.{norm}.bias"), vec![H]));
        }
    }
    t.retain(|(n, _)| Some(n.as_str()) != skip);
    for (n, s) in &mut t {
        if Some(n.as_str()) == reshape {
            s[0] += 1;
        }
    }
    t
}

fn write_weights(path: &Path, tensors: &[(String, Vec<usize>)]) {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(7);
    let data: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .iter()
        .map(|(n, s)| {
            let count: usize = s.iter().product();
            let bytes = (0..count)
                .flat_map(|_| rng.gen_range(-0.5f32..0.5).to_le_bytes())
                .collect();
            (n.clone(), s.clone(), bytes)
        })
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView)> = data
        .iter()
        .map(|(n, s, b)| {
            (
                n.clone(),
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), b)
                    .unwrap(),
            )
        })
        .collect();
    std::fs::write(path, safetensors::serialize(views, None).unwrap()).unwrap();
}

impl Tiny {
    fn new(real: &Path, act: &str) -> Tiny {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        std::fs::write(
            p.join("config.json"),
            format!(
                r#"{{"model_type": "bert", "vocab_size": {VOCAB}, "hidden_size": {H}, "num_hidden_layers": 2,
                "num_attention_heads": 2, "intermediate_size": 16, "hidden_act": "{act}",
                "max_position_embeddings": 16, "type_vocab_size": 2, "layer_norm_eps": 1e-12}}"#
            ),
        )
        .unwrap();
        std::fs::copy(real.join("tokenizer.json"), p.join("tokenizer.json")).unwrap();
        std::fs::copy(real.join("modules.json"), p.join("modules.json")).unwrap();
        std::fs::write(
            p.join("sentence_bert_config.json"),
            r#"{"max_seq_length": 12, "do_lower_case": false}"#,
        )
        .unwrap();
        std::fs::create_dir(p.join("1_Pooling")).unwrap();
        std::fs::write(
            p.join("1_Pooling/config.json"),
            format!(r#"{{"word_embedding_dimension": {H}, "pooling_mode_mean_tokens": true}}"#),
        )
        .unwrap();
        write_weights(&p.join("model.safetensors"), &tensors(None, None));
        Tiny { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn error(&self) -> String {
        match SentenceEncoder::open(self.path(), &EncoderOptions::default()) {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.to_string(),
        }
    }
}

#[test]
fn the_cpu_forward_equals_candles_on_a_random_bert() {
    let Some(real) = model() else { return };
    let texts = [
        "A heist goes wrong.",
        "",
        "Two friends fall in love in Paris, then move to Rome, then part forever.",
        "x",
    ];
    for act in ["gelu", "relu"] {
        let tiny = Tiny::new(&real, act);
        for pooling in [
            Pooling::Mean,
            Pooling::Cls,
            Pooling::Max,
            Pooling::MeanSqrtLen,
        ] {
            for normalize in [false, true] {
                let options = |target| EncoderOptions {
                    pooling: Some(pooling),
                    normalize: Some(normalize),
                    target: Some(target),
                    ..Default::default()
                };
                let cpu = encode(&open(tiny.path(), options(Target::Cpu)), &texts, 3);
                let candle = encode(&open(tiny.path(), options(Target::CandleCpu)), &texts, 3);
                let worst = cpu
                    .iter()
                    .zip(&candle)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0f32, f32::max);
                assert!(worst < 1e-5, "{act} {pooling:?} {normalize}: {worst}");
            }
        }
    }
}

#[test]
fn bad_folders_are_named() {
    let Some(real) = model() else { return };
    for file in [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "modules.json",
        "sentence_bert_config.json",
        "1_Pooling/config.json",
    ] {
        let tiny = Tiny::new(&real, "gelu");
        std::fs::remove_file(tiny.path().join(file)).unwrap();
        let e = tiny.error();
        assert!(e.contains(&format!("the folder has no {file}")), "{e}");
    }
    let tiny = Tiny::new(&real, "gelu");
    let key = "encoder.layer.1.attention.self.key.weight";
    write_weights(
        &tiny.path().join("model.safetensors"),
        &tensors(Some(key), None),
    );
    let e = tiny.error();
    assert!(e.contains(&format!("no tensor '{key}'")), "{e}");
    write_weights(
        &tiny.path().join("model.safetensors"),
        &tensors(None, Some(key)),
    );
    let e = tiny.error();
    assert!(
        e.contains(&format!(
            "tensor '{key}' has shape [9, 8], config.json implies [8, 8]"
        )),
        "{e}"
    );
    // Cut short.
    let bytes = std::fs::read(real.join("model.safetensors")).unwrap();
    std::fs::write(tiny.path().join("model.safetensors"), &bytes[..1 << 20]).unwrap();
    let e = tiny.error();
    assert!(e.contains("truncated: 1048576 bytes"), "{e}");

    let tiny = Tiny::new(&real, "gelu");
    std::fs::write(
        tiny.path().join("tokenizer.json"),
        r#"{"model": {"type": "BPE", "vocab": {}}, "normalizer": null, "pre_tokenizer": {"type": "ByteLevel"}}"#,
    )
    .unwrap();
    let e = tiny.error();
    assert!(e.contains("its model is BPE, expected WordPiece"), "{e}");

    let tiny = Tiny::new(&real, "swish");
    let e = tiny.error();
    assert!(e.contains("hidden_act is \"swish\""), "{e}");

    let tiny = Tiny::new(&real, "gelu");
    std::fs::write(
        tiny.path().join("modules.json"),
        r#"[{"type": "sentence_transformers.models.Transformer", "path": ""},
        {"type": "sentence_transformers.models.Pooling", "path": "1_Pooling"},
        {"type": "sentence_transformers.models.Dense", "path": "2_Dense"}]"#,
    )
    .unwrap();
    let e = tiny.error();
    assert!(
        e.contains("module 2 is 'sentence_transformers.models.Dense'"),
        "{e}"
    );
    std::fs::write(tiny.path().join("modules.json"), "[{").unwrap();
    let e = tiny.error();
    assert!(e.contains("modules.json:1: not JSON"), "{e}");

    let tiny = Tiny::new(&real, "gelu");
    std::fs::write(
        tiny.path().join("1_Pooling/config.json"),
        r#"{"pooling_mode_mean_tokens": true, "pooling_mode_cls_token": true}"#,
    )
    .unwrap();
    let e = tiny.error();
    assert!(e.contains("combines 2 pooling modes"), "{e}");

    let e = SentenceEncoder::open(&real.join("nope"), &EncoderOptions::default())
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("nope: no such folder"), "{e}");
    let tiny = Tiny::new(&real, "gelu");
    let e = SentenceEncoder::open(
        tiny.path(),
        &EncoderOptions {
            max_length: Some(17),
            ..Default::default()
        },
    )
    .err()
    .unwrap()
    .to_string();
    assert!(
        e.contains("option 'max_length' is 17, outside [2, 16]"),
        "{e}"
    );
    // The same length set by the folder is blamed on the folder, not the script.
    std::fs::write(
        tiny.path().join("sentence_bert_config.json"),
        r#"{"max_seq_length": 40, "do_lower_case": false}"#,
    )
    .unwrap();
    let e = SentenceEncoder::open(tiny.path(), &EncoderOptions::default())
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("sentence_bert_config.json sets max_seq_length 40, outside [2, 16]")
            && e.contains("give the option max_length")
            && !e.contains("option 'max_length'"),
        "{e}"
    );
}

#[test]
fn cuda_without_the_feature_is_a_clear_error() {
    let Some(real) = model() else { return };
    if cfg!(feature = "cuda") {
        return;
    }
    let e = SentenceEncoder::open(
        &real,
        &EncoderOptions {
            target: Some(Target::Cuda),
            ..Default::default()
        },
    )
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("--features cuda"), "{e}");
}

/// The error of `code` in a session with the shared data, rendered as the
/// user sees it (position, source line, caret).
fn script_error(code: &str) -> Option<String> {
    let data = common::shared_data("encoder script errors")?;
    let (mut s, _) = genrelab::Session::capturing(Ok(data));
    Some(s.eval(code, "t").map(|_| ()).unwrap_err().render())
}

#[test]
fn script_errors_name_the_argument_and_the_place() {
    let load = "let enc = text::encoder(DATA_DIR + \"/../models/all-MiniLM-L6-v2\");\n";
    let cases: &[(&str, &[&str])] = &[
        (
            "text::encoder(\"/nonexistent/model\")",
            &["t:1:7", "/nonexistent/model: no such folder"],
        ),
        (
            "text::encoder(DATA_DIR + \"/../models/all-MiniLM-L6-v2\", #{ max_lenght: 8 })",
            &["unknown option 'max_lenght'", "did you mean 'max_length'"],
        ),
        (
            "text::encoder(DATA_DIR + \"/../models/all-MiniLM-L6-v2\", #{ max_length: 1000 })",
            &["option 'max_length' is 1000, outside [2, 512]"],
        ),
        (
            "text::encoder(DATA_DIR + \"/../models/all-MiniLM-L6-v2\", #{ pooling: \"avg\" })",
            &[
                "option 'pooling' is \"avg\"",
                "\"mean\", \"cls\", \"max\", \"mean_sqrt_len\"",
            ],
        ),
        (
            "enc.encode([\"fine\", 3])",
            &["t:2:5", "element 1 is i64, expected a string"],
        ),
        (
            "enc.encode(42)",
            &["expected an array of strings or a Movies"],
        ),
        (
            "enc.encode([\"a\"], #{ batch: 0 })",
            &["option 'batch' is 0, expected an integer >= 1"],
        ),
        (
            "enc.most_similar(\"x\", data::matrix([[1.0, 2.0]]), 3)",
            &["the matrix has 2 columns, the query's embedding 384"],
        ),
        (
            "enc.most_similar(\"x\", enc.encode([\"a\"]), 0)",
            &["k is 0, expected at least 1"],
        ),
    ];
    for (code, wanted) in cases {
        let full = format!("{load}{code}");
        let Some(e) = script_error(&full) else { return };
        for w in *wanted {
            let w = w.replace("t:1:7", "t:2:7");
            assert!(e.contains(&w), "{code}\nexpected {w:?} in:\n{e}");
        }
        assert!(!e.contains("panicked"), "{e}");
    }
}

#[test]
fn empty_and_long_texts_have_defined_rows() {
    let Some(path) = model() else { return };
    let enc = open(&path, EncoderOptions::default());
    let long = "word ".repeat(2000);
    let out = enc
        .encode(&["", "   ", &long], None, 2, None, |_, _| {})
        .unwrap();
    assert_eq!(out.truncated, 1);
    let x = out.matrix.values();
    // Whitespace normalises to nothing: the same [CLS] [SEP] as "".
    assert_eq!(x.row(0), x.row(1));
    for row in x.rows() {
        let norm: f32 = row.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5 && row.iter().all(|v| v.is_finite()));
    }
    assert_eq!(enc.token_ids(&long).len(), 256);
}
