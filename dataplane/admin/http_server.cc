#include "dataplane/admin/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <climits>
#include <exception>
#include <system_error>

#include "l7/http1/http1.h"

namespace lg::admin {
namespace {

using Clock = std::chrono::steady_clock;

// Pipelined requests are answered only while less than this much output is
// queued, so a client that sends but never reads cannot make us buffer
// without bound.
constexpr size_t kOutHighWater = 256 * 1024;
// One maximal request plus a read's worth of the next one.
constexpr size_t kInCap = HttpServer::kMaxHeadBytes + HttpServer::kMaxBodyBytes + 64 * 1024;
// Per readiness event, so one fast sender cannot starve the others.
constexpr size_t kReadBudget = 1024 * 1024;
// Closing a socket with unread input makes the kernel send RST, which can
// destroy an error response before the client reads it. So after such a
// response we shut down our side and drain input for at most this long.
constexpr auto kLinger = std::chrono::seconds(2);

constexpr std::string_view kTextPlain = "text/plain; charset=UTF-8";

std::string errno_text(int err) { return std::generic_category().message(err); }

char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

using http1::iequals;

// RFC 9110 token characters (method and header names).
bool is_tchar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar); }

bool is_ctl(char c) { return (static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Malformed escapes are kept verbatim: a filter value is more useful than an error.
std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls f on each trimmed element of a comma-separated header value.
template <typename F>
void for_each_element(std::string_view v, F f) {
  while (true) {
    const size_t comma = v.find(',');
    f(trim_ows(v.substr(0, comma)));
    if (comma == std::string_view::npos) return;
    v.remove_prefix(comma + 1);
  }
}

std::string_view reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "";
  }
}

