#include "registry/gc_guard.h"

namespace dtr::registry {

GcGuard::Pins::~Pins() {
  std::lock_guard lock(guard_->mu_);
  for (const auto& d : digests_) {
    auto it = guard_->pinned_.find(d);
    if (it != guard_->pinned_.end()) guard_->pinned_.erase(it);
    if (guard_->marking_) guard_->used_.insert(d);
  }
}

bool GcGuard::Use(const std::string& digest, Pins* pins) {
  std::lock_guard lock(mu_);
  if (doomed_.count(digest)) return false;
  if (marking_) used_.insert(digest);
  pinned_.insert(digest);
  pins->digests_.push_back(digest);
  return true;
}

void GcGuard::UseAfterDelete(const std::string& digest, Pins* pins) {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return doomed_.count(digest) == 0; });
  if (marking_) used_.insert(digest);
  pinned_.insert(digest);
  pins->digests_.push_back(digest);
}

void GcGuard::BeginMark() {
  std::lock_guard lock(mu_);
  marking_ = true;
  used_.clear();
}

bool GcGuard::Doom(const std::string& digest) {
  std::lock_guard lock(mu_);
  if (used_.count(digest) || pinned_.count(digest)) return false;
  doomed_.insert(digest);
  return true;
}

void GcGuard::Done(const std::string& digest) {
  {
    std::lock_guard lock(mu_);
    doomed_.erase(digest);
  }
  cv_.notify_all();
}

void GcGuard::End() {
  std::lock_guard lock(mu_);
  marking_ = false;
  used_.clear();
}

}  // namespace dtr::registry
