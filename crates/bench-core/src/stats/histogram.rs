//! Histograms of long series: every observation binned at 3 significant
//! digits, so percentiles stay recomputable when `raw` keeps only a subset
//! (the [`Histogram`] of a sample, `docs/output.md` "Histograms").
//!
//! Recording uses the `hdrhistogram` crate (Gil Tene's HdrHistogram): an
//! observation x is recorded as the integer round(x × `unit_scale`)
//! ([`unit_scale`]: nanoseconds for time units); with 3 significant digits
//! integers below 2048 get a bin each and above that a bin is at most 2^-10
//! of its lower edge wide. A document writes each non-empty bin as
//! `[value, count]`, value being the bin's middle integer (HdrHistogram's
//! *median-equivalent* value) ÷ `unit_scale`. So an observation x lies
//! within half a bin, 2^-11 ≈ 0.049% of x, plus the rounding to an integer,
//! 0.5 / `unit_scale`, of its bin's value: under 10^-3 of x for every
//! x ≥ 1000 / `unit_scale` (1 µs for `us` in nanoseconds), and within
//! 0.5 / `unit_scale` absolute below 2048 / `unit_scale`.
//!
//! Quantiles ([`Histogram::quantile`], [`HistogramRanks`]) are type 7 over
//! the observations with each replaced by its bin's value: exactly
//! `numpy.percentile(numpy.repeat(values, counts), 100 * q)`. Their error
//! against the type-7 quantile of the observations themselves is bounded by
//! the same amount (interpolation between two order statistics mixes two
//! such errors), so p99.9 of a million disk latencies is known to about
//! 0.05%, where fio's clat percentiles are bin edges up to ~1.5% apart.
//!
//! Merging two histograms ([`HistogramRecorder::merge`]) adds counts bin by
//! bin: the result is exactly the histogram of the concatenated series.
//! Statistics of the merged series ([`summarize_histogram`]) take the exact
//! count, mean, standard deviation, min and max from the parts' [`Moments`],
//! and only the percentiles, outlier count and median interval from the bins.

use hdrhistogram::Histogram as Hdr;

use crate::schema::{Histogram, Stats};

use super::bootstrap::{
    BOOTSTRAP_RESAMPLES, CONFIDENCE, DEFAULT_SEED, OrderStatistics, bootstrap_median_ci_of,
};
use super::outliers::TUKEY_K;
use super::quantile::lerp;
use super::student_t::student_t_quantile;

/// Decimal digits every histogram bench-core writes resolves.
pub const SIGNIFICANT_DIGITS: u8 = 3;

/// Largest scaled integer recorded: HdrHistogram's auto-resizing histogram
/// tracks values up to i64::MAX / 2; stay a factor 2 below that.
const MAX_SCALED: f64 = (1u64 << 61) as f64;

/// Integers recorded per unit of `unit`: nanoseconds for the time units
/// (`ns` 1, `us`/`µs` 1000, `ms` 10^6, `s` 10^9), else 1000.
pub fn unit_scale(unit: &str) -> u64 {
    match unit {
        "ns" => 1,
        "us" | "µs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        _ => 1_000,
    }
}

