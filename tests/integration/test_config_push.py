"""Config from the agent to the dataplane: one linegate-agent, two linegate
gateways (real processes, each on its own tap), linegatectl as the operator.

- apply → both gateways ACK the same version within 1 s and their workers
  run it (RCU generation reached every worker);
- an invalid change is rejected by the agent and never pushed;
- a change only the dataplane can reject (a listener on a port the node's own
  echo service holds) is NACKed; proxy-status shows the reason; the old
  config and the traffic keep going;
- agent killed → gateways keep serving; agent back → they reconnect and sync;
- swaps under a running TCP stream lose nothing;
- standalone config_dir mode and proxy-config against a gateway.
"""
import json
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

import lgtest
from lgtest import wait_until
from tcp_peers import echo_transfer

pytestmark = pytest.mark.usefixtures("linegate_env")

ECHO_PORT = 7000  # the gateways' built-in echo service: a port the agent cannot know about


def _binary(env: str, rel: str) -> Path:
    p = os.environ.get(env)
    return Path(p) if p else lgtest.REPO / "build" / rel


AGENT = _binary("LINEGATE_AGENT_BIN", "ctrl/agent/linegate-agent")
CTL = _binary("LINEGATECTL_BIN", "ctrl/cli/linegatectl")


def gateway_yaml(port: int, name: str = "ingress", host: str = "*") -> str:
    return f"""\
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: {name}
  namespace: istio-system
spec:
  selector:
    istio: ingressgateway
  servers:
  - port: {{number: {port}, name: http-{port}, protocol: HTTP}}
    hosts: ["{host}"]
"""


def routes_yaml(weights=(90, 10), prefix: str = "/api") -> str:
    return f"""\
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: backend
  namespace: istio-system
spec:
  hosts: [backend.example.internal]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports:
  - {{number: 9000, name: http, protocol: HTTP}}
  endpoints:
  - address: 10.99.0.1
    labels: {{version: v1}}
  - address: 10.99.0.2
    labels: {{version: v2}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: backend
  namespace: istio-system
spec:
  host: backend.example.internal
  subsets:
  - name: v1
    labels: {{version: v1}}
  - name: v2
    labels: {{version: v2}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: backend
  namespace: istio-system
spec:
  hosts: ["*"]
  gateways: [ingress]
  http:
  - match:
    - uri: {{prefix: {prefix}}}
    route:
    - destination: {{host: backend.example.internal, subset: v1, port: {{number: 9000}}}}
      weight: {weights[0]}
    - destination: {{host: backend.example.internal, subset: v2, port: {{number: 9000}}}}
      weight: {weights[1]}
"""


