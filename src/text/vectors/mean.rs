//! The mean word vector of each document (the report's section 5): the
//! seed's tokens (`\w+`, lower-cased, English stop words left out), each
//! looked up, the found vectors averaged; optionally weighted by a fitted
//! tf-idf's idf. Documents in parallel, rows in input order.

use ahash::AHashSet;
use ndarray::Array2;
use rayon::prelude::*;

use std::borrow::Cow;
use std::sync::Arc;

use serde::Serialize;

use super::WordVectors;
use super::index::Key;
use crate::error::{Error, Result};
use crate::matrix::Matrix;
use crate::options::Value;
use crate::text::ascii_words::ascii_word_runs;
use crate::text::tokenize::{lowercase, tokens, word_runs};
use crate::text::vectorizer::StopWords;
use crate::text::{Vectorizer, Vocabulary};

/// How documents become tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenPattern {
    /// `\w+`: every run of word characters (the seed's).
    WordRuns,
    /// `(?u)\b\w\w+\b`: runs of two or more (scikit-learn's vectorizers).
    Sklearn,
}

crate::choices!(impl TokenPattern { WordRuns = "\\w+", Sklearn = "(?u)\\b\\w\\w+\\b" });

/// What a document with no known word becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnEmpty {
    /// Left out of the matrix (the seed's choice); its index is reported.
    Drop,
    /// A row of zeros (the reference's choice).
    Zero,
    /// The whole call fails, naming the document.
    Error,
}

crate::choices!(impl OnEmpty { Zero = "zero", Drop = "drop", Error = "error" });

/// `[a fitted tf-idf vectorizer]` for `weights`.
fn fitted_tfidf(v: &Value) -> std::result::Result<(), String> {
    match v {
        Value::Vectorizer(v) if idf_of(v).is_some() => Ok(()),
        _ => Err(String::new()),
    }
}

/// The vocabulary and idf of a fitted tf-idf vectorizer.
fn idf_of(v: &Vectorizer) -> Option<(&Vocabulary, &Vec<f64>)> {
    Some((v.vocabulary.as_ref()?, v.tfidf.as_ref()?.idf.as_ref()?))
}

crate::options! {
    /// `WordVectors.mean`: how documents become tokens and mean vectors.
    pub struct WordMeanOptions for "WordVectors.mean" {
        /// \w+ is the seed's (every run of word characters); the other is scikit-learn's (two or more)
        token_pattern: TokenPattern = TokenPattern::WordRuns => Choice(TokenPattern::NAMES),
        /// words left out: scikit-learn's 318 English ones, an array, or () for none
        stop_words: StopWords = StopWords::English => Either(&[Choice(&["english"]), Texts, Unit]),
        /// look words up lower-cased
        lowercase: bool = true => Bool,
        /// a document without a known word becomes a row of zeros, is left out (the rows are named by movie id), or fails the call; a warning counts them
        on_empty: OnEmpty = OnEmpty::Zero => Choice(OnEmpty::NAMES),
        /// weight each word by its idf (words outside its vocabulary by the largest idf); default unweighted
        weights: Option<Arc<Vectorizer>> = None => Custom {
            expected: "a fitted text::tfidf_vectorizer (with idf)",
            check: fitted_tfidf,
        },
    }
}

crate::options! {
    /// `WordVectors.known`: the documents with a known word.
    pub struct KnownOptions for "WordVectors.known" {
        ..mean: WordMeanOptions,
    }
}

crate::options! {
    /// `WordVectors.coverage`: how many tokens have a vector.
    pub struct CoverageOptions for "WordVectors.coverage" {
        ..mean: WordMeanOptions,
    }
}

/// What `WordVectors.coverage` reports.
#[derive(Debug, Serialize)]
pub struct Coverage {
    pub documents: usize,
    pub empty: usize,
    /// The empty documents by movie id, or by position.
    pub empty_ids: Vec<IdOrIndex>,
    pub tokens: usize,
    pub known: usize,
    pub coverage: f64,
}

