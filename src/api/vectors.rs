//! `text::word_vectors` and the `WordVectors` methods: pretrained vectors,
//! neighbour queries and mean vectors of documents ([`crate::text::vectors`]).

use rhai::plugin::*;

#[export_module]
pub mod vectors_module {
    use std::path::Path;

    use rhai::{Map, NativeCallContext};

    use crate::api::convert::{RhaiResult, located, options};
    use crate::text::vectors::{ReadOptions, WordVectorsRef};

    /// Pretrained word vectors from `path`, in any of the formats users have
    /// on disk, told from the content: word2vec binary (`.bin`, and gzipped
    /// `.bin.gz` as GoogleNews ships it), word2vec text / fastText `.vec`
    /// (a `COUNT DIM` header line), GloVe `.txt` (no header), and the
    /// `.safetensors` that `save` writes (the fastest to load). Streamed: the
    /// file is read once, into one matrix. A word seen twice keeps its first
    /// vector (a warning counts them). A name instead of a path,
    /// `"glove.6B.50d"` (or 100d, 200d, 300d), reads Stanford's GloVe 6B
    /// vectors, fetched once into the cache (`genrelab fetch glove.6B.50d`)
    /// and converted to the native format.
    ///
    /// Errors: a missing, empty or truncated file (with the word and byte
    /// where it ends); a header that lies about the count or dimension; a
    /// line with too few values (line and word); a word that is not UTF-8
    /// (its index); a value that is NaN or infinite; a file that is not word
    /// vectors at all.
    ///
    /// ```rhai
    /// let wv = text::word_vectors(DATA_DIR + "/../models/glove.6B.50d.100k.bin");
    /// assert_eq([wv.len(), wv.dim()], [100000, 50]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn word_vectors(ctx: NativeCallContext, path: &str) -> RhaiResult<WordVectorsRef> {
        word_vectors_with(ctx, path, Map::new())
    }

    /// Word vectors with options (below).
    ///
    /// Errors: as `text::word_vectors(path)`, plus a bad option.
    ///
    /// ```rhai
    /// let path = data::temp_path("tiny.txt");
    /// data::write_text(path, "the 0.1 0.2\nCat 0.3 0.4\ncat 0.5 0.6\n");
    /// let wv = text::word_vectors(path, #{ lowercase: true, limit: 3 });
    /// assert_eq(wv.words(10), ["the", "cat"]);
    /// assert_eq(wv.get("cat"), [0.30000001192092896, 0.4000000059604645]);
    /// ```
    #[rhai_fn(name = "word_vectors", return_raw)]
    pub fn word_vectors_with(
        ctx: NativeCallContext,
        path: &str,
        options: Map,
    ) -> RhaiResult<WordVectorsRef> {
        located(&ctx, || {
            let o = self::options::<ReadOptions>(options)?;
            // A GloVe name that is not a file: Stanford's vectors, fetched once.
            if !Path::new(path).exists()
                && let Some(native) = crate::fetch::known::glove(path)?
            {
                return WordVectorsRef::read(&native, &o);
            }
            WordVectorsRef::read(Path::new(path), &o)
        })
    }
}

#[export_module]
pub mod vectors_methods {
    use rhai::{Array, Dynamic, INT, Map};

    use crate::api::convert::{
        Documents, RhaiResult, arg, count, float_array, options, string_array, strings, to_map,
        to_script,
    };
    use crate::matrix::Matrix;
    use crate::text::vectors::analogies::{AnalogyOptions, SimilarOptions};
    use crate::text::vectors::mean::{self, CoverageOptions, KnownOptions, WordMeanOptions};
    use crate::text::vectors::{Query, WordVectorsRef, neighbours};

    /// The number of words.
    ///
    /// ```rhai
    /// let wv = text::word_vectors(DATA_DIR + "/../models/glove.6B.50d.100k.bin", #{ limit: 10 });
    /// assert_eq(wv.len(), 10);
    /// ```
    #[rhai_fn(global, name = "len", pure)]
    pub fn len(wv: &mut WordVectorsRef) -> INT {
        wv.0.len() as INT
    }