HttpResponse text(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

// Outcome of parsing one request from the front of a connection's input.
struct Parse {
  enum Kind { kNeedMore, kRequest, kError } kind = kNeedMore;
  HttpRequest req;
  size_t consumed = 0;  // bytes of input the request occupied
  bool keep_alive = true;
  bool expect_continue = false;  // kNeedMore: head complete, client waits for "100 Continue"
  int status = 0;                // kError
  std::string message;           // kError
};

Parse parse_error(int status, std::string message) {
  Parse p;
  p.kind = Parse::kError;
  p.status = status;
  p.message = std::move(message);
  return p;
}

Parse parse_request(std::string_view in) {
  constexpr auto npos = std::string_view::npos;
  // The head ends at the first empty line; bare LF line ends are tolerated.
  size_t head_len = 0;
  for (size_t i = in.find('\n'); i != npos && i <= HttpServer::kMaxHeadBytes; i = in.find('\n', i + 1)) {
    if (i + 1 < in.size() && in[i + 1] == '\n') {
      head_len = i + 2;
      break;
    }
    if (i + 2 < in.size() && in[i + 1] == '\r' && in[i + 2] == '\n') {
      head_len = i + 3;
      break;
    }
  }
  if (head_len == 0 ? in.size() > HttpServer::kMaxHeadBytes : head_len > HttpServer::kMaxHeadBytes) {
    return parse_error(431, "request head exceeds " + std::to_string(HttpServer::kMaxHeadBytes) + " bytes");
  }
  if (head_len == 0) return {};

  std::vector<std::string_view> lines;
  for (size_t pos = 0; pos < head_len;) {
    const size_t nl = in.find('\n', pos);
    std::string_view line = in.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (std::any_of(line.begin(), line.end(), is_ctl)) return parse_error(400, "control character in request head");
    lines.push_back(line);
    pos = nl + 1;
  }
  lines.pop_back();  // the empty line ending the head

  Parse p;
  HttpRequest& req = p.req;
  const std::string_view rl = lines[0];
  const size_t sp1 = rl.find(' ');
  const size_t sp2 = sp1 == npos ? npos : rl.find(' ', sp1 + 1);
  if (sp2 == npos || rl.find(' ', sp2 + 1) != npos) return parse_error(400, "malformed request line");
  const std::string_view method = rl.substr(0, sp1);
  const std::string_view target = rl.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = rl.substr(sp2 + 1);
  if (!is_token(method)) return parse_error(400, "malformed request method");
  if (target.empty() || target[0] != '/' || target.find('\t') != npos) {
    return parse_error(400, "request target must be an absolute path");
  }
  bool http11;
  if (version == "HTTP/1.1") {
    http11 = true;
  } else if (version == "HTTP/1.0") {
    http11 = false;
  } else if (version.size() == 8 && version.starts_with("HTTP/") && std::isdigit(static_cast<unsigned char>(version[5])) &&
             version[6] == '.' && std::isdigit(static_cast<unsigned char>(version[7]))) {
    return parse_error(505, "only HTTP/1.0 and HTTP/1.1 are supported");
  } else {
    return parse_error(400, "malformed HTTP version");
  }
  req.method = method;
  const size_t qmark = target.find('?');
  req.path = target.substr(0, qmark);
  if (qmark != npos) req.query = target.substr(qmark + 1);

  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    if (line[0] == ' ' || line[0] == '\t') return parse_error(400, "obsolete header line folding is not supported");
    const size_t colon = line.find(':');
    const std::string_view name = line.substr(0, colon);
    if (colon == npos || !is_token(name)) return parse_error(400, "malformed header line");
    std::string lower(name);
    std::transform(lower.begin(), lower.end(), lower.begin(), to_lower);
    req.headers.emplace_back(std::move(lower), trim_ows(line.substr(colon + 1)));
  }

  // Without chunked decoding we cannot find where such a body ends, so the
  // connection cannot continue either.
  if (req.header("transfer-encoding")) {
    return parse_error(411, "Transfer-Encoding request bodies are not supported; send Content-Length");
  }
  bool have_length = false;
  bool too_large = false;
  uint64_t length = 0;
  bool bad_length = false;
  for (const auto& [name, value] : req.headers) {
    if (name != "content-length") continue;
    // Repeated values are allowed only if they agree (RFC 9110 section 8.6).
    for_each_element(value, [&](std::string_view v) {
      uint64_t n = 0;
      const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (v.empty() || end != v.data() + v.size() || v[0] == '+' || v[0] == '-') {
        bad_length = true;
      } else if (ec == std::errc::result_out_of_range) {
        too_large = true;
      } else if (ec != std::errc() || (have_length && n != length)) {
        bad_length = true;
      } else {
        have_length = true;
        length = n;
      }
    });
  }
  if (bad_length) return parse_error(400, "malformed Content-Length");
  if (too_large || length > HttpServer::kMaxBodyBytes) {
    return parse_error(413, "request body exceeds " + std::to_string(HttpServer::kMaxBodyBytes) + " bytes");
  }
  if (in.size() - head_len < length) {
    const std::string* expect = req.header("expect");
    p.expect_continue = http11 && expect && iequals(*expect, "100-continue");
    return p;  // kNeedMore
  }
  req.body = in.substr(head_len, length);
  p.consumed = head_len + length;
  p.keep_alive = http11;
  for (const auto& [name, value] : req.headers) {
    if (name == "connection") {
      for_each_element(value, [&](std::string_view v) {
        if (iequals(v, "close")) p.keep_alive = false;
      });
    }
  }
  p.kind = Parse::kRequest;
  return p;
}

}  // namespace

std::string HttpRequest::query_param(std::string_view name) const {
  std::string_view q = query;
  while (!q.empty()) {
    const size_t amp = q.find('&');
    const std::string_view pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    const size_t eq = pair.find('=');
    if (percent_decode(pair.substr(0, eq)) == name) {
      return eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1));
    }
  }
  return {};
}

const std::string* HttpRequest::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return &value;
  }
  return nullptr;
}

HttpServer::Fd& HttpServer::Fd::operator=(Fd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(o.fd_, -1);
  }
  return *this;
}

HttpServer::Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

struct HttpServer::Conn {
  explicit Conn(Fd f) : fd(std::move(f)), last_active(Clock::now()) {}
  size_t pending() const { return out.size() - out_sent; }

  Fd fd;
  std::string in;
  std::string out;
  size_t out_sent = 0;
  Clock::time_point last_active;   // last byte moved either way
  bool close_after_flush = false;  // the last queued response ends the connection
  bool peer_eof = false;           // the client shut down its sending side
  bool continue_sent = false;      // "100 Continue" sent for the request being read
  bool lingering = false;          // our side shut down, draining input before close
  Clock::time_point linger_until;
  bool dead = false;
};

