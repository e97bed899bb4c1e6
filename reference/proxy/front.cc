#include "proxy/front.h"

namespace dtr::proxy {

Front::Front(std::vector<HealthCheck> checks, std::string ca_pem)
    : health_(std::move(checks)), ca_pem_(std::move(ca_pem)) {}

void Front::AddListener(std::string name, const http::ServerStats* stats) {
  std::lock_guard lock(mu_);
  listeners_.push_back({std::move(name), stats});
}

std::vector<Metrics::Listener> Front::Listeners() const {
  std::lock_guard lock(mu_);
  return listeners_;
}

void Front::Observe(const http::Request& req, const http::Response& res, uint64_t bytes_in,
                    uint64_t bytes_out, double seconds) {
  metrics_.Observe(RouteClass(req.path), res.status, bytes_in, bytes_out, seconds);
}

bool Front::Handle(const http::Request& req, http::Response& res) {
  if (health_.Handle(req, res)) return true;
  bool front_path = req.path == "/ca" || req.path == "/metrics" || req.path == "/nginx_status";
  if (!front_path) return false;
  if (req.method != "GET" && req.method != "HEAD") {
    res.status = 405;
    res.headers.Set("Allow", "GET, HEAD");
    res.headers.Set("Content-Type", "text/plain; charset=utf-8");
    res.body = "use GET\n";
    return true;
  }
  res.status = 200;
  res.headers.Set("Cache-Control", "no-store");
  if (req.path == "/ca") {
    res.headers.Set("Content-Type", "application/x-pem-file");
    res.body = ca_pem_;
  } else if (req.path == "/metrics") {
    res.headers.Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    res.body = metrics_.Prometheus(Listeners());
  } else {
    res.headers.Set("Content-Type", "text/plain; charset=utf-8");
    res.body = NginxStatus(Listeners());
  }
  return true;
}

}  // namespace dtr::proxy
