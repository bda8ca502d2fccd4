#include "ctrl/compile/policies.h"

#include <algorithm>

namespace lg::ctrl::compile {

namespace {

bool has_target_ref(const Json& spec) { return field(spec, "targetRef") || field(spec, "targetRefs"); }

Labels match_labels(const Json& spec) {
  const Json* sel = field(spec, "selector");
  return sel ? string_map(field(*sel, "matchLabels")) : Labels{};
}

// getConfigsForWorkload: root-namespace and workload-namespace policies
// whose selector is empty or selects the gateway.
std::vector<const Resource*> applicable(Context& ctx, std::string_view group, std::string_view kind) {
  std::vector<const Resource*> out;
  const std::string root(kRootNamespace);
  for (const Resource* r : ctx.of(group, kind)) {
    if (r->ns != ctx.node_ns() && r->ns != root) continue;
    const Json& spec = spec_of(*r);
    if (has_target_ref(spec)) {
      ctx.warn(r->kind + " " + ns_name(*r) + ": targetRef policies are not applied to Istio gateways");
      continue;
    }
    if (selector_matches(match_labels(spec), ctx.node_labels())) out.push_back(r);
  }
  return out;
}

template <typename Setter>
void copy_strings(const Json& obj, std::string_view key, Setter add) {
  for (const std::string& s : strings(obj, key)) add(s);
}

void convert_rule(const Json& rule, pb::AuthzRule* out) {
  if (const Json* from = field(rule, "from"); from && from->is_array())
    for (const Json& f : *from) {
      const Json* src = field(f, "source");
      pb::Source* s = out->add_from();
      if (!src) continue;
      copy_strings(*src, "principals", [&](auto& v) { s->add_principals(v); });
      copy_strings(*src, "notPrincipals", [&](auto& v) { s->add_not_principals(v); });
      copy_strings(*src, "requestPrincipals", [&](auto& v) { s->add_request_principals(v); });
      copy_strings(*src, "notRequestPrincipals", [&](auto& v) { s->add_not_request_principals(v); });
      copy_strings(*src, "namespaces", [&](auto& v) { s->add_namespaces(v); });
      copy_strings(*src, "notNamespaces", [&](auto& v) { s->add_not_namespaces(v); });
      copy_strings(*src, "ipBlocks", [&](auto& v) { s->add_ip_blocks(v); });
      copy_strings(*src, "notIpBlocks", [&](auto& v) { s->add_not_ip_blocks(v); });
      copy_strings(*src, "remoteIpBlocks", [&](auto& v) { s->add_remote_ip_blocks(v); });
      copy_strings(*src, "notRemoteIpBlocks", [&](auto& v) { s->add_not_remote_ip_blocks(v); });
      copy_strings(*src, "serviceAccounts", [&](auto& v) { s->add_service_accounts(v); });
      copy_strings(*src, "notServiceAccounts", [&](auto& v) { s->add_not_service_accounts(v); });
      copy_strings(*src, "trustDomains", [&](auto& v) { s->add_trust_domains(v); });
      copy_strings(*src, "notTrustDomains", [&](auto& v) { s->add_not_trust_domains(v); });
    }
  if (const Json* to = field(rule, "to"); to && to->is_array())
    for (const Json& t : *to) {
      const Json* op = field(t, "operation");
      pb::Operation* o = out->add_to();
      if (!op) continue;
      copy_strings(*op, "hosts", [&](auto& v) { o->add_hosts(v); });
      copy_strings(*op, "notHosts", [&](auto& v) { o->add_not_hosts(v); });
      copy_strings(*op, "ports", [&](auto& v) { o->add_ports(v); });
      copy_strings(*op, "notPorts", [&](auto& v) { o->add_not_ports(v); });
      copy_strings(*op, "methods", [&](auto& v) { o->add_methods(v); });
      copy_strings(*op, "notMethods", [&](auto& v) { o->add_not_methods(v); });
      copy_strings(*op, "paths", [&](auto& v) { o->add_paths(v); });
      copy_strings(*op, "notPaths", [&](auto& v) { o->add_not_paths(v); });
    }
  if (const Json* when = field(rule, "when"); when && when->is_array())
    for (const Json& w : *when) {
      pb::Condition* c = out->add_when();
      c->set_key(str(w, "key"));
      copy_strings(w, "values", [&](auto& v) { c->add_values(v); });
      copy_strings(w, "notValues", [&](auto& v) { c->add_not_values(v); });
    }
}

int action_rank(pb::AuthzAction a) {
  switch (a) {
    case pb::AUTHZ_CUSTOM: return 0;
    case pb::AUTHZ_DENY: return 1;
    case pb::AUTHZ_ALLOW: return 2;
    default: return 3;
  }
}

void authorization_policies(Context& ctx, pb::SecurityPolicy* out) {
  std::vector<pb::AuthorizationPolicy> policies;
  for (const Resource* r : applicable(ctx, kSecurity, "AuthorizationPolicy")) {
    const Json& spec = spec_of(*r);
    pb::AuthorizationPolicy p;
    p.set_name(ns_name(*r));
    const std::string action = str(spec, "action", "ALLOW");
    p.set_action(action == "DENY"     ? pb::AUTHZ_DENY
                 : action == "AUDIT"  ? pb::AUTHZ_AUDIT
                 : action == "CUSTOM" ? pb::AUTHZ_CUSTOM
                                      : pb::AUTHZ_ALLOW);
    if (const Json* provider = field(spec, "provider")) p.set_provider(str(*provider, "name"));
    if (const Json* rules = field(spec, "rules"); rules && rules->is_array())
      for (const Json& rule : *rules) convert_rule(rule, p.add_rules());
    policies.push_back(std::move(p));
  }
  std::stable_sort(policies.begin(), policies.end(), [](const auto& a, const auto& b) {
    if (action_rank(a.action()) != action_rank(b.action())) return action_rank(a.action()) < action_rank(b.action());
    return a.name() < b.name();
  });
  for (auto& p : policies) *out->add_authorization_policies() = std::move(p);
}

void jwt_rules(Context& ctx, pb::SecurityPolicy* out) {
  for (const Resource* r : applicable(ctx, kSecurity, "RequestAuthentication")) {
    const Json* rules = field(spec_of(*r), "jwtRules");
    if (!rules || !rules->is_array()) continue;
    for (const Json& jr : *rules) {
      pb::JwtRule* j = out->add_jwt_rules();
      j->set_request_authentication(ns_name(*r));
      j->set_issuer(str(jr, "issuer"));
      copy_strings(jr, "audiences", [&](auto& v) { j->add_audiences(v); });
      j->set_jwks_uri(str(jr, "jwksUri", str(jr, "jwks_uri")));
      j->set_jwks(str(jr, "jwks"));
      if (const Json* hs = field(jr, "fromHeaders"); hs && hs->is_array())
        for (const Json& h : *hs) {
          pb::JwtHeader* jh = j->add_from_headers();
          jh->set_name(str(h, "name"));
          jh->set_prefix(str(h, "prefix"));
        }
      copy_strings(jr, "fromParams", [&](auto& v) { j->add_from_params(v); });
      copy_strings(jr, "fromCookies", [&](auto& v) { j->add_from_cookies(v); });
      j->set_output_payload_to_header(str(jr, "outputPayloadToHeader"));
      j->set_forward_original_token(boolean(jr, "forwardOriginalToken"));
      if (const Json* oc = field(jr, "outputClaimToHeaders"); oc && oc->is_array())
        for (const Json& c : *oc) {
          pb::ClaimToHeader* ch = j->add_output_claim_to_headers();
          ch->set_header(str(c, "header"));
          ch->set_claim(str(c, "claim"));
        }
      j->set_timeout_ms(duration_ms(jr, "timeout", 5000));
      copy_strings(jr, "spaceDelimitedClaims", [&](auto& v) { j->add_space_delimited_claims(v); });
    }
  }
}

}  // namespace

void build_security(Context& ctx, const PeerAuthentications& peer_authn, pb::SecurityPolicy* out) {
  *out->mutable_peer_authentication() = peer_authn.compose(ctx.node_ns(), ctx.node_labels());
  authorization_policies(ctx, out);
  jwt_rules(ctx, out);
}

}  // namespace lg::ctrl::compile