HttpServer::HttpServer(Fd listener, uint16_t port) : listener_(std::move(listener)), port_(port) {}

HttpServer::~HttpServer() = default;

std::unique_ptr<HttpServer> HttpServer::listen(const std::string& host, uint16_t port, std::string* error) {
  std::string literal = host;
  if (literal.size() >= 2 && literal.front() == '[' && literal.back() == ']') {
    literal = literal.substr(1, literal.size() - 2);
  }
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  std::string shown;
  if (auto* v4 = reinterpret_cast<sockaddr_in*>(&addr); inet_pton(AF_INET, literal.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    addr_len = sizeof(*v4);
    shown = literal + ":" + std::to_string(port);
  } else if (auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
             inet_pton(AF_INET6, literal.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    addr_len = sizeof(*v6);
    shown = "[" + literal + "]:" + std::to_string(port);
  } else {
    if (error) *error = "admin address '" + host + "' is not an IPv4 or IPv6 literal";
    return nullptr;
  }

  auto fail = [&](const char* what) -> std::unique_ptr<HttpServer> {
    const int err = errno;
    if (error) *error = "admin server: cannot " + std::string(what) + " " + shown + ": " + errno_text(err);
    return nullptr;
  };
  Fd fd(::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return fail("create socket for");
  const int one = 1;
  // Lets a restarted node rebind while old connections sit in TIME_WAIT.
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) return fail("set SO_REUSEADDR on");
  // "::" must mean IPv6 only, whatever the sysctl says; IPv4 gets its own listener.
  if (addr.ss_family == AF_INET6 && ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) {
    return fail("set IPV6_V6ONLY on");
  }
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), addr_len) != 0) return fail("bind");
  if (::listen(fd.get(), 128) != 0) return fail("listen on");
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof(bound);
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &bound_len) != 0) return fail("query");
  const uint16_t bound_port = ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                                               : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(fd), bound_port));
}

void HttpServer::route(const std::string& path, Handler handler, const std::string& help, bool mutating) {
  routes_[path] = Route{std::move(handler), help, mutating};
}

void HttpServer::poll(int timeout_ms, std::span<const int> wake_fds) {
  const auto deadline =
      timeout_ms < 0 ? Clock::time_point::max() : Clock::now() + std::chrono::milliseconds(timeout_ms);
  std::vector<pollfd> fds;
  for (;;) {
    fds.clear();
    fds.push_back({listener_.get(), POLLIN, 0});
    for (const int fd : wake_fds) fds.push_back({fd, POLLIN, 0});
    const size_t first_conn = fds.size();
    auto wake_at = deadline;
    for (const auto& c : conns_) {
      short events = 0;
      if (c->lingering) {
        events = POLLIN;
        wake_at = std::min(wake_at, c->linger_until);
      } else {
        // No POLLIN after EOF (it would stay readable forever) or while
        // backpressured; input resumes once the output drains.
        if (!c->peer_eof && !c->close_after_flush && c->pending() < kOutHighWater && c->in.size() < kInCap) {
          events |= POLLIN;
        }
        if (c->pending() > 0) events |= POLLOUT;
        wake_at = std::min(wake_at, c->last_active + kIdleTimeout);
      }
      fds.push_back({c->fd.get(), events, 0});
    }

    int wait_ms = -1;
    if (wake_at != Clock::time_point::max()) {
      const auto now = Clock::now();
      const auto left = wake_at <= now ? 0 : std::chrono::ceil<std::chrono::milliseconds>(wake_at - now).count();
      wait_ms = static_cast<int>(std::min<int64_t>(left, INT_MAX));
    }
    const int n = ::poll(fds.data(), fds.size(), wait_ms);
    if (n < 0 && errno != EINTR) return;  // EINVAL/ENOMEM: retrying would not help

    bool woke = false;
    if (n > 0) {
      for (size_t i = 1; i < first_conn; ++i) woke |= fds[i].revents != 0;
      // conns_ has not changed since fds was built: accepting comes last.
      for (size_t i = 0; i < conns_.size(); ++i) {
        Conn& c = *conns_[i];
        const short revents = fds[first_conn + i].revents;
        if (revents & (POLLERR | POLLNVAL)) {
          c.dead = true;
        } else {
          if (revents & (POLLIN | POLLHUP)) on_readable(c);
          if (!c.dead && (revents & POLLOUT)) pump(c);
        }
      }
      // Reap before accepting, so closed connections free their slots.
      reap();
      // On EMFILE the listener stays readable and we retry next round.
      if (fds[0].revents & POLLIN) accept_all();
    }
    reap();
    if (woke || Clock::now() >= deadline) return;
  }
}

