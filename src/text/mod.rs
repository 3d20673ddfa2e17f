//! Text features with scikit-learn's semantics: tokenizer and stop words,
//! `CountVectorizer`, `TfidfTransformer`, and the two combined
//! (`TfidfVectorizer`), fitted, applied, saved and loaded.

pub mod count;
pub mod encoder;
pub mod svd;
pub mod tfidf;
pub mod tokenize;
pub mod vectors;
pub mod wordpiece;

use std::path::Path;

use crate::error::{Error, Result};
use crate::matrix::Csr;
use crate::persist::Saved;

pub use count::{CountParams, DocFreq, Vocabulary};
pub use tfidf::{Norm, TfidfParams};

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
            return Err(Error::invalid(
                "transform: this tf-idf is not fitted yet; call fit or fit_transform first",
            ));
        }
        tfidf::transform(&self.params, self.idf.as_deref(), counts)
    }

    fn store(&self, saved: &mut Saved) {
        saved.set("tfidf", &self.params);
        if let Some(idf) = &self.idf {
            saved.vector("idf", idf);
        }
    }

    fn restore(saved: &Saved, path: &Path, columns: usize) -> Result<Tfidf> {
        let params: TfidfParams = saved.get(path, "tfidf")?;
        let idf = if params.use_idf {
            Some(saved.get_vector(path, "idf", columns)?)
        } else {
            None
        };
        Ok(Tfidf {
            params,
            idf,
            fitted: true,
        })
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        let mut saved = Saved::new("tfidf");
        self.store(&mut saved);
        saved.set("columns", self.idf.as_ref().map_or(0, Vec::len));
        saved.write(path)
    }
}

/// Documents -> counts, optionally followed by tf-idf weighting.
#[derive(Clone, Debug)]
pub struct Vectorizer {
    pub params: CountParams,
    pub vocabulary: Option<Vocabulary>,
    pub tfidf: Option<Tfidf>,
}

impl Vectorizer {
    pub fn new(params: CountParams, tfidf: Option<TfidfParams>) -> Vectorizer {
        Vectorizer {
            params,
            vocabulary: None,
            tfidf: tfidf.map(Tfidf::new),
        }
    }

    pub fn fit_transform(&mut self, docs: &[&str]) -> Result<Csr> {
        let (vocabulary, counts) = count::fit_transform(&self.params, docs)?;
        self.vocabulary = Some(vocabulary);
        match &mut self.tfidf {
            Some(t) => {
                t.fit(&counts);
                t.transform(&counts)
            }
            None => Ok(counts),
        }
    }

    pub fn transform(&self, docs: &[&str]) -> Result<Csr> {
        let vocabulary = self.vocabulary.as_ref().ok_or_else(|| {
            Error::invalid(
                "transform: this vectorizer is not fitted yet; call fit or fit_transform first",
            )
        })?;
        let counts = count::transform(&self.params, vocabulary, docs)?;
        match &self.tfidf {
            Some(t) => t.transform(&counts),
            None => Ok(counts),
        }
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        let vocabulary = self.vocabulary.as_ref().ok_or_else(|| {
            Error::invalid("save: this vectorizer is not fitted yet; there is nothing to save")
        })?;
        let mut saved = Saved::new("vectorizer");
        saved
            .set("counts", &self.params)
            .set("vocabulary", vocabulary.terms());
        if let Some(t) = &self.tfidf {
            t.store(&mut saved);
        }
        saved.write(path)
    }
}

/// What `text::load` found.
pub enum LoadedText {
    Vectorizer(Box<Vectorizer>),
    Tfidf(Tfidf),
}

pub fn load(path: &Path) -> Result<LoadedText> {
    let saved = Saved::read(path, &["vectorizer", "tfidf"])?;
    if saved.kind() == "tfidf" {
        let columns: usize = saved.get(path, "columns")?;
        return Tfidf::restore(&saved, path, columns).map(LoadedText::Tfidf);
    }
    let terms: Vec<String> = saved.get(path, "vocabulary")?;
    let columns = terms.len();
    let tfidf = if saved.meta.contains_key("tfidf") {
        Some(Tfidf::restore(&saved, path, columns)?)
    } else {
        None
    };
    Ok(LoadedText::Vectorizer(Box::new(Vectorizer {
        params: saved.get(path, "counts")?,
        vocabulary: Some(Vocabulary::from_sorted(terms)),
        tfidf,
    })))
}