/// A movie id, or a position when the documents have none.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum IdOrIndex {
    Id(String),
    Index(usize),
}

impl WordMeanOptions {
    fn mean_options(&self) -> MeanOptions {
        MeanOptions {
            pattern: self.token_pattern,
            stop_words: self.stop_words.set(),
            lowercase: self.lowercase,
            on_empty: self.on_empty,
        }
    }
}

/// The mean vectors of `docs` with the script's options (and idf weights).
pub fn means(wv: &WordVectors, docs: &[&str], o: &WordMeanOptions) -> Result<Means> {
    let opts = o.mean_options();
    let Some(v) = &o.weights else {
        return mean(wv, docs, &opts, None);
    };
    let Some((vocabulary, idf)) = idf_of(v) else {
        return Err(Error::invalid(
            "mean: option 'weights' needs a fitted tf-idf vectorizer",
        ));
    };
    let largest = idf.iter().copied().fold(0.0, f64::max);
    let weight = |w: &str| Some(vocabulary.get(w).map_or(largest, |j| idf[j as usize]));
    mean(wv, docs, &opts, Some(&weight))
}

/// The mean vectors as a matrix, rows named by `ids` (a `Movies`' ids)
/// when given; a warning counts the documents without a known word.
pub fn mean_matrix(
    wv: &WordVectors,
    docs: &[&str],
    ids: Option<&[String]>,
    o: &WordMeanOptions,
) -> Result<Matrix> {
    let m = means(wv, docs, o)?;
    warn_empty(&m, docs.len(), ids, o.on_empty == OnEmpty::Drop);
    let names = ids.map(|ids| m.kept.iter().map(|&i| ids[i].clone()).collect());
    Matrix::new(m.values).with_names(names, None)
}

/// Which documents have a known word.
pub fn known(wv: &WordVectors, docs: &[&str], o: &WordMeanOptions) -> Result<Vec<bool>> {
    let m = means(wv, docs, o)?;
    let mut keep = vec![true; docs.len()];
    for &i in &m.empty {
        keep[i] = false;
    }
    Ok(keep)
}

/// How many tokens and documents the vectors cover.
pub fn coverage(
    wv: &WordVectors,
    docs: &[&str],
    ids: Option<&[String]>,
    o: &WordMeanOptions,
) -> Result<Coverage> {
    let m = means(wv, docs, o)?;
    Ok(Coverage {
        documents: docs.len(),
        empty: m.empty.len(),
        empty_ids: m
            .empty
            .iter()
            .map(|&i| match ids {
                Some(ids) => IdOrIndex::Id(ids[i].clone()),
                None => IdOrIndex::Index(i),
            })
            .collect(),
        tokens: m.tokens,
        known: m.known,
        coverage: m.known as f64 / m.tokens.max(1) as f64,
    })
}

fn warn_empty(m: &Means, n: usize, ids: Option<&[String]>, dropped: bool) {
    if m.empty.is_empty() {
        return;
    }
    let names: Vec<String> = m
        .empty
        .iter()
        .take(5)
        .map(|&i| ids.map_or_else(|| format!("#{i}"), |ids| ids[i].clone()))
        .collect();
    let more = if m.empty.len() > 5 { ", …" } else { "" };
    eprintln!(
        "warning: mean: {} of {n} documents have no word with a vector ({}{more}): {}",
        m.empty.len(),
        names.join(", "),
        if dropped { "left out" } else { "rows of zeros" }
    );
}

#[derive(Clone, Debug)]
pub struct MeanOptions {
    pub pattern: TokenPattern,
    pub stop_words: Option<AHashSet<String>>,
    pub lowercase: bool,
    pub on_empty: OnEmpty,
}

/// Mean vectors with what was found.
#[derive(Clone, Debug)]
pub struct Means {
    /// One row per kept document, in input order.
    pub values: Array2<f32>,
    /// Input positions of the rows of `values`.
    pub kept: Vec<usize>,
    /// Input positions of documents without a known word.
    pub empty: Vec<usize>,
    /// Tokens left after stop words, and how many of them had a vector.
    pub tokens: usize,
    pub known: usize,
}

