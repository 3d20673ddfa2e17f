//! Reading word vectors in every format users have on disk, detected from the
//! content (gzip magic, safetensors header, a `COUNT DIM` header line, the
//! first record), streamed: a 3.6 GB GoogleNews file is read once, straight
//! into the one matrix it becomes.
//!
//! - word2vec binary (`.bin`, `.bin.gz`): `COUNT DIM\n`, then per word its
//!   UTF-8 bytes, a space, DIM little-endian f32 and (usually) `\n`;
//! - word2vec text / fastText `.vec`: the same header, then `word v1 … vD` lines;
//! - GloVe `.txt`: `word v1 … vD` lines, no header;
//! - genrelab's own `.safetensors` (see [`super::WordVectors::save`]).

use std::fs::File;
use std::io::Read;
use std::path::Path;

use ahash::AHashMap;

use super::WordVectors;
use crate::error::{Error, Result};

/// The file layouts [`read`] knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Auto,
    Word2VecBinary,
    Word2VecText,
    Glove,
    Native,
}

crate::choices!(impl Format {
    Auto = "auto",
    Word2VecBinary = "word2vec_binary",
    Word2VecText = "word2vec_text",
    Glove = "glove",
    Native = "native",
});

/// What to do with a word whose bytes are not UTF-8 (gensim's `unicode_errors`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnicodeErrors {
    Strict,
    Replace,
    Ignore,
}

crate::choices!(impl UnicodeErrors { Strict = "strict", Replace = "replace", Ignore = "ignore" });

crate::options! {
    /// `text::word_vectors`: how a file of word vectors is read.
    pub struct ReadOptions for "text::word_vectors" {
        /// auto: told from the content (gzip, a COUNT DIM header, binary or text records, genrelab's .safetensors)
        format: Format = Format::Auto => Choice(Format::NAMES),
        /// read only the first N words (gensim's limit); default all
        limit: Option<usize> = None => Int(POSITIVE_INT),
        /// lower-case every word; merged words keep the earlier vector
        lowercase: bool = false => Bool,
        /// a word that is not UTF-8 fails the load (strict), or its bad bytes become U+FFFD or are dropped (gensim's unicode_errors)
        unicode_errors: UnicodeErrors = UnicodeErrors::Strict => Choice(UnicodeErrors::NAMES),
    }
}

/// What reading found besides the vectors: the format and what was passed over.
#[derive(Clone, Debug, PartialEq)]
pub struct ReadReport {
    pub format: Format,
    /// Words that were already there (first vector kept): (word, word index).
    pub duplicates: Vec<(String, usize)>,
}

/// A byte source read in blocks, with look-ahead and the offset of every
/// byte, so that errors can say where a file went wrong.
struct Source {
    inner: Box<dyn Read>,
    buf: Vec<u8>,
    pos: usize,
    /// Bytes consumed before `buf[0]`.
    offset: u64,
    eof: bool,
}

const BLOCK: usize = 1 << 20;

impl Source {
    fn new(inner: Box<dyn Read>) -> Source {
        Source {
            inner,
            buf: Vec::new(),
            pos: 0,
            offset: 0,
            eof: false,
        }
    }

    /// Makes at least `n` bytes available unless the input ends first.
    fn ensure(&mut self, n: usize, path: &Path) -> Result<&[u8]> {
        while self.buf.len() - self.pos < n && !self.eof {
            if self.pos > 0 {
                self.offset += self.pos as u64;
                self.buf.drain(..self.pos);
                self.pos = 0;
            }
            let start = self.buf.len();
            self.buf.resize(start + BLOCK.max(n), 0);
            let got = loop {
                match self.inner.read(&mut self.buf[start..]) {
                    Ok(got) => break got,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        self.buf.truncate(start);
                        return Err(Error::file(path, format!("cannot read: {e}")));
                    }
                }
            };
            self.buf.truncate(start + got);
            self.eof = got == 0;
        }
        Ok(&self.buf[self.pos..])
    }

    fn consume(&mut self, n: usize) {
        self.pos += n;
    }

    /// The offset of the next byte.
    fn at(&self) -> u64 {
        self.offset + self.pos as u64
    }

    /// The bytes up to (not including) `stop`, consumed with it; `None` at
    /// the end of the input. Fails past `max` bytes without `stop`.
    fn until(&mut self, stop: u8, max: usize, path: &Path) -> Result<Option<Vec<u8>>> {
        let mut scanned = 0;
        loop {
            let avail = self.ensure(scanned + 1, path)?;
            if avail.len() <= scanned {
                if avail.is_empty() {
                    return Ok(None);
                }
                let out = avail.to_vec();
                let n = out.len();
                self.consume(n);
                return Ok(Some(out));
            }
            if let Some(i) = avail[scanned..].iter().position(|&b| b == stop) {
                let out = avail[..scanned + i].to_vec();
                self.consume(scanned + i + 1);
                return Ok(Some(out));
            }
            scanned = avail.len();
            if scanned > max {
                return Err(Error::file(
                    path,
                    format!(
                        "no {} within {max} bytes from byte {}: not a word-vectors file of this format",
                        if stop == b'\n' {
                            "line end"
                        } else {
                            "space after a word"
                        },
                        self.at()
                    ),
                ));
            }
        }
    }
}

