"""Istio mTLS with the gateway's own workload identity (bootstrap
`identity:` from files, as Istio mounts cert-chain.pem, key.pem and
root-cert.pem), against real peers on the kernel side of the tap:

  port 8443  Gateway server tls.mode ISTIO_MUTUAL: the gateway presents its
             SPIFFE certificate, requires a client certificate from the mesh
             and tells the upstream who called in x-forwarded-client-cert
             (Envoy's SANITIZE_SET, as Istio gateways run). Clients are
             openssl s_client with a sidecar's certificate.
  port 8080  plain HTTP, routing by host to clusters that speak Istio mTLS
             to nginx, which verifies the gateway's certificate against the
             mesh root:
     reviews.test   DestinationRule ISTIO_MUTUAL; SNI outbound_.443_._.<host>,
                    the upstream checked against the service's identity
     auto.test      no DestinationRule: auto mTLS, the endpoint speaks Istio mTLS
     legacy.test    auto mTLS, but the endpoint is labelled tlsMode disabled: plain text
     wrongsan.test  ISTIO_MUTUAL, the ServiceEntry names another identity: 503 UF
     optout.test    auto mTLS, but the endpoint's PeerAuthentication is DISABLE: plain text
     portoff.test   auto mTLS, the endpoint's policy is STRICT but DISABLE for its port: plain text
  ports 8444/8445  ISTIO_MUTUAL too; the gateway's own PeerAuthentication
             makes them PERMISSIVE (mTLS, or plain text told by the first
             byte) and DISABLE (plain text only). 8443 has no port-level
             mode: the Gateway's ISTIO_MUTUAL stands.

An access log provider (MeshConfig) with %DOWNSTREAM_PEER_URI_SAN% shows
the caller's principal.

The identity files are replaced in a later test: new handshakes present
the new certificate. The last test takes the identity from linegate-agent's
CA instead (Istio's plug-in `cacerts` Secret, the test PKI's intermediate),
with certificates short enough to see a renewal.
"""
import base64
import hashlib
import json
import os
import shutil

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtensionOID

import lgtest
from agent_tools import AgentProcess
from http_peers import HttpConn, NginxUpstream, build_request, crd, dest, destination_rule, docs, get, http_server, start_http_gateway, \
    virtual_service, wait_config_applied, write_config
from tls_peers import Pki, gateway, http_request_bytes, https_server, s_client

pytestmark = pytest.mark.usefixtures("linegate_env")

MTLS_PORT = 8443
PERMISSIVE_PORT, DISABLE_PORT = 8444, 8445
HTTP_PORT = 8080
SVC_PORT = 443
NGINX_PLAIN, NGINX_MESH = 19601, 19602
NS = "istio-system"  # where crd() puts the resources (and so the services' identities)
GW_NS = "mesh-gw"  # the gateway's own namespace: workload policies outside the root namespace
SHOP = "shop"  # services with their own PeerAuthentication
GW_ID = f"spiffe://cluster.local/ns/{NS}/sa/ingressgateway"
SLEEP_ID = "spiffe://cluster.local/ns/default/sa/sleep"
REVIEWS_ID = f"spiffe://cluster.local/ns/{NS}/sa/reviews"


class Certs:
    def __init__(self, d):
        self.pki = pki = Pki(d)
        self.root = pki.ca
        self.gw = pki.issue("gw", "ingressgateway", uris=[GW_ID], workload=True)
        # The renewed certificate comes through the intermediate: the chain file carries it.
        self.gw_next = pki.issue("gw-next", "ingressgateway-next", uris=[GW_ID], workload=True,
                                 issuer=pki.intermediate)
        self.sleep = pki.issue("sleep", "sleep", uris=[SLEEP_ID], workload=True)
        self.stranger = pki.issue("stranger", "sleep", uris=[SLEEP_ID], workload=True, issuer=pki.other_ca)
        self.no_spiffe = pki.issue("plain-client", "plain-client", client=True)
        self.reviews = pki.issue("reviews", "reviews", uris=[REVIEWS_ID], workload=True)


