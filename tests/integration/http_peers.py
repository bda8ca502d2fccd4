"""Kernel-side peers for the HTTP/1.1 gateway tests.

- HttpUpstream: a threaded python HTTP/1.1 server that answers every method
  with a JSON echo of what it received (and `x-upstream: <name>`) and records
  every request as soon as its header section is read, so tests can assert
  what reached it (mirrors, smuggling, header rewriting). Behaviour is set at
  construction or per request by `x-test-*` request headers (see _Handler).
- NginxUpstream: an nginx instance answering `nginx-<name>` with a JSON
  access log the tests read.
- A small raw HTTP/1.1 client (HttpConn, read_response) that keeps control
  of every byte sent and of the connection's life, which http.client hides.
- Istio YAML builders. Documents are emitted as JSON, which is YAML, so that
  numbers, booleans and strings keep their types without a YAML library.
"""
from __future__ import annotations

import base64
import collections
import hashlib
import json
import os
import re
import select
import signal
import socket
import struct
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterable, Optional, Union

import lgtest

HeaderList = Union[dict, Iterable[tuple[str, str]], None]
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 1.3
PATTERN_MOD = 251


def pattern(n: int) -> bytes:
    """n bytes of the repeating 0..250 pattern (large bodies)."""
    block = bytes(i % PATTERN_MOD for i in range(PATTERN_MOD * 64))
    reps, rem = divmod(n, len(block))
    return block * reps + block[:rem]


def sha256(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


# ---------------------------------------------------------------- upstreams


class _HeaderLookup:
    """Case-insensitive lookups over a `headers` list of (name, value)."""

    __slots__ = ()

    def header(self, name: str) -> Optional[str]:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)

    def header_all(self, name: str) -> list[str]:
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]


class Recorded(_HeaderLookup):
    """One request as an upstream saw it. `body` is None until the body was
    read completely (a request whose body never completed stays None)."""

    __slots__ = ("method", "target", "version", "headers", "body", "conn", "client", "t")

    def __init__(self, method, target, version, headers, conn, client):
        self.method, self.target, self.version, self.headers = method, target, version, headers
        self.body: Optional[bytes] = None
        self.conn, self.client, self.t = conn, client, time.monotonic()

    def has(self, name: str) -> bool:
        return self.header(name) is not None

    def __repr__(self):
        return f"<{self.method} {self.target} conn={self.conn} headers={self.headers}>"


