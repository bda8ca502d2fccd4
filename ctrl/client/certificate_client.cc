#include "ctrl/client/certificate_client.h"

#include "ctrl/proto/ca.grpc.pb.h"

#include <grpcpp/grpcpp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <exception>
#include <memory>

namespace lg::ctrl {

namespace {

namespace auth = istio::v1::auth;

const char* code_name(grpc::StatusCode c) {
  switch (c) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    default: return "error";
  }
}

// Exactly one PEM certificate, nothing after it but whitespace.
bool one_certificate(const std::string& pem) {
  BIO* b = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (!b) return false;
  X509* x = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
  bool ok = x != nullptr;
  if (ok) {
    char* rest = nullptr;
    long n = BIO_get_mem_data(b, &rest);
    for (long i = 0; i < n && ok; ++i) ok = rest[i] == '\n' || rest[i] == '\r' || rest[i] == ' ' || rest[i] == '\t';
  }
  X509_free(x);
  BIO_free(b);
  ERR_clear_error();
  return ok;
}

}  // namespace

bool request_certificate(const std::string& target, const std::string& csr_pem, int64_t ttl_s,
                         std::chrono::milliseconds deadline, std::vector<std::string>& chain, std::string& error) {
  chain.clear();
  try {
    grpc::ChannelArguments args;
    // A one-off call: its own connection, not one shared with the
    // discovery stream's backoff state.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    auto channel = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
    auto stub = auth::IstioCertificateService::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + deadline);
    ctx.set_wait_for_ready(true);  // an agent still starting is waited for, up to the deadline
    auth::IstioCertificateRequest req;
    req.set_csr(csr_pem);
    req.set_validity_duration(ttl_s);
    auth::IstioCertificateResponse resp;
    grpc::Status st = stub->CreateCertificate(&ctx, req, &resp);
    if (!st.ok()) {
      error = "CreateCertificate to " + target + ": " + code_name(st.error_code()) + ": " + st.error_message();
      return false;
    }
    if (resp.cert_chain_size() == 0) {
      error = "CreateCertificate to " + target + ": the response holds no certificate";
      return false;
    }
    for (int i = 0; i < resp.cert_chain_size(); ++i) {
      if (!one_certificate(resp.cert_chain(i))) {
        error = "CreateCertificate to " + target + ": chain element " + std::to_string(i) +
                " is not one PEM certificate";
        return false;
      }
    }
    chain.assign(resp.cert_chain().begin(), resp.cert_chain().end());
    return true;
  } catch (const std::exception& e) {
    error = std::string("CreateCertificate to ") + target + ": " + e.what();
    return false;
  }
}

}  // namespace lg::ctrl
