#include "storage/s3_config.h"

#include <cctype>

namespace dtr::storage {

namespace {

Status Bad(std::string_view driver, std::string_view key, const std::string& why) {
  return InvalidArgument("storage." + std::string(driver) + "." + std::string(key) + ": " + why);
}

Result<bool> ParseBool(std::string_view driver, std::string_view key, const std::string& v) {
  std::string l;
  for (char c : v) l.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (l == "true" || l == "yes" || l == "on" || l == "1") return true;
  if (l == "false" || l == "no" || l == "off" || l == "0") return false;
  return Bad(driver, key, "'" + v + "' is not a boolean");
}

// Go durations as distribution writes them: "30s", "500ms", "2m", "1m30s".
Result<std::chrono::milliseconds> ParseMillis(std::string_view driver, std::string_view key,
                                              const std::string& v) {
  if (v.empty()) return Bad(driver, key, "empty duration");
  int64_t total = 0;
  size_t i = 0;
  while (i < v.size()) {
    size_t start = i;
    int64_t n = 0;
    while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) {
      n = n * 10 + (v[i] - '0');
      if (n > 1000000000) return Bad(driver, key, "duration too long");
      ++i;
    }
    if (i == start) return Bad(driver, key, "'" + v + "' is not a duration like 30s");
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
      return Bad(driver, key, "unknown duration unit '" + unit + "'");
    }
  }
  if (total <= 0) return Bad(driver, key, "must be positive");
  return std::chrono::milliseconds(total);
}

bool ValidRegion(const std::string& r) {
  if (r.empty() || r.size() > 64) return false;
  for (char c : r) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '_')) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string S3Config::Host() const {
  auto p = endpoint.find("://");
  std::string host = p == std::string::npos ? endpoint : endpoint.substr(p + 3);
  return path_style ? host : bucket + "." + host;
}

