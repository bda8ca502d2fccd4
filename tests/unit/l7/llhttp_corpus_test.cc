// Runs llhttp's markdown test corpus (request/ and response/) against
// lg::http1 and checks that a strict gateway agrees with llhttp's strict
// mode: the same messages (method, target, status, reason, headers, body)
// when llhttp accepts, a rejection when it reports an error, and a
// rejection for every case that needs one of llhttp's lenient flags.
//
// The corpus is read by path (LG_LLHTTP_CORPUS, default
// /work/shared/testdata/llhttp); it is not part of the project.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "l7/http1/http1.h"

namespace lg::http1 {
namespace {

namespace fs = std::filesystem;

struct Case {
  std::string file;  // "request/sample"
  std::string name;  // the heading above it
  int line = 0;
  std::string meta;
  std::string input;
  std::vector<std::string> log;
};

struct Message {
  std::string method, url, reason, body;
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  bool complete = false;
  bool partial_head = false;  // ours: the head had not ended at EOF
  bool until_close = false;   // ours: body read to EOF (llhttp completes it only in llhttp_finish)
};

enum class Outcome { accepted, incomplete, rejected };

struct Observed {
  std::vector<Message> messages;
  Outcome outcome = Outcome::accepted;
  std::string why;  // rejection detail
  bool host_added = false;
  bool crlf_added = false;
};

std::string corpus_dir() {
  const char* e = std::getenv("LG_LLHTTP_CORPUS");
  return e && *e ? e : "/work/shared/testdata/llhttp";
}

// md-test.ts: drop the final newline, join "\"-continued lines, make every
// newline CRLF, then expand \r \n \t \f \xHH and \NNN escapes.
std::string decode_input(std::string s) {
  if (!s.empty() && s.back() == '\n') s.pop_back();
  std::string joined;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '\n') { ++i; continue; }
    joined += s[i];
  }
  std::string crlf;
  for (char c : joined) {
    if (c == '\n') crlf += "\r\n";
    else crlf += c;
  }
  std::string out;
  for (size_t i = 0; i < crlf.size(); ++i) {
    if (crlf[i] != '\\' || i + 1 >= crlf.size()) { out += crlf[i]; continue; }
    const char n = crlf[i + 1];
    if (n == 'r') { out += '\r'; ++i; }
    else if (n == 'n') { out += '\n'; ++i; }
    else if (n == 't') { out += '\t'; ++i; }
    else if (n == 'f') { out += '\f'; ++i; }
    else if (n == 'x' && i + 2 < crlf.size() && std::isxdigit(static_cast<unsigned char>(crlf[i + 2]))) {
      size_t j = i + 2;
      unsigned v = 0;
      while (j < crlf.size() && std::isxdigit(static_cast<unsigned char>(crlf[j])))
        v = v * 16 + static_cast<unsigned>(std::stoi(std::string(1, crlf[j++]), nullptr, 16));
      out += static_cast<char>(v & 0xff);
      i = j - 1;
    } else if (n >= '0' && n <= '7') {
      size_t j = i + 1;
      unsigned v = 0;
      while (j < crlf.size() && j < i + 4 && crlf[j] >= '0' && crlf[j] <= '7') v = v * 8 + static_cast<unsigned>(crlf[j++] - '0');
      out += static_cast<char>(v & 0xff);
      i = j - 1;
    } else {
      out += crlf[i];
    }
  }
  return out;
}

// Spans are printed raw; md-test.ts expands only \t and \f in the log.
std::string unescape_span(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == 't' || s[i + 1] == 'f')) {
      out += s[++i] == 't' ? '\t' : '\f';
    } else {
      out += s[i];
    }
  }
  return out;
}

