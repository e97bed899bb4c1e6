// The reference's CA: created once with a private key only its owner can read, reused on
// the next start, and issuing server and client certificates that verify against it.
#include "proxy/ca.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace dtr::proxy {
namespace {

class CaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "dtr-ca-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

X509* ReadCert(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return nullptr;
  X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  return x;
}

// Verifies `leaf` against `ca` for `purpose`, and for `host` when given.
bool Verifies(const std::string& ca, const std::string& leaf, int purpose,
              const std::string& host = "", const std::string& ip = "") {
  X509* root = ReadCert(ca);
  X509* cert = ReadCert(leaf);
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, root);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, cert, nullptr);
  X509_STORE_CTX_set_purpose(ctx, purpose);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx);
  if (!host.empty()) X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
  if (!ip.empty()) X509_VERIFY_PARAM_set1_ip_asc(param, ip.c_str());
  bool ok = X509_verify_cert(ctx) == 1;
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  X509_free(cert);
  X509_free(root);
  return ok;
}

TEST_F(CaTest, CreatedOnceWithAPrivateKey) {
  auto ca = CertificateAuthority::LoadOrCreate(dir_ + "/ca");
  ASSERT_TRUE(ca.ok()) << ca.status().message();
  struct stat st {};
  ASSERT_EQ(::stat(ca->key_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir_ + "/ca").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0077, 0u);
  EXPECT_NE(ca->cert_pem().find("BEGIN CERTIFICATE"), std::string::npos);
  auto again = CertificateAuthority::LoadOrCreate(dir_ + "/ca");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->cert_pem(), ca->cert_pem());
}

TEST_F(CaTest, HalfACaIsAnError) {
  auto ca = CertificateAuthority::LoadOrCreate(dir_ + "/ca");
  ASSERT_TRUE(ca.ok());
  std::filesystem::remove(ca->key_path());
  auto broken = CertificateAuthority::LoadOrCreate(dir_ + "/ca");
  EXPECT_FALSE(broken.ok());
  { std::ofstream(ca->key_path()) << "garbage"; }
  broken = CertificateAuthority::LoadOrCreate(dir_ + "/ca");
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("move it away"), std::string::npos);
}

TEST_F(CaTest, ServerCertificatesCoverTheirNames) {
  auto ca = CertificateAuthority::LoadOrCreate(dir_ + "/ca");
  ASSERT_TRUE(ca.ok());
  auto names = ServerCertNames({"registry.example.com:443", "10.1.2.3", "localhost"});
  EXPECT_EQ(names, (std::vector<std::string>{"registry.example.com", "10.1.2.3", "localhost",
                                             "127.0.0.1"}));
  std::string cert = dir_ + "/server.pem", key = dir_ + "/server-key.pem";
  ASSERT_TRUE(ca->IssueServerCert(names, cert, key).ok());
  struct stat st {};
  ASSERT_EQ(::stat(key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_TRUE(Verifies(ca->cert_path(), cert, X509_PURPOSE_SSL_SERVER, "registry.example.com"));
  EXPECT_TRUE(Verifies(ca->cert_path(), cert, X509_PURPOSE_SSL_SERVER, "localhost"));
  EXPECT_TRUE(Verifies(ca->cert_path(), cert, X509_PURPOSE_SSL_SERVER, "", "127.0.0.1"));
  EXPECT_TRUE(Verifies(ca->cert_path(), cert, X509_PURPOSE_SSL_SERVER, "", "10.1.2.3"));
  EXPECT_FALSE(Verifies(ca->cert_path(), cert, X509_PURPOSE_SSL_SERVER, "other.example.com"));
  EXPECT_FALSE(Verifies(ca->cert_path(), cert, X509_PURPOSE_SSL_CLIENT));
}

TEST_F(CaTest, EnsureReusesAMatchingCertificateAndReissuesOtherwise) {
  auto ca = CertificateAuthority::LoadOrCreate(dir_ + "/ca");
  ASSERT_TRUE(ca.ok());
  std::string cert = dir_ + "/server.pem", key = dir_ + "/server-key.pem";
  auto names = ServerCertNames({"a.example"});
  auto first = ca->EnsureServerCert(names, cert, key);
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(*first);
  auto second = ca->EnsureServerCert(names, cert, key);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(*second);
  auto renamed = ca->EnsureServerCert(ServerCertNames({"b.example"}), cert, key);
  ASSERT_TRUE(renamed.ok());
  EXPECT_TRUE(*renamed);
  EXPECT_TRUE(Verifies(ca->cert_path(), cert, X509_PURPOSE_SSL_SERVER, "b.example"));
  // Issued by another CA (the data dir's CA was replaced): reissued.
  auto other = CertificateAuthority::LoadOrCreate(dir_ + "/other");
  ASSERT_TRUE(other.ok());
  auto by_other = other->EnsureServerCert(ServerCertNames({"b.example"}), cert, key);
  ASSERT_TRUE(by_other.ok());
  EXPECT_TRUE(*by_other);
}

TEST_F(CaTest, ClientCertificatesNameAUser) {
  auto ca = CertificateAuthority::LoadOrCreate(dir_ + "/ca");
  ASSERT_TRUE(ca.ok());
  std::string cert = dir_ + "/alice.pem", key = dir_ + "/alice-key.pem";
  ASSERT_TRUE(ca->IssueClientCert("alice", cert, key).ok());
  EXPECT_TRUE(Verifies(ca->cert_path(), cert, X509_PURPOSE_SSL_CLIENT));
  EXPECT_FALSE(Verifies(ca->cert_path(), cert, X509_PURPOSE_SSL_SERVER));
  X509* x = ReadCert(cert);
  char cn[64] = "";
  X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof cn);
  X509_free(x);
  EXPECT_STREQ(cn, "alice");
  EXPECT_FALSE(ca->IssueClientCert("", cert, key).ok());
}

}  // namespace
}  // namespace dtr::proxy
