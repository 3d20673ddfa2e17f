//! The session's random number generator: numpy's legacy `RandomState`
//! (MT19937) bit for bit, so that `data::seed(0)` followed by a random split
//! draws the same mask as `np.random.seed(0); np.random.rand(n) < 0.8` in the
//! seed notebook, and a sample is the rows `df.sample(n, random_state=0)` picks.

use rand_mt::Mt;

/// numpy's default seed is entropy; ours is fixed so scripts are reproducible
/// even when they never call `data::seed`.
pub const DEFAULT_SEED: u32 = 0;

/// MT19937 with numpy's legacy draws on top.
#[derive(Clone)]
pub struct NumpyRng {
    mt: Mt,
}

impl Default for NumpyRng {
    fn default() -> Self {
        Self::new(DEFAULT_SEED)
    }
}

impl NumpyRng {
    /// `np.random.RandomState(seed)` for an integer seed (numpy's `init_genrand`).
    pub fn new(seed: u32) -> Self {
        NumpyRng { mt: Mt::new(seed) }
    }

    pub fn next_u32(&mut self) -> u32 {
        self.mt.next_u32()
    }

    /// `RandomState.random_sample()`: 53 random bits in [0, 1).
    pub fn random_sample(&mut self) -> f64 {
        let a = (self.next_u32() >> 5) as f64;
        let b = (self.next_u32() >> 6) as f64;
        (a * 67_108_864.0 + b) / 9_007_199_254_740_992.0
    }

    /// numpy's `random_interval(max)`: uniform in 0..=max by masked rejection.
    pub fn random_interval(&mut self, max: u64) -> u64 {
        if max == 0 {
            return 0;
        }
        let mut mask = max;
        for shift in [1, 2, 4, 8, 16, 32] {
            mask |= mask >> shift;
        }
        loop {
            let value = if max <= u64::from(u32::MAX) {
                u64::from(self.next_u32()) & mask
            } else {
                self.mt.next_u64() & mask
            };
            if value <= max {
                return value;
            }
        }
    }

    /// `RandomState.shuffle` of a 1-d array (Fisher-Yates from the end).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.random_interval(i as u64) as usize;
            items.swap(i, j);
        }
    }

    /// `RandomState.permutation(n)`.
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..n).collect();
        self.shuffle(&mut order);
        order
    }

    /// A 64-bit seed for other generators (k-means restarts, weight init) that
    /// must also follow `data::seed`.
    pub fn derive_seed(&mut self) -> u64 {
        self.mt.next_u64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference numbers from numpy 2.x:
    //   import numpy as np
    //   rs = np.random.RandomState(0); print(rs.random_sample(3))
    //   rs = np.random.RandomState(42); print(rs.permutation(10))
    //   rs = np.random.RandomState(7); print(rs.randint(0, 2**32, 2, dtype=np.uint64))  # not used
    #[test]
    fn random_sample_matches_numpy() {
        let mut rng = NumpyRng::new(0);
        let expected = [0.5488135039273248, 0.7151893663724195, 0.6027633760716439];
        for e in expected {
            assert!((rng.random_sample() - e).abs() < 1e-15);
        }
    }

    #[test]
    fn permutation_matches_numpy() {
        let mut rng = NumpyRng::new(42);
        assert_eq!(rng.permutation(10), vec![8, 1, 5, 0, 7, 2, 9, 4, 3, 6]);
    }
}