// The log shows bytes decoded as latin1 in some cases; map U+0080..U+00FF back.
std::string utf8_to_latin1(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if ((c == 0xc2 || c == 0xc3) && i + 1 < s.size()) {
      out += static_cast<char>(((c & 0x03) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3f));
      ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool same_bytes(const std::string& expected, const std::string& actual) {
  return expected == actual || utf8_to_latin1(expected) == actual;
}

std::vector<Case> load_cases(const std::string& dir) {
  std::vector<Case> cases;
  for (const char* sub : {"request", "response"}) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(fs::path(dir) / sub))
      if (e.path().extension() == ".md") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& path : files) {
      std::ifstream in(path, std::ios::binary);
      std::string line, heading, meta, block, block_kind, input;
      int n = 0, heading_line = 0;
      bool in_block = false, have_input = false;
      while (std::getline(in, line)) {
        ++n;
        if (in_block) {
          if (line == "```") {
            in_block = false;
            if (block_kind == "http") {
              input = block;
              have_input = true;
            } else if (block_kind == "log" && have_input) {
              Case c;
              c.file = std::string(sub) + "/" + path.stem().string();
              c.name = heading;
              c.line = heading_line;
              c.meta = meta;
              c.input = decode_input(input);
              std::istringstream ls(block);
              for (std::string l; std::getline(ls, l);) c.log.push_back(l);
              cases.push_back(std::move(c));
              have_input = false;
            }
          } else {
            block += line + "\n";
          }
          continue;
        }
        if (line.rfind("```", 0) == 0) {
          in_block = true;
          block.clear();
          block_kind = line.substr(3);
        } else if (line.rfind("#", 0) == 0) {
          heading = line.substr(line.find_first_not_of("# "));
          heading_line = n;
        } else if (line.rfind("<!-- meta=", 0) == 0) {
          meta = line;
        }
      }
    }
  }
  return cases;
}

// The meta line is a flat JSON object: find "key" then its value.
std::string meta_value(const std::string& meta, const std::string& key) {
  size_t at = meta.find("\"" + key + "\"");
  if (at == std::string::npos) return "";
  at = meta.find(':', at);
  if (at == std::string::npos) return "";
  at = meta.find_first_not_of(" ", at + 1);
  const size_t end = meta[at] == '"' ? meta.find('"', at + 1) + 1 : meta.find_first_of(",} ", at);
  return meta.substr(at, end - at);
}
std::string meta_string(const std::string& meta, const std::string& key) {
  const std::string v = meta_value(meta, key);
  return v.size() >= 2 && v.front() == '"' ? v.substr(1, v.size() - 2) : "";
}
bool meta_flag(const std::string& meta, const std::string& key) { return meta_value(meta, key) == "true"; }

struct Expected {
  std::vector<Message> messages;
  bool error = false;        // a real error (not llhttp pausing for an upgrade)
  bool finish_unsafe = false;
};

Expected read_log(const std::vector<std::string>& log) {
  Expected e;
  std::string last_span;
  for (const auto& l : log) {
    if (!l.empty() && l[0] == '/') continue;  // a regex line
    const size_t sp = l.find(" span[");
    if (l.find("message begin") != std::string::npos) {
      e.messages.emplace_back();
      last_span.clear();
    } else if (l.find("message complete") != std::string::npos) {
      if (!e.messages.empty()) e.messages.back().complete = true;
    } else if (l.find(" error code=") != std::string::npos) {
      if (l.find("code=22 ") == std::string::npos) e.error = true;
    } else if (l.find("finish=") != std::string::npos) {
      // The fixture prints parser->finish: 0 safe, 1 safe (completes the
      // message), 2 unsafe (llhttp_finish() fails).
      e.finish_unsafe = l.find("finish=2") != std::string::npos;
    } else if (sp != std::string::npos && !e.messages.empty()) {
      // span[kind]="bytes", or span[kind]=cr / =lf for a lone CR or LF.
      Message& msg = e.messages.back();
      const size_t close = l.find("]=", sp);
      const std::string kind = l.substr(sp + 6, close - sp - 6);
      const std::string raw = l.substr(close + 2);
      const std::string value = raw == "cr" ? "\r" : raw == "lf" ? "\n" : unescape_span(raw.substr(1, raw.size() - 2));
      if (kind == "method") msg.method += value;
      else if (kind == "url") msg.url += value;
      else if (kind == "status") msg.reason += value;
      else if (kind == "body") msg.body += value;
      else if (kind == "header_field") {
        if (last_span == kind) msg.headers.back().first += value;
        else msg.headers.emplace_back(value, "");
      } else if (kind == "header_value") {
        if (msg.headers.empty()) msg.headers.emplace_back("", "");
        msg.headers.back().second += value;
      }
      last_span = kind;
    } else if (l.find("headers complete") != std::string::npos && !e.messages.empty()) {
      const size_t st = l.find(" status=");
      if (st != std::string::npos) e.messages.back().status = std::atoi(l.c_str() + st + 8);
    }
  }
  return e;
}


