#include "core/tuf/keys.h"

#include <gtest/gtest.h>

#include "core/tuf/metadata.h"
#include "core/tuf/tuf_test_util.h"
#include "core/tuf/verify.h"

namespace dtr::tuf {
namespace {

using testing::Fixture;
using testing::FixtureTime;

// Every key the notary client and server wrote is filed under the id we compute.
TEST(KeyId, MatchesNotary) {
  int n = 0;
  for (const char* f : {"basic/1.root.json", "rotate/3.root.json", "delegation/1.root.json"}) {
    auto root = ParseRoot(ParseSigned(Fixture(f))->signed_value);
    ASSERT_TRUE(root.ok()) << f << ": " << root.status().message();
    for (const auto& [id, key] : root->keys) {
      EXPECT_EQ(key.id(), id) << f << " " << key.type();
      ++n;
    }
  }
  auto targets =
      ParseTargets(ParseSigned(Fixture("delegation/3.targets.json"))->signed_value, kTargetsRole);
  ASSERT_TRUE(targets.ok()) << targets.status().message();
  ASSERT_EQ(targets->delegation_keys.size(), 2u);
  for (const auto& [id, key] : targets->delegation_keys) {
    EXPECT_EQ(key.id(), id) << key.type();
    EXPECT_TRUE(key.type() == kEcdsaX509Key || key.type() == kRsaX509Key) << key.type();
    ++n;
  }
  EXPECT_GE(n, 14);
}

// One signature of each kind the real client and server make: ecdsa by an x509 root key and
// by a plain ecdsa targets key, eddsa by notary-server's timestamp key, rsapss by an
// rsa-x509 delegation key, ecdsa by an ecdsa-x509 delegation key.
TEST(VerifySignature, AcceptsNotarySignatures) {
  auto root = ParseRoot(ParseSigned(Fixture("delegation/1.root.json"))->signed_value);
  ASSERT_TRUE(root.ok());
  auto check_base = [&](const char* file, const char* role, const char* method) {
    auto s = ParseSigned(Fixture(file));
    ASSERT_TRUE(s.ok());
    ASSERT_EQ(s->signatures.size(), 1u) << file;
    EXPECT_EQ(s->signatures[0].method, method) << file;
    auto r = BuildBaseRole(*root, role);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(VerifySignatures(*s, *r).ok()) << file;
  };
  check_base("delegation/1.root.json", kRootRole, "ecdsa");
  check_base("delegation/2.targets.json", kTargetsRole, "ecdsa");
  check_base("delegation/3.timestamp.json", kTimestampRole, "eddsa");
  check_base("delegation/4.snapshot.json", kSnapshotRole, "ecdsa");

  auto targets =
      ParseTargets(ParseSigned(Fixture("delegation/3.targets.json"))->signed_value, kTargetsRole);
  for (const auto& [file, method] : std::vector<std::pair<std::string, std::string>>{
           {"delegation/1.targets_rsa.json", "rsapss"},
           {"delegation/1.targets_releases.json", "ecdsa"}}) {
    auto s = ParseSigned(Fixture(file));
    ASSERT_TRUE(s.ok());
    ASSERT_EQ(s->signatures.size(), 1u);
    EXPECT_EQ(s->signatures[0].method, method);
    const PublicKey& key = targets->delegation_keys.at(s->signatures[0].key_id);
    EXPECT_TRUE(VerifySignature(key, method, s->signatures[0].sig, s->canonical).ok()) << file;
    std::string tampered = s->canonical;
    tampered[tampered.size() / 2] ^= 1;
    EXPECT_FALSE(VerifySignature(key, method, s->signatures[0].sig, tampered).ok()) << file;
  }
}

TEST(PrivateKey, SignsWhatVerifies) {
  for (const char* alg : {kEcdsaKey, kEd25519Key, kRsaKey}) {
    auto k = PrivateKey::Generate(alg);
    ASSERT_TRUE(k.ok()) << alg;
    auto sig = k->Sign("message");
    ASSERT_TRUE(sig.ok());
    EXPECT_TRUE(VerifySignature(k->public_key(), k->method(), *sig, "message").ok()) << alg;
    EXPECT_FALSE(VerifySignature(k->public_key(), k->method(), *sig, "massage").ok()) << alg;
    // The private key reloads from its PKCS#8 form, and only for its own public key.
    auto again = PrivateKey::FromPkcs8(k->Pkcs8Der(), k->public_key());
    ASSERT_TRUE(again.ok()) << alg << ": " << again.status().message();
    auto other = PrivateKey::Generate(alg);
    EXPECT_FALSE(PrivateKey::FromPkcs8(k->Pkcs8Der(), other->public_key()).ok()) << alg;
  }
  auto ec = PrivateKey::Generate(kEcdsaKey);
  auto sig = ec->Sign("m");
  EXPECT_EQ(sig->size(), 64u);
  EXPECT_FALSE(VerifySignature(ec->public_key(), "eddsa", *sig, "m").ok());
  EXPECT_FALSE(VerifySignature(ec->public_key(), "rsapss", *sig, "m").ok());
  EXPECT_FALSE(VerifySignature(ec->public_key(), "hmac", *sig, "m").ok());
  EXPECT_FALSE(VerifySignature(ec->public_key(), "ecdsa", sig->substr(1), "m").ok());
}

TEST(Certificates, SelfSignedRootCertificate) {
  auto k = PrivateKey::Generate(kEcdsaKey);
  Time now = FixtureTime();
  auto cert_key = k->SelfSignedCertificate("dtr.example.com/ns/repo", now, now.AddSeconds(3600));
  ASSERT_TRUE(cert_key.ok()) << cert_key.status().message();
  EXPECT_EQ(cert_key->type(), kEcdsaX509Key);
  auto certs = LoadCertificateBundle(cert_key->value());
  ASSERT_TRUE(certs.ok());
  ASSERT_EQ(certs->size(), 1u);
  EXPECT_EQ((*certs)[0].common_name, "dtr.example.com/ns/repo");
  EXPECT_FALSE((*certs)[0].is_ca);
  EXPECT_TRUE(ValidateCertificate((*certs)[0], true, now).ok());
  EXPECT_FALSE(ValidateCertificate((*certs)[0], true, now.AddSeconds(7200)).ok());
  EXPECT_TRUE(ValidateCertificate((*certs)[0], false, now.AddSeconds(7200)).ok());
  // Re-encoding the bundle gives the same key (and id).
  EXPECT_EQ(CertificateBundleKey((*certs)[0], {})->id(), cert_key->id());
  // A certificate key verifies what its private key signs.
  auto sig = k->Sign("payload");
  EXPECT_TRUE(VerifySignature(*cert_key, "ecdsa", *sig, "payload").ok());
  EXPECT_FALSE(
      LoadCertificateBundle("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").ok());
}

}  // namespace
}  // namespace dtr::tuf
