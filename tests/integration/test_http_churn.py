"""The HTTP gateway under change: config churn under load, and draining.

(a) wrk keeps 20 keep-alive connections busy while the VirtualService is
    rewritten 100 times in the directory linegate-agent watches, the agent
    pushing each version over gRPC (destination alternating
    v1/v2 between two nginx upstreams, a header-match route coming and going,
    a request header carrying the version number); each version is applied on
    every worker before the next. wrk must see no socket error and no non-2xx
    answer; nginx's access log proves the last version serves.
(b) Drain (SIGTERM, and POST /drain on the admin port): 16 keep-alive clients
    in a loop. Every request sent gets a complete 200; once draining, responses
    carry `Connection: close` and each client stops at the first one (as a load
    balancer would move it elsewhere); the process exits by itself, code 0,
    within proxy.drain_timeout_ms.
"""
import re
import signal
import subprocess
import threading
import time

import pytest

import lgtest
from agent_tools import AgentProcess
from http_peers import (HttpConn, HttpUpstream, NginxUpstream, config_state, dest, destination_rule, docs, http_gateway,
                        http_server, service_entry, start_http_gateway, virtual_service, wait_config_applied,
                        write_config)

pytestmark = pytest.mark.usefixtures("linegate_env")

PORT = 8080
HOST = "churn.example.com"
SVC = "web.churn.svc"
NGINX_PORTS = {"v1": 19301, "v2": 19302}
CHANGES = 100
WRK_SECONDS = 30
MIN_PACE = 0.2  # seconds between changes at least, so they spread over the load


def churn_config(peer: str, i: int) -> str:
    subset = "v1" if i % 2 == 0 else "v2"
    http = []
    if i % 4 == 1:  # a header-match route comes and goes
        http.append({"match": [{"headers": {"x-never": {"exact": f"gen-{i}"}}}],
                     "route": [dest(SVC, 9080, "v2" if subset == "v1" else "v1")]})
    http.append({"headers": {"request": {"set": {"x-churn-gen": str(i)}}}, "route": [dest(SVC, 9080, subset)]})
    return docs(http_gateway("churn-gw", [http_server(PORT, [HOST])]),
                service_entry("web", SVC, 9080, [(peer, NGINX_PORTS[v], {"version": v}) for v in ("v1", "v2")]),
                destination_rule("web", SVC, ["v1", "v2"]),
                virtual_service("web", [HOST], http, ["churn-gw"]))


def parse_wrk(out: str) -> dict:
    m = re.search(r"(\d+) requests in ([\d.]+)(\w+),", out)
    assert m, f"no request count in wrk output:\n{out}"
    res = {"requests": int(m.group(1)), "connect": 0, "read": 0, "write": 0, "timeout": 0, "non2xx": 0}
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        res.update(zip(("connect", "read", "write", "timeout"), map(int, m.groups())))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        res["non2xx"] = int(m.group(1))
    return res


def test_parse_wrk_output():
    out = """Running 30s test @ http://10.1.2.2:8080/churn
  2 threads and 20 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.00ms    1.00ms  10.00ms   90.00%
  123456 requests in 30.00s, 20.00MB read
  Socket errors: connect 1, read 2, write 3, timeout 4
  Non-2xx or 3xx responses: 5
Requests/sec:   4115.20
"""
    assert parse_wrk(out) == {"requests": 123456, "connect": 1, "read": 2, "write": 3, "timeout": 4, "non2xx": 5}
    assert parse_wrk("  10 requests in 1.00s, 1.00KB read\n")["read"] == 0


