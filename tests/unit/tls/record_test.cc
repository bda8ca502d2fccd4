// Record protection on IPsec-MB against OpenSSL, the reference:
// - keys: RFC 8448 §3's published TLS 1.3 application keys;
// - records: sealed here and opened by OpenSSL's EVP AEADs and the reverse,
//   for random lengths 0..16384 and sequence numbers across the 64-bit range;
// - connections: a real OpenSSL client talks TLS 1.3 and 1.2 (each suite)
//   to a server whose records, after OpenSSL's handshake, are ours, in both
//   directions and across KeyUpdates either side asks for.
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "tls/record/protection.h"
#include "tls/testing/openssl_pair.h"

namespace lg::tls {
namespace {

using lg::tls_testing::Bytes;
Bytes hex(const std::string& s) { return lg::tls_testing::from_hex(s); }

std::unique_ptr<AeadEngine> engine() {
  std::string error;
  auto e = AeadEngine::create(&error);
  EXPECT_TRUE(e) << error;
  return e;
}

// RFC 8448 §3: application traffic secrets and the AES-128-GCM key and IV
// each gives.
TEST(TrafficKeys, Rfc8448ApplicationKeys) {
  const struct {
    const char *secret, *key, *iv;
  } vectors[] = {
      {"a1 1a f9 f0 55 31 f8 56 ad 47 11 6b 45 a9 50 32 82 04 b4 f4 4b fb 6b 3a 4b 4f 1f 3f cb 63 16 43",
       "9f 02 28 3b 6c 9c 07 ef c2 6b b9 f2 ac 92 e3 56", "cf 78 2b 88 dd 83 54 9a ad f1 e9 84"},  // server
      {"9e 40 64 6c e7 9a 7f 9d c0 5a f8 88 9b ce 65 52 87 5a fa 0b 06 df 00 87 f7 92 eb b7 c1 75 04 a5",
       "17 42 2d da 59 6e d5 d9 ac d8 90 e3 c6 3f 50 51", "5b 78 92 3d ee 08 57 90 33 e5 23 d9"},  // client
  };
  for (const auto& v : vectors) {
    TrafficKeys k;
    ASSERT_TRUE(tls13_traffic_keys(Aead::aes_128_gcm, EVP_sha256(), hex(v.secret), &k));
    EXPECT_EQ(Bytes(k.key, k.key + 16), hex(v.key));
    EXPECT_EQ(Bytes(k.iv, k.iv + 12), hex(v.iv));
  }
}

// ---------------------------------------------------------------------------
// Records against OpenSSL's EVP AEADs. The nonce and AAD are rebuilt here
// from the RFCs, independently of protection.cc.

const EVP_CIPHER* evp(Aead a) {
  return a == Aead::aes_128_gcm ? EVP_aes_128_gcm() : a == Aead::aes_256_gcm ? EVP_aes_256_gcm() : EVP_chacha20_poly1305();
}

struct Case {
  Version version;
  Aead aead;
};

void PrintTo(const Case& c, std::ostream* os) { *os << (c.version == Version::tls13 ? "TLS 1.3 " : "TLS 1.2 ") << aead_name(c.aead); }

std::string name(const testing::TestParamInfo<Case>& i) {
  std::string n = std::string(i.param.version == Version::tls13 ? "tls13_" : "tls12_") + aead_name(i.param.aead);
  std::erase(n, '-');
  return n;
}

const Case kCases[] = {{Version::tls13, Aead::aes_128_gcm}, {Version::tls13, Aead::aes_256_gcm},
                       {Version::tls13, Aead::chacha20_poly1305}, {Version::tls12, Aead::aes_128_gcm},
                       {Version::tls12, Aead::aes_256_gcm}, {Version::tls12, Aead::chacha20_poly1305}};

class Records : public testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    eng_ = engine();
    ASSERT_TRUE(eng_);
    keys_.aead = GetParam().aead;
    for (auto& b : keys_.key) b = static_cast<uint8_t>(rng_());
    for (auto& b : keys_.iv) b = static_cast<uint8_t>(rng_());
  }
  bool tls13() const { return GetParam().version == Version::tls13; }
  bool explicit_nonce() const { return !tls13() && GetParam().aead != Aead::chacha20_poly1305; }