// The gateway's view of a byte stream: heads, bodies by their framing,
// stopping at an upgrade or CONNECT (the rest is a tunnel) and refusing
// bytes after a message that closes the connection.
Observed drive(std::string in, bool request, bool skip_body) {
  Observed r;
  static MessageHead h;
  size_t pos = 0;
  bool closing = false;
  std::string added_host;
  while (pos < in.size()) {
    if (closing) { r.outcome = Outcome::rejected; r.why = "data after Connection: close"; return r; }
    ParseError err;
    const ParseStatus st = request ? parse_request(in.data() + pos, in.size() - pos, &h, &err)
                                   : parse_response(in.data() + pos, in.size() - pos,
                                                    skip_body ? Method::head : Method::get, &h, &err);
    if (st == ParseStatus::need_more) {
      r.outcome = Outcome::incomplete;
      r.why = "head incomplete";
      if (in.find_first_not_of("\r\n", pos) == std::string::npos && in.size() - pos <= 2) {
        r.outcome = Outcome::accepted;  // one CRLF after a message, ignored like llhttp
        return r;
      }
      r.messages.emplace_back();
      r.messages.back().partial_head = true;
      return r;
    }
    if (st == ParseStatus::error && std::string_view(err.detail) == "http1.missing_host") {
      // RFC 9112 §3.2 requires Host in HTTP/1.1 and llhttp does not check
      // it: add one after the request line and check everything else.
      // An absolute-form target gets its own authority.
      const size_t eol = in.find("\r\n", in.find_first_not_of("\r\n", pos));
      added_host = h.authority.empty() ? "added.for.lg" : std::string(h.authority);
      in.insert(eol + 2, "Host: " + added_host + "\r\n");
      r.host_added = true;
      continue;
    }
    if (st == ParseStatus::error) {
      r.outcome = Outcome::rejected;
      r.why = std::to_string(err.status) + " " + err.detail;
      return r;
    }
    // llhttp also runs each case split at every point ("scan"); our
    // equivalent: every shorter prefix of an accepted head needs more.
    for (size_t k = 0; k < h.head_bytes; ++k) {
      static MessageHead p;
      ParseError e2;
      const ParseStatus ps = request ? parse_request(in.data() + pos, k, &p, &e2)
                                     : parse_response(in.data() + pos, k, Method::get, &p, &e2);
      if (ps != ParseStatus::need_more) {
        r.outcome = Outcome::rejected;
        r.why = "prefix of " + std::to_string(k) + " bytes did not need more";
        return r;
      }
    }
    Message m;
    m.method = std::string(h.method_text);
    m.url = std::string(h.target);
    m.status = h.status;
    m.reason = std::string(h.reason);
    for (unsigned i = 0; i < h.header_count; ++i)
      if (!(r.host_added && h.headers[i].name == "Host" && h.headers[i].value == added_host))
        m.headers.emplace_back(std::string(h.headers[i].name), std::string(h.headers[i].value));
    pos += h.head_bytes;
    const bool tunnel = (request && (h.upgrade || h.method == Method::connect)) || (!request && h.status == 101);
    r.messages.push_back(m);
    Message& cur = r.messages.back();
    switch (h.body) {
      case BodyKind::none:
        break;
      case BodyKind::length:
        if (in.size() - pos < h.content_length) {
          cur.body = in.substr(pos);
          r.outcome = Outcome::incomplete;
          r.why = "body incomplete";
          return r;
        }
        cur.body = in.substr(pos, h.content_length);
        pos += h.content_length;
        break;
      case BodyKind::until_close:
        cur.until_close = true;
        cur.body = in.substr(pos);
        pos = in.size();
        break;
      case BodyKind::chunked: {
        ChunkedDecoder d;
        for (;;) {
          size_t used = 0;
          const auto cs = d.feed(in.data() + pos, in.size() - pos, &used);
          const std::string framing = in.substr(pos, used);
          pos += used;
          if (cs == ChunkedDecoder::Status::error) { r.outcome = Outcome::rejected; r.why = d.error(); return r; }
          if (cs == ChunkedDecoder::Status::done) {
            // llhttp reports trailer fields as headers: take them from the
            // last framing (["\r\n"] "0" [ext] CRLF *(field CRLF) CRLF).
            size_t at = framing.rfind("\r\n0", 0) == 0 ? 2 : 0;
            at = framing.find("\r\n", at) + 2;
            for (size_t e; (e = framing.find("\r\n", at)) != std::string::npos && e > at; at = e + 2) {
              const std::string line = framing.substr(at, e - at);
              const size_t colon = line.find(':');
              std::string v = line.substr(colon + 1);
              v.erase(0, v.find_first_not_of(" \t"));
              v.erase(v.find_last_not_of(" \t") + 1);
              cur.headers.emplace_back(line.substr(0, colon), v);
            }
            break;
          }
          if (cs == ChunkedDecoder::Status::need_more) { r.outcome = Outcome::incomplete; r.why = "chunked incomplete"; return r; }
          const size_t take = static_cast<size_t>(std::min<uint64_t>(d.data_remaining(), in.size() - pos));
          cur.body += in.substr(pos, take);
          pos += take;
          d.skip_data(take);
          if (d.data_remaining()) { r.outcome = Outcome::incomplete; r.why = "chunk data incomplete"; return r; }
        }
        break;
      }
    }
    cur.complete = true;
    if (tunnel) return r;
    closing = !h.keep_alive;
  }
  return r;
}

