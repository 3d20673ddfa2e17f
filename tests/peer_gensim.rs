//! Cases from gensim's own tests and test data (gensim 4.4.0,
//! gensim/test/test_keyedvectors.py, test_fasttext.py's
//! crime-and-punishment.vec) against text::word_vectors. The expected values
//! were computed by gensim in a throwaway venv:
//!
//! ```python
//! from gensim.models import KeyedVectors
//! kv = KeyedVectors.load_word2vec_format("toy_vectors.txt", binary=False)
//! kv.most_similar(positive=["woman", "king"], negative=["man"], topn=3)
//! kv.doesnt_match(["man", "woman", "king", "paris"])
//! kv.evaluate_word_analogies("toy_questions.txt")          # and its options
//! KeyedVectors.load_word2vec_format(datapath("crime-and-punishment.vec"))
//! ```
//! tests/fixtures/gensim/: toy_vectors.txt and toy_questions.txt were written
//! for these tests; crime-and-punishment.vec is gensim's (LGPL-2.1 project;
//! the text is public domain).

mod common;

fn check(code: &str) {
    let dir = common::root().join("tests/fixtures/gensim");
    common::check_script(&format!(
        "let DIR = {:?};\n{PRELUDE}\n{code}",
        dir.display().to_string()
    ));
}

const PRELUDE: &str = r#"
fn close(a, b) {
    if type_of(a) == "array" {
        assert_eq(a.len(), b.len());
        for i in 0..a.len() { close(a[i], b[i]); }
    } else if (a - b).abs() > 1e-6 {
        throw `${a} != ${b}`;
    }
}
fn pairs(found) { found.map(|n| [n.word, n.similarity]) }
fn words(found) { found.map(|n| n.word) }
"#;

// test_most_similar, test_most_similar_topn, test_most_similar_restrict_vocab
// on toy_vectors.txt:
//   most_similar(positive=['woman', 'king'], negative=['man'], topn=3) =
//     [("queen", 0.88512516), ("berlin", 0.5121318), ("paris", 0.32424927)]
//   most_similar(positive=['king', 'queen'], negative=['man', 'woman'], topn=10) =
//     Athens, berlin, paris, Greece, germany, france
//   most_similar(positive=['woman', 'king'], negative=['man'], topn=3, restrict_vocab=5) =
//     [("queen", 0.88512516), ("Greece", -0.10290426)]
//   most_similar('king', topn=0) = []; most_similar(['king', 'prince']) -> KeyError
#[test]
fn most_similar_with_positive_and_negative() {
    check(
        r#"
        let kv = text::word_vectors(DIR + "/toy_vectors.txt");
        let found = kv.most_similar(#{ positive: ["woman", "king"], negative: ["man"], topn: 3 });
        assert_eq(words(found), ["queen", "berlin", "paris"]);
        close(found.map(|n| n.similarity), [0.88512516, 0.5121318, 0.32424927]);
        assert_eq(words(kv.most_similar(#{ positive: ["king", "queen"], negative: ["man", "woman"] })),
                  ["Athens", "berlin", "paris", "Greece", "germany", "france"]);
        let r = kv.most_similar(#{ positive: ["woman", "king"], negative: ["man"], topn: 3, restrict_vocab: 5 });
        assert_eq(words(r), ["queen", "Greece"]);
        close(r.map(|n| n.similarity), [0.88512516, -0.10290426]);
        close(kv.most_similar(#{ positive: ["Athens", "france"], negative: ["Greece"], topn: 3 }).map(|n| n.similarity),
              [0.98663783, 0.82225037, 0.63530934]);
        assert_eq(kv.most_similar(#{ positive: ["king"], topn: 0 }), []);
        close(kv.similarity("king", "queen"), 0.48571426);
        "#,
    );
    let e = common::error_of(&format!(
        "text::word_vectors({:?}).most_similar(#{{ positive: [\"king\", \"prince\"] }})",
        common::root()
            .join("tests/fixtures/gensim/toy_vectors.txt")
            .display()
            .to_string()
    ));
    assert!(e.contains("prince"), "{e}");
}

// test_doesnt_match: doesnt_match(['man', 'woman', 'king', 'paris']) = 'woman';
// doesnt_match(['paris', 'berlin', 'Athens', 'queen']) = 'queen'.
#[test]
fn doesnt_match() {
    check(
        r#"
        let kv = text::word_vectors(DIR + "/toy_vectors.txt");
        assert_eq(kv.doesnt_match(["man", "woman", "king", "paris"]), "woman");
        assert_eq(kv.doesnt_match(["paris", "berlin", "Athens", "queen"]), "queen");
        assert_eq(kv.doesnt_match(["paris", "berlin", "Athens", "queen", "prince"]), "queen");
        "#,
    );
}

// test_evaluate_word_analogies on toy_questions.txt (two lines with unknown
// words): default score 0.8888888888888888 (family: 'KING QUEEN MAN WOMAN'
// wrong); case_insensitive=False 0.8; restrict_vocab=6 0.75;
// dummy4unknown=True 0.7272727272727273; both 0.36363636363636365.
#[test]
fn evaluate_word_analogies() {
    check(
        r#"
        let kv = text::word_vectors(DIR + "/toy_vectors.txt");
        let q = DIR + "/toy_questions.txt";
        let r = kv.evaluate_word_analogies(q);
        close(r.score, 0.8888888888888888);
        assert_eq(r.sections.map(|s| s.section), ["capital-common-countries", "family", "Total accuracy"]);
        assert_eq(r.sections[1].incorrect, [["KING", "QUEEN", "MAN", "WOMAN"]]);
        assert_eq(r.sections[0].correct.len(), 5);
        assert_eq(r.skipped, 2);
        close(kv.evaluate_word_analogies(q, #{ case_insensitive: false }).score, 0.8);
        close(kv.evaluate_word_analogies(q, #{ restrict_vocab: 6 }).score, 0.75);
        close(kv.evaluate_word_analogies(q, #{ dummy4unknown: true }).score, 0.7272727272727273);
        close(kv.evaluate_word_analogies(q, #{ case_insensitive: false, dummy4unknown: true }).score, 0.36363636363636365);
        "#,
    );
}

// HashCompatibilityTest's data: crime-and-punishment.vec, a fastText .vec
// with Cyrillic words and a trailing space on every line, is text (not
// binary): 291 words × 5; 'хозяйка' = [0.01663, -0.013316, 0.02886,
// 0.083573, 0.043272]; most_similar('хозяйка', topn=3) = хозяйке 0.9885202,
// хозяйкой. 0.9770341, хозяйкой 0.97171867.
#[test]
fn multibyte_text_vectors_are_read_as_text() {
    check(
        r#"
        let kv = text::word_vectors(DIR + "/crime-and-punishment.vec");
        assert_eq([kv.len(), kv.dim()], [291, 5]);
        close(kv.get("хозяйка"), [0.01663, -0.013316, 0.02886, 0.083573, 0.043272]);
        close(kv.get("напротив;"), [-0.045495, 0.0038485, 0.057892, 0.082304, 0.054772]);
        let near = kv.most_similar("хозяйка", 3);
        assert_eq(words(near), ["хозяйке", "хозяйкой.", "хозяйкой"]);
        close(near.map(|n| n.similarity), [0.9885202, 0.9770341, 0.97171867]);
        "#,
    );
}
