#include <rte_byteorder.h>

#include <cstring>

#include "dataplane/tcp/tcp_hdr.h"

namespace lg::tcp {
namespace {

uint16_t rd16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
uint32_t rd32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
void wr16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void wr32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

}  // namespace

bool parse_options(const uint8_t* p, unsigned len, TcpOptions* o) {
  unsigned i = 0;
  while (i < len) {
    const uint8_t kind = p[i];
    if (kind == kOptEnd) break;
    if (kind == kOptNop) {
      ++i;
      continue;
    }
    if (i + 1 >= len) return false;
    const uint8_t olen = p[i + 1];
    if (olen < 2 || i + olen > len) return false;
    const uint8_t* v = p + i + 2;
    switch (kind) {
      case kOptMss:
        if (olen != 4) return false;
        o->has_mss = true;
        o->mss = rd16(v);
        break;
      case kOptWscale:
        if (olen != 3) return false;
        o->has_wscale = true;
        // RFC 7323 §2.3: a larger shift is treated as 14.
        o->wscale = v[0] > kMaxWscale ? kMaxWscale : v[0];
        break;
      case kOptSackPermitted:
        if (olen != 2) return false;
        o->sack_permitted = true;
        break;
      case kOptSack: {
        if ((olen - 2) % 8 != 0) return false;
        const unsigned n = (olen - 2u) / 8u;
        for (unsigned b = 0; b < n && o->nsack < kMaxSackBlocksIn; ++b)
          o->sack[o->nsack++] = SackBlock{rd32(v + 8 * b), rd32(v + 8 * b + 4)};
        break;
      }
      case kOptTimestamp:
        if (olen != 10) return false;
        o->has_ts = true;
        o->ts_val = rd32(v);
        o->ts_ecr = rd32(v + 4);
        break;
      default:
        break;  // RFC 9293 §3.2: unknown options are skipped by their length
    }
    i += olen;
  }
  return true;
}

unsigned options_length(const OptionsOut& o) {
  unsigned n = 0;
  if (o.mss) n += 4;
  if (o.wscale) n += 4;               // NOP + 3
  if (o.sack_permitted && !o.ts) n += 4;  // NOP NOP + 2; with TS it shares the TS word
  if (o.ts) n += 12;                  // (NOP NOP | SACK-permitted) + 10
  if (o.nsack) n += 4 + 8u * o.nsack;  // NOP NOP + 2 + 8n
  return n;
}

unsigned write_options(uint8_t* p, const OptionsOut& o) {
  uint8_t* s = p;
  if (o.mss) {
    p[0] = kOptMss, p[1] = 4;
    wr16(p + 2, o.mss_value);
    p += 4;
  }
  if (o.wscale) {
    p[0] = kOptNop, p[1] = kOptWscale, p[2] = 3, p[3] = o.wscale_value;
    p += 4;
  }
  if (o.ts) {
    if (o.sack_permitted)
      p[0] = kOptSackPermitted, p[1] = 2;
    else
      p[0] = kOptNop, p[1] = kOptNop;
    p[2] = kOptTimestamp, p[3] = 10;
    wr32(p + 4, o.ts_val);
    wr32(p + 8, o.ts_ecr);
    p += 12;
  } else if (o.sack_permitted) {
    p[0] = kOptNop, p[1] = kOptNop, p[2] = kOptSackPermitted, p[3] = 2;
    p += 4;
  }
  if (o.nsack) {
    p[0] = kOptNop, p[1] = kOptNop, p[2] = kOptSack, p[3] = static_cast<uint8_t>(2 + 8 * o.nsack);
    p += 4;
    for (unsigned b = 0; b < o.nsack; ++b) {
      wr32(p, o.sack[b].start);
      wr32(p + 4, o.sack[b].end);
      p += 8;
    }
  }
  return static_cast<unsigned>(p - s);
}

}  // namespace lg::tcp
