//! A network as scripts hold it — `nn::mlp` or `fusion::gmu` — with the
//! declared options of building and training it: the requested
//! architecture, and once trained the weights and the history.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use super::train::{Epoch, Stop};
use super::{
    Activation, FitOptions, Gmu, GmuSpec, History, Mlp, MlpSpec, OptimizerKind, Trainable,
};
use crate::data::Labels;
use crate::error::{Error, Result};
use crate::matrix::Matrix;
use crate::nn::SavedNetwork;
use crate::options::Value;

crate::options! {
    /// `nn::mlp`: the architecture.
    pub struct MlpOptions for "nn::mlp" {
        /// sizes of the hidden layers
        hidden: Vec<usize> = vec![100] => Ints(POSITIVE_INT),
        /// of the hidden layers
        activation: Activation = Activation::Relu => Choice(Activation::NAMES),
        /// rate after each hidden layer, in training
        dropout: f64 = 0.0 => Number(RATE),
        /// scale each feature to mean 0, sd 1 on the training rows, remembered for prediction (scikit-learn's StandardScaler)
        standardize: bool = false => Bool,
        /// input width
        input: Option<usize> = None => Int(POSITIVE_INT); shown "the features' width at the first fit",
        /// output width
        outputs: Option<usize> = None => Int(POSITIVE_INT); shown "the labels' count at the first fit",
        /// fixes this call's random choices
        seed: Option<u64> = None => Int(SEED_RANGE); shown "drawn from the session seed",
    }
}

crate::options! {
    /// `fusion::gmu`: the gated multimodal unit's architecture.
    pub struct GmuOptions for "fusion::gmu" {
        /// [text columns, image columns]: the widths of the two blocks of `data::hstack([text, image])`
        inputs: [usize; 2] = [0, 0] => Tuple(2, POSITIVE_INT); required,
        /// units of each modality's tanh projection and of the gate
        hidden: usize = 512 => Int(POSITIVE_INT),
        /// output width
        outputs: Option<usize> = None => Int(POSITIVE_INT); shown "the labels' count at the first fit",
        /// rate on the gated hidden layer, in training
        dropout: f64 = 0.0 => Number(RATE),
        /// scale each feature to mean 0, sd 1 on the training rows, remembered for prediction (scikit-learn's StandardScaler)
        standardize: bool = false => Bool,
        /// fixes this call's random choices
        seed: Option<u64> = None => Int(SEED_RANGE); shown "drawn from the session seed",
    }
}

crate::choices! {
    /// The update rule `Network.fit` names.
    pub enum OptimizerName { Adam = "adam", Rmsprop = "rmsprop", Sgd = "sgd" }
}

/// `early_stopping`: `true` (a patience of 10 epochs), `false`, or a patience.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Patience(pub Option<usize>);

impl crate::options::FromValue for Patience {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Bool(b) => Some(Patience(b.then_some(10))),
            Value::Int(p) if *p >= 1 => Some(Patience(Some(*p as usize))),
            _ => None,
        }
    }
}

impl crate::options::ShowDefault for Patience {
    fn show_default(&self) -> Option<String> {
        Some(self.0.map_or("false".into(), |p| p.to_string()))
    }
}

fn patience_value(v: &Value) -> std::result::Result<(), String> {
    match <Patience as crate::options::FromValue>::from_value(v) {
        Some(_) => Ok(()),
        None => Err(String::new()),
    }
}

/// `[features Matrix, Labels]`.
fn matrix_labels_pair(v: &Value) -> std::result::Result<(), String> {
    match v.list() {
        Some([Value::Matrix(_), Value::Labels(_)]) => Ok(()),
        _ => Err(String::new()),
    }
}

crate::options! {
    /// `Network.fit`: training.
    pub struct TrainOptions for "Network.fit" {
        /// passes over the data at most
        epochs: usize = 100 => Int(POSITIVE_INT),
        /// rows per step
        batch_size: usize = 64 => Int(POSITIVE_INT),
        /// adam (β 0.9/0.999, ε 1e-8), rmsprop (Keras': ε 1e-7) or sgd
        optimizer: OptimizerName = OptimizerName::Adam => Choice(OptimizerName::NAMES),
        /// learning rate
        lr: f64 = 1e-3 => Number(POSITIVE),
        /// Keras' lr / (1 + decay·step)
        decay: f64 = 0.0 => Number(NON_NEGATIVE),
        /// sgd's momentum
        momentum: f64 = 0.0 => Number(RATE),
        /// rmsprop's decay of the squared gradients
        rho: f64 = 0.9 => Number(RATE),
        /// L2 on weights added to the gradient; scikit-learn's alpha over (batch size × labels)
        weight_decay: f64 = 0.0 => Number(NON_NEGATIVE),
        /// rows evaluated each epoch
        validation: Option<(Matrix, Labels)> = None => Custom {
            expected: "[features Matrix, Labels]",
            check: matrix_labels_pair,
        },
        /// stop when the validation loss (the training loss without validation) has not improved for this many epochs (true: 10), keeping the best epoch's weights
        early_stopping: Patience = Patience(None) => Custom {
            expected: "true, false or a patience of 1 or more epochs",
            check: patience_value,
        },
        /// the least change that counts as an improvement
        min_delta: f64 = 1e-5 => Number(NON_NEGATIVE),
        /// shuffle the rows every epoch
        shuffle: bool = true => Bool,
        /// a line per epoch on stderr
        verbose: bool = false => Bool,
        /// fixes this call's random choices
        seed: Option<u64> = None => Int(SEED_RANGE); shown "drawn from the session seed",
    }
}

