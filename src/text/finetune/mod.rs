//! Fine-tuning a sentence encoder on multi-label genres: the BERT and a
//! classification head (the folder's pooling, dropout, a linear layer, a
//! sigmoid per genre) trained end to end with binary cross-entropy (per-genre
//! positive weights optional), AdamW with linear warm-up and decay, gradient
//! clipping, length-bucketed batches, early stopping on dev, checkpoints
//! that resume, and Ctrl-C at a batch boundary. One seed fixes the head's
//! initialisation, the batch order and every dropout mask, so a run gives
//! the same weights every time (on the CPU).

pub mod adamw;
pub mod candle;
pub(crate) mod checkpoint;
pub mod classifier;
pub mod cpu;
pub mod history;
pub mod kernels;
pub mod params;
pub mod profile;
mod train;

use std::path::Path;

use serde::{Deserialize, Serialize};

use candle_core::Device;

use crate::data::Labels;
use crate::error::{Error, Result};
use crate::options::{FromValue, ShowDefault, Value};
use crate::text::encoder::Folder;
use crate::text::encoder::handle::Encoder;
pub use classifier::TextClassifier;
use cpu::Freeze;
use params::Params;
/// Dev loss, micro-F1 at 0.5 and at dev-tuned thresholds of logits (the poster fine-tune reports the same).
pub(crate) use train::scores as dev_scores;

/// `freeze`: nothing, the embeddings, or the embeddings and the lowest N layers.
impl FromValue for Freeze {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Unit => Some(Freeze::default()),
            Value::Text(s) if s == "embeddings" => Some(Freeze {
                embeddings: true,
                layers: 0,
            }),
            Value::Int(n) if *n >= 0 => Some(Freeze {
                embeddings: *n > 0,
                layers: *n as usize,
            }),
            _ => None,
        }
    }
}

impl ShowDefault for Freeze {
    fn show_default(&self) -> Option<String> {
        Some(match (self.embeddings, self.layers) {
            (false, _) => "()".into(),
            (true, 0) => "\"embeddings\"".into(),
            (true, n) => n.to_string(),
        })
    }
}

/// `pos_weight`: none, "balanced" (negatives / positives per genre), or one
/// weight per genre.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum PosWeight {
    #[default]
    None,
    Balanced,
    Given(Vec<f64>),
}

impl FromValue for PosWeight {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Unit => Some(PosWeight::None),
            Value::Text(s) if s == "balanced" => Some(PosWeight::Balanced),
            other => Vec::<f64>::from_value(other).map(PosWeight::Given),
        }
    }
}

impl ShowDefault for PosWeight {
    fn show_default(&self) -> Option<String> {
        Some("()".into())
    }
}

/// Texts a script gives: a `Movies` (its overviews) or strings.
#[derive(Clone, Debug)]
pub struct Texts(pub Vec<String>);

impl FromValue for Texts {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Movies(m) => Some(Texts(m.overviews().map(str::to_string).collect())),
            other => Vec::<String>::from_value(other).map(Texts),
        }
    }
}

impl ShowDefault for Texts {
    fn show_default(&self) -> Option<String> {
        None
    }
}

/// `[texts or Movies, Labels]`.
fn texts_labels_pair(v: &Value) -> std::result::Result<(), String> {
    match v.list() {
        Some([t, Value::Labels(_)]) if Texts::from_value(t).is_some() => Ok(()),
        _ => Err(String::new()),
    }
}

crate::choices! {
    /// Where the training runs.
    pub enum TrainDevice { Cpu = "cpu", Cuda = "cuda" }
}

