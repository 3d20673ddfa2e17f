//! genres:: and plot:: on the real movies against the seed's Python and
//! scikit-learn, and their error paths.

mod common;

use genrelab::Session;

fn run(code: &str) -> Option<String> {
    common::eval_with_data("genres test", code)
}

// The seed's list2pairs over the train movies (sorted genre order):
//   M[Drama, Drama] 2047 (= train count of Drama), M[Comedy, Drama] 567,
//   M[Action, Thriller] 426, M[Foreign, Foreign] 7, M.sum() 33782
#[test]
fn pair_counts_match_the_seed() {
    let code = r#"
        let train = data::movies(DATA_DIR + "/movies/movies.csv").split("train");
        let m = genres::pair_counts(train);
        let n = m.names();
        let at = |a, b| m.row(n.index_of(a))[n.index_of(b)];
        let total = 0.0;
        for i in 0..m.rows { for v in m.row(i) { total += v; } }
        [at.call("Drama", "Drama"), at.call("Comedy", "Drama"), at.call("Drama", "Comedy"), at.call("Action", "Thriller"), at.call("Foreign", "Foreign"), total]
    "#;
    if let Some(shown) = run(code) {
        assert_eq!(shown, "[2047.0, 567.0, 567.0, 426.0, 7.0, 33782.0]");
    }
}

