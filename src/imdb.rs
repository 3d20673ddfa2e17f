//! IMDb's official `title.basics.tsv(.gz)` (https://datasets.imdbws.com/),
//! streamed line by line with gzip detected from the bytes, and the report's
//! TMDB-vs-IMDb genre comparison done with it (IMDb's pages block scraping).

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use crate::data::Movies;
use crate::error::{Error, Result};

/// One title of title.basics.
#[derive(Clone, Debug, PartialEq)]
pub struct Title {
    pub title_type: String,
    pub primary_title: String,
    pub start_year: Option<i64>,
    pub genres: Vec<String>,
}

/// Titles by `tconst` (`tt0111161`).
pub type Basics = HashMap<String, Title>;

/// IMDb genre names → TMDB's; IMDb genres missing here have no TMDB
/// counterpart (Biography, Sport, Film-Noir, News, Reality-TV, Talk-Show,
/// Game-Show, Adult, Short) and TMDB's TV Movie and Foreign none on IMDb.
pub fn tmdb_name(imdb: &str) -> Option<&'static str> {
    Some(match imdb {
        "Action" => "Action",
        "Adventure" => "Adventure",
        "Animation" => "Animation",
        "Comedy" => "Comedy",
        "Crime" => "Crime",
        "Documentary" => "Documentary",
        "Drama" => "Drama",
        "Family" => "Family",
        "Fantasy" => "Fantasy",
        "History" => "History",
        "Horror" => "Horror",
        "Music" | "Musical" => "Music",
        "Mystery" => "Mystery",
        "Romance" => "Romance",
        "Sci-Fi" => "Science Fiction",
        "Thriller" => "Thriller",
        "War" => "War",
        "Western" => "Western",
        _ => return None,
    })
}

/// Reads title.basics, keeping titles of `title_type` (all when `None`).
pub fn read_basics(path: &Path, title_type: Option<&str>) -> Result<Basics> {
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut magic = [0u8; 2];
    let n = file.read(&mut magic).map_err(|e| Error::io(path, e))?;
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let reader: Box<dyn BufRead> = if n == 2 && magic == [0x1f, 0x8b] {
        Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(file)))
    } else {
        Box::new(BufReader::new(file))
    };
    let mut lines = reader.lines();
    let header = match lines.next() {
        Some(line) => line.map_err(|e| Error::io(path, e))?,
        None => {
            return Err(Error::file(
                path,
                "empty file; expected IMDb's title.basics.tsv",
            ));
        }
    };
    let columns: Vec<&str> = header.split('\t').collect();
    let col = |name: &str| {
        columns.iter().position(|c| *c == name).ok_or_else(|| {
            Error::file(
                path,
                format!(
                    "no column '{name}' (columns: {}); is this title.basics.tsv?",
                    columns.join(", ")
                ),
            )
        })
    };
    let (id, kind, title, year, genres) = (
        col("tconst")?,
        col("titleType")?,
        col("primaryTitle")?,
        col("startYear")?,
        col("genres")?,
    );
    let mut out = Basics::new();
    for (i, line) in lines.enumerate() {
        let line = line.map_err(|e| {
            Error::parse(
                path,
                i as u64 + 2,
                format!("unreadable line ({e}); truncated download?"),
            )
        })?;
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() != columns.len() {
            return Err(Error::parse(
                path,
                i as u64 + 2,
                format!(
                    "{} fields where the header has {}",
                    fields.len(),
                    columns.len()
                ),
            ));
        }
        if title_type.is_some_and(|t| fields[kind] != t) {
            continue;
        }
        let null = |v: &str| {
            if v == "\\N" {
                None
            } else {
                Some(v.to_string())
            }
        };
        out.insert(
            fields[id].to_string(),
            Title {
                title_type: fields[kind].to_string(),
                primary_title: fields[title].to_string(),
                start_year: null(fields[year]).and_then(|y| y.parse().ok()),
                genres: null(fields[genres])
                    .map(|g| g.split(',').map(str::to_string).collect())
                    .unwrap_or_default(),
            },
        );
        if i % 65_536 == 0 {
            crate::interrupt::check()?;
        }
    }
    Ok(out)
}