  void nonce(uint64_t seq, const uint8_t* explicit_part, uint8_t* out) const {
    std::memcpy(out, keys_.iv, 12);
    if (explicit_part != nullptr) {
      std::memcpy(out + 4, explicit_part, 8);
      return;
    }
    for (int i = 0; i < 8; ++i) out[11 - i] ^= static_cast<uint8_t>(seq >> (8 * i));
  }
  // RFC 8446 §5.2 / RFC 5246 §6.2.3.3.
  Bytes aad(uint64_t seq, const uint8_t* header, size_t plaintext_len) const {
    if (tls13()) return Bytes(header, header + 5);
    Bytes a(13);
    for (int i = 0; i < 8; ++i) a[7 - i] = static_cast<uint8_t>(seq >> (8 * i));
    a[8] = header[0], a[9] = header[1], a[10] = header[2];
    a[11] = static_cast<uint8_t>(plaintext_len >> 8), a[12] = static_cast<uint8_t>(plaintext_len);
    return a;
  }

  // OpenSSL decrypts `sealed` (ciphertext + tag); false if it does not authenticate.
  bool evp_open(const uint8_t* nonce12, const Bytes& ad, const uint8_t* sealed, size_t n, Bytes* out) const {
    EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
    int len = 0, fin = 0;
    out->resize(n - 16 + 16);
    bool ok = EVP_DecryptInit_ex(c, evp(keys_.aead), nullptr, nullptr, nullptr) == 1 &&
              EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_IVLEN, 12, nullptr) == 1 &&
              EVP_DecryptInit_ex(c, nullptr, nullptr, keys_.key, nonce12) == 1 &&
              EVP_DecryptUpdate(c, nullptr, &len, ad.data(), static_cast<int>(ad.size())) == 1 &&
              EVP_DecryptUpdate(c, out->data(), &len, sealed, static_cast<int>(n - 16)) == 1 &&
              EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, 16, const_cast<uint8_t*>(sealed + n - 16)) == 1 &&
              EVP_DecryptFinal_ex(c, out->data() + len, &fin) == 1;
    EVP_CIPHER_CTX_free(c);
    out->resize(n - 16);
    return ok;
  }
  Bytes evp_seal(const uint8_t* nonce12, const Bytes& ad, const Bytes& plain) const {
    EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
    Bytes out(plain.size() + 16);
    int len = 0, fin = 0;
    EXPECT_EQ(EVP_EncryptInit_ex(c, evp(keys_.aead), nullptr, nullptr, nullptr), 1);
    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_IVLEN, 12, nullptr);
    EVP_EncryptInit_ex(c, nullptr, nullptr, keys_.key, nonce12);
    EVP_EncryptUpdate(c, nullptr, &len, ad.data(), static_cast<int>(ad.size()));
    EVP_EncryptUpdate(c, out.data(), &len, plain.data(), static_cast<int>(plain.size()));
    EVP_EncryptFinal_ex(c, out.data() + len, &fin);
    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, out.data() + plain.size());
    EVP_CIPHER_CTX_free(c);
    return out;
  }

  Bytes random_bytes(size_t n) {
    Bytes b(n);
    for (auto& x : b) x = static_cast<uint8_t>(rng_());
    return b;
  }

  std::mt19937_64 rng_{2026};
  std::unique_ptr<AeadEngine> eng_;
  TrafficKeys keys_;
};

TEST_P(Records, SealedHereOpenedByOpenSsl) {
  // Sequence numbers from the start, the middle and the top of the range.
  for (uint64_t first : {uint64_t{0}, uint64_t{1} << 32, ~uint64_t{0} - 400}) {
    RecordProtection tx(GetParam().version, *eng_, keys_, first);
    constexpr int kBatch = 40;  // one engine burst seals records of many sizes
    for (int round = 0; round < 5; ++round) {
      std::vector<Bytes> plain(kBatch), rec(kBatch);
      std::vector<AeadOp> ops(kBatch);
      std::vector<size_t> rec_len(kBatch);
      for (int i = 0; i < kBatch; ++i) {
        const size_t n = (i == 0 && round == 0) ? 0 : (i == 1 && round == 0) ? kMaxPlaintext : rng_() % (kMaxPlaintext + 1);
        plain[i] = random_bytes(n);
        rec[i].resize(tx.prefix_len() + n + tx.suffix_len());
        std::copy(plain[i].begin(), plain[i].end(), rec[i].begin() + static_cast<long>(tx.prefix_len()));
        rec_len[i] = tx.prepare_seal(ContentType::application_data, rec[i].data(), n, &ops[i]);
        ASSERT_EQ(rec_len[i], rec[i].size());
      }
      eng_->seal(ops);
      for (int i = 0; i < kBatch; ++i) {
        const uint64_t seq = first + round * kBatch + i;
        const Bytes& r = rec[i];
        ASSERT_TRUE(ops[i].ok);
        EXPECT_EQ(r[0], 23);
        EXPECT_EQ(r[1], 3);
        EXPECT_EQ(r[2], 3);
        EXPECT_EQ(size_t{r[3]} << 8 | r[4], r.size() - 5);
        uint8_t n12[12];
        nonce(seq, explicit_nonce() ? r.data() + 5 : nullptr, n12);
        const size_t body = r.size() - tx.prefix_len();
        Bytes got;
        ASSERT_TRUE(evp_open(n12, aad(seq, r.data(), body - 16 - (tls13() ? 1 : 0)), r.data() + tx.prefix_len(), body,
                             &got))
            << "record " << seq << " of " << plain[i].size() << " bytes";
        if (tls13()) {
          ASSERT_EQ(got.back(), 23) << "inner content type";
          got.pop_back();
        }
        EXPECT_EQ(got, plain[i]);
      }
    }
  }
}