/// Why a histogram could not be built, read or merged. Displayed as one
/// line naming the field (relative to the histogram) where there is one.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HistogramError {
    /// An observation below 0 or too large to bin.
    #[error("{value} cannot be binned at unit_scale {unit_scale}: histograms hold values from 0 to {}", MAX_SCALED / *unit_scale as f64)]
    OutOfRange {
        /// The observation.
        value: f64,
        /// The scale it was to be recorded at.
        unit_scale: u64,
    },
    /// A field of a [`Histogram`] that is not as `docs/output.md` describes.
    #[error("{field}: {message}")]
    Invalid {
        /// Field path relative to the histogram, e.g. `bins/3`.
        field: String,
        /// What is wrong and what it must be.
        message: String,
    },
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> HistogramError {
    HistogramError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

/// A histogram being recorded (or read back from a document to be merged).
#[derive(Debug, Clone)]
pub struct HistogramRecorder {
    hdr: Hdr<u64>,
    unit_scale: u64,
}

impl HistogramRecorder {
    /// An empty histogram at [`SIGNIFICANT_DIGITS`] recording
    /// round(x × `unit_scale`).
    pub fn new(unit_scale: u64) -> Result<Self, HistogramError> {
        Self::with_digits(unit_scale, SIGNIFICANT_DIGITS)
    }

    fn with_digits(unit_scale: u64, digits: u8) -> Result<Self, HistogramError> {
        if unit_scale == 0 {
            return Err(invalid("unit_scale", "0; it must be at least 1"));
        }
        let hdr = Hdr::new(digits).map_err(|_| {
            invalid(
                "significant_digits",
                format!("{digits} is not supported (0 to 5)"),
            )
        })?;
        Ok(HistogramRecorder { hdr, unit_scale })
    }

    /// The histogram of `values` (non-finite ones are skipped, as
    /// [`super::summarize`] skips them).
    pub fn from_values(
        unit_scale: u64,
        values: impl IntoIterator<Item = f64>,
    ) -> Result<Self, HistogramError> {
        let mut h = Self::new(unit_scale)?;
        for x in values {
            h.record(x)?;
        }
        Ok(h)
    }

    /// Records one observation; a non-finite one is skipped.
    pub fn record(&mut self, x: f64) -> Result<(), HistogramError> {
        if !x.is_finite() {
            return Ok(());
        }
        let scaled = self.scaled(x)?;
        self.record_scaled(scaled, 1, x)
    }

    /// round(x × unit_scale), when it can be binned.
    fn scaled(&self, x: f64) -> Result<u64, HistogramError> {
        let scaled = (x * self.unit_scale as f64).round();
        if (0.0..=MAX_SCALED).contains(&scaled) {
            Ok(scaled as u64)
        } else {
            Err(HistogramError::OutOfRange {
                value: x,
                unit_scale: self.unit_scale,
            })
        }
    }

    fn record_scaled(&mut self, scaled: u64, count: u64, x: f64) -> Result<(), HistogramError> {
        // Within MAX_SCALED the auto-resizing histogram always has room;
        // the error is kept for safety, not expected.
        self.hdr
            .record_n(scaled, count)
            .map_err(|_| HistogramError::OutOfRange {
                value: x,
                unit_scale: self.unit_scale,
            })
    }

    /// Reads a document's histogram back (checked first, see
    /// [`Histogram::check`]), to merge it with others.
    pub fn from_schema(h: &Histogram) -> Result<Self, HistogramError> {
        h.check(None)?;
        let mut out = Self::with_digits(h.unit_scale, h.significant_digits)?;
        for &(value, count) in &h.bins {
            // A bin's value lies inside its bin, so it records into the
            // same bin it was written from.
            let scaled = out.scaled(value)?;
            out.record_scaled(scaled, count, value)?;
        }
        Ok(out)
    }

    /// The document form: one `[value, count]` per non-empty bin, ascending.
    pub fn to_schema(&self) -> Histogram {
        let scale = self.unit_scale as f64;
        let bins = self
            .hdr
            .iter_recorded()
            .map(|v| {
                let middle = self.hdr.median_equivalent(v.value_iterated_to());
                (middle as f64 / scale, v.count_at_value())
            })
            .collect();
        Histogram {
            significant_digits: self.hdr.sigfig(),
            unit_scale: self.unit_scale,
            bins,
        }
    }

    /// Adds `other`'s counts: afterwards this is the histogram of both
    /// series together. Histograms of different `unit_scale` or digits are
    /// merged at the finer of each, `other`'s (or this one's) bins being
    /// re-recorded at their values, which moves an observation by at most
    /// the coarser histogram's half bin.
    pub fn merge(&mut self, other: &HistogramRecorder) -> Result<(), HistogramError> {
        if self.same_bins(other) {
            return self.add(other);
        }
        let mut out = Self::with_digits(
            self.unit_scale.max(other.unit_scale),
            self.hdr.sigfig().max(other.hdr.sigfig()),
        )?;
        out.add(self)?;
        out.add(other)?;
        *self = out;
        Ok(())
    }

    fn same_bins(&self, other: &HistogramRecorder) -> bool {
        self.unit_scale == other.unit_scale && self.hdr.sigfig() == other.hdr.sigfig()
    }

    /// Adds `from`'s counts, bin by bin when the bins are the same, else by
    /// re-recording its bins' values.
    fn add(&mut self, from: &HistogramRecorder) -> Result<(), HistogramError> {
        if self.same_bins(from) {
            return self.hdr.add(&from.hdr).map_err(|_| {
                invalid(
                    "bins",
                    "the merged histogram exceeds the largest value a histogram holds",
                )
            });
        }
        let factor = self.unit_scale as f64 / from.unit_scale as f64;
        for v in from.hdr.iter_recorded() {
            let middle = from.hdr.median_equivalent(v.value_iterated_to());
            let value = middle as f64 / from.unit_scale as f64;
            let scaled = (middle as f64 * factor).round();
            if !(0.0..=MAX_SCALED).contains(&scaled) {
                return Err(HistogramError::OutOfRange {
                    value,
                    unit_scale: self.unit_scale,
                });
            }
            self.record_scaled(scaled as u64, v.count_at_value(), value)?;
        }
        Ok(())
    }

    /// Observations recorded.
    pub fn count(&self) -> u64 {
        self.hdr.len()
    }

    /// The integers per unit it records.
    pub fn unit_scale(&self) -> u64 {
        self.unit_scale
    }
}

impl Histogram {
    /// Observations in all bins.
    pub fn count(&self) -> u64 {
        self.bins.iter().map(|&(_, c)| c).sum()
    }

    /// The type-7 quantile `q` (in [0, 1]) of the binned observations
    /// (see the module documentation); `None` when empty or `q` is NaN.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let v = self.ranks().quantile(q);
        (!v.is_nan()).then_some(v)
    }

    /// The bins as order statistics, for several quantiles of one histogram.
    pub fn ranks(&self) -> HistogramRanks {
        HistogramRanks::new(self)
    }

    /// Checks the histogram is as `docs/output.md` describes, and when `n`
    /// is given (`stats.n`) that its counts add up to it. The error names
    /// the field relative to the histogram (`bins/3`).
    pub fn check(&self, n: Option<u64>) -> Result<(), HistogramError> {
        if self.significant_digits > 5 {
            return Err(invalid(
                "significant_digits",
                format!("{} is not supported (0 to 5)", self.significant_digits),
            ));
        }
        if self.unit_scale == 0 {
            return Err(invalid("unit_scale", "0; it must be at least 1"));
        }
        if self.bins.is_empty() {
            return Err(invalid("bins", "empty; a histogram has at least one bin"));
        }
        let mut total: u64 = 0;
        let mut previous: Option<f64> = None;
        for (i, &(value, count)) in self.bins.iter().enumerate() {
            let field = format!("bins/{i}");
            if !(value.is_finite() && value >= 0.0) {
                return Err(invalid(
                    field,
                    format!("value {value} must be a finite number ≥ 0"),
                ));
            }
            if let Some(p) = previous
                && value <= p
            {
                return Err(invalid(
                    field,
                    format!(
                        "value {value} is not above the previous bin's {p}; bins must be ascending"
                    ),
                ));
            }
            if count == 0 {
                return Err(invalid(field, "count 0; every bin's count must be > 0"));
            }
            total = total
                .checked_add(count)
                .ok_or_else(|| invalid("bins", "the counts add up to more than 2^64"))?;
            previous = Some(value);
        }
        match n {
            Some(n) if n != total => Err(invalid(
                "bins",
                format!("the counts add up to {total} but stats.n is {n}; they must be equal"),
            )),
            _ => Ok(()),
        }
    }
}

