// Cron schedules as DTR writes them: six fields with seconds first
// ("sec min hour day-of-month month day-of-week"), or @yearly, @monthly, @weekly, @daily,
// @midnight, @hourly, @every <duration>. Times are UTC. Pure: no clock, no I/O.
#pragma once

#include <bitset>
#include <chrono>
#include <string>

#include "core/status.h"

namespace dtr::jobs {

class CronSchedule {
 public:
  static Result<CronSchedule> Parse(const std::string& spec);
  // The first firing strictly after `after` (unix seconds, UTC); 0 if none within 5 years.
  int64_t Next(int64_t after) const;
  const std::string& spec() const { return spec_; }

 private:
  std::string spec_;
  int64_t every_ = 0;  // @every: period in seconds
  std::bitset<60> sec_, min_;
  std::bitset<24> hour_;
  std::bitset<32> dom_;
  std::bitset<13> month_;
  std::bitset<7> dow_;
  bool dom_star_ = true, dow_star_ = true;
};

}  // namespace dtr::jobs
