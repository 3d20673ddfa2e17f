//! `metrics::` scores with scikit-learn's full signature: one value per label
//! (`average: ()`), `zero_division`, F-beta, Jaccard and subset accuracy
//! ([`crate::metrics::labelled::score`]). The string-average forms of
//! `precision`, `recall` and `f1` are in `metrics.rs`.

use rhai::plugin::*;

use crate::api::convert::{RhaiResult, float_array, located, options};
use crate::data::Labels;
use crate::metrics::labelled::{self, Score, ScoreOptions};

/// A score as a script value: a number, or an array of one per label.
fn to_dynamic(s: Score) -> Dynamic {
    match s {
        Score::One(v) => Dynamic::from_float(v),
        Score::PerLabel(v) => Dynamic::from_array(float_array(v)),
    }
}

/// One binding's work: `options` is the options map, or the average alone
/// ("micro", …, or `()`); the options `T` name the function in messages.
fn scored<T: ScoreOptions>(
    ctx: &NativeCallContext,
    y_true: &Labels,
    y_pred: &Labels,
    options: Dynamic,
) -> RhaiResult<Dynamic> {
    located(ctx, || {
        let map = match options.clone().try_cast::<rhai::Map>() {
            Some(map) => map,
            None => rhai::Map::from([("average".into(), options)]),
        };
        let o: T = self::options(map)?;
        labelled::score_with(y_true, y_pred, &o).map(to_dynamic)
    })
}

#[export_module]
pub mod scores_module {
    use rhai::{Dynamic, FLOAT, Map, NativeCallContext};

    use super::scored;
    use crate::api::convert::{RhaiResult, located};
    use crate::data::Labels;
    use crate::metrics::labelled::{
        self, F1Options, FbetaOptions, JaccardOptions, PrecisionOptions, RecallOptions,
    };

    /// Precision per label with `average: ()`, or with options (below): a
    /// number, or an array of one per label.
    ///
    /// Arguments: `options` — `()` for one value per label, or `#{ average, zero_division }` (below).
    ///
    /// Errors: shapes or labels differ; a bad option.
    ///
    /// ```rhai
    /// let b = data::binarizer([["a"], ["b"]]);
    /// let y = b.transform([["a"], ["b"]]);
    /// assert_eq(metrics::precision(y, b.transform([["a"], ["a"]]), ()), [0.5, 0.0]);
    /// assert_eq(metrics::precision(y, b.transform([["a"], []]), #{ average: "macro", zero_division: 1 }), 1.0);
    /// ```
    #[rhai_fn(name = "precision", return_raw)]
    pub fn precision_with(
        ctx: NativeCallContext,
        y_true: Labels,
        y_pred: Labels,
        options: Dynamic,
    ) -> RhaiResult<Dynamic> {
        scored::<PrecisionOptions>(&ctx, &y_true, &y_pred, options)
    }

    /// Recall per label with `average: ()`, or with options (below).
    ///
    /// Arguments: `options` — `()` for one value per label, or `#{ average, zero_division }` (below).
    ///
    /// Errors: shapes or labels differ; a bad option.
    ///
    /// ```rhai
    /// let b = data::binarizer([["a"], ["b"]]);
    /// let p = b.transform([["a"], ["b"]]);
    /// assert_eq(metrics::recall(b.transform([["a"], ["b"]]), b.transform([["a"], ["a"]]), ()), [1.0, 0.0]);
    /// assert_eq(metrics::recall(b.transform([["a"], []]), p, #{ average: (), zero_division: 1 }), [1.0, 1.0]);
    /// ```
    #[rhai_fn(name = "recall", return_raw)]
    pub fn recall_with(
        ctx: NativeCallContext,
        y_true: Labels,
        y_pred: Labels,
        options: Dynamic,
    ) -> RhaiResult<Dynamic> {
        scored::<RecallOptions>(&ctx, &y_true, &y_pred, options)
    }

    /// F1 per label with `average: ()`, or with options (below).
    ///
    /// Arguments: `options` — `()` for one value per label, or `#{ average, zero_division }` (below).
    ///
    /// Errors: shapes or labels differ; a bad option.
    ///
    /// ```rhai
    /// let b = data::binarizer([["a"], ["b"]]);
    /// let f = metrics::f1(b.transform([["a"], ["b"]]), b.transform([["a"], ["a"]]), ());
    /// assert_eq(f.map(|v| (v * 1000).round() / 1000), [0.667, 0.0]);
    /// let none = b.transform([[], []]);
    /// assert_eq(metrics::f1(none, none, #{ average: "macro", zero_division: 1 }), 1.0);
    /// ```
    #[rhai_fn(name = "f1", return_raw)]
    pub fn f1_with(
        ctx: NativeCallContext,
        y_true: Labels,
        y_pred: Labels,
        options: Dynamic,
    ) -> RhaiResult<Dynamic> {
        scored::<F1Options>(&ctx, &y_true, &y_pred, options)
    }

    /// F-beta (`fbeta_score`): recall weighs `beta` times as much as precision.
    ///
    /// Arguments: `options` (below; `beta` and `average` are required).
    ///
    /// Errors: shapes or labels differ; a bad option.
    ///
    /// ```rhai
    /// let b = data::binarizer([["a"], ["b"]]);
    /// let y = b.transform([["a"], ["a", "b"]]);
    /// let p = b.transform([["a", "b"], ["a"]]);
    /// assert_eq(metrics::fbeta(y, p, #{ beta: 1.0, average: "micro" }), metrics::f1(y, p, "micro"));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn fbeta(
        ctx: NativeCallContext,
        y_true: Labels,
        y_pred: Labels,
        options: Map,
    ) -> RhaiResult<Dynamic> {
        scored::<FbetaOptions>(&ctx, &y_true, &y_pred, Dynamic::from_map(options))
    }

    /// Jaccard similarity (`jaccard_score`): true positives over the union
    /// of true and predicted, averaged as `options` says.
    ///
    /// Arguments: `options` — `"micro"`, `"macro"`, `"weighted"`, `"samples"`,
    /// `()` (one per label), or `#{ average, zero_division }` (below).
    ///
    /// Errors: shapes or labels differ; a bad average or option.
    ///
    /// ```rhai
    /// let b = data::binarizer([["a"], ["b"], ["c"]]);
    /// let y = b.transform([["b", "c"], ["a", "c"]]);
    /// let p = b.transform([["a", "b", "c"], ["a", "c"]]);
    /// assert_eq(metrics::jaccard(y, p, "micro"), 0.8);
    /// assert_eq(metrics::jaccard(y, p, ()), [0.5, 1.0, 1.0]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn jaccard(
        ctx: NativeCallContext,
        y_true: Labels,
        y_pred: Labels,
        options: Dynamic,
    ) -> RhaiResult<Dynamic> {
        scored::<JaccardOptions>(&ctx, &y_true, &y_pred, options)
    }

    /// Subset accuracy (`accuracy_score` on label sets): the share of movies
    /// whose every label is predicted right.
    ///
    /// Errors: shapes or labels differ.
    ///
    /// ```rhai
    /// let b = data::binarizer([["a"], ["b"]]);
    /// assert_eq(metrics::accuracy(b.transform([["a"], ["a", "b"]]), b.transform([["a"], ["a"]])), 0.5);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn accuracy(ctx: NativeCallContext, y_true: Labels, y_pred: Labels) -> RhaiResult<FLOAT> {
        located(&ctx, || labelled::accuracy(&y_true, &y_pred))
    }
}
