//! `nn` — small fully connected networks for multi-label outputs, written on
//! ndarray + gemm so every step (forward, backward, optimiser) is plain Rust
//! that tests can check against numpy without Rhai or a deep-learning stack.
//!
//! Conventions follow Keras/PyTorch: weights are `[inputs, outputs]`,
//! Glorot-uniform initialised, biases zero; the loss is binary cross-entropy
//! on logits averaged over every (row, label) cell.

pub mod gemm;
pub mod gmu;
pub mod network;
pub mod optim;
mod saved;
pub use saved::{SavedNetwork, load};
pub mod train;

use ndarray::{Array1, Array2, ArrayView2, Axis};
use rand::Rng;
use rand::SeedableRng;

use crate::error::{Error, Result};

pub use gmu::{Gmu, GmuSpec};
pub use optim::{Optimizer, OptimizerKind};
pub use train::{FitOptions, History};

/// What the training loop (`train::fit`) needs of a network with sigmoid
/// outputs: its widths, its input scaler, logits, gradients of the mean
/// BCE-with-logits and its parameters in one fixed order. The MLP and the
/// gated multimodal unit implement it, so both train with the same
/// optimisers, early stopping and seeds.
pub trait Trainable: Clone {
    fn input(&self) -> usize;
    /// What set the input width, for the error of a matrix of another
    /// width: the option that declared it, or the data it was fitted on.
    fn input_source(&self) -> String {
        "(the width of the matrix it was fitted on)".into()
    }
    fn outputs(&self) -> usize;
    /// Whether `fit` standardises the input (and the scaler, once fitted).
    fn standardize(&self) -> bool;
    fn scaler(&self) -> Option<&Scaler>;
    fn set_scaler(&mut self, scaler: Scaler);
    /// Logits for a batch of already standardised rows.
    fn forward(&self, x: ArrayView2<f32>) -> Array2<f32>;
    /// Gradients of the batch's mean BCE-with-logits, one flat vector per
    /// parameter in `parameters_mut` order (dropout drawn from `rng`), and
    /// the batch loss.
    fn gradients(
        &self,
        x: Array2<f32>,
        y: ArrayView2<f32>,
        rng: &mut rand_xoshiro::Xoshiro256PlusPlus,
    ) -> (Vec<Vec<f32>>, f64);
    fn parameters_mut(&mut self) -> Vec<&mut [f32]>;
    /// Each parameter's shape and whether weight decay applies (weights, not biases).
    fn parameter_shapes(&self) -> Vec<(Vec<usize>, bool)>;

    /// Checks a feature matrix before it reaches the network: the column
    /// count, and no NaN or infinity (named by row and column).
    fn check_input(&self, x: ArrayView2<f32>, what: &str) -> Result<()> {
        if x.ncols() != self.input() {
            return Err(Error::invalid(format!(
                "{what}: the network takes {} input columns {}, the matrix has {}",
                self.input(),
                self.input_source(),
                x.ncols()
            )));
        }
        crate::matrix::check_finite(x, None, what, "features")
    }

    /// Standardises (if the model does) and returns an owned copy ready for the network.
    fn prepare(&self, x: ArrayView2<f32>) -> Array2<f32> {
        match self.scaler() {
            Some(s) => s.transform(x),
            None => x.to_owned(),
        }
    }

    /// Sigmoid probabilities, one row per input row, in chunks so memory
    /// stays bounded on large inputs.
    fn predict_proba(&self, x: ArrayView2<f32>) -> Result<Array2<f32>> {
        self.check_input(x, "predict_proba")?;
        let mut out = Array2::zeros((x.nrows(), self.outputs()));
        const CHUNK: usize = 4096;
        for (i, chunk) in x.axis_chunks_iter(Axis(0), CHUNK).enumerate() {
            crate::interrupt::check()?;
            let logits = self.forward(self.prepare(chunk).view());
            out.slice_mut(ndarray::s![i * CHUNK..i * CHUNK + chunk.nrows(), ..])
                .assign(&logits.mapv(sigmoid));
        }
        Ok(out)
    }
}

