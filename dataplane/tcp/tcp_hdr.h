// TCP header options (RFC 9293 §3.2, RFC 7323, RFC 2018): parsed from
// received segments and written into outgoing ones.
#pragma once

#include <rte_tcp.h>

#include <cstdint>

#include "dataplane/tcp/sack.h"

namespace lg::tcp {

inline constexpr uint8_t kOptEnd = 0, kOptNop = 1, kOptMss = 2, kOptWscale = 3, kOptSackPermitted = 4,
                         kOptSack = 5, kOptTimestamp = 8;
inline constexpr unsigned kMaxSackBlocksIn = 4;
inline constexpr uint8_t kMaxWscale = 14;  // RFC 7323 §2.3

struct TcpOptions {
  bool has_mss = false, has_wscale = false, sack_permitted = false, has_ts = false;
  uint16_t mss = 0;
  uint8_t wscale = 0;
  uint32_t ts_val = 0, ts_ecr = 0;
  uint8_t nsack = 0;
  SackBlock sack[kMaxSackBlocksIn];
};

// false: malformed option list (a length that runs past the header, or an
// option with a wrong fixed length); such segments are dropped.
bool parse_options(const uint8_t* p, unsigned len, TcpOptions* out);

// What an outgoing segment carries; write_options returns bytes written
// (a multiple of 4, at most 40).
struct OptionsOut {
  bool mss = false, wscale = false, sack_permitted = false, ts = false;
  uint16_t mss_value = 0;
  uint8_t wscale_value = 0;
  uint32_t ts_val = 0, ts_ecr = 0;
  uint8_t nsack = 0;
  const SackBlock* sack = nullptr;
};
unsigned options_length(const OptionsOut& o);
unsigned write_options(uint8_t* p, const OptionsOut& o);

}  // namespace lg::tcp
