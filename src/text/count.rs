//! scikit-learn's `CountVectorizer`: documents -> term counts (CSR), with
//! the same vocabulary (sorted terms), the same `min_df` / `max_df` /
//! `max_features` pruning and the same column order.
//!
//! Fitting runs on all cores: each chunk of documents is tokenized into a
//! chunk-local vocabulary, the chunks are merged once, and no dense matrix is
//! ever built.

use ahash::AHashMap as HashMap;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::interrupt;
use crate::matrix::Csr;
use crate::text::tokenize::Analyzer;

/// A document-frequency bound: a fraction of the documents or a count.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum DocFreq {
    Fraction(f64),
    Count(usize),
}

impl DocFreq {
    /// scikit-learn: an int is a count, a float a proportion of `n_docs`
    /// (compared unrounded: `df >= 0.005 * 4276` keeps df >= 22).
    fn limit(self, n_docs: usize) -> f64 {
        match self {
            DocFreq::Fraction(f) => f * n_docs as f64,
            DocFreq::Count(c) => c as f64,
        }
    }
}

/// Parameters with scikit-learn's names and defaults.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct CountParams {
    pub analyzer: Analyzer,
    pub min_df: DocFreq,
    pub max_df: DocFreq,
    pub max_features: Option<usize>,
    pub binary: bool,
    /// Fixed terms in column order: fitting learns nothing.
    #[serde(default)]
    pub vocabulary: Option<Vec<String>>,
}

impl Default for CountParams {
    fn default() -> Self {
        CountParams {
            analyzer: Analyzer::default(),
            min_df: DocFreq::Count(1),
            max_df: DocFreq::Fraction(1.0),
            max_features: None,
            binary: false,
            vocabulary: None,
        }
    }
}

/// Term -> column.
#[derive(Clone, Debug, Default)]
pub struct Vocabulary {
    terms: Vec<String>,
    index: HashMap<String, u32>,
}

impl Vocabulary {
    /// The terms in column order.
    pub fn from_terms(terms: Vec<String>) -> Vocabulary {
        let index = terms
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i as u32))
            .collect::<HashMap<String, u32>>();
        Vocabulary { terms, index }
    }

    pub fn terms(&self) -> &[String] {
        &self.terms
    }

    pub fn len(&self) -> usize {
        self.terms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    pub fn get(&self, term: &str) -> Option<u32> {
        self.index.get(term).copied()
    }
}

/// Documents per parallel task: about four tasks per core, so the cores stay
/// busy while each chunk-local vocabulary stays large (terms repeat across
/// chunks, and every repeat costs a merge step).
fn chunk_size(n_docs: usize) -> usize {
    n_docs.div_ceil(4 * rayon::current_num_threads()).max(256)
}

/// One chunk of documents, counted against its own vocabulary.
struct ChunkCounts {
    terms: Vec<String>,
    rows: Vec<Vec<(u32, u32)>>,
}

fn count_chunk(analyzer: &Analyzer, docs: &[&str]) -> ChunkCounts {
    let mut index: HashMap<String, u32> = HashMap::new();
    let mut terms = Vec::new();
    let mut ids = Vec::new();
    let rows = docs
        .iter()
        .map(|doc| {
            ids.clear();
            analyzer.terms(doc, |t| {
                let id = match index.get(t) {
                    Some(&id) => id,
                    None => {
                        let id = terms.len() as u32;
                        terms.push(t.to_string());
                        index.insert(t.to_string(), id);
                        id
                    }
                };
                ids.push(id);
            });
            run_lengths(&mut ids)
        })
        .collect();
    ChunkCounts { terms, rows }
}

/// Sorted `(id, count)` pairs of a list of ids.
fn run_lengths(ids: &mut [u32]) -> Vec<(u32, u32)> {
    ids.sort_unstable();
    let mut out: Vec<(u32, u32)> = Vec::with_capacity(ids.len());
    for &id in ids.iter() {
        match out.last_mut() {
            Some((last, n)) if *last == id => *n += 1,
            _ => out.push((id, 1)),
        }
    }
    out
}

fn to_csr(rows: Vec<Vec<(u32, u32)>>, cols: usize, binary: bool) -> Result<Csr> {
    let mut indptr = Vec::with_capacity(rows.len() + 1);
    let nnz: usize = rows.iter().map(Vec::len).sum();
    let mut indices = Vec::with_capacity(nnz);
    let mut data = Vec::with_capacity(nnz);
    indptr.push(0);
    for row in &rows {
        for &(col, count) in row {
            indices.push(col);
            data.push(if binary { 1.0 } else { count as f32 });
        }
        indptr.push(indices.len());
    }
    Csr::new(rows.len(), cols, indptr, indices, data)
}

