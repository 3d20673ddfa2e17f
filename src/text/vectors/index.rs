//! Word → row look-up for word vectors, laid out for the mean vectors' hot
//! loop: one open-addressing table of 16-byte slots, each holding a word's
//! first 12 bytes beside its row. A token of at most 12 bytes (nearly every
//! English word) is found or ruled out on the cache line its hash names,
//! which the mean vectors prefetch; nothing else is read. Longer words are
//! checked against the words kept back to back in one buffer.
//!
//! Two earlier layouts, measured on the mean vectors of the 16,192
//! overviews: `AHashMap<String, u32>` (a slot, then the key's heap block, on
//! every hit), then 8-byte slots of row and hash tag with the words apart (a
//! hit still read the word's offset and then its bytes: two dependent cache
//! misses, ~20 % of the time).

/// Marks a slot whose word is not its first 12 bytes zero-padded (longer, or
/// with a NUL byte). No UTF-8 text has the byte 0xFF, so no short word's
/// bytes 8..12 can equal it.
const LONG: u32 = u32::MAX;

/// One table entry; `row` 0 is empty.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C, align(16))]
struct Slot {
    /// Bytes 0..8 of the word, little-endian, zero-padded.
    head: u64,
    /// Bytes 8..12 of the word, zero-padded, or `LONG`.
    tail: u32,
    /// The row + 1.
    row: u32,
}

/// A word as the table compares it: its first 12 bytes, zero-padded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Key {
    head: u64,
    tail: u32,
    /// The word is exactly its 12 padded bytes (at most 12, no NUL).
    short: bool,
}

/// Bytes `at..at + n` of `text` (n ≤ 8), little-endian, zero above.
#[inline(always)]
fn bytes_le(text: &[u8], at: usize, n: usize) -> u64 {
    let mut b = [0u8; 8];
    b[..n].copy_from_slice(&text[at..at + n]);
    u64::from_le_bytes(b)
}

impl Key {
    /// The key of `word`.
    #[inline]
    pub fn of(word: &[u8]) -> Key {
        let n = word.len();
        Key {
            head: bytes_le(word, 0, n.min(8)),
            tail: bytes_le(word, n.min(8), n.clamp(8, 12) - 8) as u32,
            short: n <= 12 && !word.contains(&0),
        }
    }

    /// The key of `text[start..start + len]`, a word without NUL bytes,
    /// where `text` has 12 readable bytes from `start` (the mean vectors pad
    /// their text): two loads and two masks, no copy.
    #[inline(always)]
    pub fn within(text: &[u8], start: usize, len: usize) -> Key {
        let head = u64::from_le_bytes(text[start..start + 8].try_into().unwrap_or([0; 8]));
        let tail = u32::from_le_bytes(text[start + 8..start + 12].try_into().unwrap_or([0; 4]));
        let keep = |n: usize, bits: u32| -> u64 {
            if n >= bits as usize {
                u64::MAX
            } else {
                (1u64 << (8 * n)) - 1
            }
        };
        Key {
            head: head & keep(len, 8),
            tail: tail & keep(len.saturating_sub(8), 4) as u32,
            short: len <= 12,
        }
    }
}