def service(name: str, host: str, port: int, peer: str, endpoint: dict, namespace: str = NS, **spec) -> str:
    return crd("ServiceEntry", name, {
        "hosts": [host], "location": "MESH_INTERNAL", "resolution": "STATIC",
        "ports": [{"number": SVC_PORT, "name": "http", "protocol": "HTTP", "targetPort": port}],
        "endpoints": [{"address": peer, **endpoint}], **spec}, namespace=namespace)


def peer_authentication(name: str, namespace: str, labels: dict, mode: str, ports: dict = None) -> str:
    spec = {"selector": {"matchLabels": labels}, "mtls": {"mode": mode}}
    if ports:
        spec["portLevelMtls"] = {str(p): {"mode": m} for p, m in ports.items()}
    return crd("PeerAuthentication", name, spec, namespace=namespace, api="security.istio.io/v1")


def access_log_config(path) -> list[str]:
    """A MeshConfig provider whose format names the caller's principal, on for the mesh."""
    mesh = (f"extensionProviders:\n- name: principals\n  envoyFileAccessLog:\n    path: {path}\n"
            "    logFormat:\n      text: \"%DOWNSTREAM_PEER_URI_SAN% %REQ(:PATH)% %RESPONSE_CODE% "
            "%DOWNSTREAM_TLS_VERSION% %DOWNSTREAM_LOCAL_URI_SAN%\"\n")
    return [json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "istio", "namespace": NS},
                        "data": {"mesh": mesh}}) + "\n",
            crd("Telemetry", "mesh-default", {"accessLogging": [{"providers": [{"name": "principals"}]}]},
                api="telemetry.istio.io/v1")]


def config(peer: str, access_log=None) -> str:
    mesh_ports = [https_server(p, f"https-mesh-{p}", ["*"], mode="ISTIO_MUTUAL")
                  for p in (MTLS_PORT, PERMISSIVE_PORT, DISABLE_PORT)]
    parts = [gateway("gw", mesh_ports + [http_server(HTTP_PORT, ["*"])]),
             peer_authentication("gw-ports", GW_NS, {"istio": "ingressgateway"}, "UNSET",
                                 {PERMISSIVE_PORT: "PERMISSIVE", DISABLE_PORT: "DISABLE"}),
             # Destination policies: they select the endpoints' labels.
             peer_authentication("optout", SHOP, {"app": "optout"}, "DISABLE"),
             peer_authentication("portoff", SHOP, {"app": "portoff"}, "STRICT", {NGINX_PLAIN: "DISABLE"}),
             service("optout", "optout.mesh.test", NGINX_PLAIN, peer, {"labels": {"app": "optout"}}, SHOP),
             service("portoff", "portoff.mesh.test", NGINX_PLAIN, peer, {"labels": {"app": "portoff"}}, SHOP),
             crd("ServiceEntry", "plain", {
                 "hosts": ["plain.ext.test"], "location": "MESH_EXTERNAL", "resolution": "STATIC",
                 "ports": [{"number": 80, "name": "http", "protocol": "HTTP", "targetPort": NGINX_PLAIN}],
                 "endpoints": [{"address": peer}]}),
             virtual_service("vs-mesh", ["mesh.test"], [{"route": [dest("plain.ext.test", 80)]}], ["gw"]),
             service("reviews", "reviews.mesh.test", NGINX_MESH, peer, {"serviceAccount": "reviews"}),
             destination_rule("dr-reviews", "reviews.mesh.test", traffic_policy={"tls": {"mode": "ISTIO_MUTUAL"}}),
             service("auto", "auto.mesh.test", NGINX_MESH, peer, {"serviceAccount": "reviews"}),
             service("legacy", "legacy.mesh.test", NGINX_PLAIN, peer,
                     {"labels": {"security.istio.io/tlsMode": "disabled"}}),
             service("wrongsan", "wrongsan.mesh.test", NGINX_MESH, peer, {},
                     subjectAltNames=["spiffe://cluster.local/ns/default/sa/someone-else"]),
             destination_rule("dr-wrongsan", "wrongsan.mesh.test", traffic_policy={"tls": {"mode": "ISTIO_MUTUAL"}})]
    for name in ("reviews", "auto", "legacy", "wrongsan", "optout", "portoff"):
        parts.append(virtual_service(f"vs-{name}", [f"{name}.test"], [{"route": [dest(f"{name}.mesh.test", SVC_PORT)]}],
                                     ["gw"]))
    if access_log is not None:
        parts += access_log_config(access_log)
    return docs(*parts)


