"""linegate-agent and linegatectl as an operator uses them: real processes,
files on disk, loopback gRPC. No root, no DPDK."""
import json
import os
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import agent_tools  # noqa: E402
from agent_tools import AgentProcess, ConfigDumpServer, crds_args, ctl, run_agent_once  # noqa: E402

GATEWAY = """\
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: public
  namespace: istio-system
spec:
  selector:
    istio: ingressgateway
  servers:
  - port:
      number: 80
      name: http
      protocol: HTTP
    hosts:
    - "httpbin.example.com"
"""

SERVICE_ENTRY = """\
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: httpbin-ext
  namespace: istio-system
spec:
  hosts:
  - httpbin.example.com
  location: MESH_EXTERNAL
  resolution: DNS
  ports:
  - number: 80
    name: http
    protocol: HTTP
"""

VIRTUAL_SERVICE = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: httpbin
  namespace: istio-system
spec:
  hosts:
  - httpbin.example.com
  gateways:
  - public
  http:
  - route:
    - destination:
        host: httpbin.example.com
        port:
          number: 80
"""

# Weights summing to 90 (Istio: "total destination weight ... != 100").
BAD_WEIGHTS = VIRTUAL_SERVICE.replace(
    """          number: 80
""",
    """          number: 80
      weight: 50
    - destination:
        host: httpbin.example.com
        port:
          number: 80
      weight: 40
