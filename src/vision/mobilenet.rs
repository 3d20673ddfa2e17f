//! torchvision's MobileNetV2 (ImageNet) for inference, on the channels-last
//! layers of `vision::layers`, with torchvision's state-dict names. Batch
//! norms are folded into the preceding convolutions once at load time
//! (eval mode, eps 1e-5).

use ndarray::Array2;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::nn::gemm::serial;
use crate::vision::layers::{Activation, Conv2d, Maps, Rows, linear};
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

/// One of torchvision's 17 inverted residual blocks (`features.1` to
/// `features.17`): its shape and the state-dict names of its layers. The
/// inference network here and the fine-tune's (`finetune::net`) both walk
/// this table.
pub(crate) struct BlockShape {
    /// `features.{index}`.
    pub index: usize,
    pub cin: usize,
    pub hidden: usize,
    pub cout: usize,
    pub stride: usize,
}

impl BlockShape {
    /// Whether it opens with a 1 × 1 expansion (t ≠ 1).
    pub fn expands(&self) -> bool {
        self.hidden != self.cin
    }

    /// Whether its input is added to its output.
    pub fn residual(&self) -> bool {
        self.stride == 1 && self.cin == self.cout
    }

    /// (convolution, batch norm) names of its expansion (when it has one),
    /// depthwise and projection, in that order.
    pub fn names(&self) -> Vec<(String, String)> {
        let p = format!("features.{}.conv", self.index);
        let at = usize::from(self.expands());
        let mut names = Vec::with_capacity(3);
        if self.expands() {
            names.push((format!("{p}.0.0"), format!("{p}.0.1")));
        }
        names.push((format!("{p}.{at}.0"), format!("{p}.{at}.1")));
        names.push((format!("{p}.{}", at + 1), format!("{p}.{}", at + 2)));
        names
    }
}

/// torchvision's table, (expansion t, output channels c, repeats n, first
/// stride s), walked into its 17 blocks after the 32-channel stem.
pub(crate) fn block_shapes() -> Vec<BlockShape> {
    const SETTINGS: [(usize, usize, usize, usize); 7] = [
        (1, 16, 1, 1),
        (6, 24, 2, 2),
        (6, 32, 3, 2),
        (6, 64, 4, 2),
        (6, 96, 3, 1),
        (6, 160, 3, 2),
        (6, 320, 1, 1),
    ];
    let mut shapes = Vec::with_capacity(17);
    let mut cin = 32;
    for (t, c, n, s) in SETTINGS {
        for k in 0..n {
            shapes.push(BlockShape {
                index: shapes.len() + 1,
                cin,
                hidden: cin * t,
                cout: c,
                stride: if k == 0 { s } else { 1 },
            });
            cin = c;
        }
    }
    shapes
}

/// Floats of expanded maps an inverted residual block holds at once
/// (256 KB: with its input, depthwise and output bands it stays in one
/// core's 1 MB L2 on the machine of BENCHMARKS.md; whole maps of the first
/// blocks are 5 MB per image).
const BAND_FLOATS: usize = 64 * 1024;