/// A histogram's bins as order statistics: the k-th smallest binned
/// observation in O(log bins), without expanding the counts.
#[derive(Debug, Clone)]
pub struct HistogramRanks {
    values: Vec<f64>,
    /// Observations in bins 0..=i.
    ends: Vec<u64>,
}

impl HistogramRanks {
    /// The order statistics of `h` (bins with a count of 0 are skipped;
    /// the bins are taken as ascending, see [`Histogram::check`]).
    pub fn new(h: &Histogram) -> Self {
        let mut values = Vec::with_capacity(h.bins.len());
        let mut ends = Vec::with_capacity(h.bins.len());
        let mut total: u64 = 0;
        for &(v, c) in &h.bins {
            if c == 0 || !v.is_finite() {
                continue;
            }
            total = total.saturating_add(c);
            values.push(v);
            ends.push(total);
        }
        HistogramRanks { values, ends }
    }

    /// Observations.
    pub fn count(&self) -> u64 {
        self.ends.last().copied().unwrap_or(0)
    }

    /// The `k`-th smallest (0-based) binned observation; the largest when
    /// `k` is past the end, NaN when there is none.
    pub fn at(&self, k: u64) -> f64 {
        let i = self.ends.partition_point(|&end| end <= k);
        self.values
            .get(i)
            .or(self.values.last())
            .copied()
            .unwrap_or(f64::NAN)
    }

