//! Movies, labels, splits, generic tables and the session's random numbers.

pub mod labels;
pub mod movies;
pub mod rng;
pub mod split;
pub mod table;

pub use labels::{Binarizer, Labels};
pub use movies::{Columns, Movies};
pub use rng::NumpyRng;
