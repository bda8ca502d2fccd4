// The TLS side of the tables: an OpenSSL context per TLS-terminating Gateway
// server (certificates from the snapshot's Secrets or from files, the
// client CA, versions, suites), and the names a ClientHello's SNI selects it
// by. Built on the control thread with the other tables and freed with them;
// a handshake takes a reference on its context (SSL_new), so one that spans a
// config change finishes with the certificate it started with.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "dataplane/config/runtime_tables.h"
#include "tls/session/server_context.h"

namespace lg::config {

// Whether a Gateway server with this tls.mode ends TLS on the gateway
// (SIMPLE, MUTUAL, OPTIONAL_MUTUAL, ISTIO_MUTUAL), as opposed to passing it
// through or having none.
bool terminates_tls(int server_tls_mode);

struct TlsServer {
  std::unique_ptr<tls::ServerContext> context;  // null: this server cannot terminate (why in `error`)
  std::string error;
  uint8_t mode = 0;  // ServerTlsMode
  // The server's hosts as name patterns (name_match_score): an exact name,
  // or a wildcard's suffix (".example.com"; "" for "*").
  struct Pattern {
    std::string name;
    bool wildcard;
  };
  std::vector<Pattern> names;
};

struct TlsServers {
  // By snapshot server ordinal (ListenerSlot::server_first + i); empty
  // entries for servers that do not terminate TLS.
  std::vector<TlsServer> servers;

  // The server of listener `l` for this (lower-case) SNI: Envoy's filter
  // chain match (a "*" server also takes hellos without SNI); when nothing
  // matches, the listener's first terminating server. Returns the ordinal
  // within the listener, or kNone.
  uint32_t select(const ListenerSlot& l, std::string_view sni) const;
};

// Contexts for every terminating server of `s` (none: an empty set). Credentials that do not
// load are an error (the snapshot is refused, as Envoy refuses a listener
// whose secret is bad); ISTIO_MUTUAL servers present env.identity and wait
// for one (refusing handshakes) when there is none.
// Every context seals and opens session tickets with env.ticket_keys (null:
// none), which outlive the tables, so sessions survive the next snapshot.
std::shared_ptr<const TlsServers> build_tls_servers(const Snapshot& s, const RuntimeTables& t, const TlsEnv& env,
                                                    std::string* error);

}  // namespace lg::config
