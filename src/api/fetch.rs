//! `data::fetch`: a file from the web into genrelab's cache, once, checked
//! by its sha256 ([`crate::fetch`]).

use rhai::plugin::*;

#[export_module]
pub mod fetch_module {
    use rhai::{Map, NativeCallContext};

    use crate::api::convert::{RhaiResult, located, options};
    use crate::fetch::FetchOptions;

    /// Downloads `url` into the cache's `downloads/` folder (`$GENRELAB_CACHE`,
    /// else the platform's cache folder) unless it is there already, and
    /// returns its path. The download streams to a `.part` file with a
    /// progress bar, resumes with an HTTP Range request after a cut, is
    /// checked against `sha256` and only then renamed into place; two
    /// processes fetching one file download it once. `GENRELAB_OFFLINE=1`
    /// forbids the network.
    ///
    /// Arguments: `url`; `options` (below).
    ///
    /// Errors: a bad option; offline and not cached (names the file and the
    /// URL); an HTTP error (its status); a cut connection (resume by running
    /// again); a hash that differs (the file is removed).
    ///
    /// ```rhai
    /// let message = "";
    /// try { data::fetch("https://example.org/data", #{ sha256: "abc" }); } catch (err) { message = `${err}`; }
    /// assert(message.contains("a sha256 has 64 hex digits"));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn fetch(ctx: NativeCallContext, url: &str, options: Map) -> RhaiResult<String> {
        located(&ctx, || {
            let o: FetchOptions = self::options(options)?;
            Ok(crate::fetch::fetch_url(url, &o)?
                .to_string_lossy()
                .into_owned())
        })
    }
}
