//! Poster features: reading pretrained weights (legacy PyTorch checkpoints
//! here; the networks and image preprocessing follow in issue 5).

pub mod backbone;
pub mod layers;
pub mod mobilenet;
pub mod pickle;
pub mod preprocess;
pub mod pth;
pub mod vgg;
pub mod weights;
