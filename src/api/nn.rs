//! `nn::` — multi-layer perceptrons with sigmoid outputs for multi-label
//! genres, trained on dense features (poster CNN features, embeddings), and
//! `fusion::gmu`, the gated multimodal unit: both are a script `Network`
//! ([`crate::nn::network`]) that trains, predicts and saves through the
//! same methods.

use rhai::plugin::*;

#[export_module]
pub mod nn_module {
    use std::path::Path;

    use rhai::{Map, NativeCallContext};

    use crate::api::convert::{RhaiResult, located, seeded};
    use crate::nn::network::{MlpOptions, Network};

    /// A multi-layer perceptron for multi-label outputs: dense hidden layers
    /// with `activation`, optional dropout after each, and one sigmoid
    /// output per label, trained with binary cross-entropy. Weights are
    /// Glorot-uniform (Keras' default), biases zero, drawn from `seed` (or
    /// the session seed, `data::seed`). The network is built at the first
    /// `fit`, from the sizes of the data when `input`/`outputs` are not given.
    ///
    /// Arguments: `options` (below).
    ///
    /// Errors: a bad option (a hidden size that is not a positive integer,
    /// dropout outside [0, 1)).
    ///
    /// ```rhai
    /// let net = nn::mlp(#{ hidden: [1024, 256], activation: "relu", dropout: 0.2 });
    /// assert_eq(net.to_string(), "Mlp ? → 1024 → 256 → ? (relu, dropout 0.2; not fitted)");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn mlp(ctx: NativeCallContext, options: Map) -> RhaiResult<Network> {
        located(&ctx, || {
            Ok(Network::mlp(&seeded::<MlpOptions>(&ctx, options)?))
        })
    }

    /// Loads a network saved with `save` (an MLP or a `fusion::gmu`, with
    /// its scaler and label names).
    ///
    /// Errors: not a genrelab model file, not a network, or a missing or
    /// mis-shaped tensor (named).
    ///
    /// ```rhai
    /// let x = data::matrix([[0.0, 1.0], [1.0, 0.0], [0.0, 0.9], [0.9, 0.1]]);
    /// let y = data::binarizer([["A"]]).transform([[], ["A"], [], ["A"]]);
    /// let net = nn::mlp(#{ hidden: [4], seed: 1 }).fit(x, y, #{ epochs: 5 });
    /// let path = data::temp_path("mlp.safetensors");
    /// net.save(path);
    /// assert_eq(nn::load(path).predict_proba(x).to_array(), net.predict_proba(x).to_array());
    /// ```
    #[rhai_fn(return_raw)]
    pub fn load(ctx: NativeCallContext, path: &str) -> RhaiResult<Network> {
        located(&ctx, || Network::load(Path::new(path)))
    }
}

#[export_module]
pub mod gmu_module {
    use rhai::{Map, NativeCallContext};

    use crate::api::convert::{RhaiResult, located, seeded};
    use crate::nn::network::{GmuOptions, Network};

    /// The Gated Multimodal Unit (Arevalo et al. 2017): text and image
    /// features each pass a tanh layer, a sigmoid gate computed from both
    /// mixes them per unit, h = z·h_text + (1 − z)·h_image, and a linear
    /// layer gives one sigmoid output per label. It takes the two blocks as
    /// one matrix, `data::hstack([text, image])`, text first, and is a
    /// `Network`: `fit`, `predict_proba`, `predict`, `history`, `save` and
    /// `nn::load` work as for `nn::mlp`. The gate is what it learns beyond
    /// a mean of the two: how much to trust each modality, per unit and per
    /// movie.
    ///
    /// Arguments: `options` (below).
    ///
    /// Errors: a bad option (`inputs` missing or not two positive widths,
    /// dropout outside [0, 1)); at `fit`, features whose column count is not
    /// the sum of `inputs`.
    ///
    /// ```rhai
    /// data::seed(0);
    /// let text = data::matrix([[1.0, 0.0], [0.0, 1.0], [0.9, 0.1], [0.1, 0.8]]);
    /// let image = data::matrix([[0.0], [1.0], [0.1], [0.9]]);
    /// let y = data::binarizer([["A"], ["B"]]).transform([["A"], ["B"], ["A"], ["B"]]);
    /// let net = fusion::gmu(#{ inputs: [2, 1], hidden: 4 });
    /// net.fit(data::hstack([text, image]), y, #{ epochs: 300, lr: 0.05, batch_size: 4 });
    /// assert_eq(net.predict(data::hstack([text, image])).to_array(), y.to_array());
    /// assert_eq(net.to_string(), "Gmu [2 text, 1 image] → 4 gated → 2 (dropout 0; 46 parameters; trained 300 epochs, best 300)");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn gmu(ctx: NativeCallContext, options: Map) -> RhaiResult<Network> {
        located(&ctx, || {
            Ok(Network::gmu(&seeded::<GmuOptions>(&ctx, options)?))
        })
    }
}

