// The front inside the assembled reference: health from real checks (a broken storage root
// or a missing signing key turns /_ping to 503 naming it), /ca serves the CA that the data
// directory holds, /metrics counts what went through App::Handle, and a verified client
// certificate logs its user in where no Authorization header is sent.
#include <chrono>
#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "http/parser.h"
#include "tests/test_registry.h"

namespace dtr::proxy {
namespace {

using dtr::testing::TestRegistry;

app::Settings TokenAuth() {
  app::Settings s;
  s.auth = "token";
  return s;
}

TEST(FrontAppTest, HealthComesFromRealChecks) {
  TestRegistry r;
  auto ok = r.Do("GET", "/_ping");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(nlohmann::json::parse(ok.body)["Healthy"], true);
  // Storage whose root is gone fails its check; the answer names it.
  std::filesystem::rename(r.storage_root(), r.storage_root() + ".moved");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // past the reuse window
  auto bad = r.Do("GET", "/health");
  EXPECT_EQ(bad.status, 503);
  auto body = nlohmann::json::parse(bad.body);
  EXPECT_EQ(body["Healthy"], false);
  EXPECT_EQ(body["Error"].get<std::string>().rfind("storage: ", 0), 0u) << bad.body;
  std::filesystem::rename(r.storage_root() + ".moved", r.storage_root());
  std::filesystem::remove(r.root() + "/data/auth/token-signing-key.pem");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto no_key = r.Do("GET", "/load_balancer_status");
  EXPECT_EQ(no_key.status, 503);
  EXPECT_NE(no_key.body.find("authorization: token signing key"), std::string::npos) << no_key.body;
}

TEST(FrontAppTest, CaAndMetricsNeedNoCredentials) {
  TestRegistry r(TokenAuth());
  auto ca = r.Do("GET", "/ca");
  EXPECT_EQ(ca.status, 200);
  EXPECT_EQ(ca.body, r.app().ca().cert_pem());
  EXPECT_NE(ca.body.find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_EQ(r.Do("GET", "/_ping").status, 200);
  EXPECT_EQ(r.Do("GET", "/v2/").status, 401);
  auto metrics = r.Do("GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("dtr_http_requests_in_flight 1"), std::string::npos);
  EXPECT_EQ(r.Do("GET", "/nginx_status").status, 200);
}

TEST(FrontAppTest, ClientCertificateNamesTheUser) {
  TestRegistry r(TokenAuth());
  auto ask = [&](const std::string& cn, const std::string& authorization = "") {
    http::Request req;
    req.method = "GET";
    http::SplitTarget("/v2/", &req);
    req.headers.Add("Host", "registry.test");
    if (!authorization.empty()) req.headers.Add("Authorization", authorization);
    req.tls = true;
    req.client_cert_subject = cn;
    http::StringBodyReader body("");
    req.body = &body;
    http::Response res;
    r.app().Handle(req, res);
    return res;
  };
  EXPECT_EQ(ask("admin").status, 200);
  auto unknown = ask("nobody");
  EXPECT_EQ(unknown.status, 401);
  EXPECT_NE(unknown.body.find("not an active user"), std::string::npos) << unknown.body;
  EXPECT_NE(unknown.headers.GetOr("WWW-Authenticate").find("realm=\"https://registry.test/"),
            std::string::npos);
  // Explicit credentials win over the certificate.
  EXPECT_EQ(ask("admin", "Basic bm9ib2R5Om5vcGU=").status, 401);  // nobody:nope
  EXPECT_EQ(ask("").status, 401);
}

}  // namespace
}  // namespace dtr::proxy
