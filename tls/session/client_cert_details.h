// Envoy's x-forwarded-client-cert element for the client certificate a
// TLS server verified (forward_client_cert_details SANITIZE_SET, with
// set_current_client_cert_details subject, URI and DNS, as Istio configures
// its gateways): By = our certificate's URI SAN, Hash = SHA-256 of the
// client's DER certificate in hex, Subject = its subject (RFC 2253, quoted),
// URI and DNS = its SANs. For ISTIO_MUTUAL the URI is the peer's SPIFFE
// principal. https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_conn_man/headers#x-forwarded-client-cert
#pragma once

#include <openssl/ssl.h>

#include <cstddef>
#include <string_view>

namespace lg::tls {

// Writes the element for ssl's verified peer into out (at most cap bytes;
// the Subject and then the DNS names are left out when it would not fit).
// Returns its length; 0 when the peer sent no certificate.
size_t client_cert_details(SSL* ssl, char* out, size_t cap);

// The values of `key` ("URI", "By", "DNS") in an element written above, in
// order, joined with ',' into out (as Envoy's %DOWNSTREAM_PEER_URI_SAN%
// lists them); a value that would not fit is left out. The quoted Subject is
// passed over whole: a ';' the certificate put in it never starts a field.
size_t xfcc_values(std::string_view element, std::string_view key, char* out, size_t cap);

}  // namespace lg::tls