@pytest.mark.slow
def test_100_virtual_service_changes_under_wrk_load(linegate_factory, tmp_path):
    # Routes change through the agent, as users change them: a watched
    # directory, each write pushed to the gateway over gRPC.
    watch = tmp_path / "watch"
    watch.mkdir()
    agent = AgentProcess(tmp_path / "agent.log", [watch], debounce_ms=20).start()
    g = linegate_factory.create(extra_top={"tcp": {"time_wait_ms": 0, "max_connections": 8192},
                                           "agent": agent.bootstrap()})
    path = watch / "config.yaml"
    write_config(path, churn_config(g.peer4, 0))
    g.start()
    g.configure_kernel()
    nginx = {v: NginxUpstream(tmp_path, g.peer4, port, v) for v, port in NGINX_PORTS.items()}
    try:
        wait_config_applied(g, "", timeout=10)
        with HttpConn(g.ip4, PORT) as c:
            r = c.request("GET", "/warmup", HOST)
            assert (r.status, r.upstream) == (200, "nginx-v1"), r
        wrk = subprocess.Popen(["wrk", "-t2", "-c20", f"-d{WRK_SECONDS}s", "-H", f"Host: {HOST}",
                                f"http://{g.ip4}:{PORT}/churn"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
        try:
            time.sleep(1.0)
            version = config_state(g)["version"]
            during_load = 0
            for i in range(1, CHANGES + 1):
                t0 = time.monotonic()
                write_config(path, churn_config(g.peer4, i))
                version = wait_config_applied(g, version, timeout=10)["version"]
                if wrk.poll() is None:
                    during_load += 1
                time.sleep(max(0.0, MIN_PACE - (time.monotonic() - t0)))
            out, _ = wrk.communicate(timeout=WRK_SECONDS + 30)
        finally:
            if wrk.poll() is None:
                wrk.kill()
                wrk.wait()
        res = parse_wrk(out)
        assert during_load >= CHANGES // 2, f"only {during_load} of {CHANGES} changes happened under load:\n{out}"
        assert res["requests"] > 1000, out
        assert (res["connect"], res["read"], res["write"], res["timeout"], res["non2xx"]) == (0, 0, 0, 0, 0), out
        st = config_state(g)
        assert st["update_success"] >= CHANGES + 1 and st["last_error"] == "", st
        # The last version (100: v1, x-churn-gen 100) is what serves now.
        with HttpConn(g.ip4, PORT) as c:
            r = c.request("GET", "/final", HOST)
            assert (r.status, r.upstream) == (200, "nginx-v1"), r
        time.sleep(0.2)
        final = [e for e in nginx["v1"].entries() if e["uri"] == "/final"]
        assert [e["churn"] for e in final] == [str(CHANGES)], final
        gens = {e["churn"] for v in nginx.values() for e in v.entries() if e["uri"] == "/churn"}
        assert len(gens) > CHANGES // 2, f"load saw only {len(gens)} of the versions"
        assert all(e["churn"] == "" or int(e["churn"]) % 2 == 0 for e in nginx["v1"].entries()
                   if e["uri"] == "/churn"), "an odd version (v2) reached v1"
    finally:
        for n in nginx.values():
            n.close()
        agent.stop()


# ---------------------------------------------------------------- drain

DRAIN_MS = 5000
CLIENTS = 16
DRAIN_UP_PORT = 19400


def drain_config(peer: str) -> str:
    return docs(http_gateway("drain-gw", [http_server(PORT, [HOST])]),
                service_entry("drain", "drain.churn.svc", 9080, [(peer, DRAIN_UP_PORT, {})]),
                virtual_service("drain", [HOST], [{"route": [dest("drain.churn.svc", 9080)]}], ["drain-gw"]))


class Client(threading.Thread):
    """Keep-alive requests in a loop until a response says Connection: close."""

    def __init__(self, addr: str, n: int):
        super().__init__(daemon=True)
        self.addr, self.n = addr, n
        self.log: list[tuple[float, int, bool]] = []  # (sent at, status, closes)
        self.error = None
        self.ended_by_close = False
        self.hard_stop = False

    def run(self):
        try:
            with HttpConn(self.addr, PORT, timeout=10) as c:
                i = 0
                while not self.hard_stop:
                    sent = time.monotonic()
                    r = c.request("GET", f"/drain/{self.n}/{i}", HOST)  # asserts a response came
                    self.log.append((sent, r.status, r.closes))
                    if r.status != 200:
                        raise AssertionError(f"request {i}: {r!r}")
                    if r.closes:
                        self.ended_by_close = True
                        return
                    i += 1
                    time.sleep(0.005)
        except BaseException as e:  # reset, timeout, short body, non-200: all failures
            self.error = e


def run_drain(linegate_factory, trigger):
    g, _ = start_http_gateway(linegate_factory, drain_config, {"proxy": {"drain_timeout_ms": DRAIN_MS}})
    up = HttpUpstream(g.peer4, DRAIN_UP_PORT, "drain-up")
    clients = []
    try:
        clients = [Client(g.ip4, n) for n in range(CLIENTS)]
        for c in clients:
            c.start()
        assert lgtest.wait_until(lambda: all(len(c.log) >= 3 for c in clients), 10), \
            [(len(c.log), c.error) for c in clients]
        t_drain = time.monotonic()
        trigger(g)
        for c in clients:
            c.join(DRAIN_MS / 1000 + 5)
        stuck = [c.n for c in clients if c.is_alive()]
        for c in clients:
            c.hard_stop = True
        errors = {c.n: repr(c.error) for c in clients if c.error is not None}
        assert errors == {}, errors
        assert stuck == [] and all(c.ended_by_close for c in clients), \
            f"clients still running {stuck}; not told to close: {[c.n for c in clients if not c.ended_by_close]}"
        # Every worker starts draining promptly: no plain keep-alive answer to a
        # request sent more than a second after the drain began.
        late = [(c.n, s - t_drain) for c in clients for s, _, closes in c.log if not closes and s > t_drain + 1.0]
        assert late == [], late
        assert sum(len(c.log) for c in clients) == up.total
        rc = g.wait_exit(DRAIN_MS / 1000 + 5)
        assert rc == 0, f"exit {rc} (None: still running {DRAIN_MS} ms after the drain began)\n{g.log_text()}"
        assert time.monotonic() - t_drain < DRAIN_MS / 1000 + 2
        lgtest.assert_clean_stop(g)
    finally:
        for c in clients:
            c.hard_stop = True
        up.close()


def test_sigterm_drains_keep_alive_clients_and_exits(linegate_factory):
    run_drain(linegate_factory, lambda g: g.send_signal(signal.SIGTERM))


def test_admin_drain_drains_keep_alive_clients_and_exits(linegate_factory):
    def post_drain(g):
        status, _, body = g.request("POST", "/drain")
        assert status == 200, (status, body)

    run_drain(linegate_factory, post_drain)
