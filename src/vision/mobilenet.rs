//! torchvision's MobileNetV2 (ImageNet) for inference, on the channels-last
//! layers of `vision::layers`, with torchvision's state-dict names. Batch
//! norms are folded into the preceding convolutions once at load time
//! (eval mode, eps 1e-5).

use ndarray::Array2;

use crate::error::Result;
use crate::vision::layers::{Activation, Conv2d, Maps, linear};
use crate::vision::pth;
use crate::vision::weights::Weights;

/// Feature width of the pooled output.
pub const FEATURES: usize = 1280;

/// Conv `conv` (no bias) followed by batch norm `bn`, folded into one
/// convolution with a bias.
fn conv_bn(w: &Weights, conv: &str, bn: &str, spec: Spec) -> Result<Conv2d> {
    let Spec {
        cin,
        cout,
        kernel,
        stride,
        groups,
        relu6,
    } = spec;
    let per_group = cin / groups;
    let mut weight = w.get(
        &format!("{conv}.weight"),
        &[cout, per_group, kernel, kernel],
    )?;
    let gamma = w.get(&format!("{bn}.weight"), &[cout])?;
    let beta = w.get(&format!("{bn}.bias"), &[cout])?;
    let mean = w.get(&format!("{bn}.running_mean"), &[cout])?;
    let var = w.get(&format!("{bn}.running_var"), &[cout])?;
    let per_out = per_group * kernel * kernel;
    let mut bias = vec![0f32; cout];
    for c in 0..cout {
        let scale = gamma[c] / (var[c] + 1e-5).sqrt();
        weight[c * per_out..(c + 1) * per_out]
            .iter_mut()
            .for_each(|v| *v *= scale);
        bias[c] = beta[c] - mean[c] * scale;
    }
    let activation = if relu6 {
        Activation::Relu6
    } else {
        Activation::None
    };
    Ok(Conv2d::from_torch(
        &weight,
        bias,
        (cout, cin, kernel),
        stride,
        groups > 1,
        activation,
    ))
}

/// The shape of one convolution.
#[derive(Clone, Copy)]
struct Spec {
    cin: usize,
    cout: usize,
    kernel: usize,
    stride: usize,
    groups: usize,
    relu6: bool,
}

fn spec(cin: usize, cout: usize, kernel: usize, stride: usize, groups: usize, relu6: bool) -> Spec {
    Spec {
        cin,
        cout,
        kernel,
        stride,
        groups,
        relu6,
    }
}

struct Block {
    layers: Vec<Conv2d>,
    residual: bool,
}

/// The network: 19 feature blocks, then optionally the ImageNet classifier.
pub struct MobileNetV2 {
    blocks: Vec<Block>,
    classifier: Option<(Array2<f32>, Vec<f32>)>,
}

impl MobileNetV2 {
    /// Builds the network from a torchvision state dict.
    pub fn from_tensors(tensors: Vec<pth::Tensor>) -> Result<MobileNetV2> {
        let w = Weights::new("MobileNetV2", tensors);
        let mut blocks = vec![Block {
            layers: vec![conv_bn(
                &w,
                "features.0.0",
                "features.0.1",
                spec(3, 32, 3, 2, 1, true),
            )?],
            residual: false,
        }];
        // (expansion t, output channels c, repeats n, first stride s), torchvision's table.
        let settings = [
            (1, 16, 1, 1),
            (6, 24, 2, 2),
            (6, 32, 3, 2),
            (6, 64, 4, 2),
            (6, 96, 3, 1),
            (6, 160, 3, 2),
            (6, 320, 1, 1),
        ];
        let mut cin = 32;
        let mut index = 1;
        for (t, c, n, s) in settings {
            for k in 0..n {
                let stride = if k == 0 { s } else { 1 };
                let hidden = cin * t;
                let p = format!("features.{index}.conv");
                let mut layers = Vec::new();
                let mut next = 0;
                if t != 1 {
                    layers.push(conv_bn(
                        &w,
                        &format!("{p}.0.0"),
                        &format!("{p}.0.1"),
                        spec(cin, hidden, 1, 1, 1, true),
                    )?);
                    next = 1;
                }
                layers.push(conv_bn(
                    &w,
                    &format!("{p}.{next}.0"),
                    &format!("{p}.{next}.1"),
                    spec(hidden, hidden, 3, stride, hidden, true),
                )?);
                layers.push(conv_bn(
                    &w,
                    &format!("{p}.{}", next + 1),
                    &format!("{p}.{}", next + 2),
                    spec(hidden, c, 1, 1, 1, false),
                )?);
                blocks.push(Block {
                    layers,
                    residual: stride == 1 && cin == c,
                });
                cin = c;
                index += 1;
            }
        }
        blocks.push(Block {
            layers: vec![conv_bn(
                &w,
                "features.18.0",
                "features.18.1",
                spec(320, FEATURES, 1, 1, 1, true),
            )?],
            residual: false,
        });
        let classifier = if w.has("classifier.1.weight") && w.has("classifier.1.bias") {
            Some((
                w.matrix("classifier.1.weight", 1000, FEATURES)?,
                w.get("classifier.1.bias", &[1000])?,
            ))
        } else {
            None
        };
        Ok(MobileNetV2 { blocks, classifier })
    }

    /// Whether the weights included the ImageNet classifier.
    pub fn has_classifier(&self) -> bool {
        self.classifier.is_some()
    }

    /// Pooled 1,280-d features of a batch of 224 × 224 RGB images, and the
    /// ImageNet logits when the weights include the classifier.
    pub fn forward(&self, input: &Maps) -> Result<(Array2<f32>, Option<Array2<f32>>)> {
        let mut x = input.clone();
        for block in &self.blocks {
            let mut y = block.layers[0].forward(&x)?;
            for layer in &block.layers[1..] {
                y = layer.forward(&y)?;
            }
            x = if block.residual { y.plus(&x) } else { y };
        }
        let features = x.global_average();
        let logits = self
            .classifier
            .as_ref()
            .map(|(w, b)| linear(features.view(), w, b, false));
        Ok((features, logits))
    }
}
