//! The training loop: epochs of length-bucketed batches, the learning-rate
//! schedule, a step on the CPU trainer (`cpu.rs`, its AdamW on the host) or
//! on candle (`candle.rs`, on a GPU), validation after every epoch with
//! the best epoch kept, early stopping, checkpoints after every epoch and at
//! Ctrl-C.

use std::path::Path;
use std::time::Instant;

use candle_core::Device;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rayon::prelude::*;

use super::candle::CandleModel;
use super::cpu::{Dropout, Freeze, Input, Trainer};
use super::params::Params;
use super::{Data, EpochRecord, FineTuneOptions, State, adamw, checkpoint, kernels, profile};
use crate::error::{Error, Result};
use crate::text::encoder::Pooling;

/// The batches of an epoch: positions shuffled (seeded by epoch), sorted
/// by length within chunks of 50 batches so that a batch holds texts of
/// similar length, then the batches shuffled.
fn epoch_batches(data: &Data, batch: usize, seed: u64, epoch: usize) -> Vec<Vec<usize>> {
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(kernels::splitmix(
        seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9),
    ));
    let mut order: Vec<usize> = (0..data.sequences.len()).collect();
    order.shuffle(&mut rng);
    let mut batches = Vec::new();
    for chunk in order.chunks(batch * 50) {
        let mut chunk = chunk.to_vec();
        chunk.sort_by_key(|&i| std::cmp::Reverse(data.sequences[i].len()));
        batches.extend(chunk.chunks(batch).map(<[usize]>::to_vec));
    }
    batches.shuffle(&mut rng);
    batches
}

/// The hidden states after the frozen layers of each sequence (computed
/// once: frozen layers run without dropout).
fn frozen_outputs(p: &Params, data: &Data, layers: usize, trainer: &mut Trainer) -> Vec<Vec<f32>> {
    profile::timed("frozen layers", || {
        let h = p.config.hidden_size;
        let mut out = vec![Vec::new(); data.sequences.len()];
        let mut order: Vec<usize> = (0..data.sequences.len()).collect();
        order.sort_by_key(|&i| data.sequences[i].len());
        for chunk in order.chunks(64) {
            let seqs: Vec<&[u32]> = chunk
                .iter()
                .map(|&i| data.sequences[i].as_slice())
                .collect();
            let states = trainer.prefix(p, &seqs, layers);
            let mut start = 0;
            for (&i, s) in chunk.iter().zip(&seqs) {
                out[i] = states[start * h..(start + s.len()) * h].to_vec();
                start += s.len();
            }
        }
        out
    })
}

/// The trainer's input for `rows`: the states after the frozen layers
/// (packed into `packed`) when they are cached, else the token ids.
fn input<'a>(
    cached: Option<&[Vec<f32>]>,
    rows: &[usize],
    seqs: &'a [&'a [u32]],
    lengths: &'a [usize],
    packed: &'a mut Vec<f32>,
) -> Input<'a> {
    match cached {
        Some(states) => {
            packed.extend(rows.iter().flat_map(|&i| states[i].iter().copied()));
            Input::Hidden {
                states: packed,
                lengths,
            }
        }
        None => Input::Tokens(seqs),
    }
}

/// The hidden states after the frozen layers of each training text and of
/// each dev text.
struct Cached {
    train: Vec<Vec<f32>>,
    dev: Option<Vec<Vec<f32>>>,
}

/// Where the steps run.
enum Backend {
    /// The hand-written trainer; with frozen layers, their outputs cached.
    Cpu {
        trainer: Box<Trainer>,
        grads: Vec<Vec<f32>>,
        cached: Option<Cached>,
    },
    Candle(Box<CandleModel>),
}

/// One training run's fixed settings.
struct Run<'a> {
    data: &'a Data,
    pos_weight: &'a [f32],
    pooling: Pooling,
    dropout: Dropout,
    freeze: Freeze,
    o: &'a FineTuneOptions,
}

