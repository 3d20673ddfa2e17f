//! gensim's `doesnt_match` and `evaluate_word_analogies` (the
//! questions-words.txt benchmark of word2vec): same defaults, same answers.

use std::path::Path;

use ahash::AHashMap;
use ndarray::Array1;
use serde::Serialize;

use super::WordVectors;
use crate::error::{Error, Result};

crate::options! {
    /// `WordVectors.evaluate_word_analogies`: gensim's parameters.
    pub struct AnalogyOptions for "WordVectors.evaluate_word_analogies" {
        /// only the first this many words answer or are asked about (the most frequent)
        restrict_vocab: usize = 300_000 => Int(POSITIVE_INT),
        /// compare words upper-cased, as gensim does by default
        case_insensitive: bool = true => Bool,
        /// count a question with an unknown word as wrong instead of skipping it
        dummy4unknown: bool = false => Bool,
    }
}

/// One section of the questions file, with its questions answered right and wrong.
#[derive(Debug, Serialize, PartialEq)]
pub struct Section {
    pub section: String,
    pub correct: Vec<[String; 4]>,
    pub incorrect: Vec<[String; 4]>,
}

/// The result: correct / (correct + incorrect) over every section, the
/// sections (the last is "Total accuracy", as gensim's), and the questions
/// skipped for an unknown word.
#[derive(Debug, Serialize)]
pub struct AnalogyScore {
    pub score: f64,
    pub sections: Vec<Section>,
    pub skipped: usize,
}

