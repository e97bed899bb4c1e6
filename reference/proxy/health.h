// Health of this replica, as DTR answers it on /_ping, /health and /load_balancer_status:
// {"Error":"<component>: <why>","Healthy":false} with 503, or {"Error":"","Healthy":true}
// with 200. Each component contributes a real check (stat the storage root, query the
// metadata store, the token signing key is loaded); the first failures are named. Results
// are reused for a moment so a load balancer polling hard cannot turn checks into load.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.h"
#include "http/message.h"

namespace dtr::proxy {

struct HealthCheck {
  std::string component;  // "storage", "metadata", "authorization", "notary", ...
  std::function<Status()> check;
};

struct HealthReport {
  bool healthy = true;
  std::string error;  // "" when healthy; else "component: message; component: message"
};

class HealthChecker {
 public:
  explicit HealthChecker(std::vector<HealthCheck> checks,
                         std::chrono::milliseconds reuse = std::chrono::milliseconds(1000));

  // Runs every check, or returns the last report when it is younger than `reuse`.
  HealthReport Check();

  // True (and `res` filled) for the health paths: /_ping, /health, /load_balancer_status.
  bool Handle(const http::Request& req, http::Response& res);

 private:
  std::vector<HealthCheck> checks_;
  std::chrono::milliseconds reuse_;
  std::mutex mu_;
  HealthReport last_;
  std::chrono::steady_clock::time_point last_at_;
  bool have_last_ = false;
};

bool IsHealthPath(const std::string& path);
// The JSON body and status for a report.
void RenderHealth(const HealthReport& report, http::Response& res);

}  // namespace dtr::proxy
