//! What a fine-tune did, epoch by epoch, and the bookkeeping at each
//! epoch's end (the best epoch, patience): one piece for the sentence
//! encoder's fine-tune and the poster CNN's, whose epoch records differ
//! only in the rate they report.

use serde::{Deserialize, Serialize};

/// The epochs' records `R`, and which epoch the classifier holds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct History<R> {
    pub epochs: Vec<R>,
    /// 1-based epoch whose weights the classifier holds.
    pub best_epoch: usize,
    pub stopped_early: bool,
}

impl<R> History<R> {
    /// Records the epoch that just ended (`improved`: its weights are the
    /// best so far, or there is no validation to say) and returns the epoch
    /// to run next: `next`, or `epochs` when `patience` epochs have passed
    /// without improvement and some were left (an early stop).
    pub fn end_epoch(
        &mut self,
        record: R,
        improved: bool,
        next: usize,
        epochs: usize,
        patience: Option<usize>,
    ) -> usize {
        self.epochs.push(record);
        if improved {
            self.best_epoch = self.epochs.len();
        }
        let since_best = self.epochs.len() - self.best_epoch;
        if patience.is_some_and(|p| since_best >= p) && next < epochs {
            self.stopped_early = true;
            return epochs;
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs epochs whose improvement flags are given, as the training loops
    /// do; returns (epochs run, best epoch, stopped early).
    fn run(improved: &[bool], epochs: usize, patience: Option<usize>) -> (usize, usize, bool) {
        let mut h = History::default();
        let mut epoch = 0;
        while epoch < epochs {
            epoch = h.end_epoch(epoch, improved[epoch], epoch + 1, epochs, patience);
        }
        assert!(h.epochs.iter().enumerate().all(|(i, &e)| i == e));
        (h.epochs.len(), h.best_epoch, h.stopped_early)
    }

    #[test]
    fn patience_stops_after_that_many_epochs_without_improvement() {
        let flags = [true, false, true, false, false, false, true];
        // No patience: every epoch runs; the best is the last improvement.
        assert_eq!(run(&flags, 7, None), (7, 7, false));
        // Patience 2: epochs 4 and 5 do not improve on epoch 3.
        assert_eq!(run(&flags, 7, Some(2)), (5, 3, true));
        // Patience 1: epoch 2 does not improve on epoch 1.
        assert_eq!(run(&flags, 7, Some(1)), (2, 1, true));
        // Running out of patience on the last epoch is not an early stop.
        assert_eq!(run(&flags[..5], 5, Some(2)), (5, 3, false));
        // Without validation every epoch counts as improved: the last is kept.
        assert_eq!(run(&[true; 4], 4, None), (4, 4, false));
    }
}