class Agent:
    def __init__(self, workdir: Path, watch: Path):
        self.workdir = workdir
        self.watch = watch
        self.port = lgtest.free_tcp_port()
        self.addr = f"127.0.0.1:{self.port}"
        self.log_path = workdir / "agent.log"
        self.proc = None

    def start(self):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([str(AGENT), "--watch", str(self.watch), "--listen", self.addr,
                                      "--debounce-ms", "50"],
                                     stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        assert wait_until(self._listening, 10), self.log()
        return self

    def _listening(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"agent exited {self.proc.returncode}: {self.log()}")
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture
def agent(tmp_path):
    for b in (AGENT, CTL):
        if not os.access(b, os.X_OK):
            pytest.fail(f"{b} not built (ninja -C build)", pytrace=False)
    watch = tmp_path / "watch"
    watch.mkdir()
    a = Agent(tmp_path, watch).start()
    try:
        yield a
    finally:
        a.stop()


def ctl(*args, timeout=30) -> subprocess.CompletedProcess:
    return subprocess.run([str(CTL), *args], capture_output=True, text=True, timeout=timeout)


def apply(agent: Agent, tmp_path: Path, name: str, text: str) -> subprocess.CompletedProcess:
    f = tmp_path / name
    f.write_text(text)
    return ctl("apply", "-f", str(f), "--agent", agent.addr)


def config_state(lg) -> dict:
    return lg.server_info()["config"]


def proxy_status(agent: Agent) -> dict:
    """node id → row of `linegatectl proxy-status -o json`."""
    p = ctl("proxy-status", "--agent", agent.addr, "-o", "json")
    assert p.returncode == 0, p.stderr
    rows = json.loads(p.stdout).get("gateways", [])
    # proto3 JSON leaves out empty fields.
    return {r["node_id"]: {"version_acked": "", "last_error": "", **r} for r in rows}


def gateways(linegate, agent: Agent, n: int = 2):
    extra = {"agent": {"address": agent.addr, "initial_backoff_ms": 50, "max_backoff_ms": 500},
             "test_apps": [{"kind": "echo", "port": ECHO_PORT}],
             "tcp": {"time_wait_ms": 0}}
    return [linegate(extra_top=extra) for _ in range(n)]


def wait_synced(gws, timeout: float, not_version: str = "") -> str:
    """Waits until every gateway runs one and the same version (other than
    not_version) on all its workers; returns it."""
    def same():
        states = [config_state(g) for g in gws]
        versions = {s["version"] for s in states}
        if len(versions) != 1 or "" in versions or not_version in versions:
            return False
        return all(all(w == s["generation"] for w in s["worker_generation"]) for s in states)

    assert wait_until(same, timeout), [config_state(g) for g in gws]
    return config_state(gws[0])["version"]


def test_apply_reaches_both_gateways_within_a_second(linegate, agent, tmp_path):
    gws = gateways(linegate, agent)
    assert wait_until(lambda: all(config_state(g)["connected"] for g in gws), 10), [config_state(g) for g in gws]
    # What they run before the apply (the agent's config at start, if it
    # pushed one) is not the answer to wait for.
    before = config_state(gws[0])["version"]
    p = apply(agent, tmp_path, "all.yaml", gateway_yaml(8080) + "---\n" + routes_yaml())
    assert p.returncode == 0, p.stdout + p.stderr
    t0 = time.monotonic()
    version = wait_synced(gws, 5, not_version=before)
    assert time.monotonic() - t0 < 1.0, "ACKed, but not within 1 s"
    status = proxy_status(agent)
    for g in gws:
        row = status[g.node_id]
        assert (row["status"], row["version_acked"]) == ("SYNCED", version), row
        dump = json.loads(g.get("/config_dump"))
        assert dump["version"] == version
        assert [l["port"] for l in dump["listeners"]] == [8080]
        assert g.stats()["config.update_success"] >= 1
    # A second change: new version everywhere, again.
    p = apply(agent, tmp_path, "all.yaml", routes_yaml(weights=(50, 50)))
    assert p.returncode == 0, p.stdout + p.stderr
    assert wait_synced(gws, 5, not_version=version) != version


def test_invalid_change_is_rejected_and_never_pushed(linegate, agent, tmp_path):
    gws = gateways(linegate, agent)
    assert apply(agent, tmp_path, "ok.yaml", gateway_yaml(8080) + "---\n" + routes_yaml()).returncode == 0
    version = wait_synced(gws, 5)
    before = [g.stats()["config.update_success"] for g in gws]
    bad = tmp_path / "bad.yaml"
    bad.write_text(routes_yaml(weights=(80, 10)))
    p = ctl("apply", "-f", str(bad), "--agent", agent.addr)
    assert p.returncode == 1, p.stdout + p.stderr
    out = p.stdout + p.stderr
    assert "VirtualService istio-system/backend" in out and "weights sum to 90, expected 100" in out, out
    assert "bad.yaml" in out, out
    time.sleep(0.5)
    for g, n in zip(gws, before):
        assert config_state(g)["version"] == version
        assert g.stats()["config.update_success"] == n, "an invalid config reached a gateway"


def test_dataplane_rejection_is_nacked_and_old_config_keeps_serving(linegate, agent, tmp_path):
    gws = gateways(linegate, agent)
    assert apply(agent, tmp_path, "ok.yaml", gateway_yaml(8080) + "---\n" + routes_yaml()).returncode == 0
    version = wait_synced(gws, 5)
    # Valid for the agent; the gateways hold ECHO_PORT for their echo service.
    p = apply(agent, tmp_path, "clash.yaml", gateway_yaml(ECHO_PORT, name="clash"))
    assert p.returncode == 0, p.stdout + p.stderr

    def nacked():
        rows = proxy_status(agent)
        return all(rows[g.node_id]["status"] == "NACKED" for g in gws)

    assert wait_until(nacked, 5), proxy_status(agent)
    rows = proxy_status(agent)
    for g in gws:
        row = rows[g.node_id]
        assert row["version_acked"] == version
        assert str(ECHO_PORT) in row["last_error"] and "echo" in row["last_error"], row
        st = config_state(g)
        assert st["version"] == version and st["update_rejected"] >= 1
        assert str(ECHO_PORT) in st["last_error"]
        # The table view operators use names the reason too.
    table = ctl("proxy-status", "--agent", agent.addr)
    assert table.returncode == 0 and "NACKED" in table.stdout and str(ECHO_PORT) in table.stdout, table.stdout
    # Still serving: the old listeners, and traffic on the node.
    for g in gws:
        assert [l["port"] for l in json.loads(g.get("/config_dump"))["listeners"]] == [8080]
        assert echo_transfer(g.ip4, ECHO_PORT, 100_000, timeout=30) == (100_000, True)


def test_gateways_keep_serving_without_the_agent_and_reconnect(linegate, agent, tmp_path):
    # Config from the watched directory this time, so a restarted agent has it again.
    (agent.watch / "gw.yaml").write_text(gateway_yaml(8080) + "---\n" + routes_yaml())
    gws = gateways(linegate, agent)
    version = wait_synced(gws, 10)
    agent.kill()
    assert wait_until(lambda: not any(config_state(g)["connected"] for g in gws), 5)
    for g in gws:
        assert config_state(g)["version"] == version
        assert g.stats()["control_plane.connected_state"] == 0
        assert echo_transfer(g.ip4, ECHO_PORT, 100_000, timeout=30) == (100_000, True)
    time.sleep(1.0)  # a few failed reconnects (backoff) before it comes back
    agent.start()
    assert wait_until(lambda: all(config_state(g)["connected"] for g in gws), 10)
    rows = {}

    def synced():
        rows.update(proxy_status(agent))
        return all(g.node_id in rows and rows[g.node_id]["status"] == "SYNCED" for g in gws)

    assert wait_until(synced, 10), rows
    assert all(rows[g.node_id]["version_acked"] == version for g in gws)


def test_swaps_under_traffic_lose_nothing(linegate, agent, tmp_path):
    gws = gateways(linegate, agent, n=1)
    g = gws[0]
    assert apply(agent, tmp_path, "ok.yaml", gateway_yaml(8080) + "---\n" + routes_yaml()).returncode == 0
    wait_synced(gws, 5)
    result = {}
    total = 100_000_000  # long enough for the swaps: they wait for every worker to adopt each generation

    def stream():
        result["r"] = echo_transfer(g.ip4, ECHO_PORT, total, timeout=120)

    t = threading.Thread(target=stream)
    t.start()
    swaps = 0
    generation = config_state(g)["generation"]
    while t.is_alive() and swaps < 20:
        assert apply(agent, tmp_path, "ok.yaml", routes_yaml(prefix=f"/api{swaps}")).returncode == 0
        swaps += 1
        assert wait_until(lambda: config_state(g)["generation"] > generation, 5)
        generation = config_state(g)["generation"]
    t.join(150)
    assert result.get("r") == (total, True), result
    assert swaps >= 5, "the stream ended before the swaps happened; make it longer"
    st = config_state(g)
    assert all(w == st["generation"] for w in st["worker_generation"])


def test_standalone_config_dir(linegate, tmp_path):
    conf = tmp_path / "istio"
    conf.mkdir()
    (conf / "gw.yaml").write_text(gateway_yaml(8443) + "---\n" + routes_yaml())
    g = linegate(extra_top={"config_dir": str(conf)})
    st = config_state(g)
    assert st["source"] == f"config_dir {conf}" and st["version"] and st["update_success"] == 1
    dump = json.loads(g.get("/config_dump"))
    assert [l["port"] for l in dump["listeners"]] == [8443]
    # proxy-config renders what the gateway runs.
    p = ctl("proxy-config", "listeners", "--admin", f"127.0.0.1:{g.admin_port}")
    assert p.returncode == 0 and "8443" in p.stdout, p.stdout + p.stderr
    p = ctl("proxy-config", "clusters", "--admin", f"127.0.0.1:{g.admin_port}")
    assert p.returncode == 0 and "outbound|9000|v1|backend.example.internal" in p.stdout, p.stdout + p.stderr


def test_standalone_config_dir_with_errors_does_not_start(linegate_factory, tmp_path):
    conf = tmp_path / "istio"
    conf.mkdir()
    (conf / "routes.yaml").write_text(gateway_yaml(8080) + "---\n" + routes_yaml(weights=(60, 30)))
    lg = linegate_factory.create(extra_top={"config_dir": str(conf)}).launch()
    rc = lg.wait_exit(20)
    log = lg.log_text()
    assert rc not in (None, 0), log
    assert "routes.yaml" in log and "weights sum to 90, expected 100" in log, log
