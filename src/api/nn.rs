//! `nn::` — multi-layer perceptrons with sigmoid outputs for multi-label
//! genres, trained on dense features (poster CNN features, embeddings). The
//! script type `Network` also holds `fusion::gmu`'s gated multimodal unit,
//! which trains, predicts and saves through the same methods.

use std::sync::Arc;

use rhai::plugin::*;
use rhai::{Array, Dynamic, Map};

use crate::api::schema::{Bounds, DefaultValue as D, End, Kind, Opt, Parsed, SEED, Schema};
use crate::data::Labels;
use crate::error::{Error, Result};
use crate::matrix::Matrix;
use crate::nn::train::Stop;
use crate::nn::{
    Activation, FitOptions, Gmu, GmuSpec, History, Mlp, MlpSpec, Network, OptimizerKind,
    SavedNetwork,
};

/// The architecture a script asked for; an MLP's input and output widths
/// (a GMU's outputs) are 0 until `fit` takes them from the data.
#[derive(Clone)]
pub enum Spec {
    Mlp(MlpSpec),
    Gmu(GmuSpec),
}

/// A network as scripts hold it: the requested architecture and, once
/// built, the network and its training history.
#[derive(Clone)]
pub struct NetworkHandle {
    pub spec: Spec,
    pub model: Option<Arc<SavedNetwork>>,
    pub history: Option<Arc<History>>,
}

impl SavedNetwork {
    pub fn predict_proba(&self, x: ndarray::ArrayView2<f32>) -> Result<ndarray::Array2<f32>> {
        match self {
            SavedNetwork::Mlp(m) => m.predict_proba(x),
            SavedNetwork::Gmu(g) => g.predict_proba(x),
        }
    }

    pub fn output_names(&self) -> Vec<String> {
        match self {
            SavedNetwork::Mlp(m) => m.output_names(),
            SavedNetwork::Gmu(g) => g.output_names(),
        }
    }

    fn names(&self) -> Option<&[String]> {
        match self {
            SavedNetwork::Mlp(m) => m.names.as_deref(),
            SavedNetwork::Gmu(g) => g.names.as_deref(),
        }
    }

    fn set_names(&mut self, names: Vec<String>) {
        match self {
            SavedNetwork::Mlp(m) => m.names = Some(names),
            SavedNetwork::Gmu(g) => g.names = Some(names),
        }
    }

    pub fn save(&self, path: &std::path::Path) -> Result<()> {
        match self {
            SavedNetwork::Mlp(m) => m.save(path),
            SavedNetwork::Gmu(g) => g.save(path),
        }
    }

    fn spec(&self) -> Spec {
        match self {
            SavedNetwork::Mlp(m) => Spec::Mlp(m.spec.clone()),
            SavedNetwork::Gmu(g) => Spec::Gmu(g.spec.clone()),
        }
    }
}

/// Shared by `nn::mlp` and `fusion::gmu`.
pub const STANDARDIZE: Opt = Opt::new(
    "standardize",
    Kind::Bool,
    D::Bool(false),
    "scale each feature to mean 0, sd 1 on the training rows, remembered for prediction (scikit-learn's StandardScaler)",
);

/// Shared by `nn::mlp` and `fusion::gmu`.
pub const OUTPUTS: Opt = Opt::new(
    "outputs",
    Kind::Int(Bounds::POSITIVE_INT),
    D::Described("the labels' count at the first fit"),
    "output width",
);

pub static MLP: Schema = Schema::new(
    "nn::mlp",
    &[
        &[
            Opt::new(
                "hidden",
                Kind::Ints(Bounds::POSITIVE_INT),
                D::Ints(&[100]),
                "sizes of the hidden layers",
            ),
            Opt::new(
                "activation",
                Kind::Choice(&["relu", "tanh"]),
                D::Text("relu"),
                "of the hidden layers",
            ),
            Opt::new(
                "dropout",
                Kind::Number(Bounds {
                    lo: End::Incl(0.0),
                    hi: End::Excl(1.0),
                }),
                D::Float(0.0),
                "rate after each hidden layer, in training",
            ),
            STANDARDIZE,
            Opt::new(
                "input",
                Kind::Int(Bounds::POSITIVE_INT),
                D::Described("the features' width at the first fit"),
                "input width",
            ),
            OUTPUTS,
        ],
        &[SEED],
    ],
);

