// EtcdConfigStore: the ConfigStore on an etcd v3 cluster (DTR's dtr-etcd), through etcd's
// JSON gateway over HTTP. Versions are etcd's revisions (a key's version is its mod_revision);
// compare-and-swap is a transaction on mod_revision; reads are linearizable.
//
// It talks to one member at a time and moves to the next when that one is down or has no
// leader, within `operation_timeout`. A write that may have reached etcd is retried only when
// retrying cannot change its meaning (put, unconditional delete); a compare-and-swap whose
// answer was lost ends with kUnavailable ("outcome unknown"), so the caller re-reads. Watches
// are HTTP streams that reconnect, to the next member, from the revision after the last one
// delivered.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/config_store.h"

namespace httplib {
class Client;
}

namespace dtr::config {

class WatchControl;

struct EtcdOptions {
  std::vector<std::string> endpoints;  // client URLs, e.g. "http://127.0.0.1:2379"
  std::chrono::milliseconds connect_timeout{500};
  std::chrono::milliseconds request_timeout{2000};      // one request to one member
  std::chrono::milliseconds operation_timeout{10000};   // every try of one operation
  std::chrono::milliseconds watch_idle_timeout{60000};  // a silent watch stream is reopened
  std::chrono::milliseconds watch_retry_interval{50};   // first pause between reconnects
};

// Counters for tests and metrics.
struct EtcdStats {
  uint64_t requests = 0;
  uint64_t failovers = 0;         // a request moved on to another member
  uint64_t watch_reconnects = 0;  // a watch stream was reopened
};

class EtcdConfigStore final : public ConfigStore {
 public:
  // Checks the options; connects lazily.
  static Result<std::unique_ptr<EtcdConfigStore>> Open(EtcdOptions options);
  ~EtcdConfigStore() override;

  Result<ConfigEntry> Get(std::string_view key) override;
  Result<int64_t> Put(std::string_view key, std::string_view value) override;
  Result<int64_t> CompareAndSwap(std::string_view key, int64_t expected_version,
                                 std::string_view value,
                                 int64_t* current_version = nullptr) override;
  Result<int64_t> Delete(std::string_view key,
                         std::optional<int64_t> expected_version = std::nullopt) override;
  Result<ConfigListing> List(std::string_view prefix) override;
  Result<std::unique_ptr<ConfigWatch>> Watch(std::string_view prefix, int64_t from_version,
                                             WatchCallback on_change,
                                             WatchEndCallback on_end = nullptr) override;
  std::string Describe() const override;

  EtcdStats stats() const;

 private:
  enum class Retry { kAlways, kIfNotSent };
  struct WatchStream;
  explicit EtcdConfigStore(EtcdOptions options);
  // POSTs `body` to `path` on a member, moving through members as `retry` allows. Sets
  // `*maybe_applied` when an earlier try may have taken effect.
  Result<std::string> Call(const char* path, const std::string& body, Retry retry,
                           bool* maybe_applied = nullptr);
  Result<int64_t> ConditionalWrite(std::string_view key, int64_t expected,
                                   std::optional<std::string_view> value, int64_t* current);
  std::unique_ptr<httplib::Client> NewClient(size_t endpoint,
                                             std::chrono::milliseconds read_timeout) const;
  std::unique_ptr<httplib::Client> Acquire(size_t endpoint);
  void Release(size_t endpoint, std::unique_ptr<httplib::Client> c);
  void WatchLoop(WatchStream& w, const WatchControl& control);

  EtcdOptions options_;
  std::atomic<size_t> preferred_{0};
  std::mutex pool_mu_;
  std::vector<std::vector<std::unique_ptr<httplib::Client>>> idle_;  // per endpoint
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> failovers_{0};
  std::atomic<uint64_t> watch_reconnects_{0};
};

}  // namespace dtr::config