/// Agreement of TMDB and IMDb genres on one TMDB genre.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct GenreAgreement {
    pub genre: String,
    pub tmdb: usize,
    pub imdb: usize,
    pub both: usize,
    /// both / (tmdb + imdb − both); 1 when neither has it.
    pub agreement: f64,
}

/// The comparison over the movies found on IMDb.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Comparison {
    pub matched: usize,
    pub unmatched: usize,
    /// Movies whose two genre sets (IMDb mapped to TMDB names) are equal.
    pub identical: usize,
    /// Mean Jaccard index of the two sets.
    pub mean_jaccard: f64,
    pub per_genre: Vec<GenreAgreement>,
    /// IMDb genres with no TMDB counterpart, with their counts.
    pub imdb_only: BTreeMap<String, usize>,
}

/// Compares each (imdb id, TMDB genres) with IMDb's genres.
pub fn compare<'a>(
    movies: impl Iterator<Item = (&'a str, &'a [String])>,
    basics: &Basics,
) -> Comparison {
    let mut per: BTreeMap<String, GenreAgreement> = BTreeMap::new();
    let mut c = Comparison {
        matched: 0,
        unmatched: 0,
        identical: 0,
        mean_jaccard: 0.0,
        per_genre: Vec::new(),
        imdb_only: BTreeMap::new(),
    };
    let mut jaccard_sum = 0.0;
    for (imdb_id, tmdb) in movies {
        let Some(title) = basics.get(imdb_id) else {
            c.unmatched += 1;
            continue;
        };
        c.matched += 1;
        let mut imdb: Vec<&str> = Vec::new();
        for g in &title.genres {
            match tmdb_name(g) {
                Some(name) if !imdb.contains(&name) => imdb.push(name),
                Some(_) => {}
                None => *c.imdb_only.entry(g.clone()).or_default() += 1,
            }
        }
        let both = tmdb.iter().filter(|g| imdb.contains(&g.as_str())).count();
        let union = tmdb.len() + imdb.len() - both;
        jaccard_sum += if union == 0 {
            1.0
        } else {
            both as f64 / union as f64
        };
        if both == union {
            c.identical += 1;
        }
        for g in tmdb {
            let e = slot(&mut per, g);
            e.tmdb += 1;
            if imdb.contains(&g.as_str()) {
                e.both += 1;
            }
        }
        for g in &imdb {
            slot(&mut per, g).imdb += 1;
        }
    }
    c.mean_jaccard = if c.matched == 0 {
        0.0
    } else {
        jaccard_sum / c.matched as f64
    };
    c.per_genre = per
        .into_values()
        .map(|g| {
            let union = g.tmdb + g.imdb - g.both;
            GenreAgreement {
                agreement: if union == 0 {
                    1.0
                } else {
                    g.both as f64 / union as f64
                },
                ..g
            }
        })
        .collect();
    c
}

fn slot<'m>(per: &'m mut BTreeMap<String, GenreAgreement>, genre: &str) -> &'m mut GenreAgreement {
    per.entry(genre.to_string())
        .or_insert_with(|| GenreAgreement {
            genre: genre.to_string(),
            tmdb: 0,
            imdb: 0,
            both: 0,
            agreement: 0.0,
        })
}

crate::options! {
    /// `imdb::basics`: which titles are kept.
    pub struct BasicsOptions for "imdb::basics" {
        /// keep one titleType ("movie", "tvSeries", …); default: every title
        title_type: Option<String> = None => Text,
    }
}

/// IMDb's titles as scripts hold them.
#[derive(Clone)]
pub struct BasicsRef(pub std::sync::Arc<Basics>);

impl BasicsRef {
    pub fn read(path: &Path, o: &BasicsOptions) -> Result<BasicsRef> {
        Ok(BasicsRef(std::sync::Arc::new(read_basics(
            path,
            o.title_type.as_deref(),
        )?)))
    }