/// The longest line or word accepted before the file is judged not to be
/// word vectors (a GoogleNews line of 300 floats is ~3 KB).
const MAX_RECORD: usize = 1 << 20;

fn open(path: &Path) -> Result<(Source, bool)> {
    let mut file = Source::new(Box::new(File::open(path).map_err(|e| Error::io(path, e))?));
    let head = file.ensure(2, path)?;
    if head.is_empty() {
        return Err(Error::file(
            path,
            "the file is empty; expected word vectors",
        ));
    }
    if head.starts_with(&[0x1f, 0x8b]) {
        let rest = Source {
            inner: Box::new(flate2::read::MultiGzDecoder::new(ReadRest(file))),
            buf: Vec::new(),
            pos: 0,
            offset: 0,
            eof: false,
        };
        return Ok((rest, true));
    }
    Ok((file, false))
}

/// What is left of a [`Source`], as a plain reader (for the gzip decoder).
struct ReadRest(Source);

impl Read for ReadRest {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let s = &mut self.0;
        if s.pos == s.buf.len() {
            return s.inner.read(out);
        }
        let n = out.len().min(s.buf.len() - s.pos);
        out[..n].copy_from_slice(&s.buf[s.pos..s.pos + n]);
        s.pos += n;
        Ok(n)
    }
}

fn is_native(head: &[u8]) -> bool {
    head.len() > 9
        && u64::from_le_bytes(head[..8].try_into().unwrap_or_default()) < (1 << 32)
        && head[8] == b'{'
}

/// `COUNT DIM` when `line` is a word2vec header.
fn header(line: &[u8]) -> Option<(usize, usize)> {
    let text = std::str::from_utf8(line).ok()?;
    let mut parts = text.split_whitespace();
    let count = parts.next()?.parse().ok()?;
    let dim = parts.next()?.parse().ok()?;
    parts.next().is_none().then_some((count, dim))
}

/// Reads word vectors from `path`.
pub fn read(path: &Path, opts: &ReadOptions) -> Result<(WordVectors, ReadReport)> {
    let (mut src, gzipped) = open(path)?;
    let head = src.ensure(16, path)?.to_vec();
    if opts.format == Format::Native
        || (opts.format == Format::Auto && !gzipped && is_native(&head))
    {
        drop(src);
        let wv = super::native::load(path)?;
        let wv = finish_native(wv, opts);
        return Ok((
            wv,
            ReadReport {
                format: Format::Native,
                duplicates: Vec::new(),
            },
        ));
    }
    let mut builder = Builder::new(path, opts);
    // The first line: a header, or (GloVe) the first record.
    let first = src
        .until(b'\n', MAX_RECORD, path)?
        .ok_or_else(|| Error::file(path, "the file is empty; expected word vectors"))?;
    let declared = header(&first);
    let format = match (opts.format, declared) {
        (Format::Glove, None) | (Format::Auto, None) => Format::Glove,
        (Format::Word2VecBinary | Format::Word2VecText | Format::Native, None) => {
            return Err(Error::parse(
                path,
                1,
                format!(
                    "expected a word2vec header 'COUNT DIM', found {:?}",
                    preview(&first)
                ),
            ));
        }
        // A header the reader refuses (no words or no dimensions), or no
        // record after it: the reader names that, whatever the format.
        (Format::Auto, Some((count, dim))) if count == 0 || dim == 0 => Format::Word2VecText,
        (Format::Auto, Some(_)) if src.ensure(1, path)?.is_empty() => Format::Word2VecText,
        (Format::Auto, Some((_, dim))) => {
            let sample = src.ensure(MAX_RECORD.min(64 << 10), path)?;
            match text_record_check(sample, dim) {
                TextCheck::Record => Format::Word2VecText,
                TextCheck::Binary => Format::Word2VecBinary,
                // Text, but not `word v1 … vD`: guessing either way would
                // read garbage, so say what was seen and let the user choose.
                TextCheck::Malformed(why) => {
                    return Err(Error::parse(
                        path,
                        2,
                        format!(
                            "cannot tell whether this word2vec file is text or binary: line 2 is text but {why}; \
                             give format: \"word2vec_text\" (and fix the line) or format: \"word2vec_binary\""
                        ),
                    ));
                }
            }
        }
        (Format::Glove, Some((count, dim))) if opts.format == Format::Glove => {
            return Err(Error::parse(
                path,
                1,
                format!(
                    "line 1 is a word2vec header ({count} words of {dim} dimensions), which GloVe files do not have; \
                     give format: \"word2vec_text\" (or leave format out)"
                ),
            ));
        }
        (f, Some(_)) => f,
    };
    if format == Format::Glove
        && opts.format == Format::Auto
        && std::str::from_utf8(&first).is_err()
    {
        return Err(Error::file(
            path,
            "not a word-vectors file: its first line is neither a word2vec header ('COUNT DIM') nor text",
        ));
    }
    match (format, declared) {
        (Format::Glove, _) => {
            builder.text_record(&first, 1)?;
            read_lines(&mut src, &mut builder, 2, None)?;
        }
        (Format::Word2VecText, Some((count, dim))) => {
            builder.expect(count, dim)?;
            read_lines(&mut src, &mut builder, 2, Some(count))?;
        }
        (_, Some((count, dim))) => {
            builder.expect(count, dim)?;
            read_binary(&mut src, &mut builder, count, dim)?;
        }
        (_, None) => unreachable!("a header-less file is read as GloVe above"),
    }
    let duplicates = std::mem::take(&mut builder.duplicates);
    Ok((builder.finish()?, ReadReport { format, duplicates }))
}