#[export_module]
pub mod nn_methods {
    use rhai::{Dynamic, Map, NativeCallContext};

    use crate::api::convert::{RhaiResult, seeded, to_script};
    use crate::data::Labels;
    use crate::matrix::Matrix;
    use crate::nn::network::{Network, TrainOptions};

    /// Trains with default options (Adam, lr 1e-3, batch 64, 100 epochs).
    ///
    /// Errors: as `fit(x, labels, options)`.
    #[rhai_fn(global, name = "fit", return_raw)]
    pub fn fit(
        ctx: NativeCallContext,
        net: &mut Network,
        x: Matrix,
        labels: Labels,
    ) -> RhaiResult<Network> {
        fit_with(ctx, net, x, labels, Map::new())
    }

    /// Trains on feature rows `x` and `labels` in mini-batches and returns
    /// the network (trained in place: calling `fit` again continues). The
    /// loss is binary cross-entropy on the logits, averaged over rows and
    /// labels, computed in a form that cannot overflow. A progress bar shows
    /// epochs and losses on a terminal; `history` keeps them.
    ///
    /// Arguments: `x`, `labels`; `options` (below; `seed` orders the batches
    /// and draws dropout).
    ///
    /// Errors: rows of `x` and `labels` differ; columns differ from the
    /// network's; NaN or infinite features (row and column named); a bad
    /// option. Ctrl-C or a loss that becomes NaN stop training with an error
    /// but keep the weights learnt so far.
    ///
    /// ```rhai
    /// data::seed(0);
    /// let x = data::matrix([[0.0, 1.0], [1.0, 0.0], [0.1, 0.9], [0.9, 0.2]]);
    /// let y = data::binarizer([["A"], ["B"]]).transform([["B"], ["A"], ["B"], ["A"]]);
    /// let net = nn::mlp(#{ hidden: [8] }).fit(x, y, #{ epochs: 200, lr: 0.05, batch_size: 4 });
    /// assert_eq(net.predict(x).to_array(), y.to_array());
    /// assert_eq(net.history.epochs, 200);
    /// ```
    #[rhai_fn(global, name = "fit", return_raw)]
    pub fn fit_with(
        ctx: NativeCallContext,
        net: &mut Network,
        x: Matrix,
        labels: Labels,
        options: Map,
    ) -> RhaiResult<Network> {
        net.fit(&x, &labels, &seeded::<TrainOptions>(&ctx, options)?)?;
        Ok(net.clone())
    }

    /// P(label | x) for each row (`Matrix`: rows named as `x`'s, columns by
    /// the labels).
    ///
    /// Errors: not fitted; other columns than the network's; NaN features.
    #[rhai_fn(global, name = "predict_proba", return_raw, pure)]
    pub fn predict_proba(net: &mut Network, x: Matrix) -> RhaiResult<Matrix> {
        Ok(net.predict_proba(&x)?)
    }

    /// The labels with probability above 0.5 (for top-k or tuned
    /// thresholds, use `metrics::top_k` / `metrics::apply_thresholds` on
    /// `predict_proba`).
    ///
    /// Errors: as `predict_proba`.
    #[rhai_fn(global, name = "predict", return_raw, pure)]
    pub fn predict(net: &mut Network, x: Matrix) -> RhaiResult<Labels> {
        Ok(net.predict(&x)?)
    }

    /// The training history: `loss`, `val_loss` (with validation) and
    /// `seconds` per epoch, `epochs`, `best_epoch` (the weights held),
    /// `stopped_early`; `()` before `fit`.
    #[rhai_fn(global, get = "history", return_raw, pure)]
    pub fn history(net: &mut Network) -> RhaiResult<Dynamic> {
        Ok(to_script(&net.history())?)
    }

    /// Writes the network (weights, scaler, label names) to a `.safetensors`
    /// model file, atomically.
    ///
    /// Errors: not fitted; the path is not `.safetensors` or cannot be written.
    #[rhai_fn(global, name = "save", return_raw, pure)]
    pub fn save(net: &mut Network, path: &str) -> RhaiResult<()> {
        Ok(net.fitted()?.save(std::path::Path::new(path))?)
    }

    /// The architecture, its parameter count and the training so far.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn to_string(net: &mut Network) -> String {
        net.to_string()
    }
}
