// Behaviour of the CEL subset against cel-go / Kubernetes semantics, with
// the exact rules Istio's CRDs carry where there is one.
#include "tests/unit/ctrl/cel/cel_test_util.h"

#include <cstdint>

namespace lg::ctrl::cel {
namespace {

using nlohmann::json;
json J(const char* text) { return json::parse(text); }

// --- the rules Istio uses -------------------------------------------------------

TEST(CelIstio, PortRange) {
  const char* rule = "0 < self && self <= 65535";
  EXPECT_CEL_TRUE(rule, 1);
  EXPECT_CEL_TRUE(rule, 65535);
  EXPECT_CEL_FALSE(rule, 0);
  EXPECT_CEL_FALSE(rule, 65536);
  EXPECT_CEL_FALSE(rule, -5);
  EXPECT_CEL_TRUE(rule, json(uint64_t{8080}));  // JSON unsigned is still an int to CEL
  EXPECT_CEL_ERROR(rule, "80", "no such overload");
}

TEST(CelIstio, DurationAtLeastOneMillisecond) {
  const char* rule = "duration(self) >= duration('1ms')";
  EXPECT_CEL_TRUE(rule, "1ms");
  EXPECT_CEL_TRUE(rule, "1s");
  EXPECT_CEL_TRUE(rule, "1h2m3.5s");
  EXPECT_CEL_TRUE(rule, "1000us");
  EXPECT_CEL_TRUE(rule, "1000\xC2\xB5s");
  EXPECT_CEL_FALSE(rule, "0.5ms");
  EXPECT_CEL_FALSE(rule, "999us");
  EXPECT_CEL_FALSE(rule, "0");
  EXPECT_CEL_FALSE(rule, "-1.5h");
  EXPECT_CEL_ERROR(rule, "abc", "type conversion error from 'string' to 'google.protobuf.Duration'");
  EXPECT_CEL_ERROR(rule, "10", "type conversion error from");  // Go requires a unit
  EXPECT_CEL_ERROR(rule, "", "type conversion error from");
  EXPECT_CEL_ERROR(rule, "1d", "type conversion error from");
  EXPECT_CEL_ERROR(rule, ".s", "type conversion error from");
  EXPECT_CEL_ERROR(rule, "9999999999h", "type conversion error from");  // overflows int64 ns
}

TEST(CelIstio, DurationArithmeticAndComparison) {
  EXPECT_CEL_TRUE("duration('1h') == duration('60m')", nullptr);
  EXPECT_CEL_TRUE("duration('1.5s') == duration('1500ms')", nullptr);
  EXPECT_CEL_TRUE("duration('-1.5h') < duration('0s')", nullptr);
  EXPECT_CEL_TRUE("duration('1s') + duration('500ms') == duration('1.5s')", nullptr);
  EXPECT_CEL_TRUE("string(duration('1h2m3.5s')) == '3723.5s'", nullptr);
  EXPECT_CEL_TRUE("duration('90m').getHours() == 1 && duration('90m').getMinutes() == 90", nullptr);
  EXPECT_CEL_TRUE("int(duration('1us')) == 1000", nullptr);
  EXPECT_CEL_ERROR("duration('1s') < 1", nullptr, "no such overload");
}

TEST(CelIstio, PortLevelMtlsKeys) {
  const char* rule = "self.all(key, 0 < int(key) && int(key) <= 65535)";
  EXPECT_CEL_TRUE(rule, J(R"({"80": {}, "8080": {}})"));
  EXPECT_CEL_TRUE(rule, J("{}"));
  EXPECT_CEL_FALSE(rule, J(R"({"0": {}})"));
  EXPECT_CEL_FALSE(rule, J(R"({"65536": {}})"));
  EXPECT_CEL_ERROR(rule, J(R"({"acd": {}})"), "type conversion error from 'string' to 'int'");
  // A key that fails the range decides the result even next to a bad key.
  EXPECT_CEL_FALSE(rule, J(R"({"0": {}, "acd": {}})"));
}

TEST(CelIstio, PortNameKeys) {
  const char* rule = R"(self.all(key, size(key) < 63 && key.matches("^[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$")))";
  EXPECT_CEL_TRUE(rule, J(R"({"http": 1, "grpc-web": 2, "a": 3})"));
  EXPECT_CEL_FALSE(rule, J(R"({"-http": 1})"));
  EXPECT_CEL_FALSE(rule, J(R"({"http-": 1})"));
  EXPECT_CEL_FALSE(rule, J(R"({"": 1})"));
  EXPECT_CEL_FALSE(rule, json::object({{std::string(63, 'a'), 1}}));
}

TEST(CelIstio, ExistsOneOverPorts) {
  const char* rule = "self.all(l1, self.exists_one(l2, l1.number == l2.number))";
  EXPECT_CEL_TRUE(rule, J(R"([{"number": 80}, {"number": 443}])"));
  EXPECT_CEL_TRUE(rule, J("[]"));
  EXPECT_CEL_FALSE(rule, J(R"([{"number": 80}, {"number": 443}, {"number": 80}])"));
  EXPECT_CEL_ERROR(rule, J(R"([{"number": 80}, {"name": "x"}])"), "no such key: number");
}

TEST(CelIstio, UnixAddressRules) {
  const char* no_ports = R"((has(self.address) ? self.address : "").startsWith("unix://") ? !has(self.ports) : true)";
  EXPECT_CEL_TRUE(no_ports, J(R"({"address": "unix:///var/run/x.sock"})"));
  EXPECT_CEL_FALSE(no_ports, J(R"({"address": "unix:///var/run/x.sock", "ports": {"http": 80}})"));
  EXPECT_CEL_TRUE(no_ports, J(R"({"address": "10.0.0.1", "ports": {"http": 80}})"));
  EXPECT_CEL_TRUE(no_ports, J(R"({"ports": {"http": 80}})"));

  const char* not_dir = R"(self.startsWith("unix://") ? !self.endsWith("/") : true)";
  EXPECT_CEL_TRUE(not_dir, "unix:///var/run/x.sock");
  EXPECT_CEL_FALSE(not_dir, "unix:///var/run/");
  EXPECT_CEL_TRUE(not_dir, "example.com/");

  const char* absolute = R"(self.startsWith("unix://") ? (self.substring(7, 8) == "/" || self.substring(7, 8) == "@") : true)";
  EXPECT_CEL_TRUE(absolute, "unix:///var/run/x.sock");
  EXPECT_CEL_TRUE(absolute, "unix://@abstract");
  EXPECT_CEL_FALSE(absolute, "unix://relative/x.sock");
  EXPECT_CEL_TRUE(absolute, "1.2.3.4");
  EXPECT_CEL_ERROR(absolute, "unix://", "index out of range: 8");
}

TEST(CelIstio, AtMostOneOf) {
  const char* rule = "(has(self.selector) ? 1 : 0) + (has(self.targetRef) ? 1 : 0) + (has(self.targetRefs) ? 1 : 0) <= 1";
  EXPECT_CEL_TRUE(rule, J("{}"));
  EXPECT_CEL_TRUE(rule, J(R"({"selector": {}})"));
  EXPECT_CEL_TRUE(rule, J(R"({"targetRefs": []})"));
  EXPECT_CEL_FALSE(rule, J(R"({"selector": {}, "targetRef": {}})"));
  EXPECT_CEL_FALSE(rule, J(R"({"selector": {}, "targetRef": {}, "targetRefs": []})"));
  // has() is presence, not truthiness: a null value still counts.
  EXPECT_CEL_FALSE(rule, J(R"({"selector": null, "targetRefs": null})"));
}

TEST(CelIstio, PortLevelMtlsRequiresSelector) {
  const char* rule =
      "has(self.portLevelMtls) ? (((has(self.selector) && has(self.selector.matchLabels)) ? "
      "self.selector.matchLabels : {}).size() > 0) : true";
  EXPECT_CEL_TRUE(rule, J("{}"));
  EXPECT_CEL_TRUE(rule, J(R"({"portLevelMtls": {"80": {}}, "selector": {"matchLabels": {"app": "a"}}})"));
  EXPECT_CEL_FALSE(rule, J(R"({"portLevelMtls": {"80": {}}})"));
  EXPECT_CEL_FALSE(rule, J(R"({"portLevelMtls": {"80": {}}, "selector": {}})"));
  EXPECT_CEL_FALSE(rule, J(R"({"portLevelMtls": {"80": {}}, "selector": {"matchLabels": {}}})"));
}

TEST(CelIstio, MultiLineServiceAccounts) {
  const char* rule =
      "(has(self.serviceAccounts) || has(self.notServiceAccounts)) ? (!has(self.principals) &&\n"
      "!has(self.notPrincipals) && !has(self.namespaces) && !has(self.notNamespaces)) : true";
  EXPECT_CEL_TRUE(rule, J(R"({"serviceAccounts": ["a"]})"));
  EXPECT_CEL_TRUE(rule, J(R"({"principals": ["a"]})"));
  EXPECT_CEL_FALSE(rule, J(R"({"serviceAccounts": ["a"], "namespaces": ["b"]})"));
  EXPECT_CEL_FALSE(rule, J(R"({"notServiceAccounts": ["a"], "notPrincipals": ["b"]})"));
}

TEST(CelIstio, UrlScheme) {
  const char* rule = R"(url(self).getScheme() in ["http", "https"])";
  EXPECT_CEL_TRUE(rule, "https://example.com/jwks.json");
  EXPECT_CEL_TRUE(rule, "HTTP://example.com");  // Go lower-cases the scheme
  EXPECT_CEL_FALSE(rule, "ftp://example.com/x");
  EXPECT_CEL_FALSE(rule, "/only/a/path");
  EXPECT_CEL_ERROR(rule, "example.com/jwks", "URL parse error during conversion from string");
  EXPECT_CEL_ERROR(rule, "", "URL parse error");
  EXPECT_CEL_ERROR(rule, "http://exa mple.com", "invalid character");
  EXPECT_CEL_ERROR(rule, "http://example.com:8x/", "invalid port");

  const char* wasm =
      "isURL(self) ? (url(self).getScheme() in [\"\", \"http\", \"https\", \"oci\", \"file\"]) : "
      "(isURL(\"http://\" + self) &&\nurl(\"http://\" + self).getScheme() in [\"\", \"http\", \"https\", \"oci\", \"file\"])";
  EXPECT_CEL_TRUE(wasm, "oci://ghcr.io/istio/wasm:1.0");
  EXPECT_CEL_TRUE(wasm, "file:///opt/filter.wasm");
  EXPECT_CEL_TRUE(wasm, "ghcr.io/istio/wasm");  // retried with http://
  EXPECT_CEL_FALSE(wasm, "ftp://example.com/filter.wasm");
  EXPECT_CEL_FALSE(wasm, "s3://bucket/filter.wasm");
}

TEST(CelIstio, ResolutionRules) {
  const char* cidr =
      R"(!((has(self.addresses) ? self.addresses : []).exists(k, k.contains("/")) && !((has(self.resolution) ? self.resolution : "NONE") in ["STATIC", "NONE"])))";
  EXPECT_CEL_TRUE(cidr, J(R"({"addresses": ["10.0.0.0/8"]})"));
  EXPECT_CEL_TRUE(cidr, J(R"({"addresses": ["10.0.0.0/8"], "resolution": "STATIC"})"));
  EXPECT_CEL_FALSE(cidr, J(R"({"addresses": ["10.0.0.0/8"], "resolution": "DNS"})"));
  EXPECT_CEL_TRUE(cidr, J(R"({"addresses": ["10.0.0.1"], "resolution": "DNS"})"));

  const char* rr =
      R"(((has(self.resolution) ? self.resolution : "") == "DNS_ROUND_ROBIN") ? ((has(self.endpoints) ? self.endpoints : []).size() <= 1) : true)";
  EXPECT_CEL_TRUE(rr, J(R"({"resolution": "DNS_ROUND_ROBIN", "endpoints": [{}]})"));
  EXPECT_CEL_FALSE(rr, J(R"({"resolution": "DNS_ROUND_ROBIN", "endpoints": [{}, {}]})"));
  EXPECT_CEL_TRUE(rr, J(R"({"resolution": "DNS", "endpoints": [{}, {}]})"));
}

TEST(CelIstio, SimpleStringRules) {
  EXPECT_CEL_TRUE(R"(!self.contains("*"))", "app");
  EXPECT_CEL_FALSE(R"(!self.contains("*"))", "a*");
  EXPECT_CEL_TRUE(R"(self != "*")", "example.com");
  EXPECT_CEL_FALSE(R"(self != "*")", "*");
  EXPECT_CEL_TRUE(R"(self in ["", "HTTP", "HTTPS"])", "HTTPS");
  EXPECT_CEL_FALSE(R"(self in ["", "HTTP", "HTTPS"])", "http");
  EXPECT_CEL_TRUE("self.size() == 0", "");
  EXPECT_CEL_FALSE("self.size() == 0", J("[1]"));
  EXPECT_CEL_TRUE("self.all(key, key.size() != 0)", J(R"({"a": 1})"));
  EXPECT_CEL_FALSE("self.all(key, key.size() != 0)", J(R"({"": 1})"));
  EXPECT_CEL_TRUE("has(self.wasm) != has(self.lua)", J(R"({"lua": {}})"));
  EXPECT_CEL_FALSE("has(self.wasm) != has(self.lua)", J(R"({})"));
  EXPECT_CEL_TRUE(R"((has(self.valueFrom) ? self.valueFrom : "") != "HOST" || !has(self.value))", J(R"({"valueFrom": "HOST"})"));
  EXPECT_CEL_FALSE(R"((has(self.valueFrom) ? self.valueFrom : "") != "HOST" || !has(self.value))",
                   J(R"({"valueFrom": "HOST", "value": "x"})"));
}

// --- language features -------------------------------------------------------

TEST(CelLogic, ErrorAbsorption) {
  // false && error = false, true || error = true, in either order.
  EXPECT_CEL_FALSE("false && self.missing", J("{}"));
  EXPECT_CEL_FALSE("self.missing && false", J("{}"));
  EXPECT_CEL_TRUE("true || self.missing", J("{}"));
  EXPECT_CEL_TRUE("self.missing || true", J("{}"));
  EXPECT_CEL_ERROR("true && self.missing", J("{}"), "no such key: missing");
  EXPECT_CEL_ERROR("self.missing || false", J("{}"), "no such key: missing");
  EXPECT_CEL_ERROR("self.a || self.b", J("{}"), "no such key: a");
  EXPECT_CEL_FALSE("1 / 0 == 1 && false", nullptr);
  EXPECT_CEL_ERROR("true && 1", nullptr, "no such overload");
  EXPECT_CEL_FALSE("false && 1", nullptr);
  EXPECT_CEL_ERROR("!1", nullptr, "no such overload");
  EXPECT_CEL_TRUE("!false", nullptr);
  EXPECT_CEL_TRUE("!!true", nullptr);
}

TEST(CelLogic, Conditional) {
  EXPECT_CEL_TRUE("self > 1 ? true : self.missing", 2);
  EXPECT_CEL_ERROR("self > 1 ? true : self.missing", 1, "does not support field selection");
  EXPECT_CEL_ERROR("1 ? true : false", nullptr, "no such overload");
  EXPECT_CEL_TRUE("false ? false : true ? true : false", nullptr);  // right-associative
}

TEST(CelSelect, FieldsAndHas) {
  json doc = J(R"({"a": {"b": {"c": 3}}, "n": null, "list": [1, 2]})");
  EXPECT_CEL_TRUE("self.a.b.c == 3", doc);
  EXPECT_CEL_TRUE("has(self.a.b)", doc);
  EXPECT_CEL_FALSE("has(self.a.x)", doc);
  EXPECT_CEL_TRUE("has(self.n) && self.n == null", doc);
  EXPECT_CEL_ERROR("has(self.x.y)", doc, "no such key: x");
  EXPECT_CEL_ERROR("self.x == 1", doc, "no such key: x");
  EXPECT_CEL_TRUE("self['a']['b'].c == 3", doc);
  EXPECT_CEL_TRUE("self.list[1] == 2", doc);
  EXPECT_CEL_ERROR("self.list[2] == 2", doc, "out of range");
  EXPECT_CEL_ERROR("self['zz'] == 2", doc, "no such key: zz");
  EXPECT_CEL_ERROR("has(self.list.x)", doc, "invalid type for field selection");
}

TEST(CelSelect, KubernetesEscapedPropertyNames) {
  json doc = J(R"({"x-y": 1, "a.b": 2, "c/d": 3, "namespace": "ns", "e__f": 4})");
  EXPECT_CEL_TRUE("self.x__dash__y == 1 && self.a__dot__b == 2 && self.c__slash__d == 3", doc);
  EXPECT_CEL_TRUE("self.__namespace__ == 'ns' && has(self.e__underscores__f)", doc);
  EXPECT_CEL_FALSE("has(self.x__dot__y)", doc);
}

TEST(CelCompare, NumbersAcrossTypes) {
  EXPECT_CEL_TRUE("1 < 1.5 && 2.0 > 1 && 1u < 2 && -1 < 0u", nullptr);
  EXPECT_CEL_TRUE("1 == 1.0 && 1u == 1 && 2.5 != 2", nullptr);
  EXPECT_CEL_TRUE("self == 3", 3.0);
  EXPECT_CEL_TRUE("9223372036854775807 < 9223372036854775808.0", nullptr);  // exact, not via double
  EXPECT_CEL_TRUE("'abc' < 'abd' && 'b' > 'abc' && false < true", nullptr);
  EXPECT_CEL_TRUE("'a' != 1", nullptr);  // heterogeneous equality is false, not an error
  EXPECT_CEL_ERROR("'a' < 1", nullptr, "no such overload: _<_(string, int)");
  EXPECT_CEL_TRUE("[1, 'a'] == [1, 'a'] && {'k': 1} == {'k': 1.0} && [1] != [1, 2]", nullptr);
  EXPECT_CEL_FALSE("double('NaN') == double('NaN')", nullptr);
  EXPECT_CEL_FALSE("double('NaN') < 1.0", nullptr);
}

TEST(CelArith, IntegersAndOverflow) {
  EXPECT_CEL_TRUE("1 + 2 * 3 - 4 / 2 % 3 == 5", nullptr);
  EXPECT_CEL_TRUE("-7 / 2 == -3 && -7 % 2 == -1", nullptr);  // truncating, like Go
  EXPECT_CEL_TRUE("-self == -5", 5);
  EXPECT_CEL_TRUE("-9223372036854775808 < 0", nullptr);
  EXPECT_CEL_ERROR("9223372036854775807 + 1 > 0", nullptr, "integer overflow");
  EXPECT_CEL_ERROR("-9223372036854775808 - 1 < 0", nullptr, "integer overflow");
  EXPECT_CEL_ERROR("-self < 0", J("-9223372036854775808"), "integer overflow");
  EXPECT_CEL_ERROR("1 / 0 == 0", nullptr, "division by zero");
  EXPECT_CEL_ERROR("1 % 0 == 0", nullptr, "modulus by zero");
  EXPECT_CEL_ERROR("0u - 1u == 0u", nullptr, "unsigned integer overflow");
  EXPECT_CEL_ERROR("1 + 1.0 == 2", nullptr, "no such overload: _+_(int, double)");
  EXPECT_CEL_TRUE("1.5 * 2.0 == 3.0 && 1.0 / 0.0 > 1e308", nullptr);
  EXPECT_CEL_TRUE("0x10 == 16 && 10u == uint(10)", nullptr);
}

TEST(CelArith, StringsAndLists) {
  EXPECT_CEL_TRUE("'http://' + self == 'http://a'", "a");
  EXPECT_CEL_TRUE("[1] + [2, 3] == [1, 2, 3] && size([1] + []) == 1", nullptr);
  EXPECT_CEL_TRUE("2 in [1, 2] && !(3 in [1, 2]) && 'a' in {'a': 1} && !('b' in {'a': 1})", nullptr);
  EXPECT_CEL_TRUE("'x' in self", J(R"({"x": false})"));
  EXPECT_CEL_ERROR("1 in 1", nullptr, "no such overload");
}

TEST(CelFunctions, Size) {
  EXPECT_CEL_TRUE("size(self) == 4 && self.size() == 4", "\xC3\xA9t\xC3\xA9!");  // code points
  EXPECT_CEL_TRUE("size('\\u00e9') == 1", nullptr);
  EXPECT_CEL_TRUE("size(self) == 2", J("[1, 2]"));
  EXPECT_CEL_TRUE("size(self) == 1", J(R"({"a": 1})"));
  EXPECT_CEL_ERROR("size(self) == 1", 1, "no such overload");
}

TEST(CelFunctions, Conversions) {
  EXPECT_CEL_TRUE("int('42') == 42 && int('-7') == -7 && int(3.9) == 3 && int(-3.9) == -3", nullptr);
  EXPECT_CEL_ERROR("int(self) > 0", "4x", "type conversion error from 'string' to 'int'");
  EXPECT_CEL_ERROR("int(self) > 0", " 4", "type conversion error from 'string' to 'int'");
  EXPECT_CEL_ERROR("int(self) > 0", "99999999999999999999", "type conversion error from 'string' to 'int'");
  EXPECT_CEL_ERROR("int(1e19) > 0", nullptr, "integer overflow");
  EXPECT_CEL_TRUE("uint('7') == 7u && double('1.5') == 1.5 && double(2) == 2.0", nullptr);
  EXPECT_CEL_ERROR("uint(-1) == 0u", nullptr, "unsigned integer overflow");
  EXPECT_CEL_TRUE("string(12) == '12' && string(1.5) == '1.5' && string(true) == 'true' && string(3u) == '3'",
                  nullptr);
  EXPECT_CEL_TRUE("string(1e21) == '1e+21' && string(0.0001) == '0.0001' && string(100000.0) == '100000'", nullptr);
  EXPECT_CEL_TRUE("bool('true') && !bool('0')", nullptr);
  EXPECT_CEL_ERROR("bool('yes')", nullptr, "type conversion error from 'string' to 'bool'");
  EXPECT_CEL_TRUE("type(1) == int && type('a') == string && type(self) == map", J("{}"));
}

TEST(CelFunctions, StringMethods) {
  EXPECT_CEL_TRUE("self.contains('ell') && self.startsWith('he') && self.endsWith('lo')", "hello");
  EXPECT_CEL_FALSE("self.startsWith('hello!')", "hello");
  EXPECT_CEL_TRUE("self.matches('l+') && !self.matches('^l') && matches(self, 'o$')", "hello");  // unanchored search
  EXPECT_CEL_ERROR("self.matches(self)", "(", "invalid regular expression");
  EXPECT_CEL_TRUE("self.substring(1) == 'ello' && self.substring(1, 3) == 'el' && self.substring(5) == ''", "hello");
  EXPECT_CEL_TRUE("self.substring(1, 2) == '\xC3\xA9'", "h\xC3\xA9llo");  // code points, not bytes
  EXPECT_CEL_ERROR("self.substring(6) == ''", "hello", "index out of range: 6");
  EXPECT_CEL_ERROR("self.substring(-1) == ''", "hello", "index out of range: -1");
  EXPECT_CEL_ERROR("self.substring(3, 2) == ''", "hello", "invalid substring range");
  EXPECT_CEL_TRUE("self.lowerAscii() == 'abc\xC3\x89' && self.upperAscii() == 'ABC\xC3\x89'", "AbC\xC3\x89");
  EXPECT_CEL_TRUE("self.trim() == 'a b'", " \ta b\n");
  EXPECT_CEL_TRUE("self.split(',') == ['a', 'b', ''] && self.split(',', 2) == ['a', 'b,']", "a,b,");
  EXPECT_CEL_TRUE("self.indexOf('l') == 2 && self.lastIndexOf('l') == 3 && self.indexOf('z') == -1", "hello");
  EXPECT_CEL_TRUE("self.replace('l', 'L') == 'heLLo' && self.replace('l', 'L', 1) == 'heLlo'", "hello");
  EXPECT_CEL_TRUE("['a', 'b'].join('-') == 'a-b' && self.charAt(1) == 'e'", "hello");
  EXPECT_CEL_ERROR("self.contains(1)", "hello", "no such overload");
}

TEST(CelFunctions, UrlParts) {
  json u = "https://user@example.com:8443/a%20b/c?x=1";
  EXPECT_CEL_TRUE("url(self).getScheme() == 'https'", u);
  EXPECT_CEL_TRUE("url(self).getHost() == 'example.com:8443'", u);
  EXPECT_CEL_TRUE("url(self).getHostname() == 'example.com' && url(self).getPort() == '8443'", u);
  EXPECT_CEL_TRUE("url(self).getEscapedPath() == '/a%20b/c'", u);
  EXPECT_CEL_TRUE("url('http://[::1]:80/').getHostname() == '::1'", nullptr);
  EXPECT_CEL_TRUE("isURL('/abs/path') && !isURL('rel/path') && isURL('mailto:x@y') && !isURL('')", nullptr);
  EXPECT_CEL_TRUE("url('/abs').getScheme() == ''", nullptr);
}

TEST(CelMacros, ListsAndMaps) {
  json list = J("[1, 2, 3]");
  EXPECT_CEL_TRUE("self.all(x, x > 0)", list);
  EXPECT_CEL_FALSE("self.all(x, x > 1)", list);
  EXPECT_CEL_TRUE("self.exists(x, x == 2)", list);
  EXPECT_CEL_FALSE("self.exists(x, x == 5)", list);
  EXPECT_CEL_TRUE("self.exists_one(x, x > 2)", list);
  EXPECT_CEL_FALSE("self.exists_one(x, x > 1)", list);
  EXPECT_CEL_TRUE("self.map(x, x * 2) == [2, 4, 6]", list);
  EXPECT_CEL_TRUE("self.map(x, x > 1, x * 10) == [20, 30]", list);
  EXPECT_CEL_TRUE("self.filter(x, x % 2 == 1) == [1, 3]", list);
  EXPECT_CEL_TRUE("self.exists(x, x == 2) && [].all(x, false) && ![].exists(x, true)", list);
  // Maps iterate over keys, in JSON (sorted) order.
  json map = J(R"({"b": 1, "a": 2, "c": 3})");
  EXPECT_CEL_TRUE("self.map(k, k) == ['a', 'b', 'c']", map);
  EXPECT_CEL_TRUE("self.filter(k, self[k] > 1) == ['a', 'c']", map);
  EXPECT_CEL_TRUE("self.all(k, k.size() == 1)", map);
  // Nested macros shadow and restore variables.
  EXPECT_CEL_TRUE("self.all(x, [10].all(x, x == 10)) && self.exists(x, x == 3)", list);
  // Errors: absorbed by a deciding element, propagated otherwise.
  json mixed = J(R"([{"a": 1}, {"b": 2}])");
  EXPECT_CEL_FALSE("self.all(e, e.a == 2)", mixed);
  EXPECT_CEL_ERROR("self.all(e, e.a == 1)", mixed, "no such key: a");
  EXPECT_CEL_TRUE("self.exists(e, e.a == 1)", mixed);
  EXPECT_CEL_ERROR("self.exists(e, e.a == 2)", mixed, "no such key: a");
  EXPECT_CEL_ERROR("self.exists_one(e, e.a == 1)", mixed, "no such key: a");
  EXPECT_CEL_ERROR("self.map(e, e.a) == [1]", mixed, "no such key: a");
  EXPECT_CEL_ERROR("self.all(x, x)", 5, "does not support iteration");
}

TEST(CelLiterals, StringsAndNumbers) {
  EXPECT_CEL_TRUE(R"('a\'b' == "a'b" && "\x41\u00e9\101" == 'A\u00e9A')", nullptr);
  EXPECT_CEL_TRUE(R"(r'\d+' == '\\d+' && R"a\n" == 'a\\n')", nullptr);
  EXPECT_CEL_TRUE("'''multi\nline''' == \"multi\\nline\" && \"\"\"x\"y\"\"\" == 'x\"y'", nullptr);
  EXPECT_CEL_TRUE("1.5e3 == 1500.0 && .5 == 0.5 && 1e-400 == 0.0", nullptr);
  EXPECT_CEL_TRUE("[1, 2,].size() == 2 && {'a': 1,}.size() == 1 && {}.size() == 0", nullptr);
  EXPECT_CEL_TRUE("// a comment\n self == 1 // trailing\n", 1);
  EXPECT_CEL_ERROR("{'a': 1, 'a': 2}.size() == 2", nullptr, "repeated key");
}

TEST(CelResult, NonBoolAndOldSelf) {
  EXPECT_CEL_ERROR("self", 1, "did not evaluate to a bool");
  EXPECT_CEL_ERROR("self + 1", 1, "did not evaluate to a bool");
  EXPECT_CEL_ERROR("oldSelf == self", 1, "transition rules");
}

}  // namespace
}  // namespace lg::ctrl::cel
