//! `text::word_vectors`: every format read from small files the test writes
//! (identical vectors), the real GloVe file against gensim, and bad files.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use genrelab::text::vectors::read::{ReadOptions, read};
use genrelab::text::vectors::{Format, UnicodeErrors, WordVectors};

const WORDS: [(&str, [f32; 3]); 4] = [
    ("the", [0.1, -0.2, 0.3]),
    ("café", [1.5, 2.25, -3.0]),
    ("cat", [0.0, 1e-3, 4.0]),
    ("dog", [-7.5, 0.5, 0.125]),
];

fn binary(words: &[(&str, [f32; 3])], header: &str, newline: bool) -> Vec<u8> {
    let mut out = header.as_bytes().to_vec();
    for (w, v) in words {
        out.extend_from_slice(w.as_bytes());
        out.push(b' ');
        for x in v {
            out.extend_from_slice(&x.to_le_bytes());
        }
        if newline {
            out.push(b'\n');
        }
    }
    out
}

fn text(words: &[(&str, [f32; 3])], header: Option<&str>) -> Vec<u8> {
    let mut out = String::new();
    if let Some(h) = header {
        out.push_str(h);
    }
    for (w, v) in words {
        out.push_str(&format!("{w} {} {} {}\n", v[0], v[1], v[2]));
    }
    out.into_bytes()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn load(path: &Path) -> genrelab::Result<(WordVectors, Format)> {
    read(path, &ReadOptions::default()).map(|(wv, r)| (wv, r.format))
}

fn err(path: &Path) -> String {
    match load(path) {
        Ok(_) => panic!("{} loaded", path.display()),
        Err(e) => e.to_string(),
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    common::write(dir, name, bytes)
}

#[test]
fn every_format_gives_the_same_vectors() {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        (
            "a.bin",
            binary(&WORDS, "4 3\n", true),
            Format::Word2VecBinary,
        ),
        (
            "b.bin",
            binary(&WORDS, "4 3\n", false),
            Format::Word2VecBinary,
        ),
        (
            "c.bin.gz",
            gzip(&binary(&WORDS, "4 3\n", true)),
            Format::Word2VecBinary,
        ),
        ("d.vec", text(&WORDS, Some("4 3\n")), Format::Word2VecText),
        ("e.txt", text(&WORDS, None), Format::Glove),
        ("f.txt.gz", gzip(&text(&WORDS, None)), Format::Glove),
        // The extension is only a hint: a text file named .bin is still text.
        ("g.bin", text(&WORDS, Some("4 3\n")), Format::Word2VecText),
    ];
    for (name, bytes, format) in files {
        let path = write(dir.path(), name, &bytes);
        let (wv, found) = load(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(found, format, "{name}");
        assert_eq!(wv.words(), ["the", "café", "cat", "dog"], "{name}");
        for (w, v) in WORDS {
            assert_eq!(wv.get(w).unwrap().to_vec(), v.to_vec(), "{name}: {w}");
        }
    }
    // The native format round-trips exactly.
    let (wv, _) = load(&write(dir.path(), "x.bin", &binary(&WORDS, "4 3\n", true))).unwrap();
    let native = dir.path().join("x.safetensors");
    genrelab::text::vectors::native::save(&wv, &native).unwrap();
    let (back, format) = load(&native).unwrap();
    assert_eq!(format, Format::Native);
    assert_eq!(back.words(), wv.words());
    assert_eq!(back.values(), wv.values());
}

#[test]
fn limit_lowercase_duplicates_and_unicode_errors() {
    let dir = tempfile::tempdir().unwrap();
    let words = [
        ("The", [1.0, 0.0, 0.0]),
        ("the", [2.0, 0.0, 0.0]),
        ("cat", [3.0, 0.0, 0.0]),
    ];
    let path = write(dir.path(), "v.bin", &binary(&words, "3 3\n", true));
    let opts = ReadOptions {
        lowercase: true,
        ..ReadOptions::default()
    };
    let (wv, report) = read(&path, &opts).unwrap();
    assert_eq!(wv.words(), ["the", "cat"]);
    assert_eq!(wv.get("the").unwrap()[0], 1.0);
    assert_eq!(report.duplicates, vec![("the".to_string(), 1)]);
    let opts = ReadOptions {
        limit: Some(1),
        ..ReadOptions::default()
    };
    assert_eq!(read(&path, &opts).unwrap().0.words(), ["The"]);
    // A word that is not UTF-8: strict names it, replace reads it.
    let mut bytes = binary(&words[..1], "2 3\n", true);
    bytes.extend_from_slice(b"caf\xe9 ");
    bytes.extend(std::iter::repeat_n(0u8, 12));
    bytes.push(b'\n');
    let path = write(dir.path(), "latin1.bin", &bytes);
    let e = err(&path);
    assert!(
        e.contains("word 2 (byte 21)") && e.contains("is not UTF-8"),
        "{e}"
    );
    assert!(e.contains("unicode_errors"), "{e}");
    let opts = ReadOptions {
        unicode_errors: UnicodeErrors::Replace,
        ..ReadOptions::default()
    };
    assert!(read(&path, &opts).unwrap().0.contains("caf\u{FFFD}"));
}

#[test]
fn bad_files_say_what_and_where() {
    let dir = tempfile::tempdir().unwrap();
    let full = binary(&WORDS, "4 3\n", true);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "empty.bin",
            Vec::new(),
            "the file is empty; expected word vectors",
        ),
        (
            "cut.bin",
            full[..full.len() - 7].to_vec(),
            "truncated: word 4 ('dog') has 6 of its 12 bytes; the header promises 4 words × 3 dimensions",
        ),
        (
            "short.bin",
            binary(&WORDS[..3], "4 3\n", true),
            "truncated: the header promises 4 words × 3 dimensions, the file ends after word 3",
        ),
        (
            "count.bin",
            binary(&WORDS, "3 3\n", true),
            "the header says 3 words, but more data follows at byte",
        ),
        (
            "dim.bin",
            binary(&WORDS, "4 2\n", true),
            "the header's dimension (2)",
        ),
        (
            "short_row.txt",
            b"the 0.1 0.2 0.3\ncat 0.1 0.2\n".to_vec(),
            "short_row.txt:2: 'cat' has 2 values, expected 3",
        ),
        (
            "short_row.vec",
            b"2 3\nthe 0.1 0.2 0.3\ncat 0.1 0.2\n".to_vec(),
            "short_row.vec:3: 'cat' has 2 values, expected 3",
        ),
        (
            "nan.txt",
            b"the 0.1 NaN 0.3\n".to_vec(),
            "line 1: value 2 of 'the' is NaN",
        ),
        (
            "words.txt",
            b"just some words\nin a text file\n".to_vec(),
            "words.txt:1: value 1 of 'just' is \"some\", not a number",
        ),
        (
            "movies.csv",
            b"id,title\n1,Heat\n".to_vec(),
            "movies.csv:1: expected a word followed by numbers (or a word2vec header 'COUNT DIM')",
        ),
        (
            "image.jpg",
            [0xffu8, 0xd8, 0xff, 0xe0, 0, 16, b'J', b'F', b'I', b'F', 0].repeat(10),
            "not a word-vectors file",
        ),
        (
            "zero.bin",
            b"0 300\n".to_vec(),
            "the header says 0 words of 300 dimensions; both must be at least 1",
        ),
    ];
    for (name, bytes, wanted) in cases {
        let path = write(dir.path(), name, &bytes);
        let e = err(&path);
        assert!(e.contains(wanted), "{name}: expected {wanted:?} in {e:?}");
        assert!(
            e.contains(name),
            "{name}: the message does not name the file: {e}"
        );
    }
    let missing = err(&dir.path().join("nope.bin"));
    assert!(missing.contains("nope.bin"), "{missing}");
    // A cut-short native file says so, with the sizes.
    let (wv, _) = load(&write(dir.path(), "ok.bin", &full)).unwrap();
    let native = dir.path().join("cut.safetensors");
    genrelab::text::vectors::native::save(&wv, &native).unwrap();
    let bytes = std::fs::read(&native).unwrap();
    std::fs::write(&native, &bytes[..bytes.len() - 10]).unwrap();
    let e = err(&native);
    assert!(
        e.contains(&format!(
            "truncated: {} bytes, but its header promises {}",
            bytes.len() - 10,
            bytes.len()
        )),
        "{e}"
    );
}