impl WordVectors {
    /// The word least like the others: the one whose unit vector is
    /// farthest from their normalised mean (gensim's `doesnt_match`).
    /// Unknown words are left out with a warning, as gensim logs them.
    pub fn doesnt_match(&self, words: &[String]) -> Result<String> {
        let known: Vec<&String> = words.iter().filter(|w| self.contains(w)).collect();
        let unknown: Vec<&str> = words
            .iter()
            .filter(|w| !self.contains(w))
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            crate::record::warning(&format!(
                "doesnt_match: left out the words not in the vectors: {}",
                unknown.join(", ")
            ));
        }
        if known.is_empty() {
            return Err(Error::invalid(
                "doesnt_match: none of the words is in the vectors; nothing to choose from",
            ));
        }
        let units: Vec<Array1<f32>> = known.iter().map(|w| self.unit(w)).collect::<Result<_>>()?;
        let mut mean = Array1::<f32>::zeros(self.dim());
        for u in &units {
            mean += u;
        }
        mean /= units.len() as f32;
        let norm = mean.dot(&mean).sqrt();
        if norm > 0.0 {
            mean /= norm;
        }
        // gensim sorts (similarity, word) pairs and takes the first.
        let mut ranked: Vec<(f32, &String)> = units
            .iter()
            .zip(&known)
            .map(|(u, w)| (u.dot(&mean), *w))
            .collect();
        ranked.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(b.1)));
        Ok(ranked[0].1.clone())
    }

    /// gensim's `evaluate_word_analogies` on a questions file: sections
    /// start with `: name`, each question is `a b c expected`, and the
    /// answer is the nearest word to b − a + c among the first
    /// `restrict_vocab`, the three asked left out.
    pub fn evaluate_word_analogies(&self, path: &Path, o: &AnalogyOptions) -> Result<AnalogyScore> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let fold = |w: &str| {
            if o.case_insensitive {
                w.to_uppercase()
            } else {
                w.to_string()
            }
        };
        let limit = o.restrict_vocab.min(self.len());
        // Folded word -> its first (most frequent) row among the allowed.
        let mut allowed: AHashMap<String, usize> = AHashMap::new();
        for (i, w) in self.words()[..limit].iter().enumerate() {
            allowed.entry(fold(w)).or_insert(i);
        }
        let mut sections: Vec<Section> = Vec::new();
        let mut skipped = 0;
        for (n, line) in text.lines().enumerate() {
            if let Some(name) = line.strip_prefix(": ") {
                sections.push(Section {
                    section: name.trim().to_string(),
                    correct: Vec::new(),
                    incorrect: Vec::new(),
                });
                continue;
            }
            let words: Vec<String> = line.split_whitespace().map(fold).collect();
            if words.is_empty() {
                continue;
            }
            let Some(section) = sections.last_mut() else {
                return Err(Error::parse(
                    path,
                    n as u64 + 1,
                    "a question before any section header (': name')",
                ));
            };
            let Ok(question) = <[String; 4]>::try_from(words) else {
                return Err(Error::parse(
                    path,
                    n as u64 + 1,
                    format!("expected four words 'a b c expected', found {line:?}"),
                ));
            };
            let rows: Option<Vec<usize>> =
                question.iter().map(|w| allowed.get(w).copied()).collect();
            let Some(rows) = rows else {
                skipped += 1;
                if o.dummy4unknown {
                    section.incorrect.push(question);
                }
                continue;
            };
            let [a, b, c] = [rows[0], rows[1], rows[2]].map(|r| self.words()[r].as_str());
            let found = self.most_similar_within(&[b, c], &[a], &[], 5, limit)?;
            let asked = &question[..3];
            let predicted = found
                .iter()
                .map(|(w, _)| fold(w))
                .find(|w| allowed.contains_key(w) && !asked.contains(w));
            if predicted.as_deref() == Some(question[3].as_str()) {
                section.correct.push(question);
            } else {
                section.incorrect.push(question);
            }
        }
        let total = Section {
            section: "Total accuracy".into(),
            correct: sections.iter().flat_map(|s| s.correct.clone()).collect(),
            incorrect: sections.iter().flat_map(|s| s.incorrect.clone()).collect(),
        };
        let answered = total.correct.len() + total.incorrect.len();
        let score = if answered == 0 {
            0.0
        } else {
            total.correct.len() as f64 / answered as f64
        };
        sections.push(total);
        Ok(AnalogyScore {
            score,
            sections,
            skipped,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // gensim 4.4.0 on tests/fixtures/gensim/toy_vectors.txt (written for
    // these tests): doesnt_match(['man', 'woman', 'king', 'paris']) = 'woman',
    // doesnt_match(['paris', 'berlin', 'Athens', 'queen']) = 'queen'.
    fn toy() -> WordVectors {
        let rows = [
            ("king", [5.0, 3.0, 1.0, 0.0]),
            ("queen", [5.0, -3.0, 1.0, 0.0]),
            ("man", [1.0, 3.0, 0.0, 0.0]),
            ("woman", [1.0, -3.0, 0.0, 0.0]),
            ("Greece", [0.0, 1.0, 4.0, 1.0]),
            ("Athens", [3.0, 1.0, 4.0, 1.0]),
            ("france", [0.0, 0.0, 1.0, 4.0]),
            ("paris", [3.0, 0.0, 1.0, 4.0]),
            ("germany", [0.0, -1.0, 3.0, 3.0]),
            ("berlin", [3.0, -1.0, 3.0, 3.0]),
        ];
        let words = rows.iter().map(|r| r.0.to_string()).collect();
        let values = ndarray::Array2::from_shape_fn((10, 4), |(i, j)| rows[i].1[j]);
        WordVectors::from_rows(words, values).unwrap()
    }

    #[test]
    fn doesnt_match_is_gensims() {
        let wv = toy();
        let w = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            wv.doesnt_match(&w(&["man", "woman", "king", "paris"]))
                .unwrap(),
            "woman"
        );
        assert_eq!(
            wv.doesnt_match(&w(&["paris", "berlin", "Athens", "queen"]))
                .unwrap(),
            "queen"
        );
        let e = wv.doesnt_match(&w(&["prince"])).unwrap_err().to_string();
        assert!(e.contains("none of the words"), "{e}");
    }
}

crate::options! {
    /// `WordVectors.most_similar` with a map: gensim's keyword form.
    pub struct SimilarOptions for "WordVectors.most_similar" {
        /// words the answer should be like
        positive: Vec<String> = Vec::new() => Texts,
        /// words the answer should be unlike
        negative: Vec<String> = Vec::new() => Texts,
        /// how many words to return
        topn: usize = 10 => Int(NON_NEGATIVE),
        /// only the first this many words can be answers (default all)
        restrict_vocab: Option<usize> = None => Int(POSITIVE_INT),
    }
}

impl WordVectors {
    /// gensim's `most_similar(positive=[…], negative=[…], topn, restrict_vocab)`.
    pub fn most_similar_to(&self, o: &SimilarOptions) -> Result<Vec<(String, f32)>> {
        let positive: Vec<&str> = o.positive.iter().map(String::as_str).collect();
        let negative: Vec<&str> = o.negative.iter().map(String::as_str).collect();
        let restrict = o.restrict_vocab.unwrap_or(self.len());
        self.most_similar_within(&positive, &negative, &[], o.topn, restrict)
    }
}
