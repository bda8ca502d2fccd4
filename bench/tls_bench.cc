// linegate-tls-bench: TLS record crypto per core, linegate's offload
// (IPsec-MB, records sealed and opened in bursts of 32 across connections)
// against OpenSSL's own record layer (SSL_write/SSL_read over memory BIOs)
// and OpenSSL's bare AEAD (EVP, one record at a time: the least its record
// layer could cost). 1 KB and 16 KB records, each offloaded suite, TLS 1.3.
// Single thread; pin it (taskset) for stable figures. Numbers go to
// docs/performance.md with the command that produced them.
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <x86intrin.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tls/record/protection.h"
#include "tls/testing/openssl_pair.h"

namespace lg::bench {
namespace {

using tls::Aead;
using tls::AeadEngine;
using tls::AeadOp;
using tls::ContentType;
using tls::RecordProtection;
using tls::Version;
using Bytes = std::vector<uint8_t>;

double tsc_hz() {
  const auto t0 = std::chrono::steady_clock::now();
  const uint64_t c0 = __rdtsc();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const uint64_t c1 = __rdtsc();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return static_cast<double>(c1 - c0) / s;
}

struct Figure {
  uint64_t bytes = 0, cycles = 0;
  double gbps(double hz) const { return cycles ? 8.0 * static_cast<double>(bytes) * hz / static_cast<double>(cycles) / 1e9 : 0; }
  double cycles_per_byte() const { return bytes ? static_cast<double>(cycles) / static_cast<double>(bytes) : 0; }
};

// Runs `round` (which returns the plaintext bytes it handled) until `budget`
// cycles have passed.
template <typename F>
Figure measure(uint64_t budget, F round) {
  round();  // warm caches and key schedules
  Figure f;
  const uint64_t start = __rdtsc();
  while (__rdtsc() - start < budget) f.bytes += round();
  f.cycles = __rdtsc() - start;
  return f;
}

constexpr int kBurst = 32;

struct Suite {
  const char* tls13_name;
  Aead aead;
};

class Offload {
 public:
  Offload(AeadEngine& e, const tls::TrafficKeys& k, size_t size) : eng_(e), keys_(k), size_(size) {
    RecordProtection tx(Version::tls13, eng_, keys_);
    record_len_ = tx.prefix_len() + size + tx.suffix_len();
    sealed_.resize(kRecords);
    std::vector<AeadOp> ops(kRecords);
    for (int i = 0; i < kRecords; ++i) {
      sealed_[i].assign(record_len_, static_cast<uint8_t>(i));
      tx.prepare_seal(ContentType::application_data, sealed_[i].data(), size, &ops[i]);
    }
    eng_.seal(ops);
    work_ = sealed_;
    plain_.assign(size + tls::kTagLen + 1, 0);
  }

  // One burst of records sealed in place (the worker's TX path).
  uint64_t seal_round() {
    if (!tx_ || tx_->sequence() > (uint64_t{1} << 40)) tx_ = std::make_unique<RecordProtection>(Version::tls13, eng_, keys_);
    AeadOp ops[kBurst];
    for (int i = 0; i < kBurst; ++i) tx_->prepare_seal(ContentType::application_data, work_[i].data(), size_, &ops[i]);
    eng_.seal(ops);
    return kBurst * size_;
  }

  // One burst of the pre-sealed records opened (the RX path); every one
  // must authenticate. A new receive state every kRecords records (its key
  // schedule is counted).
  uint64_t open_round() {
    if (!rx_ || next_ == kRecords) {
      rx_ = std::make_unique<RecordProtection>(Version::tls13, eng_, keys_);
      next_ = 0;
    }
    AeadOp ops[kBurst];
    for (int i = 0; i < kBurst; ++i) {
      rx_->prepare_open(sealed_[next_ + i].data(), record_len_, &ops[i]);
      ops[i].dst = plain_.data();  // keep the ciphertext for the next pass
    }
    eng_.open(ops);
    for (const AeadOp& op : ops)
      if (!op.ok) {
        fprintf(stderr, "linegate-tls-bench: a record failed to open\n");
        std::exit(1);
      }
    next_ += kBurst;
    return kBurst * size_;
  }

