//! Pretrained word vectors (word2vec, fastText, GloVe): one f32 matrix and a
//! word → row map, the neighbour queries gensim users know (cosine
//! `most_similar`, `similarity`, analogies), and the mean vector of each
//! document (the report's section 5).

pub mod analogies;
pub mod index;
pub mod mean;
pub mod native;
pub mod read;

use std::sync::OnceLock;

use ahash::AHashMap;
use index::WordIndex;
use ndarray::{Array1, Array2, ArrayView1};

use crate::error::{Error, Result};
use crate::options::FromValue;

pub use read::{Format, ReadOptions, ReadReport, UnicodeErrors};

/// Word vectors as scripts hold them (cheap to copy).
#[derive(Clone)]
pub struct WordVectorsRef(pub std::sync::Arc<WordVectors>);

/// A `most_similar` query: a word, or a vector of the vectors' width.
#[derive(Clone, Debug)]
pub enum Query {
    Word(String),
    Vector(Vec<f32>),
}

impl FromValue for Query {
    fn from_value(v: &crate::options::Value) -> Option<Self> {
        match v {
            crate::options::Value::Text(w) => Some(Query::Word(w.clone())),
            other => Vec::<f32>::from_value(other).map(Query::Vector),
        }
    }
}

/// One neighbour of a query.
#[derive(Debug, serde::Serialize)]
pub struct Neighbour {
    pub word: String,
    pub similarity: f64,
}

impl WordVectorsRef {
    /// Reads a file of vectors; a warning counts the words seen twice.
    pub fn read(path: &std::path::Path, o: &ReadOptions) -> Result<WordVectorsRef> {
        let (wv, report) = read::read(path, o)?;
        if let Some((word, at)) = report.duplicates.first() {
            eprintln!(
                "warning: {}: {} words were there already and kept their first vector (the first: '{word}', word {})",
                path.display(),
                report.duplicates.len(),
                at + 1
            );
        }
        Ok(WordVectorsRef(std::sync::Arc::new(wv)))
    }

    /// The `n` nearest words to `query`.
    pub fn nearest(&self, query: &Query, n: usize) -> Result<Vec<Neighbour>> {
        let found = match query {
            Query::Word(w) => self.0.most_similar(&[w.as_str()], &[], &[], n)?,
            Query::Vector(v) => {
                let v = Array1::from(v.clone());
                self.0.most_similar(&[], &[], &[v.view()], n)?
            }
        };
        Ok(neighbours(found))
    }

    /// b − a + c: the `n` words nearest to it.
    pub fn analogy(&self, a: &str, b: &str, c: &str, n: usize) -> Result<Vec<Neighbour>> {
        Ok(neighbours(self.0.most_similar(&[b, c], &[a], &[], n)?))
    }
}

/// Found words as script-ready neighbours.
pub fn neighbours(found: Vec<(String, f32)>) -> Vec<Neighbour> {
    found
        .into_iter()
        .map(|(word, s)| Neighbour {
            word,
            similarity: f64::from(s),
        })
        .collect()
}

impl std::fmt::Display for WordVectorsRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let first: Vec<&str> = self.0.words().iter().take(5).map(String::as_str).collect();
        write!(
            f,
            "WordVectors {} words × {} (f32); first: {}",
            self.0.len(),
            self.0.dim(),
            first.join(", ")
        )
    }
}

/// The look-up table of `words` answering as `map` does.
fn indexed(words: &[String], map: &AHashMap<String, u32>) -> WordIndex {
    WordIndex::new(words, map.iter().map(|(w, &r)| (w.as_str(), r)))
}

#[derive(Debug)]
pub struct WordVectors {
    words: Vec<String>,
    index: WordIndex,
    values: Array2<f32>,
    /// Row norms, computed at the first similarity query.
    norms: OnceLock<Vec<f32>>,
}

impl WordVectors {
    /// `values` holds `words.len()` rows of `dim`, row-major; `index` maps
    /// each word to its row.
    pub fn new(
        words: Vec<String>,
        index: AHashMap<String, u32>,
        values: Vec<f32>,
        dim: usize,
    ) -> Result<WordVectors> {
        let values = Array2::from_shape_vec((words.len(), dim), values).map_err(|e| {
            Error::invalid(format!("internal: word vectors of the wrong size: {e}"))
        })?;
        Ok(WordVectors {
            index: indexed(&words, &index),
            words,
            values,
            norms: OnceLock::new(),
        })
    }

