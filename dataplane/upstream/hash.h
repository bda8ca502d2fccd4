// xxHash64 (XXH64), written from Yann Collet's specification
// (github.com/Cyan4973/xxHash, doc/xxhash_spec.md, "XXH64 algorithm").
// Envoy hashes ring-hash points, Maglev permutations and hash-policy keys with
// XXH64 (source/common/common/hash.h, HashUtil::xxHash64), so the same function
// here keeps the consistent-hashing balancers comparable with Envoy's.
//
// The input is read as little-endian byte by byte (the spec's byte order on
// every host); GCC folds the shifts into plain loads on x86 and arm64. constexpr,
// so test vectors can be checked at compile time. No allocation, no branches
// on data beyond the length.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace lg::upstream {

namespace xxh64_detail {

inline constexpr uint64_t kPrime1 = 0x9E3779B185EBCA87ull;
inline constexpr uint64_t kPrime2 = 0xC2B2AE3D27D4EB4Full;
inline constexpr uint64_t kPrime3 = 0x165667B19E3779F9ull;
inline constexpr uint64_t kPrime4 = 0x85EBCA77C2B2AE63ull;
inline constexpr uint64_t kPrime5 = 0x27D4EB2F165667C5ull;

constexpr uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

constexpr uint64_t read_le(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
  return v;
}

// Spec "Step 2. Process stripes": one lane into one accumulator.
constexpr uint64_t round(uint64_t acc, uint64_t lane) {
  acc += lane * kPrime2;
  acc = rotl(acc, 31);
  return acc * kPrime1;
}

// Spec "Step 3. Accumulator convergence": fold one accumulator into the result.
constexpr uint64_t merge(uint64_t acc, uint64_t v) {
  acc ^= round(0, v);
  return acc * kPrime1 + kPrime4;
}

}  // namespace xxh64_detail

constexpr uint64_t xxh64(std::string_view in, uint64_t seed = 0) {
  using namespace xxh64_detail;
  const char* p = in.data();
  const size_t len = in.size();
  size_t left = len;
  uint64_t acc;

  if (len >= 32) {
    // Step 1: four accumulators; Step 2: 32-byte stripes, 8 bytes per lane.
    uint64_t v1 = seed + kPrime1 + kPrime2;
    uint64_t v2 = seed + kPrime2;
    uint64_t v3 = seed;
    uint64_t v4 = seed - kPrime1;
    while (left >= 32) {
      v1 = round(v1, read_le(p, 8));
      v2 = round(v2, read_le(p + 8, 8));
      v3 = round(v3, read_le(p + 16, 8));
      v4 = round(v4, read_le(p + 24, 8));
      p += 32;
      left -= 32;
    }
    acc = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18);
    acc = merge(acc, v1);
    acc = merge(acc, v2);
    acc = merge(acc, v3);
    acc = merge(acc, v4);
  } else {
    // Step 1, special case: inputs shorter than one stripe.
    acc = seed + kPrime5;
  }

  // Step 4: add the input length.
  acc += static_cast<uint64_t>(len);

  // Step 5: consume the remaining 0..31 bytes, 8, then 4, then 1 at a time.
  while (left >= 8) {
    acc ^= round(0, read_le(p, 8));
    acc = rotl(acc, 27) * kPrime1 + kPrime4;
    p += 8;
    left -= 8;
  }
  if (left >= 4) {
    acc ^= read_le(p, 4) * kPrime1;
    acc = rotl(acc, 23) * kPrime2 + kPrime3;
    p += 4;
    left -= 4;
  }
  while (left > 0) {
    acc ^= uint64_t{static_cast<unsigned char>(*p)} * kPrime5;
    acc = rotl(acc, 11) * kPrime1;
    ++p;
    --left;
  }

  // Step 6: final mix (avalanche).
  acc ^= acc >> 33;
  acc *= kPrime2;
  acc ^= acc >> 29;
  acc *= kPrime3;
  acc ^= acc >> 32;
  return acc;
}

// Named apart from the string_view overload: with the same name, a call like
// xxh64("abc", 1) would bind the literal to the pointer and 1 to the length.
inline uint64_t xxh64_bytes(const void* data, size_t len, uint64_t seed = 0) {
  return xxh64(std::string_view(static_cast<const char*>(data), len), seed);
}

}  // namespace lg::upstream
