// The small HTTP/1.1 server behind linegate's admin interface (/ready, /stats,
// /quitquitquit, ...). It runs on the control thread with kernel sockets, never
// on the DPDK fast path: single-threaded, non-blocking, driven by poll(2), so a
// slow or hostile admin client can delay nothing but itself.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lg::admin {

struct HttpRequest {
  std::string method;  // "GET"
  std::string path;    // "/stats" (without query)
  std::string query;   // "format=json" (without '?'), may be empty
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;

  // Value of the first `name=value` pair in the query, percent-decoded; "" if
  // absent. '+' is kept literally: admin filters are often regexes.
  std::string query_param(std::string_view name) const;
  // First header with that (lower-case) name, or nullptr.
  const std::string* header(std::string_view lower_name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=UTF-8";
  std::string body;
  // Extra headers. The server owns framing, so Content-Length, Connection and
  // Transfer-Encoding here are ignored, as is anything containing CR or LF.
  std::vector<std::pair<std::string, std::string>> headers;
};

using Handler = std::function<HttpResponse(const HttpRequest&)>;

class HttpServer {
 public:
  struct Stats {
    uint64_t accepted = 0;             // connections admitted
    uint64_t rejected_over_limit = 0;  // accepted by the kernel, closed at once
    uint64_t requests = 0;             // well-formed requests dispatched
    uint64_t bad_requests = 0;         // 400/411/413/431/505 answers
    uint64_t timeouts = 0;             // connections closed for idleness
  };

  static constexpr size_t kMaxHeadBytes = 16 * 1024;
  static constexpr size_t kMaxBodyBytes = 1024 * 1024;
  static constexpr size_t kMaxConnections = 64;
  static constexpr std::chrono::seconds kIdleTimeout{10};

  // host: IPv4 or IPv6 literal ("127.0.0.1", "::1", "[::1]"); port 0 picks an
  // ephemeral port. Returns nullptr and sets *error to a message naming the
  // address and the errno text on failure.
  static std::unique_ptr<HttpServer> listen(const std::string& host, uint16_t port,
                                            std::string* error);
  ~HttpServer();  // closes every socket
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  uint16_t port() const { return port_; }  // the bound port

  // Register an endpoint; registering a path again replaces it.
  // mutating=true: only POST is accepted (405 with an explanatory body
  // otherwise), as Envoy's admin does for /quitquitquit; mutating=false: GET
  // and HEAD. "/" and "/help" are built in unless registered explicitly.
  void route(const std::string& path, Handler handler, const std::string& help,
             bool mutating = false);

  // Serve for up to timeout_ms (negative: no limit): accept, read, dispatch,
  // write. Returns early as soon as any fd in wake_fds becomes readable; the
  // caller then reads that fd itself.
  void poll(int timeout_ms, std::span<const int> wake_fds = {});

  const Stats& stats() const { return stats_; }

 private:
  // Owns one file descriptor.
  class Fd {
   public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Fd& operator=(Fd&& o) noexcept;
    ~Fd();
    int get() const { return fd_; }

   private:
    int fd_ = -1;
  };

  struct Route {
    Handler handler;
    std::string help;
    bool mutating = false;
  };

  struct Conn;  // defined in the .cc

  HttpServer(Fd listener, uint16_t port);
  void accept_all();
  void on_readable(Conn& c);
  void pump(Conn& c);
  bool process_input(Conn& c);
  bool flush(Conn& c);
  void reap();
  void start_linger(Conn& c);
  void respond(Conn& c, HttpResponse resp, bool head_only, bool close);
  HttpResponse dispatch(const HttpRequest& req);
  HttpResponse help_page() const;

  Fd listener_;
  uint16_t port_ = 0;
  std::map<std::string, Route> routes_;  // ordered, so /help is sorted
  std::vector<std::unique_ptr<Conn>> conns_;
  Stats stats_;
};

}  // namespace lg::admin
