//! `metrics::` — scikit-learn's multi-label metrics, the seed's top-k
//! precision/recall, thresholds, Platt calibration and the bootstrap, over
//! `Labels` (truth, predictions) and `Matrix` (scores)
//! ([`crate::metrics::labelled`]).

use rhai::plugin::*;

#[export_module]
pub mod metrics_module {
    use rhai::{Array, FLOAT, INT, Map, NativeCallContext};

    use crate::api::convert::{
        RhaiResult, count, float_array, located, numbers, options, seeded, strings, to_map,
    };
    use crate::data::Labels;
    use crate::matrix::Matrix;
    use crate::metrics::bootstrap::{self, BootstrapOptions, CompareOptions};
    use crate::metrics::calibrate::{CalibrateOptions, Calibration};
    use crate::metrics::labelled::{self, Report, TuneOptions};

    /// The seed's per-movie metric: predict each movie's `k` best-scored
    /// labels; precision = hits / k, recall = hits / its number of labels;
    /// both averaged over movies. Returns `#{ precision, recall }`.
    ///
    /// Errors: `y_true` and `scores` of different shapes; `k` of 0.
    ///
    /// ```rhai
    /// let y = data::binarizer([["a"], ["b"], ["c"]]).transform([["a", "c"], ["b"]]);
    /// let s = data::matrix([[0.9, 0.5, 0.1], [0.2, 0.2, 0.3]]);
    /// let pr = metrics::precision_recall_top_k(y, s, 2);
    /// assert_eq(pr.precision, 0.25);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn precision_recall_top_k(
        ctx: NativeCallContext,
        y_true: Labels,
        scores: Matrix,
        k: INT,
    ) -> RhaiResult<Map> {
        located(&ctx, || {
            let k = count(k, "precision_recall_top_k: k")?;
            to_map(&labelled::precision_recall_top_k(&y_true, &scores, k)?)
        })
    }

    /// F1 score (`f1_score(y_true, y_pred, average=..., zero_division=0)`).
    ///
    /// Arguments: `average` — `"micro"`, `"macro"`, `"weighted"` or `"samples"`.
    ///
    /// Errors: shapes differ; an unknown average.
    ///
    /// ```rhai
    /// let b = data::binarizer([["a"], ["b"], ["c"]]);
    /// let y = b.transform([["a", "c"], ["b"], ["a", "b"], []]);
    /// let p = b.transform([["a"], ["b", "c"], ["a"], ["c"]]);
    /// assert_eq(metrics::f1(y, p, "micro"), 0.6);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn f1(
        ctx: NativeCallContext,
        y_true: Labels,
        y_pred: Labels,
        average: &str,
    ) -> RhaiResult<FLOAT> {
        located(&ctx, || {
            Ok(labelled::averaged("f1", &y_true, &y_pred, average)?.2)
        })
    }

    /// Precision (`precision_score(..., average=..., zero_division=0)`).
    ///
    /// ```rhai
    /// let b = data::binarizer([["a"], ["b"], ["c"]]);
    /// let y = b.transform([["a", "c"], ["b"], ["a", "b"], []]);
    /// let p = b.transform([["a"], ["b", "c"], ["a"], ["c"]]);
    /// assert_eq(metrics::precision(y, p, "weighted"), 0.8);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn precision(
        ctx: NativeCallContext,
        y_true: Labels,
        y_pred: Labels,
        average: &str,
    ) -> RhaiResult<FLOAT> {
        located(&ctx, || {
            Ok(labelled::averaged("precision", &y_true, &y_pred, average)?.0)
        })
    }

    /// Recall (`recall_score(..., average=..., zero_division=0)`).
    ///
    /// ```rhai
    /// let b = data::binarizer([["a"], ["b"], ["c"]]);
    /// let y = b.transform([["a", "c"], ["b"], ["a", "b"], []]);
    /// let p = b.transform([["a"], ["b", "c"], ["a"], ["c"]]);
    /// assert_eq(metrics::recall(y, p, "samples"), 0.5);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn recall(
        ctx: NativeCallContext,
        y_true: Labels,
        y_pred: Labels,
        average: &str,
    ) -> RhaiResult<FLOAT> {
        located(&ctx, || {
            Ok(labelled::averaged("recall", &y_true, &y_pred, average)?.1)
        })
    }

    /// The fraction of label cells predicted wrongly (`hamming_loss`).
    ///
    /// ```rhai
    /// let b = data::binarizer([["a"], ["b"]]);
    /// assert_eq(metrics::hamming_loss(b.transform([["a"]]), b.transform([["b"]])), 1.0);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn hamming_loss(
        ctx: NativeCallContext,
        y_true: Labels,
        y_pred: Labels,
    ) -> RhaiResult<FLOAT> {
        located(&ctx, || labelled::hamming_loss(&y_true, &y_pred))
    }

    /// scikit-learn's `classification_report`: precision, recall, F1 and
    /// support per label, then micro, macro, weighted and samples averages.
    /// Prints as scikit-learn's table; `report["Drama"]` and `report.to_map()`
    /// give the numbers.
    ///
    /// Errors: shapes differ.
    ///
    /// ```rhai
    /// let b = data::binarizer([["a"], ["b"]]);
    /// let r = metrics::report(b.transform([["a"], ["b"]]), b.transform([["a"], ["a"]]));
    /// assert_eq(r["a"].recall, 1.0);
    /// assert_eq(r["micro avg"].support, 2);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn report(ctx: NativeCallContext, y_true: Labels, y_pred: Labels) -> RhaiResult<Report> {
        located(&ctx, || Report::new(&y_true, &y_pred, None))
    }

    /// The report with other label names (scikit-learn's `target_names`).
    ///
    /// Errors: shapes differ; a name count other than the number of labels.
    ///
    /// ```rhai
    /// let b = data::binarizer([["a"], ["b"]]);
    /// let r = metrics::report(b.transform([["a"]]), b.transform([["a"]]), ["Action", "Drama"]);
    /// assert_eq(r["Action"].precision, 1.0);
    /// ```
    #[rhai_fn(name = "report", return_raw)]
    pub fn report_named(
        ctx: NativeCallContext,
        y_true: Labels,
        y_pred: Labels,
        names: Array,
    ) -> RhaiResult<Report> {
        located(&ctx, || {
            Report::new(&y_true, &y_pred, Some(strings(&names, "report: names")?))
        })
    }

    /// Each movie's `k` best-scored labels as `Labels` (ties go to the earlier label).
    ///
    /// ```rhai
    /// let top = metrics::top_k(data::matrix([[0.1, 0.7, 0.3]]), 2);
    /// assert_eq(top.to_array(), [[0, 1, 1]]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn top_k(ctx: NativeCallContext, scores: Matrix, k: INT) -> RhaiResult<Labels> {
        located(&ctx, || labelled::top_k(&scores, count(k, "top_k: k")?))
    }

    /// 1 where a score is above `t`.
    ///
    /// ```rhai
    /// assert_eq(metrics::threshold(data::matrix([[0.2, 0.6]]), 0.5).to_array(), [[0, 1]]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn threshold(ctx: NativeCallContext, scores: Matrix, t: FLOAT) -> RhaiResult<Labels> {
        located(&ctx, || labelled::threshold(&scores, t))
    }

    /// Per-label thresholds tuned on development data: coordinate ascent on
    /// micro-F1 from 0.5 (three passes over the labels), the reference
    /// implementation's `tune_thresholds_micro`.
    ///
    /// Errors: shapes differ.
    ///
    /// ```rhai
    /// let b = data::binarizer([["a"], ["b"]]);
    /// let y = b.transform([["a"], ["a"], ["b"], ["b"]]);
    /// let s = data::matrix([[0.4, 0.1], [0.35, 0.2], [0.1, 0.45], [0.2, 0.6]]);
    /// let t = metrics::tune_thresholds(y, s);
    /// assert_eq(metrics::apply_thresholds(s, t).to_array(), y.to_array());
    /// ```
    #[rhai_fn(return_raw)]
    pub fn tune_thresholds(
        ctx: NativeCallContext,
        y_dev: Labels,
        scores_dev: Matrix,
    ) -> RhaiResult<Array> {
        tune_thresholds_with(ctx, y_dev, scores_dev, Map::new())
    }

    /// Tuned thresholds with options (below).
    ///
    /// Errors: shapes differ; a bad option.
    ///
    /// ```rhai
    /// let y = data::binarizer([["a"]]).transform([["a"], [], ["a"]]);
    /// let t = metrics::tune_thresholds(y, data::matrix([[0.3], [-0.2], [0.1]]), #{ start: 0.0, objective: "per_label" });
    /// assert(t[0] < 0.1 && t[0] > -0.2);
    /// ```
    #[rhai_fn(name = "tune_thresholds", return_raw)]
    pub fn tune_thresholds_with(
        ctx: NativeCallContext,
        y_dev: Labels,
        scores_dev: Matrix,
        options: Map,
    ) -> RhaiResult<Array> {
        located(&ctx, || {
            let o: TuneOptions = self::options(options)?;
            Ok(float_array(labelled::tune_thresholds(
                &y_dev,
                &scores_dev,
                &o,
            )?))
        })
    }

    /// 1 where a score is above its label's threshold.
    ///
    /// Errors: a threshold count other than the number of score columns.
    ///
    /// ```rhai
    /// let p = metrics::apply_thresholds(data::matrix([[0.2, 0.6]]), [0.1, 0.7]);
    /// assert_eq(p.to_array(), [[1, 0]]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn apply_thresholds(
        ctx: NativeCallContext,
        scores: Matrix,
        thresholds: Array,
    ) -> RhaiResult<Labels> {
        located(&ctx, || {
            let t = numbers(&thresholds, "apply_thresholds: thresholds")?;
            labelled::apply_thresholds(&scores, &t)
        })
    }

    /// Per-label Platt sigmoids fitted on development scores (SVM decision
    /// values, say) against `y_dev`; `transform(scores)` turns scores into
    /// probabilities that can be averaged with other models'.
    ///
    /// Errors: shapes or labels that differ; NaN scores; a label with one
    /// class only on these rows (named); a bad option.
    ///
    /// ```rhai
    /// let y = data::binarizer([["a"]]).transform([["a"], [], ["a"], [], ["a"], []]);
    /// let cal = metrics::calibrate(data::matrix([[2.0], [-1.0], [0.5], [0.2], [1.5], [-2.0]]), y, #{});
    /// let p = cal.transform(data::matrix([[3.0], [-3.0]]));
    /// assert(p.row(0)[0] > 0.5 && p.row(1)[0] < 0.5);
    /// ```
    #[rhai_fn(name = "calibrate", return_raw)]
    pub fn calibrate(
        ctx: NativeCallContext,
        scores_dev: Matrix,
        y_dev: Labels,
        options: Map,
    ) -> RhaiResult<Calibration> {
        located(&ctx, || {
            Calibration::fit(
                &scores_dev,
                &y_dev,
                &self::options::<CalibrateOptions>(options)?,
            )
        })
    }

    /// The bootstrap over movies of a metric of `predicted` (options below):
    /// `#{ value, mean, low, high, n }` — the metric on all movies, the mean
    /// of the resamples and their 95 % interval.
    ///
    /// Errors: shapes or labels that differ; no rows; a bad option.
    ///
    /// ```rhai
    /// let b = data::binarizer([["a"], ["b"]]);
    /// let y = b.transform([["a"], ["b"], ["a", "b"], [], ["a"], ["b"]]);
    /// let p = b.transform([["a"], ["b"], ["a"], ["b"], ["a"], ["b"]]);
    /// let r = metrics::bootstrap(y, p, #{ n: 200, seed: 1 });
    /// assert(r.low <= r.value && r.value <= r.high);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn bootstrap(
        ctx: NativeCallContext,
        y_true: Labels,
        predicted: Labels,
        options: Map,
    ) -> RhaiResult<Map> {
        located(&ctx, || {
            let o: BootstrapOptions = seeded(&ctx, options)?;
            to_map(&bootstrap::bootstrap(&y_true, &predicted, &o)?)
        })
    }

    /// The paired bootstrap of `a` against `b` on the same movies (options
    /// below): `#{ value, mean, low, high, n, p_value }` of metric(a) −
    /// metric(b); `p_value` is two-sided, for "no difference".
    ///
    /// Errors: as `bootstrap`.
    ///
    /// ```rhai
    /// let b = data::binarizer([["a"], ["b"]]);
    /// let y = b.transform([["a"], ["b"], ["a", "b"], [], ["a"], ["b"]]);
    /// let good = b.transform([["a"], ["b"], ["a", "b"], [], ["a"], ["b"]]);
    /// let bad = b.transform([["b"], ["a"], [], ["a", "b"], ["b"], ["a"]]);
    /// let c = metrics::compare(y, good, bad, #{ n: 200, seed: 1 });
    /// assert(c.value == 1.0 && c.p_value < 0.05);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn compare(
        ctx: NativeCallContext,
        y_true: Labels,
        a: Labels,
        b: Labels,
        options: Map,
    ) -> RhaiResult<Map> {
        located(&ctx, || {
            let o: CompareOptions = seeded(&ctx, options)?;
            to_map(&bootstrap::compare(&y_true, &a, &b, &o)?)
        })
    }
}

