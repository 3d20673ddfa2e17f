//! scikit-learn's analyzers: lowercase, accents stripped, then either the
//! token pattern (default `(?u)\b\w\w+\b`: runs of two or more word
//! characters), stop words removed and word n-grams joined by a space; or
//! character n-grams (`char`, `char_wb`).

use std::borrow::Cow;

use ahash::AHashSet as HashSet;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::canonical_combining_class;

use super::pattern::PythonPattern;

/// scikit-learn's `ENGLISH_STOP_WORDS` (318 words), one per line.
const ENGLISH: &str = include_str!("english_stop_words.txt");

/// The English stop-word list of scikit-learn.
pub fn english_stop_words() -> HashSet<String> {
    ENGLISH.lines().map(str::to_string).collect()
}

/// Python's `\w` for str: `c.isalnum() or c == "_"`: letters, digits and
/// numerals of any script, not combining marks (Rust's `is_alphanumeric`
/// takes those, and circled letters). The table is Python's own.
pub fn is_word_char(c: char) -> bool {
    let c = c as u32;
    super::word_chars::WORD_RANGES
        .binary_search_by(|&(a, b)| {
            if b < c {
                std::cmp::Ordering::Less
            } else if a > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// Python's `str.isspace()`: Unicode white space plus the four ASCII
/// separators U+001C–U+001F.
fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// The seed notebook's cleaning: every character of `chars` removed from
/// every document.
pub fn remove_chars(docs: &[&str], chars: &str) -> Vec<String> {
    docs.iter()
        .map(|d| d.chars().filter(|c| !chars.contains(*c)).collect())
        .collect()
}

/// The maximal runs of word characters of `text`: `re.findall(r"\w+", text)`.
/// ASCII bytes are classified without decoding (most of every overview).
pub fn word_runs(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let mut i = 0;
    // (is a word character, its length in bytes) of the character at `at`.
    let class = move |at: usize| -> (bool, usize) {
        let b = bytes[at];
        if b.is_ascii() {
            (b.is_ascii_alphanumeric() || b == b'_', 1)
        } else {
            let c = text[at..].chars().next().unwrap_or(' ');
            (is_word_char(c), c.len_utf8())
        }
    };
    std::iter::from_fn(move || {
        while i < bytes.len() {
            let (word, len) = class(i);
            if word {
                break;
            }
            i += len;
        }
        if i >= bytes.len() {
            return None;
        }
        let start = i;
        while i < bytes.len() {
            let (word, len) = class(i);
            if !word {
                break;
            }
            i += len;
        }
        Some(&text[start..i])
    })
}

/// `text` lower-cased; most overviews are ASCII, which needs no Unicode case
/// tables (and gives the same result).
pub fn lowercase(text: &str) -> Cow<'_, str> {
    if text.is_ascii() {
        text.to_ascii_lowercase().into()
    } else {
        text.to_lowercase().into()
    }
}

/// The tokens of `text`: maximal runs of word characters, at least two long.
/// Equivalent to `re.findall(r"(?u)\b\w\w+\b", text)`.
pub fn tokens(text: &str) -> impl Iterator<Item = &str> {
    word_runs(text).filter(|t| t.chars().nth(1).is_some())
}

/// `strip_accents`: scikit-learn's accent removal, after lower-casing.
/// `Ascii`: NFKD, then every non-ASCII character dropped; `Unicode`: NFKD,
/// then the combining characters dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum StripAccents {
    Ascii,
    Unicode,
}

crate::choices!(impl StripAccents { Ascii = "ascii", Unicode = "unicode" });

/// `analyzer`: what a term is. `Word`: the token pattern's tokens and their
/// n-grams; `Char`: character n-grams of the whole text; `CharWb`:
/// character n-grams inside words, each word padded with a space.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum AnalyzerKind {
    Word,
    Char,
    CharWb,
}

crate::choices!(impl AnalyzerKind { Word = "word", Char = "char", CharWb = "char_wb" });

/// How documents become terms.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Analyzer {
    pub lowercase: bool,
    pub stop_words: Option<HashSet<String>>,
    /// Inclusive n-gram range, e.g. (1, 2) for unigrams and bigrams.
    pub ngram_range: (usize, usize),
    // The fields below came later: files saved before them read the defaults.
    #[serde(default)]
    pub strip_accents: Option<StripAccents>,
    #[serde(default = "word")]
    pub kind: AnalyzerKind,
    #[serde(default)]
    pub token_pattern: PythonPattern,
}

fn word() -> AnalyzerKind {
    AnalyzerKind::Word
}

impl Default for Analyzer {
    fn default() -> Self {
        Analyzer {
            lowercase: true,
            stop_words: None,
            ngram_range: (1, 1),
            strip_accents: None,
            kind: AnalyzerKind::Word,
            token_pattern: PythonPattern::default(),
        }
    }
}

impl Analyzer {
    /// Calls `emit` with every term of `doc`, in order, as scikit-learn's
    /// `build_analyzer()` yields them (unigrams first, then bigrams, …).
    pub fn terms(&self, doc: &str, mut emit: impl FnMut(&str)) {
        let text = self.preprocess(doc);
        let text = text.as_ref();
        match self.kind {
            AnalyzerKind::Word => self.word_ngrams(text, emit),
            AnalyzerKind::Char => char_ngrams(text, self.ngram_range, &mut emit),
            AnalyzerKind::CharWb => char_wb_ngrams(text, self.ngram_range, &mut emit),
        }
    }

