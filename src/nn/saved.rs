//! An `Mlp` on disk: the model file format of `crate::persist` (kind "mlp"),
//! tensors `layer{i}.weight` `[inputs, outputs]`, `layer{i}.bias`, and
//! `scaler.mean` / `scaler.scale` when the model standardises its input.

use std::path::Path;

use ndarray::{Array1, Array2};

use super::{Dense, Mlp, MlpSpec, Scaler};
use crate::error::{Error, Result};
use crate::persist::Saved;

fn to_f64<D: ndarray::Dimension>(a: &ndarray::Array<f32, D>) -> Vec<f64> {
    a.iter().map(|&v| v as f64).collect()
}

impl Mlp {
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut saved = Saved::new("mlp");
        saved.set("spec", &self.spec).set("names", &self.names);
        for (i, layer) in self.layers.iter().enumerate() {
            saved.matrix(
                &format!("layer{i}.weight"),
                &layer.weights.mapv(|v| v as f64),
            );
            saved.vector(&format!("layer{i}.bias"), &to_f64(&layer.bias));
        }
        if let Some(s) = &self.scaler {
            saved.vector("scaler.mean", &to_f64(&s.mean));
            saved.vector("scaler.scale", &to_f64(&s.scale));
        }
        saved.write(path)
    }

    pub fn load(path: &Path) -> Result<Mlp> {
        let saved = Saved::read(path, &["mlp"])?;
        let spec: MlpSpec = saved.get(path, "spec")?;
        let names: Option<Vec<String>> = saved.get(path, "names")?;
        if names.as_ref().is_some_and(|n| n.len() != spec.outputs) {
            return Err(Error::file(path, "label names do not match the outputs"));
        }
        let sizes = spec.sizes();
        let f32s = |v: Vec<f64>| v.into_iter().map(|v| v as f32).collect::<Array1<f32>>();
        let layers = sizes
            .windows(2)
            .enumerate()
            .map(|(i, w)| {
                let weights: Array2<f64> =
                    saved.get_matrix(path, &format!("layer{i}.weight"), w[0], w[1])?;
                Ok(Dense {
                    weights: weights.mapv(|v| v as f32),
                    bias: f32s(saved.get_vector(path, &format!("layer{i}.bias"), w[1])?),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let scaler = if spec.standardize && saved.tensors.iter().any(|t| t.0 == "scaler.mean") {
            Some(Scaler {
                mean: f32s(saved.get_vector(path, "scaler.mean", spec.input)?),
                scale: f32s(saved.get_vector(path, "scaler.scale", spec.input)?),
            })
        } else {
            None
        };
        Ok(Mlp {
            spec,
            layers,
            scaler,
            names,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::Activation;

    #[test]
    fn save_and_load_round_trip_and_name_a_bad_tensor() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.safetensors");
        let mut mlp = Mlp::new(MlpSpec {
            input: 4,
            hidden: vec![3, 2],
            outputs: 2,
            activation: Activation::Relu,
            dropout: 0.2,
            standardize: true,
            seed: 1,
        })
        .unwrap();
        mlp.scaler = Some(Scaler {
            mean: Array1::from(vec![1.0, 2.0, 3.0, 4.0]),
            scale: Array1::ones(4),
        });
        mlp.names = Some(vec!["Drama".into(), "Comedy".into()]);
        mlp.save(&path).unwrap();
        assert_eq!(Mlp::load(&path).unwrap(), mlp);

        let mut saved = Saved::read(&path, &["mlp"]).unwrap();
        saved.tensors.retain(|t| t.0 != "layer1.bias");
        saved.write(&path).unwrap();
        let e = Mlp::load(&path).unwrap_err().to_string();
        assert!(
            e.ends_with("m.safetensors: missing tensor 'layer1.bias'"),
            "{e}"
        );
    }
}
