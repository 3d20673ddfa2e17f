//! Movies, labels, splits, generic tables and the session's random numbers.

pub mod labels;
pub mod movies;
pub mod rng;
pub mod split;
pub mod table;

pub use labels::{Binarizer, Labels};
pub use movies::{Columns, Movies};
pub use rng::NumpyRng;

/// A row or movie id as scripts see it: an integer when every id of its
/// table is one (TMDB ids), else a string.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum Id {
    Int(i64),
    Text(String),
}

impl Id {
    /// `names` as ids, all integers or all strings.
    pub fn all<S: AsRef<str>>(names: &[S]) -> Vec<Id> {
        let ints: Option<Vec<i64>> = names.iter().map(|s| s.as_ref().parse().ok()).collect();
        match ints {
            Some(ints) => ints.into_iter().map(Id::Int).collect(),
            None => names.iter().map(|s| Id::Text(s.as_ref().into())).collect(),
        }
    }
}
