"""Kernel-side TLS peers and material for the HTTPS gateway tests.

- Pki: certificates issued at test time with python3-cryptography: a root
  CA, an intermediate, ECDSA P-256 and RSA-2048 server leaves with DNS
  SANs, client certificates, and an unrelated second CA (a client
  certificate the gateway must not accept).
- Istio/Kubernetes YAML for HTTPS Gateway servers and their Secrets
  (kubernetes.io/tls with tls.crt/tls.key/ca.crt, Opaque with
  cert/key/cacert), emitted as JSON like http_peers' builders.
- Real clients run as subprocesses and parsed: openssl s_client, curl,
  gnutls-cli, wrk, testssl; plus python ssl connections (TlsConn, the TLS
  twin of http_peers.HttpConn) for keep-alive and pipelining.

Every client gets a hard timeout; none of them is left running.
"""
from __future__ import annotations

import base64
import datetime
import io
import json
import re
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path
from typing import Iterable, Optional

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from http_peers import HttpConn, Response, crd, read_response

# ---------------------------------------------------------------- certificates


class Cert:
    """One issued certificate: paths of its PEM certificate, key and chain
    (the certificate followed by the intermediates a server must send)."""

    def __init__(self, name: str, cert: x509.Certificate, key, chain: list[x509.Certificate], d: Path):
        self.name, self.x509, self.key_obj = name, cert, key
        self.cert_pem = cert.public_bytes(serialization.Encoding.PEM)
        self.key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption())
        self.chain_pem = self.cert_pem + b"".join(c.public_bytes(serialization.Encoding.PEM) for c in chain)
        self.cert, self.key, self.chain = d / f"{name}.crt", d / f"{name}.key", d / f"{name}-chain.crt"
        self.cert.write_bytes(self.cert_pem)
        self.key.write_bytes(self.key_pem)
        self.key.chmod(0o600)
        self.chain.write_bytes(self.chain_pem)

    @property
    def cn(self) -> str:
        return self.x509.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value

    @property
    def key_type(self) -> str:
        return key_type(self.x509)

    @property
    def sha256_hex(self) -> str:
        """The certificate's SHA-256 as Istio's verifyCertificateHash writes it (AB:CD:...)."""
        return ":".join(f"{b:02X}" for b in self.x509.fingerprint(hashes.SHA256()))

    @property
    def spki_sha256_b64(self) -> str:
        """verifyCertificateSpki's form: base64 of the SubjectPublicKeyInfo's SHA-256."""
        spki = self.x509.public_key().public_bytes(serialization.Encoding.DER,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
        d = hashes.Hash(hashes.SHA256())
        d.update(spki)
        return base64.b64encode(d.finalize()).decode()


def key_type(cert: x509.Certificate) -> str:
    """"EC-P256", "RSA-2048", ... of a certificate's public key."""
    pub = cert.public_key()
    if isinstance(pub, ec.EllipticCurvePublicKey):
        return {"secp256r1": "EC-P256", "secp384r1": "EC-P384"}.get(pub.curve.name, pub.curve.name)
    if isinstance(pub, rsa.RSAPublicKey):
        return f"RSA-{pub.key_size}"
    return type(pub).__name__


def cert_cn(cert: x509.Certificate) -> str:
    return cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


def cert_dns_names(cert: x509.Certificate) -> list[str]:
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
            x509.DNSName)
    except x509.ExtensionNotFound:
        return []


def _new_key(kind: str):
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise ValueError(kind)


