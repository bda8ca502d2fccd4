#include "bench/loadgen/histogram.h"

#include <cmath>

namespace lg::bench {

void Histogram::merge(const Histogram& o) {
  for (size_t i = 0; i < kBuckets; ++i) counts_[i] += o.counts_[i];
  total_ += o.total_;
  saturated_ += o.saturated_;
  min_ = std::min(min_, o.min_);
  max_ = std::max(max_, o.max_);
  sum_ += o.sum_;
  sum_sq_ += o.sum_sq_;
}

void Histogram::reset() { *this = Histogram{}; }

double Histogram::mean() const {
  return total_ ? static_cast<double>(static_cast<long double>(sum_) / total_) : 0.0;
}

double Histogram::stddev() const {
  if (total_ == 0) return 0.0;
  // E[x^2] - mean^2 cancels catastrophically when the spread is tiny next to
  // the mean (1 s +- 10 ns). Shift by the integer mean q first, exactly, in
  // wrapping 128-bit arithmetic: sum((x - q)^2) = sum_sq - 2q*sum + n*q^2 is
  // small and non-negative, so the wraps cancel. Then
  // var = sum((x - q)^2)/n - (mean - q)^2 with 0 <= mean - q < 1.
  const u128 n = total_;
  const u128 q = sum_ / n;
  const u128 shifted = sum_sq_ - 2 * q * sum_ + n * q * q;
  const long double frac = static_cast<long double>(sum_ % n) / static_cast<long double>(n);
  const long double var = static_cast<long double>(shifted) / static_cast<long double>(n) - frac * frac;
  return var > 0 ? static_cast<double>(std::sqrt(var)) : 0.0;
}

uint64_t Histogram::percentile(double p) const {
  if (total_ == 0) return 0;
  p = std::clamp(p, 0.0, 100.0);
  // The relative nudge keeps p = 99.9 of 1000 samples at rank 999 when the
  // product lands a rounding error above the integer.
  const double r = std::ceil(p / 100.0 * static_cast<double>(total_) * (1.0 - 1e-12));
  const uint64_t rank = std::clamp<uint64_t>(static_cast<uint64_t>(r), 1, total_);
  uint64_t seen = 0;
  for (size_t i = bucket_index(min_), last = bucket_index(max_); i <= last; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::clamp(bucket_highest(i), min_, max_);
  }
  return max_;
}

}  // namespace lg::bench
