//! The trainable state of a sentence encoder with a classification head:
//! every tensor of the BERT (by its `BertModel` name) and of the head, as
//! flat f32 arrays in the layout the CPU products want (dense weights
//! inputs × outputs, the query, key and value weights side by side), with
//! what AdamW needs to know of each (decayed or not). Read from a
//! sentence-transformers folder's safetensors; written back in Hugging
//! Face's names and layout, so that sentence-transformers and PyTorch read
//! the result.

use std::collections::HashMap;
use std::path::Path;

use rand::SeedableRng;
use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use crate::error::{Error, Result};
use crate::text::encoder::BertConfig;

/// One tensor: `rows` × `cols` values, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// `BertModel`'s name (for a dense weight, of the weight it holds
    /// transposed), or `head.weight` / `head.bias`.
    pub name: String,
    pub rows: usize,
    pub cols: usize,
    pub data: Vec<f32>,
    /// AdamW's weight decay applies (not to biases and layer-norm
    /// parameters, as Hugging Face's Trainer does it).
    pub decay: bool,
}

impl Param {
    /// Whether a training step writes this parameter's gradient whole (a
    /// dense weight: one product) rather than summing into it (biases,
    /// layer norms, embedding rows), so that it need not be zeroed first.
    pub fn gradient_written(&self) -> bool {
        self.rows > 1
            && (self.name.ends_with("dense.weight")
                || self.name.ends_with("qkv.weight")
                || self.name == "head.weight")
    }
}

/// The tensors of one transformer layer, by position in a layer's block.
pub mod layer {
    pub const QKV_W: usize = 0;
    pub const QKV_B: usize = 1;
    pub const ATTENTION_OUT_W: usize = 2;
    pub const ATTENTION_OUT_B: usize = 3;
    pub const ATTENTION_NORM_G: usize = 4;
    pub const ATTENTION_NORM_B: usize = 5;
    pub const INTERMEDIATE_W: usize = 6;
    pub const INTERMEDIATE_B: usize = 7;
    pub const OUTPUT_W: usize = 8;
    pub const OUTPUT_B: usize = 9;
    pub const OUTPUT_NORM_G: usize = 10;
    pub const OUTPUT_NORM_B: usize = 11;
    pub const COUNT: usize = 12;
}

pub const WORDS: usize = 0;
pub const POSITIONS: usize = 1;
/// Row 0 of the token-type table (every token is of type 0).
pub const TOKEN_TYPE: usize = 2;
pub const EMBEDDING_NORM_G: usize = 3;
pub const EMBEDDING_NORM_B: usize = 4;
const FIRST_LAYER: usize = 5;

/// Named tensors in `BertModel`'s layout: name, shape, values.
pub type NamedTensors = Vec<(String, Vec<usize>, Vec<f32>)>;

/// A BERT and its head.
#[derive(Clone, Debug)]
pub struct Params {
    pub items: Vec<Param>,
    pub config: BertConfig,
    /// The token-type rows after row 0, kept to be written back.
    pub other_token_types: Vec<f32>,
    /// Tensors of the file that training does not use (BERT's pooler),
    /// written back as they were.
    pub untouched: NamedTensors,
    pub labels: usize,
}

impl Params {
    /// The index of tensor `which` (`layer::…`) of layer `l`.
    pub fn layer(&self, l: usize, which: usize) -> usize {
        FIRST_LAYER + l * layer::COUNT + which
    }

    pub fn head_w(&self) -> usize {
        FIRST_LAYER + self.config.num_hidden_layers * layer::COUNT
    }

    pub fn head_b(&self) -> usize {
        self.head_w() + 1
    }

    pub fn get(&self, i: usize) -> &[f32] {
        &self.items[i].data
    }

    /// The first index of layer `l`'s tensors (the embeddings end at the
    /// first layer's).
    pub fn layer_start(&self, l: usize) -> usize {
        FIRST_LAYER + l * layer::COUNT
    }

    /// The values of every parameter.
    pub fn count(&self) -> usize {
        self.items.iter().map(|p| p.data.len()).sum()
    }

