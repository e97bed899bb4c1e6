#include "config/watch_thread.h"

namespace dtr::config {

WatchThread::WatchThread(Loop loop, std::function<void()> interrupt)
    : control_(std::make_shared<WatchControl>()), interrupt_(std::move(interrupt)) {
  // The thread owns the loop and shares the control block, so a watch cancelled (and
  // destroyed) from inside its own callback finishes safely after the handle is gone.
  thread_ = std::thread([control = control_, loop = std::move(loop)] {
    loop(*control);
    std::lock_guard lock(control->mu_);
    control->done_ = true;
    control->cv_.notify_all();
  });
}

WatchThread::~WatchThread() { Cancel(); }

void WatchThread::Cancel() {
  if (!thread_.joinable()) return;
  control_->cancelled_.store(true, std::memory_order_release);
  if (std::this_thread::get_id() == thread_.get_id()) {
    thread_.detach();
    return;
  }
  std::unique_lock lock(control_->mu_);
  while (!control_->done_) {
    lock.unlock();
    if (interrupt_) interrupt_();
    lock.lock();
    control_->cv_.wait_for(lock, std::chrono::milliseconds(20), [&] { return control_->done_; });
  }
  lock.unlock();
  thread_.join();
}

}  // namespace dtr::config
