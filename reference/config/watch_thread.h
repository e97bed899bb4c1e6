// The thread behind a ConfigWatch, shared by the backends: it runs a backend's delivery loop
// and gives Cancel its promise (once Cancel returns, no callback runs) without deadlocking
// when a callback cancels its own watch.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "config/config_store.h"

namespace dtr::config {

// What a delivery loop sees: whether to stop. It checks after every callback and every wait.
class WatchControl {
 public:
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }

 private:
  friend class WatchThread;
  std::atomic<bool> cancelled_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
};

class WatchThread final : public ConfigWatch {
 public:
  using Loop = std::function<void(const WatchControl&)>;
  // Runs `loop` on a new thread. `interrupt` must make a blocked loop notice cancellation (wake
  // its wait, abort its connection); Cancel calls it repeatedly until the loop has returned,
  // so it may race with the loop starting a new wait.
  WatchThread(Loop loop, std::function<void()> interrupt);
  ~WatchThread() override;
  void Cancel() override;

 private:
  std::shared_ptr<WatchControl> control_;
  std::function<void()> interrupt_;
  std::thread thread_;
};

}  // namespace dtr::config
