//! The Gated Multimodal Unit of Arevalo et al. 2017 ("Gated Multimodal Units
//! for Information Fusion", the MM-IMDb genre model): each modality gets its
//! own tanh projection, a sigmoid gate computed from both inputs mixes them
//! per hidden unit, and a linear layer gives one logit per label.
//!
//!   h_t = tanh(x_t W_t + b_t),  h_v = tanh(x_v W_v + b_v)
//!   z   = σ([x_t; x_v] W_z + b_z)
//!   h   = z ⊙ h_t + (1 − z) ⊙ h_v      (inverted dropout on h while training)
//!   logits = h W_o + b_o
//!
//! The two modalities arrive as one row `[x_t | x_v]` (the first `text`
//! columns are the text), so the shared training loop, scaler and
//! prediction code apply unchanged.

use ndarray::{Array2, ArrayView2, Axis, s};
use rand::SeedableRng;

use super::gemm::matmul_into;
use super::{
    Dense, Scaler, Trainable, bce_with_logits, dense_parameters, dense_shapes, dropout_mask, flat,
    glorot, sigmoid,
};
use crate::error::{Error, Result};

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GmuSpec {
    /// Widths of the two modalities: `[text, image]`.
    pub inputs: [usize; 2],
    pub hidden: usize,
    pub outputs: usize,
    /// Probability of zeroing each unit of `h` while training.
    pub dropout: f32,
    pub standardize: bool,
    pub seed: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Gmu {
    pub spec: GmuSpec,
    /// `[text, hidden]`, `[image, hidden]`, `[text + image, hidden]`, `[hidden, outputs]`.
    pub text: Dense,
    pub image: Dense,
    pub gate: Dense,
    pub out: Dense,
    pub scaler: Option<Scaler>,
    pub names: Option<Vec<String>>,
}

/// The forward pass, keeping what the backward pass needs.
struct Pass {
    h_text: Array2<f32>,
    h_image: Array2<f32>,
    gate: Array2<f32>,
    /// The mixed hidden layer after dropout (what the output layer sees).
    h: Array2<f32>,
    mask: Option<Array2<f32>>,
    logits: Array2<f32>,
}

impl Gmu {
    /// Glorot-uniform weights and zero biases from `spec.seed`.
    pub fn new(spec: GmuSpec) -> Result<Gmu> {
        let [t, v] = spec.inputs;
        if t == 0 || v == 0 || spec.hidden == 0 || spec.outputs == 0 {
            return Err(Error::invalid(format!(
                "fusion::gmu: every layer needs at least one unit (inputs [{t}, {v}], hidden {}, outputs {})",
                spec.hidden, spec.outputs
            )));
        }
        if !(0.0..1.0).contains(&spec.dropout) {
            return Err(Error::invalid(format!(
                "fusion::gmu: dropout must be in [0, 1), got {}",
                spec.dropout
            )));
        }
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(spec.seed);
        Ok(Gmu {
            text: glorot(t, spec.hidden, &mut rng),
            image: glorot(v, spec.hidden, &mut rng),
            gate: glorot(t + v, spec.hidden, &mut rng),
            out: glorot(spec.hidden, spec.outputs, &mut rng),
            spec,
            scaler: None,
            names: None,
        })
    }

    pub fn parameters(&self) -> usize {
        [&self.text, &self.image, &self.gate, &self.out]
            .iter()
            .map(|l| l.weights.len() + l.bias.len())
            .sum()
    }

    /// The label names of the outputs (`output0`, … before any fit named them).
    pub fn output_names(&self) -> Vec<String> {
        self.names.clone().unwrap_or_else(|| {
            (0..self.spec.outputs)
                .map(|i| format!("output{i}"))
                .collect()
        })
    }

    fn pass(&self, x: ArrayView2<f32>, rng: Option<&mut rand_xoshiro::Xoshiro256PlusPlus>) -> Pass {
        let t = self.spec.inputs[0];
        let mut h_text = self.text.affine(x.slice(s![.., ..t]));
        h_text.mapv_inplace(f32::tanh);
        let mut h_image = self.image.affine(x.slice(s![.., t..]));
        h_image.mapv_inplace(f32::tanh);
        let mut gate = self.gate.affine(x);
        gate.mapv_inplace(sigmoid);
        let mut h = &h_image + &(&gate * &(&h_text - &h_image));
        let mask = match rng {
            Some(rng) if self.spec.dropout > 0.0 => {
                let mask = dropout_mask(h.dim(), self.spec.dropout, rng);
                h *= &mask;
                Some(mask)
            }
            _ => None,
        };
        let logits = self.out.affine(h.view());
        Pass {
            h_text,
            h_image,
            gate,
            h,
            mask,
            logits,
        }
    }
}

/// `xᵀ · delta` as a new `[x.ncols(), delta.ncols()]` matrix.
fn t_matmul(x: ArrayView2<f32>, delta: &Array2<f32>) -> Array2<f32> {
    let mut out = Array2::zeros((x.ncols(), delta.ncols()));
    matmul_into(&mut out.view_mut(), x.t(), delta.view(), false);
    out
}

impl Trainable for Gmu {
    fn input(&self) -> usize {
        self.spec.inputs[0] + self.spec.inputs[1]
    }

    fn input_source(&self) -> String {
        let [text, image] = self.spec.inputs;
        format!("(fusion::gmu's option 'inputs' is [{text}, {image}]: text then image columns)")
    }

    fn outputs(&self) -> usize {
        self.spec.outputs
    }

    fn standardize(&self) -> bool {
        self.spec.standardize
    }

    fn scaler(&self) -> Option<&Scaler> {
        self.scaler.as_ref()
    }

    fn set_scaler(&mut self, scaler: Scaler) {
        self.scaler = Some(scaler);
    }

    fn forward(&self, x: ArrayView2<f32>) -> Array2<f32> {
        self.pass(x, None).logits
    }

    /// Backpropagation through the output layer, the dropout mask, the gate
    /// (∂h/∂z = h_t − h_v, σ' = z(1 − z)) and both tanh projections
    /// (tanh' = 1 − h²); checked against numpy finite differences below.
    fn gradients(
        &self,
        x: Array2<f32>,
        y: ArrayView2<f32>,
        rng: &mut rand_xoshiro::Xoshiro256PlusPlus,
    ) -> (Vec<Vec<f32>>, f64) {
        let p = self.pass(x.view(), Some(rng));
        let loss = bce_with_logits(p.logits.view(), y);
        let scale = 1.0 / p.logits.len() as f32;
        let mut delta = p.logits;
        delta.zip_mut_with(&y, |z, &y| *z = (sigmoid(*z) - y) * scale);
        let d_out_w = t_matmul(p.h.view(), &delta);
        let d_out_b = delta.sum_axis(Axis(0));
        let mut dh = Array2::zeros((delta.nrows(), self.spec.hidden));
        matmul_into(
            &mut dh.view_mut(),
            delta.view(),
            self.out.weights.t(),
            false,
        );
        if let Some(mask) = &p.mask {
            dh *= mask;
        }
        // Pre-activation gradients of the three hidden projections.
        let mut d_text = &dh * &p.gate;
        d_text.zip_mut_with(&p.h_text, |g, &h| *g *= 1.0 - h * h);
        let mut d_image = &dh * &p.gate.mapv(|z| 1.0 - z);
        d_image.zip_mut_with(&p.h_image, |g, &h| *g *= 1.0 - h * h);
        let mut d_gate = &dh * &(&p.h_text - &p.h_image);
        d_gate.zip_mut_with(&p.gate, |g, &z| *g *= z * (1.0 - z));
        let t = self.spec.inputs[0];
        let grads = vec![
            flat(t_matmul(x.slice(s![.., ..t]), &d_text)),
            flat(d_text.sum_axis(Axis(0))),
            flat(t_matmul(x.slice(s![.., t..]), &d_image)),
            flat(d_image.sum_axis(Axis(0))),
            flat(t_matmul(x.view(), &d_gate)),
            flat(d_gate.sum_axis(Axis(0))),
            flat(d_out_w),
            flat(d_out_b),
        ];
        (grads, loss)
    }

    fn parameters_mut(&mut self) -> Vec<&mut [f32]> {
        dense_parameters([
            &mut self.text,
            &mut self.image,
            &mut self.gate,
            &mut self.out,
        ])
    }

    fn parameter_shapes(&self) -> Vec<(Vec<usize>, bool)> {
        dense_shapes([&self.text, &self.image, &self.gate, &self.out])
    }
}

#[cfg(test)]
mod tests {
    //! Reference numbers: numpy float64 central finite differences (ε 1e-6)
    //! of the GMU loss, the snippet:
    //! ```python
    //! x = np.array([[0.5,-1.0,2.0,0.3],[1.5,0.2,-0.3,-0.8],[-0.7,0.8,0.1,0.4]])  # text: cols 0-1
    //! y = np.array([[1,0],[0,1],[1,1]], float)
    //! P = dict(Wt=[[0.2,-0.5,0.1],[0.4,0.1,-0.3]], bt=[0.1,-0.2,0.05],
    //!          Wv=[[-0.3,0.6,0.2],[0.5,-0.1,0.4]], bv=[0.0,0.1,-0.1],
    //!          Wz=[[0.1,0.2,-0.1],[-0.2,0.3,0.1],[0.3,-0.1,0.2],[0.05,0.1,-0.3]], bz=[0.02,-0.03,0.01],
    //!          Wo=[[0.7,-0.4],[-0.6,0.9],[0.3,0.2]], bo=[0.05,-0.05])   # as np.arrays
    //! def loss(P):
    //!     ht = np.tanh(x[:,:2]@P['Wt']+P['bt']); hv = np.tanh(x[:,2:]@P['Wv']+P['bv'])
    //!     z = 1/(1+np.exp(-(x@P['Wz']+P['bz']))); h = z*ht+(1-z)*hv
    //!     o = h@P['Wo']+P['bo']
    //!     return np.mean(np.maximum(o,0)-o*y+np.log1p(np.exp(-abs(o))))
    //! # each gradient entry: (loss(P with +eps) - loss(P with -eps)) / (2 eps)
    //! ```
    use super::*;
    use crate::nn::{FitOptions, train};
    use ndarray::{Array1, array};

    fn dense(w: Array2<f32>, b: Array1<f32>) -> Dense {
        Dense {
            weights: w,
            bias: b,
        }
    }

    fn unit() -> Gmu {
        Gmu {
            spec: GmuSpec {
                inputs: [2, 2],
                hidden: 3,
                outputs: 2,
                dropout: 0.0,
                standardize: false,
                seed: 0,
            },
            text: dense(
                array![[0.2, -0.5, 0.1], [0.4, 0.1, -0.3]],
                array![0.1, -0.2, 0.05],
            ),
            image: dense(
                array![[-0.3, 0.6, 0.2], [0.5, -0.1, 0.4]],
                array![0.0, 0.1, -0.1],
            ),
            gate: dense(
                array![
                    [0.1, 0.2, -0.1],
                    [-0.2, 0.3, 0.1],
                    [0.3, -0.1, 0.2],
                    [0.05, 0.1, -0.3]
                ],
                array![0.02, -0.03, 0.01],
            ),
            out: dense(
                array![[0.7, -0.4], [-0.6, 0.9], [0.3, 0.2]],
                array![0.05, -0.05],
            ),
            scaler: None,
            names: None,
        }
    }

    #[test]
    fn gradients_match_numpy_finite_differences() {
        let x = array![
            [0.5f32, -1.0, 2.0, 0.3],
            [1.5, 0.2, -0.3, -0.8],
            [-0.7, 0.8, 0.1, 0.4]
        ];
        let y = array![[1.0f32, 0.0], [0.0, 1.0], [1.0, 1.0]];
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(0);
        let (grads, loss) = unit().gradients(x, y.view(), &mut rng);
        assert!((loss - 0.815_584_683_836_651_1).abs() < 1e-6, "{loss}");
        let want: [&[f64]; 8] = [
            &[
                0.036510760,
                -0.028763980,
                0.018225542,
                0.071832372,
                -0.062298166,
                -0.011413598,
            ],
            &[-0.037384540, -0.009479369, -0.018980914],
            &[
                -0.066133078,
                0.065331531,
                -0.008694373,
                -0.051819072,
                0.053873964,
                -0.011275734,
            ],
            &[0.012177618, -0.053610567, -0.019357438],
            &[
                0.028362442,
                0.017255024,
                -0.000568917,
                0.008415885,
                0.052105244,
                0.002931229,
                -0.015824592,
                -0.102719562,
                0.000043910,
                -0.017888508,
                -0.036015931,
                0.000412076,
            ],
            &[0.014800178, -0.021056946, 0.004634040],
            &[
                0.013721647,
                -0.051892813,
                -0.082561170,
                0.059399379,
                -0.042075751,
                0.061472336,
            ],
            &[-0.076240671, -0.086015984],
        ];
        assert_eq!(grads.len(), 8);
        for (k, (got, want)) in grads.iter().zip(want).enumerate() {
            assert_eq!(got.len(), want.len(), "parameter {k}");
            for (g, w) in got.iter().zip(want) {
                assert!(
                    (*g as f64 - w).abs() < 2e-6,
                    "parameter {k}: {got:?} vs {want:?}"
                );
            }
        }
    }

    #[test]
    fn learns_which_modality_carries_the_label() {
        // Label 0 follows the text column, label 1 the image column; the
        // other column of each modality is noise.
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(3);
        use rand::Rng;
        let n = 200;
        let mut x = Array2::<f32>::zeros((n, 4));
        let mut y = Array2::<f32>::zeros((n, 2));
        for i in 0..n {
            for j in 0..4 {
                x[[i, j]] = rng.gen_range(-1.0..1.0);
            }
            y[[i, 0]] = f32::from(x[[i, 0]] > 0.0);
            y[[i, 1]] = f32::from(x[[i, 3]] > 0.0);
        }
        let mut gmu = Gmu::new(GmuSpec {
            inputs: [2, 2],
            hidden: 8,
            outputs: 2,
            dropout: 0.1,
            standardize: true,
            seed: 1,
        })
        .unwrap();
        let opts = FitOptions {
            epochs: 300,
            batch_size: 50,
            lr: 0.02,
            ..FitOptions::default()
        };
        let h = train::fit(&mut gmu, x.view(), y.view(), None, &opts, &mut |_| {}).unwrap();
        assert!(h.epochs.last().unwrap().loss < 0.2, "{:?}", h.epochs.last());
        let p = gmu.predict_proba(x.view()).unwrap();
        let right = p
            .iter()
            .zip(y.iter())
            .filter(|(p, y)| (**p > 0.5) == (**y > 0.5))
            .count();
        assert!(right as f64 > 0.95 * 2.0 * n as f64, "{right} of {}", 2 * n);
        // A network of 3 input columns is refused with the widths named.
        let err = gmu
            .predict_proba(x.slice(s![.., ..3]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("takes 4 input columns (fusion::gmu's option 'inputs' is [2, 2]: text then image columns), the matrix has 3"),
            "{err}"
        );
    }
}
