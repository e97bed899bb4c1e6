// dtr-bench's HTTP client against the reference's HTTPS server: with tls_resume, a client
// that opens a new connection per request resumes its previous connection's session, and
// the server agrees. Real sockets on 127.0.0.1 and certificates from the reference's CA.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "http/server.h"
#include "http/tls.h"
#include "http_client.h"
#include "proxy/ca.h"

namespace dtrb {
namespace {

class TlsResumeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "dtr-bench-tls-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
    auto ca = dtr::proxy::CertificateAuthority::LoadOrCreate(dir_ + "/ca");
    ASSERT_TRUE(ca.ok()) << ca.status().message();
    ca_file_ = ca.value().cert_path();
    std::string cert = dir_ + "/server.pem", key = dir_ + "/server-key.pem";
    ASSERT_TRUE(ca.value().IssueServerCert({"localhost", "127.0.0.1"}, cert, key).ok());
    auto tls = dtr::http::TlsContext::Create({cert, key, ""});
    ASSERT_TRUE(tls.ok()) << tls.status().message();
    dtr::http::ServerOptions opt;
    opt.workers = 2;
    opt.tls = tls.value();
    server_ = std::make_unique<dtr::http::Server>(
        opt, [](dtr::http::Request&, dtr::http::Response& res) { res.body = "ok"; });
    ASSERT_TRUE(server_->Start("127.0.0.1", 0).ok());
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  HttpClient MakeClient(bool close, bool resume) {
    Endpoint ep;
    std::string prefix, err;
    EXPECT_TRUE(
        ParseUrl("https://127.0.0.1:" + std::to_string(server_->port()), &ep, &prefix, &err));
    sockaddr_storage addr{};
    socklen_t len = 0;
    EXPECT_TRUE(ResolveEndpoint(ep, true, &addr, &len, &err));
    auto tls = TlsContext::Create(ca_file_, false, &err);
    EXPECT_NE(tls, nullptr) << err;
    return HttpClient(ep, addr, len, ClientOptions{close, 5000, tls, "test", resume});
  }

  // Three GETs; every answer must be the handler's.
  static void GetThrice(HttpClient& c) {
    for (int i = 0; i < 3; ++i) {
      Request req;
      req.target = "/v2/";
      req.keep_body = true;
      Response r;
      Error e;
      ASSERT_TRUE(c.Do(req, &r, &e)) << e.detail;
      EXPECT_EQ(r.body, "ok");
    }
  }

  // The server counts a handshake once its side is done, which may be a moment after the
  // client's: waits (bounded) until it has counted `n`.
  void WaitForServerHandshakes(uint64_t n) {
    for (int i = 0; i < 500 && server_->stats().handshakes.load() < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  std::string dir_, ca_file_;
  std::unique_ptr<dtr::http::Server> server_;
};

TEST_F(TlsResumeTest, NewConnectionPerRequestResumesThePreviousSession) {
  HttpClient c = MakeClient(/*close=*/true, /*resume=*/true);
  GetThrice(c);
  EXPECT_EQ(c.connections_opened(), 3u);
  EXPECT_EQ(c.tls_handshakes(), 3u);
  // Each connection ends without close_notify (the server closes after its answer); its
  // session must stay resumable all the same.
  EXPECT_EQ(c.tls_resumed(), 2u);
  WaitForServerHandshakes(3);
  EXPECT_EQ(server_->stats().resumed.load(), 2u);
}

TEST_F(TlsResumeTest, WithoutResumeEveryConnectionIsAFullHandshake) {
  HttpClient c = MakeClient(/*close=*/true, /*resume=*/false);
  GetThrice(c);
  EXPECT_EQ(c.tls_handshakes(), 3u);
  EXPECT_EQ(c.tls_resumed(), 0u);
  WaitForServerHandshakes(3);
  EXPECT_EQ(server_->stats().resumed.load(), 0u);
}

TEST_F(TlsResumeTest, KeepAliveReconnectsWithTheSession) {
  HttpClient c = MakeClient(/*close=*/false, /*resume=*/true);
  GetThrice(c);
  EXPECT_EQ(c.tls_handshakes(), 1u);
  c.Close();  // between requests, as at the end of a run
  GetThrice(c);
  EXPECT_EQ(c.tls_handshakes(), 2u);
  EXPECT_EQ(c.tls_resumed(), 1u);
}

}  // namespace
}  // namespace dtrb