class MeshGw:
    def __init__(self, g, certs: Certs, identity_dir, access_log, plain: NginxUpstream, mesh: NginxUpstream):
        self.g, self.certs, self.identity_dir, self.access_log = g, certs, identity_dir, access_log
        self.plain, self.mesh = plain, mesh

    def logged(self, path: str) -> str:
        """The access log line of the request for path."""
        def line():
            text = self.access_log.read_text() if self.access_log.exists() else ""
            return next((ln for ln in text.splitlines() if f" {path} " in ln), None)

        assert lgtest.wait_until(line, 5), self.access_log.read_text() if self.access_log.exists() else "(no log)"
        return line()

    def mtls(self, target: str, client=None, extra: str = "", port: int = MTLS_PORT):
        """One request over ISTIO_MUTUAL (s_client with the client's certificate, verifying the gateway)."""
        args = ["-CAfile", str(self.certs.root.cert)]
        if client is not None:
            args += ["-cert", str(client.chain), "-key", str(client.key)]
        return s_client(self.g.ip4, port, None, *args, request=http_request_bytes("mesh.test", target, extra))

    def get(self, name: str, target: str):
        return get(self.g.ip4, HTTP_PORT, target, f"{name}.test")

    def cluster(self, host: str) -> dict:
        prefix = f"cluster.outbound|{SVC_PORT}||{host}."
        return {k[len(prefix):]: v for k, v in self.g.stats().items() if k.startswith(prefix)}

    def listener(self, port: int = MTLS_PORT) -> dict:
        prefix = f"listener.0.0.0.0_{port}."
        return {k[len(prefix):]: v for k, v in self.g.stats().items() if k.startswith(prefix)}


def install_identity(d, cert) -> None:
    """Istio's file names, each replaced atomically."""
    for name, src in (("cert-chain.pem", cert.chain), ("key.pem", cert.key)):
        tmp = d / f".{name}.tmp"
        shutil.copyfile(src, tmp)
        os.replace(tmp, d / name)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return Certs(tmp_path_factory.mktemp("mesh-pki"))


@pytest.fixture(scope="module")
def gw(linegate_env, tmp_path_factory, certs):
    factory = lgtest.Factory(tmp_path_factory.mktemp("istio-mtls"))
    identity_dir = tmp_path_factory.mktemp("identity")
    install_identity(identity_dir, certs.gw)
    shutil.copyfile(certs.root.cert, identity_dir / "root-cert.pem")
    identity = {"cert_chain": str(identity_dir / "cert-chain.pem"), "private_key": str(identity_dir / "key.pem"),
                "root_cert": str(identity_dir / "root-cert.pem")}
    access_log = tmp_path_factory.mktemp("access-log") / "principals.log"
    nginx = []
    try:
        g, _ = start_http_gateway(factory, lambda peer: config(peer, access_log),
                                  {"identity": identity, "node": {"namespace": GW_NS}})
        nginx.append(NginxUpstream(g.workdir, g.peer4, NGINX_PLAIN, "plain"))
        nginx.append(NginxUpstream(g.workdir, g.peer4, NGINX_MESH, "mesh",
                                   ssl={"cert": str(certs.reviews.chain), "key": str(certs.reviews.key),
                                        "client_ca": str(certs.root.cert)}))
        yield MeshGw(g, certs, identity_dir, access_log, *nginx)
    finally:
        for n in nginx:
            n.close()
        factory.cleanup()


def uri_sans(cert: x509.Certificate) -> list[str]:
    ext = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    return ext.value.get_values_for_type(x509.UniformResourceIdentifier)


def xfcc(by: str, client) -> str:
    """Envoy's element for a verified client certificate, as Istio gateways set it."""
    digest = hashlib.sha256(client.x509.public_bytes(serialization.Encoding.DER)).hexdigest()
    uris = "".join(f";URI={u}" for u in uri_sans(client.x509))
    return f'By={by};Hash={digest};Subject="{client.x509.subject.rfc4514_string()}"{uris}'


