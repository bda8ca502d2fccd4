// l7/access_log: Envoy format strings as linegate parses them (literals,
// %% escapes, command operators with arguments and lengths, the errors a
// control plane shows) and Istio's default formats.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "l7/access_log/format.h"

namespace lg::access_log {
namespace {

Format ok(std::string_view text) {
  ParseResult r = parse(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.error;
  return r.format;
}

std::string error_of(std::string_view text) {
  const ParseResult r = parse(text);
  EXPECT_FALSE(r.ok()) << text;
  EXPECT_TRUE(r.format.tokens.empty()) << "a failed parse leaves no tokens";
  return r.error;
}

TEST(AccessLogFormat, LiteralsAndEscapes) {
  EXPECT_TRUE(ok("").tokens.empty());
  Format f = ok("plain text\n");
  ASSERT_EQ(f.tokens.size(), 1u);
  EXPECT_EQ(f.tokens[0].command, Command::literal);
  EXPECT_EQ(f.tokens[0].text, "plain text\n");

  f = ok("100%% of %PROTOCOL%%%");
  ASSERT_EQ(f.tokens.size(), 3u);
  EXPECT_EQ(f.tokens[0].text, "100% of ") << "%% is a literal '%', joined with the text around it";
  EXPECT_EQ(f.tokens[1].command, Command::protocol);
  EXPECT_EQ(f.tokens[2].command, Command::literal);
  EXPECT_EQ(f.tokens[2].text, "%");
  EXPECT_TRUE(f.request_headers.empty());
}

TEST(AccessLogFormat, RequestHeaderWithAlternateAndLength) {
  const Format f = ok("%REQ(X-Envoy-Original-Path?:PATH):12% %RESP(Content-Type)%");
  ASSERT_EQ(f.tokens.size(), 3u);
  const Token& req = f.tokens[0];
  EXPECT_EQ(req.command, Command::req);
  EXPECT_EQ(req.header, "x-envoy-original-path") << "header names are lower-cased";
  EXPECT_EQ(req.alternate, ":path");
  EXPECT_EQ(req.max_length, 12u);
  EXPECT_EQ(f.tokens[1].text, " ");
  EXPECT_EQ(f.tokens[2].command, Command::resp);
  EXPECT_EQ(f.tokens[2].header, "content-type");
  EXPECT_EQ(f.tokens[2].alternate, "");
  EXPECT_EQ(f.tokens[2].max_length, 0u);
  EXPECT_EQ(f.request_headers, (std::vector<std::string>{"x-envoy-original-path", ":path"}));
  EXPECT_EQ(f.response_headers, std::vector<std::string>{"content-type"});
}

TEST(AccessLogFormat, StartTimeKeepsItsStrftimeFormat) {
  const Format f = ok("[%START_TIME(%Y-%m-%dT%H:%M:%S.%3fZ)%] %START_TIME%");
  ASSERT_EQ(f.tokens.size(), 4u);
  EXPECT_EQ(f.tokens[0].text, "[");
  EXPECT_EQ(f.tokens[1].command, Command::start_time);
  EXPECT_EQ(f.tokens[1].text, "%Y-%m-%dT%H:%M:%S.%3fZ") << "the '%' inside the parentheses are strftime's";
  EXPECT_EQ(f.tokens[2].text, "] ");
  EXPECT_EQ(f.tokens[3].command, Command::start_time);
  EXPECT_EQ(f.tokens[3].text, "") << "Envoy's default format";
}

TEST(AccessLogFormat, HeaderListsNameEachHeaderOnce) {
  const Format f = ok("%REQ(:PATH)% %REQ(:path)% %REQ(USER-AGENT?:PATH)% %RESP(X-A)% %RESP(x-a?X-B)% %REQ(X-A)%");
  EXPECT_EQ(f.request_headers, (std::vector<std::string>{":path", "user-agent", "x-a"}));
  EXPECT_EQ(f.response_headers, (std::vector<std::string>{"x-a", "x-b"}));
}

TEST(AccessLogFormat, UnknownCommandIsAnError) {
  EXPECT_EQ(error_of("%DYNAMIC_METADATA(istio.mixer:status)%"),
            "%DYNAMIC_METADATA% is not a command linegate writes (see the supported list)");
  EXPECT_EQ(error_of("ok %UPSTREAM_PEER_SUBJECT% ok"), "%UPSTREAM_PEER_SUBJECT% is not a command linegate writes (see the supported list)");
  EXPECT_EQ(error_of("%req(:path)%"), "'%' at 0 does not start a command (write %% for '%')") << "names are upper case";
}

TEST(AccessLogFormat, UnterminatedCommandIsAnError) {
  EXPECT_EQ(error_of("%PROTOCOL"), "%PROTOCOL: no closing '%'");
  EXPECT_EQ(error_of("%REQ(:PATH"), "%REQ(: no closing ')'");
  EXPECT_EQ(error_of("%REQ(:PATH)"), "%REQ: no closing '%'");
  EXPECT_EQ(error_of("%REQ(:PATH):%"), "%REQ%: ':' must be followed by a length");
  EXPECT_EQ(error_of("50%"), "'%' at 2 does not start a command (write %% for '%')");
}

TEST(AccessLogFormat, ArgumentsOnlyWhereACommandTakesThem) {
  EXPECT_EQ(error_of("%REQ%"), "%REQ% needs a header name: %REQ(X)%");
  EXPECT_EQ(error_of("%RESP()%"), "%RESP% needs a header name: %RESP(X)%");
  EXPECT_EQ(error_of("%REQ(?:PATH)%"), "%REQ(?:PATH)%: empty header name");
  EXPECT_EQ(error_of("%REQ(:PATH?)%"), "%REQ(:PATH?)%: empty header name");
  EXPECT_EQ(error_of("%PROTOCOL(x)%"), "%PROTOCOL% takes no arguments");
  EXPECT_EQ(error_of("%DURATION:3%"), "%DURATION%: only %REQ(...)% and %RESP(...)% take a length");
}

TEST(AccessLogFormat, IstioDefaultTextFormatParses) {
  const Format f = ok(kIstioTextFormat);
  ASSERT_FALSE(f.tokens.empty());
  EXPECT_EQ(f.tokens.front().command, Command::literal);
  EXPECT_EQ(f.tokens.front().text, "[");
  EXPECT_EQ(f.tokens[1].command, Command::start_time);
  EXPECT_EQ(f.tokens.back().command, Command::literal);
  EXPECT_EQ(f.tokens.back().text, "\n") << "one line per request";
  EXPECT_EQ(f.request_headers, (std::vector<std::string>{":method", "x-envoy-original-path", ":path", "x-forwarded-for",
                                                         "user-agent", "x-request-id", ":authority"}));
  EXPECT_EQ(f.response_headers, std::vector<std::string>{"x-envoy-upstream-service-time"});
}

TEST(AccessLogFormat, EveryIstioDefaultJsonLabelParses) {
  const auto& labels = istio_json_labels();
  ASSERT_EQ(labels.size(), 24u) << "EnvoyJSONLogFormatIstio";
  for (size_t i = 0; i < labels.size(); ++i) {
    const auto& [key, format] = labels[i];
    const ParseResult r = parse(format);
    EXPECT_TRUE(r.ok()) << key << ": " << r.error;
    ASSERT_EQ(r.format.tokens.size(), 1u) << key << ": one command, no literal around it";
    EXPECT_NE(r.format.tokens[0].command, Command::literal) << key;
    if (i > 0) {
      EXPECT_LT(labels[i - 1].first, key) << "written in key order";
    }
  }
}

TEST(AccessLogFormat, SupportedCommandsAllParse) {
  const auto& names = supported_commands();
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(names.front(), "START_TIME");
  for (std::string_view n : names) {
    const std::string text = n == "REQ" || n == "RESP" ? "%" + std::string(n) + "(X)%" : "%" + std::string(n) + "%";
    EXPECT_TRUE(parse(text).ok()) << text << ": " << parse(text).error;
  }
}

}  // namespace
}  // namespace lg::access_log
