//! Records visited in time order through an index, kept small: a 10 GB Claude Code folder has
//! 3.5 million requests, and an index of `(time, record)` pairs (16 bytes each) for the TTL
//! replay and another for the cube took 55 MB each beside the records, the peak of a report.
//! When the times span less than 2^32 seconds (136 years), each entry is one 64-bit word, the
//! time's offset from the earliest above the record's index, and sorting the words sorts by
//! (time, index); otherwise the pairs are kept as they are.

use rayon::prelude::*;

/// Record indices in order of (time, index).
pub(crate) enum TimeOrder {
    /// `(time - base) << 32 | index`.
    Packed {
        base: i64,
        words: Vec<u64>,
    },
    Wide(Vec<(i64, u32)>),
}

impl TimeOrder {
    /// The `(time, index)` pairs given, sorted. Indices must fit in 32 bits.
    pub(crate) fn sorted(pairs: impl Iterator<Item = (i64, u32)> + Clone) -> TimeOrder {
        let (lo, hi) = pairs
            .clone()
            .fold((i64::MAX, i64::MIN), |(lo, hi), (t, _)| {
                (lo.min(t), hi.max(t))
            });
        let span = (hi as i128) - (lo as i128);
        if lo <= hi && span < 1 << 32 {
            let mut words: Vec<u64> = pairs
                .map(|(t, i)| (((t as i128 - lo as i128) as u64) << 32) | u64::from(i))
                .collect();
            words.par_sort_unstable();
            TimeOrder::Packed { base: lo, words }
        } else {
            let mut v: Vec<(i64, u32)> = pairs.collect();
            v.par_sort_unstable();
            TimeOrder::Wide(v)
        }
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            TimeOrder::Packed { words, .. } => words.len(),
            TimeOrder::Wide(v) => v.len(),
        }
    }

    /// The `k`th `(time, index)` in order.
    #[inline]
    pub(crate) fn get(&self, k: usize) -> (i64, u32) {
        match self {
            TimeOrder::Packed { base, words } => {
                let w = words[k];
                (base + (w >> 32) as i64, w as u32)
            }
            TimeOrder::Wide(v) => v[k],
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (i64, u32)> + '_ {
        (0..self.len()).map(|k| self.get(k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The order is the sort of the pairs, packed or not, with ties in index order.
    #[test]
    fn the_order_is_the_pairs_sorted_whatever_their_span() {
        let mut rng = fastrand::Rng::with_seed(11);
        for (lo, hi, packed) in [
            (1_700_000_000i64, 1_700_000_000 + 90 * 86_400, true),
            (-5, 5, true),
            (0, (1 << 32) - 1, true),
            (0, 1 << 32, false),
            (i64::MIN, i64::MAX, false),
        ] {
            let pairs: Vec<(i64, u32)> = (0..5_000u32)
                .map(|i| {
                    let t = match i % 4 {
                        0 => lo,
                        1 => hi,
                        // Many ties: the index decides.
                        2 => ((i128::from(lo) + i128::from(hi)) / 2) as i64,
                        _ => rng.i64(lo..=hi),
                    };
                    (t, rng.u32(..))
                })
                .collect();
            let order = TimeOrder::sorted(pairs.iter().copied());
            assert_eq!(
                matches!(order, TimeOrder::Packed { .. }),
                packed,
                "{lo}..{hi}"
            );
            let mut want = pairs.clone();
            want.sort();
            assert_eq!(order.iter().collect::<Vec<_>>(), want, "{lo}..{hi}");
        }
        assert_eq!(TimeOrder::sorted(std::iter::empty()).len(), 0);
    }
}
