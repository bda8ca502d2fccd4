"""Kernel-side peers for the L4 gateway tests: upstream TCP servers that
greet with their name or echo, openssl s_server TLS upstreams with their own
certificates, and Istio YAML builders for TCP/TLS gateways."""
import socket
import subprocess
import threading
from pathlib import Path
from typing import Optional

import lgtest


class TcpServer:
    """Thread-per-connection kernel server. mode "greet": sends `name\\n`,
    then reads until EOF and closes; "echo": writes back what it reads and
    half-closes after the client does. Counts accepted connections."""

    def __init__(self, host: str, port: int, mode: str = "greet", name: str = ""):
        self.host, self.port, self.mode, self.name = host, port, mode, name or f"{host}:{port}"
        self.accepted = 0
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self._sock.listen(4096)
        self._closed = False
        self._conns: list[socket.socket] = []
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def _accept_loop(self):
        while not self._closed:
            try:
                c, _ = self._sock.accept()
            except OSError:
                return
            with self._lock:
                self.accepted += 1
                self._conns.append(c)
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c: socket.socket):
        try:
            if self.mode == "greet":
                c.sendall(self.name.encode() + b"\n")
                while c.recv(65536):
                    pass
            else:
                while True:
                    b = c.recv(1 << 18)
                    if not b:
                        c.shutdown(socket.SHUT_WR)
                        break
                    c.sendall(b)
                while c.recv(65536):
                    pass
        except OSError:
            pass
        finally:
            c.close()

    def close(self):
        self._closed = True
        self._sock.close()
        with self._lock:
            for c in self._conns:
                try:
                    c.close()
                except OSError:
                    pass


def start_standalone(factory, make_yaml, extra_top: dict):
    """A linegate in standalone config_dir mode whose Istio YAML
    make_yaml(peer) is written once the tap's kernel address (where the
    upstreams listen) is known. Returns it running, with its config state."""
    g = factory.create(extra_top=extra_top)
    conf = g.workdir / "istio"
    conf.mkdir(exist_ok=True)
    (conf / "config.yaml").write_text(make_yaml(g.peer4))
    g.config["config_dir"] = str(conf)
    g.start()
    g.configure_kernel()
    return g, g.server_info()["config"]


def greeting(host: str, port: int, timeout: float = 5.0) -> Optional[str]:
    """Connects, reads one line; None when the connection is reset or closed first."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            f = s.makefile("rb")
            line = f.readline()
            return line.decode().strip() or None
    except OSError:
        return None


def make_cert(dirpath: Path, cn: str) -> tuple[Path, Path]:
    key, cert = dirpath / f"{cn}.key", dirpath / f"{cn}.pem"
    lgtest.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-subj", f"/CN={cn}", "-addext", f"subjectAltName=DNS:{cn}", "-days", "2",
                "-keyout", str(key), "-out", str(cert)])
    return cert, key


class TlsServer:
    """openssl s_server on host:port serving the certificate for `cn`."""

    def __init__(self, workdir: Path, host: str, port: int, cn: str):
        self.cert, self.key = make_cert(workdir, cn)
        self.log = open(workdir / f"s_server-{port}.log", "wb")
        self.proc = subprocess.Popen(["openssl", "s_server", "-accept", f"{host}:{port}", "-cert", str(self.cert),
                                      "-key", str(self.key), "-www", "-quiet"],
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)

        def listening():
            with socket.socket() as s:
                return s.connect_ex((host, port)) == 0
        assert lgtest.wait_until(listening, 10), f"s_server on {port} did not start"

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def s_client_subject(host: str, port: int, servername: str) -> Optional[str]:
    """The certificate subject openssl s_client sees through the gateway, or None."""
    p = subprocess.run(["openssl", "s_client", "-connect", f"{host}:{port}", "-servername", servername],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=20)
    for line in p.stdout.splitlines():
        if line.startswith("subject="):
            return line.split("=", 1)[1].strip()
    return None


# --------------------------------------------------------------- Istio YAML

def gateway(name: str, servers: str) -> str:
    return f"""\
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {{name: {name}, namespace: istio-system}}
spec:
  selector: {{istio: ingressgateway}}
  servers:
{servers}"""


def service_entry(name: str, host: str, port: int, protocol: str, endpoints: list[dict]) -> str:
    eps = "\n".join(
        f"  - address: {e['address']}\n    ports: {{p: {e['port']}}}" +
        (f"\n    labels: {{version: {e['version']}}}" if "version" in e else "") for e in endpoints)
    return f"""\
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {{name: {name}, namespace: istio-system}}
spec:
  hosts: [{host}]
  location: MESH_INTERNAL
  resolution: STATIC
  ports:
  - {{number: {port}, name: p, protocol: {protocol}}}
  endpoints:
{eps}
"""