#[export_module]
pub mod report_methods {
    use rhai::Map;

    use crate::api::convert::{RhaiResult, to_map};
    use crate::matrix::Matrix;
    use crate::metrics::calibrate::Calibration;
    use crate::metrics::labelled::Report;

    /// The report as scikit-learn's `classification_report` text.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn report_text(r: &mut Report) -> String {
        r.text()
    }

    /// What `print(report)` prints: the `classification_report` text; a
    /// report of the run (`genrelab run … --report`) keeps it as a table.
    ///
    /// ```rhai
    /// let b = data::binarizer([["a"], ["b"]]);
    /// print(metrics::report(b.transform([["a"], ["b"]]), b.transform([["a"], []])));
    /// ```
    #[rhai_fn(global, name = "print", pure)]
    pub fn report_print(r: &mut Report) -> String {
        let text = r.text();
        if crate::record::is_collecting() {
            let (columns, rows, numeric) = r.table();
            crate::record::table(columns, rows, numeric, &text);
        }
        text
    }

    /// The report as `output_dict=True` gives it: label or average name ->
    /// `#{ precision, recall, "f1-score", support }`.
    #[rhai_fn(global, name = "to_map", return_raw, pure)]
    pub fn report_to_map(r: &mut Report) -> RhaiResult<Map> {
        Ok(to_map(&r.entries())?)
    }

    /// One row of the report by label or average name.
    ///
    /// Errors: no such row (the message lists them).
    #[rhai_fn(global, index_get, return_raw, pure)]
    pub fn report_get(r: &mut Report, name: &str) -> RhaiResult<Map> {
        Ok(to_map(&r.get(name)?)?)
    }

    /// Probabilities of `scores` under the fitted sigmoids (columns named
    /// by label).
    ///
    /// Errors: another column count; other labels; NaN scores.
    #[rhai_fn(global, name = "transform", return_raw, pure)]
    pub fn calibration_transform(c: &mut Calibration, scores: Matrix) -> RhaiResult<Matrix> {
        Ok(c.transform(&scores)?)
    }
}