/// The fields of a text record: separated by spaces (runs of them too),
/// trailing spaces, tabs and a carriage return ignored.
fn text_fields(line: &str) -> Vec<&str> {
    line.trim_end_matches(['\r', ' ', '\t'])
        .split(' ')
        .filter(|f| !f.is_empty())
        .collect()
}

/// What the first record after a word2vec header looks like.
enum TextCheck {
    /// A word and numbers: the text reader's business.
    Record,
    /// Text, but not that (why).
    Malformed(String),
    /// Not text: bytes no text line holds.
    Binary,
}

fn text_record_check(bytes: &[u8], dim: usize) -> TextCheck {
    let line = match bytes.iter().position(|&b| b == b'\n') {
        Some(end) => &bytes[..end],
        None => bytes,
    };
    let Ok(text) = std::str::from_utf8(line) else {
        return TextCheck::Binary;
    };
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\r'))
    {
        return TextCheck::Binary;
    }
    let fields = text_fields(text);
    let numbers = fields
        .iter()
        .skip(1)
        .filter(|f| f.parse::<f32>().is_ok())
        .count();
    // A word and numbers is text, even with the wrong count (the text
    // reader then names the line and the count).
    if fields.len() > 1 && numbers == fields.len() - 1 {
        TextCheck::Record
    } else {
        TextCheck::Malformed(format!(
            "not a word and {dim} numbers ({} of its {} fields after the word are numbers): {:?}",
            numbers,
            fields.len().saturating_sub(1),
            preview(line)
        ))
    }
}

fn preview(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(60)]).into_owned();
    if bytes.len() > 60 {
        format!("{text}…")
    } else {
        text
    }
}

fn finish_native(mut wv: WordVectors, opts: &ReadOptions) -> WordVectors {
    if let Some(limit) = opts.limit.filter(|l| *l < wv.len()) {
        wv = wv.first(limit);
    }
    if opts.lowercase {
        wv = wv.lowercased();
    }
    wv
}

/// Accumulates records into one matrix.
struct Builder<'a> {
    path: &'a Path,
    opts: &'a ReadOptions,
    dim: Option<usize>,
    /// The count the header promised (for messages).
    promised: Option<usize>,
    words: Vec<String>,
    index: AHashMap<String, u32>,
    values: Vec<f32>,
    /// Records seen, duplicates included (the word index in messages).
    seen: usize,
    duplicates: Vec<(String, usize)>,
}

