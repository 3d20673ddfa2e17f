//! `\w+` on ASCII text, for the mean word vectors' hot loop: the text is
//! copied (lower-cased when asked) and classified 16 bytes at a time into
//! one bit per byte, and the runs of word characters are read off the bits
//! where the class changes.
//! `tokenize::word_runs` decides with a branch per byte, which mispredicts
//! at every word's edges; it was ~15 % of the mean vectors' time.

/// The runs of word characters of the ASCII `text` (what `\w` is on ASCII:
/// `[A-Za-z0-9_]`), the same runs as `tokenize::word_runs`. `text` is
/// appended to `out`, lower-cased when `lowercase`; `run(start, end)` gets
/// each run's bytes in `out`. Each 64-byte block becomes one word of bits;
/// the bits where the class changes are a run's start and end in turn.
pub fn ascii_word_runs(
    text: &[u8],
    lowercase: bool,
    out: &mut Vec<u8>,
    mut run: impl FnMut(usize, usize),
) {
    debug_assert!(text.is_ascii());
    let base = out.len();
    out.extend_from_slice(text);
    // The last bit of the block before (a run going on), where a run starts.
    let (mut carry, mut start, mut inside) = (0u64, 0, false);
    for (b, block) in out[base..].chunks_mut(64).enumerate() {
        let bits = classify(block, lowercase);
        let mut edges = bits ^ (bits << 1 | carry);
        carry = bits >> 63;
        while edges != 0 {
            let at = base + 64 * b + edges.trailing_zeros() as usize;
            edges &= edges - 1;
            if inside {
                run(start, at);
            } else {
                start = at;
            }
            inside = !inside;
        }
    }
    if inside {
        run(start, base + text.len());
    }
}

/// One bit per byte of `block` (at most 64): set for a word character;
/// the block is lower-cased in place when asked.
#[inline]
fn classify(block: &mut [u8], lowercase: bool) -> u64 {
    let mut bits = 0;
    let len = block.len();
    let done = len / 16 * 16;
    let mut groups = block.chunks_exact_mut(16);
    for (g, group) in groups.by_ref().enumerate() {
        bits |= u64::from(classify16(group, lowercase)) << (16 * g);
    }
    if done < len {
        bits |= classify_bytes(groups.into_remainder(), lowercase) << done;
    }
    bits
}

/// `classify` one byte at a time (at most 64): a block's last bytes, and
/// every byte off x86-64.
fn classify_bytes(bytes: &mut [u8], lowercase: bool) -> u64 {
    let mut bits = 0;
    for (i, b) in bytes.iter_mut().enumerate() {
        if b.is_ascii_alphanumeric() || *b == b'_' {
            bits |= 1 << i;
        }
        if lowercase {
            b.make_ascii_lowercase();
        }
    }
    bits
}

/// Lower-cases 16 ASCII bytes in place (when asked) and returns one bit per
/// byte: set for a word character.
#[cfg(target_arch = "x86_64")]
#[inline]
fn classify16(group: &mut [u8], lowercase: bool) -> u16 {
    assert_eq!(group.len(), 16);
    // SAFETY: SSE2 is part of x86-64, and `group` is 16 bytes.
    unsafe { classify16_sse2(group, lowercase) }
}

/// `classify16` on SSE2. Safety: `group` must be 16 bytes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
unsafe fn classify16_sse2(group: &mut [u8], lowercase: bool) -> u16 {
    use std::arch::x86_64::*;
    // Signed byte comparisons are right here: ASCII bytes are below 0x80.
    #[target_feature(enable = "sse2")]
    fn within(v: __m128i, lo: u8, hi: u8) -> __m128i {
        _mm_and_si128(
            _mm_cmpgt_epi8(v, _mm_set1_epi8(lo as i8 - 1)),
            _mm_cmplt_epi8(v, _mm_set1_epi8(hi as i8 + 1)),
        )
    }
    // SAFETY: `group` is 16 bytes (the caller's promise); the load and the
    // store are unaligned ones.
    let v = unsafe { _mm_loadu_si128(group.as_ptr().cast()) };
    if lowercase {
        let upper = within(v, b'A', b'Z');
        let lowered = _mm_or_si128(v, _mm_and_si128(upper, _mm_set1_epi8(0x20)));
        // SAFETY: as for the load.
        unsafe { _mm_storeu_si128(group.as_mut_ptr().cast(), lowered) };
    }
    let letter = within(_mm_or_si128(v, _mm_set1_epi8(0x20)), b'a', b'z');
    let digit = within(v, b'0', b'9');
    let underscore = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'_' as i8));
    let word = _mm_or_si128(_mm_or_si128(letter, digit), underscore);
    _mm_movemask_epi8(word) as u16
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn classify16(group: &mut [u8], lowercase: bool) -> u16 {
    classify_bytes(group, lowercase) as u16
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::tokenize::word_runs;

    fn runs(text: &str, lowercase: bool) -> Vec<String> {
        let (mut out, mut found) = (b"xyz".to_vec(), Vec::new());
        ascii_word_runs(text.as_bytes(), lowercase, &mut out, |a, b| {
            found.push((a, b))
        });
        let copied = String::from_utf8(out[3..].to_vec()).unwrap();
        let expected = if lowercase {
            text.to_ascii_lowercase()
        } else {
            text.to_string()
        };
        assert_eq!(copied, expected);
        found
            .iter()
            .map(|&(a, b)| String::from_utf8(out[a..b].to_vec()).unwrap())
            .collect()
    }

    /// Every ASCII byte, at every position of a 16-byte group and across
    /// 64-byte blocks, in runs of every length up to 70: the same runs as
    /// `word_runs` (Python's `re.findall(r"\w+", text)`).
    #[test]
    fn runs_equal_word_runs_on_every_ascii_text() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut texts: Vec<String> = vec![
            String::new(),
            "a".into(),
            "!".into(),
            "The cat sat on the MAT, didn't it? x_y __ 42nd".into(),
            "@[`{/:_AZaz09".into(),
            "w".repeat(64),
            "w".repeat(65),
            format!("{} {}", "w".repeat(63), "v".repeat(70)),
        ];
        texts.push((0u8..128).map(char::from).collect());
        for _ in 0..400 {
            let len = (next() % 200) as usize;
            let text: String = (0..len)
                .map(|_| match next() % 4 {
                    0 => char::from((next() % 128) as u8),
                    1 => ' ',
                    _ => char::from(b"aZ9_q"[(next() % 5) as usize]),
                })
                .collect();
            texts.push(text);
        }
        for text in &texts {
            for lowercase in [false, true] {
                let source = if lowercase {
                    text.to_ascii_lowercase()
                } else {
                    text.clone()
                };
                let expected: Vec<String> = word_runs(&source).map(str::to_string).collect();
                assert_eq!(runs(text, lowercase), expected, "{text:?}");
            }
        }
    }
}