/// gensim 4.4.0 on the shared file:
/// ```python
/// kv = KeyedVectors.load_word2vec_format("glove.6B.50d.100k.bin", binary=True)
/// kv.most_similar("horror", topn=5)
/// # [('drama', 0.810832), ('thriller', 0.805095), ('movie', 0.803147), ('film', 0.789071), ('fantasy', 0.78711)]
/// kv.most_similar("western", topn=3)
/// # [('southern', 0.90701), ('eastern', 0.906807), ('northern', 0.903609)]
/// kv.most_similar(positive=["king", "woman"], negative=["man"], topn=3)
/// # [('queen', 0.8523604273796082), ('throne', 0.7664334177970886), ('prince', 0.7592144012451172)]
/// kv.similarity("comedy", "drama")   # 0.91227186
/// kv.most_similar(positive=[kv["horror"] + kv["comedy"]], topn=3)
/// # [('comedy', 0.9434685707092285), ('horror', 0.9257712960243225), ('drama', 0.9248113632202148)]
/// ```
#[test]
fn neighbours_on_the_real_glove_file_match_gensim() {
    let Some(data) = common::shared_data("GloVe neighbours") else {
        return;
    };
    let (wv, format) = load(&data.join("../models/glove.6B.50d.100k.bin")).unwrap();
    assert_eq!(format, Format::Word2VecBinary);
    assert_eq!((wv.len(), wv.dim()), (100_000, 50));
    let check = |got: Vec<(String, f32)>, want: &[(&str, f32)]| {
        assert_eq!(got.len(), want.len());
        for ((w, s), (ew, es)) in got.iter().zip(want) {
            assert_eq!(w, ew, "{got:?}");
            assert!((s - es).abs() < 2e-6, "{w}: {s} vs {es}");
        }
    };
    check(
        wv.most_similar(&["horror"], &[], &[], 5).unwrap(),
        &[
            ("drama", 0.810832),
            ("thriller", 0.805095),
            ("movie", 0.803147),
            ("film", 0.789071),
            ("fantasy", 0.78711),
        ],
    );
    check(
        wv.most_similar(&["western"], &[], &[], 3).unwrap(),
        &[
            ("southern", 0.90701),
            ("eastern", 0.906807),
            ("northern", 0.903609),
        ],
    );
    check(
        wv.most_similar(&["king", "woman"], &["man"], &[], 3)
            .unwrap(),
        &[
            ("queen", 0.8523604),
            ("throne", 0.7664334),
            ("prince", 0.7592144),
        ],
    );
    assert!((wv.similarity("comedy", "drama").unwrap() - 0.91227186).abs() < 1e-6);
    let sum = &wv.get("horror").unwrap() + &wv.get("comedy").unwrap();
    check(
        wv.most_similar(&[], &[], &[sum.view()], 3).unwrap(),
        &[
            ("comedy", 0.9434686),
            ("horror", 0.9257713),
            ("drama", 0.9248114),
        ],
    );
}