/// The idf of a term, for weighting; `None` leaves a word unweighted.
pub type Weight<'a> = &'a (dyn Fn(&str) -> Option<f64> + Sync);

/// One thread's buffers, reused from document to document.
#[derive(Default)]
struct Scratch {
    /// The document as looked up (lower-cased when asked), then 12 zero
    /// bytes, so that every token's key is read in place (`Key::within`).
    text: Vec<u8>,
    /// Each token's place in `text`, key and hash.
    spans: Vec<Span>,
    /// (token, row) of each token found, in token order.
    found: Vec<(usize, usize)>,
    sum: Vec<f64>,
}

/// A token: `text[start..end]`, its key and hash (filled in after the
/// text is padded).
#[derive(Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
    key: Key,
    hash: u64,
}

impl Span {
    fn new(start: usize, end: usize) -> Span {
        let (key, hash) = (Key::default(), 0);
        Span {
            start,
            end,
            key,
            hash,
        }
    }
}

/// The tokens of `doc` as spans of `s.text` (keys not yet filled in).
/// ASCII documents, nearly all overviews, take `ascii_word_runs`; the
/// others the Unicode tokenizer.
fn tokenize(doc: &str, opts: &MeanOptions, s: &mut Scratch) {
    let Scratch { text, spans, .. } = s;
    text.clear();
    spans.clear();
    if doc.is_ascii() {
        let shortest = match opts.pattern {
            TokenPattern::WordRuns => 1,
            TokenPattern::Sklearn => 2,
        };
        ascii_word_runs(doc.as_bytes(), opts.lowercase, text, |a, b| {
            if b - a >= shortest {
                spans.push(Span::new(a, b));
            }
        });
    } else {
        let lowered = if opts.lowercase {
            lowercase(doc)
        } else {
            Cow::Borrowed(doc)
        };
        text.extend_from_slice(lowered.as_bytes());
        let mut note = |t: &str| {
            let start = t.as_ptr() as usize - lowered.as_ptr() as usize;
            spans.push(Span::new(start, start + t.len()));
        };
        match opts.pattern {
            TokenPattern::WordRuns => word_runs(&lowered).for_each(&mut note),
            TokenPattern::Sklearn => tokens(&lowered).for_each(&mut note),
        }
    }
    text.extend_from_slice(&[0; 12]);
}

/// Writes the mean vector of `doc`'s known tokens into `out` (left at zero
/// when their total weight is not positive) and returns (that total is
/// positive, tokens, known tokens). `stop_rows[r]` marks the rows of stop
/// words, so a known token costs one look-up; only unknown ones are checked
/// against the list. The look-ups are cache misses (a 100k-word table,
/// 20 MB of vectors), so they go in three passes over the document's
/// tokens: hash and prefetch every slot, find every row and prefetch it,
/// then add in token order (the same sums as one pass, with the misses
/// overlapped).
fn document(
    wv: &WordVectors,
    doc: &str,
    opts: &MeanOptions,
    stop_rows: &[bool],
    weight: Option<Weight>,
    scratch: &mut Scratch,
    out: &mut [f32],
) -> (bool, usize, usize) {
    tokenize(doc, opts, scratch);
    let Scratch {
        text,
        spans,
        found,
        sum,
        ..
    } = scratch;
    let index = wv.index();
    for s in spans.iter_mut() {
        s.key = Key::within(text, s.start, s.end - s.start);
        s.hash = index.hash(&s.key, &text[s.start..s.end]);
        index.prefetch(s.hash);
    }
    let dim = wv.dim();
    let values = wv.values().as_slice().unwrap_or(&[]);
    let (mut n_tokens, mut n_known) = (0, 0);
    // Token spans fall on character boundaries of valid UTF-8.
    let token = |start: usize, end: usize| std::str::from_utf8(&text[start..end]).unwrap_or("");
    found.clear();
    for (
        t,
        &Span {
            start,
            end,
            key,
            hash,
        },
    ) in spans.iter().enumerate()
    {
        match index.get_hashed(&key, &text[start..end], hash) {
            Some(row) if stop_rows[row] => {}
            Some(row) => {
                n_tokens += 1;
                n_known += 1;
                prefetch(&values[row * dim..(row + 1) * dim]);
                found.push((t, row));
            }
            None => {
                let stop = opts.stop_words.as_ref();
                if !stop.is_some_and(|s| s.contains(token(start, end))) {
                    n_tokens += 1;
                }
            }
        }
    }
    sum.clear();
    sum.resize(dim, 0.0);
    let mut total = 0.0;
    for &(t, row) in found.iter() {
        let Span { start, end, .. } = spans[t];
        let w = weight.and_then(|f| f(token(start, end))).unwrap_or(1.0);
        total += w;
        add_scaled(sum, &values[row * dim..(row + 1) * dim], w);
    }
    if total > 0.0 {
        for (o, s) in out.iter_mut().zip(sum.iter()) {
            *o = (s / total) as f32;
        }
    }
    (total > 0.0, n_tokens, n_known)
}

