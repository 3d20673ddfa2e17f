//! `vision::` — pretrained CNNs as poster feature extractors
//! ([`crate::vision::handle`]).

use rhai::plugin::*;

#[export_module]
pub mod vision_module {
    use std::path::Path;

    use rhai::{Map, NativeCallContext};

    use crate::api::convert::{RhaiResult, located, options};
    use crate::vision::handle::{BackboneOptions, BackboneRef};

    /// A network with torchvision's ImageNet weights fetched on first use
    /// into `$GENRELAB_CACHE` (`torchvision/mobilenet_v2-b0353104.pth`, checked by
    /// its sha256, as torchvision checks the hash in the file name).
    ///
    /// Arguments: `name` — `"mobilenet_v2"` or `"vgg16"`.
    ///
    /// Errors: as `vision::backbone(name, weights)`; no network
    /// (`GENRELAB_OFFLINE=1` names the file and `genrelab fetch NAME`); a
    /// download whose hash differs (removed).
    ///
    /// ```rhai
    /// // vision::backbone("mobilenet_v2") fetches 14 MB once; a name it does not know:
    /// let message = "";
    /// try { vision::backbone("resnet50"); } catch (err) { message = `${err}`; }
    /// assert(message.contains("known: mobilenet_v2, vgg16"));
    /// ```
    #[rhai_fn(name = "backbone", return_raw)]
    pub fn backbone_fetched(ctx: NativeCallContext, name: &str) -> RhaiResult<BackboneRef> {
        let weights = located(&ctx, || crate::fetch::known::torchvision(name))?;
        backbone(ctx, name, &weights.to_string_lossy())
    }

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
    pub fn backbone(ctx: NativeCallContext, name: &str, weights: &str) -> RhaiResult<BackboneRef> {
        backbone_with(ctx, name, weights, Map::new())
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
    ) -> RhaiResult<BackboneRef> {
        located(&ctx, || {
            let o: BackboneOptions = self::options(options)?;
            BackboneRef::open(name, Path::new(weights), &o)
        })
    }
}

#[export_module]
pub mod vision_methods {
    use rhai::{Dynamic, Map};

    use crate::api::convert::{RhaiResult, arg, options};
    use crate::matrix::Matrix;
    use crate::vision::handle::{BackboneRef, ExtractOptions, Images};

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
    pub fn extract(net: &mut BackboneRef, images: Dynamic) -> RhaiResult<Matrix> {
        extract_with_options(net, images, Map::new())
    }

    /// `extract` with options (below).
    ///
    /// Errors: as `extract(images)`, plus a bad option.
    #[rhai_fn(global, name = "extract", return_raw, pure)]
    pub fn extract_with_options(
        net: &mut BackboneRef,
        images: Dynamic,
        options: Map,
    ) -> RhaiResult<Matrix> {
        let o: ExtractOptions = self::options(options)?;
        let images: Images = arg(&images, "extract", "a Movies or an array of image paths")?;
        Ok(net.extract(&images, &o)?)
    }

    /// The network and its preprocessing.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn describe(net: &mut BackboneRef) -> String {
        net.to_string()
    }
}
