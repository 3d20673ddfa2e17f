//! data:: against the real movies (skipped with a message when
//! ../shared/data is absent) and against small broken fixtures.

mod common;

use genrelab::Session;
use genrelab::data::{Columns, Movies};

fn eval_in_data_session(code: &str) -> Option<String> {
    common::eval_with_data("data test", code)
}

#[test]
fn movies_csv_has_the_documented_size_splits_and_genres() {
    let Some(data) = common::shared_data("movies_csv_has_the_documented_size") else {
        return;
    };
    let movies = Movies::read_csv(&data.join("movies/movies.csv"), &Columns::default()).unwrap();
    assert_eq!(movies.len(), 7128);
    let splits = movies.split_counts().unwrap();
    assert_eq!(
        splits,
        vec![
            ("train".into(), 4276),
            ("test".into(), 2140),
            ("dev".into(), 712)
        ]
    );
    // The label counts of shared/data/README.md.
    let readme = [
        ("Drama", 3372),
        ("Comedy", 2767),
        ("Thriller", 1790),
        ("Action", 1638),
        ("Romance", 1338),
        ("Adventure", 1157),
        ("Crime", 1110),
        ("Science Fiction", 819),
        ("Horror", 813),
        ("Family", 781),
        ("Fantasy", 708),
        ("Mystery", 573),
        ("Animation", 470),
        ("History", 318),
        ("Music", 244),
        ("War", 237),
        ("Documentary", 135),
        ("Western", 119),
        ("TV Movie", 43),
        ("Foreign", 12),
    ];
    let counts = movies.genre_counts();
    let expected: Vec<(String, usize)> = readme.iter().map(|(g, n)| (g.to_string(), *n)).collect();
    assert_eq!(counts, expected);
}

#[test]
fn text_only_table_reads_without_a_poster_column() {
    let Some(data) = common::shared_data("text_only_table") else {
        return;
    };
    let movies = Movies::read_csv(&data.join("tmdb-text/movies.csv"), &Columns::default()).unwrap();
    assert_eq!(movies.len(), 9064);
    let err = movies.posters().unwrap_err().to_string();
    assert!(
        err.contains("no poster column; columns present: 'id', 'imdb_id'"),
        "{err}"
    );
}

// numpy/pandas reference for the seed's random mask and for sample():
//   df = pd.read_csv('movies/movies.csv', keep_default_na=False)
//   np.random.seed(0); m = np.random.rand(len(df)) < 0.8
//   m.sum(), list(df.id[m][:5])            -> 5745, [5, 6, 11, 12, 13]
//   list(df.sample(5, random_state=np.random.RandomState(11)).id)
//                                          -> [307946, 14836, 9785, 13074, 2292]
#[test]
fn random_split_and_sample_match_numpy_and_pandas() {
    let code = r#"
        let movies = data::movies(DATA_DIR + "/movies/movies.csv");
        data::seed(0);
        let parts = movies.random_split(0.8);
        data::seed(11);
        [parts[0].len(), parts[0].ids().extract(0, 5), movies.sample(5).ids()]
    "#;
    if let Some(shown) = eval_in_data_session(code) {
        assert_eq!(
            shown,
            "[5745, [5, 6, 11, 12, 13], [307946, 14836, 9785, 13074, 2292]]"
        );
    }
}

// Reference: itertools.combinations over the sorted genres of each movie,
//   collections.Counter(...).most_common(5)
//   -> Comedy+Drama 920, Drama+Romance 867, Drama+Thriller 801,
//      Comedy+Romance 772, Action+Thriller 700; mean genres 2.5875420875420874
#[test]
fn explore_helpers_match_pandas() {
    let code = r#"
        import "std/explore" as explore;
        let movies = data::movies(DATA_DIR + "/movies/movies.csv");
        let pairs = explore::top_pairs(movies, 5);
        [pairs.map(|p| p.pair + "=" + p.movies), explore::labels_per_movie(movies).mean]
    "#;
    if let Some(shown) = eval_in_data_session(code) {
        assert_eq!(
            shown,
            "[[\"Comedy + Drama=920\", \"Drama + Romance=867\", \"Drama + Thriller=801\", \
             \"Comedy + Romance=772\", \"Action + Thriller=700\"], 2.5875420875420874]"
        );
    }
}

#[test]
fn stratified_split_keeps_genre_proportions() {
    let code = r#"
        let movies = data::movies(DATA_DIR + "/movies/movies.csv");
        let parts = movies.stratified_split([0.6, 0.1, 0.3]);
        let out = [];
        for g in ["Foreign", "TV Movie", "Drama"] {
            out.push(parts.map(|p| p.filter(|m| g in m.genres).len()));
        }
        out.push(parts.map(|p| p.len()));
        out
    "#;
    if let Some(shown) = eval_in_data_session(code) {
        // Every part within one movie (plus 1% for the large counts) of its
        // exact share: 12 Foreign -> 7.2 / 1.2 / 3.6 wanted, 7 / 1 / 4 given.
        let parsed: Vec<Vec<i64>> = serde_json::from_str(&shown).unwrap();
        let totals = [12.0, 43.0, 3372.0, 7128.0];
        for (row, total) in parsed.iter().zip(totals) {
            for (got, share) in row.iter().zip([0.6, 0.1, 0.3]) {
                assert!(
                    (*got as f64 - total * share).abs() <= 1.0 + 0.01 * total,
                    "{shown}"
                );
            }
            assert_eq!(row.iter().sum::<i64>() as f64, total);
        }
    }
}