    /// The type-7 quantile `q` (clamped to [0, 1]) as
    /// [`super::quantile_sorted`] computes it on the expanded observations;
    /// NaN when empty or `q` is NaN.
    pub fn quantile(&self, q: f64) -> f64 {
        let n = self.count();
        if n == 0 || q.is_nan() {
            return f64::NAN;
        }
        let h = (n - 1) as f64 * q.clamp(0.0, 1.0);
        let j = h.floor();
        let lo = j as u64;
        if lo + 1 >= n {
            return self.at(n - 1);
        }
        lerp(self.at(lo), self.at(lo + 1), h - j)
    }
}

impl OrderStatistics for &HistogramRanks {
    fn count(&self) -> usize {
        usize::try_from(HistogramRanks::count(self)).unwrap_or(usize::MAX)
    }
    fn at(&self, k: usize) -> f64 {
        HistogramRanks::at(self, k as u64)
    }
}

/// The exact moments of a series (count, mean, sum of squared deviations,
/// min, max), combinable across parts without their observations.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moments {
    /// Observations.
    pub n: u64,
    /// Their mean.
    pub mean: f64,
    /// Σ (x − mean)².
    pub ssd: f64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
}

impl Moments {
    /// The moments behind a `stats` block.
    pub fn of_stats(s: &Stats) -> Self {
        Moments {
            n: s.n,
            mean: s.mean,
            ssd: s.stddev * s.stddev * s.n.saturating_sub(1) as f64,
            min: s.min,
            max: s.max,
        }
    }

    /// The moments of the finite values of `xs`; `None` when there are none.
    pub fn of_values(xs: &[f64]) -> Option<Self> {
        let v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        let (mean, ssd) = super::summary::mean_and_ssd(&v);
        Some(Moments {
            n: v.len() as u64,
            mean,
            ssd,
            min: v.iter().copied().fold(f64::INFINITY, f64::min),
            max: v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        })
    }

    /// The moments of both series together (Chan, Golub & LeVeque's
    /// pairwise update).
    pub fn combine(&self, other: &Moments) -> Moments {
        if self.n == 0 {
            return *other;
        }
        if other.n == 0 {
            return *self;
        }
        let (na, nb) = (self.n as f64, other.n as f64);
        let n = na + nb;
        let delta = other.mean - self.mean;
        Moments {
            n: self.n + other.n,
            mean: self.mean + delta * nb / n,
            ssd: self.ssd + other.ssd + delta * delta * na * nb / n,
            min: self.min.min(other.min),
            max: self.max.max(other.max),
        }
    }

    /// Sample standard deviation (n − 1); 0 for one observation.
    pub fn stddev(&self) -> f64 {
        if self.n < 2 {
            0.0
        } else {
            (self.ssd.max(0.0) / (self.n - 1) as f64).sqrt()
        }
    }
}

