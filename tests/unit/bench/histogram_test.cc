#include "bench/loadgen/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <random>
#include <tuple>
#include <vector>

namespace lg::bench {
namespace {

constexpr double kMaxRelError = 0.01;
constexpr double kPercentiles[] = {0, 50, 90, 99, 99.9, 99.99, 100};

// The histogram's rank convention, on the exact samples.
uint64_t exact_percentile(const std::vector<uint64_t>& sorted, double p) {
  const double r = std::ceil(p / 100.0 * static_cast<double>(sorted.size()) * (1.0 - 1e-12));
  const uint64_t rank = std::clamp<uint64_t>(static_cast<uint64_t>(r), 1, sorted.size());
  return sorted[rank - 1];
}

// Checks every ladder percentile of `samples` against `h`; returns the worst relative error.
double check_percentiles(const Histogram& h, std::vector<uint64_t> samples, const char* what) {
  for (auto& v : samples) v = std::min(v, Histogram::kHighest);
  std::sort(samples.begin(), samples.end());
  double worst = 0;
  for (double p : kPercentiles) {
    const uint64_t want = exact_percentile(samples, p);
    const uint64_t got = h.percentile(p);
    const double err = std::abs(static_cast<double>(got) - static_cast<double>(want)) / static_cast<double>(want);
    EXPECT_LE(err, kMaxRelError) << what << " p" << p << ": got " << got << " want " << want;
    EXPECT_GE(got, want) << what << " p" << p << " (highest equivalent value is never below the sample)";
    worst = std::max(worst, err);
  }
  EXPECT_EQ(h.max(), samples.back()) << what;
  EXPECT_EQ(h.min(), samples.front()) << what;
  EXPECT_EQ(h.percentile(100), samples.back()) << what;
  return worst;
}

std::vector<uint64_t> uniform(std::mt19937_64& rng, size_t n, uint64_t lo, uint64_t hi) {
  std::uniform_int_distribution<uint64_t> d(lo, hi);
  std::vector<uint64_t> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

std::vector<uint64_t> log_uniform(std::mt19937_64& rng, size_t n, double lo, double hi) {
  std::uniform_real_distribution<double> d(std::log(lo), std::log(hi));
  std::vector<uint64_t> v(n);
  for (auto& x : v) x = static_cast<uint64_t>(std::exp(d(rng)));
  return v;
}

// 30 KB each: tests keep them on the heap, off the stack.
std::unique_ptr<Histogram> fill(const std::vector<uint64_t>& samples) {
  auto h = std::make_unique<Histogram>();
  for (uint64_t v : samples) h->record(v);
  return h;
}

TEST(Histogram, FitsInAPerLcoreStruct) {
  EXPECT_LT(sizeof(Histogram), 64u * 1024);
  std::printf("sizeof(Histogram) = %zu bytes, %zu buckets\n", sizeof(Histogram), Histogram::kBuckets);
}

// Every value maps into a bucket that contains it, buckets tile the range
// without gaps, and no bucket is wider than 1/128 of its values.
TEST(Histogram, BucketLayout) {
  for (size_t i = 0; i + 1 < Histogram::kBuckets; ++i) {
    ASSERT_EQ(Histogram::bucket_highest(i) + 1, Histogram::bucket_lowest(i + 1)) << i;
    ASSERT_EQ(Histogram::bucket_index(Histogram::bucket_lowest(i)), i);
    ASSERT_EQ(Histogram::bucket_index(Histogram::bucket_highest(i)), i);
  }
  EXPECT_LT(Histogram::bucket_index(Histogram::kHighest), Histogram::kBuckets);
  for (uint64_t v = 0; v < 256; ++v) EXPECT_EQ(Histogram::bucket_highest(Histogram::bucket_index(v)), v);

  double worst = 0;
  auto check = [&](uint64_t v) {
    const size_t i = Histogram::bucket_index(v);
    ASSERT_LE(Histogram::bucket_lowest(i), v);
    ASSERT_GE(Histogram::bucket_highest(i), v);
    worst = std::max(worst, static_cast<double>(Histogram::bucket_highest(i) - v) / static_cast<double>(v));
  };
  for (uint64_t v = 1; v < 2'000'000; ++v) check(v);
  std::mt19937_64 rng(7);
  for (uint64_t v : log_uniform(rng, 200'000, 1, 60e9)) check(std::max<uint64_t>(v, 1));
  for (unsigned b = 1; b <= 35; ++b) check((uint64_t{1} << (b + 1)) - 1), check(uint64_t{1} << b);
  check(Histogram::kHighest);
  EXPECT_LT(worst, 1.0 / 128);
  std::printf("worst relative error of a value's highest equivalent value: %.4f%%\n", worst * 100);
}

TEST(Histogram, UniformMicrosecondsToMillisecond) {
  std::mt19937_64 rng(1);
  const auto samples = uniform(rng, 1'000'000, 1'000, 1'000'000);
  auto h = fill(samples);
  EXPECT_EQ(h->count(), samples.size());
  const double worst = check_percentiles(*h, samples, "uniform");
  std::printf("uniform 1us..1ms: worst percentile error %.4f%%\n", worst * 100);
}

TEST(Histogram, LogUniformMicrosecondToMinute) {
  std::mt19937_64 rng(2);
  const auto samples = log_uniform(rng, 1'000'000, 1e3, 60e9);
  auto h = fill(samples);
  const double worst = check_percentiles(*h, samples, "log-uniform");
  std::printf("log-uniform 1us..60s: worst percentile error %.4f%%\n", worst * 100);
}

TEST(Histogram, FewHugeValuesInTheTail) {
  std::mt19937_64 rng(3);
  auto samples = uniform(rng, 100'000, 20'000, 80'000);
  for (uint64_t v : {1'000'000'000ull, 5'000'000'000ull, 59'999'999'999ull, 12'345'678'901ull, 3'000'000ull})
    samples.push_back(v);
  std::shuffle(samples.begin(), samples.end(), rng);
  auto h = fill(samples);
  check_percentiles(*h, samples, "huge tail");
  EXPECT_EQ(h->saturated(), 0u);
}

TEST(Histogram, SmallValuesAreExact) {
  auto h = std::make_unique<Histogram>();
  for (uint64_t v : {0ull, 1ull, 7ull, 100ull, 255ull}) h->record(v);
  EXPECT_EQ(h->min(), 0u);
  EXPECT_EQ(h->percentile(30), 1u);
  EXPECT_EQ(h->percentile(50), 7u);
  EXPECT_EQ(h->percentile(70), 100u);
  EXPECT_EQ(h->percentile(100), 255u);
}

TEST(Histogram, MinMaxMeanStddevMatchExactStatistics) {
  std::mt19937_64 rng(4);
  auto samples = log_uniform(rng, 300'000, 1e3, 1e10);
  auto h = fill(samples);
  long double sum = 0;
  for (uint64_t v : samples) sum += v;
  const long double mean = sum / samples.size();
  long double sq = 0;
  for (uint64_t v : samples) sq += (v - mean) * (v - mean);
  const double sd = std::sqrt(static_cast<double>(sq / samples.size()));
  EXPECT_NEAR(h->mean(), static_cast<double>(mean), static_cast<double>(mean) * 1e-12);
  EXPECT_NEAR(h->stddev(), sd, sd * 1e-9);
  EXPECT_EQ(h->min(), *std::min_element(samples.begin(), samples.end()));
  EXPECT_EQ(h->max(), *std::max_element(samples.begin(), samples.end()));

  // A narrow spread far from zero: the single-pass variance must not cancel out.
  auto n = std::make_unique<Histogram>();
  for (int i = 0; i < 1000; ++i) n->record(1'000'000'000 + (i % 2 ? 10 : -10));
  EXPECT_DOUBLE_EQ(n->mean(), 1e9);
  EXPECT_NEAR(n->stddev(), 10.0, 1e-9);
}

TEST(Histogram, CountArgumentWeightsTheSample) {
  auto a = std::make_unique<Histogram>(), b = std::make_unique<Histogram>();
  a->record(5'000, 3);
  a->record(9'000'000, 1);
  a->record(123'456, 0);  // no-op, also for min/max
  for (int i = 0; i < 3; ++i) b->record(5'000);
  b->record(9'000'000);
  EXPECT_EQ(a->count(), 4u);
  EXPECT_EQ(a->min(), 5'000u);
  EXPECT_EQ(a->max(), 9'000'000u);
  EXPECT_DOUBLE_EQ(a->mean(), b->mean());
  EXPECT_DOUBLE_EQ(a->stddev(), b->stddev());
  for (double p : kPercentiles) EXPECT_EQ(a->percentile(p), b->percentile(p)) << p;
}

std::vector<std::tuple<uint64_t, uint64_t, uint64_t>> buckets(const Histogram& h) {
  std::vector<std::tuple<uint64_t, uint64_t, uint64_t>> out;
  h.for_each_bucket([&](uint64_t lo, uint64_t hi, uint64_t c) { out.emplace_back(lo, hi, c); });
  return out;
}

TEST(Histogram, MergeEqualsRecordingIntoOne) {
  std::mt19937_64 rng(5);
  const auto x = uniform(rng, 50'000, 1'000, 1'000'000);
  const auto y = log_uniform(rng, 50'000, 1e3, 60e9);
  auto hx = fill(x), hy = fill(y), all = std::make_unique<Histogram>();
  for (uint64_t v : x) all->record(v);
  for (uint64_t v : y) all->record(v);
  hx->merge(*hy);
  EXPECT_EQ(hx->count(), all->count());
  EXPECT_EQ(hx->min(), all->min());
  EXPECT_EQ(hx->max(), all->max());
  EXPECT_EQ(hx->saturated(), all->saturated());
  EXPECT_DOUBLE_EQ(hx->mean(), all->mean());
  EXPECT_DOUBLE_EQ(hx->stddev(), all->stddev());
  for (double p : {0.0, 1.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.9, 99.99, 99.999, 100.0})
    EXPECT_EQ(hx->percentile(p), all->percentile(p)) << p;
  EXPECT_EQ(buckets(*hx), buckets(*all));

  auto empty = std::make_unique<Histogram>();
  all->merge(*empty);
  EXPECT_EQ(buckets(*hx), buckets(*all));
  EXPECT_EQ(hx->min(), all->min());
  empty->merge(*all);
  EXPECT_EQ(buckets(*empty), buckets(*all));
  EXPECT_EQ(empty->min(), all->min());
}

TEST(Histogram, ClampsAboveHighestAndCountsSaturated) {
  auto h = std::make_unique<Histogram>();
  h->record(10'000);
  h->record(Histogram::kHighest);
  h->record(Histogram::kHighest + 1);
  h->record(std::numeric_limits<uint64_t>::max(), 2);
  EXPECT_EQ(h->count(), 5u);
  EXPECT_EQ(h->saturated(), 3u);
  EXPECT_EQ(h->max(), Histogram::kHighest);
  EXPECT_EQ(h->percentile(100), Histogram::kHighest);
  EXPECT_EQ(h->percentile(50), Histogram::kHighest);
  EXPECT_NEAR(h->mean(), (10'000.0 + 4 * 60e9) / 5, 1.0);
}

TEST(Histogram, EmptyReturnsZero) {
  auto h = std::make_unique<Histogram>();
  EXPECT_EQ(h->count(), 0u);
  EXPECT_EQ(h->min(), 0u);
  EXPECT_EQ(h->max(), 0u);
  EXPECT_EQ(h->mean(), 0.0);
  EXPECT_EQ(h->stddev(), 0.0);
  EXPECT_EQ(h->saturated(), 0u);
  for (double p : kPercentiles) EXPECT_EQ(h->percentile(p), 0u);
  EXPECT_TRUE(buckets(*h).empty());
}

TEST(Histogram, ResetForgetsEverything) {
  auto h = std::make_unique<Histogram>();
  h->record(5'000);
  h->record(Histogram::kHighest * 2);
  h->reset();
  EXPECT_EQ(h->count(), 0u);
  EXPECT_EQ(h->saturated(), 0u);
  EXPECT_EQ(h->percentile(50), 0u);
  EXPECT_TRUE(buckets(*h).empty());
  h->record(7'000);
  EXPECT_EQ(h->min(), 7'000u);
  EXPECT_EQ(h->max(), 7'000u);
}

TEST(Histogram, ForEachBucketCoversEveryCountInOrder) {
  std::mt19937_64 rng(6);
  auto samples = log_uniform(rng, 100'000, 1, 1e11);  // some below kLowest, some saturated
  auto h = fill(samples);
  uint64_t total = 0, prev_hi = 0;
  bool first = true;
  h->for_each_bucket([&](uint64_t lo, uint64_t hi, uint64_t c) {
    EXPECT_GT(c, 0u);
    EXPECT_LE(lo, hi);
    if (!first) {
      EXPECT_GT(lo, prev_hi);
    }
    first = false;
    prev_hi = hi;
    total += c;
  });
  EXPECT_EQ(total, h->count());
  EXPECT_GT(h->saturated(), 0u);
}

}  // namespace
}  // namespace lg::bench
