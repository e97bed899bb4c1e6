// Reading a driver's `storage: <driver>:` parameters (strings from config.yml) with errors
// that name the key: "storage.swift.chunksize: 'ten' is not a byte count".
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "core/status.h"

namespace dtr::storage {

class DriverParams {
 public:
  DriverParams(std::string driver, const std::map<std::string, std::string>& params)
      : driver_(std::move(driver)), params_(params) {}

  // The value, or nullptr when the key is absent.
  const std::string* Get(std::string_view key) const;
  // The value, or `def` when the key is absent or empty.
  std::string Text(std::string_view key, std::string def = "") const;
  // kInvalidArgument naming the key.
  Status Bad(std::string_view key, const std::string& why) const;
  Status Required(std::string_view key, const std::string& what) const;

  // Each leaves *out alone when the key is absent.
  Status Bool(std::string_view key, bool* out) const;
  Status Bytes(std::string_view key, uint64_t lo, uint64_t hi, uint64_t* out) const;
  Status Count(std::string_view key, int lo, int hi, int* out) const;
  // Go durations as distribution writes them: "30s", "500ms", "2m", "1m30s".
  Status Millis(std::string_view key, std::chrono::milliseconds* out) const;

 private:
  std::string driver_;
  const std::map<std::string, std::string>& params_;
};

// An http(s) URL without a trailing '/'; kInvalidArgument otherwise.
Status CheckHttpUrl(const DriverParams& p, std::string_view key, std::string* url);

}  // namespace dtr::storage
