//! The training loop: shuffled batches of posters, each a batch of views
//! (augmented or centred) through the fixed prefix, the trained blocks
//! forward and backward, AdamW; validation after every epoch with the best
//! epoch kept, early stopping, checkpoints after every epoch and at Ctrl-C.

use std::path::Path;
use std::time::Instant;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rayon::prelude::*;

use super::grad::{self, Norm};
use super::net::{BLOCKS, Network};
use super::posters::{self, Augment, CROP};
use super::{EpochRecord, History, PosterFineTuneOptions, Set, checkpoint};
use crate::error::{Error, Result};
use crate::text::finetune::adamw::{self, AdamW, AdamWConfig};
use crate::text::finetune::kernels::splitmix;
use crate::vision::layers::Maps;
use crate::vision::mobilenet::MobileNetV2;

/// Everything a training run holds that a checkpoint keeps.
pub struct State {
    pub net: Network,
    pub adam: AdamW,
    /// Which parameters train.
    pub trained: Vec<bool>,
    pub step: usize,
    pub epoch: usize,
    pub batch: usize,
    pub epoch_loss: f64,
    pub epoch_images: usize,
    pub epoch_seconds: f64,
    pub history: History,
    /// Every parameter of the best epoch so far (with validation).
    pub best: Option<Vec<Vec<f32>>>,
    pub best_f1: f64,
    pub complete: bool,
}

impl State {
    pub fn new(net: Network, o: &PosterFineTuneOptions) -> State {
        let trained = net.trained(o.trainable);
        let grads = gradient_buffers(&net, &trained);
        let adam = AdamW::new(
            AdamWConfig {
                weight_decay: o.weight_decay,
                ..AdamWConfig::default()
            },
            &grads,
        );
        State {
            net,
            adam,
            trained,
            step: 0,
            epoch: 0,
            batch: 0,
            epoch_loss: 0.0,
            epoch_images: 0,
            epoch_seconds: 0.0,
            history: History::default(),
            best: None,
            best_f1: -1.0,
            complete: false,
        }
    }

    /// The best epoch's parameters, when validation chose one.
    pub fn keep_best(&mut self) {
        if let Some(best) = self.best.take() {
            for (p, b) in self.net.params.iter_mut().zip(best) {
                p.data = b;
            }
        }
    }
}

/// A buffer per trained parameter, an empty one for the others.
fn gradient_buffers(net: &Network, trained: &[bool]) -> Vec<Vec<f32>> {
    net.params
        .iter()
        .zip(trained)
        .map(|(p, t)| {
            if *t {
                vec![0.0; p.data.len()]
            } else {
                Vec::new()
            }
        })
        .collect()
}

/// The fixed blocks' outputs of posters, one row of maps each.
struct Prefix<'a> {
    net: &'a MobileNetV2,
    blocks: usize,
}

impl Prefix<'_> {
    /// The maps of `views` (each a normalised 224² input), as one batch.
    fn batch(&self, views: Vec<Vec<f32>>) -> Result<Maps> {
        let maps: Vec<Maps> = views
            .par_iter()
            .map(|v| self.net.prefix(v, (CROP, CROP, 3), self.blocks))
            .collect::<Result<_>>()?;
        let (h, w, c) = (maps[0].h, maps[0].w, maps[0].c);
        Ok(Maps {
            n: maps.len(),
            h,
            w,
            c,
            data: maps.into_iter().flat_map(|m| m.data).collect(),
        })
    }

    /// Every poster's view (`view(i)`) through the fixed blocks, in chunks.
    fn all(&self, set: &Set, view: impl Fn(usize) -> Vec<f32> + Sync) -> Result<Vec<Maps>> {
        (0..set.len())
            .collect::<Vec<_>>()
            .chunks(64)
            .map(|chunk| self.batch(chunk.par_iter().map(|&i| view(i)).collect()))
            .collect()
    }
}

/// The seed of poster `i`'s view: drawn per step (`salt`: the step's
/// seed) or per kept view (`salt`: the view's number).
fn view_seed(salt: u64, i: usize) -> u64 {
    splitmix(salt ^ (i as u64).wrapping_mul(0x2545_F491_4F6C_DD1D))
}

/// Rows `rows` of chunked maps (chunks of 64) as one batch, row `i` from
/// the set of chunks `pick(i)` chooses.
fn gather(sets: &[Vec<Maps>], rows: &[usize], pick: impl Fn(usize) -> usize) -> Maps {
    let first = &sets[0][0];
    let per = first.h * first.w * first.c;
    let mut data = Vec::with_capacity(rows.len() * per);
    for &i in rows {
        let chunk = &sets[pick(i)][i / 64];
        data.extend_from_slice(&chunk.data[(i % 64) * per..(i % 64 + 1) * per]);
    }
    Maps {
        n: rows.len(),
        h: first.h,
        w: first.w,
        c: first.c,
        data,
    }
}