TEST_P(Records, SealedByOpenSslOpenedHere) {
  RecordProtection rx(GetParam().version, *eng_, keys_, 1000);
  for (uint64_t seq = 1000; seq < 1200; ++seq) {
    const size_t n = seq == 1000 ? 0 : rng_() % (kMaxPlaintext + 1);
    const Bytes plain = random_bytes(n);
    Bytes inner = plain;
    if (tls13()) inner.push_back(22);  // a handshake message, say
    if (tls13() && seq % 3 == 0) inner.resize(inner.size() + seq % 50, 0);  // §5.4 padding
    Bytes rec = {static_cast<uint8_t>(tls13() ? 23 : 22), 3, 3, 0, 0};
    uint8_t n12[12];
    uint8_t explicit_part[8];
    for (int i = 0; i < 8; ++i) explicit_part[i] = static_cast<uint8_t>(rng_());  // any value (RFC 5288 §3)
    if (explicit_nonce()) rec.insert(rec.end(), explicit_part, explicit_part + 8);
    const size_t len = rec.size() - 5 + inner.size() + 16;
    rec[3] = static_cast<uint8_t>(len >> 8), rec[4] = static_cast<uint8_t>(len);
    nonce(seq, explicit_nonce() ? explicit_part : nullptr, n12);
    const Bytes sealed = evp_seal(n12, aad(seq, rec.data(), inner.size()), inner);
    rec.insert(rec.end(), sealed.begin(), sealed.end());

    const bool tamper = seq % 17 == 0;
    if (tamper) rec[5 + rng_() % (rec.size() - 5)] ^= 0x20;
    ContentType type;
    Bytes got;
    const OpenStatus st = lg::tls_testing::open_one(rx, *eng_, rec, &type, &got);
    if (tamper) {
      EXPECT_EQ(st, OpenStatus::bad_record_mac) << "a flipped bit in record " << seq;
      continue;
    }
    ASSERT_EQ(st, OpenStatus::ok) << "record " << seq;
    EXPECT_EQ(type, ContentType::handshake);
    EXPECT_EQ(got, plain);
  }
}

TEST_P(Records, MalformedRecordsAreRefusedBeforeAnyCrypto) {
  RecordProtection rx(GetParam().version, *eng_, keys_);
  AeadOp op;
  Bytes tiny = {23, 3, 3, 0, 3, 1, 2, 3};
  EXPECT_NE(rx.prepare_open(tiny.data(), tiny.size(), &op), OpenStatus::ok) << "shorter than a tag";
  Bytes wrong_len = {23, 3, 3, 0, 40, 1, 2, 3};
  EXPECT_EQ(rx.prepare_open(wrong_len.data(), wrong_len.size(), &op), OpenStatus::decode_error);
  Bytes huge(5 + kMaxPlaintext + 2 + 16 + (explicit_nonce() ? 8 : 0), 0);
  huge[0] = 23, huge[1] = 3, huge[2] = 3;
  huge[3] = static_cast<uint8_t>((huge.size() - 5) >> 8), huge[4] = static_cast<uint8_t>(huge.size() - 5);
  EXPECT_EQ(rx.prepare_open(huge.data(), huge.size(), &op), OpenStatus::record_overflow);
  EXPECT_EQ(rx.sequence(), 0u) << "refused records use no sequence number";
  Bytes big(kMaxPlaintext + 1);
  RecordProtection tx(GetParam().version, *eng_, keys_);
  EXPECT_EQ(tx.prepare_seal(ContentType::application_data, big.data(), kMaxPlaintext + 1, &op), 0u);
}

INSTANTIATE_TEST_SUITE_P(AllSuites, Records, testing::ValuesIn(kCases), name);

