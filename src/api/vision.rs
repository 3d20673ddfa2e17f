//! `vision::` — pretrained CNNs as poster feature extractors.

use std::path::PathBuf;
use std::rc::Rc;

use rhai::plugin::*;
use rhai::{Array, Dynamic, Map};

use crate::api::convert::type_of;
use crate::api::schema::{Bounds, DefaultValue as D, Kind, Opt, Schema};
use crate::data::Movies;
use crate::error::{Error, Result};
use crate::matrix::Matrix;
use crate::vision::backbone::{Backbone, OnError, Output};
use crate::vision::preprocess::{Normalize, Resize};

/// A loaded network as scripts hold it (shared, never copied).
#[derive(Clone)]
pub struct BackboneHandle(pub Rc<Backbone>);

pub static BACKBONE: Schema = Schema::new(
    "vision::backbone",
    &[&[
        Opt::new(
            "output",
            Kind::Choice(&["features", "avg", "logits", "conv", "fc2"]),
            D::Described("\"features\" for mobilenet_v2, \"conv\" for vgg16"),
            "mobilenet_v2: features (1,280 pooled) or logits (1,000 ImageNet classes); vgg16: conv (25,088), avg (512 channel means) or fc2 (4,096, needs the classifier weights)",
        ),
        Opt::new(
            "resize",
            Kind::Choice(&["stretch", "shorter_side_crop"]),
            D::Described("the network's own"),
            "how posters reach the input size",
        ),
        Opt::new(
            "preprocess",
            Kind::Choice(&["torch", "caffe"]),
            D::Described("the network's own"),
            "caffe is Keras' VGG16: BGR, mean subtracted, for weights converted from Caffe",
        ),
    ]],
);

pub static EXTRACT: Schema = Schema::new(
    "Backbone.extract",
    &[&[
        Opt::new(
            "batch",
            Kind::Int(Bounds::POSITIVE_INT),
            D::Int(8),
            "images a core takes at a time",
        ),
        Opt::new(
            "cache",
            Kind::Text,
            D::None,
            "a .safetensors path keeping the rows by key; a rerun computes only what is missing",
        ),
        Opt::new(
            "on_error",
            Kind::Choice(&["skip", "zero"]),
            D::Text("skip"),
            "an unreadable image is left out (skip) or kept as a row of zeros (zero); each one is reported",
        ),
    ]],
);

pub static SCHEMAS: &[&Schema] = &[&BACKBONE, &EXTRACT];

fn open(name: &str, weights: &str, options: Map) -> Result<BackboneHandle> {
    let opts = BACKBONE.parse(options)?;
    let output = opts.opt_text("output")?.map(|o| match o.as_str() {
        "logits" => Output::Logits,
        "conv" => Output::Conv,
        "fc2" => Output::Fc2,
        _ => Output::Features,
    });
    let resize = opts
        .opt_text("resize")?
        .map(|r| Resize::parse(&r))
        .transpose()?;
    let normalize = opts
        .opt_text("preprocess")?
        .map(|p| Normalize::parse(&p))
        .transpose()?;
    Ok(BackboneHandle(Rc::new(Backbone::open(
        name,
        std::path::Path::new(weights),
        output,
        resize,
        normalize,
    )?)))
}

/// (key, image path) for every movie or path.
fn items(images: &Dynamic) -> Result<Vec<(String, PathBuf)>> {
    if let Some(movies) = images.read_lock::<Movies>() {
        let posters = movies.posters()?;
        return movies
            .ids()
            .zip(posters)
            .map(|(id, p)| {
                p.map(|p| (id.to_string(), p.to_path_buf())).ok_or_else(|| {
                    Error::invalid(format!("extract: movie {id} has no poster path"))
                })
            })
            .collect();
    }
    let Some(paths) = images.read_lock::<Array>() else {
        return Err(Error::invalid(format!(
            "extract: expected a Movies or an array of image paths, got {}",
            type_of(images)
        )));
    };
    crate::api::convert::strings(&paths, "extract: paths").map(|ps| {
        ps.into_iter()
            .map(|p| (p.clone(), PathBuf::from(p)))
            .collect()
    })
}

