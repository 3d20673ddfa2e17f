//! The WordPiece tokenizer against the Python `tokenizers` package (0.23.3)
//! on the shared all-MiniLM-L6-v2 tokenizer.json: tricky strings (accents,
//! apostrophes, CJK, full-width letters, emoji and ZWJ sequences, control and
//! zero-width characters, ligatures, a 120-letter word, the empty string,
//! 300 words cut at 256 ids) and the first 20 overviews of movies.csv.
//! tests/fixtures/wordpiece_ids.json holds the texts and ids, written by:
//! ```python
//! from tokenizers import Tokenizer
//! t = Tokenizer.from_file("shared/models/all-MiniLM-L6-v2/tokenizer.json")
//! t.no_padding(); t.enable_truncation(256)
//! out = [{"text": s, "ids": t.encode(s).ids} for s in texts]   # texts as listed above
//! json.dump(out, open("wordpiece_ids.json", "w"), ensure_ascii=False)
//! ```

mod common;

use genrelab::text::wordpiece::WordPiece;

#[test]
fn ids_equal_the_python_tokenizers() {
    let Some(data) = common::shared_data("the WordPiece tokenizer") else {
        return;
    };
    let path = data.join("../models/all-MiniLM-L6-v2/tokenizer.json");
    let tok = WordPiece::from_file(&path).unwrap();
    let fixture: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(common::root().join("tests/fixtures/wordpiece_ids.json")).unwrap(),
    )
    .unwrap();
    let cases = fixture.as_array().unwrap();
    assert_eq!(cases.len(), 30);
    for case in cases {
        let text = case["text"].as_str().unwrap();
        let want: Vec<u32> = case["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u32)
            .collect();
        assert_eq!(tok.encode(text, 256), want, "{text:?}");
    }
    assert_eq!(tok.token(101), Some("[CLS]"));
}

#[test]
fn other_tokenizers_and_broken_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let bpe = dir.path().join("tokenizer.json");
    std::fs::write(
        &bpe,
        r#"{"model": {"type": "BPE", "vocab": {}}, "normalizer": null, "pre_tokenizer": {"type": "ByteLevel"}}"#,
    )
    .unwrap();
    let e = WordPiece::from_file(&bpe).unwrap_err().to_string();
    assert!(e.contains("its model is BPE, expected WordPiece"), "{e}");
    std::fs::write(&bpe, "{ not json").unwrap();
    let e = WordPiece::from_file(&bpe).unwrap_err().to_string();
    assert!(e.contains("not JSON"), "{e}");
    std::fs::write(
        &bpe,
        r#"{"model": {"type": "WordPiece", "vocab": {"[UNK]": 0}}, "normalizer": {"type": "BertNormalizer"}, "pre_tokenizer": {"type": "BertPreTokenizer"}}"#,
    )
    .unwrap();
    let e = WordPiece::from_file(&bpe).unwrap_err().to_string();
    assert!(e.contains("the vocabulary has no '[CLS]'"), "{e}");
}
