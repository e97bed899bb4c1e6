// Settings of the Swift driver, from the `storage: swift:` parameters of CNCF distribution's
// config.yml: authurl, username, password, container, region, tenant, tenantid, domain,
// domainid, tenantdomain, tenantdomainid, trustid, prefix, chunksize, insecureskipverify,
// authversion, endpointtype. Our own additions (not in distribution): rootdirectory (an
// alias of prefix), connecttimeout, requesttimeout (Go durations), maxretries,
// uploadconcurrency, listlimit (entries per listing page; small values for tests).
// Auth: version 1 is tempauth/swauth (GET authurl with X-Auth-User/X-Auth-Key), version 3
// is Keystone v3 password auth (POST authurl/auth/tokens). Without authversion it is
// guessed from authurl as distribution does (".../v3" is 3, anything else 1). Keystone v2
// is not supported.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "core/status.h"

namespace dtr::storage {

struct SwiftConfig {
  std::string auth_url;  // no trailing '/'
  int auth_version = 1;  // 1 or 3
  std::string username;
  std::string password;
  std::string container;
  std::string region;  // Keystone: picks the object-store endpoint; "" takes the first
  std::string tenant;
  std::string tenant_id;
  std::string domain;  // the user's domain
  std::string domain_id;
  std::string tenant_domain;  // the project's domain (defaults to the user's)
  std::string tenant_domain_id;
  std::string trust_id;
  std::string endpoint_type = "public";
  std::string root;  // object name prefix without leading or trailing '/', "" for none
  uint64_t chunk_size = 20u << 20;
  bool skip_verify = false;
  int upload_concurrency = 3;
  int list_limit = 10000;
  int max_retries = 4;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{60000};
};

// Swift's limits: a static large object's segments (default max_manifest_segments), and the
// largest single object.
inline constexpr uint64_t kSwiftMinChunk = 1u << 20;
inline constexpr uint64_t kSwiftMaxObject = 5ull << 30;
inline constexpr size_t kSwiftMaxManifestSegments = 1000;

// Errors name the offending key ("storage.swift.container: required ...").
Result<SwiftConfig> ParseSwiftConfig(const std::map<std::string, std::string>& params);

}  // namespace dtr::storage