/// The `stats` block of a series known by its exact [`Moments`] and its
/// histogram: n, mean, stddev, min, max and ci95 exact; p50–p99 type 7 on
/// the bins (kept within [min, max]); outliers counted by bin against the
/// fences of the binned quartiles; `median_ci95` the seeded bootstrap of
/// the binned observations. `None` below two observations.
pub fn summarize_histogram(h: &Histogram, m: &Moments) -> Option<Stats> {
    let ranks = h.ranks();
    if m.n < 2 || ranks.count() == 0 {
        return None;
    }
    let q = |p: f64| ranks.quantile(p).clamp(m.min, m.max);
    let (mean, stddev) = if m.min == m.max {
        (m.min, 0.0)
    } else {
        (m.mean.clamp(m.min, m.max), m.stddev())
    };
    let (q1, q3) = (ranks.quantile(0.25), ranks.quantile(0.75));
    let (lo, hi) = (q1 - TUKEY_K * (q3 - q1), q3 + TUKEY_K * (q3 - q1));
    let outliers = h
        .bins
        .iter()
        .filter(|&&(v, _)| v < lo || v > hi)
        .map(|&(_, c)| c)
        .sum();
    let t = student_t_quantile(0.5 + 0.5 * CONFIDENCE, (m.n - 1) as f64);
    let half = t * stddev / (m.n as f64).sqrt();
    Some(Stats {
        n: m.n,
        mean,
        stddev,
        min: m.min,
        max: m.max,
        p50: q(0.50),
        p90: q(0.90),
        p95: q(0.95),
        p99: q(0.99),
        ci95: [mean - half, mean + half],
        outliers,
        median_ci95: bootstrap_median_ci_of(&ranks, BOOTSTRAP_RESAMPLES, DEFAULT_SEED)
            .map(|[a, b]| [a.clamp(m.min, m.max), b.clamp(m.min, m.max)]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{Rng, quantile_sorted, sorted_finite, summarize};

    fn lognormal(n: usize, median: f64, sigma: f64, seed: u64) -> Vec<f64> {
        let mut rng = Rng::seed_from_u64(seed);
        (0..n)
            .map(|_| (median.ln() + sigma * rng.normal()).exp())
            .collect()
    }

    fn rel(got: f64, want: f64) -> f64 {
        (got - want).abs() / want.abs()
    }

    #[test]
    fn small_integers_get_a_bin_each_and_exact_quantiles() {
        // Below 2048 scaled units every integer is its own bin, so the
        // quantiles are exactly those of the values.
        let xs: Vec<f64> = [5.0, 1.0, 3.0, 3.0, 9.0, 1500.0].to_vec();
        let h = HistogramRecorder::from_values(1, xs.iter().copied())
            .unwrap()
            .to_schema();
        assert_eq!(h.significant_digits, 3);
        assert_eq!(h.unit_scale, 1);
        assert_eq!(
            h.bins,
            vec![(1.0, 1), (3.0, 2), (5.0, 1), (9.0, 1), (1500.0, 1)]
        );
        let sorted = sorted_finite(&xs);
        for q in [0.0, 0.1, 0.25, 0.5, 0.77, 0.9, 0.99, 1.0] {
            assert_eq!(h.quantile(q), Some(quantile_sorted(&sorted, q)), "q {q}");
        }
        assert_eq!(h.count(), 6);
        assert_eq!(h.check(Some(6)), Ok(()));
    }

    #[test]
    fn bins_are_the_middle_of_their_range() {
        // 3000 at scale 1: bucket [2048, 4096) has bins 2 wide, [3000, 3001]
        // → middle 3001; 10 000 in [8192, 16384), 8 wide: [10000, 10007]
        // → 10004. 2.5 µs at scale 1000 is 2500 ns, [2500, 2501] → 2.501.
        let h = HistogramRecorder::from_values(1, [3000.0, 10_000.0])
            .unwrap()
            .to_schema();
        assert_eq!(h.bins, vec![(3001.0, 1), (10_004.0, 1)]);
        let us = HistogramRecorder::from_values(unit_scale("us"), [2.5])
            .unwrap()
            .to_schema();
        assert_eq!(us.bins, vec![(2.501, 1)]);
    }

    #[test]
    fn quantiles_are_within_half_a_bin_of_the_exact_ones() {
        let xs = lognormal(50_000, 250.0, 0.8, 4);
        let sorted = sorted_finite(&xs);
        let h = HistogramRecorder::from_values(unit_scale("us"), xs.iter().copied())
            .unwrap()
            .to_schema();
        // Half a bin plus the rounding to whole nanoseconds.
        let bound = |x: f64| 1.0 / 2048.0 + 0.5 / (x * 1000.0);
        for q in [0.01, 0.25, 0.5, 0.9, 0.99, 0.999, 0.9999, 1.0] {
            let got = h.quantile(q).unwrap();
            let want = quantile_sorted(&sorted, q);
            assert!(rel(got, want) <= bound(want), "q {q}: {got} vs {want}");
        }
        // Each observation lies within half a bin of its bin's value.
        let ranks = h.ranks();
        for (k, x) in sorted.iter().enumerate().step_by(97) {
            assert!(rel(ranks.at(k as u64), *x) <= bound(*x));
        }
    }

    #[test]
    fn a_document_histogram_reads_back_unchanged() {
        let xs = lognormal(20_000, 3000.0, 1.0, 5);
        let h = HistogramRecorder::from_values(1, xs.iter().copied()).unwrap();
        let doc = h.to_schema();
        let json = serde_json::to_string(&doc).unwrap();
        let parsed: Histogram = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed, doc);
        let again = HistogramRecorder::from_schema(&parsed).unwrap().to_schema();
        assert_eq!(again, doc);
    }

    #[test]
    fn merging_equals_the_histogram_of_the_concatenation() {
        let a = lognormal(30_000, 80.0, 0.5, 6);
        let b = lognormal(20_000, 400.0, 1.2, 7);
        let scale = unit_scale("us");
        let mut merged = HistogramRecorder::from_values(scale, a.iter().copied()).unwrap();
        let hb = HistogramRecorder::from_values(scale, b.iter().copied()).unwrap();
        merged.merge(&hb).unwrap();
        let both = HistogramRecorder::from_values(scale, a.iter().chain(&b).copied()).unwrap();
        assert_eq!(merged.to_schema(), both.to_schema());
        assert_eq!(merged.count(), 50_000);
        // Through the documents too.
        let mut from_docs = HistogramRecorder::from_schema(
            &HistogramRecorder::from_values(scale, a)
                .unwrap()
                .to_schema(),
        )
        .unwrap();
        from_docs
            .merge(&HistogramRecorder::from_schema(&hb.to_schema()).unwrap())
            .unwrap();
        assert_eq!(from_docs.to_schema(), both.to_schema());
    }

    #[test]
    fn different_scales_merge_at_the_finer_one() {
        // 1500 µs at scale 1 (1 µs bins) and 2.25 µs at scale 1000.
        let mut coarse = HistogramRecorder::from_values(1, [1500.0]).unwrap();
        let fine = HistogramRecorder::from_values(1000, [2.25]).unwrap();
        coarse.merge(&fine).unwrap();
        let h = coarse.to_schema();
        assert_eq!(h.unit_scale, 1000);
        assert_eq!(h.count(), 2);
        assert_eq!(h.bins[0], (2.251, 1));
        assert!(rel(h.bins[1].0, 1500.0) <= 1.0 / 2048.0);
    }

    #[test]
    fn unbinnable_values_are_errors_and_non_finite_ones_skipped() {
        let e = HistogramRecorder::from_values(1000, [1.0, -2.0]).unwrap_err();
        assert!(matches!(e, HistogramError::OutOfRange { value, .. } if value == -2.0));
        assert!(e.to_string().starts_with("-2 cannot be binned"), "{e}");
        assert!(HistogramRecorder::from_values(1000, [1e300]).is_err());
        let h = HistogramRecorder::from_values(1000, [1.0, f64::NAN, f64::INFINITY]).unwrap();
        assert_eq!(h.count(), 1);
        assert!(HistogramRecorder::new(0).is_err());
    }

    #[test]
    fn check_names_the_field() {
        let good = Histogram {
            significant_digits: 3,
            unit_scale: 1000,
            bins: vec![(1.0, 2), (2.0, 1)],
        };
        assert_eq!(good.check(Some(3)), Ok(()));
        let msg = |h: &Histogram, n| h.check(n).unwrap_err().to_string();
        assert_eq!(
            msg(&good, Some(4)),
            "bins: the counts add up to 3 but stats.n is 4; they must be equal"
        );
        let mut h = good.clone();
        h.bins[1].0 = 0.5;
        assert_eq!(
            msg(&h, None),
            "bins/1: value 0.5 is not above the previous bin's 1; bins must be ascending"
        );
        let mut h = good.clone();
        h.bins[0].1 = 0;
        assert_eq!(
            msg(&h, None),
            "bins/0: count 0; every bin's count must be > 0"
        );
        let mut h = good.clone();
        h.bins[0].0 = -1.0;
        assert!(msg(&h, None).starts_with("bins/0: value -1 must be"));
        let mut h = good.clone();
        h.significant_digits = 9;
        assert!(msg(&h, None).starts_with("significant_digits: 9 is not supported"));
        let mut h = good.clone();
        h.unit_scale = 0;
        assert!(msg(&h, None).starts_with("unit_scale: 0"));
        h = good;
        h.bins.clear();
        assert!(msg(&h, None).starts_with("bins: empty"));
        assert!(HistogramRecorder::from_schema(&h).is_err());
    }

    #[test]
    fn ranks_at_the_edges() {
        let h = Histogram {
            significant_digits: 3,
            unit_scale: 1,
            bins: vec![(10.0, 2), (20.0, 3)],
        };
        let r = h.ranks();
        let at: Vec<f64> = (0..6).map(|k| r.at(k)).collect();
        assert_eq!(at, [10.0, 10.0, 20.0, 20.0, 20.0, 20.0]);
        assert!(
            Histogram {
                bins: vec![],
                ..h.clone()
            }
            .quantile(0.5)
            .is_none()
        );
        assert!(h.quantile(f64::NAN).is_none());
        // Type 7 on [10, 10, 20, 20, 20]: q = 0.3 → h = 1.2 → 10 + 0.2·10.
        assert!((h.quantile(0.3).unwrap() - 12.0).abs() < 1e-12);
    }

    #[test]
    fn moments_combine_exactly() {
        let a = lognormal(1000, 10.0, 0.5, 8);
        let b = lognormal(700, 30.0, 0.3, 9);
        let all: Vec<f64> = a.iter().chain(&b).copied().collect();
        let combined = Moments::of_values(&a)
            .unwrap()
            .combine(&Moments::of_values(&b).unwrap());
        let direct = Moments::of_values(&all).unwrap();
        assert_eq!(combined.n, direct.n);
        assert!(rel(combined.mean, direct.mean) < 1e-12);
        assert!(rel(combined.stddev(), direct.stddev()) < 1e-12);
        assert_eq!((combined.min, combined.max), (direct.min, direct.max));
        let s = summarize(&a).unwrap();
        let m = Moments::of_stats(&s);
        assert!(rel(m.stddev(), s.stddev) < 1e-12);
        assert_eq!(Moments::of_values(&[f64::NAN]), None);
    }

    #[test]
    fn summary_from_a_histogram_matches_the_exact_one() {
        let xs = lognormal(40_000, 120.0, 0.7, 10);
        let exact = summarize(&xs).unwrap();
        let h = HistogramRecorder::from_values(unit_scale("us"), xs.iter().copied())
            .unwrap()
            .to_schema();
        let s = summarize_histogram(&h, &Moments::of_values(&xs).unwrap()).unwrap();
        assert_eq!((s.n, s.min, s.max), (exact.n, exact.min, exact.max));
        assert!(rel(s.mean, exact.mean) < 1e-12);
        assert!(rel(s.stddev, exact.stddev) < 1e-9);
        assert!(rel(s.ci95[0], exact.ci95[0]) < 1e-9);
        for (got, want) in [
            (s.p50, exact.p50),
            (s.p90, exact.p90),
            (s.p95, exact.p95),
            (s.p99, exact.p99),
        ] {
            assert!(
                rel(got, want) <= 1.0 / 2048.0 + 0.5 / (want * 1000.0),
                "{got} vs {want}"
            );
        }
        // Outliers differ only by observations within half a bin of a fence.
        let diff = s.outliers.abs_diff(exact.outliers);
        assert!(
            diff <= exact.outliers / 100 + 5,
            "{} vs {}",
            s.outliers,
            exact.outliers
        );
        let [lo, hi] = s.median_ci95.unwrap();
        let [elo, ehi] = exact.median_ci95.unwrap();
        let width = ehi - elo;
        assert!((lo - elo).abs() < 0.2 * width && (hi - ehi).abs() < 0.2 * width);
        assert!(
            summarize_histogram(
                &h,
                &Moments {
                    n: 1,
                    ..Moments::of_values(&xs).unwrap()
                }
            )
            .is_none()
        );
    }
}
