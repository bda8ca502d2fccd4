#include "dataplane/admin/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace lg::admin {
namespace {

using namespace std::chrono_literals;

// Runs server.poll() on a background thread until destroyed. Routes must be
// registered before, since the server is single-threaded.
class ServeLoop {
 public:
  explicit ServeLoop(HttpServer& server)
      : thread_([this, &server] {
          while (!stop_.load()) server.poll(10);
        }) {}
  ~ServeLoop() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// A plain blocking client; the receive timeout keeps a server bug from
// hanging the test.
class Client {
 public:
  Client(uint16_t port, int family = AF_INET) {
    fd_ = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    sockaddr_storage ss{};
    socklen_t len;
    if (family == AF_INET) {
      auto* a = reinterpret_cast<sockaddr_in*>(&ss);
      a->sin_family = AF_INET;
      a->sin_port = htons(port);
      a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      len = sizeof(*a);
    } else {
      auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
      a->sin6_family = AF_INET6;
      a->sin6_port = htons(port);
      a->sin6_addr = in6addr_loopback;
      len = sizeof(*a);
    }
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&ss), len) == 0;
  }
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }

  bool send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads one response; head_only for answers to HEAD.
  std::optional<Response> read_response(bool head_only = false) {
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return std::nullopt;
    }
    Response r;
    const std::string head = buf_.substr(0, end + 2);
    buf_.erase(0, end + 4);
    size_t pos = head.find("\r\n");
    const std::string status_line = head.substr(0, pos);
    if (status_line.rfind("HTTP/1.1 ", 0) != 0) return std::nullopt;
    r.status = std::stoi(status_line.substr(9, 3));
    for (pos += 2; pos < head.size();) {
      const size_t eol = head.find("\r\n", pos);
      const std::string line = head.substr(pos, eol - pos);
      const size_t colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      const size_t value = line.find_first_not_of(' ', colon + 1);
      r.headers[name] = value == std::string::npos ? "" : line.substr(value);
      pos = eol + 2;
    }
    if (head_only || r.status < 200 || r.status == 204 || r.status == 304) return r;
    const size_t length = std::stoul(r.header("content-length"));
    while (buf_.size() < length) {
      if (!fill()) return std::nullopt;
    }
    r.body = buf_.substr(0, length);
    buf_.erase(0, length);
    return r;
  }

  std::optional<Response> request(std::string_view raw, bool head_only = false) {
    if (!send(raw)) return std::nullopt;
    return read_response(head_only);
  }

  // True if the server closed the connection (EOF or reset) with nothing
  // further sent.
  bool closed_by_peer() {
    if (!buf_.empty()) return false;
    char c;
    const ssize_t n = ::recv(fd_, &c, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

 private:
  bool fill() {
    char tmp[65536];
    const ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buf_;
};

std::string get(const std::string& target, const std::string& extra = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: localhost\r\n" + extra + "\r\n";
}

// GCC warns about designated initializers that omit members, so no
// HttpResponse{.body = ...}.
HttpResponse ok(std::string body) {
  HttpResponse r;
  r.body = std::move(body);
  return r;
}

std::string big_body() {
  std::string s(5 * 1000 * 1000, '\0');
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>('a' + i % 26);
  return s;
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    server_ = HttpServer::listen("127.0.0.1", 0, &error);
    ASSERT_NE(server_, nullptr) << error;
    ASSERT_NE(server_->port(), 0);
    server_->route("/hello", [](const HttpRequest&) { return ok("hello\n"); }, "say hello");
    server_->route(
        "/echo",
        [](const HttpRequest& req) {
          HttpResponse r = ok(req.method + " " + req.path + " name=" + req.query_param("name"));
          r.headers.emplace_back("X-Query", req.query);
          return r;
        },
        "echo the name parameter");
    server_->route("/quit", [](const HttpRequest&) { return ok("bye\n"); }, "exit the server",
                   /*mutating=*/true);
    server_->route("/body", [](const HttpRequest& req) { return ok(req.body); },
                   "echo the request body", /*mutating=*/true);
    server_->route("/boom", [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("kaboom"); },
                   "always fails");
    server_->route("/big", [](const HttpRequest&) { return ok(big_body()); }, "5 MB of text");
    // Read on the server thread, so the test can see stats without a data race.
    server_->route(
        "/counters",
        [this](const HttpRequest&) {
          const auto& s = server_->stats();
          return ok("accepted=" + std::to_string(s.accepted) +
                                      " rejected=" + std::to_string(s.rejected_over_limit) +
                                      " requests=" + std::to_string(s.requests) +
                                      " bad=" + std::to_string(s.bad_requests));
        },
        "server counters");
    loop_.emplace(*server_);
  }

  void TearDown() override { loop_.reset(); }

  uint16_t port() const { return server_->port(); }

  std::unique_ptr<HttpServer> server_;
  std::optional<ServeLoop> loop_;
};

TEST(HttpRequestTest, QueryParamDecodesValues) {
  HttpRequest r;
  r.query = "a=1&b=x%2Fy%20z&flag&c=%zz&d=a+b&%6Bey=v&a=2";
  EXPECT_EQ(r.query_param("a"), "1");  // first wins
  EXPECT_EQ(r.query_param("b"), "x/y z");
  EXPECT_EQ(r.query_param("flag"), "");
  EXPECT_EQ(r.query_param("c"), "%zz");  // malformed escape kept
  EXPECT_EQ(r.query_param("d"), "a+b");  // '+' is literal: filters are regexes
  EXPECT_EQ(r.query_param("key"), "v");
  EXPECT_EQ(r.query_param("missing"), "");
}

TEST(HttpRequestTest, HeaderLookup) {
  HttpRequest r;
  r.headers = {{"host", "x"}, {"accept", "a"}, {"accept", "b"}};
  ASSERT_NE(r.header("accept"), nullptr);
  EXPECT_EQ(*r.header("accept"), "a");
  EXPECT_EQ(r.header("cookie"), nullptr);
}

TEST_F(HttpServerTest, GetRoute) {
  Client c(port());
  ASSERT_TRUE(c.connected());
  auto r = c.request(get("/hello"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello\n");
  EXPECT_EQ(r->header("content-type"), "text/plain; charset=UTF-8");
  EXPECT_EQ(r->header("content-length"), "6");
  EXPECT_EQ(r->header("connection"), "");
}

TEST_F(HttpServerTest, QueryParam) {
  Client c(port());
  auto r = c.request(get("/echo?format=json&name=a%20b%26c"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "GET /echo name=a b&c");
  EXPECT_EQ(r->header("x-query"), "format=json&name=a%20b%26c");
  r = c.request(get("/echo"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "GET /echo name=");
}

TEST_F(HttpServerTest, UnknownPathIs404PointingToHelp) {
  Client c(port());
  auto r = c.request(get("/nope?x=1"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_NE(r->body.find("/nope"), std::string::npos);
  EXPECT_NE(r->body.find("/help"), std::string::npos);
}

TEST_F(HttpServerTest, HelpPageListsRoutes) {
  Client c(port());
  for (const char* path : {"/", "/help"}) {
    auto r = c.request(get(path));
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 200);
    EXPECT_NE(r->body.find("  /hello: say hello\n"), std::string::npos) << r->body;
    EXPECT_NE(r->body.find("  /quit (POST): exit the server\n"), std::string::npos) << r->body;
    EXPECT_NE(r->body.find("  /help: "), std::string::npos) << r->body;
    EXPECT_EQ(r->body.find("/hello (POST)"), std::string::npos) << r->body;
  }
}

TEST_F(HttpServerTest, MutatingRouteNeedsPost) {
  Client c(port());
  auto r = c.request(get("/quit"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->header("allow"), "POST");
  EXPECT_NE(r->body.find("POST"), std::string::npos);

  r = c.request("POST /quit HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "bye\n");

  r = c.request("POST /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->header("allow"), "GET, HEAD");
}

TEST_F(HttpServerTest, PostBody) {
  Client c(port());
  auto r = c.request("POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello world");
}

TEST_F(HttpServerTest, ExpectContinue) {
  Client c(port());
  ASSERT_TRUE(c.send("POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 100);
  r = c.request("abc");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "abc");
}

TEST_F(HttpServerTest, KeepAliveThenConnectionClose) {
  Client c(port());
  for (int i = 0; i < 2; ++i) {
    auto r = c.request(get("/hello"));
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->header("connection"), "");
  }
  auto r = c.request(get("/hello", "Connection: close\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "hello\n");
  EXPECT_EQ(r->header("connection"), "close");
  EXPECT_TRUE(c.closed_by_peer());
}

TEST_F(HttpServerTest, Http10Closes) {
  Client c(port());
  auto r = c.request("GET /hello HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("connection"), "close");
  EXPECT_TRUE(c.closed_by_peer());
}

TEST_F(HttpServerTest, PipelinedRequestsAnsweredInOrder) {
  Client c(port());
  ASSERT_TRUE(c.send(get("/echo?name=1") + get("/nope") + get("/echo?name=3") +
                     "POST /body HTTP/1.1\r\nContent-Length: 4\r\n\r\nfour" + get("/echo?name=5", "Connection: close\r\n")));
  const std::vector<std::pair<int, std::string>> want = {
      {200, "GET /echo name=1"}, {404, ""}, {200, "GET /echo name=3"}, {200, "four"}, {200, "GET /echo name=5"}};
  for (const auto& [status, body] : want) {
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, status);
    if (status == 200) {
      EXPECT_EQ(r->body, body);
    }
  }
  EXPECT_TRUE(c.closed_by_peer());
}

TEST_F(HttpServerTest, HeadSendsHeadersOnly) {
  Client c(port());
  auto r = c.request("HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n", /*head_only=*/true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("content-length"), "6");
  // Had a body been sent, it would now be read as the next response.
  r = c.request(get("/echo?name=after"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "GET /echo name=after");
}

TEST_F(HttpServerTest, OversizedHeadIs431AndCloses) {
  Client c(port());
  auto r = c.request(get("/hello", "X-Big: " + std::string(20 * 1024, 'a') + "\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
  EXPECT_EQ(r->header("connection"), "close");
  EXPECT_TRUE(c.closed_by_peer());
}

TEST_F(HttpServerTest, OversizedBodyIs413AndCloses) {
  Client c(port());
  auto r = c.request("POST /body HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_TRUE(c.closed_by_peer());
}

TEST_F(HttpServerTest, ChunkedBodyRefused) {
  Client c(port());
  auto r = c.request("POST /body HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 411);
  EXPECT_TRUE(c.closed_by_peer());
}

TEST_F(HttpServerTest, MalformedRequestLineIs400AndCloses) {
  Client c(port());
  auto r = c.request("GARBAGE\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(r->header("connection"), "close");
  EXPECT_TRUE(c.closed_by_peer());
}

TEST_F(HttpServerTest, MalformedHeaderIs400) {
  for (const char* raw : {"GET /hello HTTP/1.1\r\nNoColon\r\n\r\n", "GET /hello HTTP/1.1\r\nBad Name: x\r\n\r\n",
                          "GET /hello HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", "GET hello HTTP/1.1\r\n\r\n",
                          "GET /hello HTTP/9\r\n\r\n"}) {
    Client c(port());
    auto r = c.request(raw);
    ASSERT_TRUE(r) << raw;
    EXPECT_EQ(r->status, 400) << raw;
    EXPECT_TRUE(c.closed_by_peer()) << raw;
  }
  Client c(port());
  auto r = c.request("GET /hello HTTP/2.0\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 505);
}

TEST_F(HttpServerTest, ThrowingHandlerIs500AndServerSurvives) {
  Client c(port());
  auto r = c.request(get("/boom"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_NE(r->body.find("kaboom"), std::string::npos);
  r = c.request(get("/hello"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(HttpServerTest, LargeResponseReadCompletely) {
  Client c(port());
  auto r = c.request(get("/big"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body.size(), 5u * 1000 * 1000);
  EXPECT_TRUE(r->body == big_body());
}

TEST_F(HttpServerTest, SlowReaderDoesNotBlockOthers) {
  Client slow(port());
  ASSERT_TRUE(slow.send(get("/big") + get("/big")));
  std::this_thread::sleep_for(100ms);  // let the server fill the slow client's socket
  Client other(port());
  auto r = other.request(get("/hello"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  for (int i = 0; i < 2; ++i) {
    r = slow.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body.size(), 5u * 1000 * 1000);
  }
}

TEST_F(HttpServerTest, ConnectionLimit) {
  std::vector<std::unique_ptr<Client>> clients;
  for (size_t i = 0; i < HttpServer::kMaxConnections; ++i) {
    clients.push_back(std::make_unique<Client>(port()));
    // A response proves the server accepted (rather than queued) this one.
    auto r = clients.back()->request(get("/hello"));
    ASSERT_TRUE(r) << i;
    ASSERT_EQ(r->status, 200) << i;
  }
  Client extra(port());
  ASSERT_TRUE(extra.connected());  // the kernel completes the handshake
  EXPECT_TRUE(extra.closed_by_peer());
  auto r = clients[0]->request(get("/counters"));
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find("accepted=64 rejected=1 "), std::string::npos) << r->body;
}

TEST_F(HttpServerTest, Counters) {
  {
    Client c(port());
    ASSERT_TRUE(c.request(get("/hello")));
    ASSERT_TRUE(c.request(get("/nope")));
  }
  {
    Client c(port());
    ASSERT_TRUE(c.request("BAD\r\n\r\n"));
  }
  loop_.reset();  // stop serving so the stats can be read from this thread
  EXPECT_EQ(server_->stats().accepted, 2u);
  EXPECT_EQ(server_->stats().requests, 2u);
  EXPECT_EQ(server_->stats().bad_requests, 1u);
  EXPECT_EQ(server_->stats().rejected_over_limit, 0u);
  EXPECT_EQ(server_->stats().timeouts, 0u);
}

TEST_F(HttpServerTest, BindToPortInUseFails) {
  std::string error;
  auto second = HttpServer::listen("127.0.0.1", port(), &error);
  EXPECT_EQ(second, nullptr);
  EXPECT_NE(error.find("127.0.0.1:" + std::to_string(port())), std::string::npos) << error;
  EXPECT_NE(error.find("in use"), std::string::npos) << error;
}

TEST(HttpServerListenTest, RejectsNonLiteralAddress) {
  std::string error;
  EXPECT_EQ(HttpServer::listen("localhost", 0, &error), nullptr);
  EXPECT_NE(error.find("localhost"), std::string::npos) << error;
}

TEST(HttpServerListenTest, Ipv6Loopback) {
  std::string error;
  auto server = HttpServer::listen("::1", 0, &error);
  ASSERT_NE(server, nullptr) << error;
  server->route("/ready", [](const HttpRequest&) { return ok("LIVE\n"); }, "readiness");
  ServeLoop loop(*server);
  Client c(server->port(), AF_INET6);
  ASSERT_TRUE(c.connected());
  auto r = c.request(get("/ready"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "LIVE\n");
}

TEST(HttpServerPollTest, WakeFdEndsPollEarly) {
  std::string error;
  auto server = HttpServer::listen("127.0.0.1", 0, &error);
  ASSERT_NE(server, nullptr) << error;
  const int efd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  ASSERT_GE(efd, 0);
  std::thread waker([efd] {
    std::this_thread::sleep_for(100ms);
    const uint64_t one = 1;
    EXPECT_EQ(::write(efd, &one, sizeof(one)), static_cast<ssize_t>(sizeof(one)));
  });
  const int wake[] = {efd};
  const auto start = std::chrono::steady_clock::now();
  server->poll(10000, wake);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  waker.join();
  EXPECT_LT(elapsed, 5s);
  uint64_t value = 0;  // left for the caller to read
  EXPECT_EQ(::read(efd, &value, sizeof(value)), static_cast<ssize_t>(sizeof(value)));
  EXPECT_EQ(value, 1u);
  ::close(efd);
}

TEST(HttpServerPollTest, AlreadyReadablePipeAndPlainTimeout) {
  std::string error;
  auto server = HttpServer::listen("127.0.0.1", 0, &error);
  ASSERT_NE(server, nullptr) << error;
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  ASSERT_EQ(::write(p[1], "x", 1), 1);
  const int wake[] = {p[0]};
  auto start = std::chrono::steady_clock::now();
  server->poll(10000, wake);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);

  start = std::chrono::steady_clock::now();
  server->poll(50);  // nothing to do: waits out the timeout
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_GE(elapsed, 45ms);
  EXPECT_LT(elapsed, 5s);
  ::close(p[0]);
  ::close(p[1]);
}

}  // namespace
}  // namespace lg::admin
