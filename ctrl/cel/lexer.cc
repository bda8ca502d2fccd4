#include "ctrl/cel/lexer.h"
#include "ctrl/cel/ascii.h"

#include <charconv>

namespace lg::ctrl::cel {
namespace {

bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_ident_char(char c) { return is_ident_start(c) || is_digit(c); }
int hex_val(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class Lexer {
 public:
  explicit Lexer(std::string_view src) : s_(src) {}

  LexResult run() {
    LexResult r;
    while (true) {
      skip_space();
      if (failed_) break;
      if (i_ >= s_.size()) {
        r.tokens.push_back(Token{Token::Kind::end, i_, {}, 0, 0});
        break;
      }
      Token t;
      if (!next(t)) break;
      r.tokens.push_back(std::move(t));
    }
    if (failed_) {
      r.tokens.clear();
      r.error = error_;
      r.error_pos = error_pos_;
    }
    return r;
  }

 private:
  bool fail(size_t pos, std::string msg) {
    if (!failed_) {
      failed_ = true;
      error_ = std::move(msg);
      error_pos_ = pos;
    }
    return false;
  }

  void skip_space() {
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
        ++i_;
      } else if (c == '/' && i_ + 1 < s_.size() && s_[i_ + 1] == '/') {
        while (i_ < s_.size() && s_[i_] != '\n') ++i_;
      } else {
        return;
      }
    }
  }

  bool next(Token& t) {
    t.pos = i_;
    char c = s_[i_];
    // String prefixes: r/R (raw); b/B (bytes) is recognised only to reject it.
    if (c == 'r' || c == 'R' || c == 'b' || c == 'B') {
      size_t j = i_;
      bool raw = false, bytes = false;
      while (j < s_.size() && j - i_ < 2 && (s_[j] == 'r' || s_[j] == 'R' || s_[j] == 'b' || s_[j] == 'B')) {
        if (s_[j] == 'r' || s_[j] == 'R') {
          if (raw) break;
          raw = true;
        } else {
          if (bytes) break;
          bytes = true;
        }
        ++j;
      }
      if (j < s_.size() && (s_[j] == '"' || s_[j] == '\'')) {
        if (bytes) return fail(i_, "bytes literals are not supported");
        i_ = j;
        return string_lit(t, raw);
      }
    }
    if (is_ident_start(c)) {
      size_t j = i_;
      while (j < s_.size() && is_ident_char(s_[j])) ++j;
      t.kind = Token::Kind::ident;
      t.text = std::string(s_.substr(i_, j - i_));
      i_ = j;
      return true;
    }
    if (is_digit(c) || (c == '.' && i_ + 1 < s_.size() && is_digit(s_[i_ + 1]))) return number(t);
    if (c == '"' || c == '\'') return string_lit(t, false);
    static constexpr std::string_view two[] = {"==", "!=", "<=", ">=", "&&", "||"};
    for (auto op : two) {
      if (s_.substr(i_, 2) == op) {
        t.kind = Token::Kind::punct;
        t.text = std::string(op);
        i_ += 2;
        return true;
      }
    }
    static constexpr std::string_view one = "<>!?:.,[](){}+-*/%";
    if (one.find(c) != std::string_view::npos) {
      t.kind = Token::Kind::punct;
      t.text = std::string(1, c);
      ++i_;
      return true;
    }
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f)
      return fail(i_, "unexpected character");
    return fail(i_, std::string("unexpected character '") + c + "'");
  }

