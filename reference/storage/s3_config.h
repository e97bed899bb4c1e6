// Settings of the S3 driver, from the `storage: s3:` (or `cleversafe:`) parameters of CNCF
// distribution's config.yml: accesskey, secretkey, sessiontoken, region, regionendpoint,
// bucket, forcepathstyle, secure, skipverify, v4auth, rootdirectory, encrypt, keyid,
// storageclass, chunksize, multipartcopychunksize, multipartcopymaxconcurrency,
// multipartcopythresholdsize. Our own additions (not in distribution): connecttimeout,
// requesttimeout (Go durations), maxretries, uploadconcurrency, unsignedpayload, and
// delimiterlisting=false for stores whose delimiter listings are incomplete (s3rver).
// `cleversafe` (IBM Cloud Object Storage) is the same driver with its own defaults: the
// endpoint is mandatory, addressing is path-style, the region is an IBM COS one
// (us-standard by default) and no storage class header is sent unless asked for.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "core/status.h"

namespace dtr::storage {

struct S3Config {
  std::string driver = "s3";  // the name the driver reports: "s3" or "cleversafe"
  std::string access_key;
  std::string secret_key;
  std::string session_token;
  std::string region = "us-east-1";
  std::string bucket;
  std::string endpoint;  // scheme://host[:port], no trailing slash
  bool path_style = true;
  bool skip_verify = false;
  std::string root;  // key prefix without leading or trailing '/', "" for the bucket root
  bool encrypt = false;
  std::string kms_key_id;
  std::string storage_class = "STANDARD";  // "" sends none
  uint64_t chunk_size = 10u << 20;
  uint64_t copy_chunk_size = 32u << 20;
  uint64_t copy_threshold = 32u << 20;
  int copy_concurrency = 4;
  int upload_concurrency = 3;
  bool delimiter_listing = true;
  bool unsigned_payload = false;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{60000};
  int max_retries = 4;

  // The host[:port] requests go to (with the bucket in front for virtual-hosted style).
  std::string Host() const;
  bool secure() const { return endpoint.rfind("https://", 0) == 0; }
};

// S3's limits on multipart uploads.
inline constexpr uint64_t kS3MinPartSize = 5u << 20;
inline constexpr uint64_t kS3MaxPartSize = 5ull << 30;
inline constexpr int kS3MaxParts = 10000;

// `driver` is "s3", "s3aws" or "cleversafe"; errors name the offending key.
Result<S3Config> ParseS3Config(std::string_view driver,
                               const std::map<std::string, std::string>& params);

// "10MiB"-style sizes are not in distribution; sizes are plain byte counts there, and so here.
Result<uint64_t> ParseByteCount(std::string_view key, const std::string& value);

}  // namespace dtr::storage
