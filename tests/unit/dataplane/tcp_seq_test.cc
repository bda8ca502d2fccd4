#include "dataplane/tcp/seq.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>

namespace lg::tcp {
namespace {

// Everything is constexpr: the header must be usable in constant expressions.
static_assert(seq_lt(0xffffff00u, 0x10u));
static_assert(seq_diff(0x10u, 0xffffff00u) == 0x110);
static_assert(seq_in(0x5u, 0xfffffff0u, 0x20u));

TEST(TcpSeq, OrdersPlainNumbers) {
  EXPECT_TRUE(seq_lt(1, 2));
  EXPECT_FALSE(seq_lt(2, 2));
  EXPECT_TRUE(seq_leq(2, 2));
  EXPECT_TRUE(seq_gt(3, 2));
  EXPECT_FALSE(seq_gt(2, 2));
  EXPECT_TRUE(seq_geq(2, 2));
  EXPECT_FALSE(seq_geq(1, 2));
}

TEST(TcpSeq, OrdersAcrossTheWrap) {
  const Seq before = 0xffffff00u, after = 0x10u;
  EXPECT_TRUE(seq_lt(before, after));
  EXPECT_TRUE(seq_leq(before, after));
  EXPECT_FALSE(seq_gt(before, after));
  EXPECT_FALSE(seq_geq(before, after));
  EXPECT_TRUE(seq_gt(after, before));
  EXPECT_TRUE(seq_geq(after, before));
  EXPECT_FALSE(seq_lt(after, before));
  EXPECT_TRUE(seq_lt(0xffffffffu, 0u));
  EXPECT_TRUE(seq_gt(0u, 0xffffffffu));
}

TEST(TcpSeq, DiffIsSignedModularDistance) {
  EXPECT_EQ(seq_diff(0x10u, 0xffffff00u), 0x110);
  EXPECT_EQ(seq_diff(0xffffff00u, 0x10u), -0x110);
  EXPECT_EQ(seq_diff(5, 5), 0);
  EXPECT_EQ(seq_diff(0u, 0xffffffffu), 1);
  // The half-way point: 2^31 apart is where ordering stops being meaningful;
  // the result is INT32_MIN, so a is "before" b in both directions.
  EXPECT_EQ(seq_diff(0x80000000u, 0u), INT32_MIN);
  EXPECT_TRUE(seq_lt(0x80000000u, 0u));
  EXPECT_TRUE(seq_lt(0u, 0x80000000u));
  // Just inside the half-space the ordering holds.
  EXPECT_TRUE(seq_lt(0u, 0x7fffffffu));
  EXPECT_TRUE(seq_gt(0x7fffffffu, 0u));
}

TEST(TcpSeq, MaxMinAcrossTheWrap) {
  EXPECT_EQ(seq_max(0xffffff00u, 0x10u), 0x10u);
  EXPECT_EQ(seq_min(0xffffff00u, 0x10u), 0xffffff00u);
  EXPECT_EQ(seq_max(0x10u, 0xffffff00u), 0x10u);
  EXPECT_EQ(seq_min(0x10u, 0xffffff00u), 0xffffff00u);
  EXPECT_EQ(seq_max(7, 7), 7u);
  EXPECT_EQ(seq_max(100, 200), 200u);
  EXPECT_EQ(seq_min(100, 200), 100u);
}

TEST(TcpSeq, InIsHalfOpen) {
  EXPECT_TRUE(seq_in(100, 100, 200));
  EXPECT_TRUE(seq_in(199, 100, 200));
  EXPECT_FALSE(seq_in(200, 100, 200));
  EXPECT_FALSE(seq_in(99, 100, 200));
  // Empty window holds nothing.
  EXPECT_FALSE(seq_in(100, 100, 100));
}

TEST(TcpSeq, InAcrossTheWrap) {
  const Seq lo = 0xffffff00u, hi = 0x10u;
  EXPECT_TRUE(seq_in(0xffffff00u, lo, hi));
  EXPECT_TRUE(seq_in(0xffffffffu, lo, hi));
  EXPECT_TRUE(seq_in(0u, lo, hi));
  EXPECT_TRUE(seq_in(0xfu, lo, hi));
  EXPECT_FALSE(seq_in(0x10u, lo, hi));
  EXPECT_FALSE(seq_in(0xfffffeffu, lo, hi));
  EXPECT_FALSE(seq_in(0x1000u, lo, hi));
  // A window of more than 2^31 still works, being measured from lo.
  EXPECT_TRUE(seq_in(0xc0000000u, 0u, 0xf0000000u));
  EXPECT_FALSE(seq_in(0xf0000000u, 0u, 0xf0000000u));
}

TEST(TcpSeq, ConsistentOverASweepAcrossTheWrap) {
  // Walk a window straddling 2^32 and check the relations agree with
  // distances computed in 64-bit arithmetic.
  const uint64_t base = 0xffffff80u;
  for (uint64_t i = 0; i < 256; i += 7) {
    for (uint64_t j = 0; j < 256; j += 5) {
      const Seq a = static_cast<Seq>(base + i), b = static_cast<Seq>(base + j);
      EXPECT_EQ(seq_lt(a, b), i < j);
      EXPECT_EQ(seq_leq(a, b), i <= j);
      EXPECT_EQ(seq_gt(a, b), i > j);
      EXPECT_EQ(seq_geq(a, b), i >= j);
      EXPECT_EQ(seq_diff(a, b), static_cast<int32_t>(static_cast<int64_t>(i) - static_cast<int64_t>(j)));
      EXPECT_EQ(seq_max(a, b), static_cast<Seq>(base + std::max(i, j)));
    }
  }
}

}  // namespace
}  // namespace lg::tcp