    /// The number of values per word.
    #[rhai_fn(global, name = "dim", pure)]
    pub fn dim(wv: &mut WordVectorsRef) -> INT {
        wv.0.dim() as INT
    }

    /// Whether `word` has a vector (case matters).
    ///
    /// ```rhai
    /// let wv = text::word_vectors(DATA_DIR + "/../models/glove.6B.50d.100k.bin", #{ limit: 1000 });
    /// assert(wv.contains("the") && !wv.contains("The"));
    /// ```
    #[rhai_fn(global, name = "contains", pure)]
    pub fn contains(wv: &mut WordVectorsRef, word: &str) -> bool {
        wv.0.contains(word)
    }

    /// The vector of `word` as an array of floats.
    ///
    /// Errors: an unknown word (the message says when its lower-cased form is known).
    #[rhai_fn(global, name = "get", return_raw, pure)]
    pub fn get(wv: &mut WordVectorsRef, word: &str) -> RhaiResult<Array> {
        Ok(float_array(wv.0.get(word)?.iter().map(|v| f64::from(*v))))
    }

    /// The first `n` words, in file order (the most frequent first in the
    /// usual files).
    ///
    /// Errors: a negative `n`.
    #[rhai_fn(global, name = "words", return_raw, pure)]
    pub fn words(wv: &mut WordVectorsRef, n: INT) -> RhaiResult<Array> {
        let n = count(n, "words: n")?.min(wv.0.len());
        Ok(string_array(wv.0.words()[..n].iter().map(String::as_str)))
    }

    /// The 10 nearest words to `query`, a word or a vector (see `most_similar(query, n)`).
    ///
    /// Errors: as `most_similar(query, n)`.
    #[rhai_fn(global, name = "most_similar", return_raw, pure)]
    pub fn most_similar(wv: &mut WordVectorsRef, query: Dynamic) -> RhaiResult<Array> {
        most_similar_n(wv, query, 10)
    }

    /// The `n` words nearest to `query` by cosine similarity, nearest first,
    /// as `#{ word, similarity }` maps: gensim's `most_similar` (the query
    /// word itself left out; a vector is compared as it is).
    ///
    /// Errors: an unknown word; a vector of the wrong length or with NaN;
    /// a negative `n`.
    ///
    /// ```rhai
    /// let wv = text::word_vectors(DATA_DIR + "/../models/glove.6B.50d.100k.bin");
    /// let near = wv.most_similar("horror", 3);
    /// assert_eq(near.len(), 3);
    /// assert(near[0].similarity >= near[1].similarity);
    /// ```
    #[rhai_fn(global, name = "most_similar", return_raw, pure)]
    pub fn most_similar_n(wv: &mut WordVectorsRef, query: Dynamic, n: INT) -> RhaiResult<Array> {
        let n = count(n, "most_similar: n")?;
        let query: Query = arg(&query, "most_similar", "a word or an array of numbers")?;
        Ok(to_script(&wv.nearest(&query, n)?)?.cast())
    }

    /// gensim's keyword form: the `topn` words nearest to the mean of
    /// `positive` minus `negative` (unit vectors), the query words left out.
    ///
    /// Arguments: `options` (below).
    ///
    /// Errors: an unknown word; no word at all; a bad option.
    ///
    /// ```rhai
    /// let wv = text::word_vectors(DATA_DIR + "/../models/glove.6B.50d.100k.bin");
    /// let near = wv.most_similar(#{ positive: ["king", "woman"], negative: ["man"], topn: 1 });
    /// assert_eq(near[0].word, "queen");
    /// ```
    #[rhai_fn(global, name = "most_similar", return_raw, pure)]
    pub fn most_similar_with(wv: &mut WordVectorsRef, options: Map) -> RhaiResult<Array> {
        let o: SimilarOptions = self::options(options)?;
        let found = wv.0.most_similar_to(&o)?;
        Ok(to_script(&neighbours(found))?.cast())
    }