// ---------------------------------------------------------------------------
// A real OpenSSL client against a server whose records are ours once
// OpenSSL's handshake is done. Memory BIOs carry the bytes.

struct TlsCase {
  Version version;
  const char* suite;  // TLS 1.3 ciphersuite or TLS 1.2 cipher list entry
  Aead aead;
};

void PrintTo(const TlsCase& c, std::ostream* os) { *os << c.suite; }

class OpenSslPeer : public testing::TestWithParam<TlsCase> {
 protected:
  void SetUp() override {
    eng_ = engine();
    ASSERT_TRUE(eng_);
    std::string error;
    pair_ = lg::tls_testing::OpenSslPair::connect({GetParam().version, GetParam().suite, GetParam().aead}, &error);
    ASSERT_TRUE(pair_) << error;
    ASSERT_TRUE(pair_->from_server().empty()) << "the server wrote nothing after its handshake";
    // The server's records become ours, as linegate's handshake code will hand them over.
    const HandOver& k = pair_->server_keys;
    hash_ = k.hash;
    client_secret_ = k.rx_secret;
    server_secret_ = k.tx_secret;
    rx_ = std::make_unique<RecordProtection>(GetParam().version, *eng_, k.rx, k.rx_sequence);
    tx_ = std::make_unique<RecordProtection>(GetParam().version, *eng_, k.tx, k.tx_sequence);
  }

  SSL* client() const { return pair_->client(); }

  // Seals these messages (one record each, one engine burst) to the client.
  void send(ContentType type, const std::vector<Bytes>& msgs) {
    std::vector<Bytes> recs(msgs.size());
    std::vector<AeadOp> ops(msgs.size());
    for (size_t i = 0; i < msgs.size(); ++i) {
      recs[i].resize(tx_->prefix_len() + msgs[i].size() + tx_->suffix_len());
      std::copy(msgs[i].begin(), msgs[i].end(), recs[i].begin() + static_cast<long>(tx_->prefix_len()));
      ASSERT_EQ(tx_->prepare_seal(type, recs[i].data(), msgs[i].size(), &ops[i]), recs[i].size());
    }
    eng_->seal(ops);
    for (const Bytes& r : recs) pair_->to_client(r.data(), r.size());
  }

  Bytes client_reads(size_t n) {
    Bytes got(n);
    size_t have = 0;
    while (have < n) {
      const int r = SSL_read(client(), got.data() + have, static_cast<int>(n - have));
      if (r <= 0) {
        ADD_FAILURE() << "client SSL_read: " << SSL_get_error(client(), r) << " "
                      << ERR_error_string(ERR_get_error(), nullptr);
        break;
      }
      have += static_cast<size_t>(r);
    }
    got.resize(have);
    return got;
  }

  // Opens every record the client wrote. Application data is returned; a
  // KeyUpdate (TLS 1.3) moves our receive keys on and, when asked, answers
  // with ours (RFC 8446 §4.6.3).
  Bytes server_reads() {
    const Bytes more = pair_->from_client();
    wire_.insert(wire_.end(), more.begin(), more.end());
    Bytes data;
    size_t off = 0;
    while (wire_.size() - off >= 5) {
      const size_t len = 5 + (size_t{wire_[off + 3]} << 8 | wire_[off + 4]);
      if (wire_.size() - off < len) break;
      ContentType type;
      Bytes plain;
      EXPECT_EQ(lg::tls_testing::open_one(*rx_, *eng_, Bytes(wire_.begin() + static_cast<long>(off),
                                                              wire_.begin() + static_cast<long>(off + len)),
                                          &type, &plain),
                OpenStatus::ok);
      if (type == ContentType::application_data) {
        data.insert(data.end(), plain.begin(), plain.end());
      } else {
        EXPECT_EQ(type, ContentType::handshake);
        EXPECT_EQ(plain.size() == 5 ? Bytes(plain.begin(), plain.begin() + 4) : plain, (Bytes{24, 0, 0, 1}))
            << "a KeyUpdate";
        const bool requested = plain.size() == 5 && plain[4] == 1;
        client_secret_ = next(client_secret_);
        TrafficKeys k;
        EXPECT_TRUE(tls13_traffic_keys(GetParam().aead, hash_, client_secret_, &k));
        rx_->rekey(k);
        ++client_updates_;
        if (requested) update_ours(false);
      }
      off += len;
    }
    wire_.erase(wire_.begin(), wire_.begin() + static_cast<long>(off));
    return data;
  }