std::string compare(const Expected& e, const Observed& r) {
  const size_t n = std::min(e.messages.size(), r.messages.size());
  for (size_t i = 0; i < n; ++i) {
    const Message& a = e.messages[i];
    const Message& b = r.messages[i];
    if (b.partial_head) continue;
    const std::string at = "message " + std::to_string(i) + ": ";
    if (a.method != b.method) return at + "method " + a.method + " vs " + b.method;
    if (a.url != b.url) return at + "url " + a.url + " vs " + b.url;
    if (a.status && a.status != b.status) return at + "status";
    if (!same_bytes(a.reason, b.reason)) return at + "reason '" + a.reason + "' vs '" + b.reason + "'";
    if (a.headers.size() != b.headers.size()) {
      // llhttp reports headers up to the bad byte; on rejection only the verdict counts.
      if (!e.error && r.outcome != Outcome::rejected) return at + "header count";
      continue;
    }
    for (size_t k = 0; k < a.headers.size(); ++k) {
      if (a.headers[k].first != b.headers[k].first) return at + "header name " + a.headers[k].first;
      // llhttp's value span keeps trailing OWS; ours drops it (RFC 9112 §5.1).
      std::string av = a.headers[k].second;
      while (!av.empty() && (av.back() == ' ' || av.back() == '\t')) av.pop_back();
      if (!same_bytes(av, b.headers[k].second))
        return at + "header value '" + a.headers[k].second + "' vs '" + b.headers[k].second + "'";
    }
    if (a.complete && b.complete && !same_bytes(a.body, b.body)) return at + "body";
  }
  return "";
}

struct Exception {
  const char* key;  // "file#heading"
  const char* reason;
};

// Where this gateway deliberately differs from llhttp's strict mode.
const Exception kExceptions[] = {
    // RFC 9110 §9.1: a gateway forwards any token method; llhttp knows a list.
    {"request/invalid#HTTP protocol and ANNOUNCE method", "extension methods are forwarded (RFC 9110 §9.1)"},
    {"request/invalid#Invalid method", "MKCOLA is a valid token method (RFC 9110 §9.1)"},
    // RFC 9112 §3.2.4: asterisk-form is for OPTIONS only (SSDP's M-SEARCH * is not HTTP).
    {"request/method#M-SEARCH request", "asterisk-form only with OPTIONS (RFC 9112 §3.2.4)"},
    // Only HTTP/1.0 and HTTP/1.1 are spoken: no RTSP, ICE or HTTP/0.9.
    {"request/method#SOURCE request with ICE", "ICE/1.0 is not HTTP"},
    {"request/method#OPTIONS request with RTSP", "RTSP/1.0 is not HTTP"},
    {"request/method#ANNOUNCE request with RTSP", "RTSP/1.0 is not HTTP"},
    {"request/sample#No HTTP version", "HTTP/0.9 simple requests are refused"},
    {"response/sample#RTSP response", "RTSP/1.0 is not HTTP"},
    {"response/sample#ICE response", "ICE/1.0 is not HTTP"},
    {"response/sample#HTTP version 0.9", "HTTP/0.9 is answered with 505"},
    // Like Envoy, requests may only say "Transfer-Encoding: chunked" (501 otherwise).
    {"request/transfer-encoding#POST with `chunked` as last transfer-encoding", "only exactly \"chunked\" (Envoy, 501)"},
    {"request/transfer-encoding#POST with `chunked` as last transfer-encoding (multiple headers)",
     "only one Transfer-Encoding: chunked (Envoy, 501)"},
};

// Cases whose expectations are about llhttp's callback API, not the bytes.
const char* skip_reason(const Case& c) {
  if (c.file.find("pausing") != std::string::npos) return "llhttp_pause() API";
  if (!meta_string(c.meta, "pause").empty()) return "llhttp_pause() API";
  if (c.file.rfind("request/", 0) == 0 && meta_flag(c.meta, "skipBody"))
    return "on_headers_complete returning 1 (skip body) is a parser-API feature";
  return nullptr;
}

