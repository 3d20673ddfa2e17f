//! Networks on disk: the model file format of `crate::persist`. An MLP
//! (kind "mlp") has tensors `layer{i}.weight` `[inputs, outputs]` and
//! `layer{i}.bias`; a GMU (kind "gmu") `text.*`, `image.*`, `gate.*`, `out.*`;
//! both `scaler.mean` / `scaler.scale` when the model standardises its input.

use std::path::Path;

use ndarray::{Array1, Array2};

use super::{Dense, Gmu, GmuSpec, Mlp, MlpSpec, Scaler};
use crate::error::{Error, Result};
use crate::persist::Saved;

fn to_f64<D: ndarray::Dimension>(a: &ndarray::Array<f32, D>) -> Vec<f64> {
    a.iter().map(|&v| v as f64).collect()
}

fn f32s(v: Vec<f64>) -> Array1<f32> {
    v.into_iter().map(|v| v as f32).collect()
}

fn put_dense(saved: &mut Saved, name: &str, layer: &Dense) {
    saved.matrix(&format!("{name}.weight"), &layer.weights.mapv(|v| v as f64));
    saved.vector(&format!("{name}.bias"), &to_f64(&layer.bias));
}

fn get_dense(
    saved: &Saved,
    path: &Path,
    name: &str,
    inputs: usize,
    outputs: usize,
) -> Result<Dense> {
    let weights: Array2<f64> =
        saved.get_matrix(path, &format!("{name}.weight"), inputs, outputs)?;
    Ok(Dense {
        weights: weights.mapv(|v| v as f32),
        bias: f32s(saved.get_vector(path, &format!("{name}.bias"), outputs)?),
    })
}

fn put_scaler(saved: &mut Saved, scaler: &Option<Scaler>) {
    if let Some(s) = scaler {
        saved.vector("scaler.mean", &to_f64(&s.mean));
        saved.vector("scaler.scale", &to_f64(&s.scale));
    }
}

fn get_scaler(
    saved: &Saved,
    path: &Path,
    standardize: bool,
    input: usize,
) -> Result<Option<Scaler>> {
    if !(standardize && saved.tensors.iter().any(|t| t.0 == "scaler.mean")) {
        return Ok(None);
    }
    Ok(Some(Scaler {
        mean: f32s(saved.get_vector(path, "scaler.mean", input)?),
        scale: f32s(saved.get_vector(path, "scaler.scale", input)?),
    }))
}

fn get_names(saved: &Saved, path: &Path, outputs: usize) -> Result<Option<Vec<String>>> {
    let names: Option<Vec<String>> = saved.get(path, "names")?;
    if names.as_ref().is_some_and(|n| n.len() != outputs) {
        return Err(Error::file(path, "label names do not match the outputs"));
    }
    Ok(names)
}

/// A saved network of either kind.
#[derive(Clone, Debug, PartialEq)]
pub enum SavedNetwork {
    Mlp(Mlp),
    Gmu(Box<Gmu>),
}

/// Reads an MLP or a GMU file.
pub fn load(path: &Path) -> Result<SavedNetwork> {
    let saved = Saved::read(path, &["mlp", "gmu"])?;
    Ok(if saved.kind() == "gmu" {
        SavedNetwork::Gmu(Box::new(Gmu::from_saved(&saved, path)?))
    } else {
        SavedNetwork::Mlp(Mlp::from_saved(&saved, path)?)
    })
}

impl Gmu {
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut saved = Saved::new("gmu");
        saved.set("spec", &self.spec).set("names", &self.names);
        for (name, layer) in [
            ("text", &self.text),
            ("image", &self.image),
            ("gate", &self.gate),
            ("out", &self.out),
        ] {
            put_dense(&mut saved, name, layer);
        }
        put_scaler(&mut saved, &self.scaler);
        saved.write(path)
    }

    fn from_saved(saved: &Saved, path: &Path) -> Result<Gmu> {
        let spec: GmuSpec = saved.get(path, "spec")?;
        let [t, v] = spec.inputs;
        let h = spec.hidden;
        Ok(Gmu {
            text: get_dense(saved, path, "text", t, h)?,
            image: get_dense(saved, path, "image", v, h)?,
            gate: get_dense(saved, path, "gate", t + v, h)?,
            out: get_dense(saved, path, "out", h, spec.outputs)?,
            scaler: get_scaler(saved, path, spec.standardize, t + v)?,
            names: get_names(saved, path, spec.outputs)?,
            spec,
        })
    }
}

impl Mlp {
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut saved = Saved::new("mlp");
        saved.set("spec", &self.spec).set("names", &self.names);
        for (i, layer) in self.layers.iter().enumerate() {
            put_dense(&mut saved, &format!("layer{i}"), layer);
        }
        put_scaler(&mut saved, &self.scaler);
        saved.write(path)
    }

    pub fn load(path: &Path) -> Result<Mlp> {
        Mlp::from_saved(&Saved::read(path, &["mlp"])?, path)
    }

    fn from_saved(saved: &Saved, path: &Path) -> Result<Mlp> {
        let spec: MlpSpec = saved.get(path, "spec")?;
        let layers = spec
            .sizes()
            .windows(2)
            .enumerate()
            .map(|(i, w)| get_dense(saved, path, &format!("layer{i}"), w[0], w[1]))
            .collect::<Result<Vec<_>>>()?;
        Ok(Mlp {
            scaler: get_scaler(saved, path, spec.standardize, spec.input)?,
            names: get_names(saved, path, spec.outputs)?,
            spec,
            layers,
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

    #[test]
    fn a_gmu_round_trips_and_loads_by_kind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.safetensors");
        let mut gmu = Gmu::new(GmuSpec {
            inputs: [3, 2],
            hidden: 4,
            outputs: 2,
            dropout: 0.1,
            standardize: true,
            seed: 5,
        })
        .unwrap();
        gmu.scaler = Some(Scaler {
            mean: Array1::from(vec![1.0, 2.0, 3.0, 4.0, 5.0]),
            scale: Array1::ones(5),
        });
        gmu.names = Some(vec!["Drama".into(), "Comedy".into()]);
        gmu.save(&path).unwrap();
        assert_eq!(load(&path).unwrap(), SavedNetwork::Gmu(Box::new(gmu)));
        let e = Mlp::load(&path).unwrap_err().to_string();
        assert!(
            e.ends_with(
                "this is a genrelab 'gmu' model (read it with nn::load), expected a mlp model"
            ),
            "{e}"
        );
        let mut saved = Saved::read(&path, &["gmu"]).unwrap();
        for t in saved.tensors.iter_mut().filter(|t| t.0 == "gate.weight") {
            t.1 = vec![4, 4];
            t.2.truncate(16);
        }
        saved.write(&path).unwrap();
        let e = load(&path).unwrap_err().to_string();
        assert!(e.contains("gate.weight"), "{e}");
    }
}
