//! The training state on disk, after every epoch and at Ctrl-C: the
//! parameters, AdamW's moments, where in which epoch training stands, the
//! history and the best epoch's weights, with an identity of the run (the
//! base model's files, the labels, the training data and every option that
//! changes the result), so that a rerun resumes the same training, a
//! finished one is read back instead of retrained, and a checkpoint of
//! another run is refused by name.

use std::collections::HashMap;
use std::path::Path;

use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use serde::{Deserialize, Serialize};

use super::{Data, FineTuneHistory, FineTuneOptions, State};
use crate::error::{Error, Result};
use crate::text::encoder::{Folder, SentenceEncoder};

pub(crate) const KIND: &str = "genrelab-fine-tune-checkpoint-1";

/// What must be equal for a checkpoint to continue this run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    pub model: String,
    pub labels: usize,
    pub data: String,
    pub options: String,
}

/// This run's identity.
pub(super) fn identity(
    base: &SentenceEncoder,
    folder: &Folder,
    o: &FineTuneOptions,
    data: &Data,
    max_length: usize,
) -> Result<Identity> {
    let mut bytes = Vec::new();
    for s in &data.sequences {
        bytes.extend(s.iter().flat_map(|v| v.to_le_bytes()));
        bytes.push(0xff);
    }
    bytes.extend(data.labels.iter().map(|v| *v as u8));
    let options = format!(
        "epochs={} lr={} head_lr={:?} batch_size={} max_length={max_length} warmup={} weight_decay={} dropout={} freeze={:?} pos_weight={:?} max_grad_norm={} seed={:?} pooling={}",
        o.epochs,
        o.lr,
        o.head_lr,
        o.batch_size,
        o.warmup,
        o.weight_decay,
        o.dropout,
        o.freeze,
        o.pos_weight,
        o.max_grad_norm,
        o.seed,
        base.pooling.name(),
    );
    Ok(Identity {
        model: format!(
            "{} ({} layers)",
            base.fingerprint(),
            folder.config.num_hidden_layers
        ),
        labels: data.classes,
        data: crate::text::encoder::fnv128(&bytes),
        options,
    })
}

/// The counters and history a checkpoint keeps beside its tensors.
#[derive(Serialize, Deserialize)]
struct Progress {
    step: usize,
    epoch: usize,
    batch: usize,
    epoch_loss: f64,
    epoch_tokens: usize,
    epoch_seconds: f64,
    history: FineTuneHistory,
    best_f1: f64,
    complete: bool,
    adam_step: u64,
}

/// Writes `state` to `path` atomically.
pub(super) fn write(path: &Path, state: &State, id: &Identity) -> Result<()> {
    crate::io_util::extension(path, &["safetensors"])?;
    let mut tensors: Vec<(String, &[f32])> = Vec::new();
    for (i, p) in state.params.items.iter().enumerate() {
        tensors.push((format!("param.{i}"), &p.data));
        if !state.adam.m[i].is_empty() {
            tensors.push((format!("m.{i}"), &state.adam.m[i]));
            tensors.push((format!("v.{i}"), &state.adam.v[i]));
        }
        if let Some(best) = state.best.as_ref().filter(|b| !b[i].is_empty()) {
            tensors.push((format!("best.{i}"), &best[i]));
        }
    }
    let progress = Progress {
        step: state.step,
        epoch: state.epoch,
        batch: state.batch,
        epoch_loss: state.epoch_loss,
        epoch_tokens: state.epoch_tokens,
        epoch_seconds: state.epoch_seconds,
        history: state.history.clone(),
        best_f1: state.best_f1,
        complete: state.complete,
        adam_step: state.adam.step,
    };
    let meta = HashMap::from([
        ("format".to_string(), KIND.to_string()),
        ("identity".to_string(), json(id)),
        ("progress".to_string(), json(&progress)),
    ]);
    write_f32(path, &tensors, meta)
}

