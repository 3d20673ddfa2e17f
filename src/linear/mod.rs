//! Linear models for multi-label text: SVMs and multinomial naive Bayes,
//! one-vs-rest over the label columns, and grid search.

pub mod estimators;
pub mod grid;
pub mod logistic;
pub mod models;
pub mod ovr;
pub mod svm;