class Pki:
    """A test PKI in directory d. `ca` is the root the clients and the
    gateway trust; `intermediate` signs leaves that must be sent with their
    chain; `other_ca` is unrelated to both."""

    def __init__(self, d: Path):
        self.dir = Path(d)
        self.dir.mkdir(parents=True, exist_ok=True)
        self._now = datetime.datetime.now(datetime.timezone.utc)
        self.ca = self._ca("ca", "linegate test root CA", None)
        self.intermediate = self._ca("intermediate", "linegate test intermediate CA", self.ca)
        self.other_ca = self._ca("other-ca", "unrelated test CA", None)

    def _builder(self, subject: str, issuer: Optional[Cert], pub) -> x509.CertificateBuilder:
        name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "linegate tests"),
                          x509.NameAttribute(NameOID.COMMON_NAME, subject)])
        b = (x509.CertificateBuilder().subject_name(name)
             .issuer_name(issuer.x509.subject if issuer else name)
             .public_key(pub).serial_number(x509.random_serial_number())
             .not_valid_before(self._now - datetime.timedelta(days=1))
             .not_valid_after(self._now + datetime.timedelta(days=30))
             .add_extension(x509.SubjectKeyIdentifier.from_public_key(pub), critical=False))
        if issuer is not None:
            b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key_obj.public_key()),
                                critical=False)
        return b

    def _ca(self, file: str, cn: str, parent: Optional[Cert]) -> Cert:
        key = _new_key("ec")
        b = (self._builder(cn, parent, key.public_key())
             .add_extension(x509.BasicConstraints(ca=True, path_length=None if parent is None else 0), critical=True)
             .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                          data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                          crl_sign=True, encipher_only=False, decipher_only=False), critical=True))
        cert = b.sign(parent.key_obj if parent else key, hashes.SHA256())
        return Cert(file, cert, key, [parent.x509] if parent is not None and parent is not self.ca else [],
                    self.dir)

    def issue(self, file: str, cn: str, dns: Iterable[str] = (), kind: str = "ec", client: bool = False,
              issuer: Optional[Cert] = None, uris: Iterable[str] = (), workload: bool = False) -> Cert:
        """A leaf for a server (DNS SANs, serverAuth), a client (clientAuth)
        or a mesh workload (both, as Istio's CA issues them), ECDSA P-256
        ("ec") or RSA-2048 ("rsa"), signed by
        `issuer` (default: the root CA). A leaf signed by the intermediate
        carries it in its chain file."""
        issuer = issuer or self.ca
        key = _new_key(kind)
        b = (self._builder(cn, issuer, key.public_key())
             .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
             .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                          key_encipherment=kind == "rsa", data_encipherment=False,
                                          key_agreement=False, key_cert_sign=False, crl_sign=False,
                                          encipher_only=False, decipher_only=False), critical=True)
             .add_extension(x509.ExtendedKeyUsage(
                 [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH] if workload
                 else [ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH]),
                 critical=False))
        names = [x509.DNSName(n) for n in dns] + [x509.UniformResourceIdentifier(u) for u in uris]
        if names:
            b = b.add_extension(x509.SubjectAlternativeName(names), critical=False)
        cert = b.sign(issuer.key_obj, hashes.SHA256())
        chain = [issuer.x509] if issuer is self.intermediate else []
        return Cert(file, cert, key, chain, self.dir)


# ---------------------------------------------------------------- Istio / Kubernetes YAML


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def tls_secret(name: str, cert: Optional[Cert] = None, ca: Optional[Cert] = None, generic: bool = False,
               namespace: str = "istio-system") -> str:
    """A credential Secret: kubernetes.io/tls (tls.crt = chain, tls.key,
    ca.crt) or, generic, Opaque (cert, key, cacert). cert None: a CA-only
    Secret (the "<credentialName>-cacert" form)."""
    data = {}
    if cert is not None:
        data["cert" if generic else "tls.crt"] = _b64(cert.chain_pem)
        data["key" if generic else "tls.key"] = _b64(cert.key_pem)
    if ca is not None:
        data["cacert" if generic else "ca.crt"] = _b64(ca.cert_pem)
    kind = "Opaque" if generic or cert is None else "kubernetes.io/tls"
    return json.dumps({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": namespace},
                       "type": kind, "data": data}, indent=1) + "\n"


def https_server(port: int, port_name: str, hosts: list[str], credential: Optional[str] = None,
                 mode: str = "SIMPLE", credential_names: Optional[list[str]] = None, **tls) -> dict:
    """A Gateway server with protocol HTTPS terminated by the gateway."""
    t: dict = {"mode": mode}
    if credential:
        t["credentialName"] = credential
    if credential_names:
        t["credentialNames"] = credential_names
    t.update(tls)
    return {"port": {"number": port, "name": port_name, "protocol": "HTTPS"}, "hosts": hosts, "tls": t}


def gateway(name: str, servers: list[dict]) -> str:
    return crd("Gateway", name, {"selector": {"istio": "ingressgateway"}, "servers": servers})


# ---------------------------------------------------------------- python ssl