/// Flat f32 tensors and string metadata to `path`, atomically: what every
/// fine-tuning checkpoint (text or posters) is made of.
pub(crate) fn write_f32(
    path: &Path,
    tensors: &[(String, &[f32])],
    meta: HashMap<String, String>,
) -> Result<()> {
    let bytes: Vec<Vec<u8>> = tensors
        .iter()
        .map(|(_, d)| d.iter().flat_map(|v| v.to_le_bytes()).collect())
        .collect();
    let views = tensors
        .iter()
        .zip(&bytes)
        .map(|((name, d), b)| {
            TensorView::new(Dtype::F32, vec![d.len()], b)
                .map(|v| (name.clone(), v))
                .map_err(|e| Error::file(path, format!("cannot write tensor '{name}': {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    let out = safetensors::serialize(views, Some(meta))
        .map_err(|e| Error::file(path, format!("cannot write: {e}")))?;
    crate::io_util::write_bytes_atomic(path, &out)
}

/// Tensor `name` of a checkpoint, which must hold `len` f32 values.
pub(crate) fn read_f32(st: &SafeTensors, path: &Path, name: &str, len: usize) -> Result<Vec<f32>> {
    let t = st
        .tensor(name)
        .map_err(|_| Error::file(path, format!("the checkpoint has no tensor '{name}'")))?;
    if t.dtype() != Dtype::F32 || t.data().len() != 4 * len {
        return Err(Error::file(
            path,
            format!("tensor '{name}' is not {len} f32 values"),
        ));
    }
    Ok(t.data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

fn json(v: &impl Serialize) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// The state in `path`, refused unless it continues a run of `id`, read
/// into `state` (a fresh state of the same model).
pub(super) fn read(path: &Path, id: &Identity, mut state: State) -> Result<State> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    crate::matrix::io::check_safetensors_size(path, &bytes)?;
    let st = SafeTensors::deserialize(&bytes)
        .map_err(|e| Error::file(path, format!("not a safetensors file: {e}")))?;
    let (_, meta) = SafeTensors::read_metadata(&bytes)
        .map_err(|e| Error::file(path, format!("not a safetensors file: {e}")))?;
    let meta = meta.metadata().clone().unwrap_or_default();
    match meta.get("format").map(String::as_str) {
        Some(KIND) => {}
        Some("genrelab-model-1") => {
            let kind = meta
                .get("genrelab")
                .and_then(|g| serde_json::from_str::<serde_json::Value>(g).ok())
                .and_then(|g| g["kind"].as_str().map(str::to_string))
                .unwrap_or_else(|| "model".into());
            return Err(Error::file(
                path,
                format!(
                    "this is a genrelab {kind} file, not a fine-tuning checkpoint; give option 'checkpoint' a path of its own"
                ),
            ));
        }
        _ => {
            return Err(Error::file(
                path,
                "not a genrelab fine-tuning checkpoint; give option 'checkpoint' a path of its own",
            ));
        }
    }
    let theirs: Identity = meta
        .get("identity")
        .and_then(|s| serde_json::from_str(s).ok())
        .ok_or_else(|| Error::file(path, "the checkpoint's identity is unreadable"))?;
    let differs = |what: &str, a: &str, b: &str| {
        Error::file(
            path,
            format!(
                "the checkpoint is of another run: {what} differ (it has {a}; this run {b}); delete it to start over, or give option 'checkpoint' another path"
            ),
        )
    };
    if theirs.model != id.model {
        return Err(differs("the models", &theirs.model, &id.model));
    }
    if theirs.labels != id.labels {
        return Err(differs(
            "the label counts",
            &theirs.labels.to_string(),
            &id.labels.to_string(),
        ));
    }
    if theirs.data != id.data {
        return Err(differs(
            "the training texts or labels",
            &theirs.data,
            &id.data,
        ));
    }
    if theirs.options != id.options {
        return Err(differs("the options", &theirs.options, &id.options));
    }
    let progress: Progress = meta
        .get("progress")
        .and_then(|s| serde_json::from_str(s).ok())
        .ok_or_else(|| Error::file(path, "the checkpoint's progress is unreadable"))?;
    let tensor = |name: &str, len: usize| read_f32(&st, path, name, len);
    let mut best = Vec::new();
    for i in 0..state.params.items.len() {
        let len = state.params.items[i].data.len();
        state.params.items[i].data = tensor(&format!("param.{i}"), len)?;
        if !state.adam.m[i].is_empty() {
            state.adam.m[i] = tensor(&format!("m.{i}"), len)?;
            state.adam.v[i] = tensor(&format!("v.{i}"), len)?;
        }
        best.push(if st.tensor(&format!("best.{i}")).is_ok() {
            tensor(&format!("best.{i}"), len)?
        } else {
            Vec::new()
        });
    }
    state.best = best.iter().any(|b| !b.is_empty()).then_some(best);
    state.adam.step = progress.adam_step;
    state.step = progress.step;
    state.epoch = progress.epoch;
    state.batch = progress.batch;
    state.epoch_loss = progress.epoch_loss;
    state.epoch_tokens = progress.epoch_tokens;
    state.epoch_seconds = progress.epoch_seconds;
    state.history = progress.history;
    state.best_f1 = progress.best_f1;
    state.complete = progress.complete;
    Ok(state)
}