  void update_ours(bool request) {
    send(ContentType::handshake, {Bytes{24, 0, 0, 1, static_cast<uint8_t>(request ? 1 : 0)}});
    server_secret_ = next(server_secret_);
    TrafficKeys k;
    ASSERT_TRUE(tls13_traffic_keys(GetParam().aead, hash_, server_secret_, &k));
    tx_->rekey(k);
  }

  Bytes next(const Bytes& secret) {
    Bytes n(secret.size());
    EXPECT_TRUE(tls13_next_secret(hash_, secret, n));
    return n;
  }

  Bytes random_bytes(size_t n) {
    Bytes b(n);
    for (auto& x : b) x = static_cast<uint8_t>(rng_());
    return b;
  }

  // Both directions, `rounds` times a burst of records of random sizes.
  void exchange(int rounds) {
    for (int r = 0; r < rounds; ++r) {
      std::vector<Bytes> msgs;
      Bytes all;
      for (int i = 0; i < 16; ++i) {
        msgs.push_back(random_bytes(1 + rng_() % kMaxPlaintext));
        all.insert(all.end(), msgs.back().begin(), msgs.back().end());
      }
      send(ContentType::application_data, msgs);
      ASSERT_EQ(client_reads(all.size()), all);
      const Bytes up = random_bytes(rng_() % (3 * kMaxPlaintext));
      ASSERT_EQ(SSL_write(client(), up.data(), static_cast<int>(up.size())), static_cast<int>(up.size()));
      ASSERT_EQ(server_reads(), up);
    }
  }

  std::mt19937_64 rng_{8446};
  std::unique_ptr<AeadEngine> eng_;
  std::unique_ptr<lg::tls_testing::OpenSslPair> pair_;
  const EVP_MD* hash_ = nullptr;
  Bytes client_secret_, server_secret_, wire_;
  std::unique_ptr<RecordProtection> rx_, tx_;
  int client_updates_ = 0;
};

TEST_P(OpenSslPeer, ApplicationDataBothWays) { exchange(12); }

TEST_P(OpenSslPeer, KeyUpdatesEitherSideAsksFor) {
  if (GetParam().version != Version::tls13) GTEST_SKIP() << "KeyUpdate is TLS 1.3";
  exchange(2);
  // The client updates and asks us to: we follow, and answer with our own.
  ASSERT_EQ(SSL_key_update(client(), SSL_KEY_UPDATE_REQUESTED), 1);
  exchange(2);
  EXPECT_EQ(client_updates_, 1);
  // We update and ask the client to: its next write carries its KeyUpdate.
  update_ours(true);
  exchange(2);
  EXPECT_EQ(client_updates_, 2);
  EXPECT_EQ(tx_->sequence(), 2u * 16u) << "sequence numbers restart at each update";
}

TEST_P(OpenSslPeer, AForgedRecordIsRefusedByTheClient) {
  exchange(1);
  Bytes rec = lg::tls_testing::seal_one(*tx_, *eng_, ContentType::application_data, Bytes(100, 'x'));
  rec[rec.size() - 1] ^= 1;
  pair_->to_client(rec.data(), rec.size());
  uint8_t buf[200];
  EXPECT_LE(SSL_read(client(), buf, sizeof(buf)), 0);
  EXPECT_EQ(ERR_GET_REASON(ERR_peek_last_error()), SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC);
  ERR_clear_error();
}

const TlsCase kTls[] = {
    {Version::tls13, "TLS_AES_128_GCM_SHA256", Aead::aes_128_gcm},
    {Version::tls13, "TLS_AES_256_GCM_SHA384", Aead::aes_256_gcm},
    {Version::tls13, "TLS_CHACHA20_POLY1305_SHA256", Aead::chacha20_poly1305},
    {Version::tls12, "ECDHE-ECDSA-AES128-GCM-SHA256", Aead::aes_128_gcm},
    {Version::tls12, "ECDHE-ECDSA-AES256-GCM-SHA384", Aead::aes_256_gcm},
    {Version::tls12, "ECDHE-ECDSA-CHACHA20-POLY1305", Aead::chacha20_poly1305},
};

std::string tls_name(const testing::TestParamInfo<TlsCase>& i) {
  std::string n = std::string(i.param.version == Version::tls13 ? "tls13_" : "tls12_") + i.param.suite;
  std::erase_if(n, [](char c) { return c == '-'; });
  return n;
}

INSTANTIATE_TEST_SUITE_P(AllSuites, OpenSslPeer, testing::ValuesIn(kTls), tls_name);

}  // namespace
}  // namespace lg::tls
