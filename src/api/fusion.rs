//! `fusion::` — late fusion of probability matrices ([`crate::fusion::late`]);
//! `fusion::gmu` is bound with the networks (`api/nn.rs`).

use rhai::plugin::*;

#[export_module]
pub mod fusion_module {
    use rhai::{Array, Dynamic, Map, NativeCallContext};

    use crate::api::convert::{RhaiResult, located, matrices, options, to_script};
    use crate::data::Labels;
    use crate::fusion::late::{self, LateOptions, TuneWeightsOptions};
    use crate::matrix::Matrix;

    /// Late fusion: the weighted mean of probability matrices of the same
    /// movies and labels (text and poster models, say) — equal weights, the
    /// given `weights`, or weights picked on dev with `tune_on` (options below).
    ///
    /// Errors: fewer than two matrices; shapes or labels that differ (both
    /// named); NaN or infinite probabilities; weights that do not sum to 1
    /// or a wrong count of them; a bad option.
    ///
    /// ```rhai
    /// let text = data::matrix([[0.9, 0.2], [0.1, 0.6]]);
    /// let poster = data::matrix([[0.5, 0.4], [0.3, 0.2]]);
    /// assert_eq(fusion::late([text, poster], #{ weights: [0.5, 0.5] }).row(0), [0.699999988079071, 0.30000001192092896]);
    /// // per label: the first genre from the text, the second from the poster
    /// assert_eq(fusion::late([text, poster], #{ weights: [[1.0, 0.0], [0.0, 1.0]] }).row(1), [0.10000000149011612, 0.20000000298023224]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn late(ctx: NativeCallContext, probabilities: Array, options: Map) -> RhaiResult<Matrix> {
        located(&ctx, || {
            let o: LateOptions = self::options(options)?;
            late::late(&matrices(&probabilities, "fusion::late")?, &o)
        })
    }

    /// The late-fusion weights that score best on dev, over a grid on the
    /// simplex (multiples of `step`): the fused dev probabilities' micro-F1
    /// with dev-tuned thresholds (the reference's D1w), or with `per_label`
    /// one weight vector per label. Returns the weights (`[w₁, …]`, or one
    /// such array per label) to pass to `fusion::late(…, #{ weights })` for
    /// dev and test alike.
    ///
    /// Arguments: `y_dev`; `dev`, one dev probability matrix per model;
    /// `options` (below).
    ///
    /// Errors: fewer than two matrices; shapes or labels that differ;
    /// NaN or infinite probabilities; a bad option.
    ///
    /// ```rhai
    /// let y = data::binarizer([["A"], ["B"]]).transform([["A"], ["B"], ["A", "B"], []]);
    /// let a = data::matrix([[0.9, 0.5], [0.1, 0.2], [0.8, 0.4], [0.2, 0.9]]);
    /// let b = data::matrix([[0.2, 0.1], [0.9, 0.8], [0.1, 0.7], [0.8, 0.2]]);
    /// assert_eq(fusion::tune_weights(y, [a, b], #{ per_label: true, step: 0.5 }), [[1.0, 0.0], [0.0, 1.0]]);
    /// let w = fusion::tune_weights(y, [a, b], #{});
    /// assert_eq(w.len(), 2);
    /// let fused = fusion::late([a, b], #{ weights: w });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn tune_weights(
        ctx: NativeCallContext,
        y_dev: Labels,
        dev: Array,
        options: Map,
    ) -> RhaiResult<Dynamic> {
        located(&ctx, || {
            let o: TuneWeightsOptions = self::options(options)?;
            let what = "fusion::tune_weights";
            let dev = matrices(&dev, what)?;
            to_script(&late::tune(what, &y_dev, &dev, dev.len(), &o)?)
        })
    }
}
