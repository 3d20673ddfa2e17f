//! The movies table: the CSV format of `shared/data/README.md` (id, title,
//! genres `|`-separated, overview, poster relative to the CSV, split, plus any
//! other columns, kept as they are), read with positions in every error.
//!
//! A [`Movies`] value is a cheap view (shared table + row indices), so splits,
//! filters and samples copy no text.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::data::table::csv_error;
use crate::error::{Error, Result};

crate::options! {
    /// Which CSV column plays which role (`data::movies`' options). Defaults
    /// are the shared data's names.
    pub struct Columns for "data::movies" {
        /// column of the movie id
        id: String = "id".into() => Name("column name"),
        /// column of the title
        title: String = "title".into() => Name("column name"),
        /// column of the plot summary
        overview: String = "overview".into() => Name("column name"),
        /// column of the genre list
        genres: String = "genres".into() => Name("column name"),
        /// column of the poster path
        poster: String = "poster".into() => Name("column name"),
        /// column of the train/dev/test split
        split: String = "split".into() => Name("column name"),
        /// column of the release date
        release_date: String = "release_date".into() => Name("column name"),
        /// the separator between genres
        genre_sep: String = "|".into() => Name("separator"),
    }
}

/// Column positions of the roles in one file's header.
#[derive(Clone, Debug)]
struct Roles {
    id: usize,
    title: usize,
    overview: usize,
    genres: usize,
    poster: Option<usize>,
    split: Option<usize>,
    release_date: Option<usize>,
}

/// One row as read: every field in header order, genres parsed, poster resolved.
#[derive(Clone, Debug)]
pub struct Movie {
    fields: Vec<String>,
    genres: Vec<String>,
    poster: Option<PathBuf>,
}

/// The rows of one file, shared by every view taken from it.
#[derive(Debug)]
pub struct Table {
    source: Option<PathBuf>,
    header: Vec<String>,
    roles: Roles,
    genre_separator: String,
    rows: Vec<Movie>,
}

/// A view of some rows of a [`Table`], in a given order.
#[derive(Clone, Debug)]
pub struct Movies {
    table: Arc<Table>,
    rows: Arc<[u32]>,
}

/// Column names as messages show them: quoted, so stray spaces would show.
fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|h| format!("'{h}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn find_column(path: &Path, header: &[String], name: &str) -> Result<usize> {
    header.iter().position(|h| h == name).ok_or_else(|| {
        Error::file(
            path,
            format!(
                "missing column '{name}'; columns present: {}",
                quoted(header)
            ),
        )
    })
}

impl Movies {
    /// Reads a movies CSV. Poster paths are resolved relative to the file.
    pub fn read_csv(path: &Path, columns: &Columns) -> Result<Movies> {
        let bytes = crate::io_util::read_text_file(path)?;
        if bytes.is_empty() {
            return Err(Error::file(
                path,
                "the file is empty; expected a header row",
            ));
        }
        let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(bytes.as_slice());
        let header = super::table::header_names(
            path,
            reader.headers().map_err(|e| csv_error(path, &[], e))?,
        )?;
        if header.iter().all(String::is_empty) {
            return Err(Error::file(
                path,
                "the file is empty; expected a header row",
            ));
        }
        let optional = |name: &str| header.iter().position(|h| h == name);
        let roles = Roles {
            id: find_column(path, &header, &columns.id)?,
            title: find_column(path, &header, &columns.title)?,
            overview: find_column(path, &header, &columns.overview)?,
            genres: find_column(path, &header, &columns.genres)?,
            poster: optional(&columns.poster),
            split: optional(&columns.split),
            release_date: optional(&columns.release_date),
        };

        let mut rows = Vec::new();
        let mut first_line_of_id: HashMap<String, u64> = HashMap::new();
        for record in reader.records() {
            let record = record.map_err(|e| csv_error(path, &header, e))?;
            let line = record.position().map_or(0, |p| p.line());
            let fields: Vec<String> = record.iter().map(str::to_string).collect();
            let id = fields[roles.id].trim();
            if id.is_empty() {
                return Err(Error::parse(
                    path,
                    line,
                    format!("column '{}' is empty; every movie needs an id", columns.id),
                ));
            }
            if let Some(first) = first_line_of_id.insert(id.to_string(), line) {
                return Err(Error::parse(
                    path,
                    line,
                    format!(
                        "duplicate id {id} in column '{}' (first seen on line {first})",
                        columns.id
                    ),
                ));
            }
            let genres = split_genres(&fields[roles.genres], &columns.genre_sep);
            let poster = roles
                .poster
                .map(|c| fields[c].trim())
                .filter(|p| !p.is_empty())
                .map(|p| base_dir.join(p));
            rows.push(Movie {
                fields,
                genres,
                poster,
            });
        }
        if rows.len() > u32::MAX as usize {
            return Err(Error::file(path, "more than 2^32 rows"));
        }
        let all: Arc<[u32]> = (0..rows.len() as u32).collect();
        Ok(Movies {
            table: Arc::new(Table {
                source: Some(path.to_path_buf()),
                header,
                roles,
                genre_separator: columns.genre_sep.clone(),
                rows,
            }),
            rows: all,
        })
    }