def _read_chunked(rfile) -> bytes:
    """RFC 9112 7.1 chunked body (extensions ignored, trailers skipped)."""
    out = bytearray()
    while True:
        line = rfile.readline(65537)
        if not line.endswith(b"\n"):
            raise ValueError("chunk size line")
        size = int(line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                pass
            return bytes(out)
        data = rfile.read(size)
        if len(data) != size or rfile.read(2) != b"\r\n":
            raise ValueError("chunk data")
        out += data


class _Handler(BaseHTTPRequestHandler):
    """Per-request controls (request headers, which the gateway forwards):
    x-test-status: N       answer with status N
    x-test-delay: S        sleep S seconds (float) before answering
    x-test-read-pace: S    read a Content-Length body 64 KiB at a time, S seconds apart
    x-test-size: N         body of N pattern bytes instead of the JSON echo
    x-test-chunked: 1      chunked response
    x-test-reset: 1        reset the connection (RST) instead of answering
    x-test-resp-<h>: v     add response header <h>: v
    Upgrade: websocket     101, then echo raw bytes until EOF."""

    protocol_version = "HTTP/1.1"
    # TCP_NODELAY, as production servers (nginx, Envoy, Go) set it: the head
    # and the body are written apart, and under Nagle the body would wait for
    # the gateway's delayed ACK (40 ms a request).
    disable_nagle_algorithm = True
    server_version = "lg-upstream"
    sys_version = ""

    def setup(self):
        super().setup()
        self.up: HttpUpstream = self.server.upstream  # type: ignore[attr-defined]
        self.conn_id = self.up._opened(self.connection)

    def finish(self):
        try:
            super().finish()
        except (OSError, ValueError):
            pass
        self.up._closed(self.connection)

    def log_message(self, *args):
        pass

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (OSError, ValueError):
            self.close_connection = True

    def __getattr__(self, name):
        # BaseHTTPRequestHandler dispatches to do_<METHOD>: every method gets the same handler.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def _read_paced(self, size: int, pace_s: float) -> bytes:
        # A slow reader: the gateway has to hold the client back (its buffers
        # fill, then TCP's window closes) and resume when room comes.
        out = bytearray()
        while len(out) < size:
            time.sleep(pace_s)
            chunk = self.rfile.read(min(65536, size - len(out)))
            if not chunk:
                raise ValueError("body cut short")
            out += chunk
        return bytes(out)

    def _serve(self):
        up = self.up
        rec = Recorded(self.command, self.path, self.request_version, list(self.headers.items()), self.conn_id,
                       self.client_address)
        up._record(rec)
        try:
            if (self.headers.get("Transfer-Encoding") or "").lower().strip() == "chunked":
                body = _read_chunked(self.rfile)
            elif self.headers.get("x-test-read-pace"):
                body = self._read_paced(int(self.headers.get("Content-Length") or 0),
                                        float(self.headers["x-test-read-pace"]))
            else:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        except (ValueError, OverflowError, OSError):
            self.close_connection = True
            return
        rec.body = body
        h = self.headers
        if (h.get("Upgrade") or "").lower() == "websocket":
            return self._websocket()
        status = up._next_status()
        delay = up.delay_s
        if h.get("x-test-status"):
            status = int(h["x-test-status"])
        if h.get("x-test-delay"):
            delay = float(h["x-test-delay"])
        if delay:
            time.sleep(delay)
        if h.get("x-test-reset") or up.reset:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        size = int(h["x-test-size"]) if h.get("x-test-size") else up.size
        if size is not None:
            payload, ctype = pattern(size), "application/octet-stream"
        else:
            payload = json.dumps({"server": up.name, "method": self.command, "path": self.path,
                                  "headers": [[k, v] for k, v in rec.headers], "body_len": len(body),
                                  "body_sha256": sha256(body)}).encode()
            ctype = "application/json"
        chunked = bool(h.get("x-test-chunked")) or up.chunked
        self.send_response(status)
        self.send_header("x-upstream", up.name)
        self.send_header("content-type", ctype)
        self.send_header("x-body-sha256", sha256(payload))
        for k, v in h.items():
            if k.lower().startswith("x-test-resp-"):
                self.send_header(k[len("x-test-resp-"):], v)
        for k, v in up.extra_headers:
            self.send_header(k, v)
        head = self.command == "HEAD" or status in (204, 304)
        if chunked and not head:
            self.send_header("transfer-encoding", "chunked")
        else:
            self.send_header("content-length", str(len(payload)))
        self.end_headers()
        if head:
            return
        if chunked:
            for i in range(0, len(payload), 16384):
                part = payload[i:i + 16384]
                self.wfile.write(b"%x\r\n" % len(part) + part + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.wfile.write(payload)

    def _websocket(self):
        key = self.headers.get("Sec-WebSocket-Key", "")
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.send_header("x-upstream", self.up.name)
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        # Bytes after the upgrade are the peer's: echo what the client sends
        # (read1 hands out what is already buffered first).
        while True:
            b = self.rfile.read1(65536)
            if not b:
                break
            self.connection.sendall(b)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024


class HttpUpstream:
    """Threaded HTTP/1.1 upstream on host:port (see _Handler for controls).

    status: fixed status; statuses: a sequence used first, one per request
    ([503, 503, 200] for a flaky server); delay_s, chunked, size (pattern
    body of that many bytes), reset (RST every request), extra_headers.
    record_limit bounds the record list (load tests)."""

    def __init__(self, host: str, port: int, name: str, *, status: int = 200, statuses: Iterable[int] = (),
                 delay_s: float = 0.0, chunked: bool = False, size: Optional[int] = None, reset: bool = False,
                 extra_headers: Iterable[tuple[str, str]] = (), record_limit: Optional[int] = None):
        self.host, self.port, self.name = host, port, name
        self.status, self.delay_s, self.chunked, self.size, self.reset = status, delay_s, chunked, size, reset
        self.extra_headers = list(extra_headers)
        self._lock = threading.Lock()
        self._statuses = collections.deque(statuses)
        self._records: collections.deque = collections.deque(maxlen=record_limit)
        self.total = 0  # requests seen, also beyond record_limit
        self.accepted = 0  # connections accepted
        self._socks: set = set()
        self._srv = _Server((host, port), _Handler)
        self._srv.upstream = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._srv.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    # -- handler callbacks
    def _opened(self, sock) -> int:
        with self._lock:
            self.accepted += 1
            self._socks.add(sock)
            return self.accepted

    def _closed(self, sock):
        with self._lock:
            self._socks.discard(sock)

    def _record(self, rec: Recorded):
        with self._lock:
            self.total += 1
            self._records.append(rec)

    def _next_status(self) -> int:
        with self._lock:
            return self._statuses.popleft() if self._statuses else self.status

    # -- for tests
    def configure(self, *, status: Optional[int] = None, statuses: Iterable[int] = (), **kw):
        """Changes behaviour (and clears the records)."""
        with self._lock:
            if status is not None:
                self.status = status
            self._statuses = collections.deque(statuses)
            for k, v in kw.items():
                assert hasattr(self, k), k
                setattr(self, k, v)
        self.clear()

    def clear(self):
        with self._lock:
            self._records.clear()

    def requests(self, prefix: str = "") -> list[Recorded]:
        """Recorded requests whose target starts with prefix."""
        with self._lock:
            return [r for r in self._records if r.target.startswith(prefix)]

    def targets(self) -> list[str]:
        return [r.target for r in self.requests()]

    def connections_of(self, prefix: str) -> set[int]:
        return {r.conn for r in self.requests(prefix)}

    def close(self):
        self._srv.shutdown()
        self._srv.server_close()
        with self._lock:
            socks = list(self._socks)
        for s in socks:  # keep-alive handler threads are blocked reading: end them
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Upstreams(dict):
    """name → HttpUpstream, all on one host; closes every one."""

    def __init__(self, host: str):
        super().__init__()
        self.host = host

    def add(self, name: str, port: int, **kw) -> HttpUpstream:
        self[name] = HttpUpstream(self.host, port, name, **kw)
        return self[name]

    def clear_all(self):
        for u in self.values():
            u.clear()

    def close(self):
        for u in self.values():
            try:
                u.close()
            except Exception:  # keep closing the others
                pass
        super().clear()


class NginxUpstream:
    """nginx on host:port answering 200 "nginx-<name>\\n" with
    x-upstream: nginx-<name>; every request is a JSON line in access.log.
    GET /big answers `big_bytes` random bytes (self.big; 0: no such file);
    PUT /uploads/<name> stores the body (uploaded(name)).

    ssl: serve TLS instead, {"cert": chain path, "key": path, optionally
    "client_ca": path (client certificates required and verified),
    "protocols": "TLSv1.2 TLSv1.3", "ciphers": OpenSSL list}; the log then
    has the SNI, version, suite and client certificate verdict."""

    def __init__(self, workdir: Path, host: str, port: int, name: str, ssl: Optional[dict] = None,
                 keepalive_requests: int = 1000000, big_bytes: int = 0):
        self.name = name
        self.dir = Path(workdir) / f"nginx-{name}-{port}"
        self.dir.mkdir(parents=True, exist_ok=True)
        for d in ("body", "proxy", "fastcgi", "uwsgi", "scgi", "uploads"):
            (self.dir / d).mkdir(exist_ok=True)
        self.access_log = self.dir / "access.log"
        self.access_log.write_text("")  # a reused directory starts empty
        fields = {"method": "$request_method", "uri": "$request_uri", "host": "$http_host",
                  "xff": "$http_x_forwarded_for", "xfp": "$http_x_forwarded_proto", "rid": "$http_x_request_id",
                  "churn": "$http_x_churn_gen", "conn": "$connection", "conn_requests": "$connection_requests",
                  "status": "$status", "request_length": "$request_length", "sni": "$ssl_server_name",
                  "tls": "$ssl_protocol", "cipher": "$ssl_cipher", "client_verify": "$ssl_client_verify",
                  "client_dn": "$ssl_client_s_dn", "alpn": "$ssl_alpn_protocol",
                  "xfcc": "$http_x_forwarded_client_cert"}
        fmt = json.dumps(fields).replace("'", "")
        d = self.dir
        self.big = os.urandom(big_bytes)
        (d / "big.bin").write_bytes(self.big)
        tls = ""
        if ssl:
            tls = (f"ssl_certificate {ssl['cert']};\n    ssl_certificate_key {ssl['key']};\n"
                   f"    ssl_protocols {ssl.get('protocols', 'TLSv1.2 TLSv1.3')};\n")
            if "ciphers" in ssl:
                tls += f"    ssl_ciphers {ssl['ciphers']};\n"
            if "client_ca" in ssl:
                tls += f"    ssl_client_certificate {ssl['client_ca']};\n    ssl_verify_client on;\n"
        conf = f"""\
worker_processes 1;
user root;  # the worker reads big.bin under pytest's 0700 directories
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  client_body_temp_path {d}/body;
  proxy_temp_path {d}/proxy;
  fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi;
  scgi_temp_path {d}/scgi;
  log_format lg escape=json '{fmt}';
  access_log {self.access_log} lg;
  keepalive_requests {keepalive_requests};
  keepalive_timeout 300s;
  client_max_body_size 64m;
  server {{
    listen {host}:{port} reuseport{" ssl" if ssl else ""};
    {tls}
    location /uploads/ {{
      root {d};
      dav_methods PUT;
      create_full_put_path on;
    }}
    location = /big {{
      add_header x-upstream nginx-{name} always;
      default_type application/octet-stream;
      alias {d}/big.bin;
    }}
    location / {{
      add_header x-upstream nginx-{name} always;
      return 200 "nginx-{name}\\n";
    }}
  }}
}}
"""
        self.conf = self.dir / "nginx.conf"
        self.conf.write_text(conf)
        self._log = open(self.dir / "stdout.log", "wb")
        self.proc = subprocess.Popen(["nginx", "-p", str(self.dir), "-c", str(self.conf), "-g", "daemon off;"],
                                     stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT)

        def listening():
            if self.proc.poll() is not None:
                raise AssertionError(f"nginx exited {self.proc.returncode}: {self.errors()}")
            with socket.socket() as s:
                return s.connect_ex((host, port)) == 0

        assert lgtest.wait_until(listening, 10), f"nginx {name} not listening on {host}:{port}: {self.errors()}"

    def uploaded(self, name: str) -> bytes:
        return (self.dir / "uploads" / name).read_bytes()

    def errors(self) -> str:
        out = ""
        for f in ("stdout.log", "error.log"):
            p = self.dir / f
            if p.exists():
                out += p.read_text(errors="replace")
        return out

    def entries(self) -> list[dict]:
        if not self.access_log.exists():
            return []
        out = []
        for line in self.access_log.read_text(errors="replace").splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:  # a line being written
                pass
        return out

    def last_entry(self, timeout: float = 5, **match) -> dict:
        """The newest log entry whose fields equal `match`, waiting for it."""
        found = {}

        def logged():
            for e in reversed(self.entries()):
                if all(e.get(k) == v for k, v in match.items()):
                    found.update(e)
                    return True
            return False

        assert lgtest.wait_until(logged, timeout), f"no nginx-{self.name} log entry with {match}: {self.entries()[-5:]}"
        return found

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful: workers finish, log flushed
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---------------------------------------------------------------- client


class Response(_HeaderLookup):
    def __init__(self, version: str, status: int, reason: str, headers: list[tuple[str, str]], body: bytes,
                 informational: list[int]):
        self.version, self.status, self.reason = version, status, reason
        self.headers, self.body, self.informational = headers, body, informational
        self.eof = False  # the body ended with the connection

    @property
    def upstream(self) -> Optional[str]:
        return self.header("x-upstream")

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> dict:
        return json.loads(self.body)

    def seen_header(self, name: str) -> Optional[str]:
        """A request header as the upstream echoed it (JSON body)."""
        name = name.lower()
        return next((v for k, v in self.json()["headers"] if k.lower() == name), None)

    def seen_headers(self, name: str) -> list[str]:
        name = name.lower()
        return [v for k, v in self.json()["headers"] if k.lower() == name]

    @property
    def closes(self) -> bool:
        """The server announced it closes the connection after this response."""
        tokens = {t.strip().lower() for v in self.header_all("connection") for t in v.split(",")}
        return "close" in tokens or self.eof

    def __repr__(self):
        return f"<{self.status} {self.reason} headers={self.headers} body={self.body[:300]!r}>"


def _readline(f, limit: int = 1 << 20) -> bytes:
    line = f.readline(limit)
    if not line:
        raise EOFError
    return line


def read_response(f, method: str = "GET") -> Optional[Response]:
    """One response from a buffered reader; None when the connection ended
    (EOF or reset) before a status line. 1xx other than 101 are skipped and
    listed in .informational."""
    informational = []
    while True:
        try:
            line = f.readline(1 << 16)
        except (ConnectionResetError, socket.timeout, TimeoutError):
            if informational:
                raise
            return None
        if not line:
            return None
        m = re.match(rb"(HTTP/\d\.\d) (\d{3})(?: (.*))?\r?\n$", line)
        assert m, f"bad status line {line!r}"
        status = int(m.group(2))
        headers = []
        while True:
            h = _readline(f)
            if h in (b"\r\n", b"\n"):
                break
            k, _, v = h.decode("latin-1").partition(":")
            headers.append((k, v.strip()))
        if 100 <= status < 200 and status != 101:
            informational.append(status)
            continue
        resp = Response(m.group(1).decode(), status, (m.group(3) or b"").decode("latin-1"), headers, b"",
                        informational)
        break
    te = (resp.header("transfer-encoding") or "").lower()
    if method == "HEAD" or status in (101, 204, 304):
        return resp
    if "chunked" in te:
        body = bytearray()
        while True:
            size = int(_readline(f).split(b";")[0].strip(), 16)
            if size == 0:
                while _readline(f) not in (b"\r\n", b"\n"):
                    pass
                break
            body += f.read(size)
            f.read(2)
        resp.body = bytes(body)
    elif resp.header("content-length") is not None:
        n = int(resp.header("content-length"))
        resp.body = f.read(n)
        assert len(resp.body) == n, f"body cut short: {len(resp.body)} of {n}"
    else:
        resp.body = f.read()
        resp.eof = True
    return resp


def _header_items(headers: HeaderList) -> list[tuple[str, str]]:
    if headers is None:
        return []
    if isinstance(headers, dict):
        return list(headers.items())
    return list(headers)


def build_request(method: str, target: str, host: Optional[str], headers: HeaderList = None,
                  body: Optional[bytes] = None, version: str = "HTTP/1.1") -> bytes:
    items = _header_items(headers)
    names = {k.lower() for k, _ in items}
    out = f"{method} {target} {version}\r\n"
    if host is not None:
        out += f"Host: {host}\r\n"
    for k, v in items:
        out += f"{k}: {v}\r\n"
    if body is not None and "content-length" not in names and "transfer-encoding" not in names:
        out += f"Content-Length: {len(body)}\r\n"
    return out.encode("latin-1") + b"\r\n" + (body or b"")


class HttpConn:
    """One client connection: requests in order, raw bytes when needed."""

    def __init__(self, addr: str, port: int, timeout: float = 10.0):
        self.sock = socket.create_connection((addr, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.f = self.sock.makefile("rb")
        self.local = self.sock.getsockname()

    def send(self, data: bytes):
        self.sock.sendall(data)

    def request(self, method: str, target: str, host: Optional[str], headers: HeaderList = None,
                body: Optional[bytes] = None) -> Response:
        self.send(build_request(method, target, host, headers, body))
        r = read_response(self.f, method)
        assert r is not None, f"{method} {target} (Host {host}): connection closed without a response"
        return r

    def read(self, method: str = "GET") -> Optional[Response]:
        return read_response(self.f, method)

    def closed_by_peer(self, timeout: float = 3.0) -> bool:
        """True when the peer closes (FIN or RST) within timeout, discarding
        anything else it sends."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.sock], [], [], max(0.0, deadline - time.monotonic()))
            if not r:
                break
            try:
                if not self.sock.recv(65536):
                    return True
            except OSError:
                return True
        return False

    def close(self):
        try:
            self.f.close()
        finally:
            self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def request(addr: str, port: int, method: str, target: str, host: Optional[str], headers: HeaderList = None,
            body: Optional[bytes] = None, timeout: float = 10.0) -> Response:
    """One request on a fresh connection."""
    with HttpConn(addr, port, timeout) as c:
        return c.request(method, target, host, headers, body)


def get(addr: str, port: int, target: str, host: str, headers: HeaderList = None, **kw) -> Response:
    return request(addr, port, "GET", target, host, headers, **kw)


UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


# ---------------------------------------------------------------- Istio YAML


def crd(kind: str, name: str, spec: dict, namespace: str = "istio-system",
        api: str = "networking.istio.io/v1") -> str:
    """One document; JSON is YAML and keeps scalar types exact."""
    return json.dumps({"apiVersion": api, "kind": kind, "metadata": {"name": name, "namespace": namespace},
                       "spec": spec}, indent=1) + "\n"


def docs(*parts: str) -> str:
    return "---\n".join(parts)


def http_gateway(name: str, servers: list[dict]) -> str:
    return crd("Gateway", name, {"selector": {"istio": "ingressgateway"}, "servers": servers})


def http_server(port: int, hosts: list[str], **extra) -> dict:
    return {"port": {"number": port, "name": f"http-{port}", "protocol": "HTTP"}, "hosts": hosts, **extra}


def service_entry(name: str, host: str, port: int, endpoints: list[tuple[str, int, dict]]) -> str:
    """An HTTP ServiceEntry: endpoints (address, target port, labels)."""
    eps = []
    for addr, target, labels in endpoints:
        ep = {"address": addr, "ports": {"http": target}}
        if labels:
            ep["labels"] = labels
        eps.append(ep)
    return crd("ServiceEntry", name, {"hosts": [host], "location": "MESH_INTERNAL", "resolution": "STATIC",
                                      "ports": [{"number": port, "name": "http", "protocol": "HTTP"}],
                                      "endpoints": eps})


def destination_rule(name: str, host: str, subsets: Iterable[str] = (), traffic_policy: Optional[dict] = None) -> str:
    spec: dict = {"host": host}
    if traffic_policy:
        spec["trafficPolicy"] = traffic_policy
    if subsets:
        spec["subsets"] = [{"name": s, "labels": {"version": s}} for s in subsets]
    return crd("DestinationRule", name, spec)


def virtual_service(name: str, hosts: list[str], http: list[dict], gateways: Iterable[str]) -> str:
    return crd("VirtualService", name, {"hosts": hosts, "gateways": [f"istio-system/{g}" for g in gateways],
                                        "http": http})


def dest(host: str, port: int, subset: Optional[str] = None, weight: Optional[int] = None, **extra) -> dict:
    d: dict = {"host": host, "port": {"number": port}}
    if subset:
        d["subset"] = subset
    out: dict = {"destination": d}
    if weight is not None:
        out["weight"] = weight
    out.update(extra)
    return out


# ---------------------------------------------------------------- tools


def linegatectl() -> Path:
    p = os.environ.get("LINEGATECTL_BIN")
    return Path(p) if p else lgtest.REPO / "build" / "ctrl" / "cli" / "linegatectl"


def analyze(path: Path) -> subprocess.CompletedProcess:
    """`linegatectl analyze -f path`."""
    return subprocess.run([str(linegatectl()), "analyze", "-f", str(path)], capture_output=True, text=True,
                          timeout=60)


def assert_analyzes_clean(path: Path):
    """The config passes analysis with no error and no "not supported" warning."""
    p = analyze(path)
    out = p.stdout + p.stderr
    assert p.returncode == 0 and "not supported" not in out, f"linegatectl analyze {path}:\n{out}"


def start_http_gateway(factory, make_yaml, extra_top: Optional[dict] = None):
    """A linegate in standalone config_dir mode with the YAML make_yaml(peer)
    (checked by linegatectl analyze first). Returns (gateway, config file)."""
    top = {"tcp": {"time_wait_ms": 0, "max_connections": 8192}}
    for k, v in (extra_top or {}).items():
        top[k] = {**top.get(k, {}), **v} if isinstance(v, dict) else v
    g = factory.create(extra_top=top)
    conf = g.workdir / "istio"
    conf.mkdir(exist_ok=True)
    path = conf / "config.yaml"
    path.write_text(make_yaml(g.peer4))
    assert_analyzes_clean(path)
    g.config["config_dir"] = str(conf)
    g.start()
    g.configure_kernel()
    st = g.server_info()["config"]
    assert st["update_success"] >= 1 and st["last_error"] == "", (st, g.log_text())
    return g, path


def config_state(g) -> dict:
    return g.server_info()["config"]


def write_config(path: Path, text: str):
    """Replaces the watched config file atomically (never half-written)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def wait_config_applied(g, previous_version: str, timeout: float = 10.0) -> dict:
    """Waits until a version other than previous_version runs on every worker."""
    last = {}

    def applied():
        st = config_state(g)
        last.update(st)
        return (st["version"] and st["version"] != previous_version and st["last_error"] == ""
                and all(w == st["generation"] for w in st["worker_generation"]))

    assert lgtest.wait_until(applied, timeout), f"config not applied within {timeout}s: {last}"
    return last