# =====================================================================
# ISTIO_MUTUAL server


def test_server_presents_the_workload_certificate_and_names_the_caller(gw):
    """The sidecar's certificate is verified against the mesh root; the
    upstream learns the caller's SPIFFE principal (URI) and who verified it
    (By); a forged x-forwarded-client-cert from the client is dropped."""
    r = gw.mtls("/who", gw.certs.sleep, extra="x-forwarded-client-cert: By=spiffe://evil;URI=spiffe://evil\r\n")
    assert r.status == 200 and r.verify_code == 0, r
    assert uri_sans(r.leaf) == [GW_ID], r
    e = gw.plain.last_entry(uri="/who")
    assert e["xfcc"] == xfcc(GW_ID, gw.certs.sleep), e


def test_access_log_names_the_caller(gw):
    """%DOWNSTREAM_PEER_URI_SAN%: the principal of the verified client
    certificate; "-" for a plain-text request (a forged XFCC header changes
    nothing)."""
    assert gw.mtls("/logged-mtls", gw.certs.sleep).status == 200
    peer, path, code, version, local = gw.logged("/logged-mtls").split(" ")
    assert (peer, path, code, local) == (SLEEP_ID, "/logged-mtls", "200", GW_ID)
    assert version in ("TLSv1.2", "TLSv1.3"), version
    r = get(gw.g.ip4, HTTP_PORT, "/logged-plain", "mesh.test", headers=[("x-forwarded-client-cert", "URI=spiffe://evil")])
    assert r.status == 200, r
    assert gw.logged("/logged-plain") == "- /logged-plain 200 - -"


def test_plaintext_listener_drops_a_forged_client_cert_header(gw):
    r = get(gw.g.ip4, HTTP_PORT, "/forged", "mesh.test", headers=[("x-forwarded-client-cert", "URI=spiffe://evil")])
    assert r.status == 200, r
    assert gw.plain.last_entry(uri="/forged")["xfcc"] == ""


@pytest.mark.parametrize("client,counter", [
    (None, "ssl_no_certificate"),
    ("stranger", "ssl_fail_verify_error"),
])
def test_server_refuses_a_caller_outside_the_mesh(gw, client, counter):
    before = gw.listener()
    r = gw.mtls(f"/refused-{client}", getattr(gw.certs, client) if client else None)
    assert r.status is None, r
    want = {counter: before[counter] + 1, "ssl_handshake": before["ssl_handshake"]}
    assert lgtest.settle(gw.listener, want) == want


def test_admin_shows_the_workload_identity(gw):
    wi = gw.g.server_info()["workload_identity"]
    assert wi["spiffe_id"] == GW_ID and wi["source"].startswith("files ") and wi["updates"] >= 1, wi
    assert wi["not_after"] == int(gw.certs.gw.x509.not_valid_after.timestamp()), wi
    assert gw.g.server_info()["config"]["tls_errors"] == [], gw.g.server_info()


# =====================================================================
# the gateway's own PeerAuthentication on its mesh ports


def test_strict_mesh_port_refuses_plain_text(gw):
    before = gw.listener()
    with HttpConn(gw.g.ip4, MTLS_PORT, 5) as c:
        c.send(build_request("GET", "/strict-plain", "mesh.test"))
        assert c.read() is None
    want = {"ssl_connection_error": before["ssl_connection_error"] + 1,
            "tls_inspector_tls_not_found": before["tls_inspector_tls_not_found"],
            "downstream_rq_total": before["downstream_rq_total"]}
    assert lgtest.settle(gw.listener, want) == want


