#include "ctrl/cli/http_get.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <strings.h>

namespace lg::ctrl::cli {

namespace {

constexpr size_t kMaxResponse = 512u << 20;  // a config dump of a very large mesh still fits

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

bool iequals(const std::string& a, const char* b) { return strcasecmp(a.c_str(), b) == 0; }

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// RFC 9112 §7.1: chunk-size [ext] CRLF data CRLF ... 0 CRLF [trailers] CRLF
bool dechunk(const std::string& in, std::string& out, std::string& error) {
  size_t pos = 0;
  while (true) {
    size_t eol = in.find("\r\n", pos);
    if (eol == std::string::npos) {
      error = "truncated chunked body";
      return false;
    }
    std::string size_line = in.substr(pos, eol - pos);
    size_line = size_line.substr(0, size_line.find(';'));
    char* end = nullptr;
    errno = 0;
    unsigned long long n = std::strtoull(size_line.c_str(), &end, 16);
    if (size_line.empty() || errno || (end && *end != '\0' && trim(end) != "")) {
      error = "bad chunk size '" + size_line + "'";
      return false;
    }
    pos = eol + 2;
    if (n == 0) return true;  // trailers ignored
    if (n > in.size() - pos) {
      error = "truncated chunked body";
      return false;
    }
    out.append(in, pos, n);
    pos += n;
    if (in.compare(pos, 2, "\r\n") != 0) {
      error = "chunk not followed by CRLF";
      return false;
    }
    pos += 2;
  }
}

// True once `raw` holds a whole response, so a server that keeps the
// connection open despite `Connection: close` does not cost the timeout.
// Cheap: called after every read of a possibly large body.
bool response_complete(const std::string& raw) {
  size_t head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos) return false;
  std::string head = raw.substr(0, head_end + 2);
  for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (head.find("\r\ntransfer-encoding:") != std::string::npos) {
    return raw.size() >= head_end + 9 && raw.compare(raw.size() - 7, 7, "\r\n0\r\n\r\n") == 0;
  }
  size_t cl = head.find("\r\ncontent-length:");
  if (cl == std::string::npos) return false;  // delimited by the end of the connection
  unsigned long long length = std::strtoull(head.c_str() + cl + 17, nullptr, 10);
  return raw.size() - (head_end + 4) >= length;
}

}  // namespace

bool split_host_port(const std::string& address, int default_port, std::string& host, std::string& port) {
  if (address.empty()) return false;
  if (address.front() == '[') {
    auto close = address.find(']');
    if (close == std::string::npos || close == 1) return false;
    host = address.substr(1, close - 1);
    if (close + 1 == address.size()) {
      port = std::to_string(default_port);
      return true;
    }
    if (address[close + 1] != ':') return false;
    port = address.substr(close + 2);
  } else {
    auto colon = address.find(':');
    if (colon == std::string::npos) {
      host = address;
      port = std::to_string(default_port);
      return true;
    }
    if (address.find(':', colon + 1) != std::string::npos) return false;  // bare IPv6 needs brackets
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
  }
  if (host.empty() || port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
    return false;
  return std::stoi(port) <= 65535;
}

bool parse_http_response(const std::string& raw, HttpResponse& out, std::string& error) {
  size_t head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos) {
    error = raw.empty() ? "connection closed without a response" : "incomplete HTTP response header";
    return false;
  }
  size_t line_end = raw.find("\r\n");
  std::string status_line = raw.substr(0, line_end);
  // HTTP-version SP status-code SP [reason-phrase]
  if (status_line.compare(0, 7, "HTTP/1.") != 0 || status_line.size() < 12 || status_line[8] != ' ') {
    error = "not an HTTP/1.x response: '" + status_line.substr(0, 40) + "'";
    return false;
  }
  std::string code = status_line.substr(9, 3);
  if (code.find_first_not_of("0123456789") != std::string::npos) {
    error = "bad status line: '" + status_line + "'";
    return false;
  }
  out.status = std::stoi(code);
  out.reason = status_line.size() > 13 ? status_line.substr(13) : "";

  bool chunked = false;
  long long length = -1;
  size_t pos = line_end + 2;
  while (pos < head_end) {
    size_t eol = raw.find("\r\n", pos);
    std::string line = raw.substr(pos, eol - pos);
    pos = eol + 2;
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon), value = trim(line.substr(colon + 1));
    if (iequals(name, "Content-Length")) {
      if (value.empty() || value.find_first_not_of("0123456789") != std::string::npos || value.size() > 12) {
        error = "bad Content-Length '" + value + "'";
        return false;
      }
      length = std::stoll(value);
    } else if (iequals(name, "Transfer-Encoding")) {
      chunked = value.find("chunked") != std::string::npos;
    }
  }
  std::string body = raw.substr(head_end + 4);
  if (chunked) {
    out.body.clear();
    return dechunk(body, out.body, error);
  }
  if (length >= 0) {
    if (static_cast<size_t>(length) > body.size()) {
      error = "response body truncated: got " + std::to_string(body.size()) + " of " + std::to_string(length) +
              " bytes";
      return false;
    }
    body.resize(static_cast<size_t>(length));
  }
  out.body = std::move(body);
  return true;
}

bool http_get(const std::string& address, const std::string& path, HttpResponse& out, std::string& error,
              std::chrono::milliseconds timeout) {
  std::string host, port;
  if (!split_host_port(address, 15000, host, port)) {
    error = "bad address '" + address + "': expected HOST:PORT";
    return false;
  }
  struct addrinfo hints {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  struct addrinfo* res = nullptr;
  if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    error = "cannot resolve " + host + ": " + gai_strerror(rc);
    return false;
  }
  struct timeval tv {};
  tv.tv_sec = timeout.count() / 1000;
  tv.tv_usec = (timeout.count() % 1000) * 1000;
  int fd = -1;
  std::string connect_error;
  for (auto* ai = res; ai; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    // On Linux SO_SNDTIMEO also bounds connect().
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
    connect_error = std::strerror(errno);
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) {
    error = "cannot connect to " + address + ": " + connect_error;
    return false;
  }
  Fd sock(fd);
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: " + address +
                    "\r\nUser-Agent: linegatectl\r\nAccept: application/json\r\nConnection: close\r\n\r\n";
  for (size_t sent = 0; sent < req.size();) {
    ssize_t n = send(sock.get(), req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      error = "sending the request to " + address + ": " + std::strerror(errno);
      return false;
    }
    sent += static_cast<size_t>(n);
  }
  std::string raw;
  char buf[65536];
  while (true) {
    ssize_t n = recv(sock.get(), buf, sizeof buf, 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        error = "no complete response from " + address + " within " + std::to_string(timeout.count()) + " ms";
      } else {
        error = "reading from " + address + ": " + std::strerror(errno);
      }
      return false;
    }
    raw.append(buf, static_cast<size_t>(n));
    if (response_complete(raw)) break;
    if (raw.size() > kMaxResponse) {
      error = "response from " + address + " larger than " + std::to_string(kMaxResponse >> 20) + " MiB";
      return false;
    }
  }
  if (!parse_http_response(raw, out, error)) {
    error = "from " + address + ": " + error;
    return false;
  }
  return true;
}

}  // namespace lg::ctrl::cli
