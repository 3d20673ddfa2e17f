//! The poster backbone as scripts hold it (`vision::backbone`), with its
//! declared options: opening a network, and extracting features of posters
//! with a progress bar, a resumable cache and unreadable images reported.

use std::fmt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::data::Movies;
use crate::error::{Error, Result};
use crate::matrix::Matrix;
use crate::options::{FromValue, Value};
use crate::vision::backbone::{Backbone, OnError, Output};
use crate::vision::preprocess::{Normalize, Resize};

crate::choices! {
    /// The layer whose output `extract` returns.
    pub enum OutputName { Features = "features", Avg = "avg", Logits = "logits", Conv = "conv", Fc2 = "fc2" }
}

crate::choices!(impl Resize { Stretch = "stretch", ShorterSideCrop = "shorter_side_crop" });
crate::choices!(impl Normalize { Torch = "torch", Caffe = "caffe" });
crate::choices!(impl OnError { Skip = "skip", Zero = "zero" });

crate::options! {
    /// `vision::backbone`: the output and the preprocessing.
    pub struct BackboneOptions for "vision::backbone" {
        /// mobilenet_v2: features (1,280 pooled) or logits (1,000 ImageNet classes); vgg16: conv (25,088), avg (512 channel means) or fc2 (4,096, needs the classifier weights)
        output: Option<OutputName> = None => Choice(OutputName::NAMES); shown "\"features\" for mobilenet_v2, \"conv\" for vgg16",
        /// how posters reach the input size
        resize: Option<Resize> = None => Choice(Resize::NAMES); shown "the network's own",
        /// caffe is Keras' VGG16: BGR, mean subtracted, for weights converted from Caffe
        preprocess: Option<Normalize> = None => Choice(Normalize::NAMES); shown "the network's own",
    }
}

crate::options! {
    /// `Backbone.extract`: batches, the cache and unreadable images.
    pub struct ExtractOptions for "Backbone.extract" {
        /// images a core takes at a time
        batch: usize = 8 => Int(POSITIVE_INT),
        /// a .safetensors path keeping the rows by key; a rerun computes only what is missing
        cache: Option<String> = None => Text,
        /// an unreadable image is left out (skip) or kept as a row of zeros (zero); each one is reported
        on_error: OnError = OnError::Skip => Choice(OnError::NAMES),
    }
}

/// What `extract` reads: a `Movies` (its posters, rows named by id) or image paths.
#[derive(Clone)]
pub enum Images {
    Movies(Movies),
    Paths(Vec<String>),
}

impl fmt::Debug for Images {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Images::Movies(m) => write!(f, "Movies ({} rows)", m.len()),
            Images::Paths(p) => write!(f, "{} image paths", p.len()),
        }
    }
}

impl crate::options::ShowDefault for Images {
    fn show_default(&self) -> Option<String> {
        None
    }
}

impl FromValue for Images {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Movies(m) => Some(Images::Movies(m.clone())),
            other => Vec::<String>::from_value(other).map(Images::Paths),
        }
    }
}

impl Images {
    /// (row key, image path) per image.
    pub fn items(&self) -> Result<Vec<(String, PathBuf)>> {
        match self {
            Images::Movies(movies) => {
                let posters = movies.posters()?;
                movies
                    .ids()
                    .zip(posters)
                    .map(|(id, p)| {
                        p.map(|p| (id.to_string(), p.to_path_buf())).ok_or_else(|| {
                            Error::invalid(format!("extract: movie {id} has no poster path"))
                        })
                    })
                    .collect()
            }
            Images::Paths(paths) => Ok(paths
                .iter()
                .map(|p| (p.clone(), PathBuf::from(p)))
                .collect()),
        }
    }
}

/// A backbone as scripts hold it.
#[derive(Clone)]
pub struct BackboneRef(pub Rc<Backbone>);

impl BackboneRef {
    pub fn open(name: &str, weights: &Path, o: &BackboneOptions) -> Result<BackboneRef> {
        if !weights.exists() {
            // Say where the weights come from and how genrelab fetches them.
            let url = match name {
                "mobilenet_v2" => "https://download.pytorch.org/models/mobilenet_v2-b0353104.pth",
                _ => "https://download.pytorch.org/models/vgg16-397923af.pth",
            };
            return Err(Error::file(
                weights,
                format!(
                    "no such file: the {name} weights are torchvision's {url}; run `genrelab fetch {name}` \
                     (into the cache at {}) and write vision::backbone(\"{name}\"), or download the file and give its path",
                    crate::fetch::cache_dir().display()
                ),
            ));
        }
        let output = o.output.map(|n| match n {
            OutputName::Logits => Output::Logits,
            OutputName::Conv => Output::Conv,
            OutputName::Fc2 => Output::Fc2,
            OutputName::Features | OutputName::Avg => Output::Features,
        });
        Ok(BackboneRef(Rc::new(Backbone::open(
            name,
            weights,
            output,
            o.resize,
            o.preprocess,
        )?)))
    }

    /// The features of `images`; every unreadable image is reported.
    pub fn extract(&self, images: &Images, o: &ExtractOptions) -> Result<Matrix> {
        let backbone = &self.0;
        let items = images.items()?;
        let cache = o.cache.as_ref().map(PathBuf::from);
        let mut bar = crate::progress::Progress::new(backbone.name.clone(), items.len(), "img");
        let result =
            backbone.extract(&items, o.batch, cache.as_deref(), o.on_error, |done, _| {
                bar.update(done, "")
            })?;
        let fate = match o.on_error {
            OnError::Skip => "left out",
            OnError::Zero => "kept as a row of zeros",
        };
        for (path, why) in &result.failures {
            // `why` names the file already (it is the reader's error).
            let why = why.strip_prefix(&format!("{path}: ")).unwrap_or(why);
            crate::record::warning(&format!("{path}: {why}; {fate}"));
        }
        Ok(result.matrix)
    }
}

impl fmt::Display for BackboneRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        write!(
            f,
            "Backbone {} ({:?}, {} per image; resize {:?}, preprocess {:?})",
            b.name,
            b.output,
            b.width(),
            b.resize,
            b.normalize
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_read_movies_or_paths() {
        let paths = Value::List(vec![Value::Text("a.jpg".into())]);
        let Some(Images::Paths(p)) = Images::from_value(&paths) else {
            panic!("paths")
        };
        assert_eq!(p, vec!["a.jpg".to_string()]);
        assert!(Images::from_value(&Value::Int(3)).is_none());
        let items = Images::Paths(p).items().unwrap();
        assert_eq!(items[0], ("a.jpg".to_string(), PathBuf::from("a.jpg")));
    }
}
