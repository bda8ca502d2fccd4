// TLS ClientHello inspection without terminating TLS: reads the SNI host
// name, the offered ALPN protocols and whether TLS 1.3 is offered from the
// first bytes of a connection, the way Envoy's tls_inspector listener filter
// does, so the L4 gateway can route PASSTHROUGH / AUTO_PASSTHROUGH traffic by
// SNI and forward every byte unchanged.
//
// The parser is stateless: call it with everything received so far. It never
// allocates and never copies the record stream; a handshake message split
// over several records (RFC 8446 §5.1) is read through a cursor that steps
// over the record headers.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace lg::tls {

enum class HelloStatus : uint8_t { need_more, done, not_tls, malformed, too_large };

const char* hello_status_name(HelloStatus);

// Default bound on the bytes examined: one full record plus its header.
// Envoy's tls_inspector peeks at most 16 KiB by default (TLS_MAX_CLIENT_HELLO
// = SSL3_RT_MAX_PLAIN_LENGTH; 64 KiB in older releases). A ClientHello from a
// browser or OpenSSL, even with a post-quantum key share, fits in one record.
inline constexpr uint32_t kMaxClientHello = 16384 + 5;

struct ClientHelloInfo {
  // host_name of the server_name extension (RFC 6066 §3), lower-cased,
  // without a trailing dot, NUL-terminated.
  char sni[256] = {};
  uint16_t sni_len = 0;
  bool has_sni = false;
  // The first protocols of the ALPN list (RFC 7301 §3.1) in client order;
  // names of 32 bytes or more are skipped, so each is NUL-terminated.
  uint8_t alpn_count = 0;
  char alpn[4][32] = {};
  uint8_t alpn_len[4] = {};
  uint16_t legacy_version = 0;  // ClientHello.legacy_version (0x0303 for TLS 1.2 and 1.3)
  bool tls13_offered = false;   // supported_versions (RFC 8446 §4.2.1) contains 0x0304

  std::string_view sni_view() const { return {sni, sni_len}; }
  std::string_view alpn_view(unsigned i) const { return {alpn[i], alpn_len[i]}; }
};

// `data` holds the first bytes of the stream (everything received so far,
// contiguous). Returns:
//  need_more  not enough yet. *need = the total number of bytes before
//             another call can return anything else (always > data.size()
//             and <= max_bytes): wait for that many, then call again.
//  done       *info is filled; *need = the bytes the ClientHello's records
//             occupy (bytes after them are not examined). The caller still
//             forwards all bytes unchanged.
//  not_tls    the first byte is not a handshake record (content type 22, so
//             an SSLv2-compatible hello is not TLS) or the record version's
//             major byte is not 3. Decided from the first two bytes.
//  malformed  any length or field inconsistency in the records, the
//             ClientHello (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2), its extension
//             block (duplicate types, RFC 8446 §4.2; pre_shared_key not last,
//             §4.2.11), server_name (RFC 6066 §3: a host_name that is empty,
//             longer than 255 bytes, has an empty label or a byte outside
//             [A-Za-z0-9._-]; two host_names), ALPN (RFC 7301 §3.1) or
//             supported_versions; an empty or oversized (> 2^14) record or a
//             non-handshake record before the hello ends (RFC 8446 §5.1); a
//             handshake type other than client_hello; a record that carries
//             bytes past the end of the ClientHello.
//  too_large  the ClientHello's records would extend past max_bytes.
// On every status but done, *info is unspecified; on not_tls, malformed and
// too_large, *need is 0.
HelloStatus parse_client_hello(std::span<const uint8_t> data, ClientHelloInfo* info, uint32_t* need,
                               uint32_t max_bytes = kMaxClientHello);

}  // namespace lg::tls
