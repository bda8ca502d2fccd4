// Records rendered with Envoy's formats: text lines with "-" for absent
// values, typed JSON, response flags and details, START_TIME, truncation;
// and the attributes a CEL filter reads.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "ctrl/cel/cel.h"
#include "l7/access_log/filter_attributes.h"
#include "l7/access_log/format.h"
#include "l7/access_log/render.h"

namespace lg::access_log {
namespace {

Format parsed(std::string_view text) {
  ParseResult p = parse(text);
  EXPECT_TRUE(p.ok()) << p.error;
  return p.format;
}

void v4(Address& a, const char* ip, uint16_t port) {
  a.family = 4;
  a.port = port;
  inet_pton(AF_INET, ip, a.ip);
}

// A GET through an ISTIO_MUTUAL server, answered by the upstream.
Record mesh_request() {
  Record r;
  r.reset();
  r.start_unix_ns = 1795000000123456789ull;  // 2026-11-18T11:06:40.123456789Z
  r.duration_us = 12345;
  r.response_start_us = 11000;
  r.upstream_service_us = 9876;
  r.bytes_received = 0;
  r.bytes_sent = 1234;
  r.response_code = 200;
  r.details = Details::via_upstream;
  r.http_minor = 1;
  r.attempts = 1;
  r.tls_version = 0x0304;
  r.mtls = true;
  r.connection_id = 7;
  v4(r.downstream_local, "10.0.0.1", 15443);
  v4(r.downstream_remote, "10.0.0.2", 40000);
  v4(r.upstream_host, "10.1.0.5", 8080);
  v4(r.upstream_local, "10.0.0.1", 50000);
  r.add(Field::request_header, "GET", ":method");
  r.add(Field::request_header, "/api/v1?x=1", ":path");
  r.add(Field::request_header, "shop.example.com", ":authority");
  r.add(Field::request_header, "curl/7.88.1", "user-agent");
  r.add(Field::response_header, "text/plain", "content-type");
  r.add(Field::requested_server_name, "shop.example.com");
  r.add(Field::peer_uri_san, "spiffe://cluster.local/ns/shop/sa/client");
  r.add(Field::local_uri_san, "spiffe://cluster.local/ns/mesh-gw/sa/gateway");
  r.add(Field::route_name, "api.v1");
  r.add(Field::upstream_cluster, "outbound|8080||api.shop.svc.cluster.local");
  return r;
}

std::string text(std::string_view format, const Record& r) {
  std::string out;
  render_text(parsed(format), r, {"gw-0"}, out);
  return out;
}

TEST(AccessLogRender, IstioDefaultTextFormat) {
  EXPECT_EQ(text(kIstioTextFormat, mesh_request()),
            "[2026-11-18T11:06:40.123Z] \"GET /api/v1?x=1 HTTP/1.1\" 200 - via_upstream - \"-\" 0 1234 12 9 \"-\" "
            "\"curl/7.88.1\" \"-\" \"shop.example.com\" \"10.1.0.5:8080\" "
            "outbound|8080||api.shop.svc.cluster.local 10.0.0.1:50000 10.0.0.1:15443 10.0.0.2:40000 "
            "shop.example.com api.v1\n");
}

TEST(AccessLogRender, PeerPrincipalAndTls) {
  EXPECT_EQ(text("%DOWNSTREAM_PEER_URI_SAN% %DOWNSTREAM_LOCAL_URI_SAN% %DOWNSTREAM_TLS_VERSION% %HOSTNAME%",
                 mesh_request()),
            "spiffe://cluster.local/ns/shop/sa/client spiffe://cluster.local/ns/mesh-gw/sa/gateway TLSv1.3 gw-0");
  Record plain;
  plain.reset();
  EXPECT_EQ(text("%DOWNSTREAM_PEER_URI_SAN% %DOWNSTREAM_TLS_VERSION% %REQUESTED_SERVER_NAME% %PROTOCOL%", plain),
            "- - - -");
}

TEST(AccessLogRender, HeadersAlternatesAndTruncation) {
  const Record r = mesh_request();
  EXPECT_EQ(text("%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%|%REQ(:PATH):4%|%REQ(X-MISSING)%|%RESP(CONTENT-TYPE)%", r),
            "/api/v1?x=1|/api|-|text/plain");
  EXPECT_EQ(text("%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%", r), "9") << "kept from the upstream's timing";
  EXPECT_EQ(text("100%% %RESPONSE_CODE%", r), "100% 200");
}

TEST(AccessLogRender, StartTimeFormats) {
  const Record r = mesh_request();
  EXPECT_EQ(text("%START_TIME(%Y/%m/%d %H:%M:%S.%6f)%", r), "2026/11/18 11:06:40.123456");
  EXPECT_EQ(text("%START_TIME(%s.%9f)%", r), "1795000000.123456789");
}

TEST(AccessLogRender, FlagsAndDetailsOfLocalAnswers) {
  Record r;
  r.reset();
  r.details = Details::local;
  r.response_code = 503;
  r.flags = kFlagUF | kFlagUR;
  EXPECT_EQ(response_flags(r.flags), "UF,UR") << "Envoy's order";
  EXPECT_EQ(response_code_details(r), "upstream_reset_before_response_started{connection_failure}");
  r.flags = kFlagNR;
  EXPECT_EQ(text("%RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS%", r), "NR route_not_found");
  r.flags = 0;
  EXPECT_EQ(response_code_details(r), "direct_response");
  r.details = Details::none;
  r.response_code = 0;
  r.flags = kFlagDC;
  EXPECT_EQ(text("%RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS%", r), "0 DC downstream_remote_disconnect");
  r.details = Details::codec_error;
  EXPECT_EQ(response_code_details(r), "http1.codec_error");
}

TEST(AccessLogRender, JsonKeepsTypesAndEscapes) {
  Record r = mesh_request();
  r.add(Field::request_header, "a \"quoted\"\tagent\x01", "x-odd");
  JsonLabels labels;
  labels.emplace_back("code", parsed("%RESPONSE_CODE%"));
  labels.emplace_back("peer", parsed("%DOWNSTREAM_PEER_URI_SAN%"));
  labels.emplace_back("xff", parsed("%REQ(X-FORWARDED-FOR)%"));
  labels.emplace_back("mixed", parsed("%REQ(:METHOD)% %REQ(X-FORWARDED-FOR)%"));
  labels.emplace_back("odd", parsed("%REQ(X-ODD)%"));
  std::string out;
  render_json(labels, r, {}, out);
  ASSERT_EQ(out.back(), '\n');
  const nlohmann::json j = nlohmann::json::parse(out);
  EXPECT_EQ(j["code"], 200);
  EXPECT_EQ(j["peer"], "spiffe://cluster.local/ns/shop/sa/client");
  EXPECT_TRUE(j["xff"].is_null());
  EXPECT_EQ(j["mixed"], "GET -");
  EXPECT_EQ(j["odd"], "a \"quoted\"\tagent\x01");
  EXPECT_EQ(out.find("code"), 2u) << "labels keep their order";
}

TEST(AccessLogRender, EveryDefaultJsonLabelRenders) {
  JsonLabels labels;
  for (const auto& [k, v] : istio_json_labels()) labels.emplace_back(std::string(k), parsed(v));
  std::string out;
  render_json(labels, mesh_request(), {}, out);
  const nlohmann::json j = nlohmann::json::parse(out);
  EXPECT_EQ(j.size(), istio_json_labels().size());
  EXPECT_EQ(j["upstream_cluster"], "outbound|8080||api.shop.svc.cluster.local");
  EXPECT_EQ(j["bytes_sent"], 1234);
  EXPECT_EQ(j["upstream_service_time"], "9");
}

TEST(AccessLogRender, RecordTruncatesWhatDoesNotFit) {
  Record r;
  r.reset();
  const std::string big(Record::kTextBytes + 100, 'a');
  r.add(Field::request_header, big, ":path");
  EXPECT_TRUE(r.truncated);
  std::string_view v;
  ASSERT_TRUE(r.find(Field::request_header, ":path", &v));
  EXPECT_EQ(v.size(), Record::kTextBytes - 5);
  r.add(Field::route_name, "x");
  EXPECT_FALSE(r.find(Field::route_name, {}, &v)) << "no room left: left out, not overflowed";
}

TEST(AccessLogFilterAttributes, EnvoyAttributeNames) {
  const nlohmann::json a = filter_attributes(mesh_request());
  EXPECT_EQ(a["request"]["method"], "GET");
  EXPECT_EQ(a["request"]["url_path"], "/api/v1");
  EXPECT_EQ(a["request"]["host"], "shop.example.com");
  EXPECT_EQ(a["request"]["headers"]["user-agent"], "curl/7.88.1");
  EXPECT_EQ(a["response"]["code"], 200);
  EXPECT_EQ(a["response"]["code_details"], "via_upstream");
  EXPECT_EQ(a["connection"]["mtls"], true);
  EXPECT_EQ(a["connection"]["uri_san_peer_certificate"], "spiffe://cluster.local/ns/shop/sa/client");
  EXPECT_EQ(a["source"]["address"], "10.0.0.2");
  EXPECT_EQ(a["upstream"]["port"], 8080);
  EXPECT_EQ(a["xds"]["route_name"], "api.v1");
}

// Istio's documented filter examples, through the CEL evaluator the writer uses.
TEST(AccessLogFilterAttributes, IstioFilterExamplesEvaluate) {
  const auto holds = [](std::string_view expr, const Record& r) {
    ctrl::cel::CompileResult c = ctrl::cel::compile(expr, filter_variables());
    EXPECT_TRUE(c.program) << c.error;
    const ctrl::cel::EvalResult e = ctrl::cel::evaluate_with(*c.program, filter_attributes(r));
    EXPECT_NE(e.kind, ctrl::cel::EvalResult::Kind::error) << expr << ": " << e.error;
    return e.holds();
  };
  Record r = mesh_request();
  EXPECT_FALSE(holds("response.code >= 400", r));
  EXPECT_TRUE(holds("connection.mtls && request.url_path.startsWith('/api')", r));
  EXPECT_TRUE(holds("has(request.headers.x_missing) == false", r));
  r.response_code = 503;
  EXPECT_TRUE(holds("response.code >= 400", r));
  EXPECT_FALSE(ctrl::cel::compile("reponse.code >= 400", filter_variables()).program) << "a misspelt name is caught";
}

}  // namespace
}  // namespace lg::access_log