def test_permissive_mesh_port_serves_mtls_and_plain_text(gw):
    """PERMISSIVE: a ClientHello gets the mTLS handshake (the caller's
    principal goes upstream); a connection that begins in plain text is
    served as HTTP, routed by its Host, with no principal (a forged one is
    dropped)."""
    before = gw.listener(PERMISSIVE_PORT)
    r = gw.mtls("/permissive-mtls", gw.certs.sleep, port=PERMISSIVE_PORT)
    assert r.status == 200 and r.verify_code == 0, r
    assert gw.plain.last_entry(uri="/permissive-mtls")["xfcc"] == xfcc(GW_ID, gw.certs.sleep)
    r = get(gw.g.ip4, PERMISSIVE_PORT, "/permissive-plain", "mesh.test",
            headers=[("x-forwarded-client-cert", "URI=spiffe://evil")])
    assert (r.status, r.upstream) == (200, "nginx-plain"), r
    assert gw.plain.last_entry(uri="/permissive-plain")["xfcc"] == ""
    r = get(gw.g.ip4, PERMISSIVE_PORT, "/permissive-nohost", "nowhere.test")
    assert r.status == 404, r  # the plain-text request's Host picks the server, then the route
    # No client certificate is still refused over TLS: PERMISSIVE accepts
    # plain text, not unauthenticated TLS.
    assert gw.mtls("/permissive-nocert", None, port=PERMISSIVE_PORT).status is None
    want = {"ssl_handshake": before["ssl_handshake"] + 1,
            "tls_inspector_tls_not_found": before["tls_inspector_tls_not_found"] + 2,
            "ssl_no_certificate": before["ssl_no_certificate"] + 1}
    assert lgtest.settle(lambda: gw.listener(PERMISSIVE_PORT), want) == want


def test_disable_mesh_port_serves_plain_text_only(gw):
    r = get(gw.g.ip4, DISABLE_PORT, "/disable-plain", "mesh.test")
    assert (r.status, r.upstream) == (200, "nginx-plain"), r
    r = gw.mtls("/disable-mtls", gw.certs.sleep, port=DISABLE_PORT)
    assert r.status is None, r
    assert gw.listener(DISABLE_PORT)["ssl_handshake"] == 0


# =====================================================================
# Istio mTLS toward upstreams


def test_istio_mutual_origination(gw):
    """nginx verifies the gateway's SPIFFE certificate against the mesh root;
    the gateway sends Istio's SNI and ALPN and checks nginx's identity."""
    before = gw.cluster("reviews.mesh.test")
    r = gw.get("reviews", "/reviews")
    assert (r.status, r.upstream) == (200, "nginx-mesh"), r
    e = gw.mesh.last_entry(uri="/reviews")
    assert e["client_verify"] == "SUCCESS" and "CN=ingressgateway" in e["client_dn"], e
    assert e["sni"] == f"outbound_.{SVC_PORT}_._.reviews.mesh.test" and e["alpn"] == "http/1.1", e
    # The first request opens the pool's connection: one handshake.
    want = {"ssl_handshake": before["ssl_handshake"] + 1, "upstream_cx_total": before["upstream_cx_total"] + 1}
    assert lgtest.settle(lambda: gw.cluster("reviews.mesh.test"), want) == want


def test_auto_mtls_follows_the_endpoint_label(gw):
    r = gw.get("auto", "/auto")
    assert (r.status, r.upstream) == (200, "nginx-mesh"), r
    assert gw.mesh.last_entry(uri="/auto")["client_verify"] == "SUCCESS"
    r = gw.get("legacy", "/legacy")
    assert (r.status, r.upstream) == (200, "nginx-plain"), r
    assert gw.plain.last_entry(uri="/legacy")["tls"] == ""


@pytest.mark.parametrize("name", ["optout", "portoff"])
def test_auto_mtls_honours_the_destination_peer_authentication(gw, name):
    """The endpoints speak Istio mTLS (tlsMode istio) but their own
    PeerAuthentication is DISABLE (workload-wide, or for the endpoint's
    port under a STRICT policy): auto mTLS sends plain text, as istiod's
    mtlsChecker does."""
    r = gw.get(name, f"/{name}")
    assert (r.status, r.upstream) == (200, "nginx-plain"), r
    assert gw.plain.last_entry(uri=f"/{name}")["tls"] == ""


def test_upstream_with_another_identity_is_refused(gw):
    before = gw.cluster("wrongsan.mesh.test")
    r = gw.get("wrongsan", "/wrongsan")
    assert r.status == 503 and "connection failure" in r.text, r
    want = {"ssl_fail_verify_san": before["ssl_fail_verify_san"] + 3}  # three connect attempts
    assert lgtest.settle(lambda: gw.cluster("wrongsan.mesh.test"), want) == want


