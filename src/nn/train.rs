//! Mini-batch training with backpropagation, early stopping and a history.

use std::time::Instant;

use ndarray::{Array1, Array2, ArrayView2, Axis};
use rand::Rng;
use rand::SeedableRng;
use rand::seq::SliceRandom;

use super::gemm::matmul_into;
use super::optim::{Optimizer, OptimizerKind};
use super::{Mlp, Scaler, Trainable, bce_with_logits, sigmoid};
use crate::error::{Error, Result};

#[derive(Clone, Debug)]
pub struct FitOptions {
    pub epochs: usize,
    pub batch_size: usize,
    pub optimizer: OptimizerKind,
    pub lr: f32,
    pub decay: f32,
    pub weight_decay: f32,
    /// Stop after this many epochs without improvement of the monitored loss
    /// (validation loss when validation data is given, else training loss),
    /// then restore the best epoch's weights.
    pub patience: Option<usize>,
    /// An improvement smaller than this does not count.
    pub min_delta: f64,
    pub shuffle: bool,
    pub seed: u64,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            epochs: 100,
            batch_size: 64,
            optimizer: OptimizerKind::parse("adam", None, None).expect("adam is known"),
            lr: 1e-3,
            decay: 0.0,
            weight_decay: 0.0,
            patience: None,
            min_delta: 1e-5,
            shuffle: true,
            seed: 0,
        }
    }
}

/// What one epoch did; handed to the progress callback and kept in the history.
#[derive(Clone, Debug, PartialEq)]
pub struct Epoch {
    pub epoch: usize,
    pub epochs: usize,
    pub loss: f64,
    pub val_loss: Option<f64>,
    pub seconds: f64,
}

/// Why training ended.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Stop {
    #[default]
    Completed,
    /// Early stopping: no improvement for `patience` epochs.
    EarlyStopped,
    /// Ctrl-C; the model holds the best weights reached.
    Interrupted,
    /// The loss became NaN or infinite; the model holds the best weights reached.
    Diverged(String),
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    pub epochs: Vec<Epoch>,
    /// 1-based epoch whose weights the model holds now (0: none completed).
    pub best_epoch: usize,
    pub stop: Stop,
}

/// Trains `mlp` (an MLP or a GMU) on rows `x` with 0/1 targets `y`. Bad
/// data (shapes, NaN) is an error before anything changes. Ctrl-C and a
/// diverging loss end training early with the model at its best epoch so
/// far, reported in `History::stop` so the caller keeps what was learnt.
pub fn fit<N: Trainable>(
    mlp: &mut N,
    x: ArrayView2<f32>,
    y: ArrayView2<f32>,
    validation: Option<(ArrayView2<f32>, ArrayView2<f32>)>,
    opts: &FitOptions,
    on_epoch: &mut dyn FnMut(&Epoch),
) -> Result<History> {
    check_data(mlp, x, y, "fit")?;
    if let Some((vx, vy)) = validation {
        check_data(mlp, vx, vy, "fit: validation")?;
    }
    if opts.batch_size == 0 || opts.epochs == 0 {
        return Err(Error::invalid(
            "fit: epochs and batch_size must be at least 1",
        ));
    }
    if mlp.standardize() && mlp.scaler().is_none() {
        mlp.set_scaler(Scaler::fit(x));
    }
    let x = mlp.prepare(x);
    let validation = validation.map(|(vx, vy)| (mlp.prepare(vx), vy));
    let (shapes, decayed): (Vec<Vec<usize>>, Vec<bool>) =
        mlp.parameter_shapes().into_iter().unzip();
    let mut optimizer = Optimizer::new(
        opts.optimizer,
        opts.lr,
        opts.decay,
        opts.weight_decay,
        &shapes,
    );
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(opts.seed);
    let mut order: Vec<usize> = (0..x.nrows()).collect();
    let mut history = History::default();
    let (mut best_loss, mut best) = (f64::INFINITY, mlp.clone());

    for epoch in 1..=opts.epochs {
        let started = Instant::now();
        if opts.shuffle {
            order.shuffle(&mut rng);
        }
        let mut loss_sum = 0.0;
        for batch in order.chunks(opts.batch_size) {
            if crate::interrupt::check().is_err() {
                history.stop = Stop::Interrupted;
                if opts.patience.is_some() && history.best_epoch > 0 {
                    *mlp = best;
                }
                return Ok(history);
            }
            let xb = x.select(Axis(0), batch);
            let yb = y.select(Axis(0), batch);
            let (grads, loss) = mlp.gradients(xb, yb.view(), &mut rng);
            optimizer.step(
                mlp.parameters_mut(),
                grads.iter().map(Vec::as_slice).collect(),
                &decayed,
            );
            loss_sum += loss * batch.len() as f64;
        }
        let loss = loss_sum / x.nrows() as f64;
        let val_loss = validation
            .as_ref()
            .map(|(vx, vy)| bce_with_logits(mlp.forward(vx.view()).view(), *vy));
        let record = Epoch {
            epoch,
            epochs: opts.epochs,
            loss,
            val_loss,
            seconds: started.elapsed().as_secs_f64(),
        };
        on_epoch(&record);
        history.epochs.push(record);
        if !loss.is_finite() {
            *mlp = best;
            history.stop = Stop::Diverged(format!(
                "fit: the training loss became {loss} at epoch {epoch}; lower lr (now {}); the network keeps epoch {}'s weights",
                opts.lr, history.best_epoch
            ));
            return Ok(history);
        }
        let monitored = val_loss.unwrap_or(loss);
        if monitored < best_loss - opts.min_delta || history.best_epoch == 0 {
            best_loss = monitored;
            history.best_epoch = epoch;
            best.clone_from(mlp);
        } else if opts
            .patience
            .is_some_and(|p| epoch - history.best_epoch >= p)
        {
            history.stop = Stop::EarlyStopped;
            break;
        }
    }
    if opts.patience.is_some() {
        *mlp = best;
    } else {
        history.best_epoch = history.epochs.len();
    }
    Ok(history)
}

