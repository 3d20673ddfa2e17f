//! The vectorizers as scripts hold them — `text::count_vectorizer`,
//! `text::tfidf`, `text::tfidf_vectorizer` — with their declared options,
//! fitted, applied, saved and loaded.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::matrix::Csr;
use crate::options::Options;
use crate::options::{FromValue, ShowDefault, Value};
use crate::persist::Saved;
use crate::text::pattern::PythonPattern;
use crate::text::tokenize::{AnalyzerKind, StripAccents, english_stop_words};
use crate::text::{CountParams, DocFreq, TfidfParams, Vocabulary, count, tfidf};

/// `stop_words`: none, scikit-learn's English list, or the script's words.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum StopWords {
    #[default]
    None,
    English,
    Words(Vec<String>),
}

impl StopWords {
    /// The words as a set (`None` for none).
    pub fn set(&self) -> Option<ahash::AHashSet<String>> {
        match self {
            StopWords::None => None,
            StopWords::English => Some(english_stop_words()),
            StopWords::Words(w) => Some(w.iter().cloned().collect()),
        }
    }
}

impl FromValue for StopWords {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Unit => Some(StopWords::None),
            Value::Text(s) if s == "english" => Some(StopWords::English),
            Value::List(_) => Vec::<String>::from_value(v).map(StopWords::Words),
            _ => None,
        }
    }
}

impl ShowDefault for StopWords {
    fn show_default(&self) -> Option<String> {
        Some(match self {
            StopWords::None => "()".into(),
            StopWords::English => "\"english\"".into(),
            StopWords::Words(w) => format!("{w:?}"),
        })
    }
}

/// An int is a count of documents, a float a fraction, as in scikit-learn.
impl FromValue for DocFreq {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Int(i) => usize::try_from(*i).ok().map(DocFreq::Count),
            Value::Float(x) => Some(DocFreq::Fraction(*x)),
            _ => None,
        }
    }
}

impl ShowDefault for DocFreq {
    fn show_default(&self) -> Option<String> {
        match self {
            DocFreq::Count(c) => c.show_default(),
            DocFreq::Fraction(f) => f.show_default(),
        }
    }
}

/// `[low, high]` with 1 <= low <= high.
fn ngram_pair(v: &Value) -> std::result::Result<(), String> {
    match <(usize, usize)>::from_value(v) {
        Some((lo, hi)) if lo >= 1 && lo <= hi => Ok(()),
        _ => Err(String::new()),
    }
}

/// A `token_pattern` that compiles, with one capturing group at most.
fn token_pattern(v: &Value) -> std::result::Result<(), String> {
    match v.text() {
        Some(s) => PythonPattern::new(s)
            .map(|_| ())
            .map_err(|why| format!("; {why}")),
        None => Err(String::new()),
    }
}

/// A fixed `vocabulary`: distinct terms, at least one.
fn fixed_vocabulary(v: &Value) -> std::result::Result<(), String> {
    match v {
        Value::Unit => Ok(()),
        _ => {
            let terms = Vec::<String>::from_value(v).ok_or_else(String::new)?;
            if terms.is_empty() {
                return Err("; it is empty".into());
            }
            let mut seen = ahash::AHashMap::new();
            for (i, t) in terms.iter().enumerate() {
                if let Some(first) = seen.insert(t.as_str(), i) {
                    return Err(format!("; element {i} {t:?} repeats element {first}"));
                }
            }
            Ok(())
        }
    }
}

impl FromValue for PythonPattern {
    fn from_value(v: &Value) -> Option<Self> {
        v.text().and_then(|s| PythonPattern::new(s).ok())
    }
}

impl ShowDefault for PythonPattern {
    fn show_default(&self) -> Option<String> {
        Some(format!("{:?}", self.source()))
    }
}

