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
#include <vector>

namespace dtr::registry {

class GcGuard {
 public:
  // The digests one write relies on, pinned until the write is over: GC cannot doom a
  // pinned digest, and a pin released during a mark counts as a use for that mark (the
  // mark may have scanned storage before the write landed).
  class Pins {
   public:
    explicit Pins(GcGuard* guard) : guard_(guard) {}
    ~Pins();
    Pins(const Pins&) = delete;
    Pins& operator=(const Pins&) = delete;

   private:
    friend class GcGuard;
    GcGuard* guard_;
    std::vector<std::string> digests_;
  };

  // A write relies on `digest`. False when GC is deleting it.
  bool Use(const std::string& digest, Pins* pins);
  // Waits while GC deletes `digest`, then pins it.
  void UseAfterDelete(const std::string& digest, Pins* pins);

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
  std::unordered_multiset<std::string> pinned_;
};

}  // namespace dtr::registry