fn check_data<N: Trainable>(
    mlp: &N,
    x: ArrayView2<f32>,
    y: ArrayView2<f32>,
    what: &str,
) -> Result<()> {
    mlp.check_input(x, what)?;
    if y.nrows() != x.nrows() {
        return Err(Error::invalid(format!(
            "{what}: {} feature rows but {} label rows",
            x.nrows(),
            y.nrows()
        )));
    }
    if y.ncols() != mlp.outputs() {
        return Err(Error::invalid(format!(
            "{what}: the network has {} outputs, the labels have {} columns",
            mlp.outputs(),
            y.ncols()
        )));
    }
    Ok(())
}

/// Gradients of the mean BCE-with-logits for one batch, in the optimiser's
/// parameter order (w0, b0, w1, b1, …), and the batch loss.
pub(crate) fn gradients(
    mlp: &Mlp,
    x: Array2<f32>,
    y: ArrayView2<f32>,
    rng: &mut impl Rng,
) -> (Vec<Array2<f32>>, Vec<Array1<f32>>, f64) {
    let last = mlp.layers.len() - 1;
    // inputs[l] is what layer l sees. With dropout, a hidden layer also keeps
    // its activation before the mask (the derivative needs it) and the mask.
    let mut inputs: Vec<Array2<f32>> = vec![x];
    let mut dropped: Vec<Option<(Array2<f32>, Array2<f32>)>> = Vec::new();
    let mut logits = Array2::zeros((0, 0));
    for (l, layer) in mlp.layers.iter().enumerate() {
        let mut z = layer.affine(inputs[l].view());
        if l == last {
            logits = z;
            break;
        }
        mlp.spec.activation.apply(&mut z);
        if mlp.spec.dropout > 0.0 {
            let mask = super::dropout_mask(z.dim(), mlp.spec.dropout, rng);
            inputs.push(&z * &mask);
            dropped.push(Some((z, mask)));
        } else {
            inputs.push(z);
            dropped.push(None);
        }
    }
    let loss = bce_with_logits(logits.view(), y);
    let scale = 1.0 / logits.len() as f32;
    let mut delta = logits;
    delta.zip_mut_with(&y, |z, &y| *z = (sigmoid(*z) - y) * scale);
    let mut weight_grads = Vec::with_capacity(mlp.layers.len());
    let mut bias_grads = Vec::with_capacity(mlp.layers.len());
    for l in (0..=last).rev() {
        let layer = &mlp.layers[l];
        let mut dw = Array2::zeros(layer.weights.raw_dim());
        matmul_into(&mut dw.view_mut(), inputs[l].t(), delta.view(), false);
        weight_grads.push(dw);
        bias_grads.push(delta.sum_axis(Axis(0)));
        if l > 0 {
            let mut below = Array2::zeros((delta.nrows(), layer.weights.nrows()));
            matmul_into(
                &mut below.view_mut(),
                delta.view(),
                layer.weights.t(),
                false,
            );
            match &dropped[l - 1] {
                Some((activation, mask)) => {
                    below *= mask;
                    mlp.spec.activation.backward(&mut below, activation);
                }
                None => mlp.spec.activation.backward(&mut below, &inputs[l]),
            }
            delta = below;
        }
    }
    weight_grads.reverse();
    bias_grads.reverse();
    (weight_grads, bias_grads, loss)
}

