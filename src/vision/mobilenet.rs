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
    bias_values: Vec<f32>,
    stride: usize,
    padding: usize,
    groups: usize,
    relu6: bool,
}

impl Conv {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (cout, cin, kh, _) = self.weight.dims4().map_err(candle)?;
        if self.groups > 1 {
            // candle runs grouped convolutions one group at a time (960
            // calls for a depthwise layer); a direct loop is ~100× faster.
            return depthwise(
                x,
                &self.weight,
                self.stride,
                self.padding,
                &self.bias_values,
                self.relu6,
            );
        }
        let y = if kh == 1 && self.stride == 1 {
            // A 1 × 1 convolution is a matrix product per image.
            let (n, _, h, w) = x.dims4().map_err(candle)?;
            let flat = x.reshape((n, cin, h * w)).map_err(candle)?;
            let weight = self
                .weight
                .reshape((1, cout, cin))
                .and_then(|t| t.broadcast_as((n, cout, cin)))
                .map_err(candle)?;
            weight
                .contiguous()
                .and_then(|wt| wt.matmul(&flat))
                .and_then(|y| y.reshape((n, cout, h, w)))
                .map_err(candle)?
        } else {
            x.conv2d(&self.weight, self.padding, self.stride, 1, 1)
                .map_err(candle)?
        };
        // Bias and ReLU6 in one pass: candle's broadcasting add walks
        // indices element by element and was a third of the run time.
        let dims = y.dims4().map_err(candle)?;
        let mut values = y
            .flatten_all()
            .and_then(|t| t.to_vec1::<f32>())
            .map_err(candle)?;
        finish(
            &mut values,
            dims.1,
            dims.2 * dims.3,
            &self.bias_values,
            self.relu6,
        );
        Tensor::from_vec(values, dims, &Device::Cpu).map_err(candle)
    }
}

/// Adds each channel's bias (and clamps to [0, 6]) over NCHW planes of `plane` values.
fn finish(values: &mut [f32], channels: usize, plane: usize, bias: &[f32], relu6: bool) {
    use rayon::prelude::*;
    values
        .par_chunks_mut(plane)
        .enumerate()
        .for_each(|(p, chunk)| {
            let b = bias[p % channels];
            if relu6 {
                chunk.iter_mut().for_each(|v| *v = (*v + b).clamp(0.0, 6.0));
            } else {
                chunk.iter_mut().for_each(|v| *v += b);
            }
        });
}

/// Depthwise 3 × 3 (or k × k) convolution, one filter per channel, on all cores.
fn depthwise(
    x: &Tensor,
    weight: &Tensor,
    stride: usize,
    padding: usize,
    bias: &[f32],
    relu6: bool,
) -> Result<Tensor> {
    use rayon::prelude::*;
    let (n, c, h, w) = x.dims4().map_err(candle)?;
    let k = weight.dims4().map_err(candle)?.2;
    let input = x
        .flatten_all()
        .and_then(|t| t.to_vec1::<f32>())
        .map_err(candle)?;
    let kernel = weight
        .flatten_all()
        .and_then(|t| t.to_vec1::<f32>())
        .map_err(candle)?;
    let (oh, ow) = (
        (h + 2 * padding - k) / stride + 1,
        (w + 2 * padding - k) / stride + 1,
    );
    let (ph, pw) = (h + 2 * padding, w + 2 * padding);
    let mut out = vec![0f32; n * c * oh * ow];
    out.par_chunks_mut(oh * ow)
        .enumerate()
        .for_each(|(plane, dst)| {
            let ch = plane % c;
            let src = &input[plane * h * w..(plane + 1) * h * w];
            let kern = &kernel[ch * k * k..(ch + 1) * k * k];
            // A zero-padded copy keeps the inner loops free of bounds tests, so
            // the stride-1 case vectorises.
            let mut padded = vec![0f32; ph * pw];
            for y in 0..h {
                padded[(y + padding) * pw + padding..(y + padding) * pw + padding + w]
                    .copy_from_slice(&src[y * w..(y + 1) * w]);
            }
            for oy in 0..oh {
                let out_row = &mut dst[oy * ow..(oy + 1) * ow];
                for ky in 0..k {
                    let in_row = &padded[(oy * stride + ky) * pw..(oy * stride + ky + 1) * pw];
                    for kx in 0..k {
                        let kv = kern[ky * k + kx];
                        if stride == 1 {
                            for (o, i) in out_row.iter_mut().zip(&in_row[kx..kx + ow]) {
                                *o += i * kv;
                            }
                        } else {
                            for (ox, o) in out_row.iter_mut().enumerate() {
                                *o += in_row[ox * stride + kx] * kv;
                            }
                        }
                    }
                }
            }
        });
    finish(&mut out, c, oh * ow, bias, relu6);
    Tensor::from_vec(out, (n, c, oh, ow), &Device::Cpu).map_err(candle)
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
            bias_values: bias,
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

    /// Whether the weights included the ImageNet classifier.
    pub fn has_classifier(&self) -> bool {
        self.classifier.is_some()
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