crate::options! {
    /// `Encoder.fine_tune`: the training of the encoder and its head.
    pub struct FineTuneOptions for "Encoder.fine_tune" {
        /// passes over the training texts at most
        epochs: usize = 3 => Int(POSITIVE_INT),
        /// AdamW's peak learning rate, reached after the warm-up and decayed linearly to 0
        lr: f64 = 5e-5 => Number(POSITIVE),
        /// the head's peak learning rate (it starts from random weights)
        head_lr: Option<f64> = None => Number(POSITIVE); shown "lr",
        /// texts per step
        batch_size: usize = 32 => Int(POSITIVE_INT),
        /// tokens per text, [CLS] and [SEP] included; longer texts are cut
        max_length: Option<usize> = None => Int(Bounds::at_least(2.0)); shown "the encoder's",
        /// the share of the steps over which the learning rate rises from 0
        warmup: f64 = 0.1 => Number(Bounds { lo: End::Incl(0.0), hi: End::Excl(1.0) }),
        /// AdamW's decoupled weight decay (not on biases and layer norms)
        weight_decay: f64 = 0.01 => Number(NON_NEGATIVE),
        /// rate on the pooled vector before the head (the BERT's own dropout is its config's)
        dropout: f64 = 0.1 => Number(RATE),
        /// what stays fixed: "embeddings", or N: the embeddings and the lowest N layers (run once, without dropout, and cached)
        freeze: Freeze = Freeze::default() => Either(&[Choice(&["embeddings"]), Int(NON_NEGATIVE), Unit]),
        /// per-genre weight of the positives in the loss: "balanced" (negatives / positives), one number per genre, or () for none
        pos_weight: PosWeight = PosWeight::None => Either(&[Choice(&["balanced"]), Numbers(POSITIVE), Unit]),
        /// gradients are scaled down to this global L2 norm at most
        max_grad_norm: f64 = 1.0 => Number(POSITIVE),
        /// [dev texts or Movies, dev Labels]: loss and micro-F1 each epoch, the best epoch kept
        validation: Option<(Texts, Labels)> = None => Custom {
            expected: "[dev texts or Movies, dev Labels]",
            check: texts_labels_pair,
        },
        /// stop after this many epochs without a better dev micro-F1 (needs validation)
        patience: Option<usize> = None => Int(POSITIVE_INT),
        /// a .safetensors file holding the training state after every epoch and at Ctrl-C; a rerun resumes from it, a finished run is read back
        checkpoint: Option<String> = None => Text,
        /// where the training runs: cuda trains with candle on the first GPU (a build with --features cuda)
        device: TrainDevice = TrainDevice::Cpu => Choice(TrainDevice::NAMES),
        /// fixes this call's random choices: the head's weights, the batch order, every dropout mask
        seed: Option<u64> = None => Int(SEED_RANGE); shown "drawn from the session seed",
    }
}

impl FineTuneOptions {
    /// Checks that span options.
    pub fn check(&self) -> Result<()> {
        if self.patience.is_some() && self.validation.is_none() {
            return Err(Error::invalid(
                "Encoder.fine_tune: option 'patience' needs option 'validation' ([dev texts, dev labels])",
            ));
        }
        Ok(())
    }
}

/// One epoch of training.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// Mean training loss.
    pub loss: f64,
    /// Dev loss and micro-F1 (at 0.5, and at thresholds tuned on dev).
    pub dev_loss: Option<f64>,
    pub dev_f1: Option<f64>,
    pub dev_f1_tuned: Option<f64>,
    pub seconds: f64,
    /// Real tokens (no padding) per second of training.
    pub tokens_per_second: f64,
}

/// What the training did.
pub type FineTuneHistory = history::History<EpochRecord>;

/// Token ids and label rows of the training texts.
struct Data {
    sequences: Vec<Vec<u32>>,
    labels: Vec<f32>,
    classes: usize,
}

impl Data {
    fn new(encoder: &Encoder, texts: &[String], y: &Labels, max_length: usize) -> Data {
        let sequences = texts
            .iter()
            .map(|t| encoder.encoder.token_ids_at(t, max_length))
            .collect();
        Data {
            sequences,
            labels: y.values().iter().map(|v| f32::from(*v)).collect(),
            classes: y.cols(),
        }
    }
}

/// Per-genre positive weights, and the genres with no positive (named in a
/// warning by the caller).
fn positive_weights(o: &PosWeight, y: &Labels) -> Result<Vec<f32>> {
    let counts = y.counts();
    let n = y.rows();
    Ok(match o {
        PosWeight::None => vec![1.0; y.cols()],
        PosWeight::Balanced => counts
            .iter()
            .map(|&c| {
                if c == 0 {
                    1.0
                } else {
                    (n - c) as f32 / c as f32
                }
            })
            .collect(),
        PosWeight::Given(w) => {
            if w.len() != y.cols() {
                return Err(Error::invalid(format!(
                    "Encoder.fine_tune: option 'pos_weight' has {} weights for {} genres; give one per genre (in the labels' order)",
                    w.len(),
                    y.cols()
                )));
            }
            w.iter().map(|v| *v as f32).collect()
        }
    })
}

/// Everything a training run holds that a checkpoint keeps.
pub struct State {
    pub params: Params,
    pub adam: adamw::AdamW,
    /// Steps taken, and where in which epoch the next one is.
    pub step: usize,
    pub epoch: usize,
    pub batch: usize,
    /// Sum of this epoch's batch losses so far, and its tokens and seconds.
    pub epoch_loss: f64,
    pub epoch_tokens: usize,
    pub epoch_seconds: f64,
    pub history: FineTuneHistory,
    /// The trained parameters of the best epoch so far (with validation).
    pub best: Option<Vec<Vec<f32>>>,
    pub best_f1: f64,
    pub complete: bool,
}