def client_context(ca: Optional[Cert] = None, minimum: Optional[ssl.TLSVersion] = None,
                   maximum: Optional[ssl.TLSVersion] = None, cert: Optional[Cert] = None,
                   ciphers: Optional[str] = None, alpn: Iterable[str] = (),
                   strict_eof: bool = False) -> ssl.SSLContext:
    """A verifying client context (ca given) or a non-verifying one.
    strict_eof: a TCP close without close_notify is an error (python sets
    OP_IGNORE_UNEXPECTED_EOF by default, which reads it as a clean end)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if strict_eof:
        ctx.options &= ~ssl.OP_IGNORE_UNEXPECTED_EOF
    if ca is not None:
        ctx.load_verify_locations(cafile=str(ca.cert))
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if minimum is not None:
        ctx.minimum_version = minimum
    if maximum is not None:
        ctx.maximum_version = maximum
    if cert is not None:
        ctx.load_cert_chain(str(cert.chain), str(cert.key))
    if ciphers:
        ctx.set_ciphers(ciphers)
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    return ctx


class TlsConn(HttpConn):
    """http_peers.HttpConn over TLS: requests in order, raw bytes when
    needed, on one TLS connection (SNI = server_name)."""

    def __init__(self, addr: str, port: int, server_name: Optional[str], ctx: ssl.SSLContext,
                 timeout: float = 10.0):
        raw = socket.create_connection((addr, port), timeout=timeout)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self.sock = ctx.wrap_socket(raw, server_hostname=server_name)
        except BaseException:
            raw.close()
            raise
        self.f = self.sock.makefile("rb")
        self.local = self.sock.getsockname()

    def peer_cert(self) -> x509.Certificate:
        return x509.load_der_x509_certificate(self.sock.getpeercert(binary_form=True))

    @property
    def version(self) -> str:
        return self.sock.version()

    @property
    def cipher(self) -> str:
        return self.sock.cipher()[0]


def peer_certificate(addr: str, port: int, server_name: Optional[str], **ctx_kw) -> x509.Certificate:
    """The leaf certificate a handshake with this SNI gets (not verified)."""
    ctx = client_context(**ctx_kw)
    with socket.create_connection((addr, port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=server_name) as s:
            return x509.load_der_x509_certificate(s.getpeercert(binary_form=True))


class _SslObjectReader(io.RawIOBase):
    """Plaintext reads from a BioTlsClient, for read_response."""

    def __init__(self, c: "BioTlsClient"):
        self.c = c

    def readable(self):
        return True

    def readinto(self, b) -> int:
        data = self.c.read_plain(len(b))
        b[:len(data)] = data
        return len(data)


class BioTlsClient:
    """A TLS client over memory BIOs (ssl.SSLObject), so a test decides how
    records meet TCP: seal() turns each plaintext write into its own
    record(s) and returns the ciphertext without sending it; send_raw()
    puts bytes on the wire in whatever pieces the test chooses."""

    def __init__(self, addr: str, port: int, server_name: Optional[str], ctx: ssl.SSLContext,
                 timeout: float = 10.0):
        self.sock = socket.create_connection((addr, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self.incoming, self.outgoing, server_hostname=server_name)
        while True:
            try:
                self.obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._flush()
                self._fill()
        self._flush()
        self.f = io.BufferedReader(_SslObjectReader(self), 65536)

    def _flush(self):
        data = self.outgoing.read()
        if data:
            self.sock.sendall(data)

    def _fill(self) -> bool:
        data = self.sock.recv(65536)
        if not data:
            self.incoming.write_eof()
            return False
        self.incoming.write(data)
        return True

    def seal(self, plaintext: bytes) -> bytes:
        """The records for one write of plaintext (not sent)."""
        self.obj.write(plaintext)
        return self.outgoing.read()

    def send_raw(self, data: bytes):
        self.sock.sendall(data)

    def read_plain(self, n: int) -> bytes:
        while True:
            try:
                return self.obj.read(n)
            except ssl.SSLWantReadError:
                self._flush()
                if not self._fill():
                    try:
                        return self.obj.read(n)
                    except (ssl.SSLWantReadError, ssl.SSLEOFError, ssl.SSLZeroReturnError):
                        return b""
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                return b""

    def read(self, method: str = "GET") -> Optional[Response]:
        return read_response(self.f, method)

    @property
    def version(self) -> str:
        return self.obj.version()

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def client_hello_bytes(server_name: str, ctx: Optional[ssl.SSLContext] = None) -> bytes:
    """A real ClientHello (TLS records) as python's OpenSSL would send it."""
    ctx = ctx or client_context()
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname=server_name)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


