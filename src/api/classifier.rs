//! `Encoder.fine_tune`, `text::load_classifier` and the `TextClassifier`
//! methods: a sentence encoder trained end to end on the genres
//! ([`crate::text::finetune`]).

use rhai::plugin::*;

#[export_module]
pub mod classifier_module {
    use std::path::Path;

    use rhai::NativeCallContext;

    use crate::api::convert::{RhaiResult, located};
    use crate::text::finetune::TextClassifier;

    /// Loads a classifier saved with `TextClassifier.save`: the tuned
    /// encoder (its folder is a sentence-transformers folder) and the head.
    ///
    /// Errors: no such folder; a sentence-transformers folder without the
    /// head (`classifier.safetensors`); a head that does not fit the encoder.
    ///
    /// ```rhai
    /// let y = data::binarizer([["a"], ["b"]]).transform([["a"], ["b"], ["a", "b"]]);
    /// let enc = text::encoder("tests/fixtures/finetune/tiny_bert");
    /// let tuned = enc.fine_tune(["the man", "a funny dog", "love and war"], y, #{ epochs: 1, batch_size: 2, seed: 0 });
    /// let dir = data::temp_path("tuned");
    /// tuned.save(dir);
    /// let back = text::load_classifier(dir);
    /// assert_eq(back.predict_proba(["the man"]).to_array(), tuned.predict_proba(["the man"]).to_array());
    /// ```
    #[rhai_fn(return_raw)]
    pub fn load_classifier(ctx: NativeCallContext, path: &str) -> RhaiResult<TextClassifier> {
        located(&ctx, || TextClassifier::load(Path::new(path), 32))
    }
}

#[export_module]
pub mod classifier_methods {
    use rhai::{Dynamic, Map, NativeCallContext};

    use crate::api::convert::{Documents, RhaiResult, arg, seeded, to_script};
    use crate::data::Labels;
    use crate::matrix::Matrix;
    use crate::text::encoder::handle::Encoder;
    use crate::text::finetune::{self, FineTuneOptions, TextClassifier, Texts};

    /// Fine-tunes the encoder on the genres: its BERT and a new head (the
    /// folder's pooling, dropout, a linear layer, a sigmoid per genre)
    /// trained end to end with binary cross-entropy, AdamW with linear
    /// warm-up and decay, gradient clipping and batches of texts of similar
    /// length. One seed fixes the head's initial weights, the batch order
    /// and every dropout mask: the same seed gives the same model. A
    /// progress bar shows the loss and tokens/s; Ctrl-C stops at a batch
    /// boundary (with `checkpoint`, after saving the state a rerun resumes
    /// from). The encoder itself is left as it was.
    ///
    /// Arguments: `texts` — an array of strings or a `Movies` (its
    /// overviews); `y` — their `Labels`; `options` (below).
    ///
    /// Errors: texts and label rows of different counts; validation labels
    /// other than the training ones; `freeze` above the model's layers;
    /// `patience` without `validation`; a checkpoint of another run (what
    /// differs is named); a loss that becomes NaN; a bad option. A genre
    /// no training text has is named in a warning (its head still trains).
    ///
    /// ```rhai
    /// let b = data::binarizer([["comedy"], ["thriller"]]);
    /// let texts = ["a funny dog", "the detective , the murder", "a funny man", "a shark at night"];
    /// let y = b.transform([["comedy"], ["thriller"], ["comedy"], ["thriller"]]);
    /// let enc = text::encoder("tests/fixtures/finetune/tiny_bert");
    /// let tuned = enc.fine_tune(texts, y, #{ epochs: 2, batch_size: 2, lr: 1e-3, seed: 1 });
    /// assert_eq(tuned.predict_proba(texts).shape, [4, 2]);
    /// assert_eq(tuned.history.epochs.len(), 2);
    /// ```
    #[rhai_fn(global, name = "fine_tune", return_raw, pure)]
    pub fn fine_tune(
        ctx: NativeCallContext,
        enc: &mut Encoder,
        texts: Dynamic,
        y: Labels,
        options: Map,
    ) -> RhaiResult<TextClassifier> {
        let o: FineTuneOptions = seeded(&ctx, options)?;
        let texts: Texts = arg(&texts, "fine_tune", "an array of strings or a Movies")?;
        Ok(finetune::fine_tune(enc, &texts, &y, &o)?)
    }

    /// P(genre | text) for each text (`Matrix`, columns named by genre;
    /// rows by movie id for a `Movies`).
    ///
    /// Errors: `texts` is neither an array of strings nor a `Movies`.
    #[rhai_fn(global, name = "predict_proba", return_raw, pure)]
    pub fn predict_proba(c: &mut TextClassifier, texts: Dynamic) -> RhaiResult<Matrix> {
        let docs = Documents::of(&texts, "predict_proba")?;
        Ok(c.predict_proba(&docs.refs(), docs.ids.clone())?)
    }

    /// The tuned encoder: `encode` gives the tuned embeddings (unit length
    /// when the folder normalises, as `text::encoder` would).
    #[rhai_fn(global, name = "encoder", pure)]
    pub fn encoder(c: &mut TextClassifier) -> Encoder {
        c.encoder.clone()
    }

    /// The training history: `epochs` (per epoch `loss`, `dev_loss`,
    /// `dev_f1`, `dev_f1_tuned`, `seconds`, `tokens_per_second`),
    /// `best_epoch` (the weights held) and `stopped_early`; `()` for a
    /// classifier loaded without one.
    #[rhai_fn(global, get = "history", return_raw, pure)]
    pub fn history(c: &mut TextClassifier) -> RhaiResult<Dynamic> {
        Ok(to_script(&c.history.as_deref())?)
    }

    /// Writes a sentence-transformers folder (the base folder's files and
    /// the tuned `model.safetensors`) plus `classifier.safetensors` (the
    /// head, as torch's `nn.Linear`, and the genre names);
    /// `text::load_classifier` reads it back, `text::encoder` and Python's
    /// sentence-transformers read its encoder.
    ///
    /// Errors: the base model's own folder; a file cannot be written.
    #[rhai_fn(global, name = "save", return_raw, pure)]
    pub fn save(c: &mut TextClassifier, folder: &str) -> RhaiResult<()> {
        Ok(c.save(std::path::Path::new(folder))?)
    }

    /// The encoder, the genres and the training.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn describe(c: &mut TextClassifier) -> String {
        c.to_string()
    }
}
