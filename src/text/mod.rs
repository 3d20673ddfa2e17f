//! Text features with scikit-learn's semantics: tokenizer and stop words,
//! `CountVectorizer`, `TfidfTransformer`, and the two combined.

pub mod count;
pub mod tfidf;
pub mod tokenize;

use crate::error::Result;
use crate::matrix::Csr;

pub use count::{CountParams, DocFreq, Vocabulary};
pub use tfidf::{Norm, TfidfParams};

/// A count vectorizer, fitted or not.
#[derive(Clone, Debug)]
pub struct CountVectorizer {
    pub params: CountParams,
    pub vocabulary: Option<Vocabulary>,
}

/// A tf-idf weighting, fitted or not (`idf` stays `None` without `use_idf`).
#[derive(Clone, Debug)]
pub struct Tfidf {
    pub params: TfidfParams,
    pub idf: Option<Vec<f64>>,
    pub fitted: bool,
}

impl Tfidf {
    pub fn new(params: TfidfParams) -> Tfidf {
        Tfidf {
            params,
            idf: None,
            fitted: false,
        }
    }

    pub fn fit(&mut self, counts: &Csr) {
        self.idf = self
            .params
            .use_idf
            .then(|| tfidf::fit_idf(&self.params, counts));
        self.fitted = true;
    }

    pub fn transform(&self, counts: &Csr) -> Result<Csr> {
        if !self.fitted {
            return Err(crate::Error::invalid(
                "transform: this tf-idf is not fitted yet; call fit or fit_transform first",
            ));
        }
        tfidf::transform(&self.params, self.idf.as_deref(), counts)
    }
}

impl CountVectorizer {
    pub fn new(params: CountParams) -> CountVectorizer {
        CountVectorizer {
            params,
            vocabulary: None,
        }
    }

    pub fn fit_transform(&mut self, docs: &[&str]) -> Result<Csr> {
        let (vocabulary, counts) = count::fit_transform(&self.params, docs)?;
        self.vocabulary = Some(vocabulary);
        Ok(counts)
    }

    pub fn transform(&self, docs: &[&str]) -> Result<Csr> {
        let vocabulary = self.vocabulary.as_ref().ok_or_else(|| {
            crate::Error::invalid(
                "transform: this vectorizer is not fitted yet; call fit or fit_transform first",
            )
        })?;
        count::transform(&self.params, vocabulary, docs)
    }
}