# =====================================================================
# rotation (last: it changes the identity)


def test_replaced_identity_files_take_effect_for_new_handshakes(gw):
    before = gw.g.server_info()["workload_identity"]["updates"]
    install_identity(gw.identity_dir, gw.certs.gw_next)
    assert lgtest.wait_until(lambda: gw.g.server_info()["workload_identity"]["updates"] == before + 1, 10), \
        gw.g.server_info()
    r = gw.mtls("/after-rotation", gw.certs.sleep)
    assert r.status == 200 and r.verify_code == 0, r  # the intermediate came with the leaf
    assert r.leaf.serial_number == gw.certs.gw_next.x509.serial_number, r
    r = gw.get("reviews", "/reviews-after-rotation")
    assert r.status == 200, r


# =====================================================================
# the identity from linegate-agent's CA


def cacerts_secret(pki: Pki) -> str:
    """Istio's plug-in CA layout: the intermediate signs, the root anchors."""
    data = {"ca-cert.pem": pki.intermediate.cert_pem, "ca-key.pem": pki.intermediate.key_pem,
            "cert-chain.pem": pki.intermediate.cert_pem + pki.ca.cert_pem, "root-cert.pem": pki.ca.cert_pem}
    return json.dumps({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "cacerts", "namespace": NS},
                       "type": "Opaque", "data": {k: base64.b64encode(v).decode() for k, v in data.items()}}) + "\n"


def test_certificate_from_the_agent_ca_serves_and_is_renewed(linegate_env, tmp_path, certs):
    """The gateway sends a CSR for spiffe://cluster.local/ns/istio-system/sa/
    ingressgateway; the agent signs it with the plugged-in intermediate for
    10 s (its maximum here); the gateway serves ISTIO_MUTUAL with it and asks
    again at half of what was left."""
    watch = tmp_path / "watch"
    watch.mkdir()
    agent = AgentProcess(tmp_path / "agent.log", [watch], debounce_ms=20,
                         extra=["--workload-cert-ttl", "10", "--max-workload-cert-ttl", "10"]).start()
    factory = lgtest.Factory(tmp_path / "gw")
    plain = None
    try:
        g = factory.create(extra_top={"tcp": {"time_wait_ms": 0}, "agent": agent.bootstrap(),
                                      "identity": {"service_account": "ingressgateway"}})
        # The cacerts Secret comes with the config (until then the agent
        # signs with a root of its own).
        write_config(watch / "config.yaml", docs(config(g.peer4), cacerts_secret(certs.pki)))
        assert agent.wait_log(r"CA: loaded Secret istio-system/cacerts", 10), agent.log()
        g.start()
        g.configure_kernel()
        wait_config_applied(g, "")
        plain = NginxUpstream(g.workdir, g.peer4, NGINX_PLAIN, "plain")

        def identity() -> dict:
            return g.server_info()["workload_identity"]

        assert lgtest.wait_until(lambda: identity()["spiffe_id"] == GW_ID, 10), (identity(), g.log_text())
        wi = identity()
        assert wi["source"] == f"agent {agent.address}" and wi["not_after"] - wi["not_before"] <= 10 + 60, wi

        def call(target: str):
            r = s_client(g.ip4, MTLS_PORT, None, "-CAfile", str(certs.root.cert), "-cert", str(certs.sleep.chain),
                         "-key", str(certs.sleep.key), request=http_request_bytes("mesh.test", target))
            assert r.status == 200 and r.verify_code == 0, r
            assert uri_sans(r.leaf) == [GW_ID] and r.leaf.issuer == certs.pki.intermediate.x509.subject, r
            return r.leaf.serial_number

        first = call("/from-agent")
        assert plain.last_entry(uri="/from-agent")["xfcc"].startswith(f"By={GW_ID};"), plain.entries()[-1:]
        updates = identity()["updates"]
        assert lgtest.wait_until(lambda: identity()["updates"] > updates, 15), (identity(), g.log_text())
        assert call("/renewed") != first
        assert agent.wait_log(r"CA: issued " + GW_ID), agent.log()
    finally:
        if plain is not None:
            plain.close()
        factory.cleanup()
        agent.stop()
