// Cron schedules: parsing, and the next firing is always in the future.
#include <cstdint>
#include <string>

#include "jobs/cron.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string s(reinterpret_cast<const char*>(data), size);
  auto c = dtr::jobs::CronSchedule::Parse(s);
  if (c.ok()) {
    int64_t now = 1795000000;
    int64_t next = c->Next(now);
    if (next != 0 && next <= now) __builtin_trap();
  }
  return 0;
}
