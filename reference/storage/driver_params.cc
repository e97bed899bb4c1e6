#include "storage/driver_params.h"

#include <cctype>

namespace dtr::storage {

const std::string* DriverParams::Get(std::string_view key) const {
  auto it = params_.find(std::string(key));
  return it == params_.end() ? nullptr : &it->second;
}

std::string DriverParams::Text(std::string_view key, std::string def) const {
  const std::string* v = Get(key);
  return v == nullptr || v->empty() ? def : *v;
}

Status DriverParams::Bad(std::string_view key, const std::string& why) const {
  return InvalidArgument("storage." + driver_ + "." + std::string(key) + ": " + why);
}

Status DriverParams::Required(std::string_view key, const std::string& what) const {
  return Bad(key, "required (" + what + ")");
}

Status DriverParams::Bool(std::string_view key, bool* out) const {
  const std::string* v = Get(key);
  if (v == nullptr) return Status::Ok();
  std::string l;
  for (char c : *v) l.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (l == "true" || l == "yes" || l == "on" || l == "1") {
    *out = true;
  } else if (l == "false" || l == "no" || l == "off" || l == "0") {
    *out = false;
  } else {
    return Bad(key, "'" + *v + "' is not a boolean");
  }
  return Status::Ok();
}

Status DriverParams::Bytes(std::string_view key, uint64_t lo, uint64_t hi, uint64_t* out) const {
  const std::string* v = Get(key);
  if (v == nullptr) return Status::Ok();
  if (v->empty() || v->size() > 19) return Bad(key, "'" + *v + "' is not a byte count");
  uint64_t n = 0;
  for (char c : *v) {
    if (c < '0' || c > '9') return Bad(key, "'" + *v + "' is not a byte count");
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  if (n < lo || n > hi) {
    return Bad(key, "must be from " + std::to_string(lo) + " to " + std::to_string(hi));
  }
  *out = n;
  return Status::Ok();
}

Status DriverParams::Count(std::string_view key, int lo, int hi, int* out) const {
  uint64_t n = static_cast<uint64_t>(*out);
  if (Status s = Bytes(key, static_cast<uint64_t>(lo), static_cast<uint64_t>(hi), &n); !s.ok()) {
    return s;
  }
  *out = static_cast<int>(n);
  return Status::Ok();
}

Status DriverParams::Millis(std::string_view key, std::chrono::milliseconds* out) const {
  const std::string* p = Get(key);
  if (p == nullptr) return Status::Ok();
  const std::string& v = *p;
  if (v.empty()) return Bad(key, "empty duration");
  int64_t total = 0;
  size_t i = 0;
  while (i < v.size()) {
    size_t start = i;
    int64_t n = 0;
    while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) {
      n = n * 10 + (v[i] - '0');
      if (n > 1000000000) return Bad(key, "duration too long");
      ++i;
    }
    if (i == start) return Bad(key, "'" + v + "' is not a duration like 30s");
    size_t us = i;
    while (i < v.size() && std::isalpha(static_cast<unsigned char>(v[i]))) ++i;
    std::string unit = v.substr(us, i - us);
    if (unit == "ms") {
      total += n;
    } else if (unit == "s" || unit.empty()) {
      total += n * 1000;
    } else if (unit == "m") {
      total += n * 60000;
    } else if (unit == "h") {
      total += n * 3600000;
    } else {
      return Bad(key, "unknown duration unit '" + unit + "'");
    }
  }
  if (total <= 0) return Bad(key, "must be positive");
  *out = std::chrono::milliseconds(total);
  return Status::Ok();
}

Status CheckHttpUrl(const DriverParams& p, std::string_view key, std::string* url) {
  while (!url->empty() && url->back() == '/') url->pop_back();
  if (url->rfind("http://", 0) != 0 && url->rfind("https://", 0) != 0) {
    return p.Bad(key, "'" + *url + "' must be an http:// or https:// URL");
  }
  size_t host = url->find("://") + 3;
  if (host >= url->size() || (*url)[host] == '/') return p.Bad(key, "'" + *url + "' has no host");
  return Status::Ok();
}

}  // namespace dtr::storage