pub(super) fn train(
    state: &mut State,
    folded: &MobileNetV2,
    data: &Set,
    dev: Option<&Set>,
    o: &PosterFineTuneOptions,
    identity: &checkpoint::Identity,
) -> Result<()> {
    let prefix = Prefix {
        net: folded,
        blocks: BLOCKS - o.trainable,
    };
    let seed = o.seed.unwrap_or(0);
    // The fixed blocks' outputs kept for the whole run: of the centred
    // views, or of `views` augmented views of each poster.
    let cached: Option<Vec<Vec<Maps>>> = match (o.augment, o.views) {
        (false, _) => Some(vec![
            prefix.all(data, |i| posters::center(&data.posters[i]))?,
        ]),
        (true, Some(views)) => Some(
            (0..views)
                .map(|v| {
                    let salt = splitmix(seed ^ (v as u64 + 1).wrapping_mul(0xA076_1D64_78BD_642F));
                    prefix.all(data, |i| {
                        posters::augmented(&data.posters[i], Augment::default(), view_seed(salt, i))
                    })
                })
                .collect::<Result<_>>()?,
        ),
        (true, None) => None,
    };
    let dev_cached = dev
        .map(|d| {
            prefix
                .all(d, |i| posters::center(&d.posters[i]))
                .map(|c| vec![c])
        })
        .transpose()?;
    let steps_per_epoch = data.len().div_ceil(o.batch_size);
    let total = steps_per_epoch * o.epochs;
    let warmup = (o.warmup * total as f64).round() as usize;
    let mut grads = gradient_buffers(&state.net, &state.trained);
    let classifier = state.net.params.len() - 2;
    let mut bar = crate::progress::Progress::new("fine-tune posters", total, "batch");
    bar.update(state.step, "");
    while state.epoch < o.epochs {
        let mut order: Vec<usize> = (0..data.len()).collect();
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(splitmix(
            seed ^ (state.epoch as u64).wrapping_mul(0x9E37_79B9),
        ));
        order.shuffle(&mut rng);
        let batches: Vec<&[usize]> = order.chunks(o.batch_size).collect();
        while state.batch < batches.len() {
            if crate::interrupt::check().is_err() {
                if let Some(path) = &o.checkpoint {
                    checkpoint::write(Path::new(path), state, identity)?;
                }
                return Err(Error::Interrupted);
            }
            let started = Instant::now();
            let rows = batches[state.batch];
            let step_seed =
                splitmix(seed ^ (state.step as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03));
            let input = match &cached {
                Some(sets) => gather(sets, rows, |i| {
                    (view_seed(step_seed, i) % sets.len() as u64) as usize
                }),
                None => prefix.batch(
                    rows.par_iter()
                        .map(|&i| {
                            posters::augmented(
                                &data.posters[i],
                                Augment::default(),
                                view_seed(step_seed, i),
                            )
                        })
                        .collect(),
                )?,
            };
            let labels: Vec<f32> = rows
                .iter()
                .flat_map(|&i| {
                    data.labels[i * data.classes..(i + 1) * data.classes]
                        .iter()
                        .copied()
                })
                .collect();
            let (logits, tape) = state.net.forward(
                input,
                o.trainable,
                o.batch_norm,
                Some((o.dropout as f32, step_seed)),
                true,
            );
            let (loss, dlogits) = grad::bce_with_logits(&logits, &labels);
            if !loss.is_finite() {
                return Err(Error::invalid(format!(
                    "Backbone.fine_tune: the loss became {loss} at step {}; lower lr (it is {})",
                    state.step + 1,
                    o.lr
                )));
            }
            let tape = tape.expect("asked for");
            state
                .net
                .backward(tape, &dlogits, o.batch_norm, &mut grads, false);
            if o.batch_norm == Norm::Batch {
                state.net.count_batch(o.trainable);
            }
            let lr = adamw::scheduled_lr(o.lr, state.step, warmup, total);
            let head_lr = lr * o.head_lr / o.lr;
            state.adam.update(&mut state.net.params, &grads, 1.0, |i| {
                if i >= classifier { head_lr } else { lr }
            });
            state.step += 1;
            state.batch += 1;
            state.epoch_loss += loss;
            state.epoch_images += rows.len();
            state.epoch_seconds += started.elapsed().as_secs_f64();
            let rate = state.epoch_images as f64 / state.epoch_seconds.max(1e-9);
            bar.update(
                state.step,
                &format!(
                    "epoch {} loss {:.4} {rate:.0} img/s",
                    state.epoch + 1,
                    state.epoch_loss / state.batch as f64
                ),
            );
        }
        let mut record = EpochRecord {
            loss: state.epoch_loss / batches.len().max(1) as f64,
            seconds: state.epoch_seconds,
            images_per_second: state.epoch_images as f64 / state.epoch_seconds.max(1e-9),
            ..EpochRecord::default()
        };
        let mut improved = true;
        if let (Some(dev), Some(chunks)) = (dev, &dev_cached) {
            let logits = logits_of(&mut state.net, chunks, o.trainable);
            let no_weights = vec![1.0; dev.classes];
            let (dev_loss, f1, tuned) =
                crate::text::finetune::dev_scores(&logits, &dev.labels, dev.classes, &no_weights);
            record.dev_loss = Some(dev_loss);
            record.dev_f1 = Some(f1);
            record.dev_f1_tuned = Some(tuned);
            improved = tuned > state.best_f1;
            if improved {
                state.best_f1 = tuned;
                state.best = Some(state.net.params.iter().map(|p| p.data.clone()).collect());
            }
        }
        let next = state.epoch + 1;
        state.epoch = state
            .history
            .end_epoch(record, improved, next, o.epochs, o.patience);
        state.batch = 0;
        state.epoch_loss = 0.0;
        state.epoch_images = 0;
        state.epoch_seconds = 0.0;
        state.complete = state.epoch >= o.epochs;
        if let Some(path) = &o.checkpoint {
            checkpoint::write(Path::new(path), state, identity)?;
        }
    }
    Ok(())
}

/// The classifier's logits for maps after the fixed blocks (running
/// statistics, no dropout).
fn logits_of(net: &mut Network, chunks: &[Vec<Maps>], trainable: usize) -> Vec<f32> {
    chunks[0]
        .iter()
        .flat_map(|m| {
            net.forward(m.clone(), trainable, Norm::Frozen, None, false)
                .0
        })
        .collect()
}