    fn movie(&self, i: usize) -> &Movie {
        &self.table.rows[self.rows[i] as usize]
    }

    fn column(&self, role: usize) -> impl Iterator<Item = &str> + '_ {
        (0..self.len()).map(move |i| self.movie(i).fields[role].as_str())
    }

    /// A view of the same table with other rows.
    fn with_rows(&self, rows: Vec<u32>) -> Movies {
        Movies {
            table: self.table.clone(),
            rows: rows.into(),
        }
    }

    /// The same movies, positions `indices` of this view, in that order.
    pub fn select(&self, indices: &[usize]) -> Movies {
        self.with_rows(indices.iter().map(|&i| self.rows[i]).collect())
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The file this table was read from.
    pub fn source(&self) -> Option<&Path> {
        self.table.source.as_deref()
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> + '_ {
        self.column(self.table.roles.id).map(str::trim)
    }

    pub fn titles(&self) -> impl Iterator<Item = &str> + '_ {
        self.column(self.table.roles.title)
    }

    pub fn overviews(&self) -> impl Iterator<Item = &str> + '_ {
        self.column(self.table.roles.overview)
    }

    pub fn genres(&self) -> impl Iterator<Item = &[String]> + '_ {
        (0..self.len()).map(move |i| self.movie(i).genres.as_slice())
    }

    /// Release dates as written (`YYYY-MM-DD` or empty); `None` without the column.
    pub fn release_dates(&self) -> Option<impl Iterator<Item = &str> + '_> {
        self.table.roles.release_date.map(|c| self.column(c))
    }

    /// Resolved poster paths; an error when the table has no poster column.
    pub fn posters(&self) -> Result<Vec<Option<&Path>>> {
        if self.table.roles.poster.is_none() {
            return Err(self.missing_column("poster"));
        }
        Ok((0..self.len())
            .map(|i| self.movie(i).poster.as_deref())
            .collect())
    }

    fn missing_column(&self, role: &str) -> Error {
        let what = format!(
            "this table has no {role} column; columns present: {}",
            quoted(&self.table.header)
        );
        match &self.table.source {
            Some(path) => Error::file(path, what),
            None => Error::invalid(what),
        }
    }

    /// The split of each movie, or an error when the table has no split column.
    pub fn splits(&self) -> Result<impl Iterator<Item = &str> + '_> {
        let column = self
            .table
            .roles
            .split
            .ok_or_else(|| self.missing_column("split"))?;
        Ok(self.column(column).map(str::trim))
    }

    /// Split names with their sizes, in order of first appearance.
    pub fn split_counts(&self) -> Result<Vec<(String, usize)>> {
        let mut counts: Vec<(String, usize)> = Vec::new();
        for split in self.splits()? {
            match counts.iter_mut().find(|(name, _)| name == split) {
                Some((_, n)) => *n += 1,
                None => counts.push((split.to_string(), 1)),
            }
        }
        Ok(counts)
    }

    /// The movies whose split column equals `name`.
    pub fn split(&self, name: &str) -> Result<Movies> {
        let splits: Vec<&str> = self.splits()?.collect();
        let rows: Vec<u32> = splits
            .iter()
            .zip(self.rows.iter())
            .filter(|(s, _)| **s == name)
            .map(|(_, &r)| r)
            .collect();
        if rows.is_empty() {
            let known: Vec<String> = self
                .split_counts()?
                .into_iter()
                .map(|(n, c)| format!("{n} ({c})"))
                .collect();
            return Err(Error::invalid(format!(
                "no movie is in split '{name}'; splits present: {}",
                known.join(", ")
            )));
        }
        Ok(self.with_rows(rows))
    }

    /// The movies at the positions where `keep` is true.
    pub fn filter_by(&self, keep: &[bool]) -> Movies {
        self.with_rows(
            self.rows
                .iter()
                .zip(keep)
                .filter(|(_, k)| **k)
                .map(|(&r, _)| r)
                .collect(),
        )
    }

    /// Column name -> value for movie `i`, every column of the file; `genres`
    /// comes parsed and `poster` resolved.
    pub fn record(&self, i: usize) -> Vec<(&str, Field<'_>)> {
        let movie = self.movie(i);
        let roles = &self.table.roles;
        self.table
            .header
            .iter()
            .enumerate()
            .map(|(c, name)| {
                let value = if c == roles.id {
                    Field::Id(movie.fields[c].trim())
                } else if c == roles.genres {
                    Field::List(&movie.genres)
                } else if Some(c) == roles.poster {
                    Field::Path(movie.poster.as_deref())
                } else {
                    Field::Text(&movie.fields[c])
                };
                (name.as_str(), value)
            })
            .collect()
    }

    /// The raw text of column `name` for every movie, or `None` when the file
    /// has no such column.
    pub fn column_named(&self, name: &str) -> Option<Vec<&str>> {
        let c = self.table.header.iter().position(|h| h == name)?;
        Some(
            (0..self.len())
                .map(|i| self.movie(i).fields[c].trim())
                .collect(),
        )
    }

    /// Genre -> number of movies, most common first (ties by name).
    pub fn genre_counts(&self) -> Vec<(String, usize)> {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for genres in self.genres() {
            for g in genres {
                *counts.entry(g).or_default() += 1;
            }
        }
        let mut counts: Vec<(String, usize)> = counts
            .into_iter()
            .map(|(g, n)| (g.to_string(), n))
            .collect();
        counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        counts
    }

    /// Writes this view in the same CSV format (atomically); poster paths are
    /// rewritten relative to the new file's folder where they lie under it.
    pub fn save_csv(&self, path: &Path) -> Result<()> {
        let out_dir = path
            .parent()
            .map(|p| {
                if p.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    p
                }
            })
            .unwrap_or(Path::new("."));
        let out_dir = std::path::absolute(out_dir).map_err(|e| Error::io(path, e))?;
        crate::io_util::write_atomic(path, |out| {
            let mut writer = csv::Writer::from_writer(out);
            writer
                .write_record(&self.table.header)
                .map_err(|e| write_error(path, e))?;
            let roles = &self.table.roles;
            for i in 0..self.len() {
                let movie = self.movie(i);
                let mut fields = movie.fields.clone();
                fields[roles.genres] = movie.genres.join(&self.table.genre_separator);
                if let (Some(c), Some(poster)) = (roles.poster, &movie.poster) {
                    fields[c] = relative_to(poster, &out_dir);
                }
                writer
                    .write_record(&fields)
                    .map_err(|e| write_error(path, e))?;
            }
            writer.flush().map_err(|e| Error::io(path, e))
        })
    }
}

