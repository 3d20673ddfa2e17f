//! Cases from scikit-learn's own tests, sklearn/feature_extraction/tests/
//! test_text.py (scikit-learn 1.9.1), run against text::count_vectorizer /
//! tfidf_vectorizer. Each case names its source test; the expected values
//! were computed by scikit-learn in a throwaway venv with this snippet
//! (fixtures JUNK_FOOD_DOCS, NOTJUNK_FOOD_DOCS copied from test_text.py):
//!
//! ```python
//! from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
//! v = CountVectorizer(**params); X = v.fit_transform(docs).toarray()
//! print(list(v.get_feature_names_out()), X.tolist(), getattr(v, "idf_", None))
//! print(CountVectorizer(**params).build_analyzer()(text))
//! ```

mod common;

fn check(code: &str) {
    common::check_script(&format!("{PRELUDE}\n{code}"));
}

const PRELUDE: &str = r#"
fn close(a, b) {
    if type_of(a) == "array" {
        assert_eq(a.len(), b.len());
        for i in 0..a.len() { close(a[i], b[i]); }
    } else if (a - b).abs() > 1e-6 * (1.0 + b.abs()) {
        throw `${a} != ${b}`;
    }
}
let junk = ["the pizza pizza beer copyright", "the pizza burger beer copyright",
            "the the pizza beer beer copyright", "the burger beer beer copyright",
            "the coke burger coke copyright", "the coke burger burger"];
let notjunk = ["the salad celeri copyright", "the salad salad sparkling water copyright",
               "the the celeri celeri copyright", "the tomato tomato salad water",
               "the tomato salad water copyright"];
let all_food = junk + notjunk;
let corpus = ["This is the first document.", "This document is the second document.",
              "And this is the third one.", "Is this the first document?"];
"#;

