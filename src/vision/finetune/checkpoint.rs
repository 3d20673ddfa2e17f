//! A poster fine-tune's state on disk, after every epoch and at Ctrl-C:
//! every parameter, AdamW's moments, the counters, the history and the
//! best epoch's weights, with the run's identity (the architecture and its
//! base weights, the genres, the posters and labels, every option that
//! changes the result). A rerun resumes; a finished run is read back; a
//! checkpoint of another network or run is refused, naming what differs.

use std::collections::HashMap;
use std::path::Path;

use safetensors::SafeTensors;
use serde::{Deserialize, Serialize};

use super::train::State;
use super::{History, PosterFineTuneOptions, Set};
use crate::error::{Error, Result};
use crate::text::finetune::checkpoint::{KIND as TEXT_KIND, read_f32, write_f32};

const KIND: &str = "genrelab-poster-fine-tune-checkpoint-1";

/// What must be equal for a checkpoint to continue this run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    pub architecture: String,
    pub base: String,
    pub genres: String,
    pub data: String,
    pub options: String,
}

/// This run's identity.
pub(super) fn identity(
    base: &Path,
    data: &Set,
    genres: &[String],
    o: &PosterFineTuneOptions,
) -> Result<Identity> {
    let meta = std::fs::metadata(base).map_err(|e| Error::io(base, e))?;
    let mut bytes: Vec<u8> = data.keys.join("\n").into_bytes();
    bytes.extend(data.labels.iter().map(|v| *v as u8));
    Ok(Identity {
        architecture: format!("mobilenet_v2, the last {} blocks trained", o.trainable),
        base: format!(
            "{} ({} bytes)",
            base.file_name().unwrap_or_default().to_string_lossy(),
            meta.len()
        ),
        genres: genres.join(", "),
        data: crate::text::encoder::fnv128(&bytes),
        options: format!(
            "epochs={} lr={} head_lr={} batch_size={} augment={} views={:?} batch_norm={} warmup={} weight_decay={} dropout={} seed={:?}",
            o.epochs,
            o.lr,
            o.head_lr,
            o.batch_size,
            o.augment,
            o.views,
            o.batch_norm.name(),
            o.warmup,
            o.weight_decay,
            o.dropout,
            o.seed
        ),
    })
}

/// The counters and history beside the tensors.
#[derive(Serialize, Deserialize)]
struct Progress {
    step: usize,
    epoch: usize,
    batch: usize,
    epoch_loss: f64,
    epoch_images: usize,
    epoch_seconds: f64,
    history: History,
    best_f1: f64,
    complete: bool,
    adam_step: u64,
    batches_tracked: Vec<i64>,
}

fn json(v: &impl Serialize) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// Writes `state` to `path` atomically.
pub(super) fn write(path: &Path, state: &State, id: &Identity) -> Result<()> {
    crate::io_util::extension(path, &["safetensors"])?;
    let mut tensors: Vec<(String, &[f32])> = Vec::new();
    for (i, p) in state.net.params.iter().enumerate() {
        tensors.push((format!("param.{}", p.name), &p.data));
        if !state.adam.m[i].is_empty() {
            tensors.push((format!("m.{}", p.name), &state.adam.m[i]));
            tensors.push((format!("v.{}", p.name), &state.adam.v[i]));
        }
        if let Some(best) = &state.best {
            tensors.push((format!("best.{}", p.name), &best[i]));
        }
    }
    let progress = Progress {
        step: state.step,
        epoch: state.epoch,
        batch: state.batch,
        epoch_loss: state.epoch_loss,
        epoch_images: state.epoch_images,
        epoch_seconds: state.epoch_seconds,
        history: state.history.clone(),
        best_f1: state.best_f1,
        complete: state.complete,
        adam_step: state.adam.step,
        batches_tracked: state.net.batches_tracked.iter().map(|(_, v)| *v).collect(),
    };
    let meta = HashMap::from([
        ("format".to_string(), KIND.to_string()),
        ("identity".to_string(), json(id)),
        ("progress".to_string(), json(&progress)),
    ]);
    write_f32(path, &tensors, meta)
}

/// Reads the state in `path` into `state` (a fresh state of this run),
/// refused unless it continues a run of `id`.
pub(super) fn read(path: &Path, id: &Identity, state: &mut State) -> Result<()> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    crate::matrix::io::check_safetensors_size(path, &bytes)?;
    let not_ours = |what: &str| {
        Error::file(
            path,
            format!(
                "{what}, not a poster fine-tune's checkpoint; give option 'checkpoint' a path of its own"
            ),
        )
    };
    let (_, header) =
        SafeTensors::read_metadata(&bytes).map_err(|_| not_ours("not a safetensors file"))?;
    let meta = header.metadata().clone().unwrap_or_default();
    match meta.get("format").map(String::as_str) {
        Some(KIND) => {}
        Some(TEXT_KIND) => {
            return Err(not_ours(
                "this is the checkpoint of a sentence encoder's fine-tune (a BERT, another architecture)",
            ));
        }
        _ => {
            let what = crate::persist::Saved::describe(&meta).map_or_else(
                || "not a genrelab checkpoint".to_string(),
                |w| format!("this is {w}"),
            );
            return Err(not_ours(&what));
        }
    }
    let theirs: Identity = meta
        .get("identity")
        .and_then(|s| serde_json::from_str(s).ok())
        .ok_or_else(|| Error::file(path, "the checkpoint's identity is unreadable"))?;
    for (what, a, b) in [
        ("the networks", &theirs.architecture, &id.architecture),
        ("the base weights", &theirs.base, &id.base),
        ("the genres", &theirs.genres, &id.genres),
        ("the training posters or labels", &theirs.data, &id.data),
        ("the options", &theirs.options, &id.options),
    ] {
        if a != b {
            return Err(Error::file(
                path,
                format!(
                    "the checkpoint is of another run: {what} differ (it has {a}; this run {b}); delete it to start over, or give option 'checkpoint' another path"
                ),
            ));
        }
    }
    let progress: Progress = meta
        .get("progress")
        .and_then(|s| serde_json::from_str(s).ok())
        .ok_or_else(|| Error::file(path, "the checkpoint's progress is unreadable"))?;
    let st = SafeTensors::deserialize(&bytes)
        .map_err(|e| Error::file(path, format!("not a safetensors file: {e}")))?;
    let mut best = Vec::new();
    for (i, p) in state.net.params.iter_mut().enumerate() {
        let len = p.data.len();
        p.data = read_f32(&st, path, &format!("param.{}", p.name), len)?;
        if !state.adam.m[i].is_empty() {
            state.adam.m[i] = read_f32(&st, path, &format!("m.{}", p.name), len)?;
            state.adam.v[i] = read_f32(&st, path, &format!("v.{}", p.name), len)?;
        }
        if st.tensor(&format!("best.{}", p.name)).is_ok() {
            best.push(read_f32(&st, path, &format!("best.{}", p.name), len)?);
        }
    }
    state.best = (best.len() == state.net.params.len()).then_some(best);
    for ((_, v), saved) in state
        .net
        .batches_tracked
        .iter_mut()
        .zip(&progress.batches_tracked)
    {
        *v = *saved;
    }
    state.adam.step = progress.adam_step;
    state.step = progress.step;
    state.epoch = progress.epoch;
    state.batch = progress.batch;
    state.epoch_loss = progress.epoch_loss;
    state.epoch_images = progress.epoch_images;
    state.epoch_seconds = progress.epoch_seconds;
    state.history = progress.history;
    state.best_f1 = progress.best_f1;
    state.complete = progress.complete;
    Ok(())
}