/// Fine-tunes `encoder` on `texts` and `y`: the classifier of the best
/// epoch (the last without validation).
pub fn fine_tune(
    encoder: &Encoder,
    texts: &Texts,
    y: &Labels,
    o: &FineTuneOptions,
) -> Result<TextClassifier> {
    o.check()?;
    let what = "Encoder.fine_tune";
    if texts.0.len() != y.rows() {
        return Err(Error::invalid(format!(
            "{what}: {} texts but {} label rows; give one label row per text",
            texts.0.len(),
            y.rows()
        )));
    }
    if texts.0.is_empty() {
        return Err(Error::invalid(format!("{what}: no texts to train on")));
    }
    if let Some((dev, y_dev)) = &o.validation {
        if dev.0.len() != y_dev.rows() {
            return Err(Error::invalid(format!(
                "{what}: option 'validation' has {} texts but {} label rows",
                dev.0.len(),
                y_dev.rows()
            )));
        }
        crate::data::labels::check_same_labels(
            what,
            ("the training labels", y.names()),
            ("the validation labels", Some(y_dev.names())),
        )?;
    }
    let device = match o.device {
        TrainDevice::Cpu => None,
        TrainDevice::Cuda => Some(Device::new_cuda(0).map_err(|e| match e {
            candle_core::Error::NotCompiledWithCudaSupport => Error::invalid(format!(
                "{what}: device \"cuda\" needs a genrelab built with the cuda feature (cargo build --release --features cuda)"
            )),
            other => Error::invalid(format!("{what}: no CUDA device: {other}")),
        })?),
    };
    let empty: Vec<&str> = y
        .names()
        .iter()
        .zip(y.counts())
        .filter(|(_, c)| *c == 0)
        .map(|(n, _)| n.as_str())
        .collect();
    if !empty.is_empty() {
        crate::record::warning(&format!(
            "{what}: no training text has {}; the head still trains on them (they learn to say no)",
            empty.join(", ")
        ));
    }
    let base = &encoder.encoder;
    let max_length = o.max_length.unwrap_or(base.max_length);
    let folder = Folder::read(&base.folder)?;
    if max_length > folder.config.max_position_embeddings {
        return Err(Error::invalid(format!(
            "{what}: option 'max_length' is {max_length}, above the model's {} positions",
            folder.config.max_position_embeddings
        )));
    }
    if o.freeze.layers > folder.config.num_hidden_layers {
        return Err(Error::invalid(format!(
            "{what}: option 'freeze' is {}, but the model has {} layers",
            o.freeze.layers, folder.config.num_hidden_layers
        )));
    }
    let pos_weight = positive_weights(&o.pos_weight, y)?;
    let data = Data::new(encoder, &texts.0, y, max_length);
    let dev = o
        .validation
        .as_ref()
        .map(|(t, l)| Data::new(encoder, &t.0, l, max_length));
    let seed = o.seed.unwrap_or(0);
    let identity = checkpoint::identity(base, &folder, o, &data, max_length)?;
    let mut state = match o.checkpoint.as_deref().map(Path::new) {
        Some(path) if path.exists() => {
            checkpoint::read(path, &identity, fresh_state(&folder, y.cols(), o, seed)?)?
        }
        _ => fresh_state(&folder, y.cols(), o, seed)?,
    };
    let trained = if state.complete {
        Ok(())
    } else {
        // On a worker of the pool: the many parallel steps of a batch then
        // start as local jobs, without a cross-thread hand-off each.
        let pooling = base.pooling;
        let mut out = Ok(());
        rayon::scope(|s| {
            s.spawn(|_| {
                out = train::train(
                    &mut state,
                    &data,
                    dev.as_ref(),
                    &pos_weight,
                    pooling,
                    o,
                    &identity,
                    device,
                );
                profile::report();
            })
        });
        out
    };
    if let Some(best) = &state.best {
        for (p, b) in state.params.items.iter_mut().zip(best) {
            if !b.is_empty() {
                p.data.clone_from(b);
            }
        }
    }
    trained?;
    TextClassifier::new(
        encoder,
        state.params,
        y.names().to_vec(),
        Some(state.history),
        max_length,
    )
}

fn fresh_state(folder: &Folder, labels: usize, o: &FineTuneOptions, seed: u64) -> Result<State> {
    let params = Params::read(&folder.weights, &folder.config, labels, seed)?;
    let grads = gradient_buffers(&params, o.freeze);
    let adam = adamw::AdamW::new(
        adamw::AdamWConfig {
            weight_decay: o.weight_decay,
            ..adamw::AdamWConfig::default()
        },
        &grads,
    );
    Ok(State {
        params,
        adam,
        step: 0,
        epoch: 0,
        batch: 0,
        epoch_loss: 0.0,
        epoch_tokens: 0,
        epoch_seconds: 0.0,
        history: FineTuneHistory::default(),
        best: None,
        best_f1: -1.0,
        complete: false,
    })
}

/// A zeroed gradient buffer for each trained parameter, an empty one for
/// each frozen one.
fn gradient_buffers(p: &Params, freeze: Freeze) -> Vec<Vec<f32>> {
    let first_trained = if freeze.embeddings {
        p.layer_start(freeze.layers)
    } else {
        0
    };
    p.items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            if i >= first_trained {
                vec![0.0; item.data.len()]
            } else {
                Vec::new()
            }
        })
        .collect()
}
