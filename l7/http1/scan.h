// Byte scanners for HTTP/1 heads, 16 bytes at a time with SSE (32 with
// AVX2 when the build enables it), scalar for the tail. Internal to l7/http1.
#pragma once

#include <cstddef>
#include <cstdint>

#if defined(__AVX2__) || defined(__SSE4_2__) || defined(__SSE2__)
#include <immintrin.h>
#endif

namespace lg::http1::scan {

// field-value bytes (RFC 9110 §5.5): VCHAR, obs-text, SP, HTAB. Everything
// else (CTLs, DEL) stops a value scan; the head scan has already proven that
// every CR there starts a CRLF.
inline bool value_byte(uint8_t c) { return c >= 0x20 ? c != 0x7f : c == '\t'; }

// request-target bytes: VCHAR only (RFC 3986 has no raw SP, CTL or 8-bit).
inline bool target_byte(uint8_t c) { return c > 0x20 && c < 0x7f; }

#if defined(__SSE2__)
// Lanes holding a byte outside value_byte(). Unsigned min gives c <= 0x1f.
inline unsigned bad_value_mask16(__m128i v) {
  const __m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
  const __m128i tab = _mm_cmpeq_epi8(v, _mm_set1_epi8('\t'));
  const __m128i del = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f));
  return static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(_mm_andnot_si128(tab, ctl), del)));
}

// Lanes outside 0x21..0x7e: signed compare works since 0x80+ are negative.
inline unsigned bad_target_mask16(__m128i v) {
  const __m128i lo = _mm_cmpgt_epi8(v, _mm_set1_epi8(0x20));
  const __m128i hi = _mm_cmplt_epi8(v, _mm_set1_epi8(0x7f));
  return static_cast<unsigned>(_mm_movemask_epi8(_mm_and_si128(lo, hi))) ^ 0xffffu;
}

inline unsigned crlf_mask16(__m128i v) {
  return static_cast<unsigned>(_mm_movemask_epi8(
      _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\r')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\n')))));
}
#endif

#if defined(__AVX2__)
inline unsigned bad_value_mask32(__m256i v) {
  const __m256i ctl = _mm256_cmpeq_epi8(_mm256_min_epu8(v, _mm256_set1_epi8(0x1f)), v);
  const __m256i tab = _mm256_cmpeq_epi8(v, _mm256_set1_epi8('\t'));
  const __m256i del = _mm256_cmpeq_epi8(v, _mm256_set1_epi8(0x7f));
  return static_cast<unsigned>(_mm256_movemask_epi8(_mm256_or_si256(_mm256_andnot_si256(tab, ctl), del)));
}
#endif

// First byte in [p, end) that is not a field-value byte, or end.
inline const char* skip_value(const char* p, const char* end) {
#if defined(__AVX2__)
  for (; end - p >= 32; p += 32) {
    const unsigned m = bad_value_mask32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    if (m) return p + __builtin_ctz(m);
  }
#endif
#if defined(__SSE2__)
  for (; end - p >= 16; p += 16) {
    const unsigned m = bad_value_mask16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    if (m) return p + __builtin_ctz(m);
  }
#endif
  while (p < end && value_byte(static_cast<uint8_t>(*p))) ++p;
  return p;
}

// First byte in [p, end) that is not a request-target byte, or end.
inline const char* skip_target(const char* p, const char* end) {
#if defined(__SSE2__)
  for (; end - p >= 16; p += 16) {
    const unsigned m = bad_target_mask16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    if (m) return p + __builtin_ctz(m);
  }
#endif
  while (p < end && target_byte(static_cast<uint8_t>(*p))) ++p;
  return p;
}

// Where the head ends. Walks every CR and LF in the buffer, so it also
// proves the line structure: each CR is followed by LF and each LF preceded
// by CR (RFC 9112 §2.2: bare CR is invalid; we reject bare LF too, as a
// gateway must not read lines differently from the server behind it).
struct HeadScan {
  enum Result : uint8_t { partial, complete, bare_cr, bare_lf } result = partial;
  size_t end = 0;         // complete: offset just past the blank line's LF
  unsigned lines = 0;     // CRLFs seen (line count so far)
};

inline bool on_crlf_byte(const char* p, size_t i, size_t len, size_t start, HeadScan* s) {
  if (p[i] == '\r') {
    if (i + 1 < len && p[i + 1] != '\n') { s->result = HeadScan::bare_cr; return true; }
    return false;  // LF follows (or not yet received)
  }
  if (i == start || p[i - 1] != '\r') { s->result = HeadScan::bare_lf; return true; }
  ++s->lines;
  // An empty line: this CRLF directly follows the previous one. The caller
  // starts at a non-empty first line, so i - 2 >= start.
  if (i >= start + 3 && p[i - 2] == '\n') { s->result = HeadScan::complete; s->end = i + 1; return true; }
  return false;
}

// Scans p[start, len). The caller has already skipped leading empty lines.
inline HeadScan find_head_end(const char* p, size_t len, size_t start) {
  HeadScan s;
  size_t i = start;
#if defined(__SSE2__)
  for (; i + 16 <= len; i += 16) {
    unsigned m = crlf_mask16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i)));
    while (m) {
      if (on_crlf_byte(p, i + __builtin_ctz(m), len, start, &s)) return s;
      m &= m - 1;
    }
  }
#endif
  for (; i < len; ++i) {
    if ((p[i] == '\r' || p[i] == '\n') && on_crlf_byte(p, i, len, start, &s)) return s;
  }
  return s;
}

}  // namespace lg::http1::scan