    /// The word least like the others (gensim's `doesnt_match`); unknown
    /// words are left out with a warning.
    ///
    /// Errors: no known word; `words` not an array of strings.
    ///
    /// ```rhai
    /// let wv = text::word_vectors(DATA_DIR + "/../models/glove.6B.50d.100k.bin");
    /// assert_eq(wv.doesnt_match(["breakfast", "cereal", "dinner", "lunch"]), "cereal");
    /// ```
    #[rhai_fn(global, name = "doesnt_match", return_raw, pure)]
    pub fn doesnt_match(wv: &mut WordVectorsRef, words: Array) -> RhaiResult<String> {
        let words = strings(&words, "doesnt_match: words")?;
        Ok(wv.0.doesnt_match(&words)?)
    }

    /// gensim's `evaluate_word_analogies` on a questions file in
    /// word2vec's questions-words.txt format (`: section` lines, then
    /// `a b c expected`): `#{ score, sections, skipped }`, each section
    /// `#{ section, correct, incorrect }` with the questions (upper-cased,
    /// as gensim's), the last "Total accuracy".
    ///
    /// Errors: the file cannot be read; a question before any section; a
    /// line without four words.
    #[rhai_fn(global, name = "evaluate_word_analogies", return_raw, pure)]
    pub fn evaluate_word_analogies(wv: &mut WordVectorsRef, path: &str) -> RhaiResult<Map> {
        evaluate_word_analogies_with(wv, path, Map::new())
    }

    /// `evaluate_word_analogies` with gensim's options (below).
    ///
    /// ```rhai
    /// let path = data::temp_path("questions.txt");
    /// data::write_text(path, ": family\nman woman king queen\nking queen man woman\n");
    /// let wv = text::word_vectors(DATA_DIR + "/../models/glove.6B.50d.100k.bin");
    /// let r = wv.evaluate_word_analogies(path, #{ restrict_vocab: 30000 });
    /// assert_eq(r.sections[0].section, "family");
    /// assert_eq(r.sections[1].section, "Total accuracy");
    /// ```
    #[rhai_fn(global, name = "evaluate_word_analogies", return_raw, pure)]
    pub fn evaluate_word_analogies_with(
        wv: &mut WordVectorsRef,
        path: &str,
        options: Map,
    ) -> RhaiResult<Map> {
        let o: AnalogyOptions = self::options(options)?;
        let r =
            wv.0.evaluate_word_analogies(std::path::Path::new(path), &o)?;
        Ok(to_script(&r)?.cast())
    }

    /// Cosine similarity of two words.
    ///
    /// Errors: an unknown word.
    ///
    /// ```rhai
    /// let wv = text::word_vectors(DATA_DIR + "/../models/glove.6B.50d.100k.bin");
    /// assert(wv.similarity("comedy", "drama") > wv.similarity("comedy", "tractor"));
    /// ```
    #[rhai_fn(global, name = "similarity", return_raw, pure)]
    pub fn similarity(wv: &mut WordVectorsRef, a: &str, b: &str) -> RhaiResult<f64> {
        Ok(f64::from(wv.0.similarity(a, b)?))
    }

    /// `a` is to `b` as `c` is to …: the `n` words nearest to `b − a + c`
    /// (gensim's `most_similar(positive=[b, c], negative=[a])`, the three
    /// words left out).
    ///
    /// Errors: an unknown word; a negative `n`.
    ///
    /// ```rhai
    /// let wv = text::word_vectors(DATA_DIR + "/../models/glove.6B.50d.100k.bin");
    /// assert_eq(wv.analogy("man", "king", "woman", 1)[0].word, "queen");
    /// ```
    #[rhai_fn(global, name = "analogy", return_raw, pure)]
    pub fn analogy(
        wv: &mut WordVectorsRef,
        a: &str,
        b: &str,
        c: &str,
        n: INT,
    ) -> RhaiResult<Array> {
        let n = count(n, "analogy: n")?;
        Ok(to_script(&wv.analogy(a, b, c, n)?)?.cast())
    }

    /// Writes the vectors to a `.safetensors` file (`vectors` f32 words × dim,
    /// `words` UTF-8 lines), which `text::word_vectors` reads back fastest.
    ///
    /// Errors: another extension; the file cannot be written.
    ///
    /// ```rhai
    /// let path = data::temp_path("wv.safetensors");
    /// let wv = text::word_vectors(DATA_DIR + "/../models/glove.6B.50d.100k.bin", #{ limit: 100 });
    /// wv.save(path);
    /// assert_eq(text::word_vectors(path).get("the"), wv.get("the"));
    /// ```
    #[rhai_fn(global, name = "save", return_raw, pure)]
    pub fn save(wv: &mut WordVectorsRef, path: &str) -> RhaiResult<()> {
        Ok(crate::text::vectors::native::save(
            &wv.0,
            std::path::Path::new(path),
        )?)
    }