Result<uint64_t> ParseByteCount(std::string_view key, const std::string& value) {
  if (value.empty() || value.size() > 19) {
    return InvalidArgument(std::string(key) + ": '" + value + "' is not a byte count");
  }
  uint64_t v = 0;
  for (char c : value) {
    if (c < '0' || c > '9') {
      return InvalidArgument(std::string(key) + ": '" + value + "' is not a byte count");
    }
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

Result<S3Config> ParseS3Config(std::string_view driver,
                               const std::map<std::string, std::string>& params) {
  S3Config c;
  bool cleversafe = driver == "cleversafe";
  c.driver = cleversafe ? "cleversafe" : "s3";
  if (cleversafe) {
    c.region = "us-standard";
    c.storage_class = "";
  }
  auto get = [&](const char* k) -> const std::string* {
    auto it = params.find(k);
    return it == params.end() ? nullptr : &it->second;
  };
  auto flag = [&](const char* k, bool* out) -> Status {
    if (const std::string* v = get(k)) {
      auto b = ParseBool(c.driver, k, *v);
      if (!b.ok()) return b.status();
      *out = *b;
    }
    return Status::Ok();
  };
  auto bytes = [&](const char* k, uint64_t* out) -> Status {
    if (const std::string* v = get(k)) {
      auto n = ParseByteCount("storage." + c.driver + "." + k, *v);
      if (!n.ok()) return n.status();
      *out = *n;
    }
    return Status::Ok();
  };
  auto millis = [&](const char* k, std::chrono::milliseconds* out) -> Status {
    if (const std::string* v = get(k)) {
      auto d = ParseMillis(c.driver, k, *v);
      if (!d.ok()) return d.status();
      *out = *d;
    }
    return Status::Ok();
  };
  auto count = [&](const char* k, int lo, int hi, int* out) -> Status {
    if (const std::string* v = get(k)) {
      auto n = ParseByteCount("storage." + c.driver + "." + k, *v);
      if (!n.ok() || *n < static_cast<uint64_t>(lo) || *n > static_cast<uint64_t>(hi)) {
        return Bad(c.driver, k,
                   "must be a number from " + std::to_string(lo) + " to " + std::to_string(hi));
      }
      *out = static_cast<int>(*n);
    }
    return Status::Ok();
  };

  if (const std::string* v = get("accesskey")) c.access_key = *v;
  if (const std::string* v = get("secretkey")) c.secret_key = *v;
  if (const std::string* v = get("sessiontoken")) c.session_token = *v;
  if (c.access_key.empty() != c.secret_key.empty()) {
    return Bad(c.driver, c.access_key.empty() ? "accesskey" : "secretkey",
               "accesskey and secretkey go together");
  }
  if (c.access_key.empty()) {
    return Bad(c.driver, "accesskey",
               "required (this driver does not read instance or environment credentials)");
  }
  if (const std::string* v = get("region")) c.region = *v;
  if (!ValidRegion(c.region)) {
    return Bad(c.driver, "region", "'" + c.region + "' is not a region name");
  }
  if (const std::string* v = get("bucket")) c.bucket = *v;
  if (c.bucket.empty()) return Bad(c.driver, "bucket", "required");
  if (c.bucket.find('/') != std::string::npos) return Bad(c.driver, "bucket", "must not hold '/'");

  bool secure = true;
  if (Status s = flag("secure", &secure); !s.ok()) return s;
  if (Status s = flag("skipverify", &c.skip_verify); !s.ok()) return s;
  if (const std::string* v = get("v4auth")) {
    auto b = ParseBool(c.driver, "v4auth", *v);
    if (!b.ok()) return b.status();
    if (!*b)
      return Bad(c.driver, "v4auth", "signature version 2 is not supported; use v4auth: true");
  }
  std::string endpoint;
  if (const std::string* v = get("regionendpoint")) endpoint = *v;
  bool custom_endpoint = !endpoint.empty();
  if (!custom_endpoint) {
    if (cleversafe) {
      return Bad(c.driver, "regionendpoint",
                 "required: the IBM Cloud Object Storage (Cleversafe) endpoint, e.g. "
                 "https://s3.us.cloud-object-storage.appdomain.cloud");
    }
    endpoint = "s3." + c.region + ".amazonaws.com";
  }
  if (endpoint.find("://") == std::string::npos) {
    endpoint = (secure ? "https://" : "http://") + endpoint;
  }
  if (endpoint.rfind("http://", 0) != 0 && endpoint.rfind("https://", 0) != 0) {
    return Bad(c.driver, "regionendpoint", "'" + endpoint + "' must be an http:// or https:// URL");
  }
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  if (endpoint.find('/', endpoint.find("://") + 3) != std::string::npos) {
    return Bad(c.driver, "regionendpoint", "'" + endpoint + "' must not have a path");
  }
  c.endpoint = endpoint;
  // Custom endpoints (MinIO, Swift, COS) want path-style; AWS itself virtual-hosted.
  c.path_style = cleversafe || custom_endpoint;
  if (!cleversafe) {
    if (Status s = flag("forcepathstyle", &c.path_style); !s.ok()) return s;
  } else if (const std::string* v = get("forcepathstyle")) {
    auto b = ParseBool(c.driver, "forcepathstyle", *v);
    if (!b.ok()) return b.status();
    if (!*b) return Bad(c.driver, "forcepathstyle", "cleversafe always uses path-style addressing");
  }

  if (const std::string* v = get("rootdirectory")) {
    std::string r = *v;
    while (!r.empty() && r.front() == '/') r.erase(r.begin());
    while (!r.empty() && r.back() == '/') r.pop_back();
    c.root = r;
  }
  if (Status s = flag("encrypt", &c.encrypt); !s.ok()) return s;
  if (const std::string* v = get("keyid")) c.kms_key_id = *v;
  if (const std::string* v = get("storageclass")) {
    c.storage_class = *v == "NONE" ? "" : *v;
  }
  if (Status s = bytes("chunksize", &c.chunk_size); !s.ok()) return s;
  if (c.chunk_size < kS3MinPartSize || c.chunk_size > kS3MaxPartSize) {
    return Bad(c.driver, "chunksize", "must be from 5242880 (5 MiB) to 5 GiB");
  }
  if (Status s = bytes("multipartcopychunksize", &c.copy_chunk_size); !s.ok()) return s;
  if (c.copy_chunk_size < kS3MinPartSize || c.copy_chunk_size > kS3MaxPartSize) {
    return Bad(c.driver, "multipartcopychunksize", "must be from 5242880 (5 MiB) to 5 GiB");
  }
  if (Status s = bytes("multipartcopythresholdsize", &c.copy_threshold); !s.ok()) return s;
  if (c.copy_threshold > kS3MaxPartSize) {
    return Bad(c.driver, "multipartcopythresholdsize", "must be at most 5 GiB");
  }
  if (Status s = count("multipartcopymaxconcurrency", 1, 100, &c.copy_concurrency); !s.ok()) {
    return s;
  }
  if (Status s = count("uploadconcurrency", 1, 16, &c.upload_concurrency); !s.ok()) return s;
  if (Status s = count("maxretries", 0, 20, &c.max_retries); !s.ok()) return s;
  if (Status s = flag("delimiterlisting", &c.delimiter_listing); !s.ok()) return s;
  if (Status s = flag("unsignedpayload", &c.unsigned_payload); !s.ok()) return s;
  if (Status s = millis("connecttimeout", &c.connect_timeout); !s.ok()) return s;
  if (Status s = millis("requesttimeout", &c.request_timeout); !s.ok()) return s;
  return c;
}

}  // namespace dtr::storage
