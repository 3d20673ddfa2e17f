//! BERT's WordPiece tokenizer read from a Hugging Face `tokenizer.json`,
//! written to give the ids the Python `tokenizers` package gives (checked on
//! accents, apostrophes, CJK, emoji, control characters, very long words
//! and texts, and real overviews in tests/wordpiece.rs): the first piece of
//! the sentence encoder (issue 13). An own implementation rather than the
//! `tokenizers` crate: its default features pull in onig (C) and HTTP
//! downloads, and the BERT path is small.
//!
//! Steps, as `tokenizers` 0.23 runs them: BertNormalizer (drop NUL, U+FFFD
//! and other/format characters, whitespace to spaces, spaces around CJK
//! ideographs, NFD + drop non-spacing marks when accents are stripped —
//! `strip_accents: null` follows `lowercase` — then lower-case),
//! BertPreTokenizer (split on whitespace, every punctuation character its
//! own word), WordPiece (greedy longest match, `##` continuations, `[UNK]`
//! for a word with no split or over `max_input_chars_per_word`), then
//! `[CLS] … [SEP]` with truncation to `max_length` ids in all.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;
use unicode_categories::UnicodeCategories;
use unicode_normalization::UnicodeNormalization;

use crate::error::{Error, Result};

#[derive(Clone, Debug)]
pub struct WordPiece {
    vocab: HashMap<String, u32>,
    /// The token of each id (empty where the vocabulary skips an id).
    tokens: Vec<String>,
    unk: u32,
    cls: u32,
    sep: u32,
    prefix: String,
    max_word_chars: usize,
    lowercase: bool,
    strip_accents: bool,
    chinese_chars: bool,
    clean_text: bool,
}

fn is_control(c: char) -> bool {
    !matches!(c, '\t' | '\n' | '\r') && c.is_other()
}

fn is_whitespace(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || c.is_whitespace()
}

fn is_chinese(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x20000..=0x2A6DF | 0x2A700..=0x2B73F
        | 0x2B740..=0x2B81F | 0x2B920..=0x2CEAF | 0xF900..=0xFAFF | 0x2F800..=0x2FA1F)
}

fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation() || c.is_punctuation()
}