""",
)

GOOD = "---\n".join([GATEWAY, SERVICE_ENTRY, VIRTUAL_SERVICE])


@pytest.fixture(scope="module")
def binaries():
    missing = [str(b) for b in (agent_tools.agent_binary(), agent_tools.linegatectl_binary()) if not os.access(b, os.X_OK)]
    if missing:
        pytest.fail(f"not built: {', '.join(missing)} (ninja -C build, or set LINEGATE_AGENT_BIN / LINEGATECTL_BIN)",
                    pytrace=False)


@pytest.fixture
def agent(binaries, tmp_path):
    """Factory: agent(watch=[dirs], debounce_ms=...) -> started AgentProcess.
    Every one is stopped afterwards; its log is printed at teardown, which
    pytest shows only for a failing test."""
    started = []

    def start(**kw):
        a = AgentProcess(tmp_path / f"agent{len(started)}.log", **kw)
        started.append(a)
        return a.start()

    try:
        yield start
    finally:
        for a in started:
            a.stop()
            print(f"--- {a.log_path}\n{a.log()}")


def status_json(agent_proc):
    p = ctl("proxy-status", "--agent", agent_proc.address, "-o", "json")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout or "{}")


# --------------------------------------------------------------------------- usage errors


@pytest.mark.parametrize("args, needle", [
    (["--watch", "/nonexistent/lg-agent-dir"], "/nonexistent/lg-agent-dir"),
    (["--listen", "not-an-address"], "--listen"),
    (["--listen", "127.0.0.1:99999"], "--listen"),
    (["--debounce-ms", "-5"], "debounce"),
    (["--debounce-ms", "soon"], "debounce"),
    (["--root-namespace", "Not_A_Namespace"], "root-namespace"),
    (["--no-such-flag"], "no-such-flag"),
])
def test_agent_bad_arguments_exit_2(binaries, args, needle):
    p = run_agent_once(*args)
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    assert needle in p.stderr, p.stderr


def test_agent_help_exits_0(binaries):
    p = run_agent_once("--help")
    assert p.returncode == 0
    assert "--watch" in p.stdout and "--listen" in p.stdout


@pytest.mark.parametrize("args", [
    [],
    ["frobnicate"],
    ["analyze"],
    ["proxy-config", "bogus-section"],
    ["proxy-config", "listeners", "-o", "yaml"],
    ["proxy-status", "-o", "xml"],
    ["apply", "--agent", "127.0.0.1:1"],
])
def test_linegatectl_usage_errors_exit_2(binaries, args):
    p = ctl(*args)
    assert p.returncode == 2, (args, p.returncode, p.stdout, p.stderr)
    assert p.stderr.strip(), "a usage error must say what is wrong"


def test_agent_port_in_use_fails_clearly(agent):
    first = agent()
    p = run_agent_once("--listen", first.address)
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert "cannot listen on " + first.address in p.stderr


# --------------------------------------------------------------------------- analyze


def test_analyze_good_files(binaries, tmp_path):
    (tmp_path / "gw.yaml").write_text(GATEWAY)
    (tmp_path / "routes").mkdir()
    (tmp_path / "routes" / "vs.yaml").write_text("---\n".join([SERVICE_ENTRY, VIRTUAL_SERVICE]))
    p = ctl("analyze", *crds_args(), "-f", str(tmp_path))
    assert p.returncode == 0, p.stdout + p.stderr
    assert "\u2714 No validation issues found when analyzing 3 resources" in p.stderr
    assert "Error" not in p.stdout


def test_analyze_bad_file_names_file_kind_and_path(binaries, tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text("---\n".join([GATEWAY, SERVICE_ENTRY]))
    bad = tmp_path / "bad-weights.yaml"
    bad.write_text(BAD_WEIGHTS)
    p = ctl("analyze", *crds_args(), "-f", str(good), str(bad))
    assert p.returncode == 1, p.stdout + p.stderr
    errors = [line for line in p.stdout.splitlines() if line.startswith("Error:")]
    assert errors, p.stdout
    assert any(str(bad) in e and "VirtualService istio-system/httpbin" in e and "spec.http[0]" in e for e in errors), \
        p.stdout
    assert "Analyzers found" in p.stderr


def test_analyze_yaml_syntax_error_and_missing_path(binaries, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("apiVersion: networking.istio.io/v1\nkind: [unclosed\n")
    p = ctl("analyze", *crds_args(), "-f", str(broken))
    assert p.returncode == 1
    assert str(broken) in p.stdout
    p = ctl("analyze", *crds_args(), "-f", str(tmp_path / "missing.yaml"))
    assert p.returncode == 1
    assert "missing.yaml" in p.stdout


def test_analyze_warnings_only_exit_0(binaries, tmp_path):
    # A directory without manifests is a warning, not an error.
    (tmp_path / "empty").mkdir()
    (tmp_path / "gw.yaml").write_text(GATEWAY)
    p = ctl("analyze", *crds_args(), "-f", str(tmp_path / "gw.yaml"), str(tmp_path / "empty"))
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Warning:" in p.stdout
    assert "warning(s) and no errors" in p.stderr


# --------------------------------------------------------------------------- apply / proxy-status


def test_apply_valid_then_invalid(agent, tmp_path):
    a = agent()
    good = tmp_path / "good.yaml"
    good.write_text(GOOD)
    p = ctl("apply", "-f", str(good), "--agent", a.address)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Applied 1 file" in p.stderr and "generation 1" in p.stderr
    assert a.wait_log(r"config from apply \(1 file\(s\)\) accepted: config version [0-9a-f]{16} generation 1")
    st = status_json(a)
    version = st["config_version"]
    assert len(version) == 16 and st["generation"] == "1"

    bad = tmp_path / "bad-weights.yaml"
    bad.write_text(BAD_WEIGHTS)
    mark = len(a.log())
    p = ctl("apply", "-f", str(bad), "--agent", a.address)
    assert p.returncode == 1, p.stdout + p.stderr
    assert any(str(bad) in line and "VirtualService istio-system/httpbin" in line and "spec.http[0]" in line
               for line in p.stdout.splitlines() if line.startswith("Error:")), p.stdout
    assert "Rejected by the agent" in p.stderr and "nothing was changed or pushed" in p.stderr
    assert a.wait_log(r"rejected: \d+ error\(s\); still serving config version " + version, after=mark)
    assert status_json(a)["config_version"] == version  # nothing changed

    # Dry run of a change: accepted, not applied.
    changed = tmp_path / "gw-8080.yaml"
    changed.write_text(GATEWAY.replace("number: 80", "number: 8080"))
    p = ctl("apply", "-f", str(changed), "--agent", a.address, "--dry-run")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Dry run" in p.stderr and "nothing changed" in p.stderr
    assert status_json(a)["config_version"] == version

    # Same content again: accepted, unchanged.
    p = ctl("apply", "-f", str(good), "--agent", a.address)
    assert p.returncode == 0 and "unchanged" in p.stderr, p.stderr


def test_apply_directory_and_stdin(agent, tmp_path):
    a = agent()
    d = tmp_path / "manifests"
    (d / "sub").mkdir(parents=True)
    (d / "gw.yaml").write_text(GATEWAY)
    (d / "sub" / "routes.yml").write_text("---\n".join([SERVICE_ENTRY, VIRTUAL_SERVICE]))
    (d / "README.md").write_text("not a manifest")
    p = ctl("apply", "-f", str(d), "--agent", a.address)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Applied 2 files" in p.stderr and "3 resources" in p.stderr

    p = ctl("apply", "-f", "-", "--agent", a.address, input=BAD_WEIGHTS)
    assert p.returncode == 1
    assert "<stdin>" in p.stdout


def test_apply_and_status_without_agent(binaries, tmp_path):
    f = tmp_path / "gw.yaml"
    f.write_text(GATEWAY)
    port = agent_tools_free_port()
    p = ctl("apply", "-f", str(f), "--agent", f"127.0.0.1:{port}")
    assert p.returncode == 1
    assert "cannot reach the agent" in p.stderr
    p = ctl("proxy-status", "--agent", f"127.0.0.1:{port}")
    assert p.returncode == 1
    assert "cannot reach the agent" in p.stderr
    p = ctl("apply", "-f", str(tmp_path / "nope.yaml"), "--agent", f"127.0.0.1:{port}")
    assert p.returncode == 1 and "nope.yaml: no such file or directory" in p.stderr


def agent_tools_free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_proxy_status_without_gateways(agent):
    a = agent()
    p = ctl("proxy-status", "--agent", a.address)
    assert p.returncode == 0, p.stderr
    assert "No gateways" in p.stderr


# --------------------------------------------------------------------------- watching


def test_watched_directory_is_picked_up_debounced(agent, tmp_path):
    d = tmp_path / "watched"
    d.mkdir()
    a = agent(watch=[d], debounce_ms=300)
    st = status_json(a)
    assert st.get("generation", "0") == "1"  # the empty directory: a valid, empty config
    empty_version = st["config_version"]

    # Several files in quick succession, one in a new subdirectory: one reload.
    mark = len(a.log())
    (d / "gw.yaml").write_text(GATEWAY)
    (d / "team").mkdir()
    (d / "team" / "se.yaml").write_text(SERVICE_ENTRY)
    tmp = d / ".vs.yaml.tmp"
    tmp.write_text(VIRTUAL_SERVICE)
    tmp.rename(d / "team" / "vs.yaml")
    m = a.wait_log(r"config from watched directories accepted: config version ([0-9a-f]{16}) generation (\d+) "
                   r"\((\d+) resources", timeout=5, after=mark)
    assert m, a.log()
    assert m.group(3) == "3", a.log()
    time.sleep(0.6)
    assert a.log()[mark:].count("config from watched directories") == 1, a.log()
    st = status_json(a)
    assert st["config_version"] == m.group(1) != empty_version

    # A bad file on disk is rejected and the config stays.
    mark = len(a.log())
    (d / "team" / "vs.yaml").write_text(BAD_WEIGHTS)
    assert a.wait_log(r"config from watched directories rejected", timeout=5, after=mark), a.log()
    assert a.wait_log(r"Error: .*vs\.yaml.*VirtualService istio-system/httpbin", timeout=1, after=mark), a.log()
    assert status_json(a)["config_version"] == m.group(1)

    # Deleting it is a change too.
    mark = len(a.log())
    (d / "team" / "vs.yaml").unlink()
    assert a.wait_log(r"config from watched directories accepted: .*\(2 resources", timeout=5, after=mark), a.log()


def test_sigterm_stops_cleanly(agent):
    a = agent()
    assert a.alive()
    assert a.stop() == 0
    assert "received SIGTERM, shutting down" in a.log()


# --------------------------------------------------------------------------- proxy-config


SNAPSHOT = {
    "version": "0123456789abcdef",
    "nodeId": "gw-a",
    "gateways": ["istio-system/public"],
    "listeners": [{"name": "0.0.0.0_80", "address": "0.0.0.0", "port": 80, "protocol": "PROTOCOL_HTTP",
                   "routeTable": "http.80",
                   "servers": [{"name": "istio-system/public/0", "gateway": "istio-system/public",
                                "protocol": "PROTOCOL_HTTP", "hosts": ["istio-system/httpbin.example.com"],
                                "sniHosts": ["httpbin.example.com"], "routeTable": "http.80"}]}],
    "clusters": [{"name": "outbound|80||httpbin.example.com", "host": "httpbin.example.com", "port": 80,
                  "endpoints": [{"address": "10.0.0.7", "port": 8080, "weight": 1}]}],
    "secrets": [{"name": "edge-cert", "namespace": "istio-system", "privateKey": "c2VjcmV0"}],
    "aFieldFromTheFuture": {"x": 1},
}


@pytest.fixture
def admin():
    servers = []

    def start(body, status=200):
        s = ConfigDumpServer(body, status)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.close()


def test_proxy_config_json_sections(binaries, admin):
    s = admin(json.dumps(SNAPSHOT))
    p = ctl("proxy-config", "listeners", "--admin", s.address, "-o", "json")
    assert p.returncode == 0, p.stderr
    listeners = json.loads(p.stdout)
    assert [(x["name"], x["port"]) for x in listeners] == [("0.0.0.0_80", 80)]

    p = ctl("proxy-config", "endpoints", "--admin", s.address, "-o", "json")
    assert p.returncode == 0, p.stderr
    eps = json.loads(p.stdout)
    assert eps[0]["cluster"] == "outbound|80||httpbin.example.com"
    assert eps[0]["endpoints"][0]["address"] == "10.0.0.7"

    p = ctl("proxy-config", "secrets", "--admin", s.address, "-o", "json")
    assert p.returncode == 0, p.stderr
    assert "c2VjcmV0" not in p.stdout and "redacted" in p.stdout


def test_proxy_config_table(binaries, admin):
    s = admin(json.dumps(SNAPSHOT))
    p = ctl("proxy-config", "listeners", "--admin", s.address)
    assert p.returncode == 0, p.stderr
    header, *rows = p.stdout.splitlines()
    assert header.split()[:2] == ["ADDRESS", "PORT"]
    assert len(rows) == 1 and rows[0].split()[:2] == ["0.0.0.0", "80"], p.stdout
    assert "httpbin.example.com" in rows[0]
    p = ctl("proxy-config", "clusters", "--admin", s.address)
    assert p.returncode == 0, p.stderr
    assert "httpbin.example.com" in p.stdout


def test_proxy_config_errors(binaries, admin):
    s = admin("no snapshot yet\n", status=503)
    p = ctl("proxy-config", "routes", "--admin", s.address)
    assert p.returncode == 1
    assert "503" in p.stderr and "no snapshot yet" in p.stderr

    s = admin("{not json")
    p = ctl("proxy-config", "routes", "--admin", s.address)
    assert p.returncode == 1
    assert "not a GatewaySnapshot" in p.stderr

    p = ctl("proxy-config", "routes", "--admin", f"127.0.0.1:{agent_tools_free_port()}")
    assert p.returncode == 1
    assert "cannot connect" in p.stderr