TEST(LlhttpCorpus, AgreesWithStrictMode) {
  const auto cases = load_cases(corpus_dir());
  ASSERT_GT(cases.size(), 100u) << "corpus not found at " << corpus_dir();
  std::map<std::string, int> skipped;
  int agreed = 0, excepted = 0, failed = 0, added_host = 0, added_crlf = 0;
  std::vector<std::string> unused;
  for (const auto& x : kExceptions)
    if (*x.key) unused.push_back(x.key);
  for (const Case& c : cases) {
    const std::string key = c.file + "#" + c.name;
    if (const char* why = skip_reason(c)) {
      ++skipped[why];
      continue;
    }
    const std::string type = meta_string(c.meta, "type");
    const bool lenient = type.find("lenient") != std::string::npos || c.file.find("lenient-") != std::string::npos ||
                         meta_string(c.meta, "mode") == "loose";
    const bool request = type.rfind("request", 0) == 0;
    const Expected e = read_log(c.log);
    Observed r = drive(c.input, request, meta_flag(c.meta, "skipBody"));
    if ((e.error || lenient) && r.outcome == Outcome::incomplete && r.why == "head incomplete") {
      // llhttp fails at the bad byte; we look at a head once it has ended.
      // Ending it shows whether we would refuse it.
      r = drive(c.input + "\r\n\r\n", request, meta_flag(c.meta, "skipBody"));
      r.crlf_added = true;
    }

    std::string verdict;
    const bool llhttp_rejects = e.error || e.finish_unsafe;
    if (lenient) {
      // Accepted only with a lenient flag: we must refuse it.
      if (r.outcome != Outcome::rejected && !(llhttp_rejects && r.outcome == Outcome::incomplete))
        verdict = "lenient case accepted";
    } else if (llhttp_rejects) {
      if (r.outcome != Outcome::rejected && !(e.finish_unsafe && r.outcome == Outcome::incomplete))
        verdict = "llhttp rejects, we " + std::string(r.outcome == Outcome::accepted ? "accept" : "wait for more");
    } else {
      const bool finished = c.log.back().find("finish=") != std::string::npos;  // llhttp_finish() completes it
      const bool e_incomplete = !e.messages.empty() && !e.messages.back().complete && !finished;
      if (r.outcome == Outcome::rejected) verdict = "llhttp accepts, we reject (" + r.why + ")";
      const bool r_incomplete = r.outcome == Outcome::incomplete ||
                                (!r.messages.empty() && r.messages.back().until_close && !finished);
      if (r.outcome == Outcome::rejected) {
      } else if (e_incomplete != r_incomplete) verdict = "completeness differs (" + r.why + ")";
      else if (e.messages.size() != r.messages.size()) verdict = "message count " + std::to_string(e.messages.size()) + " vs " + std::to_string(r.messages.size());
    }
    if (verdict.empty()) verdict = compare(e, r);

    const Exception* ex = nullptr;
    for (const auto& x : kExceptions)
      if (key == x.key) ex = &x;
    if (ex) {
      unused.erase(std::remove(unused.begin(), unused.end(), key), unused.end());
      if (verdict.empty()) {
        ADD_FAILURE() << "exception no longer needed: " << key;
      } else {
        ++excepted;
        std::printf("  exception %s:%d %s: %s [%s]\n", c.file.c_str(), c.line, c.name.c_str(), verdict.c_str(), ex->reason);
      }
      continue;
    }
    if (verdict.empty()) {
      ++agreed;
      added_host += r.host_added;
      added_crlf += r.crlf_added;
    } else {
      ++failed;
      ADD_FAILURE() << c.file << ".md:" << c.line << " \"" << c.name << "\": " << verdict
                    << (r.why.empty() ? "" : " [ours: " + r.why + "]");
    }
  }
  for (const auto& k : unused) ADD_FAILURE() << "exception matches no case: " << k;
  int nskipped = 0;
  for (const auto& [why, n] : skipped) nskipped += n;
  std::printf("llhttp corpus: %zu cases, %d agreed, %d exceptions, %d skipped, %d disagree\n", cases.size(), agreed,
              excepted, nskipped, failed);
  std::printf("  agreed after adding the Host that HTTP/1.1 requires: %d\n", added_host);
  std::printf("  agreed (rejected) once a head llhttp fails early was ended by CRLF CRLF: %d\n", added_crlf);
  for (const auto& [why, n] : skipped) std::printf("  skipped %d: %s\n", n, why.c_str());
}

}  // namespace
}  // namespace lg::http1