#[test]
fn save_and_reload_keeps_rows_and_resolves_posters() {
    let Some(data) = common::shared_data("save_and_reload") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("dev.csv");
    let movies = Movies::read_csv(&data.join("movies/movies.csv"), &Columns::default()).unwrap();
    let dev = movies.split("dev").unwrap();
    dev.save_csv(&out).unwrap();
    let back = Movies::read_csv(&out, &Columns::default()).unwrap();
    assert_eq!(back.len(), 712);
    assert_eq!(
        back.ids().collect::<Vec<_>>(),
        dev.ids().collect::<Vec<_>>()
    );
    let poster = back.posters().unwrap()[0].unwrap().to_path_buf();
    assert!(poster.is_file(), "{}", poster.display());
}

fn read_error(name: &str, text: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = common::write(dir.path(), name, text);
    Movies::read_csv(&path, &Columns::default())
        .map(|_| ())
        .unwrap_err()
        .to_string()
}

#[test]
fn broken_movie_files_name_the_file_line_and_column() {
    let header = "id,title,genres,overview\n";
    let missing = read_error("a.csv", b"id,title,overview\n1,x,y\n");
    assert!(
        missing.ends_with(
            "a.csv: missing column 'genres'; columns present: 'id', 'title', 'overview'"
        ),
        "{missing}"
    );
    let malformed = read_error(
        "b.csv",
        format!("{header}1,a,Drama,o\n2,b,Drama\n").as_bytes(),
    );
    assert!(
        malformed
            .ends_with("b.csv:3: malformed row: 3 fields where the header has 4 (check quoting)"),
        "{malformed}"
    );
    let dup = read_error(
        "c.csv",
        format!("{header}7,a,Drama,o\n8,b,War,o\n7,c,War,o\n").as_bytes(),
    );
    assert!(
        dup.ends_with("c.csv:4: duplicate id 7 in column 'id' (first seen on line 2)"),
        "{dup}"
    );
    let latin1 = read_error("d.csv", b"id,title,genres,overview\n1,Am\xe9lie,Comedy,o\n");
    assert!(
        latin1.ends_with("d.csv:2: column 'title' is not valid UTF-8 (save the file as UTF-8)"),
        "{latin1}"
    );
    let empty = read_error("e.csv", b"");
    assert!(
        empty.ends_with("e.csv: the file is empty; expected a header row"),
        "{empty}"
    );
    let no_id = read_error("f.csv", format!("{header},a,Drama,o\n").as_bytes());
    assert!(
        no_id.ends_with("f.csv:2: column 'id' is empty; every movie needs an id"),
        "{no_id}"
    );
}

#[test]
fn other_column_names_and_separators_are_options() {
    let dir = tempfile::tempdir().unwrap();
    let path = common::write(
        dir.path(),
        "imdb.csv",
        b"tconst,primaryTitle,plot,tags\ntt1,A,p,Drama;War\ntt2,B,q,Comedy\n",
    );
    let (mut s, _) = Session::capturing(Err("no data".into()));
    let code = format!(
        "let m = data::movies(\"{}\", #{{ id: \"tconst\", title: \"primaryTitle\", overview: \"plot\", genres: \"tags\", genre_sep: \";\" }});\n[m.ids(), m.genres()]",
        path.display()
    );
    let v = s
        .eval(&code, "t")
        .unwrap_or_else(|e| panic!("{}", e.render()));
    assert_eq!(
        s.display(&v).unwrap(),
        "[[\"tt1\", \"tt2\"], [[\"Drama\", \"War\"], [\"Comedy\"]]]"
    );
}

#[test]
fn generic_csv_and_json_tables() {
    let dir = tempfile::tempdir().unwrap();
    let csv = common::write(dir.path(), "t.csv", b"name,n,x\na,1,0.5\nb,,2e3\n");
    let json = common::write(dir.path(), "t.json", b"[{\"a\": [1, 2]}, {\"a\": null}]");
    let bad = common::write(dir.path(), "bad.json", b"{\n  \"a\": 1,\n  \"b\": ]\n}");
    let (mut s, _) = Session::capturing(Err("no data".into()));
    let code = format!(
        "[data::csv(\"{}\"), data::json(\"{}\")]",
        csv.display(),
        json.display()
    );
    let v = s
        .eval(&code, "t")
        .unwrap_or_else(|e| panic!("{}", e.render()));
    assert_eq!(
        s.display(&v).unwrap(),
        "[[#{\"n\": 1, \"name\": \"a\", \"x\": 0.5}, #{\"n\": (), \"name\": \"b\", \"x\": 2000.0}], [#{\"a\": [1, 2]}, #{\"a\": ()}]]"
    );
    let err = s
        .eval(&format!("data::json(\"{}\")", bad.display()), "t")
        .unwrap_err()
        .render();
    assert!(
        err.contains("bad.json:3: column 8: expected value"),
        "{err}"
    );
}
