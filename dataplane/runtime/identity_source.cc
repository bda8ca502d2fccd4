#include "dataplane/runtime/identity_source.h"

#include <sys/stat.h>

#include <algorithm>

#include "ctrl/ca/spiffe.h"
#include "dataplane/config/tls_inputs.h"
#include "dataplane/log.h"

namespace lg::runtime {

namespace {

constexpr std::chrono::seconds kFilesPoll{2};
constexpr std::chrono::seconds kRetryMin{1}, kRetryMax{60};

std::string iso_time(std::chrono::system_clock::time_point t) {
  const time_t s = std::chrono::system_clock::to_time_t(t);
  struct tm tm = {};
  gmtime_r(&s, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

IdentitySource::IdentitySource(const Bootstrap& b, Apply apply, SignFn sign, CsrFn csr)
    : settings_(b.identity),
      spiffe_id_(ctrl::ca::SpiffeId{b.identity.trust_domain, b.node.ns, b.identity.service_account}.uri()),
      agent_("agent " + b.agent.address),
      apply_(std::move(apply)),
      sign_(std::move(sign)),
      csr_(std::move(csr)) {}

IdentitySource::~IdentitySource() { stop(); }

bool IdentitySource::start(std::string* error) {
  if (!refresh(error)) {
    if (settings_.from_files()) return false;
    LG_LOG(WARNING, "identity: no certificate from the agent yet (%s); retrying", error->c_str());
  }
  error->clear();
  thread_ = std::thread([this] { run(); });
  return true;
}

void IdentitySource::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

IdentityStatus IdentitySource::status() const {
  std::lock_guard lock(mu_);
  return status_;
}

void IdentitySource::run() {
  std::chrono::seconds backoff = kRetryMin;
  std::unique_lock lock(mu_);
  while (!stopping_) {
    clock::time_point next;
    if (settings_.from_files()) {
      next = clock::now() + kFilesPoll;
    } else if (status_.identity != nullptr && backoff == kRetryMin) {
      next = renew_at_;
    } else {
      next = clock::now() + backoff;
    }
    if (cv_.wait_until(lock, next, [this] { return stopping_; })) break;
    lock.unlock();
    std::string error;
    const bool changed = refresh(&error);
    lock.lock();
    if (settings_.from_agent()) backoff = changed ? kRetryMin : std::min(backoff * 2, kRetryMax);
  }
}

bool IdentitySource::refresh(std::string* error) {
  const bool ok = settings_.from_files() ? load_files(error) : from_agent(error);
  if (!ok && !error->empty()) {
    LG_LOG(ERR, "identity: %s", error->c_str());
    std::lock_guard lock(mu_);
    ++status_.failures;
    status_.last_error = *error;
  }
  return ok;
}

std::string IdentitySource::files_stamp() const {
  std::string stamp;
  for (const std::string* path : {&settings_.cert_chain, &settings_.private_key, &settings_.root_cert}) {
    struct stat st = {};
    if (stat(path->c_str(), &st) == 0)
      stamp += std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
               std::to_string(st.st_mtim.tv_nsec) + ":" + std::to_string(st.st_ino) + ";";
    else
      stamp += "-;";
  }
  return stamp;
}

bool IdentitySource::load_files(std::string* error) {
  const std::string stamp = files_stamp();
  if (stamp == stamp_) return false;  // unchanged (not an error)
  stamp_ = stamp;
  std::string chain, key, roots;
  if (!config::read_file(settings_.cert_chain, &chain, error) || !config::read_file(settings_.private_key, &key, error) ||
      !config::read_file(settings_.root_cert, &roots, error))
    return false;
  auto id = tls::WorkloadIdentity::load(std::move(chain), std::move(key), std::move(roots),
                                        "files " + settings_.cert_chain, std::chrono::system_clock::now(), error);
  return id != nullptr && hand_over(std::move(id), error);
}

bool IdentitySource::from_agent(std::string* error) {
  std::string key, csr;
  if (!csr_(spiffe_id_, &key, &csr, error)) return false;
  std::vector<std::string> chain;
  if (!sign_(csr, std::chrono::seconds(settings_.cert_ttl_s), &chain, error)) return false;
  if (chain.size() < 2) {
    *error = "the agent's CA sent " + std::to_string(chain.size()) + " certificate(s); a leaf and a root are needed";
    return false;
  }
  std::string roots = chain.back(), leaf_chain;
  for (size_t i = 0; i + 1 < chain.size(); ++i) leaf_chain += chain[i];
  auto id = tls::WorkloadIdentity::load(std::move(leaf_chain), std::move(key), std::move(roots), agent_,
                                        std::chrono::system_clock::now(), error);
  if (id != nullptr && id->spiffe_id != spiffe_id_) {
    *error = "the agent's CA signed " + id->spiffe_id + ", not " + spiffe_id_;
    return false;
  }
  return id != nullptr && hand_over(std::move(id), error);
}

bool IdentitySource::hand_over(std::shared_ptr<const tls::WorkloadIdentity> id, std::string* error) {
  if (auto rejected = apply_(id)) {
    *error = "tables with the new certificate: " + *rejected;
    return false;
  }
  LG_LOG(INFO, "identity: %s from %s, valid %s to %s", id->spiffe_id.c_str(), id->source.c_str(),
         iso_time(id->not_before).c_str(), iso_time(id->not_after).c_str());
  // Renew at half of what is left (at least a second from now: a
  // certificate already near its end is not asked for in a tight loop).
  const auto left = std::chrono::duration_cast<clock::duration>(id->not_after - std::chrono::system_clock::now());
  const auto renew_in = std::max<clock::duration>(left / 2, std::chrono::seconds(1));
  std::lock_guard lock(mu_);
  renew_at_ = clock::now() + renew_in;
  status_.identity = std::move(id);
  ++status_.updates;
  status_.last_error.clear();
  return true;
}

}  // namespace lg::runtime
