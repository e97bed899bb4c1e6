// Settings of the NFS driver, from `storage: nfs:` in config.yml (CNCF distribution has no
// such driver; these keys are ours):
//   url          nfs://HOST/EXPORT[/PATH][?libnfs options]   required. Everything below the
//                export is the driver's root, created when missing. libnfs's own URL options
//                (uid, gid, nfsport, mountport, tcp-syncnt, ...) apply; version must be 3.
//   timeout      a Go duration, whole seconds (default 60s): one RPC's limit, so a server
//                that is down or hung gives an error instead of a hang.
//   maxretries   reconnects after a lost connection before an operation fails (default 3).
//   uid, gid     the AUTH_SYS identity to write as (default: this process's).
//   connections  NFS connections to open, each serving one operation at a time (default 4).
// The plain filesystem driver on a kernel-mounted NFS path remains the other way to use NFS.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "core/status.h"

namespace dtr::storage {

struct NfsConfig {
  std::string url;     // as given, passed to libnfs for its options
  std::string server;  // host name or address
  std::string path;    // "/export/sub", no trailing '/'
  std::chrono::milliseconds timeout{60000};
  int max_retries = 3;
  std::optional<int> uid;
  std::optional<int> gid;
  int connections = 4;
};

// Errors name the offending key ("storage.nfs.url: ...").
Result<NfsConfig> ParseNfsConfig(const std::map<std::string, std::string>& params);

}  // namespace dtr::storage
