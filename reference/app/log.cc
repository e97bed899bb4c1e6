#include "app/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace dtr::log {

namespace {
std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
const char* Name(Level l) {
  switch (l) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    default:
      return "error";
  }
}
}  // namespace

void SetLevel(const std::string& name) {
  Level l = Level::kInfo;
  if (name == "debug") l = Level::kDebug;
  if (name == "warn" || name == "warning") l = Level::kWarn;
  if (name == "error") l = Level::kError;
  g_level.store(static_cast<int>(l));
}

bool Enabled(Level level) { return static_cast<int>(level) >= g_level.load(); }

void Write(Level level, const std::string& message) {
  if (!Enabled(level)) return;
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm;
  gmtime_r(&t, &tm);
  char ts[32];
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
  std::fprintf(stderr, "%s.%03dZ %s %s\n", ts, static_cast<int>(ms.count()), Name(level),
               message.c_str());
}

}  // namespace dtr::log