#[test]
fn script_errors_name_the_option_and_the_word() {
    let e = common::error_of("text::word_vectors(\"x.bin\", #{ fromat: \"glove\" })");
    assert!(
        e.contains("unknown option 'fromat'") && e.contains("did you mean 'format'?"),
        "{e}"
    );
    let Some(data) = common::shared_data("word-vector script errors") else {
        return;
    };
    let code = format!(
        "let wv = text::word_vectors(\"{}/../models/glove.6B.50d.100k.bin\", #{{ limit: 100 }}); wv.get(\"Zanzibar\")",
        data.display()
    );
    let (mut s, _) = genrelab::Session::capturing(Ok(data.clone()));
    let e = s.eval(&code, "t").unwrap_err().render();
    assert!(
        e.contains("'Zanzibar' is not in these 100 word vectors"),
        "{e}"
    );
    let code = format!(
        "let wv = text::word_vectors(\"{}/../models/glove.6B.50d.100k.bin\"); wv.mean([\"the of\"], #{{ on_empty: \"error\" }})",
        data.display()
    );
    let e = s.eval(&code, "t").unwrap_err().render();
    assert!(
        e.contains("document 0 has no word with a vector (1 of 1 documents have none)"),
        "{e}"
    );
}

#[test]
fn tfidf_weights_change_the_means_and_need_a_fitted_vectorizer() {
    let Some(data) = common::shared_data("tf-idf weighted means") else {
        return;
    };
    let glove = data.join("../models/glove.6B.50d.100k.bin");
    let code = format!(
        "let wv = text::word_vectors(\"{}\");\
         let docs = [\"a cop hunts a killer in the city\", \"a family comedy about a dog\"];\
         let v = text::tfidf_vectorizer(#{{}}); v.fit(docs);\
         let plain = wv.mean(docs); let weighted = wv.mean(docs, #{{ weights: v }});\
         [plain.shape == weighted.shape, plain.row(0) != weighted.row(0)]",
        glove.display()
    );
    let (mut s, _) = genrelab::Session::capturing(Ok(data.clone()));
    let v = s
        .eval(&code, "t")
        .unwrap_or_else(|e| panic!("{}", e.render()));
    assert_eq!(s.display(&v).unwrap(), "[true, true]");
    let code = format!(
        "let wv = text::word_vectors(\"{}\", #{{ limit: 10 }}); wv.mean([\"x\"], #{{ weights: text::count_vectorizer() }})",
        glove.display()
    );
    let e = s.eval(&code, "t").unwrap_err().render();
    assert!(
        e.contains(
            "option 'weights' is a Vectorizer, expected a fitted text::tfidf_vectorizer (with idf)"
        ),
        "{e}"
    );
}