void HttpServer::accept_all() {
  for (;;) {
    Fd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (fd.get() < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;
    }
    if (conns_.size() >= kMaxConnections) {
      ++stats_.rejected_over_limit;
      continue;  // fd closes here
    }
    ++stats_.accepted;
    conns_.push_back(std::make_unique<Conn>(std::move(fd)));
  }
}

void HttpServer::on_readable(Conn& c) {
  char buf[16384];
  for (size_t budget = kReadBudget; budget > 0;) {
    if (!c.lingering && c.in.size() >= kInCap) break;
    const ssize_t n = ::recv(c.fd.get(), buf, sizeof(buf), 0);
    if (n > 0) {
      budget -= std::min(budget, static_cast<size_t>(n));
      c.last_active = Clock::now();
      if (!c.lingering) c.in.append(buf, static_cast<size_t>(n));
    } else if (n == 0) {
      c.peer_eof = true;
      break;
    } else if (errno != EINTR) {
      if (errno != EAGAIN && errno != EWOULDBLOCK) c.dead = true;
      break;
    }
  }
  if (c.lingering) {
    if (c.peer_eof) c.dead = true;
  } else if (!c.dead) {
    pump(c);
  }
}

// Answers what can be answered and writes what the socket takes.
void HttpServer::pump(Conn& c) {
  bool held_back;
  do {
    held_back = process_input(c);
    if (!flush(c)) return;
  } while (held_back && c.pending() == 0);
  if (c.pending() > 0) return;  // resumes on POLLOUT
  if (c.close_after_flush) {
    start_linger(c);
  } else if (c.peer_eof) {
    c.dead = true;  // everything complete was answered and nothing more can come
  }
}

void HttpServer::start_linger(Conn& c) {
  if (c.peer_eof) {
    c.dead = true;
    return;
  }
  ::shutdown(c.fd.get(), SHUT_WR);
  c.lingering = true;
  c.linger_until = Clock::now() + kLinger;
  c.in = std::string();
  c.out = std::string();
  c.out_sent = 0;
}

// Returns true if queued output held back input that is still unanswered.
bool HttpServer::process_input(Conn& c) {
  bool held_back = false;
  size_t off = 0;  // erase consumed input once, not per pipelined request
  while (!c.close_after_flush) {
    // Blank lines between requests are allowed (RFC 9112 section 2.2).
    while (off < c.in.size() && (c.in[off] == '\r' || c.in[off] == '\n')) ++off;
    if (off == c.in.size()) break;
    if (c.pending() >= kOutHighWater) {
      held_back = true;
      break;
    }
    Parse p = parse_request(std::string_view(c.in).substr(off));
    if (p.kind == Parse::kNeedMore) {
      if (p.expect_continue && !c.continue_sent) {
        c.out += "HTTP/1.1 100 Continue\r\n\r\n";
        c.continue_sent = true;
      }
      break;
    }
    c.continue_sent = false;
    if (p.kind == Parse::kError) {
      ++stats_.bad_requests;
      respond(c, text(p.status, p.message + "\n"), false, true);
      off = c.in.size();
      break;
    }
    off += p.consumed;
    ++stats_.requests;
    respond(c, dispatch(p.req), p.req.method == "HEAD", !p.keep_alive);
  }
  c.in.erase(0, off);
  if (c.in.empty() && c.in.capacity() > kMaxHeadBytes) c.in = std::string();  // after a large body
  return held_back;
}