// test_strip_accents, test_to_ascii: strip_accents_unicode / _ascii.
//   "àáâãäåçèéêë" -> "aaaaaaceeee" (both); "ìíîïñòóôõöùúûüý" -> "iiiinooooouuuuy";
//   "إ" -> unicode "ا", ascii ""; "this is à test" -> "this is a test";
//   "o\u0308" -> "o"; "\u0300\u0301\u0302\u0303" -> ""; "o\u0308\u0304" -> "o"
#[test]
fn strip_accents() {
    check(
        r#"
        for how in ["unicode", "ascii"] {
            let v = text::count_vectorizer(#{ strip_accents: how, token_pattern: "(?u)\\b\\w+\\b" });
            assert_eq(v.analyze("àáâãäåçèéêë"), ["aaaaaaceeee"]);
            assert_eq(v.analyze("ìíîïñòóôõöùúûüý"), ["iiiinooooouuuuy"]);
            assert_eq(v.analyze("this is à test"), ["this", "is", "a", "test"]);
            assert_eq(v.analyze("o\u0308"), ["o"]);
            assert_eq(v.analyze("\u0300\u0301\u0302\u0303"), []);
            assert_eq(v.analyze("o\u0308\u0304"), ["o"]);
        }
        assert_eq(text::count_vectorizer(#{ strip_accents: "unicode", token_pattern: "(?u)\\b\\w+\\b" }).analyze("إ"), ["ا"]);
        assert_eq(text::count_vectorizer(#{ strip_accents: "ascii", token_pattern: "(?u)\\b\\w+\\b" }).analyze("إ"), []);
        "#,
    );
}

// test_word_analyzer_unigrams, test_word_analyzer_unigrams_and_bigrams,
// test_word_ngram_analyzer.
#[test]
fn word_analyzer() {
    check(
        r#"
        let t1 = "J'ai mangé du kangourou  ce midi, c'était pas très bon.";
        let t2 = "This is a test, really.\n\n I met Harry yesterday.";
        assert_eq(text::count_vectorizer(#{ strip_accents: "ascii" }).analyze(t1),
                  ["ai", "mange", "du", "kangourou", "ce", "midi", "etait", "pas", "tres", "bon"]);
        assert_eq(text::count_vectorizer(#{ strip_accents: "ascii" }).analyze(t2),
                  ["this", "is", "test", "really", "met", "harry", "yesterday"]);
        assert_eq(text::count_vectorizer().analyze(t1),
                  ["ai", "mangé", "du", "kangourou", "ce", "midi", "était", "pas", "très", "bon"]);
        assert_eq(text::count_vectorizer(#{ strip_accents: "unicode", ngram_range: [1, 2] }).analyze(t1),
                  ["ai", "mange", "du", "kangourou", "ce", "midi", "etait", "pas", "tres", "bon",
                   "ai mange", "mange du", "du kangourou", "kangourou ce", "ce midi", "midi etait",
                   "etait pas", "pas tres", "tres bon"]);
        let t3 = "This \n\tis a test, really.\n\n I met Harry yesterday";
        let a = text::count_vectorizer(#{ strip_accents: "unicode", ngram_range: [3, 6] }).analyze(t3);
        assert_eq(a.len(), 14);
        assert_eq(a.extract(0, 3), ["this is test", "is test really", "test really met"]);
        assert_eq(a.extract(11), ["test really met harry yesterday", "this is test really met harry",
                                  "is test really met harry yesterday"]);
        "#,
    );
}

// test_char_ngram_analyzer, test_char_wb_ngram_analyzer (strip_accents
// "unicode", ngram_range (3, 6)), and whitespace runs squeezed to one space.
#[test]
fn char_and_char_wb_analyzers() {
    check(
        r#"
        let t3 = "This \n\tis a test, really.\n\n I met Harry yesterday";
        let t4 = "J'ai mangé du kangourou  ce midi, c'était pas très bon";
        let chars = text::count_vectorizer(#{ analyzer: "char", strip_accents: "unicode", ngram_range: [3, 6] });
        let a = chars.analyze(t4);
        assert_eq(a.len(), 198);
        assert_eq(a.extract(0, 5), ["j'a", "'ai", "ai ", "i m", " ma"]);
        assert_eq(a.extract(193), ["s tres", " tres ", "tres b", "res bo", "es bon"]);
        let a = chars.analyze(t3);
        assert_eq(a.len(), 166);
        assert_eq(a.extract(0, 5), ["thi", "his", "is ", "s i", " is"]);
        assert_eq(a.extract(161), [" yeste", "yester", "esterd", "sterda", "terday"]);
        let wb = text::count_vectorizer(#{ analyzer: "char_wb", strip_accents: "unicode", ngram_range: [3, 6] });
        let a = wb.analyze(t4);
        assert_eq(a.len(), 118);
        assert_eq(a.extract(0, 5), [" j'", "j'a", "'ai", "ai ", " j'a"]);
        assert_eq(a.extract(113), ["bon", "on ", " bon", "bon ", " bon "]);
        let a = wb.analyze(t3);
        assert_eq(a.len(), 101);
        assert_eq(a.extract(0, 5), [" th", "thi", "his", "is ", " thi"]);
        assert_eq(a.extract(96), ["yester", "esterd", "sterda", "terday", "erday "]);
        assert_eq(wb.analyze("A test with a file-like object!").extract(0, 6),
                  [" a ", " te", "tes", "est", "st ", " tes"]);
        assert_eq(text::count_vectorizer(#{ analyzer: "char", ngram_range: [1, 2] }).analyze("ab  c"),
                  ["a", "b", " ", "c", "ab", "b ", " c"]);
        assert_eq(text::count_vectorizer(#{ analyzer: "char_wb", ngram_range: [2, 3] }).analyze("ab  c"),
                  [" a", "ab", "b ", " ab", "ab ", " c", "c ", " c "]);
        "#,
    );
}

// test_countvectorizer_custom_token_pattern and its two-group error;
// CountVectorizer(token_pattern=r"(?u)\b\w+\b") keeps one-letter tokens.
#[test]
fn token_pattern() {
    check(
        r#"
        let docs = ["a b c I am here", "x y x 1 22"];
        let v = text::count_vectorizer();
        let x = v.fit_transform(docs);
        assert_eq(v.vocabulary(), ["22", "am", "here"]);
        let v = text::count_vectorizer(#{ token_pattern: "(?u)\\b\\w+\\b" });
        let x = v.fit_transform(docs);
        assert_eq(v.vocabulary(), ["1", "22", "a", "am", "b", "c", "here", "i", "x", "y"]);
        assert_eq(x.to_array(), [[0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0, 1.0]]);
        let corpus = ["This is the 1st document in my corpus.", "This document is the 2nd sample.",
                      "And this is the 3rd one.", "Is this the 4th document?"];
        let v = text::count_vectorizer(#{ token_pattern: "[0-9]{1,3}(?:st|nd|rd|th)\\s\\b(\\w{2,})\\b" });
        let x = v.fit_transform(corpus);
        assert_eq(v.vocabulary(), ["document", "one", "sample"]);
        assert_eq(x.to_array(), [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]);
        "#,
    );
    let e = common::error_of(r#"text::count_vectorizer(#{ token_pattern: "([0-9]+)(st|nd)" })"#);
    assert!(
        e.contains("option 'token_pattern'") && e.contains("2 capturing groups"),
        "{e}"
    );
}

// test_countvectorizer_custom_vocabulary, test_tfidf_vectorizer_with_fixed_vocabulary,
// test_countvectorizer_empty_vocabulary, "Duplicate term in vocabulary: 'a'".
#[test]
fn fixed_vocabulary() {
    check(
        r#"
        let v = text::count_vectorizer(#{ vocabulary: ["pizza", "beer"] });
        let x = v.fit_transform(junk);
        assert_eq(v.vocabulary(), ["pizza", "beer"]);
        assert_eq(x.to_array(), [[2.0, 1.0], [1.0, 1.0], [1.0, 2.0], [0.0, 2.0], [0.0, 0.0], [0.0, 0.0]]);
        let t = text::tfidf_vectorizer(#{ vocabulary: ["pizza", "celeri"] });
        let x = t.fit_transform(all_food);
        close(t.idf(), [2.09861228866811, 2.386294361119891]);
        close(x.to_array(), [[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0],
                             [0.0, 1.0], [0.0, 0.0], [0.0, 1.0], [0.0, 0.0], [0.0, 0.0]]);
        "#,
    );
    let e = common::error_of(r#"text::count_vectorizer(#{ vocabulary: ["a", "b", "a"] })"#);
    assert!(e.contains("element 2 \"a\" repeats element 0"), "{e}");
    let e = common::error_of(r#"text::count_vectorizer(#{ vocabulary: [] })"#);
    assert!(e.contains("it is empty"), "{e}");
}

// test_vectorizer_min_df, test_vectorizer_max_df (analyzer "char"),
// test_feature_names (max_df 0.5), test_vectorizer_max_features,
// test_count_vectorizer_max_features, test_count_binary_occurrences.
#[test]
fn document_frequencies_max_features_and_binary() {
    check(
        r#"
        let docs = ["abc", "dea", "eat"];
        let voc = |o| { let v = text::count_vectorizer(o + #{ analyzer: "char" }); v.fit(docs); v.vocabulary() };
        assert_eq(voc.call(#{ max_df: 1.0 }), ["a", "b", "c", "d", "e", "t"]);
        assert_eq(voc.call(#{ max_df: 0.5 }), ["b", "c", "d", "t"]);
        assert_eq(voc.call(#{ max_df: 1 }), ["b", "c", "d", "t"]);
        assert_eq(voc.call(#{ min_df: 2 }), ["a", "e"]);
        assert_eq(voc.call(#{ min_df: 0.8 }), ["a"]);
        let v = text::count_vectorizer(#{ max_df: 0.5 });
        v.fit(all_food);
        assert_eq(v.vocabulary(), ["beer", "burger", "celeri", "coke", "pizza", "salad", "sparkling", "tomato", "water"]);
        let v = text::count_vectorizer(#{ min_df: 0.25 });
        v.fit(all_food);
        assert_eq(v.vocabulary(), ["beer", "burger", "copyright", "pizza", "salad", "the", "water"]);
        let v = text::count_vectorizer(#{ max_df: 0.6, max_features: 4 });
        v.fit(all_food);
        assert_eq(v.vocabulary(), ["beer", "burger", "pizza", "salad"]);
        // burger and copyright tie at 5 for the third place. scikit-learn
        // ranks with numpy's argsort, which is not stable (on AVX-512 numpy
        // sorts with x86-simd-sort) and picked copyright; genrelab keeps the
        // earlier term of a tie, so the tie is checked, not the pick.
        let v = text::count_vectorizer(#{ max_features: 3 });
        v.fit(junk);
        let voc = v.vocabulary();
        assert(voc.contains("beer") && voc.contains("the") && (voc.contains("burger") || voc.contains("copyright")));
        assert_eq(voc, ["beer", "burger", "the"]);
        let v = text::count_vectorizer(#{ max_features: 1 });
        v.fit(["world", "hello"]);
        assert_eq(v.vocabulary(), ["hello"]);
        let v = text::count_vectorizer(#{ analyzer: "char", binary: true });
        assert_eq(v.fit_transform(["aaabc", "abbde"]).to_array(), [[1.0, 1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 1.0, 1.0]]);
        "#,
    );
}

// binary with max_features ranks terms by document frequency, as
// scikit-learn binarises before _limit_features (sklearn 1.9.1):
//   RANK_DOCS: totals apple 5, banana 4, cherry 3, date 1; document counts 1, 4, 3, 1
//   CountVectorizer(max_features=2)              -> ["apple", "banana"]
//   CountVectorizer(max_features=2, binary=True) -> ["banana", "cherry"]
//   CountVectorizer(max_features=1, binary=True) -> ["banana"]
//   TfidfVectorizer(max_features=2, binary=True): idf_ [1.0, 1.2231435513142097],
//     X rows [0.632951942394233, 0.7741910866313093] × 3, then [1.0, 0.0]
#[test]
fn binary_max_features_ranks_by_document_frequency() {
    check(
        r#"
        let docs = ["apple apple apple apple apple banana cherry", "banana cherry", "banana cherry", "banana date"];
        let voc = |o| { let v = text::count_vectorizer(o); v.fit(docs); v.vocabulary() };
        assert_eq(voc.call(#{ max_features: 2 }), ["apple", "banana"]);
        assert_eq(voc.call(#{ max_features: 2, binary: true }), ["banana", "cherry"]);
        assert_eq(voc.call(#{ max_features: 1, binary: true }), ["banana"]);
        assert_eq(voc.call(#{ max_features: 3, binary: true }), ["apple", "banana", "cherry"]);
        let t = text::tfidf_vectorizer(#{ max_features: 2, binary: true });
        let x = t.fit_transform(docs);
        assert_eq(t.vocabulary(), ["banana", "cherry"]);
        close(t.idf(), [1.0, 1.2231435513142097]);
        close(x.to_array(), [[0.632951942394233, 0.7741910866313093], [0.632951942394233, 0.7741910866313093],
                             [0.632951942394233, 0.7741910866313093], [1.0, 0.0]]);
        "#,
    );
}

// test_tfidf_vectorizer_setters / test_tfidfvectorizer_export_idf: TfidfVectorizer
// on JUNK_FOOD_DOCS; idf_ = [1.336472236621213, 1.336472236621213,
// 1.8472978603872037, 1.1541506798272583, 1.5596157879354227, 1.0]; with
// smooth_idf=False [1.4054651081081644, 1.4054651081081644, 2.09861228866811,
// 1.1823215567939547, 1.6931471805599454, 1.0]; first rows of X below.
#[test]
fn tfidf_idf_and_values() {
    check(
        r#"
        let t = text::tfidf_vectorizer(#{});
        let x = t.fit_transform(junk);
        close(t.idf(), [1.336472236621213, 1.336472236621213, 1.8472978603872037, 1.1541506798272583, 1.5596157879354227, 1.0]);
        close(x.row(0), [0.3591444169527049, 0.0, 0.0, 0.3101499317562026, 0.838217641160104, 0.26872568476294856]);
        let t = text::tfidf_vectorizer(#{ smooth_idf: false });
        let x = t.fit_transform(junk);
        close(t.idf(), [1.4054651081081644, 1.4054651081081644, 2.09861228866811, 1.1823215567939547, 1.6931471805599454, 1.0]);
        close(x.row(0), [0.35313409989964983, 0.0, 0.0, 0.29706753753025494, 0.8508329408610994, 0.25125782053386464]);
        let t = text::tfidf_vectorizer(#{ sublinear_tf: true });
        close(t.fit_transform(junk).row(0), [0.4012995498065045, 0.0, 0.0, 0.34655426093585223, 0.7929048345274291, 0.30026777871648525]);
        "#,
    );
    let e = common::error_of(r#"text::count_vectorizer().idf()"#);
    assert!(e.contains("count vectorizer, which has no idf"), "{e}");
}

// test_vectorizer_unicode (Cyrillic) and section 2 of the parity notes:
// CountVectorizer().build_analyzer() and token_pattern=r"(?u)\b\w+\b" on
// strings with combining marks, Thai, circled letters and superscripts
// (Python 3.11.7, unicodedata 14.0.0).
#[test]
fn unicode_tokens_are_pythons() {
    check(
        r#"
        let d = text::count_vectorizer();
        let one = text::count_vectorizer(#{ token_pattern: "(?u)\\b\\w+\\b" });
        let u = text::count_vectorizer(#{ strip_accents: "unicode" });
        assert_eq(d.analyze("हिन्दी भाषा"), []);
        assert_eq(u.analyze("हिन्दी भाषा"), ["नद"]);
        assert_eq(one.analyze("हिन्दी भाषा"), ["ह", "न", "द", "भ", "ष"]);
        assert_eq(d.analyze("مَكْتَبَة كِتَاب"), ["اب"]);
        assert_eq(u.analyze("مَكْتَبَة كِتَاب"), ["مكتبة", "كتاب"]);
        assert_eq(d.analyze("ภาษาไทย ง่าย"), ["ภาษาไทย", "าย"]);
        assert_eq(one.analyze("ภาษาไทย ง่าย"), ["ภาษาไทย", "ง", "าย"]);
        assert_eq(d.analyze("Ⓐⓑⓒ abc"), ["abc"]);
        assert_eq(u.analyze("Ⓐⓑⓒ abc"), ["abc", "abc"]);
        assert_eq(d.analyze("x² y³ ab²"), ["x²", "y³", "ab²"]);
        assert_eq(u.analyze("x² y³ ab²"), ["x2", "y3", "ab2"]);
        assert_eq(d.analyze("cafe\u0301 re\u0301sume\u0301"), ["cafe", "re", "sume"]);
        assert_eq(u.analyze("cafe\u0301 re\u0301sume\u0301"), ["cafe", "resume"]);
        let v = text::count_vectorizer();
        v.fit(["Машинное обучение — обширный подраздел искусственного интеллекта, изучающий методы построения алгоритмов, способных обучаться."]);
        assert_eq(v.vocabulary(), ["алгоритмов", "изучающий", "интеллекта", "искусственного", "машинное", "методы",
                                   "обучаться", "обучение", "обширный", "подраздел", "построения", "способных"]);
        "#,
    );
}

/// Every code point against Python's own `\w` (`re.match(r"\w", chr(c))`),
/// when a Python with the same Unicode database as the table is at hand.
#[test]
fn word_characters_match_python_for_every_code_point() {
    let script = "import re,sys,unicodedata\nw=re.compile(r'\\w')\n\
                  sys.stdout.write(unicodedata.unidata_version+'\\n')\n\
                  sys.stdout.write(''.join('1' if w.match(chr(c)) else '0' for c in range(0x110000)))";
    let Ok(out) = std::process::Command::new("python3")
        .args(["-c", script])
        .output()
    else {
        eprintln!("SKIPPED: no python3 to compare with");
        return;
    };
    let text = String::from_utf8(out.stdout).unwrap();
    let (version, bits) = text.split_once('\n').unwrap();
    if version != genrelab::text::word_chars::UNICODE_VERSION {
        eprintln!(
            "SKIPPED: python3 has Unicode {version}, the table {}",
            genrelab::text::word_chars::UNICODE_VERSION
        );
        return;
    }
    let mut differ = Vec::new();
    for (cp, bit) in bits.bytes().enumerate() {
        let Some(c) = char::from_u32(cp as u32) else {
            continue;
        };
        if genrelab::text::tokenize::is_word_char(c) != (bit == b'1') {
            differ.push(format!("U+{cp:04X}"));
        }
    }
    assert!(
        differ.is_empty(),
        "{} code points differ: {:?}",
        differ.len(),
        &differ[..differ.len().min(20)]
    );
}
