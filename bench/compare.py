#!/usr/bin/python3
"""compare: the same HTTP/1.1 proxy workload through linegate, nginx and
HAProxy on this machine, side by side (bench/compare.sh is the entry point).

Workload, identical for every proxy: keep-alive GETs from linegate-loadgen
on --connections connections, cycling through /r{0..N-1}/item with
Host: bench.example.com; the proxy has --routes prefix routes /rK/, all to
one upstream, the loadgen's own responder answering --response-bytes.

Pinning, identical for every proxy: every generator process on CPU 0, the
proxy (all its processes and threads) on CPU 1, both by `taskset -c`.

Topologies:
  linegate       loadgen client ⇄ memif ⇄ linegate ⇄ memif ⇄ loadgen responder
                 (one loadgen process with two memif ports; no kernel in the
                 path).
  nginx/haproxy  loadgen client ⇄ tap lgbc0 ⇄ kernel TCP ⇄ proxy ⇄ kernel TCP
                 ⇄ tap lgbu0 ⇄ loadgen responder (one loadgen process, two
                 tap ports).
  generator      loadgen client (CPU 0) ⇄ memif ⇄ loadgen responder (CPU 1):
                 the generator's own capacity, no proxy.

Phases per proxy: closed loop (max throughput), then open loop at a fixed
rate (--rate; default half the lowest max measured) for p99. Each phase is
one fresh loadgen process and one fresh proxy process.

CPU cycles per request of the proxy:
  linegate       delta of its workers' busy_cycles (admin /stats?format=json)
                 over the phase / delta of its listeners' downstream_rq_total.
  nginx/haproxy  delta of user+system time (/proc/<pid>/stat, every process
                 of the proxy) over the phase × the loadgen's TSC rate /
                 the requests the loadgen completed (requests_total).
Receive Packet Steering puts the kernel's receive path for the taps on the
proxy's CPU; that softirq time is not process time, so it is not in the
kernel proxies' figure; docs/benchmarking.md lists the caveats.

Per phase it also records how long the generator's worker and the proxy
waited for their CPUs, and which other processes ran meanwhile: on a shared
machine those, not the proxy, can set the figures (printed as warnings).

--tls: the client→proxy leg is HTTPS (TLS 1.3 TLS_AES_128_GCM_SHA256 by
default, --tls-version/--tls-cipher choose), the proxy→upstream leg stays
plaintext HTTP. Every proxy terminates TLS with the same ECDSA P-256
certificate (made with openssl in --out) on port 8443 next to its plain
8080; the loadgen verifies it (--tls-ca) and offers only the chosen suite.
Connections are kept alive, so the figures are record crypto plus
proxying, not handshakes (bench/tls_handshakes.py measures those). Phases:
each proxy's HTTPS and plain HTTP maximum in the same run (the TLS cost),
linegate's HTTPS maximum once more with its record offload off (OpenSSL's
record layer), then the p99 phase over HTTPS. The generator-alone phase is
left out: its responder speaks plain HTTP only, and the linegate HTTPS run
itself says what the generator spends per HTTPS request.

Writes every config, log and JSON into --out, a summary.json there, the
table to stdout and into docs/performance.md between the compare markers
(--tls: its own markers, in its own section). Needs root (taps, memif, DPDK).
"""
from __future__ import annotations

import argparse
import base64
import datetime
import http.client
import json
import os
import re
import resource
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, NamedTuple, Optional

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "performance.md"
PLOT = REPO / "bench" / "plot.py"
BEGIN, END = "<!-- compare:begin -->", "<!-- compare:end -->"
SECTION = "## HTTP/1.1 proxy: linegate vs nginx vs HAProxy (bench/compare.sh)"
TLS_BEGIN, TLS_END = "<!-- compare-tls:begin -->", "<!-- compare-tls:end -->"
TLS_SECTION = "## HTTPS proxy: linegate vs nginx vs HAProxy (bench/compare.sh --tls)"
PROXIES = ("linegate", "nginx", "haproxy")

HOST = "bench.example.com"
LISTEN_PORT = 8080
UPSTREAM_PORT = 8000
UPSTREAM_HOST = "upstream.bench.internal"
TLS_PORT = 8443  # --tls: each proxy's HTTPS listener, beside its plain LISTEN_PORT
TLS_CIPHERS = {"1.3": "TLS_AES_128_GCM_SHA256", "1.2": "ECDHE-ECDSA-AES128-GCM-SHA256"}  # defaults per version
TLS_SECRET = "bench-cert"
# linegate topology (memif)
LG_GW_CLIENT, LG_CLIENT = "10.90.1.1", "10.90.1.2"
LG_GW_UP, LG_UP = "10.90.2.1", "10.90.2.2"
# kernel proxies (taps); the kernel side holds the .1 addresses
TAP_CLIENT, TAP_UP = "lgbc0", "lgbu0"
K_CLIENT_KERNEL, K_CLIENT = "10.91.1.1", "10.91.1.2"
K_UP_KERNEL, K_UP = "10.91.2.1", "10.91.2.2"
# generator capacity (memif, two loadgens)
GEN_CLIENT, GEN_RESP = "10.92.0.1", "10.92.0.2"
SUBNETS = ("10.90.1.", "10.90.2.", "10.91.1.", "10.91.2.", "10.92.0.")
DPDK_RUN = Path("/var/run/dpdk")

# linegate's listener counters kept for HTTPS phases (Envoy's ssl.* names).
LINEGATE_TLS_COUNTERS = ("ssl_handshake", "ssl_offloaded", "ssl_session_reused", "ssl_connection_error")

READY_TIMEOUT = 60.0   # a proxy (or the responder) up and configured
STOP_TIMEOUT = 15.0    # per signal, before the next one
LOADGEN_SLACK = 45.0   # EAL start, memif/ARP, JSON, beyond warmup + duration


class Failure(Exception):
    """A step failed; the message says which and where its log is."""


class Leg(NamedTuple):
    """The client→proxy leg of a phase: plain HTTP, or HTTPS with linegate's
    record offload on or off (the kernel proxies have one record layer)."""
    https: bool = False
    offload: bool = True

    @property
    def suffix(self) -> str:
        # "" for plain HTTP: its phases keep their names (linegate-max) in both modes.
        return "" if not self.https else "-https" if self.offload else "-https-no-offload"


PLAIN, HTTPS, HTTPS_NO_OFFLOAD = Leg(), Leg(True), Leg(True, False)


def phase_key(name: str, leg: Leg, kind: str) -> str:
    return f"{name}{leg.suffix}-{kind}"


def say(msg: str = ""):
    print(msg, flush=True)


def show(cmd: list) -> str:
    line = shlex.join(str(c) for c in cmd)
    say(f"+ {line}")
    return line


def run(cmd: list, timeout: float = 30, check: bool = True, quiet: bool = False) -> subprocess.CompletedProcess:
    if not quiet:
        show(cmd)
    try:
        p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise Failure(f"{shlex.join(str(c) for c in cmd)}: no answer within {timeout:.0f}s")
    if check and p.returncode != 0:
        raise Failure(f"{shlex.join(str(c) for c in cmd)} exited {p.returncode}:\n{p.stdout}{p.stderr}")
    return p


def link_exists(name: str) -> bool:
    return Path("/sys/class/net", name).exists()


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_cpus(ap: argparse.ArgumentParser, text: str) -> tuple:
    """--cpus "A,B": the client's CPU and the server's, two different ones."""
    try:
        cpus = tuple(int(c) for c in text.split(","))
    except ValueError:
        cpus = ()
    if len(cpus) != 2 or cpus[0] == cpus[1]:
        ap.error("--cpus: two different CPU numbers, e.g. 0,1")
    return cpus


def listening(addr: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((addr, port)) == 0


def wait_listening(p: "Proc", addr: str, ports: list, logs: tuple = ()):
    """Until p accepts on every port of addr; Failure with its log (and
    `logs`, e.g. nginx's error.log) if it exits or READY_TIMEOUT passes."""
    deadline = time.monotonic() + READY_TIMEOUT
    def tails() -> str:
        return "\n".join(log_tail(f) for f in (p.log, *logs))

    while not all(listening(addr, port) for port in ports):
        if not p.alive():
            raise Failure(f"{p.name} exited {p.popen.returncode}:\n{tails()}")
        if time.monotonic() > deadline:
            raise Failure(f"{p.name} not listening on {addr}:{list(ports)}:\n{tails()}")
        time.sleep(0.05)


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join("    " + line for line in text[-lines:])


# ---------------------------------------------------------------- processes

class Proc:
    """A child in its own session, so a Ctrl-C on the terminal reaches only
    this script, which then stops children in order (cleanup)."""

    def __init__(self, name: str, cmd: list, log: Path):
        self.name, self.log = name, log
        self.cmdline = show(cmd)
        self._log = open(log, "ab")
        self.popen = subprocess.Popen([str(c) for c in cmd], stdin=subprocess.DEVNULL, stdout=self._log,
                                      stderr=subprocess.STDOUT, start_new_session=True)
        self.pid = self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def wait(self, timeout: float) -> Optional[int]:
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, signals=(signal.SIGINT, signal.SIGTERM)) -> list[str]:
        """Each signal in turn with STOP_TIMEOUT to exit, then SIGKILL.
        Returns notes for what needed forcing."""
        notes = []
        for sig in signals:
            if not self.alive():
                break
            try:
                self.popen.send_signal(sig)
            except ProcessLookupError:
                break
            if self.wait(STOP_TIMEOUT) is None:
                notes.append(f"{self.name} (pid {self.pid}) still running {STOP_TIMEOUT:.0f}s after "
                             f"{signal.Signals(sig).name}")
        if self.alive():
            notes.append(f"{self.name} (pid {self.pid}): SIGKILL")
            try:
                os.killpg(self.pid, signal.SIGKILL)  # its session: the proxy's workers too
            except ProcessLookupError:
                pass
            self.wait(10)
        self.close_log()
        return notes

    def close_log(self):
        if not self._log.closed:
            self._log.close()


