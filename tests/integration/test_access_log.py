"""Access logs as Istio configures them: MeshConfig (ConfigMap istio in
istio-system) defines envoyFileAccessLog providers, a Telemetry in the root
namespace turns them on. Real clients (the test's HTTP client, curl) through
the gateway to a Python upstream; the logs are read from their files:

  text-file    Istio's default text format
  json-file    JSON labels (typed values)
  errors-only  a text format with a CEL filter: response.code >= 400

A second gateway turns on the built-in `envoy` provider with the mesh's
accessLogEncoding JSON, written to its standard output. The
ISTIO_MUTUAL caller's principal in the log is in test_istio_mtls.py.
"""
import json
import re
import subprocess

import pytest

import lgtest
from http_peers import HttpUpstream, UUID_RE, crd, dest, docs, get, http_gateway, http_server, service_entry, \
    start_http_gateway, virtual_service

pytestmark = pytest.mark.usefixtures("linegate_env")

PORT = 8080
UPSTREAM_PORT = 19701
HOST = "app.test"
SVC = "app.logs.svc"
CLUSTER = f"outbound|80||{SVC}"

TEXT_LINE = re.compile(
    r'^\[(?P<start>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)\] "(?P<method>\S+) (?P<path>\S+) (?P<protocol>\S+)" '
    r'(?P<code>\d+) (?P<flags>\S+) (?P<details>\S+) (?P<termination>\S+) "(?P<failure>[^"]*)" '
    r'(?P<rx>\d+) (?P<tx>\d+) (?P<duration>\d+) (?P<service_time>\S+) "(?P<xff>[^"]*)" "(?P<ua>[^"]*)" '
    r'"(?P<rid>[^"]*)" "(?P<authority>[^"]*)" "(?P<upstream>[^"]*)" (?P<cluster>\S+) (?P<upstream_local>\S+) '
    r'(?P<local>\S+) (?P<remote>\S+) (?P<sni>\S+) (?P<route>\S+)$')


def mesh_config(logs, mesh_extra: str = "") -> str:
    mesh = f"""{mesh_extra}
extensionProviders:
- name: text-file
  envoyFileAccessLog:
    path: {logs / "text.log"}
- name: json-file
  envoyFileAccessLog:
    path: {logs / "json.log"}
    logFormat:
      labels:
        code: "%RESPONSE_CODE%"
        path: "%REQ(:PATH)%"
        flags: "%RESPONSE_FLAGS%"
        bytes_received: "%BYTES_RECEIVED%"
        bytes_sent: "%BYTES_SENT%"
        peer: "%DOWNSTREAM_PEER_URI_SAN%"
        agent: "%REQ(USER-AGENT):8%"
- name: errors-only
  envoyFileAccessLog:
    path: {logs / "errors.log"}
    logFormat:
      text: "%RESPONSE_CODE% %REQ(:PATH)% %RESPONSE_CODE_DETAILS%"
"""
    return json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                       "metadata": {"name": "istio", "namespace": "istio-system"}, "data": {"mesh": mesh}}) + "\n"


def telemetry(entries) -> str:
    return crd("Telemetry", "mesh-default", {"accessLogging": entries}, api="telemetry.istio.io/v1")


FILES = [{"providers": [{"name": "text-file"}, {"name": "json-file"}]},
         {"providers": [{"name": "errors-only"}], "filter": {"expression": "response.code >= 400"}}]


def config(peer: str, logs, entries=FILES, mesh_extra: str = "") -> str:
    return docs(http_gateway("gw", [http_server(PORT, [HOST])]),
                service_entry("app", SVC, 80, [(peer, UPSTREAM_PORT, {})]),
                virtual_service("app", [HOST], [{"name": "primary", "route": [dest(SVC, 80)]}], ["gw"]),
                mesh_config(logs, mesh_extra), telemetry(entries))


class Logs:
    def __init__(self, g, d, upstream):
        self.g, self.dir, self.upstream = g, d, upstream

    def lines(self, name: str) -> list[str]:
        p = self.dir / name
        return p.read_text().splitlines() if p.exists() else []

    def wait_line(self, name: str, needle: str, timeout: float = 5.0) -> str:
        found = []

        def seen():
            found[:] = [line for line in self.lines(name) if needle in line]
            return found

        assert lgtest.wait_until(seen, timeout), f"no {needle!r} in {name}: {self.lines(name)[-5:]}"
        return found[-1]

    def stats(self) -> dict:
        return {k[len("access_log."):]: v for k, v in self.g.stats().items() if k.startswith("access_log.")}


@pytest.fixture(scope="module")
def logs(linegate_env, tmp_path_factory):
    factory = lgtest.Factory(tmp_path_factory.mktemp("access-log"))
    d = tmp_path_factory.mktemp("logs")
    upstream = None
    try:
        g, _ = start_http_gateway(factory, lambda peer: config(peer, d))
        upstream = HttpUpstream(g.peer4, UPSTREAM_PORT, "app")
        yield Logs(g, d, upstream)
    finally:
        if upstream:
            upstream.close()
        factory.cleanup()


