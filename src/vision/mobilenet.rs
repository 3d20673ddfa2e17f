//! torchvision's MobileNetV2 (ImageNet), inference on candle's CPU backend
//! with torchvision's state-dict names. Batch norms are folded into the
//! preceding convolutions once at load time (eval mode, eps 1e-5).

use std::collections::HashMap;

use candle_core::{Device, Tensor};

use crate::error::{Error, Result};
use crate::vision::pth;

/// Feature width of the pooled output.
pub const FEATURES: usize = 1280;

fn candle(e: candle_core::Error) -> Error {
    Error::invalid(format!("MobileNetV2: {e}"))
}

/// A convolution with its batch norm folded in, optionally followed by ReLU6.
struct Conv {
    weight: Tensor,
    bias: Tensor,
    stride: usize,
    padding: usize,
    groups: usize,
    relu6: bool,
}

impl Conv {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let y = x
            .conv2d(&self.weight, self.padding, self.stride, 1, self.groups)
            .and_then(|y| y.broadcast_add(&self.bias))
            .map_err(candle)?;
        if self.relu6 {
            y.clamp(0f32, 6f32).map_err(candle)
        } else {
            Ok(y)
        }
    }
}

/// The weights by name, with checks that name what is missing or mis-shaped.
struct Weights {
    tensors: HashMap<String, pth::Tensor>,
}

impl Weights {
    fn get(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        let t = self.tensors.get(name).ok_or_else(|| {
            Error::invalid(format!("MobileNetV2 weights: missing tensor '{name}'"))
        })?;
        if t.shape != shape {
            return Err(Error::invalid(format!(
                "MobileNetV2 weights: tensor '{name}' has shape {:?}, expected {shape:?}",
                t.shape
            )));
        }
        Ok(t.to_f32())
    }

    /// Conv `conv` (no bias) followed by batch norm `bn`, folded.
    fn conv_bn(&self, conv: &str, bn: &str, spec: Spec) -> Result<Conv> {
        let Spec {
            cin,
            cout,
            kernel,
            stride,
            groups,
            relu6,
        } = spec;
        let per_group = cin / groups;
        let mut w = self.get(
            &format!("{conv}.weight"),
            &[cout, per_group, kernel, kernel],
        )?;
        let gamma = self.get(&format!("{bn}.weight"), &[cout])?;
        let beta = self.get(&format!("{bn}.bias"), &[cout])?;
        let mean = self.get(&format!("{bn}.running_mean"), &[cout])?;
        let var = self.get(&format!("{bn}.running_var"), &[cout])?;
        let per_out = per_group * kernel * kernel;
        let mut bias = vec![0f32; cout];
        for c in 0..cout {
            let scale = gamma[c] / (var[c] + 1e-5).sqrt();
            w[c * per_out..(c + 1) * per_out]
                .iter_mut()
                .for_each(|v| *v *= scale);
            bias[c] = beta[c] - mean[c] * scale;
        }
        let dev = Device::Cpu;
        Ok(Conv {
            weight: Tensor::from_vec(w, (cout, per_group, kernel, kernel), &dev).map_err(candle)?,
            bias: Tensor::from_vec(bias, (1, cout, 1, 1), &dev).map_err(candle)?,
            stride,
            padding: kernel / 2,
            groups,
            relu6,
        })
    }
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
    layers: Vec<Conv>,
    residual: bool,
}

/// The network: 19 feature blocks, then optionally the ImageNet classifier.
pub struct MobileNetV2 {
    blocks: Vec<Block>,
    classifier: Option<(Tensor, Tensor)>,
}

impl MobileNetV2 {
    /// Builds the network from a torchvision state dict.
    pub fn from_tensors(tensors: Vec<pth::Tensor>) -> Result<MobileNetV2> {
        let w = Weights {
            tensors: tensors.into_iter().map(|t| (t.name.clone(), t)).collect(),
        };
        let mut blocks = vec![Block {
            layers: vec![w.conv_bn("features.0.0", "features.0.1", spec(3, 32, 3, 2, 1, true))?],
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
                    layers.push(w.conv_bn(
                        &format!("{p}.0.0"),
                        &format!("{p}.0.1"),
                        spec(cin, hidden, 1, 1, 1, true),
                    )?);
                    next = 1;
                }
                layers.push(w.conv_bn(
                    &format!("{p}.{next}.0"),
                    &format!("{p}.{next}.1"),
                    spec(hidden, hidden, 3, stride, hidden, true),
                )?);
                layers.push(w.conv_bn(
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
            layers: vec![w.conv_bn(
                "features.18.0",
                "features.18.1",
                spec(320, FEATURES, 1, 1, 1, true),
            )?],
            residual: false,
        });
        let classifier = match (
            w.tensors.get("classifier.1.weight"),
            w.tensors.get("classifier.1.bias"),
        ) {
            (Some(_), Some(_)) => {
                let dev = Device::Cpu;
                let weight = w.get("classifier.1.weight", &[1000, FEATURES])?;
                let bias = w.get("classifier.1.bias", &[1000])?;
                Some((
                    Tensor::from_vec(weight, (1000, FEATURES), &dev).map_err(candle)?,
                    Tensor::from_vec(bias, 1000, &dev).map_err(candle)?,
                ))
            }
            _ => None,
        };
        Ok(MobileNetV2 { blocks, classifier })
    }

    /// Pooled 1,280-d features of a (batch, 3, 224, 224) input, and the
    /// ImageNet logits when the weights include the classifier.
    pub fn forward(&self, input: &Tensor) -> Result<(Tensor, Option<Tensor>)> {
        let mut x = input.clone();
        for block in &self.blocks {
            let mut y = x.clone();
            for layer in &block.layers {
                y = layer.forward(&y)?;
            }
            x = if block.residual {
                (x + y).map_err(candle)?
            } else {
                y
            };
        }
        let features = x.mean((2, 3)).map_err(candle)?;
        let logits = match &self.classifier {
            Some((w, b)) => Some(
                features
                    .matmul(&w.t().map_err(candle)?)
                    .and_then(|l| l.broadcast_add(b))
                    .map_err(candle)?,
            ),
            None => None,
        };
        Ok((features, logits))
    }
}
