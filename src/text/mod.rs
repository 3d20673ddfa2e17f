//! Text features with scikit-learn's semantics: tokenizer and stop words,
//! `CountVectorizer`, `TfidfTransformer`, and the two combined
//! (`TfidfVectorizer`), fitted, applied, saved and loaded.

pub mod ascii_words;
pub mod count;
pub mod encoder;
pub mod finetune;
pub mod pattern;
pub mod svd;
pub mod tfidf;
pub mod tokenize;
pub mod vectorizer;
pub mod vectors;
pub mod word_chars;
pub mod wordpiece;

pub use count::{CountParams, DocFreq, Vocabulary};
pub use tfidf::{Norm, TfidfParams};
pub use vectorizer::{LoadedText, Tfidf, TfidfRef, Vectorizer, VectorizerRef, load};
