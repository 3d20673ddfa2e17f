//! Methods of `Movies` (registered globally, so `movies.split("train")` works
//! without a module prefix).

use rhai::plugin::*;

#[export_module]
pub mod movies_methods {
    use std::path::Path;

    use rhai::{Array, Dynamic, FnPtr, INT, Map, NativeCallContext};

    use crate::api::convert::{
        RhaiResult, count, ids_array, index, number, numbers, record_map, string_array, to_script,
        type_of,
    };
    use crate::api::session_rng;
    use crate::data::Movies;
    use crate::error::Error;

    /// The number of movies.
    ///
    /// ```rhai
    /// let movies = data::movies(DATA_DIR + "/movies/movies.csv");
    /// assert_eq(movies.len(), 7128);
    /// assert_eq(movies.len, 7128);
    /// ```
    #[rhai_fn(global, name = "len", get = "len", pure)]
    pub fn len(movies: &mut Movies) -> INT {
        movies.len() as INT
    }

    /// The movies of one split (`"train"`, `"dev"`, `"test"` in the shared data).
    ///
    /// Arguments: `name`.
    ///
    /// Errors: no split column; no movie in that split (the message lists the
    /// splits present with their sizes).
    ///
    /// ```rhai
    /// let movies = data::movies(DATA_DIR + "/movies/movies.csv");
    /// assert_eq(movies.split("dev").len(), 712);
    /// ```
    #[rhai_fn(global, return_raw, pure)]
    pub fn split(movies: &mut Movies, name: &str) -> RhaiResult<Movies> {
        Ok(movies.split(name)?)
    }

    /// Split name -> number of movies.
    ///
    /// Errors: no split column.
    ///
    /// ```rhai
    /// let movies = data::movies(DATA_DIR + "/movies/movies.csv");
    /// assert_eq(movies.splits().test, 2140);
    /// ```
    #[rhai_fn(global, return_raw, pure)]
    pub fn splits(movies: &mut Movies) -> RhaiResult<Map> {
        Ok(movies
            .split_counts()?
            .into_iter()
            .map(|(name, n)| (name.into(), Dynamic::from_int(n as INT)))
            .collect())
    }

    /// The movies for which `predicate` returns true; it receives each movie
    /// as a map (see `get`).
    ///
    /// Arguments: `predicate` — a function or closure taking one map.
    ///
    /// Errors: the predicate fails or returns something other than a bool
    /// (the message names the movie).
    ///
    /// ```rhai
    /// let movies = data::movies(DATA_DIR + "/movies/movies.csv");
    /// let westerns = movies.filter(|m| "Western" in m.genres);
    /// assert_eq(westerns.len(), 119);
    /// ```
    #[rhai_fn(global, return_raw, pure)]
    pub fn filter(
        ctx: NativeCallContext,
        movies: &mut Movies,
        predicate: FnPtr,
    ) -> RhaiResult<Movies> {
        let mut keep = Vec::with_capacity(movies.len());
        for i in 0..movies.len() {
            let verdict: Dynamic = predicate.call_within_context(&ctx, (record_map(movies, i),))?;
            keep.push(verdict.as_bool().map_err(|_| {
                Error::invalid(format!(
                    "filter: the predicate returned {} for movie {} (row {i}); it must return true or false",
                    type_of(&verdict),
                    movies.ids().nth(i).unwrap_or("?")
                ))
            })?);
        }
        Ok(movies.filter_by(&keep))
    }

    /// `n` movies drawn without replacement by the session generator, in the
    /// order drawn (pandas' `df.sample(n, random_state=seed)` after
    /// `data::seed(seed)`).
    ///
    /// Arguments: `n`.
    ///
    /// Errors: `n` negative or larger than the set.
    ///
    /// ```rhai
    /// data::seed(1);
    /// let movies = data::movies(DATA_DIR + "/movies/movies.csv");
    /// assert_eq(movies.sample(10).len(), 10);
    /// ```
    #[rhai_fn(global, return_raw, pure)]
    pub fn sample(ctx: NativeCallContext, movies: &mut Movies, n: INT) -> RhaiResult<Movies> {
        let n = count(n, "sample: n")?;
        Ok(movies.sample(n, &mut session_rng(&ctx)?.borrow_mut())?)
    }

    /// The seed notebook's random split: `[chosen, rest]` where each movie is
    /// chosen when a uniform draw is below `fraction`
    /// (`msk = np.random.rand(n) < fraction`).
    ///
    /// Arguments: `fraction` — between 0 and 1.
    ///
    /// Errors: a fraction outside [0, 1].
    ///
    /// ```rhai
    /// data::seed(0);
    /// let parts = data::movies(DATA_DIR + "/movies/movies.csv").random_split(0.8);
    /// assert_eq(parts[0].len() + parts[1].len(), 7128);
    /// ```
    #[rhai_fn(global, return_raw, pure)]
    pub fn random_split(
        ctx: NativeCallContext,
        movies: &mut Movies,
        fraction: Dynamic,
    ) -> RhaiResult<Array> {
        let fraction = number(&fraction, "random_split: fraction")?;
        let parts = movies.random_split(fraction, &mut session_rng(&ctx)?.borrow_mut())?;
        Ok(parts.into_iter().map(Dynamic::from).collect())
    }