def test_istio_default_text_format(logs):
    r = get(logs.g.ip4, PORT, "/hello?x=1", HOST, headers=[("user-agent", "lg-test/1"), ("x-forwarded-for", "203.0.113.9")])
    assert r.status == 200, r
    m = TEXT_LINE.match(logs.wait_line("text.log", "/hello?x=1"))
    assert m, logs.lines("text.log")
    f = m.groupdict()
    assert (f["method"], f["path"], f["protocol"], f["code"]) == ("GET", "/hello?x=1", "HTTP/1.1", "200"), f
    assert (f["flags"], f["details"], f["termination"], f["failure"]) == ("-", "via_upstream", "-", "-"), f
    assert f["rx"] == "0" and int(f["tx"]) == len(r.body), (f, r)
    assert f["service_time"].isdigit() and int(f["duration"]) >= int(f["service_time"]), f
    assert f["xff"] == f"203.0.113.9, {logs.g.peer4}", f  # as the upstream got it
    assert f["ua"] == "lg-test/1" and f["authority"] == HOST, f
    rec = logs.upstream.requests("/hello")[-1]
    assert UUID_RE.match(f["rid"]) and f["rid"] == rec.header("x-request-id"), (f, rec)
    assert f["upstream"] == f"{logs.g.peer4}:{UPSTREAM_PORT}" and f["cluster"] == CLUSTER, f
    assert f["upstream_local"].startswith(logs.g.ip4 + ":"), f
    assert f["local"] == f"{logs.g.ip4}:{PORT}" and f["remote"].startswith(logs.g.peer4 + ":"), f
    assert f["sni"] == "-" and f["route"] == "primary", f


def test_json_labels_keep_types(logs):
    body = b"x" * 1000
    p = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-A", "curl-agent-long",
                        "--data-binary", "@-", "-H", f"Host: {HOST}", f"http://{logs.g.ip4}:{PORT}/upload"],
                       input=body, capture_output=True, timeout=10)
    assert p.stdout == b"200", p
    entry = json.loads(logs.wait_line("json.log", '"/upload"'))
    assert entry == {"agent": "curl-age", "bytes_received": 1000, "bytes_sent": entry["bytes_sent"], "code": 200,
                     "flags": None, "path": "/upload", "peer": None}, entry
    assert entry["bytes_sent"] > 0


def test_filter_logs_only_errors_and_local_answers_are_logged(logs):
    before = logs.stats()
    assert get(logs.g.ip4, PORT, "/ok-not-in-errors", HOST).status == 200
    assert get(logs.g.ip4, PORT, "/nowhere", "unknown.test").status == 404
    assert logs.wait_line("errors.log", "/nowhere") == "404 /nowhere route_not_found"
    text = TEXT_LINE.match(logs.wait_line("text.log", "/nowhere")).groupdict()
    assert (text["code"], text["flags"], text["upstream"], text["cluster"], text["route"]) == \
        ("404", "NR", "-", "-", "-"), text
    assert not [line for line in logs.lines("errors.log") if "/ok-not-in-errors" in line]
    want = {"filtered": before["filtered"] + 1, "dropped": 0, "write_failed": 0, "filter_errors": 0}
    got = lgtest.settle(lambda: {k: logs.stats()[k] for k in want}, want)
    assert got == want
    assert logs.stats()["written"] >= before["written"] + 5


def test_upstream_failure_is_logged_with_its_flag(logs):
    logs.upstream.close()
    try:
        r = get(logs.g.ip4, PORT, "/down", HOST)
        assert r.status == 503, r
        assert logs.wait_line("errors.log", "/down") == \
            "503 /down upstream_reset_before_response_started{connection_failure}"
        assert TEXT_LINE.match(logs.wait_line("text.log", "/down")).group("flags") == "UF"
    finally:
        logs.upstream = HttpUpstream(logs.g.peer4, UPSTREAM_PORT, "app")


def test_builtin_envoy_provider_writes_json_to_stdout(linegate_env, tmp_path):
    """The built-in `envoy` provider follows the mesh's accessLogEncoding
    (JSON: Istio's default labels) and writes to standard output."""
    factory = lgtest.Factory(tmp_path / "gw")
    upstream = None
    try:
        g, _ = start_http_gateway(factory, lambda peer: config(peer, tmp_path, [{"providers": [{"name": "envoy"}]}],
                                                               mesh_extra="accessLogEncoding: JSON"))
        upstream = HttpUpstream(g.peer4, UPSTREAM_PORT, "app")
        assert get(g.ip4, PORT, "/to-stdout", HOST).status == 200

        def entry():
            for line in g.log_text(400).splitlines():
                if line.startswith("{") and '"/to-stdout"' in line:
                    return json.loads(line)
            return None

        assert lgtest.wait_until(entry, 5), g.log_text(40)
        e = entry()
        assert (e["method"], e["path"], e["response_code"], e["upstream_cluster"]) == \
            ("GET", "/to-stdout", 200, CLUSTER), e
        assert e["x_forwarded_for"] == g.peer4 and e["requested_server_name"] is None, e
        assert len(e) == 24, sorted(e)  # Istio's default labels
        assert not (tmp_path / "text.log").exists()  # the file providers are not on
    finally:
        if upstream:
            upstream.close()
        factory.cleanup()
