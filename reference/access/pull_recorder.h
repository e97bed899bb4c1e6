// PullRecorder: counts pulls and records their events off the request path. A manifest GET
// hands its PullRecord over and returns; one worker thread gathers what arrives within a few
// milliseconds and stores it in one transaction, so many pulls share one commit and one
// disk flush instead of paying one each. Nothing is
// dropped: when the queue is full, Add waits for room. Flush waits until everything added
// before it is stored (for readers that must see their own pulls, such as the events API);
// Stop stores the rest and ends the worker, after which Add stores synchronously.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "meta/identity_store.h"

namespace dtr::access {

class PullRecorder {
 public:
  // `stored` is told about every event once it is stored (from the worker thread).
  PullRecorder(meta::IdentityStore* identity, std::function<void(const meta::Event&)> stored,
               size_t capacity = 32768);
  ~PullRecorder();
  PullRecorder(const PullRecorder&) = delete;
  PullRecorder& operator=(const PullRecorder&) = delete;

  void Add(meta::PullRecord pull);
  void Flush();
  void Stop();

 private:
  void Run();
  void Store(std::vector<meta::PullRecord>* batch);

  meta::IdentityStore* identity_;
  std::function<void(const meta::Event&)> stored_;
  size_t capacity_;

  std::mutex mu_;
  std::condition_variable work_;  // the worker waits for pulls (or Stop)
  std::condition_variable room_;  // Add waits for room in the queue
  std::condition_variable done_;  // Flush waits for `finished_`
  std::deque<meta::PullRecord> queue_;
  uint64_t added_ = 0;     // pulls handed to the worker so far
  uint64_t finished_ = 0;  // of those, how many it has dealt with (stored or given up on)
  bool stopping_ = false;
  bool worker_idle_ = false;  // waiting on work_ for a first pull (then Add wakes it)
  int flushing_ = 0;          // Flush callers waiting: the worker does not gather
  std::thread worker_;
};

}  // namespace dtr::access
