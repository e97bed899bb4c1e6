// Settings of the Azure Blob Storage driver, from the `storage: azure:` parameters of CNCF
// distribution's config.yml: accountname, accountkey, container, realm, rootdirectory,
// serviceurl. Our own additions (not in distribution): endpoint and blobendpoint (aliases of
// serviceurl, e.g. Azurite's http://127.0.0.1:10000/devstoreaccount1), chunksize (bytes per
// block), uploadconcurrency, maxretries, connecttimeout, requesttimeout (Go durations),
// listlimit (entries per listing page; small values for tests).
// Without a service URL the endpoint is https://<accountname>.blob.<realm>.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "core/status.h"

namespace dtr::storage {

struct AzureConfig {
  std::string account;
  std::string key;  // base64, as the portal shows it
  std::string container;
  std::string realm = "core.windows.net";
  std::string origin;     // scheme://host[:port]
  std::string base_path;  // "" or "/devstoreaccount1" (path-style emulator URLs)
  std::string root;       // blob name prefix without leading or trailing '/'
  uint64_t chunk_size = 8u << 20;
  bool skip_verify = false;
  int upload_concurrency = 3;
  int list_limit = 5000;
  int max_retries = 4;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{60000};
};

// Azure's block blob limits.
inline constexpr uint64_t kAzureMinChunk = 1u << 20;  // ours: smaller blocks waste the 50000
inline constexpr uint64_t kAzureMaxBlock = 4000ull << 20;
inline constexpr uint64_t kAzureMaxBlocks = 50000;
inline constexpr uint64_t kAzureMaxPutBlob = 5000ull << 20;

// Errors name the offending key ("storage.azure.accountkey: ...").
Result<AzureConfig> ParseAzureConfig(const std::map<std::string, std::string>& params);

}  // namespace dtr::storage