impl WordPiece {
    /// Reads a `tokenizer.json` whose model is WordPiece with a BERT
    /// normalizer and pre-tokenizer (what BERT-family sentence encoders ship).
    pub fn from_file(path: &Path) -> Result<WordPiece> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        WordPiece::from_bytes(path, &bytes)
    }

    /// As [`WordPiece::from_file`], from the file's contents (`path` names
    /// it in errors).
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<WordPiece> {
        let json: Value = serde_json::from_slice(bytes)
            .map_err(|e| Error::file(path, format!("not JSON: {e}")))?;
        let kind = |key: &str| json[key]["type"].as_str().unwrap_or("none").to_string();
        for (key, wanted) in [
            ("model", "WordPiece"),
            ("normalizer", "BertNormalizer"),
            ("pre_tokenizer", "BertPreTokenizer"),
        ] {
            if kind(key) != wanted {
                return Err(Error::file(
                    path,
                    format!(
                        "its {key} is {}, expected {wanted}: not a BERT WordPiece tokenizer",
                        kind(key)
                    ),
                ));
            }
        }
        let model = &json["model"];
        let vocab: HashMap<String, u32> = model["vocab"]
            .as_object()
            .ok_or_else(|| Error::file(path, "model.vocab is missing"))?
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), u32::try_from(v.as_u64()?).ok()?)))
            .collect();
        let id = |token: &str| {
            vocab
                .get(token)
                .copied()
                .ok_or_else(|| Error::file(path, format!("the vocabulary has no '{token}'")))
        };
        let unk_token = model["unk_token"].as_str().unwrap_or("[UNK]");
        let norm = &json["normalizer"];
        let lowercase = norm["lowercase"].as_bool().unwrap_or(true);
        let largest = vocab.values().max().map_or(0, |&m| m as usize);
        if largest >= 2 * vocab.len() + 1000 {
            return Err(Error::file(
                path,
                format!(
                    "model.vocab has {} tokens but ids up to {largest}: not a WordPiece vocabulary",
                    vocab.len()
                ),
            ));
        }
        let mut tokens = vec![String::new(); largest + 1];
        for (token, &id) in &vocab {
            tokens[id as usize] = token.clone();
        }
        Ok(WordPiece {
            tokens,
            unk: id(unk_token)?,
            cls: id("[CLS]")?,
            sep: id("[SEP]")?,
            prefix: model["continuing_subword_prefix"]
                .as_str()
                .unwrap_or("##")
                .to_string(),
            max_word_chars: model["max_input_chars_per_word"].as_u64().unwrap_or(100) as usize,
            lowercase,
            strip_accents: norm["strip_accents"].as_bool().unwrap_or(lowercase),
            chinese_chars: norm["handle_chinese_chars"].as_bool().unwrap_or(true),
            clean_text: norm["clean_text"].as_bool().unwrap_or(true),
            vocab,
        })
    }

    pub fn normalize(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            if self.clean_text && (c == '\0' || c == '\u{fffd}' || is_control(c)) {
                continue;
            }
            let c = if self.clean_text && is_whitespace(c) {
                ' '
            } else {
                c
            };
            if self.chinese_chars && is_chinese(c) {
                out.push(' ');
                out.push(c);
                out.push(' ');
            } else {
                out.push(c);
            }
        }
        if self.strip_accents {
            out = out.nfd().filter(|c| !c.is_mark_nonspacing()).collect();
        }
        if self.lowercase {
            // Per character, as `tokenizers` does: `str::to_lowercase` would
            // turn a word-final Σ into ς, which the vocabulary splits differently.
            out = out.chars().flat_map(char::to_lowercase).collect();
        }
        out
    }

    /// The words of normalized text: whitespace separates, punctuation
    /// characters stand alone.
    fn words(text: &str) -> Vec<&str> {
        let mut words = Vec::new();
        let mut start = None;
        for (i, c) in text.char_indices() {
            if is_whitespace(c) || is_punctuation(c) {
                if let Some(s) = start.take() {
                    words.push(&text[s..i]);
                }
                if is_punctuation(c) {
                    words.push(&text[i..i + c.len_utf8()]);
                }
            } else if start.is_none() {
                start = Some(i);
            }
        }
        if let Some(s) = start {
            words.push(&text[s..]);
        }
        words
    }

    /// Greedy longest-match-first pieces of one word.
    fn pieces(&self, word: &str, out: &mut Vec<u32>) {
        if word.chars().count() > self.max_word_chars {
            out.push(self.unk);
            return;
        }
        let mut ids = Vec::new();
        let mut start = 0;
        while start < word.len() {
            let mut end = word.len();
            let mut found = None;
            while start < end {
                let piece = &word[start..end];
                let id = if start > 0 {
                    self.vocab.get(&format!("{}{piece}", self.prefix))
                } else {
                    self.vocab.get(piece)
                };
                if let Some(&id) = id {
                    found = Some(id);
                    break;
                }
                end -= word[..end].chars().next_back().map_or(1, char::len_utf8);
            }
            match found {
                Some(id) => {
                    ids.push(id);
                    start = end;
                }
                None => {
                    out.push(self.unk);
                    return;
                }
            }
        }
        out.extend(ids);
    }

    /// The ids of the tokens of `text`, without the special tokens.
    pub fn token_ids(&self, text: &str) -> Vec<u32> {
        let normalized = self.normalize(text);
        let mut ids = Vec::new();
        for word in Self::words(&normalized) {
            self.pieces(word, &mut ids);
        }
        ids
    }

    /// `[CLS] tokens [SEP]`, the tokens cut so that at most `max_length`
    /// ids come out (at least the two special ones).
    pub fn encode(&self, text: &str, max_length: usize) -> Vec<u32> {
        self.wrap(self.token_ids(text), max_length)
    }

    /// `[CLS] ids [SEP]`, `ids` cut so that at most `max_length` come out.
    pub fn wrap(&self, mut ids: Vec<u32>, max_length: usize) -> Vec<u32> {
        ids.truncate(max_length.saturating_sub(2));
        let mut out = Vec::with_capacity(ids.len() + 2);
        out.push(self.cls);
        out.extend(ids);
        out.push(self.sep);
        out
    }

    /// The largest id of the vocabulary.
    pub fn largest_id(&self) -> usize {
        self.tokens.len().saturating_sub(1)
    }

    /// The token of an id (`None` outside the vocabulary).
    pub fn token(&self, id: u32) -> Option<&str> {
        self.tokens
            .get(id as usize)
            .filter(|t| !t.is_empty())
            .map(String::as_str)
    }
}