    /// From words and their rows (words must be distinct).
    pub fn from_rows(words: Vec<String>, mut values: Array2<f32>) -> Result<WordVectors> {
        // Row slices are read directly (mean vectors), so rows are contiguous.
        if !values.is_standard_layout() {
            values = values.as_standard_layout().to_owned();
        }
        let mut index = AHashMap::with_capacity(words.len());
        for (i, w) in words.iter().enumerate() {
            if index.insert(w.clone(), i as u32).is_some() {
                return Err(Error::invalid(format!("the word '{w}' is there twice")));
            }
        }
        if values.nrows() != words.len() {
            return Err(Error::invalid(format!(
                "{} words for {} vectors",
                words.len(),
                values.nrows()
            )));
        }
        Ok(WordVectors {
            index: indexed(&words, &index),
            words,
            values,
            norms: OnceLock::new(),
        })
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    pub fn dim(&self) -> usize {
        self.values.ncols()
    }

    pub fn words(&self) -> &[String] {
        &self.words
    }

    pub fn values(&self) -> &Array2<f32> {
        &self.values
    }

    pub fn row(&self, word: &str) -> Option<usize> {
        self.index.get(word)
    }

    /// The word → row table (for batched look-ups).
    pub fn index(&self) -> &WordIndex {
        &self.index
    }

    pub fn contains(&self, word: &str) -> bool {
        self.index.get(word).is_some()
    }

    /// The vector of `word`; an error says it is unknown (and suggests the
    /// lower-cased form where that is known).
    pub fn get(&self, word: &str) -> Result<ArrayView1<'_, f32>> {
        self.row(word)
            .map(|i| self.values.row(i))
            .ok_or_else(|| self.unknown(word))
    }

    fn unknown(&self, word: &str) -> Error {
        let lower = word.to_lowercase();
        let hint = if lower != word && self.contains(&lower) {
            format!(" ('{lower}' is)")
        } else {
            String::new()
        };
        Error::invalid(format!(
            "'{word}' is not in these {} word vectors{hint}",
            self.len()
        ))
    }

    /// The first `n` words (the most frequent, in the usual files).
    pub fn first(&self, n: usize) -> WordVectors {
        let n = n.min(self.len());
        let words = self.words[..n].to_vec();
        let index: AHashMap<String, u32> = words
            .iter()
            .enumerate()
            .map(|(i, w)| (w.clone(), i as u32))
            .collect();
        WordVectors {
            index: indexed(&words, &index),
            words,
            values: self.values.slice(ndarray::s![..n, ..]).to_owned(),
            norms: OnceLock::new(),
        }
    }

    /// Every word lower-cased; where two become one, the earlier row stays.
    pub fn lowercased(&self) -> WordVectors {
        let mut words = Vec::new();
        let mut index = AHashMap::new();
        let mut rows = Vec::new();
        for (i, w) in self.words.iter().enumerate() {
            let lower = w.to_lowercase();
            if !index.contains_key(&lower) {
                index.insert(lower.clone(), words.len() as u32);
                words.push(lower);
                rows.push(i);
            }
        }
        let values = self.values.select(ndarray::Axis(0), &rows);
        WordVectors {
            index: indexed(&words, &index),
            words,
            values,
            norms: OnceLock::new(),
        }
    }

    fn norms(&self) -> &[f32] {
        self.norms
            .get_or_init(|| crate::matrix::row_norms(self.values.view()))
    }

    pub(crate) fn unit(&self, word: &str) -> Result<Array1<f32>> {
        let i = self.row(word).ok_or_else(|| self.unknown(word))?;
        let n = self.norms()[i];
        Ok(self
            .values
            .row(i)
            .mapv(|v| if n > 0.0 { v / n } else { 0.0 }))
    }

    /// Cosine similarity of two words (gensim's `similarity`).
    pub fn similarity(&self, a: &str, b: &str) -> Result<f32> {
        Ok(self.unit(a)?.dot(&self.unit(b)?))
    }