#[cfg(test)]
mod tests {
    //! Reference numbers from numpy (float64), the snippet:
    //! ```python
    //! x = np.array([[0.5,-1.0,2.0],[1.5,0.2,-0.3],[-0.7,0.8,0.1],[0.0,1.0,-1.0]])
    //! y = np.array([[1,0],[0,1],[1,1],[0,0]], float)
    //! W1 = np.array([[0.2,-0.5],[0.4,0.1],[-0.3,0.6]]); b1 = np.array([0.1,-0.2])
    //! W2 = np.array([[0.7,-0.4],[-0.6,0.9]]); b2 = np.array([0.05,-0.05])
    //! def grads(W1,b1,W2,b2):
    //!     z1 = x@W1+b1; a1 = np.maximum(z1,0); z2 = a1@W2+b2
    //!     loss = np.mean(np.maximum(z2,0)-z2*y+np.log1p(np.exp(-abs(z2))))
    //!     d2 = (1/(1+np.exp(-z2))-y)/y.size
    //!     dW2 = a1.T@d2; db2 = d2.sum(0); d1 = (d2@W2.T)*(z1>0)
    //!     return loss, [x.T@d1, d1.sum(0), dW2, db2]
    //! # adam (lr 0.1, weight decay 0.01 on weights), 2 steps:
    //! #   gi = g[i] + (0.01*ps[i] if i%2==0 else 0); m=0.9m+0.1gi; v=0.999v+0.001gi²
    //! #   p -= 0.1*(m/(1-0.9**t))/(sqrt(v/(1-0.999**t))+1e-8)
    //! # rmsprop (lr 0.1, decay 0.5), 2 steps: lr=0.1/(1+0.5*(t-1)); a=0.9a+0.1g²;
    //! #   p -= lr*g/(sqrt(a)+1e-7)
    //! # sgd (lr 0.5, momentum 0.9), 2 steps: b=0.9b+g; p -= 0.5b
    //! ```
    use super::*;
    use crate::nn::{Activation, Dense, MlpSpec};
    use ndarray::array;

    fn net() -> Mlp {
        Mlp {
            spec: MlpSpec {
                input: 3,
                hidden: vec![2],
                outputs: 2,
                activation: Activation::Relu,
                dropout: 0.0,
                standardize: false,
                seed: 0,
            },
            layers: vec![
                Dense {
                    weights: array![[0.2, -0.5], [0.4, 0.1], [-0.3, 0.6]],
                    bias: array![0.1, -0.2],
                },
                Dense {
                    weights: array![[0.7, -0.4], [-0.6, 0.9]],
                    bias: array![0.05, -0.05],
                },
            ],
            scaler: None,
            names: None,
        }
    }