// Returns false if the connection died.
bool HttpServer::flush(Conn& c) {
  while (c.pending() > 0) {
    const ssize_t n = ::send(c.fd.get(), c.out.data() + c.out_sent, c.pending(), MSG_NOSIGNAL);
    if (n > 0) {
      c.out_sent += static_cast<size_t>(n);
      c.last_active = Clock::now();
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      break;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      c.dead = true;
      return false;
    }
  }
  if (c.pending() == 0) {
    if (c.out.capacity() > kOutHighWater) {
      c.out = std::string();  // do not keep a 5 MB /stats buffer per idle connection
    } else {
      c.out.clear();
    }
    c.out_sent = 0;
  } else if (c.out_sent > kOutHighWater && c.out_sent > c.out.size() / 2) {
    c.out.erase(0, c.out_sent);
    c.out_sent = 0;
  }
  return true;
}

void HttpServer::reap() {
  const auto now = Clock::now();
  for (auto& c : conns_) {
    if (c->dead) continue;
    if (c->lingering) {
      c->dead = now >= c->linger_until;
    } else if (now - c->last_active >= kIdleTimeout) {
      c->dead = true;
      ++stats_.timeouts;
    }
  }
  std::erase_if(conns_, [](const auto& c) { return c->dead; });
}

void HttpServer::respond(Conn& c, HttpResponse resp, bool head_only, bool close) {
  if (resp.status < 200 || resp.status > 599) {
    resp = text(500, "handler returned invalid status " + std::to_string(resp.status) + "\n");
  }
  if (resp.content_type.find_first_of("\r\n") != std::string::npos) resp.content_type = kTextPlain;
  // These two must not carry a body (RFC 9110 sections 15.3.5, 15.4.5).
  const bool no_body = resp.status == 204 || resp.status == 304;
  std::string& out = c.out;
  out += "HTTP/1.1 ";
  out += std::to_string(resp.status);
  out += ' ';
  out += reason(resp.status);
  out += "\r\nContent-Type: ";
  out += resp.content_type;
  out += "\r\n";
  if (!no_body) {
    out += "Content-Length: ";
    out += std::to_string(resp.body.size());
    out += "\r\n";
  }
  // The admin page is opened in browsers; do not let them guess HTML.
  out += "X-Content-Type-Options: nosniff\r\n";
  for (const auto& [name, value] : resp.headers) {
    if (!is_token(name) || value.find_first_of("\r\n") != std::string::npos || iequals(name, "content-length") ||
        iequals(name, "connection") || iequals(name, "transfer-encoding")) {
      continue;
    }
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  if (close) out += "Connection: close\r\n";
  out += "\r\n";
  if (!head_only && !no_body) out += resp.body;
  if (close) c.close_after_flush = true;
}

HttpResponse HttpServer::dispatch(const HttpRequest& req) {
  const bool is_get = req.method == "GET" || req.method == "HEAD";
  const auto it = routes_.find(req.path);
  const bool builtin = it == routes_.end() && (req.path == "/" || req.path == "/help");
  if (it == routes_.end() && !builtin) {
    return text(404, "no admin endpoint at " + req.path + "; GET /help lists the available ones\n");
  }
  const bool mutating = !builtin && it->second.mutating;
  if (mutating ? req.method != "POST" : !is_get) {
    // Mutating endpoints refuse GET so that a browser prefetch or a stray
    // link cannot, say, shut the node down.
    HttpResponse r =
        text(405, mutating ? req.path + " changes server state, so it only accepts POST (got " + req.method + ")\n"
                           : req.path + " only accepts GET and HEAD (got " + req.method + ")\n");
    r.headers.emplace_back("Allow", mutating ? "POST" : "GET, HEAD");
    return r;
  }
  if (builtin) return help_page();
  try {
    return it->second.handler(req);
  } catch (const std::exception& e) {
    return text(500, "handler for " + req.path + " failed: " + e.what() + "\n");
  } catch (...) {
    return text(500, "handler for " + req.path + " failed with a non-standard exception\n");
  }
}

HttpResponse HttpServer::help_page() const {
  std::map<std::string, std::pair<std::string, bool>> entries{{"/", {"print this list", false}},
                                                              {"/help", {"print this list", false}}};
  for (const auto& [path, r] : routes_) entries[path] = {r.help, r.mutating};
  std::string body = "admin commands are:\n";
  for (const auto& [path, e] : entries) {
    body += "  " + path + (e.second ? " (POST)" : "") + ": " + e.first + "\n";
  }
  return text(200, std::move(body));
}

}  // namespace lg::admin
