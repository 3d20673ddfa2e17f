//! Word → row look-up for word vectors, laid out for the mean vectors' hot
//! loop: one open-addressing table of 8-byte slots (row and 32 bits of the
//! hash, so a probe rarely touches a word that is not the one sought) and
//! the words back to back in one buffer. Against `AHashMap<String, u32>`
//! (a slot, then the key's heap block, on every hit) the mean vectors of
//! the 16,192 overviews took 40 % less time: the look-ups are cache misses.

use ahash::RandomState;

/// Fixed seeds: the table is rebuilt the same way on every run.
fn hasher() -> RandomState {
    RandomState::with_seeds(0x5851_f42d, 0x4c95_7f2d, 0x1405_7b7e, 0xf767_814f)
}

/// `a == b`, inline: words are short, and a call to `memcmp` per hit cost
/// a tenth of the mean vectors' time.
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

#[derive(Debug, Clone)]
pub struct WordIndex {
    /// `(hash >> 32) << 32 | (row + 1)`; 0 is empty.
    slots: Vec<u64>,
    mask: usize,
    /// Row `r`'s word is `text[starts[r]..starts[r + 1]]`.
    text: Vec<u8>,
    starts: Vec<u32>,
    hasher: RandomState,
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
            slots: vec![0; size],
            mask: size - 1,
            text,
            starts,
            hasher: hasher(),
        };
        for (word, row) in rows {
            let h = index.hash(word.as_bytes());
            let mut at = h as usize & index.mask;
            while index.slots[at] != 0 {
                at = (at + 1) & index.mask;
            }
            index.slots[at] = (h >> 32) << 32 | (u64::from(row) + 1);
        }
        index
    }

    fn word(&self, row: usize) -> &[u8] {
        &self.text[self.starts[row] as usize..self.starts[row + 1] as usize]
    }

    /// The row of `word`, if it has one.
    #[inline]
    pub fn get(&self, word: &str) -> Option<usize> {
        self.get_hashed(word.as_bytes(), self.hash(word.as_bytes()))
    }

    /// `word`'s hash, for `prefetch` and `get_hashed`.
    #[inline]
    pub fn hash(&self, word: &[u8]) -> u64 {
        self.hasher.hash_one(word)
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

    /// The row of the word spelt by `word`, whose `hash` is given.
    #[inline]
    pub fn get_hashed(&self, word: &[u8], h: u64) -> Option<usize> {
        let tag = h >> 32;
        let mut at = h as usize & self.mask;
        loop {
            let slot = self.slots[at];
            if slot == 0 {
                return None;
            }
            if slot >> 32 == tag {
                let row = (slot & 0xffff_ffff) as usize - 1;
                if same(self.word(row), word) {
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
}
