#include "ctrl/compile/secrets.h"

#include <map>
#include <optional>

namespace lg::ctrl::compile {

namespace {

std::string first_of(const std::map<std::string, std::string>& data, std::initializer_list<const char*> keys) {
  for (const char* k : keys)
    if (auto it = data.find(k); it != data.end() && !it->second.empty()) return it->second;
  return "";
}

// Istio's extractCertInfo / extractRoot key names.
std::optional<pb::Secret> convert_secret(const Resource& r) {
  const auto data = secret_data(r);
  pb::Secret s;
  s.set_name(r.name);
  s.set_namespace_(r.ns);
  if (data.count("cert") && data.count("key")) {
    s.set_type(pb::SECRET_GENERIC);
    s.set_cert_chain(data.at("cert"));
    s.set_private_key(data.at("key"));
  } else if (data.count("tls.crt") && data.count("tls.key")) {
    s.set_type(pb::SECRET_TLS);
    s.set_cert_chain(data.at("tls.crt"));
    s.set_private_key(data.at("tls.key"));
  } else {
    s.set_type(pb::SECRET_CA_ONLY);
  }
  s.set_ca_cert(first_of(data, {"cacert", "ca.crt"}));
  s.set_crl(first_of(data, {"ca.crl", "tls.crl", "crl"}));
  return s;
}

class SecretSet {
 public:
  explicit SecretSet(Context& ctx) : ctx_(ctx) {}

  const pb::Secret* get(const std::string& name) {
    if (auto it = loaded_.find(name); it != loaded_.end()) return &it->second;
    const Resource* r = ctx_.find(kCore, "Secret", ctx_.node_ns(), name);
    if (!r) return nullptr;
    auto s = convert_secret(*r);
    if (!s) return nullptr;
    return &loaded_.emplace(name, std::move(*s)).first->second;
  }

  void use(const std::string& name, const std::string& who) {
    if (get(name)) used_.emplace(name, true);
    else if (warned_.emplace(name, true).second)
      ctx_.warn("Secret " + ctx_.node_ns() + "/" + name + " (referenced by " + who + ") not found");
  }

  // Where the CA of `credential` comes from.
  std::string ca_for(const std::string& credential) {
    const std::string cacert = credential + "-cacert";
    if (get(cacert)) return cacert;
    if (const pb::Secret* s = get(credential); s && !s->ca_cert().empty()) return credential;
    return cacert;
  }

  void emit(pb::GatewaySnapshot& snap) {
    for (const auto& [name, _] : used_) *snap.add_secrets() = loaded_.at(name);  // map: sorted by name
  }

 private:
  Context& ctx_;
  std::map<std::string, pb::Secret> loaded_;
  std::map<std::string, bool> used_, warned_;
};

}  // namespace

void build_secrets(Context& ctx, pb::GatewaySnapshot& snap) {
  SecretSet set(ctx);
  for (pb::Listener& l : *snap.mutable_listeners()) {
    for (pb::Server& s : *l.mutable_servers()) {
      if (!s.has_tls()) continue;
      pb::ServerTls& tls = *s.mutable_tls();
      const std::string who = "Gateway " + s.gateway() + " server " + std::to_string(s.index());
      const bool terminates = tls.mode() != pb::SERVER_TLS_PASSTHROUGH && tls.mode() != pb::SERVER_TLS_AUTO_PASSTHROUGH &&
                              tls.mode() != pb::SERVER_TLS_NONE;
      if (!terminates) continue;
      for (const std::string& c : tls.credential_names()) set.use(c, who);
      const bool verifies_clients = tls.mode() == pb::SERVER_TLS_MUTUAL || tls.mode() == pb::SERVER_TLS_OPTIONAL_MUTUAL;
      if (verifies_clients && tls.ca_credential_name().empty() && tls.credential_names_size())
        tls.set_ca_credential_name(set.ca_for(tls.credential_names(0)));
      if (!tls.ca_credential_name().empty()) set.use(tls.ca_credential_name(), who);
    }
  }
  for (pb::Cluster& c : *snap.mutable_clusters()) {
    if (!c.policy().has_tls()) continue;
    pb::UpstreamTls& tls = *c.mutable_policy()->mutable_tls();
    if (tls.credential_name().empty()) continue;
    if (tls.mode() != pb::UPSTREAM_TLS_SIMPLE && tls.mode() != pb::UPSTREAM_TLS_MUTUAL) continue;
    const std::string who = "DestinationRule " + c.destination_rule();
    if (tls.mode() == pb::UPSTREAM_TLS_MUTUAL) set.use(tls.credential_name(), who);
    tls.set_ca_credential_name(set.ca_for(tls.credential_name()));
    set.use(tls.ca_credential_name(), who);
  }
  set.emit(snap);
}

std::map<std::string, std::string> secret_data(const Resource& r) {
  std::map<std::string, std::string> out;
  if (const Json* data = field(r.obj, "data"); data && data->is_object())
    for (const auto& [k, v] : data->items())
      if (v.is_string())
        if (auto decoded = base64_decode(v.get<std::string>())) out[k] = std::move(*decoded);
  if (const Json* sd = field(r.obj, "stringData"); sd && sd->is_object())
    for (const auto& [k, v] : sd->items())
      if (v.is_string()) out[k] = v.get<std::string>();
  return out;
}

}  // namespace lg::ctrl::compile