fn extract_with(backbone: &Backbone, images: &Dynamic, options: Map) -> Result<Matrix> {
    let opts = EXTRACT.parse(options)?;
    let on_error = match opts.text("on_error")?.as_str() {
        "zero" => OnError::Zero,
        _ => OnError::Skip,
    };
    let items = items(images)?;
    let cache = opts.opt_text("cache")?.map(PathBuf::from);
    let mut bar = crate::progress::Progress::new(backbone.name.clone(), items.len(), "img");
    let result = backbone.extract(
        &items,
        opts.usize("batch")?,
        cache.as_deref(),
        on_error,
        |done, _total| bar.update(done, ""),
    )?;
    let fate = match on_error {
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

#[export_module]
pub mod vision_module {
    use rhai::{Map, NativeCallContext};

    use super::BackboneHandle;
    use crate::api::convert::{RhaiResult, located};

    /// A pretrained network for poster features, from torchvision's ImageNet
    /// checkpoints in any format (legacy or zip `.pth`, `.safetensors`), read
    /// in pure Rust:
    /// - `"mobilenet_v2"` (`mobilenet_v2-b0353104.pth`): 1,280 pooled
    ///   features; images resized shorter side 256, centre-cropped to 224.
    /// - `"vgg16"` (`vgg16-397923af.pth`, from
    ///   https://download.pytorch.org/models/vgg16-397923af.pth): the last
    ///   pool's 7 × 7 × 512 maps flattened to 25,088 in Keras' order (the
    ///   seed's `include_top=False` features); images stretched to 224 × 224
    ///   like Keras' `load_img`.
    ///
    /// Both normalise as torchvision did when training them (/255, ImageNet
    /// mean and std).
    ///
    /// Arguments: `name`; `weights` — the checkpoint path.
    ///
    /// Errors: an unknown network; a missing, truncated or foreign weights
    /// file; a missing or mis-shaped tensor (named, with the file).
    ///
    /// ```rhai
    /// let net = vision::backbone("mobilenet_v2", DATA_DIR + "/../models/mobilenet_v2-b0353104.pth");
    /// let x = net.extract(data::movies(DATA_DIR + "/movies/movies.csv").sample(2), #{ batch: 2 });
    /// assert_eq(x.shape, [2, 1280]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn backbone(
        ctx: NativeCallContext,
        name: &str,
        weights: &str,
    ) -> RhaiResult<BackboneHandle> {
        located(&ctx, || super::open(name, weights, Map::new()))
    }

    /// A network with options (below).
    ///
    /// Errors: as `vision::backbone(name, weights)`, plus a bad option, or an
    /// output the weights cannot give.
    ///
    /// ```rhai
    /// let net = vision::backbone("mobilenet_v2", DATA_DIR + "/../models/mobilenet_v2-b0353104.pth", #{ output: "logits", resize: "stretch" });
    /// let logits = net.extract([DATA_DIR + "/movies/posters/862.jpg"]);
    /// assert_eq(logits.shape, [1, 1000]);
    /// ```
    #[rhai_fn(name = "backbone", return_raw)]
    pub fn backbone_with(
        ctx: NativeCallContext,
        name: &str,
        weights: &str,
        options: Map,
    ) -> RhaiResult<BackboneHandle> {
        located(&ctx, || super::open(name, weights, options))
    }
}

#[export_module]
pub mod vision_methods {
    use rhai::{Dynamic, Map};

    use super::BackboneHandle;
    use crate::api::convert::RhaiResult;
    use crate::matrix::Matrix;

    /// Network outputs for images, one row per movie (`Movies`: its posters,
    /// rows named by id) or per path (an array of image paths), in input
    /// order. Every core takes `batch` images at a time, decodes and resizes
    /// them and runs them through the network, then takes the next ones; a
    /// progress bar shows on a terminal. With `cache`, a
    /// `.safetensors` file keeps the rows by key: a rerun computes only what
    /// is missing, and an interrupted run resumes where it stopped.
    ///
    /// Errors: a movie without a poster path; a cache made by another
    /// network or output; Ctrl-C (what was done so far stays in the cache).
    #[rhai_fn(global, name = "extract", return_raw, pure)]
    pub fn extract(net: &mut BackboneHandle, images: Dynamic) -> RhaiResult<Matrix> {
        Ok(super::extract_with(&net.0, &images, Map::new())?)
    }

    /// `extract` with options (below).
    ///
    /// Errors: as `extract(images)`, plus a bad option.
    #[rhai_fn(global, name = "extract", return_raw, pure)]
    pub fn extract_with_options(
        net: &mut BackboneHandle,
        images: Dynamic,
        options: Map,
    ) -> RhaiResult<Matrix> {
        Ok(super::extract_with(&net.0, &images, options)?)
    }

    /// The network and its preprocessing.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn describe(net: &mut BackboneHandle) -> String {
        let b = &net.0;
        format!(
            "Backbone {} ({:?}, {} per image; resize {:?}, preprocess {:?})",
            b.name,
            b.output,
            b.width(),
            b.resize,
            b.normalize
        )
    }
}
