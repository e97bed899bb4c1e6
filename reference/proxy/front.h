// The built-in front, DTR's dtr-nginx in process: it answers what belongs to the front
// itself (/_ping, /health, /load_balancer_status, /ca, /metrics, /nginx_status) and
// measures every request on its way to the components behind it.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "http/message.h"
#include "http/server.h"
#include "proxy/health.h"
#include "proxy/metrics.h"

namespace dtr::proxy {

class Front {
 public:
  Front(std::vector<HealthCheck> checks, std::string ca_pem);

  // True when the front answered the request itself.
  bool Handle(const http::Request& req, http::Response& res);

  // A listener whose counters /metrics and /nginx_status report.
  void AddListener(std::string name, const http::ServerStats* stats);
  // For http::ServerOptions::on_complete.
  void Observe(const http::Request& req, const http::Response& res, uint64_t bytes_in,
               uint64_t bytes_out, double seconds);

  // Counts a request as in flight while it lives.
  class InFlight {
   public:
    InFlight(Metrics* m, std::string_view route) : m_(m), route_(route) { m_->Started(route_); }
    ~InFlight() { m_->Finished(route_); }
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;

   private:
    Metrics* m_;
    std::string_view route_;
  };
  InFlight Track(const http::Request& req) { return InFlight(&metrics_, RouteClass(req.path)); }

  Metrics& metrics() { return metrics_; }
  HealthChecker& health() { return health_; }

 private:
  std::vector<Metrics::Listener> Listeners() const;

  HealthChecker health_;
  std::string ca_pem_;
  Metrics metrics_;
  mutable std::mutex mu_;
  std::vector<Metrics::Listener> listeners_;
};

}  // namespace dtr::proxy
