//! Ways to cut a movie set: the seed notebook's random mask, sampling without
//! replacement, and iterative stratification for multi-label data.

use crate::data::rng::NumpyRng;
use crate::data::{Binarizer, Movies};
use crate::error::{Error, Result};

/// The seed's `msk = np.random.rand(n) < fraction`: true rows go first.
pub fn random_mask(n: usize, fraction: f64, rng: &mut NumpyRng) -> Result<Vec<bool>> {
    if !(0.0..=1.0).contains(&fraction) {
        return Err(Error::invalid(format!(
            "random_split: fraction must be between 0 and 1, got {fraction}"
        )));
    }
    Ok((0..n).map(|_| rng.random_sample() < fraction).collect())
}

/// `n` distinct positions out of `len`, in the order numpy's
/// `RandomState.choice(len, n, replace=False)` draws them.
pub fn sample_positions(len: usize, n: usize, rng: &mut NumpyRng) -> Result<Vec<usize>> {
    if n > len {
        return Err(Error::invalid(format!(
            "sample: cannot take {n} movies without replacement from {len}"
        )));
    }
    let mut order = rng.permutation(len);
    order.truncate(n);
    Ok(order)
}

/// Iterative stratification (Sechidis, Tsoumakas & Vlahavas 2011, Algorithm 1):
/// assigns each example to one of `fractions.len()` subsets so that every
/// label's examples are spread in the requested proportions, rarest label
/// first. `labels[i]` lists the label indices of example `i`. Ties between
/// subsets go to the one that wants more examples, then to a random one.
pub fn iterative_stratification(
    labels: &[Vec<usize>],
    n_labels: usize,
    fractions: &[f64],
    rng: &mut NumpyRng,
) -> Result<Vec<usize>> {
    check_fractions(fractions)?;
    let k = fractions.len();
    let n = labels.len();
    let mut label_count = vec![0usize; n_labels];
    for ls in labels {
        for &l in ls {
            label_count[l] += 1;
        }
    }
    // Desired numbers, fractional as in the paper.
    let mut wanted: Vec<f64> = fractions.iter().map(|r| r * n as f64).collect();
    let mut wanted_per_label: Vec<Vec<f64>> = fractions
        .iter()
        .map(|r| label_count.iter().map(|&c| r * c as f64).collect())
        .collect();

    let mut subset_of = vec![usize::MAX; n];
    let mut remaining = label_count.clone();
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); n_labels];
    for (i, ls) in labels.iter().enumerate() {
        for &l in ls {
            members[l].push(i);
        }
    }

    let pick = |scores: &dyn Fn(usize) -> (f64, f64), rng: &mut NumpyRng| -> usize {
        let best = (0..k)
            .map(scores)
            .fold((f64::MIN, f64::MIN), |a, b| if b > a { b } else { a });
        let tied: Vec<usize> = (0..k).filter(|&j| scores(j) == best).collect();
        tied[rng.random_interval(tied.len() as u64 - 1) as usize]
    };

    // The label with the fewest examples still to place, until none is left.
    while let Some(label) = (0..n_labels)
        .filter(|&l| remaining[l] > 0)
        .min_by_key(|&l| (remaining[l], l))
    {
        let mut todo: Vec<usize> = members[label]
            .iter()
            .copied()
            .filter(|&i| subset_of[i] == usize::MAX)
            .collect();
        rng.shuffle(&mut todo);
        for i in todo {
            let j = pick(&|j| (wanted_per_label[j][label], wanted[j]), rng);
            subset_of[i] = j;
            wanted[j] -= 1.0;
            for &l in &labels[i] {
                wanted_per_label[j][l] -= 1.0;
                remaining[l] -= 1;
            }
        }
    }
    // Examples without any label: wherever most examples are still wanted.
    for subset in subset_of.iter_mut().filter(|s| **s == usize::MAX) {
        let j = pick(&|j| (wanted[j], 0.0), rng);
        *subset = j;
        wanted[j] -= 1.0;
    }
    Ok(subset_of)
}

fn check_fractions(fractions: &[f64]) -> Result<()> {
    if fractions.len() < 2 {
        return Err(Error::invalid(
            "stratified_split: give at least two fractions, e.g. [0.8, 0.2]",
        ));
    }
    if let Some(bad) = fractions.iter().find(|f| !(**f > 0.0 && **f <= 1.0)) {
        return Err(Error::invalid(format!(
            "stratified_split: every fraction must be in (0, 1], got {bad}"
        )));
    }
    let total: f64 = fractions.iter().sum();
    if (total - 1.0).abs() > 1e-6 {
        return Err(Error::invalid(format!(
            "stratified_split: fractions must add up to 1, they add up to {total}"
        )));
    }
    Ok(())
}

impl Movies {
    /// `n` movies drawn without replacement (numpy's permutation order).
    pub fn sample(&self, n: usize, rng: &mut NumpyRng) -> Result<Movies> {
        Ok(self.select(&sample_positions(self.len(), n, rng)?))
    }

