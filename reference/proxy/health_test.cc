// Health answers as DTR's /_ping does: 200 and Healthy:true, or 503 naming what failed.
#include "proxy/health.h"

#include <nlohmann/json.hpp>

#include <atomic>

#include <gtest/gtest.h>

namespace dtr::proxy {
namespace {

http::Request Get(const std::string& path) {
  http::Request r;
  r.method = "GET";
  r.path = path;
  return r;
}

TEST(HealthTest, HealthyAnswers200OnEveryPath) {
  HealthChecker h({{"storage", [] { return Status::Ok(); }}});
  for (const char* path : {"/_ping", "/health", "/load_balancer_status"}) {
    http::Response res;
    ASSERT_TRUE(h.Handle(Get(path), res));
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.headers.GetOr("Content-Type"), "application/json");
    auto body = nlohmann::json::parse(res.body);
    EXPECT_EQ(body["Healthy"], true);
    EXPECT_EQ(body["Error"], "");
  }
  http::Response res;
  EXPECT_FALSE(h.Handle(Get("/v2/"), res));
}

TEST(HealthTest, FailuresAreNamed) {
  HealthChecker h({{"storage", [] { return Status::Ok(); }},
                   {"metadata", [] { return Status(Code::kIOError, "database is locked"); }},
                   {"authorization", [] { return Status(Code::kNotFound, "no signing key"); }}},
                  std::chrono::milliseconds(0));
  http::Response res;
  ASSERT_TRUE(h.Handle(Get("/_ping"), res));
  EXPECT_EQ(res.status, 503);
  auto body = nlohmann::json::parse(res.body);
  EXPECT_EQ(body["Healthy"], false);
  EXPECT_EQ(body["Error"], "metadata: database is locked; authorization: no signing key");
}

TEST(HealthTest, ResultsAreReusedBriefly) {
  std::atomic<int> runs{0};
  HealthChecker h({{"storage",
                    [&] {
                      ++runs;
                      return Status::Ok();
                    }}},
                  std::chrono::milliseconds(60000));
  for (int i = 0; i < 5; ++i) h.Check();
  EXPECT_EQ(runs.load(), 1);
  HealthChecker fresh({{"storage",
                        [&] {
                          ++runs;
                          throw std::runtime_error("disk on fire");
                          return Status::Ok();
                        }}},
                      std::chrono::milliseconds(0));
  auto r = fresh.Check();
  EXPECT_FALSE(r.healthy);
  EXPECT_EQ(r.error, "storage: disk on fire");
}

TEST(HealthTest, OnlyGet) {
  HealthChecker h({});
  http::Request req = Get("/_ping");
  req.method = "POST";
  http::Response res;
  ASSERT_TRUE(h.Handle(req, res));
  EXPECT_EQ(res.status, 405);
}

}  // namespace
}  // namespace dtr::proxy
