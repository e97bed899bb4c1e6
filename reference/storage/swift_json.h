// The JSON that OpenStack Swift and Keystone speak, parsed into plain structs (container
// listings, Keystone v3 tokens, bulk-delete results) and built (Keystone v3 auth requests,
// static large object manifests). Pure: the fuzzer can feed the parsers anything.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "storage/swift_config.h"

namespace dtr::storage::swiftjson {

// One entry of `GET container?format=json`: an object, or a pseudo-directory ("subdir")
// when listing with a delimiter.
struct Entry {
  std::string name;  // the object's name, or the subdir with its trailing delimiter
  bool is_subdir = false;
  uint64_t bytes = 0;
  std::string hash;
  bool is_slo = false;  // a static large object manifest (the listing says slo_etag)
  std::chrono::system_clock::time_point last_modified;
};
Result<std::vector<Entry>> ParseListing(std::string_view doc);

// The body of POST /v3/auth/tokens for password auth, scoped to the configured project (or
// trust) when one is given.
std::string KeystoneV3Request(const SwiftConfig& c);

struct KeystoneToken {
  std::string storage_url;  // the object-store endpoint of the configured region/interface
  std::chrono::system_clock::time_point expires;  // epoch when the answer has none
};
// The token response's catalog → the object-store endpoint for `region` ("" takes the
// first) and `interface` (public, internal, admin).
Result<KeystoneToken> ParseKeystoneV3(std::string_view doc, const std::string& region,
                                      const std::string& interface);

struct BulkDeleteResult {
  uint64_t deleted = 0;
  uint64_t not_found = 0;
  std::string status;               // "200 OK", "400 Bad Request"...
  std::vector<std::string> errors;  // "name: status"
  bool ok() const { return status.rfind("2", 0) == 0 && errors.empty(); }
};
// The answer of DELETE ?multipart-manifest=delete (Accept: application/json).
Result<BulkDeleteResult> ParseBulkDelete(std::string_view doc);

struct SloSegment {
  std::string path;  // "/container/object", unencoded
  uint64_t size = 0;
};
// The body of PUT ?multipart-manifest=put.
std::string SloManifest(const std::vector<SloSegment>& segments);
// The answer of GET ?multipart-manifest=get: the segments' paths ("/container/object").
Result<std::vector<std::string>> ParseSloManifest(std::string_view doc);

}  // namespace dtr::storage::swiftjson