impl<'a> Builder<'a> {
    fn new(path: &'a Path, opts: &'a ReadOptions) -> Builder<'a> {
        Builder {
            path,
            opts,
            dim: None,
            promised: None,
            words: Vec::new(),
            index: AHashMap::new(),
            values: Vec::new(),
            seen: 0,
            duplicates: Vec::new(),
        }
    }

    fn expect(&mut self, count: usize, dim: usize) -> Result<()> {
        if dim == 0 || count == 0 {
            return Err(Error::parse(
                self.path,
                1,
                format!(
                    "the header says {count} words of {dim} dimensions; both must be at least 1"
                ),
            ));
        }
        self.dim = Some(dim);
        self.promised = Some(count);
        let keep = self.opts.limit.map_or(count, |l| l.min(count));
        // Reserve what the header promises, but not more than a sane amount
        // before the data confirms it (a lying header must not allocate 1 TB).
        let cells = keep.saturating_mul(dim).min(1 << 28);
        self.values.reserve(cells);
        self.words.reserve(keep.min(1 << 22));
        Ok(())
    }

    fn full(&self) -> bool {
        self.opts.limit.is_some_and(|l| self.seen >= l)
    }

    fn word(&self, bytes: &[u8], where_: &str) -> Result<String> {
        match std::str::from_utf8(bytes) {
            Ok(w) => Ok(w.to_string()),
            Err(e) => match self.opts.unicode_errors {
                UnicodeErrors::Replace => Ok(String::from_utf8_lossy(bytes).into_owned()),
                UnicodeErrors::Ignore => Ok(String::from_utf8_lossy(bytes).replace('\u{FFFD}', "")),
                UnicodeErrors::Strict => Err(Error::file(
                    self.path,
                    format!(
                        "{where_}: the word {:?} is not UTF-8 (bad byte at {}); pass unicode_errors: \"replace\" or \"ignore\" to read it anyway",
                        String::from_utf8_lossy(bytes),
                        e.valid_up_to()
                    ),
                )),
            },
        }
    }

    /// Adds one record; `where_` names it for messages.
    fn push(
        &mut self,
        word: String,
        vector: impl Iterator<Item = f32>,
        where_: &str,
    ) -> Result<()> {
        let index = self.seen;
        self.seen += 1;
        let word = if self.opts.lowercase {
            word.to_lowercase()
        } else {
            word
        };
        if word.is_empty() {
            return Err(Error::file(self.path, format!("{where_}: an empty word")));
        }
        let start = self.values.len();
        self.values.extend(vector);
        if let Some(j) = self.values[start..].iter().position(|v| !v.is_finite()) {
            return Err(Error::file(
                self.path,
                format!(
                    "{where_}: value {} of '{word}' is {}",
                    j + 1,
                    self.values[start + j]
                ),
            ));
        }
        if self.index.contains_key(&word) {
            self.values.truncate(start);
            self.duplicates.push((word, index));
            return Ok(());
        }
        self.index.insert(word.clone(), self.words.len() as u32);
        self.words.push(word);
        Ok(())
    }

    /// One `word v1 … vD` line (line number `line`).
    fn text_record(&mut self, bytes: &[u8], line: u64) -> Result<()> {
        let text = self.word(bytes, &format!("line {line}"))?;
        let fields = text_fields(&text);
        if fields.is_empty() {
            return Err(Error::parse(
                self.path,
                line,
                "an empty line where a word and its numbers were expected",
            ));
        }
        let dim = match self.dim {
            Some(d) => d,
            None => {
                if fields.len() < 2 {
                    return Err(Error::parse(
                        self.path,
                        line,
                        format!(
                            "expected a word followed by numbers (or a word2vec header 'COUNT DIM'), found {:?}: not a word-vectors file",
                            preview(bytes)
                        ),
                    ));
                }
                self.dim = Some(fields.len() - 1);
                fields.len() - 1
            }
        };
        // Words with spaces (some GloVe files have them): the last `dim`
        // fields are the numbers. A row whose extra fields are numbers too
        // has values too many, not a longer word.
        let split = fields.len().saturating_sub(dim);
        let too_many = split > 1 && fields[1..split].iter().all(|f| f.parse::<f32>().is_ok());
        if fields.len() < dim + 1 || too_many {
            return Err(Error::parse(
                self.path,
                line,
                format!(
                    "'{}' has {} values, expected {dim}",
                    fields[0],
                    fields.len() - 1
                ),
            ));
        }
        let word = fields[..split].join(" ");
        let mut values = Vec::with_capacity(dim);
        for (j, f) in fields[split..].iter().enumerate() {
            values.push(f.parse::<f32>().map_err(|_| {
                Error::parse(
                    self.path,
                    line,
                    format!("value {} of '{word}' is {f:?}, not a number", j + 1),
                )
            })?);
        }
        self.push(word, values.into_iter(), &format!("line {line}"))
    }

    fn finish(self) -> Result<WordVectors> {
        let dim = self.dim.unwrap_or(0);
        if self.words.is_empty() {
            return Err(Error::file(self.path, "no word vectors in the file"));
        }
        WordVectors::new(self.words, self.index, self.values, dim)
    }
}