/// The 128-bit product of `a` and `b`, its halves xor-ed: the mixing step of
/// ahash's and foldhash's fallback hashers.
#[inline(always)]
fn fold(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

/// Fixed seeds: the table is built the same way on every run.
const SEEDS: [u64; 3] = [
    0x243f_6a88_85a3_08d3,
    0x1319_8a2e_0370_7344,
    0xa409_3822_299f_31d0,
];

#[derive(Debug, Clone)]
pub struct WordIndex {
    slots: Vec<Slot>,
    mask: usize,
    /// Row `r`'s word is `text[starts[r]..starts[r + 1]]`.
    text: Vec<u8>,
    starts: Vec<u32>,
}

impl WordIndex {
    /// The index of `words` (row order); `rows` gives, for each distinct word,
    /// the row a look-up answers (the first, where a word is there twice).
    pub fn new<'a>(words: &[String], rows: impl Iterator<Item = (&'a str, u32)>) -> WordIndex {
        let mut text = Vec::with_capacity(words.iter().map(String::len).sum());
        let mut starts = Vec::with_capacity(words.len() + 1);
        for w in words {
            starts.push(text.len() as u32);
            text.extend_from_slice(w.as_bytes());
        }
        starts.push(text.len() as u32);
        // At most half full: short probe runs.
        let size = (words.len() * 2).next_power_of_two().max(16);
        let mut index = WordIndex {
            slots: vec![Slot::default(); size],
            mask: size - 1,
            text,
            starts,
        };
        for (word, row) in rows {
            let key = Key::of(word.as_bytes());
            let mut at = index.hash(&key, word.as_bytes()) as usize & index.mask;
            while index.slots[at].row != 0 {
                at = (at + 1) & index.mask;
            }
            index.slots[at] = Slot {
                head: key.head,
                tail: if key.short { key.tail } else { LONG },
                row: row + 1,
            };
        }
        index
    }

    fn word(&self, row: usize) -> &[u8] {
        &self.text[self.starts[row] as usize..self.starts[row + 1] as usize]
    }

    /// The row of `word`, if it has one.
    pub fn get(&self, word: &str) -> Option<usize> {
        let bytes = word.as_bytes();
        let key = Key::of(bytes);
        self.get_hashed(&key, bytes, self.hash(&key, bytes))
    }

    /// The hash of `word`, whose key is `key`: its first 12 bytes and length
    /// in one fold, each further 8 bytes in one more.
    #[inline]
    pub fn hash(&self, key: &Key, word: &[u8]) -> u64 {
        let n = word.len();
        let mut h = fold(
            key.head ^ SEEDS[0],
            (u64::from(key.tail) | (n as u64) << 32) ^ SEEDS[1],
        );
        let mut at = 12;
        while at < n {
            let k = (n - at).min(8);
            h = fold(h ^ bytes_le(word, at, k), SEEDS[2]);
            at += k;
        }
        h
    }

    /// Asks for the cache line of the first slot `hash` probes.
    #[inline]
    pub fn prefetch(&self, hash: u64) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: a prefetch is a hint on a valid address; it cannot fault.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                self.slots.as_ptr().add(hash as usize & self.mask).cast(),
            )
        };
    }

    /// The row of `word`, whose key and hash are given. (Inlined: the
    /// mean vectors' loop spent a tenth of its time on the call.)
    #[inline(always)]
    pub fn get_hashed(&self, key: &Key, word: &[u8], hash: u64) -> Option<usize> {
        let tail = if key.short { key.tail } else { LONG };
        let mut at = hash as usize & self.mask;
        loop {
            let slot = self.slots[at];
            if slot.row == 0 {
                return None;
            }
            if slot.head == key.head && slot.tail == tail {
                let row = slot.row as usize - 1;
                if key.short || self.word(row) == word {
                    return Some(row);
                }
            }
            at = (at + 1) & self.mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_word_and_no_other() {
        let words: Vec<String> = (0..5000)
            .map(|i| format!("w{i}"))
            .chain(["w7".into()])
            .collect();
        // The repeated "w7" (row 5000) answers with its first row, 7.
        let rows = words
            .iter()
            .enumerate()
            .take(5000)
            .map(|(i, w)| (w.as_str(), i as u32));
        let index = WordIndex::new(&words, rows);
        for i in 0..5000 {
            assert_eq!(index.get(&format!("w{i}")), Some(i));
        }
        assert_eq!(index.get("w7"), Some(7));
        assert_eq!(index.get("w5000"), None);
        assert_eq!(index.get(""), None);
        assert_eq!(index.get("W1"), None);
        let empty = WordIndex::new(&[], std::iter::empty());
        assert_eq!(empty.get("a"), None);
    }

    /// Words around the 8- and 12-byte edges, longer ones sharing their
    /// first 12 bytes, NUL bytes, and multi-byte UTF-8: each is found, and
    /// nothing that differs from it in any byte or in length.
    #[test]
    fn long_words_and_nul_bytes_are_told_apart() {
        let words: Vec<String> = [
            "",
            "a",
            "a\0",
            "abcdefgh",
            "abcdefghi",
            "abcdefghijkl",
            "abcdefghijklm",
            "abcdefghijklmn",
            "abcdefghijklmnopqrstuvwxyz",
            "abcdefghijkl\0",
            "ab\0cd",
            "naïve",
            "straßeäöüßçéèà",
            "μήνιν ἄειδε θεὰ",
        ]
        .iter()
        .map(|w| w.to_string())
        .collect();
        let rows = words
            .iter()
            .enumerate()
            .map(|(i, w)| (w.as_str(), i as u32));
        let index = WordIndex::new(&words, rows);
        for (i, w) in words.iter().enumerate() {
            assert_eq!(index.get(w), Some(i), "{w:?}");
            for cut in 0..w.len() {
                if w.is_char_boundary(cut) && !words.iter().any(|v| v.as_str() == &w[..cut]) {
                    assert_eq!(index.get(&w[..cut]), None, "{:?}", &w[..cut]);
                }
            }
            for extra in ["x", "\0", "ÿ"] {
                let longer = format!("{w}{extra}");
                if !words.contains(&longer) {
                    assert_eq!(index.get(&longer), None, "{longer:?}");
                }
            }
        }
        assert_eq!(index.get("abcdefghijkm"), None);
        assert_eq!(index.get("abcdefghijklmnopqrstuvwxyZ"), None);
    }

    /// `Key::within` (padded text, no copy) gives `Key::of`'s key, and so
    /// the same hash and row, for every length.
    #[test]
    fn keys_within_padded_text_equal_keys_of_the_word() {
        let text = b"the quick brown_fox jumps over antidisestablishmentarianism 0123456789abcdef";
        let mut padded = text.to_vec();
        padded.extend_from_slice(&[0; 12]);
        for start in 0..text.len() {
            for len in 0..=text.len() - start {
                let word = &text[start..start + len];
                assert_eq!(
                    Key::within(&padded, start, len),
                    Key::of(word),
                    "{start} {len}"
                );
            }
        }
    }
}