    /// Each movie goes to the first part with probability `fraction`.
    pub fn random_split(&self, fraction: f64, rng: &mut NumpyRng) -> Result<[Movies; 2]> {
        let mask = random_mask(self.len(), fraction, rng)?;
        let rest: Vec<bool> = mask.iter().map(|m| !m).collect();
        Ok([self.filter_by(&mask), self.filter_by(&rest)])
    }

    /// Parts of about `fractions` of the movies each, every genre spread
    /// in proportion (iterative stratification).
    pub fn stratified_split(&self, fractions: &[f64], rng: &mut NumpyRng) -> Result<Vec<Movies>> {
        let lists: Vec<Vec<String>> = self.genres().map(<[String]>::to_vec).collect();
        let labels = Binarizer::fit(&lists, 1, None)?;
        let (matrix, _) = labels.transform(&lists);
        let per_movie: Vec<Vec<usize>> = matrix
            .values()
            .rows()
            .into_iter()
            .map(|r| {
                r.iter()
                    .enumerate()
                    .filter(|(_, v)| **v != 0)
                    .map(|(j, _)| j)
                    .collect()
            })
            .collect();
        let subset = iterative_stratification(&per_movie, labels.names().len(), fractions, rng)?;
        Ok((0..fractions.len())
            .map(|j| {
                let keep: Vec<bool> = subset.iter().map(|&s| s == j).collect();
                self.filter_by(&keep)
            })
            .collect())
    }

    /// Part `k` of each release date (0 the year, 1 the month) as a number;
    /// `None` where a date lacks it.
    pub fn date_parts(&self, k: usize) -> Result<Vec<Option<i64>>> {
        let dates = self.release_dates().ok_or_else(|| {
            Error::invalid("this table has no release_date column (use data::movies(path, #{ release_date: \"...\" }))")
        })?;
        Ok(dates
            .map(|d| d.trim().split('-').nth(k).and_then(|p| p.parse().ok()))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // numpy: rs = np.random.RandomState(0); (rs.rand(10) < 0.5).astype(int)
    //   -> [0, 0, 0, 0, 1, 0, 1, 0, 0, 1]
    #[test]
    fn random_mask_matches_numpy() {
        let mask = random_mask(10, 0.5, &mut NumpyRng::new(0)).unwrap();
        let ints: Vec<u8> = mask.iter().map(|&b| b as u8).collect();
        assert_eq!(ints, vec![0, 0, 0, 0, 1, 0, 1, 0, 0, 1]);
    }

    // pandas: pd.DataFrame({'a': range(10)}).sample(4, random_state=3).index -> [5, 4, 1, 2]
    #[test]
    fn sample_matches_pandas() {
        let picked = sample_positions(10, 4, &mut NumpyRng::new(3)).unwrap();
        assert_eq!(picked, vec![5, 4, 1, 2]);
        assert!(sample_positions(3, 4, &mut NumpyRng::new(3)).is_err());
    }

    #[test]
    fn stratification_spreads_every_label() {
        // 100 examples; label 0 on every 10th (rare), label 1 on evens, label 2 on all.
        let labels: Vec<Vec<usize>> = (0..100)
            .map(|i| {
                let mut l = vec![2];
                if i % 2 == 0 {
                    l.push(1);
                }
                if i % 10 == 0 {
                    l.push(0);
                }
                l
            })
            .collect();
        let subsets =
            iterative_stratification(&labels, 3, &[0.6, 0.2, 0.2], &mut NumpyRng::new(1)).unwrap();
        let count = |j: usize, l: usize| {
            (0..100)
                .filter(|&i| subsets[i] == j && labels[i].contains(&l))
                .count()
        };
        assert_eq!([count(0, 0), count(1, 0), count(2, 0)], [6, 2, 2]);
        assert_eq!([count(0, 1), count(1, 1), count(2, 1)], [30, 10, 10]);
        assert_eq!([count(0, 2), count(1, 2), count(2, 2)], [60, 20, 20]);
    }

    #[test]
    fn stratification_rejects_bad_fractions() {
        let labels = vec![vec![0]; 4];
        let err = iterative_stratification(&labels, 1, &[0.5, 0.4], &mut NumpyRng::new(0));
        assert!(err.unwrap_err().to_string().contains("add up to 1"));
        assert!(iterative_stratification(&labels, 1, &[1.0], &mut NumpyRng::new(0)).is_err());
    }

    #[test]
    fn movies_without_dates_say_which_option_names_the_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.csv");
        std::fs::write(&path, "id,title,genres,overview\n1,A,Drama,x\n").unwrap();
        let movies = Movies::read_csv(&path, &Default::default()).unwrap();
        let e = movies.date_parts(0).unwrap_err().to_string();
        assert!(e.contains("no release_date column"), "{e}");
        let mut rng = NumpyRng::new(0);
        assert!(movies.sample(2, &mut rng).is_err());
        assert!(movies.random_split(1.5, &mut rng).is_err());
    }
}
