// Route classes stay a small fixed set; /metrics and /nginx_status render what happened;
// the instrumented driver counts real storage failures and nothing else.
#include "proxy/metrics.h"

#include <gtest/gtest.h>

#include "proxy/front.h"

namespace dtr::proxy {
namespace {

TEST(MetricsTest, RouteClasses) {
  EXPECT_EQ(RouteClass("/v2/"), "v2_base");
  EXPECT_EQ(RouteClass("/v2"), "v2_base");
  EXPECT_EQ(RouteClass("/v2/_catalog"), "v2_catalog");
  EXPECT_EQ(RouteClass("/v2/a/b/manifests/latest"), "v2_manifest");
  EXPECT_EQ(RouteClass("/v2/a/blobs/sha256:ab"), "v2_blob");
  EXPECT_EQ(RouteClass("/v2/a/blobs/uploads/"), "v2_upload");
  EXPECT_EQ(RouteClass("/v2/a/blobs/uploads/1234"), "v2_upload");
  EXPECT_EQ(RouteClass("/v2/blobs/manifests/x/blobs/sha256:ab"), "v2_blob");
  EXPECT_EQ(RouteClass("/v2/a/manifests/x/manifests/latest"), "v2_manifest");
  EXPECT_EQ(RouteClass("/v2/a/tags/list"), "v2_tags");
  EXPECT_EQ(RouteClass("/v2/a/referrers/sha256:ab"), "v2_referrers");
  EXPECT_EQ(RouteClass("/v2/a/b/_trust/tuf/root.json"), "notary");
  EXPECT_EQ(RouteClass("/auth/token"), "auth_token");
  EXPECT_EQ(RouteClass("/api/v0/repositories"), "api");
  EXPECT_EQ(RouteClass("/enzi/v0/accounts"), "enzi");
  EXPECT_EQ(RouteClass("/_ping"), "health");
  EXPECT_EQ(RouteClass("/metrics"), "status");
  EXPECT_EQ(RouteClass("/ca"), "ca");
  EXPECT_EQ(RouteClass("/favicon.ico"), "other");
  EXPECT_EQ(RouteClass("/v2/nothing-known"), "other");
}

TEST(MetricsTest, PrometheusText) {
  Metrics m;
  m.Observe("v2_blob", 200, 100, 5000, 0.003);
  m.Observe("v2_blob", 200, 100, 5000, 0.2);
  m.Observe("v2_blob", 404, 100, 50, 0.0005);
  m.Started("v2_upload");
  m.StorageError("stat");
  http::ServerStats plain;
  plain.accepted = 7;
  plain.active = 2;
  http::ServerStats tls;
  tls.handshakes = 5;
  tls.resumed = 4;
  std::string text = m.Prometheus({{"http", &plain}, {"https", &tls}});
  for (const char* want : {
           "# TYPE dtr_http_requests_total counter",
           "dtr_http_requests_total{route=\"v2_blob\",code=\"200\"} 2",
           "dtr_http_requests_total{route=\"v2_blob\",code=\"404\"} 1",
           "dtr_http_request_duration_seconds_bucket{route=\"v2_blob\",le=\"0.001\"} 1",
           "dtr_http_request_duration_seconds_bucket{route=\"v2_blob\",le=\"0.005\"} 2",
           "dtr_http_request_duration_seconds_bucket{route=\"v2_blob\",le=\"0.25\"} 3",
           "dtr_http_request_duration_seconds_bucket{route=\"v2_blob\",le=\"+Inf\"} 3",
           "dtr_http_request_duration_seconds_count{route=\"v2_blob\"} 3",
           "dtr_http_request_bytes_total{route=\"v2_blob\"} 300",
           "dtr_http_response_bytes_total{route=\"v2_blob\"} 10050",
           "dtr_uploads_in_progress 1",
           "dtr_http_requests_in_flight 1",
           "dtr_storage_errors_total{operation=\"all\"} 1",
           "dtr_storage_errors_total{operation=\"stat\"} 1",
           "dtr_http_connections_accepted_total{listener=\"http\"} 7",
           "dtr_http_connections_active{listener=\"http\"} 2",
           "dtr_tls_handshakes_total{listener=\"https\"} 5",
           "dtr_tls_sessions_resumed_total{listener=\"https\"} 4",
       }) {
    EXPECT_NE(text.find(std::string(want) + "\n"), std::string::npos) << want << "\n" << text;
  }
  m.Finished("v2_upload");
  EXPECT_NE(m.Prometheus({}).find("dtr_uploads_in_progress 0\n"), std::string::npos);
}

TEST(MetricsTest, NginxStatusFormat) {
  http::ServerStats a, b;
  a.accepted = 10;
  a.rejected = 1;
  a.active = 3;
  a.waiting = 2;
  a.requests = 20;
  b.accepted = 5;
  b.active = 1;
  b.requests = 6;
  EXPECT_EQ(NginxStatus({{"http", &a}, {"https", &b}}),
            "Active connections: 4 \nserver accepts handled requests\n 15 14 26 \n"
            "Reading: 0 Writing: 2 Waiting: 2 \n");
}

class FailingDriver : public storage::BlobDriver {
 public:
  std::string name() const override { return "failing"; }
  Result<std::string> GetContent(const std::string&) override { return NotFound("no"); }
  Status PutContent(const std::string&, std::string_view) override { return IOError("disk full"); }
  Result<std::unique_ptr<storage::FileReader>> Reader(const std::string&, uint64_t) override {
    return Status(Code::kOutOfRange, "past the end");
  }
  Result<std::unique_ptr<storage::FileWriter>> Writer(const std::string&, bool) override {
    return Status(Code::kUnavailable, "backend down");
  }
  Result<storage::FileInfo> Stat(const std::string&) override { return storage::FileInfo{}; }
  Result<std::vector<std::string>> List(const std::string&) override {
    return std::vector<std::string>{};
  }
  Status Move(const std::string&, const std::string&) override { return Status::Ok(); }
  Status Delete(const std::string&) override { return NotFound("no"); }
  Status Walk(const std::string&, const std::function<Status(const storage::FileInfo&)>&) override {
    return Status::Ok();
  }
};

TEST(MetricsTest, InstrumentedDriverCountsOnlyFailures) {
  Metrics m;
  InstrumentedDriver d(std::make_unique<FailingDriver>(), &m);
  EXPECT_EQ(d.name(), "failing");
  EXPECT_FALSE(d.GetContent("/x").ok());
  EXPECT_FALSE(d.Reader("/x", 10).ok());
  EXPECT_FALSE(d.Delete("/x").ok());
  EXPECT_TRUE(d.Stat("/").ok());
  EXPECT_EQ(m.storage_errors(), 0u);
  EXPECT_FALSE(d.PutContent("/x", "y").ok());
  EXPECT_FALSE(d.Writer("/x", false).ok());
  EXPECT_EQ(m.storage_errors(), 2u);
  std::string text = m.Prometheus({});
  EXPECT_NE(text.find("dtr_storage_errors_total{operation=\"put_content\"} 1"), std::string::npos);
  EXPECT_NE(text.find("dtr_storage_errors_total{operation=\"writer\"} 1"), std::string::npos);
}

TEST(FrontTest, AnswersItsOwnPaths) {
  Front front({{"storage", [] { return Status::Ok(); }}}, "-----BEGIN CERTIFICATE-----\n");
  http::ServerStats stats;
  front.AddListener("http", &stats);
  auto get = [&](const std::string& path, const std::string& method = "GET") {
    http::Request req;
    req.method = method;
    req.path = path;
    http::Response res;
    res.status = 0;
    bool handled = front.Handle(req, res);
    return std::make_pair(handled, res);
  };
  auto [ca_handled, ca] = get("/ca");
  EXPECT_TRUE(ca_handled);
  EXPECT_EQ(ca.status, 200);
  EXPECT_EQ(ca.body, "-----BEGIN CERTIFICATE-----\n");
  auto [m_handled, metrics] = get("/metrics");
  EXPECT_TRUE(m_handled);
  EXPECT_NE(metrics.body.find("dtr_http_connections_accepted_total{listener=\"http\"} 0"),
            std::string::npos);
  auto [s_handled, status] = get("/nginx_status");
  EXPECT_NE(status.body.find("Active connections: 0"), std::string::npos);
  EXPECT_EQ(get("/_ping").second.status, 200);
  EXPECT_EQ(get("/ca", "DELETE").second.status, 405);
  EXPECT_FALSE(get("/v2/").first);
}

}  // namespace
}  // namespace dtr::proxy