#[allow(clippy::too_many_arguments)]
pub(super) fn train(
    state: &mut State,
    data: &Data,
    dev: Option<&Data>,
    pos_weight: &[f32],
    pooling: Pooling,
    o: &FineTuneOptions,
    identity: &checkpoint::Identity,
    device: Option<Device>,
) -> Result<()> {
    let c = state.params.config.clone();
    let run = Run {
        data,
        pos_weight,
        pooling,
        dropout: Dropout {
            hidden: c.hidden_dropout_prob as f32,
            attention: c.attention_probs_dropout_prob as f32,
            head: o.dropout as f32,
        },
        freeze: o.freeze,
        o,
    };
    let grads = super::gradient_buffers(&state.params, o.freeze);
    let mut backend = match device {
        None => {
            let mut trainer = Trainer::default();
            let cached = o.freeze.embeddings.then(|| Cached {
                train: frozen_outputs(&state.params, data, o.freeze.layers, &mut trainer),
                dev: dev.map(|d| frozen_outputs(&state.params, d, o.freeze.layers, &mut trainer)),
            });
            Backend::Cpu {
                trainer: Box::new(trainer),
                grads,
                cached,
            }
        }
        Some(device) => {
            let trained: Vec<bool> = grads.iter().map(|g| !g.is_empty()).collect();
            Backend::Candle(Box::new(CandleModel::new(
                &state.params,
                &trained,
                device,
                &state.adam,
            )?))
        }
    };
    let seed = o.seed.unwrap_or(0);
    let steps_per_epoch = data.sequences.len().div_ceil(o.batch_size);
    let total = steps_per_epoch * o.epochs;
    let warmup = (o.warmup * total as f64).round() as usize;
    let mut bar = crate::progress::Progress::new("fine-tune", total, "batch");
    bar.update(state.step, "");
    while state.epoch < o.epochs {
        let batches = epoch_batches(data, o.batch_size, seed, state.epoch);
        while state.batch < batches.len() {
            if crate::interrupt::check().is_err() {
                if let Some(path) = &o.checkpoint {
                    sync(&backend, state)?;
                    checkpoint::write(Path::new(path), state, identity)?;
                }
                return Err(Error::Interrupted);
            }
            let started = Instant::now();
            let batch = &batches[state.batch];
            let tokens: usize = batch.iter().map(|&i| data.sequences[i].len()).sum();
            let loss = step(&run, &mut backend, state, batch, total, warmup)?;
            state.step += 1;
            state.batch += 1;
            state.epoch_loss += loss;
            state.epoch_tokens += tokens;
            state.epoch_seconds += started.elapsed().as_secs_f64();
            let rate = state.epoch_tokens as f64 / state.epoch_seconds.max(1e-9);
            bar.update(
                state.step,
                &format!(
                    "epoch {} loss {:.4} {rate:.0} tok/s",
                    state.epoch + 1,
                    state.epoch_loss / state.batch as f64
                ),
            );
        }
        sync(&backend, state)?;
        let mut record = EpochRecord {
            loss: state.epoch_loss / batches.len().max(1) as f64,
            seconds: state.epoch_seconds,
            tokens_per_second: state.epoch_tokens as f64 / state.epoch_seconds.max(1e-9),
            ..EpochRecord::default()
        };
        let mut improved = true;
        if let Some(dev) = dev {
            let (dev_loss, f1, tuned) = evaluate(&run, &mut backend, &state.params, dev)?;
            record.dev_loss = Some(dev_loss);
            record.dev_f1 = Some(f1);
            record.dev_f1_tuned = Some(tuned);
            improved = tuned > state.best_f1;
            if improved {
                state.best_f1 = tuned;
                let trained = super::gradient_buffers(&state.params, o.freeze);
                state.best = Some(
                    state
                        .params
                        .items
                        .iter()
                        .zip(&trained)
                        .map(|(p, g)| {
                            if g.is_empty() {
                                Vec::new()
                            } else {
                                p.data.clone()
                            }
                        })
                        .collect(),
                );
            }
        }
        let next = state.epoch + 1;
        state.epoch = state
            .history
            .end_epoch(record, improved, next, o.epochs, o.patience);
        state.batch = 0;
        state.epoch_loss = 0.0;
        state.epoch_tokens = 0;
        state.epoch_seconds = 0.0;
        state.complete = state.epoch >= o.epochs;
        if let Some(path) = &o.checkpoint {
            checkpoint::write(Path::new(path), state, identity)?;
        }
    }
    Ok(())
}

