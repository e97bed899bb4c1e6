// The suite every ConfigStore must pass (the pattern of distribution's storage driver
// testsuites): CRUD, versions, compare-and-swap (including many threads racing), listing by
// prefix, watch (order, history, cancel), large values and odd keys.
//
// A backend's test instantiates it with a factory:
//   INSTANTIATE_TEST_SUITE_P(Sqlite, ConfigStoreSuite,
//                            ::testing::Values(StoreFactory{"sqlite", MakeSqlite}),
//                            StoreFactoryName);
// Every test keeps to keys under its own random prefix, so stores from one factory may share
// one backend (one etcd cluster for the whole run).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

#include "config/config_store.h"

namespace dtr::config::testing {

struct StoreFactory {
  std::string name;
  std::function<Result<std::unique_ptr<ConfigStore>>()> make;
};

std::string StoreFactoryName(const ::testing::TestParamInfo<StoreFactory>& info);
inline void PrintTo(const StoreFactory& f, std::ostream* os) { *os << f.name; }

// Collects a watch's changes for assertions.
class ChangeLog {
 public:
  WatchCallback Callback();
  WatchEndCallback EndCallback();
  // Waits until at least `n` changes arrived; false on timeout.
  bool WaitFor(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  bool WaitForEnd(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  std::vector<ConfigChange> changes() const;
  size_t size() const;
  Status end_status() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<ConfigChange> changes_;
  bool ended_ = false;
  Status end_;
};

class ConfigStoreSuite : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override;
  // A key under this test's own prefix.
  std::string Key(std::string_view suffix) const { return prefix_ + std::string(suffix); }

  std::unique_ptr<ConfigStore> store_;
  std::string prefix_;
};

// A random prefix for keys of one test ("t<hex>/").
std::string UniquePrefix();

}  // namespace dtr::config::testing
