#include "jobs/cron.h"

#include <gtest/gtest.h>

namespace dtr::jobs {
namespace {

int64_t At(int y, int mo, int d, int h, int mi, int s) {
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  return timegm(&tm);
}

TEST(CronTest, SixFieldsWithSeconds) {
  auto c = CronSchedule::Parse("0 0 1 * * 0");  // Sundays at 01:00:00 UTC (DTR's GC example)
  ASSERT_TRUE(c.ok()) << c.status().message();
  // 2026-11-27 is a Friday.
  EXPECT_EQ(c->Next(At(2026, 11, 27, 12, 0, 0)), At(2026, 11, 29, 1, 0, 0));
  auto every15 = CronSchedule::Parse("0 */15 * * * *");
  EXPECT_EQ(every15->Next(At(2026, 1, 1, 0, 7, 3)), At(2026, 1, 1, 0, 15, 0));
  auto secs = CronSchedule::Parse("57 54 3 * * *");
  EXPECT_EQ(secs->Next(At(2026, 1, 1, 3, 54, 57)), At(2026, 1, 2, 3, 54, 57));
  auto names = CronSchedule::Parse("0 0 0 1 jan-mar mon");
  ASSERT_TRUE(names.ok());
}

TEST(CronTest, Macros) {
  EXPECT_EQ(CronSchedule::Parse("@hourly")->Next(At(2026, 1, 1, 0, 30, 0)),
            At(2026, 1, 1, 1, 0, 0));
  EXPECT_EQ(CronSchedule::Parse("@daily")->Next(At(2026, 1, 1, 0, 0, 0)), At(2026, 1, 2, 0, 0, 0));
  EXPECT_EQ(CronSchedule::Parse("@monthly")->Next(At(2026, 1, 31, 0, 0, 0)),
            At(2026, 2, 1, 0, 0, 0));
  EXPECT_EQ(CronSchedule::Parse("@every 1m30s")->Next(100), 190);
}

TEST(CronTest, Errors) {
  for (const char* bad :
       {"", "* * * * *", "61 * * * * *", "0 0 25 * * *", "0 0 0 0 * *", "0 0 0 * 13 *",
        "a b c d e f", "*/0 * * * * *", "@every 5x", "@sometimes"}) {
    EXPECT_FALSE(CronSchedule::Parse(bad).ok()) << bad;
  }
  EXPECT_NE(CronSchedule::Parse("* * * * *").status().message().find("six fields"),
            std::string::npos);
}

TEST(CronTest, LeapDay) {
  auto c = CronSchedule::Parse("0 0 12 29 2 *");
  EXPECT_EQ(c->Next(At(2026, 1, 1, 0, 0, 0)), At(2028, 2, 29, 12, 0, 0));
}

}  // namespace
}  // namespace dtr::jobs