/// Learns the vocabulary of `docs` and returns their count matrix.
pub fn fit_transform(params: &CountParams, docs: &[&str]) -> Result<(Vocabulary, Csr)> {
    if docs.is_empty() {
        return Err(Error::invalid("fit: no documents (an empty array)"));
    }
    if let Some(terms) = &params.vocabulary {
        // scikit-learn's fixed vocabulary: the given columns, no pruning.
        let vocabulary = Vocabulary::from_terms(terms.clone());
        let x = transform(params, &vocabulary, docs)?;
        return Ok((vocabulary, x));
    }
    let n_docs = docs.len();
    let max_doc = params.max_df.limit(n_docs);
    let min_doc = params.min_df.limit(n_docs);
    if max_doc < min_doc {
        return Err(Error::invalid(format!(
            "max_df corresponds to fewer documents ({max_doc}) than min_df ({min_doc})"
        )));
    }
    let chunks: Vec<ChunkCounts> = docs
        .par_chunks(chunk_size(n_docs))
        .map(|chunk| count_chunk(&params.analyzer, chunk))
        .collect();
    interrupt::check()?;

    // Merge the chunk vocabularies: first-seen ids, then sorted ranks, and
    // each chunk's local id -> its rank in the sorted global term list.
    let mut first_seen: HashMap<&str, u32> = HashMap::new();
    let mut unsorted: Vec<&str> = Vec::new();
    let seen_ids: Vec<Vec<u32>> = chunks
        .iter()
        .map(|c| {
            c.terms
                .iter()
                .map(|t| {
                    *first_seen.entry(t.as_str()).or_insert_with(|| {
                        unsorted.push(t.as_str());
                        unsorted.len() as u32 - 1
                    })
                })
                .collect()
        })
        .collect();
    if unsorted.is_empty() {
        return Err(Error::invalid(
            "empty vocabulary: the documents contain no tokens of two or more letters (or only stop words)",
        ));
    }
    let mut order: Vec<u32> = (0..unsorted.len() as u32).collect();
    order.par_sort_unstable_by_key(|&i| unsorted[i as usize]);
    let all_terms: Vec<&str> = order.iter().map(|&i| unsorted[i as usize]).collect();
    let mut rank = vec![0u32; order.len()];
    for (r, &i) in order.iter().enumerate() {
        rank[i as usize] = r as u32;
    }
    let global_of: Vec<Vec<u32>> = seen_ids
        .into_iter()
        .map(|ids| ids.into_iter().map(|i| rank[i as usize]).collect())
        .collect();
    let mut doc_freq = vec![0usize; all_terms.len()];
    let mut term_freq = vec![0u64; all_terms.len()];
    for (chunk, map) in chunks.iter().zip(&global_of) {
        for row in &chunk.rows {
            for &(local, count) in row {
                let g = map[local as usize] as usize;
                doc_freq[g] += 1;
                term_freq[g] += u64::from(count);
            }
        }
    }

    let mut keep: Vec<bool> = doc_freq
        .iter()
        .map(|&df| (df as f64) <= max_doc && (df as f64) >= min_doc)
        .collect();
    if let Some(limit) = params.max_features {
        // The `limit` most frequent terms over the corpus; ties keep term order.
        // scikit-learn binarises before ranking, so with `binary` a term's
        // frequency is the number of documents that hold it.
        let freq = |g: usize| {
            if params.binary {
                doc_freq[g] as u64
            } else {
                term_freq[g]
            }
        };
        let mut kept: Vec<usize> = (0..keep.len()).filter(|&i| keep[i]).collect();
        kept.sort_by(|&a, &b| freq(b).cmp(&freq(a)).then(a.cmp(&b)));
        keep.iter_mut().for_each(|k| *k = false);
        for &i in kept.iter().take(limit) {
            keep[i] = true;
        }
    }
    let mut column = vec![u32::MAX; all_terms.len()];
    let mut terms = Vec::new();
    for (g, term) in all_terms.iter().enumerate() {
        if keep[g] {
            column[g] = terms.len() as u32;
            terms.push(term.to_string());
        }
    }
    if terms.is_empty() {
        return Err(Error::invalid(format!(
            "after pruning no terms remain (min_df {min_doc}, max_df {max_doc} documents of {n_docs}); try a lower min_df or a higher max_df"
        )));
    }
    let rows: Vec<Vec<(u32, u32)>> = chunks
        .into_par_iter()
        .zip(global_of)
        .flat_map_iter(|(chunk, map)| {
            let column = &column;
            chunk.rows.into_iter().map(move |row| {
                let mut out: Vec<(u32, u32)> = row
                    .into_iter()
                    .map(|(local, n)| (column[map[local as usize] as usize], n))
                    .filter(|(c, _)| *c != u32::MAX)
                    .collect();
                out.sort_unstable();
                out
            })
        })
        .collect();
    let cols = terms.len();
    Ok((
        Vocabulary::from_terms(terms),
        to_csr(rows, cols, params.binary)?,
    ))
}

