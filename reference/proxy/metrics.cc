#include "proxy/metrics.h"

#include <cstdio>

namespace dtr::proxy {

std::string_view RouteClass(std::string_view path) {
  if (path == "/v2" || path == "/v2/") return "v2_base";
  if (path.rfind("/v2/", 0) == 0) {
    if (path == "/v2/_catalog") return "v2_catalog";
    if (path.find("/_trust/") != std::string_view::npos) return "notary";
    // Repository names may contain these words as components: the last one decides.
    struct Marker {
      std::string_view text;
      std::string_view route;
    };
    static constexpr Marker kMarkers[] = {{"/blobs/uploads", "v2_upload"},
                                          {"/blobs/", "v2_blob"},
                                          {"/manifests/", "v2_manifest"},
                                          {"/tags/list", "v2_tags"},
                                          {"/referrers/", "v2_referrers"}};
    std::string_view best = "other";
    size_t best_pos = 0;
    for (const auto& m : kMarkers) {
      size_t pos = path.rfind(m.text);
      if (pos != std::string_view::npos && (best == "other" || pos > best_pos)) {
        best = m.route;
        best_pos = pos;
      }
    }
    return best;
  }
  if (path == "/auth/token") return "auth_token";
  if (path.rfind("/api/v0", 0) == 0) return "api";
  if (path.rfind("/enzi/v0", 0) == 0) return "enzi";
  if (path == "/_ping" || path == "/health" || path == "/load_balancer_status") return "health";
  if (path == "/metrics" || path == "/nginx_status") return "status";
  if (path == "/ca") return "ca";
  return "other";
}

void Metrics::Observe(std::string_view route, int status, uint64_t bytes_in, uint64_t bytes_out,
                      double seconds) {
  std::lock_guard lock(mu_);
  auto it = routes_.find(route);
  if (it == routes_.end()) it = routes_.emplace(std::string(route), RouteStats{}).first;
  RouteStats& r = it->second;
  ++r.by_status[status];
  size_t b = 0;
  while (b < kBuckets.size() && seconds > kBuckets[b]) ++b;
  ++r.buckets[b];
  r.seconds_sum += seconds;
  ++r.count;
  r.bytes_in += bytes_in;
  r.bytes_out += bytes_out;
}

void Metrics::Started(std::string_view route) {
  in_flight_.fetch_add(1);
  if (route == "v2_upload") uploads_.fetch_add(1);
}

void Metrics::Finished(std::string_view route) {
  in_flight_.fetch_sub(1);
  if (route == "v2_upload") uploads_.fetch_sub(1);
}

void Metrics::StorageError(std::string_view operation) {
  storage_errors_total_.fetch_add(1);
  std::lock_guard lock(mu_);
  auto it = storage_errors_.find(operation);
  if (it == storage_errors_.end()) it = storage_errors_.emplace(std::string(operation), 0).first;
  ++it->second;
}

namespace {

void Header(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void Sample(std::string& out, const std::string& name, const std::string& labels, double value) {
  char num[64];
  std::snprintf(num, sizeof num, "%.17g", value);
  out += name;
  if (!labels.empty()) out += "{" + labels + "}";
  out += ' ';
  out += num;
  out += '\n';
}

std::string Label(const char* k, const std::string& v) { return std::string(k) + "=\"" + v + "\""; }

}  // namespace

std::string Metrics::Prometheus(const std::vector<Listener>& listeners) const {
  std::string out;
  out.reserve(8192);
  std::lock_guard lock(mu_);
  Header(out, "dtr_http_requests_total", "counter", "HTTP requests by route class and status.");
  for (const auto& [route, r] : routes_) {
    for (const auto& [status, n] : r.by_status) {
      Sample(out, "dtr_http_requests_total",
             Label("route", route) + "," + Label("code", std::to_string(status)),
             static_cast<double>(n));
    }
  }
  Header(out, "dtr_http_request_duration_seconds", "histogram",
         "Time from the end of the request head to the end of the response.");
  for (const auto& [route, r] : routes_) {
    uint64_t cumulative = 0;
    for (size_t b = 0; b <= kBuckets.size(); ++b) {
      cumulative += r.buckets[b];
      char le[32];
      if (b < kBuckets.size()) {
        std::snprintf(le, sizeof le, "%g", kBuckets[b]);
      } else {
        std::snprintf(le, sizeof le, "+Inf");
      }
      Sample(out, "dtr_http_request_duration_seconds_bucket",
             Label("route", route) + "," + Label("le", le), static_cast<double>(cumulative));
    }
    Sample(out, "dtr_http_request_duration_seconds_sum", Label("route", route), r.seconds_sum);
    Sample(out, "dtr_http_request_duration_seconds_count", Label("route", route),
           static_cast<double>(r.count));
  }
  Header(out, "dtr_http_request_bytes_total", "counter", "Bytes received, heads and bodies.");
  for (const auto& [route, r] : routes_) {
    Sample(out, "dtr_http_request_bytes_total", Label("route", route),
           static_cast<double>(r.bytes_in));
  }
  Header(out, "dtr_http_response_bytes_total", "counter", "Bytes sent, heads and bodies.");
  for (const auto& [route, r] : routes_) {
    Sample(out, "dtr_http_response_bytes_total", Label("route", route),
           static_cast<double>(r.bytes_out));
  }
  Header(out, "dtr_http_requests_in_flight", "gauge", "Requests being handled now.");
  Sample(out, "dtr_http_requests_in_flight", "", static_cast<double>(in_flight_.load()));
  Header(out, "dtr_uploads_in_progress", "gauge", "Blob upload requests being handled now.");
  Sample(out, "dtr_uploads_in_progress", "", static_cast<double>(uploads_.load()));
  Header(out, "dtr_storage_errors_total", "counter",
         "Storage operations that failed (not counting absent content).");
  Sample(out, "dtr_storage_errors_total", Label("operation", "all"),
         static_cast<double>(storage_errors_total_.load()));
  for (const auto& [op, n] : storage_errors_) {
    Sample(out, "dtr_storage_errors_total", Label("operation", op), static_cast<double>(n));
  }
  struct Counter {
    const char* name;
    const char* type;
    const char* help;
    std::atomic<uint64_t> http::ServerStats::*field;
  };
  static const Counter kCounters[] = {
      {"dtr_http_connections_accepted_total", "counter", "Connections accepted.",
       &http::ServerStats::accepted},
      {"dtr_http_connections_active", "gauge", "Open connections.", &http::ServerStats::active},
      {"dtr_http_connections_waiting", "gauge", "Open connections waiting for the client.",
       &http::ServerStats::waiting},
      {"dtr_http_connections_rejected_total", "counter",
       "Connections refused because too many were open.", &http::ServerStats::rejected},
      {"dtr_http_connection_timeouts_total", "counter",
       "Connections closed by a head, handshake or keep-alive deadline.",
       &http::ServerStats::timeouts},
      {"dtr_http_server_requests_total", "counter", "Requests read, all routes.",
       &http::ServerStats::requests},
      {"dtr_tls_handshakes_total", "counter", "TLS handshakes completed.",
       &http::ServerStats::handshakes},
      {"dtr_tls_sessions_resumed_total", "counter", "TLS handshakes that resumed a session.",
       &http::ServerStats::resumed},
      {"dtr_tls_handshake_failures_total", "counter",
       "Connections to a TLS port that did not complete a handshake.",
       &http::ServerStats::handshake_failures},
  };
  for (const auto& c : kCounters) {
    Header(out, c.name, c.type, c.help);
    for (const auto& l : listeners) {
      Sample(out, c.name, Label("listener", l.name),
             static_cast<double>((l.stats->*c.field).load()));
    }
  }
  return out;
}

std::string NginxStatus(const std::vector<Metrics::Listener>& listeners) {
  uint64_t active = 0, accepted = 0, rejected = 0, requests = 0, waiting = 0;
  for (const auto& l : listeners) {
    active += l.stats->active.load();
    accepted += l.stats->accepted.load();
    rejected += l.stats->rejected.load();
    requests += l.stats->requests.load();
    waiting += l.stats->waiting.load();
  }
  uint64_t busy = active > waiting ? active - waiting : 0;
  return "Active connections: " + std::to_string(active) + " \nserver accepts handled requests\n " +
         std::to_string(accepted) + " " + std::to_string(accepted - rejected) + " " +
         std::to_string(requests) + " \nReading: 0 Writing: " + std::to_string(busy) +
         " Waiting: " + std::to_string(waiting) + " \n";
}

const Status& InstrumentedDriver::Count(const char* op, const Status& s) {
  // Absent content, bad offsets and the like are answers, not storage failures.
  if (s.is(Code::kIOError) || s.is(Code::kUnavailable) || s.is(Code::kCorruption) ||
      s.is(Code::kInternal)) {
    metrics_->StorageError(op);
  }
  return s;
}

Result<std::string> InstrumentedDriver::GetContent(const std::string& path) {
  auto r = inner_->GetContent(path);
  Count("get_content", r.status());
  return r;
}

Status InstrumentedDriver::PutContent(const std::string& path, std::string_view content) {
  return Count("put_content", inner_->PutContent(path, content));
}

Result<std::unique_ptr<storage::FileReader>> InstrumentedDriver::Reader(const std::string& path,
                                                                        uint64_t offset) {
  auto r = inner_->Reader(path, offset);
  Count("reader", r.status());
  return r;
}

Result<std::unique_ptr<storage::FileWriter>> InstrumentedDriver::Writer(const std::string& path,
                                                                        bool append) {
  auto r = inner_->Writer(path, append);
  Count("writer", r.status());
  return r;
}

Result<storage::FileInfo> InstrumentedDriver::Stat(const std::string& path) {
  auto r = inner_->Stat(path);
  Count("stat", r.status());
  return r;
}

Result<std::vector<std::string>> InstrumentedDriver::List(const std::string& path) {
  auto r = inner_->List(path);
  Count("list", r.status());
  return r;
}

Status InstrumentedDriver::Move(const std::string& from, const std::string& to) {
  return Count("move", inner_->Move(from, to));
}

Status InstrumentedDriver::Delete(const std::string& path) {
  return Count("delete", inner_->Delete(path));
}

Status InstrumentedDriver::Walk(const std::string& path,
                                const std::function<Status(const storage::FileInfo&)>& visit) {
  return Count("walk", inner_->Walk(path, visit));
}

}  // namespace dtr::proxy
