//! Poster features: checkpoint readers (legacy and zip PyTorch, safetensors),
//! channels-last layers, MobileNetV2 and VGG16, image preprocessing, extraction.

pub mod backbone;
pub mod checkpoint;
pub mod finetune;
pub mod handle;
mod kernels;
pub mod layers;
pub mod mobilenet;
pub mod pickle;
pub mod preprocess;
pub mod pth;
pub mod vgg;
pub mod weights;