fn matrix_labels_pair(v: &Dynamic) -> bool {
    v.read_lock::<Array>()
        .is_some_and(|a| a.len() == 2 && a[0].is::<Matrix>() && a[1].is::<Labels>())
}

fn patience_value(v: &Dynamic) -> bool {
    v.is_bool() || v.as_int().is_ok_and(|p| p >= 1)
}

pub static FIT: Schema = Schema::new(
    "Network.fit",
    &[
        &[
            Opt::new(
                "epochs",
                Kind::Int(Bounds::POSITIVE_INT),
                D::Int(100),
                "passes over the data at most",
            ),
            Opt::new(
                "batch_size",
                Kind::Int(Bounds::POSITIVE_INT),
                D::Int(64),
                "rows per step",
            ),
            Opt::new(
                "optimizer",
                Kind::Choice(&["adam", "rmsprop", "sgd"]),
                D::Text("adam"),
                "adam (β 0.9/0.999, ε 1e-8), rmsprop (Keras': ε 1e-7) or sgd",
            ),
            Opt::new(
                "lr",
                Kind::Number(Bounds::POSITIVE),
                D::Float(1e-3),
                "learning rate",
            ),
            Opt::new(
                "decay",
                Kind::Number(Bounds::NON_NEGATIVE),
                D::Float(0.0),
                "Keras' lr / (1 + decay·step)",
            ),
            Opt::new(
                "momentum",
                Kind::Number(Bounds {
                    lo: End::Incl(0.0),
                    hi: End::Excl(1.0),
                }),
                D::Float(0.0),
                "sgd's momentum",
            ),
            Opt::new(
                "rho",
                Kind::Number(Bounds {
                    lo: End::Incl(0.0),
                    hi: End::Excl(1.0),
                }),
                D::Float(0.9),
                "rmsprop's decay of the squared gradients",
            ),
            Opt::new(
                "weight_decay",
                Kind::Number(Bounds::NON_NEGATIVE),
                D::Float(0.0),
                "L2 on weights added to the gradient; scikit-learn's alpha over (batch size × labels)",
            ),
            Opt::new(
                "validation",
                Kind::Value {
                    expected: "[features Matrix, Labels]",
                    check: matrix_labels_pair,
                },
                D::None,
                "rows evaluated each epoch",
            ),
            Opt::new(
                "early_stopping",
                Kind::Value {
                    expected: "true, false or a patience of 1 or more epochs",
                    check: patience_value,
                },
                D::Bool(false),
                "stop when the validation loss (the training loss without validation) has not improved for this many epochs (true: 10), keeping the best epoch's weights",
            ),
            Opt::new(
                "min_delta",
                Kind::Number(Bounds::NON_NEGATIVE),
                D::Float(1e-5),
                "the least change that counts as an improvement",
            ),
            Opt::new(
                "shuffle",
                Kind::Bool,
                D::Bool(true),
                "shuffle the rows every epoch",
            ),
            Opt::new(
                "verbose",
                Kind::Bool,
                D::Bool(false),
                "a line per epoch on stderr",
            ),
        ],
        &[SEED],
    ],
);

pub static SCHEMAS: &[&Schema] = &[&MLP, &FIT];

pub fn mlp(opts: &Parsed, seed: impl FnOnce() -> Result<u64>) -> Result<NetworkHandle> {
    Ok(NetworkHandle {
        spec: Spec::Mlp(MlpSpec {
            input: opts.opt_usize("input")?.unwrap_or(0),
            hidden: opts.usizes("hidden")?,
            outputs: opts.opt_usize("outputs")?.unwrap_or(0),
            activation: Activation::parse(&opts.text("activation")?)?,
            dropout: opts.float("dropout")? as f32,
            standardize: opts.flag("standardize")?,
            seed: opts.seed(seed)?,
        }),
        model: None,
        history: None,
    })
}