    /// The `imdb_id` column of `movies`.
    fn imdb_ids(movies: &Movies) -> Result<Vec<&str>> {
        movies.column_named("imdb_id").ok_or_else(|| {
            Error::invalid(
                "imdb: these movies have no 'imdb_id' column (shared/data's movies.csv has one)",
            )
        })
    }

    /// Movie id → IMDb's genres (`None` where IMDb has no such title).
    pub fn genres_of(&self, movies: &Movies) -> Result<BTreeMap<String, Option<Vec<String>>>> {
        let ids = Self::imdb_ids(movies)?;
        Ok(movies
            .ids()
            .zip(ids)
            .map(|(id, tt)| (id.to_string(), self.0.get(tt).map(|t| t.genres.clone())))
            .collect())
    }

    /// TMDB's genres of `movies` against IMDb's.
    pub fn compare(&self, movies: &Movies) -> Result<Comparison> {
        let ids = Self::imdb_ids(movies)?;
        let genres: Vec<&[String]> = movies.genres().collect();
        Ok(compare(ids.into_iter().zip(genres), &self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_gzip_and_plain_and_compares() {
        let dir = tempfile::tempdir().unwrap();
        let tsv = "tconst\ttitleType\tprimaryTitle\toriginalTitle\tisAdult\tstartYear\tendYear\truntimeMinutes\tgenres\n\
tt0000001\tshort\tCarmencita\tCarmencita\t0\t1894\t\\N\t1\tDocumentary,Short\n\
tt0111161\tmovie\tThe Shawshank Redemption\tThe Shawshank Redemption\t0\t1994\t\\N\t142\tDrama\n\
tt0133093\tmovie\tThe Matrix\tThe Matrix\t0\t1999\t\\N\t136\tAction,Sci-Fi\n";
        let plain = dir.path().join("basics.tsv");
        std::fs::write(&plain, tsv).unwrap();
        let gz = dir.path().join("basics.tsv.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut enc, tsv.as_bytes()).unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        let a = read_basics(&plain, Some("movie")).unwrap();
        assert_eq!(a, read_basics(&gz, Some("movie")).unwrap());
        assert_eq!(a.len(), 2);
        assert_eq!(a["tt0133093"].genres, vec!["Action", "Sci-Fi"]);
        assert_eq!(a["tt0111161"].start_year, Some(1994));
        let tmdb_matrix = ["Action".to_string(), "Science Fiction".to_string()];
        let tmdb_shawshank = ["Drama".to_string(), "Crime".to_string()];
        let c = compare(
            [
                ("tt0133093", &tmdb_matrix[..]),
                ("tt0111161", &tmdb_shawshank[..]),
                ("tt9999999", &tmdb_matrix[..]),
            ]
            .into_iter(),
            &a,
        );
        assert_eq!((c.matched, c.unmatched, c.identical), (2, 1, 1));
        assert!((c.mean_jaccard - 0.75).abs() < 1e-12);
        let crime = c.per_genre.iter().find(|g| g.genre == "Crime").unwrap();
        assert_eq!((crime.tmdb, crime.imdb, crime.both), (1, 0, 0));
    }

    #[test]
    fn bad_files_name_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("other.tsv");
        std::fs::write(&p, "a\tb\n1\t2\n").unwrap();
        let e = read_basics(&p, None).unwrap_err().to_string();
        assert!(e.contains("no column 'tconst' (columns: a, b)"), "{e}");
        std::fs::write(
            &p,
            "tconst\ttitleType\tprimaryTitle\tstartYear\tgenres\ntt1\tmovie\tX\n",
        )
        .unwrap();
        let e = read_basics(&p, None).unwrap_err().to_string();
        assert!(
            e.ends_with("other.tsv:2: 3 fields where the header has 5"),
            "{e}"
        );
        let gz = dir.path().join("cut.tsv.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(
            &mut enc,
            "tconst\ttitleType\tprimaryTitle\tstartYear\tgenres\n"
                .repeat(200)
                .as_bytes(),
        )
        .unwrap();
        let bytes = enc.finish().unwrap();
        std::fs::write(&gz, &bytes[..bytes.len() / 2]).unwrap();
        assert!(read_basics(&gz, None).is_err());
    }
}