    /// The BERT of `weights` (a safetensors file of `BertModel` tensors,
    /// with or without a `bert.` prefix) and a head of `labels` outputs,
    /// drawn N(0, 0.02) with zero biases (`BertForSequenceClassification`'s
    /// initialisation) from `seed`.
    pub fn read(weights: &Path, config: &BertConfig, labels: usize, seed: u64) -> Result<Params> {
        let bytes = std::fs::read(weights).map_err(|e| Error::io(weights, e))?;
        crate::matrix::io::check_safetensors_size(weights, &bytes)?;
        let st = SafeTensors::deserialize(&bytes)
            .map_err(|e| Error::file(weights, format!("not a safetensors file: {e}")))?;
        let prefix = if st.names().iter().any(|n| n.starts_with("bert.")) {
            "bert."
        } else {
            ""
        };
        let read = |name: &str, shape: &[usize]| -> Result<Vec<f32>> {
            let full = format!("{prefix}{name}");
            let t = st.tensor(&full).map_err(|_| {
                Error::file(
                    weights,
                    format!("no tensor '{full}' (config.json's BERT needs it)"),
                )
            })?;
            if t.dtype() != Dtype::F32 || t.shape() != shape {
                return Err(Error::file(
                    weights,
                    format!(
                        "tensor '{full}' is {:?} {:?}, config.json implies F32 {shape:?}",
                        t.dtype(),
                        t.shape()
                    ),
                ));
            }
            Ok(t.data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect())
        };
        let c = config;
        let (h, i) = (c.hidden_size, c.intermediate_size);
        let mut items = Vec::new();
        let words = read("embeddings.word_embeddings.weight", &[c.vocab_size, h])?;
        items.push(param(
            "embeddings.word_embeddings.weight",
            c.vocab_size,
            h,
            words,
            true,
        ));
        let p = c.max_position_embeddings;
        let positions = read("embeddings.position_embeddings.weight", &[p, h])?;
        items.push(param(
            "embeddings.position_embeddings.weight",
            p,
            h,
            positions,
            true,
        ));
        let types = read(
            "embeddings.token_type_embeddings.weight",
            &[c.type_vocab_size, h],
        )?;
        let type0 = types[..h].to_vec();
        items.push(param(
            "embeddings.token_type_embeddings.weight",
            1,
            h,
            type0,
            true,
        ));
        let norm = |items: &mut Vec<Param>, name: &str| -> Result<()> {
            for part in ["weight", "bias"] {
                let name = format!("{name}.{part}");
                items.push(param(&name, 1, h, read(&name, &[h])?, false));
            }
            Ok(())
        };
        // torch keeps dense weights outputs × inputs; the products want
        // inputs × outputs.
        let dense = |items: &mut Vec<Param>, name: &str, inputs: usize, outputs: usize| {
            let w = read(&format!("{name}.weight"), &[outputs, inputs])?;
            let w = transpose(&w, outputs, inputs);
            items.push(param(&format!("{name}.weight"), inputs, outputs, w, true));
            let b = read(&format!("{name}.bias"), &[outputs])?;
            items.push(param(&format!("{name}.bias"), 1, outputs, b, false));
            Ok::<(), Error>(())
        };
        norm(&mut items, "embeddings.LayerNorm")?;
        for l in 0..c.num_hidden_layers {
            let pre = format!("encoder.layer.{l}");
            // Query, key and value side by side: x·[Wq Wk Wv] in one product.
            let mut qkv_w = vec![0.0f32; h * 3 * h];
            let mut qkv_b = Vec::with_capacity(3 * h);
            for (k, part) in ["query", "key", "value"].iter().enumerate() {
                let w = read(&format!("{pre}.attention.self.{part}.weight"), &[h, h])?;
                for o in 0..h {
                    for j in 0..h {
                        qkv_w[j * 3 * h + k * h + o] = w[o * h + j];
                    }
                }
                qkv_b.extend(read(&format!("{pre}.attention.self.{part}.bias"), &[h])?);
            }
            items.push(param(
                &format!("{pre}.attention.self.qkv.weight"),
                h,
                3 * h,
                qkv_w,
                true,
            ));
            items.push(param(
                &format!("{pre}.attention.self.qkv.bias"),
                1,
                3 * h,
                qkv_b,
                false,
            ));
            dense(&mut items, &format!("{pre}.attention.output.dense"), h, h)?;
            norm(&mut items, &format!("{pre}.attention.output.LayerNorm"))?;
            dense(&mut items, &format!("{pre}.intermediate.dense"), h, i)?;
            dense(&mut items, &format!("{pre}.output.dense"), i, h)?;
            norm(&mut items, &format!("{pre}.output.LayerNorm"))?;
        }
        let known: std::collections::HashSet<String> = items
            .iter()
            .map(|p| p.name.clone())
            .chain(["query", "key", "value"].iter().flat_map(|part| {
                (0..c.num_hidden_layers).flat_map(move |l| {
                    ["weight", "bias"]
                        .map(|w| format!("encoder.layer.{l}.attention.self.{part}.{w}"))
                })
            }))
            .collect();
        let mut untouched = Vec::new();
        for name in st.names() {
            let short = name.strip_prefix(prefix).unwrap_or(name);
            let Ok(t) = st.tensor(name) else { continue };
            if known.contains(short) || t.dtype() != Dtype::F32 {
                continue;
            }
            let data = t
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            untouched.push((short.to_string(), t.shape().to_vec(), data));
        }
        untouched.sort_by(|a, b| a.0.cmp(&b.0));
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
        let head: Vec<f32> = (0..h * labels).map(|_| 0.02 * normal(&mut rng)).collect();
        items.push(param("head.weight", h, labels, head, true));
        items.push(param("head.bias", 1, labels, vec![0.0; labels], false));
        Ok(Params {
            items,
            config: config.clone(),
            other_token_types: types[h..].to_vec(),
            untouched,
            labels,
        })
    }