# ---------------------------------------------------------------- openssl s_client

_PEM_RE = re.compile(rb"-----BEGIN CERTIFICATE-----\n.*?-----END CERTIFICATE-----\n?", re.S)


def http_request_bytes(host: str, target: str = "/", extra: str = "") -> bytes:
    return f"GET {target} HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\n\r\n".encode()


class SClient:
    """What one `openssl s_client` run printed, parsed. stdout holds the
    session summary (unless -brief/-quiet) followed by whatever the server
    sent (the HTTP response); stderr holds errors such as received alerts."""

    def __init__(self, cmd: list[str], proc: subprocess.CompletedProcess):
        self.cmd = cmd
        self.rc = proc.returncode
        self.out: bytes = proc.stdout
        self.err: str = proc.stderr.decode("utf-8", "replace")
        text = self.out.decode("latin-1")
        m = re.search(r"^(New|Reused), (TLSv[\d.]+|\(NONE\)), Cipher is (\S+)", text, re.M)
        self.reused = bool(m) and m.group(1) == "Reused"
        self.protocol = m.group(2) if m else None
        self.cipher = m.group(3) if m else None
        if self.cipher == "(NONE)":
            self.protocol = self.cipher = None
        m = re.search(r"^Peer signature type: (\S+)", text, re.M)
        self.peer_signature_type = m.group(1) if m else None
        m = re.search(r"^ALPN protocol: (\S+)", text, re.M)
        self.alpn = m.group(1) if m else None
        m = re.search(r"^\s*Verify return code: (\d+) \((.*)\)", text, re.M)
        self.verify_code = int(m.group(1)) if m else None
        self.certs = [x509.load_pem_x509_certificate(p) for p in _PEM_RE.findall(self.out)]
        # The HTTP response, if the server sent one after the handshake.
        i = self.out.find(b"HTTP/1.")
        self.response: Optional[Response] = None
        if i >= 0:
            try:
                self.response = read_response(io.BufferedReader(io.BytesIO(self.out[i:])))
            except (AssertionError, EOFError, ValueError):
                self.response = None

    @property
    def leaf(self) -> Optional[x509.Certificate]:
        return self.certs[0] if self.certs else None

    @property
    def status(self) -> Optional[int]:
        return self.response.status if self.response else None

    @property
    def handshake_ok(self) -> bool:
        return self.cipher is not None

    def __repr__(self):
        out = self.out.decode("latin-1")
        return (f"<s_client rc={self.rc} protocol={self.protocol} cipher={self.cipher} reused={self.reused}\n"
                f"cmd: {' '.join(self.cmd)}\nstderr: {self.err[-2000:]}\nstdout (tail): {out[-2500:]}>")


def s_client(addr: str, port: int, servername: Optional[str], *args: str, request: Optional[bytes] = None,
             timeout: float = 20) -> SClient:
    """Runs openssl s_client against addr:port. With `request`, the bytes
    are written after the handshake and s_client runs until the server
    closes (-ign_eof); without, stdin is empty and it quits after the
    handshake. -showcerts so the served chain can be checked."""
    cmd = ["openssl", "s_client", "-connect", f"{addr}:{port}", "-showcerts"]
    cmd += ["-servername", servername] if servername else ["-noservername"]
    if request is not None:
        cmd.append("-ign_eof")
    cmd += list(args)
    try:
        p = subprocess.run(cmd, input=request or b"", capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"{' '.join(cmd)} did not finish within {timeout}s; stdout {e.stdout!r}") from None
    return SClient(cmd, p)


# ---------------------------------------------------------------- curl


