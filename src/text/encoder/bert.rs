//! A BERT encoder on candle (the architecture of Hugging Face's `BertModel`,
//! with its tensor names), for sentence embeddings: token, position and
//! token-type embeddings, then `num_hidden_layers` post-norm transformer
//! layers. Inference only. This is the forward for candle's devices (a CUDA
//! GPU) and the reference the CPU forward (`cpu.rs`) is tested against; the
//! weights are read and checked here for both.

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{Embedding, LayerNorm, Linear, VarBuilder};
use serde::Deserialize;

/// The fields of a Hugging Face `config.json` that a BERT forward needs,
/// with `BertConfig`'s defaults.
#[derive(Clone, Debug, Deserialize)]
pub struct BertConfig {
    #[serde(default = "default_model_type")]
    pub model_type: String,
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    #[serde(default = "default_act")]
    pub hidden_act: String,
    #[serde(default = "default_positions")]
    pub max_position_embeddings: usize,
    #[serde(default = "default_type_vocab")]
    pub type_vocab_size: usize,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    #[serde(default = "default_position_type")]
    pub position_embedding_type: String,
    /// Dropout in training (`BertConfig`'s defaults).
    #[serde(default = "default_dropout")]
    pub hidden_dropout_prob: f64,
    #[serde(default = "default_dropout")]
    pub attention_probs_dropout_prob: f64,
}

fn default_dropout() -> f64 {
    0.1
}

fn default_model_type() -> String {
    "bert".into()
}
fn default_act() -> String {
    "gelu".into()
}
fn default_positions() -> usize {
    512
}
fn default_type_vocab() -> usize {
    2
}
fn default_eps() -> f64 {
    1e-12
}
fn default_position_type() -> String {
    "absolute".into()
}

/// The activations a BERT may use between its two feed-forward layers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    /// `gelu`: the exact x·Φ(x) (erf), as `transformers` computes it.
    Gelu,
    Relu,
}

impl BertConfig {
    /// What this forward cannot run, in words; `None` when it can.
    pub fn unsupported(&self) -> Option<String> {
        if self.model_type != "bert" {
            return Some(format!(
                "model_type is \"{}\"; this encoder runs BERT models (\"bert\")",
                self.model_type
            ));
        }
        if self.activation().is_none() {
            return Some(format!(
                "hidden_act is \"{}\"; supported: \"gelu\", \"relu\"",
                self.hidden_act
            ));
        }
        if self.position_embedding_type != "absolute" {
            return Some(format!(
                "position_embedding_type is \"{}\"; supported: \"absolute\"",
                self.position_embedding_type
            ));
        }
        if self.num_attention_heads == 0
            || !self.hidden_size.is_multiple_of(self.num_attention_heads)
        {
            return Some(format!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                self.hidden_size, self.num_attention_heads
            ));
        }
        None
    }

    pub fn activation(&self) -> Option<Activation> {
        match self.hidden_act.as_str() {
            "gelu" => Some(Activation::Gelu),
            "relu" => Some(Activation::Relu),
            _ => None,
        }
    }
}

pub(crate) struct Embeddings {
    pub words: Embedding,
    pub positions: Tensor,
    pub token_type: Tensor,
    pub norm: LayerNorm,
}

pub(crate) struct Layer {
    /// Query, key and value projections as one product (weights stacked).
    pub qkv: Linear,
    pub attention_out: Linear,
    pub attention_norm: LayerNorm,
    pub intermediate: Linear,
    pub output: Linear,
    pub output_norm: LayerNorm,
}

pub struct Bert {
    pub(crate) embeddings: Embeddings,
    pub(crate) layers: Vec<Layer>,
    pub(crate) heads: usize,
    pub(crate) head_dim: usize,
    hidden: usize,
    pub(crate) activation: Activation,
    pub(crate) eps: f64,
    device: Device,
}

/// The tensor `name` under `vb`'s prefix, of `shape`. A missing one is
/// `CannotFindTensor` with its full name, whichever backend reads the file.
fn tensor<S: Into<candle_core::Shape>>(
    vb: &VarBuilder,
    shape: S,
    name: &str,
) -> candle_core::Result<Tensor> {
    if !vb.contains_tensor(name) {
        let prefix = vb.prefix();
        return Err(candle_core::Error::CannotFindTensor {
            path: if prefix.is_empty() {
                name.to_string()
            } else {
                format!("{prefix}.{name}")
            },
        });
    }
    vb.get(shape, name)
}

fn linear(vb: &VarBuilder, inputs: usize, outputs: usize) -> candle_core::Result<Linear> {
    Ok(Linear::new(
        tensor(vb, (outputs, inputs), "weight")?,
        Some(tensor(vb, outputs, "bias")?),
    ))
}

fn layer_norm(vb: &VarBuilder, size: usize, eps: f64) -> candle_core::Result<LayerNorm> {
    Ok(LayerNorm::new(
        tensor(vb, size, "weight")?,
        tensor(vb, size, "bias")?,
        eps,
    ))
}

