//! `fusion::gmu` — the gated multimodal unit as a script `Network`: built
//! here, trained, scored and saved by the `nn::` methods (`fit` with the
//! same optimisers, early stopping and seeds as `nn::mlp`).

use rhai::plugin::*;

use crate::api::nn::{NetworkHandle, OUTPUTS, STANDARDIZE, Spec};
use crate::api::schema::{Bounds, DefaultValue as D, End, Kind, Opt, Parsed, SEED, Schema};
use crate::error::Result;
use crate::nn::GmuSpec;

pub static GMU: Schema = Schema::new(
    "fusion::gmu",
    &[
        &[
            Opt::new(
                "inputs",
                Kind::Tuple(2, Bounds::POSITIVE_INT),
                D::Required,
                "[text columns, image columns]: the widths of the two blocks of `data::hstack([text, image])`",
            ),
            Opt::new(
                "hidden",
                Kind::Int(Bounds::POSITIVE_INT),
                D::Int(512),
                "units of each modality's tanh projection and of the gate",
            ),
            OUTPUTS,
            Opt::new(
                "dropout",
                Kind::Number(Bounds {
                    lo: End::Incl(0.0),
                    hi: End::Excl(1.0),
                }),
                D::Float(0.0),
                "rate on the gated hidden layer, in training",
            ),
            STANDARDIZE,
        ],
        &[SEED],
    ],
);

pub static SCHEMAS: &[&Schema] = &[&GMU];

fn gmu(opts: &Parsed, seed: impl FnOnce() -> Result<u64>) -> Result<NetworkHandle> {
    let inputs = opts.usizes("inputs")?;
    Ok(NetworkHandle {
        spec: Spec::Gmu(GmuSpec {
            inputs: [inputs[0], inputs[1]],
            hidden: opts.usize("hidden")?,
            outputs: opts.opt_usize("outputs")?.unwrap_or(0),
            dropout: opts.float("dropout")? as f32,
            standardize: opts.flag("standardize")?,
            seed: opts.seed(seed)?,
        }),
        model: None,
        history: None,
    })
}

#[export_module]
pub mod gmu_module {
    use rhai::{Map, NativeCallContext};

    use crate::api::convert::{RhaiResult, located};
    use crate::api::nn::NetworkHandle;

    /// The Gated Multimodal Unit (Arevalo et al. 2017): text and image
    /// features each pass a tanh layer, a sigmoid gate computed from both
    /// mixes them per unit, h = z·h_text + (1 − z)·h_image, and a linear
    /// layer gives one sigmoid output per label. It takes the two blocks as
    /// one matrix, `data::hstack([text, image])`, text first, and is a
    /// `Network`: `fit`, `predict_proba`, `predict`, `history`, `save` and
    /// `nn::load` work as for `nn::mlp`. The gate is what it learns beyond
    /// a mean of the two: how much to trust each modality, per unit and per
    /// movie.
    ///
    /// Arguments: `options` (below).
    ///
    /// Errors: a bad option (`inputs` missing or not two positive widths,
    /// dropout outside [0, 1)); at `fit`, features whose column count is not
    /// the sum of `inputs`.
    ///
    /// ```rhai
    /// data::seed(0);
    /// let text = data::matrix([[1.0, 0.0], [0.0, 1.0], [0.9, 0.1], [0.1, 0.8]]);
    /// let image = data::matrix([[0.0], [1.0], [0.1], [0.9]]);
    /// let y = data::binarizer([["A"], ["B"]]).transform([["A"], ["B"], ["A"], ["B"]]);
    /// let net = fusion::gmu(#{ inputs: [2, 1], hidden: 4 });
    /// net.fit(data::hstack([text, image]), y, #{ epochs: 300, lr: 0.05, batch_size: 4 });
    /// assert_eq(net.predict(data::hstack([text, image])).to_array(), y.to_array());
    /// assert_eq(net.to_string(), "Gmu [2 text, 1 image] → 4 gated → 2 (dropout 0; 46 parameters; trained 300 epochs, best 300)");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn gmu(ctx: NativeCallContext, options: Map) -> RhaiResult<NetworkHandle> {
        located(&ctx, || {
            let opts = super::GMU.parse(options)?;
            super::gmu(&opts, || crate::api::nn::seed_from(&ctx))
        })
    }
}