class CurlResult:
    """One curl run: the body, then -w's %{json} and %{header_json} after
    markers; -v's stderr tells the negotiated protocol, suite and ALPN."""

    MARK, HMARK = b"\n--lgcurl-info--", b"\n--lgcurl-headers--"

    def __init__(self, cmd: list[str], p: subprocess.CompletedProcess):
        self.cmd, self.rc = cmd, p.returncode
        self.err = p.stderr.decode("utf-8", "replace")
        out = p.stdout
        body, sep, trailer = out.rpartition(self.MARK)
        self.body = body if sep else out
        info, _, headers = trailer.partition(self.HMARK)
        try:
            self.info = json.loads(info) if sep else {}
            self.headers = {k.lower(): v for k, v in json.loads(headers).items()} if sep else {}
        except ValueError:
            self.info, self.headers = {}, {}
        self.status = int(self.info.get("http_code") or 0)
        m = re.search(r"SSL connection using (TLSv[\d.]+) / (\S+)", self.err)
        self.protocol, self.cipher = (m.group(1), m.group(2)) if m else (None, None)
        m = re.search(r"ALPN: server accepted (\S+)", self.err)
        self.alpn = m.group(1) if m else None
        # The last "curl: (N) ..." line: curl's own error, with OpenSSL's reason.
        errs = re.findall(r"^curl: \(\d+\) .*$", self.err, re.M)
        self.error = errs[-1] if errs else ""

    def header(self, name: str) -> Optional[str]:
        v = self.headers.get(name.lower())
        return v[0] if isinstance(v, list) and v else v

    def json(self) -> dict:
        return json.loads(self.body)

    def seen_headers(self, name: str) -> list[str]:
        """A request header as the echoing upstream saw it."""
        name = name.lower()
        return [v for k, v in self.json()["headers"] if k.lower() == name]

    def __repr__(self):
        return (f"<curl rc={self.rc} status={self.status} protocol={self.protocol} cipher={self.cipher}\n"
                f"cmd: {' '.join(self.cmd)}\nerror: {self.error}\nbody: {self.body[:500]!r}\n"
                f"stderr tail: {self.err[-1500:]}>")


def curl(url: str, *args: str, resolve: Optional[str] = None, timeout: float = 60) -> CurlResult:
    """curl -sS -v against url (`resolve`: "host:port:addr", so that the
    URL's name is the SNI and the name verified)."""
    cmd = ["curl", "-sS", "-v", "--max-time", str(timeout), "-w",
           CurlResult.MARK.decode() + "%{json}" + CurlResult.HMARK.decode() + "%{header_json}"]
    if resolve:
        cmd += ["--resolve", resolve]
    cmd += [*args, url]
    p = subprocess.run(cmd, capture_output=True, timeout=timeout + 10)
    return CurlResult(cmd, p)


# ---------------------------------------------------------------- holding stdin open