impl Bert {
    /// The model from tensors named as `BertModel`'s state dict
    /// (`embeddings.word_embeddings.weight`, `encoder.layer.0.…`), with or
    /// without a `bert.` prefix. A missing or mis-shaped tensor is an error
    /// that names it.
    pub fn load(vb: VarBuilder, config: &BertConfig) -> candle_core::Result<Bert> {
        let vb = if vb.contains_tensor("bert.embeddings.word_embeddings.weight") {
            vb.pp("bert")
        } else {
            vb
        };
        let h = config.hidden_size;
        let eps = config.layer_norm_eps;
        let e = vb.pp("embeddings");
        let embeddings = Embeddings {
            words: Embedding::new(
                tensor(&e.pp("word_embeddings"), (config.vocab_size, h), "weight")?,
                h,
            ),
            positions: tensor(
                &e.pp("position_embeddings"),
                (config.max_position_embeddings, h),
                "weight",
            )?,
            token_type: tensor(
                &e.pp("token_type_embeddings"),
                (config.type_vocab_size, h),
                "weight",
            )?
            .narrow(0, 0, 1)?,
            norm: layer_norm(&e.pp("LayerNorm"), h, eps)?,
        };
        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for i in 0..config.num_hidden_layers {
            let l = vb.pp(format!("encoder.layer.{i}"));
            let a = l.pp("attention");
            let s = a.pp("self");
            let parts = ["query", "key", "value"]
                .iter()
                .map(|name| linear(&s.pp(name), h, h))
                .collect::<candle_core::Result<Vec<_>>>()?;
            let weights: Vec<&Tensor> = parts.iter().map(Linear::weight).collect();
            let biases: Vec<&Tensor> = parts.iter().filter_map(Linear::bias).collect();
            layers.push(Layer {
                qkv: Linear::new(Tensor::cat(&weights, 0)?, Some(Tensor::cat(&biases, 0)?)),
                attention_out: linear(&a.pp("output.dense"), h, h)?,
                attention_norm: layer_norm(&a.pp("output.LayerNorm"), h, eps)?,
                intermediate: linear(&l.pp("intermediate.dense"), h, config.intermediate_size)?,
                output: linear(&l.pp("output.dense"), config.intermediate_size, h)?,
                output_norm: layer_norm(&l.pp("output.LayerNorm"), h, eps)?,
            });
        }
        Ok(Bert {
            embeddings,
            layers,
            heads: config.num_attention_heads,
            head_dim: h / config.num_attention_heads,
            hidden: h,
            activation: config.activation().unwrap_or(Activation::Gelu),
            eps,
            device: vb.device().clone(),
        })
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    pub fn hidden_size(&self) -> usize {
        self.hidden
    }

    /// The last hidden states (b, s, hidden) of a padded batch: `ids` (b, s)
    /// u32, `mask` (b, s) f32 with 1 for tokens and 0 for padding (which no
    /// token attends to).
    pub fn forward(&self, ids: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
        let (b, s) = ids.dims2()?;
        let h = self.hidden;
        let e = &self.embeddings;
        let x = e
            .words
            .forward(ids)?
            .broadcast_add(&e.positions.narrow(0, 0, s)?)?
            .broadcast_add(&e.token_type)?;
        let mut x = e.norm.forward(&x)?.reshape((b * s, h))?;
        // `transformers` adds the dtype's lowest value where the mask is 0,
        // so those probabilities are exactly 0 after the softmax.
        let bias = ((mask.ones_like()? - mask)? * f64::from(f32::MIN))?
            .reshape((b, 1, 1, s))?
            .contiguous()?;
        for layer in &self.layers {
            x = self.layer(layer, &x, &bias, b, s)?;
        }
        x.reshape((b, s, h))
    }

    fn layer(
        &self,
        layer: &Layer,
        x: &Tensor,
        bias: &Tensor,
        b: usize,
        s: usize,
    ) -> candle_core::Result<Tensor> {
        let (nh, dh, h) = (self.heads, self.head_dim, self.hidden);
        let qkv = layer.qkv.forward(x)?.reshape((b, s, 3, nh, dh))?;
        let part = |i: usize| {
            qkv.narrow(2, i, 1)?
                .squeeze(2)?
                .transpose(1, 2)?
                .contiguous()
        };
        let (q, k, v) = (part(0)?, part(1)?, part(2)?);
        let scores = q.matmul(&k.t()?)?;
        let probs = candle_nn::ops::softmax_last_dim(
            &(scores * (1.0 / (dh as f64).sqrt()))?.broadcast_add(bias)?,
        )?;
        let context = probs
            .matmul(&v)?
            .transpose(1, 2)?
            .contiguous()?
            .reshape((b * s, h))?;
        let attended = layer
            .attention_norm
            .forward(&(layer.attention_out.forward(&context)? + x)?)?;
        let inner = layer.intermediate.forward(&attended)?;
        let inner = match self.activation {
            Activation::Gelu => inner.gelu_erf()?,
            Activation::Relu => inner.relu()?,
        };
        layer
            .output_norm
            .forward(&(layer.output.forward(&inner)? + attended)?)
    }
}

/// The ids and mask of a batch, padded with 0 to its longest sequence.
pub fn batch_tensors(
    sequences: &[&[u32]],
    device: &Device,
) -> candle_core::Result<(Tensor, Tensor)> {
    let s = sequences.iter().map(|q| q.len()).max().unwrap_or(0);
    let b = sequences.len();
    let mut ids = vec![0u32; b * s];
    let mut mask = vec![0f32; b * s];
    for (i, q) in sequences.iter().enumerate() {
        ids[i * s..i * s + q.len()].copy_from_slice(q);
        mask[i * s..i * s + q.len()].fill(1.0);
    }
    Ok((
        Tensor::from_vec(ids, (b, s), device)?,
        Tensor::from_vec(mask, (b, s), device)?.to_dtype(DType::F32)?,
    ))
}