crate::options! {
    /// `text::count_vectorizer`: `CountVectorizer(...)`.
    pub struct CountOptions for "text::count_vectorizer" {
        /// drop terms in fewer documents (an int counts documents, a float is a fraction, compared unrounded as scikit-learn does)
        min_df: DocFreq = DocFreq::Count(1) => Either(&[Int(NON_NEGATIVE), Number(UNIT)]),
        /// drop terms in more documents (int or fraction, as min_df)
        max_df: DocFreq = DocFreq::Fraction(1.0) => Either(&[Int(NON_NEGATIVE), Number(UNIT)]),
        /// keep the most frequent terms (ties keep the earlier term); default all
        max_features: Option<usize> = None => Int(POSITIVE_INT),
        /// [1, 2] for unigrams and bigrams
        ngram_range: (usize, usize) = (1, 1) => Custom {
            expected: "[low, high] with 1 <= low <= high",
            check: ngram_pair,
        },
        /// 1 for every present term instead of its count
        binary: bool = false => Bool,
        /// lower-case before tokenizing
        lowercase: bool = true => Bool,
        /// "english" (scikit-learn's 318 words) or an array of words to drop (word analyzer only)
        stop_words: StopWords = StopWords::None => Either(&[Choice(&["english"]), Texts, Unit]),
        /// "ascii" or "unicode": remove accents after lower-casing, as scikit-learn does
        strip_accents: Option<StripAccents> = None => Either(&[Choice(StripAccents::NAMES), Unit]); shown "()",
        /// what a token is, in Python's re syntax (\w, \b as Python reads them); the one capturing group if it has one
        token_pattern: PythonPattern = PythonPattern::default() => Custom {
            expected: "a regular expression (Python's re syntax) with at most one capturing group",
            check: token_pattern,
        },
        /// "word" (tokens and their n-grams), "char" (character n-grams) or "char_wb" (character n-grams inside words)
        analyzer: AnalyzerKind = AnalyzerKind::Word => Choice(AnalyzerKind::NAMES),
        /// fixed terms, in column order: nothing is learned and min_df, max_df and max_features do not apply
        vocabulary: Option<Vec<String>> = None => Custom {
            expected: "an array of distinct strings or ()",
            check: fixed_vocabulary,
        }; shown "()",
    }
}

crate::options! {
    /// `text::tfidf_vectorizer`: `TfidfVectorizer(...)`.
    pub struct TfidfVectorizerOptions for "text::tfidf_vectorizer" {
        ..count: CountOptions,
        ..tfidf: TfidfParams,
    }
}

impl CountOptions {
    /// The checked parameters; options that would be ignored are refused.
    pub fn params(&self) -> Result<CountParams> {
        let function = Self::FUNCTION;
        if self.analyzer != AnalyzerKind::Word {
            let analyzer = self.analyzer.name();
            if self.stop_words != StopWords::None {
                return Err(Error::invalid(format!(
                    "{function}: option 'stop_words' applies to analyzer \"word\" only, and analyzer is \"{analyzer}\""
                )));
            }
            if self.token_pattern != PythonPattern::default() {
                return Err(Error::invalid(format!(
                    "{function}: option 'token_pattern' applies to analyzer \"word\" only, and analyzer is \"{analyzer}\""
                )));
            }
        }
        let mut p = CountParams {
            min_df: self.min_df,
            max_df: self.max_df,
            max_features: self.max_features,
            binary: self.binary,
            vocabulary: self.vocabulary.clone(),
            ..CountParams::default()
        };
        p.analyzer.ngram_range = self.ngram_range;
        p.analyzer.lowercase = self.lowercase;
        p.analyzer.stop_words = self.stop_words.set();
        p.analyzer.strip_accents = self.strip_accents;
        p.analyzer.kind = self.analyzer;
        p.analyzer.token_pattern = self.token_pattern.clone();
        Ok(p)
    }
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

    /// The terms of one document, in order, before counting
    /// (`build_analyzer()(doc)`).
    pub fn analyze(&self, doc: &str) -> Vec<String> {
        let mut terms = Vec::new();
        self.params
            .analyzer
            .terms(doc, |t| terms.push(t.to_string()));
        terms
    }

    /// The fitted idf weights in column order (`TfidfVectorizer.idf_`).
    pub fn idf(&self) -> Result<&[f64]> {
        let Some(tfidf) = &self.tfidf else {
            return Err(Error::invalid(
                "idf: this is a count vectorizer, which has no idf; text::tfidf_vectorizer has one",
            ));
        };
        if self.vocabulary.is_none() {
            return Err(Error::invalid(
                "idf: this vectorizer is not fitted yet; call fit or fit_transform first",
            ));
        }
        tfidf.idf.as_deref().ok_or_else(|| {
            Error::invalid("idf: this vectorizer was made with use_idf: false, so it has no idf")
        })
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
        vocabulary: Some(Vocabulary::from_terms(terms)),
        tfidf,
    })))
}

impl FromValue for Arc<Vectorizer> {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Vectorizer(v) => Some(v.clone()),
            _ => None,
        }
    }
}

impl ShowDefault for Arc<Vectorizer> {
    fn show_default(&self) -> Option<String> {
        None
    }
}

/// A vectorizer as scripts hold it (cheap to copy; fitting makes a new one).
#[derive(Clone)]
pub struct VectorizerRef(pub Arc<Vectorizer>);

/// A tf-idf weighting as scripts hold it.
#[derive(Clone)]
pub struct TfidfRef(pub Arc<Tfidf>);

impl VectorizerRef {
    pub fn count(o: &CountOptions) -> Result<VectorizerRef> {
        Ok(VectorizerRef(Arc::new(Vectorizer::new(o.params()?, None))))
    }

