//! Fine-tuning MobileNetV2 on multi-label genres: the last `trainable` of
//! torchvision's 19 `features` blocks and a new classifier (dropout, a
//! linear layer, a sigmoid per genre) trained with binary cross-entropy,
//! AdamW with linear warm-up and decay (the text fine-tune's optimiser and
//! schedule), early stopping on dev, checkpoints that resume, and Ctrl-C at
//! a batch boundary. Posters are decoded once (`posters`); the fixed blocks
//! before the trained ones run once per poster when views are not
//! augmented, and once per view when they are. One seed fixes the
//! classifier's initialisation, the batch order, every view and every
//! dropout mask.

mod checkpoint;
pub mod classifier;
pub mod grad;
pub mod net;
pub mod posters;
#[cfg(test)]
mod tests;
mod train;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::data::Labels;
use crate::error::{Error, Result};
use crate::options::{FromValue, Value};
use crate::vision::handle::{BackboneRef, Images};
pub use classifier::ImageClassifier;
use grad::Norm;

crate::choices!(impl Norm { Frozen = "frozen", Batch = "batch" });

/// `[dev Movies or poster paths, dev Labels]`.
fn images_labels_pair(v: &Value) -> std::result::Result<(), String> {
    match v.list() {
        Some([i, Value::Labels(_)]) if Images::from_value(i).is_some() => Ok(()),
        _ => Err(String::new()),
    }
}

