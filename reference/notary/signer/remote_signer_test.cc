// The signer as its own service over mutual TLS, in process: the same contract as the
// local signer, refusals for clients without the right certificate, and a whole publish
// through App with DTR_NOTARY_SIGNER pointing at it.
#include "notary/signer/remote_signer.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include <nlohmann/json.hpp>

#include "core/tuf/keys.h"
#include "core/tuf/tuf_test_util.h"
#include "core/tuf/verify.h"
#include "http/server.h"
#include "http/tls.h"
#include "notary/signer/local_signer.h"
#include "notary/signer/signer_service.h"
#include "proxy/ca.h"
#include "tests/test_registry.h"

namespace dtr::notary {
namespace {

// What every CryptoService must do (the local and the remote signer both run it).
void CryptoServiceContract(tuf::CryptoService& s) {
  auto k = s.Create("dtr.example.com/a/b", "timestamp", "ecdsa");
  ASSERT_TRUE(k.ok()) << k.status().message();
  EXPECT_EQ(k->type(), "ecdsa");
  EXPECT_EQ(s.Create("dtr.example.com/a/b", "timestamp", "ecdsa")->id(), k->id());
  auto held = s.GetKey(k->id());
  ASSERT_TRUE(held.ok());
  ASSERT_TRUE(held->has_value());
  EXPECT_EQ((*held)->id(), k->id());
  auto sig = s.Sign(*k, "canonical bytes");
  ASSERT_TRUE(sig.ok()) << sig.status().message();
  EXPECT_EQ(sig->key_id, k->id());
  EXPECT_TRUE(tuf::VerifySignature(*k, sig->method, sig->sig, "canonical bytes").ok());
  EXPECT_NE(s.Create("dtr.example.com/a/b", "timestamp", "ecdsa")->id(), k->id());
  auto ed = s.Create("dtr.example.com/a/b", "snapshot", "ed25519");
  ASSERT_TRUE(ed.ok());
  EXPECT_EQ(ed->type(), "ed25519");
  auto stranger = tuf::PrivateKey::Generate("ecdsa");
  EXPECT_TRUE(s.Sign(stranger->public_key(), "m").status().is(Code::kNotFound));
  EXPECT_FALSE(s.GetKey(stranger->id())->has_value());
  EXPECT_FALSE(s.Create("dtr.example.com/a/b", "root", "ecdsa").ok());
}

class RemoteSignerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ca = proxy::CertificateAuthority::LoadOrCreate(dir.path() + "/ca");
    ASSERT_TRUE(ca.ok());
    ca_path = ca->cert_path();
    ASSERT_TRUE(ca->IssueServerCert({"127.0.0.1", "localhost"}, dir.path() + "/server.pem",
                                    dir.path() + "/server-key.pem")
                    .ok());
    ASSERT_TRUE(ca->IssueClientCert("notary-server", dir.path() + "/client.pem",
                                    dir.path() + "/client-key.pem")
                    .ok());
    auto other = proxy::CertificateAuthority::LoadOrCreate(dir.path() + "/other-ca");
    ASSERT_TRUE(other
                    ->IssueClientCert("intruder", dir.path() + "/intruder.pem",
                                      dir.path() + "/intruder-key.pem")
                    .ok());
    auto signer = LocalSigner::Open(dir.path() + "/keys", "remote passphrase");
    ASSERT_TRUE(signer.ok());
    local = std::move(*signer);
    service = std::make_unique<SignerService>(local.get());
    auto tls = http::TlsContext::Create(
        {dir.path() + "/server.pem", dir.path() + "/server-key.pem", ca_path});
    ASSERT_TRUE(tls.ok()) << tls.status().message();
    http::ServerOptions opt;
    opt.workers = 4;
    opt.tls = *tls;
    server = std::make_unique<http::Server>(
        opt, [this](http::Request& req, http::Response& res) { service->Handle(req, res); });
    ASSERT_TRUE(server->Start("127.0.0.1", 0).ok());
    url = "https://127.0.0.1:" + std::to_string(server->port());
  }
  void TearDown() override {
    if (server) server->Stop();
  }
  RemoteSignerConfig Config(const std::string& cert = "client") {
    return {url, ca_path, dir.path() + "/" + cert + ".pem", dir.path() + "/" + cert + "-key.pem",
            5000};
  }

