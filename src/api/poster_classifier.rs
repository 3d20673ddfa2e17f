//! `Backbone.fine_tune`, `vision::load_classifier` and the `ImageClassifier`
//! methods: MobileNetV2 trained on the genres ([`crate::vision::finetune`]).

use rhai::plugin::*;

#[export_module]
pub mod poster_classifier_module {
    use std::path::Path;

    use rhai::NativeCallContext;

    use crate::api::convert::{RhaiResult, located};
    use crate::vision::finetune::ImageClassifier;

    /// Loads a classifier saved with `ImageClassifier.save`.
    ///
    /// Errors: no such file; a file that is not an image classifier (what
    /// it is, when genrelab wrote it, is named); a classifier whose outputs
    /// do not match its genres.
    ///
    /// ```rhai
    /// let movies = data::movies(DATA_DIR + "/movies/movies.csv").sample(4);
    /// let y = data::binarizer(movies).transform(movies);
    /// let net = vision::backbone("mobilenet_v2", DATA_DIR + "/../models/mobilenet_v2-b0353104.pth");
    /// let tuned = net.fine_tune(movies, y, #{ epochs: 1, trainable: 1, batch_size: 4, seed: 0 });
    /// let path = data::temp_path("posters.safetensors");
    /// tuned.save(path);
    /// let back = vision::load_classifier(path);
    /// assert_eq(back.predict_proba(movies).to_array(), tuned.predict_proba(movies).to_array());
    /// ```
    #[rhai_fn(return_raw)]
    pub fn load_classifier(ctx: NativeCallContext, path: &str) -> RhaiResult<ImageClassifier> {
        located(&ctx, || ImageClassifier::load(Path::new(path)))
    }
}

#[export_module]
pub mod poster_classifier_methods {
    use rhai::{Dynamic, Map, NativeCallContext};

    use crate::api::convert::{RhaiResult, arg, seeded, to_script};
    use crate::data::Labels;
    use crate::matrix::Matrix;
    use crate::vision::finetune::{self, ImageClassifier, PosterFineTuneOptions};
    use crate::vision::handle::{BackboneRef, Images};

    /// Fine-tunes MobileNetV2 on the genres: the last `trainable` of its 19
    /// blocks and a new classifier (dropout, a linear layer, a sigmoid per
    /// genre) trained with binary cross-entropy and AdamW (linear warm-up
    /// and decay). Posters are decoded once and kept at 256 × 256; each
    /// epoch draws augmented views from the seed (random resized crop,
    /// flip, colour jitter) unless `augment` is false. The fixed blocks
    /// before the trained ones run once per poster and are kept when
    /// `augment` is false, or once per kept view with `views: K` (each
    /// epoch then draws one of a poster's K views); otherwise they run on
    /// every epoch's fresh views. One seed fixes the
    /// classifier's initial weights, the batch order, every view and every
    /// dropout mask: the same seed gives the same model. Ctrl-C stops at a
    /// batch boundary (with `checkpoint`, after saving the state a rerun
    /// resumes from). The backbone itself is left as it was.
    ///
    /// Arguments: `images` — a `Movies` (its posters) or poster paths;
    /// `y` — their `Labels`; `options` (below).
    ///
    /// Errors: a backbone other than mobilenet_v2; posters and label rows
    /// of different counts; validation labels other than the training ones;
    /// `trainable` above 19; `patience` without `validation`; a checkpoint
    /// of another network or run (what differs is named); a loss that
    /// becomes NaN; a bad option. A poster that cannot be decoded is named
    /// in a warning and left out (posters are all decoded before the first
    /// epoch, so none fails mid-training).
    ///
    /// ```rhai
    /// let movies = data::movies(DATA_DIR + "/movies/movies.csv").sample(6);
    /// let y = data::binarizer(movies).transform(movies);
    /// let net = vision::backbone("mobilenet_v2", DATA_DIR + "/../models/mobilenet_v2-b0353104.pth");
    /// let tuned = net.fine_tune(movies, y, #{ epochs: 2, trainable: 2, batch_size: 3, validation: [movies, y], seed: 1 });
    /// assert_eq(tuned.predict_proba(movies).shape, [6, y.shape[1]]);
    /// assert_eq(tuned.history.epochs.len(), 2);
    /// assert_eq(tuned.backbone().extract(movies).shape, [6, 1280]);
    /// ```
    #[rhai_fn(global, name = "fine_tune", return_raw, pure)]
    pub fn fine_tune(
        ctx: NativeCallContext,
        net: &mut BackboneRef,
        images: Dynamic,
        y: Labels,
        options: Map,
    ) -> RhaiResult<ImageClassifier> {
        let o: PosterFineTuneOptions = seeded(&ctx, options)?;
        let images: Images = arg(&images, "fine_tune", "a Movies or an array of image paths")?;
        Ok(finetune::fine_tune(net, &images, &y, &o)?)
    }

    /// P(genre | poster) for each image (`Matrix`, columns named by genre;
    /// rows by movie id for a `Movies`). An unreadable poster is named in a
    /// warning and left out.
    ///
    /// Errors: `images` is neither a `Movies` nor an array of paths; a movie
    /// without a poster path.
    #[rhai_fn(global, name = "predict_proba", return_raw, pure)]
    pub fn predict_proba(c: &mut ImageClassifier, images: Dynamic) -> RhaiResult<Matrix> {
        let images: Images = arg(
            &images,
            "predict_proba",
            "a Movies or an array of image paths",
        )?;
        Ok(c.predict_proba(&images)?)
    }

    /// The tuned network as a `Backbone`: `extract` gives the tuned 1,280
    /// pooled features (its caches are told apart from the base network's).
    #[rhai_fn(global, name = "backbone", return_raw, pure)]
    pub fn backbone(c: &mut ImageClassifier) -> RhaiResult<BackboneRef> {
        Ok(c.backbone()?)
    }

    /// The training history: `epochs` (per epoch `loss`, `dev_loss`,
    /// `dev_f1`, `dev_f1_tuned`, `seconds`, `images_per_second`),
    /// `best_epoch` (the weights held) and `stopped_early`; `()` for a
    /// classifier loaded without one.
    #[rhai_fn(global, get = "history", return_raw, pure)]
    pub fn history(c: &mut ImageClassifier) -> RhaiResult<Dynamic> {
        Ok(to_script(&c.history.as_deref())?)
    }

    /// Writes a `.safetensors` file of torchvision's state dict (names,
    /// layouts, dtypes): in Python,
    /// `torchvision.models.mobilenet_v2(num_classes=len(genres)).load_state_dict(safetensors.torch.load_file(path))`.
    /// The genres and the history are in its metadata;
    /// `vision::load_classifier` reads it back.
    ///
    /// Errors: a path not ending in .safetensors; a file that cannot be
    /// written.
    #[rhai_fn(global, name = "save", return_raw, pure)]
    pub fn save(c: &mut ImageClassifier, path: &str) -> RhaiResult<()> {
        Ok(c.save(std::path::Path::new(path))?)
    }

    /// The network, the genres and the training.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn describe(c: &mut ImageClassifier) -> String {
        c.to_string()
    }
}
