#include "stats.h"

#include <signal.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cmath>
#include <fstream>
#include <sstream>

namespace dtrb {

namespace {
constexpr size_t kBuckets = (64 - 7 + 1) << 7;
}

Histogram::Histogram() : buckets_(kBuckets, 0) {}

size_t Histogram::IndexOf(uint64_t v) {
  int msb = 63 - std::countl_zero(v | 1);
  if (msb < kSubBits) return static_cast<size_t>(v);
  int shift = msb - kSubBits;
  uint64_t top = v >> shift;  // in [2^kSubBits, 2^(kSubBits+1))
  return (static_cast<size_t>(shift + 1) << kSubBits) +
         static_cast<size_t>(top - (uint64_t{1} << kSubBits));
}

uint64_t Histogram::LowerBound(size_t index) {
  if (index < (size_t{1} << (kSubBits + 1))) return index;
  size_t shift = (index >> kSubBits) - 1;
  uint64_t top = (index & ((size_t{1} << kSubBits) - 1)) + (uint64_t{1} << kSubBits);
  return top << shift;
}

uint64_t Histogram::UpperBound(size_t index) {
  if (index < (size_t{1} << (kSubBits + 1))) return index;
  size_t shift = (index >> kSubBits) - 1;
  return LowerBound(index) + ((uint64_t{1} << shift) - 1);
}

void Histogram::Record(uint64_t ns) {
  ++buckets_[IndexOf(ns)];
  ++count_;
  sum_ += ns;
  if (ns < min_) min_ = ns;
  if (ns > max_) max_ = ns;
}

void Histogram::Merge(const Histogram& other) {
  for (size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  if (other.count_ > 0 && other.min_ < min_) min_ = other.min_;
  if (other.max_ > max_) max_ = other.max_;
}

uint64_t Histogram::Quantile(double q) const {
  if (count_ == 0) return 0;
  if (q <= 0) return min_;
  if (q >= 1) return max_;
  auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  if (rank == 0) rank = 1;
  uint64_t seen = 0;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= rank) {
      uint64_t lo = LowerBound(i), hi = UpperBound(i);
      uint64_t mid = lo + (hi - lo) / 2;
      if (mid < min_) mid = min_;
      if (mid > max_) mid = max_;
      return mid;
    }
  }
  return max_;
}

ProcSample SampleProcess(pid_t pid) {
  ProcSample s;
  std::string base = "/proc/" + std::to_string(pid);
  std::ifstream stat(base + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return s;
  size_t close = line.rfind(')');  // the command name may hold spaces and parentheses
  if (close == std::string::npos) return s;
  std::istringstream in(line.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  // After "pid (comm) ": state is field 3; utime and stime are fields 14 and 15.
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  static const long kTicks = sysconf(_SC_CLK_TCK);
  s.cpu_seconds = static_cast<double>(utime + stime) / static_cast<double>(kTicks);
  std::ifstream statm(base + "/statm");
  unsigned long long size = 0, resident = 0;
  if (statm >> size >> resident) {
    static const long kPage = sysconf(_SC_PAGESIZE);
    s.rss_bytes = resident * static_cast<unsigned long long>(kPage);
  }
  s.ok = true;
  return s;
}

bool ProcessExists(pid_t pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); }

}  // namespace dtrb