pub fn labels_f32(y: &Labels) -> ndarray::Array2<f32> {
    y.values().mapv(f32::from)
}

/// The `validation: [x, labels]` option.
fn validation(opts: &Parsed) -> Result<Option<(Matrix, Labels)>> {
    Ok(opts.raw("validation")?.and_then(|v| {
        let a = v.read_lock::<Array>()?;
        Some((
            a[0].read_lock::<Matrix>()?.clone(),
            a[1].read_lock::<Labels>()?.clone(),
        ))
    }))
}

/// `early_stopping`: an epoch count (patience), true (10) or false.
fn patience(opts: &Parsed) -> Result<Option<usize>> {
    Ok(match opts.raw("early_stopping")? {
        Some(v) if v.is_bool() => v.as_bool().ok().filter(|b| *b).map(|_| 10),
        Some(v) => v.as_int().ok().map(|p| p.max(1) as usize),
        None => None,
    })
}

pub fn fit_options(opts: &Parsed, seed: impl FnOnce() -> Result<u64>) -> Result<FitOptions> {
    let optimizer = OptimizerKind::parse(
        &opts.text("optimizer")?,
        Some(opts.float("momentum")? as f32),
        Some(opts.float("rho")? as f32),
    )?;
    Ok(FitOptions {
        epochs: opts.usize("epochs")?,
        batch_size: opts.usize("batch_size")?,
        optimizer,
        lr: opts.float("lr")? as f32,
        decay: opts.float("decay")? as f32,
        weight_decay: opts.float("weight_decay")? as f32,
        patience: patience(opts)?,
        min_delta: opts.float("min_delta")?,
        shuffle: opts.flag("shuffle")?,
        seed: opts.seed(seed)?,
    })
}

impl NetworkHandle {
    pub fn fitted(&self) -> Result<&SavedNetwork> {
        self.model.as_deref().ok_or_else(|| {
            Error::invalid("this network is not fitted yet; call fit(x, labels) first")
        })
    }

    /// The network to train: the fitted one, or a new one sized from the data.
    fn network(&self, x: &Matrix, y: &Labels) -> Result<SavedNetwork> {
        if let Some(m) = &self.model {
            return Ok((**m).clone());
        }
        let or = |given: usize, data: usize| if given == 0 { data } else { given };
        Ok(match &self.spec {
            Spec::Mlp(spec) => SavedNetwork::Mlp(Mlp::new(MlpSpec {
                input: or(spec.input, x.cols()),
                outputs: or(spec.outputs, y.cols()),
                ..spec.clone()
            })?),
            Spec::Gmu(spec) => SavedNetwork::Gmu(Box::new(Gmu::new(GmuSpec {
                outputs: or(spec.outputs, y.cols()),
                ..spec.clone()
            })?)),
        })
    }