/// Inverted dropout: a mask of 0 and 1/keep, drawn per cell.
pub(crate) fn dropout_mask(shape: (usize, usize), rate: f32, rng: &mut impl Rng) -> Array2<f32> {
    let keep = 1.0 - rate;
    Array2::from_shape_simple_fn(shape, || {
        if rng.r#gen::<f32>() < keep {
            1.0 / keep
        } else {
            0.0
        }
    })
}

/// Glorot-uniform weights (U(±sqrt(6 / (fan_in + fan_out))), Keras'
/// default) and zero biases.
pub(crate) fn glorot(inputs: usize, outputs: usize, rng: &mut impl Rng) -> Dense {
    let limit = (6.0 / (inputs + outputs) as f64).sqrt() as f32;
    Dense {
        weights: Array2::from_shape_simple_fn((inputs, outputs), || rng.gen_range(-limit..limit)),
        bias: Array1::zeros(outputs),
    }
}

/// The layers' weights and biases as optimiser parameters, in order.
pub(crate) fn dense_parameters<'a>(
    layers: impl IntoIterator<Item = &'a mut Dense>,
) -> Vec<&'a mut [f32]> {
    layers
        .into_iter()
        .flat_map(|l| {
            [
                l.weights.as_slice_mut().expect("weights are contiguous"),
                l.bias.as_slice_mut().expect("biases are contiguous"),
            ]
        })
        .collect()
}

/// Shapes of the layers' parameters; weights decay, biases do not.
pub(crate) fn dense_shapes<'a>(
    layers: impl IntoIterator<Item = &'a Dense>,
) -> Vec<(Vec<usize>, bool)> {
    layers
        .into_iter()
        .flat_map(|l| {
            [
                (l.weights.shape().to_vec(), true),
                (l.bias.shape().to_vec(), false),
            ]
        })
        .collect()
}

/// An owned array's values in row-major order, without a copy when it is standard-layout.
pub(crate) fn flat<D: ndarray::Dimension>(a: ndarray::Array<f32, D>) -> Vec<f32> {
    if a.is_standard_layout() {
        a.into_raw_vec_and_offset().0
    } else {
        a.iter().copied().collect()
    }
}

/// Hidden-layer non-linearity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    Relu,
    Tanh,
}

crate::choices!(impl Activation { Relu = "relu", Tanh = "tanh" });

impl Activation {
    fn apply(self, z: &mut Array2<f32>) {
        match self {
            Activation::Relu => z.mapv_inplace(|v| v.max(0.0)),
            Activation::Tanh => z.mapv_inplace(f32::tanh),
        }
    }

    /// Multiplies `grad` by the derivative, written in terms of the output `a`.
    fn backward(self, grad: &mut Array2<f32>, a: &Array2<f32>) {
        match self {
            Activation::Relu => grad.zip_mut_with(a, |g, &a| {
                if a <= 0.0 {
                    *g = 0.0
                }
            }),
            Activation::Tanh => grad.zip_mut_with(a, |g, &a| *g *= 1.0 - a * a),
        }
    }
}

/// Per-column standardisation fitted on the training rows (scikit-learn's
/// `StandardScaler`: population standard deviation, constant columns kept at
/// scale 1), stored in the model so prediction applies the same transform.
#[derive(Clone, Debug, PartialEq)]
pub struct Scaler {
    pub mean: Array1<f32>,
    pub scale: Array1<f32>,
}

impl Scaler {
    pub fn fit(x: ArrayView2<f32>) -> Scaler {
        use crate::matrix::scale::{mean_var, scale_of};
        let n = x.nrows().max(1);
        let cols: Vec<(f32, f32)> = x
            .axis_iter(Axis(1))
            .map(|col| {
                let values: Vec<f64> = col.iter().map(|&v| f64::from(v)).collect();
                let (mean, var) = mean_var(n, &values);
                (mean as f32, scale_of(var, mean, n) as f32)
            })
            .collect();
        Scaler {
            mean: cols.iter().map(|c| c.0).collect(),
            scale: cols.iter().map(|c| c.1).collect(),
        }
    }

