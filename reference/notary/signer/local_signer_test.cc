#include "notary/signer/local_signer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/tuf/keys.h"
#include "tests/test_registry.h"

namespace dtr::notary {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(KeyCrypter, SealsAndOpensBoundToTheKeyId) {
  auto c = KeyCrypter::Derive("passphrase", "salt-salt-salt-s", 1000);
  ASSERT_TRUE(c.ok());
  auto sealed = c->Seal("secret key bytes", "key-1");
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(sealed->find("secret key bytes"), std::string::npos);
  EXPECT_EQ(*c->Open(*sealed, "key-1"), "secret key bytes");
  EXPECT_TRUE(c->Open(*sealed, "key-2").status().is(Code::kPermissionDenied));
  std::string tampered = *sealed;
  tampered[tampered.size() / 2] ^= 1;
  EXPECT_FALSE(c->Open(tampered, "key-1").ok());
  auto other = KeyCrypter::Derive("another", "salt-salt-salt-s", 1000);
  EXPECT_FALSE(other->Open(*sealed, "key-1").ok());
  EXPECT_FALSE(KeyCrypter::Derive("", "salt", 1000).ok());
}

TEST(LocalSigner, KeysStaySealedAndSign) {
  testing::TempDir dir;
  std::string pkcs8;
  tuf::PublicKey key;
  {
    auto signer = LocalSigner::Open(dir.path(), "correct horse");
    ASSERT_TRUE(signer.ok()) << signer.status().message();
    auto k = (*signer)->Create("dtr.example.com/a/b", "timestamp", "ecdsa");
    ASSERT_TRUE(k.ok());
    key = *k;
    // Unused keys are handed out again; other roles and GUNs get their own.
    EXPECT_EQ((*signer)->Create("dtr.example.com/a/b", "timestamp", "ecdsa")->id(), key.id());
    EXPECT_NE((*signer)->Create("dtr.example.com/a/b", "snapshot", "ecdsa")->id(), key.id());
    EXPECT_NE((*signer)->Create("dtr.example.com/a/c", "timestamp", "ecdsa")->id(), key.id());
    EXPECT_FALSE((*signer)->Create("dtr.example.com/a/b", "targets", "ecdsa").ok());
    auto sig = (*signer)->Sign(key, "message");
    ASSERT_TRUE(sig.ok());
    EXPECT_EQ(sig->method, "ecdsa");
    EXPECT_TRUE(tuf::VerifySignature(key, sig->method, sig->sig, "message").ok());
    // Used now: a new Create makes a new key.
    EXPECT_NE((*signer)->Create("dtr.example.com/a/b", "timestamp", "ecdsa")->id(), key.id());
    auto stranger = tuf::PrivateKey::Generate("ecdsa");
    EXPECT_TRUE((*signer)->Sign(stranger->public_key(), "m").status().is(Code::kNotFound));
    EXPECT_FALSE((*signer)->GetKey(stranger->id())->has_value());
  }
  // The database holds no private key in the clear.
  std::string db = Slurp(dir.path() + "/signer.db") + Slurp(dir.path() + "/signer.db-wal");
  EXPECT_EQ(db.find("PRIVATE KEY"), std::string::npos);
  // Reopened with the passphrase, the key is there; with another one, nothing opens.
  auto again = LocalSigner::Open(dir.path(), "correct horse");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE((*again)->GetKey(key.id())->has_value());
  EXPECT_TRUE((*again)->Sign(key, "m").ok());
  auto wrong = LocalSigner::Open(dir.path(), "battery staple");
  EXPECT_TRUE(wrong.status().is(Code::kPermissionDenied));
}

TEST(LocalSigner, PassphraseSources) {
  testing::TempDir dir;
  unsetenv("DTR_SIGNER_PASSPHRASE");
  unsetenv("DTR_SIGNER_PASSPHRASE_FILE");
  auto generated = LoadSignerPassphrase(dir.path() + "/s");
  ASSERT_TRUE(generated.ok());
  EXPECT_GE(generated->size(), 40u);
  EXPECT_EQ(*LoadSignerPassphrase(dir.path() + "/s"), *generated);  // stable
  std::ofstream(dir.path() + "/pf") << "from a file\n";
  setenv("DTR_SIGNER_PASSPHRASE_FILE", (dir.path() + "/pf").c_str(), 1);
  EXPECT_EQ(*LoadSignerPassphrase(dir.path() + "/s"), "from a file");
  setenv("DTR_SIGNER_PASSPHRASE", "from the environment", 1);
  EXPECT_EQ(*LoadSignerPassphrase(dir.path() + "/s"), "from the environment");
  unsetenv("DTR_SIGNER_PASSPHRASE");
  unsetenv("DTR_SIGNER_PASSPHRASE_FILE");
}

}  // namespace
}  // namespace dtr::notary