def proc_tree(root: int) -> list[int]:
    """root and every descendant (nginx's master and workers)."""
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = Path("/proc", d, "stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_ticks_split(pids: list[int]) -> tuple[int, int]:
    """(utime, stime) (fields 14, 15 of proc(5)), all threads, in clock ticks."""
    user = system = 0
    for p in pids:
        try:
            stat = Path(f"/proc/{p}/stat").read_text()
        except OSError:
            continue
        f = stat[stat.rindex(")") + 2:].split()
        user, system = user + int(f[11]), system + int(f[12])
    return user, system


def cpu_ticks(pids: list[int]) -> int:
    """utime + stime, all threads, in clock ticks."""
    return sum(cpu_ticks_split(pids))


WORKER_THREADS = ("rte-worker", "lcore-worker")  # DPDK's names for worker lcore threads


def schedstat(pids: list[int], workers_only: bool = False) -> tuple[int, int]:
    """(on-CPU ns, runqueue-wait ns) summed over the tasks of pids, or over
    their DPDK worker threads only. The wait is time runnable but not
    running: something else had the CPU."""
    run = wait = 0
    for p in pids:
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for t in tasks:
            try:
                if workers_only and not Path(f"/proc/{p}/task/{t}/comm").read_text().startswith(WORKER_THREADS):
                    continue
                f = Path(f"/proc/{p}/task/{t}/schedstat").read_text().split()
                run, wait = run + int(f[0]), wait + int(f[1])
            except (OSError, IndexError, ValueError):
                pass
    return run, wait


def all_cpu_ticks() -> dict[int, tuple[str, int]]:
    """pid → (name, utime + stime) for every process on the machine."""
    out = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = Path("/proc", d, "stat").read_text()
            except OSError:
                continue
            f = stat[stat.rindex(")") + 2:].split()
            out[int(d)] = (stat[stat.index("(") + 1:stat.rindex(")")], int(f[11]) + int(f[12]))
    return out


def cpu_stat() -> dict:
    """Per-CPU jiffies from /proc/stat (where the kernel's share went)."""
    names = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
    out = {}
    for line in Path("/proc/stat").read_text().splitlines():
        m = re.match(r"cpu(\d+) (.*)", line)
        if m:
            out[m.group(1)] = dict(zip(names, (int(x) for x in m.group(2).split())))
    return out


def cpu_stat_delta(a: dict, b: dict) -> dict:
    return {cpu: {k: b[cpu][k] - a.get(cpu, {}).get(k, 0) for k in b[cpu]} for cpu in b}


# ---------------------------------------------------------------- configs

class TlsSetup:
    """--tls: the version and suite every proxy serves and the loadgen
    offers, and the files: an ECDSA P-256 CA, a server certificate for HOST
    that it signed, and what each program reads of them."""

    def __init__(self, d: Path, version: str, cipher: str):
        self.dir, self.version, self.cipher = d, version, cipher
        self.tls13 = version == "1.3"
        self.ca, self.ca_key = d / "ca.crt", d / "ca.key"
        self.cert, self.key = d / "server.crt", d / "server.key"
        self.pem = d / "server.pem"  # HAProxy's crt: certificate and key in one file
        self.client_conf = d / "openssl-loadgen.cnf"

    def make(self):
        """With the openssl command: Python's standard library cannot issue certificates."""
        self.dir.mkdir(parents=True, exist_ok=True)
        p256 = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        run(["openssl", "req", "-x509", *p256, "-keyout", self.ca_key, "-out", self.ca, "-days", "30",
             "-subj", "/CN=linegate bench CA", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        csr, ext = self.dir / "server.csr", self.dir / "server.ext"
        ext.write_text(f"subjectAltName=DNS:{HOST}\nbasicConstraints=critical,CA:FALSE\n"
                       "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n")
        run(["openssl", "req", "-new", *p256, "-keyout", self.key, "-out", csr, "-subj", f"/CN={HOST}"])
        run(["openssl", "x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.ca_key, "-CAcreateserial",
             "-out", self.cert, "-days", "30", "-extfile", ext])
        self.pem.write_bytes(self.cert.read_bytes() + self.key.read_bytes())
        # The loadgen has no option for TLS 1.3 suites; OpenSSL's system_default section narrows what its
        # SSL_CTX offers. Without it the client lists TLS_AES_256_GCM_SHA384 first, and a server that
        # follows the client's order (linegate has no TLS 1.3 suite setting, as Istio) would take that.
        self.client_conf.write_text(f"""\
# OPENSSL_CONF of linegate-loadgen in bench/compare.py --tls: offer TLS 1.3 suite {self.cipher} only.
openssl_conf = openssl_init
[openssl_init]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
Ciphersuites = {self.cipher}
""")

    def loadgen_env(self) -> list:
        return ["env", f"OPENSSL_CONF={self.client_conf}"] if self.tls13 else []

    def loadgen_args(self) -> list:
        """This version and suite only (TLS 1.2 suites: --tls-ciphers; TLS 1.3: loadgen_env), and the
        server's chain verified for HOST."""
        return (["--tls", "--tls-ca", self.ca, "--tls-sni", HOST, "--tls-version", self.version]
                + ([] if self.tls13 else ["--tls-ciphers", self.cipher]))

    def s_client_args(self) -> list:
        """openssl s_client offering what the loadgen offers."""
        return ["-tls1_3", "-ciphersuites", self.cipher] if self.tls13 else ["-tls1_2", "-cipher", self.cipher]


def https_server_yaml(t: TlsSetup) -> str:
    """The Gateway's HTTPS server: SIMPLE (linegate terminates) with the
    bench certificate, this version only; Istio's cipherSuites are TLS
    1.2's (TLS 1.3 suites have no setting, as in Envoy)."""
    v = "TLSV1_3" if t.tls13 else "TLSV1_2"
    suites = "" if t.tls13 else f"      cipherSuites:\n      - {t.cipher}\n"
    return f"""\
  - port:
      number: {TLS_PORT}
      name: https
      protocol: HTTPS
    hosts:
    - "*"
    tls:
      mode: SIMPLE
      credentialName: {TLS_SECRET}
      minProtocolVersion: {v}
      maxProtocolVersion: {v}
{suites}"""


def tls_secret_yaml(t: TlsSetup) -> str:
    """The credential as a Kubernetes Secret in the config directory, where
    a deployment keeps it (credentialName)."""
    def b64(f: Path) -> str:
        return base64.b64encode(f.read_bytes()).decode()
    return f"""\
---
apiVersion: v1
kind: Secret
metadata:
  name: {TLS_SECRET}
  namespace: istio-system
type: kubernetes.io/tls
data:
  tls.crt: {b64(t.cert)}
  tls.key: {b64(t.key)}
"""


def istio_yaml(routes: int, endpoint: str, tls: Optional[TlsSetup] = None) -> str:
    """Gateway on 8080 for any host (and with tls, HTTPS on 8443), a
    VirtualService for bench.example.com with one prefix route per /rK/,
    all to a STATIC ServiceEntry; the routes serve both servers."""
    http = "".join(f"""\
  - name: r{k}
    match:
    - uri:
        prefix: /r{k}/
    route:
    - destination:
        host: {UPSTREAM_HOST}
        port:
          number: {UPSTREAM_PORT}
""" for k in range(routes))
    return f"""\
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: bench-gateway
  namespace: istio-system
spec:
  selector:
    istio: ingressgateway
  servers:
  - port:
      number: {LISTEN_PORT}
      name: http
      protocol: HTTP
    hosts:
    - "*"
{https_server_yaml(tls) if tls else ""}---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: bench-upstream
  namespace: bench
spec:
  hosts:
  - {UPSTREAM_HOST}
  location: MESH_INTERNAL
  resolution: STATIC
  ports:
  - number: {UPSTREAM_PORT}
    name: http
    protocol: HTTP
  endpoints:
  - address: {endpoint}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: bench-routes
  namespace: bench
spec:
  hosts:
  - {HOST}
  gateways:
  - istio-system/bench-gateway
  http:
{http}{tls_secret_yaml(tls) if tls else ""}"""


def tap_setup() -> list[list]:
    cmds = []
    for tap, addr in ((TAP_CLIENT, K_CLIENT_KERNEL), (TAP_UP, K_UP_KERNEL)):
        cmds += [["ip", "tuntap", "add", "dev", tap, "mode", "tap", "multi_queue"],
                 ["ip", "addr", "add", f"{addr}/24", "dev", tap], ["ip", "link", "set", tap, "up"]]
    return cmds


def memif(index: int, role: str, sock: Path) -> str:
    # Socket files (not abstract names) so readiness and leftovers are visible in the out dir.
    return f"net_memif{index},role={role},socket={sock},socket-abstract=no"


def linegate_bootstrap(out: Path, args, admin_port: int, prefix: str, record_offload: bool = True) -> str:
    lines = [
        "node: {id: bench-gw, cluster: cluster1, network: network1, labels: {istio: ingressgateway}}",
        f'eal: ["--file-prefix={prefix}"]',
        "workers: 1",
        "idle_sleep_us: 0",
        "ports:",
        f'  - {{name: client, device: "{memif(0, "server", out / "lg-client.sock")}", ipv4: {LG_GW_CLIENT}/24}}',
        f'  - {{name: upstream, device: "{memif(1, "server", out / "lg-upstream.sock")}", ipv4: {LG_GW_UP}/24}}',
        f"admin: 127.0.0.1:{admin_port}",
        # Keep-alive traffic closes few connections; TIME-WAIT short anyway so repeated runs never pile up.
        f"tcp: {{time_wait_ms: 1000, max_connections: {max(16384, 4 * args.connections)}}}",
        f"proxy: {{max_sessions: {max(8192, 2 * args.connections)}}}",
        f"config_dir: {out / 'linegate-istio'}",
    ]
    if not record_offload:
        lines.append("tls: {record_offload: false}  # records on OpenSSL's record layer, for comparison")
    if args.crds:
        lines.append(f"crds: [{args.crds}]")
    return "\n".join(lines) + "\n"


def fd_budget(connections: int) -> tuple[int, int]:
    """(connections a proxy may hold, file descriptors for them): room for
    every client connection and its upstream one, within the hard limit
    (a container may cap it; HAProxy refuses to start above it)."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20
    conns = max(4096, 4 * connections)
    fds = min(2 * conns + 100, hard)
    return min(conns, (fds - 100) // 2), fds


NGINX_TEMP_DIRS = ("body", "proxy", "fastcgi", "uwsgi", "scgi")


def nginx_dir(d: Path) -> str:
    """Makes nginx's directory d with its temporary directories; returns the
    http{} directives that point nginx at them (its compiled-in paths need
    its own user and a system directory)."""
    for t in ("", *NGINX_TEMP_DIRS):
        (d / t).mkdir(parents=True, exist_ok=True)
    return "".join(f"  {'client_body' if t == 'body' else t}_temp_path {d}/{t};\n" for t in NGINX_TEMP_DIRS)


def run_guarded(tool: str, body: Callable[[], None], cleanup: Callable[[], tuple[list[str], list[str]]]) -> int:
    """Runs body() with every stop signal (SIGINT too, when it was inherited
    as ignored from a script's &) turned into an orderly stop, then
    cleanup(), which returns (notes, leftovers): what it had to force, and
    what it found left behind. Both are printed as "cleanup: ..." lines.
    Returns 0, 1 (a Failure, or leftovers) or 130 (interrupted)."""
    def interrupted(sig, _frame):
        raise KeyboardInterrupt(signal.Signals(sig).name)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupted)
    rc = 0
    try:
        body()
    except Failure as e:
        say(f"\n{tool}: FAILED: {e}")
        rc = 1
    except KeyboardInterrupt:
        say(f"\n{tool}: interrupted; cleaning up")
        rc = 130
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)  # cleanup is bounded by its own timeouts; let it finish
        notes, left = cleanup()
        for n in notes + left:
            say(f"cleanup: {n}")
        if left and rc == 0:
            rc = 1
    return rc


def nginx_tls(t: TlsSetup) -> str:
    """The HTTPS listener of nginx's server: nginx 1.22 leaves TLSv1.3 out of
    its default ssl_protocols, and ssl_ciphers does not reach TLS 1.3 suites
    (ssl_conf_command does). A session cache as a deployment would have; with
    keep-alive it is hardly used."""
    versions = (f"    ssl_protocols TLSv1.3;\n    ssl_conf_command Ciphersuites {t.cipher};\n" if t.tls13
                else f"    ssl_protocols TLSv1.2;\n    ssl_ciphers {t.cipher};\n")
    return (f"    listen {K_CLIENT_KERNEL}:{TLS_PORT} ssl backlog=4096;\n"
            f"    ssl_certificate {t.cert};\n    ssl_certificate_key {t.key};\n{versions}"
            "    ssl_session_cache shared:bench:10m;\n    ssl_session_timeout 1h;\n")


def nginx_conf(d: Path, routes: int, connections: int, tls: Optional[TlsSetup] = None) -> str:
    conns, fds = fd_budget(connections)
    locations = "".join(f"    location /r{k}/ {{ proxy_pass http://up; }}\n" for k in range(routes))
    return f"""\
# nginx for bench/compare.py: one worker (pinned by taskset), keep-alive both sides.
worker_processes 1;
worker_rlimit_nofile {fds};
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections {conns}; }}
http {{
  access_log off;
{nginx_dir(d)}  keepalive_requests 1000000;
  keepalive_timeout 300s;
  proxy_http_version 1.1;
  proxy_set_header Connection "";
  upstream up {{
    server {K_UP}:{UPSTREAM_PORT};
    keepalive 256;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
  }}
  server {{
    listen {K_CLIENT_KERNEL}:{LISTEN_PORT} backlog=4096;
{nginx_tls(tls) if tls else ""}{locations}    location / {{ return 404; }}
  }}
}}
"""


def haproxy_tls_bind(t: TlsSetup) -> str:
    versions = f"ssl-min-ver TLSv{t.version} ssl-max-ver TLSv{t.version}"
    suites = f"ciphersuites {t.cipher}" if t.tls13 else f"ciphers {t.cipher}"
    return f"  bind {K_CLIENT_KERNEL}:{TLS_PORT} ssl crt {t.pem} alpn http/1.1 {versions} {suites}\n"


def haproxy_cfg(routes: int, connections: int, tls: Optional[TlsSetup] = None) -> str:
    conns, _ = fd_budget(connections)
    rules = "".join(f"  use_backend up if {{ path_beg /r{k}/ }}\n" for k in range(routes))
    return f"""\
# HAProxy for bench/compare.py: one thread (pinned by taskset), keep-alive both sides.
global
  nbthread 1
  maxconn {conns}

defaults
  mode http
  option http-keep-alive
  timeout connect 5s
  timeout client 300s
  timeout server 300s
  timeout http-keep-alive 300s

frontend bench
  bind {K_CLIENT_KERNEL}:{LISTEN_PORT}
{haproxy_tls_bind(tls) if tls else ""}{rules}  default_backend none

backend up
  http-reuse always
  server upstream {K_UP}:{UPSTREAM_PORT}

backend none
  http-request return status 404
"""


# ---------------------------------------------------------------- the run

class Bench:
    def __init__(self, args, out: Path):
        self.a, self.out = args, out
        self.build = Path(args.build) if Path(args.build).is_absolute() else REPO / args.build
        self.linegate = self.build / "dataplane" / "linegate"
        self.loadgen = self.build / "bench" / "linegate-loadgen"
        self.gen_cpu, self.proxy_cpu = args.cpus
        self.procs: list[Proc] = []
        self.prefixes: list[str] = []
        self.taps_made = self.taps_ever = False
        self.notes: list[str] = []     # forced cleanups, shown at the end
        self.warnings: list[str] = []  # measurement caveats, into the report
        self.phases: dict[str, dict] = {}
        self.loadgen_wait_ns, self.loadgen_threads_ns, self.loadgen_wall_s, self.others = 0, 0, 0.0, []
        self.tag = os.getpid()
        self.admin_port = free_tcp_port()
        self.tls = TlsSetup(out / "tls", args.tls_version, args.tls_cipher) if args.tls else None

    # -- small helpers ----------------------------------------------------

    def prefix(self, name: str) -> str:
        p = f"lgb-{name}-{self.tag}"
        self.prefixes.append(p)
        return p

    def spawn(self, name: str, cmd: list) -> Proc:
        p = Proc(name, cmd, self.out / f"{name}.log")
        self.procs.append(p)
        return p

    def pin(self, cpu: int) -> list:
        return ["taskset", "-c", str(cpu)]

    def client_args(self, target: str, label: str, json_file: Path, rate, leg: Leg = PLAIN) -> list:
        """rate: requests/s (0: closed loop), or a placeholder in the dry-run plan."""
        a = self.a
        cmd = ["--target", target, "--mode", "http", "--connections", a.connections,
               "--duration", f"{a.duration:g}", "--warmup", f"{a.warmup:g}"]
        if rate:
            cmd += ["--rate", rate if isinstance(rate, str) else f"{rate:.0f}"]
        if leg.https:
            cmd += self.tls.loadgen_args()
        return cmd + ["--path", f"/r{{0..{a.routes - 1}}}/item", "--host", HOST, "--json", json_file,
                      "--label", label, "--no-progress"]

    def loadgen_env(self, leg: Leg) -> list:
        return self.tls.loadgen_env() if leg.https else []

    @staticmethod
    def port(leg: Leg) -> int:
        return TLS_PORT if leg.https else LISTEN_PORT

    def listen_ports(self) -> list[int]:
        return [LISTEN_PORT] + ([TLS_PORT] if self.tls else [])

    def bootstrap_file(self, leg: Leg) -> Path:
        return self.out / ("linegate-bootstrap.yaml" if leg.offload else "linegate-bootstrap-no-offload.yaml")

    # -- commands (also what --dry-run prints) ------------------------------

    def cmd_linegate(self, leg: Leg = PLAIN) -> list:
        return [*self.pin(self.proxy_cpu), self.linegate, "--bootstrap", self.bootstrap_file(leg)]

    def cmd_loadgen_linegate(self, kind: str, rate, leg: Leg = PLAIN) -> list:
        json_file = self.out / f"{phase_key('linegate', leg, kind)}.json"
        return [*self.loadgen_env(leg), *self.pin(self.gen_cpu), self.loadgen,
                "--file-prefix", self.prefix(f"lg{kind}"),
                "--port", memif(0, "client", self.out / "lg-client.sock"), "--ip", f"{LG_CLIENT}/24",
                "--port", memif(1, "client", self.out / "lg-upstream.sock"), "--ip", f"{LG_UP}/24",
                "--listen", UPSTREAM_PORT, "--response-bytes", self.a.response_bytes,
                *self.client_args(f"{LG_GW_CLIENT}:{self.port(leg)}", f"linegate{leg.suffix}", json_file, rate, leg)]

    def cmd_kernel_proxy(self, name: str) -> list:
        if name == "nginx":
            return [*self.pin(self.proxy_cpu), *self.nginx_cmd(["-g", "daemon off;"])]
        return [*self.pin(self.proxy_cpu), *self.haproxy_cmd(["-db"])]

    def cmd_loadgen_kernel(self, name: str, kind: str, rate, leg: Leg = PLAIN) -> list:
        json_file = self.out / f"{phase_key(name, leg, kind)}.json"
        return [*self.loadgen_env(leg), *self.pin(self.gen_cpu), self.loadgen,
                "--file-prefix", self.prefix(f"k{kind}"),
                "--port", f"net_tap0,iface={TAP_CLIENT}", "--ip", f"{K_CLIENT}/24",
                "--port", f"net_tap1,iface={TAP_UP}", "--ip", f"{K_UP}/24",
                "--listen", UPSTREAM_PORT, "--response-bytes", self.a.response_bytes,
                *self.client_args(f"{K_CLIENT_KERNEL}:{self.port(leg)}", f"{name}{leg.suffix}", json_file, rate, leg)]

    def cmd_generator_responder(self) -> list:
        return [*self.pin(self.proxy_cpu), self.loadgen, "--file-prefix", self.prefix("genr"),
                "--port", memif(0, "server", self.out / "gen.sock"), "--ip", f"{GEN_RESP}/24",
                "--listen", UPSTREAM_PORT, "--response-bytes", self.a.response_bytes,
                "--json", self.out / "generator-responder.json", "--label", "generator-responder", "--no-progress"]

    def cmd_generator_client(self) -> list:
        return [*self.pin(self.gen_cpu), self.loadgen, "--file-prefix", self.prefix("genc"),
                "--port", memif(0, "client", self.out / "gen.sock"), "--ip", f"{GEN_CLIENT}/24",
                *self.client_args(f"{GEN_RESP}:{UPSTREAM_PORT}", "generator", self.out / "generator-max.json", 0)]

    # -- configs ----------------------------------------------------------

    def write_configs(self) -> dict:
        a, out = self.a, self.out
        files = {}
        if self.tls:
            self.tls.make()
            files["tls"] = self.tls.dir
        if "linegate" in a.only:
            istio = out / "linegate-istio"
            istio.mkdir(exist_ok=True)
            (istio / "bench.yaml").write_text(istio_yaml(a.routes, LG_UP, self.tls))
            self.lg_prefix = self.prefix("gw")
            for offload in (True, False) if self.tls else (True,):
                boot = self.bootstrap_file(Leg(True, offload))
                boot.write_text(linegate_bootstrap(out, a, self.admin_port, self.lg_prefix, offload))
                files["linegate" if offload else "linegate, record offload off"] = boot
        if "nginx" in a.only:
            d = out / "nginx"
            (d / "nginx.conf").write_text(nginx_conf(d, a.routes, a.connections, self.tls))
            files["nginx"] = d / "nginx.conf"
        if "haproxy" in a.only:
            (out / "haproxy.cfg").write_text(haproxy_cfg(a.routes, a.connections, self.tls))
            files["haproxy"] = out / "haproxy.cfg"
        return files

    def nginx_cmd(self, extra: list) -> list:
        d = self.out / "nginx"
        return ["nginx", "-p", d, "-e", d / "error.log", "-c", d / "nginx.conf", *extra]

    def haproxy_cmd(self, extra: list) -> list:
        return ["haproxy", "-f", self.out / "haproxy.cfg", *extra]

    def validate_configs(self):
        if "linegate" in self.a.only and self.linegate.exists():
            for leg in (HTTPS, HTTPS_NO_OFFLOAD) if self.tls else (PLAIN,):
                boot = self.bootstrap_file(leg)
                p = run([self.linegate, "--bootstrap", boot, "--check"], check=False)
                if p.returncode != 0:
                    raise Failure(f"linegate rejects {boot}:\n{p.stdout}{p.stderr}")
        if "nginx" in self.a.only:
            # nginx -t binds its listen addresses, and 10.91.1.1 exists only while a phase runs:
            # check a copy that differs in the listen lines alone.
            d = self.out / "nginx"
            conf = (d / "nginx.conf").read_text()
            check = d / "nginx-check.conf"
            conf = re.sub(rf"listen {re.escape(K_CLIENT_KERNEL)}:\d+", lambda _: f"listen 127.0.0.1:{free_tcp_port()}",
                          conf)
            check.write_text(conf.replace(f"pid {d}/nginx.pid", f"pid {d}/nginx-check.pid"))
            p = run(["nginx", "-p", d, "-e", d / "error.log", "-c", check, "-t", "-q"], check=False)
            check.unlink()
            (d / "nginx-check.pid").unlink(missing_ok=True)
            if p.returncode != 0:
                raise Failure(f"nginx -t rejects {d / 'nginx.conf'} (checked as {check.name}, listening on "
                              f"127.0.0.1):\n{p.stdout}{p.stderr}")
        if "haproxy" in self.a.only:
            p = run(self.haproxy_cmd(["-c", "-q"]), check=False)
            if p.returncode != 0:
                raise Failure(f"haproxy -c rejects {self.out / 'haproxy.cfg'}:\n{p.stdout}{p.stderr}")

    # -- preflight --------------------------------------------------------

    def preflight(self):
        a = self.a
        if os.geteuid() != 0:
            raise Failure("needs root (taps, memif sockets, DPDK): run with sudo")
        cpus = os.sched_getaffinity(0)
        for c in a.cpus:
            if c not in cpus:
                raise Failure(f"CPU {c} is not available to this process (allowed: {sorted(cpus)}); see --cpus")
        tools = ["taskset", "ip", *(["openssl"] if a.tls else [])] + [p for p in ("nginx", "haproxy") if p in a.only]
        for tool in tools:
            if shutil.which(tool) is None:
                raise Failure(f"{tool} not found: run scripts/install-deps.sh")
        for tap in (TAP_CLIENT, TAP_UP):
            if link_exists(tap):
                raise Failure(f"interface {tap} already exists (another compare run, or one that was killed?): "
                              f"`ip link del {tap}` if nothing uses it")
        addrs = run(["ip", "-o", "-4", "addr", "show"], quiet=True).stdout
        for net in SUBNETS:
            if net in addrs:
                raise Failure(f"a host interface already has an address in {net}0/24; "
                              f"compare.py needs 10.90.0.0/16, 10.91.0.0/16 and 10.92.0.0/16 free:\n{addrs}")
        self.ensure_binaries()
        say("== hugepages")
        p = run([REPO / "scripts" / "hugepages.sh"], check=False, timeout=60)
        say((p.stdout + p.stderr).strip())
        if p.returncode != 0:
            say("(continuing: linegate and the loadgen fall back to --no-huge)")

    def ensure_binaries(self):
        missing = [b for b in (self.linegate, self.loadgen) if not b.exists()]
        if not missing:
            return
        say(f"== build ({', '.join(str(m.relative_to(self.build)) for m in missing)} missing)")
        if not (self.build / "build.ninja").exists():
            run(["meson", "setup", self.build], timeout=600, check=True)
        run(["ninja", "-C", self.build, "dataplane/linegate", "bench/linegate-loadgen"], timeout=3600)
        for b in (self.linegate, self.loadgen):
            if not b.exists():
                raise Failure(f"{b} still missing after the build")

    # -- kernel-side taps -------------------------------------------------

    def make_taps(self):
        """Persistent taps with the kernel addresses, made before the proxy
        starts so nginx/HAProxy can bind 10.91.1.1 and keep running while
        one loadgen process per phase attaches to them (the tap PMD opens an
        existing tap by name, brings its link up and down with the port)."""
        self.taps_made = self.taps_ever = True
        for cmd in tap_setup():
            run(cmd)

    def taps_up(self, loadgen: Proc):
        """After the loadgen opened the taps: links up (again), stale
        neighbor entries from the previous loadgen's MAC gone."""
        deadline = time.monotonic() + 20
        while True:
            carrier = all(Path(f"/sys/class/net/{t}/carrier").read_text().strip() == "1"
                          for t in (TAP_CLIENT, TAP_UP) if link_exists(t))
            if carrier:
                break
            if not loadgen.alive():
                raise Failure(f"loadgen exited {loadgen.popen.returncode} before opening the taps:\n"
                              f"{log_tail(loadgen.log)}")
            if time.monotonic() > deadline:
                raise Failure(f"the loadgen did not open {TAP_CLIENT}/{TAP_UP} within 20s:\n{log_tail(loadgen.log)}")
            time.sleep(0.05)
        for t in (TAP_CLIENT, TAP_UP):
            run(["ip", "link", "set", t, "up"], quiet=True)
            self.steer_rx(t)

    def steer_rx(self, tap: str):
        """Receive Packet Steering: the kernel's receive path for what the
        generator writes into a tap (IP, TCP, waking the proxy) runs on the
        proxy's CPU, as a NIC interrupt bound to that core would, instead of
        inside the generator's write() on CPU 0."""
        mask = f"{1 << self.proxy_cpu:x}"
        for q in Path(f"/sys/class/net/{tap}/queues").glob("rx-*"):
            (q / "rps_cpus").write_text(mask)

    def delete_taps(self):
        for t in (TAP_CLIENT, TAP_UP):
            if link_exists(t):
                run(["ip", "link", "del", t], check=False)
        self.taps_made = False

    # -- proxies ----------------------------------------------------------

    def admin(self, method: str, path: str, timeout: float = 5.0) -> tuple[int, str]:
        c = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=timeout)
        try:
            c.request(method, path)
            r = c.getresponse()
            return r.status, r.read().decode(errors="replace")
        finally:
            c.close()

    def start_linegate(self, phase: str, leg: Leg = PLAIN) -> Proc:
        for s in ("lg-client.sock", "lg-upstream.sock"):
            (self.out / s).unlink(missing_ok=True)
        p = self.spawn(f"linegate-{phase}", self.cmd_linegate(leg))
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if not p.alive():
                raise Failure(f"linegate exited {p.popen.returncode} before /ready:\n{log_tail(p.log)}")
            try:
                status, body = self.admin("GET", "/ready", 1)
                if status == 200 and body.strip() == "LIVE":
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise Failure(f"linegate not LIVE within {READY_TIMEOUT:.0f}s:\n{log_tail(p.log)}")
            time.sleep(0.1)
        info = json.loads(self.admin("GET", "/server_info")[1])
        cfg = info.get("config", {})
        if cfg.get("update_success", 0) < 1 or cfg.get("last_error"):
            raise Failure(f"linegate did not apply {self.out / 'linegate-istio'}: {cfg}\n{log_tail(p.log)}")
        dump = self.admin("GET", "/config_dump")[1]
        missing = [k for k in range(self.a.routes) if f"/r{k}/" not in dump]
        if missing:
            raise Failure(f"linegate /config_dump lacks routes for /r{missing[0]}/ (and {len(missing) - 1} more); "
                          f"config: {cfg}")
        return p

    def stop_linegate(self, p: Proc):
        if p.alive():
            try:
                say(f"+ POST http://127.0.0.1:{self.admin_port}/quitquitquit")
                self.admin("POST", "/quitquitquit", 2)
            except OSError:
                pass
            if p.wait(STOP_TIMEOUT) is None:
                self.notes += p.stop((signal.SIGINT,))
        p.close_log()
        rc = p.popen.returncode
        if rc not in (0, None):
            self.warnings.append(f"linegate ({p.name}) exited {rc}; see {p.log}")

    def linegate_counters(self) -> dict:
        j = json.loads(self.admin("GET", "/stats?format=json")[1])
        out = {"busy_cycles": sum(w["busy_cycles"] for w in j["workers"]), "tsc_hz": j.get("tsc_hz", 0)}
        for c in ("downstream_rq_total", *LINEGATE_TLS_COUNTERS):
            out[c] = sum(li.get(c, 0) for li in j["listeners"].values())
        return out

    def start_kernel_proxy(self, name: str, phase: str) -> Proc:
        p = self.spawn(f"{name}-{phase}", self.cmd_kernel_proxy(name))
        wait_listening(p, K_CLIENT_KERNEL, self.listen_ports())
        return p

    def probe_tls(self, name: str) -> dict:
        """One handshake with openssl s_client offering what the loadgen
        offers: the version and suite the proxy negotiates, which the
        loadgen's JSON does not say. (linegate sits behind memif, out of the
        kernel's reach; there the client's offer alone fixes the suite.)"""
        cmd = ["openssl", "s_client", "-connect", f"{K_CLIENT_KERNEL}:{TLS_PORT}", "-servername", HOST,
               "-CAfile", self.tls.ca, "-verify_return_error", "-verify_hostname", HOST, "-alpn", "http/1.1",
               "-brief", *self.tls.s_client_args()]
        p = run(cmd, check=False, timeout=20)
        text = p.stdout + p.stderr
        fields = (("protocol", r"Protocol version: (\S+)"), ("cipher", r"Ciphersuite: (\S+)"),
                  ("verification", r"Verification: (.+)"))
        got = {k: m.group(1) for k, pat in fields if (m := re.search(pat, text))}
        want = {"protocol": f"TLSv{self.tls.version}", "cipher": self.tls.cipher}
        if p.returncode != 0 or any(got.get(k) != v for k, v in want.items()):
            raise Failure(f"{name} does not serve TLSv{self.tls.version} {self.tls.cipher} on {TLS_PORT} "
                          f"({shlex.join(str(c) for c in cmd)} exited {p.returncode}):\n{text[-2000:]}")
        return got

    # -- phases -----------------------------------------------------------

    def wait_loadgen(self, p: Proc, json_file: Path) -> dict:
        """Waits for the client to finish; meanwhile samples its runqueue
        wait (it cannot be read once the process is gone)."""
        limit = self.a.warmup + self.a.duration + LOADGEN_SLACK
        start, before = time.monotonic(), all_cpu_ticks()
        rc = None
        while rc is None and time.monotonic() - start < limit:
            worker, whole = schedstat([p.pid], workers_only=True), schedstat([p.pid])
            if whole[0]:
                self.loadgen_wait_ns, self.loadgen_threads_ns = worker[1], whole[0] - worker[0]
            rc = p.wait(0.5)
        self.loadgen_wall_s = time.monotonic() - start
        # Who else ran meanwhile (the loadgen is gone from `after`; the proxy is ours too).
        ours = {os.getpid()} | {t for q in self.procs if q.alive() for t in proc_tree(q.pid)}
        tick = os.sysconf("SC_CLK_TCK")
        used = [(name, (ticks - before.get(pid, ("", 0))[1]) / tick)
                for pid, (name, ticks) in all_cpu_ticks().items() if pid not in ours]
        self.others = sorted((u for u in used if u[1] >= 0.05), key=lambda u: -u[1])[:5]
        if rc is None:
            self.notes += p.stop()
            raise Failure(f"{p.name} did not finish within {limit:.0f}s:\n{log_tail(p.log)}")
        p.close_log()
        if rc != 0:
            raise Failure(f"{p.name} exited {rc}:\n{log_tail(p.log)}")
        try:
            return json.loads(json_file.read_text())
        except (OSError, ValueError) as e:
            raise Failure(f"{p.name}: cannot read {json_file}: {e}")

    def contention(self, key: str, proxy_wait_ns: Optional[int]) -> dict:
        """How long the generator's worker thread and the proxy waited for
        their CPUs, and what else ran: on a shared machine this, not the
        proxy, can set the figures."""
        wall = self.loadgen_wall_s or 1
        out = {"wall_s": wall, "loadgen_worker_runqueue_wait_s": self.loadgen_wait_ns / 1e9,
               "loadgen_other_threads_cpu_s": self.loadgen_threads_ns / 1e9,
               "other_processes_cpu_s": dict(self.others)}
        if proxy_wait_ns is not None:
            out["proxy_runqueue_wait_s"] = proxy_wait_ns / 1e9
        others = ", ".join(f"{n} {t:.2f} s" for n, t in self.others) or "none"
        if out["loadgen_worker_runqueue_wait_s"] > 0.02 * wall:
            self.warnings.append(
                f"{key}: the loadgen's worker waited {out['loadgen_worker_runqueue_wait_s']:.2f} s of {wall:.1f} s "
                f"for CPU {self.gen_cpu}; meanwhile the loadgen's other threads ran "
                f"{out['loadgen_other_threads_cpu_s']:.2f} s (the tap PMD signals the process for every frame it receives) "
                f"and other processes {others}")
        if proxy_wait_ns is not None and out["proxy_runqueue_wait_s"] > 0.02 * wall:
            self.warnings.append(f"{key}: the proxy waited {out['proxy_runqueue_wait_s']:.2f} s of {wall:.1f} s for "
                                 f"CPU {self.proxy_cpu}; other processes meanwhile: {others}")
        self.loadgen_wait_ns, self.loadgen_threads_ns, self.loadgen_wall_s, self.others = 0, 0, 0.0, []
        return out

    def check_result(self, key: str, r: dict, leg: Leg = PLAIN):
        if r.get("requests", 0) == 0 or r.get("status", {}).get("2xx", 0) == 0:
            raise Failure(f"{key}: no successful requests (status {r.get('status')}, errors {r.get('errors')}); "
                          f"see the logs in {self.out}")
        if leg.https:
            t = r.get("tls") or {}
            if not t.get("ssl_handshake") or not t.get("verify"):
                raise Failure(f"{key}: the loadgen made no verified TLS handshakes (tls: {t})")
            # Keep-alive: one handshake per connection; more means connections were closed and redone.
            if t.get("ssl_connection_error") or t["ssl_handshake"] > r["connections"]["opened"]:
                self.warnings.append(f"{key}: {t['ssl_handshake']} TLS handshakes on {r['connections']['opened']} "
                                     f"connections, {t.get('ssl_connection_error', 0)} TLS errors")
        busy = r.get("loadgen", {}).get("busy_fraction") or 0
        if not r.get("open_loop") and busy > 0.95 and not key.startswith("generator"):
            self.warnings.append(f"{key}: the loadgen was busy {100 * busy:.0f} % of the time: the generator, "
                                 f"not the proxy, may have set this throughput")
        bad = sum(v for k, v in r.get("status", {}).items() if k != "2xx")
        errs = sum(r.get("errors", {}).values())
        if bad or errs:
            self.warnings.append(f"{key}: {bad} non-2xx responses, errors {r.get('errors')}")

    def phase_linegate(self, kind: str, rate: float, leg: Leg = PLAIN) -> dict:
        key = phase_key("linegate", leg, kind)
        json_file = self.out / f"{key}.json"
        gw = self.start_linegate(key.removeprefix("linegate-"), leg)
        try:
            before, t0, w0 = self.linegate_counters(), cpu_stat(), schedstat([gw.pid], workers_only=True)[1]
            lg = self.spawn(f"loadgen-{key}", self.cmd_loadgen_linegate(kind, rate, leg))
            r = self.wait_loadgen(lg, json_file)
            after, t1, w1 = self.linegate_counters(), cpu_stat(), schedstat([gw.pid], workers_only=True)[1]
        finally:
            self.stop_linegate(gw)
        self.check_result(key, r, leg)
        cycles = after["busy_cycles"] - before["busy_cycles"]
        reqs = after["downstream_rq_total"] - before["downstream_rq_total"]
        out = {"json": str(json_file), "result": r, "proxy_cycles": cycles, "proxy_requests": reqs,
               "cycles_per_request": cycles / reqs if reqs else None,
               "how": "linegate workers' busy_cycles / listeners' downstream_rq_total (admin /stats)",
               "tsc_hz": after["tsc_hz"], "cpu_stat_jiffies": cpu_stat_delta(t0, t1), "loadgen_cmd": lg.cmdline,
               **self.contention(key, w1 - w0)}
        if leg.https:
            out["proxy_tls"] = t = {c: after[c] - before[c] for c in LINEGATE_TLS_COUNTERS}
            offloaded = t["ssl_handshake"] if leg.offload else 0
            if not t["ssl_handshake"] or t["ssl_offloaded"] != offloaded or t["ssl_connection_error"]:
                self.warnings.append(f"{key}: linegate's listeners counted {t} (expected every handshake "
                                     f"{'offloaded' if leg.offload else 'on OpenSSL records'}, no errors)")
        return out

    def phase_kernel(self, name: str, kind: str, rate: float, leg: Leg = PLAIN) -> dict:
        key = phase_key(name, leg, kind)
        json_file = self.out / f"{key}.json"
        self.make_taps()
        proxy = None
        try:
            proxy = self.start_kernel_proxy(name, key.removeprefix(f"{name}-"))
            negotiated = self.probe_tls(name) if leg.https else None
            pids = proc_tree(proxy.pid)
            for t in (TAP_CLIENT, TAP_UP):
                run(["ip", "neigh", "flush", "dev", t], quiet=True, check=False)
            ticks0, t0, w0 = cpu_ticks(pids), cpu_stat(), schedstat(pids)[1]
            lg = self.spawn(f"loadgen-{key}", self.cmd_loadgen_kernel(name, kind, rate, leg))
            self.taps_up(lg)
            r = self.wait_loadgen(lg, json_file)
            pids_after = proc_tree(proxy.pid)
            ticks1, t1, w1 = cpu_ticks(pids_after), cpu_stat(), schedstat(pids_after)[1]
            if set(pids_after) != set(pids):
                self.warnings.append(f"{key}: {name}'s processes changed during the run ({pids} → {pids_after}); "
                                     f"CPU time of exited ones is missing")
        finally:
            if proxy is not None:
                self.notes += [n for n in proxy.stop((signal.SIGTERM,)) if "SIGKILL" in n]
            self.delete_taps()
        self.check_result(key, r, leg)
        tsc = r["loadgen"]["tsc_hz"]
        cycles = (ticks1 - ticks0) / os.sysconf("SC_CLK_TCK") * tsc
        reqs = r["requests_total"]
        return {"json": str(json_file), "result": r, "proxy_cycles": cycles, "proxy_requests": reqs,
                "cpu_seconds": (ticks1 - ticks0) / os.sysconf("SC_CLK_TCK"),
                "cycles_per_request": cycles / reqs if reqs else None,
                "how": f"{name} user+system time (/proc/<pid>/stat, pids {pids}) × loadgen tsc_hz / requests_total",
                "tsc_hz": tsc, "cpu_stat_jiffies": cpu_stat_delta(t0, t1), "loadgen_cmd": lg.cmdline,
                **({"negotiated": negotiated} if negotiated else {}), **self.contention(key, w1 - w0)}

    def phase_generator(self) -> dict:
        """loadgen client (gen CPU) ⇄ memif ⇄ loadgen responder (proxy CPU)."""
        sock = self.out / "gen.sock"
        sock.unlink(missing_ok=True)
        client_json, resp_json = self.out / "generator-max.json", self.out / "generator-responder.json"
        resp = self.spawn("loadgen-generator-responder", self.cmd_generator_responder())
        try:
            deadline = time.monotonic() + READY_TIMEOUT
            while not sock.exists():
                if not resp.alive():
                    raise Failure(f"responder exited {resp.popen.returncode}:\n{log_tail(resp.log)}")
                if time.monotonic() > deadline:
                    raise Failure(f"responder did not create {sock} within {READY_TIMEOUT:.0f}s:\n{log_tail(resp.log)}")
                time.sleep(0.05)
            client = self.spawn("loadgen-generator-client", self.cmd_generator_client())
            r = self.wait_loadgen(client, client_json)
        finally:
            self.notes += [n for n in resp.stop((signal.SIGINT, signal.SIGTERM)) if "SIGKILL" in n]
        self.check_result("generator-max", r)
        out = {"json": str(client_json), "result": r, "loadgen_cmd": client.cmdline,
               **self.contention("generator-max", None)}
        try:
            out["responder"] = json.loads(resp_json.read_text())
        except (OSError, ValueError):
            out["responder"] = None
        return out

    # -- the whole run ----------------------------------------------------

    def proxies(self) -> list[str]:
        return [p for p in PROXIES if p in self.a.only]

    def plan(self) -> list[tuple[str, str, Leg]]:
        """(name, kind, leg) in order. --tls: a proxy's HTTPS and plain
        maxima run back to back, so its TLS cost compares phases a minute
        apart; linegate's HTTPS once more with its record offload off."""
        if not self.tls:
            return ([("generator", "max", PLAIN)] + [(p, "max", PLAIN) for p in self.proxies()]
                    + [(p, "rate", PLAIN) for p in self.proxies()])
        steps = []
        for p in self.proxies():
            legs = (HTTPS, HTTPS_NO_OFFLOAD, PLAIN) if p == "linegate" else (HTTPS, PLAIN)
            steps += [(p, "max", leg) for leg in legs]
        return steps + [(p, "rate", HTTPS) for p in self.proxies()]

    def leg_name(self, leg: Leg) -> str:
        if not self.tls:
            return ""
        return "plain HTTP" if not leg.https else "HTTPS" if leg.offload else "HTTPS, record offload off"

    def estimate_s(self) -> float:
        per = self.a.warmup + self.a.duration + 6  # start, memif/ARP, stop
        return len(self.plan()) * per

    def run_all(self):
        a = self.a
        for name, kind, leg in self.plan():
            if kind == "rate" and not self.rate:
                self.rate = round(0.5 * min(self.phases[phase_key(p, leg, "max")]["result"]["throughput_rps"]
                                            for p in self.proxies()))
                label = f"{self.leg_name(leg)} " if self.tls else ""
                say(f"\n== fixed rate for p99: {self.rate:.0f} rps (half the lowest {label}max throughput)")
            what = f"{name} ({self.leg_name(leg)})" if self.tls else name
            if name == "generator":
                say(f"\n== generator alone: loadgen client (CPU {self.gen_cpu}) ⇄ memif ⇄ loadgen responder "
                    f"(CPU {self.proxy_cpu}), closed loop")
            elif kind == "max":
                say(f"\n== {what}: closed loop (max throughput), {a.connections} connections, {a.duration:g} s")
            else:
                say(f"\n== {what}: open loop at {self.rate:.0f} rps, {a.duration:g} s")
            key = phase_key(name, leg, kind)
            rate = self.rate if kind == "rate" else 0
            self.phases[key] = (self.phase_generator() if name == "generator" else
                                self.phase_linegate(kind, rate, leg) if name == "linegate" else
                                self.phase_kernel(name, kind, rate, leg))
            self.report_phase(key)

    def report_phase(self, key: str):
        ph = self.phases[key]
        r = ph["result"]
        cpr = ph.get("cycles_per_request")
        say(f"   {key}: {r['throughput_rps']:,.0f} rps, p99 {r['latency_us']['p99']:,.1f} µs"
            + (f", proxy {cpr:,.0f} cycles/request" if cpr else "")
            + f", loadgen {r['loadgen'].get('cycles_per_request', 0):,.0f} cycles/request "
              f"(busy {100 * r['loadgen'].get('busy_fraction', 0):.0f} %)")

    def cleanup(self):
        for p in reversed(self.procs):
            if p.alive():
                if p.name.startswith("linegate-"):
                    self.stop_linegate(p)
                else:
                    self.notes += p.stop((signal.SIGINT, signal.SIGTERM))
            p.close_log()
        if self.taps_made:  # only ours: preflight refuses to start when they already exist
            self.delete_taps()

    def leftovers(self) -> list[str]:
        """What a run must not leave: processes, interfaces, memif sockets,
        DPDK runtime dirs. Removes what it finds and says so."""
        left = [f"process {p.name} (pid {p.pid}) still running" for p in self.procs if p.alive()]
        for t in (TAP_CLIENT, TAP_UP) if self.taps_ever else ():
            if link_exists(t):
                left.append(f"interface {t} left behind")
                run(["ip", "link", "del", t], check=False, quiet=True)
        for s in self.out.glob("*.sock"):
            left.append(f"memif socket {s} left behind; removed")
            s.unlink(missing_ok=True)
        for pre in self.prefixes:
            d = DPDK_RUN / pre
            if d.exists():
                left.append(f"{d} left behind; removed")
                shutil.rmtree(d, ignore_errors=True)
        return left


# ---------------------------------------------------------------- report

def version_of(cmd: list) -> str:
    try:
        p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    text = (p.stdout + p.stderr).strip().splitlines()
    return text[0].strip() if text else "?"


def machine_environment() -> dict:
    """Date, CPU, kernel and the repository's commit: the part of a result's
    environment every bench script records."""
    model = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    commit = version_of(["git", "-C", REPO, "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return {"date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
            "cpu_model": model, "cpus": os.cpu_count(), "commit": commit + ("+dirty" if dirty else ""),
            "kernel": os.uname().release}


def environment(b: Bench) -> dict:
    env = {**machine_environment(),
           "linegate": version_of([b.linegate, "--version"]),
           "loadgen": version_of([b.loadgen, "--version"])}
    if "nginx" in b.a.only:
        env["nginx"] = version_of(["nginx", "-v"]).replace("nginx version: ", "")
    if "haproxy" in b.a.only:
        env["haproxy"] = re.sub(r"^HAProxy version | - https?://\S+", "", version_of(["haproxy", "-v"]))
    if b.tls:
        env["openssl"] = version_of(["openssl", "version"])
    return env


def fmt(v, spec: str = ",.0f", none: str = "—") -> str:
    return none if v is None else format(v, spec)


def ratio(a, b) -> Optional[float]:
    return a / b if a is not None and b else None


def generator_summary(ph: dict, lg_cpr: Optional[float], lg_key: str) -> dict:
    """What the generator costs and whether it outruns linegate: from the
    generator-alone phase (when there is one) and from linegate's max phase
    lg_key, where the client and the responder shared one core."""
    gen: dict = {}
    resp_cpr = None
    if "generator-max" in ph:
        g = ph["generator-max"]
        resp = g.get("responder") or {}
        resp_cpr = resp.get("responder", {}).get("cycles_per_request")
        answered = resp.get("responder", {}).get("requests")
        if resp_cpr is None and resp.get("loadgen", {}).get("run_busy_cycles") and answered:
            resp_cpr = resp["loadgen"]["run_busy_cycles"] / answered
        gen = {"rps": g["result"]["throughput_rps"],
               "client_cycles_per_request": g["result"]["loadgen"].get("cycles_per_request"),
               "responder_cycles_per_request": resp_cpr}
    # What the generator spends per proxied request (client and responder roles on one core):
    # measured in the linegate run itself when there is one.
    if lg_key in ph:
        lgr = ph[lg_key]["result"]["loadgen"]
        gen["cycles_per_proxied_request"] = lgr.get("cycles_per_request")
        gen["busy_fraction_in_linegate_run"] = lgr.get("busy_fraction")
        gen["per_request_source"] = f"loadgen.cycles_per_request of {lg_key}.json (client + responder)"
    elif gen.get("client_cycles_per_request") and resp_cpr:
        gen["cycles_per_proxied_request"] = gen["client_cycles_per_request"] + resp_cpr
        gen["per_request_source"] = "generator client + responder cycles/request (no-proxy run)"
    if lg_cpr and gen.get("cycles_per_proxied_request"):
        gen["headroom_vs_linegate"] = lg_cpr / gen["cycles_per_proxied_request"]
    if lg_cpr and gen.get("client_cycles_per_request") and resp_cpr:
        # With a core per role (a lab box), each role needs its own headroom.
        gen["headroom_per_role"] = {"client": lg_cpr / gen["client_cycles_per_request"], "responder": lg_cpr / resp_cpr}
    return gen


def workload(b: Bench) -> dict:
    a = b.a
    w = {"connections": a.connections, "routes": a.routes, "response_bytes": a.response_bytes,
         "duration_s": a.duration, "warmup_s": a.warmup, "rate_rps": b.rate,
         "host": HOST, "paths": f"/r{{0..{a.routes - 1}}}/item",
         "generator_cpu": b.gen_cpu, "proxy_cpu": b.proxy_cpu}
    if b.tls:
        w["tls"] = {"version": f"TLSv{b.tls.version}", "cipher": b.tls.cipher, "certificate": "ECDSA P-256",
                    "port": TLS_PORT, "client": "linegate-loadgen offers this version and suite only and verifies "
                                                f"the server's chain for {HOST}; keep-alive connections"}
    return w


def summary_common(b: Bench) -> dict:
    return {"tool": "bench/compare.py", "command": b.command, "out": str(b.out), "environment": b.env,
            "workload": workload(b), "warnings": b.warnings,
            "phases": {k: {kk: vv for kk, vv in v.items() if kk not in ("result", "responder")}
                       for k, v in b.phases.items()}}


def summarize(b: Bench) -> dict:
    if b.tls:
        return summarize_tls(b)
    ph = b.phases
    rows = []
    for name in b.proxies():
        mx, rt = ph[f"{name}-max"], ph[f"{name}-rate"]
        rr = rt["result"]
        rows.append({"proxy": name, "max_rps": mx["result"]["throughput_rps"],
                     "p99_us_at_rate": rr["latency_us"]["p99"], "achieved_rps_at_rate": rr["throughput_rps"],
                     "cycles_per_request": mx["cycles_per_request"],
                     "cycles_per_request_at_rate": rt["cycles_per_request"]})
    lg = next((r for r in rows if r["proxy"] == "linegate"), None)
    for r in rows:
        r["linegate_over_this"] = None if lg is None or r is lg else {
            "max_rps": ratio(lg["max_rps"], r["max_rps"]),
            "p99": ratio(lg["p99_us_at_rate"], r["p99_us_at_rate"]),
            "cycles_per_request": ratio(lg["cycles_per_request"], r["cycles_per_request"])}
    return {**summary_common(b), "rows": rows,
            "generator": generator_summary(ph, lg and lg["cycles_per_request"], "linegate-max")}


def max_figures(ph: dict) -> dict:
    """A closed-loop phase's figures, and the client's TLS counters."""
    r = ph["result"]
    out = {"max_rps": r["throughput_rps"], "cycles_per_request": ph["cycles_per_request"],
           "requests": r["requests_total"], "generator_busy": r["loadgen"].get("busy_fraction")}
    if "tls" in r:
        out["client_tls"] = r["tls"]
    return out


def summarize_tls(b: Bench) -> dict:
    """One row per proxy (linegate twice: record offload on and off): its
    HTTPS and plain HTTP maxima from the same run, their ratio (the TLS
    cost), p99 over HTTPS at the fixed rate, and linegate's ratios to it."""
    ph = b.phases
    rows = []
    for name in b.proxies():
        http = max_figures(ph[phase_key(name, PLAIN, "max")])
        for leg in (HTTPS, HTTPS_NO_OFFLOAD) if name == "linegate" else (HTTPS,):
            mx = ph[phase_key(name, leg, "max")]
            https = max_figures(mx)
            # What the proxy's side says: linegate's listener counters, the kernel proxies' s_client probe.
            https["proxy_tls"] = mx.get("proxy_tls") or mx.get("negotiated")
            if leg.offload:  # the p99 phase runs with each proxy's default record layer
                rr = ph[phase_key(name, leg, "rate")]["result"]
                https.update(p99_us_at_rate=rr["latency_us"]["p99"], achieved_rps_at_rate=rr["throughput_rps"])
            rows.append({"proxy": name, "label": name if leg.offload else f"{name}, OpenSSL records",
                         "record_offload": leg.offload if name == "linegate" else None, "https": https, "http": http,
                         "https_over_http": {
                             "max_rps": ratio(https["max_rps"], http["max_rps"]),
                             "cycles_per_request": ratio(https["cycles_per_request"], http["cycles_per_request"])}})
    lg = next((r for r in rows if r["proxy"] == "linegate" and r["record_offload"]), None)
    for r in rows:
        r["linegate_over_this"] = None if lg is None or r is lg else {
            "https_max_rps": ratio(lg["https"]["max_rps"], r["https"]["max_rps"]),
            "https_cycles_per_request": ratio(lg["https"]["cycles_per_request"], r["https"]["cycles_per_request"]),
            "https_p99": ratio(lg["https"].get("p99_us_at_rate"), r["https"].get("p99_us_at_rate"))}
    lg_cpr = lg and lg["https"]["cycles_per_request"]
    return {**summary_common(b), "rows": rows, "generator": generator_summary(ph, lg_cpr, "linegate-https-max")}


def times(v: Optional[float]) -> str:
    return fmt(v, ".2f") + ("×" if v is not None else "")


def md_table(head: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "|" + "|".join("---:" if i else "---" for i in range(len(head))) + "|",
            *("| " + " | ".join(r) + " |" for r in rows)]


def p99_cell(p99: Optional[float], achieved: Optional[float], rate: float) -> str:
    cell = fmt(p99, ",.1f")
    if achieved is not None and achieved < 0.97 * rate:
        cell += f" (achieved {achieved:,.0f} rps)"
    return cell


def table(s: dict) -> list[str]:
    if "tls" in s["workload"]:
        return table_tls(s)
    rate = s["workload"]["rate_rps"]
    head = ["proxy", "max rps", f"p99 at {rate:,.0f} rps (µs)", "cycles/request", f"cycles/request at {rate:,.0f} rps",
            "linegate/peer: max rps", "p99", "cycles/request"]
    rows = []
    for r in s["rows"]:
        q = r["linegate_over_this"] or {}
        rows.append([r["proxy"], fmt(r["max_rps"]), p99_cell(r["p99_us_at_rate"], r["achieved_rps_at_rate"], rate),
                     fmt(r["cycles_per_request"]), fmt(r["cycles_per_request_at_rate"]),
                     times(q.get("max_rps")), times(q.get("p99")), times(q.get("cycles_per_request"))])
    return md_table(head, rows) + [
        "", "linegate/peer: max rps above 1 = linegate serves more; p99 and cycles/request below 1 = "
            "linegate is faster, cheaper. cycles/request without a rate: the closed-loop run."]


def table_tls(s: dict) -> list[str]:
    rate = s["workload"]["rate_rps"]
    head = ["proxy", "HTTPS max rps", "HTTPS cycles/request", "HTTP max rps", "HTTP cycles/request",
            "HTTPS/HTTP: max rps", "cycles/request", f"HTTPS p99 at {rate:,.0f} rps (µs)",
            "linegate/peer (HTTPS): max rps", "cycles/request"]
    rows = []
    for r in s["rows"]:
        h, p, c, q = r["https"], r["http"], r["https_over_http"], r["linegate_over_this"] or {}
        rows.append([r["label"], fmt(h["max_rps"]), fmt(h["cycles_per_request"]), fmt(p["max_rps"]),
                     fmt(p["cycles_per_request"]), times(c["max_rps"]), times(c["cycles_per_request"]),
                     p99_cell(h.get("p99_us_at_rate"), h.get("achieved_rps_at_rate"), rate),
                     times(q.get("https_max_rps")), times(q.get("https_cycles_per_request"))])
    return md_table(head, rows) + [
        "", "HTTPS/HTTP: the TLS cost, each proxy against its own plain HTTP phase of this run (max rps below 1 = "
            "HTTPS serves less). linegate/peer: max rps above 1 = linegate serves more, cycles/request below 1 = "
            "linegate is cheaper; against \"linegate, OpenSSL records\" it is the record offload's gain. "
            "cycles/request: the closed-loop runs."]


def tls_lines(s: dict) -> list[str]:
    """What was negotiated, how many handshakes the keep-alive runs made,
    and how busy the generator was: whether the rows measure what they say."""
    t = s["workload"]["tls"]
    out = [f"TLS: {t['version']} {t['cipher']}, {t['certificate']} server certificate from a CA made for the run, "
           f"port {t['port']}; {t['client']}."]
    probes = [f"{r['proxy']} {r['https']['proxy_tls'].get('protocol')} {r['https']['proxy_tls'].get('cipher')}"
              for r in s["rows"] if r["proxy"] != "linegate" and r["https"].get("proxy_tls")]
    if probes:
        out.append("Negotiated (openssl s_client with the loadgen's offer, before each kernel proxy's phase): "
                   + ", ".join(probes) + ". linegate is behind memif; the client's single suite fixes its choice.")
    hs = []
    for r in s["rows"]:
        ct, pt = r["https"].get("client_tls") or {}, r["https"].get("proxy_tls") or {}
        line = f"{r['label']} {ct.get('ssl_handshake', 0):,} for {r['https']['requests']:,} requests"
        if "ssl_handshake" in pt:
            line += f" (linegate counted {pt['ssl_handshake']:,}, {pt['ssl_offloaded']:,} offloaded)"
        hs.append(line)
    out.append("TLS handshakes in the HTTPS max phases (keep-alive: about one per connection): " + "; ".join(hs) + ".")
    busy = [f"{r['label']} {fmt(100 * (r['https']['generator_busy'] or 0), '.0f')} % / "
            f"{fmt(100 * (r['http']['generator_busy'] or 0), '.0f')} %" for r in s["rows"]]
    out.append("Generator busy in the max phases, HTTPS / HTTP: " + "; ".join(busy)
               + " (above 95 %, the generator and not the proxy may have set the maximum).")
    return out


def generator_lines(s: dict) -> list[str]:
    g = s["generator"]
    https = "tls" in s["workload"]
    out = []
    if "rps" in g:
        out.append(f"Generator alone (loadgen client ⇄ memif ⇄ loadgen responder, no proxy): {g['rps']:,.0f} rps, "
                   f"client {fmt(g['client_cycles_per_request'])} cycles/request, "
                   f"responder {fmt(g['responder_cycles_per_request'])} cycles/request.")
    if g.get("cycles_per_proxied_request"):
        out.append(f"Generator cost per proxied {'HTTPS ' if https else ''}request: "
                   f"{g['cycles_per_proxied_request']:,.0f} cycles ({g['per_request_source']}).")
    h = g.get("headroom_vs_linegate")
    if h is not None:
        verdict = ("meets the 2× the generator should have" if h >= 2 else
                   f"is below the 2× the generator should have (by a factor of {2 / h:.2f}), so linegate's max "
                   f"throughput above may be the generator's limit")
        out.append(f"Generator capacity per core / linegate's: {h:.2f}× (linegate cycles/request ÷ generator "
                   f"cycles per proxied request, both roles on one core); this {verdict}.")
    roles = g.get("headroom_per_role")
    if roles:
        out.append(f"With a core per role: client {roles['client']:.2f}×, responder {roles['responder']:.2f}× "
                   f"linegate's capacity per core (no-proxy run).")
    bf = g.get("busy_fraction_in_linegate_run")
    if bf is not None and bf > 0.95:
        out.append(f"The loadgen was busy {100 * bf:.0f} % of the linegate max run: the generator, not linegate, "
                   f"set linegate's max throughput.")
    return out


def report_lines(s: dict) -> list[str]:
    """The lines under the table, printed and in the docs block."""
    return (tls_lines(s) if "tls" in s["workload"] else []) + generator_lines(s)


def render_markdown(s: dict) -> str:
    e, w = s["environment"], s["workload"]
    vers = [f"linegate `{e['linegate']}`", f"loadgen `{e['loadgen']}`"]
    if "nginx" in e:
        vers.append(f"nginx `{e['nginx']}`")
    if "haproxy" in e:
        vers.append(f"HAProxy `{e['haproxy']}`")
    if "openssl" in e:
        vers.append(f"`{e['openssl']}`")
    if "tls" in w:
        what = (f"{w['tls']['version']} {w['tls']['cipher']} keep-alive GET from the loadgen to the proxy (plain "
                f"HTTP/1.1 upstream), and the same over plain HTTP in the same run")
        p99 = "p99 over HTTPS"
    else:
        what, p99 = "HTTP/1.1 keep-alive GET", "p99"
    lines = [
        f"Written by `bench/compare.sh` on {e['date']} at commit `{e['commit']}`; rerun it before quoting.",
        "",
        "```sh",
        s["command"],
        "```",
        "",
        f"- Machine: {e['cpu_model']}, {e['cpus']} CPUs, Linux {e['kernel']}. Generator on CPU {w['generator_cpu']}, "
        f"proxy on CPU {w['proxy_cpu']} (`taskset -c`).",
        f"- Versions: {', '.join(vers)}.",
        f"- Workload: {what}, {w['connections']} connections, paths {w['paths']} over "
        f"{w['routes']} prefix routes to one upstream, {w['response_bytes']}-byte responses, "
        f"{w['duration_s']:g} s measured after {w['warmup_s']:g} s warm-up; {p99} in an open loop at "
        f"{w['rate_rps']:,.0f} rps (corrected for coordinated omission).",
        "- cycles/request: linegate = worker busy cycles / requests (admin counters); nginx, HAProxy = "
        "process user+system time × TSC rate / requests. The kernel's receive work for them runs in softirq "
        "on their CPU (RPS) and is not in their figure: theirs are lower bounds (docs/benchmarking.md).",
        "",
        *table(s),
        "",
        *[f"- {line}" for line in report_lines(s)],
    ]
    if s["warnings"]:
        lines += ["", "Warnings from this run:", *[f"- {x}" for x in s["warnings"]]]
    return "\n".join(lines) + "\n"


def write_docs(markdown: str, doc: Path = DOC, tls: bool = False):
    """Between this mode's markers; a missing block goes at the end, under
    its own heading. The other mode's block is left as it is."""
    begin, end, section = (TLS_BEGIN, TLS_END, TLS_SECTION) if tls else (BEGIN, END, SECTION)
    text = doc.read_text() if doc.exists() else "# linegate performance\n"
    block = f"{begin}\n{markdown}{end}"
    if begin in text and end in text and text.index(begin) < text.index(end):
        i, j = text.index(begin), text.index(end) + len(end)
        text = text[:i] + block + text[j:]
    else:
        text = text.rstrip("\n") + f"\n\n{section}\n\nWhat runs and how to read it: docs/benchmarking.md. " \
                                   f"The block below is rewritten by each run.\n\n{block}\n"
    tmp = doc.with_name(f".{doc.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, doc)


# ---------------------------------------------------------------- main

def parse_args(argv: list[str]):
    ap = argparse.ArgumentParser(prog="bench/compare.sh", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=float, help="measured seconds per phase (20; --quick: 3)")
    ap.add_argument("--warmup", type=float, help="seconds before measuring (3; --quick: 1)")
    ap.add_argument("--connections", type=int, default=64, help="client connections (64)")
    ap.add_argument("--response-bytes", type=int, default=1024, help="upstream response body bytes (1024)")
    ap.add_argument("--routes", type=int, default=100, help="prefix routes /r0/../r{N-1}/ (100)")
    ap.add_argument("--rate", type=float, default=0, help="requests/s of the p99 phase (default: half the lowest max)")
    ap.add_argument("--only", default=",".join(PROXIES), help="comma list of linegate,nginx,haproxy")
    ap.add_argument("--out", help="directory for configs, logs and JSON (default: a new /tmp/linegate-compare.*)")
    ap.add_argument("--no-docs", action="store_true", help="do not touch docs/performance.md")
    ap.add_argument("--docs", action="store_true", help="write docs/performance.md even with --quick")
    ap.add_argument("--quick", action="store_true",
                    help="smoke test: duration 3, warmup 1 (unless given), no docs unless --docs")
    ap.add_argument("--build", default="build", help="build directory (build)")
    ap.add_argument("--cpus", default="0,1", help="GENERATOR_CPU,PROXY_CPU (0,1)")
    ap.add_argument("--crds", help="Istio CRD schemas for linegate's structural checks (bootstrap `crds:`)")
    ap.add_argument("--dry-run", action="store_true", help="print the plan, write and check the configs, run nothing")
    ap.add_argument("--tls", action="store_true",
                    help="HTTPS from the loadgen to the proxy (plain HTTP upstream), beside plain HTTP in the same run")
    ap.add_argument("--tls-version", choices=sorted(TLS_CIPHERS), default="1.3", help="with --tls: 1.2 or 1.3 (1.3)")
    ap.add_argument("--tls-cipher", help="with --tls: the one suite, OpenSSL's name (TLS 1.3: TLS_AES_128_GCM_SHA256; "
                                         "TLS 1.2: ECDHE-ECDSA-AES128-GCM-SHA256)")
    a = ap.parse_args(argv)
    a.duration = a.duration if a.duration is not None else 3 if a.quick else 20
    a.warmup = a.warmup if a.warmup is not None else 1 if a.quick else 3
    if not a.tls and (a.tls_cipher or "--tls-version" in argv):
        ap.error("--tls-version and --tls-cipher need --tls")
    a.tls_cipher = a.tls_cipher or TLS_CIPHERS[a.tls_version]
    # TLS 1.3 suites are named TLS_*; OpenSSL keeps them apart from TLS 1.2's (and so do the proxies' settings).
    if a.tls_cipher.startswith("TLS_") != (a.tls_version == "1.3"):
        ap.error(f"--tls-cipher {a.tls_cipher} is not a TLS {a.tls_version} suite")
    a.only = [x.strip() for x in a.only.split(",") if x.strip()]
    bad = [x for x in a.only if x not in PROXIES]
    if bad or not a.only:
        ap.error(f"--only: {','.join(bad) or '(empty)'}: choose from {','.join(PROXIES)}")
    a.cpus = parse_cpus(ap, a.cpus)
    for name, v, lo in (("--duration", a.duration, 0.1), ("--warmup", a.warmup, 0), ("--connections", a.connections, 1),
                        ("--response-bytes", a.response_bytes, 0), ("--routes", a.routes, 1), ("--rate", a.rate, 0)):
        if v < lo:
            ap.error(f"{name} must be at least {lo}")
    a.write_docs = not a.no_docs and (a.docs or not a.quick)
    return a


def make_out(a) -> Path:
    if a.out:
        out = Path(a.out).resolve()
        out.mkdir(parents=True, exist_ok=True)
        return out
    return Path(tempfile.mkdtemp(prefix="linegate-compare.", dir="/tmp"))


def print_plan(b: Bench, commands: bool):
    a = b.a
    say(f"plan ({len(b.plan())} phases, about {b.estimate_s() / 60:.1f} min): generator on CPU {b.gen_cpu}, "
        f"proxy on CPU {b.proxy_cpu}; {a.connections} connections, {a.routes} routes, "
        f"{a.response_bytes}-byte responses, {a.warmup:g} s warm-up + {a.duration:g} s per phase")
    rate = a.rate or "RATE"
    for name, kind, leg in b.plan():
        what = {"max": "closed loop (max throughput)",
                "rate": f"open loop at {a.rate:,.0f} rps" if a.rate else "open loop at RATE = half the lowest max"}
        say(f"  {name:9s} {b.leg_name(leg) + ', ' if b.tls else ''}{what[kind]}")
        if not commands:
            continue
        if name == "generator":
            cmds = [b.cmd_generator_responder(), b.cmd_generator_client()]
        elif name == "linegate":
            cmds = [b.cmd_linegate(leg), b.cmd_loadgen_linegate(kind, 0 if kind == "max" else rate, leg)]
        else:
            cmds = [*tap_setup(), b.cmd_kernel_proxy(name),
                    b.cmd_loadgen_kernel(name, kind, 0 if kind == "max" else rate, leg)]
        for c in cmds:
            say("      " + shlex.join(str(x) for x in c))


def main(argv: list[str]) -> int:
    a = parse_args(argv)
    if not a.dry_run and os.geteuid() != 0:
        say("compare: needs root (taps, memif sockets, DPDK): run with sudo, or --dry-run to see the plan")
        return 1
    out = make_out(a)
    b = Bench(a, out)
    b.command = "bench/compare.sh " + shlex.join(argv) if argv else "bench/compare.sh"
    b.rate = a.rate
    say(f"output: {out}")
    files = b.write_configs()
    print_plan(b, a.dry_run)
    for name, path in files.items():
        say(f"  {name} config: {path}")
    if a.dry_run:
        b.validate_configs()
        say("dry run: configs written and checked; nothing started")
        return 0
    if b.estimate_s() > 540:
        say(f"note: about {b.estimate_s() / 60:.1f} min with these settings (the default run is under 10)")

    def body():
        b.preflight()
        b.validate_configs()
        b.env = environment(b)
        b.run_all()

    def cleanup():
        b.cleanup()
        left = b.leftovers()
        return b.notes, left

    rc = run_guarded("compare", body, cleanup)
    if rc != 0:
        say(f"logs, configs and JSON: {out}")
        return rc

    s = summarize(b)
    (out / "summary.json").write_text(json.dumps(s, indent=2) + "\n")
    md = render_markdown(s)
    say("\n" + "\n".join(table(s)) + "\n")
    for line in report_lines(s):
        say(line)
    for w in s["warnings"]:
        say(f"warning: {w}")
    if a.write_docs:
        write_docs(md, tls=a.tls)
        markers = (TLS_BEGIN, TLS_END) if a.tls else (BEGIN, END)
        say(f"\nwrote {DOC.relative_to(REPO)} (between {markers[0]} and {markers[1]})")
    if PLOT.exists():
        jsons = [ph["json"] for ph in b.phases.values()]
        p = subprocess.run([sys.executable, str(PLOT), "--out", str(out), *jsons], capture_output=True, text=True)
        say(f"plots in {out}" if p.returncode == 0 else f"bench/plot.py failed ({p.returncode}): "
                                                          f"{(p.stdout + p.stderr).strip()}")
    else:
        say("bench/plot.py not found: no plots")
    say(f"summary: {out / 'summary.json'}; logs, configs and JSON: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
