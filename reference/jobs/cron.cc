#include "jobs/cron.h"

#include <ctime>
#include <sstream>
#include <vector>

namespace dtr::jobs {

namespace {

// Parses one field ("*", "*/5", "1,2,10-20/2", names for month and weekday) into bits.
template <size_t N>
Status ParseField(const std::string& field, int lo, int hi, std::bitset<N>* bits, bool* star,
                  const char* what) {
  static const char* kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                  "jul", "aug", "sep", "oct", "nov", "dec"};
  static const char* kDays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  auto number = [&](std::string s, int* out) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (std::string(what) == "month") {
      for (int i = 0; i < 12; ++i) {
        if (s == kMonths[i]) return *out = i + 1, true;
      }
    }
    if (std::string(what) == "day-of-week") {
      for (int i = 0; i < 7; ++i) {
        if (s == kDays[i]) return *out = i, true;
      }
    }
    if (s.empty() || s.size() > 4 || s.find_first_not_of("0123456789") != std::string::npos) {
      return false;
    }
    *out = std::stoi(s);
    return true;
  };
  if (star) *star = field == "*" || field == "?";
  std::stringstream ss(field);
  std::string part;
  while (std::getline(ss, part, ',')) {
    int step = 1;
    if (auto slash = part.find('/'); slash != std::string::npos) {
      if (!number(part.substr(slash + 1), &step) || step <= 0) {
        return InvalidArgument(std::string("bad step in the ") + what + " field: " + part);
      }
      part = part.substr(0, slash);
    }
    int a = lo, b = hi;
    if (part != "*" && part != "?") {
      auto dash = part.find('-');
      if (!number(part.substr(0, dash), &a)) {
        return InvalidArgument(std::string("bad value in the ") + what + " field: " + part);
      }
      b = a;
      if (dash != std::string::npos && !number(part.substr(dash + 1), &b)) {
        return InvalidArgument(std::string("bad range in the ") + what + " field: " + part);
      }
      if (dash == std::string::npos && field.find('/') != std::string::npos) b = hi;
    }
    if (std::string(what) == "day-of-week" && b == 7) b = 6, a = a == 7 ? 0 : a;
    if (a < lo || b > hi || a > b) {
      return InvalidArgument(std::string("the ") + what + " field must be within " +
                             std::to_string(lo) + "-" + std::to_string(hi) + ": " + field);
    }
    for (int v = a; v <= b; v += step) bits->set(static_cast<size_t>(v));
  }
  return Status::Ok();
}

}  // namespace

Result<CronSchedule> CronSchedule::Parse(const std::string& spec) {
  CronSchedule c;
  c.spec_ = spec;
  std::string s = spec;
  if (s.rfind("@every ", 0) == 0) {
    std::string d = s.substr(7);
    int64_t total = 0;
    size_t i = 0;
    while (i < d.size()) {
      size_t j = i;
      while (j < d.size() && std::isdigit(static_cast<unsigned char>(d[j]))) ++j;
      if (j == i || j >= d.size()) return InvalidArgument("bad @every duration: " + d);
      // At most ten years in any unit: no overflow below, and nothing sensible is longer.
      constexpr int64_t kMaxSeconds = int64_t{10} * 366 * 86400;
      if (j - i > 9) return InvalidArgument("@every duration too long: " + d);
      int64_t n = std::stoll(d.substr(i, j - i));
      char u = d[j];
      if (u != 'h' && u != 'm' && u != 's') return InvalidArgument("bad @every unit: " + d);
      total += u == 'h' ? n * 3600 : u == 'm' ? n * 60 : n;
      if (total > kMaxSeconds) return InvalidArgument("@every duration too long: " + d);
      i = j + 1;
    }
    if (total <= 0) return InvalidArgument("@every needs a positive duration");
    c.every_ = total;
    return c;
  }
  if (s == "@yearly" || s == "@annually") s = "0 0 0 1 1 *";
  if (s == "@monthly") s = "0 0 0 1 * *";
  if (s == "@weekly") s = "0 0 0 * * 0";
  if (s == "@daily" || s == "@midnight") s = "0 0 0 * * *";
  if (s == "@hourly") s = "0 0 * * * *";
  std::vector<std::string> f;
  std::stringstream ss(s);
  for (std::string x; ss >> x;) f.push_back(x);
  if (f.size() != 6) {
    return InvalidArgument("schedule '" + spec +
                           "' must have six fields: seconds minutes hours day-of-month month "
                           "day-of-week (or @hourly, @daily, ...)");
  }
  Status st;
  if (!(st = ParseField(f[0], 0, 59, &c.sec_, nullptr, "seconds")).ok()) return st;
  if (!(st = ParseField(f[1], 0, 59, &c.min_, nullptr, "minutes")).ok()) return st;
  if (!(st = ParseField(f[2], 0, 23, &c.hour_, nullptr, "hours")).ok()) return st;
  if (!(st = ParseField(f[3], 1, 31, &c.dom_, &c.dom_star_, "day-of-month")).ok()) return st;
  if (!(st = ParseField(f[4], 1, 12, &c.month_, nullptr, "month")).ok()) return st;
  if (!(st = ParseField(f[5], 0, 6, &c.dow_, &c.dow_star_, "day-of-week")).ok()) return st;
  return c;
}

int64_t CronSchedule::Next(int64_t after) const {
  if (every_) return after + every_;
  int64_t t = after + 1;
  const int64_t limit = after + int64_t{5} * 366 * 86400;
  while (t < limit) {
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm;
    gmtime_r(&tt, &tm);
    if (!month_[static_cast<size_t>(tm.tm_mon + 1)]) {
      // Jump to the first second of the next month.
      tm.tm_mon += 1;
      tm.tm_mday = 1;
      tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
      t = timegm(&tm);
      continue;
    }
    bool dom_ok = dom_[static_cast<size_t>(tm.tm_mday)];
    bool dow_ok = dow_[static_cast<size_t>(tm.tm_wday)];
    // As in Vixie cron: when both day fields are restricted, either may match.
    bool day_ok = dom_star_ || dow_star_ ? (dom_ok && dow_ok) : (dom_ok || dow_ok);
    if (!day_ok) {
      tm.tm_mday += 1;
      tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
      t = timegm(&tm);
      continue;
    }
    if (!hour_[static_cast<size_t>(tm.tm_hour)]) {
      tm.tm_hour += 1;
      tm.tm_min = tm.tm_sec = 0;
      t = timegm(&tm);
      continue;
    }
    if (!min_[static_cast<size_t>(tm.tm_min)]) {
      tm.tm_min += 1;
      tm.tm_sec = 0;
      t = timegm(&tm);
      continue;
    }
    if (!sec_[static_cast<size_t>(tm.tm_sec)]) {
      t += 1;
      continue;
    }
    return t;
  }
  return 0;
}

}  // namespace dtr::jobs