    pub fn transform(&self, x: ArrayView2<f32>) -> Array2<f32> {
        let mut out = x.to_owned();
        for mut row in out.rows_mut() {
            for ((v, m), s) in row.iter_mut().zip(&self.mean).zip(&self.scale) {
                *v = (*v - m) / s;
            }
        }
        out
    }
}

/// One fully connected layer: `y = x · weights + bias`.
#[derive(Clone, Debug, PartialEq)]
pub struct Dense {
    pub weights: Array2<f32>,
    pub bias: Array1<f32>,
}

impl Dense {
    pub(crate) fn affine(&self, x: ArrayView2<f32>) -> Array2<f32> {
        let mut z = Array2::zeros((x.nrows(), self.bias.len()));
        for mut row in z.rows_mut() {
            row.assign(&self.bias);
        }
        gemm::matmul_into(&mut z.view_mut(), x, self.weights.view(), true);
        z
    }
}

/// The architecture a script asks for.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MlpSpec {
    pub input: usize,
    pub hidden: Vec<usize>,
    pub outputs: usize,
    pub activation: Activation,
    /// Probability of zeroing each hidden unit while training (inverted dropout).
    pub dropout: f32,
    pub standardize: bool,
    pub seed: u64,
}

impl MlpSpec {
    /// Layer widths from input to outputs.
    pub fn sizes(&self) -> Vec<usize> {
        std::iter::once(self.input)
            .chain(self.hidden.iter().copied())
            .chain(std::iter::once(self.outputs))
            .collect()
    }
}

/// A multi-layer perceptron with sigmoid outputs.
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp {
    pub spec: MlpSpec,
    pub layers: Vec<Dense>,
    pub scaler: Option<Scaler>,
    /// Label names of the outputs, set by `fit` from the training labels.
    pub names: Option<Vec<String>>,
}

impl Mlp {
    /// A freshly initialised network: Glorot-uniform weights
    /// (U(±sqrt(6 / (fan_in + fan_out))), Keras' default) and zero biases,
    /// drawn from a generator seeded with `spec.seed`, so equal seeds give
    /// equal networks.
    pub fn new(spec: MlpSpec) -> Result<Mlp> {
        if spec.input == 0 || spec.outputs == 0 || spec.hidden.contains(&0) {
            return Err(Error::invalid(format!(
                "nn::mlp: every layer needs at least one unit (input {}, hidden {:?}, outputs {})",
                spec.input, spec.hidden, spec.outputs
            )));
        }
        if !(0.0..1.0).contains(&spec.dropout) {
            return Err(Error::invalid(format!(
                "nn::mlp: dropout must be in [0, 1), got {}",
                spec.dropout
            )));
        }
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(spec.seed);
        let layers = spec
            .sizes()
            .windows(2)
            .map(|w| glorot(w[0], w[1], &mut rng))
            .collect();
        Ok(Mlp {
            spec,
            layers,
            scaler: None,
            names: None,
        })
    }

    /// The label names of the outputs (`output0`, … before any fit named them).
    pub fn output_names(&self) -> Vec<String> {
        self.names
            .clone()
            .unwrap_or_else(|| (0..self.outputs()).map(|i| format!("output{i}")).collect())
    }

    /// Number of trainable numbers.
    pub fn parameters(&self) -> usize {
        self.layers
            .iter()
            .map(|l| l.weights.len() + l.bias.len())
            .sum()
    }
}

impl Trainable for Mlp {
    fn input(&self) -> usize {
        self.spec.input
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
        let last = self.layers.len() - 1;
        let mut a = self.layers[0].affine(x);
        for layer in &self.layers[1..=last] {
            self.spec.activation.apply(&mut a);
            a = layer.affine(a.view());
        }
        a
    }