  dtr::testing::TempDir dir;
  std::string ca_path, url;
  std::unique_ptr<LocalSigner> local;
  std::unique_ptr<SignerService> service;
  std::unique_ptr<http::Server> server;
};

TEST_F(RemoteSignerTest, KeepsTheContract) {
  auto remote = RemoteSigner::Create(Config());
  ASSERT_TRUE(remote.ok()) << remote.status().message();
  CryptoServiceContract(**remote);
}

TEST(LocalSignerContract, KeepsTheContract) {
  dtr::testing::TempDir dir;
  auto local = LocalSigner::Open(dir.path(), "p");
  ASSERT_TRUE(local.ok());
  CryptoServiceContract(**local);
}

TEST_F(RemoteSignerTest, RefusesClientsWithoutItsCertificate) {
  auto intruder = RemoteSigner::Create(Config("intruder"));
  ASSERT_TRUE(intruder.ok());
  auto k = (*intruder)->Create("dtr.example.com/a/b", "timestamp", "ecdsa");
  EXPECT_FALSE(k.ok());
  // Without a client certificate the service itself refuses (403).
  SignerService strict(local.get());
  http::Request req;
  req.method = "POST";
  req.path = "/v1/keys";
  http::Response res;
  strict.Handle(req, res);
  EXPECT_EQ(res.status, 403);
  EXPECT_FALSE(RemoteSigner::Create({"http://127.0.0.1:1", ca_path, ca_path, ca_path}).ok());
  EXPECT_FALSE(RemoteSigner::Create({url, ca_path, "/nonexistent", ca_path}).ok());
}

// `dtr serve` with DTR_NOTARY_SIGNER: a publish is signed by the remote signer's key.
TEST_F(RemoteSignerTest, AppPublishesThroughTheRemoteSigner) {
  setenv("DTR_NOTARY_SIGNER", url.c_str(), 1);
  setenv("DTR_NOTARY_SIGNER_CA", ca_path.c_str(), 1);
  setenv("DTR_NOTARY_SIGNER_CERT", (dir.path() + "/client.pem").c_str(), 1);
  setenv("DTR_NOTARY_SIGNER_KEY", (dir.path() + "/client-key.pem").c_str(), 1);
  dtr::testing::TestRegistry reg;
  for (const char* v : {"DTR_NOTARY_SIGNER", "DTR_NOTARY_SIGNER_CA", "DTR_NOTARY_SIGNER_CERT",
                        "DTR_NOTARY_SIGNER_KEY"}) {
    unsetenv(v);
  }
  const std::string gun = "dtr.example.com/alice/remote";
  const std::string base = "/v2/" + gun + "/_trust/tuf/";
  auto key_reply = reg.Do("GET", base + "timestamp.key");
  ASSERT_EQ(key_reply.status, 200) << key_reply.body;
  auto ts_key = tuf::PublicKeyFromJson(*tuf::ParseJson(key_reply.body));
  ASSERT_TRUE(ts_key.ok());
  // The key lives in the remote signer's store, not in the registry's data directory.
  EXPECT_TRUE(local->GetKey(ts_key->id())->has_value());
  tuf::testing::TestPublisher pub(gun, *ts_key, tuf::Time::Now());
  std::string body;
  for (const auto& f : pub.Publish(1, 1, {{"v1", "x"}})) {
    body += "--b\r\nContent-Disposition: form-data; name=\"files\"; filename=\"" + f.role +
            "\"\r\n\r\n" + f.data + "\r\n";
  }
  body += "--b--\r\n";
  auto posted = reg.Do("POST", base, body, {{"Content-Type", "multipart/form-data; boundary=b"}});
  ASSERT_EQ(posted.status, 200) << posted.body;
  auto ts = tuf::ParseSigned(reg.Do("GET", base + "timestamp.json").body);
  ASSERT_TRUE(ts.ok());
  EXPECT_TRUE(tuf::VerifySignatures(*ts, {"timestamp", {{ts_key->id(), *ts_key}}, 1}).ok());
}

}  // namespace
}  // namespace dtr::notary
