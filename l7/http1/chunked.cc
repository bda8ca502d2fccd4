// Chunked transfer coding (RFC 9112 §7.1), framing only, byte at a time:
// framing lines are short, and data bytes never pass through here.
#include "l7/http1/internal.h"
#include "l7/http1/scan.h"

namespace lg::http1 {

namespace {

// A chunk-size line with its extensions is bounded so that a peer cannot
// keep us reading framing forever.
constexpr uint32_t kMaxSizeLine = 4096;

enum State : uint8_t {
  size_start,      // first hex digit of chunk-size
  size,            // more hex digits, or BWS / ';' / CR
  ext_bws,         // BWS after the size or a value, before ';' or CR
  ext_name_start,  // after ';' (BWS allowed), first tchar of chunk-ext-name
  ext_name,        // tchars, or BWS / '=' / ';' / CR
  ext_name_bws,    // BWS after a name: '=' / ';' / CR
  ext_val_start,   // after '=' (BWS allowed): token or quoted-string
  ext_val_token,
  ext_quoted,
  ext_quoted_escape,
  ext_after_quote,  // closing quote seen: BWS / ';' / CR
  size_lf,          // CR seen at the end of the size line
  data_cr,          // data done, CRLF must follow
  data_lf,
  trailer_start,    // start of a trailer line or the final CRLF
  trailer_name,
  trailer_value,
  trailer_lf,       // CR seen at the end of a trailer line
  final_lf,         // CR of the final empty line seen
  finished,
  failed,
};

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  const char l = static_cast<char>(c | 0x20);
  if (l >= 'a' && l <= 'f') return l - 'a' + 10;
  return -1;
}

bool ws(char c) { return c == ' ' || c == '\t'; }

// qdtext / quoted-pair bytes (RFC 9110 §5.6.4): HTAB, SP, VCHAR, obs-text.
bool qd_byte(char c) { return scan::value_byte(static_cast<uint8_t>(c)); }

}  // namespace

void ChunkedDecoder::reset() {
  state_ = size_start;
  remaining_ = size_ = 0;
  line_bytes_ = trailer_bytes_ = 0;
  error_ = "";
}

ChunkedDecoder::Status ChunkedDecoder::feed(const char* p, size_t n, size_t* consumed) {
  auto fail = [&](const char* why, size_t at) {
    state_ = failed;
    error_ = why;
    *consumed = at;
    return Status::error;
  };
  if (state_ == failed) return fail(error_, 0);
  if (state_ == finished) {
    *consumed = 0;
    return Status::done;
  }
  for (size_t i = 0; i < n; ++i) {
    const char c = p[i];
    if (state_ <= size_lf) {
      if (++line_bytes_ > kMaxSizeLine) return fail("http1.chunk_line_too_long", i);
    } else if (state_ >= trailer_start && state_ <= final_lf) {
      if (++trailer_bytes_ > max_trailer_bytes_) return fail("http1.trailers_too_large", i);
    }
    switch (state_) {
      case size_start: {
        const int d = hex_value(c);
        if (d < 0) return fail("http1.invalid_chunk_size", i);
        size_ = static_cast<uint64_t>(d);
        state_ = size;
        break;
      }
      case size: {
        const int d = hex_value(c);
        if (d >= 0) {
          // Sizes stay below 2^63 so that they fit every peer's signed type.
          if (size_ >> 59) return fail("http1.invalid_chunk_size", i);
          size_ = size_ << 4 | static_cast<uint64_t>(d);
        } else if (c == ';') {
          state_ = ext_name_start;
        } else if (ws(c)) {
          state_ = ext_bws;
        } else if (c == '\r') {
          state_ = size_lf;
        } else {
          return fail("http1.invalid_chunk_size", i);
        }
        break;
      }
      case ext_bws:
        // BWS only precedes ';' (RFC 9112 §7.1.1): "a \r\n" is malformed.
        if (c == ';') state_ = ext_name_start;
        else if (!ws(c)) return fail("http1.invalid_chunk_extension", i);
        break;
      case ext_name_start:
        if (detail::tchar(c)) state_ = ext_name;
        else if (!ws(c)) return fail("http1.invalid_chunk_extension", i);
        break;
      case ext_name:
        if (detail::tchar(c)) break;
        if (c == '=') state_ = ext_val_start;
        else if (c == ';') state_ = ext_name_start;
        else if (ws(c)) state_ = ext_name_bws;
        else if (c == '\r') state_ = size_lf;
        else return fail("http1.invalid_chunk_extension", i);
        break;
      case ext_name_bws:
        if (c == '=') state_ = ext_val_start;
        else if (c == ';') state_ = ext_name_start;
        else if (!ws(c)) return fail("http1.invalid_chunk_extension", i);
        break;
      case ext_val_start:
        if (c == '"') state_ = ext_quoted;
        else if (detail::tchar(c)) state_ = ext_val_token;
        else if (!ws(c)) return fail("http1.invalid_chunk_extension", i);
        break;
      case ext_val_token:
        if (detail::tchar(c)) break;
        if (c == ';') state_ = ext_name_start;
        else if (ws(c)) state_ = ext_bws;
        else if (c == '\r') state_ = size_lf;
        else return fail("http1.invalid_chunk_extension", i);
        break;
      case ext_quoted:
        if (c == '"') state_ = ext_after_quote;
        else if (c == '\\') state_ = ext_quoted_escape;
        else if (!qd_byte(c)) return fail("http1.invalid_chunk_extension", i);
        break;
      case ext_after_quote:
        if (c == ';') state_ = ext_name_start;
        else if (ws(c)) state_ = ext_bws;
        else if (c == '\r') state_ = size_lf;
        else return fail("http1.invalid_chunk_extension", i);
        break;
      case ext_quoted_escape:
        if (!qd_byte(c)) return fail("http1.invalid_chunk_extension", i);
        state_ = ext_quoted;
        break;
      case size_lf:
        if (c != '\n') return fail("http1.invalid_line_ending", i);
        line_bytes_ = 0;
        if (size_ == 0) {
          state_ = trailer_start;
          break;
        }
        remaining_ = size_;
        state_ = data_cr;
        *consumed = i + 1;
        return Status::data;
      case data_cr:
        if (c != '\r') return fail("http1.missing_chunk_crlf", i);
        state_ = data_lf;
        break;
      case data_lf:
        if (c != '\n') return fail("http1.missing_chunk_crlf", i);
        state_ = size_start;
        break;
      case trailer_start:
        if (c == '\r') state_ = final_lf;
        else if (detail::tchar(c)) state_ = trailer_name;
        else if (ws(c)) return fail("http1.obs_fold", i);
        else return fail("http1.invalid_characters", i);
        break;
      case trailer_name:
        if (c == ':') state_ = trailer_value;
        else if (ws(c)) return fail("http1.whitespace_before_colon", i);
        else if (!detail::tchar(c)) return fail("http1.invalid_characters", i);
        break;
      case trailer_value:
        if (c == '\r') state_ = trailer_lf;
        else if (!scan::value_byte(static_cast<uint8_t>(c))) return fail("http1.invalid_characters", i);
        break;
      case trailer_lf:
        if (c != '\n') return fail("http1.invalid_line_ending", i);
        state_ = trailer_start;
        break;
      case final_lf:
        if (c != '\n') return fail("http1.invalid_line_ending", i);
        state_ = finished;
        *consumed = i + 1;
        return Status::done;
      default:
        return fail("http1.codec_error", i);
    }
  }
  *consumed = n;
  return Status::need_more;
}

}  // namespace lg::http1