    /// Trains on `x`/`y`, building the network on the first call. On an
    /// error mid-training (Ctrl-C, a diverging loss) the handle keeps the
    /// best weights reached, so nothing already learnt is lost.
    pub fn fit(&mut self, x: &Matrix, y: &Labels, opts: &Parsed, fit: FitOptions) -> Result<()> {
        let mut net = self.network(x, y)?;
        if net.names().is_some_and(|n| n != y.names()) {
            return Err(Error::invalid(
                "fit: these labels have other names than the ones the network was trained on",
            ));
        }
        let validation = validation(opts)?;
        let verbose = opts.flag("verbose")?;
        let yv = validation.as_ref().map(|(_, l)| labels_f32(l));
        let mut bar = crate::progress::Progress::new("fit", fit.epochs, "epoch");
        let mut report = |e: &crate::nn::train::Epoch| {
            let note = match e.val_loss {
                Some(v) => format!("loss {:.4} val_loss {:.4}", e.loss, v),
                None => format!("loss {:.4}", e.loss),
            };
            if verbose {
                eprintln!(
                    "epoch {}/{}: {note} ({:.2} s)",
                    e.epoch, e.epochs, e.seconds
                );
            }
            bar.update(e.epoch, &note);
        };
        let y32 = labels_f32(y);
        let val = validation
            .as_ref()
            .zip(yv.as_ref())
            .map(|((vx, _), vy)| (vx.values().view(), vy.view()));
        let x = x.values().view();
        let result = match &mut net {
            SavedNetwork::Mlp(m) => crate::nn::train::fit(m, x, y32.view(), val, &fit, &mut report),
            SavedNetwork::Gmu(g) => {
                crate::nn::train::fit(g.as_mut(), x, y32.view(), val, &fit, &mut report)
            }
        };
        // Data errors come before training and change nothing; once epochs
        // ran, the handle keeps the network even when training was cut short.
        let history = result?;
        net.set_names(y.names().to_vec());
        self.model = Some(Arc::new(net));
        let stop = history.stop.clone();
        self.history = Some(Arc::new(history));
        match stop {
            Stop::Interrupted => Err(Error::Interrupted),
            Stop::Diverged(why) => Err(Error::invalid(why)),
            Stop::Completed | Stop::EarlyStopped => Ok(()),
        }
    }
}

/// The history as a script map: `loss`, `val_loss` (when validated),
/// `seconds` per epoch, `best_epoch`, `stopped_early`.
pub fn history_map(h: &History) -> Map {
    let floats = |f: &dyn Fn(&crate::nn::train::Epoch) -> f64| -> Dynamic {
        h.epochs
            .iter()
            .map(|e| Dynamic::from_float(f(e)))
            .collect::<Array>()
            .into()
    };
    let mut m = Map::new();
    m.insert("loss".into(), floats(&|e| e.loss));
    if h.epochs.iter().all(|e| e.val_loss.is_some()) && !h.epochs.is_empty() {
        m.insert(
            "val_loss".into(),
            floats(&|e| e.val_loss.unwrap_or(f64::NAN)),
        );
    }
    m.insert("seconds".into(), floats(&|e| e.seconds));
    m.insert("epochs".into(), Dynamic::from_int(h.epochs.len() as i64));
    m.insert("best_epoch".into(), Dynamic::from_int(h.best_epoch as i64));
    m.insert(
        "stopped_early".into(),
        Dynamic::from_bool(h.stop == Stop::EarlyStopped),
    );
    m
}

fn width(s: usize) -> String {
    if s == 0 {
        "?".to_string()
    } else {
        s.to_string()
    }
}

fn describe(net: &NetworkHandle) -> String {
    let spec = net.model.as_ref().map_or(net.spec.clone(), |m| m.spec());
    let state = match &net.model {
        None => "not fitted".to_string(),
        Some(m) => {
            let trained = net.history.as_ref().map_or(String::new(), |h| {
                format!("; trained {} epochs, best {}", h.epochs.len(), h.best_epoch)
            });
            let parameters = match &**m {
                SavedNetwork::Mlp(m) => m.parameters(),
                SavedNetwork::Gmu(g) => g.parameters(),
            };
            format!("{parameters} parameters{trained}")
        }
    };
    match spec {
        Spec::Mlp(spec) => {
            let sizes: Vec<String> = spec.sizes().into_iter().map(width).collect();
            format!(
                "Mlp {} ({}, dropout {}; {state})",
                sizes.join(" → "),
                spec.activation.name(),
                spec.dropout
            )
        }
        Spec::Gmu(spec) => format!(
            "Gmu [{} text, {} image] → {} gated → {} (dropout {}; {state})",
            spec.inputs[0],
            spec.inputs[1],
            spec.hidden,
            width(spec.outputs),
            spec.dropout
        ),
    }
}

pub fn seed_from(ctx: &rhai::NativeCallContext) -> Result<u64> {
    Ok(crate::api::session_rng(ctx)?.borrow_mut().next_u32() as u64)
}

#[export_module]
pub mod nn_module {
    use std::path::Path;
    use std::sync::Arc;

    use rhai::{Map, NativeCallContext};