 private:
  static constexpr int kRecords = 256;
  AeadEngine& eng_;
  tls::TrafficKeys keys_;
  size_t size_, record_len_ = 0;
  std::vector<Bytes> sealed_, work_;
  Bytes plain_;
  std::unique_ptr<RecordProtection> tx_, rx_;
  int next_ = 0;
};

// OpenSSL's record layer: the server SSL_writes records of `size` bytes (into
// a null BIO), the client SSL_reads records produced beforehand (from a
// memory BIO: one copy, as from a socket).
struct OpenSslRecords {
  std::unique_ptr<tls_testing::OpenSslPair> pair;
  Bytes payload, scratch;
  size_t size;

  OpenSslRecords(const Suite& s, size_t sz) : size(sz) {
    std::string error;
    pair = tls_testing::OpenSslPair::connect({Version::tls13, s.tls13_name, s.aead}, &error);
    if (!pair) {
      fprintf(stderr, "linegate-tls-bench: %s\n", error.c_str());
      std::exit(1);
    }
    payload.assign(size, 0x5a);
    scratch.resize(size);
  }
  // Records go to a null BIO: the record layer and its crypto alone.
  uint64_t write_round() {
    for (int i = 0; i < kBurst; ++i) SSL_write(pair->server(), payload.data(), static_cast<int>(size));
    return kBurst * size;
  }
  uint64_t read_round() {
    for (int i = 0; i < kBurst; ++i) SSL_write(pair->server(), payload.data(), static_cast<int>(size));
    pair->server_to_client();
    const uint64_t t0 = __rdtsc();
    int bad = 0;
    for (int i = 0; i < kBurst; ++i) bad |= SSL_read(pair->client(), scratch.data(), static_cast<int>(size)) != static_cast<int>(size);
    read_cycles += __rdtsc() - t0;
    if (bad) {
      fprintf(stderr, "linegate-tls-bench: OpenSSL's client failed to read a record\n");
      std::exit(1);
    }
    return kBurst * size;
  }
  uint64_t read_cycles = 0;
};

// The bare AEAD, one record at a time, as a record layer without framing
// would call it: the key schedule once (evp_key), a new nonce per record.
void evp_key(EVP_CIPHER_CTX* c, const EVP_CIPHER* cipher, const uint8_t* key) {
  EVP_EncryptInit_ex(c, cipher, nullptr, key, nullptr);
}

uint64_t evp_round(EVP_CIPHER_CTX* c, Bytes& buf, size_t size) {
  static uint64_t seq = 0;
  uint8_t nonce[12] = {}, aad[5] = {23, 3, 3, 0, 0};
  int len = 0;
  for (int i = 0; i < kBurst; ++i) {
    std::memcpy(nonce + 4, &++seq, 8);
    EVP_EncryptInit_ex(c, nullptr, nullptr, nullptr, nonce);
    EVP_EncryptUpdate(c, nullptr, &len, aad, sizeof(aad));
    EVP_EncryptUpdate(c, buf.data(), &len, buf.data(), static_cast<int>(size + 1));
    EVP_EncryptFinal_ex(c, buf.data() + len, &len);
    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, buf.data() + size + 1);
  }
  return kBurst * size;
}

const EVP_CIPHER* evp_cipher(Aead a) {
  return a == Aead::aes_128_gcm ? EVP_aes_128_gcm() : a == Aead::aes_256_gcm ? EVP_aes_256_gcm() : EVP_chacha20_poly1305();
}

int run(double seconds, bool quick, const std::string& json_path) {
  std::string error;
  auto eng = AeadEngine::create(&error);
  if (!eng) {
    fprintf(stderr, "linegate-tls-bench: %s\n", error.c_str());
    return 1;
  }
  const double hz = tsc_hz();
  const auto budget = static_cast<uint64_t>(seconds * hz);
  printf("record crypto, one core, TLS 1.3, bursts of %d records; IPsec-MB %s (%s), %s; TSC %.2f GHz\n", kBurst,
         IMB_VERSION_STR, eng->arch(), OpenSSL_version(OPENSSL_VERSION), hz / 1e9);
  printf("%-18s %6s | %9s %9s | %9s %9s | %9s | %7s %7s\n", "suite", "record", "seal Gb/s", "open Gb/s",
         "ossl wr", "ossl rd", "evp seal", "seal x", "open x");
  const Suite suites[] = {{"TLS_AES_128_GCM_SHA256", Aead::aes_128_gcm},
                          {"TLS_AES_256_GCM_SHA384", Aead::aes_256_gcm},
                          {"TLS_CHACHA20_POLY1305_SHA256", Aead::chacha20_poly1305}};
  nlohmann::json out = nlohmann::json::array();
  for (const Suite& s : suites) {
    for (size_t size : {size_t{1024}, size_t{16384}}) {
      if (quick && size == 16384) continue;
      tls::TrafficKeys keys;
      keys.aead = s.aead;
      for (size_t i = 0; i < sizeof(keys.key); ++i) keys.key[i] = static_cast<uint8_t>(i * 7);
      Offload off(*eng, keys, size);
      const Figure seal = measure(budget, [&] { return off.seal_round(); });
      const Figure open = measure(budget, [&] { return off.open_round(); });
      OpenSslRecords writer(s, size), reader(s, size);
      writer.pair->discard_server_output();
      const Figure wr = measure(budget, [&] { return writer.write_round(); });
      reader.read_cycles = 0;
      Figure rd = measure(budget, [&] { return reader.read_round(); });
      rd.cycles = reader.read_cycles;  // the client's SSL_read alone
      EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
      Bytes buf(size + 1 + 16);
      evp_key(c, evp_cipher(s.aead), keys.key);
      const Figure evp = measure(budget, [&] { return evp_round(c, buf, size); });
      EVP_CIPHER_CTX_free(c);
      printf("%-18s %5zuB | %9.1f %9.1f | %9.1f %9.1f | %9.1f | %6.2fx %6.2fx\n", tls::aead_name(s.aead), size,
             seal.gbps(hz), open.gbps(hz), wr.gbps(hz), rd.gbps(hz), evp.gbps(hz), seal.gbps(hz) / wr.gbps(hz),
             open.gbps(hz) / rd.gbps(hz));
      out.push_back({{"suite", s.tls13_name}, {"record_bytes", size},
                     {"offload_seal_gbps", seal.gbps(hz)}, {"offload_open_gbps", open.gbps(hz)},
                     {"offload_seal_cycles_per_byte", seal.cycles_per_byte()},
                     {"offload_open_cycles_per_byte", open.cycles_per_byte()},
                     {"openssl_write_gbps", wr.gbps(hz)}, {"openssl_read_gbps", rd.gbps(hz)},
                     {"openssl_write_cycles_per_byte", wr.cycles_per_byte()},
                     {"openssl_read_cycles_per_byte", rd.cycles_per_byte()},
                     {"evp_seal_gbps", evp.gbps(hz)}, {"evp_seal_cycles_per_byte", evp.cycles_per_byte()}});
      fflush(stdout);
    }
  }
  printf("Gb/s of plaintext; ossl wr/rd: OpenSSL's SSL_write/SSL_read over memory BIOs; evp seal: bare EVP AEAD per "
         "record; seal x/open x: offload over OpenSSL's record layer\n");
  if (!json_path.empty()) std::ofstream(json_path) << out.dump(2) << "\n";
  return 0;
}

}  // namespace
}  // namespace lg::bench

int main(int argc, char** argv) {
  CLI::App app{"linegate-tls-bench: TLS record crypto per core, IPsec-MB offload vs OpenSSL"};
  double seconds = 0.5;
  bool quick = false;
  std::string json;
  app.add_option("--seconds", seconds, "time per measurement")->check(CLI::Range(0.01, 60.0));
  app.add_flag("--quick", quick, "1 KB records only, 20 ms per measurement (smoke test)");
  app.add_option("--json", json, "write every figure here");
  CLI11_PARSE(app, argc, argv);
  if (quick) seconds = 0.02;
  return lg::bench::run(seconds, quick, json);
}
