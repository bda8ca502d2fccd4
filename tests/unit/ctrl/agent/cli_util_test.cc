// linegatectl's helpers: the HTTP/1.1 GET client and table rendering.
#include "ctrl/cli/http_get.h"
#include "ctrl/cli/table.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

namespace lg::ctrl::cli {
namespace {

TEST(HttpResponse, ContentLengthChunkedAndErrors) {
  HttpResponse r;
  std::string err;
  ASSERT_TRUE(parse_http_response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA", r, err)) << err;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.reason, "OK");
  EXPECT_EQ(r.body, "hello");

  ASSERT_TRUE(parse_http_response(
      "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n4\r\nWiki\r\n6;ext=1\r\npedia \r\n0\r\n\r\n", r, err))
      << err;
  EXPECT_EQ(r.body, "Wikipedia ");

  ASSERT_TRUE(parse_http_response("HTTP/1.0 404 Not Found\r\n\r\nno snapshot yet", r, err));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "no snapshot yet");

  EXPECT_FALSE(parse_http_response("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", r, err));
  EXPECT_NE(err.find("truncated"), std::string::npos);
  EXPECT_FALSE(parse_http_response("SSH-2.0-OpenSSH\r\n\r\n", r, err));
  EXPECT_FALSE(parse_http_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", r, err));
  EXPECT_FALSE(parse_http_response("", r, err));
  EXPECT_FALSE(parse_http_response("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", r, err));
}

TEST(HttpGet, SplitsAddresses) {
  std::string h, p;
  ASSERT_TRUE(split_host_port("127.0.0.1:15000", 1, h, p));
  EXPECT_EQ(h, "127.0.0.1");
  EXPECT_EQ(p, "15000");
  ASSERT_TRUE(split_host_port("[::1]:80", 1, h, p));
  EXPECT_EQ(h, "::1");
  EXPECT_EQ(p, "80");
  ASSERT_TRUE(split_host_port("localhost", 15000, h, p));
  EXPECT_EQ(p, "15000");
  EXPECT_FALSE(split_host_port("::1:80", 1, h, p));
  EXPECT_FALSE(split_host_port("host:99999", 1, h, p));
  EXPECT_FALSE(split_host_port("host:", 1, h, p));
  EXPECT_FALSE(split_host_port(":80", 1, h, p));
  EXPECT_FALSE(split_host_port("", 1, h, p));
}

// One connection: reads the request, answers `response`, keeps the socket
// open (a server that ignores Connection: close must not cost the timeout).
class OneShotServer {
 public:
  explicit OneShotServer(std::string response) : response_(std::move(response)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    listen(fd_, 1);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buf[4096];
      std::string req;
      while (req.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
      }
      request_ = req;
      send(c, response_.data(), response_.size(), MSG_NOSIGNAL);
      recv(c, buf, sizeof buf, 0);  // until the client closes
      close(c);
    });
  }
  ~OneShotServer() {
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  std::string request_;

 private:
  std::string response_;
  int fd_ = -1, port_ = 0;
  std::thread thread_;
};

TEST(HttpGet, FetchesFromALocalServer) {
  std::string body(100000, 'x');
  OneShotServer srv("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n\r\n" + body);
  HttpResponse r;
  std::string err;
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(http_get("127.0.0.1:" + std::to_string(srv.port()), "/config_dump", r, err, std::chrono::seconds(5)))
      << err;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, body);
  EXPECT_EQ(srv.request_.rfind("GET /config_dump HTTP/1.1\r\n", 0), 0u);
  EXPECT_NE(srv.request_.find("Connection: close"), std::string::npos);
}

TEST(HttpGet, ConnectionRefusedIsAClearError) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  close(fd);  // bound, never listened: nobody there
  HttpResponse r;
  std::string err;
  EXPECT_FALSE(http_get("127.0.0.1:" + std::to_string(port), "/config_dump", r, err));
  EXPECT_NE(err.find("cannot connect"), std::string::npos) << err;
  EXPECT_FALSE(http_get("no:such:addr", "/", r, err));
  EXPECT_NE(err.find("bad address"), std::string::npos) << err;
}

TEST(Table, AlignsColumnsByCodePoints) {
  auto t = render_table({"NAME", "STATUS"}, {{"gw-a", "SYNCED"}, {"gw-long-name", "NACKED"}, {"\u00e9", "-"}});
  EXPECT_EQ(t,
            "NAME           STATUS\n"
            "gw-a           SYNCED\n"
            "gw-long-name   NACKED\n"
            "\u00e9              -\n");
}

TEST(Table, Ages) {
  long long now = 1'000'000'000;
  EXPECT_EQ(format_age(0, now), "-");
  EXPECT_EQ(format_age(now - 4'000, now), "4s");
  EXPECT_EQ(format_age(now - 192'000, now), "3m12s");
  EXPECT_EQ(format_age(now - 7'500'000, now), "2h5m");
  EXPECT_EQ(format_age(now - 273'600'000, now), "3d4h");
  EXPECT_EQ(format_age(now + 5'000, now), "0s");  // clock skew
}

}  // namespace
}  // namespace lg::ctrl::cli
