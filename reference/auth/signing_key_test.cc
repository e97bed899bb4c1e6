#include "auth/signing_key.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>
#include <vector>

#include "auth/base64.h"
#include "auth/test_keys.h"

namespace dtr::auth {
namespace {

using namespace dtr::auth::testing;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "auth_test.XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

TEST(SigningKeyTest, KeyIdOfAFixedKeyMatchesOpenSslCli) {
  auto key = SigningKey::FromPem(kFixedPrivatePem);
  ASSERT_TRUE(key.ok()) << key.status().message();
  EXPECT_EQ(key->PublicKeyId(), kFixedKeyId);
  auto pub = PublicKey::FromPem(kFixedPublicPem);
  ASSERT_TRUE(pub.ok()) << pub.status().message();
  EXPECT_EQ(pub->KeyId(), kFixedKeyId);
  EXPECT_EQ(key->public_key().Pem(), kFixedPublicPem);
}

// The example key of distribution's docs/spec/auth/jwt.md and the kid the spec gives for it.
TEST(SigningKeyTest, KeyIdOfTheTokenSpecExample) {
  auto pub = PublicKey::FromJwk({{"kty", "EC"},
                                 {"crv", "P-256"},
                                 {"x", "m7zUpx3b-zmVE5cymSs64POG9QcyEpJaYCD82-549_Q"},
                                 {"y", "dU3biz8sZ_8GPB-odm8Wxz3lNDr1xcAQQPQaOcr1fmc"}});
  ASSERT_TRUE(pub.ok()) << pub.status().message();
  EXPECT_EQ(pub->KeyId(), "PYYO:TEWU:V7JH:26JV:AQTZ:LJC3:SXVJ:XGHA:34F2:2LAQ:ZRMK:Z7Q6");
}

TEST(SigningKeyTest, GeneratedKeyIdHasLibtrustShape) {
  auto key = SigningKey::Generate();
  ASSERT_TRUE(key.ok());
  EXPECT_TRUE(std::regex_match(key->PublicKeyId(), std::regex("([A-Z2-7]{4}:){11}[A-Z2-7]{4}")))
      << key->PublicKeyId();
  auto other = SigningKey::Generate();
  EXPECT_NE(key->PublicKeyId(), other->PublicKeyId());
}

TEST(SigningKeyTest, JwkRoundTrip) {
  auto key = SigningKey::FromPem(kFixedPrivatePem);
  ASSERT_TRUE(key.ok());
  nlohmann::json jwk = key->PublicJwk();
  EXPECT_EQ(jwk["kty"], "EC");
  EXPECT_EQ(jwk["crv"], "P-256");
  EXPECT_EQ(jwk["alg"], "ES256");
  EXPECT_EQ(jwk["kid"], kFixedKeyId);
  EXPECT_EQ(jwk["x"], kFixedX);
  EXPECT_EQ(jwk["y"], kFixedY);
  EXPECT_FALSE(jwk.contains("d"));
  auto pub = PublicKey::FromJwk(jwk);
  ASSERT_TRUE(pub.ok()) << pub.status().message();
  EXPECT_EQ(pub->KeyId(), kFixedKeyId);
}

TEST(SigningKeyTest, FromJwkRejectsBadKeys) {
  nlohmann::json good = {{"kty", "EC"}, {"crv", "P-256"}, {"x", kFixedX}, {"y", kFixedY}};
  ASSERT_TRUE(PublicKey::FromJwk(good).ok());
  auto with = [&](const char* k, nlohmann::json v) {
    nlohmann::json j = good;
    j[k] = std::move(v);
    return PublicKey::FromJwk(j);
  };
  EXPECT_FALSE(with("kty", "RSA").ok());
  EXPECT_FALSE(with("crv", "P-384").ok());
  EXPECT_FALSE(with("x", "AAAA").ok());
  EXPECT_FALSE(with("x", 5).ok());
  EXPECT_FALSE(PublicKey::FromJwk(nlohmann::json::array()).ok());
  // Flip the last bit of y: the point leaves the curve.
  std::string y = *Base64UrlDecode(kFixedY);
  y.back() ^= 1;
  auto off_curve = with("y", Base64UrlEncode(y));
  ASSERT_FALSE(off_curve.ok());
  EXPECT_NE(off_curve.status().message().find("curve"), std::string::npos)
      << off_curve.status().message();
}

TEST(SigningKeyTest, RejectsOtherKeyTypesAndGarbage) {
  EXPECT_FALSE(SigningKey::FromPem("").ok());
  EXPECT_FALSE(
      SigningKey::FromPem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").ok());
  EXPECT_FALSE(SigningKey::FromPem(kFixedPublicPem).ok());
  // An Ed25519 key (RFC 8410 section 10.3).
  auto ed = SigningKey::FromPem(
      "-----BEGIN PRIVATE KEY-----\n"
      "MC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n"
      "-----END PRIVATE KEY-----\n");
  ASSERT_FALSE(ed.ok());
  EXPECT_NE(ed.status().message().find("not an EC key"), std::string::npos);
}

TEST(SigningKeyTest, SignAndVerifyRaw) {
  auto key = SigningKey::FromPem(kFixedPrivatePem);
  ASSERT_TRUE(key.ok());
  auto sig = key->SignEs256("payload");
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(sig->size(), 64u);
  EXPECT_TRUE(key->public_key().VerifyEs256("payload", *sig));
  EXPECT_FALSE(key->public_key().VerifyEs256("payloaD", *sig));
  std::string flipped = *sig;
  flipped[10] ^= 1;
  EXPECT_FALSE(key->public_key().VerifyEs256("payload", flipped));
  EXPECT_FALSE(key->public_key().VerifyEs256("payload", sig->substr(0, 63)));
  EXPECT_FALSE(key->public_key().VerifyEs256("payload", std::string(64, '\0')));
  auto other = SigningKey::Generate();
  EXPECT_FALSE(other->public_key().VerifyEs256("payload", *sig));
}

TEST(SigningKeyTest, RAndSArePaddedToThirtyTwoBytes) {
  // About 1 signature in 128 has r or s shorter than 32 bytes. Sign until a few have shown up:
  // 5000 tries all missing would happen with probability below 1e-17.
  auto key = SigningKey::Generate();
  ASSERT_TRUE(key.ok());
  int short_seen = 0;
  for (int i = 0; i < 5000 && short_seen < 3; ++i) {
    std::string data = "message " + std::to_string(i);
    auto sig = key->SignEs256(data);
    ASSERT_TRUE(sig.ok());
    ASSERT_EQ(sig->size(), 64u);
    if ((*sig)[0] == '\0' || (*sig)[32] == '\0') ++short_seen;
    ASSERT_TRUE(key->public_key().VerifyEs256(data, *sig)) << i;
  }
  EXPECT_EQ(short_seen, 3);
}

TEST(SigningKeyTest, LoadOrCreateCreatesPrivateFileThenLoadsIt) {
  TempDir dir;
  std::string path = dir.File("signing.pem");
  auto created = SigningKey::LoadOrCreate(path);
  ASSERT_TRUE(created.ok()) << created.status().message();
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto loaded = SigningKey::LoadOrCreate(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(loaded->PublicKeyId(), created->PublicKeyId());
  EXPECT_EQ(loaded->PrivatePem(), created->PrivatePem());
  // No temporary file is left behind.
  int files = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir.File(""))) ++files;
  EXPECT_EQ(files, 1);
}

TEST(SigningKeyTest, ConcurrentCreatorsAgreeOnOneKey) {
  TempDir dir;
  std::string path = dir.File("race.pem");
  std::vector<std::string> ids(8);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < ids.size(); ++i) {
    threads.emplace_back([&, i] {
      auto key = SigningKey::LoadOrCreate(path);
      ids[i] = key.ok() ? key->PublicKeyId() : "error: " + key.status().message();
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& id : ids) EXPECT_EQ(id, ids[0]);
  EXPECT_EQ(SigningKey::LoadOrCreate(path)->PublicKeyId(), ids[0]);
}

TEST(SigningKeyTest, LoadOrCreateLoadsAnExistingKey) {
  TempDir dir;
  std::string path = dir.File("k.pem");
  std::ofstream(path) << kFixedPrivatePem;
  auto key = SigningKey::LoadOrCreate(path);
  ASSERT_TRUE(key.ok()) << key.status().message();
  EXPECT_EQ(key->PublicKeyId(), kFixedKeyId);
}

TEST(SigningKeyTest, LoadOrCreateReportsProblems) {
  TempDir dir;
  auto missing_dir = SigningKey::LoadOrCreate(dir.File("nope/k.pem"));
  EXPECT_FALSE(missing_dir.ok());
  std::string garbage = dir.File("garbage.pem");
  std::ofstream(garbage) << "not a key";
  auto bad = SigningKey::LoadOrCreate(garbage);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(garbage), std::string::npos);
}

}  // namespace
}  // namespace dtr::auth