    /// scikit-learn's `_preprocess`: lower-case, then strip accents.
    fn preprocess<'a>(&self, doc: &'a str) -> Cow<'a, str> {
        let text = if self.lowercase {
            lowercase(doc)
        } else {
            doc.into()
        };
        match self.strip_accents {
            None => text,
            Some(_) if text.is_ascii() => text,
            Some(StripAccents::Ascii) => text
                .nfkd()
                .filter(char::is_ascii)
                .collect::<String>()
                .into(),
            Some(StripAccents::Unicode) => text
                .nfkd()
                .filter(|&c| canonical_combining_class(c) == 0)
                .collect::<String>()
                .into(),
        }
    }

    fn word_ngrams(&self, text: &str, mut emit: impl FnMut(&str)) {
        let mut words: Vec<&str> = Vec::new();
        self.token_pattern.tokens(text, |t| {
            if self.stop_words.as_ref().is_none_or(|s| !s.contains(t)) {
                words.push(t);
            }
        });
        let (low, high) = self.ngram_range;
        if low == 1 {
            words.iter().for_each(|w| emit(w));
        }
        let mut gram = String::new();
        for n in low.max(2)..=high {
            for window in words.windows(n) {
                gram.clear();
                for (k, w) in window.iter().enumerate() {
                    if k > 0 {
                        gram.push(' ');
                    }
                    gram.push_str(w);
                }
                emit(&gram);
            }
        }
    }
}

/// `re.sub(r"\s\s+", " ", text)`: runs of two or more spaces become one
/// space (a single tab or newline stays as it is).
fn squeeze_spaces(text: &str) -> Cow<'_, str> {
    let mut chars = text.chars().peekable();
    let mut squeezed: Option<String> = None;
    let mut at = 0;
    while let Some(c) = chars.next() {
        let len = c.len_utf8();
        if is_python_space(c) && chars.peek().is_some_and(|&n| is_python_space(n)) {
            let out = squeezed.get_or_insert_with(|| text[..at].to_string());
            out.push(' ');
            at += len;
            while let Some(&n) = chars.peek() {
                if !is_python_space(n) {
                    break;
                }
                at += n.len_utf8();
                chars.next();
            }
            continue;
        }
        if let Some(out) = squeezed.as_mut() {
            out.push(c);
        }
        at += len;
    }
    squeezed.map_or(Cow::Borrowed(text), Cow::Owned)
}

/// Byte offsets of every character of `text`, and its length at the end.
fn char_bounds(text: &str) -> Vec<usize> {
    text.char_indices()
        .map(|(i, _)| i)
        .chain([text.len()])
        .collect()
}

/// scikit-learn's `_char_ngrams`: every n-gram of characters, by n.
fn char_ngrams(text: &str, (low, high): (usize, usize), emit: &mut impl FnMut(&str)) {
    let text = squeeze_spaces(text);
    let bounds = char_bounds(&text);
    let len = bounds.len() - 1;
    for n in low..=high.min(len) {
        for i in 0..=len - n {
            emit(&text[bounds[i]..bounds[i + n]]);
        }
    }
}

/// scikit-learn's `_char_wb_ngrams`: n-grams inside each word padded with a
/// space on both sides; a word shorter than n gives itself once.
fn char_wb_ngrams(text: &str, (low, high): (usize, usize), emit: &mut impl FnMut(&str)) {
    let text = squeeze_spaces(text);
    let mut padded = String::new();
    for word in text.split(is_python_space).filter(|w| !w.is_empty()) {
        padded.clear();
        padded.push(' ');
        padded.push_str(word);
        padded.push(' ');
        let bounds = char_bounds(&padded);
        let len = bounds.len() - 1;
        for n in low..=high {
            let mut offset = 0;
            emit(&padded[bounds[0]..bounds[n.min(len)]]);
            while offset + n < len {
                offset += 1;
                emit(&padded[bounds[offset]..bounds[offset + n]]);
            }
            if offset == 0 {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // import re; re.findall(r"(?u)\b\w\w+\b", "It's Ted's 1st night... a B-movie_x über!")
    //   -> ['It', 'Ted', '1st', 'night', 'movie_x', 'über']
    #[test]
    fn tokens_match_sklearns_pattern() {
        let found: Vec<&str> = tokens("It's Ted's 1st night... a B-movie_x über!").collect();
        assert_eq!(found, ["It", "Ted", "1st", "night", "movie_x", "über"]);
    }

    // CountVectorizer(ngram_range=(1,2), stop_words='english').build_analyzer()(
    //   "The cat sat on the big mat") -> ['cat', 'sat', 'big', 'mat', 'cat sat', 'sat big', 'big mat']
    #[test]
    fn analyzer_matches_sklearn() {
        let analyzer = Analyzer {
            stop_words: Some(english_stop_words()),
            ngram_range: (1, 2),
            ..Analyzer::default()
        };
        let mut terms = Vec::new();
        analyzer.terms("The cat sat on the big mat", |t| terms.push(t.to_string()));
        assert_eq!(
            terms,
            ["cat", "sat", "big", "mat", "cat sat", "sat big", "big mat"]
        );
        assert_eq!(english_stop_words().len(), 318);
    }
}
