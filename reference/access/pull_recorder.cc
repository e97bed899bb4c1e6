#include "access/pull_recorder.h"

#include <chrono>
#include <utility>

#include "app/log.h"

namespace dtr::access {

namespace {
constexpr size_t kMaxBatch = 8192;
constexpr std::chrono::milliseconds kGather{5};
constexpr int kAttempts = 5;
}  // namespace

PullRecorder::PullRecorder(meta::IdentityStore* identity,
                           std::function<void(const meta::Event&)> stored, size_t capacity)
    : identity_(identity), stored_(std::move(stored)), capacity_(capacity ? capacity : 1) {
  worker_ = std::thread([this] { Run(); });
}

PullRecorder::~PullRecorder() { Stop(); }

void PullRecorder::Add(meta::PullRecord pull) {
  std::unique_lock lock(mu_);
  if (stopping_) {
    lock.unlock();
    std::vector<meta::PullRecord> one;
    one.push_back(std::move(pull));
    Store(&one);
    return;
  }
  room_.wait(lock, [&] { return queue_.size() < capacity_ || stopping_; });
  queue_.push_back(std::move(pull));
  ++added_;
  // An idle worker is woken; a gathering or busy one takes this with its batch (a full
  // batch ends the gathering early).
  if (worker_idle_ || queue_.size() == kMaxBatch) work_.notify_one();
}

void PullRecorder::Flush() {
  std::unique_lock lock(mu_);
  uint64_t target = added_;
  if (finished_ >= target) return;
  ++flushing_;  // the worker stops gathering
  work_.notify_one();
  done_.wait(lock, [&] { return finished_ >= target; });
  --flushing_;
}

void PullRecorder::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  work_.notify_all();
  room_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void PullRecorder::Run() {
  std::unique_lock lock(mu_);
  while (true) {
    worker_idle_ = true;
    work_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    worker_idle_ = false;
    if (queue_.empty()) return;  // stopping, and everything is stored
    // Group commit: gather what arrives in the next moment into the same transaction, so
    // a busy registry pays one commit (and one disk flush) for many pulls.
    work_.wait_for(lock, kGather,
                   [&] { return stopping_ || flushing_ > 0 || queue_.size() >= kMaxBatch; });
    std::vector<meta::PullRecord> batch;
    while (!queue_.empty() && batch.size() < kMaxBatch) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    room_.notify_all();
    lock.unlock();
    Store(&batch);
    lock.lock();
    finished_ += batch.size();
    done_.notify_all();
  }
}

void PullRecorder::Store(std::vector<meta::PullRecord>* batch) {
  Status s;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(50 << attempt));
    s = identity_->RecordPulls(batch);
    if (s.ok()) break;
    for (auto& p : *batch) p.event.id = 0;  // the transaction rolled back
  }
  if (!s.ok()) {
    log::Warn(std::to_string(batch->size()) + " pull events not recorded: " + s.message());
    return;
  }
  if (stored_) {
    for (const auto& p : *batch) stored_(p.event);
  }
}

}  // namespace dtr::access