// SpectralCoclustering(n_clusters=5, random_state=s).fit(M).row_labels_ for s in 0..5 all give
// the same partition (adjusted Rand index 1.0 between seeds):
//   {Action, Crime, Horror, Mystery, Science Fiction, Thriller}, {Documentary},
//   {Comedy, Drama, History, Music, Romance, War, Western}, {Foreign},
//   {Adventure, Animation, Family, Fantasy, TV Movie}
#[test]
fn cocluster_partition_matches_sklearn() {
    let code = r#"
        let train = data::movies(DATA_DIR + "/movies/movies.csv").split("train");
        let m = genres::pair_counts(train);
        let out = [];
        for seed in [0, 1, 2] {
            let cc = genres::cocluster(m, #{ n_clusters: 5, seed: seed });
            out.push(cc.biclusters().map(|b| b.rows));
            assert_eq(cc.row_labels(), cc.column_labels());
        }
        out
    "#;
    let Some(shown) = run(code) else { return };
    let runs: Vec<Vec<Vec<String>>> = serde_json::from_str(&shown).unwrap();
    let mut expected: Vec<Vec<&str>> = vec![
        vec![
            "Action",
            "Crime",
            "Horror",
            "Mystery",
            "Science Fiction",
            "Thriller",
        ],
        vec!["Documentary"],
        vec![
            "Comedy", "Drama", "History", "Music", "Romance", "War", "Western",
        ],
        vec!["Foreign"],
        vec!["Adventure", "Animation", "Family", "Fantasy", "TV Movie"],
    ];
    expected.sort();
    for mut clusters in runs {
        clusters.sort();
        assert_eq!(clusters, expected);
    }
}

#[test]
fn bad_matrices_and_paths_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let square = "data::matrix([[3, 1], [1, 2]])";
    let cases = [
        (
            format!("genres::cocluster({square}, #{{ n_clusters: 3 }})"),
            "n_clusters must be between 2 and 2".to_string(),
        ),
        (
            "genres::cocluster(data::matrix([[1, 2], [0, 0]]), #{ n_clusters: 2 })".into(),
            "row 1 is all zeros".into(),
        ),
        (
            "genres::cocluster(data::matrix([[1, 2], [3, -1]]), #{ n_clusters: 2 })".into(),
            "needs non-negative values".into(),
        ),
        (
            "genres::cocluster(data::matrix([[1, 2], [3, 4]]), #{ k: 2 })".into(),
            "unknown option 'k'".into(),
        ),
        (
            format!(
                "plot::heatmap(data::matrix([[1, 2, 3], [4, 5, 6]]), #{{ labels: [\"a\", \"b\"], path: \"{d}/x.png\" }})"
            ),
            "not square (2 × 3)".into(),
        ),
        (
            format!("plot::heatmap({square}, #{{ path: \"{d}/x.jpg\" }})"),
            "unknown file extension '.jpg'; use one of: .png, .svg".into(),
        ),
        (
            format!("plot::heatmap({square}, #{{ path: \"{d}/missing/x.png\" }})"),
            "does not exist".into(),
        ),
        (
            format!("plot::heatmap({square}, #{{ title: \"t\" }})"),
            "option 'path' is missing: give a file name ending in .png or .svg".into(),
        ),
        (
            format!("plot::heatmap({square}, #{{ path: \"{d}/x.png\", colormap: \"jet\" }})"),
            "option 'colormap' is \"jet\", expected one of \"viridis\"".into(),
        ),
        (
            format!("plot::heatmap({square}, #{{ path: \"{d}/x.png\", row_labels: [\"a\"] }})"),
            "1 row labels for 2 rows".into(),
        ),
        (
            format!("plot::bar([1, 2], [\"a\"], #{{ path: \"{d}/b.png\" }})"),
            "2 counts and 1 labels".into(),
        ),
        (
            format!("plot::line([1, 2], #{{ a: [1] }}, #{{ path: \"{d}/l.png\" }})"),
            "series 'a' has 1 values for 2 x values".into(),
        ),
        (
            "genres::pair_counts(42)".into(),
            "expected Labels, Movies or an array of genre lists".into(),
        ),
        (
            "genres::pair_counts([[\"a\"]], #{ normalize: \"z\" })".into(),
            "option 'normalize' is \"z\", expected one of \"count\"".into(),
        ),
        (
            "genres::group_counts([[\"a\"], [\"b\"]], [1])".into(),
            "1 keys for 2 movies".into(),
        ),
    ];
    for (code, expected) in cases {
        let msg = common::error_of(&code);
        assert!(
            msg.contains(&expected),
            "{code}\n  gave: {msg}\n  expected: {expected}"
        );
        assert!(msg.starts_with("error: t:1:"), "no position: {msg}");
    }
    // NaN never reaches a figure or the clustering.
    let nan = "data::matrix([[parse_float(\"NaN\"), 1.0], [1.0, 1.0]])";
    let msg = common::error_of(&format!("plot::heatmap({nan}, #{{ path: \"{d}/n.png\" }})"));
    assert!(
        msg.contains("plot::heatmap: matrix: row 0, column 0 is NaN; a heatmap's values must be finite numbers"),
        "{msg}"
    );
    let msg = common::error_of(&format!("genres::cocluster({nan}, #{{ n_clusters: 2 }})"));
    assert!(
        msg.contains(
            "cocluster: matrix: row 0, column 0 is NaN; its values must be finite numbers"
        ),
        "{msg}"
    );
    let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(leftovers, 0, "failed plots leave no files behind");
}

#[test]
fn heatmaps_render_every_label() {
    let Some(data) = common::shared_data("heatmaps_render_every_label") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (mut s, _) = Session::capturing(Ok(data));
    let code = format!(
        "let m = genres::pair_counts(data::movies(DATA_DIR + \"/movies/movies.csv\").split(\"train\"));
         plot::heatmap(m, #{{ path: \"{0}/h.svg\", annotate: true }});
         plot::heatmap(m, #{{ path: \"{0}/h.png\" }});",
        dir.path().display()
    );
    let _ = s
        .eval(&code, "t")
        .unwrap_or_else(|e| panic!("{}", e.render()));
    let svg = std::fs::read_to_string(dir.path().join("h.svg")).unwrap();
    for genre in [
        "Action",
        "Science Fiction",
        "TV Movie",
        "Western",
        "Foreign",
    ] {
        // Each genre labels a row and a column.
        let shown = svg.lines().filter(|l| l.trim() == genre).count();
        assert!(shown >= 2, "{genre} is shown {shown} times in the SVG");
    }
    assert!(
        std::fs::read(dir.path().join("h.png"))
            .unwrap()
            .starts_with(b"\x89PNG")
    );
}
