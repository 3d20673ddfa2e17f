//! A checkpoint's tensors by name, for building networks: lookups that name
//! the network and the missing or mis-shaped tensor in their errors.

use std::collections::HashMap;

use ndarray::Array2;

use crate::error::{Error, Result};
use crate::vision::pth;

pub struct Weights {
    network: &'static str,
    tensors: HashMap<String, pth::Tensor>,
}

impl Weights {
    pub fn new(network: &'static str, tensors: Vec<pth::Tensor>) -> Weights {
        Weights {
            network,
            tensors: tensors.into_iter().map(|t| (t.name.clone(), t)).collect(),
        }
    }

    pub fn has(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
    }

    /// The shape of `name`, if the checkpoint has it.
    pub fn shape(&self, name: &str) -> Option<&[usize]> {
        self.tensors.get(name).map(|t| t.shape.as_slice())
    }

    /// The values of `name`, which must have `shape`.
    pub fn get(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        let t = self.tensors.get(name).ok_or_else(|| {
            let hint = if self
                .tensors
                .keys()
                .any(|k| k.starts_with("features.") || k.starts_with("classifier."))
            {
                ""
            } else {
                " (are these weights for another network?)"
            };
            Error::invalid(format!(
                "{} weights: missing tensor '{name}'{hint}",
                self.network
            ))
        })?;
        if t.shape != shape {
            return Err(Error::invalid(format!(
                "{} weights: tensor '{name}' has shape {:?}, expected {shape:?}",
                self.network, t.shape
            )));
        }
        Ok(t.to_f32())
    }

    /// A `[rows, cols]` matrix (a Linear layer's weight).
    pub fn matrix(&self, name: &str, rows: usize, cols: usize) -> Result<Array2<f32>> {
        Ok(
            Array2::from_shape_vec((rows, cols), self.get(name, &[rows, cols])?)
                .expect("shape checked"),
        )
    }
}