    /// The `n` words nearest to `positive − negative` by cosine, gensim's
    /// `most_similar`: the mean of the words' unit vectors (and of raw
    /// `vectors`, weighted +1), normalised; the query words left out.
    pub fn most_similar(
        &self,
        positive: &[&str],
        negative: &[&str],
        vectors: &[ArrayView1<'_, f32>],
        n: usize,
    ) -> Result<Vec<(String, f32)>> {
        self.most_similar_within(positive, negative, vectors, n, self.len())
    }

    /// `most_similar` among the first `restrict` words only (gensim's
    /// `restrict_vocab`).
    pub fn most_similar_within(
        &self,
        positive: &[&str],
        negative: &[&str],
        vectors: &[ArrayView1<'_, f32>],
        n: usize,
        restrict: usize,
    ) -> Result<Vec<(String, f32)>> {
        let dim = self.dim();
        let mut mean = Array1::<f32>::zeros(dim);
        let mut terms = 0usize;
        for w in positive {
            mean += &self.unit(w)?;
            terms += 1;
        }
        for w in negative {
            mean -= &self.unit(w)?;
            terms += 1;
        }
        for v in vectors {
            if v.len() != dim {
                return Err(Error::invalid(format!(
                    "most_similar: a vector of {} values for {dim}-dimensional word vectors",
                    v.len()
                )));
            }
            if let Some(j) = v.iter().position(|x| !x.is_finite()) {
                return Err(Error::invalid(format!(
                    "most_similar: the query vector's value {j} is {}",
                    v[j]
                )));
            }
            mean += v;
            terms += 1;
        }
        if terms == 0 {
            return Err(Error::invalid(
                "most_similar: no word or vector to compare with",
            ));
        }
        mean /= terms as f32;
        let norm = mean.dot(&mean).sqrt();
        if norm == 0.0 {
            return Err(Error::invalid(
                "most_similar: the query is the zero vector; cosine similarity is undefined",
            ));
        }
        mean /= norm;
        let excluded: Vec<usize> = positive
            .iter()
            .chain(negative)
            .filter_map(|w| self.row(w))
            .collect();
        // Ties keep the earlier (more frequent) word, as gensim.
        Ok(crate::matrix::nearest_rows(
            self.values
                .slice(ndarray::s![..restrict.min(self.len()), ..]),
            &self.norms()[..restrict.min(self.len())],
            mean.view(),
            &excluded,
            n,
        )
        .into_iter()
        .map(|(i, s)| (self.words[i].clone(), s))
        .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> WordVectors {
        WordVectors::from_rows(
            vec![
                "king".into(),
                "queen".into(),
                "man".into(),
                "woman".into(),
                "Apple".into(),
            ],
            ndarray::array![
                [0.9, 0.8, 0.1],
                [0.9, 0.1, 0.8],
                [0.1, 0.9, 0.1],
                [0.1, 0.1, 0.9],
                [-1.0, 0.0, 0.0]
            ],
        )
        .unwrap()
    }

    /// gensim 4.4.0:
    /// ```python
    /// V = np.array([[.9,.8,.1],[.9,.1,.8],[.1,.9,.1],[.1,.1,.9],[-1,0,0]], np.float32)
    /// kv = KeyedVectors(3); kv.add_vectors(['king','queen','man','woman','Apple'], V)
    /// kv.most_similar(positive=['queen','man'], negative=['woman'], topn=2)
    /// # [('king', 0.9500254988670349), ('Apple', -0.6032088398933411)]
    /// kv.similarity('king', 'queen')   # 0.66438353
    /// ```
    #[test]
    fn queries_follow_gensim() {
        let wv = small();
        assert!((wv.similarity("king", "queen").unwrap() - 0.66438353).abs() < 1e-6);
        let got = wv
            .most_similar(&["queen", "man"], &["woman"], &[], 2)
            .unwrap();
        assert_eq!(got[0].0, "king");
        assert!((got[0].1 - 0.9500255).abs() < 1e-6, "{got:?}");
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].0, "Apple");
        assert!((got[1].1 + 0.60320884).abs() < 1e-6, "{got:?}");
        let e = wv.get("apple").unwrap_err().to_string();
        assert!(e.contains("'apple' is not in these 5 word vectors"), "{e}");
        let e = wv.get("KING").unwrap_err().to_string();
        assert!(e.contains("('king' is)"), "{e}");
    }

    #[test]
    fn lowercasing_keeps_the_first_of_merged_words_and_first_keeps_the_top() {
        let wv = WordVectors::from_rows(
            vec!["The".into(), "the".into(), "cat".into()],
            ndarray::array![[1.0f32], [2.0], [3.0]],
        )
        .unwrap()
        .lowercased();
        assert_eq!(wv.words(), ["the", "cat"]);
        assert_eq!(wv.get("the").unwrap()[0], 1.0);
        assert_eq!(wv.first(1).words(), ["the"]);
    }
}
