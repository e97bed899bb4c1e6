#include "proxy/health.h"

#include <nlohmann/json.hpp>

namespace dtr::proxy {

HealthChecker::HealthChecker(std::vector<HealthCheck> checks, std::chrono::milliseconds reuse)
    : checks_(std::move(checks)), reuse_(reuse) {}

HealthReport HealthChecker::Check() {
  std::lock_guard lock(mu_);  // one caller runs the checks; the others wait for its result
  auto now = std::chrono::steady_clock::now();
  if (have_last_ && now - last_at_ < reuse_) return last_;
  HealthReport report;
  for (const auto& c : checks_) {
    Status s;
    try {
      s = c.check();
    } catch (const std::exception& e) {
      s = Status(Code::kInternal, e.what());
    }
    if (s.ok()) continue;
    report.healthy = false;
    if (!report.error.empty()) report.error += "; ";
    report.error += c.component + ": " + (s.message().empty() ? "unhealthy" : s.message());
  }
  last_ = report;
  last_at_ = std::chrono::steady_clock::now();
  have_last_ = true;
  return report;
}

bool IsHealthPath(const std::string& path) {
  return path == "/_ping" || path == "/health" || path == "/load_balancer_status";
}

void RenderHealth(const HealthReport& report, http::Response& res) {
  res.status = report.healthy ? 200 : 503;
  res.headers.Set("Content-Type", "application/json");
  res.headers.Set("Cache-Control", "no-store");
  res.body = nlohmann::json{{"Error", report.error}, {"Healthy", report.healthy}}.dump();
}

bool HealthChecker::Handle(const http::Request& req, http::Response& res) {
  if (!IsHealthPath(req.path)) return false;
  if (req.method != "GET" && req.method != "HEAD") {
    res.status = 405;
    res.headers.Set("Allow", "GET, HEAD");
    res.headers.Set("Content-Type", "application/json");
    res.body = R"({"Error":"use GET","Healthy":false})";
    return true;
  }
  RenderHealth(Check(), res);
  return true;
}

}  // namespace dtr::proxy