    /// Splits into parts of the given sizes so that every genre is spread in
    /// the same proportions (iterative stratification, Sechidis et al. 2011).
    /// Returns one `Movies` per fraction, each in the original order.
    ///
    /// Arguments: `fractions` — e.g. `[0.6, 0.1, 0.3]`, adding up to 1.
    ///
    /// Errors: fewer than two fractions; a fraction outside (0, 1]; a sum other than 1.
    ///
    /// ```rhai
    /// let movies = data::movies(DATA_DIR + "/movies/movies.csv");
    /// let parts = movies.stratified_split([0.8, 0.2]);
    /// let war = parts.map(|p| p.filter(|m| "War" in m.genres).len());
    /// assert_eq(war, [190, 47]);
    /// ```
    #[rhai_fn(global, return_raw, pure)]
    pub fn stratified_split(
        ctx: NativeCallContext,
        movies: &mut Movies,
        fractions: Array,
    ) -> RhaiResult<Array> {
        let fractions = numbers(&fractions, "stratified_split: fractions")?;
        let parts = movies.stratified_split(&fractions, &mut session_rng(&ctx)?.borrow_mut())?;
        Ok(parts.into_iter().map(Dynamic::from).collect())
    }

    /// The ids, as integers when every id is one (TMDB ids), else strings.
    ///
    /// ```rhai
    /// let movies = data::movies(DATA_DIR + "/movies/movies.csv");
    /// assert_eq(movies.ids()[0], 5);
    /// ```
    #[rhai_fn(global, pure)]
    pub fn ids(movies: &mut Movies) -> Array {
        ids_array(&movies.ids().collect::<Vec<_>>())
    }

    /// The titles.
    ///
    /// ```rhai
    /// let movies = data::movies(DATA_DIR + "/movies/movies.csv");
    /// assert_eq(movies.titles()[0], "Four Rooms");
    /// ```
    #[rhai_fn(global, pure)]
    pub fn titles(movies: &mut Movies) -> Array {
        string_array(movies.titles())
    }

    /// The overviews (plot summaries).
    ///
    /// ```rhai
    /// let movies = data::movies(DATA_DIR + "/movies/movies.csv");
    /// assert(movies.overviews()[0].starts_with("It's Ted the Bellhop"));
    /// ```
    #[rhai_fn(global, pure)]
    pub fn overviews(movies: &mut Movies) -> Array {
        string_array(movies.overviews())
    }

    /// The genres of each movie, an array of arrays of strings.
    ///
    /// ```rhai
    /// let movies = data::movies(DATA_DIR + "/movies/movies.csv");
    /// assert_eq(movies.genres()[0], ["Crime", "Comedy"]);
    /// ```
    #[rhai_fn(global, pure)]
    pub fn genres(movies: &mut Movies) -> Array {
        movies
            .genres()
            .map(|g| Dynamic::from_array(string_array(g.iter().map(String::as_str))))
            .collect()
    }

    /// Poster paths, resolved relative to the CSV; `()` where a movie has none.
    ///
    /// Errors: the table has no poster column.
    ///
    /// ```rhai
    /// let movies = data::movies(DATA_DIR + "/movies/movies.csv");
    /// assert(movies.posters()[0].ends_with("posters/5.jpg"));
    /// ```
    #[rhai_fn(global, return_raw, pure)]
    pub fn posters(movies: &mut Movies) -> RhaiResult<Array> {
        Ok(movies
            .posters()?
            .into_iter()
            .map(|p| p.map_or(Dynamic::UNIT, |p| p.to_string_lossy().into_owned().into()))
            .collect())
    }

    /// Movie `i` as a map of every column (`genres` an array, `poster` a
    /// resolved path, `id` an integer where it is one). Negative `i` counts from the end.
    ///
    /// Errors: `i` out of range.
    ///
    /// ```rhai
    /// let movies = data::movies(DATA_DIR + "/movies/movies.csv");
    /// let m = movies.get(2);
    /// assert_eq(m.title, "Star Wars");
    /// assert_eq(movies[2].imdb_id, "tt0076759");
    /// ```
    #[rhai_fn(global, name = "get", index_get, return_raw, pure)]
    pub fn get(movies: &mut Movies, i: INT) -> RhaiResult<Map> {
        let i = index(i, movies.len(), "movies")?;
        Ok(record_map(movies, i))
    }

    /// The release year of each movie (from `release_date`, `YYYY-MM-DD`);
    /// `()` where the date is missing or not a date.
    ///
    /// Errors: the table has no release_date column.
    ///
    /// ```rhai
    /// let movies = data::movies(DATA_DIR + "/movies/movies.csv");
    /// assert_eq(movies.years()[0], 1995);
    /// ```
    #[rhai_fn(global, return_raw, pure)]
    pub fn years(movies: &mut Movies) -> RhaiResult<Array> {
        Ok(to_script(&movies.date_parts(0)?)?.cast())
    }

    /// The release month (1-12) of each movie; `()` where unknown.
    ///
    /// Errors: the table has no release_date column.
    ///
    /// ```rhai
    /// let movies = data::movies(DATA_DIR + "/movies/movies.csv");
    /// assert_eq(movies.months()[0], 12);
    /// ```
    #[rhai_fn(global, return_raw, pure)]
    pub fn months(movies: &mut Movies) -> RhaiResult<Array> {
        Ok(to_script(&movies.date_parts(1)?)?.cast())
    }

    /// Writes the movies as a CSV in the same format (every column kept;
    /// poster paths rewritten relative to the new file where they lie under
    /// its folder, absolute otherwise). Written atomically.
    ///
    /// Arguments: `path`.
    ///
    /// Errors: the file cannot be written.
    ///
    /// ```rhai
    /// let path = data::temp_path("dev.csv");
    /// data::movies(DATA_DIR + "/movies/movies.csv").split("dev").save(path);
    /// assert_eq(data::movies(path).len(), 712);
    /// ```
    #[rhai_fn(global, return_raw, pure)]
    pub fn save(movies: &mut Movies, path: &str) -> RhaiResult<()> {
        Ok(movies.save_csv(Path::new(path))?)
    }

    /// The count, the splits and the first rows.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn describe(movies: &mut Movies) -> String {
        movies.to_string()
    }
}