impl TrainOptions {
    /// The trainer's options (the seed filled in by the caller).
    pub fn fit_options(&self) -> FitOptions {
        let optimizer = match self.optimizer {
            OptimizerName::Sgd => OptimizerKind::Sgd {
                momentum: self.momentum as f32,
            },
            OptimizerName::Rmsprop => OptimizerKind::RmsProp {
                rho: self.rho as f32,
                epsilon: 1e-7,
            },
            OptimizerName::Adam => OptimizerKind::Adam {
                beta1: 0.9,
                beta2: 0.999,
                epsilon: 1e-8,
            },
        };
        FitOptions {
            epochs: self.epochs,
            batch_size: self.batch_size,
            optimizer,
            lr: self.lr as f32,
            decay: self.decay as f32,
            weight_decay: self.weight_decay as f32,
            patience: self.early_stopping.0,
            min_delta: self.min_delta,
            shuffle: self.shuffle,
            seed: self.seed.unwrap_or(0),
        }
    }
}

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
pub struct Network {
    pub spec: Spec,
    pub model: Option<Arc<SavedNetwork>>,
    pub history: Option<Arc<History>>,
}

/// The history as scripts read it.
#[derive(Serialize)]
pub struct HistoryView {
    loss: Vec<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    val_loss: Option<Vec<f64>>,
    seconds: Vec<f64>,
    epochs: usize,
    best_epoch: usize,
    stopped_early: bool,
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

    pub fn save(&self, path: &Path) -> Result<()> {
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

    fn parameters(&self) -> usize {
        match self {
            SavedNetwork::Mlp(m) => m.parameters(),
            SavedNetwork::Gmu(g) => g.parameters(),
        }
    }
}

impl Network {
    fn unbuilt(spec: Spec) -> Network {
        Network {
            spec,
            model: None,
            history: None,
        }
    }

    /// An MLP to build at the first `fit` (`o.seed` filled in).
    pub fn mlp(o: &MlpOptions) -> Network {
        Network::unbuilt(Spec::Mlp(MlpSpec {
            input: o.input.unwrap_or(0),
            hidden: o.hidden.clone(),
            outputs: o.outputs.unwrap_or(0),
            activation: o.activation,
            dropout: o.dropout as f32,
            standardize: o.standardize,
            seed: o.seed.unwrap_or(0),
        }))
    }

    /// A GMU to build at the first `fit` (`o.seed` filled in).
    pub fn gmu(o: &GmuOptions) -> Network {
        Network::unbuilt(Spec::Gmu(GmuSpec {
            inputs: o.inputs,
            hidden: o.hidden,
            outputs: o.outputs.unwrap_or(0),
            dropout: o.dropout as f32,
            standardize: o.standardize,
            seed: o.seed.unwrap_or(0),
        }))
    }

