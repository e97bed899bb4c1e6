// Instants as TUF metadata writes them: RFC 3339 with optional fractional seconds (what Go's
// time.Time marshals), compared and formatted in UTC.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace dtr::tuf {

struct Time {
  int64_t seconds = 0;  // since 1970-01-01T00:00:00Z
  int32_t nanos = 0;    // 0..999999999

  static Time Now();
  static Time FromUnix(int64_t s) { return Time{s, 0}; }
  Time AddSeconds(int64_t s) const { return Time{seconds + s, nanos}; }
  friend bool operator<(const Time& a, const Time& b) {
    return a.seconds != b.seconds ? a.seconds < b.seconds : a.nanos < b.nanos;
  }
  friend bool operator==(const Time& a, const Time& b) {
    return a.seconds == b.seconds && a.nanos == b.nanos;
  }
};

// "2006-01-02T15:04:05[.999999999](Z|+07:00)", as Go's time.Parse(time.RFC3339) accepts it.
Result<Time> ParseRfc3339(std::string_view text);
// Go's RFC3339Nano in UTC: trailing zeros of the fraction dropped ("...:05.1Z", "...:05Z").
std::string FormatRfc3339(Time t);
// "Mon, 02 Jan 2006 15:04:05 UTC", the Last-Modified format notary-server sends.
std::string FormatRfc1123(Time t);

}  // namespace dtr::tuf