  bool number(Token& t) {
    size_t start = i_;
    if (s_[i_] == '0' && i_ + 1 < s_.size() && (s_[i_ + 1] == 'x' || s_[i_ + 1] == 'X')) {
      size_t j = i_ + 2;
      uint64_t v = 0;
      bool overflow = false;
      while (j < s_.size() && is_hex(s_[j])) {
        if (v > (UINT64_MAX >> 4)) overflow = true;
        v = (v << 4) | static_cast<uint64_t>(hex_val(s_[j]));
        ++j;
      }
      if (j == i_ + 2) return fail(start, "invalid hex literal");
      if (overflow) return fail(start, "integer literal out of range");
      i_ = j;
      return int_suffix(t, v, start);
    }
    size_t j = i_;
    while (j < s_.size() && is_digit(s_[j])) ++j;
    bool is_float = false;
    if (j + 1 < s_.size() && s_[j] == '.' && is_digit(s_[j + 1])) {
      is_float = true;
      ++j;
      while (j < s_.size() && is_digit(s_[j])) ++j;
    }
    if (j < s_.size() && (s_[j] == 'e' || s_[j] == 'E')) {
      size_t k = j + 1;
      if (k < s_.size() && (s_[k] == '+' || s_[k] == '-')) ++k;
      if (k < s_.size() && is_digit(s_[k])) {
        is_float = true;
        j = k;
        while (j < s_.size() && is_digit(s_[j])) ++j;
      }
    }
    std::string_view text = s_.substr(i_, j - i_);
    i_ = j;
    if (is_float) {
      double d = 0;
      auto res = std::from_chars(text.data(), text.data() + text.size(), d);
      // Like Go's ParseFloat: underflow rounds to zero, overflow is an error.
      if (res.ec == std::errc::result_out_of_range) {
        if (text.find("e-") == std::string_view::npos && text.find("E-") == std::string_view::npos)
          return fail(start, "double literal out of range");
        d = 0;
      } else if (res.ec != std::errc() || res.ptr != text.data() + text.size()) {
        return fail(start, "invalid double literal");
      }
      t.kind = Token::Kind::double_lit;
      t.double_value = d;
      return true;
    }
    uint64_t v = 0;
    auto res = std::from_chars(text.data(), text.data() + text.size(), v);
    if (res.ec != std::errc()) return fail(start, "integer literal out of range");
    return int_suffix(t, v, start);
  }

  bool int_suffix(Token& t, uint64_t v, size_t) {
    t.uint_value = v;
    if (i_ < s_.size() && (s_[i_] == 'u' || s_[i_] == 'U')) {
      ++i_;
      t.kind = Token::Kind::uint_lit;
    } else {
      t.kind = Token::Kind::int_lit;
    }
    return true;
  }

  bool string_lit(Token& t, bool raw) {
    size_t start = i_;
    char q = s_[i_];
    bool triple = s_.substr(i_, 3) == std::string(3, q);
    i_ += triple ? 3 : 1;
    std::string out;
    while (true) {
      if (i_ >= s_.size()) return fail(start, "unterminated string literal");
      char c = s_[i_];
      if (triple ? s_.substr(i_, 3) == std::string(3, q) : c == q) {
        i_ += triple ? 3 : 1;
        break;
      }
      if (!triple && (c == '\n' || c == '\r')) return fail(start, "unterminated string literal");
      if (c == '\\' && !raw) {
        if (!escape(out)) return false;
        continue;
      }
      out += c;
      ++i_;
    }
    t.kind = Token::Kind::string_lit;
    t.text = std::move(out);
    return true;
  }

  bool escape(std::string& out) {
    size_t at = i_;
    if (i_ + 1 >= s_.size()) return fail(at, "invalid escape sequence");
    char e = s_[i_ + 1];
    i_ += 2;
    switch (e) {
      case 'a': out += '\a'; return true;
      case 'b': out += '\b'; return true;
      case 'f': out += '\f'; return true;
      case 'n': out += '\n'; return true;
      case 'r': out += '\r'; return true;
      case 't': out += '\t'; return true;
      case 'v': out += '\v'; return true;
      case '\\': case '\'': case '"': case '`': case '?': out += e; return true;
      case 'x': case 'X': case 'u': case 'U': {
        size_t n = (e == 'x' || e == 'X') ? 2 : (e == 'u' ? 4 : 8);
        if (i_ + n > s_.size()) return fail(at, "invalid escape sequence");
        uint32_t cp = 0;
        for (size_t k = 0; k < n; ++k) {
          if (!is_hex(s_[i_ + k])) return fail(at, "invalid escape sequence");
          cp = (cp << 4) | static_cast<uint32_t>(hex_val(s_[i_ + k]));
        }
        i_ += n;
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return fail(at, "invalid unicode code point in escape");
        append_utf8(out, cp);
        return true;
      }
      default:
        if (e >= '0' && e <= '3') {
          if (i_ + 2 > s_.size() || s_[i_] < '0' || s_[i_] > '7' || s_[i_ + 1] < '0' || s_[i_ + 1] > '7')
            return fail(at, "invalid octal escape");
          uint32_t cp = static_cast<uint32_t>((e - '0') * 64 + (s_[i_] - '0') * 8 + (s_[i_ + 1] - '0'));
          i_ += 2;
          append_utf8(out, cp);
          return true;
        }
        return fail(at, "invalid escape sequence");
    }
  }

  std::string_view s_;
  size_t i_ = 0;
  bool failed_ = false;
  std::string error_;
  size_t error_pos_ = 0;
};

}  // namespace

LexResult lex(std::string_view src) { return Lexer(src).run(); }

}  // namespace lg::ctrl::cel
