//! scikit-learn's default analyzer: lowercase, the token pattern
//! `(?u)\b\w\w+\b` (runs of two or more word characters), stop words removed,
//! then word n-grams joined by a space.

use ahash::AHashSet as HashSet;

/// scikit-learn's `ENGLISH_STOP_WORDS` (318 words), one per line.
const ENGLISH: &str = include_str!("english_stop_words.txt");

/// The English stop-word list of scikit-learn.
pub fn english_stop_words() -> HashSet<String> {
    ENGLISH.lines().map(str::to_string).collect()
}

/// Python's `\w` for str: letters, digits and numerals of any script, and `_`.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
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
pub fn lowercase(text: &str) -> std::borrow::Cow<'_, str> {
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

/// How documents become terms.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Analyzer {
    pub lowercase: bool,
    pub stop_words: Option<HashSet<String>>,
    /// Inclusive n-gram range, e.g. (1, 2) for unigrams and bigrams.
    pub ngram_range: (usize, usize),
}

impl Default for Analyzer {
    fn default() -> Self {
        Analyzer {
            lowercase: true,
            stop_words: None,
            ngram_range: (1, 1),
        }
    }
}

impl Analyzer {
    /// Calls `emit` with every term of `doc`, in order, as scikit-learn's
    /// `build_analyzer()` yields them (unigrams first, then bigrams, …).
    pub fn terms(&self, doc: &str, mut emit: impl FnMut(&str)) {
        let text = if self.lowercase {
            lowercase(doc)
        } else {
            doc.into()
        };
        let text = text.as_ref();
        let words: Vec<&str> = tokens(text)
            .filter(|t| self.stop_words.as_ref().is_none_or(|s| !s.contains(*t)))
            .collect();
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