    /// Every BERT tensor in `BertModel`'s names and layout (the head left
    /// out), for safetensors and for candle.
    pub fn bert_tensors(&self) -> NamedTensors {
        let h = self.config.hidden_size;
        let mut out = Vec::new();
        for p in &self.items[..self.head_w()] {
            if p.name.ends_with("self.qkv.weight") {
                let pre = p.name.trim_end_matches("qkv.weight");
                for (k, part) in ["query", "key", "value"].iter().enumerate() {
                    let mut w = vec![0.0f32; h * h];
                    for o in 0..h {
                        for j in 0..h {
                            w[o * h + j] = p.data[j * 3 * h + k * h + o];
                        }
                    }
                    out.push((format!("{pre}{part}.weight"), vec![h, h], w));
                }
            } else if p.name.ends_with("self.qkv.bias") {
                let pre = p.name.trim_end_matches("qkv.bias");
                for (k, part) in ["query", "key", "value"].iter().enumerate() {
                    let b = p.data[k * h..(k + 1) * h].to_vec();
                    out.push((format!("{pre}{part}.bias"), vec![h], b));
                }
            } else if p.name == "embeddings.token_type_embeddings.weight" {
                let mut all = p.data.clone();
                all.extend_from_slice(&self.other_token_types);
                let rows = all.len() / h;
                out.push((p.name.clone(), vec![rows, h], all));
            } else if p.rows == 1 {
                out.push((p.name.clone(), vec![p.cols], p.data.clone()));
            } else if p.name.contains(".dense.") {
                // Stored inputs × outputs; torch keeps outputs × inputs.
                let w = transpose(&p.data, p.rows, p.cols);
                out.push((p.name.clone(), vec![p.cols, p.rows], w));
            } else {
                out.push((p.name.clone(), vec![p.rows, p.cols], p.data.clone()));
            }
        }
        out.extend(self.untouched.iter().cloned());
        out
    }

    /// The head as torch's `nn.Linear` holds it: (labels × hidden), (labels).
    pub fn head_tensors(&self) -> NamedTensors {
        let w = &self.items[self.head_w()];
        let b = &self.items[self.head_b()];
        vec![
            (
                "weight".into(),
                vec![w.cols, w.rows],
                transpose(&w.data, w.rows, w.cols),
            ),
            ("bias".into(), vec![b.cols], b.data.clone()),
        ]
    }

    /// `values` (one buffer per parameter, as gradients are) in
    /// `BertModel`'s names and layout, the head's as `head.weight`,
    /// `head.bias`; empty buffers (frozen parameters) are left out.
    pub fn named(&self, values: &[Vec<f32>]) -> NamedTensors {
        let mut p = self.clone();
        for (item, v) in p.items.iter_mut().zip(values) {
            item.data = if v.is_empty() {
                vec![0.0; item.data.len()]
            } else {
                v.clone()
            };
        }
        p.other_token_types.fill(0.0);
        p.untouched.clear();
        let mut out = p.bert_tensors();
        out.extend(
            p.head_tensors()
                .into_iter()
                .map(|(n, s, d)| (format!("head.{n}"), s, d)),
        );
        out
    }

    /// Sets the head from torch's layout (labels × hidden), (labels).
    pub fn set_head(&mut self, weight: &[f32], bias: &[f32]) {
        let (hw, hb) = (self.head_w(), self.head_b());
        let (rows, cols) = (self.items[hw].rows, self.items[hw].cols);
        self.items[hw].data = transpose(weight, cols, rows);
        self.items[hb].data = bias.to_vec();
    }
}

fn param(name: &str, rows: usize, cols: usize, data: Vec<f32>, decay: bool) -> Param {
    Param {
        name: name.to_string(),
        rows,
        cols,
        data,
        decay,
    }
}

/// `named` tensors as safetensors bytes (f32, little-endian), with `meta`.
pub fn safetensors_bytes(
    named: &[(String, Vec<usize>, Vec<f32>)],
    meta: Option<HashMap<String, String>>,
) -> Result<Vec<u8>> {
    let bytes: Vec<Vec<u8>> = named
        .iter()
        .map(|(_, _, d)| d.iter().flat_map(|v| v.to_le_bytes()).collect())
        .collect();
    let views = named
        .iter()
        .zip(&bytes)
        .map(|((name, shape, _), b)| {
            TensorView::new(Dtype::F32, shape.clone(), b)
                .map(|v| (name.clone(), v))
                .map_err(|e| Error::invalid(format!("internal: tensor '{name}': {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    safetensors::serialize(views, meta)
        .map_err(|e| Error::invalid(format!("internal: safetensors: {e}")))
}

/// `m` (rows × cols, row-major) transposed.
pub fn transpose(m: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut t = vec![0.0f32; m.len()];
    for r in 0..rows {
        for c in 0..cols {
            t[c * rows + r] = m[r * cols + c];
        }
    }
    t
}

/// A standard normal draw (Box–Muller).
pub fn normal(rng: &mut impl rand::Rng) -> f32 {
    let u1: f64 = rng.gen_range(f64::MIN_POSITIVE..1.0);
    let u2: f64 = rng.r#gen();
    ((-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()) as f32
}