crate::options! {
    /// `Backbone.fine_tune`: the training of MobileNetV2's last blocks and a classifier.
    pub struct PosterFineTuneOptions for "Backbone.fine_tune" {
        /// passes over the training posters at most
        epochs: usize = 10 => Int(POSITIVE_INT),
        /// AdamW's peak learning rate for the trained blocks, reached after the warm-up and decayed linearly to 0
        lr: f64 = 3e-4 => Number(POSITIVE),
        /// the classifier's peak learning rate (it starts from random weights)
        head_lr: f64 = 3e-3 => Number(POSITIVE),
        /// posters per step
        batch_size: usize = 32 => Int(POSITIVE_INT),
        /// how many of the 19 features blocks train, counted from the last (features.18, the 1 × 1 head); 0 trains the classifier alone
        trainable: usize = 3 => Int(NON_NEGATIVE),
        /// random resized crops (a quarter of the poster at least), horizontal flips and colour jitter (±20 %), drawn per epoch from the seed
        augment: bool = true => Bool,
        /// with augment: this many views of each poster run through the fixed blocks once and are kept, and each epoch draws one of them per poster (epochs then run the trained blocks only); () draws a fresh view every epoch, rerunning the fixed blocks
        views: Option<usize> = None => Int(POSITIVE_INT); shown "a fresh view every epoch",
        /// batch norms of the trained blocks normalise with their running statistics ("frozen", as PyTorch's eval()) or with each batch's ("batch", train(), which moves the running statistics)
        batch_norm: Norm = Norm::Frozen => Choice(Norm::NAMES),
        /// the share of the steps over which the learning rate rises from 0
        warmup: f64 = 0.05 => Number(Bounds { lo: End::Incl(0.0), hi: End::Excl(1.0) }),
        /// AdamW's decoupled weight decay (not on batch-norm parameters and biases)
        weight_decay: f64 = 1e-4 => Number(NON_NEGATIVE),
        /// rate on the pooled features before the classifier (torchvision's 0.2)
        dropout: f64 = 0.2 => Number(RATE),
        /// [dev Movies or poster paths, dev Labels]: loss and micro-F1 each epoch, the best epoch kept
        validation: Option<(Images, Labels)> = None => Custom {
            expected: "[dev Movies or poster paths, dev Labels]",
            check: images_labels_pair,
        },
        /// stop after this many epochs without a better dev micro-F1 (needs validation)
        patience: Option<usize> = None => Int(POSITIVE_INT),
        /// a .safetensors file holding the training state after every epoch and at Ctrl-C; a rerun resumes from it, a finished run is read back
        checkpoint: Option<String> = None => Text,
        /// fixes this call's random choices: the classifier's weights, the batch order, every view and dropout mask
        seed: Option<u64> = None => Int(SEED_RANGE); shown "drawn from the session seed",
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
    /// Training posters per second (views and the fixed blocks included).
    pub images_per_second: f64,
}

/// What the training did.
pub type History = crate::text::finetune::history::History<EpochRecord>;

/// Decoded posters and their label rows (posters that could not be read
/// are left out, each named in a warning).
pub struct Set {
    pub keys: Vec<String>,
    pub posters: Vec<Vec<u8>>,
    pub labels: Vec<f32>,
    pub classes: usize,
}

impl Set {
    fn read(what: &str, images: &Images, y: &Labels) -> Result<Set> {
        let items = images.items()?;
        if items.len() != y.rows() {
            return Err(Error::invalid(format!(
                "Backbone.fine_tune: {what} has {} posters but {} label rows; give one label row per poster",
                items.len(),
                y.rows()
            )));
        }
        let paths: Vec<PathBuf> = items.iter().map(|(_, p)| p.clone()).collect();
        let bar = std::sync::Mutex::new(crate::progress::Progress::new(
            format!("decode {what}"),
            paths.len(),
            "img",
        ));
        let decoded = posters::decode(&paths, |done| {
            if let Ok(mut bar) = bar.lock() {
                bar.update(done, "")
            }
        });
        let classes = y.cols();
        let mut set = Set {
            keys: Vec::new(),
            posters: Vec::new(),
            labels: Vec::new(),
            classes,
        };
        for (i, ((key, path), poster)) in items.into_iter().zip(decoded).enumerate() {
            match poster {
                Ok(p) => {
                    set.keys.push(key);
                    set.posters.push(p);
                    set.labels
                        .extend(y.values().row(i).iter().map(|v| f32::from(*v)));
                }
                Err(e) => {
                    let why = e.to_string();
                    let path = path.to_string_lossy();
                    let why = why.strip_prefix(&format!("{path}: ")).unwrap_or(&why);
                    crate::record::warning(&format!("{path}: {why}; left out of the {what}"));
                }
            }
        }
        if set.posters.is_empty() {
            return Err(Error::invalid(format!(
                "Backbone.fine_tune: no poster of the {what} could be read"
            )));
        }
        Ok(set)
    }

    pub fn len(&self) -> usize {
        self.posters.len()
    }

    pub fn is_empty(&self) -> bool {
        self.posters.is_empty()
    }
}

impl PosterFineTuneOptions {
    /// Checks that span options.
    pub fn check(&self) -> Result<()> {
        if self.patience.is_some() && self.validation.is_none() {
            return Err(Error::invalid(
                "Backbone.fine_tune: option 'patience' needs option 'validation' ([dev Movies, dev labels])",
            ));
        }
        if self.views.is_some() && !self.augment {
            return Err(Error::invalid(
                "Backbone.fine_tune: option 'views' needs augment: true (without augmentation each poster has one view, cached anyway)",
            ));
        }
        net::check_trainable(self.trainable)
    }
}

/// Fine-tunes the MobileNetV2 of `backbone` on the posters of `images` and
/// `y`: the classifier of the best epoch (the last without validation).
pub fn fine_tune(
    backbone: &BackboneRef,
    images: &Images,
    y: &Labels,
    o: &PosterFineTuneOptions,
) -> Result<ImageClassifier> {
    o.check()?;
    let what = "Backbone.fine_tune";
    let base = &backbone.0;
    let Some(folded) = base.as_mobilenet() else {
        return Err(Error::invalid(format!(
            "{what}: fine-tuning is built for mobilenet_v2; this backbone is {}",
            base.name
        )));
    };
    if let Some((_, y_dev)) = &o.validation {
        crate::data::labels::check_same_labels(
            what,
            ("the training labels", y.names()),
            ("the validation labels", Some(y_dev.names())),
        )?;
    }
    let tensors = crate::vision::pth::read(&base.source)?;
    let seed = o.seed.unwrap_or(0);
    let network = net::Network::from_tensors(tensors, y.cols(), Some(seed))
        .map_err(|e| in_file(&base.source, e))?;
    let train_set = Set::read("training set", images, y)?;
    let dev_set = o
        .validation
        .as_ref()
        .map(|(i, l)| Set::read("validation set", i, l))
        .transpose()?;
    let identity = checkpoint::identity(&base.source, &train_set, y.names(), o)?;
    let mut state = train::State::new(network, o);
    if let Some(path) = o
        .checkpoint
        .as_deref()
        .map(Path::new)
        .filter(|p| p.exists())
    {
        checkpoint::read(path, &identity, &mut state)?;
    }
    let trained = if state.complete {
        Ok(())
    } else {
        train::train(
            &mut state,
            folded,
            &train_set,
            dev_set.as_ref(),
            o,
            &identity,
        )
    };
    state.keep_best();
    trained?;
    ImageClassifier::new(
        state.net,
        &base.source,
        y.names().to_vec(),
        Some(state.history),
    )
}

fn in_file(path: &Path, e: Error) -> Error {
    match e {
        Error::Invalid(message) => Error::file(path, message),
        other => other,
    }
}