    fn data() -> (Array2<f32>, Array2<f32>) {
        (
            array![
                [0.5, -1.0, 2.0],
                [1.5, 0.2, -0.3],
                [-0.7, 0.8, 0.1],
                [0.0, 1.0, -1.0]
            ],
            array![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]],
        )
    }

    fn close(got: impl IntoIterator<Item = f32>, want: &[f64]) {
        let got: Vec<f32> = got.into_iter().collect();
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert!((*g as f64 - w).abs() < 2e-6, "{got:?} vs {want:?}");
        }
    }

    #[test]
    fn gradients_match_numpy() {
        let (x, y) = data();
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(0);
        let (dw, db, loss) = gradients(&net(), x, y.view(), &mut rng);
        assert!((loss - 0.816_778_441_136_532_6).abs() < 1e-6);
        close(
            dw[0].iter().copied(),
            &[
                0.136108863,
                0.068992283,
                0.037423798,
                -0.128032144,
                -0.062728714,
                0.22786576,
            ],
        );
        close(db[0].iter().copied(), &[0.099109993, 0.098174879]);
        close(
            dw[1].iter().copied(),
            &[0.093058535, -0.014449827, -0.065128393, 0.034120099],
        );
        close(db[1].iter().copied(), &[0.023362371, -0.000268092]);
    }

    fn two_steps(kind: OptimizerKind, lr: f32, decay: f32, weight_decay: f32) -> Mlp {
        let (x, y) = data();
        let mut mlp = net();
        let opts = FitOptions {
            epochs: 2,
            batch_size: 4,
            optimizer: kind,
            lr,
            decay,
            weight_decay,
            shuffle: false,
            ..FitOptions::default()
        };
        fit(&mut mlp, x.view(), y.view(), None, &opts, &mut |_| {}).unwrap();
        mlp
    }

    #[test]
    fn optimisers_match_numpy_updates() {
        let adam = two_steps(
            OptimizerKind::parse("adam", None, None).unwrap(),
            0.1,
            0.0,
            0.01,
        );
        close(
            adam.layers[0].weights.iter().copied(),
            &[
                0.001577888,
                -0.69773292,
                0.207150344,
                0.298222046,
                -0.102361605,
                0.4014315,
            ],
        );
        close(
            adam.layers[1].bias.iter().copied(),
            &[-0.125077468, -0.022732911],
        );
        let rms = two_steps(
            OptimizerKind::parse("rmsprop", None, None).unwrap(),
            0.1,
            0.5,
            0.0,
        );
        close(
            rms.layers[0].weights.iter().copied(),
            &[
                -0.116227031,
                -0.830381563,
                0.083774906,
                0.424956706,
                0.016226172,
                0.284386324,
            ],
        );
        close(
            rms.layers[1].bias.iter().copied(),
            &[-0.085788825, 0.055042529],
        );
        let sgd = two_steps(
            OptimizerKind::parse("sgd", Some(0.9), None).unwrap(),
            0.5,
            0.0,
            0.0,
        );
        close(
            sgd.layers[0].weights.iter().copied(),
            &[
                0.009024659,
                -0.595999752,
                0.348928694,
                0.27757017,
                -0.213335572,
                0.285742771,
            ],
        );
        close(
            sgd.layers[1].bias.iter().copied(),
            &[0.01718853, -0.046667032],
        );
    }

    #[test]
    fn learns_a_separable_problem_and_restores_the_best_epoch() {
        // Label 0 = x0 > 0, label 1 = x1 > 0.
        let x = Array2::from_shape_fn((200, 2), |(i, j)| {
            (((i * 37 + j * 11) % 23) as f32 - 11.0) / 5.0
        });
        let y = x.mapv(|v| if v > 0.0 { 1.0 } else { 0.0 });
        let mut mlp = Mlp::new(MlpSpec {
            input: 2,
            hidden: vec![16],
            outputs: 2,
            activation: Activation::Tanh,
            dropout: 0.1,
            standardize: true,
            seed: 3,
        })
        .unwrap();
        let opts = FitOptions {
            epochs: 60,
            batch_size: 16,
            lr: 0.01,
            patience: Some(5),
            ..FitOptions::default()
        };
        let history = fit(
            &mut mlp,
            x.view(),
            y.view(),
            Some((x.view(), y.view())),
            &opts,
            &mut |_| {},
        )
        .unwrap();
        let best = &history.epochs[history.best_epoch - 1];
        let p = mlp.predict_proba(x.view()).unwrap();
        // The model holds the best epoch's weights: its loss is that epoch's.
        let again = bce_with_logits(p.mapv(|p| (p / (1.0 - p)).ln()).view(), y.view());
        assert!(
            (again - best.val_loss.unwrap()).abs() < 1e-3,
            "{again} vs {best:?}"
        );
        let accuracy = p
            .iter()
            .zip(y.iter())
            .filter(|(p, y)| (**p > 0.5) == (**y > 0.5))
            .count() as f32
            / 400.0;
        assert!(accuracy > 0.95, "accuracy {accuracy}");
    }

    #[test]
    fn bad_data_is_named() {
        let (x, y) = data();
        let mut mlp = net();
        let opts = FitOptions::default();
        let e = fit(
            &mut mlp,
            x.view(),
            y.slice(ndarray::s![..3, ..]),
            None,
            &opts,
            &mut |_| {},
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "fit: 4 feature rows but 3 label rows");
        let mut nan = x.clone();
        nan[[2, 1]] = f32::NAN;
        let e = fit(&mut mlp, nan.view(), y.view(), None, &opts, &mut |_| {}).unwrap_err();
        assert_eq!(
            e.to_string(),
            "fit: row 2, column 1 is NaN; features must be finite numbers"
        );
        let e = mlp
            .predict_proba(x.slice(ndarray::s![.., ..2]))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "predict_proba: the network takes 3 input columns (the width of the matrix it was fitted on), the matrix has 2"
        );
        assert_eq!(mlp, net(), "failed calls leave the model as it was");
    }
}
