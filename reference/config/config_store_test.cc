#include "config/config_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "config/watch_thread.h"

namespace dtr::config {
namespace {

TEST(PrefixEnd, IncrementsTheLastByteThatCan) {
  EXPECT_EQ(PrefixEnd("a/"), "a0");
  EXPECT_EQ(PrefixEnd("abc"), "abd");
  EXPECT_EQ(PrefixEnd(std::string("a\xff", 2)), "b");
  EXPECT_EQ(PrefixEnd(std::string("\xff\xff", 2)), "");
  EXPECT_EQ(PrefixEnd(""), "");
}

TEST(Validate, Limits) {
  EXPECT_TRUE(ValidateKey("").is(Code::kInvalidArgument));
  EXPECT_TRUE(ValidateKey(std::string(kMaxKeyBytes, 'k')).ok());
  EXPECT_TRUE(ValidateKey(std::string(kMaxKeyBytes + 1, 'k')).is(Code::kInvalidArgument));
  EXPECT_TRUE(ValidateValue("").ok());
  EXPECT_TRUE(ValidateValue(std::string(kMaxValueBytes, 'v')).ok());
  EXPECT_TRUE(ValidateValue(std::string(kMaxValueBytes + 1, 'v')).is(Code::kTooLarge));
}

TEST(WatchThread, CancelInterruptsABlockedLoopAndJoins) {
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<int> interrupts{0};
  WatchThread t(
      [&](const WatchControl& control) {
        std::unique_lock lock(mu);
        while (!control.cancelled()) cv.wait(lock);
      },
      [&] {
        ++interrupts;
        std::lock_guard lock(mu);
        cv.notify_all();
      });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  t.Cancel();
  EXPECT_GE(interrupts.load(), 1);
}

}  // namespace
}  // namespace dtr::config
