// Settings of `dtr serve`: CNCF distribution's config.yml format (storage, http, log), with
// command-line flags on top. Parsing is pure so it can be tested and fuzzed.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"

namespace dtr::app {

struct Settings {
  std::string listen = "127.0.0.1:5000";
  std::string data_dir = "./dtr-data";
  std::string log_level = "info";
  bool access_log = true;

  // storage: the driver name and its parameters as strings (e.g. rootdirectory).
  std::string storage_driver = "filesystem";
  std::map<std::string, std::string> storage_params;
  bool delete_enabled = true;
  bool read_only = false;
  bool upload_purging = true;
  std::chrono::seconds upload_purge_age{std::chrono::hours(168)};
  std::chrono::seconds upload_purge_interval{std::chrono::hours(24)};

  // The config store (dtr-etcd's role): "sqlite" (beside the metadata, the default) or
  // "etcd://HOST:PORT[,HOST:PORT...]" (a real etcd v3 cluster that replicas share).
  std::string config_store = "sqlite";

  int workers = 64;
  std::string auth = "token";

  // HTTPS beside `listen` (empty: none). Without tls_cert/tls_key the reference's own CA
  // (in <data>/ca) issues the certificate for `hosts`, localhost and 127.0.0.1.
  std::string tls_listen;
  std::vector<std::string> hosts;
  std::string tls_cert, tls_key;  // http.tls.certificate, http.tls.key
  std::string client_ca;          // http.tls.clientcas: client certificates map to users
  // Proxies whose X-Forwarded-For/-Proto/-Host are believed (addresses and CIDR blocks);
  // loopback by default, for nginx or `dtr front` on the same host.
  std::string trusted_proxies = "127.0.0.0/8,::1";

  // Which DTR component this process is. `dtr serve` runs all of them in one process; each
  // can also run alone on a shared data directory (SQLite in WAL mode, the same storage),
  // with `dtr front` routing one host and port to them:
  //   registry   /v2/ (without trust), the storage settings API, online GC jobs; it owns
  //              the index (rebuilt after an unclean stop) and upload sessions
  //   api        /api/v0, /enzi/v0, /auth/token and the UI; creates the first admin
  //   notary     /v2/<gun>/_trust/ (Notary server)
  //   jobrunner  a job worker for every action but online GC (which runs beside the writes
  //              it must not race: in the registry); HTTP only for health, when --listen
  //   front      no component: routes to the upstreams below
  std::string role = "all";
  std::string upstream_registry, upstream_api, upstream_notary;  // HOST:PORT, for front
  bool OwnsIndex() const { return role == "all" || role == "registry"; }

  // Where blobs live for the filesystem driver: rootdirectory, or <data>/storage.
  std::string FilesystemRoot() const;
};

// Applies a distribution-format YAML document to `s`. Unknown keys are ignored as
// distribution ignores them; wrong types and unknown drivers are errors naming the key.
Status ApplyYaml(const std::string& yaml_text, Settings* s);
Status LoadYamlFile(const std::string& path, Settings* s);

// Parses Go-style durations ("168h", "30m", "10s", "1h30m").
Result<std::chrono::seconds> ParseDuration(const std::string& text);

// Splits "host:port" (":5000" means all interfaces, "[::1]:5000" IPv6).
Status SplitHostPort(const std::string& addr, std::string* host, int* port);

}  // namespace dtr::app
