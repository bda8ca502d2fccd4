// Latency histogram for the load generator: fixed storage, O(1) record, no
// heap, so one can sit in each lcore's state and be merged at the end.
//
// Layout: the log-linear bucketing of HdrHistogram (Gil Tene,
// https://hdrhistogram.github.io/HdrHistogram/), written from the idea, not
// the code. Values below 256 ns get one bucket each (exact). Every power of
// two above, [2^m, 2^(m+1)) for m = 8..35, is cut into 128 equal sub-buckets
// of width 2^(m-7), so a bucket is never wider than 1/128 (0.79 %) of the
// values it holds; reporting a bucket's highest value is then within 0.79 %
// of any sample in it. 2^36 ns (68.7 s) covers kHighest.
//
// With b = 63 - clz(v | 255) (the top bit, at least 7) and s = b - 7, the
// index is s * 128 + (v >> s): for v < 256 that is v itself, and above it
// each power of two continues where the previous one ended (v >> s is in
// [128, 256)). The `| 255` removes the branch for small values.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace lg::bench {

class Histogram {
 public:
  static constexpr uint64_t kLowest = 1000;                  // ns; smaller values are still exact
  static constexpr uint64_t kHighest = 60'000'000'000ull;    // ns; larger ones clamp to this
  static constexpr unsigned kSubBits = 7;                    // 128 sub-buckets per power of two
  static constexpr unsigned kHalf = 1u << kSubBits;
  static constexpr unsigned kTopBit = 35;                    // 2^35 <= kHighest < 2^36
  static constexpr size_t kBuckets = (kTopBit - kSubBits + 1) * kHalf + kHalf;
  static_assert(kHighest < (uint64_t{1} << (kTopBit + 1)) && kHighest >= (uint64_t{1} << kTopBit));

  static constexpr size_t bucket_index(uint64_t v) {
    const unsigned top = 63u - static_cast<unsigned>(__builtin_clzll(v | (2 * kHalf - 1)));
    const unsigned shift = top - kSubBits;
    return static_cast<size_t>(shift) * kHalf + static_cast<size_t>(v >> shift);
  }
  static constexpr uint64_t bucket_lowest(size_t i) {
    const size_t shift = i < 2 * kHalf ? 0 : i / kHalf - 1;
    return static_cast<uint64_t>(i - shift * kHalf) << shift;
  }
  static constexpr uint64_t bucket_highest(size_t i) {
    const size_t shift = i < 2 * kHalf ? 0 : i / kHalf - 1;
    return bucket_lowest(i) + (uint64_t{1} << shift) - 1;
  }

  // A zero count changes nothing (selects, not branches, so the loop stays
  // straight-line). Sums are 128-bit: 60 s squared overflows 64 bits.
  void record(uint64_t ns, uint64_t count = 1) {
    const bool over = ns > kHighest;
    saturated_ += over ? count : 0;
    ns = over ? kHighest : ns;
    const bool any = count != 0;
    counts_[bucket_index(ns)] += count;
    total_ += count;
    min_ = any && ns < min_ ? ns : min_;
    max_ = any && ns > max_ ? ns : max_;
    const u128 c = count;
    sum_ += c * ns;
    sum_sq_ += c * (static_cast<u128>(ns) * ns);
  }

  void merge(const Histogram& o);
  void reset();

  uint64_t count() const { return total_; }
  uint64_t min() const { return total_ ? min_ : 0; }
  uint64_t max() const { return max_; }
  uint64_t saturated() const { return saturated_; }
  double mean() const;
  double stddev() const;  // population standard deviation, from exact sums

  // Value at rank ceil(p/100 * count()) (1-based, at least 1), reported as its
  // bucket's highest value (HdrHistogram's "highest equivalent value")
  // clamped into [min(), max()]. 0 when empty.
  uint64_t percentile(double p) const;

  // f(lowest_ns, highest_ns, count) for every non-empty bucket, ascending.
  template <class F>
  void for_each_bucket(F&& f) const {
    if (total_ == 0) return;
    for (size_t i = bucket_index(min_), last = bucket_index(max_); i <= last; ++i)
      if (counts_[i]) f(bucket_lowest(i), bucket_highest(i), counts_[i]);
  }

 private:
  __extension__ typedef unsigned __int128 u128;

  std::array<uint64_t, kBuckets> counts_{};
  uint64_t total_ = 0;
  uint64_t saturated_ = 0;
  uint64_t min_ = std::numeric_limits<uint64_t>::max();
  uint64_t max_ = 0;
  u128 sum_ = 0;
  u128 sum_sq_ = 0;
};

static_assert(Histogram::bucket_index(Histogram::kHighest) < Histogram::kBuckets);

}  // namespace lg::bench
