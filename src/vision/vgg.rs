//! torchvision's VGG16 (`vgg16-397923af.pth`) for inference on the
//! channels-last layers: 13 3 × 3 convolutions with ReLU and five 2 × 2 max
//! pools, then (when the weights have it) the classifier up to fc2.

use ndarray::Array2;

use crate::error::{Error, Result};
use crate::vision::layers::{Activation, Conv2d, Maps, linear};
use crate::vision::pth;
use crate::vision::weights::Weights;

/// Output channels of each convolution; `None` is a max pool. torchvision
/// numbers the modules of `features` in this order (ReLUs and pools count).
const CONFIG: [Option<usize>; 18] = [
    Some(64),
    Some(64),
    None,
    Some(128),
    Some(128),
    None,
    Some(256),
    Some(256),
    Some(256),
    None,
    Some(512),
    Some(512),
    Some(512),
    None,
    Some(512),
    Some(512),
    Some(512),
    None,
];

/// Width of the flattened 7 × 7 × 512 convolutional output.
pub const CONV_FEATURES: usize = 7 * 7 * 512;

enum Stage {
    Conv(Conv2d),
    Pool,
}

pub struct Vgg16 {
    stages: Vec<Stage>,
    /// fc1 (25,088 → 4,096) and fc2 (4,096 → 4,096), PyTorch `[out, in]`.
    classifier: Option<[(Array2<f32>, Vec<f32>); 2]>,
}

/// What to hand back per image.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum VggOutput {
    /// The last pool's 7 × 7 × 512 maps flattened in Keras' (y, x, channel)
    /// order: `VGG16(include_top=False)` + `Flatten()`, the seed's features.
    Conv,
    /// The 512 channel means of the last pool.
    Avg,
    /// The 4,096 ReLU outputs of the second fully connected layer.
    Fc2,
}

impl Vgg16 {
    pub fn from_tensors(tensors: Vec<pth::Tensor>) -> Result<Vgg16> {
        let w = Weights::new("VGG16", tensors);
        let mut stages = Vec::new();
        let (mut cin, mut index) = (3, 0);
        for stage in CONFIG {
            match stage {
                Some(cout) => {
                    let weight = w.get(&format!("features.{index}.weight"), &[cout, cin, 3, 3])?;
                    let bias = w.get(&format!("features.{index}.bias"), &[cout])?;
                    stages.push(Stage::Conv(Conv2d::from_torch(
                        &weight,
                        bias,
                        (cout, cin, 3),
                        1,
                        false,
                        Activation::Relu,
                    )));
                    cin = cout;
                    index += 2; // conv, ReLU
                }
                None => {
                    stages.push(Stage::Pool);
                    index += 1;
                }
            }
        }
        let classifier = if w.has("classifier.0.weight") {
            Some([
                (
                    w.matrix("classifier.0.weight", 4096, CONV_FEATURES)?,
                    w.get("classifier.0.bias", &[4096])?,
                ),
                (
                    w.matrix("classifier.3.weight", 4096, 4096)?,
                    w.get("classifier.3.bias", &[4096])?,
                ),
            ])
        } else {
            None
        };
        Ok(Vgg16 { stages, classifier })
    }

    pub fn has_classifier(&self) -> bool {
        self.classifier.is_some()
    }

    /// Outputs for a batch of 224 × 224 RGB images.
    pub fn forward(&self, input: &Maps, output: VggOutput) -> Result<Array2<f32>> {
        let mut x = input.clone();
        for stage in &self.stages {
            x = match stage {
                Stage::Conv(conv) => conv.forward(&x)?,
                Stage::Pool => x.max_pool2(),
            };
        }
        if (x.h, x.w) != (7, 7) {
            return Err(Error::invalid(format!(
                "VGG16 needs 224 × 224 inputs; the last maps are {} × {}",
                x.h, x.w
            )));
        }
        match output {
            VggOutput::Conv => Ok(x.flatten_hwc()),
            VggOutput::Avg => Ok(x.global_average()),
            VggOutput::Fc2 => {
                let [(w1, b1), (w2, b2)] = self.classifier.as_ref().ok_or_else(|| {
                    Error::invalid(
                        "these VGG16 weights have no classifier; use output \"conv\" or \"avg\"",
                    )
                })?;
                // torchvision flattens NCHW maps (its adaptive pool is the identity at 7 × 7).
                let h = linear(x.flatten_chw().view(), w1, b1, true);
                Ok(linear(h.view(), w2, b2, true))
            }
        }
    }
}