fn read_lines(
    src: &mut Source,
    b: &mut Builder,
    first_line: u64,
    count: Option<usize>,
) -> Result<()> {
    let mut line = first_line;
    while !b.full() {
        if count.is_some_and(|c| b.seen >= c) {
            break;
        }
        let Some(bytes) = src.until(b'\n', MAX_RECORD, b.path)? else {
            break;
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            line += 1;
            continue;
        }
        b.text_record(&bytes, line)?;
        line += 1;
        if line.is_multiple_of(65536) && crate::interrupt::requested() {
            return Err(Error::Interrupted);
        }
    }
    if let Some(c) = count.filter(|c| b.seen < *c && !b.full()) {
        return Err(Error::file(
            b.path,
            format!(
                "truncated: the header promises {c} words, the file ends after {} (line {line})",
                b.seen
            ),
        ));
    }
    if count.is_some() && !b.full() {
        check_nothing_follows(src, b, count.unwrap_or(0))?;
    }
    Ok(())
}

fn check_nothing_follows(src: &mut Source, b: &Builder, count: usize) -> Result<()> {
    let at = src.at();
    let rest = src.ensure(1 << 12, b.path)?;
    if rest.iter().any(|c| !c.is_ascii_whitespace()) {
        return Err(Error::file(
            b.path,
            format!(
                "the header says {count} words, but more data follows at byte {at}: the header's count (or dimension) is wrong"
            ),
        ));
    }
    Ok(())
}

fn read_binary(src: &mut Source, b: &mut Builder, count: usize, dim: usize) -> Result<()> {
    let bytes = 4 * dim;
    // Whether records end with '\n' (GoogleNews' do); once known, a record
    // that does not is a sign that the header's dimension is wrong.
    let mut newline_terminated = None;
    while b.seen < count && !b.full() {
        let i = b.seen;
        let start = src.at();
        let Some(raw) = src.until(b' ', MAX_RECORD, b.path)? else {
            return Err(Error::file(
                b.path,
                format!(
                    "truncated: the header promises {count} words × {dim} dimensions, the file ends after word {i} (byte {start})"
                ),
            ));
        };
        let trimmed = raw.strip_prefix(b"\n").unwrap_or(&raw);
        let where_ = format!("word {} (byte {start})", i + 1);
        if i == 0 {
            // A text file read as binary: the first "word" runs over a line
            // end, or its vector is all printable text.
            let vector_bytes = src.ensure(bytes, b.path)?;
            let printable = |v: &[u8]| {
                v.iter()
                    .all(|&c| c == b' ' || c == b'\n' || c.is_ascii_graphic())
            };
            if trimmed.contains(&b'\n')
                || (vector_bytes.len() >= bytes && printable(&vector_bytes[..bytes]))
            {
                return Err(Error::parse(
                    b.path,
                    2,
                    "read as word2vec binary, line 2 is text (a word and numbers): give format: \"word2vec_text\" (or leave format out)",
                ));
            }
        }
        let word = b.word(trimmed, &where_).map_err(|e| {
            if newline_terminated == Some(false) {
                Error::file(
                    b.path,
                    format!(
                        "{} — or the header's dimension ({dim}) is wrong, so this word starts inside the previous vector",
                        e.to_string().trim_start_matches(&format!("{}: ", b.path.display()))
                    ),
                )
            } else {
                e
            }
        })?;
        let avail = src.ensure(bytes + 1, b.path)?;
        if avail.len() < bytes {
            return Err(Error::file(
                b.path,
                format!(
                    "truncated: word {} ('{word}') has {} of its {bytes} bytes; the header promises {count} words × {dim} dimensions",
                    i + 1,
                    avail.len()
                ),
            ));
        }
        let ends_with_newline = avail.get(bytes) == Some(&b'\n');
        let vector: Vec<f32> = avail[..bytes]
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        src.consume(bytes + usize::from(ends_with_newline));
        let at_end = src.ensure(1, b.path)?.is_empty();
        match newline_terminated {
            None => newline_terminated = Some(ends_with_newline),
            Some(true) if !ends_with_newline && !at_end => {
                return Err(Error::file(
                    b.path,
                    format!(
                        "{where_} ('{word}'): no line end after its {dim} values where every earlier word had one: the header's dimension ({dim}) is probably wrong"
                    ),
                ));
            }
            _ => {}
        }
        b.push(word, vector.into_iter(), &where_)?;
        if i % 65536 == 65535 && crate::interrupt::requested() {
            return Err(Error::Interrupted);
        }
    }
    if !b.full() {
        check_nothing_follows(src, b, count)?;
    }
    Ok(())
}