    use super::{NetworkHandle, seed_from};
    use crate::api::convert::{RhaiResult, located};

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
    pub fn mlp(ctx: NativeCallContext, options: Map) -> RhaiResult<NetworkHandle> {
        located(&ctx, || {
            let opts = super::MLP.parse(options)?;
            super::mlp(&opts, || seed_from(&ctx))
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
    pub fn load(ctx: NativeCallContext, path: &str) -> RhaiResult<NetworkHandle> {
        located(&ctx, || {
            let m = crate::nn::load(Path::new(path))?;
            Ok(NetworkHandle {
                spec: m.spec(),
                model: Some(Arc::new(m)),
                history: None,
            })
        })
    }
}

#[export_module]
pub mod nn_methods {
    use rhai::{Dynamic, Map, NativeCallContext};

    use super::{NetworkHandle, seed_from};
    use crate::api::convert::RhaiResult;
    use crate::data::Labels;
    use crate::matrix::Matrix;

    /// Trains with default options (Adam, lr 1e-3, batch 64, 100 epochs).
    ///
    /// Errors: as `fit(x, labels, options)`.
    #[rhai_fn(global, name = "fit", return_raw)]
    pub fn fit(
        ctx: NativeCallContext,
        net: &mut NetworkHandle,
        x: Matrix,
        labels: Labels,
    ) -> RhaiResult<NetworkHandle> {
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
        net: &mut NetworkHandle,
        x: Matrix,
        labels: Labels,
        options: Map,
    ) -> RhaiResult<NetworkHandle> {
        let opts = super::FIT.parse(options)?;
        let fit = super::fit_options(&opts, || seed_from(&ctx))?;
        net.fit(&x, &labels, &opts, fit)?;
        Ok(net.clone())
    }

    /// P(label | x) for each row (`Matrix`: rows named as `x`'s, columns by
    /// the labels).
    ///
    /// Errors: not fitted; other columns than the network's; NaN features.
    #[rhai_fn(global, name = "predict_proba", return_raw, pure)]
    pub fn predict_proba(net: &mut NetworkHandle, x: Matrix) -> RhaiResult<Matrix> {
        let m = net.fitted()?;
        let p = m.predict_proba(x.values().view())?;
        Ok(Matrix::new(p).with_names(
            x.row_names().map(<[String]>::to_vec),
            Some(m.output_names()),
        )?)
    }

    /// The labels with probability above 0.5 (for top-k or tuned
    /// thresholds, use `metrics::top_k` / `metrics::apply_thresholds` on
    /// `predict_proba`).
    ///
    /// Errors: as `predict_proba`.
    #[rhai_fn(global, name = "predict", return_raw, pure)]
    pub fn predict(net: &mut NetworkHandle, x: Matrix) -> RhaiResult<Labels> {
        let m = net.fitted()?;
        let p = m.predict_proba(x.values().view())?;
        Ok(Labels::new(
            m.output_names(),
            p.mapv(|p| u8::from(p > 0.5)),
        )?)
    }

    /// The training history: `loss`, `val_loss` (with validation) and
    /// `seconds` per epoch, `epochs`, `best_epoch` (the weights held),
    /// `stopped_early`; `()` before `fit`.
    #[rhai_fn(global, get = "history", pure)]
    pub fn history(net: &mut NetworkHandle) -> Dynamic {
        net.history
            .as_ref()
            .map_or(Dynamic::UNIT, |h| super::history_map(h).into())
    }

    /// Writes the network (weights, scaler, label names) to a `.safetensors`
    /// model file, atomically.
    ///
    /// Errors: not fitted; the path is not `.safetensors` or cannot be written.
    #[rhai_fn(global, name = "save", return_raw, pure)]
    pub fn save(net: &mut NetworkHandle, path: &str) -> RhaiResult<()> {
        Ok(net.fitted()?.save(std::path::Path::new(path))?)
    }

    /// The architecture, its parameter count and the training so far.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn to_string(net: &mut NetworkHandle) -> String {
        super::describe(net)
    }
}