    fn gradients(
        &self,
        x: Array2<f32>,
        y: ArrayView2<f32>,
        rng: &mut rand_xoshiro::Xoshiro256PlusPlus,
    ) -> (Vec<Vec<f32>>, f64) {
        let (dw, db, loss) = train::gradients(self, x, y, rng);
        let grads = dw
            .into_iter()
            .zip(db)
            .flat_map(|(w, b)| [flat(w), flat(b)])
            .collect();
        (grads, loss)
    }

    fn parameters_mut(&mut self) -> Vec<&mut [f32]> {
        dense_parameters(self.layers.iter_mut())
    }

    fn parameter_shapes(&self) -> Vec<(Vec<usize>, bool)> {
        dense_shapes(self.layers.iter())
    }
}

pub fn sigmoid(z: f32) -> f32 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// Binary cross-entropy of logits `z` against 0/1 targets `y`, averaged over
/// every cell, in the overflow-free form `max(z,0) − z·y + ln(1 + e^−|z|)`
/// (never NaN or infinite, however large the logits).
pub fn bce_with_logits(z: ArrayView2<f32>, y: ArrayView2<f32>) -> f64 {
    let n = z.len().max(1) as f64;
    z.iter()
        .zip(y.iter())
        .map(|(&z, &y)| {
            let (z, y) = (z as f64, y as f64);
            z.max(0.0) - z * y + (-z.abs()).exp().ln_1p()
        })
        .sum::<f64>()
        / n
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn bce_is_stable_for_huge_logits() {
        let z = array![[1000.0f32, -1000.0, 0.0, 3.0]];
        let y = array![[1.0f32, 0.0, 1.0, 0.0]];
        let l = bce_with_logits(z.view(), y.view());
        // numpy: (0 + 0 + log(2) + (3 + log1p(exp(-3)))) / 4
        let expected = (2f64.ln() + 3.0 + (-3f64).exp().ln_1p()) / 4.0;
        assert!((l - expected).abs() < 1e-12, "{l} vs {expected}");
        let wrong = array![[-1000.0f32]];
        assert_eq!(
            bce_with_logits(wrong.view(), array![[1.0f32]].view()),
            1000.0
        );
        assert_eq!(sigmoid(-1000.0), 0.0);
        assert_eq!(sigmoid(1000.0), 1.0);
    }

    #[test]
    fn scaler_matches_standard_scaler() {
        // sklearn.preprocessing.StandardScaler().fit([[1, 5], [3, 5], [8, 5]]):
        // mean_ [4, 5], scale_ [2.94392029, 1]
        let x = array![[1.0f32, 5.0], [3.0, 5.0], [8.0, 5.0]];
        let s = Scaler::fit(x.view());
        assert_eq!(s.mean, array![4.0f32, 5.0]);
        assert!((s.scale[0] - 2.943_920_3).abs() < 1e-6);
        assert_eq!(s.scale[1], 1.0);
        let t = s.transform(x.view());
        assert!((t[[0, 0]] + 1.019_049_6).abs() < 1e-6);
    }

    #[test]
    fn equal_seeds_give_equal_networks_and_glorot_limits() {
        let spec = MlpSpec {
            input: 30,
            hidden: vec![10],
            outputs: 4,
            activation: Activation::Relu,
            dropout: 0.0,
            standardize: false,
            seed: 7,
        };
        let a = Mlp::new(spec.clone()).unwrap();
        assert_eq!(a, Mlp::new(spec.clone()).unwrap());
        let b = Mlp::new(MlpSpec { seed: 8, ..spec }).unwrap();
        assert_ne!(a.layers[0].weights, b.layers[0].weights);
        let limit = (6.0f32 / 40.0).sqrt();
        assert!(a.layers[0].weights.iter().all(|w| w.abs() < limit));
        assert_eq!(a.parameters(), 30 * 10 + 10 + 10 * 4 + 4);
    }
}
