#include "ctrl/cel/url.h"

#include <algorithm>

namespace lg::ctrl::cel {
namespace {

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
int unhex(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

// Go's getScheme: a scheme is letters then letters/digits/+-. before ':'.
bool split_scheme(std::string_view raw, std::string& scheme, std::string_view& rest, std::string& err) {
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (is_alpha(c)) continue;
    if (is_digit(c) || c == '+' || c == '-' || c == '.') {
      if (i == 0) break;
      continue;
    }
    if (c == ':') {
      if (i == 0) {
        err = "missing protocol scheme";
        return false;
      }
      scheme = std::string(raw.substr(0, i));
      rest = raw.substr(i + 1);
      return true;
    }
    break;
  }
  scheme.clear();
  rest = raw;
  return true;
}

bool valid_optional_port(std::string_view port) {
  if (port.empty()) return true;
  if (port[0] != ':') return false;
  return std::all_of(port.begin() + 1, port.end(), is_digit);
}

// Characters Go's url accepts unescaped in a host (shouldEscape(c, encodeHost) == false).
bool host_char_ok(unsigned char c) {
  if (c >= 0x80) return true;  // Go leaves non-ASCII host bytes to IDNA
  if (is_alpha(static_cast<char>(c)) || is_digit(static_cast<char>(c))) return true;
  static constexpr std::string_view ok = "-_.~!$&'()*+,;=:[]<>\"";
  return ok.find(static_cast<char>(c)) != std::string_view::npos;
}

bool check_escapes(std::string_view s, std::string& err) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') continue;
    if (i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2])) {
      err = "invalid URL escape \"" + std::string(s.substr(i, std::min<size_t>(3, s.size() - i))) + "\"";
      return false;
    }
    i += 2;
  }
  return true;
}

bool parse_host(std::string_view host, std::string& err) {
  if (!host.empty() && host[0] == '[') {
    size_t close = host.rfind(']');
    if (close == std::string_view::npos) {
      err = "missing ']' in host";
      return false;
    }
    std::string_view port = host.substr(close + 1);
    if (!valid_optional_port(port)) {
      err = "invalid port \"" + std::string(port) + "\" after host";
      return false;
    }
  } else if (size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    std::string_view port = host.substr(colon);
    if (!valid_optional_port(port)) {
      err = "invalid port \"" + std::string(port) + "\" after host";
      return false;
    }
  }
  if (!check_escapes(host, err)) return false;
  for (char c : host) {
    if (c != '%' && !host_char_ok(static_cast<unsigned char>(c))) {
      err = std::string("invalid character \"") + c + "\" in host name";
      return false;
    }
  }
  return true;
}

bool valid_userinfo(std::string_view s) {
  static constexpr std::string_view ok = "-._:~!$&'()*+,;=%@";
  return std::all_of(s.begin(), s.end(), [](char c) {
    return is_alpha(c) || is_digit(c) || ok.find(c) != std::string_view::npos;
  });
}

// Chars that may appear unescaped in an escaped path (Go's validEncoded).
bool valid_encoded_path(std::string_view s) {
  static constexpr std::string_view ok = "!$&'()*+,;=:@[]/-._~%";
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (is_alpha(c) || is_digit(c) || ok.find(c) != std::string_view::npos) continue;
    return false;
  }
  return true;
}

}  // namespace

std::optional<Url> parse_request_uri(std::string_view raw, std::string& error) {
  auto fail = [&](const std::string& why) -> std::optional<Url> {
    std::string q;
    for (char c : raw) {
      if (c == '"' || c == '\\') q += '\\';
      q += c;
    }
    error = "parse \"" + q + "\": " + why;
    return std::nullopt;
  };
  for (char c : raw)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return fail("net/url: invalid control character in URL");
  if (raw.empty()) return fail("empty url");
  Url u;
  if (raw == "*") {
    u.path = "*";
    return u;
  }
  std::string err;
  std::string_view rest;
  if (!split_scheme(raw, u.scheme, rest, err)) return fail(err);
  std::transform(u.scheme.begin(), u.scheme.end(), u.scheme.begin(),
                 [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; });
  if (rest.size() && rest.back() == '?' && std::count(rest.begin(), rest.end(), '?') == 1) {
    rest.remove_suffix(1);
  } else if (size_t q = rest.find('?'); q != std::string_view::npos) {
    u.raw_query = std::string(rest.substr(q + 1));
    rest = rest.substr(0, q);
  }
  if (rest.empty() || rest[0] != '/') {
    if (!u.scheme.empty()) {
      u.opaque = std::string(rest);  // rootless paths (RFC 3986) are opaque
      return u;
    }
    return fail("invalid URI for request");
  }
  if (!u.scheme.empty() && rest.substr(0, 2) == "//") {
    std::string_view authority = rest.substr(2);
    rest = {};
    if (size_t slash = authority.find('/'); slash != std::string_view::npos) {
      rest = authority.substr(slash);
      authority = authority.substr(0, slash);
    }
    size_t at = authority.rfind('@');
    std::string_view host = at == std::string_view::npos ? authority : authority.substr(at + 1);
    if (!parse_host(host, err)) return fail(err);
    if (at != std::string_view::npos) {
      std::string_view userinfo = authority.substr(0, at);
      if (!valid_userinfo(userinfo)) return fail("net/url: invalid userinfo");
      if (!check_escapes(userinfo, err)) return fail(err);
    }
    u.host = std::string(host);
  }
  if (!check_escapes(rest, err)) return fail(err);
  u.path = std::string(rest);
  return u;
}

std::string url_hostname(const Url& u) {
  std::string_view h = u.host;
  if (!h.empty() && h[0] == '[') {
    size_t close = h.find(']');
    return std::string(close == std::string_view::npos ? h.substr(1) : h.substr(1, close - 1));
  }
  size_t colon = h.rfind(':');
  if (colon != std::string_view::npos && valid_optional_port(h.substr(colon))) h = h.substr(0, colon);
  return std::string(h);
}

std::string url_port(const Url& u) {
  std::string_view h = u.host;
  size_t colon = h.rfind(':');
  if (colon == std::string_view::npos) return "";
  if (!h.empty() && h[0] == '[' && h.find(']') > colon) return "";
  std::string_view port = h.substr(colon);
  return valid_optional_port(port) ? std::string(port.substr(1)) : "";
}

std::string url_escaped_path(const Url& u) {
  if (valid_encoded_path(u.path)) return u.path;
  // Re-escape what Go would (shouldEscape(c, encodePath)).
  static constexpr std::string_view keep = "-_.~$&+,/:;=@";
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (size_t i = 0; i < u.path.size(); ++i) {
    char c = u.path[i];
    if (c == '%' && i + 2 < u.path.size() && is_hex(u.path[i + 1]) && is_hex(u.path[i + 2])) {
      unsigned char decoded = static_cast<unsigned char>(unhex(u.path[i + 1]) * 16 + unhex(u.path[i + 2]));
      c = static_cast<char>(decoded);
      i += 2;
    }
    if (is_alpha(c) || is_digit(c) || keep.find(c) != std::string_view::npos) {
      out += c;
    } else {
      unsigned char b = static_cast<unsigned char>(c);
      out += '%';
      out += hex[b >> 4];
      out += hex[b & 15];
    }
  }
  return out;
}

}  // namespace lg::ctrl::cel
