// What the front knows about traffic, for operators: `/metrics` in Prometheus text format
// (requests by route class and status, latency histograms, bytes in and out, requests and
// uploads in flight, storage errors, connection and TLS counters) and `/nginx_status` in
// the format of nginx's stub_status, which DTR's front exposed. Route classes are a small
// fixed set, never repository names, so the number of series stays bounded.
#pragma once

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"
#include "http/server.h"
#include "storage/blob_driver.h"

namespace dtr::proxy {

// "v2_base", "v2_catalog", "v2_manifest", "v2_blob", "v2_upload", "v2_tags",
// "v2_referrers", "notary", "auth_token", "api", "enzi", "health", "status", "ca", "other".
std::string_view RouteClass(std::string_view path);

class Metrics {
 public:
  // A request's outcome, once its response is written.
  void Observe(std::string_view route, int status, uint64_t bytes_in, uint64_t bytes_out,
               double seconds);
  // Brackets a request while it runs (in-flight requests; uploads in progress).
  void Started(std::string_view route);
  void Finished(std::string_view route);
  // A storage operation failed for a reason other than "not there".
  void StorageError(std::string_view operation);
  uint64_t storage_errors() const { return storage_errors_total_.load(); }

  struct Listener {
    std::string name;  // "http", "https"
    const http::ServerStats* stats;
  };
  std::string Prometheus(const std::vector<Listener>& listeners) const;

 private:
  static constexpr std::array<double, 14> kBuckets = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                      0.5,   1,     2.5,  5,     10,   30,  120};
  struct RouteStats {
    std::map<int, uint64_t> by_status;
    std::array<uint64_t, kBuckets.size() + 1> buckets{};  // last: +Inf
    double seconds_sum = 0;
    uint64_t count = 0;
    uint64_t bytes_in = 0;
    uint64_t bytes_out = 0;
  };
  mutable std::mutex mu_;
  std::map<std::string, RouteStats, std::less<>> routes_;
  std::map<std::string, uint64_t, std::less<>> storage_errors_;
  std::atomic<uint64_t> storage_errors_total_{0};
  std::atomic<int64_t> in_flight_{0};
  std::atomic<int64_t> uploads_{0};
};

// nginx stub_status text from the listeners' counters.
std::string NginxStatus(const std::vector<Metrics::Listener>& listeners);

// A BlobDriver that counts failed operations into Metrics and otherwise passes through
// (readers keep their native file descriptors, so sendfile still works).
class InstrumentedDriver : public storage::BlobDriver {
 public:
  InstrumentedDriver(std::unique_ptr<storage::BlobDriver> inner, Metrics* metrics)
      : inner_(std::move(inner)), metrics_(metrics) {}
  std::string name() const override { return inner_->name(); }
  Result<std::string> GetContent(const std::string& path) override;
  Status PutContent(const std::string& path, std::string_view content) override;
  Result<std::unique_ptr<storage::FileReader>> Reader(const std::string& path,
                                                      uint64_t offset) override;
  Result<std::unique_ptr<storage::FileWriter>> Writer(const std::string& path,
                                                      bool append) override;
  Result<storage::FileInfo> Stat(const std::string& path) override;
  Result<std::vector<std::string>> List(const std::string& path) override;
  Status Move(const std::string& from, const std::string& to) override;
  Status Delete(const std::string& path) override;
  Status Walk(const std::string& path,
              const std::function<Status(const storage::FileInfo&)>& visit) override;
  Result<std::string> URLFor(const std::string& path, std::string_view method,
                             std::chrono::seconds expires) override {
    return inner_->URLFor(path, method, expires);
  }

 private:
  const Status& Count(const char* op, const Status& s);
  std::unique_ptr<storage::BlobDriver> inner_;
  Metrics* metrics_;
};

}  // namespace dtr::proxy
