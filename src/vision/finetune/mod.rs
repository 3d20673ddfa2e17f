//! Fine-tuning MobileNetV2 on the genres.

pub mod grad;
pub mod net;
#[cfg(test)]
mod tests;
