// Heads the proxy writes: the request as the upstream sees it and the
// response as the client sees it (Envoy's header handling at a gateway),
// and the small parsers they need (query parameters, cookies).
#pragma once

#include <cstddef>
#include <string_view>

#include "dataplane/l7/head_writer.h"
#include "l7/http1/http1.h"
#include "l7/router/router.h"

namespace lg::l7 {

struct Stream;

// Request line + headers for the upstream: hop-by-hop headers dropped,
// x-forwarded-for appended (the client's address), x-forwarded-proto set,
// x-request-id added when absent, route and destination header operations,
// rewrites applied. `mirror`: Host gets Envoy's "-shadow" suffix and the
// connection closes after the answer.
bool write_request_head(MbufWriter& w, const Stream& s, const http1::MessageHead& h, const RequestView& rv,
                        const Destination& d, std::string_view path, uint64_t request_id_hi, uint64_t request_id_lo,
                        bool mirror);

// Status line + headers for the client: hop-by-hop headers dropped,
// response header operations, CORS and hash-cookie headers, Connection.
void write_response_head(MbufWriter& w, const Stream& s, const http1::MessageHead& h, bool upgraded);

// "https://<host>/<path>?<query>" for tls.httpsRedirect.
size_t https_location(const RequestView& rv, char* out, size_t cap);

// The value of the first query parameter `name` (not decoded).
bool query_param(std::string_view query, std::string_view name, std::string_view* value);
// The value of cookie `name` in the request's Cookie headers (quotes removed).
bool cookie_value(const http1::MessageHead& h, std::string_view name, std::string_view* value);

const char* reason_phrase(unsigned status);

// The x-request-id write_request_head adds: a version 4 UUID from two random words.
constexpr size_t kUuidLength = 36;
void format_uuid(uint64_t hi, uint64_t lo, char (&out)[kUuidLength]);

}  // namespace lg::l7