/// Asks for the cache lines of `row` (a hint; never faults).
#[inline]
fn prefetch(row: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    for line in row.chunks(16) {
        // SAFETY: a prefetch is a hint on a valid address; it cannot fault.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                line.as_ptr().cast(),
            )
        };
    }
}

crate::text::encoder::kernels::dispatch! {
    /// `sum += w · row` in f64 (AVX2 where the CPU has it: four lanes per
    /// step instead of SSE2's two; the same roundings, as Rust never fuses).
    pub fn add_scaled(sum: &mut [f64], row: &[f32], w: f64) {
        for (s, v) in sum.iter_mut().zip(row) {
            *s += w * f64::from(*v);
        }
    }
}

/// The mean vector of every document. `weight` gives each known word's
/// weight (an idf), 1 where it gives none.
pub fn mean(
    wv: &WordVectors,
    docs: &[&str],
    opts: &MeanOptions,
    weight: Option<Weight>,
) -> Result<Means> {
    let mut stop_rows = vec![false; wv.len()];
    for word in opts.stop_words.iter().flatten() {
        if let Some(r) = wv.row(word) {
            stop_rows[r] = true;
        }
    }
    // Each document writes its row in place; the rows of documents left
    // out are squeezed out afterwards.
    let dim = wv.dim();
    let mut flat = vec![0.0f32; docs.len() * dim];
    let run = |s: &mut Scratch, d: &&str, out: &mut [f32]| {
        document(wv, d, opts, &stop_rows, weight, s, out)
    };
    let rows: Vec<(bool, usize, usize)> = if dim == 0 {
        let f = |s: &mut Scratch, d| run(s, d, &mut []);
        docs.par_iter().map_init(Scratch::default, f).collect()
    } else {
        let f = |s: &mut Scratch, (out, d)| run(s, d, out);
        let rows = flat.par_chunks_mut(dim).zip(docs.par_iter());
        rows.map_init(Scratch::default, f).collect()
    };
    let empty: Vec<usize> = (0..docs.len()).filter(|&i| !rows[i].0).collect();
    if opts.on_empty == OnEmpty::Error
        && let Some(&i) = empty.first()
    {
        return Err(Error::invalid(format!(
            "mean: document {i} has no word with a vector ({} of {} documents have none): {:?}; use on_empty: \"drop\" or \"zero\"",
            empty.len(),
            docs.len(),
            preview(docs[i])
        )));
    }
    let kept: Vec<usize> = match opts.on_empty {
        OnEmpty::Drop => (0..docs.len()).filter(|&i| rows[i].0).collect(),
        _ => (0..docs.len()).collect(),
    };
    for (to, &from) in kept.iter().enumerate() {
        flat.copy_within(from * dim..(from + 1) * dim, to * dim);
    }
    flat.truncate(kept.len() * dim);
    let values = Array2::from_shape_vec((kept.len(), dim), flat)
        .map_err(|e| Error::invalid(format!("internal: mean vectors of the wrong size: {e}")))?;
    Ok(Means {
        values,
        kept,
        empty,
        tokens: rows.iter().map(|r| r.1).sum(),
        known: rows.iter().map(|r| r.2).sum(),
    })
}

