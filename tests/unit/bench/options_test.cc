// linegate-loadgen's command line: lists and ranges expand as documented,
// and every bad value is refused with a message naming the option.
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "bench/loadgen/options.h"

namespace lg::bench {
namespace {

struct Argv {
  std::vector<std::string> args;
  std::vector<char*> ptrs;
  explicit Argv(std::initializer_list<std::string> a) : args(a) {
    args.insert(args.begin(), "linegate-loadgen");
    for (auto& s : args) ptrs.push_back(s.data());
  }
  int argc() const { return static_cast<int>(ptrs.size()); }
  char** argv() { return ptrs.data(); }
};

std::string parse_error(std::initializer_list<std::string> a) {
  Argv v(a);
  std::string error;
  int code = -1;
  EXPECT_FALSE(parse_options(v.argc(), v.argv(), &error, &code).has_value());
  EXPECT_EQ(code, 2);
  return error;
}

TEST(LoadgenOptions, ListsExpandRangesInOrder) {
  std::string err;
  const auto v = expand_list("/a,/r{1..3}/x,/b", 100, &err);
  ASSERT_TRUE(v) << err;
  EXPECT_EQ(*v, (std::vector<std::string>{"/a", "/r1/x", "/r2/x", "/r3/x", "/b"}));
  const auto nested = expand_list("h{0..1}.s{5..6}", 100, &err);
  ASSERT_TRUE(nested) << err;
  EXPECT_EQ(*nested, (std::vector<std::string>{"h0.s5", "h0.s6", "h1.s5", "h1.s6"}));
}

TEST(LoadgenOptions, BadListsAreRefused) {
  std::string err;
  EXPECT_FALSE(expand_list("/r{3..1}", 100, &err));
  EXPECT_FALSE(expand_list("/r{1..}", 100, &err));
  EXPECT_FALSE(expand_list("/r{1..3", 100, &err));
  EXPECT_FALSE(expand_list("/r}", 100, &err));
  EXPECT_FALSE(expand_list("/a,,/b", 100, &err));
  EXPECT_FALSE(expand_list("/r{0..1000}", 100, &err));
  EXPECT_NE(err.find("more than 100"), std::string::npos) << err;
}

TEST(LoadgenOptions, RangesAndStatuses) {
  EXPECT_EQ(parse_range("1024")->lo, 1024u);
  EXPECT_TRUE(parse_range("1024")->fixed());
  const auto r = parse_range("10-20");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->lo, 10u);
  EXPECT_EQ(r->hi, 20u);
  EXPECT_FALSE(parse_range("20-10"));
  EXPECT_FALSE(parse_range("x"));
  EXPECT_FALSE(parse_range("-5"));
  const auto s = parse_statuses("200:99,503:1");
  ASSERT_TRUE(s);
  ASSERT_EQ(s->size(), 2u);
  EXPECT_EQ((*s)[1].code, 503);
  EXPECT_EQ((*s)[1].weight, 1u);
  EXPECT_FALSE(parse_statuses("99"));
  EXPECT_FALSE(parse_statuses("200:0"));
  EXPECT_FALSE(parse_statuses("600"));
}

TEST(LoadgenOptions, BothRolesInOneProcess) {
  Argv v({"--port", "net_memif0,role=client,socket=/tmp/a.sock", "--ip", "10.90.1.2/24", "--port",
          "net_memif1,role=client,socket=/tmp/b.sock", "--ip", "10.90.2.2/24@10.90.2.1", "--listen", "8000",
          "--response-bytes", "100-200", "--target", "10.90.1.1:8080", "--path", "/r{0..9}/item", "--host",
          "bench.example.com", "--rate", "5000", "--file-prefix", "lgt"});
  std::string error;
  int code = -1;
  const auto o = parse_options(v.argc(), v.argv(), &error, &code);
  ASSERT_TRUE(o) << error;
  EXPECT_EQ(code, 0);
  ASSERT_TRUE(o->client && o->responder);
  EXPECT_EQ(o->client->port, 8080);
  EXPECT_EQ(o->client->family, 4);
  EXPECT_EQ(o->client->paths.size(), 10u);
  EXPECT_EQ(o->client->rate, 5000);
  EXPECT_EQ(o->responder->listen, 8000);
  EXPECT_EQ(o->responder->response_bytes.hi, 200u);
  ASSERT_EQ(o->bootstrap.ports.size(), 2u);
  EXPECT_TRUE(o->bootstrap.ports[1].gateway.has_value());
  EXPECT_EQ(o->bootstrap.workers, 1u);
}

TEST(LoadgenOptions, BadCommandLinesNameTheOption) {
  EXPECT_NE(parse_error({"--port", "net_tap0", "--target", "10.0.0.1:80"}).find("--ip"), std::string::npos);
  EXPECT_NE(parse_error({"--port", "net_tap0", "--ip", "10.0.0.2/24"}).find("nothing to do"), std::string::npos);
  EXPECT_NE(parse_error({"--port", "net_tap0", "--ip", "10.0.0.2/24", "--target", "10.0.0.1"}).find("--target"),
            std::string::npos);
  EXPECT_NE(parse_error({"--port", "net_tap0", "--ip", "10.0.0.2/24", "--target", "10.0.0.1:80", "--path", "x"})
                .find("--path"),
            std::string::npos);
  EXPECT_NE(parse_error({"--port", "net_tap0", "--ip", "10.0.0.2/24", "--target", "10.0.0.1:80", "--header", "bad"})
                .find("--header"),
            std::string::npos);
  EXPECT_NE(parse_error({"--port", "net_tap0", "--ip", "10.0.0.2/24", "--listen", "80", "--status", "700"})
                .find("--status"),
            std::string::npos);
  EXPECT_NE(parse_error({"--port", "net_tap0", "--ip", "10.0.0.300/24", "--listen", "80"}).find("ports[0]"),
            std::string::npos);
  EXPECT_NE(parse_error({"--port", "net_tap0", "--ip", "10.0.0.2/24", "--target", "10.0.0.1:80", "--connections", "0"})
                .find("--connections"),
            std::string::npos);
}

}  // namespace
}  // namespace lg::bench