    pub fn tfidf(o: &TfidfVectorizerOptions) -> Result<VectorizerRef> {
        let count = o.count.params().map_err(|e| {
            // The options were given to text::tfidf_vectorizer.
            Error::invalid(e.to_string().replacen(
                CountOptions::FUNCTION,
                TfidfVectorizerOptions::FUNCTION,
                1,
            ))
        })?;
        Ok(VectorizerRef(Arc::new(Vectorizer::new(
            count,
            Some(o.tfidf.clone()),
        ))))
    }

    /// Fits on `docs` (replacing this handle's vectorizer) and returns their matrix.
    pub fn fit_transform(&mut self, docs: &[&str]) -> Result<Csr> {
        let mut fitted = (*self.0).clone();
        let x = fitted.fit_transform(docs)?;
        self.0 = Arc::new(fitted);
        Ok(x)
    }

    /// The terms in column order.
    pub fn terms(&self) -> Result<&[String]> {
        self.0
            .vocabulary
            .as_ref()
            .map(Vocabulary::terms)
            .ok_or_else(|| Error::invalid("vocabulary: not fitted yet"))
    }
}

impl TfidfRef {
    pub fn new(params: &TfidfParams) -> TfidfRef {
        TfidfRef(Arc::new(Tfidf::new(params.clone())))
    }

    /// Learns the idf of `counts` (replacing this handle's weighting).
    pub fn fit(&mut self, counts: &Csr) {
        let mut fitted = (*self.0).clone();
        fitted.fit(counts);
        self.0 = Arc::new(fitted);
    }
}

impl fmt::Display for VectorizerRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = &self.0;
        let kind = if v.tfidf.is_some() {
            "TfidfVectorizer"
        } else {
            "CountVectorizer"
        };
        let p = &v.params;
        let fitted = v
            .vocabulary
            .as_ref()
            .map_or("not fitted".to_string(), |voc| {
                format!("{} terms", voc.len())
            });
        write!(
            f,
            "{kind}(min_df={:?}, max_df={:?}, max_features={:?}, ngram_range={:?}, binary={}, stop_words={}) — {fitted}",
            p.min_df,
            p.max_df,
            p.max_features,
            p.analyzer.ngram_range,
            p.binary,
            p.analyzer
                .stop_words
                .as_ref()
                .map_or("none".to_string(), |s| format!("{} words", s.len()))
        )
    }
}

impl fmt::Display for TfidfRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.0.params;
        write!(
            f,
            "TfidfTransformer(norm={:?}, use_idf={}, smooth_idf={}, sublinear_tf={}){}",
            p.norm,
            p.use_idf,
            p.smooth_idf,
            p.sublinear_tf,
            if self.0.fitted { "" } else { " — not fitted" }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_options_become_scikit_learn_params() {
        let o = TfidfVectorizerOptions::from_pairs(&[
            ("min_df", Value::Int(2)),
            ("max_df", Value::Float(0.95)),
            ("stop_words", Value::Text("english".into())),
            (
                "ngram_range",
                Value::List(vec![Value::Int(1), Value::Int(2)]),
            ),
            ("norm", Value::Unit),
        ])
        .unwrap();
        let p = o.count.params().unwrap();
        assert_eq!(
            (p.min_df, p.max_df),
            (DocFreq::Count(2), DocFreq::Fraction(0.95))
        );
        assert_eq!(p.analyzer.ngram_range, (1, 2));
        assert_eq!(p.analyzer.stop_words.map(|s| s.len()), Some(318));
        assert_eq!(o.tfidf.norm, crate::text::Norm::None);
        let words = StopWords::from_value(&Value::List(vec![Value::Text("a".into())]));
        assert_eq!(words, Some(StopWords::Words(vec!["a".into()])));
    }

    #[test]
    fn a_reversed_ngram_range_is_refused() {
        let e = CountOptions::from_pairs(&[(
            "ngram_range",
            Value::List(vec![Value::Int(2), Value::Int(1)]),
        )])
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "text::count_vectorizer: option 'ngram_range' is [2, 1], expected [low, high] with 1 <= low <= high"
        );
    }

    #[test]
    fn handles_describe_their_recipe() {
        let v = VectorizerRef::count(&CountOptions::default()).unwrap();
        assert!(
            v.to_string().starts_with("CountVectorizer(min_df=Count(1)"),
            "{v}"
        );
        assert!(v.terms().is_err());
        let t = TfidfRef::new(&TfidfParams::default());
        assert_eq!(
            t.to_string(),
            "TfidfTransformer(norm=L2, use_idf=true, smooth_idf=true, sublinear_tf=false) — not fitted"
        );
    }
}