thread_local! {
    /// Map buffers this thread has finished with, for the next block or
    /// image: a fresh zeroed buffer per block cost ~5 % of inference in
    /// zeroing (the kernels overwrite every value they read).
    static SPARE: std::cell::RefCell<Vec<Vec<f32>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A buffer of `n` floats, reused when this thread has one of that size
/// (the sizes repeat image after image); its old contents are overwritten
/// by the caller before they are read.
fn buffer(n: usize) -> Vec<f32> {
    SPARE.with(|spare| {
        let mut spare = spare.borrow_mut();
        match spare.iter().position(|v| v.len() == n) {
            Some(i) => spare.swap_remove(i),
            None => vec![0f32; n],
        }
    })
}

/// Gives `v` back for [`buffer`] (a few dozen sizes per network at most).
fn recycle(v: Vec<f32>) {
    SPARE.with(|spare| {
        let mut spare = spare.borrow_mut();
        if spare.len() < 64 {
            spare.push(v);
        }
    })
}

/// 1 × 1 expansion (absent when t = 1), 3 × 3 depthwise, 1 × 1 projection.
struct InvertedResidual {
    expand: Option<Conv2d>,
    depthwise: Conv2d,
    project: Conv2d,
    residual: bool,
}

impl InvertedResidual {
    /// One image's block, a band of output rows at a time: the expanded
    /// input rows a band needs (kept from the band before where they
    /// overlap), their depthwise rows, then the projection, so that no
    /// full-size intermediate map is ever written. Same arithmetic, in the
    /// same order, as the layer-by-layer path.
    fn forward_image(&self, x: &Maps) -> Maps {
        self.forward_banded(x, BAND_FLOATS)
    }

    fn forward_banded(&self, x: &Maps, band_floats: usize) -> Maps {
        let (h, w, cin) = (x.h, x.w, x.c);
        let dw = &self.depthwise;
        let (hidden, cout) = (dw.cout, self.project.cout);
        let (oh, ow) = (dw.out_size(h), dw.out_size(w));
        let (k, stride, pad) = (dw.kernel, dw.stride, dw.padding);
        let band = (band_floats / (w * hidden) / stride).clamp(1, oh);
        let row = w * hidden;
        let mut out = buffer(oh * ow * cout);
        let mut expanded = buffer(((band - 1) * stride + k).min(h) * row);
        let mut depthwise = buffer(band * ow * hidden);
        let mut held: std::ops::Range<usize> = 0..0;
        for o0 in (0..oh).step_by(band) {
            let o1 = (o0 + band).min(oh);
            let need = (o0 * stride).saturating_sub(pad)..((o1 - 1) * stride + k - pad).min(h);
            let src = match &self.expand {
                Some(expand) => {
                    // Rows are needed in increasing order: what is kept is a prefix.
                    let kept = held.end.saturating_sub(need.start);
                    if kept > 0 {
                        let from = need.start - held.start;
                        expanded.copy_within(from * row..(from + kept) * row, 0);
                    }
                    let rows = need.len();
                    expand.pointwise_into(
                        &x.data[(need.start + kept) * w * cin..need.end * w * cin],
                        &mut expanded[kept * row..rows * row],
                    );
                    held = need.clone();
                    Rows {
                        data: &expanded[..rows * row],
                        first: need.start,
                        h,
                        w,
                    }
                }
                None => Rows {
                    data: &x.data,
                    first: 0,
                    h,
                    w,
                },
            };
            let d = &mut depthwise[..(o1 - o0) * ow * hidden];
            dw.depthwise_rows_into(&src, o0, d);
            let y = &mut out[o0 * ow * cout..o1 * ow * cout];
            let skip = self
                .residual
                .then(|| &x.data[o0 * ow * cout..o1 * ow * cout]);
            self.project.pointwise_skip_into(d, y, skip);
        }
        recycle(expanded);
        recycle(depthwise);
        Maps {
            n: 1,
            h: oh,
            w: ow,
            c: cout,
            data: out,
        }
    }
}

/// The network: the stem convolution, 17 inverted residual blocks, the
/// 1 × 1 head to 1,280 channels, then optionally the ImageNet classifier.
pub struct MobileNetV2 {
    stem: Conv2d,
    blocks: Vec<InvertedResidual>,
    head: Conv2d,
    classifier: Option<(Array2<f32>, Vec<f32>)>,
}

impl MobileNetV2 {
    /// Builds the network from a torchvision state dict.
    pub fn from_tensors(tensors: Vec<pth::Tensor>) -> Result<MobileNetV2> {
        let w = Weights::new("MobileNetV2", tensors);
        let stem = conv_bn(
            &w,
            "features.0.0",
            "features.0.1",
            spec(3, 32, 3, 2, 1, true),
        )?;
        let mut blocks = Vec::new();
        for b in block_shapes() {
            let names = b.names();
            let mut layer = names.iter();
            let mut next = |spec| {
                let (conv, bn) = layer.next().expect("a name per layer");
                conv_bn(&w, conv, bn, spec)
            };
            let expand = (b.expands())
                .then(|| next(spec(b.cin, b.hidden, 1, 1, 1, true)))
                .transpose()?;
            blocks.push(InvertedResidual {
                expand,
                depthwise: next(spec(b.hidden, b.hidden, 3, b.stride, b.hidden, true))?,
                project: next(spec(b.hidden, b.cout, 1, 1, 1, false))?,
                residual: b.residual(),
            });
        }
        let head = conv_bn(
            &w,
            "features.18.0",
            "features.18.1",
            spec(320, FEATURES, 1, 1, 1, true),
        )?;
        // ImageNet's 1,000 classes, or the genres of a fine-tuned network.
        let classes = w.shape("classifier.1.weight").map_or(0, |s| s[0]);
        let classifier = if classes > 0 && w.has("classifier.1.bias") {
            Some((
                w.matrix("classifier.1.weight", classes, FEATURES)?,
                w.get("classifier.1.bias", &[classes])?,
            ))
        } else {
            None
        };
        Ok(MobileNetV2 {
            stem,
            blocks,
            head,
            classifier,
        })
    }

    /// Whether the weights included the ImageNet classifier.
    pub fn has_classifier(&self) -> bool {
        self.classifier.is_some()
    }

    /// The classifier's outputs (0 without one).
    pub fn classes(&self) -> usize {
        self.classifier.as_ref().map_or(0, |(w, _)| w.nrows())
    }

    /// One image's maps after the first `blocks` of torchvision's 19
    /// `features` blocks (the stem, 17 inverted residuals, the head), on
    /// the calling thread: the fixed prefix of a fine-tune.
    pub fn prefix(
        &self,
        image: &[f32],
        (h, w, c): (usize, usize, usize),
        blocks: usize,
    ) -> Result<Maps> {
        let mut x = Maps {
            n: 1,
            h,
            w,
            c,
            data: image.to_vec(),
        };
        serial(|| {
            if blocks > 0 {
                x = self.stem.forward(&x)?;
            }
            for block in self.blocks.iter().take(blocks.saturating_sub(1)) {
                x = block.forward_image(&x);
            }
            if blocks > self.blocks.len() + 1 {
                let mut head = vec![0f32; x.h * x.w * FEATURES];
                self.head.pointwise_into(&x.data, &mut head);
                x = Maps {
                    n: 1,
                    h: x.h,
                    w: x.w,
                    c: FEATURES,
                    data: head,
                };
            }
            Ok(x)
        })
    }

    /// Pooled 1,280-d features of a batch of 224 × 224 RGB images, and the
    /// ImageNet logits when the weights include the classifier. Images run
    /// in parallel, each on one core: one image's maps stay in that core's
    /// cache far better than a batch's.
    pub fn forward(&self, input: &Maps) -> Result<(Array2<f32>, Option<Array2<f32>>)> {
        let per = input.h * input.w * input.c;
        let images: Vec<&[f32]> = input.data.chunks(per.max(1)).take(input.n).collect();
        self.forward_images(&images, (input.h, input.w, input.c), true)
    }

    /// The same for separate images (each h × w × c, channels last, as the
    /// preprocessing makes them): no batch tensor is assembled first. The
    /// logits only when `logits` asks for them (extracting features does
    /// not: the classifier's product was 1.6 % of an extraction).
    pub fn forward_images(
        &self,
        images: &[&[f32]],
        (h, w, c): (usize, usize, usize),
        logits: bool,
    ) -> Result<(Array2<f32>, Option<Array2<f32>>)> {
        let rows: Vec<Vec<f32>> = images
            .par_iter()
            .map(|data| {
                let mut copy = buffer(data.len());
                copy.copy_from_slice(data);
                let image = Maps {
                    n: 1,
                    h,
                    w,
                    c,
                    data: copy,
                };
                let features = serial(|| self.features(&image));
                recycle(image.data);
                features
            })
            .collect::<Result<_>>()?;
        let features = Array2::from_shape_vec((images.len(), FEATURES), rows.concat())
            .map_err(|e| Error::invalid(e.to_string()))?;
        let logits = match &self.classifier {
            Some((w, b)) if logits => Some(linear(features.view(), w, b, false)),
            _ => None,
        };
        Ok((features, logits))
    }

    /// One image's pooled features.
    fn features(&self, image: &Maps) -> Result<Vec<f32>> {
        let (oh, ow) = (self.stem.out_size(image.h), self.stem.out_size(image.w));
        let mut x = self
            .stem
            .forward_into(image, buffer(oh * ow * self.stem.cout))?;
        for block in &self.blocks {
            let next = block.forward_image(&x);
            recycle(std::mem::replace(&mut x, next).data);
        }
        let mut head = buffer(x.h * x.w * FEATURES);
        self.head.pointwise_into(&x.data, &mut head);
        recycle(x.data);
        let pooled = Maps {
            n: 1,
            h: x.h,
            w: x.w,
            c: FEATURES,
            data: head,
        };
        let features = pooled.global_average();
        recycle(pooled.data);
        Ok(features.into_raw_vec_and_offset().0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(cin: usize, cout: usize, k: usize, stride: usize, dw: bool, relu6: bool) -> Conv2d {
        let per = if dw { k * k } else { cin * k * k };
        let weight: Vec<f32> = (0..cout * per)
            .map(|i| ((i * 13 % 29) as f32 - 14.0) / 20.0)
            .collect();
        let bias = (0..cout).map(|i| (i % 5) as f32 / 10.0 - 0.2).collect();
        let activation = if relu6 {
            Activation::Relu6
        } else {
            Activation::None
        };
        Conv2d::from_torch(&weight, bias, (cout, cin, k), stride, dw, activation)
    }

    impl MobileNetV2 {
        fn portable(self) -> MobileNetV2 {
            let block = |b: InvertedResidual| InvertedResidual {
                expand: b.expand.map(Conv2d::portable),
                depthwise: b.depthwise.portable(),
                project: b.project.portable(),
                residual: b.residual,
            };
            MobileNetV2 {
                stem: self.stem.portable(),
                blocks: self.blocks.into_iter().map(block).collect(),
                head: self.head.portable(),
                classifier: self.classifier,
            }
        }
    }

    /// The whole network on the AVX-512 kernels gives the portable path's
    /// features bit for bit (the features of every earlier release, so the
    /// goldens stay as they are). Needs ../shared's weights.
    #[test]
    fn kernels_leave_the_features_bit_for_bit() {
        let path = std::path::Path::new("../shared/models/mobilenet_v2-b0353104.pth");
        if !path.exists() {
            eprintln!("skipped: {} is absent", path.display());
            return;
        }
        let fast = MobileNetV2::from_tensors(pth::read(path).unwrap()).unwrap();
        let portable = MobileNetV2::from_tensors(pth::read(path).unwrap())
            .unwrap()
            .portable();
        let image: Vec<f32> = (0..224 * 224 * 3)
            .map(|i| ((i * 7919 % 1009) as f32 / 1009.0 - 0.5) * 4.0)
            .collect();
        let (a, _) = fast
            .forward_images(&[&image], (224, 224, 3), false)
            .unwrap();
        let (b, _) = portable
            .forward_images(&[&image], (224, 224, 3), false)
            .unwrap();
        let same = a.iter().zip(&b).all(|(a, b)| a.to_bits() == b.to_bits());
        assert!(same && a.len() == FEATURES);
    }

    /// Band by band (bands of 1, 2, 3 … rows, every overlap case) gives
    /// exactly what the layers give one after the other on whole maps.
    #[test]
    fn banded_blocks_equal_the_layer_by_layer_path() {
        let (h, w) = (9, 7);
        for (expand, stride, cin, cout) in [(true, 1, 4, 4), (true, 2, 4, 6), (false, 1, 6, 5)] {
            let hidden = if expand { 24 } else { cin };
            let block = InvertedResidual {
                expand: expand.then(|| conv(cin, hidden, 1, 1, false, true)),
                depthwise: conv(hidden, hidden, 3, stride, true, true),
                project: conv(hidden, cout, 1, 1, false, false),
                residual: stride == 1 && cin == cout,
            };
            let x = Maps {
                n: 1,
                h,
                w,
                c: cin,
                data: (0..h * w * cin)
                    .map(|i| ((i * 37 % 101) as f32 - 50.0) / 25.0)
                    .collect(),
            };
            let mut y = x.clone();
            if let Some(e) = &block.expand {
                y = e.forward(&y).unwrap();
            }
            y = block.depthwise.forward(&y).unwrap();
            y = block.project.forward(&y).unwrap();
            if block.residual {
                y = y.plus(&x);
            }
            for rows in 1..=h {
                let band = block.forward_banded(&x, rows * w * hidden * stride);
                assert_eq!(
                    band, y,
                    "expand {expand}, stride {stride}, {rows}-row bands"
                );
            }
        }
    }
}