    /// The mean vector of each document's known words (see `mean(docs, options)`).
    ///
    /// Errors: as `mean(docs, options)`.
    #[rhai_fn(global, name = "mean", return_raw, pure)]
    pub fn mean(wv: &mut WordVectorsRef, docs: Dynamic) -> RhaiResult<Matrix> {
        mean_with(wv, docs, Map::new())
    }

    /// The mean vector of each document — an array of strings or a `Movies`
    /// (its overviews; rows named by movie id) — in input order: the seed's
    /// tokens (`\w+`, lower-cased, English stop words left out), each looked
    /// up, the found vectors averaged. Parallel over documents.
    ///
    /// Errors: `docs` is neither; a bad option; with `on_empty: "error"`, a
    /// document without a known word (named).
    ///
    /// ```rhai
    /// let wv = text::word_vectors(DATA_DIR + "/../models/glove.6B.50d.100k.bin");
    /// let x = wv.mean(["A cop chases a killer.", "The of and"], #{ on_empty: "drop" });
    /// assert_eq(x.shape, [1, 50]);
    /// ```
    #[rhai_fn(global, name = "mean", return_raw, pure)]
    pub fn mean_with(wv: &mut WordVectorsRef, docs: Dynamic, options: Map) -> RhaiResult<Matrix> {
        let o: WordMeanOptions = self::options(options)?;
        let docs = Documents::of(&docs, "WordVectors.mean")?;
        Ok(mean::mean_matrix(
            &wv.0,
            &docs.refs(),
            docs.ids.as_deref(),
            &o,
        )?)
    }

    /// The documents that have at least one word with a vector, by the same
    /// rule as `mean` — a `Movies` for a `Movies`, an array for an array — so
    /// that labels can be made for exactly the rows `mean` keeps (the seed
    /// dropped the others).
    ///
    /// Errors: as `mean`.
    ///
    /// ```rhai
    /// let wv = text::word_vectors(DATA_DIR + "/../models/glove.6B.50d.100k.bin");
    /// assert_eq(wv.known(["A cop chases a killer.", "The of and"], #{}), ["A cop chases a killer."]);
    /// ```
    #[rhai_fn(global, name = "known", return_raw, pure)]
    pub fn known(wv: &mut WordVectorsRef, docs: Dynamic, options: Map) -> RhaiResult<Dynamic> {
        let o: KnownOptions = self::options(options)?;
        let docs = Documents::of(&docs, "WordVectors.mean")?;
        Ok(docs.kept(&mean::known(&wv.0, &docs.refs(), &o.mean)?))
    }

    /// How well the vectors cover `docs`: `documents`, `empty` (documents
    /// without a known word), `empty_ids` (their movie ids, or positions),
    /// `tokens` (after stop words), `known` (tokens with a vector) and
    /// `coverage` (known / tokens).
    ///
    /// Errors: as `mean`.
    ///
    /// ```rhai
    /// let wv = text::word_vectors(DATA_DIR + "/../models/glove.6B.50d.100k.bin");
    /// let c = wv.coverage(["A cop chases a killer.", "The of and"], #{});
    /// assert_eq([c.documents, c.empty, c.tokens, c.known], [2, 1, 3, 3]);
    /// ```
    #[rhai_fn(global, name = "coverage", return_raw, pure)]
    pub fn coverage(wv: &mut WordVectorsRef, docs: Dynamic, options: Map) -> RhaiResult<Map> {
        let o: CoverageOptions = self::options(options)?;
        let docs = Documents::of(&docs, "WordVectors.mean")?;
        let c = mean::coverage(&wv.0, &docs.refs(), docs.ids.as_deref(), &o.mean)?;
        Ok(to_map(&c)?)
    }

    /// The size of the vectors.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn describe(wv: &mut WordVectorsRef) -> String {
        wv.to_string()
    }
}
