// Tokens of CEL's lexical grammar
// (https://github.com/google/cel-spec/blob/master/doc/langdef.md#syntax).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lg::ctrl::cel {

struct Token {
  enum class Kind { end, ident, int_lit, uint_lit, double_lit, string_lit, punct };
  Kind kind = Kind::end;
  size_t pos = 0;
  std::string text;     // identifier, punctuation, or decoded string literal
  uint64_t uint_value = 0;  // int literals keep their magnitude: "-9223372036854775808" is folded by the parser
  double double_value = 0;
};

struct LexResult {
  std::vector<Token> tokens;  // always ends with Kind::end on success
  std::string error;          // empty on success
  size_t error_pos = 0;
};

LexResult lex(std::string_view src);

}  // namespace lg::ctrl::cel
