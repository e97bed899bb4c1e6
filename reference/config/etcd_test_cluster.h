// Real etcd for tests: starts members with ci/start-etcd in a fresh directory (on /dev/shm
// when there is one, so fsync does not slow the fast election timers), stops them with
// ci/stop-etcd, kills one to simulate a crash, and finds the leader.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace dtr::config::testing {

class EtcdTestCluster {
 public:
  // Fails with a message naming ci/start-etcd when etcd cannot be started.
  static Result<std::unique_ptr<EtcdTestCluster>> Start(int members);
  ~EtcdTestCluster();

  const std::vector<std::string>& endpoints() const { return endpoints_; }
  // SIGKILLs member `i` (a crash: no clean shutdown).
  Status Kill(int i);
  // The index of the member that is the leader now, asked of a live member.
  Result<int> Leader() const;
  // Compacts the history up to `revision` (POST /v3/kv/compaction).
  Status Compact(int64_t revision) const;

 private:
  std::string dir_;
  std::vector<std::string> endpoints_;
  std::vector<bool> alive_;
};

}  // namespace dtr::config::testing