/// A value of one column of one movie, as [`Movies::record`] hands it out.
pub enum Field<'a> {
    Id(&'a str),
    Text(&'a str),
    List(&'a [String]),
    Path(Option<&'a Path>),
}

fn write_error(path: &Path, err: csv::Error) -> Error {
    match err.into_kind() {
        csv::ErrorKind::Io(e) => Error::io(path, e),
        other => Error::file(path, format!("cannot write CSV: {other:?}")),
    }
}

/// `path` relative to `dir` when it lies under it, else absolute.
fn relative_to(path: &Path, dir: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    match absolute.strip_prefix(dir) {
        Ok(rel) => rel.to_string_lossy().into_owned(),
        Err(_) => absolute.to_string_lossy().into_owned(),
    }
}

/// `Crime|Comedy` -> [Crime, Comedy]; blanks dropped, whitespace trimmed.
pub fn split_genres(field: &str, separator: &str) -> Vec<String> {
    field
        .split(separator)
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .map(str::to_string)
        .collect()
}

impl fmt::Display for Movies {
    /// `Movies: 7128 rows (train 4276, test 2140, dev 712)` and the first rows.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Movies: {} rows", self.len())?;
        if let Ok(splits) = self.split_counts()
            && !splits.is_empty()
        {
            let parts: Vec<String> = splits.iter().map(|(s, n)| format!("{s} {n}")).collect();
            write!(f, " ({})", parts.join(", "))?;
        }
        const SHOWN: usize = 5;
        let rows: Vec<[String; 3]> = (0..self.len().min(SHOWN))
            .map(|i| {
                let m = self.movie(i);
                let r = &self.table.roles;
                [
                    m.fields[r.id].clone(),
                    truncate(&m.fields[r.title], 40),
                    truncate(&m.genres.join("|"), 50),
                ]
            })
            .collect();
        let head = ["id".to_string(), "title".into(), "genres".into()];
        let widths: Vec<usize> = (0..3)
            .map(|c| {
                rows.iter()
                    .map(|r| r[c].chars().count())
                    .chain([head[c].len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for row in std::iter::once(&head).chain(rows.iter()) {
            write!(f, "\n ")?;
            for (c, cell) in row.iter().enumerate() {
                let pad = widths[c] - cell.chars().count();
                if c + 1 == row.len() {
                    write!(f, " {cell}")?;
                } else {
                    write!(f, " {cell}{}", " ".repeat(pad))?;
                }
            }
        }
        if self.len() > SHOWN {
            write!(f, "\n  … {} more", self.len() - SHOWN)?;
        }
        Ok(())
    }
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut out: String = text.chars().take(max - 1).collect();
        out.push('…');
        out
    }
}