fn preview(doc: &str) -> String {
    let short: String = doc.chars().take(60).collect();
    if short.len() < doc.len() {
        format!("{short}…")
    } else {
        short
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::tokenize::english_stop_words;

    /// The reference's `glove_mean` (shared/bench/python_reference) on these
    /// vectors:
    /// ```python
    /// vocab = {"cat": 0, "sat": 1, "mat": 2}; vecs = np.array([[1,0],[0,2],[4,4]], np.float32)
    /// glove_mean(["The cat sat on the mat.", "The end", "CAT!"], vocab, vecs, set(ENGLISH_STOP_WORDS))
    /// # X = [[1.6667, 2.0], [0, 0], [1, 0]], docs_without_known_token 1, token_coverage 4/5
    /// ```
    #[test]
    fn means_follow_the_reference_and_report_empty_documents() {
        let wv = WordVectors::from_rows(
            vec!["cat".into(), "sat".into(), "mat".into()],
            ndarray::array![[1.0f32, 0.0], [0.0, 2.0], [4.0, 4.0]],
        )
        .unwrap();
        let docs = ["The cat sat on the mat.", "The end", "CAT!"];
        let mut opts = MeanOptions {
            pattern: TokenPattern::WordRuns,
            stop_words: Some(english_stop_words()),
            lowercase: true,
            on_empty: OnEmpty::Zero,
        };
        let m = mean(&wv, &docs, &opts, None).unwrap();
        assert!((m.values[[0, 0]] - 5.0 / 3.0).abs() < 1e-6);
        assert_eq!(m.values[[0, 1]], 2.0);
        assert_eq!(m.values.row(1).to_vec(), vec![0.0, 0.0]);
        assert_eq!(m.values.row(2).to_vec(), vec![1.0, 0.0]);
        assert_eq!((m.empty.clone(), m.tokens, m.known), (vec![1], 5, 4));
        opts.on_empty = OnEmpty::Drop;
        let m = mean(&wv, &docs, &opts, None).unwrap();
        assert_eq!(m.kept, vec![0, 2]);
        assert_eq!(m.values.nrows(), 2);
        opts.on_empty = OnEmpty::Error;
        let e = mean(&wv, &docs, &opts, None).unwrap_err().to_string();
        assert!(
            e.contains("document 1 has no word with a vector (1 of 3"),
            "{e}"
        );
        // Weighted: cat 1, sat 3, mat 0 → (1·[1,0] + 3·[0,2] + 0) / 4.
        opts.on_empty = OnEmpty::Zero;
        let w = |t: &str| match t {
            "sat" => Some(3.0),
            "mat" => Some(0.0),
            _ => None,
        };
        let m = mean(&wv, &docs[..1], &opts, Some(&w)).unwrap();
        assert_eq!(m.values.row(0).to_vec(), vec![0.25, 1.5]);
    }

    #[test]
    fn idf_weights_need_a_fitted_tfidf_vectorizer() {
        let unfitted = Value::Vectorizer(Arc::new(Vectorizer::new(Default::default(), None)));
        assert!(fitted_tfidf(&unfitted).is_err());
        assert!(fitted_tfidf(&Value::Int(1)).is_err());
        let o = WordMeanOptions {
            weights: Some(Arc::new(Vectorizer::new(Default::default(), None))),
            ..WordMeanOptions::default()
        };
        let wv = WordVectors::from_rows(vec!["a".into()], ndarray::array![[1.0f32]]).unwrap();
        let e = means(&wv, &["a"], &o).unwrap_err().to_string();
        assert_eq!(e, "mean: option 'weights' needs a fitted tf-idf vectorizer");
    }
}