    pub fn load(path: &Path) -> Result<Network> {
        let m = crate::nn::load(path)?;
        Ok(Network {
            spec: m.spec(),
            model: Some(Arc::new(m)),
            history: None,
        })
    }

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
    /// error mid-training (Ctrl-C, a diverging loss) the network keeps the
    /// best weights reached, so nothing already learnt is lost.
    pub fn fit(&mut self, x: &Matrix, y: &Labels, o: &TrainOptions) -> Result<()> {
        let fit = o.fit_options();
        let mut net = self.network(x, y)?;
        if net.names().is_some_and(|n| n != y.names()) {
            return Err(Error::invalid(
                "fit: these labels have other names than the ones the network was trained on",
            ));
        }
        let yv = o.validation.as_ref().map(|(_, l)| labels_f32(l));
        let mut bar = crate::progress::Progress::new("fit", fit.epochs, "epoch");
        let mut report = |e: &Epoch| {
            let note = match e.val_loss {
                Some(v) => format!("loss {:.4} val_loss {:.4}", e.loss, v),
                None => format!("loss {:.4}", e.loss),
            };
            if o.verbose {
                eprintln!(
                    "epoch {}/{}: {note} ({:.2} s)",
                    e.epoch, e.epochs, e.seconds
                );
            }
            bar.update(e.epoch, &note);
        };
        let y32 = labels_f32(y);
        let val = o
            .validation
            .as_ref()
            .zip(yv.as_ref())
            .map(|((vx, _), vy)| (vx.values().view(), vy.view()));
        let x = x.values().view();
        let result = match &mut net {
            SavedNetwork::Mlp(m) => super::train::fit(m, x, y32.view(), val, &fit, &mut report),
            SavedNetwork::Gmu(g) => {
                super::train::fit(g.as_mut(), x, y32.view(), val, &fit, &mut report)
            }
        };
        // Data errors come before training and change nothing; once epochs
        // ran, the network is kept even when training was cut short.
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

    /// P(label | x) per row (rows named as `x`'s, columns by label).
    pub fn predict_proba(&self, x: &Matrix) -> Result<Matrix> {
        let m = self.fitted()?;
        Matrix::new(m.predict_proba(x.values().view())?).with_names(
            x.row_names().map(<[String]>::to_vec),
            Some(m.output_names()),
        )
    }

    /// The labels with probability above 0.5.
    pub fn predict(&self, x: &Matrix) -> Result<Labels> {
        let m = self.fitted()?;
        let p = m.predict_proba(x.values().view())?;
        Labels::new(m.output_names(), p.mapv(|p| u8::from(p > 0.5)))
    }

    /// The training history; `None` before `fit`.
    pub fn history(&self) -> Option<HistoryView> {
        let h = self.history.as_ref()?;
        let floats = |f: &dyn Fn(&Epoch) -> f64| h.epochs.iter().map(f).collect::<Vec<_>>();
        Some(HistoryView {
            loss: floats(&|e| e.loss),
            val_loss: (!h.epochs.is_empty() && h.epochs.iter().all(|e| e.val_loss.is_some()))
                .then(|| floats(&|e| e.val_loss.unwrap_or(f64::NAN))),
            seconds: floats(&|e| e.seconds),
            epochs: h.epochs.len(),
            best_epoch: h.best_epoch,
            stopped_early: h.stop == Stop::EarlyStopped,
        })
    }
}

pub fn labels_f32(y: &Labels) -> ndarray::Array2<f32> {
    y.values().mapv(f32::from)
}

fn width(s: usize) -> String {
    if s == 0 {
        "?".to_string()
    } else {
        s.to_string()
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let spec = self.model.as_ref().map_or(self.spec.clone(), |m| m.spec());
        let state = match &self.model {
            None => "not fitted".to_string(),
            Some(m) => {
                let trained = self.history.as_ref().map_or(String::new(), |h| {
                    format!("; trained {} epochs, best {}", h.epochs.len(), h.best_epoch)
                });
                format!("{} parameters{trained}", m.parameters())
            }
        };
        match spec {
            Spec::Mlp(spec) => {
                let sizes: Vec<String> = spec.sizes().into_iter().map(width).collect();
                write!(
                    f,
                    "Mlp {} ({}, dropout {}; {state})",
                    sizes.join(" → "),
                    spec.activation.name(),
                    spec.dropout
                )
            }
            Spec::Gmu(spec) => write!(
                f,
                "Gmu [{} text, {} image] → {} gated → {} (dropout {}; {state})",
                spec.inputs[0],
                spec.inputs[1],
                spec.hidden,
                width(spec.outputs),
                spec.dropout
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::Options;

    #[test]
    fn train_options_map_onto_the_trainer() {
        let o = TrainOptions::from_pairs(&[
            ("optimizer", Value::Text("sgd".into())),
            ("momentum", Value::Float(0.9)),
            ("early_stopping", Value::Bool(true)),
            ("seed", Value::Int(3)),
        ])
        .unwrap();
        let f = o.fit_options();
        assert_eq!(f.optimizer, OptimizerKind::Sgd { momentum: 0.9 });
        assert_eq!((f.patience, f.seed), (Some(10), 3));
        let o = TrainOptions::from_pairs(&[("early_stopping", Value::Int(4))]).unwrap();
        assert_eq!(o.fit_options().patience, Some(4));
        for bad in [Value::Int(0), Value::Text("yes".into())] {
            let e = TrainOptions::from_pairs(&[("early_stopping", bad)])
                .unwrap_err()
                .to_string();
            assert!(e.contains("expected true, false or a patience"), "{e}");
        }
        let e = TrainOptions::from_pairs(&[("validation", Value::List(vec![]))])
            .unwrap_err()
            .to_string();
        assert!(e.contains("expected [features Matrix, Labels]"), "{e}");
    }

    #[test]
    fn an_unbuilt_network_shows_its_unknown_widths() {
        let o = MlpOptions::from_pairs(&[(
            "hidden",
            Value::List(vec![Value::Int(1024), Value::Int(256)]),
        )])
        .unwrap();
        let net = Network::mlp(&o);
        assert_eq!(
            net.to_string(),
            "Mlp ? → 1024 → 256 → ? (relu, dropout 0; not fitted)"
        );
        assert!(net.fitted().is_err() && net.history().is_none());
        let e = GmuOptions::from_pairs(&[]).unwrap_err().to_string();
        assert!(e.contains("option 'inputs' is required"), "{e}");
    }
}
