// GcGuard: how online garbage collection and concurrent writes stay out of each other's
// way. Writes announce the content they rely on (Use); GC may delete a blob only after it
// wins Doom for it, which fails for anything used since the current mark began. A write
// that finds a blob doomed treats it as missing (the client uploads it again); an upload
// that completes a doomed blob waits until the deletion is over, then writes it afresh.
// In process; replicas sharing one store would keep this state in the metadata database.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace dtr::registry {

class GcGuard {
 public:
  // A write relies on `digest`. False when GC is deleting it.
  bool Use(const std::string& digest);
  // Waits while GC deletes `digest`, then records the use.
  void UseAfterDelete(const std::string& digest);

  // GC side.
  void BeginMark();
  bool Doom(const std::string& digest);
  void Done(const std::string& digest);
  void End();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool marking_ = false;
  std::unordered_set<std::string> used_;  // since BeginMark
  std::unordered_set<std::string> doomed_;
};

}  // namespace dtr::registry