def run_holding_stdin(cmd: list[str], data: bytes, timeout: float) -> subprocess.CompletedProcess:
    """Runs cmd, writes data to its stdin and keeps stdin open until the
    process exits by itself (the server closed the connection) or the
    timeout passes (then it is killed). Clients such as gnutls-cli send
    close_notify as soon as stdin ends, which would half-close the TLS
    connection before the response could come back."""
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out: list[bytes] = []
    err: list[bytes] = []
    readers = [threading.Thread(target=lambda: out.append(p.stdout.read()), daemon=True),
               threading.Thread(target=lambda: err.append(p.stderr.read()), daemon=True)]
    for t in readers:
        t.start()
    try:
        p.stdin.write(data)
        p.stdin.flush()
    except BrokenPipeError:
        pass
    timed_out = False
    try:
        p.wait(timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        p.kill()
        p.wait(5)
    finally:
        try:
            p.stdin.close()
        except BrokenPipeError:
            pass
    for t in readers:
        t.join(5)
    stdout, stderr = b"".join(out), b"".join(err)
    if timed_out:
        raise AssertionError(f"{' '.join(cmd)} did not finish within {timeout}s\nstdout: {stdout[-3000:]!r}\n"
                             f"stderr: {stderr[-2000:]!r}")
    return subprocess.CompletedProcess(cmd, p.returncode, stdout, stderr)


# ---------------------------------------------------------------- gnutls-cli


class GnutlsResult:
    def __init__(self, cmd: list[str], p: subprocess.CompletedProcess):
        self.cmd, self.rc = cmd, p.returncode
        self.out = p.stdout.decode("latin-1")
        self.err = p.stderr.decode("utf-8", "replace")
        # - Description: (TLS1.3-X.509)-(ECDHE-SECP256R1)-(ECDSA-SECP256R1-SHA256)-(AES-256-GCM)
        m = re.search(r"^- Description: \((TLS1\.\d)-.*-\(([A-Z0-9-]+)\)\s*$", self.out, re.M)
        self.protocol, self.cipher = (m.group(1), m.group(2)) if m else (None, None)
        self.handshake_ok = "- Handshake was completed" in self.out
        self.trusted = "- Status: The certificate is trusted." in self.out
        i = self.out.find("HTTP/1.")
        self.response: Optional[Response] = None
        if i >= 0:
            try:
                self.response = read_response(io.BufferedReader(io.BytesIO(self.out[i:].encode("latin-1"))))
            except (AssertionError, EOFError, ValueError):
                self.response = None

    @property
    def status(self) -> Optional[int]:
        return self.response.status if self.response else None

    def __repr__(self):
        return (f"<gnutls-cli rc={self.rc} protocol={self.protocol} cipher={self.cipher}\n"
                f"cmd: {' '.join(self.cmd)}\nstderr: {self.err[-2000:]}\nstdout: {self.out[-3000:]}>")


def gnutls_cli(addr: str, port: int, servername: str, ca: Cert, priority: str, request: bytes,
               timeout: float = 20) -> GnutlsResult:
    """gnutls-cli verifying the server against `ca` and the name
    `servername` (also its SNI), writing `request` and printing what comes
    back until the server closes."""
    cmd = ["gnutls-cli", "--x509cafile", str(ca.cert), "--sni-hostname", servername, "--verify-hostname",
           servername, "--priority", priority, "-p", str(port), addr]
    return GnutlsResult(cmd, run_holding_stdin(cmd, request, timeout))


# ---------------------------------------------------------------- wrk


class WrkResult:
    def __init__(self, cmd: list[str], p: subprocess.CompletedProcess):
        self.cmd, self.rc, self.out, self.err = cmd, p.returncode, p.stdout, p.stderr
        m = re.search(r"(\d+) requests in ([\d.]+)(\w+),", self.out)
        self.requests = int(m.group(1)) if m else 0
        m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", self.out)
        self.socket_errors = dict(zip(("connect", "read", "write", "timeout"),
                                      map(int, m.groups()))) if m else {}
        m = re.search(r"Non-2xx or 3xx responses: (\d+)", self.out)
        self.non_2xx_3xx = int(m.group(1)) if m else 0
        m = re.search(r"Requests/sec:\s+([\d.]+)", self.out)
        self.rps = float(m.group(1)) if m else 0.0

    def __repr__(self):
        return f"<wrk rc={self.rc} cmd={' '.join(self.cmd)}\n{self.out}\n{self.err}>"


def wrk(url: str, host: str, threads: int = 1, connections: int = 16, duration_s: int = 5,
        extra: Iterable[str] = ()) -> WrkResult:
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration_s}s", "--timeout", "5s", "-H",
           f"Host: {host}", *extra, url]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=duration_s + 60)
    return WrkResult(cmd, p)


# ---------------------------------------------------------------- testssl


class TestsslResult:
    """testssl.sh --jsonfile output: a flat list of findings
    {id, ip, port, severity, finding, ...}."""

    __test__ = False  # not a pytest class

    def __init__(self, cmd: list[str], p: subprocess.CompletedProcess, findings: list[dict], seconds: float):
        self.cmd, self.rc, self.findings, self.seconds = cmd, p.returncode, findings, seconds
        self.out = p.stdout
        self.err = p.stderr

    def by_id(self) -> dict:
        return {f["id"]: f for f in self.findings}

    def get(self, fid: str) -> Optional[dict]:
        return self.by_id().get(fid)

    def __repr__(self):
        return (f"<testssl rc={self.rc} {self.seconds:.0f}s cmd={' '.join(self.cmd)}\n"
                f"stdout tail: {self.out[-3000:]}\nstderr tail: {self.err[-1500:]}>")


def run_testssl(addr: str, port: int, servername: str, outdir: Path, checks: Iterable[str],
            timeout: float = 240) -> TestsslResult:
    """testssl (Debian's testssl.sh) with only `checks` (e.g. "-p", "-s",
    "-U"), against addr:port with SNI `servername` (--ip pins the address;
    the URI's name is the SNI), JSON findings to a file."""
    outdir.mkdir(parents=True, exist_ok=True)
    js = outdir / "testssl.json"
    if js.exists():
        js.unlink()
    cmd = ["testssl", "--warnings", "off", "--openssl", "/usr/bin/openssl", "--color", "0", "--quiet",
           "--ip", addr, "--jsonfile", str(js), "--sneaky", "--connect-timeout", "5",
           "--openssl-timeout", "5", *checks, f"{servername}:{port}"]
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=outdir)
    seconds = time.monotonic() - t0
    findings = json.loads(js.read_text()) if js.exists() and js.stat().st_size else []
    return TestsslResult(cmd, p, findings, seconds)