/// One step of `batch`: forward, backward, clipping, AdamW. Returns the loss.
fn step(
    run: &Run,
    backend: &mut Backend,
    state: &mut State,
    batch: &[usize],
    total: usize,
    warmup: usize,
) -> Result<f64> {
    let (data, o) = (run.data, run.o);
    let seed = o.seed.unwrap_or(0);
    let labels: Vec<f32> = batch
        .iter()
        .flat_map(|&i| {
            data.labels[i * data.classes..(i + 1) * data.classes]
                .iter()
                .copied()
        })
        .collect();
    let step_seed =
        kernels::splitmix(seed ^ (state.step as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03));
    let lr = adamw::scheduled_lr(o.lr, state.step, warmup, total);
    // The head starts from random weights: its own rate.
    let head_lr = lr * o.head_lr.unwrap_or(o.lr) / o.lr;
    let (hw, hb) = (state.params.head_w(), state.params.head_b());
    let rate = |i: usize| if i == hw || i == hb { head_lr } else { lr };
    let seqs: Vec<&[u32]> = batch
        .iter()
        .map(|&i| data.sequences[i].as_slice())
        .collect();
    let loss = match backend {
        Backend::Cpu {
            trainer,
            grads,
            cached,
        } => {
            // Dense weights' gradients are written whole by the step; the
            // rest are sums.
            profile::timed("zero gradients", || {
                grads
                    .par_iter_mut()
                    .zip(&state.params.items)
                    .filter(|(_, p)| !p.gradient_written())
                    .for_each(|(g, _)| g.fill(0.0))
            });
            let lengths: Vec<usize> = seqs.iter().map(|s| s.len()).collect();
            let mut packed = Vec::new();
            let states = cached.as_ref().map(|c| c.train.as_slice());
            let input = input(states, batch, &seqs, &lengths, &mut packed);
            let p = &state.params;
            let loss = trainer.step(
                p,
                input,
                &labels,
                run.pos_weight,
                run.pooling,
                run.dropout,
                run.freeze,
                step_seed,
                grads,
            );
            if loss.is_finite() {
                // Clipping scales the gradients as AdamW reads them.
                let norm = profile::timed("clip", || adamw::grad_norm(grads));
                let scale = (o.max_grad_norm / (norm + 1e-6)).min(1.0) as f32;
                profile::timed("adamw", || {
                    state
                        .adam
                        .update(&mut state.params.items, grads, scale, rate)
                });
            }
            loss
        }
        Backend::Candle(model) => {
            let (loss, grads) = model.gradients(
                &state.params,
                &seqs,
                &labels,
                run.pos_weight,
                run.pooling,
                run.dropout,
                step_seed,
            )?;
            if loss.is_finite() {
                model.update(&state.params, &grads, o.max_grad_norm, o.weight_decay, rate)?;
            }
            loss
        }
    };
    if !loss.is_finite() {
        return Err(Error::invalid(format!(
            "Encoder.fine_tune: the loss became {loss} at step {}; lower lr (it is {})",
            state.step + 1,
            o.lr
        )));
    }
    Ok(loss)
}

/// The device's parameters and moments into `state` (for checkpoints,
/// validation and the result); nothing to do on the CPU.
fn sync(backend: &Backend, state: &mut State) -> Result<()> {
    match backend {
        Backend::Cpu { .. } => Ok(()),
        Backend::Candle(model) => model.download(state),
    }
}

/// Dev loss, micro-F1 at 0.5 and at thresholds tuned on dev.
fn evaluate(run: &Run, backend: &mut Backend, p: &Params, dev: &Data) -> Result<(f64, f64, f64)> {
    let n = dev.sequences.len();
    let classes = dev.classes;
    let mut logits = vec![0.0f32; n * classes];
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| dev.sequences[i].len());
    for chunk in order.chunks(64) {
        let seqs: Vec<&[u32]> = chunk.iter().map(|&i| dev.sequences[i].as_slice()).collect();
        let out: Vec<f32> = match backend {
            Backend::Cpu {
                trainer, cached, ..
            } => {
                let lengths: Vec<usize> = seqs.iter().map(|s| s.len()).collect();
                let mut packed = Vec::new();
                let states = cached.as_ref().and_then(|c| c.dev.as_deref());
                let input = input(states, chunk, &seqs, &lengths, &mut packed);
                trainer.forward(
                    p,
                    input,
                    run.pooling,
                    Dropout::default(),
                    run.freeze,
                    0,
                    None,
                );
                trainer.outputs().1.to_vec()
            }
            Backend::Candle(model) => model.logits(p, &seqs, run.pooling)?,
        };
        for (k, &i) in chunk.iter().enumerate() {
            logits[i * classes..(i + 1) * classes]
                .copy_from_slice(&out[k * classes..(k + 1) * classes]);
        }
    }
    Ok(scores(&logits, &dev.labels, classes, run.pos_weight))
}

/// Mean loss, micro-F1 at 0.5 and at dev-tuned thresholds of `logits`.
pub(crate) fn scores(
    logits: &[f32],
    labels: &[f32],
    classes: usize,
    pos_weight: &[f32],
) -> (f64, f64, f64) {
    use crate::metrics::{Average, Objective, apply_thresholds, scores, tune_thresholds};
    let n = logits.len() / classes.max(1);
    let loss = logits
        .iter()
        .zip(labels)
        .enumerate()
        .map(|(k, (&z, &y))| {
            let (z, y, w) = (
                f64::from(z),
                f64::from(y),
                f64::from(pos_weight[k % classes]),
            );
            let softplus = |z: f64| z.max(0.0) + (-z.abs()).exp().ln_1p();
            w * y * softplus(-z) + (1.0 - y) * softplus(z)
        })
        .sum::<f64>()
        / logits.len().max(1) as f64;
    let probs = ndarray::Array2::from_shape_fn((n, classes), |(i, j)| {
        1.0 / (1.0 + (-logits[i * classes + j]).exp())
    });
    let y = ndarray::Array2::from_shape_fn((n, classes), |(i, j)| labels[i * classes + j] as u8);
    let at_half = apply_thresholds(probs.view(), &vec![0.5; classes]);
    let f1 = scores(y.view(), at_half.view(), Average::Micro).2;
    let t = tune_thresholds(y.view(), probs.view(), 0.5, Objective::Micro);
    let tuned = apply_thresholds(probs.view(), &t);
    (loss, f1, scores(y.view(), tuned.view(), Average::Micro).2)
}