/// Counts `docs` against a fitted vocabulary; unknown terms are ignored.
pub fn transform(params: &CountParams, vocabulary: &Vocabulary, docs: &[&str]) -> Result<Csr> {
    let rows: Vec<Vec<(u32, u32)>> = docs
        .par_chunks(chunk_size(docs.len()))
        .flat_map_iter(|chunk| {
            let mut ids = Vec::new();
            chunk
                .iter()
                .map(|doc| {
                    ids.clear();
                    params.analyzer.terms(doc, |t| {
                        if let Some(c) = vocabulary.get(t) {
                            ids.push(c);
                        }
                    });
                    run_lengths(&mut ids)
                })
                .collect::<Vec<_>>()
        })
        .collect();
    interrupt::check()?;
    to_csr(rows, vocabulary.len(), params.binary)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Four small documents the text tests share (reference numbers from scikit-learn).
    pub(crate) const DOCS: [&str; 4] = [
        "The cat sat on the mat.",
        "The dog sat on the log, the dog!",
        "Cats and dogs",
        "A mat, a log; a cat.",
    ];

    // cv = CountVectorizer(min_df=2); X = cv.fit_transform(DOCS)
    //   cv.get_feature_names_out() -> ['cat', 'log', 'mat', 'on', 'sat', 'the']
    //   X.toarray() -> [[1,0,1,1,1,2],[0,1,0,1,1,3],[0,0,0,0,0,0],[1,1,1,0,0,0]]
    #[test]
    fn matches_count_vectorizer() {
        let params = CountParams {
            min_df: DocFreq::Count(2),
            ..CountParams::default()
        };
        let (vocab, x) = fit_transform(&params, &DOCS).unwrap();
        assert_eq!(vocab.terms(), ["cat", "log", "mat", "on", "sat", "the"]);
        let dense = x.to_dense();
        let expected = [
            [1., 0., 1., 1., 1., 2.],
            [0., 1., 0., 1., 1., 3.],
            [0., 0., 0., 0., 0., 0.],
            [1., 1., 1., 0., 0., 0.],
        ];
        for (row, want) in dense.rows().into_iter().zip(expected) {
            assert_eq!(row.to_vec(), want.to_vec());
        }
        let again = transform(&params, &vocab, &DOCS).unwrap();
        assert_eq!(again, x);
    }

    // CountVectorizer(max_df=0.5).fit(DOCS).get_feature_names_out()
    //   -> ['and', 'cat', 'cats', 'dog', 'dogs', 'log', 'mat', 'on', 'sat', 'the']  (every df <= 2.0)
    // CountVectorizer(max_df=0.4) keeps df <= 1.6: ['and', 'cats', 'dog', 'dogs']
    // max_features=3: totals the 5, then six terms tied at 2. scikit-learn breaks the
    //   tie with numpy's unstable argsort (['cat', 'mat', 'the'] on this machine);
    //   genrelab keeps the earlier term: ['cat', 'dog', 'the'].
    #[test]
    fn max_df_and_max_features() {
        let with = |max_df, max_features| CountParams {
            max_df,
            max_features,
            ..CountParams::default()
        };
        let (vocab, _) = fit_transform(&with(DocFreq::Fraction(0.5), None), &DOCS).unwrap();
        assert_eq!(vocab.len(), 10);
        let (vocab, _) = fit_transform(&with(DocFreq::Fraction(0.4), None), &DOCS).unwrap();
        assert_eq!(vocab.terms(), ["and", "cats", "dog", "dogs"]);
        let (vocab, _) = fit_transform(&with(DocFreq::Fraction(1.0), Some(3)), &DOCS).unwrap();
        assert_eq!(vocab.terms(), ["cat", "dog", "the"]);
    }

    #[test]
    fn empty_inputs_are_errors() {
        let params = CountParams::default();
        assert!(
            fit_transform(&params, &[])
                .unwrap_err()
                .to_string()
                .contains("no documents")
        );
        let msg = fit_transform(&params, &["a", "!"]).unwrap_err().to_string();
        assert!(msg.contains("empty vocabulary"), "{msg}");
        let strict = CountParams {
            min_df: DocFreq::Count(3),
            ..CountParams::default()
        };
        let msg = fit_transform(&strict, &DOCS).unwrap_err().to_string();
        assert!(msg.contains("no terms remain"), "{msg}");
        let crossed = CountParams {
            min_df: DocFreq::Count(5),
            ..CountParams::default()
        };
        let msg = fit_transform(&crossed, &DOCS).unwrap_err().to_string();
        assert!(
            msg.contains("max_df corresponds to fewer documents"),
            "{msg}"
        );
    }
}
